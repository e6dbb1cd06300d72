//! Run-time CPU dispatch for the hand-written elementwise loops (on [`crate::kernels::cpu::level`]), and
//! vectorizable `sin²` (Snake), `exp`, `tanh` and sigmoid (GELU, LSTM gates).

/// Defines `fn name(args)` whose body is compiled three times on x86-64 (AVX-512, AVX2+FMA,
/// baseline) and picked at run time from [`crate::kernels::cpu::level`] (on AArch64, NEON is the
/// baseline). The body must be safe code.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn v512($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn v256($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                match $crate::kernels::cpu::level() {
                    // SAFETY: the CPU supports the enabled features (checked at run time).
                    $crate::kernels::cpu::CpuLevel::Avx512 => return unsafe { v512($($arg),*) },
                    // SAFETY: as above, for AVX2 and FMA.
                    $crate::kernels::cpu::CpuLevel::Avx2 => return unsafe { v256($($arg),*) },
                    _ => {}
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// 1.5·2^23: adding it rounds an f32 of magnitude < 2^22 to an integer, which then sits in the
/// low mantissa bits of the sum (read with `to_bits`, no float → int conversion, so loops
/// vectorize).
const ROUND: f32 = 12_582_912.0;

/// Largest |x| for which [`sin2_fast`] keeps f32 accuracy (Cody–Waite reduction).
pub(crate) const SIN_FAST_LIMIT: f32 = 8192.0;

/// `sin²(x)` for |x| ≤ [`SIN_FAST_LIMIT`], within ~3e-7 absolute; branch-free so loops
/// vectorize. A Cody–Waite reduction to |r| ≤ π/4 and one sine polynomial: in the odd quadrants
/// the square of the cosine, one minus that of the sine.
#[inline(always)]
pub(crate) fn sin2_fast(x: f32) -> f32 {
    const FRAC_2_PI: f32 = std::f32::consts::FRAC_2_PI;
    const P1: f32 = 1.570_312_5;
    const P2: f32 = 4.837_513e-4;
    const P3: f32 = 7.549_79e-8;
    let y = x * FRAC_2_PI + ROUND;
    // the quadrant, from y's low mantissa bits
    let q = y.to_bits();
    let jf = y - ROUND;
    let r = ((x - jf * P1) - jf * P2) - jf * P3;
    let r2 = r * r;
    let s = r + r * r2 * (-1.666_665_5e-1 + r2 * (8.332_161e-3 + r2 * -1.951_529_6e-4));
    let s2 = s * s;
    // odd quadrants: the cosine of r
    if q & 1 == 0 {
        s2
    } else {
        1.0 - s2
    }
}

/// `exp(x)` within ~2 ulp for x in [-87, 88] (clamped outside, so never inf or NaN for finite
/// input); branch-free so loops vectorize.
#[inline(always)]
pub(crate) fn exp_fast(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that n·LN2_HI is exact for |n| < 2^9.
    const LN2_HI: f32 = 0.693_359_4; // 355/512, exact
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let y = x * LOG2E + ROUND;
    let nf = y - ROUND;
    // n = round(x·log2 e), from y's low mantissa bits
    let n = y.to_bits().wrapping_sub(ROUND.to_bits());
    let r = (x - nf * LN2_HI) - nf * LN2_LO;
    // Taylor series of e^r on |r| ≤ ln2/2, to r^7 (truncation < 1e-8 relative).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let scale = f32::from_bits(n.wrapping_add(127) << 23);
    p * scale
}

/// `tanh(x)` within ~2e-7 absolute; branch-free.
#[inline(always)]
pub(crate) fn tanh_fast(x: f32) -> f32 {
    // tanh|x| = 1 − 2/(e^{2|x|} + 1); saturates to exactly 1 from |x| ≈ 9.
    let e = exp_fast(2.0 * x.abs());
    (1.0 - 2.0 / (e + 1.0)).copysign(x)
}

/// `1 / (1 + e^{−x})` within ~1e-7 absolute; branch-free.
#[inline(always)]
pub(crate) fn sigmoid_fast(x: f32) -> f32 {
    1.0 / (1.0 + exp_fast(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arguments from −span to span, stepping `step` plus 0–6 times `jitter`, plus the edges,
    /// zero and tiny values.
    fn sweep(span: f32, step: f32, jitter: f32) -> impl Iterator<Item = f32> {
        let mut i = 0u64;
        let mut x = -span;
        std::iter::from_fn(move || {
            if x > span {
                return None;
            }
            let v = x;
            i += 1;
            x += step + (i % 7) as f32 * jitter;
            Some(v)
        })
        .chain([0.0, -0.0, 1e-30, -1e-30, span, -span])
    }

    #[test]
    fn exp_fast_is_accurate() {
        let mut worst = 0f64;
        for x in sweep(87.0, 0.00137, 1e-5) {
            let want = (x as f64).exp();
            worst = worst.max(((exp_fast(x) as f64 - want) / want).abs());
        }
        assert!(worst < 3e-7, "max relative error {worst}");
        assert_eq!(exp_fast(-1e4), (-87f64).exp() as f32);
        assert!(exp_fast(1e4).is_finite() && exp_fast(1e4) > 1e38);
    }

    #[test]
    fn tanh_and_sigmoid_fast_are_accurate() {
        let (mut wt, mut ws) = (0f64, 0f64);
        for x in sweep(30.0, 0.00137, 1e-5) {
            let xd = x as f64;
            wt = wt.max((tanh_fast(x) as f64 - xd.tanh()).abs());
            ws = ws.max((sigmoid_fast(x) as f64 - 1.0 / (1.0 + (-xd).exp())).abs());
        }
        assert!(wt < 3e-7, "tanh max abs error {wt}");
        assert!(ws < 2e-7, "sigmoid max abs error {ws}");
        assert_eq!(tanh_fast(1e4), 1.0);
        assert_eq!(tanh_fast(-1e4), -1.0);
        assert!(sigmoid_fast(-1e4) < 1e-37 && sigmoid_fast(1e4) == 1.0);
    }

    #[test]
    fn sin2_fast_is_accurate() {
        let mut worst = 0f64;
        for x in sweep(SIN_FAST_LIMIT, 0.0137, 1e-4) {
            let want = (x as f64).sin().powi(2);
            worst = worst.max((sin2_fast(x) as f64 - want).abs());
        }
        assert!(worst < 1e-6, "max abs error {worst}");
    }
}
