//! The text front ends of the engine: one reader per language (English from misaki's
//! lexicons, es/fr-fr/it/pt-br/hi through espeak-ng, Mandarin from its compiled-in data with
//! the engine's American English for Latin words, Japanese from its dictionary), each loaded on
//! first use, and the choice of the one that reads for a given voice.

use crate::error::{Error, Result};
use crate::voice::voice_lang;
use hark_text::{FrontEnd, Lang, Sources};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Every language's reader, over one lexicon directory (for English) and the Japanese
/// dictionary's.
pub(crate) struct FrontEnds {
    /// Directory with the lexicon JSON files; `None` makes every English load fail.
    dir: Option<PathBuf>,
    /// The Japanese dictionary's directory; `None` makes the Japanese load fail.
    japanese: Option<PathBuf>,
    /// Read every voice with this language ([`crate::EngineConfig::lang`]).
    forced: Option<Lang>,
    /// One cell per language, in [`Lang::ALL`]'s order.
    readers: [OnceLock<FrontEnd>; Lang::ALL.len()],
}

impl FrontEnds {
    pub(crate) fn new(
        dir: Option<PathBuf>,
        japanese: Option<PathBuf>,
        forced: Option<Lang>,
    ) -> FrontEnds {
        FrontEnds {
            dir,
            japanese,
            forced,
            readers: Default::default(),
        }
    }

    /// The language `voice` (a name or a blend) is read with.
    pub(crate) fn lang_for(&self, voice: &str) -> Lang {
        self.forced.unwrap_or_else(|| voice_lang(voice))
    }

    /// The reader of `lang`, loading it the first time (English: its lexicons; the espeak
    /// languages: their espeak-ng process).
    pub(crate) fn get(&self, lang: Lang) -> Result<&FrontEnd> {
        let i = Lang::ALL
            .iter()
            .position(|l| *l == lang)
            .expect("every language is in Lang::ALL");
        let cell = &self.readers[i];
        if let Some(reader) = cell.get() {
            return Ok(reader);
        }
        let t0 = std::time::Instant::now();
        let reader = if FrontEnd::needs_lexicons(lang) {
            let dir = self.dir.as_ref().ok_or(Error::NoLexicons)?;
            let sources = Sources {
                lexicons: Some(dir),
                ..Sources::default()
            };
            FrontEnd::load(lang, sources).map_err(|source| Error::Lexicon {
                dir: dir.clone(),
                source,
            })?
        } else if lang == Lang::Zh {
            // Latin words in Mandarin text are read by the American reader (shared, not loaded
            // twice); without lexicons they are copied raw.
            let english = self
                .get(Lang::EnUs)
                .ok()
                .and_then(FrontEnd::english)
                .cloned();
            FrontEnd::mandarin(english)
        } else {
            let sources = Sources {
                japanese: self.japanese.as_deref(),
                ..Sources::default()
            };
            FrontEnd::load(lang, sources).map_err(|source| Error::FrontEnd { lang, source })?
        };
        tracing::info!(
            %lang,
            elapsed_ms = t0.elapsed().as_millis() as u64,
            "text front end loaded"
        );
        // Two threads may load at once; the first to finish is kept.
        Ok(cell.get_or_init(|| reader))
    }

    /// The reader of `voice`.
    pub(crate) fn for_voice(&self, voice: &str) -> Result<&FrontEnd> {
        self.get(self.lang_for(voice))
    }
}
