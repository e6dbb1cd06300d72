//! Word timings from the model's predicted durations.
//!
//! Token `i` of the model input is phoneme character `i - 1` (one pad token at
//! each end); one duration unit is [`SAMPLES_PER_FRAME`] samples at 24 kHz and
//! already includes the speed factor.

use std::ops::Range;

/// Samples per predicted duration unit (25 ms at 24 kHz).
pub const SAMPLES_PER_FRAME: usize = 600;

/// A word placed on the chunk's audio, in samples from the chunk start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordTiming {
    /// Source byte range (into the utterance text).
    pub src: Range<usize>,
    /// First sample of the word within the chunk.
    pub start: usize,
    /// One past the last sample of the word within the chunk.
    pub end: usize,
}

/// Place words on a chunk's audio.
///
/// `phonemes` is the chunk's phoneme string, `words` pairs each word's source
/// range with its byte range in `phonemes`, `durations` has one entry per
/// model token (pads included). Ranges that are not on character boundaries
/// or point past the string are clamped, never panic.
pub fn word_timings(
    phonemes: &str,
    words: impl IntoIterator<Item = (Range<usize>, Range<usize>)>,
    durations: &[u32],
) -> Vec<WordTiming> {
    // prefix[t] = samples before token t.
    let mut prefix = Vec::with_capacity(durations.len() + 1);
    prefix.push(0usize);
    let mut acc = 0usize;
    for &d in durations {
        acc += d as usize * SAMPLES_PER_FRAME;
        prefix.push(acc);
    }
    let total_tokens = durations.len();
    let char_index = |byte: usize| -> usize {
        let byte = byte.min(phonemes.len());
        phonemes
            .char_indices()
            .take_while(|&(b, _)| b < byte)
            .count()
    };
    let mut out = Vec::new();
    for (src, ph) in words {
        let c0 = char_index(ph.start);
        let c1 = char_index(ph.end.max(ph.start));
        // Token of phoneme char c is c + 1.
        let t0 = (c0 + 1).min(total_tokens);
        let t1 = (c1 + 1).min(total_tokens).max(t0);
        out.push(WordTiming {
            src,
            start: prefix[t0],
            end: prefix[t1],
        });
    }
    out
}

/// Samples → whole milliseconds at [`SAMPLE_RATE`](crate::SAMPLE_RATE).
pub fn samples_to_ms(samples: u64) -> u64 {
    samples * 1000 / u64::from(crate::SAMPLE_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_map_to_token_durations_skipping_the_leading_pad() {
        // "ab cd" → tokens: pad, a, b, ' ', c, d, pad
        let durations = [3, 1, 2, 1, 4, 1, 5];
        let w = word_timings("ab cd", [(0..2, 0..2), (3..5, 3..5)], &durations);
        assert_eq!(w[0].start, 3 * 600);
        assert_eq!(w[0].end, (3 + 1 + 2) * 600);
        assert_eq!(w[1].start, (3 + 1 + 2 + 1) * 600);
        assert_eq!(w[1].end, (3 + 1 + 2 + 1 + 4 + 1) * 600);
        assert_eq!(w[1].src, 3..5);
    }

    #[test]
    fn multibyte_phonemes_count_as_one_token_each() {
        // 'ˈ' and 'ɪ' are 2 bytes each: "ˈɪt" = tokens pad, ˈ, ɪ, t, pad.
        let ph = "ˈɪt";
        let durations = [2, 1, 3, 1, 2];
        let w = word_timings(ph, [(0..2, 0..ph.len())], &durations);
        assert_eq!(w[0].start, 2 * 600);
        assert_eq!(w[0].end, (2 + 1 + 3 + 1) * 600);
    }

    #[test]
    fn bad_ranges_are_clamped() {
        let w = word_timings("ab", [(0..1, 5..9), (1..2, 1..1)], &[1, 1]);
        assert_eq!(w.len(), 2);
        assert!(w.iter().all(|t| t.start <= t.end && t.end <= 1200));
        assert_eq!(samples_to_ms(24_000), 1000);
        assert_eq!(samples_to_ms(600), 25);
    }
}
