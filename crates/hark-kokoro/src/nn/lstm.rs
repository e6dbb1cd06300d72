//! Bidirectional single-layer LSTM (PyTorch semantics, gate order i, f, g, o; zero initial state).
//!
//! Ports the `nn.LSTM(..., batch_first=True, bidirectional=True)` layers of kokoro 0.9.4's `kokoro/modules.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/modules.py>).

use crate::error::Result;
use crate::kernels::matmul::{gemm, Rows};
use crate::nn::weights::{Vb, Weight};

struct Direction {
    /// `[4H, in]`
    w_ih: Weight,
    /// `[4H, H]` laid out by [`block_rows`].
    w_hh: Vec<f32>,
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
                w_hh: block_rows(&w_hh, 4 * h, h),
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
        // (x [t, d_in], w_ih [4H, d_in] used transposed, gx [t, 4H])
        gemm(
            t,
            g4,
            self.d_in,
            &mut gx,
            g4,
            true,
            Rows::new(x, self.d_in),
            Rows::transposed(&d.w_ih, self.d_in),
            false,
        );
        let mut hs = vec![0f32; h];
        let mut cs = vec![0f32; h];
        let mut g = vec![0f32; g4];
        for step in 0..t {
            let s = if which == 0 { step } else { t - 1 - step };
            g.copy_from_slice(&gx[s * g4..(s + 1) * g4]);
            recurrent_step(&d.w_hh, &hs, &mut g);
            cell_update(&g, &mut cs, &mut hs);
            out[s * h..(s + 1) * h].copy_from_slice(&hs);
        }
    }
}

crate::kernels::simd::multiversion! {
    /// One step of the cell from its gate pre-activations `g = [i, f, g, o]` (each `[H]`):
    /// `c = σ(f)·c + σ(i)·tanh(g)`, `h = σ(o)·tanh(c)`.
    fn cell_update(g: &[f32], cs: &mut [f32], hs: &mut [f32]) {
        use crate::kernels::simd::{sigmoid_fast, tanh_fast};
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

/// Gates per block of [`recurrent_step`]: four AVX-512 registers, eight AVX2 ones.
const STEP_BLOCK: usize = 64;

/// `W [n, h]` as [`recurrent_step`] reads it: for each block of [`STEP_BLOCK`] rows, its columns
/// one after another (`[h, STEP_BLOCK]`), then the last `n mod STEP_BLOCK` rows the same way.
fn block_rows(w: &[f32], n: usize, h: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * h);
    for r0 in (0..n).step_by(STEP_BLOCK) {
        let rows = STEP_BLOCK.min(n - r0);
        for j in 0..h {
            out.extend((r0..r0 + rows).map(|r| w[r * h + j]));
        }
    }
    out
}

crate::kernels::simd::multiversion! {
    /// `g += W·h` with `W` laid out by [`block_rows`]: a block of `g` at a time held in
    /// registers across all of `h`, so that the loop loads only weights, in order.
    fn recurrent_step(w: &[f32], h: &[f32], g: &mut [f32]) {
        let hn = h.len();
        let mut blocks = g.chunks_exact_mut(STEP_BLOCK);
        let mut ws = w.chunks_exact(hn * STEP_BLOCK);
        for (blk, wb) in (&mut blocks).zip(&mut ws) {
            let mut acc = [0f32; STEP_BLOCK];
            acc.copy_from_slice(blk);
            for (row, hv) in wb.chunks_exact(STEP_BLOCK).zip(h) {
                for (a, w) in acc.iter_mut().zip(row) {
                    *a += hv * w;
                }
            }
            blk.copy_from_slice(&acc);
        }
        let rest = blocks.into_remainder();
        if !rest.is_empty() {
            for (row, hv) in ws.remainder().chunks_exact(rest.len()).zip(h) {
                for (gv, w) in rest.iter_mut().zip(row) {
                    *gv += hv * w;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::weights::RandomSource;

    #[test]
    fn bilstm_matches_naive_reference() {
        // 4h = 80 gates: one block of `recurrent_step` and a remainder
        let (d_in, h, t) = (5, 20, 9);
        let mut src = RandomSource::new(3);
        let mut vb = Vb::new(&mut src);
        let l = BiLstm::new(&mut vb, d_in, h).unwrap();
        let x: Vec<f32> = (0..t * d_in)
            .map(|i| crate::kernels::noise::uniform_pm1(7, i as u64))
            .collect();
        let y = l.forward(&x, t);
        for (dir_i, d) in l.dirs.iter().enumerate() {
            // `block_rows` undone
            let mut w_hh = vec![0f32; 4 * h * h];
            let mut it = d.w_hh.iter();
            for r0 in (0..4 * h).step_by(STEP_BLOCK) {
                for j in 0..h {
                    for r in r0..(r0 + STEP_BLOCK).min(4 * h) {
                        w_hh[r * h + j] = *it.next().unwrap();
                    }
                }
            }
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
