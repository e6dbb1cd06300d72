//! Products whose operands the caller writes straight into the micro-kernel's panel layout
//! (the DFT convolutions' kernel spectra and input spectra, [`crate::conv::fftconv`]), on our own
//! AVX-512 and AVX2 micro-kernels: no packing pass, no clearing pass and no per-call set-up,
//! which for their many small products (`128 × 128 × 128`) cost a BLAS about a fifth of the
//! time. Where these kernels do not run ([`available`] is false: other CPUs, and Accelerate,
//! whose matrix unit the products should reach), callers use [`super::sgemm`] on plain
//! row-major operands.
//!
//! Layouts, for `C [m × n] = A [m × k] · B [k × n]`:
//! - `A` in blocks of [`MR`] rows: element `(i, p)` at `(i / MR)·k·MR + p·MR + i % MR`
//!   (`m` a multiple of [`MR`]);
//! - `B` in panels of [`NR`] columns: element `(p, j)` at `(j / NR)·k·NR + p·NR + j % NR`
//!   (`n` a multiple of [`NR`]);
//! - `C` row-major with row stride `ldc`, overwritten.

use crate::kernels::cpu::{self, CpuLevel};

/// Rows of `A` per block.
pub(crate) const MR: usize = 8;
/// Columns of `B` per panel.
pub(crate) const NR: usize = 32;

/// Whether [`gemm`] runs on this CPU level and backend.
pub(crate) fn available() -> bool {
    cfg!(target_arch = "x86_64")
        && cpu::level() >= CpuLevel::Avx2
        && super::backend() != super::Backend::Accelerate
}

/// `C = A·B` for operands in the module's layouts.
///
/// # Safety
/// [`available`] holds; `a` holds `m·k`, `b` `k·n` floats; `c` is valid for `m` rows of `n`
/// floats, `ldc` apart, and aliases neither.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
) {
    // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
    // the unsafe operations below rely on.
    unsafe {
        debug_assert!(available());
        gemm_on(cpu::level(), m, n, k, a, b, c, ldc)
    }
}

/// [`gemm`] at an explicit CPU level (tests).
///
/// # Safety
/// As [`gemm`]; the CPU supports `level`, which is AVX2 or AVX-512.
#[allow(clippy::too_many_arguments)]
// (elsewhere than x86-64 the block holds no unsafe operation)
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_unsafe))]
unsafe fn gemm_on(
    level: CpuLevel,
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
) {
    // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
    // the unsafe operations below rely on.
    unsafe {
        debug_assert!(m.is_multiple_of(MR) && n.is_multiple_of(NR) && level >= CpuLevel::Avx2);
        #[cfg(target_arch = "x86_64")]
        {
            let avx512 = level >= CpuLevel::Avx512;
            for jb in 0..n / NR {
                let bp = b.add(jb * k * NR);
                for ib in 0..m / MR {
                    let (ap, cp) = (a.add(ib * k * MR), c.add(ib * MR * ldc + jb * NR));
                    if avx512 {
                        x86::block512(k, ap, bp, cp, ldc, false);
                    } else {
                        x86::block256(k, ap, bp, cp, ldc, false);
                    }
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (level, m, n, k, a, b, c, ldc);
    }
}

/// Depth of the slices a [`gemm_acc`] product runs over at once: a panel's slice of `B`
/// (`KC × NR` floats, 32 KB) stays in the core's nearest caches while every block of `A`'s rows
/// passes over it.
const KC: usize = 256;

/// Whether this CPU could run the kernels at some level (the panels of [`pack_transposed`] are
/// worth making at load even when a lower level is forced for now).
pub(crate) fn supported() -> bool {
    cfg!(target_arch = "x86_64") && cpu::supported_levels().contains(&CpuLevel::Avx2)
}

/// `B = wᵀ` in panels, for a row-major `w [n × k]` (a linear layer's weight, `[d_out, d_in]`);
/// `n` a multiple of [`NR`].
pub(crate) fn pack_transposed(w: &[f32], n: usize, k: usize) -> Vec<f32> {
    assert!(n.is_multiple_of(NR) && w.len() == n * k);
    let mut out = vec![0f32; n * k];
    for (jb, panel) in out.chunks_exact_mut(k * NR).enumerate() {
        for (jr, row) in w[jb * NR * k..(jb + 1) * NR * k]
            .chunks_exact(k)
            .enumerate()
        {
            for (p, &v) in row.iter().enumerate() {
                panel[p * NR + jr] = v;
            }
        }
    }
    out
}

/// A row-major `x [m × k]` in blocks of [`MR`] rows, the rows past `m` up to the next multiple
/// of [`MR`] zero.
pub(crate) fn pack_rows(x: &[f32], m: usize, k: usize) -> Vec<f32> {
    assert!(x.len() == m * k);
    let mut out = vec![0f32; m.next_multiple_of(MR) * k];
    for (i, row) in x.chunks_exact(k).enumerate() {
        let block = &mut out[(i / MR) * k * MR..];
        for (p, &v) in row.iter().enumerate() {
            block[p * MR + i % MR] = v;
        }
    }
    out
}

/// `C += A·B` for `A` from [`pack_rows`] (`m` a multiple of [`MR`]) and `B` in panels (`n` a
/// multiple of [`NR`]), over depth slices of [`KC`]; with `par`, the panels are shared out over
/// the thread pool.
///
/// # Safety
/// As [`gemm`].
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_acc(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    par: bool,
) {
    // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
    // the unsafe operations below rely on.
    unsafe {
        debug_assert!(available() && m.is_multiple_of(MR) && n.is_multiple_of(NR));
        let level = cpu::level();
        let (a, b, c) = (
            super::Mat::rows(a, 0),
            super::Mat::rows(b, 0),
            super::MatMut::rows(c, 0),
        );
        // (the wrappers, taken whole, carry the pointers into the pool's tasks)
        fn src(m: &super::Mat) -> *const f32 {
            m.ptr
        }
        fn dst(m: &super::MatMut) -> *mut f32 {
            m.ptr
        }
        let panels = |range: std::ops::Range<usize>| {
            let (a, b, c) = (src(&a), src(&b), dst(&c));
            for p0 in (0..k).step_by(KC) {
                let kc = KC.min(k - p0);
                for jb in range.clone() {
                    let bp = b.add(jb * k * NR + p0 * NR);
                    for ib in 0..m / MR {
                        let (ap, cp) =
                            (a.add(ib * k * MR + p0 * MR), c.add(ib * MR * ldc + jb * NR));
                        block(level, kc, ap, bp, cp, ldc);
                    }
                }
            }
        };
        let threads = cpu::threads();
        let n_panels = n / NR;
        if !par || threads < 2 || n_panels < 2 {
            return panels(0..n_panels);
        }
        use rayon::prelude::*;
        let per = n_panels.div_ceil(threads);
        (0..n_panels.div_ceil(per))
            .into_par_iter()
            .for_each(|t| panels(t * per..((t + 1) * per).min(n_panels)));
    }
}

/// One `MR × NR` block, accumulated into `C`.
///
/// # Safety
/// As [`gemm_acc`]; the CPU runs `level` (AVX2 or above).
#[inline]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_unsafe))]
unsafe fn block(level: CpuLevel, k: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize) {
    // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
    // the unsafe operations below rely on.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            if level >= CpuLevel::Avx512 {
                x86::block512(k, a, b, c, ldc, true);
            } else {
                x86::block256(k, a, b, c, ldc, true);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (level, k, a, b, c, ldc);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{MR, NR};
    use std::arch::x86_64::*;

    /// One `MR × NR` block of `C` over all of `k`: `MR` rows of two 16-lane accumulators,
    /// starting from zero, or from `C` with `acc`.
    ///
    /// # Safety
    /// AVX-512F and FMA; the block's panels and output lie in their buffers.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn block512(
        k: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        acc: bool,
    ) {
        // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
        // the unsafe operations below rely on.
        unsafe {
            const { assert!(NR == 32) };
            let mut lo = [_mm512_setzero_ps(); MR];
            let mut hi = [_mm512_setzero_ps(); MR];
            if acc {
                for r in 0..MR {
                    lo[r] = _mm512_loadu_ps(c.add(r * ldc));
                    hi[r] = _mm512_loadu_ps(c.add(r * ldc + 16));
                }
            }
            for p in 0..k {
                let (b0, b1) = (
                    _mm512_loadu_ps(b.add(p * NR)),
                    _mm512_loadu_ps(b.add(p * NR + 16)),
                );
                for r in 0..MR {
                    let av = _mm512_set1_ps(*a.add(p * MR + r));
                    lo[r] = _mm512_fmadd_ps(av, b0, lo[r]);
                    hi[r] = _mm512_fmadd_ps(av, b1, hi[r]);
                }
            }
            for r in 0..MR {
                _mm512_storeu_ps(c.add(r * ldc), lo[r]);
                _mm512_storeu_ps(c.add(r * ldc + 16), hi[r]);
            }
        }
    }

    /// [`block512`] on AVX2 (16 vector registers): four quarters of `MR/2` rows by 16
    /// columns, each in eight 8-lane accumulators.
    ///
    /// # Safety
    /// AVX2 and FMA; as [`block512`].
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn block256(
        k: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        acc: bool,
    ) {
        // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
        // the unsafe operations below rely on.
        unsafe {
            const H: usize = MR / 2;
            for half in 0..2 {
                for rows in 0..2 {
                    let mut lo = [_mm256_setzero_ps(); H];
                    let mut hi = [_mm256_setzero_ps(); H];
                    let c = c.add(rows * H * ldc + half * 16);
                    if acc {
                        for r in 0..H {
                            lo[r] = _mm256_loadu_ps(c.add(r * ldc));
                            hi[r] = _mm256_loadu_ps(c.add(r * ldc + 8));
                        }
                    }
                    let (a, b) = (a.add(rows * H), b.add(half * 16));
                    for p in 0..k {
                        let (b0, b1) = (
                            _mm256_loadu_ps(b.add(p * NR)),
                            _mm256_loadu_ps(b.add(p * NR + 8)),
                        );
                        for r in 0..H {
                            let av = _mm256_set1_ps(*a.add(p * MR + r));
                            lo[r] = _mm256_fmadd_ps(av, b0, lo[r]);
                            hi[r] = _mm256_fmadd_ps(av, b1, hi[r]);
                        }
                    }
                    for r in 0..H {
                        _mm256_storeu_ps(c.add(r * ldc), lo[r]);
                        _mm256_storeu_ps(c.add(r * ldc + 8), hi[r]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel the CPU can run gives the plain product, for depths from 1 to past a
    /// block's and with an output row stride wider than `n`.
    #[test]
    fn packed_products_match_the_plain_one() {
        let levels: Vec<CpuLevel> = cpu::supported_levels()
            .into_iter()
            .filter(|&l| l >= CpuLevel::Avx2)
            .collect();
        if levels.is_empty() {
            eprintln!("no AVX2: the packed kernels do not run on this CPU");
            return;
        }
        for &(m, n, k) in &[(8, 32, 1), (16, 64, 37), (24, 96, 128), (8, 32, 300)] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| crate::kernels::noise::uniform_pm1(1, i as u64))
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| crate::kernels::noise::uniform_pm1(2, i as u64))
                .collect();
            let mut ap = vec![0f32; m * k];
            for i in 0..m {
                for p in 0..k {
                    ap[(i / MR) * k * MR + p * MR + i % MR] = a[i * k + p];
                }
            }
            let mut bp = vec![0f32; k * n];
            for p in 0..k {
                for j in 0..n {
                    bp[(j / NR) * k * NR + p * NR + j % NR] = b[p * n + j];
                }
            }
            let ldc = n + 5;
            for &level in &levels {
                let mut c = vec![f32::NAN; m * ldc];
                // SAFETY: the operands have the sizes the layouts need; the CPU runs `level`.
                unsafe {
                    gemm_on(
                        level,
                        m,
                        n,
                        k,
                        ap.as_ptr(),
                        bp.as_ptr(),
                        c.as_mut_ptr(),
                        ldc,
                    )
                };
                for i in 0..m {
                    for j in 0..n {
                        let want: f64 = (0..k)
                            .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                            .sum();
                        let got = c[i * ldc + j];
                        assert!(
                            (got as f64 - want).abs() < 1e-4 * (1.0 + want.abs()),
                            "{level} {m}×{n}×{k} at ({i}, {j}): {got} vs {want}"
                        );
                    }
                    // the row's slack past n is left alone
                    assert!(c[i * ldc + n..(i + 1) * ldc].iter().all(|v| v.is_nan()));
                }
            }
        }
    }
}
