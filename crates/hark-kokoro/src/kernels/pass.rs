//! What one forward pass carries through the modules: its cancellation flag, its timings and,
//! for a stream, where its InstanceNorm statistics come from. A low
//! module: every layer may take a [`Pass`], none of them reaches up to the model for it.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::kernels::ops::{instance_moments, instance_stats, norm_stat};

/// Borrowed view of [`crate::ForwardOptions::cancel`] handed down the forward pass.
#[derive(Clone, Copy, Default)]
pub(crate) struct Cancel<'a>(pub(crate) Option<&'a AtomicBool>);

impl Cancel<'_> {
    pub(crate) fn is_set(self) -> bool {
        self.0.is_some_and(|f| f.load(Ordering::Relaxed))
    }

    pub(crate) fn check(self) -> Result<()> {
        if self.is_set() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Wall-clock seconds spent per module in one forward pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// ALBERT and its projection.
    pub bert: f64,
    /// Duration encoder and durations.
    pub predictor: f64,
    /// F0 and energy curves.
    pub f0n: f64,
    /// The acoustic text encoder.
    pub text_encoder: f64,
    /// The decoder's residual stack.
    pub decoder: f64,
    /// Harmonic source and its STFT.
    pub source: f64,
    /// The generator's two upsampling stages.
    pub generator_stage: [f64; 2],
    /// The last convolution and the iSTFT.
    pub post: f64,
    /// The whole pass.
    pub total: f64,
}

/// InstanceNorm statistics of one layer pooled over a stream's windows: each window is
/// normalized with the mean and variance of all the layer's inputs so far (this window
/// included), so later windows approach the whole chunk's statistics and neighbouring windows
/// agree.
#[derive(Debug, Default)]
pub(crate) struct RunStat {
    /// Inputs seen so far.
    n: f64,
    /// Per channel (mean, variance) of those inputs.
    acc: Vec<(f64, f64)>,
}

impl RunStat {
    /// Pools `x [C, t]` in and returns the statistics `(mean, rstd)` so far.
    pub(crate) fn update(&mut self, x: &[f32], t: usize, eps: f32) -> Vec<(f32, f32)> {
        let cur = instance_moments(x, t);
        let n0 = self.n;
        let n1 = t as f64;
        let n = n0 + n1;
        if self.acc.len() != cur.len() {
            self.acc.clear();
            self.acc.resize(cur.len(), (0.0, 0.0));
        }
        let mut out = Vec::with_capacity(cur.len());
        for (a, &(m1, v1)) in self.acc.iter_mut().zip(&cur) {
            let (m0, v0) = *a;
            let mean = (n0 * m0 + n1 * m1) / n;
            let var = (n0 * (v0 + (m0 - mean).powi(2)) + n1 * (v1 + (m1 - mean).powi(2))) / n;
            *a = (mean, var);
            out.push(norm_stat(mean, var, eps));
        }
        self.n = n;
        out
    }
}

/// Where a stream's AdaIN layers take their statistics from, one slot per layer (in the order
/// of a whole pass's calls).
pub(crate) enum Norms {
    /// Each slot pools all its inputs so far ([`RunStat`]).
    Running(Vec<RunStat>),
    /// Given statistics per slot: those of the whole pass, so the stream must reproduce the
    /// whole pass (a check of the stream's state).
    Fixed(Vec<Vec<(f32, f32)>>),
}

impl Norms {
    /// Statistics `(mean, rstd)` for slot `slot` whose new inputs are `x [C, t]`.
    pub(crate) fn stats(&mut self, slot: usize, x: &[f32], t: usize, eps: f32) -> Vec<(f32, f32)> {
        match self {
            Norms::Running(v) => {
                if v.len() <= slot {
                    v.resize_with(slot + 1, RunStat::default);
                }
                v[slot].update(x, t, eps)
            }
            Norms::Fixed(v) => v[slot].clone(),
        }
    }
}

/// The per-pass context handed down the modules.
pub(crate) struct Pass<'a> {
    /// Checked between modules, resblocks and convolution tiles.
    pub cancel: Cancel<'a>,
    /// Seconds per module so far.
    pub timings: Timings,
    /// Where the statistics of every InstanceNorm, in call order, are recorded (if anywhere).
    pub record: Option<&'a mut Vec<Vec<(f32, f32)>>>,
}

impl<'a> Pass<'a> {
    pub(crate) fn new(cancel: Cancel<'a>, record: Option<&'a mut Vec<Vec<(f32, f32)>>>) -> Self {
        Pass {
            cancel,
            timings: Timings::default(),
            record,
        }
    }

    /// InstanceNorm statistics `(mean, rstd)` per channel of `x [C, t]` (recorded if asked).
    pub(crate) fn instance_stats(&mut self, x: &[f32], t: usize, eps: f32) -> Vec<(f32, f32)> {
        let st = instance_stats(x, t, eps);
        if let Some(r) = self.record.as_deref_mut() {
            r.push(st.clone());
        }
        st
    }
}
