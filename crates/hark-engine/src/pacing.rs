//! Keeping a real-time player fed: what the model costs on this machine, and from that when the
//! first sound may start and how much work may come next.
//!
//! The costs are measured, never assumed: the engine's warm-up pass seeds them, and every text
//! side and every window of audio the model computes updates them. Each is a fixed part plus a
//! part per unit of work ([`CostFit`]), because small windows are dominated by the fixed part:
//! a machine that is 1.5× faster than real time on a whole sentence may be slower than real
//! time on a 0.2 s window.

use std::sync::Mutex;
use std::time::Duration;

/// Seconds per frame of audio (24 kHz, 600 samples).
pub(crate) const FRAME_S: f64 = 0.025;
/// Fraction of the audio in hand that the next piece of work may take (the rest is margin for
/// estimation error and scheduling).
const PACE_SHARE: f64 = 0.8;
/// Seconds of audio in hand kept free on top of that.
const PACE_MARGIN_S: f64 = 0.15;
/// The same two for fast-start windows, whose cost is known better.
const WINDOW_SHARE: f64 = 0.9;
const WINDOW_MARGIN_S: f64 = 0.03;
/// A chunk is not split into pieces shorter than this many phoneme characters (~3 words).
pub(crate) const PACE_MIN_PHONEMES: usize = 24;
/// Predicted costs are scaled by this before the first sound is planned (measurement noise,
/// another process taking a core for a moment).
const START_SAFETY: f64 = 1.1;
/// And this much is kept in hand on top, s.
const START_MARGIN_S: f64 = 0.04;

/// A cost `fixed + per_unit · units` seconds, fitted by least squares over the measurements,
/// recent ones weighted more (each new one discounts the older by [`CostFit::DECAY`]), so it
/// follows a machine whose speed changes (load, thermal limits, battery).
#[derive(Debug, Clone, Default)]
pub(crate) struct CostFit {
    w: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
}

impl CostFit {
    /// Weight left to the older measurements when a new one arrives.
    const DECAY: f64 = 0.9;

    pub(crate) fn add(&mut self, units: f64, secs: f64) {
        if !(units.is_finite() && secs.is_finite() && units > 0.0 && secs >= 0.0) {
            return;
        }
        let d = Self::DECAY;
        self.w = self.w * d + 1.0;
        self.sx = self.sx * d + units;
        self.sy = self.sy * d + secs;
        self.sxx = self.sxx * d + units * units;
        self.sxy = self.sxy * d + units * secs;
    }

    /// `(fixed, per_unit)`, both ≥ 0; `None` before the first measurement. With one distinct
    /// size measured, the cost is taken as proportional (no fixed part).
    pub(crate) fn line(&self) -> Option<(f64, f64)> {
        if self.w <= 0.0 || self.sx <= 0.0 {
            return None;
        }
        let (mx, my) = (self.sx / self.w, self.sy / self.w);
        let var = self.sxx / self.w - mx * mx;
        if var <= 1e-9 * mx * mx.max(1.0) {
            return Some((0.0, self.sy / self.sx));
        }
        let per = ((self.sxy / self.w - mx * my) / var).max(0.0);
        let fixed = my - per * mx;
        if fixed < 0.0 {
            // a line through the origin, fitted to the same points
            return Some((0.0, self.sxy / self.sxx));
        }
        Some((fixed, per))
    }

    /// Predicted seconds for `units`.
    pub(crate) fn predict(&self, units: f64) -> Option<f64> {
        self.line().map(|(a, b)| a + b * units)
    }

    /// Most units whose predicted cost fits in `secs` (0 when not even the fixed part does).
    pub(crate) fn units_within(&self, secs: f64) -> Option<f64> {
        let (a, b) = self.line()?;
        if b <= 0.0 {
            return Some(if secs >= a { f64::MAX } else { 0.0 });
        }
        Some(((secs - a) / b).max(0.0))
    }
}

/// What the model costs on this machine, shared by every utterance of an engine.
#[derive(Debug, Clone, Default)]
pub(crate) struct Costs {
    /// The text side (`prepare`): seconds against phoneme characters.
    pub prepare: CostFit,
    /// Decoder + generator: seconds against frames computed (context included).
    pub window: CostFit,
    /// Frames per phoneme character (at speed 1), for sizing a chunk before it is prepared.
    frames: f64,
    phonemes: f64,
}

impl Costs {
    /// `(fixed, per unit)` of the text side (per phoneme) and of a window (per frame), for logs.
    pub(crate) fn lines(&self) -> [Option<(f64, f64)>; 2] {
        [self.prepare.line(), self.window.line()]
    }

    pub(crate) fn prepared(&mut self, phonemes: usize, frames: usize, speed: f32, secs: f64) {
        self.prepare.add(phonemes as f64, secs);
        self.frames += frames as f64 * f64::from(speed);
        self.phonemes += phonemes as f64;
    }

    /// Frames a chunk of `phonemes` characters will have at `speed` (a guess before its text
    /// side has run; 2.2 per character, about average English, before anything was measured).
    pub(crate) fn frames_for(&self, phonemes: usize, speed: f32) -> f64 {
        let per = if self.phonemes > 0.0 {
            self.frames / self.phonemes
        } else {
            2.2
        };
        phonemes as f64 * per / f64::from(speed.max(0.1))
    }

    /// Predicted seconds for the text side and the whole audio of a chunk.
    #[cfg(test)]
    fn chunk_s(&self, phonemes: usize, speed: f32) -> Option<f64> {
        Some(
            self.prepare.predict(phonemes as f64)?
                + self.window.predict(self.frames_for(phonemes, speed))?,
        )
    }

    /// Most phoneme characters a chunk may have so that its text side and audio cost at most
    /// `secs`.
    fn phonemes_within(&self, secs: f64, speed: f32) -> Option<usize> {
        let (pa, pb) = self.prepare.line()?;
        let (wa, wb) = self.window.line()?;
        let per = pb + wb * self.frames_for(1, speed);
        if per <= 0.0 {
            return None;
        }
        Some(((secs - pa - wa) / per).max(0.0) as usize)
    }
}

/// The work still ahead of the first sound, for [`Pacer::may_start`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Ahead {
    /// Seconds of audio computed and held back so far.
    pub held_s: f64,
    /// The current chunk's windows still to compute: (frames yielded, frames computed).
    pub windows: Vec<(usize, usize)>,
    /// Phoneme characters of the chunk after this one, `None` if this is the last.
    pub next_phonemes: Option<usize>,
    /// Whether that chunk's first part will be windowed (fast start).
    pub next_windowed: bool,
    /// Frames (context included) of a first window.
    pub first_window: usize,
    pub speed: f32,
}

/// Keeps a real-time player fed during one utterance. It reads the playback clock and the
/// shared [`Costs`] and says when the first sound may start, how large the next chunk may be,
/// and how large the next window.
pub(crate) struct Pacer<'a> {
    clock: &'a dyn Fn() -> Duration,
    costs: &'a Mutex<Costs>,
    /// Clock reading when the utterance's first audio was handed over.
    origin: Option<Duration>,
}

impl<'a> Pacer<'a> {
    pub(crate) fn new(clock: &'a dyn Fn() -> Duration, costs: &'a Mutex<Costs>) -> Self {
        Self {
            clock,
            costs,
            origin: None,
        }
    }

    fn costs(&self) -> std::sync::MutexGuard<'_, Costs> {
        self.costs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the first audio has been handed to the player.
    pub(crate) fn has_started(&self) -> bool {
        self.origin.is_some()
    }

    /// The first audio has been handed to the player.
    pub(crate) fn started(&mut self) {
        if self.origin.is_none() {
            self.origin = Some((self.clock)());
        }
    }

    /// Seconds of work the next piece may take, when `emitted` samples of the utterance have
    /// been handed over: `share` of the audio still in hand, less `margin_s`. `None` before the
    /// first audio (nothing to keep fed yet).
    fn budget_s(&self, emitted: u64, share: f64, margin_s: f64) -> Option<f64> {
        let origin = self.origin?;
        let played = (self.clock)().saturating_sub(origin).as_secs_f64();
        let lead = emitted as f64 / f64::from(crate::SAMPLE_RATE) - played;
        Some(lead * share - margin_s)
    }

    /// Most phoneme characters the next chunk may have (`None`: no limit known yet).
    pub(crate) fn max_phonemes(&self, emitted: u64, speed: f32) -> Option<usize> {
        let budget = self.budget_s(emitted, PACE_SHARE, PACE_MARGIN_S)?;
        self.costs()
            .phonemes_within(budget, speed)
            .map(|n| n.max(PACE_MIN_PHONEMES))
    }

    /// Most frames (context included) the next window may compute (`None`: not known yet).
    pub(crate) fn max_frames(&self, emitted: u64) -> Option<usize> {
        let budget = self.budget_s(emitted, WINDOW_SHARE, WINDOW_MARGIN_S)?;
        self.costs()
            .window
            .units_within(budget)
            .map(|f| f.min(1e9) as usize)
    }

    /// Whether the first sound may start now, with `ahead.held_s` of audio in hand: whether,
    /// by the measured costs, every window still to come, and then the next chunk's text side
    /// and first window, will be ready before the player reaches it. Before anything has been
    /// measured: yes (as soon as there is audio).
    pub(crate) fn may_start(&self, ahead: &Ahead) -> bool {
        let costs = self.costs();
        let window = |frames: usize| costs.window.predict(frames as f64);
        let mut t = 0.0;
        let mut audio = ahead.held_s - START_MARGIN_S;
        for &(yielded, computed) in &ahead.windows {
            let Some(c) = window(computed) else {
                return true;
            };
            t += c * START_SAFETY;
            if t > audio {
                return false;
            }
            audio += yielded as f64 * FRAME_S;
        }
        if let Some(p) = ahead.next_phonemes {
            let head = p.min(PACE_MIN_PHONEMES);
            let first = if ahead.next_windowed {
                (ahead.first_window as f64).min(costs.frames_for(head, ahead.speed))
            } else {
                costs.frames_for(head, ahead.speed)
            };
            let (Some(prep), Some(win)) = (costs.prepare.predict(head as f64), window(0)) else {
                return true;
            };
            let win = win + costs.window.line().map_or(0.0, |l| l.1) * first;
            t += (prep + win) * START_SAFETY;
            if t > audio {
                return false;
            }
        }
        true
    }

    /// Predicted seconds for a whole chunk of `phonemes` characters (text side and audio).
    #[cfg(test)]
    fn chunk_s(&self, phonemes: usize) -> Option<f64> {
        self.costs().chunk_s(phonemes, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn cost_fit_finds_the_fixed_part_and_follows_change() {
        let mut f = CostFit::default();
        assert_eq!(f.line(), None);
        f.add(10.0, 0.2);
        // one size: proportional
        let (a, b) = f.line().unwrap();
        assert_eq!(a, 0.0);
        assert!((b - 0.02).abs() < 1e-12);
        // 0.05 s fixed + 0.01 s per unit
        for u in [10.0, 20.0, 40.0, 80.0, 10.0, 160.0] {
            f.add(u, 0.05 + 0.01 * u);
        }
        let (a, b) = f.line().unwrap();
        assert!(
            (a - 0.05).abs() < 0.01 && (b - 0.01).abs() < 0.001,
            "{a} {b}"
        );
        assert!((f.predict(100.0).unwrap() - 1.05).abs() < 0.05);
        assert!((f.units_within(0.55).unwrap() - 50.0).abs() < 3.0);
        assert_eq!(f.units_within(0.01).unwrap(), 0.0);
        // the machine gets twice as slow: recent measurements win
        for _ in 0..4 {
            for u in [10.0, 80.0] {
                f.add(u, 2.0 * (0.05 + 0.01 * u));
            }
        }
        // most of the way to the new costs (0.3 s and 1.7 s) from the old (0.15 s, 0.85 s)
        let (p10, p80) = (f.predict(10.0).unwrap(), f.predict(80.0).unwrap());
        assert!(p10 > 0.225 && p80 > 1.275, "{p10} {p80}");
        // nonsense is ignored
        let before = f.line();
        f.add(f64::NAN, 1.0);
        f.add(0.0, 1.0);
        f.add(5.0, -1.0);
        assert_eq!(f.line(), before);
    }

    fn costs(prep: (f64, f64), win: (f64, f64)) -> Mutex<Costs> {
        let mut c = Costs::default();
        for p in [20usize, 80] {
            let frames = (p as f64 * 2.0) as usize;
            c.prepared(p, frames, 1.0, prep.0 + prep.1 * p as f64);
        }
        for f in [14usize, 38, 200] {
            c.window.add(f as f64, win.0 + win.1 * f as f64);
        }
        Mutex::new(c)
    }

    #[test]
    fn budgets_come_from_the_audio_in_hand_and_the_measured_cost() {
        let now = Cell::new(secs(10.0));
        let clock = || now.get();
        // text side 20 ms + 1 ms/phoneme; windows 40 ms + 10 ms/frame (2.5x real time per frame)
        let c = costs((0.02, 0.001), (0.04, 0.01));
        let mut p = Pacer::new(&clock, &c);
        // nothing handed over yet: no constraint
        assert_eq!(p.max_phonemes(48_000, 1.0), None);
        assert_eq!(p.max_frames(48_000), None);
        p.started();
        now.set(secs(10.5));
        // 2 s handed over, 0.5 s played: 1.5 s in hand
        let budget = 1.5 * PACE_SHARE - PACE_MARGIN_S;
        let n = p.max_phonemes(48_000, 1.0).unwrap();
        let cost = p.chunk_s(n).unwrap();
        assert!(
            cost <= budget + 1e-9 && p.chunk_s(n + 2).unwrap() > budget,
            "{n}: {cost}"
        );
        // a second start does not move the origin
        p.started();
        assert_eq!(p.max_phonemes(48_000, 1.0), Some(n));
        // windows: what fits 1.5 s · 0.9 − 0.03
        let f = p.max_frames(48_000).unwrap();
        assert_eq!(
            f,
            ((1.5 * WINDOW_SHARE - WINDOW_MARGIN_S - 0.04) / 0.01) as usize
        );
        // the player has caught up: only the minimum
        now.set(secs(12.5));
        assert_eq!(p.max_phonemes(48_000, 1.0), Some(PACE_MIN_PHONEMES));
        assert_eq!(p.max_frames(48_000), Some(0));
    }

    /// The first sound waits until the windows still to come (each at its fixed cost plus per
    /// frame) and the next chunk's start can all be ready in time, and no longer.
    #[test]
    fn the_first_sound_waits_for_what_a_slow_machine_needs() {
        let clock = || Duration::ZERO;
        let windows = |first: usize| -> Vec<(usize, usize)> {
            // 8, 16, 32, … frames with 3 frames of context each side
            let mut v = Vec::new();
            let mut w = first;
            let mut left = 300usize;
            while left > 0 {
                let y = w.min(left);
                v.push((y, y + 6));
                left -= y;
                w *= 2;
            }
            v
        };
        let ahead = |held_s: f64, windows: Vec<(usize, usize)>| Ahead {
            held_s,
            windows,
            next_phonemes: Some(200),
            next_windowed: true,
            first_window: 14,
            speed: 1.0,
        };
        // a fast machine: 20 ms + 5 ms per frame (a frame is 25 ms): start at once
        let fast = costs((0.02, 0.0005), (0.02, 0.005));
        let p = Pacer::new(&clock, &fast);
        assert!(p.may_start(&ahead(0.2, windows(16))));
        // a slow one: 60 ms + 16 ms per frame. A 16-frame window takes 0.42 s (with its
        // context) for 0.4 s of audio: with 0.2 s in hand, no.
        let slow = costs((0.04, 0.0015), (0.06, 0.016));
        let p = Pacer::new(&clock, &slow);
        assert!(!p.may_start(&ahead(0.2, windows(16))));
        // held back until enough audio is in hand: find the least that works, then check
        // that every window of that plan really is in time
        let mut held = 0.2;
        while !p.may_start(&ahead(held, windows(16))) {
            held += 0.05;
        }
        assert!(held > 0.3 && held < 3.0, "{held}");
        let c = slow.lock().unwrap().clone();
        let mut t = 0.0;
        let mut audio = held;
        for (y, comp) in windows(16) {
            t += c.window.predict(comp as f64).unwrap();
            assert!(
                t <= audio,
                "window ready at {t:.2} s, needed at {audio:.2} s"
            );
            audio += y as f64 * FRAME_S;
        }
        // the last chunk of the utterance needs nothing after it
        let mut last = ahead(0.2, vec![]);
        assert!(!p.may_start(&last) || c.prepare.predict(24.0).unwrap() < 0.1);
        last.next_phonemes = None;
        assert!(p.may_start(&last));
        // nothing measured yet: start as soon as there is audio
        let none = Mutex::new(Costs::default());
        assert!(Pacer::new(&clock, &none).may_start(&ahead(0.2, windows(16))));
    }
}
