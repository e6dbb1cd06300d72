//! Locking that carries on after a panic.

use std::sync::{Mutex, MutexGuard};

/// Lock a mutex, carrying on with the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
