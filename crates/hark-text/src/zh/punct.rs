//! Chinese punctuation → the marks Kokoro knows, as misaki's legacy path maps it: `，、` → `, `,
//! `。．` → `. `, `！？：；` → `! ? : ; `, the book-title and corner brackets `《》「」【】«»`
//! → ` “ ” `, full-width parentheses → ` ( ) `; then the text is trimmed.

use super::norm::Norm;

/// What misaki writes for `c`, if it rewrites it.
fn mapped(c: char) -> Option<&'static str> {
    Some(match c {
        '、' | '，' => ", ",
        '。' | '．' => ". ",
        '！' => "! ",
        '：' => ": ",
        '；' => "; ",
        '？' => "? ",
        '«' | '《' | '「' | '【' => " “",
        '»' | '》' | '」' | '】' => "” ",
        '（' => " (",
        '）' => ") ",
        _ => return None,
    })
}

/// misaki's `map_punctuation`, keeping sources.
pub(crate) fn map_punctuation(n: &Norm) -> Norm {
    let t = n.text();
    let edits = t
        .char_indices()
        .filter_map(|(i, c)| mapped(c).map(|m| (i..i + c.len_utf8(), m.to_string())))
        .collect();
    let mapped = n.rewrite(edits);
    let t = mapped.text();
    let start = t.len() - t.trim_start().len();
    let end = t.trim_end().len();
    if start == 0 && end == t.len() {
        return mapped;
    }
    if start >= end {
        return mapped.rewrite(vec![(0..t.len(), String::new())]);
    }
    mapped.rewrite(vec![
        (0..start, String::new()),
        (end..t.len(), String::new()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_become_kokoro_punctuation() {
        let n = map_punctuation(&Norm::new("《红楼梦》是小说，好看！（真的）。"));
        assert_eq!(n.text(), "“红楼梦” 是小说, 好看!  (真的) .");
    }
}
