//! Locking that carries on after a panic.

pub(crate) use hark_base::lock;
