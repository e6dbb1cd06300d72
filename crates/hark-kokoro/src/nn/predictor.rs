//! Prosody predictor: duration encoder, durations, and the F0 / energy (N) curves.
//!
//! Ports `ProsodyPredictor` and `DurationEncoder` of kokoro 0.9.4's `kokoro/modules.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/modules.py>).

use crate::config::Config;
use crate::error::Result;
use crate::kernels::ops::{layer_norm_rows, transpose};
use crate::kernels::pass::{Cancel, Pass};
use crate::nn::blocks::AdainResBlk1d;
use crate::nn::layers::{Conv1d, Linear};
use crate::nn::lstm::BiLstm;
use crate::nn::weights::Vb;

/// `predictor.text_encoder`: 3 × (BiLSTM, AdaLayerNorm), style concatenated after each.
pub(crate) struct DurationEncoder {
    lstms: Vec<BiLstm>,
    norms: Vec<Linear>,
    d: usize,
    sty: usize,
}

impl DurationEncoder {
    fn new(vb: &mut Vb, d: usize, sty: usize, nlayers: usize) -> Result<Self> {
        let mut lstms = vec![];
        let mut norms = vec![];
        for l in 0..nlayers {
            lstms.push(BiLstm::new(
                &mut vb.pp(format!("lstms.{}", 2 * l)),
                d + sty,
                d / 2,
            )?);
            norms.push(Linear::new(
                &mut vb.pp(format!("lstms.{}.fc", 2 * l + 1)),
                sty,
                2 * d,
                true,
            )?);
        }
        Ok(Self {
            lstms,
            norms,
            d,
            sty,
        })
    }

    /// `d_en [d, t]` (channels first) → `[t, d + sty]`.
    fn forward(&self, d_en: &[f32], t: usize, s: &[f32]) -> Vec<f32> {
        let (d, sty) = (self.d, self.sty);
        let w = d + sty;
        let xt = transpose(d_en, d, t);
        let mut x = vec![0f32; t * w];
        for i in 0..t {
            x[i * w..i * w + d].copy_from_slice(&xt[i * d..(i + 1) * d]);
            x[i * w + d..(i + 1) * w].copy_from_slice(s);
        }
        for (lstm, norm) in self.lstms.iter().zip(&self.norms) {
            let mut y = lstm.forward(&x, t); // [t, d]
            layer_norm_rows(&mut y, d, None, None, 1e-5);
            let gb = norm.forward_vec(s);
            for i in 0..t {
                for c in 0..d {
                    let v = y[i * d + c];
                    x[i * w + c] = (1.0 + gb[c]) * v + gb[d + c];
                }
                x[i * w + d..(i + 1) * w].copy_from_slice(s);
            }
        }
        x
    }
}

pub(crate) struct ProsodyPredictor {
    text_encoder: DurationEncoder,
    lstm: BiLstm,
    duration_proj: Linear,
    shared: BiLstm,
    f0: Vec<AdainResBlk1d>,
    n: Vec<AdainResBlk1d>,
    f0_proj: Conv1d,
    n_proj: Conv1d,
    d: usize,
    sty: usize,
}

impl ProsodyPredictor {
    pub(crate) fn new(vb: &mut Vb, cfg: &Config) -> Result<Self> {
        let d = cfg.hidden_dim;
        let sty = cfg.style_dim;
        let blocks = |vb: &mut Vb, name: &str| -> Result<Vec<AdainResBlk1d>> {
            Ok(vec![
                AdainResBlk1d::new(&mut vb.pp(format!("{name}.0")), d, d, sty, false)?,
                AdainResBlk1d::new(&mut vb.pp(format!("{name}.1")), d, d / 2, sty, true)?,
                AdainResBlk1d::new(&mut vb.pp(format!("{name}.2")), d / 2, d / 2, sty, false)?,
            ])
        };
        Ok(Self {
            text_encoder: DurationEncoder::new(&mut vb.pp("text_encoder"), d, sty, cfg.n_layer)?,
            lstm: BiLstm::new(&mut vb.pp("lstm"), d + sty, d / 2)?,
            duration_proj: Linear::new(
                &mut vb.pp("duration_proj.linear_layer"),
                d,
                cfg.max_dur,
                true,
            )?,
            shared: BiLstm::new(&mut vb.pp("shared"), d + sty, d / 2)?,
            f0: blocks(vb, "F0")?,
            n: blocks(vb, "N")?,
            f0_proj: Conv1d::new(&mut vb.pp("F0_proj"), d / 2, 1, 1, 1, 0, 1, true)?,
            n_proj: Conv1d::new(&mut vb.pp("N_proj"), d / 2, 1, 1, 1, 0, 1, true)?,
            d,
            sty,
        })
    }

    /// Duration encoder output `d [t, d + sty]`.
    pub(crate) fn encode(&self, d_en: &[f32], t: usize, s: &[f32]) -> Vec<f32> {
        self.text_encoder.forward(d_en, t, s)
    }

    /// Real-valued durations `Σ sigmoid(logits) / speed`, `[t]`.
    pub(crate) fn durations(&self, d: &[f32], t: usize, speed: f32) -> Vec<f32> {
        let x = self.lstm.forward(d, t);
        let logits = self.duration_proj.forward(&x, t);
        logits
            .chunks_exact(self.duration_proj.d_out)
            .map(|row| row.iter().map(|v| 1.0 / (1.0 + (-v).exp())).sum::<f32>() / speed)
            .collect()
    }

    /// F0 and N curves `[2L]` from the frame-rate features `en [L, d + sty]` (time-major).
    pub(crate) fn f0_n(&self, en: &[f32], l: usize, s: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let _ = self.sty;
        let x = self.shared.forward(en, l); // [L, d]
        let x = transpose(&x, l, self.d); // [d, L]
        let run = |blocks: &[AdainResBlk1d], proj: &Conv1d| {
            let mut cur = x.clone();
            let mut t = l;
            let mut pass = Pass::new(Cancel::default(), None);
            for b in blocks {
                let (y, t2) = b.forward(&cur, t, s, &mut pass);
                cur = y;
                t = t2;
            }
            proj.forward(&cur, t, None)
        };
        let (f0, n) = rayon::join(
            || run(&self.f0, &self.f0_proj),
            || run(&self.n, &self.n_proj),
        );
        (f0, n)
    }
}
