//! misaki's text normalization for Japanese, keeping where every character came from:
//! a wave dash before a digit becomes から, the small katakana of the phonetic extensions
//! (`ㇰ` …) their full-size forms, then Unicode NFKC (full-width Latin and digits to ASCII,
//! half-width katakana to full width), then mojimoji's full-width→ASCII table for what NFKC
//! leaves (`”` → `"`, `’` → `'`, `‘` → `` ` ``).
//!
//! NFKC is applied per segment: a segment starts at each character that cannot combine with
//! what precedes it (canonical class 0 after compatibility decomposition, and not an NFKC
//! "maybe"), so the result is the whole text's NFKC and each segment keeps its source range.

use unicode_normalization::char::{canonical_combining_class, decompose_compatible};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::zh::norm::Norm;

/// Whether `c` is a decimal digit as Python's `\d` sees it in the texts we read (ASCII and
/// full-width).
pub(crate) fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// The full-size katakana of a phonetic-extension small katakana (U+31F0–U+31FF).
fn phonetic_extension(c: char) -> Option<char> {
    const BASE: [char; 16] = [
        'ク', 'シ', 'ス', 'ト', 'ヌ', 'ハ', 'ヒ', 'フ', 'ヘ', 'ホ', 'ム', 'ラ', 'リ', 'ル', 'レ',
        'ロ',
    ];
    let i = (c as u32).checked_sub(0x31F0)? as usize;
    BASE.get(i).copied()
}

/// Whether a new NFKC segment starts at `c`.
fn starts_segment(c: char) -> bool {
    if c.is_ascii() {
        return true;
    }
    let mut first = None;
    decompose_compatible(c, |d| {
        first.get_or_insert(d);
    });
    canonical_combining_class(first.unwrap_or(c)) == 0
        && is_nfkc_quick(std::iter::once(c)) != IsNormalized::Maybe
}

/// mojimoji's full-width punctuation that NFKC leaves alone.
fn ascii_quote(c: char) -> char {
    match c {
        '”' => '"',
        '’' => '\'',
        '‘' => '`',
        _ => c,
    }
}

/// Normalizes `text` as misaki does before tagging (digits excepted: see `numbers`).
pub(crate) fn normalize(text: &str) -> Norm {
    let n = Norm::new(text);
    let mut edits = Vec::new();
    let mut seg = String::new();
    let mut start = 0;
    let mut changed = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if i > start && starts_segment(c) {
            flush(&mut edits, &mut seg, start..i, &mut changed);
            start = i;
        }
        let next = chars.peek().map(|&(_, d)| d);
        if matches!(c, '〜' | '～') && next.is_some_and(is_digit) {
            seg.push_str("から");
            changed = true;
        } else if let Some(k) = phonetic_extension(c) {
            seg.push(k);
            changed = true;
        } else {
            seg.push(c);
        }
    }
    flush(&mut edits, &mut seg, start..text.len(), &mut changed);
    n.rewrite(edits)
}

/// Ends a segment: NFKC and the quote table, and an edit if that changed it.
fn flush(
    edits: &mut Vec<(std::ops::Range<usize>, String)>,
    seg: &mut String,
    range: std::ops::Range<usize>,
    changed: &mut bool,
) {
    let unchanged = !*changed
        && is_nfkc_quick(seg.chars()) == IsNormalized::Yes
        && !seg.contains(['”', '’', '‘']);
    if !unchanged {
        let out: String = seg.nfkc().map(ascii_quote).collect();
        if *changed || out != *seg {
            edits.push((range, out));
        }
    }
    seg.clear();
    *changed = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_as_misaki_and_keeps_sources() {
        let src = "ＡＢＣ１２３ｶﾞｷﾞ〜5時 ㇰ”x” が";
        let n = normalize(src);
        assert_eq!(n.text(), "ABC123ガギから5時 ク\"x\" が");
        let t = n.text();
        let ga = t.find('ガ').unwrap();
        assert_eq!(&src[n.src(ga..ga + 3)], "ｶﾞ");
        let kara = t.find("から").unwrap();
        assert_eq!(&src[n.src(kara..kara + 6)], "〜");
        // a combining mark joins the kana before it, as whole-text NFKC does
        assert_eq!(normalize("か\u{3099}").text(), "が");
        for s in [
            "ｱｲｳｴｵ ﾊﾟﾋﾟﾌﾟ",
            "①②㍻㌔",
            "é\u{301}x\u{327}\u{301}",
            "한국어 가",
        ] {
            assert_eq!(normalize(s).text(), s.nfkc().collect::<String>(), "{s}");
        }
    }
}
