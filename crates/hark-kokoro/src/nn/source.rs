//! Harmonic-plus-noise excitation of the generator: nine harmonics of the F0 curve plus noise,
//! mixed to one channel.
//!
//! Ports `SineGen` and `SourceModuleHnNSF` of kokoro 0.9.4's `kokoro/istftnet.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/istftnet.py>).

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
                        v += sigma
                            * crate::kernels::noise::gaussian(seed, (i * N_HARMONICS + h) as u64);
                    }
                    e += (l_w[h] * v) as f64;
                }
                *out = (e as f32).tanh();
            }
        });
    har
}

#[cfg(test)]
mod tests {
    use super::*;

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
