//! Where a period ends a sentence, as the front end reads it (for sentence splitters that must
//! agree with [`chunk`](crate::chunk)).

use crate::tokenize::tokenize;

/// Bytes of context either side of a period that [`period_ends_sentence`] looks at.
const WINDOW: usize = 256;

/// Whether the `.` at byte `period` of `text` ends a sentence as the front end reads it: true
/// after a word ("I said no.", "5 ft." at the end), including an abbreviation read as the word
/// it spells ("No. Never."); false for the period of an abbreviation it expands ("No. 5",
/// "Dr. Smith", "Main St. in town") or keeps whole ("Mr.", "etc.", "J.", "p.m."). For a sentence
/// splitter that must agree with [`chunk`](crate::chunk). Looks at the line around the period
/// only (at most a few hundred bytes), so it is cheap to call for every period; false when
/// `period` is not a `.` of `text`.
pub fn period_ends_sentence(text: &str, period: usize) -> bool {
    if text.as_bytes().get(period) != Some(&b'.') {
        return false;
    }
    let line_start = text[..period].rfind(['\n', '\r']).map_or(0, |p| p + 1);
    let line_end = text[period..]
        .find(['\n', '\r'])
        .map_or(text.len(), |p| period + p);
    // the window starts and ends at whitespace so that no word is cut
    let mut start = period.saturating_sub(WINDOW).max(line_start);
    if start > line_start {
        while !text.is_char_boundary(start) {
            start += 1;
        }
        start = text[start..period]
            .find(char::is_whitespace)
            .map_or(period, |p| start + p);
    }
    let mut end = (period + WINDOW).min(line_end);
    if end < line_end {
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        end = text[period..end]
            .rfind(char::is_whitespace)
            .map_or(period + 1, |p| period + p);
    }
    let window = &text[start..end];
    let toks = tokenize(window, &|x, _| start + x, &|_| false);
    toks.iter()
        .find(|t| !t.is_space() && t.src.start <= period && period < t.src.end)
        .is_some_and(|t| t.alias.is_none() && t.text.bytes().all(|b| b == b'.'))
}
