//! The one seam every matrix product of the model goes through (ALBERT, the linear layers, the
//! LSTMs, and the convolutions done as GEMM), and the engines behind it.
//!
//! - [`Backend::Gemm`]: the pure-Rust `gemm` kernels (crates `gemm-common`/`gemm-f32`), with our
//!   own run-time CPU dispatch over their AVX-512, AVX2+FMA, NEON and scalar micro-kernels, so
//!   that a lower level can be forced on a CPU that has a higher one ([`crate::kernels::cpu`]). Builds
//!   and runs everywhere.
//! - [`Backend::OpenBlas`]: the system OpenBLAS (`cblas_sgemm`), loaded at run time with
//!   `dlopen` on Linux, so a machine without it still runs (on the `gemm` kernels). It runs one
//!   thread per call; large products are split over the rayon pool here, so the model's
//!   threading stays in one place ([`crate::threads`]).
//! - [`Backend::Accelerate`]: Apple's Accelerate framework (`cblas_sgemm`) on macOS, which
//!   reaches the matrix co-processor; always present there.
//!
//! One family of products does not take the seam where our own kernels run: the DFT
//! convolutions' per-bin channel mixing writes its operands straight into the panels of
//! `matmul::packed`'s AVX-512/AVX2 micro-kernels (no packing, clearing or set-up per call). With
//! Accelerate, and on CPUs below AVX2, it goes through the seam like everything else.
//!
//! The backend is the model's choice ([`crate::Compute::backend`]): the matrix products on the
//! threads of a model's pool run on its backend, those on any other thread on [`auto_backend`],
//! which picks Accelerate on macOS, otherwise OpenBLAS when it loads and its kernels cover the
//! CPU's widest vector unit, otherwise the `gemm` kernels.
//!
//! One setting is the process's, not a model's: OpenBLAS's own thread count, set to 1 once when
//! the library loads (its calls are split over the model's pool here instead).

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernels::cpu::{self, CpuLevel};

pub(crate) mod packed;

/// An engine behind [`sgemm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// The pure-Rust `gemm` kernels, dispatched on [`crate::kernels::cpu::level`].
    Gemm,
    /// The system OpenBLAS (Linux), loaded at run time.
    OpenBlas,
    /// Apple Accelerate (macOS).
    Accelerate,
}

impl Backend {
    /// Every backend, in order of preference.
    pub const ALL: [Backend; 3] = [Backend::Accelerate, Backend::OpenBlas, Backend::Gemm];

    /// The name used by `--gemm` (`HARK_GEMM`) and `hark bench` (`gemm_backend`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Gemm => "gemm",
            Backend::OpenBlas => "openblas",
            Backend::Accelerate => "accelerate",
        }
    }

    /// Whether this backend can run in this process (OpenBLAS: the library loads).
    pub fn is_available(self) -> bool {
        match self {
            Backend::Gemm => true,
            Backend::OpenBlas => cblas::openblas().is_some(),
            Backend::Accelerate => cfg!(target_os = "macos"),
        }
    }

    /// A line about the engine: for OpenBLAS its kernel family and version.
    pub fn detail(self) -> String {
        match self {
            Backend::Gemm => format!("gemm-f32 0.19, {} kernels", cpu::level().name()),
            Backend::OpenBlas => cblas::openblas()
                .map(|b| b.describe())
                .unwrap_or_else(|| "not loaded".into()),
            Backend::Accelerate => "Apple Accelerate (cblas_sgemm)".into(),
        }
    }

    /// Every backend available here.
    pub fn available() -> Vec<Backend> {
        Self::ALL.into_iter().filter(|b| b.is_available()).collect()
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A backend preference: a backend, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// The fastest for this machine ([`auto_backend`]).
    #[default]
    Auto,
    /// This one (an error where it is not available).
    Use(Backend),
}

impl std::str::FromStr for BackendChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(BackendChoice::Auto),
            "gemm" | "rust" => Ok(BackendChoice::Use(Backend::Gemm)),
            "openblas" | "blas" => Ok(BackendChoice::Use(Backend::OpenBlas)),
            "accelerate" => Ok(BackendChoice::Use(Backend::Accelerate)),
            other => Err(Error::Compute(format!(
                "unknown GEMM backend {other:?} (auto, gemm, openblas, accelerate)"
            ))),
        }
    }
}

/// The default backend for this machine: Accelerate on macOS; elsewhere OpenBLAS if it loads
/// and its kernels use the CPU's widest vector unit (an OpenBLAS too old to know the CPU runs
/// narrower kernels, and then the `gemm` kernels are faster); otherwise the `gemm` kernels.
/// `level`: the CPU level the model's own loops run at.
pub fn auto_backend(level: CpuLevel) -> Backend {
    if Backend::Accelerate.is_available() {
        return Backend::Accelerate;
    }
    match cblas::openblas() {
        Some(b) if b.covers(level) => Backend::OpenBlas,
        _ => Backend::Gemm,
    }
}

thread_local! {
    /// The backend of the model whose pool runs this thread ([`enter`]).
    static BACKEND: Cell<Option<Backend>> = const { Cell::new(None) };
}

/// The backend in use on this thread: its model's, else [`auto_backend`] at the detected CPU
/// level. (The crate's own unit tests take `HARK_GEMM` here, as the shells do for a model.)
pub fn backend() -> Backend {
    BACKEND.with(Cell::get).unwrap_or_else(|| {
        static DEFAULT: OnceLock<Backend> = OnceLock::new();
        *DEFAULT.get_or_init(|| {
            #[cfg(test)]
            if let Ok(v) = std::env::var("HARK_GEMM") {
                return resolve(v.parse().expect("HARK_GEMM"), cpu::level()).expect("HARK_GEMM");
            }
            auto_backend(cpu::level())
        })
    })
}

/// Makes `b` the backend of every later product on this thread (a model's pool threads, as
/// they start).
pub(crate) fn enter(b: Backend) {
    BACKEND.with(|c| c.set(Some(b)));
}

/// The backend `choice` stands for here, for loops at `level`; an error if it is not available.
pub fn resolve(choice: BackendChoice, level: CpuLevel) -> Result<Backend> {
    match choice {
        BackendChoice::Auto => Ok(auto_backend(level)),
        BackendChoice::Use(b) if b.is_available() => Ok(b),
        BackendChoice::Use(b) => Err(Error::Compute(format!(
            "the {b} GEMM backend is not available here{}",
            match b {
                Backend::OpenBlas => " (no libopenblas.so.0 / libopenblas.so could be loaded)",
                Backend::Accelerate => " (Accelerate exists only on macOS)",
                Backend::Gemm => "",
            }
        ))),
    }
}

/// A strided matrix operand: element `(i, j)` is at `ptr + i·rs + j·cs`.
#[derive(Clone, Copy)]
pub(crate) struct Mat {
    pub ptr: *const f32,
    pub rs: isize,
    pub cs: isize,
}

/// A strided output matrix.
#[derive(Clone, Copy)]
pub(crate) struct MatMut {
    pub ptr: *mut f32,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: operands are only shared between the rayon tasks of one call, which write disjoint
// parts of the output and are joined before the call returns.
unsafe impl Send for Mat {}
// SAFETY: as above; the tasks only read through a `Mat`.
unsafe impl Sync for Mat {}
// SAFETY: as above.
unsafe impl Send for MatMut {}
// SAFETY: as above; each task writes only its own part through a `MatMut`.
unsafe impl Sync for MatMut {}

impl Mat {
    /// A row-major `[rows, cols]` matrix with row stride `ld`.
    pub(crate) fn rows(ptr: *const f32, ld: usize) -> Self {
        Mat {
            ptr,
            rs: ld as isize,
            cs: 1,
        }
    }

    /// The transpose of a row-major matrix with row stride `ld`.
    pub(crate) fn cols(ptr: *const f32, ld: usize) -> Self {
        Mat {
            ptr,
            rs: 1,
            cs: ld as isize,
        }
    }

    fn at(self, i: usize, j: usize) -> Self {
        // SAFETY (of later use): callers only ask for offsets inside the operand.
        Mat {
            ptr: self
                .ptr
                .wrapping_offset(i as isize * self.rs + j as isize * self.cs),
            ..self
        }
    }
}

impl MatMut {
    /// A row-major `[rows, cols]` output with row stride `ld`.
    pub(crate) fn rows(ptr: *mut f32, ld: usize) -> Self {
        MatMut {
            ptr,
            rs: ld as isize,
            cs: 1,
        }
    }

    fn at(self, i: usize, j: usize) -> Self {
        MatMut {
            ptr: self
                .ptr
                .wrapping_offset(i as isize * self.rs + j as isize * self.cs),
            ..self
        }
    }
}

/// A matrix operand in a slice: row-major, element `(i, j)` at `data[i·ld + j]`, or
/// [`transposed`](Self::transposed), the transpose of a row-major one (`(i, j)` at
/// `data[j·ld + i]`).
#[derive(Clone, Copy)]
pub(crate) struct Rows<'a> {
    data: &'a [f32],
    ld: usize,
    transposed: bool,
}

impl<'a> Rows<'a> {
    /// Rows `ld` apart.
    pub(crate) fn new(data: &'a [f32], ld: usize) -> Self {
        Rows {
            data,
            ld,
            transposed: false,
        }
    }

    /// The transpose of the row-major matrix whose rows are `ld` apart.
    pub(crate) fn transposed(data: &'a [f32], ld: usize) -> Self {
        Rows {
            data,
            ld,
            transposed: true,
        }
    }

    /// Panics unless an `r × c` matrix fits: rows no longer than their stride, all inside
    /// the slice.
    fn check(&self, r: usize, c: usize, what: &str) {
        let (outer, inner) = if self.transposed { (c, r) } else { (r, c) };
        if outer == 0 || inner == 0 {
            return;
        }
        assert!(
            inner <= self.ld && (outer - 1) * self.ld + inner <= self.data.len(),
            "{what}: a {r}×{c} matrix with stride {} does not fit in {} values",
            self.ld,
            self.data.len()
        );
    }

    fn mat(&self) -> Mat {
        if self.transposed {
            Mat::cols(self.data.as_ptr(), self.ld)
        } else {
            Mat::rows(self.data.as_ptr(), self.ld)
        }
    }
}

/// `dst [m×n] = a [m×k] · b [k×n]` (or `dst += …` with `accumulate`), `dst`'s rows `ldd`
/// apart: [`sgemm`] for the network code, on slices whose extents are checked (a panic, never an
/// access out of bounds; `dst` cannot alias the operands).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    ldd: usize,
    accumulate: bool,
    a: Rows,
    b: Rows,
    par: bool,
) {
    Rows::new(dst, ldd).check(m, n, "gemm output");
    a.check(m, k, "gemm left operand");
    b.check(k, n, "gemm right operand");
    // SAFETY: the checks above keep every element (i, j) the sizes and strides address inside
    // its slice, and `dst`, borrowed mutably, shares no memory with `a` or `b`.
    unsafe {
        sgemm(
            m,
            n,
            k,
            MatMut::rows(dst.as_mut_ptr(), ldd),
            accumulate,
            a.mat(),
            b.mat(),
            par,
        )
    }
}

/// `dst[m×n] = lhs[m×k] · rhs[k×n]`, or `dst += …` with `accumulate`, on the current
/// [`backend`]. `par`: the product may use every thread of the pool (callers already running
/// in parallel pass `false`).
///
/// # Safety
/// Every operand must be valid for the index ranges implied by the sizes and strides, and
/// `dst` must not alias `lhs`/`rhs`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    dst: MatMut,
    accumulate: bool,
    lhs: Mat,
    rhs: Mat,
    par: bool,
) {
    // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
    // the unsafe operations below rely on.
    unsafe {
        sgemm_on(
            backend(),
            cpu::level(),
            m,
            n,
            k,
            dst,
            accumulate,
            lhs,
            rhs,
            par,
        )
    }
}

/// [`sgemm`] on an explicit backend and CPU level (tests and benchmarks).
///
/// # Safety
/// As [`sgemm`]; `level` must be supported by the CPU and `backend` available.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn sgemm_on(
    backend: Backend,
    level: CpuLevel,
    m: usize,
    n: usize,
    k: usize,
    dst: MatMut,
    accumulate: bool,
    lhs: Mat,
    rhs: Mat,
    par: bool,
) {
    // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
    // the unsafe operations below rely on.
    unsafe {
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            if !accumulate {
                for i in 0..m {
                    for j in 0..n {
                        *dst.at(i, j).ptr = 0.0;
                    }
                }
            }
            return;
        }
        match backend {
            Backend::OpenBlas | Backend::Accelerate => {
                if let Some(call) = cblas::Call::new(backend, m, n, k, dst, accumulate, lhs, rhs) {
                    split(m, n, k, par && backend == Backend::OpenBlas, &|r, c| {
                        call.run(r, c)
                    });
                    return;
                }
                // (an operand with no unit stride: not a CBLAS layout)
                rust::sgemm(level, m, n, k, dst, accumulate, lhs, rhs, par)
            }
            Backend::Gemm => rust::sgemm(level, m, n, k, dst, accumulate, lhs, rhs, par),
        }
    }
}

/// Products below this many multiply-adds run on one thread.
const PAR_MIN_MACS: usize = 1 << 18;

/// Runs `f(rows, cols)` over a split of the `m×n` output across the rayon pool (for the
/// single-threaded CBLAS calls), or once over all of it. Parts are multiples of 16.
fn split(
    m: usize,
    n: usize,
    k: usize,
    par: bool,
    f: &(dyn Fn(std::ops::Range<usize>, std::ops::Range<usize>) + Sync),
) {
    let threads = crate::kernels::cpu::threads();
    if !par || threads < 2 || m * n * k < PAR_MIN_MACS {
        return f(0..m, 0..n);
    }
    let (long, by_cols) = if n >= m { (n, true) } else { (m, false) };
    let part = long.div_ceil(threads).next_multiple_of(16);
    let parts = long.div_ceil(part);
    (0..parts).into_par_iter().with_min_len(1).for_each(|p| {
        let r = p * part..((p + 1) * part).min(long);
        if by_cols {
            f(0..m, r)
        } else {
            f(r, 0..n)
        }
    });
}

/// The `gemm` kernels at an explicit CPU level.
mod rust {
    use super::{Mat, MatMut};
    use crate::kernels::cpu::CpuLevel;
    use gemm_common::gemm::gemm_basic_generic;
    use gemm_common::simd::MixedSimd;
    use gemm_common::Parallelism;

    macro_rules! kernel {
        ($simd:ty, $uk:path, $n:expr, $m:expr, $nn:expr, $k:expr, $dst:expr, $acc:expr, $lhs:expr, $rhs:expr, $par:expr) => {{
            use $uk as uk;
            gemm_basic_generic::<
                $simd,
                f32,
                { $n },
                { uk::MR_DIV_N * $n },
                { uk::NR },
                { uk::MR_DIV_N },
                { uk::H_M },
                { uk::H_N },
            >(
                <$simd as MixedSimd<f32, f32, f32, f32>>::try_new()
                    .expect("CPU level checked by the caller"),
                $m,
                $nn,
                $k,
                $dst.ptr,
                $dst.cs,
                $dst.rs,
                $acc,
                $lhs.ptr,
                $lhs.cs,
                $lhs.rs,
                $rhs.ptr,
                $rhs.cs,
                $rhs.rs,
                1.0,
                1.0,
                false,
                false,
                false,
                |a, b, c| a * b + c,
                &uk::UKR,
                &uk::H_UKR,
                false,
                $par,
            )
        }};
    }

    /// # Safety
    /// As [`super::sgemm`]; `level` supported by the CPU.
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn sgemm(
        level: CpuLevel,
        m: usize,
        n: usize,
        k: usize,
        dst: MatMut,
        accumulate: bool,
        lhs: Mat,
        rhs: Mat,
        par: bool,
    ) {
        // SAFETY: the caller upholds this function's `# Safety` contract, which is all that
        // the unsafe operations below rely on.
        unsafe {
            let threads = crate::kernels::cpu::threads();
            let par = if par && threads > 1 {
                Parallelism::Rayon(threads)
            } else {
                Parallelism::None
            };
            match level {
                #[cfg(target_arch = "x86_64")]
                CpuLevel::Avx512 => kernel!(
                    gemm_common::simd::V4,
                    gemm_f32::microkernel::avx512f::f32,
                    16,
                    m,
                    n,
                    k,
                    dst,
                    accumulate,
                    lhs,
                    rhs,
                    par
                ),
                #[cfg(target_arch = "x86_64")]
                CpuLevel::Avx2 => kernel!(
                    gemm_common::simd::V3,
                    gemm_f32::microkernel::fma::f32,
                    8,
                    m,
                    n,
                    k,
                    dst,
                    accumulate,
                    lhs,
                    rhs,
                    par
                ),
                #[cfg(target_arch = "aarch64")]
                CpuLevel::Neon => kernel!(
                    gemm_common::simd::Scalar,
                    gemm_f32::microkernel::neon::f32,
                    4,
                    m,
                    n,
                    k,
                    dst,
                    accumulate,
                    lhs,
                    rhs,
                    par
                ),
                _ => kernel!(
                    gemm_common::simd::Scalar,
                    gemm_f32::microkernel::scalar::f32,
                    1,
                    m,
                    n,
                    k,
                    dst,
                    accumulate,
                    lhs,
                    rhs,
                    par
                ),
            }
        }
    }
}

/// CBLAS: OpenBLAS loaded at run time (Linux), Accelerate linked (macOS).
mod cblas {
    use super::{Backend, Mat, MatMut};
    use crate::kernels::cpu::CpuLevel;
    use std::ffi::c_int;
    use std::sync::OnceLock;

    const ROW_MAJOR: c_int = 101;
    const NO_TRANS: c_int = 111;
    const TRANS: c_int = 112;

    type SgemmFn = unsafe extern "C" fn(
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        f32,
        *const f32,
        c_int,
        *const f32,
        c_int,
        f32,
        *mut f32,
        c_int,
    );

    /// The loaded OpenBLAS.
    pub(super) struct OpenBlas {
        _lib: libloading::Library,
        sgemm: SgemmFn,
        core: String,
        config: String,
    }

    impl OpenBlas {
        /// Whether its kernels use the widest vector unit of `level` (OpenBLAS names its
        /// kernel families after CPUs: `SkylakeX`/`Cooperlake`/`SapphireRapids`/`Zen4`… have
        /// AVX-512; an OpenBLAS that predates a CPU falls back to an older family).
        pub(super) fn covers(&self, level: CpuLevel) -> bool {
            let core = self.core.to_ascii_lowercase();
            match level {
                CpuLevel::Avx512 => ["skylakex", "cooperlake", "sapphirerapids", "zen4", "zen5"]
                    .iter()
                    .any(|c| core.contains(c)),
                _ => true,
            }
        }

        pub(super) fn describe(&self) -> String {
            format!("{} ({} kernels)", self.config.trim(), self.core)
        }
    }

    // SAFETY: OpenBLAS's cblas_sgemm is thread-safe when it runs one thread per call, which
    // `openblas_set_num_threads(1)` arranges at load.
    unsafe impl Send for OpenBlas {}
    // SAFETY: as above: concurrent one-thread calls are what OpenBLAS supports.
    unsafe impl Sync for OpenBlas {}

    #[cfg(target_os = "linux")]
    fn load() -> Option<OpenBlas> {
        use std::ffi::{c_char, CStr};
        const NAMES: [&str; 2] = ["libopenblas.so.0", "libopenblas.so"];
        for name in NAMES {
            // SAFETY: loading OpenBLAS runs only its own initialisers.
            let Ok(lib) = (unsafe { libloading::Library::new(name) }) else {
                continue;
            };
            // SAFETY: the symbols have these C signatures in every OpenBLAS release.
            let loaded = unsafe {
                let sgemm = *lib.get::<SgemmFn>(b"cblas_sgemm\0").ok()?;
                if let Ok(set) =
                    lib.get::<unsafe extern "C" fn(c_int)>(b"openblas_set_num_threads\0")
                {
                    set(1);
                }
                let text = |sym: &[u8]| -> String {
                    lib.get::<unsafe extern "C" fn() -> *const c_char>(sym)
                        .ok()
                        .map(|f| f())
                        .filter(|p| !p.is_null())
                        .map(|p| CStr::from_ptr(p).to_string_lossy().into_owned())
                        .unwrap_or_default()
                };
                let core = text(b"openblas_get_corename\0");
                let config = text(b"openblas_get_config\0");
                (sgemm, core, config)
            };
            tracing::debug!(library = name, core = %loaded.1, "loaded OpenBLAS");
            return Some(OpenBlas {
                sgemm: loaded.0,
                core: loaded.1,
                config: loaded.2,
                _lib: lib,
            });
        }
        None
    }

    #[cfg(not(target_os = "linux"))]
    fn load() -> Option<OpenBlas> {
        None
    }

    pub(super) fn openblas() -> Option<&'static OpenBlas> {
        static LIB: OnceLock<Option<OpenBlas>> = OnceLock::new();
        // Loaded from a thread of its own: OpenBLAS starts its (idle) worker threads at load,
        // and they take the loading thread's name.
        LIB.get_or_init(|| {
            std::thread::Builder::new()
                .name("hark-openblas".into())
                .spawn(load)
                .ok()?
                .join()
                .ok()?
        })
        .as_ref()
    }

    #[cfg(target_os = "macos")]
    #[link(name = "Accelerate", kind = "framework")]
    extern "C" {
        fn cblas_sgemm(
            order: c_int,
            trans_a: c_int,
            trans_b: c_int,
            m: c_int,
            n: c_int,
            k: c_int,
            alpha: f32,
            a: *const f32,
            lda: c_int,
            b: *const f32,
            ldb: c_int,
            beta: f32,
            c: *mut f32,
            ldc: c_int,
        );
    }

    fn accelerate() -> Option<SgemmFn> {
        #[cfg(target_os = "macos")]
        {
            Some(cblas_sgemm as SgemmFn)
        }
        #[cfg(not(target_os = "macos"))]
        None
    }

    /// An operand as CBLAS sees it: (transposed, leading dimension); `None` without a unit
    /// stride.
    fn layout(rs: isize, cs: isize, rows: usize, cols: usize) -> Option<(bool, c_int)> {
        let fits = |ld: isize, min: usize| ld >= min.max(1) as isize && ld <= c_int::MAX as isize;
        if cs == 1 && (rows == 1 || fits(rs, cols)) {
            Some((false, rs.max(cols.max(1) as isize) as c_int))
        } else if rs == 1 && (cols == 1 || fits(cs, rows)) {
            Some((true, cs.max(rows.max(1) as isize) as c_int))
        } else {
            None
        }
    }

    /// One product, ready to run on any block of its output.
    pub(super) struct Call {
        f: SgemmFn,
        k: usize,
        dst: MatMut,
        ldc: c_int,
        beta: f32,
        lhs: Mat,
        lhs_l: (bool, c_int),
        rhs: Mat,
        rhs_l: (bool, c_int),
    }

    // SAFETY: see `Mat`/`MatMut`.
    unsafe impl Sync for Call {}

    impl Call {
        #[allow(clippy::too_many_arguments)]
        pub(super) fn new(
            backend: Backend,
            m: usize,
            n: usize,
            k: usize,
            dst: MatMut,
            accumulate: bool,
            lhs: Mat,
            rhs: Mat,
        ) -> Option<Call> {
            let f = match backend {
                Backend::OpenBlas => openblas()?.sgemm,
                Backend::Accelerate => accelerate()?,
                Backend::Gemm => return None,
            };
            let max = c_int::MAX as usize;
            if m > max || n > max || k > max {
                return None;
            }
            // The output must be row-major.
            let (false, ldc) = layout(dst.rs, dst.cs, m, n)? else {
                return None;
            };
            Some(Call {
                f,
                k,
                dst,
                ldc,
                beta: if accumulate { 1.0 } else { 0.0 },
                lhs,
                lhs_l: layout(lhs.rs, lhs.cs, m, k)?,
                rhs,
                rhs_l: layout(rhs.rs, rhs.cs, k, n)?,
            })
        }

        /// The block `rows × cols` of the output.
        pub(super) fn run(&self, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) {
            let t = |tr: bool| if tr { TRANS } else { NO_TRANS };
            // SAFETY: the block lies inside the operands described at `new`; blocks of one
            // call are disjoint.
            unsafe {
                (self.f)(
                    ROW_MAJOR,
                    t(self.lhs_l.0),
                    t(self.rhs_l.0),
                    rows.len() as c_int,
                    cols.len() as c_int,
                    self.k as c_int,
                    1.0,
                    self.lhs.at(rows.start, 0).ptr,
                    self.lhs_l.1,
                    self.rhs.at(0, cols.start).ptr,
                    self.rhs_l.1,
                    self.beta,
                    self.dst.at(rows.start, cols.start).ptr,
                    self.ldc,
                );
            }
        }
    }
}

/// The matrix shapes `(m, n, k)` that dominate the model's compute: generator and decoder
/// convolutions (`[c_out, 256-sample tile] = W[c_out, c_in·K] · im2col`) and ALBERT's
/// feed-forward layers for a sentence.
pub const MODEL_SHAPES: [(usize, usize, usize); 5] = [
    (256, 256, 256 * 7),
    (128, 256, 128 * 11),
    (512, 256, 1090 * 3),
    (64, 2048, 768),
    (64, 768, 2048),
];

/// GFLOP/s of [`sgemm`] on [`MODEL_SHAPES`] with every thread, on the current backend: the
/// best of three rounds of about 0.1 s each.
pub fn gflops() -> f64 {
    gflops_on(backend(), cpu::level())
}

/// [`gflops`] for an explicit backend and CPU level (which must be available here).
pub fn gflops_on(backend: Backend, level: CpuLevel) -> f64 {
    let mut bufs: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = MODEL_SHAPES
        .iter()
        .map(|&(m, n, k)| {
            let a = (0..m * k).map(|i| ((i % 7) as f32 - 3.0) * 0.01).collect();
            let b = (0..k * n).map(|i| ((i % 5) as f32 - 2.0) * 0.01).collect();
            (a, b, vec![0f32; m * n])
        })
        .collect();
    let round = |bufs: &mut [(Vec<f32>, Vec<f32>, Vec<f32>)], reps: usize| -> (f64, f64) {
        let t = Instant::now();
        let mut flops = 0.0;
        for _ in 0..reps {
            for (&(m, n, k), (a, b, c)) in MODEL_SHAPES.iter().zip(bufs.iter_mut()) {
                // SAFETY: a is [m, k], b is [k, n], c is [m, n], all row-major.
                unsafe {
                    sgemm_on(
                        backend,
                        level,
                        m,
                        n,
                        k,
                        MatMut::rows(c.as_mut_ptr(), n),
                        false,
                        Mat::rows(a.as_ptr(), k),
                        Mat::rows(b.as_ptr(), n),
                        true,
                    );
                }
                flops += 2.0 * (m * n * k) as f64;
            }
        }
        (flops, t.elapsed().as_secs_f64())
    };
    // one round to size the others at ~0.1 s
    let (f1, s1) = round(&mut bufs, 1);
    let reps = ((0.1 / s1.max(1e-6)) as usize).clamp(1, 200);
    let mut best: f64 = f1 / s1.max(1e-9);
    for _ in 0..3 {
        let (f, s) = round(&mut bufs, reps);
        best = best.max(f / s.max(1e-9));
    }
    best / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slice seam computes what the raw one does (a row-major and a transposed operand,
    /// a strided output) and refuses an operand too short for its sizes.
    #[test]
    fn slice_gemm_checks_its_operands() {
        // a [2×3], b given as bᵀ [2×3] (b is [3×2]), dst [2×2] in rows of 3
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let bt = [1.0, 0.0, -1.0, 2.0, 1.0, 0.0];
        let mut dst = [9.0; 6];
        gemm(
            2,
            2,
            3,
            &mut dst,
            3,
            false,
            Rows::new(&a, 3),
            Rows::transposed(&bt, 3),
            false,
        );
        assert_eq!(dst, [-2.0, 4.0, 9.0, -2.0, 13.0, 9.0]);
        let short = std::panic::catch_unwind(|| {
            let mut d = [0.0; 4];
            gemm(
                2,
                2,
                3,
                &mut d,
                2,
                false,
                Rows::new(&a[..5], 3),
                Rows::transposed(&bt, 3),
                false,
            )
        });
        assert!(short.is_err());
        let wide = std::panic::catch_unwind(|| {
            let mut d = [0.0; 4];
            gemm(
                2,
                3,
                1,
                &mut d,
                2,
                false,
                Rows::new(&a, 1),
                Rows::new(&bt, 3),
                false,
            )
        });
        assert!(wide.is_err(), "an output row longer than its stride");
    }

    fn rnd(n: usize, seed: u64) -> Vec<f32> {
        (0..n)
            .map(|i| crate::kernels::noise::uniform_pm1(seed, i as u64))
            .collect()
    }

    /// Every backend available here, at every CPU level this CPU has, against a naive product
    /// in f64, for the operand layouts the model uses (row-major, transposed, strided views)
    /// and both output modes.
    #[test]
    fn every_backend_and_level_matches_the_naive_product() {
        let levels = cpu::supported_levels();
        assert!(!levels.is_empty());
        let shapes = [
            (1, 1, 1),
            (3, 5, 7),
            (17, 33, 65),
            (64, 300, 96),
            (130, 20, 513),
        ];
        for backend in Backend::available() {
            for &level in &levels {
                for &(m, n, k) in &shapes {
                    for (lhs_t, rhs_t, acc, par) in [
                        (false, false, false, true),
                        (true, false, true, false),
                        (false, true, false, true),
                        (true, true, true, true),
                    ] {
                        // stored row-major, with a wider leading dimension than needed
                        let (la, lb) = (k + 3, n + 2);
                        let a = rnd(if lhs_t { k * (m + 3) } else { m * la }, 1);
                        let b = rnd(if rhs_t { n * (k + 2) } else { k * lb }, 2);
                        let lhs = if lhs_t {
                            Mat::cols(a.as_ptr(), m + 3)
                        } else {
                            Mat::rows(a.as_ptr(), la)
                        };
                        let rhs = if rhs_t {
                            Mat::cols(b.as_ptr(), k + 2)
                        } else {
                            Mat::rows(b.as_ptr(), lb)
                        };
                        let ldc = n + 1;
                        let init = rnd(m * ldc, 3);
                        let mut c = init.clone();
                        // SAFETY: sizes and strides describe the buffers above.
                        unsafe {
                            sgemm_on(
                                backend,
                                level,
                                m,
                                n,
                                k,
                                MatMut::rows(c.as_mut_ptr(), ldc),
                                acc,
                                lhs,
                                rhs,
                                par,
                            );
                        }
                        for i in 0..m {
                            for j in 0..n {
                                let mut s = if acc { init[i * ldc + j] as f64 } else { 0.0 };
                                for p in 0..k {
                                    // SAFETY: in bounds by construction.
                                    let (x, y) = unsafe {
                                        (*lhs.at(i, p).ptr as f64, *rhs.at(p, j).ptr as f64)
                                    };
                                    s += x * y;
                                }
                                let got = c[i * ldc + j] as f64;
                                assert!(
                                    (got - s).abs() <= 1e-4 * (1.0 + s.abs()),
                                    "{backend} {level:?} {m}x{n}x{k} t=({lhs_t},{rhs_t}) acc={acc}: \
                                     [{i},{j}] {got} vs {s}"
                                );
                            }
                            // the padding column is untouched
                            assert_eq!(c[i * ldc + n], init[i * ldc + n]);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn backend_names_parse_and_unavailable_ones_are_refused() {
        for b in Backend::ALL {
            assert_eq!(
                b.name().parse::<BackendChoice>().unwrap(),
                BackendChoice::Use(b)
            );
        }
        assert_eq!(
            "AUTO".parse::<BackendChoice>().unwrap(),
            BackendChoice::Auto
        );
        assert!("cuda".parse::<BackendChoice>().is_err());
        if !cfg!(target_os = "macos") {
            let e = resolve(BackendChoice::Use(Backend::Accelerate), cpu::level()).unwrap_err();
            assert!(e.to_string().contains("macOS"), "{e}");
        }
        assert!(Backend::available().contains(&Backend::Gemm));
        assert!(Backend::available().contains(&auto_backend(cpu::level())));
    }

    /// CI installs OpenBLAS (scripts/deps.sh): there it must load, or the OpenBLAS path would
    /// go untested without anyone noticing.
    #[test]
    fn openblas_loads_where_required() {
        if std::env::var_os("HARK_REQUIRE_OPENBLAS").is_some() {
            assert!(
                Backend::OpenBlas.is_available(),
                "HARK_REQUIRE_OPENBLAS is set but OpenBLAS did not load"
            );
        }
        if Backend::OpenBlas.is_available() {
            assert!(Backend::OpenBlas.detail().contains("OpenBLAS"));
        }
    }
}
