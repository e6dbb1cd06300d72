//! PL-BERT: an ALBERT encoder whose single shared layer is applied `num_hidden_layers` times.
//!
//! Ports `CustomAlbert` of kokoro 0.9.4's `kokoro/modules.py` (itself `transformers`' `AlbertModel`)
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/modules.py>).

use rayon::prelude::*;

use crate::config::Config;
use crate::error::Result;
use crate::kernels::matmul::{sgemm, Mat, MatMut};
use crate::kernels::ops::layer_norm_rows;
use crate::nn::layers::Linear;
use crate::nn::weights::{Vb, Weight};

const LN_EPS: f32 = 1e-12;

pub(crate) struct Albert {
    word: Weight,
    pos: Weight,
    type0: Vec<f32>,
    emb_ln: (Weight, Weight),
    mapping_in: Linear,
    q: Linear,
    k: Linear,
    v: Linear,
    dense: Linear,
    attn_ln: (Weight, Weight),
    ffn: Linear,
    ffn_out: Linear,
    full_ln: (Weight, Weight),
    e: usize,
    hidden: usize,
    heads: usize,
    layers: usize,
    max_pos: usize,
    n_token: usize,
}

fn ln_params(vb: &mut Vb, c: usize) -> Result<(Weight, Weight)> {
    Ok((vb.get("weight", &[c])?, vb.get("bias", &[c])?))
}

impl Albert {
    pub(crate) fn new(vb: &mut Vb, cfg: &Config) -> Result<Self> {
        let p = &cfg.plbert;
        let e = 128usize;
        let hd = p.hidden_size;
        let mut emb = vb.pp("embeddings");
        let word = emb.get("word_embeddings.weight", &[cfg.n_token, e])?;
        let pos = emb.get(
            "position_embeddings.weight",
            &[p.max_position_embeddings, e],
        )?;
        let types = emb.get("token_type_embeddings.weight", &[2, e])?;
        let emb_ln = ln_params(&mut emb.pp("LayerNorm"), e)?;
        let mut enc = vb.pp("encoder");
        let mapping_in = Linear::new(&mut enc.pp("embedding_hidden_mapping_in"), e, hd, true)?;
        let mut l = enc.pp("albert_layer_groups.0.albert_layers.0");
        let mut att = l.pp("attention");
        let q = Linear::new(&mut att.pp("query"), hd, hd, true)?;
        let k = Linear::new(&mut att.pp("key"), hd, hd, true)?;
        let v = Linear::new(&mut att.pp("value"), hd, hd, true)?;
        let dense = Linear::new(&mut att.pp("dense"), hd, hd, true)?;
        let attn_ln = ln_params(&mut att.pp("LayerNorm"), hd)?;
        let ffn = Linear::new(&mut l.pp("ffn"), hd, p.intermediate_size, true)?;
        let ffn_out = Linear::new(&mut l.pp("ffn_output"), p.intermediate_size, hd, true)?;
        let full_ln = ln_params(&mut l.pp("full_layer_layer_norm"), hd)?;
        Ok(Self {
            word,
            pos,
            type0: types[..e].to_vec(),
            emb_ln,
            mapping_in,
            q,
            k,
            v,
            dense,
            attn_ln,
            ffn,
            ffn_out,
            full_ln,
            e,
            hidden: hd,
            heads: p.num_attention_heads,
            layers: p.num_hidden_layers,
            max_pos: p.max_position_embeddings,
            n_token: cfg.n_token,
        })
    }

    /// Packs every dense layer's weight for the packed kernels ([`Linear::pack`]); returns the
    /// mapped pages they no longer need.
    pub(crate) fn pack(&mut self) -> Vec<(usize, usize)> {
        [
            &mut self.mapping_in,
            &mut self.q,
            &mut self.k,
            &mut self.v,
            &mut self.dense,
            &mut self.ffn,
            &mut self.ffn_out,
        ]
        .into_iter()
        .filter_map(Linear::pack)
        .collect()
    }

    /// ids `[t]` → last hidden state `[t, hidden]`.
    pub(crate) fn forward(&self, ids: &[u32]) -> Vec<f32> {
        let t = ids.len();
        assert!(t <= self.max_pos);
        let e = self.e;
        let mut x = vec![0f32; t * e];
        for (i, &id) in ids.iter().enumerate() {
            let id = (id as usize).min(self.n_token - 1);
            for j in 0..e {
                x[i * e + j] = self.word[id * e + j] + self.pos[i * e + j] + self.type0[j];
            }
        }
        layer_norm_rows(
            &mut x,
            e,
            Some(&self.emb_ln.0),
            Some(&self.emb_ln.1),
            LN_EPS,
        );
        let mut h = self.mapping_in.forward(&x, t);
        for _ in 0..self.layers {
            h = self.layer(&h, t);
        }
        h
    }

    fn layer(&self, h: &[f32], t: usize) -> Vec<f32> {
        let hd = self.hidden;
        let q = self.q.forward(h, t);
        let k = self.k.forward(h, t);
        let v = self.v.forward(h, t);
        let dh = hd / self.heads;
        let scale = 1.0 / (dh as f32).sqrt();
        let mut ctx = vec![0f32; t * hd];
        let ctx_ptr = crate::kernels::ops::SendPtr(ctx.as_mut_ptr());
        (0..self.heads).into_par_iter().for_each(|head| {
            let mut s = vec![0f32; t * t];
            // SAFETY: q/k/v are [t, hd]; this head reads columns head*dh..(head+1)*dh and writes
            // the same columns of ctx (disjoint between heads).
            unsafe {
                sgemm(
                    t,
                    t,
                    dh,
                    MatMut::rows(s.as_mut_ptr(), t),
                    false,
                    Mat::rows(q.as_ptr().add(head * dh), hd),
                    Mat::cols(k.as_ptr().add(head * dh), hd),
                    false,
                );
            }
            for row in s.chunks_exact_mut(t) {
                let mut m = f32::NEG_INFINITY;
                for v in row.iter_mut() {
                    *v *= scale;
                    m = m.max(*v);
                }
                let mut sum = 0f32;
                for v in row.iter_mut() {
                    *v = (*v - m).exp();
                    sum += *v;
                }
                let inv = 1.0 / sum;
                row.iter_mut().for_each(|v| *v *= inv);
            }
            let cp = ctx_ptr;
            // SAFETY: see above.
            unsafe {
                sgemm(
                    t,
                    dh,
                    t,
                    MatMut::rows(cp.0.add(head * dh), hd),
                    false,
                    Mat::rows(s.as_ptr(), t),
                    Mat::rows(v.as_ptr().add(head * dh), hd),
                    false,
                );
            }
        });
        let mut a = self.dense.forward(&ctx, t);
        for (x, r) in a.iter_mut().zip(h) {
            *x += r;
        }
        layer_norm_rows(
            &mut a,
            hd,
            Some(&self.attn_ln.0),
            Some(&self.attn_ln.1),
            LN_EPS,
        );
        let mut f = self.ffn.forward(&a, t);
        f.par_chunks_mut(4096).for_each(gelu_new);
        let mut o = self.ffn_out.forward(&f, t);
        for (x, r) in o.iter_mut().zip(&a) {
            *x += r;
        }
        layer_norm_rows(
            &mut o,
            hd,
            Some(&self.full_ln.0),
            Some(&self.full_ln.1),
            LN_EPS,
        );
        o
    }
}

crate::kernels::simd::multiversion! {
    /// GELU, tanh approximation (`gelu_new`), in place.
    fn gelu_new(xs: &mut [f32]) {
        const C: f32 = 0.797_884_6; // sqrt(2/pi)
        for x in xs {
            let v = *x;
            *x = 0.5 * v * (1.0 + crate::kernels::simd::tanh_fast(C * (v + 0.044_715 * v * v * v)));
        }
    }
}
