//! misaki's word list (`misaki/data/ja_words.txt`, 147,570 words): MeCab's words are joined
//! back into longer words when their surfaces together spell one on the list (は + せん →
//! はせん). The list is read from the installed assets and kept as one sorted buffer.

use std::path::Path;

use super::LoadError;

/// The sorted, deduplicated words of the list.
pub(crate) struct WordList {
    text: String,
    /// Byte ranges of the words in `text`, sorted by word.
    words: Vec<(u32, u32)>,
    /// Length in bytes of the longest word.
    longest: usize,
}

impl std::fmt::Debug for WordList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordList")
            .field("words", &self.len())
            .finish()
    }
}

impl WordList {
    /// Reads the list (one word a line, surrounding whitespace ignored, as misaki strips it).
    pub(crate) fn load(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::io(path, e))?;
        Ok(Self::parse(text))
    }

    /// The list in `text`.
    pub(crate) fn parse(text: String) -> Self {
        let base = text.as_ptr() as usize;
        let mut words: Vec<(u32, u32)> = text
            .lines()
            .map(str::trim)
            .map(|w| {
                let start = w.as_ptr() as usize - base;
                (start as u32, (start + w.len()) as u32)
            })
            .collect();
        let get = |r: &(u32, u32)| &text[r.0 as usize..r.1 as usize];
        words.sort_unstable_by(|a, b| get(a).cmp(get(b)));
        words.dedup_by(|a, b| get(a) == get(b));
        let longest = words
            .iter()
            .map(|r| (r.1 - r.0) as usize)
            .max()
            .unwrap_or(0);
        Self {
            text,
            words,
            longest,
        }
    }

    /// Whether `w` is on the list.
    pub(crate) fn contains(&self, w: &str) -> bool {
        self.words
            .binary_search_by(|r| self.text[r.0 as usize..r.1 as usize].cmp(w))
            .is_ok()
    }

    /// Length in bytes of the longest word (no longer join can be on the list).
    pub(crate) fn longest(&self) -> usize {
        self.longest
    }

    /// Number of words.
    fn len(&self) -> usize {
        self.words.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let w = WordList::parse("はせん\n ああ \nああ\nいっ\n".to_string());
        assert_eq!(w.len(), 3);
        assert!(w.contains("はせん") && w.contains("ああ") && w.contains("いっ"));
        assert!(!w.contains("は") && !w.contains(""));
        assert_eq!(w.longest(), "はせん".len());
    }
}
