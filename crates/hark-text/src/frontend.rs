//! The shape every language's reader shares, and the reader of each language.
//!
//! Every reader turns text into [`Phonemized`]: tokens (words, numbers, punctuation marks)
//! with their phonemes in Kokoro's alphabet and the byte range of the text each came from.
//! [`chunk`](crate::chunk) needs nothing more, so chunking, sentence ends and word
//! highlighting work the same in every language. Sentence-ending marks are tokens whose
//! phonemes are `.`, `!`, `?` or `…` (misaki writes `。` `！` `？` that way, and the danda
//! `।` becomes `.`); that is where chunks are cut first.
//!
//! A new language's reader implements [`Phonemize`] and gets a variant in [`FrontEnd`].

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::espeak::EspeakG2p;
use crate::g2p::{G2p, Phonemized, Token};
use crate::ja::JaG2p;
use crate::lang::Lang;
use crate::lexicon::Lexicon;
use crate::zh::ZhG2p;

/// A reader of one language: text → phonemes with per-token source byte ranges.
pub trait Phonemize {
    /// The language read.
    fn lang(&self) -> Lang;

    /// Phonemizes `text` as one call. Never fails: what cannot be read gets empty phonemes
    /// but keeps its byte range.
    fn phonemize(&self, text: &str) -> Phonemized;

    /// Phonemizes several independent pieces (each `(offset, text)`; `offset` is added to the
    /// token ranges). A reader that can share work between pieces (one espeak-ng exchange
    /// for all of them) does so.
    fn phonemize_many(&self, pieces: &[(usize, &str)]) -> Vec<Vec<Token>> {
        pieces
            .iter()
            .map(|&(off, t)| {
                let mut tokens = self.phonemize(t).tokens;
                for tk in &mut tokens {
                    tk.src = tk.src.start + off..tk.src.end + off;
                }
                tokens
            })
            .collect()
    }
}

impl Phonemize for G2p {
    fn lang(&self) -> Lang {
        G2p::lang(self)
    }
    fn phonemize(&self, text: &str) -> Phonemized {
        G2p::phonemize(self, text)
    }
    fn phonemize_many(&self, pieces: &[(usize, &str)]) -> Vec<Vec<Token>> {
        G2p::phonemize_many(self, pieces)
    }
}

impl Phonemize for EspeakG2p {
    fn lang(&self) -> Lang {
        EspeakG2p::lang(self)
    }
    fn phonemize(&self, text: &str) -> Phonemized {
        EspeakG2p::phonemize(self, text)
    }
    fn phonemize_many(&self, pieces: &[(usize, &str)]) -> Vec<Vec<Token>> {
        EspeakG2p::phonemize_many(self, pieces)
    }
}

impl Phonemize for ZhG2p {
    fn lang(&self) -> Lang {
        Lang::Zh
    }
    fn phonemize(&self, text: &str) -> Phonemized {
        ZhG2p::phonemize(self, text)
    }
}

impl Phonemize for JaG2p {
    fn lang(&self) -> Lang {
        Lang::Ja
    }
    fn phonemize(&self, text: &str) -> Phonemized {
        JaG2p::phonemize(self, text)
    }
}

/// Where the readers' data lives (see [`FrontEnd::load`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sources<'a> {
    /// misaki's lexicon directory: English, and the Latin-letter words inside Mandarin text.
    pub lexicons: Option<&'a Path>,
    /// The Japanese dictionary directory (`<assets>/ja`, installed by `hark fetch --japanese`).
    pub japanese: Option<&'a Path>,
}

/// The reader of any language: what an engine keeps, one per language. `Send + Sync`.
// (an engine holds one per language, loaded once and never moved: the size of the largest
// variant costs nothing)
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum FrontEnd {
    /// American or British English ([`G2p`], misaki's lexicons); shared with the Mandarin
    /// reader, which reads English words with it.
    English(Arc<G2p>),
    /// es, fr-fr, it, pt-br, hi through espeak-ng ([`EspeakG2p`]).
    Espeak(EspeakG2p),
    /// Mandarin ([`ZhG2p`]).
    Mandarin(ZhG2p),
    /// Japanese ([`JaG2p`], the memory-mapped unidic-lite dictionary).
    Japanese(JaG2p),
}

impl FrontEnd {
    /// Loads the reader of `lang`: English from misaki's lexicons (required); es, fr-fr, it,
    /// pt-br and hi through the espeak-ng program (which must be installed); Mandarin from the
    /// data compiled in, its English words read with American English when the lexicons are
    /// given (else copied raw, as misaki does); Japanese from its dictionary directory
    /// (required).
    pub fn load(lang: Lang, sources: Sources) -> Result<FrontEnd> {
        match lang {
            Lang::EnUs | Lang::EnGb => {
                let dir = sources.lexicons.ok_or(Error::Unavailable {
                    lang,
                    why: "no lexicon directory given",
                })?;
                Ok(G2p::new(Lexicon::load(dir, lang)?).into())
            }
            Lang::Es | Lang::FrFr | Lang::It | Lang::PtBr | Lang::Hi => {
                Ok(FrontEnd::Espeak(EspeakG2p::new(lang)?))
            }
            Lang::Zh => {
                let english = match sources.lexicons {
                    Some(dir) => Some(Arc::new(G2p::new(Lexicon::load(dir, Lang::EnUs)?))),
                    None => None,
                };
                Ok(FrontEnd::mandarin(english))
            }
            Lang::Ja => {
                let dir = sources.japanese.ok_or(Error::Unavailable {
                    lang,
                    why: "no Japanese dictionary directory given",
                })?;
                Ok(FrontEnd::Japanese(JaG2p::load(dir)?))
            }
        }
    }

    /// The Mandarin reader, reading Latin-letter words with `english` (an engine passes the
    /// American reader it already has) or, without one, copying them raw as misaki does.
    pub fn mandarin(english: Option<Arc<G2p>>) -> FrontEnd {
        let zh = ZhG2p::new();
        FrontEnd::Mandarin(match english {
            Some(g) => zh.with_english(move |t: &str| g.phonemize(t)),
            None => zh,
        })
    }

    /// The English reader, if this is one.
    pub fn english(&self) -> Option<&Arc<G2p>> {
        match self {
            FrontEnd::English(g) => Some(g),
            _ => None,
        }
    }

    /// Whether `lang` needs misaki's lexicon directory ([`FrontEnd::load`]).
    pub fn needs_lexicons(lang: Lang) -> bool {
        lang.is_english()
    }

    fn reader(&self) -> &dyn Phonemize {
        match self {
            FrontEnd::English(g) => &**g,
            FrontEnd::Espeak(e) => e,
            FrontEnd::Mandarin(z) => z,
            FrontEnd::Japanese(j) => j,
        }
    }
}

impl From<G2p> for FrontEnd {
    fn from(g: G2p) -> Self {
        FrontEnd::English(Arc::new(g))
    }
}

impl From<EspeakG2p> for FrontEnd {
    fn from(e: EspeakG2p) -> Self {
        FrontEnd::Espeak(e)
    }
}

impl Phonemize for FrontEnd {
    fn lang(&self) -> Lang {
        self.reader().lang()
    }
    fn phonemize(&self, text: &str) -> Phonemized {
        self.reader().phonemize(text)
    }
    fn phonemize_many(&self, pieces: &[(usize, &str)]) -> Vec<Vec<Token>> {
        self.reader().phonemize_many(pieces)
    }
}
