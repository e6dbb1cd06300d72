//! User settings: the [`hark_settings`] types (shared with `hark serve`), plus what only the app
//! needs: the tray's speed menu and the pronunciation dictionary.

pub use hark_settings::*;

/// Speeds offered in the tray menu.
pub const SPEEDS: [f32; 7] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

/// Applies the pronunciation dictionary: whole-word, case-insensitive replacement.
/// Words are runs of letters, digits, `'` and `-`.
pub fn apply_dictionary(text: &str, dict: &[DictEntry]) -> String {
    if dict.is_empty() {
        return text.to_string();
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '\'' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(is_word).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        match dict
            .iter()
            .find(|e| e.word.trim().to_lowercase() == word.to_lowercase())
        {
            Some(e) => out.push_str(e.say.trim()),
            None => out.push_str(word),
        }
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_replaces_whole_words_only() {
        let dict = vec![
            DictEntry {
                word: "tauri".into(),
                say: "tow ree".into(),
            },
            DictEntry {
                word: "GIF".into(),
                say: "jiff".into(),
            },
        ];
        assert_eq!(
            apply_dictionary("Tauri apps, a gif, Tauris and gifts.", &dict),
            "tow ree apps, a jiff, Tauris and gifts."
        );
        assert_eq!(apply_dictionary("héllo — wörld", &dict), "héllo — wörld");
        assert_eq!(apply_dictionary("", &dict), "");
    }
}
