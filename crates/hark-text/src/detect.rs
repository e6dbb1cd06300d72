//! Which of Kokoro's languages a text is written in, so a selection in another language than
//! the current voice's can be read by a voice of its own.
//!
//! The script decides first, because it is certain where it applies: kana (with or without
//! kanji) is Japanese, Han characters without kana are Mandarin, Devanagari is Hindi. Text in
//! Latin letters goes to the `whatlang` crate's trigram model, restricted to the Latin-script
//! languages the voices speak (English, Spanish, French, Italian, Portuguese); its answer is
//! taken only when it is confident, so a short or mixed selection keeps the current voice.

use crate::lang::Lang;

/// Bytes of the text looked at: enough for a confident answer, and a long page costs the same
/// as a paragraph.
const SAMPLE_BYTES: usize = 2048;

/// Confidence below which `whatlang`'s answer for Latin-script text is not taken (its own
/// `is_reliable` also needs a margin over the runner-up that short sentences rarely have).
const MIN_CONFIDENCE: f64 = 0.5;

/// The Latin-script languages `whatlang` chooses between, and the reader of each.
const LATIN: [(whatlang::Lang, Lang); 5] = [
    (whatlang::Lang::Eng, Lang::EnUs),
    (whatlang::Lang::Spa, Lang::Es),
    (whatlang::Lang::Fra, Lang::FrFr),
    (whatlang::Lang::Ita, Lang::It),
    (whatlang::Lang::Por, Lang::PtBr),
];

/// The language `text` is written in, or `None` when it is not clear (too little text, a
/// script no voice reads, a mixture). English is reported as [`Lang::EnUs`]: which English a
/// voice speaks is the voice's business ([`Lang::same_as`]).
pub fn detect(text: &str) -> Option<Lang> {
    let sample = head(text, SAMPLE_BYTES);
    let (mut kana, mut han, mut deva, mut latin, mut letters) = (0usize, 0usize, 0, 0, 0);
    for c in sample.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        match c as u32 {
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => kana += 1,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F => han += 1,
            0x0900..=0x097F | 0xA8E0..=0xA8FF => deva += 1,
            0x0041..=0x024F | 0x1E00..=0x1EFF => latin += 1,
            _ => {}
        }
    }
    if letters == 0 {
        return None;
    }
    let most = |n: usize| 2 * n > letters;
    if most(kana + han) {
        // Japanese writes kana between its kanji; Chinese text has none (or a stray の).
        return Some(if 8 * kana >= kana + han {
            Lang::Ja
        } else {
            Lang::Zh
        });
    }
    if most(deva) {
        return Some(Lang::Hi);
    }
    if !most(latin) {
        return None;
    }
    let detector = whatlang::Detector::with_allowlist(LATIN.iter().map(|(w, _)| *w).collect());
    let info = detector.detect(sample)?;
    if info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    LATIN
        .iter()
        .find(|(w, _)| *w == info.lang())
        .map(|(_, l)| *l)
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_by_script_or_words() {
        let cases = [
            (
                "The weather was cold, so we stayed inside and read books all afternoon.",
                Lang::EnUs,
            ),
            (
                "El perro de mi vecino ladra todas las noches y no me deja dormir.",
                Lang::Es,
            ),
            (
                "Je voudrais réserver une table pour deux personnes ce soir, s'il vous plaît.",
                Lang::FrFr,
            ),
            (
                "Domani andiamo al mare con i bambini, se il tempo lo permette.",
                Lang::It,
            ),
            (
                "Eu não sei se vou conseguir chegar a tempo para a reunião de amanhã.",
                Lang::PtBr,
            ),
            ("मैं कल सुबह बाज़ार जाऊँगा और कुछ फल खरीदूँगा।", Lang::Hi),
            ("今天天气很好，我们一起去公园散步吧。", Lang::Zh),
            (
                "今日はとても良い天気なので、公園を散歩しましょう。",
                Lang::Ja,
            ),
            ("カタカナだけのテキスト", Lang::Ja),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), Some(want), "{text}");
        }
    }

    /// Short English selections must not switch to another language's voice (an Italian voice
    /// reading English would be worse than no switch).
    #[test]
    fn short_english_stays_english_or_unclear() {
        for text in [
            "After the menu 12345.",
            "OK thanks",
            "Hello there.",
            "Read this page",
            "See you tomorrow at the station.",
            "Quiet Rivers of the North",
            "From the clipboard 4711.",
            "Either way, the tomato schedule was moved.",
            "Speech from chrome.tts, through the hark engine.",
            "A page speaks, then changes its mind.",
        ] {
            let got = detect(text);
            assert!(
                got.is_none() || got == Some(Lang::EnUs),
                "{text:?}: {got:?}"
            );
        }
    }

    #[test]
    fn unclear_text_is_no_answer() {
        for text in ["", "  ", "1234 5678", "!!!", "ok", "Привет, как дела?"] {
            assert_eq!(detect(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_long_text_is_judged_by_its_start_and_cut_at_a_char_boundary() {
        let long = "今天天气很好。".repeat(1000);
        assert_eq!(detect(&long), Some(Lang::Zh));
        let h = head(&long, SAMPLE_BYTES);
        assert!(h.len() <= SAMPLE_BYTES && h.len() > SAMPLE_BYTES - 4);
    }
}
