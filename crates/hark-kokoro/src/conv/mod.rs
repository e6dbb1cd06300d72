//! Convolution algorithms beyond im2col + GEMM: through the DFT and Winograd's minimal
//! filtering, with their shared tiling and kept buffers. Imports only [`crate::kernels`].
//!
//! Which of them a model may use, and the buffers its calls keep, belong to the model: its
//! pool's threads [`enter`] them as they start; a thread outside any model uses every
//! algorithm and keeps nothing between calls.

use std::cell::RefCell;
use std::sync::Arc;

pub(crate) mod fftconv;
pub(crate) mod tiling;
pub(crate) mod winograd;

use tiling::ConvBuffers;

/// The convolution algorithms a model may use besides im2col + GEMM (each where it applies
/// and pays; turning one off is for comparisons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvAlgos {
    /// Long "same" convolutions (7 taps or more) through the DFT.
    pub dft: bool,
    /// 3-tap "same" convolutions as Winograd's F(4, 3).
    pub winograd: bool,
}

impl Default for ConvAlgos {
    fn default() -> Self {
        ConvAlgos {
            dft: true,
            winograd: true,
        }
    }
}

thread_local! {
    /// The algorithms and kept buffers of the model whose pool runs this thread.
    static CONTEXT: RefCell<Option<(ConvAlgos, Arc<ConvBuffers>)>> = const { RefCell::new(None) };
}

/// Makes `algos` and `bufs` those of every later convolution on this thread.
pub(crate) fn enter(algos: ConvAlgos, bufs: Arc<ConvBuffers>) {
    CONTEXT.with(|c| *c.borrow_mut() = Some((algos, bufs)));
}

/// The algorithms convolutions built on this thread may use.
pub(crate) fn algos() -> ConvAlgos {
    CONTEXT.with(|c| c.borrow().as_ref().map(|c| c.0).unwrap_or_default())
}

/// The buffers convolutions on this thread keep between calls (fresh ones outside a model).
pub(crate) fn buffers() -> Arc<ConvBuffers> {
    CONTEXT.with(|c| {
        c.borrow()
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_else(|| Arc::new(ConvBuffers::new()))
    })
}
