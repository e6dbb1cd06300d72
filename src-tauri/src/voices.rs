//! Voice menu grouping: by language (English split American/British × female/male), then
//! everything else; and a short sample sentence per language for the preview.

use serde::Serialize;

/// A voice as the tray and the settings window show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoiceEntry {
    /// Engine name, e.g. `af_heart`.
    pub name: String,
    /// Display group, e.g. "American · female", "Spanish".
    pub group: String,
    /// The language it speaks (`en-us`, `es`, …, `other`), as the engine names it.
    pub lang: String,
    /// Quality grade from the model card (`A`, `B-`, …), empty if unknown.
    pub grade: String,
    /// Menu label, e.g. "Heart (A)".
    pub label: String,
}

/// Group order in menus: English first (as before other languages came), then Kokoro's order.
pub const GROUPS: [&str; 12] = [
    "American · female",
    "American · male",
    "British · female",
    "British · male",
    "Spanish",
    "French",
    "Italian",
    "Portuguese (Brazil)",
    "Hindi",
    "Chinese (Mandarin)",
    "Japanese",
    "Other",
];

/// The name of a language in menus (`es` → "Spanish"; `en-us`/`en-gb` → "English").
pub fn language_name(lang: &str) -> &'static str {
    match lang.to_ascii_lowercase().as_str() {
        "en-us" | "en-gb" => "English",
        "es" => GROUPS[4],
        "fr-fr" => GROUPS[5],
        "it" => GROUPS[6],
        "pt-br" => GROUPS[7],
        "hi" => GROUPS[8],
        "zh" => GROUPS[9],
        "ja" => GROUPS[10],
        _ => GROUPS[11],
    }
}

/// Group of a voice from its language and gender ("en-us"/"en-gb", "female"/"male").
pub fn group_of(lang: &str, gender: &str) -> &'static str {
    let lang = lang.to_ascii_lowercase();
    let female = gender.eq_ignore_ascii_case("female") || gender.eq_ignore_ascii_case("f");
    let male = gender.eq_ignore_ascii_case("male") || gender.eq_ignore_ascii_case("m");
    match (lang.as_str(), female, male) {
        ("en-us", true, _) => GROUPS[0],
        ("en-us", _, true) => GROUPS[1],
        ("en-gb", true, _) => GROUPS[2],
        ("en-gb", _, true) => GROUPS[3],
        ("en-us" | "en-gb", _, _) => GROUPS[11],
        (other, _, _) => language_name(other),
    }
}

/// A sentence for previewing a voice of `lang`, in that language (a voice reads with its own
/// language's rules, so an English sample would not show how it sounds).
pub fn preview_text(lang: &str) -> &'static str {
    match lang.to_ascii_lowercase().as_str() {
        "es" => "¡Hola! Así sueno cuando te leo un texto.",
        "fr-fr" => "Bonjour ! Voici ma voix quand je vous lis un texte.",
        "it" => "Ciao! Ecco come suono quando ti leggo un testo.",
        "pt-br" => "Olá! É assim que eu soo quando leio um texto para você.",
        "hi" => "नमस्ते! जब मैं आपके लिए पढ़ता हूँ, तो मेरी आवाज़ ऐसी होती है।",
        "zh" => "你好！这是我为你朗读时的声音。",
        "ja" => "こんにちは。これが私の読み上げの声です。",
        _ => "Hello! This is how I sound when I read to you.",
    }
}

/// "af_heart" → "Heart"; with a grade, "Heart (A)".
pub fn label_of(name: &str, grade: &str) -> String {
    let base = name.split_once('_').map(|(_, b)| b).unwrap_or(name);
    let mut label: String = base
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if !grade.is_empty() {
        label.push_str(&format!(" ({grade})"));
    }
    label
}

/// Builds entries and sorts them by group order, then by grade (best first), then name.
pub fn entries(
    voices: impl IntoIterator<Item = (String, String, String, String)>,
) -> Vec<VoiceEntry> {
    let mut v: Vec<VoiceEntry> = voices
        .into_iter()
        .map(|(name, lang, gender, grade)| VoiceEntry {
            group: group_of(&lang, &gender).to_string(),
            label: label_of(&name, &grade),
            name,
            lang,
            grade,
        })
        .collect();
    v.sort_by(|a, b| {
        let ga = GROUPS.iter().position(|g| *g == a.group);
        let gb = GROUPS.iter().position(|g| *g == b.group);
        ga.cmp(&gb)
            .then(grade_rank(&a.grade).cmp(&grade_rank(&b.grade)))
            .then(a.name.cmp(&b.name))
    });
    v
}

/// Lower is better: A < A- < B+ < B … ; unknown last.
fn grade_rank(g: &str) -> u32 {
    let mut c = g.chars();
    let letter = match c.next() {
        Some(l @ 'A'..='F') => (l as u32 - 'A' as u32) * 3,
        _ => return 100,
    };
    letter
        + match c.next() {
            Some('+') => 0,
            None => 1,
            Some('-') => 2,
            _ => 3,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: &str, l: &str, g: &str, gr: &str) -> (String, String, String, String) {
        (n.into(), l.into(), g.into(), gr.into())
    }

    #[test]
    fn groups_and_orders_voices() {
        let e = entries([
            v("bm_george", "en-gb", "male", "C"),
            v("af_bella", "en-us", "female", "A-"),
            v("af_heart", "en-us", "female", "A"),
            v("ff_siwis", "fr-fr", "female", "B-"),
            v("am_adam", "en-us", "male", "F+"),
            v("bf_emma", "en-gb", "female", "B-"),
        ]);
        let names: Vec<_> = e.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "af_heart",
                "af_bella",
                "am_adam",
                "bf_emma",
                "bm_george",
                "ff_siwis"
            ]
        );
        assert_eq!(e[0].label, "Heart (A)");
        assert_eq!(e[0].group, "American · female");
        assert_eq!(e[5].group, "French");
        assert_eq!(e[5].lang, "fr-fr");
    }

    #[test]
    fn every_language_has_its_group_after_english() {
        let e = entries([
            v("zm_yunxi", "zh", "male", ""),
            v("jf_alpha", "ja", "female", ""),
            v("ef_dora", "es", "female", ""),
            v("hm_psi", "hi", "male", ""),
            v("xx_new", "other", "unknown", ""),
            v("af_heart", "en-us", "female", "A"),
            v("pf_dora", "pt-br", "female", ""),
            v("im_nicola", "it", "male", ""),
            v("ff_siwis", "fr-fr", "female", "B-"),
        ]);
        let groups: Vec<_> = e.iter().map(|x| x.group.as_str()).collect();
        assert_eq!(
            groups,
            [
                "American · female",
                "Spanish",
                "French",
                "Italian",
                "Portuguese (Brazil)",
                "Hindi",
                "Chinese (Mandarin)",
                "Japanese",
                "Other"
            ]
        );
        assert_eq!(language_name("en-gb"), "English");
        assert!(preview_text("zh").contains('你') && preview_text("en-us").starts_with("Hello"));
    }

    #[test]
    fn labels() {
        assert_eq!(label_of("am_santa", ""), "Santa");
        assert_eq!(label_of("weird", "B"), "Weird (B)");
    }
}
