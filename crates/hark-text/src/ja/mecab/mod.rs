//! A reader of MeCab's compiled dictionaries and MeCab's lattice, in Rust, so that Japanese
//! is cut into words exactly as MeCab 0.996 (what fugashi wraps) cuts it with the same
//! dictionary: unidic-lite 1.0.8 for misaki.
//!
//! The four files are memory-mapped, never copied: `sys.dic` (double-array trie of surfaces,
//! 16-byte tokens, feature strings), `unk.dic` (the same, keyed by character category, for
//! unknown words), `matrix.bin` (connection costs) and `char.bin` ([`chars`]). The lattice
//! ([`lattice`]) follows MeCab's `Tokenizer::lookup` and `Viterbi::viterbi`, down to the order
//! in which equal-cost paths are compared.
//!
//! Formats (all little-endian): a dictionary starts with ten `u32` — magic (`file size ^
//! 0xEF718F77`), version (102), type, lexicon size, left and right context counts, the byte
//! sizes of the double array, the token array and the features, a dummy — and 32 bytes of
//! charset name; then the three sections. A token is `lcAttr: u16, rcAttr: u16, posid: u16,
//! wcost: i16, feature: u32, compound: u32`; a trie value is `first token << 8 | count`.
//! `matrix.bin` is `lsize: u16, rsize: u16` then `i16` costs at `rcAttr + lsize * lcAttr`.

mod chars;
mod darts;
mod lattice;

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::LoadError;
use chars::{CharInfo, CharTable};
use darts::DoubleArray;

const MAGIC: u32 = 0xEF71_8F77;
const VERSION: u32 = 102;
const HEADER: usize = 40 + 32;
const TOKEN: usize = 16;

/// One word MeCab found: where it is in the parsed text and what the dictionary says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Morph<'d> {
    /// Byte range of the surface in the parsed text (leading spaces excluded).
    pub(crate) span: (usize, usize),
    /// The comma-separated feature string (UniDic's 26 fields; 6 for unknown words).
    pub(crate) feature: &'d str,
    /// The character category MeCab records (`char_type`).
    pub(crate) char_type: u8,
    /// Whether it is an unknown word (`stat == MECAB_UNK_NODE`).
    pub(crate) unknown: bool,
}

/// One dictionary entry of a surface.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) lc: u16,
    pub(crate) rc: u16,
    pub(crate) wcost: i16,
    pub(crate) feature: u32,
}

/// A mapped `sys.dic` or `unk.dic`.
struct LexFile {
    map: Mmap,
    da: Range<usize>,
    tokens: Range<usize>,
    features: Range<usize>,
    lsize: u32,
    rsize: u32,
}

fn map_file(path: &Path) -> Result<Mmap, LoadError> {
    let f = File::open(path).map_err(|e| LoadError::io(path, e))?;
    // SAFETY: the mapping is read-only and private to this process; like MeCab, we rely on the
    // installed dictionary not being rewritten while it is in use (hark-assets replaces files
    // by renaming new ones into place, which leaves an existing mapping intact).
    unsafe { Mmap::map(&f) }.map_err(|e| LoadError::io(path, e))
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl LexFile {
    fn open(path: &Path) -> Result<Self, LoadError> {
        let map = map_file(path)?;
        let bad = |why: &str| LoadError::format(path, why);
        if map.len() < HEADER {
            return Err(bad("shorter than a dictionary header"));
        }
        let h: Vec<u32> = (0..10).map(|i| u32_at(&map, 4 * i)).collect();
        if (h[0] ^ MAGIC) as usize != map.len() {
            return Err(bad(
                "bad magic number (truncated or not a MeCab dictionary)",
            ));
        }
        if h[1] != VERSION {
            return Err(bad(&format!("dictionary version {} (expected 102)", h[1])));
        }
        if !map[40..HEADER].starts_with(b"utf8") && !map[40..HEADER].starts_with(b"UTF-8") {
            return Err(bad("not a UTF-8 dictionary"));
        }
        let (dsize, tsize, fsize) = (h[6] as usize, h[7] as usize, h[8] as usize);
        let da = HEADER..HEADER + dsize;
        let tokens = da.end..da.end + tsize;
        let features = tokens.end..tokens.end + fsize;
        if features.end != map.len() || tsize % TOKEN != 0 || dsize % 8 != 0 {
            return Err(bad("section sizes do not add up to the file size"));
        }
        Ok(Self {
            map,
            da,
            tokens,
            features,
            lsize: h[4],
            rsize: h[5],
        })
    }

    fn trie(&self) -> DoubleArray<'_> {
        DoubleArray::new(&self.map[self.da.clone()])
    }

    /// Token `i`, if it exists.
    fn token(&self, i: usize) -> Option<Token> {
        let at = self.tokens.start.checked_add(i.checked_mul(TOKEN)?)?;
        if at + TOKEN > self.tokens.end {
            return None;
        }
        let b = &self.map[at..at + TOKEN];
        Some(Token {
            lc: u16::from_le_bytes([b[0], b[1]]),
            rc: u16::from_le_bytes([b[2], b[3]]),
            wcost: i16::from_le_bytes([b[6], b[7]]),
            feature: u32_at(b, 8),
        })
    }

    /// The feature string at `offset` (up to its NUL); empty if it is not UTF-8.
    fn feature(&self, offset: u32) -> &str {
        let f = &self.map[self.features.clone()];
        let start = (offset as usize).min(f.len());
        let rest = &f[start..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or("")
    }
}

/// A loaded (mapped) MeCab dictionary. `Send + Sync`; parsing borrows it immutably.
pub(crate) struct Dictionary {
    sys: LexFile,
    unk: LexFile,
    matrix: Mmap,
    lsize: usize,
    chars: Mmap,
    /// For each character category: the unknown-word tokens `first..first + count` of `unk`.
    unk_tokens: Vec<Range<usize>>,
    /// The class of U+0020, which decides what counts as a leading space.
    space: CharInfo,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictionary")
            .field("sys_bytes", &self.sys.map.len())
            .field("matrix_bytes", &self.matrix.len())
            .field("categories", &self.unk_tokens.len())
            .finish()
    }
}

impl Dictionary {
    /// Maps the dictionary in `dir` (see [`FILES`]) and checks that its parts fit together.
    pub(crate) fn open(dir: &Path) -> Result<Self, LoadError> {
        let path = |f: &str| -> PathBuf { dir.join(f) };
        let sys = LexFile::open(&path("sys.dic"))?;
        let unk = LexFile::open(&path("unk.dic"))?;
        let matrix_path = path("matrix.bin");
        let matrix = map_file(&matrix_path)?;
        if matrix.len() < 4 {
            return Err(LoadError::format(&matrix_path, "shorter than its header"));
        }
        let lsize = u16::from_le_bytes([matrix[0], matrix[1]]) as usize;
        let rsize = u16::from_le_bytes([matrix[2], matrix[3]]) as usize;
        if matrix.len() != 4 + 2 * lsize * rsize {
            return Err(LoadError::format(
                &matrix_path,
                "size does not match its header",
            ));
        }
        if sys.lsize as usize != lsize || sys.rsize as usize != rsize {
            return Err(LoadError::format(
                &matrix_path,
                "the connection matrix does not fit sys.dic",
            ));
        }
        let chars_path = path("char.bin");
        let chars = map_file(&chars_path)?;
        let table = CharTable::parse(&chars)
            .ok_or_else(|| LoadError::format(&chars_path, "size does not match its header"))?;
        let mut unk_tokens = Vec::with_capacity(table.len());
        for i in 0..table.len() {
            let name = table.name(i);
            let v = unk.trie().exact(name).ok_or_else(|| {
                LoadError::format(
                    &path("unk.dic"),
                    &format!("no entry for category {}", String::from_utf8_lossy(name)),
                )
            })?;
            let first = (v >> 8) as usize;
            let range = first..first + (v & 0xFF) as usize;
            if unk.token(range.end.saturating_sub(1)).is_none() {
                return Err(LoadError::format(&path("unk.dic"), "token out of range"));
            }
            unk_tokens.push(range);
        }
        let space = table.info(0x20);
        Ok(Self {
            sys,
            unk,
            matrix,
            lsize,
            chars,
            unk_tokens,
            space,
        })
    }

    fn char_table(&self) -> CharTable<'_> {
        CharTable::parse(&self.chars).expect("checked when opened")
    }

    /// Connection cost from a word whose right context is `rc` to one whose left context is
    /// `lc` (a corrupt id costs the most, so that path is never taken).
    fn connection(&self, rc: u16, lc: u16) -> i64 {
        let i = 4 + 2 * (rc as usize + self.lsize * lc as usize);
        match self.matrix.get(i..i + 2) {
            Some(b) => i16::from_le_bytes([b[0], b[1]]) as i64,
            None => i16::MAX as i64,
        }
    }

    /// The words of `text`, as MeCab's best path (`parseToNode` without BOS and EOS).
    pub(crate) fn parse<'d>(&'d self, text: &str) -> Vec<Morph<'d>> {
        lattice::best_path(self, text)
            .into_iter()
            .map(|n| Morph {
                span: (n.start as usize, n.end as usize),
                feature: if n.unknown {
                    self.unk.feature(n.feature)
                } else {
                    self.sys.feature(n.feature)
                },
                char_type: n.char_type,
                unknown: n.unknown,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_corrupt_files_are_named() {
        let tmp = std::env::temp_dir().join(format!("hark-ja-mecab-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let err = Dictionary::open(&tmp).unwrap_err().to_string();
        assert!(err.contains("sys.dic"), "{err}");
        std::fs::write(tmp.join("sys.dic"), vec![7u8; 100]).unwrap();
        let err = Dictionary::open(&tmp).unwrap_err().to_string();
        assert!(err.contains("sys.dic") && err.contains("magic"), "{err}");
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
