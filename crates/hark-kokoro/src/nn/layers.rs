//! The weight-owning layers: dense ([`Linear`]), 1-D convolution as tiled im2col + GEMM with a
//! fused input transform ([`Conv1d`]), transposed convolution as GEMM + overlap-add
//! ([`ConvTranspose1d`]) and its depthwise form. Every matrix product goes through
//! [`crate::kernels::matmul`].
//!
//! Layout convention: activations are `[C, T]` (channels first, time contiguous) unless a
//! function says `[T, C]`.

use rayon::prelude::*;

use crate::conv::fftconv;
use crate::conv::winograd;
use crate::error::Result;
use crate::kernels::matmul::{gemm, sgemm, Mat, MatMut, Rows};
use crate::kernels::ops::{transpose, Prologue, SendPtr};
use crate::kernels::pass::Cancel;
use crate::nn::weights::{Vb, Weight};

/// A dense layer `y = x Wᵀ + b`, W in PyTorch layout `[out, in]`, x and y `[T, ·]`.
pub(crate) struct Linear {
    pub w: Weight,
    pub b: Option<Weight>,
    pub d_in: usize,
    pub d_out: usize,
    /// `Wᵀ` in the panels of [`crate::kernels::matmul::packed`], made once by [`Linear::pack`].
    panels: Option<Vec<f32>>,
}

/// Inputs of at most this many rows go through a packed layer's panels; longer ones through
/// [`sgemm`] (where the BLAS's own packing of `W` is a small part of the work).
const PACKED_MAX_ROWS: usize = 96;

impl Linear {
    pub(crate) fn new(vb: &mut Vb, d_in: usize, d_out: usize, bias: bool) -> Result<Self> {
        let w = vb.get("weight", &[d_out, d_in])?;
        let b = if bias {
            Some(vb.get("bias", &[d_out])?)
        } else {
            None
        };
        Ok(Self {
            w,
            b,
            d_in,
            d_out,
            panels: None,
        })
    }

    /// Lays `Wᵀ` out once in the panels the packed kernels read, where they can run on this
    /// CPU and `d_out` fits them, so that products with few rows (ALBERT and its projection on
    /// a short chunk) don't pay a BLAS's re-packing of `W` on every call, which there costs
    /// about as much as the arithmetic. Returns the weight's pages of the mapped file (now read
    /// only by long inputs and where the kernels don't run), for the caller to release.
    pub(crate) fn pack(&mut self) -> Option<(usize, usize)> {
        if !crate::kernels::matmul::packed::supported()
            || !self
                .d_out
                .is_multiple_of(crate::kernels::matmul::packed::NR)
        {
            return None;
        }
        self.panels = Some(crate::kernels::matmul::packed::pack_transposed(
            &self.w, self.d_out, self.d_in,
        ));
        self.w.mapped_range()
    }

    /// x: `[t, d_in]` → `[t, d_out]`.
    pub(crate) fn forward(&self, x: &[f32], t: usize) -> Vec<f32> {
        assert_eq!(x.len(), t * self.d_in);
        let par = t * self.d_out * self.d_in > 1 << 16;
        if let Some(panels) = &self.panels {
            if t <= PACKED_MAX_ROWS && crate::kernels::matmul::packed::available() {
                return self.forward_packed(panels, x, t, par);
            }
        }
        let mut y = vec![0f32; t * self.d_out];
        if let Some(b) = &self.b {
            for row in y.chunks_exact_mut(self.d_out) {
                row.copy_from_slice(b);
            }
        }
        gemm(
            t,
            self.d_out,
            self.d_in,
            &mut y,
            self.d_out,
            true,
            Rows::new(x, self.d_in),
            Rows::transposed(&self.w, self.d_in),
            par,
        );
        y
    }

    /// [`forward`](Self::forward) on the panels: the rows of `x` packed (padded to a multiple
    /// of the kernel's rows), the output started from the bias.
    fn forward_packed(&self, panels: &[f32], x: &[f32], t: usize, par: bool) -> Vec<f32> {
        use crate::kernels::matmul::packed;
        let rows = t.next_multiple_of(packed::MR);
        let a = packed::pack_rows(x, t, self.d_in);
        let mut y = match &self.b {
            Some(b) => b.repeat(rows),
            None => vec![0f32; rows * self.d_out],
        };
        // SAFETY: `a` is `rows × d_in` in row blocks, `panels` `d_in × d_out` in panels
        // (`d_out` a multiple of NR, checked by `pack`), `y` `rows × d_out`; the kernels run
        // here (checked by the caller).
        unsafe {
            packed::gemm_acc(
                rows,
                self.d_out,
                self.d_in,
                a.as_ptr(),
                panels.as_ptr(),
                y.as_mut_ptr(),
                self.d_out,
                par,
            );
        }
        y.truncate(t * self.d_out);
        y
    }

    /// Single vector `x[d_in]` → `[d_out]` (style projections).
    pub(crate) fn forward_vec(&self, x: &[f32]) -> Vec<f32> {
        assert_eq!(x.len(), self.d_in);
        (0..self.d_out)
            .map(|o| {
                let row = &self.w[o * self.d_in..(o + 1) * self.d_in];
                let s: f64 = row.iter().zip(x).map(|(a, b)| *a as f64 * *b as f64).sum();
                s as f32 + self.b.as_ref().map_or(0.0, |b| b[o])
            })
            .collect()
    }
}

/// Conv1d (cross-correlation, zero padding), weights `[cout, cin, k]`.
pub(crate) struct Conv1d {
    pub w: Weight,
    pub b: Option<Weight>,
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
    pub dil: usize,
    /// How the convolution runs on inputs long enough for its algorithm to pay (shorter ones
    /// take im2col + GEMM), chosen when the layer is built.
    pub algo: ConvAlgo,
}

/// A [`Conv1d`]'s algorithm.
pub(crate) enum ConvAlgo {
    /// im2col + GEMM (or one GEMM for a 1-tap convolution).
    Gemm,
    /// Through the DFT ([`crate::conv::fftconv`]).
    Dft(fftconv::Plan),
    /// Winograd's F(4, 3) ([`crate::conv::winograd`]).
    Winograd,
}

const CONV_TILE: usize = 256;

struct ConvScratch {
    win: Vec<f32>,
    col: Vec<f32>,
}

impl Conv1d {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        vb: &mut Vb,
        cin: usize,
        cout: usize,
        k: usize,
        stride: usize,
        pad: usize,
        dil: usize,
        bias: bool,
    ) -> Result<Self> {
        let w = vb.get("weight", &[cout, cin, k])?;
        let b = if bias {
            Some(vb.get("bias", &[cout])?)
        } else {
            None
        };
        // "Same" convolutions with many taps and channels go through the DFT (the generator's
        // 7- and 11-tap resblocks, 128 and 256 channels), 3-tap ones where the packed kernels
        // run through Winograd's transform, as far as the model's compute allows them.
        let allowed = crate::conv::algos();
        let same = stride == 1 && k % 2 == 1 && pad == dil * (k - 1) / 2;
        let channels_fit = cin >= 32 && cout >= 32 && cin * cout <= fftconv::MAX_CHANNEL_PRODUCT;
        let dft = (same && channels_fit && allowed.dft)
            .then(|| fftconv::Plan::new(k))
            .flatten();
        let algo = match dft {
            Some(plan) => ConvAlgo::Dft(plan),
            None if k == 3 && same && allowed.winograd && winograd::fits(cin, cout) => {
                ConvAlgo::Winograd
            }
            None => ConvAlgo::Gemm,
        };
        Ok(Self {
            w,
            b,
            cin,
            cout,
            k,
            stride,
            pad,
            dil,
            algo,
        })
    }

    pub(crate) fn out_len(&self, t: usize) -> usize {
        self.out_len_padded(t, self.pad)
    }

    /// Outputs for `t` inputs with `pad` zeros on both sides.
    pub(crate) fn out_len_padded(&self, t: usize, pad: usize) -> usize {
        let span = self.dil * (self.k - 1) + 1;
        if t + 2 * pad < span {
            0
        } else {
            (t + 2 * pad - span) / self.stride + 1
        }
    }

    /// `x [cin, t]` → `[cout, out_len(t)]`, with an optional fused input transform.
    pub(crate) fn forward(&self, x: &[f32], t: usize, pro: Option<&Prologue>) -> Vec<f32> {
        let tout = self.out_len(t);
        let mut out = vec![0f32; self.cout * tout];
        self.forward_into(x, t, pro, &mut out, false);
        out
    }

    /// Like [`forward`](Self::forward) into `out`; with `accumulate` the result is added to it.
    pub(crate) fn forward_into(
        &self,
        x: &[f32],
        t: usize,
        pro: Option<&Prologue>,
        out: &mut [f32],
        accumulate: bool,
    ) {
        self.forward_into_cancellable(x, t, pro, out, accumulate, Cancel::default());
    }

    /// [`forward_into`](Self::forward_into) that skips its remaining time tiles once `cancel`
    /// is set (the output is then partial; the caller must check `cancel` afterwards).
    pub(crate) fn forward_into_cancellable(
        &self,
        x: &[f32],
        t: usize,
        pro: Option<&Prologue>,
        out: &mut [f32],
        accumulate: bool,
        cancel: Cancel,
    ) {
        self.padded_into(x, t, self.pad, pro, out, accumulate, cancel);
    }

    /// The convolution without padding (every output's inputs are real samples):
    /// `x [cin, t]` → `[cout, out_len_padded(t, 0)]`, for a stream that keeps its own edges.
    pub(crate) fn forward_valid(&self, x: &[f32], t: usize, cancel: Cancel) -> Vec<f32> {
        let tout = self.out_len_padded(t, 0);
        let mut out = vec![0f32; self.cout * tout];
        self.padded_into(x, t, 0, None, &mut out, false, cancel);
        out
    }

    /// The convolution with `pad` (`self.pad` or 0) zeros on both sides.
    #[allow(clippy::too_many_arguments)]
    fn padded_into(
        &self,
        x: &[f32],
        t: usize,
        pad: usize,
        pro: Option<&Prologue>,
        out: &mut [f32],
        accumulate: bool,
        cancel: Cancel,
    ) {
        assert!(pad == self.pad || pad == 0, "padding {pad} of {}", self.pad);
        assert_eq!(x.len(), self.cin * t, "conv input size");
        let tout = self.out_len_padded(t, pad);
        assert_eq!(out.len(), self.cout * tout, "conv output size");
        if tout == 0 {
            return;
        }
        // Bias first, then every GEMM accumulates.
        out.par_chunks_mut(tout).enumerate().for_each(|(co, row)| {
            let b = self.b.as_ref().map_or(0.0, |b| b[co]);
            if accumulate {
                if b != 0.0 {
                    row.iter_mut().for_each(|v| *v += b);
                }
            } else {
                row.fill(b);
            }
        });
        match &self.algo {
            ConvAlgo::Dft(plan) if plan.pays(tout, self.dil, self.cin * self.cout) => {
                fftconv::DftConv {
                    plan,
                    w: &self.w,
                    cin: self.cin,
                    cout: self.cout,
                    dil: self.dil,
                }
                .add_into(x, t, pad, pro, out, cancel);
                return;
            }
            ConvAlgo::Winograd if winograd::pays(tout, self.dil) => {
                winograd::WinogradConv {
                    w: &self.w,
                    cin: self.cin,
                    cout: self.cout,
                    dil: self.dil,
                }
                .add_into(x, t, pad, pro, out, cancel);
                return;
            }
            _ => {}
        }
        let kk = self.cin * self.k;
        if self.k == 1 && self.stride == 1 && pad == 0 && pro.is_none() {
            // (x [cin, t], w [cout, cin], out [cout, t])
            gemm(
                self.cout,
                tout,
                self.cin,
                out,
                tout,
                true,
                Rows::new(&self.w, self.cin),
                Rows::new(x, t),
                true,
            );
            return;
        }
        let n_tiles = tout.div_ceil(CONV_TILE);
        let out_ptr = SendPtr(out.as_mut_ptr());
        let run_tile = |tile: usize, scratch: &mut ConvScratch, par: bool| {
            if cancel.is_set() {
                return;
            }
            let t0 = tile * CONV_TILE;
            let tw = CONV_TILE.min(tout - t0);
            let win = (tw - 1) * self.stride + self.dil * (self.k - 1) + 1;
            let ws = (t0 * self.stride) as isize - pad as isize;
            scratch.win.resize(self.cin * win, 0.0);
            // Gather the input window with zero padding and the fused transform.
            for ci in 0..self.cin {
                let dst = &mut scratch.win[ci * win..(ci + 1) * win];
                let lo = (-ws).clamp(0, win as isize) as usize;
                let hi = ((t as isize - ws).clamp(0, win as isize)) as usize;
                dst[..lo].fill(0.0);
                if hi > lo {
                    let src = &x[ci * t + (ws + lo as isize) as usize
                        ..ci * t + (ws + hi as isize) as usize];
                    match pro {
                        Some(p) => p.apply_row(ci, src, &mut dst[lo..hi]),
                        None => dst[lo..hi].copy_from_slice(src),
                    }
                }
                dst[hi.max(lo)..].fill(0.0);
            }
            let rhs = if self.k == 1 && self.stride == 1 {
                Mat::rows(scratch.win.as_ptr(), win)
            } else {
                scratch.col.resize(kk * tw, 0.0);
                for ci in 0..self.cin {
                    let wrow = &scratch.win[ci * win..(ci + 1) * win];
                    for k in 0..self.k {
                        let dst =
                            &mut scratch.col[(ci * self.k + k) * tw..(ci * self.k + k + 1) * tw];
                        let off = k * self.dil;
                        if self.stride == 1 {
                            dst.copy_from_slice(&wrow[off..off + tw]);
                        } else {
                            for (j, d) in dst.iter_mut().enumerate() {
                                *d = wrow[off + j * self.stride];
                            }
                        }
                    }
                }
                Mat::rows(scratch.col.as_ptr(), tw)
            };
            let op = out_ptr;
            // SAFETY: tile columns [t0, t0+tw) of out are written by this tile only.
            unsafe {
                sgemm(
                    self.cout,
                    tw,
                    kk,
                    MatMut::rows(op.0.add(t0), tout),
                    true,
                    Mat::rows(self.w.as_ptr(), kk),
                    rhs,
                    par,
                );
            }
        };
        let new_scratch = || ConvScratch {
            win: Vec::new(),
            col: Vec::new(),
        };
        if n_tiles >= 2 * crate::kernels::cpu::threads() {
            (0..n_tiles)
                .into_par_iter()
                .with_min_len(1)
                .for_each_init(new_scratch, |s, tile| run_tile(tile, s, false));
        } else {
            let mut s = new_scratch();
            for tile in 0..n_tiles {
                run_tile(tile, &mut s, true);
            }
        }
    }
}

/// ConvTranspose1d (groups = 1), weights `[cin, cout, k]`, as GEMM + overlap-add.
pub(crate) struct ConvTranspose1d {
    /// `[cout·k, cin]`: row `co·k + kk` holds `W[:, co, kk]`.
    wt: Vec<f32>,
    b: Weight,
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
    pub out_pad: usize,
}

impl ConvTranspose1d {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        vb: &mut Vb,
        cin: usize,
        cout: usize,
        k: usize,
        stride: usize,
        pad: usize,
        out_pad: usize,
    ) -> Result<Self> {
        let w = vb.get("weight", &[cin, cout, k])?;
        let b = vb.get("bias", &[cout])?;
        let wt = transpose(&w, cin, cout * k);
        Ok(Self {
            wt,
            b,
            cin,
            cout,
            k,
            stride,
            pad,
            out_pad,
        })
    }

    pub(crate) fn out_len(&self, t: usize) -> usize {
        ((t - 1) * self.stride + self.k + self.out_pad).saturating_sub(2 * self.pad)
    }

    /// Each input's contribution before the overlap-add, for a stream that keeps its own
    /// overlap: `x [cin, m]` → `[cout·k, m]`, row `co·k + kk` holding what input `i` adds at
    /// output `i·stride + kk − pad` (no bias).
    pub(crate) fn contributions(&self, x: &[f32], m: usize) -> Vec<f32> {
        assert_eq!(x.len(), self.cin * m);
        let rows = self.cout * self.k;
        let mut y = vec![0f32; rows * m];
        if m == 0 {
            return y;
        }
        gemm(
            rows,
            m,
            self.cin,
            &mut y,
            m,
            false,
            Rows::new(&self.wt, self.cin),
            Rows::new(x, m),
            true,
        );
        y
    }

    pub(crate) fn bias(&self) -> &[f32] {
        &self.b
    }

    /// `x [cin, t]` → `[cout, left + out_len(t)]`; with `left > 0` each row starts with `left`
    /// reflected samples (`ReflectionPad1d((left, 0))` fused, no second buffer).
    pub(crate) fn forward(&self, x: &[f32], t: usize, left: usize) -> Vec<f32> {
        assert_eq!(x.len(), self.cin * t);
        let tout = self.out_len(t);
        assert!(left < tout, "reflection pad wider than the signal");
        let stride_out = tout + left;
        let mut out = vec![0f32; self.cout * stride_out];
        out.par_chunks_mut(stride_out.max(1))
            .zip(self.b.par_iter())
            .for_each(|(row, b)| row[left..].fill(*b));
        const TI: usize = 512;
        let rows = self.cout * self.k;
        let mut y = vec![0f32; rows * TI.min(t)];
        for i0 in (0..t).step_by(TI) {
            let ti = TI.min(t - i0);
            // (wt [rows, cin], the x tile [cin, ti] with row stride t, y [rows, ti])
            gemm(
                rows,
                ti,
                self.cin,
                &mut y,
                ti,
                false,
                Rows::new(&self.wt, self.cin),
                Rows::new(&x[i0..], t),
                true,
            );
            let y = &y;
            out.par_chunks_mut(stride_out.max(1))
                .enumerate()
                .for_each(|(co, orow)| {
                    let orow = &mut orow[left..];
                    for kk in 0..self.k {
                        let yrow = &y[(co * self.k + kk) * ti..(co * self.k + kk + 1) * ti];
                        for (i, v) in yrow.iter().enumerate() {
                            let pos = ((i0 + i) * self.stride + kk) as isize - self.pad as isize;
                            if pos >= 0 && (pos as usize) < tout {
                                orow[pos as usize] += v;
                            }
                        }
                    }
                });
        }
        if left > 0 {
            out.par_chunks_mut(stride_out).for_each(|row| {
                for i in 0..left {
                    row[i] = row[2 * left - i];
                }
            });
        }
        out
    }
}

/// Depthwise ConvTranspose1d (groups = channels), weights `[c, 1, k]`.
pub(crate) struct DepthwiseConvTranspose1d {
    w: Weight,
    b: Weight,
    c: usize,
    k: usize,
    stride: usize,
    pad: usize,
    out_pad: usize,
}

impl DepthwiseConvTranspose1d {
    pub(crate) fn new(
        vb: &mut Vb,
        c: usize,
        k: usize,
        stride: usize,
        pad: usize,
        out_pad: usize,
    ) -> Result<Self> {
        Ok(Self {
            w: vb.get("weight", &[c, 1, k])?,
            b: vb.get("bias", &[c])?,
            c,
            k,
            stride,
            pad,
            out_pad,
        })
    }

    pub(crate) fn out_len(&self, t: usize) -> usize {
        ((t - 1) * self.stride + self.k + self.out_pad).saturating_sub(2 * self.pad)
    }

    /// Each input's contribution before the overlap-add: `x [c, m]` → `[c·k, m]` (see
    /// [`ConvTranspose1d::contributions`]).
    pub(crate) fn contributions(&self, x: &[f32], m: usize) -> Vec<f32> {
        assert_eq!(x.len(), self.c * m);
        let mut y = vec![0f32; self.c * self.k * m];
        if m == 0 {
            return y;
        }
        y.par_chunks_mut(self.k * m)
            .enumerate()
            .for_each(|(ch, rows)| {
                let xr = &x[ch * m..(ch + 1) * m];
                for (kk, row) in rows.chunks_exact_mut(m).enumerate() {
                    let w = self.w[ch * self.k + kk];
                    row.iter_mut().zip(xr).for_each(|(o, v)| *o = v * w);
                }
            });
        y
    }

    pub(crate) fn bias(&self) -> &[f32] {
        &self.b
    }

    pub(crate) fn shape(&self) -> (usize, usize, usize, usize) {
        (self.k, self.stride, self.pad, self.out_pad)
    }

    pub(crate) fn forward(&self, x: &[f32], t: usize) -> Vec<f32> {
        assert_eq!(x.len(), self.c * t);
        let tout = self.out_len(t);
        let mut out = vec![0f32; self.c * tout];
        out.par_chunks_mut(tout.max(1))
            .enumerate()
            .for_each(|(ch, orow)| {
                orow.fill(self.b[ch]);
                let xr = &x[ch * t..(ch + 1) * t];
                let w = &self.w[ch * self.k..(ch + 1) * self.k];
                for (i, xv) in xr.iter().enumerate() {
                    for (kk, wv) in w.iter().enumerate() {
                        let pos = (i * self.stride + kk) as isize - self.pad as isize;
                        if pos >= 0 && (pos as usize) < tout {
                            orow[pos as usize] += xv * wv;
                        }
                    }
                }
            });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ops::Act;

    fn naive_conv(c: &Conv1d, x: &[f32], t: usize) -> Vec<f32> {
        let tout = c.out_len(t);
        let mut y = vec![0f32; c.cout * tout];
        for co in 0..c.cout {
            for o in 0..tout {
                let mut s = c.b.as_ref().map_or(0.0, |b| b[co]) as f64;
                for ci in 0..c.cin {
                    for k in 0..c.k {
                        let idx = (o * c.stride + k * c.dil) as isize - c.pad as isize;
                        if idx >= 0 && (idx as usize) < t {
                            s += c.w[(co * c.cin + ci) * c.k + k] as f64
                                * x[ci * t + idx as usize] as f64;
                        }
                    }
                }
                y[co * tout + o] = s as f32;
            }
        }
        y
    }

    fn rnd(n: usize, seed: u64) -> Vec<f32> {
        (0..n)
            .map(|i| crate::kernels::noise::uniform_pm1(seed, i as u64))
            .collect()
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= tol * (1.0 + y.abs()),
                "index {i}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn conv1d_matches_naive_over_many_shapes() {
        for &(cin, cout, k, s, p, d, t) in &[
            (3, 4, 3, 1, 1, 1, 10),
            (5, 2, 7, 1, 9, 3, 700),
            (22, 6, 12, 6, 3, 1, 601),
            (4, 4, 1, 1, 0, 1, 1000),
            (2, 3, 11, 1, 25, 5, 3000),
            (1, 1, 3, 2, 1, 1, 9),
        ] {
            let c = Conv1d {
                w: rnd(cout * cin * k, 1).into(),
                b: Some(rnd(cout, 2).into()),
                cin,
                cout,
                k,
                stride: s,
                pad: p,
                dil: d,
                algo: ConvAlgo::Gemm,
            };
            let x = rnd(cin * t, 3);
            close(&c.forward(&x, t, None), &naive_conv(&c, &x, t), 1e-4);
        }
    }

    #[test]
    fn conv1d_prologue_equals_transform_then_conv() {
        let (cin, cout, k, t) = (3, 2, 5, 600);
        let c = Conv1d {
            w: rnd(cout * cin * k, 4).into(),
            b: None,
            cin,
            cout,
            k,
            stride: 1,
            pad: 2,
            dil: 1,
            algo: ConvAlgo::Gemm,
        };
        let x = rnd(cin * t, 5);
        let scale = vec![0.5, 2.0, -1.0];
        let shift = vec![0.1, -0.2, 0.3];
        let alpha = vec![1.0, 0.5, 2.0];
        for act in [Act::None, Act::Leaky(0.2), Act::Snake(&alpha)] {
            let p = Prologue {
                scale: &scale,
                shift: &shift,
                act,
            };
            let mut xt = x.clone();
            p.apply_inplace(&mut xt, t);
            close(&c.forward(&x, t, Some(&p)), &naive_conv(&c, &xt, t), 1e-4);
        }
    }

    /// The DFT path gives the direct path's result: every dilation, tap count and channel
    /// count it takes, lengths from shorter than one tile to many work items, with and without
    /// a fused transform, into a fresh or an accumulating output. Long inputs take it by
    /// themselves; short ones are forced through it here.
    #[test]
    fn fft_convolution_matches_the_direct_one() {
        for &(cin, cout, k, d, t) in &[
            (32, 32, 7, 1, 5),
            (32, 48, 7, 1, 300),
            (40, 32, 11, 3, 1000),
            (32, 32, 11, 5, 7),
            (64, 32, 9, 2, 9000),
            (32, 32, 15, 1, 26),
            // channels that are not a multiple of the kernels' blocks
            (20, 16, 7, 2, 2000),
            // enough work items to run them across the pool (the others run one item's phases
            // across it)
            (32, 32, 7, 1, 20000),
        ] {
            let w: Vec<f32> = rnd(cout * cin * k, 11);
            let mk = |algo| Conv1d {
                w: w.clone().into(),
                b: Some(rnd(cout, 12).into()),
                cin,
                cout,
                k,
                stride: 1,
                pad: d * (k - 1) / 2,
                dil: d,
                algo,
            };
            let (direct, viafft) = (
                mk(ConvAlgo::Gemm),
                mk(ConvAlgo::Dft(fftconv::Plan::new(k).unwrap())),
            );
            let ConvAlgo::Dft(plan) = &viafft.algo else {
                unreachable!()
            };
            // long inputs take the transform by themselves, inputs of a tile or two do not
            if t >= 5000 {
                assert!(plan.pays(t, d, cin * cout), "t = {t}");
            } else if t <= 30 {
                assert!(!plan.pays(t, d, cin * cout), "t = {t}");
            }
            let x = rnd(cin * t, 13);
            let scale = rnd(cin, 14);
            let shift = rnd(cin, 15);
            let alpha: Vec<f32> = rnd(cin, 16).iter().map(|a| 0.5 + a.abs()).collect();
            let pros = [
                None,
                Some(Prologue {
                    scale: &scale,
                    shift: &shift,
                    act: Act::Snake(&alpha),
                }),
            ];
            for pro in &pros {
                for acc in [false, true] {
                    let init = rnd(cout * t, 17);
                    let (mut a, mut b) = (init.clone(), init.clone());
                    direct.forward_into(&x, t, pro.as_ref(), &mut a, acc);
                    if plan.pays(t, d, cin * cout) {
                        viafft.forward_into(&x, t, pro.as_ref(), &mut b, acc);
                    } else {
                        // the bias as forward_into adds it, then the transform's sum
                        for (co, row) in b.chunks_mut(t).enumerate() {
                            let bias = viafft.b.as_ref().unwrap()[co];
                            row.iter_mut()
                                .for_each(|v| *v = if acc { *v + bias } else { bias });
                        }
                        fftconv::DftConv {
                            plan,
                            w: &w,
                            cin,
                            cout,
                            dil: d,
                        }
                        .add_into(
                            &x,
                            t,
                            d * (k - 1) / 2,
                            pro.as_ref(),
                            &mut b,
                            Cancel::default(),
                        );
                    }
                    close(&b, &a, 2e-4);
                }
            }
        }
    }

    /// The Winograd path gives the direct result: each dilation the generator uses, channel
    /// counts from one block of rows to the widest it takes, lengths from a part of a panel to
    /// several work items, with and without a fused transform, into a fresh or an accumulating
    /// output. Long inputs take it by themselves (where its kernels run); short ones are forced
    /// through it here.
    #[test]
    fn winograd_convolution_matches_the_direct_one() {
        if !crate::kernels::matmul::packed::available() {
            assert!(!winograd::applies(128, 128, 100_000, 1));
            return;
        }
        for &(cin, cout, d, t) in &[
            (16, 8, 1, 5),
            (32, 48, 1, 300),
            (40, 32, 3, 1000),
            (24, 16, 5, 7),
            (256, 256, 1, 700),
            (32, 32, 5, 9000),
            (32, 32, 1, 20000),
        ] {
            let c = Conv1d {
                w: rnd(cout * cin * 3, 21).into(),
                b: Some(rnd(cout, 22).into()),
                cin,
                cout,
                k: 3,
                stride: 1,
                pad: d,
                dil: d,
                algo: ConvAlgo::Winograd,
            };
            if t >= 5000 {
                assert!(winograd::applies(cin, cout, t, d), "t = {t}");
            } else if t <= 30 {
                assert!(!winograd::applies(cin, cout, t, d), "t = {t}");
            }
            let x = rnd(cin * t, 23);
            let scale = rnd(cin, 24);
            let shift = rnd(cin, 25);
            let alpha: Vec<f32> = rnd(cin, 26).iter().map(|a| 0.5 + a.abs()).collect();
            let pro = Prologue {
                scale: &scale,
                shift: &shift,
                act: Act::Snake(&alpha),
            };
            for pro in [None, Some(&pro)] {
                let mut xt = x.clone();
                if let Some(p) = pro {
                    p.apply_inplace(&mut xt, t);
                }
                let direct = naive_conv(&c, &xt, t);
                for acc in [false, true] {
                    let init = rnd(cout * t, 27);
                    let mut got = init.clone();
                    if winograd::applies(cin, cout, t, d) {
                        c.forward_into(&x, t, pro, &mut got, acc);
                    } else {
                        // the bias as forward_into adds it, then the transform's sum
                        for (co, row) in got.chunks_mut(t).enumerate() {
                            let bias = c.b.as_ref().unwrap()[co];
                            row.iter_mut()
                                .for_each(|v| *v = if acc { *v + bias } else { bias });
                        }
                        winograd::WinogradConv {
                            w: &c.w,
                            cin,
                            cout,
                            dil: d,
                        }
                        .add_into(
                            &x,
                            t,
                            d,
                            pro,
                            &mut got,
                            Cancel::default(),
                        );
                    }
                    let want: Vec<f32> = direct
                        .iter()
                        .zip(&init)
                        .map(|(v, i)| if acc { v + i } else { *v })
                        .collect();
                    close(&got, &want, 2e-4);
                }
            }
        }
    }

    #[test]
    fn conv_transpose_matches_scatter_definition() {
        for &(cin, cout, k, s, p, t) in &[
            (4, 3, 20, 10, 5, 7),
            (3, 2, 12, 6, 3, 600),
            (2, 2, 3, 2, 1, 5),
        ] {
            let mut src = crate::nn::weights::RandomSource::new(9);
            let mut vb = crate::nn::weights::Vb::new(&mut src);
            let ct = ConvTranspose1d::new(&mut vb, cin, cout, k, s, p, 0).unwrap();
            let w = transpose(&ct.wt, cout * k, cin); // back to [cin, cout*k]
            let x = rnd(cin * t, 6);
            let full_len = (t - 1) * s + k;
            let tout = ct.out_len(t);
            let mut want = vec![0f32; cout * tout];
            for co in 0..cout {
                let mut full = vec![0f64; full_len];
                for ci in 0..cin {
                    for i in 0..t {
                        for kk in 0..k {
                            full[i * s + kk] +=
                                x[ci * t + i] as f64 * w[ci * cout * k + co * k + kk] as f64;
                        }
                    }
                }
                for m in 0..tout {
                    want[co * tout + m] = ct.b[co] + full.get(m + p).copied().unwrap_or(0.0) as f32;
                }
            }
            assert_eq!(tout, (t - 1) * s - 2 * p + k);
            close(&ct.forward(&x, t, 0), &want, 1e-4);
            // fused left reflection pad: [y1, y0, y1, y2, …]
            let padded = ct.forward(&x, t, 1);
            for co in 0..cout {
                let row = &padded[co * (tout + 1)..(co + 1) * (tout + 1)];
                assert_eq!(row[0], row[2]);
                close(&row[1..], &want[co * tout..(co + 1) * tout], 1e-4);
            }
        }
    }

    #[test]
    fn depthwise_pool_drops_first_sample() {
        // K=3, s=2, p=1, op=1: out[2j] = a[j]·w1 + b, out[2j+1] = a[j]·w2 + a[j+1]·w0 + b.
        let d = DepthwiseConvTranspose1d {
            w: vec![1.0, 10.0, 100.0].into(),
            b: vec![0.5].into(),
            c: 1,
            k: 3,
            stride: 2,
            pad: 1,
            out_pad: 1,
        };
        let y = d.forward(&[1.0, 2.0, 3.0], 3);
        assert_eq!(y, vec![10.5, 102.5, 20.5, 203.5, 30.5, 300.5]);
    }
}
