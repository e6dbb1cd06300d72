//! The right voice for the text: which voice reads text written in another language than the
//! current voice's. One rule for every shell (tray app, `hark serve` and its bridge, the CLI):
//! the engine applies it to every request that does not name its voice, and to the voice
//! `auto` ([`AUTO_VOICE`]).

use hark_text::Lang;
use std::collections::BTreeMap;

/// The voice name that asks for the voice of the text's language (`hark say --voice auto`,
/// `{"voice": "auto"}` on the bridge): the user's voice for the language [`hark_text::detect`]
/// finds, else the current voice. It works whether or not [`LanguageVoices::enabled`] is on.
pub const AUTO_VOICE: &str = "auto";

/// The voice each language is read with when nobody chose one: the best-graded voice of the
/// language in Kokoro's catalogue. English text is looked up as [`Lang::EnUs`].
pub fn default_voice_for(lang: Lang) -> &'static str {
    match lang {
        Lang::EnUs => crate::voice::DEFAULT_VOICE,
        Lang::EnGb => "bf_emma",
        Lang::Es => "ef_dora",
        Lang::FrFr => "ff_siwis",
        Lang::It => "if_sara",
        Lang::PtBr => "pf_dora",
        Lang::Hi => "hf_alpha",
        Lang::Zh => "zf_xiaobei",
        Lang::Ja => "jf_alpha",
    }
}

/// The languages a text can be detected as ([`hark_text::detect`]), each with a voice of its
/// own in [`LanguageVoices::voices`]: English (as `en-us`), then the others in Kokoro's order.
pub const CHOOSABLE: [Lang; 8] = [
    Lang::EnUs,
    Lang::Es,
    Lang::FrFr,
    Lang::It,
    Lang::PtBr,
    Lang::Hi,
    Lang::Zh,
    Lang::Ja,
];

/// The user's voice for each language, and whether text in another language than the current
/// voice's is read with it (see [`crate::Engine::set_language_voices`]). The default: off, no
/// choices (every language with its default voice).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanguageVoices {
    /// Read text in another language with that language's voice. Off: the current voice reads
    /// everything (with its own language's rules). The engine starts with it off; the tray app
    /// and `hark serve` set it from the user's settings.
    pub enabled: bool,
    /// The chosen voice of a language (English under `en-us`); a language without an entry
    /// (or whose voice is not installed) uses [`default_voice_for`].
    pub voices: BTreeMap<Lang, String>,
}

impl LanguageVoices {
    /// The voices to try for text in `lang`, best first: the user's choice, then the default.
    pub fn candidates(&self, lang: Lang) -> Vec<&str> {
        let key = if lang.is_english() { Lang::EnUs } else { lang };
        let mut out: Vec<&str> = self
            .voices
            .get(&key)
            .map(String::as_str)
            .into_iter()
            .collect();
        let default = default_voice_for(key);
        if !out.contains(&default) {
            out.push(default);
        }
        out
    }

    /// The voice for `text` when `current` would read it and the text is in another language:
    /// the first of [`candidates`](Self::candidates) that `installed` accepts. `None`: keep
    /// `current` (same language, language unclear, or no voice of it installed). Does not look
    /// at [`enabled`](Self::enabled); the engine does.
    pub fn pick(
        &self,
        current: &str,
        text: &str,
        installed: impl Fn(&str) -> bool,
    ) -> Option<(Lang, String)> {
        let lang = hark_text::detect(text)?;
        if crate::voice::voice_lang(current).same_as(lang) {
            return None;
        }
        self.candidates(lang)
            .into_iter()
            .find(|v| installed(v))
            .map(|v| (lang, v.to_string()))
    }
}

/// Whether a requested voice is [`AUTO_VOICE`].
pub(crate) fn is_auto(voice: &str) -> bool {
    voice.trim().eq_ignore_ascii_case(AUTO_VOICE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choosable_language_has_a_default_voice_of_its_own() {
        for l in CHOOSABLE {
            assert!(
                crate::voice::voice_lang(default_voice_for(l)).same_as(l),
                "{l}"
            );
        }
        assert_eq!(
            crate::voice::voice_lang(default_voice_for(Lang::EnGb)),
            Lang::EnGb
        );
    }

    #[test]
    fn the_users_choice_first_then_the_default() {
        let mut lv = LanguageVoices::default();
        lv.voices.insert(Lang::Es, "em_alex".into());
        assert_eq!(lv.candidates(Lang::Es), vec!["em_alex", "ef_dora"]);
        assert_eq!(lv.candidates(Lang::Zh), vec!["zf_xiaobei"]);
        assert_eq!(lv.candidates(Lang::EnGb), vec!["af_heart"]);
        let all = |_: &str| true;
        let es = "El perro de mi vecino ladra todas las noches y no me deja dormir.";
        assert_eq!(
            lv.pick("af_heart", es, all),
            Some((Lang::Es, "em_alex".into()))
        );
        // the user's voice is not installed: the language's default
        let no_alex = |v: &str| v != "em_alex";
        assert_eq!(
            lv.pick("af_heart", es, no_alex),
            Some((Lang::Es, "ef_dora".into()))
        );
        // no Spanish voice at all: keep the current one
        assert_eq!(lv.pick("af_heart", es, |v: &str| !v.starts_with('e')), None);
        // already a Spanish voice, or English text with a British voice: keep it
        assert_eq!(lv.pick("em_santa", es, all), None);
        let en = "The weather was cold, so we stayed inside and read books all afternoon.";
        assert_eq!(lv.pick("bm_george", en, all), None);
        assert_eq!(
            lv.pick("ef_dora", en, all),
            Some((Lang::EnUs, "af_heart".into()))
        );
        // unclear text: keep it
        assert_eq!(lv.pick("af_heart", "OK", all), None);
        assert!(is_auto(" Auto ") && !is_auto("af_heart"));
    }
}
