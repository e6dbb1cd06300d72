//! The English front ends of the engine: one grapheme-to-phoneme reader per language, each
//! loaded on first use, and the choice of the one that reads for a given voice.

use crate::error::{Error, Result};
use crate::voice::voice_lang;
use hark_text::{G2p, Lang, Lexicon};
use std::path::PathBuf;
use std::sync::OnceLock;

/// American and British G2P over one lexicon directory.
pub(crate) struct FrontEnds {
    /// Directory with the lexicon JSON files; `None` makes every load fail.
    dir: Option<PathBuf>,
    /// Read every voice with this language ([`crate::EngineConfig::lang`]).
    forced: Option<Lang>,
    us: OnceLock<G2p>,
    gb: OnceLock<G2p>,
}

impl FrontEnds {
    pub(crate) fn new(dir: Option<PathBuf>, forced: Option<Lang>) -> FrontEnds {
        FrontEnds {
            dir,
            forced,
            us: OnceLock::new(),
            gb: OnceLock::new(),
        }
    }

    /// The language `voice` (a name or a blend) is read with.
    pub(crate) fn lang_for(&self, voice: &str) -> Lang {
        self.forced.unwrap_or_else(|| voice_lang(voice))
    }

    /// The G2P of `lang`, loading its lexicons the first time.
    pub(crate) fn get(&self, lang: Lang) -> Result<&G2p> {
        let cell = match lang {
            Lang::EnUs => &self.us,
            Lang::EnGb => &self.gb,
        };
        if let Some(g2p) = cell.get() {
            return Ok(g2p);
        }
        let dir = self.dir.as_ref().ok_or(Error::NoLexicons)?;
        let t0 = std::time::Instant::now();
        let lexicon = Lexicon::load(dir, lang).map_err(|source| Error::Lexicon {
            dir: dir.clone(),
            source,
        })?;
        tracing::info!(
            %lang,
            elapsed_ms = t0.elapsed().as_millis() as u64,
            "lexicons loaded"
        );
        // Two threads may load at once; the first to finish is kept.
        Ok(cell.get_or_init(|| G2p::new(lexicon)))
    }

    /// The G2P that reads `voice`.
    pub(crate) fn for_voice(&self, voice: &str) -> Result<&G2p> {
        self.get(self.lang_for(voice))
    }
}
