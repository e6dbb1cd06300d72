//! The top layer: the model as a whole, its forward pass, the stream and the voice packs.

pub(crate) mod compute;
pub(crate) mod kokoro;
pub(crate) mod stream;
pub(crate) mod streaming;
pub(crate) mod voice;
