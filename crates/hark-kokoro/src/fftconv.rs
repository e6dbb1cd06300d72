//! Long "same" convolutions (stride 1, odd kernel of 7 taps or more, any dilation) through the
//! discrete Fourier transform, with every step a matrix product on the [`crate::matmul`] seam.
//!
//! A convolution with `k` taps costs `k` multiply-adds per output and channel pair when done as
//! im2col + GEMM. Done per tile of `N` inputs in the frequency domain (overlap-save: `L = N − k
//! + 1` exact outputs per tile), it costs the channel mixing of `N/2 + 1` complex bins, four real
//! multiply-adds each, shared by `L` outputs: for the generator's 11-tap convolutions about a
//! third of the work. The transforms themselves are small dense products with a fixed `2B × N`
//! matrix, shared by every channel. A dilated convolution is `d` ordinary ones on the
//! interleaved subsequences `x[d·v + r]`.
//!
//! The arithmetic is f32 like the direct path; the transforms add rounding of order `N·ε`, far
//! below what the parity tests resolve.

use rayon::prelude::*;

use crate::matmul::{sgemm, Mat, MatMut};
use crate::ops::{Prologue, SendPtr};
use crate::pass::Cancel;

/// Transform length (inputs per tile).
const N: usize = 32;
/// Frequency bins of a real transform of length `N`.
const B: usize = N / 2 + 1;
/// Tiles per work item: bigger items make bigger products, smaller ones spread over threads.
const TILES_PER_ITEM: usize = 128;

/// The fewest taps for which the transform pays (3- and 5-tap convolutions stay direct).
pub(crate) const MIN_TAPS: usize = 7;
/// The fewest tiles for which it pays: the kernels' transform, made once per call, costs about
/// as much as a hundred tiles (so the short first windows of a stream stay direct).
const MIN_TILES: usize = 128;

/// The most `cin·cout` for which the transform is used: its spectra, made per call, grow with
/// the channels times the length.
pub(crate) const MAX_CHANNEL_PRODUCT: usize = 128 * 128;

/// What a tap count needs: the kernels' transform.
pub(crate) struct Plan {
    k: usize,
    /// `[2B × k]`: rows `(b, cos)`, `(b, sin)` applied to the taps.
    taps: Vec<f32>,
}

impl Plan {
    /// `None` when `k` taps leave no room in a tile (or too few to pay).
    pub(crate) fn new(k: usize) -> Option<Plan> {
        if k < MIN_TAPS || k % 2 == 0 || k >= N / 2 {
            return None;
        }
        let mut taps = vec![0f32; 2 * B * k];
        for b in 0..B {
            for j in 0..k {
                let a = angle(b * j, N);
                taps[2 * b * k + j] = a.cos() as f32;
                taps[(2 * b + 1) * k + j] = a.sin() as f32;
            }
        }
        Some(Plan { k, taps })
    }

    fn outputs_per_tile(&self) -> usize {
        N - self.k + 1
    }

    /// Whether an input of `t` samples at dilation `dil` is long enough for the transform.
    pub(crate) fn pays(&self, t: usize, dil: usize) -> bool {
        let l = self.outputs_per_tile();
        let tiles: usize = (0..dil.min(t))
            .map(|r| (t - r).div_ceil(dil).div_ceil(l))
            .sum();
        tiles >= MIN_TILES
    }
}

/// `2π·(m mod n)/n`.
fn angle(m: usize, n: usize) -> f64 {
    std::f64::consts::TAU * (m % n) as f64 / n as f64
}

/// Columns (tiles) transformed together: one vector register of f32 on AVX-512, two on AVX2.
const CH: usize = 16;
/// Half the transform length: the real transform of `N` points is a complex one of `M`.
const M: usize = N / 2;
type Block = [[f32; CH]; N];
type Spec = [[f32; CH]; 2 * B];

/// `e^{-2πi·k/N}` for `k < N`, and `e^{-2πi·k/M}` for the complex transform, as (cos, sin).
struct Twiddles {
    half: [(f32, f32); B],
    full: [(f32, f32); M],
}

fn twiddles() -> &'static Twiddles {
    static T: std::sync::OnceLock<Twiddles> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut half = [(0f32, 0f32); B];
        for (k, w) in half.iter_mut().enumerate() {
            let a = angle(k, N);
            *w = (a.cos() as f32, -a.sin() as f32);
        }
        let mut full = [(0f32, 0f32); M];
        for (k, w) in full.iter_mut().enumerate() {
            let a = angle(k, M);
            *w = (a.cos() as f32, -a.sin() as f32);
        }
        Twiddles { half, full }
    })
}

/// In-place radix-2 complex FFT of length `M` on `CH` columns at once (`inverse`: conjugate
/// twiddles, no scaling).
#[inline(always)]
fn fft_m(re: &mut [[f32; CH]; M], im: &mut [[f32; CH]; M], inverse: bool) {
    let tw = &twiddles().full;
    // bit reversal (M = 16: 4 bits)
    for i in 0..M {
        let j = (i as u32)
            .reverse_bits()
            .wrapping_shr(32 - M.trailing_zeros()) as usize;
        if j > i {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= M {
        let half = len / 2;
        for start in (0..M).step_by(len) {
            for j in 0..half {
                let (wr, wi0) = tw[j * (M / len)];
                let wi = if inverse { -wi0 } else { wi0 };
                let (a, b) = (start + j, start + j + half);
                let (ra, rb) = (re[a], re[b]);
                let (ia, ib) = (im[a], im[b]);
                for c in 0..CH {
                    let tr = wr * rb[c] - wi * ib[c];
                    let ti = wr * ib[c] + wi * rb[c];
                    re[a][c] = ra[c] + tr;
                    im[a][c] = ia[c] + ti;
                    re[b][c] = ra[c] - tr;
                    im[b][c] = ia[c] - ti;
                }
            }
        }
        len *= 2;
    }
}

crate::simd::multiversion! {
    /// The real DFT of each column of `x` (`N` samples): rows `(b, re)`, `(b, im)` of `X[b] =
    /// Σ x[s]·e^{-2πi·bs/N}`, `b ≤ N/2`.
    fn rfft(x: &Block, out: &mut Spec) {
        let mut re = [[0f32; CH]; M];
        let mut im = [[0f32; CH]; M];
        for n in 0..M {
            re[n] = x[2 * n];
            im[n] = x[2 * n + 1];
        }
        fft_m(&mut re, &mut im, false);
        let tw = &twiddles().half;
        for k in 0..B {
            let (kk, mk) = (k % M, (M - k % M) % M);
            let (wr, wi) = tw[k];
            for c in 0..CH {
                // Z[k] and conj(Z[M − k])
                let (zr, zi) = (re[kk][c], im[kk][c]);
                let (mr, mi) = (re[mk][c], -im[mk][c]);
                let (er, ei) = (0.5 * (zr + mr), 0.5 * (zi + mi));
                // (Z[k] − conj(Z[M−k])) / 2i
                let (or, oi) = (0.5 * (zi - mi), -0.5 * (zr - mr));
                out[2 * k][c] = er + wr * or - wi * oi;
                out[2 * k + 1][c] = ei + wr * oi + wi * or;
            }
        }
    }
}

crate::simd::multiversion! {
    /// The inverse of [`rfft`]: `N` real samples per column from bins `b ≤ N/2` (the spectrum of
    /// a real signal), `x[s] = (1/N)·Σ X[b]·e^{2πi·bs/N}` over all `N` bins.
    fn irfft(spec: &Spec, x: &mut Block) {
        let mut re = [[0f32; CH]; M];
        let mut im = [[0f32; CH]; M];
        let tw = &twiddles().half;
        for k in 0..M {
            let m = M - k;
            // e^{+2πi·k/N}
            let (wr, wi) = (tw[k].0, -tw[k].1);
            for c in 0..CH {
                let (yr, yi) = (spec[2 * k][c], spec[2 * k + 1][c]);
                let (mr, mi) = (spec[2 * m][c], -spec[2 * m + 1][c]);
                let (er, ei) = (0.5 * (yr + mr), 0.5 * (yi + mi));
                let (dr, di) = (0.5 * (yr - mr), 0.5 * (yi - mi));
                let (or, oi) = (dr * wr - di * wi, dr * wi + di * wr);
                // Z = Xe + i·Xo
                re[k][c] = er - oi;
                im[k][c] = ei + or;
            }
        }
        fft_m(&mut re, &mut im, true);
        let scale = 1.0 / M as f32;
        for n in 0..M {
            for c in 0..CH {
                x[2 * n][c] = re[n][c] * scale;
                x[2 * n + 1][c] = im[n][c] * scale;
            }
        }
    }
}

/// One convolution's operands.
pub(crate) struct Conv<'a> {
    pub plan: &'a Plan,
    /// `[cout, cin, k]`.
    pub w: &'a [f32],
    pub cin: usize,
    pub cout: usize,
    pub dil: usize,
}

struct Scratch {
    x: Vec<f32>,
    y: Vec<f32>,
}

impl Conv<'_> {
    /// `out [cout, t] += conv(pro(x [cin, t]))` with zero padding of `dil·(k−1)/2` on both
    /// sides (the bias is the caller's). Skips its remaining work once `cancel` is set.
    pub(crate) fn add_into(
        &self,
        x: &[f32],
        t: usize,
        pro: Option<&Prologue>,
        out: &mut [f32],
        cancel: Cancel,
    ) {
        let (cin, cout, k, d) = (self.cin, self.cout, self.plan.k, self.dil);
        assert_eq!(self.w.len(), cout * cin * k);
        assert_eq!(x.len(), cin * t);
        assert_eq!(out.len(), cout * t);
        if t == 0 {
            return;
        }
        let l = self.plan.outputs_per_tile();
        let ww = self.bin_weights();
        // Every tile, as (residue r of the dilation, tile q of the subsequence x[d·v + r]); work
        // items are runs of tiles, across residues, so that short inputs still make wide products.
        let tiles: Vec<(usize, usize)> = (0..d.min(t))
            .flat_map(|r| {
                let tr = (t - r).div_ceil(d);
                (0..tr.div_ceil(l)).map(move |q| (r, q))
            })
            .collect();
        let items: Vec<&[(usize, usize)]> = tiles.chunks(TILES_PER_ITEM).collect();
        let out_ptr = SendPtr(out.as_mut_ptr());
        let run = |item: &[(usize, usize)], sc: &mut Scratch, par: bool| {
            if cancel.is_set() {
                return;
            }
            self.item(x, t, pro, &ww, item, sc, par, out_ptr);
        };
        let new = || Scratch {
            x: Vec::new(),
            y: Vec::new(),
        };
        if items.len() >= 2 * crate::cpu::threads() {
            items
                .par_iter()
                .with_min_len(1)
                .for_each_init(new, |sc, it| run(it, sc, false));
        } else {
            let mut sc = new();
            for it in &items {
                run(it, &mut sc, true);
            }
        }
    }

    /// Per bin, the complex channel-mixing matrix of the (conjugated) kernel spectrum as a real
    /// `[2·cout × 2·cin]` block `[[Wr, −S], [S, Wr]]`: `[B, 2·cout, 2·cin]`.
    fn bin_weights(&self) -> Vec<f32> {
        let (cin, cout, k) = (self.cin, self.cout, self.plan.k);
        let cc = cout * cin;
        // spectra [2B × (cout·cin)] = taps [2B × k] · Wᵀ [k × (cout·cin)]
        let mut spec = vec![0f32; 2 * B * cc];
        // SAFETY: taps is [2B, k], w is [cout·cin, k] (used transposed), spec is [2B, cout·cin].
        unsafe {
            sgemm(
                2 * B,
                cc,
                k,
                MatMut::rows(spec.as_mut_ptr(), cc),
                false,
                Mat::rows(self.plan.taps.as_ptr(), k),
                Mat::cols(self.w.as_ptr(), k),
                true,
            );
        }
        let (r2, c2) = (2 * cout, 2 * cin);
        let mut ww = vec![0f32; B * r2 * c2];
        ww.par_chunks_mut(r2 * c2).enumerate().for_each(|(b, blk)| {
            let re = &spec[2 * b * cc..(2 * b + 1) * cc];
            let s = &spec[(2 * b + 1) * cc..(2 * b + 2) * cc];
            for co in 0..cout {
                let (wr, sr) = (&re[co * cin..(co + 1) * cin], &s[co * cin..(co + 1) * cin]);
                let top = &mut blk[co * c2..(co + 1) * c2];
                top[..cin].copy_from_slice(wr);
                for (d, v) in top[cin..].iter_mut().zip(sr) {
                    *d = -v;
                }
                let bot = &mut blk[(cout + co) * c2..(cout + co + 1) * c2];
                bot[..cin].copy_from_slice(sr);
                bot[cin..].copy_from_slice(wr);
            }
        });
        ww
    }

    /// The tiles `tiles` ((residue, tile) pairs).
    #[allow(clippy::too_many_arguments)]
    fn item(
        &self,
        x: &[f32],
        t: usize,
        pro: Option<&Prologue>,
        ww: &[f32],
        tiles: &[(usize, usize)],
        sc: &mut Scratch,
        par: bool,
        out: SendPtr,
    ) {
        let (cin, cout, k, d) = (self.cin, self.cout, self.plan.k, self.dil);
        let l = self.plan.outputs_per_tile();
        let h = (k - 1) / 2;
        let nb = tiles.len();
        // X [2B × (cin·nb)]: the spectrum of every tile's inputs (tile j of channel ci is column
        // ci·nb + j), through the transform with the input's transform (`pro`) applied.
        let xw = cin * nb;
        sc.x.resize(2 * B * xw, 0.0);
        let mut blk: Block = [[0f32; CH]; N];
        let mut spec: Spec = [[0f32; CH]; 2 * B];
        let mut seg = [0f32; N];
        for ci in 0..cin {
            let row = &x[ci * t..(ci + 1) * t];
            for (j0, chunk) in tiles.chunks(CH).enumerate().map(|(i, c)| (i * CH, c)) {
                for (c, &(r, q)) in chunk.iter().enumerate() {
                    let tr = (t - r).div_ceil(d);
                    // inputs v = q·L − h + s of the subsequence, those in [0, tr) only
                    let v0 = (q * l) as isize - h as isize;
                    let lo = (-v0).clamp(0, N as isize) as usize;
                    let hi = (tr as isize - v0).clamp(0, N as isize) as usize;
                    seg.fill(0.0);
                    if hi > lo {
                        let first = (v0 + lo as isize) as usize;
                        let valid = &mut seg[lo..hi];
                        if d == 1 {
                            valid.copy_from_slice(&row[first..first + valid.len()]);
                        } else {
                            for (i, v) in valid.iter_mut().enumerate() {
                                *v = row[d * (first + i) + r];
                            }
                        }
                        if let Some(p) = pro {
                            p.apply_inplace_row(ci, valid);
                        }
                    }
                    for (s, v) in seg.iter().enumerate() {
                        blk[s][c] = *v;
                    }
                }
                for row in blk.iter_mut() {
                    row[chunk.len()..].fill(0.0);
                }
                rfft(&blk, &mut spec);
                let (col, n) = (ci * nb + j0, chunk.len());
                for (row, v) in spec.iter().enumerate() {
                    sc.x[row * xw + col..row * xw + col + n].copy_from_slice(&v[..n]);
                }
            }
        }
        // Y_b [2cout × nb] = WW_b [2cout × 2cin] · X_b [2cin × nb], for every bin.
        let yw = cout * nb;
        sc.y.resize(2 * B * yw, 0.0);
        let (r2, c2) = (2 * cout, 2 * cin);
        for b in 0..B {
            let wb = &ww[b * r2 * c2..(b + 1) * r2 * c2];
            let xb = &sc.x[2 * b * xw..];
            let yb = &mut sc.y[2 * b * yw..];
            // SAFETY: rows 2b, 2b+1 of X (Y) are one [2cin × nb] ([2cout × nb]) matrix.
            unsafe {
                if b == 0 || 2 * b == N {
                    // A real bin: only the real block does anything.
                    sgemm(
                        cout,
                        nb,
                        cin,
                        MatMut::rows(yb.as_mut_ptr(), nb),
                        false,
                        Mat::rows(wb.as_ptr(), c2),
                        Mat::rows(xb.as_ptr(), nb),
                        par,
                    );
                    yb[yw..2 * yw].fill(0.0);
                } else {
                    sgemm(
                        r2,
                        nb,
                        c2,
                        MatMut::rows(yb.as_mut_ptr(), nb),
                        false,
                        Mat::rows(wb.as_ptr(), c2),
                        Mat::rows(xb.as_ptr(), nb),
                        par,
                    );
                }
            }
        }
        // Back to time; output i of tile (r, q) is at t = d·(q·L + i) + r.
        for co in 0..cout {
            for (j0, chunk) in tiles.chunks(CH).enumerate().map(|(i, c)| (i * CH, c)) {
                let (col, n) = (co * nb + j0, chunk.len());
                for (row, v) in spec.iter_mut().enumerate() {
                    v[..n].copy_from_slice(&sc.y[row * yw + col..row * yw + col + n]);
                    v[n..].fill(0.0);
                }
                irfft(&spec, &mut blk);
                for (c, &(r, q)) in chunk.iter().enumerate() {
                    let tr = (t - r).div_ceil(d);
                    let u0 = q * l;
                    for (i, v) in blk.iter().take(l.min(tr - u0)).enumerate() {
                        // SAFETY: u0 + i < tr, so the index is inside out; this item alone
                        // writes the outputs of its tiles.
                        unsafe { *out.0.add(co * t + d * (u0 + i) + r) += v[c] };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block transforms against the DFT's definition, and back.
    #[test]
    fn rfft_and_irfft_are_the_dft_and_its_inverse() {
        let mut x: Block = [[0f32; CH]; N];
        for (s, row) in x.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = crate::noise::uniform_pm1(3, (s * CH + c) as u64);
            }
        }
        let mut spec: Spec = [[0f32; CH]; 2 * B];
        rfft(&x, &mut spec);
        for b in 0..B {
            for c in 0..CH {
                let (mut re, mut im) = (0f64, 0f64);
                for (s, row) in x.iter().enumerate() {
                    let a = angle(b * s, N);
                    re += row[c] as f64 * a.cos();
                    im -= row[c] as f64 * a.sin();
                }
                assert!((spec[2 * b][c] as f64 - re).abs() < 1e-4, "bin {b} re");
                assert!((spec[2 * b + 1][c] as f64 - im).abs() < 1e-4, "bin {b} im");
            }
        }
        let mut back: Block = [[0f32; CH]; N];
        irfft(&spec, &mut back);
        for (a, b) in back.iter().zip(&x) {
            for (u, v) in a.iter().zip(b) {
                assert!((u - v).abs() < 1e-5, "{u} vs {v}");
            }
        }
    }
}
