//! The lowest layer: CPU dispatch, vector loops, the matrix-product seam and its engines, the
//! elementwise operations and the per-pass context. Imports nothing above it.

pub mod cpu;
pub mod matmul;
pub(crate) mod noise;
pub(crate) mod ops;
pub(crate) mod pass;
pub(crate) mod simd;
