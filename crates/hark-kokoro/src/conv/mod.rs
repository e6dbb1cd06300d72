//! Convolution algorithms beyond im2col + GEMM: through the DFT and Winograd's minimal
//! filtering. Imports only [`crate::kernels`].

pub(crate) mod fftconv;
pub(crate) mod tiling;
pub(crate) mod winograd;
