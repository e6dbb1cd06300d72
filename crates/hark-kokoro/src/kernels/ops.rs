//! Elementwise and reduction kernels on flat row-major `f32` slices, with no weights of their
//! own: the fused per-channel transform of a convolution's input ([`Prologue`]: AdaIN affine then
//! LeakyReLU or Snake), InstanceNorm/LayerNorm statistics, activations and a transpose. Their
//! loops dispatch on the CPU's vector unit at run time (`multiversion!`).
//!
//! Layout convention: activations are `[C, T]` (channels first, time contiguous) unless a
//! function says `[T, C]`.

use rayon::prelude::*;

use crate::kernels::simd::{multiversion, sin2_fast, SIN_FAST_LIMIT};

/// A raw pointer that may cross threads; users guarantee disjoint writes.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr(pub *mut f32);
// SAFETY: only used to write disjoint regions from rayon tasks that are joined before the
// owning buffer is touched again.
unsafe impl Send for SendPtr {}
// SAFETY: shared between those tasks only to write the disjoint regions each one owns.
unsafe impl Sync for SendPtr {}

/// Returns freed heap pages to the OS (glibc keeps up to tens of MB of freed medium-sized
/// buffers resident otherwise). Only reduces the resident set; no effect on values.
pub(crate) fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps the allocator's arenas at two (glibc only; a no-op elsewhere). glibc gives threads
/// their own arenas, up to eight per core, and a buffer freed in one arena is not reused by
/// another: with the engine's threads around the model that kept about 40 MB more resident at
/// the peak of `hark bench`. Call once at the start of `main`, before threads exist.
pub fn limit_heap_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; M_ARENA_MAX takes any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Per-channel activation applied after the affine part of a [`Prologue`].
#[derive(Clone, Copy)]
pub(crate) enum Act<'a> {
    #[cfg_attr(not(test), allow(dead_code))]
    None,
    Leaky(f32),
    /// Snake with per-channel alpha: `x + sin²(αx)/α`.
    Snake(&'a [f32]),
}

/// A per-channel transform `act(scale[c]·x + shift[c])` applied to a convolution's input on
/// the fly (AdaIN/InstanceNorm affine + activation fused into the im2col gather).
#[derive(Clone, Copy)]
pub(crate) struct Prologue<'a> {
    pub scale: &'a [f32],
    pub shift: &'a [f32],
    pub act: Act<'a>,
}

impl Prologue<'_> {
    /// Applies the transform of channel `c` to `src`, writing `dst`.
    #[inline]
    pub(crate) fn apply_row(&self, c: usize, src: &[f32], dst: &mut [f32]) {
        let (a, b) = (self.scale[c], self.shift[c]);
        match self.act {
            Act::None => affine_row(a, b, src, dst),
            Act::Leaky(slope) => leaky_row(a, b, slope, src, dst),
            Act::Snake(alpha) => {
                let al = alpha[c];
                if !snake_row(a, b, al, src, dst) {
                    snake_row_exact(a, b, al, src, dst);
                }
            }
        }
    }

    /// In-place over a whole `[C, T]` buffer.
    pub(crate) fn apply_inplace(&self, x: &mut [f32], t: usize) {
        if t == 0 {
            return;
        }
        x.par_chunks_mut(t)
            .enumerate()
            .for_each(|(c, row)| self.apply_inplace_row(c, row));
    }

    /// The transform of channel `c`, in place over `row`.
    pub(crate) fn apply_inplace_row(&self, c: usize, row: &mut [f32]) {
        // Through a small stack copy per block: no allocation, and the exact Snake fallback
        // still has the block's input.
        const BLOCK: usize = 256;
        let mut src = [0f32; BLOCK];
        for part in row.chunks_mut(BLOCK) {
            let src = &mut src[..part.len()];
            src.copy_from_slice(part);
            self.apply_row(c, src, part);
        }
    }
}

multiversion! {
    fn affine_row(a: f32, b: f32, src: &[f32], dst: &mut [f32]) {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = a * s + b;
        }
    }
}

multiversion! {
    fn leaky_row(a: f32, b: f32, slope: f32, src: &[f32], dst: &mut [f32]) {
        for (d, s) in dst.iter_mut().zip(src) {
            let v = a * s + b;
            *d = if v >= 0.0 { v } else { v * slope };
        }
    }
}

multiversion! {
    /// Snake after the affine map; `false` if some α·v was outside the fast sine's range (or
    /// NaN), so the caller redoes the row exactly. (A flag, not a float max: an integer OR
    /// reduction vectorizes.)
    fn snake_row(a: f32, b: f32, al: f32, src: &[f32], dst: &mut [f32]) -> bool {
        let inv = 1.0 / al;
        let mut out_of_range = 0u32;
        for (d, s) in dst.iter_mut().zip(src) {
            let v = a * s + b;
            let z = al * v;
            out_of_range |= u32::from((z.abs() > SIN_FAST_LIMIT) | z.is_nan());
            *d = v + inv * sin2_fast(z);
        }
        out_of_range == 0
    }
}

fn snake_row_exact(a: f32, b: f32, al: f32, src: &[f32], dst: &mut [f32]) {
    let inv = 1.0 / al;
    for (d, s) in dst.iter_mut().zip(src) {
        let v = a * s + b;
        let sn = (al * v).sin();
        *d = v + inv * (sn * sn);
    }
}

multiversion! {
    /// Mean of a row, accumulated in f64 over 8 independent lanes.
    fn row_mean(row: &[f32]) -> f64 {
        let mut acc = [0f64; 8];
        let mut it = row.chunks_exact(8);
        for ch in &mut it {
            for i in 0..8 {
                acc[i] += ch[i] as f64;
            }
        }
        let mut s: f64 = acc.iter().sum();
        for v in it.remainder() {
            s += *v as f64;
        }
        s / row.len().max(1) as f64
    }
}

multiversion! {
    /// Biased variance of a row about `mean`, in f64.
    fn row_var(row: &[f32], mean: f64) -> f64 {
        let mut acc = [0f64; 8];
        let mut it = row.chunks_exact(8);
        for ch in &mut it {
            for i in 0..8 {
                let d = ch[i] as f64 - mean;
                acc[i] += d * d;
            }
        }
        let mut s: f64 = acc.iter().sum();
        for v in it.remainder() {
            let d = *v as f64 - mean;
            s += d * d;
        }
        s / row.len().max(1) as f64
    }
}

/// Mean and biased variance of a row, in f64.
fn row_moments(row: &[f32]) -> (f64, f64) {
    let mean = row_mean(row);
    (mean, row_var(row, mean))
}

/// InstanceNorm statistics `(mean, 1/sqrt(var + eps))` from a mean and a biased variance.
pub(crate) fn norm_stat(mean: f64, var: f64, eps: f32) -> (f32, f32) {
    (mean as f32, (1.0 / (var + eps as f64).sqrt()) as f32)
}

/// Per-channel mean and 1/sqrt(var + eps) over time (InstanceNorm statistics, biased variance).
pub(crate) fn instance_stats(x: &[f32], t: usize, eps: f32) -> Vec<(f32, f32)> {
    x.par_chunks(t)
        .map(|row| {
            let (mean, var) = row_moments(row);
            norm_stat(mean, var, eps)
        })
        .collect()
}

/// Per-channel mean and biased variance over time, in f64.
pub(crate) fn instance_moments(x: &[f32], t: usize) -> Vec<(f64, f64)> {
    x.par_chunks(t).map(row_moments).collect()
}

/// AdaIN affine from statistics and a style projection `h = [γ | β]`:
/// `out = (1 + γ)(x − μ)·rstd + β = scale·x + shift`.
pub(crate) fn adain_affine(stats: &[(f32, f32)], gb: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let c = stats.len();
    assert_eq!(gb.len(), 2 * c);
    let mut scale = Vec::with_capacity(c);
    let mut shift = Vec::with_capacity(c);
    for (i, (mean, rstd)) in stats.iter().enumerate() {
        let s = (1.0 + gb[i]) * rstd;
        scale.push(s);
        shift.push(gb[c + i] - mean * s);
    }
    (scale, shift)
}

/// LayerNorm over the last axis of `[rows, c]` with optional affine (eps as given).
pub(crate) fn layer_norm_rows(
    x: &mut [f32],
    c: usize,
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    eps: f32,
) {
    x.par_chunks_mut(c).for_each(|row| {
        let n = c as f64;
        let mean = row.iter().map(|v| *v as f64).sum::<f64>() / n;
        let var = row
            .iter()
            .map(|v| {
                let d = *v as f64 - mean;
                d * d
            })
            .sum::<f64>()
            / n;
        let rstd = 1.0 / (var + eps as f64).sqrt();
        for (i, v) in row.iter_mut().enumerate() {
            let mut y = ((*v as f64 - mean) * rstd) as f32;
            if let Some(g) = gamma {
                y *= g[i];
            }
            if let Some(b) = beta {
                y += b[i];
            }
            *v = y;
        }
    });
}

pub(crate) fn leaky_relu_inplace(x: &mut [f32], slope: f32) {
    x.par_chunks_mut(1 << 14).for_each(|c| {
        for v in c {
            if *v < 0.0 {
                *v *= slope;
            }
        }
    });
}

/// `[r, c]` → `[c, r]`.
pub(crate) fn transpose(x: &[f32], r: usize, c: usize) -> Vec<f32> {
    assert_eq!(x.len(), r * c);
    let mut y = vec![0f32; r * c];
    const B: usize = 32;
    for i0 in (0..r).step_by(B) {
        for j0 in (0..c).step_by(B) {
            for i in i0..(i0 + B).min(r) {
                for j in j0..(j0 + B).min(c) {
                    y[j * r + i] = x[i * c + j];
                }
            }
        }
    }
    y
}
