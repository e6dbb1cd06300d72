//! # hark-text — the text front end of hark
//!
//! Turns text into phoneme strings in the alphabet the Kokoro-82M v1.0 model was trained on,
//! and groups them into model-sized chunks, keeping for every chunk, word and phoneme span the
//! byte range of the input text it came from (for highlighting).
//!
//! Every language's reader gives the same shape ([`Phonemized`]: tokens with phonemes and
//! byte ranges) through the [`Phonemize`] trait, and [`FrontEnd`] holds the reader of any
//! [`Lang`] ([`FrontEnd::load`]):
//! * **English** (`en-us`, `en-gb`): [`G2p`], below;
//! * **Spanish, French, Italian, Brazilian Portuguese, Hindi** (`es fr-fr it pt-br hi`):
//!   [`EspeakG2p`], misaki's `EspeakG2P`: espeak-ng (a separate, long-lived program; it is GPL
//!   and never linked) reads the text between punctuation marks, its IPA is mapped to Kokoro's
//!   symbols, the marks are kept. Unlike misaki it reads local numbers whole (`1.234,56`,
//!   `2,22,840`), amounts of money as the language says them (`R$ 1.800,00`), minus signs, and
//!   keeps `¡ ¿` out of the phonemes and the danda `।` as a sentence end;
//! * **Mandarin** (`zh`, [`zh`]) and **Japanese** (`ja`, [`ja`]).
//!
//! [`detect`] tells which of these languages a text is written in (script, then the `whatlang`
//! crate for Latin letters), for reading a selection with a voice of its language.
//!
//! What the English reader does:
//! * **G2P compatible with misaki 0.9.4** (`misaki/en.py` by hexgrad, Apache-2.0): gold then
//!   silver lexicons (misaki's JSON files, loaded at run time from a lexicon directory; they are
//!   misaki's data, under its license), case variants, capitalization stress, `-s/-ed/-ing`
//!   suffix rules, number reading (own `num2words` equivalent), proper-noun spelling, special
//!   cases (`a/am/an/I/by/to/in/the/vs/used`), heteronyms chosen by a small rule-based
//!   part-of-speech tagger (a stand-in for spaCy), punctuation handling and the v1.0 rewrites
//!   `ɾ→T`, `ʔ→t`. The rules were re-implemented from misaki's behaviour; no code is shared.
//! * **Normalization** happens the way misaki does it — per token, inside G2P — so numbers,
//!   currency (`$ £ €` with cents), decimals, ordinals, years and decades, percentages,
//!   dotted abbreviations, acronyms, contractions, curly quotes, hyphenated compounds,
//!   ellipses and dashes read as misaki reads them.
//! * **Abbreviations in context** ([`ABBREVIATIONS`], one table): `No. 5` is "number five"
//!   but `No. Never.` is "no. never."; `St. John St.` is "Saint John Street"; `Oct. 7` is
//!   "October seven"; `5 ft.` is "five feet". Where an abbreviation is not expanded it is read
//!   as the word it spells and its period ends the sentence.
//! * **Unknown words** go to the `espeak-ng` program when it is on PATH (one subprocess per
//!   batch of words; never linked), mapped to misaki's alphabet; otherwise to a small built-in
//!   letter-to-sound fallback. Nothing is dropped silently (fallback use is logged at debug).
//!   Emoji are named by espeak-ng ("🎉" → "party popper") as in misaki; without espeak-ng they
//!   are skipped (empty phonemes, range kept).
//! * **Overrides**: a user dictionary (case-insensitive) and misaki's inline links
//!   `[word](/phonemes/)`, `[word](+2)` (stress), `[1](#a#)` (number flags).
//! * **Chunking** ([`chunk`], any language): paragraphs on `\n+`, chunks of ≤ 510 phoneme
//!   characters cut by misaki/Kokoro's waterfall (sentence end, then `:;`, then `,—`),
//!   optionally a short first chunk for fast first audio.
//!
//! ```no_run
//! use hark_text::{chunk, ChunkOptions, G2p, Lang, Lexicon};
//! # fn main() -> hark_text::Result<()> {
//! let lex = Lexicon::load(std::path::Path::new("/path/to/lexicons"), Lang::EnUs)?;
//! let g2p = G2p::new(lex); // Send + Sync: build once, share
//! assert_eq!(g2p.phonemize("Hello, world!").phonemes(), "həlˈO, wˈɜɹld!");
//! for c in chunk("Some long text…", &g2p, &ChunkOptions { max_phonemes: 510, first_chunk: true }) {
//!     // c.phonemes: ≤ 510 chars; c.src / c.words[i].src: byte ranges of the input text
//!     let _ = (c.phonemes, c.src, c.words);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! * **Mandarin** ([`zh`]): [`zh::ZhG2p`] reads Chinese as misaki's legacy zh path does
//!   (cn2an numbers, jieba segmentation, pypinyin readings, misaki's pinyin→IPA table with tone
//!   arrows), with corrections where misaki reads wrong, and hands Latin words to an English
//!   reader. Same output shape as the English G2P ([`Phonemized`], words with source ranges).
//!
//! * **Japanese** ([`ja`]): [`ja::JaG2p`] reads Japanese as misaki's cutlet path does (MeCab's
//!   segmentation with unidic-lite, by our own reader of MeCab's memory-mapped dictionary;
//!   misaki's kana→IPA rules, num2kana numbers and word list), with corrections where misaki
//!   reads wrong (counters, separators, parentheses). Same output shape ([`Phonemized`]).
//!
//! What it is not: it knows nothing of the model, vocabularies/token ids, audio or apps.
//! Input is any `&str`; bad or odd input (control characters, combining marks, RTL, CJK, emoji
//! sequences, megabytes of text) never panics — what cannot be spoken is skipped with its byte
//! range still accounted for.

#![warn(missing_docs)]

mod abbrev;
mod chunk;
mod detect;
mod error;
mod espeak;
mod fallback;
mod frontend;
mod g2p;
pub mod ja;
mod lang;
mod lexicon;
pub mod numbers;
mod sentence;
mod stress;
mod token;
mod tokenize;
pub mod zh;

pub use abbrev::{Abbreviation, Case, Context, Reading, Rule, ABBREVIATIONS};
pub use chunk::{chunk, Chunk, ChunkOptions, WordSpan, KOKORO_ALPHABET};
pub use detect::detect;
pub use error::{Error, Result};
pub use espeak::process::find_espeak;
pub use espeak::EspeakG2p;
pub use fallback::{builtin_lts, espeak_to_misaki};
pub use frontend::{FrontEnd, Phonemize, Sources};
pub use g2p::{G2p, Phonemized, Token};
pub use lang::Lang;
pub use lexicon::Lexicon;
pub use sentence::period_ends_sentence;
pub use stress::apply_stress;
