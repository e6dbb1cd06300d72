//! Out-of-vocabulary words: the `espeak-ng` program (the dialect's long-lived process, see
//! [`crate::espeak::process`]; output mapped to misaki's alphabet as misaki's `EspeakFallback`
//! maps it, <https://github.com/hexgrad/misaki/blob/main/misaki/espeak.py>), or a small
//! built-in letter-to-sound fallback when espeak-ng is not available.

use std::collections::HashMap;

use crate::espeak::process::Espeak;
use crate::lang::Lang;

/// Punctuation phonemizer's espeak wrapper keeps around words (`preserve_punctuation`).
fn is_mark(c: char) -> bool {
    crate::espeak::is_misaki_mark(c)
}

/// Maps raw espeak-ng IPA (with `^` ties) to the misaki alphabet.
pub fn espeak_to_misaki(ipa: &str, lang: Lang) -> String {
    const E2M: [(&str, &str); 20] = [
        ("ʔˌn\u{329}", "ʔn"),
        ("ʔn\u{329}", "ʔn"),
        ("a^ɪ", "I"),
        ("a^ʊ", "W"),
        ("d^ʒ", "ʤ"),
        ("e^ɪ", "A"),
        ("t^ʃ", "ʧ"),
        ("ɔ^ɪ", "Y"),
        ("ə^l", "ᵊl"),
        ("ʲo", "jo"),
        ("ʲə", "jə"),
        ("e", "A"),
        ("ʲ", ""),
        ("ɚ", "əɹ"),
        ("r", "ɹ"),
        ("x", "k"),
        ("ç", "k"),
        ("ɐ", "ə"),
        ("ɬ", "l"),
        ("\u{303}", ""),
    ];
    let mut ps = ipa.trim().to_string();
    for (a, b) in E2M {
        if ps.contains(a) {
            ps = ps.replace(a, b);
        }
    }
    // syllabic mark: X + U+0329 -> ᵊX (X not whitespace)
    if ps.contains('\u{329}') {
        let chars: Vec<char> = ps.chars().collect();
        let mut out = String::with_capacity(ps.len() + 4);
        let mut k = 0;
        while k < chars.len() {
            if k + 1 < chars.len() && chars[k + 1] == '\u{329}' && !chars[k].is_whitespace() {
                out.push('ᵊ');
                out.push(chars[k]);
                k += 2;
            } else {
                if chars[k] != '\u{329}' {
                    out.push(chars[k]);
                }
                k += 1;
            }
        }
        ps = out;
    }
    if lang == Lang::EnGb {
        ps = ps
            .replace("e^ə", "ɛː")
            .replace("iə", "ɪə")
            .replace("ə^ʊ", "Q");
    } else {
        ps = ps
            .replace("o^ʊ", "O")
            .replace("ɜːɹ", "ɜɹ")
            .replace("ɜː", "ɜɹ")
            .replace("ɪə", "iə")
            .replace('ː', "");
    }
    ps.replace('o', "ɔ")
        .replace('ɾ', "T")
        .replace('ʔ', "t")
        .replace('^', "")
}

/// Phonemizes many texts with the dialect's espeak-ng process. Each text is split at
/// punctuation marks, the word parts are phonemized (one input line each) and the marks are
/// put back.
pub(crate) fn espeak_batch(
    espeak: &Espeak,
    lang: Lang,
    texts: &[String],
) -> HashMap<String, String> {
    // Segment every text into word parts and marks.
    let mut lines: Vec<String> = Vec::new();
    let mut plans: Vec<Vec<Result<usize, String>>> = Vec::new();
    for t in texts {
        let mut plan = Vec::new();
        let mut word = String::new();
        let mut mark = String::new();
        for c in t.chars() {
            if is_mark(c) {
                if !word.trim().is_empty() {
                    lines.push(std::mem::take(&mut word).trim().to_string());
                    plan.push(Ok(lines.len() - 1));
                }
                word.clear();
                mark.push(c);
            } else {
                if !mark.is_empty() {
                    plan.push(Err(std::mem::take(&mut mark)));
                }
                if c.is_control() {
                    word.push(' ');
                } else {
                    word.push(c);
                }
            }
        }
        if !word.trim().is_empty() {
            lines.push(word.trim().to_string());
            plan.push(Ok(lines.len() - 1));
        }
        if !mark.is_empty() {
            plan.push(Err(mark));
        }
        plans.push(plan);
    }
    let outs = run_lines(espeak, lang, &lines);
    let mut result = HashMap::new();
    for (t, plan) in texts.iter().zip(plans) {
        let mut s = String::new();
        for p in plan {
            match p {
                Ok(i) => {
                    let o = outs.get(i).map(String::as_str).unwrap_or("");
                    s.push_str(o.trim());
                }
                Err(m) => s.push_str(&m),
            }
        }
        result.insert(t.clone(), espeak_to_misaki(&s, lang));
    }
    result
}

/// The phonemes of each line, read after a stressed dummy word in the same clause: espeak-ng
/// otherwise stresses a lone function word ("it" → ˈɪt), which the library call used by misaki
/// does not. The dummy's phonemes are removed from the output. Empty outputs when espeak-ng
/// fails (logged).
fn run_lines(espeak: &Espeak, lang: Lang, lines: &[String]) -> Vec<String> {
    if lines.is_empty() {
        return Vec::new();
    }
    let input: Vec<String> = lines.iter().map(|l| format!("{DUMMY} {l}")).collect();
    let outs = match espeak.phonemize(&input) {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!("{e}; unknown words use the built-in fallback");
            return vec![String::new(); lines.len()];
        }
    };
    let dummy = match lang {
        Lang::EnGb => DUMMY_IPA_GB,
        _ => DUMMY_IPA_US,
    };
    outs.into_iter()
        .map(|l| {
            let l = l.trim();
            match l.strip_prefix(dummy) {
                Some(rest) => rest.trim().to_string(),
                None => {
                    tracing::debug!(line = l, "espeak-ng output without the dummy prefix");
                    l.to_string()
                }
            }
        })
        .collect()
}

const DUMMY: &str = "bad";
const DUMMY_IPA_US: &str = "bˈæd";
const DUMMY_IPA_GB: &str = "bˈad";

/// A small rule-based letter-to-sound guess used when espeak-ng is unavailable.
/// It aims at "pronounceable and roughly right", not at espeak parity.
pub fn builtin_lts(word: &str, lang: Lang) -> String {
    let w: Vec<char> = word
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    if w.is_empty() {
        return String::new();
    }
    let us = lang == Lang::EnUs;
    let mut out = String::new();
    let mut i = 0;
    let at = |k: usize| w.get(k).copied().unwrap_or(' ');
    let is_v = |c: char| "aeiouy".contains(c);
    let mut stressed = false;
    while i < w.len() {
        let c = w[i];
        let n = at(i + 1);
        let two: String = [c, n].iter().collect();
        let (ps, adv): (&str, usize) = match two.as_str() {
            "th" => ("θ", 2),
            "sh" => ("ʃ", 2),
            "ch" => ("ʧ", 2),
            "ph" => ("f", 2),
            "ng" => ("ŋ", 2),
            "ck" => ("k", 2),
            "qu" => ("kw", 2),
            "wh" => ("w", 2),
            "ee" | "ea" => ("i", 2),
            "oo" => ("u", 2),
            "ai" | "ay" => ("A", 2),
            "oa" => ("O", 2),
            "ou" | "ow" => ("W", 2),
            "oi" | "oy" => ("Y", 2),
            "au" | "aw" => ("ɔ", 2),
            "er" | "ur" | "ir" if i > 0 => (if us { "əɹ" } else { "ə" }, 2),
            "ar" => (if us { "ɑɹ" } else { "ɑː" }, 2),
            "or" => (if us { "ɔɹ" } else { "ɔː" }, 2),
            _ => {
                let magic_e = at(i + 2) == 'e' && !is_v(n) && n != ' ' && i + 3 == w.len();
                let p = match c {
                    'a' => {
                        if magic_e {
                            "A"
                        } else if us {
                            "æ"
                        } else {
                            "a"
                        }
                    }
                    'e' => {
                        if i + 1 == w.len() && i > 0 {
                            ""
                        } else {
                            "ɛ"
                        }
                    }
                    'i' => {
                        if magic_e {
                            "I"
                        } else {
                            "ɪ"
                        }
                    }
                    'o' => {
                        if magic_e || i + 1 == w.len() {
                            "O"
                        } else if us {
                            "ɑ"
                        } else {
                            "ɒ"
                        }
                    }
                    'u' => {
                        if magic_e {
                            "u"
                        } else {
                            "ʌ"
                        }
                    }
                    'y' => {
                        if i == 0 {
                            "j"
                        } else {
                            "i"
                        }
                    }
                    'c' => {
                        if "eiy".contains(n) {
                            "s"
                        } else {
                            "k"
                        }
                    }
                    'g' => "ɡ",
                    'j' => "ʤ",
                    'q' => "k",
                    'x' => "ks",
                    'r' => "ɹ",
                    other => {
                        // doubled consonants sound once
                        if n == other {
                            i += 1;
                        }
                        match other {
                            'b' => "b",
                            'd' => "d",
                            'f' => "f",
                            'h' => "h",
                            'k' => "k",
                            'l' => "l",
                            'm' => "m",
                            'n' => "n",
                            'p' => "p",
                            's' => "s",
                            't' => "t",
                            'v' => "v",
                            'w' => "w",
                            'z' => "z",
                            _ => "",
                        }
                    }
                };
                (p, 1)
            }
        };
        if !stressed && ps.chars().next().is_some_and(crate::stress::is_vowel) {
            out.push('ˈ');
            stressed = true;
        }
        out.push_str(ps);
        i += adv;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_espeak_symbols() {
        assert_eq!(espeak_to_misaki("həlˈo^ʊ", Lang::EnUs), "həlˈO");
        assert_eq!(
            espeak_to_misaki("kˌe^ɪd^ʒˌiːˈɛnd^ʒˌiː", Lang::EnUs),
            "kˌAʤˌiˈɛnʤˌi"
        );
        assert_eq!(espeak_to_misaki("bˈʌʔn̩", Lang::EnUs), "bˈʌtn");
        assert_eq!(espeak_to_misaki("ɡˈə^ʊ", Lang::EnGb), "ɡˈQ");
        assert_eq!(espeak_to_misaki("pˈɑːɹɾi", Lang::EnUs), "pˈɑɹTi");
    }

    #[test]
    fn builtin_is_pronounceable() {
        let p = builtin_lts("Kgnghtbrd", Lang::EnUs);
        assert!(!p.is_empty());
        assert!(p
            .chars()
            .all(|c| !c.is_ascii_uppercase() || "AIOWY".contains(c)));
        assert_eq!(builtin_lts("shop", Lang::EnUs), "ʃˈɑp");
    }
}
