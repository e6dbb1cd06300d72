//! Windowed rendering of a prepared chunk, for a fast first sound.
//!
//! The text side of a chunk ([`Kokoro::prepare`]) is cheap next to the decoder and generator,
//! whose cost grows with the audio length. [`Stream`] renders the frames in growing windows:
//! the first window is a fraction of a second, so its audio is ready after a fraction of the
//! whole chunk's compute, and each later window is ready before the audio already handed out has
//! played. Durations, pitch, energy and the excitation come from the whole chunk, so prosody is
//! the whole sentence's. The decoder and generator run as a true stream (`streaming.rs`): every
//! convolution keeps the inputs its next outputs need, the transposed convolutions and the
//! iSTFT keep their overlap-add tails, so no frame is computed twice and a window costs what its
//! frames cost; a window needs only the look-ahead its layers' kernels reach ahead
//! ([`Kokoro::stream_lookahead`]), computed once. Only the InstanceNorm statistics differ from
//! the whole pass: each layer pools those of its inputs so far.

use crate::error::{Error, Result};
use crate::kernels::pass::{Cancel, Norms};
use crate::model::kokoro::{ForwardOptions, Kokoro, Prepared};
use crate::model::streaming::{Pipeline, Reach};

/// How [`Stream`] cuts a chunk into windows. Frames are 25 ms at 24 kHz (600 samples).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamPlan {
    /// Frames in the first window.
    pub first: usize,
    /// Each window is this many times longer than the previous one (≥ 1).
    pub growth: f32,
    /// Windows longer than this many frames are not split further.
    pub max: usize,
}

impl Default for StreamPlan {
    /// 12-frame (0.3 s) first window doubling per window. A caller that plays as it goes can
    /// shrink later windows to what its player has in hand ([`Stream::set_next_window`]).
    fn default() -> Self {
        Self {
            first: 12,
            growth: 2.0,
            max: 400,
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
    /// First frame not yet yielded.
    next: usize,
    /// Length of the next window, frames.
    size: f64,
    /// Candidate cut points: (frame, inside a pause).
    cuts: Vec<(usize, bool)>,
    /// The decoder and generator's state, from the first window that is not the whole chunk.
    pipe: Option<Pipeline<'a>>,
    /// Statistics for the pipeline's InstanceNorms until it starts.
    norms: Option<Norms>,
    /// Final samples computed beyond the last yielded window.
    pending: Vec<f32>,
    /// Decoder frames rendered so far, look-ahead included.
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
        Stream::new(self, p, plan, opts, Norms::Running(Vec::new()))
    }

    /// [`stream`](Self::stream) with every InstanceNorm given the whole pass's statistics
    /// (which it computes first): then the windows must reproduce the whole pass up to
    /// rounding, a check of everything the stream carries from one window to the next.
    #[doc(hidden)]
    pub fn stream_with_whole_norms<'a>(
        &'a self,
        p: &'a Prepared,
        plan: StreamPlan,
        opts: &'a ForwardOptions,
    ) -> Result<Stream<'a>> {
        self.run(|| {
            let mut rec = Vec::new();
            self.render_inner(p, 0..p.frames(), opts, Some(&mut rec))?;
            Ok(Stream::new(self, p, plan, opts, Norms::Fixed(rec)))
        })
    }

    /// Frames a stream's window computes beyond its end (its layers' reach ahead, from their
    /// kernels, strides and dilations; the first window pays it, later ones carry it).
    pub fn stream_lookahead(&self) -> usize {
        Reach::lookahead(self.decoder())
    }
}

impl<'a> Stream<'a> {
    fn new(
        model: &'a Kokoro,
        p: &'a Prepared,
        plan: StreamPlan,
        opts: &'a ForwardOptions,
        norms: Norms,
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
            cuts,
            pipe: None,
            norms: Some(norms),
            pending: Vec::new(),
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

    /// Decoder frames rendered so far, look-ahead included: what the windows cost.
    pub fn computed_frames(&self) -> usize {
        self.computed
    }

    fn reach(&self) -> Reach<'a> {
        Reach::new(self.model.decoder(), self.p.frames())
    }

    /// The longest next window whose rendering (look-ahead included) stays within `computed`
    /// frames, but never shorter than the plan's first window.
    pub fn window_within(&self, computed: usize) -> usize {
        let reach = self.reach();
        let (a, fed) = (self.next, self.computed);
        let mut w = computed.max(1);
        while w > self.plan.first && reach.frames_needed(a + w).saturating_sub(fed) > computed {
            w -= 1;
        }
        w.max(self.plan.first)
    }

    /// Length in frames of the next window (before snapping to a cut point), overriding the
    /// plan's growth from here on; later windows grow from this size. For a caller that paces
    /// the windows by how much audio its player has.
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
    /// computed)` each, look-ahead included in the second. The real cuts snap to pauses and
    /// phoneme boundaries within a third of a window, so this is the plan a caller can cost
    /// ahead of time, not an exact forecast.
    pub fn remaining_windows(&self) -> Vec<(usize, usize)> {
        let frames = self.p.frames();
        let reach = self.reach();
        let mut out = Vec::new();
        let mut a = self.next;
        let mut fed = self.computed;
        let mut size = self.size;
        while a < frames {
            let target = (size.round() as usize).clamp(1, self.plan.max.max(1));
            let want = a.saturating_add(target);
            let b = if want >= frames || frames - want < target.div_ceil(2) {
                frames
            } else {
                want
            };
            let need = if a == 0 && b == frames {
                frames
            } else {
                reach.frames_needed(b).max(fed)
            };
            out.push((b - a, need - fed));
            fed = need;
            a = b;
            size *= f64::from(self.plan.growth.max(1.0));
        }
        out
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

    /// The samples of frames `a..b`, `a` being the first frame not yet yielded.
    fn window(&mut self, a: usize, b: usize) -> Result<Vec<f32>> {
        let frames = self.p.frames();
        if a == 0 && b == frames {
            // one window: the plain pass
            self.computed = frames;
            return self
                .model
                .render_inner(self.p, 0..frames, self.opts, None)
                .map(|(w, _)| w);
        }
        if !self.p.fits(self.model.config()) {
            return Err(Error::BadStyle(
                "prepared by a model of another configuration".into(),
            ));
        }
        let cancel = Cancel(self.opts.cancel.as_deref());
        cancel.check()?;
        if self.pipe.is_none() {
            let (asr, f0, n, s) = self.p.decoder_inputs();
            let noise = if self.opts.deterministic {
                None
            } else {
                Some(self.opts.seed)
            };
            let norms = self.norms.take().unwrap_or(Norms::Running(Vec::new()));
            self.pipe = Some(Pipeline::new(
                self.model.decoder(),
                asr,
                f0,
                n,
                s,
                frames,
                noise,
                norms,
            ));
        }
        let pipe = self.pipe.as_mut().expect("pipeline");
        let need = pipe.reach().frames_needed(b).max(pipe.fed());
        let audio = pipe.push(need, cancel)?;
        self.computed = pipe.fed();
        let spf = self.p.samples_per_frame();
        let len = (b - a) * spf;
        self.pending.extend_from_slice(&audio);
        if self.pending.len() < len {
            return Err(Error::Numerical(format!(
                "stream: {} samples final for a window of {len}",
                self.pending.len()
            )));
        }
        let rest = self.pending.split_off(len);
        let out = std::mem::replace(&mut self.pending, rest);
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "audio sample {} is not finite",
                a * spf + i
            )));
        }
        Ok(out)
    }
}

impl Iterator for Stream<'_> {
    type Item = Result<Vec<f32>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.is_done() {
            return None;
        }
        let a = self.next;
        let b = self.cut(a);
        let model = self.model;
        // (on the model's threads, with its compute settings)
        match model.run(|| self.window(a, b)) {
            Ok(w) => {
                self.next = b;
                self.size *= f64::from(self.plan.growth.max(1.0));
                Some(Ok(w))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
