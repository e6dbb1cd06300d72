//! Acoustic text encoder: embedding, 3 × (conv, channel LayerNorm, LeakyReLU), BiLSTM.
//!
//! Ports `TextEncoder` of kokoro 0.9.4's `kokoro/modules.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/modules.py>).

use crate::config::Config;
use crate::error::Result;
use crate::kernels::ops::{layer_norm_rows, transpose};
use crate::nn::layers::Conv1d;
use crate::nn::lstm::BiLstm;
use crate::nn::weights::{Vb, Weight};

pub(crate) struct TextEncoder {
    embedding: Weight,
    cnn: Vec<(Conv1d, Weight, Weight)>,
    lstm: BiLstm,
    c: usize,
    n_token: usize,
}

impl TextEncoder {
    pub(crate) fn new(vb: &mut Vb, cfg: &Config) -> Result<Self> {
        let c = cfg.hidden_dim;
        let k = cfg.text_encoder_kernel_size;
        let embedding = vb.get("embedding.weight", &[cfg.n_token, c])?;
        let mut cnn = vec![];
        for i in 0..cfg.n_layer {
            let conv = Conv1d::new(&mut vb.pp(format!("cnn.{i}.0")), c, c, k, 1, k / 2, 1, true)?;
            let mut ln = vb.pp(format!("cnn.{i}.1"));
            let gamma = ln.get("gamma", &[c])?;
            let beta = ln.get("beta", &[c])?;
            cnn.push((conv, gamma, beta));
        }
        let lstm = BiLstm::new(&mut vb.pp("lstm"), c, c / 2)?;
        Ok(Self {
            embedding,
            cnn,
            lstm,
            c,
            n_token: cfg.n_token,
        })
    }

    /// ids `[t]` → `t_en [c, t]` (channels first).
    pub(crate) fn forward(&self, ids: &[u32]) -> Vec<f32> {
        let t = ids.len();
        let c = self.c;
        let mut xt = vec![0f32; t * c];
        for (i, &id) in ids.iter().enumerate() {
            let id = (id as usize).min(self.n_token - 1);
            xt[i * c..(i + 1) * c].copy_from_slice(&self.embedding[id * c..(id + 1) * c]);
        }
        let mut x = transpose(&xt, t, c); // [c, t]
        for (conv, gamma, beta) in &self.cnn {
            let y = conv.forward(&x, t, None);
            let mut yt = transpose(&y, c, t);
            layer_norm_rows(&mut yt, c, Some(gamma), Some(beta), 1e-5);
            yt.iter_mut().for_each(|v| {
                if *v < 0.0 {
                    *v *= 0.2
                }
            });
            x = transpose(&yt, t, c);
        }
        let xt = transpose(&x, c, t);
        let y = self.lstm.forward(&xt, t); // [t, c]
        transpose(&y, t, c)
    }
}
