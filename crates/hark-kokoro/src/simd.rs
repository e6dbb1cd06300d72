//! Run-time CPU feature dispatch for the hand-written elementwise loops, and a vectorizable
//! `sin` for the Snake activation.

/// 2 = AVX-512F (+AVX2/FMA), 1 = AVX2 + FMA, 0 = baseline.
#[cfg(target_arch = "x86_64")]
pub(crate) fn level() -> u8 {
    use std::sync::OnceLock;
    static LEVEL: OnceLock<u8> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        if avx2 && is_x86_feature_detected!("avx512f") {
            2
        } else if avx2 {
            1
        } else {
            0
        }
    })
}

/// Defines `fn name(args)` whose body is compiled three times (AVX-512, AVX2+FMA, baseline) and
/// picked at run time. The body must be safe code.
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
                match $crate::simd::level() {
                    // SAFETY: the CPU supports the enabled features (checked at run time).
                    2 => return unsafe { v512($($arg),*) },
                    1 => return unsafe { v256($($arg),*) },
                    _ => {}
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// Largest |x| for which [`sin_fast`] keeps f32 accuracy (Cody–Waite reduction).
pub(crate) const SIN_FAST_LIMIT: f32 = 8192.0;

/// `sin(x)` for |x| ≤ [`SIN_FAST_LIMIT`], within ~2 ulp; branch-free so loops vectorize.
#[inline(always)]
pub(crate) fn sin_fast(x: f32) -> f32 {
    const FRAC_2_PI: f32 = std::f32::consts::FRAC_2_PI;
    const P1: f32 = 1.570_312_5;
    const P2: f32 = 4.837_513e-4;
    const P3: f32 = 7.549_79e-8;
    const ROUND: f32 = 12_582_912.0; // 1.5·2^23
    let jf = (x * FRAC_2_PI + ROUND) - ROUND;
    let q = jf as i32;
    let r = ((x - jf * P1) - jf * P2) - jf * P3;
    let r2 = r * r;
    let s = r + r * r2 * (-1.666_665_5e-1 + r2 * (8.332_161e-3 + r2 * -1.951_529_6e-4));
    let c =
        1.0 - 0.5 * r2 + r2 * r2 * (4.166_664_6e-2 + r2 * (-1.388_731_6e-3 + r2 * 2.443_315_7e-5));
    let v = if q & 1 == 0 { s } else { c };
    if q & 2 == 0 {
        v
    } else {
        -v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_fast_is_accurate() {
        let mut worst = 0f64;
        let mut i = 0u64;
        let mut x = -SIN_FAST_LIMIT;
        while x <= SIN_FAST_LIMIT {
            let want = (x as f64).sin();
            let err = (sin_fast(x) as f64 - want).abs();
            worst = worst.max(err);
            i += 1;
            x += 0.0137 + (i % 7) as f32 * 1e-4;
        }
        assert!(worst < 1e-6, "max abs error {worst}");
    }
}
