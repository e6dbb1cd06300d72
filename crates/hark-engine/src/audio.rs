//! Sample-level helpers: joining chunks without clicks, gaps, PCM encoding.
//!
//! Everything here works on 24 kHz mono `f32` and allocates nothing per sample.

use serde::{Deserialize, Serialize};

/// Fade length at every chunk edge: 3 ms at 24 kHz. Kokoro chunks start and end
/// in (near) silence thanks to the pad tokens, so a short fade only removes the
/// step a non-zero first/last sample would otherwise cause.
pub const EDGE_FADE: usize = 72;

/// Silence between sentences at speed 1.0, in milliseconds; scaled by 1/speed.
pub const SENTENCE_GAP_MS: f32 = 80.0;

/// Raw PCM sample encodings for [`crate::Engine::synthesize_stream`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PcmFormat {
    /// Signed 16-bit little endian.
    S16le,
    /// 32-bit float little endian.
    F32le,
}

impl PcmFormat {
    /// Bytes per (mono) sample.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            PcmFormat::S16le => 2,
            PcmFormat::F32le => 4,
        }
    }
}

/// Linear fade-in over the first `n` samples (clamped to half the length, so a fade-out on the
/// same slice never overlaps it); the first becomes 0.
pub fn fade_in(samples: &mut [f32], n: usize) {
    let n = n.min(samples.len() / 2);
    let step = 1.0 / n.max(1) as f32;
    for (i, v) in samples[..n].iter_mut().enumerate() {
        *v *= i as f32 * step;
    }
}

/// Linear fade-out over the last `n` samples (clamped to half the length); the last becomes 0.
pub fn fade_out(samples: &mut [f32], n: usize) {
    let n = n.min(samples.len() / 2);
    let len = samples.len();
    let step = 1.0 / n.max(1) as f32;
    for (i, v) in samples[len - n..].iter_mut().rev().enumerate() {
        *v *= i as f32 * step;
    }
}

/// Number of silent samples between two sentences at `speed`.
pub fn sentence_gap(speed: f32) -> usize {
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    (SENTENCE_GAP_MS * 24.0 / speed).round() as usize
}

/// Clip to [-1, 1]; NaN becomes 0.
#[inline]
pub fn clip(x: f32) -> f32 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-1.0, 1.0)
    }
}

/// Clip then convert to i16 (symmetric scale, 1.0 → 32767).
#[inline]
pub fn to_i16(x: f32) -> i16 {
    (clip(x) * 32767.0).round() as i16
}

/// Append `samples` encoded as `format` to `out` (clipped first).
pub fn encode_pcm(samples: &[f32], format: PcmFormat, out: &mut Vec<u8>) {
    out.reserve(samples.len() * format.bytes_per_sample());
    match format {
        PcmFormat::S16le => {
            for &s in samples {
                out.extend_from_slice(&to_i16(s).to_le_bytes());
            }
        }
        PcmFormat::F32le => {
            for &s in samples {
                out.extend_from_slice(&clip(s).to_le_bytes());
            }
        }
    }
}

/// Multiply in place by `gain`, clipping to [-1, 1].
pub fn apply_gain(samples: &mut [f32], gain: f32) {
    for s in samples {
        *s = clip(*s * gain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fades_zero_the_edges_and_keep_the_middle() {
        let mut x = vec![1.0f32; 1000];
        fade_in(&mut x, EDGE_FADE);
        assert_eq!(x[999], 1.0, "a fade-in leaves the end alone");
        fade_out(&mut x, EDGE_FADE);
        assert_eq!(x[0], 0.0);
        assert_eq!(x[999], 0.0);
        assert!(x[1] > 0.0 && x[1] < 0.05);
        assert_eq!(x[500], 1.0);
        assert!(x.windows(2).take(EDGE_FADE).all(|w| w[1] >= w[0]));
        let mut short = vec![1.0f32; 3];
        fade_in(&mut short, EDGE_FADE);
        fade_out(&mut short, EDGE_FADE);
        assert_eq!(short[0], 0.0);
        assert_eq!(short[2], 0.0);
    }

    #[test]
    fn gap_scales_with_inverse_speed() {
        assert_eq!(sentence_gap(1.0), 1920);
        assert_eq!(sentence_gap(2.0), 960);
        assert_eq!(sentence_gap(0.5), 3840);
        assert_eq!(sentence_gap(f32::NAN), 1920);
    }

    #[test]
    fn pcm_encoding_clips_before_converting() {
        let mut out = Vec::new();
        encode_pcm(
            &[0.0, 1.0, -1.0, 2.5, -7.0, f32::NAN, 0.5],
            PcmFormat::S16le,
            &mut out,
        );
        let v: Vec<i16> = out
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(v, vec![0, 32767, -32767, 32767, -32767, 0, 16384]);
        out.clear();
        encode_pcm(&[3.0, -0.25], PcmFormat::F32le, &mut out);
        let f: Vec<f32> = out
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(f, vec![1.0, -0.25]);
    }
}
