//! Streaming polyphase windowed-sinc resampler (24 kHz model audio → device rate).
//!
//! The ratio is reduced to `up / down`; each output sample is a dot product of
//! `2 * HALF` input samples with one precomputed phase of a Blackman-windowed
//! sinc low-pass (cut at 95 % of the lower Nyquist). Every phase is normalized
//! to unit DC gain. Runs on the producer side, never in the audio callback.

/// Taps on each side of the interpolation point.
const HALF: usize = 16;

/// Converts a mono stream from one rate to another, chunk by chunk.
#[derive(Debug, Clone)]
pub struct Resampler {
    up: usize,
    down: usize,
    coeffs: Vec<f32>,
    buf: Vec<f32>,
    /// Next output position in units of 1/`up` input samples, relative to `buf[0]`.
    pos: usize,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Resampler {
    /// A resampler from `from_hz` to `to_hz` (both > 0).
    pub fn new(from_hz: u32, to_hz: u32) -> Resampler {
        let (from, to) = (from_hz.max(1) as usize, to_hz.max(1) as usize);
        let g = gcd(from, to);
        let (up, down) = (to / g, from / g);
        let taps = 2 * HALF;
        let mut coeffs = vec![0.0f32; if up == down { 0 } else { up * taps }];
        if up != down {
            // Cut-off relative to the input Nyquist.
            let cutoff = 0.95 * (up as f64 / down as f64).min(1.0);
            for p in 0..up {
                let frac = p as f64 / up as f64;
                let row = &mut coeffs[p * taps..(p + 1) * taps];
                let mut sum = 0.0f64;
                let mut vals = [0.0f64; 2 * HALF];
                for (k, v) in vals.iter_mut().enumerate() {
                    // Distance (in input samples) from the output instant to tap k.
                    let d = k as f64 - (HALF as f64 - 1.0) - frac;
                    let x = d * cutoff;
                    let sinc = if x.abs() < 1e-12 {
                        1.0
                    } else {
                        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                    };
                    let t = (d / HALF as f64).clamp(-1.0, 1.0);
                    let w = 0.42
                        + 0.5 * (std::f64::consts::PI * t).cos()
                        + 0.08 * (2.0 * std::f64::consts::PI * t).cos();
                    *v = sinc * w;
                    sum += *v;
                }
                for (c, v) in row.iter_mut().zip(vals) {
                    *c = (v / sum) as f32;
                }
            }
        }
        let mut r = Resampler {
            up,
            down,
            coeffs,
            buf: Vec::with_capacity(8192),
            pos: 0,
        };
        r.reset();
        r
    }

    /// True when input and output rates are equal (samples pass through).
    pub fn is_identity(&self) -> bool {
        self.up == self.down
    }

    /// Forget all buffered input (after a stop or a seek).
    pub fn reset(&mut self) {
        self.buf.clear();
        if !self.is_identity() {
            // Zeros before the first sample so the first output is centred on it.
            self.buf.resize(HALF - 1, 0.0);
        }
        self.pos = 0;
    }

    /// Resample `input`, appending the produced samples to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if self.is_identity() {
            out.extend_from_slice(input);
            return;
        }
        self.buf.extend_from_slice(input);
        let taps = 2 * HALF;
        loop {
            let start = self.pos / self.up;
            if start + taps > self.buf.len() {
                break;
            }
            let phase = self.pos % self.up;
            let row = &self.coeffs[phase * taps..(phase + 1) * taps];
            let window = &self.buf[start..start + taps];
            let mut acc = 0.0f32;
            for (c, x) in row.iter().zip(window) {
                acc += c * x;
            }
            out.push(acc);
            self.pos += self.down;
        }
        let consumed = (self.pos / self.up).min(self.buf.len());
        self.buf.drain(..consumed);
        self.pos -= consumed * self.up;
    }

    /// Push enough silence through to emit the samples still held back, then reset.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if !self.is_identity() {
            let zeros = [0.0f32; HALF];
            self.process(&zeros, out);
        }
        self.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    /// Frequency estimate from zero crossings.
    fn crossings_hz(x: &[f32], rate: u32) -> f32 {
        let c = x.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
        c as f32 * rate as f32 / x.len() as f32
    }

    #[test]
    fn identity_passes_through() {
        let mut r = Resampler::new(24_000, 24_000);
        let x = sine(440.0, 24_000, 1000);
        let mut out = Vec::new();
        r.process(&x, &mut out);
        assert_eq!(out, x);
    }

    #[test]
    fn streaming_equals_one_shot_and_keeps_pitch_and_level() {
        for &to in &[48_000u32, 44_100, 22_050, 16_000] {
            let x = sine(440.0, 24_000, 24_000);
            let mut one = Vec::new();
            let mut r = Resampler::new(24_000, to);
            r.process(&x, &mut one);
            r.finish(&mut one);
            let mut parts = Vec::new();
            let mut r = Resampler::new(24_000, to);
            for c in x.chunks(777) {
                r.process(c, &mut parts);
            }
            r.finish(&mut parts);
            assert_eq!(one.len(), parts.len(), "to {to}");
            assert!(one.iter().zip(&parts).all(|(a, b)| (a - b).abs() < 1e-6));
            // Length: one second in, one second (plus the flushed tail) out.
            let expect = to as usize;
            assert!(
                one.len() >= expect && one.len() <= expect + to as usize / 1000 + 1,
                "to {to}: {} samples",
                one.len()
            );
            let mid = &one[to as usize / 10..to as usize * 9 / 10];
            let f = crossings_hz(mid, to);
            assert!((f - 440.0).abs() < 3.0, "to {to}: {f} Hz");
            let peak = mid.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!((peak - 0.5).abs() < 0.01, "to {to}: peak {peak}");
        }
    }

    #[test]
    fn downsampling_removes_content_above_the_new_nyquist() {
        // 10 kHz tone at 24 kHz → 16 kHz (Nyquist 8 kHz): must be attenuated.
        let x = sine(10_000.0, 24_000, 24_000);
        let mut out = Vec::new();
        let mut r = Resampler::new(24_000, 16_000);
        r.process(&x, &mut out);
        let mid = &out[1600..14_400];
        let rms = (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32).sqrt();
        assert!(rms < 0.02, "alias rms {rms}");
    }
}
