//! What a model computes with, chosen by whoever loads it ([`Compute`], as candle takes a
//! `Device`), and the thread pool that carries the choice ([`ComputePool`]).
//!
//! A model owns a rayon pool of its own. Each of its threads, as it starts, takes the model's
//! CPU level, GEMM backend, convolution algorithms and convolution buffers into thread-local
//! slots that the kernels read ([`crate::kernels::cpu::level`], [`crate::kernels::matmul::backend`],
//! [`crate::conv::buffers`]), and every public call of the model runs on that pool. So two
//! models in one process share no mutable state, and nothing in this crate reads the
//! environment: the shells (hark-cli, the app, the tests) turn their flags and variables into
//! a [`Compute`].
//!
//! Process-wide, and not a model's: OpenBLAS's own thread count (set to 1 when the library
//! loads, [`crate::kernels::matmul`]) and the allocator's arena limit
//! ([`crate::limit_heap_arenas`]), both the shells' to call once.

use std::sync::{Arc, Condvar, Mutex};

use crate::conv::tiling::ConvBuffers;
use crate::conv::{self, ConvAlgos};
use crate::error::{Error, Result};
use crate::kernels::cpu::{self, CpuLevel};
use crate::kernels::matmul::{self, Backend, BackendChoice};

/// How a model computes: its matrix-product backend, the CPU level of its vector loops, its
/// threads and its convolution algorithms. The default is the fastest for this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compute {
    /// The engine behind every matrix product (`auto`: [`matmul::auto_backend`]).
    pub backend: BackendChoice,
    /// The vector instructions the kernels may use (`None`: the best this CPU has). A lower
    /// level runs the code paths of older machines.
    pub level: Option<CpuLevel>,
    /// Threads of the model's pool (`None`: one per core).
    pub threads: Option<usize>,
    /// The convolution algorithms besides im2col + GEMM.
    pub conv: ConvAlgos,
}

/// A model's pool, with the [`Compute`] it resolved to.
pub(crate) struct ComputePool {
    pub(crate) backend: Backend,
    pub(crate) level: CpuLevel,
    pub(crate) threads: usize,
    pool: Option<rayon::ThreadPool>,
    /// Threads of the pool still running, signalled as each ends.
    running: Arc<(Mutex<usize>, Condvar)>,
}

impl ComputePool {
    /// Resolves `c` on this machine (an error for a level the CPU lacks, or a backend that is
    /// not available) and starts the pool's threads, named `hark-model-N`.
    pub(crate) fn new(c: &Compute) -> Result<Self> {
        let level = match c.level {
            Some(l) => cpu::check(l)?,
            None => cpu::detected(),
        };
        let backend = matmul::resolve(c.backend, level)?;
        if c.threads == Some(0) {
            return Err(Error::Compute("a model needs at least one thread".into()));
        }
        let algos = c.conv;
        let bufs = Arc::new(ConvBuffers::new());
        let running = Arc::new((Mutex::new(0usize), Condvar::new()));
        let on_exit = running.clone();
        let mut b = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("hark-model-{i}"))
            .start_handler(move |_| {
                cpu::enter(level);
                matmul::enter(backend);
                conv::enter(algos, bufs.clone());
            })
            .exit_handler(move |_| {
                let (n, cv) = &*on_exit;
                *n.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                cv.notify_all();
            });
        if let Some(n) = c.threads {
            b = b.num_threads(n);
        }
        let pool = b
            .build()
            .map_err(|e| Error::Compute(format!("starting the model's threads: {e}")))?;
        // (no thread ends before the pool is dropped)
        *running.0.lock().unwrap_or_else(|e| e.into_inner()) = pool.current_num_threads();
        tracing::debug!(
            backend = %backend,
            level = %level,
            threads = pool.current_num_threads(),
            "model compute"
        );
        Ok(ComputePool {
            backend,
            level,
            threads: pool.current_num_threads(),
            pool: Some(pool),
            running,
        })
    }

    /// Runs `f` on the pool (directly when called from one of its threads).
    pub(crate) fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.install(f),
            None => unreachable!("the pool lives until drop"),
        }
    }
}

impl Drop for ComputePool {
    /// Ends the pool's threads and waits until each has finished (unless dropped on one of
    /// them, which would wait for itself).
    fn drop(&mut self) {
        let Some(pool) = self.pool.take() else {
            return;
        };
        let on_own_thread = pool.current_thread_index().is_some();
        drop(pool);
        if on_own_thread {
            return;
        }
        let (n, cv) = &*self.running;
        let mut n = n.lock().unwrap_or_else(|e| e.into_inner());
        while *n > 0 {
            n = cv.wait(n).unwrap_or_else(|e| e.into_inner());
        }
    }
}
