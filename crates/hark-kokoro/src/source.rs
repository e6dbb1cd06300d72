//! Harmonic-plus-noise excitation (SineGen + SourceModuleHnNSF) and the 20-point STFT / iSTFT
//! of the iSTFTNet head.

use rayon::prelude::*;

const SINE_AMP: f32 = 0.1;
const NOISE_STD: f32 = 0.003;
const VOICED_THRESHOLD: f32 = 10.0;
pub(crate) const N_HARMONICS: usize = 9;

/// Excitation `har [n]` (`n = range.len() · up`) for the F0-rate window `range` of the F0 curve
/// `f0` (Hz at the F0 rate). Phase and noise are those of the whole curve, so any window is
/// exactly the matching slice of the whole excitation.
///
/// The phase follows the reference's f32 arithmetic (per-step cycle fractions in f32, cumulative
/// sum accumulated in f64 and stored in f32, linear interpolation in f32) so that long chunks keep
/// the same phase as the reference. `noise` = None is deterministic mode (no additive noise).
pub(crate) fn harmonic_source(
    f0: &[f32],
    range: std::ops::Range<usize>,
    up: usize,
    sample_rate: f32,
    l_w: &[f32],
    l_b: f32,
    noise: Option<u64>,
) -> Vec<f32> {
    let frames = f0.len();
    assert!(range.start < range.end && range.end <= frames);
    let first = range.start * up;
    let n = range.len() * up;
    // P[j, h]: cumulative phase at the F0 rate, times `up`, in f32 like the reference.
    let mut p = vec![0f32; frames * N_HARMONICS];
    let two_pi = 2.0f32 * std::f32::consts::PI;
    for h in 0..N_HARMONICS {
        let mut acc = 0f64;
        // only the phases the window interpolates from
        for j in 0..frames.min(range.end + 1) {
            let v = f0[j] * (h + 1) as f32 / sample_rate;
            let r = v - v.floor();
            acc += r as f64;
            let c = acc as f32;
            p[j * N_HARMONICS + h] = ((c * 2.0) * std::f32::consts::PI) * up as f32;
        }
    }
    let _ = two_pi;
    let scale = (1.0f64 / up as f64) as f32;
    let mut har = vec![0f32; n];
    har.par_chunks_mut(4096)
        .enumerate()
        .for_each(|(ci, chunk)| {
            for (k, out) in chunk.iter_mut().enumerate() {
                let i = first + ci * 4096 + k;
                let src = (scale * (i as f32 + 0.5) - 0.5).max(0.0);
                let i0 = src as usize;
                let i1 = if i0 + 1 < frames { i0 + 1 } else { i0 };
                let l1 = (src - i0 as f32).clamp(0.0, 1.0);
                let l0 = 1.0 - l1;
                let f0s = f0[(i / up).min(frames - 1)];
                let uv = if f0s > VOICED_THRESHOLD { 1.0f32 } else { 0.0 };
                let sigma = if uv > 0.0 { NOISE_STD } else { SINE_AMP / 3.0 };
                let mut e = l_b as f64;
                for h in 0..N_HARMONICS {
                    let ph = l0 * p[i0 * N_HARMONICS + h] + l1 * p[i1 * N_HARMONICS + h];
                    let sine = ((ph as f64).sin() as f32) * SINE_AMP;
                    let mut v = sine * uv;
                    if let Some(seed) = noise {
                        v += sigma * crate::noise::gaussian(seed, (i * N_HARMONICS + h) as u64);
                    }
                    e += (l_w[h] * v) as f64;
                }
                *out = (e as f32).tanh();
            }
        });
    har
}

/// Periodic Hann window of length `n`.
pub(crate) fn hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        .collect()
}

/// One-sided STFT (center, reflect padding, periodic Hann): `x [n]` →
/// `[2·bins, frames]` = magnitudes then phases, `frames = n / hop + 1`.
pub(crate) fn stft_mag_phase(x: &[f32], n_fft: usize, hop: usize) -> (Vec<f32>, usize) {
    let n = x.len();
    let pad = n_fft / 2;
    let bins = n_fft / 2 + 1;
    let frames = n / hop + 1;
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
        x[i.clamp(0, m - 1) as usize]
    };
    let cos_t: Vec<f64> = (0..bins * n_fft)
        .map(|i| (std::f64::consts::TAU * ((i / n_fft) * (i % n_fft)) as f64 / n_fft as f64).cos())
        .collect();
    let sin_t: Vec<f64> = (0..bins * n_fft)
        .map(|i| (std::f64::consts::TAU * ((i / n_fft) * (i % n_fft)) as f64 / n_fft as f64).sin())
        .collect();
    let mut out = vec![0f32; 2 * bins * frames];
    let (mag, ph) = out.split_at_mut(bins * frames);
    let mag_ptr = crate::kernels::SendPtr(mag.as_mut_ptr());
    let ph_ptr = crate::kernels::SendPtr(ph.as_mut_ptr());
    (0..frames).into_par_iter().with_min_len(256).for_each(|f| {
        let mut raw = [0f32; 64];
        let mut buf = [0f64; 64];
        let start = (f * hop) as isize - pad as isize;
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
    (out, frames)
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
    // Inverse real DFT basis: s[n] = (1/N)[X0 + (−1)^n X_{N/2} + 2Σ(Re cos − Im sin)].
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
    // Per-frame windowed signals, computed in parallel, then overlap-added.
    let mut frames_buf = vec![0f64; frames * n_fft];
    frames_buf
        .par_chunks_mut(n_fft)
        .enumerate()
        .for_each(|(f, s)| {
            for k in 0..bins {
                let m = mag[k * frames + f] as f64;
                let p = phase[k * frames + f] as f64;
                let (re, im) = (m * p.cos(), m * p.sin());
                for j in 0..n_fft {
                    s[j] += re * basis_c[k * n_fft + j] + im * basis_s[k * n_fft + j];
                }
            }
            for j in 0..n_fft {
                s[j] *= w[j];
            }
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
            .map(|i| crate::noise::uniform_pm1(4, i as u64))
            .collect();
        let mag: Vec<f32> = y[..11 * frames].iter().map(|v| v.exp()).collect();
        let ph: Vec<f32> = y[11 * frames..].iter().map(|v| v.sin()).collect();
        assert_eq!(
            istft_from_post(&y, frames, 20, 5),
            istft(&mag, &ph, frames, 20, 5)
        );
    }

    #[test]
    fn a_window_of_the_source_is_the_slice_of_the_whole() {
        let f0: Vec<f32> = (0..40)
            .map(|i| {
                if i % 13 < 3 {
                    0.0
                } else {
                    90.0 + 3.0 * i as f32
                }
            })
            .collect();
        let w = [0.3f32, -0.2, 0.1, 0.05, 0.0, 0.02, -0.01, 0.01, 0.0];
        for noise in [None, Some(7)] {
            let whole = harmonic_source(&f0, 0..40, 300, 24000.0, &w, 0.1, noise);
            for r in [0..40, 0..7, 5..6, 11..40, 17..29] {
                let part = harmonic_source(&f0, r.clone(), 300, 24000.0, &w, 0.1, noise);
                assert_eq!(part, whole[r.start * 300..r.end * 300], "{r:?} {noise:?}");
            }
        }
    }

    #[test]
    fn deterministic_source_is_reproducible_and_noise_is_seeded() {
        let f0: Vec<f32> = (0..20)
            .map(|i| if i < 10 { 0.0 } else { 120.0 + i as f32 })
            .collect();
        let w = [0.1f32; 9];
        let a = harmonic_source(&f0, 0..20, 300, 24000.0, &w, 0.0, None);
        let b = harmonic_source(&f0, 0..20, 300, 24000.0, &w, 0.0, None);
        assert_eq!(a, b);
        assert!(
            a[..3000].iter().all(|v| *v == 0.0),
            "unvoiced + no noise is silent"
        );
        assert!(a[3300..].iter().any(|v| v.abs() > 1e-3));
        let n1 = harmonic_source(&f0, 0..20, 300, 24000.0, &w, 0.0, Some(1));
        let n1b = harmonic_source(&f0, 0..20, 300, 24000.0, &w, 0.0, Some(1));
        let n2 = harmonic_source(&f0, 0..20, 300, 24000.0, &w, 0.0, Some(2));
        assert_eq!(n1, n1b);
        assert_ne!(n1, n2);
        assert!(
            n1[..3000].iter().any(|v| v.abs() > 1e-4),
            "noise excites unvoiced frames"
        );
    }
}
