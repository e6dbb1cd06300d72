//! The network: layers, blocks and Kokoro's modules, each built from its weights. Imports
//! [`crate::kernels`] and [`crate::conv`], never [`crate::model`].

pub(crate) mod albert;
pub(crate) mod blocks;
pub(crate) mod decoder;
pub(crate) mod generator;
pub(crate) mod layers;
pub(crate) mod lstm;
pub(crate) mod predictor;
pub(crate) mod source;
pub(crate) mod stft;
pub(crate) mod text_encoder;
pub(crate) mod weights;
