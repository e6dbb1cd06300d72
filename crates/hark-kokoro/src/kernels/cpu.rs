//! Run-time CPU feature levels: what this CPU has, and which level the model's kernels use.
//!
//! Every hand-written loop ([`crate::kernels::simd`]'s `multiversion!`) and the `gemm` matrix
//! kernels ([`crate::kernels::matmul`]) dispatch on [`level`]: the level of the model whose
//! thread pool runs the calling thread (chosen in its [`crate::Compute`]), or the best level
//! the CPU supports on any other thread. A lower level than the CPU's best runs the narrower
//! code paths that other machines take.

use std::cell::Cell;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Threads the calling code's parallel parts use: those of the rayon pool it runs on (a model's
/// own pool inside its calls).
pub fn threads() -> usize {
    rayon::current_num_threads().max(1)
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

thread_local! {
    /// The level of the model whose pool runs this thread ([`enter`]).
    static LEVEL: Cell<Option<CpuLevel>> = const { Cell::new(None) };
}

/// The level the kernels use on this thread: its model's, else the detected one.
#[inline]
pub fn level() -> CpuLevel {
    LEVEL.with(Cell::get).unwrap_or_else(default_level)
}

/// The level of a thread that belongs to no model: the best one. (The crate's own unit tests
/// take `HARK_CPU` here, as the shells do for a model, so that scripts/test-compute.sh runs
/// them at every level.)
#[cold]
fn default_level() -> CpuLevel {
    #[cfg(test)]
    if let Some(l) = std::env::var("HARK_CPU")
        .ok()
        .filter(|v| !v.is_empty() && v != "auto")
    {
        return l.parse().and_then(check).expect("HARK_CPU");
    }
    detected()
}

/// Makes `l` the level of every later kernel call on this thread (a model's pool threads, as
/// they start).
pub(crate) fn enter(l: CpuLevel) {
    LEVEL.with(|c| c.set(Some(l)));
}

/// `l` if this CPU can run it, else an error naming what it has.
pub fn check(l: CpuLevel) -> Result<CpuLevel> {
    if supports(detected(), l) {
        Ok(l)
    } else {
        Err(Error::Compute(format!(
            "this CPU cannot run {l} code (it has {})",
            detected()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        for l in [
            CpuLevel::Scalar,
            CpuLevel::Neon,
            CpuLevel::Avx2,
            CpuLevel::Avx512,
        ] {
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
