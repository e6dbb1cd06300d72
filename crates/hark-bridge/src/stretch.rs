//! Time-stretching without a change of pitch (WSOLA: waveform-similarity overlap-add), for
//! OpenAI `speed` values beyond what the model does itself (0.5–2.0): the engine speaks at
//! its limit and this stretches the result by the rest (up to 2× either way).
//!
//! Streaming: [`Stretch::push`] takes any chunking of the input and returns the output samples
//! that are final; [`Stretch::finish`] returns the rest. The output has `input / rate`
//! samples (± one hop). 20 ms Hann windows at 50 % overlap; each window is taken from within
//! ±5 ms of its nominal place where it best continues the previous one, so periods line up.

/// Window length: 20 ms at 24 kHz.
const WIN: usize = 480;
/// Output hop (half a window: Hann windows then add up to 1).
const HOP: usize = WIN / 2;
/// Search radius around the nominal input position: 5 ms.
const TOL: usize = 120;

/// A streaming time-stretcher; `rate` > 1 makes speech faster (shorter).
#[derive(Debug)]
pub struct Stretch {
    rate: f64,
    window: Vec<f32>,
    /// Input not yet consumed; `input[0]` is input sample number `in_base`.
    input: Vec<f32>,
    in_base: usize,
    in_total: usize,
    /// Overlap-add accumulator; `acc[0]` is output sample number `out_base`.
    acc: Vec<f32>,
    out_base: usize,
    /// Next frame.
    k: usize,
    /// Input position where the previous frame was taken from.
    prev: Option<usize>,
}

impl Stretch {
    /// A stretcher by `rate` (clamped to 0.25–4).
    pub fn new(rate: f64) -> Stretch {
        let window = (0..WIN)
            .map(|n| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / WIN as f64).cos()) as f32
            })
            .collect();
        Stretch {
            rate: rate.clamp(0.25, 4.0),
            window,
            input: Vec::new(),
            in_base: 0,
            in_total: 0,
            acc: vec![0.0; WIN],
            out_base: 0,
            k: 0,
            prev: None,
        }
    }

    /// Nominal input position of frame `k`.
    fn nominal(&self, k: usize) -> usize {
        (k as f64 * HOP as f64 * self.rate).round() as usize
    }

    /// Input sample `i` (absolute), zero past what was given.
    fn at(&self, i: usize) -> f32 {
        i.checked_sub(self.in_base)
            .and_then(|j| self.input.get(j))
            .copied()
            .unwrap_or(0.0)
    }

    /// Where frame `k` is taken from: near its nominal place, where it best continues the
    /// previous frame's natural continuation.
    fn source(&self, k: usize) -> usize {
        let nominal = self.nominal(k);
        let Some(prev) = self.prev else {
            return nominal;
        };
        let target = prev + HOP;
        let lo = nominal.saturating_sub(TOL).max(self.in_base);
        let hi = nominal + TOL;
        let mut best = (f32::NEG_INFINITY, nominal.max(lo));
        let mut c = lo;
        while c <= hi {
            // Every other sample is enough to find the best alignment.
            let mut dot = 0.0f32;
            let mut n = 0;
            while n < WIN {
                dot += self.at(c + n) * self.at(target + n);
                n += 2;
            }
            if dot > best.0 {
                best = (dot, c);
            }
            c += 1;
        }
        best.1
    }

    /// Input needed before frame `k` can be placed (also enough that the output it completes,
    /// up to the next frame, is within `input / rate`).
    fn needed(&self, k: usize) -> usize {
        let reach = self.nominal(k + 1) + TOL + WIN;
        match self.prev {
            Some(p) => reach.max(p + HOP + WIN),
            None => reach,
        }
    }

    fn place(&mut self, k: usize, out: &mut Vec<f32>) {
        let src = self.source(k);
        let start = k * HOP - self.out_base;
        for n in 0..WIN {
            self.acc[start + n] += self.window[n] * self.at(src + n);
        }
        self.prev = Some(src);
        // Everything before the next frame's start is final.
        let done = (k + 1) * HOP - self.out_base;
        out.extend_from_slice(&self.acc[..done]);
        self.acc.drain(..done);
        self.acc.resize(WIN, 0.0);
        self.out_base += done;
        // Input before what the next frames can reach is no longer needed.
        // (At the end, frames are placed past the input: there is less to drop.)
        let keep_from = self
            .nominal(k + 1)
            .saturating_sub(TOL)
            .min(src + HOP)
            .max(self.in_base);
        let drop = (keep_from - self.in_base).min(self.input.len());
        self.input.drain(..drop);
        self.in_base += drop;
    }

    /// Takes `samples`; appends the output that is final to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        self.input.extend_from_slice(samples);
        self.in_total += samples.len();
        while self.needed(self.k) <= self.in_total {
            self.place(self.k, out);
            self.k += 1;
        }
    }

    /// The input is complete: appends the rest of the output to `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let total_out = (self.in_total as f64 / self.rate).round() as usize;
        while self.out_base < total_out {
            self.place(self.k, out);
            self.k += 1;
        }
        out.truncate(out.len().saturating_sub(self.out_base - total_out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, hz: f32) -> Vec<f32> {
        (0..n)
            .map(|i| 0.5 * (i as f32 * 2.0 * std::f32::consts::PI * hz / 24_000.0).sin())
            .collect()
    }

    fn crossings(x: &[f32]) -> usize {
        x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count()
    }

    fn run(rate: f64, input: &[f32], chunk: usize) -> Vec<f32> {
        let mut s = Stretch::new(rate);
        let mut out = Vec::new();
        for c in input.chunks(chunk) {
            s.push(c, &mut out);
        }
        s.finish(&mut out);
        out
    }

    #[test]
    fn length_scales_and_pitch_stays() {
        let input = tone(48_000, 200.0);
        for rate in [2.0, 0.5, 1.5] {
            let out = run(rate, &input, 1000);
            let want = (48_000.0 / rate).round() as usize;
            assert_eq!(out.len(), want, "rate {rate}");
            // Same pitch: zero crossings per second stay at 200 (within 3 %).
            let per_s = crossings(&out) as f64 / (out.len() as f64 / 24_000.0);
            assert!((per_s - 200.0).abs() < 6.0, "rate {rate}: {per_s} Hz");
            // The level is kept (no holes or doubled overlaps).
            let mid = &out[out.len() / 4..out.len() * 3 / 4];
            let peak = mid.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!((0.4..0.6).contains(&peak), "rate {rate}: peak {peak}");
        }
    }

    /// Every input length, every rate: no panic, and the promised length. (The fuzz harness
    /// found `finish` draining past the input of a short utterance at rate 2.)
    #[test]
    fn any_length_at_any_rate() {
        for rate in [0.25, 0.5, 0.77, 1.37, 2.0, 3.3, 4.0] {
            for n in (0..2000).step_by(53).chain([4321]) {
                let out = run(rate, &tone(n, 230.0), 333);
                let want = (n as f64 / rate).round() as usize;
                assert!(
                    out.len().abs_diff(want) <= HOP,
                    "rate {rate}, {n} in: {} out",
                    out.len()
                );
            }
        }
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input = tone(30_000, 170.0);
        let one = run(2.0, &input, input.len());
        for chunk in [1, 97, 480, 5000] {
            assert_eq!(run(2.0, &input, chunk), one, "chunk {chunk}");
        }
        assert!(run(2.0, &[], 10).is_empty());
    }
}
