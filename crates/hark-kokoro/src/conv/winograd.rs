//! 3-tap "same" convolutions (stride 1, any dilation; the generator's residual blocks) as
//! Winograd's F(4, 3): each tile of 4 outputs reads 6 inputs, takes them to 6 transformed points
//! (`Bᵀ·d`), mixes channels there with 6 products `U_p · V_p` of the kernels' transforms
//! (`U = G·g`) and the inputs', and comes back with `Aᵀ`: 6 multiply-adds per 4 outputs and
//! channel pair instead of 12. The transforms take only additions and small constants
//! (interpolation at 0, ±1, ±2 and ∞), so their rounding stays within a few ε.
//!
//! The products run on [`packed`]'s kernels, the transforms writing their operands straight into
//! its panels, so this path exists only where those run; elsewhere (and for few tiles, or
//! wide channels whose kernel transforms, made per call, would cost more than they save) the
//! convolution stays direct. As in the DFT convolutions, a dilated convolution is `d` ordinary
//! ones on the subsequences `x[d·v + r]`, and a work item takes the same tiles of every residue.

use rayon::prelude::*;

use crate::conv::tiling::{each, ConvBuffers, Scratch, Tiling};
use crate::kernels::matmul::packed::{self, MR, NR};
use crate::kernels::ops::{Prologue, SendPtr};
use crate::kernels::pass::Cancel;

/// Outputs per tile.
const M: usize = 4;
/// Transformed points per tile (`M + 3 − 1`).
const P: usize = 6;
/// The fewest tiles for which the transform pays.
const MIN_TILES: usize = 32;
/// The most `cin·cout`: the kernels' transforms, made per call, take `6·cin·cout` floats.
const MAX_CHANNEL_PRODUCT: usize = 256 * 256;

/// `Bᵀ`: the input transform.
const BT: [[f32; P]; P] = [
    [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
    [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
    [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
    [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
    [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
    [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
];
/// `G`: the kernel transform.
const G: [[f32; 3]; P] = [
    [0.25, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];
/// `Aᵀ`: the output transform.
const AT: [[f32; P]; M] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
    [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
    [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
];

/// Tiles of an input of `t` samples at dilation `d`.
fn tiles(t: usize, d: usize) -> usize {
    (0..d.min(t)).map(|r| (t - r).div_ceil(d).div_ceil(M)).sum()
}

/// Whether a 3-tap convolution of `cin → cout` channels (stride 1, padding = dilation) can
/// take this path here: decided once, when the layer is built.
pub(crate) fn fits(cin: usize, cout: usize) -> bool {
    packed::available() && cout.is_multiple_of(MR) && cin * cout <= MAX_CHANNEL_PRODUCT
}

/// Whether an input of `t` samples at dilation `d` is long enough for the path to pay.
pub(crate) fn pays(t: usize, d: usize) -> bool {
    tiles(t, d) >= MIN_TILES
}

/// [`fits`] and [`pays`].
#[cfg(test)]
pub(crate) fn applies(cin: usize, cout: usize, t: usize, d: usize) -> bool {
    fits(cin, cout) && pays(t, d)
}

crate::kernels::simd::multiversion! {
    /// The input transforms of one panel of tiles (`NR` of them, those past `offs` zero):
    /// `v[p][j] = Σ_s Bᵀ[p][s]·span[offs[j] + d·s]`.
    fn forward_panel(span: &[f32], offs: &[usize], d: usize, v: &mut [[f32; NR]; P]) {
        let mut x = [[0f32; NR]; P];
        for (j, &o) in offs.iter().enumerate() {
            for (s, row) in x.iter_mut().enumerate() {
                row[j] = span[o + d * s];
            }
        }
        for (vp, bt) in v.iter_mut().zip(&BT) {
            *vp = [0.0; NR];
            for (xs, &c) in x.iter().zip(bt) {
                if c != 0.0 {
                    for (a, &b) in vp.iter_mut().zip(xs) {
                        *a += c * b;
                    }
                }
            }
        }
    }
}

crate::kernels::simd::multiversion! {
    /// The output transforms of one panel of tiles: the products `y[p·ld ..][..NR]` to the first
    /// `M` outputs of each tile, `res[offs[j] + d·i]`.
    fn inverse_panel(y: &[f32], ld: usize, offs: &[usize], d: usize, res: &mut [f32]) {
        let mut out = [[0f32; NR]; M];
        for (o, at) in out.iter_mut().zip(&AT) {
            for (p, &c) in at.iter().enumerate() {
                if c != 0.0 {
                    let yp = &y[p * ld..][..NR];
                    for (a, &b) in o.iter_mut().zip(yp) {
                        *a += c * b;
                    }
                }
            }
        }
        for (j, &o) in offs.iter().enumerate() {
            for (i, row) in out.iter().enumerate() {
                res[o + d * i] = row[j];
            }
        }
    }
}

/// One convolution's operands.
pub(crate) struct WinogradConv<'a> {
    /// `[cout, cin, 3]`.
    pub w: &'a [f32],
    pub cin: usize,
    pub cout: usize,
    pub dil: usize,
}

impl WinogradConv<'_> {
    /// `out [cout, t] += conv(pro(x [cin, tin]))` with zero padding of `pad` (`dil` or 0) on
    /// both sides, `t = tin + 2·pad − 2·dil` (the bias is the caller's). Needs [`fits`].
    /// Skips its remaining work once `cancel` is set.
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
        let (cin, cout, d) = (self.cin, self.cout, self.dil);
        assert!(pad <= d && tin + 2 * pad >= 2 * d);
        let t = tin + 2 * pad - 2 * d;
        assert_eq!(self.w.len(), cout * cin * 3);
        assert_eq!(x.len(), cin * tin);
        assert_eq!(out.len(), cout * t);
        assert!(packed::available() && cout.is_multiple_of(MR) && t > 0);
        let bufs = &*crate::conv::buffers();
        let mut kept = ConvBuffers::take(&bufs.transforms);
        let n = P * cout * cin;
        if kept.len() < n {
            // fresh zero pages rather than a fill
            kept = vec![0f32; n];
        }
        self.kernel_transforms(&mut kept[..n]);
        let u = &kept[..n];
        let out_ptr = SendPtr(out.as_mut_ptr());
        let tiling = Tiling {
            t,
            d,
            l: M,
            k: 3,
            tin,
            off: d - pad,
        };
        tiling.run(bufs, cancel, |qs, sc, par| {
            self.item(x, &tiling, pro, u, qs, sc, par, &out_ptr)
        });
        ConvBuffers::keep(&bufs.transforms, kept);
    }

    /// `U_p = G·g` for every channel pair, `[P × cout/MR × cin × MR]` ([`packed`]'s blocks).
    fn kernel_transforms(&self, u: &mut [f32]) {
        let (cin, cout) = (self.cin, self.cout);
        let up = SendPtr(u.as_mut_ptr());
        (0..cout / MR).into_par_iter().for_each(|ib| {
            let up = &up;
            for (p, gp) in G.iter().enumerate() {
                // SAFETY: block ib of point p, [cin × MR] at p·cout·cin + ib·cin·MR, lies inside
                // u (P·cout·cin floats) and is written by this block alone.
                let dst = unsafe {
                    std::slice::from_raw_parts_mut(
                        up.0.add(p * cout * cin + ib * cin * MR),
                        cin * MR,
                    )
                };
                let w = &self.w[ib * MR * cin * 3..][..MR * cin * 3];
                for (ci, d) in dst.chunks_exact_mut(MR).enumerate() {
                    for (r, v) in d.iter_mut().enumerate() {
                        let g = &w[(r * cin + ci) * 3..][..3];
                        *v = gp[0] * g[0] + gp[1] * g[1] + gp[2] * g[2];
                    }
                }
            }
        });
    }

    /// Tiles `qs` of every residue: outputs `d·M·qs.start ..` `d·M·qs.end` (those below `t`).
    #[allow(clippy::too_many_arguments)]
    fn item(
        &self,
        x: &[f32],
        tiling: &Tiling,
        pro: Option<&Prologue>,
        u: &[f32],
        qs: std::ops::Range<usize>,
        sc: &mut Scratch,
        par: bool,
        out: &SendPtr,
    ) {
        let (cin, cout, d, t) = (self.cin, self.cout, self.dil, tiling.tin);
        tiling.offsets(&qs, &mut sc.offs);
        let nbp = sc.offs.len().next_multiple_of(NR);
        let span = tiling.span(&qs);
        sc.x.resize(P * cin * nbp, 0.0);
        let xp = SendPtr(sc.x.as_mut_ptr());
        let offs = &sc.offs[..];
        let fill = |buf: &mut Vec<f32>, ci: usize| {
            let xp = &xp;
            span.fill(x, t, ci, pro, buf);
            let span = &buf[..];
            let mut v = [[0f32; NR]; P];
            for jb in 0..nbp / NR {
                let tiles = &offs[(jb * NR).min(offs.len())..((jb + 1) * NR).min(offs.len())];
                forward_panel(span, tiles, d, &mut v);
                for (p, vp) in v.iter().enumerate() {
                    // SAFETY: row ci of panel jb of point p lies inside V (P·cin·nbp floats);
                    // only channel ci writes it.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            vp.as_ptr(),
                            xp.0.add(p * cin * nbp + jb * cin * NR + ci * NR),
                            NR,
                        )
                    };
                }
            }
        };
        each(cin, par, &mut sc.row, fill);
        // Y [cout × P × nbp]: point p's product at row p of each channel.
        let ld = P * nbp;
        sc.y.resize(cout * ld, 0.0);
        let yp = SendPtr(sc.y.as_mut_ptr());
        let xs = &sc.x[..];
        let point = |p: usize| {
            let yp = &yp;
            // SAFETY: U_p and V_p are in packed's layouts inside u and X; C is the rows p·nbp
            // of Y, ld apart, written by this point alone; `add_into` checked the kernels run.
            unsafe {
                packed::gemm(
                    cout,
                    nbp,
                    cin,
                    u[p * cout * cin..][..cout * cin].as_ptr(),
                    xs[p * cin * nbp..][..cin * nbp].as_ptr(),
                    yp.0.add(p * nbp),
                    ld,
                )
            };
        };
        if par {
            (0..P).into_par_iter().with_min_len(1).for_each(point);
        } else {
            (0..P).for_each(point);
        }
        let ys = &sc.y[..];
        each(cout, par, &mut sc.row, |res, co| {
            res.resize(d * qs.len() * M, 0.0);
            for jb in 0..nbp / NR {
                let tiles = &offs[(jb * NR).min(offs.len())..((jb + 1) * NR).min(offs.len())];
                inverse_panel(&ys[co * ld + jb * NR..], nbp, tiles, d, res);
            }
            // SAFETY: only this item, and in it only this channel, writes row co's range.
            unsafe { tiling.add_row(out, co, &qs, res) };
        });
    }
}
