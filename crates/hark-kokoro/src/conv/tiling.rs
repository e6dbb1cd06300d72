//! What the DFT ([`crate::conv::fftconv`]) and Winograd ([`crate::conv::winograd`])
//! convolutions share: how an input is cut into tiles and work items, the work items' buffers,
//! and the buffers kept from one call to the next ([`ConvBuffers`]).

use std::sync::Mutex;

use rayon::prelude::*;

use crate::kernels::ops::{Prologue, SendPtr};
use crate::kernels::pass::Cancel;

/// Tiles per work item: bigger items make bigger products, smaller ones spread over threads.
const TILES_PER_ITEM: usize = 128;

/// Buffers the convolutions keep from one call to the next, so that the next call on a short
/// input (a stream's first windows) does not pay for fresh pages: the DFT kernels' spectra,
/// Winograd's kernel transforms, and the work buffers of finished work items (one per thread
/// at most), sized once per stage rather than allocated and cleared for every item. Whoever
/// runs convolutions of one size drops them with [`clear`](Self::clear) when done (the
/// generator, once per stage). A lock that another thread panicked holding is taken anyway:
/// the buffers carry no state between calls.
#[derive(Default)]
pub(crate) struct ConvBuffers {
    /// The DFT kernels' spectra of the last call.
    pub(crate) spectra: Mutex<Vec<f32>>,
    /// Winograd's kernel transforms of the last call.
    pub(crate) transforms: Mutex<Vec<f32>>,
    /// Work buffers of finished work items.
    items: Mutex<Vec<Scratch>>,
}

impl ConvBuffers {
    /// No buffers kept.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Takes the buffer kept in `slot`, leaving it empty.
    pub(crate) fn take(slot: &Mutex<Vec<f32>>) -> Vec<f32> {
        std::mem::take(&mut *slot.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Keeps `buf` in `slot` for the next call, unless a bigger one is already kept.
    pub(crate) fn keep(slot: &Mutex<Vec<f32>>, buf: Vec<f32>) {
        let mut kept = slot.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < buf.len() {
            *kept = buf;
        }
    }

    /// A work item's buffers, given back when dropped.
    fn scratch(&self) -> Pooled<'_> {
        let mut pool = self.items.lock().unwrap_or_else(|e| e.into_inner());
        Pooled(pool.pop().unwrap_or_default(), self)
    }

    /// Drops every kept buffer.
    pub(crate) fn clear(&self) {
        drop(Self::take(&self.spectra));
        drop(Self::take(&self.transforms));
        drop(std::mem::take(
            &mut *self.items.lock().unwrap_or_else(|e| e.into_inner()),
        ));
    }
}

/// Clears a [`ConvBuffers`] when dropped (also when its owner's work ends early).
pub(crate) struct ClearOnDrop<'a>(pub(crate) &'a ConvBuffers);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.clear();
    }
}

/// A [`Scratch`] taken from a [`ConvBuffers`], given back when dropped.
struct Pooled<'a>(Scratch, &'a ConvBuffers);

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut pool = self.1.items.lock().unwrap_or_else(|e| e.into_inner());
        pool.push(std::mem::take(&mut self.0));
    }
}

/// One work item's buffers (the DFT's spectra, or Winograd's transformed points).
#[derive(Default)]
pub(crate) struct Scratch {
    /// The inputs' transforms: `[cin × ROWS·B × nbp]`, or in the packed kernels' panels.
    pub(crate) x: Vec<f32>,
    /// The products, `[cout × ROWS·B × nbp]`.
    pub(crate) y: Vec<f32>,
    /// The item's tiles: where each starts in the item's span of the input, and in its output.
    pub(crate) offs: Vec<usize>,
    /// One channel's span of the input, or of the output (serial phases only).
    pub(crate) row: Vec<f32>,
}

/// Runs `f(row_buffer, i)` for `i < n`, across the pool with `par`.
pub(crate) fn each(
    n: usize,
    par: bool,
    row: &mut Vec<f32>,
    f: impl Fn(&mut Vec<f32>, usize) + Sync + Send,
) {
    if par {
        (0..n)
            .into_par_iter()
            .with_min_len(8)
            .for_each_init(Vec::new, |buf, i| f(buf, i));
    } else {
        (0..n).for_each(|i| f(row, i));
    }
}

/// How a "same" convolution (stride 1, `k` taps at dilation `d`) of an input of `t` samples
/// is cut into tiles of `l` outputs and work items (the DFT's and Winograd's). Tile
/// `(r, q)` of residue `r` covers the outputs `d·(q·l + i) + r`, `i < l`, and reads the inputs
/// from `d·(q·l − h) + r`, `h = (k − 1)/2`. Work items are blocks of the output, `d·l·m` samples
/// each: tiles `q0..q0+m` of every residue (the subsequences `x[d·v + r]`), so that an item
/// reads one contiguous span of the input and writes one contiguous range of the output.
#[derive(Clone, Copy)]
pub(crate) struct Tiling {
    /// Outputs.
    pub t: usize,
    pub d: usize,
    pub l: usize,
    pub k: usize,
    /// Samples of the input `x`, and where in it output 0's centre tap sits minus `d·(k−1)/2`:
    /// a "same" convolution has `tin = t, off = 0`; a "valid" one (no padding, the neighbours
    /// are real samples) `tin = t + d·(k−1), off = d·(k−1)/2`.
    pub tin: usize,
    pub off: usize,
}

impl Tiling {
    /// Runs `item(tiles, scratch, par)` for every work item (`tiles`: its range of `q`), across
    /// the pool when there are enough items, otherwise one by one with `par` (the item spreads
    /// its own phases); the remaining items are skipped once `cancel` is set.
    pub(crate) fn run(
        &self,
        bufs: &ConvBuffers,
        cancel: Cancel,
        item: impl Fn(std::ops::Range<usize>, &mut Scratch, bool) + Sync,
    ) {
        let per_residue = self.t.div_ceil(self.d).div_ceil(self.l);
        let m = (TILES_PER_ITEM / self.d).max(1);
        let items: Vec<(usize, usize)> = (0..per_residue)
            .step_by(m)
            .map(|q0| (q0, (q0 + m).min(per_residue)))
            .collect();
        let run = |&(q0, q1): &(usize, usize), sc: &mut Scratch, par: bool| {
            if !cancel.is_set() {
                item(q0..q1, sc, par);
            }
        };
        if items.len() >= 2 * crate::kernels::cpu::threads() {
            items
                .par_iter()
                .with_min_len(1)
                .for_each_init(|| bufs.scratch(), |sc, it| run(it, &mut sc.0, false));
        } else {
            let mut sc = bufs.scratch();
            for it in &items {
                run(it, &mut sc.0, true);
            }
        }
    }

    /// The tiles of item `qs`, each as where it starts, both in the item's input span (its
    /// first input) and in the item's output (its first output): the span starts `d·h` before
    /// the outputs.
    pub(crate) fn offsets(&self, qs: &std::ops::Range<usize>, offs: &mut Vec<usize>) {
        let (t, d, l) = (self.t, self.d, self.l);
        offs.clear();
        for q in qs.clone() {
            for r in 0..d.min(t) {
                if q * l < (t - r).div_ceil(d) {
                    offs.push(d * (q - qs.start) * l + r);
                }
            }
        }
    }

    /// The input span item `qs` reads.
    pub(crate) fn span(&self, qs: &std::ops::Range<usize>) -> Span {
        let (t, d, l, k) = (self.t, self.d, self.l, self.k);
        let _ = t;
        let s0 =
            d as isize * (qs.start * l) as isize - (d * ((k - 1) / 2)) as isize + self.off as isize;
        let len = d * (qs.len() * l + k - 1);
        Span {
            s0,
            len,
            lo: (-s0).clamp(0, len as isize) as usize,
            hi: (self.tin as isize - s0).clamp(0, len as isize) as usize,
        }
    }

    /// Adds an item's outputs `res` (from its first, `d·l·qs.start`; those below `t`) into row
    /// `co` of `out [cout, t]`.
    ///
    /// # Safety
    /// `out` is valid for row `co`, and no other thread writes that row's range of this item.
    pub(crate) unsafe fn add_row(
        &self,
        out: &SendPtr,
        co: usize,
        qs: &std::ops::Range<usize>,
        res: &[f32],
    ) {
        let (t, d, l) = (self.t, self.d, self.l);
        let t0 = d * qs.start * l;
        let len = (d * qs.len() * l).min(t - t0);
        // SAFETY: t0 + len ≤ t, so the range is inside row co of out (the caller's part).
        let dst = unsafe { std::slice::from_raw_parts_mut(out.0.add(co * t + t0), len) };
        for (a, b) in dst.iter_mut().zip(&res[..len]) {
            *a += b;
        }
    }
}

/// A work item's span of the input: `len` samples from `s0`, of which `lo..hi` lie inside it.
pub(crate) struct Span {
    s0: isize,
    len: usize,
    lo: usize,
    hi: usize,
}

impl Span {
    /// Channel `ci` of `x [cin, t]` over the span into `buf`, through `pro`, zero outside the
    /// input.
    pub(crate) fn fill(
        &self,
        x: &[f32],
        t: usize,
        ci: usize,
        pro: Option<&Prologue>,
        buf: &mut Vec<f32>,
    ) {
        let (lo, hi) = (self.lo, self.hi);
        buf.resize(self.len, 0.0);
        buf[..lo.min(hi)].fill(0.0);
        buf[hi.max(lo)..].fill(0.0);
        if hi > lo {
            let first = (self.s0 + lo as isize) as usize;
            let src = &x[ci * t + first..ci * t + first + (hi - lo)];
            match pro {
                Some(p) => p.apply_row(ci, src, &mut buf[lo..hi]),
                None => buf[lo..hi].copy_from_slice(src),
            }
        }
    }
}
