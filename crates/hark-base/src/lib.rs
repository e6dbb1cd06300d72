//! The few helpers that crates with nothing else in common need, each defined once here:
//! [`fs::write_atomic`] (settings, the asset installer, the native messaging host) and
//! [`sync::lock`] (the engine, the bridge, the app). Standard library only, so that depending
//! on it costs nothing.

#![warn(missing_docs)]

pub mod fs;
pub mod sync;

pub use fs::{temp_sibling, write_atomic};
pub use sync::lock;
