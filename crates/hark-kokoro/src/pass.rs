//! What one forward pass carries through the modules: its cancellation flag, its timings and,
//! for a windowed pass, the InstanceNorm statistics pooled over the windows so far. A low
//! module: every layer may take a [`Pass`], none of them reaches up to the model for it.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::ops::{instance_moments, instance_stats, norm_stat};

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

/// InstanceNorm statistics pooled over the windows of one [`crate::Stream`]: each AdaIN layer
/// normalizes a window with the mean and variance of all its inputs so far (this window
/// included), so later windows approach the whole chunk's statistics and neighbouring windows
/// agree.
#[derive(Debug, Default)]
pub(crate) struct RunningNorms {
    /// Per layer, in call order: (count, per-channel (mean, variance)).
    layers: Vec<(f64, Vec<(f64, f64)>)>,
    cursor: usize,
}

impl RunningNorms {
    /// The next window starts at the first layer again.
    pub(crate) fn begin_window(&mut self) {
        self.cursor = 0;
    }

    fn next(&mut self, x: &[f32], t: usize, eps: f32) -> Vec<(f32, f32)> {
        let cur = instance_moments(x, t);
        if self.layers.len() <= self.cursor {
            self.layers.push((0.0, Vec::new()));
        }
        let (n0, acc) = &mut self.layers[self.cursor];
        self.cursor += 1;
        let n1 = t as f64;
        let n = *n0 + n1;
        if acc.len() != cur.len() {
            acc.clear();
            acc.resize(cur.len(), (0.0, 0.0));
        }
        let mut out = Vec::with_capacity(cur.len());
        for (a, &(m1, v1)) in acc.iter_mut().zip(&cur) {
            let (m0, v0) = *a;
            let mean = (*n0 * m0 + n1 * m1) / n;
            let var = (*n0 * (v0 + (m0 - mean).powi(2)) + n1 * (v1 + (m1 - mean).powi(2))) / n;
            *a = (mean, var);
            out.push(norm_stat(mean, var, eps));
        }
        *n0 = n;
        out
    }
}

/// The per-pass context handed down the modules.
pub(crate) struct Pass<'a> {
    /// Checked between modules, resblocks and convolution tiles.
    pub cancel: Cancel<'a>,
    /// Seconds per module so far.
    pub timings: Timings,
    /// Statistics pooled over a stream's windows (`None`: each pass normalizes by itself).
    pub norms: Option<&'a mut RunningNorms>,
}

impl<'a> Pass<'a> {
    pub(crate) fn new(cancel: Cancel<'a>, norms: Option<&'a mut RunningNorms>) -> Self {
        Pass {
            cancel,
            timings: Timings::default(),
            norms,
        }
    }

    /// InstanceNorm statistics `(mean, rstd)` per channel of `x [C, t]`: the window's own, or
    /// with running norms those of every window so far including this one.
    pub(crate) fn instance_stats(&mut self, x: &[f32], t: usize, eps: f32) -> Vec<(f32, f32)> {
        match self.norms.as_deref_mut() {
            Some(r) => r.next(x, t, eps),
            None => instance_stats(x, t, eps),
        }
    }
}
