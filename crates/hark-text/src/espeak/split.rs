//! The text cut as misaki's espeak reader cuts it: words, and punctuation marks that split the
//! text into the segments espeak-ng reads one at a time.
//!
//! misaki hands the text to phonemizer with `preserve_punctuation`: every run of the marks
//! `;:,.!?¡¿—…"«»“”(){}[]` (with the spaces around it) is kept aside, the text between runs
//! goes to espeak-ng segment by segment, and the marks are put back verbatim. Here each mark
//! is one [`Item::Mark`] and each whitespace-separated word one [`Item::Word`], with its byte
//! range in the caller's text.

use std::ops::Range;

use crate::lang::Lang;

use super::local;

/// A word or a mark of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// Text espeak-ng reads.
    Word {
        /// Byte range in the caller's text.
        src: Range<usize>,
        /// What espeak-ng is given for it (the text itself, or its local reading).
        spoken: String,
        /// Whitespace follows it in the text.
        ws: bool,
    },
    /// A punctuation mark, kept between segments.
    Mark {
        /// Byte range in the caller's text.
        src: Range<usize>,
        /// What goes into the phoneme string for it (may be empty).
        phonemes: &'static str,
        /// Whitespace follows it in the text.
        ws: bool,
    },
}

impl Item {
    pub(crate) fn src(&self) -> &Range<usize> {
        match self {
            Item::Word { src, .. } | Item::Mark { src, .. } => src,
        }
    }

    fn set_ws(&mut self) {
        match self {
            Item::Word { ws, .. } | Item::Mark { ws, .. } => *ws = true,
        }
    }
}

/// What a mark of misaki's set becomes in the phoneme string, or `None` when `c` is not a mark.
/// misaki turns `«»` into `“”` and keeps the rest verbatim (parentheses go through espeak
/// as `«»` and come back). With `fixes`, `¡ ¿` (not in Kokoro's vocabulary: the model would
/// drop them anyway) write nothing, and the Devanagari danda `।` and double danda `॥` are
/// marks that end a sentence (`.`), where misaki hands them to espeak-ng, which drops them.
pub(crate) fn mark(c: char, fixes: bool) -> Option<&'static str> {
    Some(match c {
        ';' => ";",
        ':' => ":",
        ',' => ",",
        '.' => ".",
        '!' => "!",
        '?' => "?",
        '—' => "—",
        '…' => "…",
        '"' => "\"",
        '«' | '“' => "“",
        '»' | '”' => "”",
        '(' => "(",
        ')' => ")",
        '{' => "{",
        '}' => "}",
        '[' => "[",
        ']' => "]",
        '¡' if fixes => "",
        '¿' if fixes => "",
        '¡' => "¡",
        '¿' => "¿",
        '।' | '॥' if fixes => ".",
        _ => return None,
    })
}

/// Cuts `text` (whose first byte is at `offset` of the caller's text) into words and marks.
/// With `fixes`, a `.` or `,` inside a number written the language's way (`1.234,56`,
/// `2,22,840`) belongs to the number instead of splitting it, and words are given their local
/// reading ([`local::respell`]).
pub(crate) fn split(text: &str, offset: usize, lang: Lang, fixes: bool) -> Vec<Item> {
    let numbers = if fixes {
        local::numbers(text, lang)
    } else {
        Vec::new()
    };
    let in_number = |i: usize| numbers.iter().any(|r| r.start < i && i < r.end);
    let mut items: Vec<Item> = Vec::new();
    let mut word: Option<usize> = None;
    let flush = |items: &mut Vec<Item>, word: &mut Option<usize>, end: usize| {
        if let Some(start) = word.take() {
            items.push(Item::Word {
                src: offset + start..offset + end,
                spoken: text[start..end].to_string(),
                ws: false,
            });
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            flush(&mut items, &mut word, i);
            if let Some(last) = items.last_mut() {
                last.set_ws();
            }
        } else if let Some(p) = mark(c, fixes).filter(|_| !in_number(i)) {
            flush(&mut items, &mut word, i);
            items.push(Item::Mark {
                src: offset + i..offset + i + c.len_utf8(),
                phonemes: p,
                ws: false,
            });
        } else if word.is_none() {
            word = Some(i);
        }
    }
    flush(&mut items, &mut word, text.len());
    if fixes {
        local::respell(&mut items, lang);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(items: &[Item]) -> String {
        items
            .iter()
            .map(|it| match it {
                Item::Word { spoken, ws, .. } => {
                    format!("[{spoken}]{}", if *ws { " " } else { "" })
                }
                Item::Mark { phonemes, ws, .. } => {
                    format!("<{phonemes}>{}", if *ws { " " } else { "" })
                }
            })
            .collect()
    }

    #[test]
    fn words_and_marks_with_ranges() {
        let t = "¿Qué tal?  (bien) S.L.";
        let items = split(t, 10, Lang::Es, false);
        assert_eq!(show(&items), "<¿>[Qué] [tal]<?> <(>[bien]<)> [S]<.>[L]<.>");
        for it in &items {
            let r = it.src();
            assert!(!t[r.start - 10..r.end - 10].trim().is_empty());
        }
        assert_eq!(items[1].src(), &(12..16));
    }

    #[test]
    fn fixes_keep_local_numbers_whole_and_drop_inverted_marks() {
        let t = "¡Cuesta 1.234,56 y 3,5, no 1,2,3!";
        assert_eq!(
            show(&split(t, 0, Lang::Es, false)),
            "<¡>[Cuesta] [1]<.>[234]<,>[56] [y] [3]<,>[5]<,> [no] [1]<,>[2]<,>[3]<!>"
        );
        assert_eq!(
            show(&split(t, 0, Lang::Es, true)),
            "<>[Cuesta] [1.234,56] [y] [3,5]<,> [no] [1]<,>[2]<,>[3]<!>"
        );
    }

    #[test]
    fn fixes_make_the_danda_a_sentence_end() {
        let t = "वह आया। फिर गया॥";
        assert_eq!(
            show(&split(t, 0, Lang::Hi, false)),
            "[वह] [आया।] [फिर] [गया॥]"
        );
        assert_eq!(
            show(&split(t, 0, Lang::Hi, true)),
            "[वह] [आया]<.> [फिर] [गया]<.>"
        );
    }
}
