//! Lazy sentence segmentation of the input text.
//!
//! The engine walks the text one sentence at a time so a 10 MB input is never
//! phonemized or chunked as a whole: only the sentence being synthesized is.
//! Sentences also carry the `skip_sentence` / `previous_sentence` granularity.
//! Paragraph breaks (newlines) always end a sentence; over-long sentences are
//! cut at a clause or word boundary.

use std::ops::Range;

/// Longest piece handed to the front end at once, in bytes.
pub const MAX_SEGMENT_BYTES: usize = 1200;

/// Iterator over the sentences of a text, as trimmed, non-empty byte ranges.
#[derive(Debug, Clone)]
pub struct Sentences<'a> {
    text: &'a str,
    pos: usize,
}

/// Split `text` into sentences lazily.
pub fn sentences(text: &str) -> Sentences<'_> {
    Sentences { text, pos: 0 }
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»')
}

impl<'a> Sentences<'a> {
    /// End (exclusive) of the sentence starting at `start`, before trimming.
    fn find_end(&self, start: usize) -> usize {
        let text = self.text;
        let limit = (start + MAX_SEGMENT_BYTES).min(text.len());
        let mut iter = text[start..].char_indices().peekable();
        while let Some((off, c)) = iter.next() {
            let i = start + off;
            if i >= limit {
                break;
            }
            match c {
                '\n' | '\r' => return i + c.len_utf8(),
                '.' | '!' | '?' | '…' | '。' | '！' | '？' | '।' | '॥' => {
                    // Swallow repeated terminators and closing quotes/brackets.
                    let mut end = i + c.len_utf8();
                    while let Some(&(o, n)) = iter.peek() {
                        if matches!(n, '.' | '!' | '?' | '…') || is_closer(n) {
                            end = start + o + n.len_utf8();
                            iter.next();
                        } else {
                            break;
                        }
                    }
                    let rest = &text[end..];
                    let next = rest.chars().next();
                    match next {
                        None => return end,
                        // Chinese writes no space after its full-width marks
                        Some(_) if matches!(c, '。' | '！' | '？') => return end,
                        Some(n) if n.is_whitespace() => {
                            let following = rest.trim_start().chars().next();
                            // the front end's own rule, so an abbreviation it expands ("No. 5",
                            // "Dr. Smith") stays in its sentence and one it reads as a word
                            // ("No. Never.") ends one
                            if c == '.' && !hark_text::period_ends_sentence(text, i) {
                                continue;
                            }
                            if c == '.' && following.is_some_and(|f| f.is_lowercase()) {
                                continue;
                            }
                            return end;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        if limit >= text.len() {
            return text.len();
        }
        // Too long: cut at the last clause mark, else the last space, else anywhere.
        let window = &text[start..floor_char_boundary(text, limit)];
        let cut = window
            .rfind([',', ';', ':', '—'])
            .filter(|&p| p > MAX_SEGMENT_BYTES / 3)
            .map(|p| p + window[p..].chars().next().map_or(1, char::len_utf8))
            .or_else(|| {
                window
                    .rfind(char::is_whitespace)
                    .filter(|&p| p > 0)
                    .map(|p| p + 1)
            })
            .unwrap_or(window.len().max(1));
        floor_char_boundary(text, start + cut).max(start + 1)
    }
}

/// Most words of a first clause said as the utterance's first part.
pub(crate) const FIRST_CLAUSE_MAX_WORDS: usize = 8;
/// Fewest words of a first part. The first part is cut only where the sentence has a clause
/// end: measured with the `first_chunk` example (af_heart, 12 sentences, heads of 2 to 8 words
/// said alone against the same words in the whole sentence), the words before the head's last
/// keep their durations within 27 % at 2 words and 10–13 % from 3 words on, but the head's last
/// word is drawn out as a phrase end (+150 to +360 %, its pitch 10–25 % lower) at every length
/// up to 8. A cut between words is heard as a phrase break in mid-sentence, so a sentence
/// without a clause end is said whole (its text side and first window are still cheap: the
/// windows are a true stream).
pub(crate) const FIRST_WORDS: usize = 2;
/// Fewest words left for the rest: a shorter sentence is said whole.
pub(crate) const FIRST_REST_MIN_WORDS: usize = 3;

/// The utterance's first chunk cut to a short first part, so that its text side and audio are
/// ready soon: its first clause when one ends (`, ; : —`) after at least [`FIRST_WORDS`] and
/// within [`FIRST_CLAUSE_MAX_WORDS`] words; the rest follows as the next chunk. `None` when no
/// clause ends there or the chunk is too short to be worth cutting. Every word stays in one of the two, with
/// its source range.
pub(crate) fn first_part(chunk: &hark_text::Chunk) -> Option<(hark_text::Chunk, hark_text::Chunk)> {
    let n = chunk.words.len();
    if n < FIRST_WORDS + FIRST_REST_MIN_WORDS {
        return None;
    }
    let clause = (FIRST_WORDS..=FIRST_CLAUSE_MAX_WORDS.min(n - FIRST_REST_MIN_WORDS)).find(|&k| {
        let gap = chunk
            .phonemes
            .get(chunk.words[k - 1].phonemes.end..chunk.words[k].phonemes.start)
            .unwrap_or("");
        gap.contains([',', ';', ':', '—'])
    });
    chunk.split_at_word(clause?)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Iterator for Sentences<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        while self.pos < self.text.len() {
            let start = self.pos;
            let mut end = self.find_end(start);
            end = floor_char_boundary(self.text, end);
            if end <= start {
                // Never stall: advance by one character.
                end = start + self.text[start..].chars().next().map_or(1, char::len_utf8);
            }
            self.pos = end;
            let piece = &self.text[start..end];
            let lead = piece.len() - piece.trim_start().len();
            let trimmed = piece.trim();
            if !trimmed.is_empty() {
                let s = start + lead;
                return Some(s..s + trimmed.len());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(t: &str) -> Vec<&str> {
        sentences(t).map(|r| &t[r]).collect()
    }

    #[test]
    fn splits_on_terminators_and_newlines() {
        assert_eq!(
            split("Hello there. How are you?  Fine!\nNext line\n\n  Last one…"),
            vec![
                "Hello there.",
                "How are you?",
                "Fine!",
                "Next line",
                "Last one…"
            ]
        );
    }

    #[test]
    fn other_scripts_end_sentences_their_way() {
        // the danda (Hindi), full-width marks with no space after them (Chinese), ¿ ¡ (Spanish)
        assert_eq!(
            split("मैं घर जा रहा हूँ। तुम कहाँ हो? ठीक है॥"),
            vec!["मैं घर जा रहा हूँ।", "तुम कहाँ हो?", "ठीक है॥"]
        );
        assert_eq!(
            split("你好。我很好！你呢？"),
            vec!["你好。", "我很好！", "你呢？"]
        );
        assert_eq!(split("¿Qué tal? ¡Bien!"), vec!["¿Qué tal?", "¡Bien!"]);
    }

    #[test]
    fn keeps_abbreviations_initials_and_decimals_together() {
        assert_eq!(
            split("Dr. Smith met J. R. R. Tolkien at 3.5 p.m. on Monday. Then he left."),
            vec![
                "Dr. Smith met J. R. R. Tolkien at 3.5 p.m. on Monday.",
                "Then he left."
            ]
        );
        assert_eq!(
            split("He said \"Stop.\" She agreed. E.g. this one."),
            vec!["He said \"Stop.\"", "She agreed.", "E.g. this one."]
        );
    }

    /// Sentence ends follow the front end's reading of an abbreviation: "No." read as the word
    /// ends a sentence, "No. 5" and "Dr. Smith" do not.
    #[test]
    fn abbreviations_end_sentences_only_where_read_as_words() {
        assert_eq!(
            split("No. Never. Not again! It was No. 5 on the list. No. I said no. Dr. Smith left."),
            vec![
                "No.",
                "Never.",
                "Not again!",
                "It was No. 5 on the list.",
                "No.",
                "I said no.",
                "Dr. Smith left."
            ]
        );
    }

    #[test]
    fn empty_and_whitespace_give_nothing() {
        assert!(split("").is_empty());
        assert!(split("  \n\t \n ").is_empty());
    }

    /// A chunk whose words are the text's words, each "pronounced" as written; punctuation
    /// goes between words, as the front end puts it.
    fn chunk_of(text: &str) -> hark_text::Chunk {
        let mut phonemes = String::new();
        let mut words = Vec::new();
        let mut pos = 0;
        for tok in text.split(' ') {
            let start = text[pos..].find(tok).unwrap() + pos;
            pos = start + tok.len();
            let word = tok.trim_end_matches([',', ';', ':', '.', '—']);
            if !phonemes.is_empty() {
                phonemes.push(' ');
            }
            let p = phonemes.len();
            phonemes.push_str(word);
            words.push(hark_text::WordSpan {
                src: start..start + word.len(),
                phonemes: p..p + word.len(),
            });
            phonemes.push_str(&tok[word.len()..]);
        }
        hark_text::Chunk {
            phonemes,
            src: 0..text.len(),
            words,
        }
    }

    /// Head and tail keep every word once, in order, with its source range and its phonemes.
    fn check_split(
        text: &str,
        c: &hark_text::Chunk,
        head: &hark_text::Chunk,
        tail: &hark_text::Chunk,
    ) {
        assert_eq!(head.src.end, tail.src.start);
        assert_eq!((head.src.start, tail.src.end), (c.src.start, c.src.end));
        let all: Vec<&str> = head
            .words
            .iter()
            .map(|w| &head.phonemes[w.phonemes.clone()])
            .chain(
                tail.words
                    .iter()
                    .map(|w| &tail.phonemes[w.phonemes.clone()]),
            )
            .collect();
        let want: Vec<&str> = c
            .words
            .iter()
            .map(|w| &c.phonemes[w.phonemes.clone()])
            .collect();
        assert_eq!(all, want);
        let srcs: Vec<&str> = head
            .words
            .iter()
            .chain(&tail.words)
            .map(|w| &text[w.src.clone()])
            .collect();
        assert_eq!(srcs, want, "source ranges point at the same words");
    }

    #[test]
    fn the_first_part_is_the_first_clause_and_only_a_clause() {
        // a clause ends early: cut after it, its comma in the head
        let text = "Either way, the tomato schedule for our laboratory was moved again.";
        let c = chunk_of(text);
        let (h, t) = first_part(&c).unwrap();
        assert_eq!(h.phonemes, "Either way,");
        assert_eq!(&text[h.src.clone()], "Either way, ");
        assert!(t.phonemes.starts_with("the tomato"));
        check_split(text, &c, &h, &t);
        // no clause within reach: said whole (a cut between words sounds like a phrase end)
        assert!(first_part(&chunk_of(
            "The meeting has been moved to Thursday afternoon."
        ))
        .is_none());
        // a clause too late counts for nothing
        let text = "One two three four five six seven eight nine, ten eleven twelve.";
        assert!(first_part(&chunk_of(text)).is_none());
        // a clause that would leave too little after it neither
        assert!(first_part(&chunk_of("We went out to see the garden, it rained.")).is_none());
        // nor a one-word head
        assert!(first_part(&chunk_of("Well, the meeting has been moved again.")).is_none());
        // a short sentence is said whole
        assert!(first_part(&chunk_of("Thank you, very much.")).is_none());
        let n = FIRST_WORDS + FIRST_REST_MIN_WORDS;
        let words: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
        let with_clause = |k: usize| {
            let mut w = words[..k].to_vec();
            w[FIRST_WORDS - 1].push(',');
            w.join(" ")
        };
        assert!(first_part(&chunk_of(&with_clause(n - 1))).is_none());
        assert!(first_part(&chunk_of(&with_clause(n))).is_some());
    }

    #[test]
    fn long_runs_are_cut_at_word_boundaries_within_the_limit() {
        let text = "word ".repeat(2000) + "é".repeat(2000).as_str();
        let parts: Vec<_> = sentences(&text).collect();
        let mut covered = 0;
        for r in &parts {
            assert!(r.len() <= MAX_SEGMENT_BYTES, "{}", r.len());
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            assert!(r.start >= covered);
            covered = r.end;
        }
        assert_eq!(covered, text.len());
        // Word-run pieces end on whole words.
        assert!(parts[..3].iter().all(|r| text[r.clone()].ends_with("word")));
        let joined: String = parts
            .iter()
            .map(|r| text[r.clone()].replace(' ', ""))
            .collect();
        assert_eq!(joined, text.replace(' ', ""));
    }
}
