//! One pinyin syllable → Kokoro's Mandarin phonemes, as misaki's legacy path writes them: its
//! pinyin→IPA table (adapted there from `pinyin-to-ipa`), the first variant of every sound, tone
//! letters turned into arrows (1 `→`, 2 `↗`, 3 `↓`, 4 `↘`, neutral nothing) on the nucleus, the
//! syllabic marks of `zhi chi shi ri` / `zi ci si` folded into `ɨ` and the non-syllabic breve
//! dropped (`ai̯` → `ai`).
//!
//! Syllables come in pypinyin's TONE3 form (`zhong1`, `lv4`, `de5`, `n2`); the initial/final
//! split follows pypinyin's strict rules (`y`/`w` are not initials: `yue` is the final `üe`,
//! `wei` is `uei`; `ju` is `jü`; `liu gui lun` are `liou guei luen`).

/// The strict initials, longest first where one is a prefix of another (`zh` before `z`).
const INITIALS: [&str; 21] = [
    "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch", "sh", "r",
    "z", "c", "s",
];

/// The finals pypinyin recognises (`er` and `ê` among them, read as interjections).
const FINALS: [&str; 37] = [
    "i", "u", "ü", "a", "ia", "ua", "o", "uo", "e", "ie", "üe", "ai", "uai", "ei", "uei", "ao",
    "iao", "ou", "iou", "an", "ian", "uan", "üan", "en", "in", "uen", "ün", "ang", "iang", "uang",
    "eng", "ing", "ueng", "ong", "iong", "er", "ê",
];

/// The tone arrow of tone `t` (5: neutral, none).
fn arrow(t: u8) -> &'static str {
    match t {
        1 => "→",
        2 => "↗",
        3 => "↓",
        4 => "↘",
        _ => "",
    }
}

/// The sound of a strict initial.
fn initial_ipa(i: &str) -> &'static str {
    match i {
        "b" => "p",
        "c" => "ʦʰ",
        "ch" => "ꭧʰ",
        "d" => "t",
        "f" => "f",
        "g" => "k",
        "h" => "x",
        "j" => "ʨ",
        "k" => "kʰ",
        "l" => "l",
        "m" => "m",
        "n" => "n",
        "p" => "pʰ",
        "q" => "ʨʰ",
        "r" => "ɻ",
        "s" => "s",
        "sh" => "ʂ",
        "t" => "tʰ",
        "x" => "ɕ",
        "z" => "ʦ",
        "zh" => "ꭧ",
        _ => "",
    }
}

/// A final as (onset glide, nucleus, coda): the tone goes after the nucleus.
fn final_parts(f: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match f {
        "a" => ("", "a", ""),
        "ai" => ("", "ai", ""),
        "an" => ("", "a", "n"),
        "ang" => ("", "a", "ŋ"),
        "ao" => ("", "au", ""),
        "e" => ("", "ɤ", ""),
        "ei" => ("", "ei", ""),
        "en" => ("", "ə", "n"),
        "eng" => ("", "ə", "ŋ"),
        "i" => ("", "i", ""),
        "ia" => ("j", "a", ""),
        "ian" => ("j", "ɛ", "n"),
        "iang" => ("j", "a", "ŋ"),
        "iao" => ("j", "au", ""),
        "ie" => ("j", "e", ""),
        "in" => ("", "i", "n"),
        "iou" => ("j", "ou", ""),
        "ing" => ("", "i", "ŋ"),
        "iong" => ("j", "ʊ", "ŋ"),
        "ong" => ("", "ʊ", "ŋ"),
        "ou" => ("", "ou", ""),
        "u" => ("", "u", ""),
        "uei" => ("w", "ei", ""),
        "ua" => ("w", "a", ""),
        "uai" => ("w", "ai", ""),
        "uan" => ("w", "a", "n"),
        "uen" => ("w", "ə", "n"),
        "uang" => ("w", "a", "ŋ"),
        "ueng" => ("w", "ə", "ŋ"),
        "uo" | "o" => ("w", "o", ""),
        "ü" => ("", "y", ""),
        "üe" => ("ɥ", "e", ""),
        "üan" => ("ɥ", "ɛ", "n"),
        "ün" => ("", "y", "n"),
        _ => return None,
    })
}

/// pypinyin's `convert_finals` (zero-initial `y`/`w` spellings, `ju` → `jü`, `iu ui un` →
/// `iou uei uen`) on a toneless syllable with `ü` spelled out.
fn restore_final(py: &str) -> String {
    let mut s = py.to_string();
    if let Some(rest) = py.strip_prefix('y') {
        let cand = match rest.chars().next() {
            Some('u') => format!("ü{}", &rest[1..]),
            Some('i') => rest.to_string(),
            _ => format!("i{rest}"),
        };
        if FINALS.contains(&cand.as_str()) {
            s = cand;
        }
    } else if let Some(rest) = py.strip_prefix('w') {
        let cand = if rest.starts_with('u') {
            rest.to_string()
        } else {
            format!("u{rest}")
        };
        if FINALS.contains(&cand.as_str()) {
            s = cand;
        }
    }
    if let Some(rest) = s
        .strip_prefix('j')
        .or_else(|| s.strip_prefix('q'))
        .or_else(|| s.strip_prefix('x'))
    {
        if let Some(tail) = rest.strip_prefix('u') {
            s = format!("{}ü{tail}", &s[..1]);
        }
    }
    for (from, to) in [("iu", "iou"), ("ui", "uei"), ("un", "uen")] {
        if s.len() > from.len() && s.ends_with(from) {
            s = format!("{}{to}", &s[..s.len() - from.len()]);
        }
    }
    s
}

/// The strict initial `py` starts with, if any.
fn initial_of(py: &str) -> Option<&'static str> {
    INITIALS
        .iter()
        .copied()
        .find(|i| {
            // `zh ch sh` must win over `z c s`: try the two-letter ones first.
            i.len() == 2 && py.starts_with(i)
        })
        .or_else(|| {
            INITIALS
                .iter()
                .copied()
                .find(|i| i.len() == 1 && py.starts_with(i))
        })
}

/// The phonemes of one TONE3 syllable (`zhong1`, `lv4`, `er2`, `n2`), or `None` for what misaki
/// cannot read either (its table raises on such a syllable).
pub(crate) fn syllable_ipa(tone3: &str) -> Option<String> {
    let (letters, tone) = match tone3.as_bytes().last() {
        Some(d @ b'1'..=b'5') => (&tone3[..tone3.len() - 1], d - b'0'),
        _ => (tone3, 5),
    };
    if letters.is_empty() {
        return None;
    }
    let t = arrow(tone);
    // Interjections and syllabic consonants, by their toneless spelling (`v` kept for ü).
    let whole = match letters {
        "io" => Some(("j", "ɔ")),
        "ê" => Some(("", "ɛ")),
        "er" => Some(("", "ɚ")),
        "o" => Some(("", "ɔ")),
        "hm" => Some(("h", "m")),
        "hng" => Some(("h", "ŋ")),
        "m" => Some(("", "m")),
        "n" => Some(("", "n")),
        "ng" => Some(("", "ŋ")),
        _ => None,
    };
    if let Some((onset, nucleus)) = whole {
        return Some(format!("{onset}{nucleus}{t}"));
    }
    let py = letters.replace('v', "ü");
    let restored = restore_final(&py);
    let mut initial = initial_of(&restored);
    let mut fin = &restored[initial.map_or(0, str::len)..];
    if !FINALS.contains(&fin) {
        // pypinyin then treats `y`/`w` as initials (`yo` → `o`).
        initial = None;
        fin = restored
            .strip_prefix('y')
            .or_else(|| restored.strip_prefix('w'))
            .unwrap_or("");
        if !FINALS.contains(&fin) {
            return None;
        }
    }
    let init = initial.map_or("", initial_ipa);
    let (glide, nucleus, coda) = match (initial, fin) {
        (Some("zh" | "ch" | "sh" | "r" | "z" | "c" | "s"), "i") => ("", "ɨ", ""),
        _ => final_parts(fin)?,
    };
    Some(format!("{init}{glide}{nucleus}{t}{coda}"))
}

#[cfg(test)]
mod tests {
    use super::syllable_ipa;

    #[test]
    fn misaki_readings_of_a_few_syllables() {
        for (py, want) in [
            ("zhong1", "ꭧʊ→ŋ"),
            ("shi4", "ʂɨ↘"),
            ("zi4", "ʦɨ↘"),
            ("xue2", "ɕɥe↗"),
            ("yuan2", "ɥɛ↗n"),
            ("lv4", "ly↘"),
            ("lve4", "lɥe↘"),
            ("jun1", "ʨy→n"),
            ("liu2", "ljou↗"),
            ("gui4", "kwei↘"),
            ("lun4", "lwə↘n"),
            ("wo3", "wo↓"),
            ("mo4", "mwo↘"),
            ("er4", "ɚ↘"),
            ("de5", "tɤ"),
            ("yo1", "wo→"),
            ("o4", "ɔ↘"),
            ("n2", "n↗"),
            ("wu3", "u↓"),
            ("yi1", "i→"),
            ("ying2", "i↗ŋ"),
            ("yong3", "jʊ↓ŋ"),
            ("weng1", "wə→ŋ"),
        ] {
            assert_eq!(syllable_ipa(py).as_deref(), Some(want), "{py}");
        }
        assert_eq!(syllable_ipa("5"), None);
        assert_eq!(syllable_ipa("xyz1"), None);
    }
}
