//! The 20-point STFT (magnitude and phase of the harmonic source, the generator's input) and
//! the inverse STFT of its output (torch.stft / torch.istft semantics: periodic Hann window,
//! centred, reflect padding).
//!
//! Ports `TorchSTFT` of kokoro 0.9.4's `kokoro/istftnet.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/istftnet.py>).

use rayon::prelude::*;

/// Periodic Hann window of length `n`.
pub(crate) fn hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        .collect()
}

/// One-sided STFT (center, reflect padding, periodic Hann): `x [n]` →
/// `[2·bins, frames]` = magnitudes then phases, `frames = n / hop + 1`.
pub(crate) fn stft_mag_phase(x: &[f32], n_fft: usize, hop: usize) -> (Vec<f32>, usize) {
    let frames = x.len() / hop + 1;
    (stft_range(x, 0, x.len(), 0..frames, n_fft, hop), frames)
}

/// The frames `range` of [`stft_mag_phase`] of a signal of `n` samples, of which `x` holds
/// those from `x0` on (every sample the frames read, reflections included):
/// `[2·bins, range.len()]`.
pub(crate) fn stft_range(
    x: &[f32],
    x0: usize,
    n: usize,
    range: std::ops::Range<usize>,
    n_fft: usize,
    hop: usize,
) -> Vec<f32> {
    let pad = n_fft / 2;
    let bins = n_fft / 2 + 1;
    let frames = range.len();
    let first = range.start;
    let w = hann(n_fft);
    let get = |idx: isize| -> f32 {
        // reflect padding (no edge repeat)
        let m = n as isize;
        let mut i = idx;
        if i < 0 {
            i = -i;
        }
        if i >= m {
            i = 2 * (m - 1) - i;
        }
        x[i.clamp(0, m - 1) as usize - x0]
    };
    let cos_t: Vec<f64> = (0..bins * n_fft)
        .map(|i| (std::f64::consts::TAU * ((i / n_fft) * (i % n_fft)) as f64 / n_fft as f64).cos())
        .collect();
    let sin_t: Vec<f64> = (0..bins * n_fft)
        .map(|i| (std::f64::consts::TAU * ((i / n_fft) * (i % n_fft)) as f64 / n_fft as f64).sin())
        .collect();
    let mut out = vec![0f32; 2 * bins * frames];
    let (mag, ph) = out.split_at_mut(bins * frames);
    let mag_ptr = crate::kernels::ops::SendPtr(mag.as_mut_ptr());
    let ph_ptr = crate::kernels::ops::SendPtr(ph.as_mut_ptr());
    (0..frames).into_par_iter().with_min_len(256).for_each(|f| {
        let mut raw = [0f32; 64];
        let mut buf = [0f64; 64];
        let start = ((first + f) * hop) as isize - pad as isize;
        for j in 0..n_fft {
            raw[j] = get(start + j as isize);
            buf[j] = raw[j] as f64 * w[j];
        }
        // A constant frame (unvoiced excitation is exactly tanh(bias)) windowed by the symmetric
        // periodic Hann window has an exactly real spectrum that is zero above bin 1. Use those
        // exact values instead of round-off residues, whose arbitrary phases the network would
        // amplify (their phase is an input feature regardless of magnitude).
        let constant = raw[..n_fft].iter().all(|v| *v == raw[0]);
        for k in 0..bins {
            let (mut re, mut im) = (0f64, 0f64);
            if !(constant && k >= 2) {
                for j in 0..n_fft {
                    re += buf[j] * cos_t[k * n_fft + j];
                    im -= buf[j] * sin_t[k * n_fft + j];
                }
            }
            if constant || k == 0 || 2 * k == n_fft {
                im = 0.0;
            }
            let (re, im) = (re as f32, im as f32);
            let (mp, pp) = (mag_ptr, ph_ptr);
            // SAFETY: each frame writes its own column of mag and phase.
            unsafe {
                *mp.0.add(k * frames + f) = (re * re + im * im).sqrt();
                *pp.0.add(k * frames + f) = im.atan2(re);
            }
        }
    });
    out
}

/// iSTFT of the generator's `conv_post` output `y [2·bins, frames]`: magnitude `exp(y[:bins])`,
/// phase `sin(y[bins:])` (radians). Returns `hop · (frames − 1)` samples.
pub(crate) fn istft_from_post(y: &[f32], frames: usize, n_fft: usize, hop: usize) -> Vec<f32> {
    let bins = n_fft / 2 + 1;
    assert_eq!(y.len(), 2 * bins * frames);
    let (mag, ph) = y.split_at(bins * frames);
    let mag: Vec<f32> = mag.iter().map(|v| v.exp()).collect();
    let ph: Vec<f32> = ph.iter().map(|v| v.sin()).collect();
    istft(&mag, &ph, frames, n_fft, hop)
}

/// Inverse of [`stft_mag_phase`] (torch.istft semantics: irfft per frame ignoring the imaginary
/// parts of DC and Nyquist, periodic Hann synthesis window, division by the overlap-added squared
/// window, `n_fft/2` samples trimmed at both ends). `mag`, `phase`: `[bins, frames]`.
pub(crate) fn istft(
    mag: &[f32],
    phase: &[f32],
    frames: usize,
    n_fft: usize,
    hop: usize,
) -> Vec<f32> {
    let bins = n_fft / 2 + 1;
    assert_eq!(mag.len(), bins * frames);
    assert_eq!(phase.len(), bins * frames);
    let w = hann(n_fft);
    let total = n_fft + hop * (frames - 1);
    let (basis_c, basis_s) = inverse_basis(n_fft);
    // Per-frame windowed signals, computed in parallel, then overlap-added.
    let mut frames_buf = vec![0f64; frames * n_fft];
    frames_buf
        .par_chunks_mut(n_fft)
        .enumerate()
        .for_each(|(f, s)| {
            synth_frame(s, &basis_c, &basis_s, &w, |k| {
                (mag[k * frames + f] as f64, phase[k * frames + f] as f64)
            })
        });
    let mut acc = vec![0f64; total];
    let mut env = vec![0f64; total];
    for f in 0..frames {
        for j in 0..n_fft {
            acc[f * hop + j] += frames_buf[f * n_fft + j];
            env[f * hop + j] += w[j] * w[j];
        }
    }
    let pad = n_fft / 2;
    let n_out = hop * (frames - 1);
    (0..n_out)
        .map(|m| {
            let e = env[m + pad];
            (if e > 1e-11 {
                acc[m + pad] / e
            } else {
                acc[m + pad]
            }) as f32
        })
        .collect()
}

/// The inverse real DFT basis, `(cos, sin)` rows of `n_fft` per bin:
/// s[n] = (1/N)[X0 + (−1)^n X_{N/2} + 2Σ(Re cos − Im sin)].
fn inverse_basis(n_fft: usize) -> (Vec<f64>, Vec<f64>) {
    let bins = n_fft / 2 + 1;
    let mut basis_c = vec![0f64; bins * n_fft];
    let mut basis_s = vec![0f64; bins * n_fft];
    for k in 0..bins {
        let edge = k == 0 || 2 * k == n_fft;
        let scale = if edge { 1.0 } else { 2.0 } / n_fft as f64;
        for j in 0..n_fft {
            let a = std::f64::consts::TAU * (k * j) as f64 / n_fft as f64;
            basis_c[k * n_fft + j] = scale * a.cos();
            basis_s[k * n_fft + j] = if edge { 0.0 } else { -scale * a.sin() };
        }
    }
    (basis_c, basis_s)
}

/// One frame's windowed signal into `s` (zeroed, `n_fft` long) from its spectrum: `spec(k)` is
/// bin k's `(magnitude, phase)`. The whole pass and the stream share it, so they agree bit for bit.
fn synth_frame(
    s: &mut [f64],
    basis_c: &[f64],
    basis_s: &[f64],
    w: &[f64],
    spec: impl Fn(usize) -> (f64, f64),
) {
    let n_fft = s.len();
    for (k, (c, sn)) in basis_c
        .chunks_exact(n_fft)
        .zip(basis_s.chunks_exact(n_fft))
        .enumerate()
    {
        let (mag, p) = spec(k);
        let (re, im) = (mag * p.cos(), mag * p.sin());
        for ((sj, cj), snj) in s.iter_mut().zip(c).zip(sn) {
            *sj += re * cj + im * snj;
        }
    }
    for (sj, wj) in s.iter_mut().zip(w) {
        *sj *= wj;
    }
}

/// [`istft_from_post`] frame by frame: each push overlap-adds its frames to the tail kept
/// from the previous ones and hands out the samples no later frame reaches, the same values as
/// the whole pass (same operations in the same order).
pub(crate) struct IstftStream {
    n_fft: usize,
    hop: usize,
    w: Vec<f64>,
    basis_c: Vec<f64>,
    basis_s: Vec<f64>,
    /// Overlap-added frames from padded position `acc_start` on.
    acc: Vec<f64>,
    acc_start: usize,
    frames_in: usize,
    produced: usize,
}

impl IstftStream {
    pub(crate) fn new(n_fft: usize, hop: usize) -> Self {
        let (basis_c, basis_s) = inverse_basis(n_fft);
        Self {
            n_fft,
            hop,
            w: hann(n_fft),
            basis_c,
            basis_s,
            acc: Vec::new(),
            acc_start: 0,
            frames_in: 0,
            produced: 0,
        }
    }

    /// Samples out after `frames` frames in (all of them when `last`).
    pub(crate) fn avail(n_fft: usize, hop: usize, frames: usize, last: bool) -> usize {
        if last {
            hop * frames.saturating_sub(1)
        } else {
            (frames * hop).saturating_sub(n_fft / 2)
        }
    }

    /// `y [2·bins, m]`: the next `m` frames of `conv_post`'s output → the samples now final.
    pub(crate) fn push(&mut self, y: &[f32], m: usize, last: bool) -> Vec<f32> {
        let (n_fft, hop) = (self.n_fft, self.hop);
        let bins = n_fft / 2 + 1;
        assert_eq!(y.len(), 2 * bins * m);
        let f0 = self.frames_in;
        self.frames_in += m;
        let end = if self.frames_in > 0 {
            (self.frames_in - 1) * hop + n_fft
        } else {
            0
        };
        if self.acc_start + self.acc.len() < end {
            self.acc.resize(end - self.acc_start, 0.0);
        }
        let mut frames_buf = vec![0f64; m * n_fft];
        frames_buf
            .par_chunks_mut(n_fft)
            .enumerate()
            .for_each(|(f, s)| {
                synth_frame(s, &self.basis_c, &self.basis_s, &self.w, |k| {
                    (
                        y[k * m + f].exp() as f64,
                        y[(bins + k) * m + f].sin() as f64,
                    )
                })
            });
        for f in 0..m {
            let base = (f0 + f) * hop - self.acc_start;
            for j in 0..n_fft {
                self.acc[base + j] += frames_buf[f * n_fft + j];
            }
        }
        let target = Self::avail(n_fft, hop, self.frames_in, last);
        let pad = n_fft / 2;
        let total = self.frames_in;
        let out: Vec<f32> = (self.produced..target)
            .map(|s| {
                let q = s + pad;
                // the squared windows of the frames that reach q, in frame order
                let lo = (q + 1).saturating_sub(n_fft).div_ceil(hop);
                let hi = (q / hop).min(total.saturating_sub(1));
                let mut e = 0f64;
                for f in lo..=hi {
                    let wv = self.w[q - f * hop];
                    e += wv * wv;
                }
                let a = self.acc[q - self.acc_start];
                (if e > 1e-11 { a / e } else { a }) as f32
            })
            .collect();
        self.produced = target;
        // keep the positions later frames still add to
        let keep_from = (target + pad)
            .min(self.frames_in * hop)
            .min(self.acc_start + self.acc.len());
        if keep_from > self.acc_start {
            self.acc.drain(..keep_from - self.acc_start);
            self.acc_start = keep_from;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stft_istft_round_trip() {
        let n = 600 * 3;
        let x: Vec<f32> = (0..n)
            .map(|i| (0.01 * i as f32).sin() * 0.5 + 0.2 * (0.37 * i as f32).cos() - 0.1)
            .collect();
        let (spec, frames) = stft_mag_phase(&x, 20, 5);
        assert_eq!(frames, n / 5 + 1);
        let (mag, ph) = spec.split_at(11 * frames);
        let y = istft(mag, ph, frames, 20, 5);
        assert_eq!(y.len(), n);
        for (m, (a, b)) in y.iter().zip(&x).enumerate() {
            assert!((a - b).abs() < 1e-5, "sample {m}: {a} vs {b}");
        }
    }

    #[test]
    fn stft_of_a_cosine_peaks_in_its_bin() {
        // period 5 samples = bin 4 of a 20-point DFT
        let x: Vec<f32> = (0..600)
            .map(|i| (std::f32::consts::TAU * i as f32 / 5.0).cos())
            .collect();
        let (spec, frames) = stft_mag_phase(&x, 20, 5);
        let f = frames / 2;
        let mags: Vec<f32> = (0..11).map(|k| spec[k * frames + f]).collect();
        // Hann-windowed cosine: |X4| = N/4 = 5, neighbours 2.5, others ~0
        assert!((mags[4] - 5.0).abs() < 1e-4, "{mags:?}");
        assert!(
            (mags[3] - 2.5).abs() < 1e-4 && (mags[5] - 2.5).abs() < 1e-4,
            "{mags:?}"
        );
        assert!(mags[0] < 1e-4 && mags[10] < 1e-4, "{mags:?}");
    }

    #[test]
    fn istft_from_post_uses_exp_magnitude_and_sine_phase() {
        let frames = 9;
        let y: Vec<f32> = (0..22 * frames)
            .map(|i| crate::kernels::noise::uniform_pm1(4, i as u64))
            .collect();
        let mag: Vec<f32> = y[..11 * frames].iter().map(|v| v.exp()).collect();
        let ph: Vec<f32> = y[11 * frames..].iter().map(|v| v.sin()).collect();
        assert_eq!(
            istft_from_post(&y, frames, 20, 5),
            istft(&mag, &ph, frames, 20, 5)
        );
    }
}
