//! espeak-ng's IPA to the symbols Kokoro-82M v1.0 was trained on, as misaki's `EspeakG2P`
//! (version 1.0) maps it: <https://github.com/hexgrad/misaki/blob/main/misaki/espeak.py>.

/// Tied pairs written as one symbol (in misaki's order); the other ties are dropped, stress and
/// length kept.
const TIED: [(&str, &str); 11] = [
    ("a^ɪ", "I"),
    ("a^ʊ", "W"),
    ("d^z", "ʣ"),
    ("d^ʒ", "ʤ"),
    ("e^ɪ", "A"),
    ("o^ʊ", "O"),
    ("s^s", "S"),
    ("t^s", "ʦ"),
    ("t^ʃ", "ʧ"),
    ("ɔ^ɪ", "Y"),
    ("ə^ʊ", "Q"),
];

/// The words of one espeak-ng output line in Kokoro's symbols: language-switch flags such as
/// `(en)` removed (phonemizer's `remove-flags`), the tied pairs above replaced, then every
/// remaining tie `^` and hyphen deleted. Words are split at spaces; none is empty.
pub(crate) fn kokoro_words(line: &str) -> Vec<String> {
    let line = remove_flags(line);
    line.split_whitespace()
        .map(kokoro_word)
        .filter(|w| !w.is_empty())
        .collect()
}

/// One output word in Kokoro's symbols.
pub(crate) fn kokoro_word(w: &str) -> String {
    let mut s = w.to_string();
    if s.contains('^') {
        for (a, b) in TIED {
            if s.contains(a) {
                s = s.replace(a, b);
            }
        }
    }
    s.retain(|c| c != '^' && c != '-');
    s
}

/// Deletes espeak's language-switch flags: every `(…)` (the shortest), as phonemizer's
/// `\(.+?\)` does. Text parentheses never reach espeak-ng (they are punctuation).
fn remove_flags(line: &str) -> String {
    if !line.contains('(') {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('(') {
        // at least one character inside
        let inner = &rest[open + 1..];
        let first = inner.chars().next().map_or(0, char::len_utf8);
        match inner.get(first..).and_then(|t| t.find(')')) {
            Some(close) if first > 0 => {
                out.push_str(&rest[..open]);
                rest = &inner[first + close + 1..];
            }
            _ => break,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_become_kokoro_symbols() {
        assert_eq!(kokoro_word("tɾˌe^ɪntaikwˈatɾo"), "tɾˌAntaikwˈatɾo");
        assert_eq!(kokoro_word("ot^ʃoθjˈentos"), "oʧoθjˈentos");
        assert_eq!(kokoro_word("d^zˈɛɾo"), "ʣˈɛɾo");
        assert_eq!(kokoro_word("pjˈaʦːa"), "pjˈaʦːa");
        assert_eq!(kokoro_word("pjˈat^sːa"), "pjˈaʦːa");
        // leftover ties and hyphens go, stress and length stay
        assert_eq!(kokoro_word("sesˈɐ̃^ʊ̃"), "sesˈɐ̃ʊ̃");
        assert_eq!(kokoro_word("la-"), "la");
        assert_eq!(kokoro_word("ˈaːʈʰsˈɔː"), "ˈaːʈʰsˈɔː");
    }

    #[test]
    fn language_flags_are_removed() {
        assert_eq!(
            kokoro_words("(^e^n)mˈa^ɪnəs(^e^s) θˈinko"),
            ["mˈInəs", "θˈinko"]
        );
        assert_eq!(kokoro_words("a (b"), ["a", "(b"]);
        assert_eq!(kokoro_words("  "), Vec::<String>::new());
    }
}
