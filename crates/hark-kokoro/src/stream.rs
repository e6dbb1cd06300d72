//! Windowed rendering of a prepared chunk, for a fast first sound.
//!
//! The text side of a chunk ([`Kokoro::prepare`]) is cheap next to the decoder and generator,
//! whose cost grows with the audio length. [`Stream`] renders the frames in growing windows:
//! the first window is a fraction of a second, so its audio is ready after a fraction of the
//! whole chunk's compute, and each later window is ready before the audio already handed out has
//! played. Durations, pitch, energy and the excitation come from the whole chunk, so prosody is
//! the whole sentence's; only the decoder's and generator's InstanceNorm statistics and their
//! convolution edges are the window's. Each window is computed with `context` extra frames on
//! both sides (thrown away), windows are cut preferably inside pauses or at phoneme boundaries,
//! and neighbours are crossfaded, so the seams are not audible.

use crate::error::Result;
use crate::model::{ForwardOptions, Kokoro, Prepared};
use crate::pass::RunningNorms;

/// How [`Stream`] cuts a chunk into windows. Frames are 25 ms at 24 kHz (600 samples).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamPlan {
    /// Frames in the first window.
    pub first: usize,
    /// Each window is this many times longer than the previous one (≥ 1).
    pub growth: f32,
    /// Windows longer than this many frames are not split further.
    pub max: usize,
    /// Frames computed on each side of a window and discarded (convolution context).
    pub context: usize,
    /// Samples over which neighbouring windows are crossfaded, centred on their boundary
    /// (at most one frame and at most the context).
    pub crossfade: usize,
}

impl Default for StreamPlan {
    /// 12-frame (0.3 s) first window doubling per window, with 3 frames of context and a 20 ms
    /// crossfade: on two cores the first window costs about 0.15 s. (Shorter first windows are
    /// ready sooner but give less audio per unit of compute, context included, so the windows
    /// after them fall behind.) A caller that plays as it
    /// goes can shrink later windows to what its player has in hand
    /// ([`Stream::set_next_window`]).
    fn default() -> Self {
        Self {
            first: 12,
            growth: 2.0,
            max: 400,
            context: 3,
            crossfade: 480,
        }
    }
}

impl StreamPlan {
    /// One window: the plain whole-chunk pass.
    pub fn whole() -> Self {
        Self {
            first: usize::MAX,
            growth: 1.0,
            max: usize::MAX,
            context: 0,
            crossfade: 0,
        }
    }
}

/// Iterator over the audio of a prepared chunk, window by window. The pieces concatenate to
/// exactly [`Prepared::samples`] samples. A window the model fails on (cancellation included)
/// yields the error and ends the stream.
pub struct Stream<'a> {
    model: &'a Kokoro,
    p: &'a Prepared,
    plan: StreamPlan,
    opts: &'a ForwardOptions,
    /// First frame not yet rendered.
    next: usize,
    /// Length of the next window, frames.
    size: f64,
    /// The previous window's samples around the boundary at `next` (`2·half` samples).
    tail: Vec<f32>,
    /// Candidate cut points: (frame, inside a pause).
    cuts: Vec<(usize, bool)>,
    /// InstanceNorm statistics pooled over the windows so far.
    norms: RunningNorms,
    /// Frames rendered so far, context included.
    computed: usize,
    failed: bool,
}

impl Kokoro {
    /// Audio of a prepared chunk in growing windows, so the first sound is ready long before
    /// the whole chunk is: see [`Stream`].
    pub fn stream<'a>(
        &'a self,
        p: &'a Prepared,
        plan: StreamPlan,
        opts: &'a ForwardOptions,
    ) -> Stream<'a> {
        Stream::new(self, p, plan, opts)
    }
}

impl<'a> Stream<'a> {
    pub(crate) fn new(
        model: &'a Kokoro,
        p: &'a Prepared,
        plan: StreamPlan,
        opts: &'a ForwardOptions,
    ) -> Self {
        let quiet: Vec<u32> = " ,.!?;:—…\"()“”"
            .chars()
            .filter_map(|c| model.vocab().id(c))
            .chain([0])
            .collect();
        let mut cuts = Vec::new();
        let mut pos = 0usize;
        for (&id, &d) in p.ids().iter().zip(p.durations()) {
            let d = d as usize;
            if quiet.contains(&id) && d >= 2 {
                cuts.push((pos + d / 2, true));
            } else {
                cuts.push((pos, false));
            }
            pos += d;
        }
        Self {
            model,
            p,
            plan,
            opts,
            next: 0,
            size: plan.first.max(1) as f64,
            tail: Vec::new(),
            cuts,
            norms: RunningNorms::default(),
            computed: 0,
            failed: false,
        }
    }

    /// Whether every window has been yielded (or the stream failed).
    pub fn is_done(&self) -> bool {
        self.failed || self.next >= self.p.frames()
    }

    /// Frames yielded so far (the next window starts here).
    pub fn position(&self) -> usize {
        self.next
    }

    /// Frames rendered so far, context included: what the windows cost.
    pub fn computed_frames(&self) -> usize {
        self.computed
    }

    /// The longest next window whose rendering (context included) stays within `computed`
    /// frames, but never shorter than the plan's first window.
    pub fn window_within(&self, computed: usize) -> usize {
        computed
            .saturating_sub(2 * self.plan.context)
            .max(self.plan.first)
    }

    /// Length in frames of the next window (before snapping to a cut point), overriding the
    /// plan's growth from here on; later windows grow from this size. For a caller that paces
    /// the windows by how much audio its player still has.
    pub fn set_next_window(&mut self, frames: usize) {
        self.size = frames.max(1) as f64;
    }

    /// Planned length in frames of the next window (before snapping to a cut point).
    pub fn next_window(&self) -> usize {
        (self.size.round() as usize).clamp(1, self.plan.max.max(1))
    }

    /// The plan the stream was made with.
    pub fn plan(&self) -> &StreamPlan {
        &self.plan
    }

    /// The windows still to come if nothing changes their sizes: `(frames yielded, frames
    /// computed)` each, context included in the second. The real cuts snap to pauses and
    /// phoneme boundaries within a third of a window, so this is the plan a caller can cost
    /// ahead of time, not an exact forecast.
    pub fn remaining_windows(&self) -> Vec<(usize, usize)> {
        let frames = self.p.frames();
        let mut out = Vec::new();
        let mut a = self.next;
        let mut size = self.size;
        while a < frames {
            let target = (size.round() as usize).clamp(1, self.plan.max.max(1));
            let want = a.saturating_add(target);
            let b = if want >= frames || frames - want < target.div_ceil(2) {
                frames
            } else {
                want
            };
            let lo = a.saturating_sub(self.plan.context);
            let hi = (b + self.plan.context).min(frames);
            out.push((b - a, hi - lo));
            a = b;
            size *= f64::from(self.plan.growth.max(1.0));
        }
        out
    }

    fn half(&self) -> usize {
        let spf = self.p.samples_per_frame();
        (self.plan.crossfade / 2)
            .min(spf / 2)
            .min(self.plan.context * spf)
    }

    /// End frame of the window starting at `a`.
    fn cut(&self, a: usize) -> usize {
        let frames = self.p.frames();
        let target = (self.size.round() as usize).clamp(1, self.plan.max.max(1));
        let want = a.saturating_add(target);
        // Too little left for a worthwhile window: take it all.
        if want >= frames || frames - want < target.div_ceil(2) {
            return frames;
        }
        let tol = (target / 3).max(1);
        let mut best = (want, usize::MAX);
        for &(f, pause) in &self.cuts {
            if f <= a || f >= frames || f + tol < want || f > want + tol {
                continue;
            }
            let score = f.abs_diff(want) + if pause { 0 } else { tol };
            if score < best.1 {
                best = (f, score);
            }
        }
        best.0
    }
}

impl Iterator for Stream<'_> {
    type Item = Result<Vec<f32>>;

    fn next(&mut self) -> Option<Self::Item> {
        let frames = self.p.frames();
        if self.failed || self.next >= frames {
            return None;
        }
        let spf = self.p.samples_per_frame();
        let half = self.half();
        let a = self.next;
        let b = self.cut(a);
        let lo = a.saturating_sub(self.plan.context);
        let hi = (b + self.plan.context).min(frames);
        self.computed += hi - lo;
        self.norms.begin_window();
        let win = match self
            .model
            .render_inner(self.p, lo..hi, self.opts, Some(&mut self.norms))
        {
            Ok((w, _)) => w,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        // Absolute sample `x` is `win[x - base]`.
        let base = lo * spf;
        let start = if a == 0 { 0 } else { a * spf - half };
        let end = if b == frames {
            frames * spf
        } else {
            b * spf - half
        };
        let mut out = Vec::with_capacity(end - start);
        if a > 0 && half > 0 {
            let n = 2 * half;
            for (j, prev) in self.tail.iter().enumerate() {
                // raised-cosine weights that sum to one
                let w = 0.5 - 0.5 * (std::f32::consts::PI * (j as f32 + 0.5) / n as f32).cos();
                out.push(prev * (1.0 - w) + win[start + j - base] * w);
            }
        }
        let body = if a > 0 { a * spf + half } else { 0 };
        out.extend_from_slice(&win[body - base..end - base]);
        self.tail.clear();
        if b < frames && half > 0 {
            self.tail
                .extend_from_slice(&win[b * spf - half - base..b * spf + half - base]);
        }
        self.next = b;
        self.size *= f64::from(self.plan.growth.max(1.0));
        debug_assert_eq!(out.len(), end - start);
        Some(Ok(out))
    }
}
