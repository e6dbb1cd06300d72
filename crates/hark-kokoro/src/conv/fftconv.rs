//! Long "same" convolutions (stride 1, odd kernel of 7 taps or more, any dilation) through the
//! discrete Fourier transform, with the channel mixing a matrix product per frequency bin: on
//! `matmul::packed`'s kernels where they run (the spectra are written in their layout), otherwise
//! on the [`crate::kernels::matmul`] seam.
//!
//! A convolution with `k` taps costs `k` multiply-adds per output and channel pair when done as
//! im2col + GEMM. Done per tile of `N` inputs in the frequency domain (overlap-save:
//! `L = N − k + 1` exact outputs per tile), it costs the channel mixing of `N/2 + 1` bins shared by `L`
//! outputs: a complex bin takes three real products (`C(a+b)`, `(S−C)a`, `−(C+S)b` for kernel
//! spectrum `C + iS` and input `a + ib`), a real bin one. For the generator's 11-tap
//! convolutions that is about a fifth of the direct work, for its 7-tap ones about a quarter.
//! The transforms themselves are radix-2 FFTs run across 16 tiles at once. A dilated
//! convolution is `d` ordinary ones on the interleaved subsequences `x[d·v + r]`; a work item
//! takes the same tiles of every residue, so that it reads one span of the input and writes one
//! span of the output.
//!
//! The arithmetic is f32 like the direct path; the transforms add rounding of order `N·ε`, far
//! below what the parity tests resolve.

use rayon::prelude::*;

use crate::conv::tiling::{each, ConvBuffers, Scratch, Tiling};
use crate::kernels::matmul::{packed, sgemm, Mat, MatMut};
use crate::kernels::ops::{Prologue, SendPtr};
use crate::kernels::pass::Cancel;

/// Transform length (inputs per tile).
const N: usize = 32;
/// Frequency bins of a real transform of length `N`.
const B: usize = N / 2 + 1;

/// The fewest taps for which the transform pays (3- and 5-tap convolutions stay direct).
pub(crate) const MIN_TAPS: usize = 7;
/// The fewest tiles for which it pays. The kernels' spectra, made per call, are written at
/// memory speed: at 256 channels that costs about as much as 30 tiles save (measured on
/// the generator's first windows); at 128 channels or fewer a handful of tiles repays it.
const MIN_TILES: usize = 32;
/// [`MIN_TILES`] up to [`SMALL_CHANNEL_PRODUCT`].
const MIN_TILES_SMALL: usize = 8;
/// The most `cin·cout` for [`MIN_TILES_SMALL`].
const SMALL_CHANNEL_PRODUCT: usize = 128 * 128;

/// The most `cin·cout` for which the transform is used: the kernels' spectra, made per call,
/// take `3·B·cin·cout` floats (13 MB for the generator's 256-channel stage).
pub(crate) const MAX_CHANNEL_PRODUCT: usize = 256 * 256;

/// What a tap count needs: the kernels' transform.
pub(crate) struct Plan {
    k: usize,
    /// `[2B × k]`: rows `(b, cos)`, `(b, sin)` applied to the taps, over `M` (the scale of the
    /// inverse transform, which [`irfft`] leaves out).
    taps: Vec<f32>,
}

impl Plan {
    /// `None` when `k` taps leave no room in a tile (or too few to pay).
    pub(crate) fn new(k: usize) -> Option<Plan> {
        if k < MIN_TAPS || k.is_multiple_of(2) || k >= N / 2 {
            return None;
        }
        let mut taps = vec![0f32; 2 * B * k];
        for b in 0..B {
            for j in 0..k {
                let a = angle(b * j, N);
                taps[2 * b * k + j] = (a.cos() / M as f64) as f32;
                taps[(2 * b + 1) * k + j] = (a.sin() / M as f64) as f32;
            }
        }
        Some(Plan { k, taps })
    }

    fn outputs_per_tile(&self) -> usize {
        N - self.k + 1
    }

    /// Whether an input of `t` samples at dilation `dil` is long enough for the transform, with
    /// `cc = cin·cout`.
    pub(crate) fn pays(&self, t: usize, dil: usize, cc: usize) -> bool {
        let l = self.outputs_per_tile();
        let tiles: usize = (0..dil.min(t))
            .map(|r| (t - r).div_ceil(dil).div_ceil(l))
            .sum();
        tiles
            >= if cc > SMALL_CHANNEL_PRODUCT {
                MIN_TILES
            } else {
                MIN_TILES_SMALL
            }
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
/// A block of tiles as rows: `rows[c]` holds the `N` samples of tile (column) `c`.
type Rows = [[f32; N]; CH];

/// Whether [`transpose`] has vector code at the current CPU level
/// (without it, the tiles are read and written one sample at a time).
#[inline(always)]
fn fast_transpose() -> bool {
    cfg!(target_arch = "x86_64")
        && crate::kernels::cpu::level() >= crate::kernels::cpu::CpuLevel::Avx2
}

/// `dst[j][i] = src[i][j]` (`R` and `C` multiples of 8): tiles into [`Block`]s ([`Rows`] in) and
/// back ([`Block`] in).
#[inline(always)]
fn transpose<const R: usize, const C: usize>(src: &[[f32; C]; R], dst: &mut [[f32; R]; C]) {
    const { assert!(R.is_multiple_of(8) && C.is_multiple_of(8)) };
    #[cfg(target_arch = "x86_64")]
    if fast_transpose() {
        let (s, d) = (src.as_ptr() as *const f32, dst.as_mut_ptr() as *mut f32);
        // SAFETY: the CPU has AVX (checked at run time); with R and C multiples of 8, every
        // 8×8 block read lies inside `src` (row stride C) and every one written inside `dst`
        // (row stride R).
        unsafe {
            for i in (0..R).step_by(8) {
                for j in (0..C).step_by(8) {
                    x86::t8(s.add(i * C + j), C, d.add(j * R + i), R);
                }
            }
        }
        return;
    }
    for (i, row) in src.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            dst[j][i] = v;
        }
    }
}

/// Square transposes in vector registers.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Writes the transpose of the 8×8 matrix at `src` (row stride `ss` floats) to `dst` (row
    /// stride `ds`). AVX-512 CPUs run it too.
    ///
    /// # Safety
    /// AVX; both matrices lie in their buffers.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn t8(src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
        // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
        // the unsafe operations below rely on.
        unsafe {
            let mut r = [_mm256_setzero_ps(); 8];
            for (i, v) in r.iter_mut().enumerate() {
                *v = _mm256_loadu_ps(src.add(i * ss));
            }
            let mut t = [_mm256_setzero_ps(); 8];
            for i in 0..4 {
                t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            for i in 0..2 {
                let (a, b, c, d) = (t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3]);
                r[4 * i] = _mm256_shuffle_ps(a, c, 0x44);
                r[4 * i + 1] = _mm256_shuffle_ps(a, c, 0xEE);
                r[4 * i + 2] = _mm256_shuffle_ps(b, d, 0x44);
                r[4 * i + 3] = _mm256_shuffle_ps(b, d, 0xEE);
            }
            for i in 0..4 {
                let (a, b) = (r[i], r[i + 4]);
                _mm256_storeu_ps(dst.add(i * ds), _mm256_permute2f128_ps(a, b, 0x20));
                _mm256_storeu_ps(dst.add((i + 4) * ds), _mm256_permute2f128_ps(a, b, 0x31));
            }
        }
    }
}

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

/// `i` with its `log2 M` bits reversed: where the radix-2 FFT wants input `i`.
const fn rev(i: usize) -> usize {
    (i as u32)
        .reverse_bits()
        .wrapping_shr(32 - M.trailing_zeros()) as usize
}

/// In-place radix-2 complex FFT of length `M` on `CH` columns at once, from input in
/// bit-reversed order (`inverse`: conjugate twiddles, no scaling).
#[inline(always)]
fn fft_m(re: &mut [[f32; CH]; M], im: &mut [[f32; CH]; M], inverse: bool) {
    let tw = &twiddles().full;
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

/// The real DFT of each column of `x` (`N` samples): rows `(b, re)`, `(b, im)` of `X[b] =
/// Σ x[s]·e^{-2πi·bs/N}`, `b ≤ N/2`.
#[inline(always)]
fn rfft(x: &Block, out: &mut Spec) {
    let mut re = [[0f32; CH]; M];
    let mut im = [[0f32; CH]; M];
    for n in 0..M {
        re[rev(n)] = x[2 * n];
        im[rev(n)] = x[2 * n + 1];
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

/// The inverse of [`rfft`] times `M` (= `N/2`): `N` real samples per column from bins `b ≤ N/2`
/// (the spectrum of a real signal), `x[s] = (1/2)·Σ X[b]·e^{2πi·bs/N}` over all `N` bins (the
/// kernels' spectra carry the `1/M`).
#[inline(always)]
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
            re[rev(k)][c] = er - oi;
            im[rev(k)][c] = ei + or;
        }
    }
    fft_m(&mut re, &mut im, true);
    for n in 0..M {
        x[2 * n] = re[n];
        x[2 * n + 1] = im[n];
    }
}

/// Where one input channel's spectra go in a work item's `X`: rows `re`, `im`, `re + im` per
/// bin (`ROWS·B` of them), one column per tile, written 16 columns at a time. `X` is laid out
/// for the products that read it: row-major `[cin × ROWS·B × nbp]` for [`sgemm`], or in
/// [`packed`] panels (`[ROWS·B × nbp/NR × cin × NR]`) for its own kernels.
struct ChannelOut {
    /// The channel's `(row 0, column 0)`.
    ptr: *mut f32,
    /// Floats from one row to the next.
    row: usize,
    /// Floats from one panel of [`packed::NR`] columns to the next.
    panel: usize,
    /// Columns (a multiple of `CH`).
    cols: usize,
}

impl ChannelOut {
    /// # Safety
    /// For every row `r < ROWS·B` and column `j < cols`, the float at
    /// `ptr + r·row + (j / NR)·panel + j % NR` is valid and written through this value alone.
    unsafe fn new(ptr: *mut f32, row: usize, panel: usize, cols: usize) -> Self {
        debug_assert!(cols.is_multiple_of(CH));
        ChannelOut {
            ptr,
            row,
            panel,
            cols,
        }
    }

    /// Columns `j0 .. j0 + CH` of row `r` (`j0` a multiple of `CH`).
    #[inline(always)]
    fn put(&mut self, r: usize, j0: usize, v: &[f32; CH]) {
        const { assert!(packed::NR.is_multiple_of(CH)) };
        assert!(r < ROWS * B && j0 + CH <= self.cols && j0.is_multiple_of(CH));
        let at = r * self.row + (j0 / packed::NR) * self.panel + j0 % packed::NR;
        // SAFETY: (r, j0 .. j0 + CH) is inside the area `new` was given, and a block of CH
        // columns starting at a multiple of CH does not cross a panel.
        unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), self.ptr.add(at), CH) };
    }
}

crate::kernels::simd::multiversion! {
    /// One input channel's part of a work item: the spectra of its tiles to `x`. Column `j` is
    /// tile `j`, whose `N` inputs are `span[offs[j] + d·s]`; the columns past the tiles are
    /// zero.
    fn forward_channel(span: &[f32], offs: &[usize], d: usize, x: &mut ChannelOut) {
        debug_assert!(offs.len() <= x.cols);
        let fast = fast_transpose();
        let mut rows: Rows = [[0f32; N]; CH];
        let mut blk: Block = [[0f32; CH]; N];
        let mut spec: Spec = [[0f32; CH]; 2 * B];
        for j0 in (0..x.cols).step_by(CH) {
            let chunk = &offs[j0.min(offs.len())..(j0 + CH).min(offs.len())];
            if fast {
                for (c, row) in rows.iter_mut().enumerate() {
                    match chunk.get(c) {
                        Some(&o) if d == 1 => row.copy_from_slice(&span[o..o + N]),
                        Some(&o) => {
                            for (s, v) in row.iter_mut().enumerate() {
                                *v = span[o + d * s];
                            }
                        }
                        None => row.fill(0.0),
                    }
                }
                transpose(&rows, &mut blk);
            } else {
                for (c, &o) in chunk.iter().enumerate() {
                    for (s, row) in blk.iter_mut().enumerate() {
                        row[c] = span[o + d * s];
                    }
                }
                for row in blk.iter_mut() {
                    row[chunk.len()..].fill(0.0);
                }
            }
            rfft(&blk, &mut spec);
            for (b, bin) in spec.chunks_exact(2).enumerate() {
                let (re, im) = (&bin[0], &bin[1]);
                let mut sum = [0f32; CH];
                for ((v, &a), &b) in sum.iter_mut().zip(re).zip(im) {
                    *v = a + b;
                }
                x.put(ROWS * b, j0, re);
                x.put(ROWS * b + 1, j0, im);
                x.put(ROWS * b + 2, j0, &sum);
            }
        }
    }
}

crate::kernels::simd::multiversion! {
    /// One output channel's part of a work item, back to time: from the bin products
    /// `y [ROWS·B × nbp]` (see [`DftConv::item`]), the first `l` outputs of tile (column) `j` to
    /// `res[offs[j] + d·i]`, `i < l`. `res` has room for `N` samples from every `offs[j]`.
    fn inverse_channel(y: &[f32], offs: &[usize], d: usize, l: usize, res: &mut [f32]) {
        let nbp = y.len() / (ROWS * B);
        let fast = fast_transpose();
        let mut rows: Rows = [[0f32; N]; CH];
        let mut blk: Block = [[0f32; CH]; N];
        let mut spec: Spec = [[0f32; CH]; 2 * B];
        for (j0, chunk) in offs.chunks(CH).enumerate().map(|(i, c)| (i * CH, c)) {
            for (b, bin) in spec.chunks_exact_mut(2).enumerate() {
                let at = ROWS * b * nbp + j0;
                let y1 = &y[at..at + CH];
                if real_bin(b) {
                    bin[0].copy_from_slice(y1);
                    bin[1] = [0.0; CH];
                } else {
                    let (y2, y3) = (&y[at + nbp..at + nbp + CH], &y[at + 2 * nbp..at + 2 * nbp + CH]);
                    let (re, im) = bin.split_at_mut(1);
                    for c in 0..CH {
                        re[0][c] = y1[c] + y3[c];
                        im[0][c] = y1[c] + y2[c];
                    }
                }
            }
            irfft(&spec, &mut blk);
            if fast {
                transpose(&blk, &mut rows);
                // The tiles of a dilation-1 item lie back to back: what a whole row writes past
                // its `l` outputs is overwritten by the next tile's (or lies past the item's).
                let packed = d == 1 && chunk.windows(2).all(|w| w[1] == w[0] + l);
                for (row, &o) in rows.iter().zip(chunk) {
                    if packed {
                        res[o..o + N].copy_from_slice(row);
                    } else {
                        for (i, &v) in row[..l].iter().enumerate() {
                            res[o + d * i] = v;
                        }
                    }
                }
            } else {
                for (c, &o) in chunk.iter().enumerate() {
                    for (i, v) in blk.iter().take(l).enumerate() {
                        res[o + d * i] = v[c];
                    }
                }
            }
        }
    }
}

crate::kernels::simd::multiversion! {
    /// Rows of [`DftConv::bin_weights`], `out [B, 3, n]`, from taps laid out `wt [k, n]` (column
    /// `c` holds one channel pair's `k` taps) and the plan's `taps [2B, k]`.
    fn spectra_rows(wt: &[f32], k: usize, taps: &[f32], out: &mut [f32]) {
        let n = wt.len() / k;
        for (b, blk) in out.chunks_exact_mut(ROWS * n).enumerate() {
            let (cos, sin) = (&taps[2 * b * k..][..k], &taps[(2 * b + 1) * k..][..k]);
            let (c, rest) = blk.split_at_mut(n);
            let (s, neg) = rest.split_at_mut(n);
            c.fill(0.0);
            s.fill(0.0);
            for ((&cj, &sj), x) in cos.iter().zip(sin).zip(wt.chunks_exact(n)) {
                for ((c, s), &v) in c.iter_mut().zip(s.iter_mut()).zip(x) {
                    *c += cj * v;
                    *s += sj * v;
                }
            }
            for ((c, s), n) in c.iter().zip(s.iter_mut()).zip(neg.iter_mut()) {
                let (c, sv) = (*c, *s);
                *s = sv - c;
                *n = -(c + sv);
            }
        }
    }
}

/// One convolution's operands.
pub(crate) struct DftConv<'a> {
    pub plan: &'a Plan,
    /// `[cout, cin, k]`.
    pub w: &'a [f32],
    pub cin: usize,
    pub cout: usize,
    pub dil: usize,
}

/// Rows per bin in the spectra of a work item: `re`, `im` and `re + im` of the input (the
/// three operands of the three-product complex multiplication), or the three products.
const ROWS: usize = 3;

/// Whether bin `b` of a real signal's spectrum is real (0 and `N/2`): one product, not three.
fn real_bin(b: usize) -> bool {
    b == 0 || 2 * b == N
}

impl DftConv<'_> {
    /// `out [cout, t] += conv(pro(x [cin, tin]))` with zero padding of `pad ≤ dil·(k−1)/2` on
    /// both sides, `t = tin + 2·pad − dil·(k−1)` (the bias is the caller's). Skips its remaining
    /// work once `cancel` is set.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_into(
        &self,
        x: &[f32],
        tin: usize,
        pad: usize,
        pro: Option<&Prologue>,
        out: &mut [f32],
        cancel: Cancel,
    ) {
        let (cin, cout, k, d) = (self.cin, self.cout, self.plan.k, self.dil);
        let h = d * ((k - 1) / 2);
        assert!(pad <= h && tin + 2 * pad >= 2 * h);
        let t = tin + 2 * pad - 2 * h;
        assert_eq!(self.w.len(), cout * cin * k);
        assert_eq!(x.len(), cin * tin);
        assert_eq!(out.len(), cout * t);
        if t == 0 {
            return;
        }
        let l = self.plan.outputs_per_tile();
        let bufs = &*crate::conv::buffers();
        let mut pool = ConvBuffers::take(&bufs.spectra);
        let n = cout * ROWS * B * cin;
        if pool.len() < n {
            // fresh zero pages rather than a fill
            pool = vec![0f32; n];
        }
        let ww = &mut pool[..n];
        // our own kernels on operands written in their layout, where they run
        let packed = packed::available() && cout % packed::MR == 0;
        self.bin_weights(ww, packed);
        let ww = &*ww;
        let out_ptr = SendPtr(out.as_mut_ptr());
        let tiling = Tiling {
            t,
            d,
            l,
            k,
            tin,
            off: h - pad,
        };
        tiling.run(bufs, cancel, |qs, sc, par| {
            self.item(x, &tiling, pro, ww, packed, qs, sc, par, &out_ptr)
        });
        ConvBuffers::keep(&bufs.spectra, pool);
    }

    /// Per output channel and bin, the channel-mixing rows of the (conjugated) kernel spectrum
    /// `C + iS` for a complex product in three real ones: `C`, `S − C` and `−(C + S)` (with
    /// `a + ib` the input, `re = C(a+b) − (C+S)b` and `im = C(a+b) + (S−C)a`). The real bins use
    /// only `C`. Bin `b`'s product `i` is the `[cout × cin]` matrix of row `p = 3b + i` of
    /// `[cout, B, 3, cin]`: at `p·cin` with row stride `3B·cin`, or with `packed`, at `p·cout·cin`
    /// in [`packed`]'s blocks of rows.
    fn bin_weights(&self, ww: &mut [f32], packed: bool) {
        let (cin, cout, k) = (self.cin, self.cout, self.plan.k);
        let taps = &self.plan.taps[..];
        let per = ROWS * B * cin;
        if !packed {
            ww.par_chunks_mut(per)
                .zip(self.w.par_chunks(cin * k))
                .with_min_len(8)
                .for_each_init(Vec::new, |wt, (out, w)| {
                    // wt [k, cin]
                    wt.resize(cin * k, 0.0);
                    for (ci, row) in w.chunks_exact(k).enumerate() {
                        for (j, &v) in row.iter().enumerate() {
                            wt[j * cin + ci] = v;
                        }
                    }
                    spectra_rows(wt, k, taps, out)
                });
            return;
        }
        // Per block of MR output channels, the rows over the columns (ci, r) of packed's
        // blocks: each row p is then block ib of product p as it is.
        const MR: usize = packed::MR;
        assert_eq!(ww.len(), cout * per);
        let wp = SendPtr(ww.as_mut_ptr());
        let n = cin * MR;
        (0..cout / MR).into_par_iter().for_each_init(
            Default::default,
            |(wt, rows): &mut (Vec<f32>, Vec<f32>), ib| {
                let wp = &wp;
                // wt [k, cin, MR]
                wt.resize(k * n, 0.0);
                let w = &self.w[ib * MR * cin * k..][..MR * cin * k];
                for (j, wj) in wt.chunks_exact_mut(n).enumerate() {
                    for (ci, v) in wj.chunks_exact_mut(MR).enumerate() {
                        for (r, v) in v.iter_mut().enumerate() {
                            *v = w[(r * cin + ci) * k + j];
                        }
                    }
                }
                rows.resize(ROWS * B * n, 0.0);
                spectra_rows(wt, k, taps, rows);
                for (p, row) in rows.chunks_exact(n).enumerate() {
                    // SAFETY: block ib of product p, [cin × MR] at p·cout·cin + ib·cin·MR, lies
                    // inside ww (cout·per = 3B·cout·cin floats) and is written by this block
                    // alone.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            row.as_ptr(),
                            wp.0.add(p * cout * cin + ib * n),
                            n,
                        )
                    };
                }
            },
        );
    }

    /// Tiles `qs` of every residue: outputs `d·L·qs.start ..` `d·L·qs.end` (those below `t`).
    #[allow(clippy::too_many_arguments)]
    fn item(
        &self,
        x: &[f32],
        tiling: &Tiling,
        pro: Option<&Prologue>,
        ww: &[f32],
        packed: bool,
        qs: std::ops::Range<usize>,
        sc: &mut Scratch,
        par: bool,
        out: &SendPtr,
    ) {
        let (cin, cout, d, l, t) = (self.cin, self.cout, self.dil, tiling.l, tiling.tin);
        tiling.offsets(&qs, &mut sc.offs);
        let nb = sc.offs.len();
        let nbp = nb.next_multiple_of(if packed { packed::NR } else { CH });
        let span = tiling.span(&qs);
        // X: the spectra of every tile's inputs (tile j of channel ci is column j of its rows),
        // through the transform with the input's transform (`pro`) applied. Bin b's product i
        // reads the [cin × nbp] matrix of row p = ROWS·b + i: in [cin × ROWS·B × nbp] at p·nbp
        // with row stride ROWS·B·nbp, or packed at p·cin·nbp.
        let stride = ROWS * B * nbp;
        sc.x.resize(cin * stride, 0.0);
        let offs = &sc.offs[..];
        let xp = SendPtr(sc.x.as_mut_ptr());
        let channel = |ci: usize| {
            let xp = &xp;
            // SAFETY: in either layout, channel ci's (row, column) positions lie inside X
            // (cin·stride floats) and belong to no other channel.
            unsafe {
                if packed {
                    ChannelOut::new(xp.0.add(ci * packed::NR), cin * nbp, cin * packed::NR, nbp)
                } else {
                    ChannelOut::new(xp.0.add(ci * stride), nbp, packed::NR, nbp)
                }
            }
        };
        let fill = |buf: &mut Vec<f32>, ci: usize| {
            span.fill(x, t, ci, pro, buf);
            forward_channel(buf, offs, d, &mut channel(ci));
        };
        each(cin, par, &mut sc.row, fill);
        // Per bin: Y1 = C·(a+b), Y2 = (S−C)·a, Y3 = −(C+S)·b; re = Y1 + Y3, im = Y1 + Y2, in
        // Y [cout × ROWS·B × nbp] laid out like X.
        sc.y.resize(cout * stride, 0.0);
        let yp = SendPtr(sc.y.as_mut_ptr());
        let xs = &sc.x[..];
        let bin = |b: usize| {
            let yp = &yp;
            // (weights, input row, output row)
            let products: &[(usize, usize, usize)] = if real_bin(b) {
                &[(0, 0, 0)]
            } else {
                &[(0, 2, 0), (1, 0, 1), (2, 1, 2)]
            };
            for &(wi, xi, yi) in products {
                let (pw, px, py) = (ROWS * b + wi, ROWS * b + xi, ROWS * b + yi);
                if packed {
                    // SAFETY: A is product pw's [cout × cin] blocks, B row px's [cin × nbp]
                    // panels (both inside their buffers), C the [cout × nbp] rows of Y at
                    // py·nbp, `stride` apart, written by this bin alone; `packed` was
                    // decided on `packed::available()` and cout a multiple of MR.
                    unsafe {
                        packed::gemm(
                            cout,
                            nbp,
                            cin,
                            ww[pw * cout * cin..][..cout * cin].as_ptr(),
                            xs[px * cin * nbp..][..cin * nbp].as_ptr(),
                            yp.0.add(py * nbp),
                            stride,
                        );
                    }
                    continue;
                }
                let wb = &ww[b * ROWS * cin..];
                // SAFETY: each operand is a [cout × cin] matrix (rows 3B·cin apart, the last
                // one ending inside ww), a [cin × nbp] or a [cout × nbp] one (rows `stride`
                // apart, inside X and Y); the rows of bin b of Y are written by this bin alone.
                unsafe {
                    sgemm(
                        cout,
                        nbp,
                        cin,
                        MatMut::rows(yp.0.add((ROWS * b + yi) * nbp), stride),
                        false,
                        Mat::rows(wb[wi * cin..].as_ptr(), ROWS * B * cin),
                        Mat::rows(xs[(ROWS * b + xi) * nbp..].as_ptr(), stride),
                        false,
                    );
                }
            }
        };
        if par {
            (0..B).into_par_iter().with_min_len(1).for_each(bin);
        } else {
            (0..B).for_each(bin);
        }
        // Back to time: every output of the item's range below t comes from exactly one tile.
        let ys = &sc.y[..];
        each(cout, par, &mut sc.row, |res, co| {
            res.resize(d * qs.len() * l + N, 0.0);
            inverse_channel(&ys[co * stride..][..stride], offs, d, l, res);
            // SAFETY: only this item, and in it only this channel, writes row co's range.
            unsafe { tiling.add_row(out, co, &qs, res) };
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tile transposes at this process's CPU level (`HARK_CPU` picks it; CI runs each).
    #[test]
    fn tile_transposes_are_transposes() {
        let mut rows: Rows = [[0f32; N]; CH];
        for (c, row) in rows.iter_mut().enumerate() {
            for (s, v) in row.iter_mut().enumerate() {
                *v = (c * 1000 + s) as f32;
            }
        }
        let mut blk: Block = [[f32::NAN; CH]; N];
        transpose(&rows, &mut blk);
        for (s, row) in blk.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                assert_eq!(
                    v,
                    rows[c][s],
                    "sample {s} of tile {c} at {}",
                    crate::kernels::cpu::level()
                );
            }
        }
        let mut back: Rows = [[f32::NAN; N]; CH];
        transpose(&blk, &mut back);
        assert_eq!(back, rows, "at {}", crate::kernels::cpu::level());
    }

    /// The block transforms against the DFT's definition, and back.
    #[test]
    fn rfft_and_irfft_are_the_dft_and_its_inverse() {
        let mut x: Block = [[0f32; CH]; N];
        for (s, row) in x.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = crate::kernels::noise::uniform_pm1(3, (s * CH + c) as u64);
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
                let u = u / M as f32;
                assert!((u - v).abs() < 1e-5, "{u} vs {v}");
            }
        }
    }
}
