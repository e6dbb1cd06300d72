//! Keeping a real-time player fed: what the model costs on this machine, and from that when the
//! first sound may start and how much work may come next.
//!
//! The costs are measured, never assumed: the engine's warm-up pass seeds them, and every text
//! side and every window of audio the model computes updates them. The text side is a fixed part
//! plus a part per phoneme ([`CostFit`]); a window's cost is a measured curve over its length
//! ([`CostCurve`]), because small windows are dominated by fixed costs and long ones take faster
//! kernels: a machine that is 3× faster than real time on a whole sentence may be slower than
//! real time on a 0.2 s window.

use std::sync::Mutex;
use std::time::Duration;

/// Seconds per frame of audio (24 kHz, 600 samples).
pub(crate) const FRAME_S: f64 = 0.025;
/// Fraction of the audio in hand that the next piece of work may take (the rest is margin for
/// estimation error and scheduling).
const PACE_SHARE: f64 = 0.8;
/// Seconds of audio in hand kept free on top of that.
const PACE_MARGIN_S: f64 = 0.25;
/// The same two for fast-start windows, whose cost is known better.
const WINDOW_SHARE: f64 = 0.9;
const WINDOW_MARGIN_S: f64 = 0.03;
/// A chunk is not split into pieces shorter than this many phoneme characters (~3 words).
pub(crate) const PACE_MIN_PHONEMES: usize = 24;
/// How late, by the measured costs, a window may be for the first sound to start anyway, s: the
/// longest silence the plan accepts, so that a machine just fast enough does not hold the first
/// sound back for a whole window more.
const START_TOLERANCE_S: f64 = 0.035;

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
}

/// A cost over the size of a piece of work, learned from measurements without assuming its
/// shape: the measurements are kept in buckets of sizes (a factor √2 apart), each the recent
/// average (each new one discounts the older by [`CostCurve::DECAY`]), and a size between two
/// measured buckets costs what the straight line between them says. Below the smallest measured
/// size a piece costs what that size did (fixed costs do not shrink); beyond the largest, the
/// largest one's cost per unit (longer pieces are never dearer per unit).
#[derive(Debug, Clone)]
pub(crate) struct CostCurve {
    /// Per bucket: (weight, Σ units, Σ seconds), weighted.
    buckets: [(f64, f64, f64); CostCurve::BUCKETS],
}

impl Default for CostCurve {
    fn default() -> Self {
        CostCurve {
            buckets: [(0.0, 0.0, 0.0); CostCurve::BUCKETS],
        }
    }
}

impl CostCurve {
    const BUCKETS: usize = 40;
    const DECAY: f64 = 0.7;

    fn bucket(units: f64) -> usize {
        ((2.0 * units.max(1.0).log2()) as usize).min(Self::BUCKETS - 1)
    }

    pub(crate) fn add(&mut self, units: f64, secs: f64) {
        if !(units.is_finite() && secs.is_finite() && units > 0.0 && secs >= 0.0) {
            return;
        }
        let b = &mut self.buckets[Self::bucket(units)];
        let d = Self::DECAY;
        *b = (b.0 * d + 1.0, b.1 * d + units, b.2 * d + secs);
    }

    /// The measured points: (mean units, mean seconds) per bucket with data, by size.
    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.buckets
            .iter()
            .filter(|b| b.0 > 0.0 && b.1 > 0.0)
            .map(|b| (b.1 / b.0, b.2 / b.0))
    }

    /// Predicted seconds for `units`; `None` before the first measurement.
    pub(crate) fn predict(&self, units: f64) -> Option<f64> {
        let mut below: Option<(f64, f64)> = None;
        for (x, y) in self.points() {
            if x >= units {
                return Some(match below {
                    // between two measured sizes
                    Some((x0, y0)) if x > x0 => y0 + (y - y0) * (units - x0) / (x - x0),
                    _ => y,
                });
            }
            below = Some((x, y));
        }
        below.map(|(x, y)| y / x * units)
    }

    /// Most units whose predicted cost fits in `secs` (0 when not even the smallest does).
    pub(crate) fn units_within(&self, secs: f64) -> Option<f64> {
        self.predict(1.0)?;
        let (mut lo, mut hi) = (0.0f64, 1e6f64);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if self.predict(mid).is_some_and(|c| c <= secs) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }

    /// The measured points, for logs.
    pub(crate) fn summary(&self) -> Vec<(u32, u32)> {
        self.points()
            .map(|(x, y)| (x.round() as u32, (y * 1e3).round() as u32))
            .collect()
    }
}

/// [`Costs::summary`]: the text side's line, the windows' measured points.
pub(crate) type CostSummary = (Option<(f64, f64)>, Vec<(u32, u32)>);

/// What the model costs on this machine, shared by every utterance of an engine.
#[derive(Debug, Clone, Default)]
pub(crate) struct Costs {
    /// The text side (`prepare`): seconds against phoneme characters.
    pub prepare: CostFit,
    /// Decoder + generator: seconds against frames computed (context included).
    pub window: CostCurve,
    /// Frames per phoneme character (at speed 1), for sizing a chunk before it is prepared.
    frames: f64,
    phonemes: f64,
}

impl Costs {
    /// The text side's `(fixed s, s per phoneme)` and the windows' `(frames, ms)` points, for logs.
    pub(crate) fn summary(&self) -> CostSummary {
        (self.prepare.line(), self.window.summary())
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
    fn chunk_s(&self, phonemes: usize, speed: f32) -> Option<f64> {
        Some(
            self.prepare.predict(phonemes as f64)?
                + self.window.predict(self.frames_for(phonemes, speed))?,
        )
    }

    /// Most phoneme characters a chunk may have so that its text side and audio cost at most
    /// `secs`.
    fn phonemes_within(&self, secs: f64, speed: f32) -> Option<usize> {
        self.chunk_s(1, speed)?;
        let (mut lo, mut hi) = (0usize, hark_kokoro::MAX_PHONEMES + 1);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if self.chunk_s(mid, speed).is_some_and(|c| c <= secs) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
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
    /// Speech speed of the next chunk.
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
        crate::sync::lock(self.costs)
    }

    /// Whether the window costs have been measured (by the warm-up, or an earlier request).
    pub(crate) fn knows_window_costs(&self) -> bool {
        self.costs().window.predict(1.0).is_some()
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

    /// Seconds of audio the player still has when `emitted` samples of the utterance have been
    /// handed over (`None` before the first).
    pub(crate) fn in_hand_s(&self, emitted: u64) -> Option<f64> {
        let played = (self.clock)().saturating_sub(self.origin?).as_secs_f64();
        Some(emitted as f64 / f64::from(crate::SAMPLE_RATE) - played)
    }

    /// Seconds of work the next piece may take, when `emitted` samples of the utterance have
    /// been handed over: `share` of the audio still in hand, less `margin_s`. `None` before the
    /// first audio (nothing to keep fed yet).
    fn budget_s(&self, emitted: u64, share: f64, margin_s: f64) -> Option<f64> {
        Some(self.in_hand_s(emitted)? * share - margin_s)
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
        self.max_frames_in_hand(self.in_hand_s(emitted)?)
    }

    /// Most frames (context included) a window may compute while the player has `in_hand_s`
    /// of audio (`None`: not known yet). Before the first sound, the audio held back.
    pub(crate) fn max_frames_in_hand(&self, in_hand_s: f64) -> Option<usize> {
        let budget = in_hand_s * WINDOW_SHARE - WINDOW_MARGIN_S;
        self.costs()
            .window
            .units_within(budget)
            .map(|f| f.min(1e9) as usize)
    }

    /// Whether the first sound may start now, with `ahead.held_s` of audio in hand: whether,
    /// by the measured costs, every window still to come, and then the next chunk's text side
    /// and first window, will be ready before the player reaches it, give or take
    /// [`START_TOLERANCE_S`]. Before anything has been measured: yes (as soon as there is audio).
    pub(crate) fn may_start(&self, ahead: &Ahead) -> bool {
        let costs = self.costs();
        let mut t = 0.0;
        let mut audio = ahead.held_s + START_TOLERANCE_S;
        for &(yielded, computed) in &ahead.windows {
            let Some(c) = costs.window.predict(computed as f64) else {
                return true;
            };
            t += c;
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
            let (Some(prep), Some(win)) = (
                costs.prepare.predict(head as f64),
                costs.window.predict(first),
            ) else {
                return true;
            };
            t += prep + win;
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

    /// A curve follows costs that are not a straight line (fixed costs, faster kernels for long
    /// pieces), never predicts less below its smallest measurement, and scales per unit beyond
    /// its largest.
    #[test]
    fn cost_curve_follows_measured_costs_of_any_shape() {
        let mut c = CostCurve::default();
        assert_eq!(c.predict(10.0), None);
        assert_eq!(c.units_within(1.0), None);
        // 100 ms fixed, then 5 ms per unit up to 40 units, then 2 ms per unit
        let cost = |u: f64| 0.1 + 0.005 * u.min(40.0) + 0.002 * (u - 40.0).max(0.0);
        for u in [11.0, 22.0, 38.0, 60.0, 150.0, 400.0] {
            c.add(u, cost(u));
        }
        for u in [11.0, 22.0, 38.0, 60.0, 150.0, 400.0] {
            assert!((c.predict(u).unwrap() - cost(u)).abs() < 1e-9, "{u}");
        }
        // between measured sizes: on the segment between them
        let mid = c.predict(100.0).unwrap();
        assert!(mid > cost(60.0) && mid < cost(150.0), "{mid}");
        // below the smallest: its cost; beyond the largest: its cost per unit
        assert_eq!(c.predict(2.0).unwrap(), cost(11.0));
        assert!((c.predict(800.0).unwrap() - 2.0 * cost(400.0)).abs() < 1e-9);
        // what fits a budget
        let f = c.units_within(cost(150.0)).unwrap();
        assert!((f - 150.0).abs() < 0.01, "{f}");
        assert_eq!(c.units_within(0.05).unwrap(), 0.0);
        // recent measurements count most
        for _ in 0..10 {
            c.add(60.0, 2.0 * cost(60.0));
        }
        assert!(c.predict(60.0).unwrap() > 1.9 * cost(60.0));
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
        let want = (1.5 * WINDOW_SHARE - WINDOW_MARGIN_S - 0.04) / 0.01;
        assert!(f.abs_diff(want as usize) <= 1, "{f} vs {want}");
        // the player has caught up: only the minimum
        now.set(secs(12.5));
        assert_eq!(p.max_phonemes(48_000, 1.0), Some(PACE_MIN_PHONEMES));
        assert_eq!(p.max_frames(48_000), Some(0));
    }

    /// The first sound waits until the windows still to come (each at its measured cost) and
    /// the next chunk's start can all be ready in time, within the tolerance, and no longer.
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
        // that no window of that plan is later than the tolerance
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
                t <= audio + START_TOLERANCE_S,
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
