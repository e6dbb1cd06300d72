//! Voice menu grouping: American/British × female/male, then everything else.

use serde::Serialize;

/// A voice as the tray and the settings window show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoiceEntry {
    /// Engine name, e.g. `af_heart`.
    pub name: String,
    /// Display group, e.g. "American · female".
    pub group: String,
    /// Quality grade from the model card (`A`, `B-`, …), empty if unknown.
    pub grade: String,
    /// Menu label, e.g. "Heart (A)".
    pub label: String,
}

/// Group order in menus.
pub const GROUPS: [&str; 5] = [
    "American · female",
    "American · male",
    "British · female",
    "British · male",
    "Other",
];

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
        _ => GROUPS[4],
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
            v("ff_siwis", "fr", "female", "B-"),
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
        assert_eq!(e[5].group, "Other");
    }

    #[test]
    fn labels() {
        assert_eq!(label_of("am_santa", ""), "Santa");
        assert_eq!(label_of("weird", "B"), "Weird (B)");
    }
}
