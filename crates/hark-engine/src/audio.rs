//! Sample-level helpers: joining chunks without clicks, gaps, clipping. (Byte formats are the
//! consumers': the bridge's encoders, the CLI's WAV.)
//!
//! Everything here works on 24 kHz mono `f32` and allocates nothing per sample.

/// Fade length at every chunk edge: 3 ms at 24 kHz. Kokoro chunks start and end
/// in (near) silence thanks to the pad tokens, so a short fade only removes the
/// step a non-zero first/last sample would otherwise cause.
pub const EDGE_FADE: usize = 72;

/// Silence between sentences at speed 1.0, in milliseconds; scaled by 1/speed.
pub const SENTENCE_GAP_MS: f32 = 80.0;

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
    (SENTENCE_GAP_MS * (crate::SAMPLE_RATE as f32 / 1000.0) / speed).round() as usize
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
}
