//! Run-time CPU feature levels: what this CPU has, and which level the model's kernels use.
//!
//! Every hand-written loop ([`crate::kernels::simd`]'s `multiversion!`) and the `gemm` matrix kernels
//! ([`crate::kernels::matmul`]) dispatch on [`level`]. It starts as the best level the CPU supports;
//! `HARK_CPU` (`auto`, `avx512`, `avx2`, `scalar`, `neon`) or [`set_level`] lowers it, so the
//! narrower code paths that other machines run can be run and tested on a wider CPU.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Threads the model's parallel parts use: those of the current rayon pool (a caller can run
/// the model inside a smaller [`rayon::ThreadPool`], or size the global one with
/// [`init_threads`]).
pub fn threads() -> usize {
    rayon::current_num_threads().max(1)
}

/// Sizes the global thread pool the model runs on (`None`: one thread per core) and names its
/// threads `hark-model-N`. Only the first call (or first use of the pool) decides; `false` if the
/// pool already existed.
pub fn init_threads(n: Option<usize>) -> bool {
    let mut b = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("hark-model-{i}"));
    if let Some(n) = n {
        b = b.num_threads(n.max(1));
    }
    b.build_global().is_ok()
}

/// A family of vector instructions the kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum CpuLevel {
    /// No explicit vector code beyond the target's baseline (SSE2 on x86-64).
    Scalar,
    /// AArch64 Advanced SIMD (every Apple Silicon Mac).
    Neon,
    /// AVX2 with FMA (x86-64-v3).
    Avx2,
    /// AVX-512F on top of AVX2 + FMA (x86-64-v4).
    Avx512,
}

impl CpuLevel {
    /// The name used by `HARK_CPU` and `hark bench` (`cpu_level`).
    pub fn name(self) -> &'static str {
        match self {
            CpuLevel::Scalar => "scalar",
            CpuLevel::Neon => "neon",
            CpuLevel::Avx2 => "avx2",
            CpuLevel::Avx512 => "avx512",
        }
    }
}

impl std::fmt::Display for CpuLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CpuLevel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" | "baseline" => Ok(CpuLevel::Scalar),
            "neon" => Ok(CpuLevel::Neon),
            "avx2" => Ok(CpuLevel::Avx2),
            "avx512" | "avx-512" => Ok(CpuLevel::Avx512),
            other => Err(Error::Compute(format!(
                "unknown CPU level {other:?} (auto, avx512, avx2, neon, scalar)"
            ))),
        }
    }
}

/// The best level this CPU supports.
pub fn detected() -> CpuLevel {
    static DETECTED: OnceLock<CpuLevel> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
            if avx2 && is_x86_feature_detected!("avx512f") {
                return CpuLevel::Avx512;
            }
            if avx2 {
                return CpuLevel::Avx2;
            }
        }
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("neon") {
            return CpuLevel::Neon;
        }
        CpuLevel::Scalar
    })
}

/// Every level this CPU can run, best first.
pub fn supported_levels() -> Vec<CpuLevel> {
    let best = detected();
    [
        CpuLevel::Avx512,
        CpuLevel::Avx2,
        CpuLevel::Neon,
        CpuLevel::Scalar,
    ]
    .into_iter()
    .filter(|&l| supports(best, l))
    .collect()
}

/// Whether a CPU whose best level is `best` can run `l`.
fn supports(best: CpuLevel, l: CpuLevel) -> bool {
    match l {
        CpuLevel::Scalar => true,
        CpuLevel::Neon => best == CpuLevel::Neon,
        CpuLevel::Avx2 | CpuLevel::Avx512 => {
            matches!(best, CpuLevel::Avx2 | CpuLevel::Avx512) && l <= best
        }
    }
}

const UNSET: u8 = u8::MAX;
static LEVEL: AtomicU8 = AtomicU8::new(UNSET);
const LEVELS: [CpuLevel; 4] = [
    CpuLevel::Scalar,
    CpuLevel::Neon,
    CpuLevel::Avx2,
    CpuLevel::Avx512,
];

/// The level the kernels use now: on first use the detected one, lowered by `HARK_CPU`.
#[inline]
pub fn level() -> CpuLevel {
    match LEVEL.load(Ordering::Relaxed) {
        UNSET => init(),
        i => LEVELS[i as usize],
    }
}

#[cold]
fn init() -> CpuLevel {
    let l = match std::env::var("HARK_CPU") {
        Ok(v) if !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("auto") => {
            match v.parse().and_then(check) {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "HARK_CPU ignored");
                    detected()
                }
            }
        }
        _ => detected(),
    };
    store(l);
    l
}

fn check(l: CpuLevel) -> Result<CpuLevel> {
    if supports(detected(), l) {
        Ok(l)
    } else {
        Err(Error::Compute(format!(
            "this CPU cannot run {l} code (it has {})",
            detected()
        )))
    }
}

fn store(l: CpuLevel) {
    let i = LEVELS.iter().position(|x| *x == l).unwrap_or(0);
    LEVEL.store(i as u8, Ordering::Relaxed);
}

/// Makes every later kernel call use `l` (`None`: the detected level). An error if the CPU
/// cannot run `l`.
pub fn set_level(l: Option<CpuLevel>) -> Result<CpuLevel> {
    let l = match l {
        Some(l) => check(l)?,
        None => detected(),
    };
    store(l);
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        for l in LEVELS {
            assert_eq!(l.name().parse::<CpuLevel>().unwrap(), l);
        }
        assert!("sse9".parse::<CpuLevel>().is_err());
        assert!(supports(CpuLevel::Avx512, CpuLevel::Avx2));
        assert!(!supports(CpuLevel::Avx2, CpuLevel::Avx512));
        assert!(!supports(CpuLevel::Avx512, CpuLevel::Neon));
        assert!(supports(CpuLevel::Neon, CpuLevel::Scalar));
        let all = supported_levels();
        assert_eq!(all[0], detected());
        assert_eq!(*all.last().unwrap(), CpuLevel::Scalar);
    }

    #[test]
    fn a_level_the_cpu_lacks_is_refused() {
        let missing = if cfg!(target_arch = "aarch64") {
            CpuLevel::Avx2
        } else {
            CpuLevel::Neon
        };
        assert!(check(missing).is_err());
        assert_eq!(check(CpuLevel::Scalar).unwrap(), CpuLevel::Scalar);
    }
}
