//! The languages of Kokoro-82M v1.0 and how each is read.

use crate::error::{Error, Result};

/// A language the Kokoro-82M v1.0 voices speak, named as the reference pipeline names them
/// (`en-us`, `es`, `fr-fr`, …; Kokoro's one-letter codes `a b e f i p h z j` are accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    /// American English (`en-us`, Kokoro voices `a…`).
    EnUs,
    /// British English (`en-gb`, Kokoro voices `b…`).
    EnGb,
    /// Spanish (`es`, voices `e…`), read through espeak-ng.
    Es,
    /// French (`fr-fr`, voices `f…`), read through espeak-ng.
    FrFr,
    /// Italian (`it`, voices `i…`), read through espeak-ng.
    It,
    /// Brazilian Portuguese (`pt-br`, voices `p…`), read through espeak-ng.
    PtBr,
    /// Hindi (`hi`, voices `h…`), read through espeak-ng.
    Hi,
    /// Mandarin Chinese (`zh`, voices `z…`).
    Zh,
    /// Japanese (`ja`, voices `j…`).
    Ja,
}

impl Lang {
    /// Every language, in Kokoro's order.
    pub const ALL: [Lang; 9] = [
        Lang::EnUs,
        Lang::EnGb,
        Lang::Es,
        Lang::FrFr,
        Lang::It,
        Lang::PtBr,
        Lang::Hi,
        Lang::Zh,
        Lang::Ja,
    ];

    /// Prefix of the misaki lexicon files (English only).
    pub(crate) fn file_prefix(self) -> Option<&'static str> {
        match self {
            Lang::EnUs => Some("us"),
            Lang::EnGb => Some("gb"),
            _ => None,
        }
    }

    /// The canonical name (`en-us`, `en-gb`, `es`, `fr-fr`, `it`, `pt-br`, `hi`, `zh`, `ja`).
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::EnUs => "en-us",
            Lang::EnGb => "en-gb",
            Lang::Es => "es",
            Lang::FrFr => "fr-fr",
            Lang::It => "it",
            Lang::PtBr => "pt-br",
            Lang::Hi => "hi",
            Lang::Zh => "zh",
            Lang::Ja => "ja",
        }
    }

    /// Kokoro's one-letter code, which is also the first letter of the language's voice names.
    pub fn code(self) -> char {
        match self {
            Lang::EnUs => 'a',
            Lang::EnGb => 'b',
            Lang::Es => 'e',
            Lang::FrFr => 'f',
            Lang::It => 'i',
            Lang::PtBr => 'p',
            Lang::Hi => 'h',
            Lang::Zh => 'z',
            Lang::Ja => 'j',
        }
    }

    /// The language of Kokoro's one-letter code (`a` → `en-us`, `e` → `es`, …).
    pub fn from_code(c: char) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == c)
    }

    /// American or British English (read from misaki's lexicons).
    pub fn is_english(self) -> bool {
        matches!(self, Lang::EnUs | Lang::EnGb)
    }

    /// The BCP 47 tag of the language as Kokoro's voices speak it (`en-US`, `en-GB`, `es-ES`,
    /// `fr-FR`, `it-IT`, `pt-BR`, `hi-IN`, `zh-CN`, `ja-JP`): what a browser's speech API and
    /// a page's `lang` attribute use.
    pub fn bcp47(self) -> &'static str {
        match self {
            Lang::EnUs => "en-US",
            Lang::EnGb => "en-GB",
            Lang::Es => "es-ES",
            Lang::FrFr => "fr-FR",
            Lang::It => "it-IT",
            Lang::PtBr => "pt-BR",
            Lang::Hi => "hi-IN",
            Lang::Zh => "zh-CN",
            Lang::Ja => "ja-JP",
        }
    }

    /// The language a BCP 47 tag (`es`, `es-MX`, `fr-CA`, `pt-PT`, `zh-Hans-CN`, `en-GB`, any
    /// case, `_` or `-`) is read with: by its primary subtag, British English for `en-GB`
    /// (and `en-IE`, `en-AU`, `en-NZ`), American for other English; `None` for a language no
    /// voice speaks.
    pub fn from_bcp47(tag: &str) -> Option<Lang> {
        let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
        let mut parts = tag.split('-');
        let primary = parts.next()?;
        let region = parts.find(|p| p.len() == 2);
        Some(match primary {
            "en" => match region {
                Some("gb" | "uk" | "ie" | "au" | "nz") => Lang::EnGb,
                _ => Lang::EnUs,
            },
            "es" => Lang::Es,
            "fr" => Lang::FrFr,
            "it" => Lang::It,
            "pt" => Lang::PtBr,
            "hi" => Lang::Hi,
            "zh" | "cmn" => Lang::Zh,
            "ja" => Lang::Ja,
            _ => return None,
        })
    }

    /// The same language for reading purposes: equal, or both English.
    pub fn same_as(self, other: Lang) -> bool {
        self == other || (self.is_english() && other.is_english())
    }

    /// The espeak-ng voice that reads this language: the whole text for es, fr-fr, it, pt-br
    /// and hi (as misaki's `EspeakG2P`), unknown words for English; `None` for zh and ja.
    pub fn espeak_voice(self) -> Option<&'static str> {
        match self {
            Lang::EnUs => Some("en-us"),
            Lang::EnGb => Some("en-gb"),
            Lang::Es => Some("es"),
            Lang::FrFr => Some("fr-fr"),
            Lang::It => Some("it"),
            Lang::PtBr => Some("pt-br"),
            Lang::Hi => Some("hi"),
            Lang::Zh | Lang::Ja => None,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Lang {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        let mut chars = t.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            if let Some(l) = Lang::from_code(c) {
                return Ok(l);
            }
        }
        Lang::ALL
            .into_iter()
            .find(|l| l.as_str() == t)
            .ok_or_else(|| Error::UnknownLang(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_parse() {
        assert_eq!("EN-US".parse::<Lang>().unwrap(), Lang::EnUs);
        assert_eq!("a".parse::<Lang>().unwrap(), Lang::EnUs);
        assert_eq!("b".parse::<Lang>().unwrap(), Lang::EnGb);
        assert_eq!("en-gb".parse::<Lang>().unwrap(), Lang::EnGb);
        assert_eq!("fr-fr".parse::<Lang>().unwrap(), Lang::FrFr);
        assert_eq!("P".parse::<Lang>().unwrap(), Lang::PtBr);
        assert!("fr".parse::<Lang>().is_err());
        assert!("x".parse::<Lang>().is_err());
        assert!("".parse::<Lang>().is_err());
        assert_eq!(Lang::from_bcp47("es-MX"), Some(Lang::Es));
        assert_eq!(Lang::from_bcp47("fr_CA"), Some(Lang::FrFr));
        assert_eq!(Lang::from_bcp47("pt-PT"), Some(Lang::PtBr));
        assert_eq!(Lang::from_bcp47("zh-Hans-CN"), Some(Lang::Zh));
        assert_eq!(Lang::from_bcp47("en-gb"), Some(Lang::EnGb));
        assert_eq!(Lang::from_bcp47("EN"), Some(Lang::EnUs));
        assert_eq!(Lang::from_bcp47("de-DE"), None);
        assert_eq!(Lang::from_bcp47(""), None);
        assert!(Lang::EnGb.same_as(Lang::EnUs) && !Lang::Es.same_as(Lang::PtBr));
        for l in Lang::ALL {
            assert_eq!(Lang::from_bcp47(l.bcp47()), Some(l));
            assert_eq!(l.as_str().parse::<Lang>().unwrap(), l);
            assert_eq!(l.code().to_string().parse::<Lang>().unwrap(), l);
        }
    }
}
