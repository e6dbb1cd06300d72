//! Bidirectional single-layer LSTM (PyTorch semantics, gate order i, f, g, o; zero initial state).
//!
//! Ports the `nn.LSTM(..., batch_first=True, bidirectional=True)` layers of kokoro 0.9.4's `kokoro/modules.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/modules.py>).

use crate::error::Result;
use crate::matmul::{sgemm, Mat, MatMut};
use crate::ops::transpose;
use crate::weights::{Vb, Weight};

struct Direction {
    /// `[4H, in]`
    w_ih: Weight,
    /// `[H, 4H]` (transposed recurrent weights: row j is the contribution of h[j]).
    w_hh_t: Vec<f32>,
    /// `b_ih + b_hh`, `[4H]`
    bias: Vec<f32>,
}

pub(crate) struct BiLstm {
    d_in: usize,
    h: usize,
    dirs: [Direction; 2],
}

impl BiLstm {
    pub(crate) fn new(vb: &mut Vb, d_in: usize, h: usize) -> Result<Self> {
        let mut dir = |suffix: &str| -> Result<Direction> {
            let w_ih = vb.get(&format!("weight_ih_l0{suffix}"), &[4 * h, d_in])?;
            let w_hh = vb.get(&format!("weight_hh_l0{suffix}"), &[4 * h, h])?;
            let b_ih = vb.get(&format!("bias_ih_l0{suffix}"), &[4 * h])?;
            let b_hh = vb.get(&format!("bias_hh_l0{suffix}"), &[4 * h])?;
            Ok(Direction {
                w_ih,
                w_hh_t: transpose(&w_hh, 4 * h, h),
                bias: b_ih.iter().zip(b_hh.iter()).map(|(a, b)| a + b).collect(),
            })
        };
        let fwd = dir("")?;
        let bwd = dir("_reverse")?;
        Ok(Self {
            d_in,
            h,
            dirs: [fwd, bwd],
        })
    }

    /// `x [t, d_in]` → `[t, 2H]` (forward features first).
    pub(crate) fn forward(&self, x: &[f32], t: usize) -> Vec<f32> {
        assert_eq!(x.len(), t * self.d_in);
        let h = self.h;
        let mut out = vec![0f32; t * 2 * h];
        if t == 0 {
            return out;
        }
        let (mut o_f, mut o_b) = (vec![0f32; t * h], vec![0f32; t * h]);
        rayon::join(
            || self.run_dir(0, x, t, &mut o_f),
            || self.run_dir(1, x, t, &mut o_b),
        );
        for s in 0..t {
            out[s * 2 * h..s * 2 * h + h].copy_from_slice(&o_f[s * h..(s + 1) * h]);
            out[s * 2 * h + h..(s + 1) * 2 * h].copy_from_slice(&o_b[s * h..(s + 1) * h]);
        }
        out
    }

    fn run_dir(&self, which: usize, x: &[f32], t: usize, out: &mut [f32]) {
        let d = &self.dirs[which];
        let h = self.h;
        let g4 = 4 * h;
        // Input projections for every step at once: [t, 4H].
        let mut gx = vec![0f32; t * g4];
        for row in gx.chunks_exact_mut(g4) {
            row.copy_from_slice(&d.bias);
        }
        // SAFETY: x is [t, d_in], w_ih is [4H, d_in] used transposed, gx is [t, 4H].
        unsafe {
            sgemm(
                t,
                g4,
                self.d_in,
                MatMut::rows(gx.as_mut_ptr(), g4),
                true,
                Mat::rows(x.as_ptr(), self.d_in),
                Mat::cols(d.w_ih.as_ptr(), self.d_in),
                false,
            );
        }
        let mut hs = vec![0f32; h];
        let mut cs = vec![0f32; h];
        let mut g = vec![0f32; g4];
        for step in 0..t {
            let s = if which == 0 { step } else { t - 1 - step };
            g.copy_from_slice(&gx[s * g4..(s + 1) * g4]);
            recurrent_step(&d.w_hh_t, &hs, &mut g);
            cell_update(&g, &mut cs, &mut hs);
            out[s * h..(s + 1) * h].copy_from_slice(&hs);
        }
    }
}

crate::simd::multiversion! {
    /// One step of the cell from its gate pre-activations `g = [i, f, g, o]` (each `[H]`):
    /// `c = σ(f)·c + σ(i)·tanh(g)`, `h = σ(o)·tanh(c)`.
    fn cell_update(g: &[f32], cs: &mut [f32], hs: &mut [f32]) {
        use crate::simd::{sigmoid_fast, tanh_fast};
        let h = cs.len();
        let (gi, rest) = g.split_at(h);
        let (gf, rest) = rest.split_at(h);
        let (gg, go) = rest.split_at(h);
        for j in 0..h {
            let c = sigmoid_fast(gf[j]) * cs[j] + sigmoid_fast(gi[j]) * tanh_fast(gg[j]);
            cs[j] = c;
            hs[j] = sigmoid_fast(go[j]) * tanh_fast(c);
        }
    }
}

crate::simd::multiversion! {
    /// `g += Σ_j h[j] · w_t[j, :]` (the recurrent mat-vec in axpy form, which vectorizes).
    fn recurrent_step(w_t: &[f32], h: &[f32], g: &mut [f32]) {
        let n = g.len();
        for (j, hv) in h.iter().enumerate() {
            let row = &w_t[j * n..(j + 1) * n];
            for (gv, w) in g.iter_mut().zip(row) {
                *gv += hv * w;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::RandomSource;

    #[test]
    fn bilstm_matches_naive_reference() {
        let (d_in, h, t) = (5, 4, 9);
        let mut src = RandomSource::new(3);
        let mut vb = Vb::new(&mut src);
        let l = BiLstm::new(&mut vb, d_in, h).unwrap();
        let x: Vec<f32> = (0..t * d_in)
            .map(|i| crate::noise::uniform_pm1(7, i as u64))
            .collect();
        let y = l.forward(&x, t);
        for (dir_i, d) in l.dirs.iter().enumerate() {
            let w_hh = transpose(&d.w_hh_t, h, 4 * h);
            let (mut hs, mut cs) = (vec![0f64; h], vec![0f64; h]);
            let order: Vec<usize> = if dir_i == 0 {
                (0..t).collect()
            } else {
                (0..t).rev().collect()
            };
            for s in order {
                let mut gates = vec![0f64; 4 * h];
                for r in 0..4 * h {
                    let mut v = d.bias[r] as f64;
                    for c in 0..d_in {
                        v += d.w_ih[r * d_in + c] as f64 * x[s * d_in + c] as f64;
                    }
                    for c in 0..h {
                        v += w_hh[r * h + c] as f64 * hs[c];
                    }
                    gates[r] = v;
                }
                let sg = |v: f64| 1.0 / (1.0 + (-v).exp());
                for j in 0..h {
                    let c = sg(gates[h + j]) * cs[j] + sg(gates[j]) * gates[2 * h + j].tanh();
                    cs[j] = c;
                    hs[j] = sg(gates[3 * h + j]) * c.tanh();
                    let got = y[s * 2 * h + dir_i * h + j] as f64;
                    assert!(
                        (got - hs[j]).abs() < 1e-5,
                        "dir {dir_i} t {s} j {j}: {got} vs {}",
                        hs[j]
                    );
                }
            }
        }
    }
}
