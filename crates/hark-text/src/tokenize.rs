//! Word tokenizer and part-of-speech tagger standing in for spaCy `en_core_web_sm`.
//!
//! The tokenizer follows spaCy's English shape (split on spaces, peel prefix/suffix
//! punctuation, keep known dotted abbreviations whole, extra whitespace becomes its own token);
//! the tagger is a small rule/lexicon tagger that produces the Penn-Treebank tags misaki's rules
//! look at (DT, PRP, IN, TO, CD, NNP, VB*, NN*, JJ, RB, punctuation tags).

use crate::token::{closed_class, contraction_tag, MToken};
use std::ops::Range;

const EXCEPTIONS: &[&str] = &[
    "a.m.", "p.m.", "Adm.", "Bros.", "co.", "Co.", "Corp.", "D.C.", "Dr.", "e.g.", "E.g.", "E.G.",
    "Gen.", "Gov.", "i.e.", "I.e.", "I.E.", "Inc.", "Jr.", "Ltd.", "Md.", "Messrs.", "Mo.",
    "Mont.", "Mr.", "Mrs.", "Ms.", "Ph.D.", "Prof.", "Rep.", "Rev.", "Sen.", "St.", "vs.", "v.s.",
    "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.",
    "Dec.", "etc.", "Mt.", "No.", "Esq.", "Sr.",
];

const EMOTICONS: &[&str] = &[
    ":)", ":-)", ":(", ":-(", ";)", ";-)", ":P", ":-P", ":p", ":-p", ":D", ":-D", "=)", "(:", "):",
    ":'(", "<3", ":/", ":-/", ":o", ":O", "^_^", "^^", "-_-", ":]", "=]", "xD", "XD",
];

/// Words spaCy keeps whole although they start or end with an apostrophe.
fn apostrophe_word(s: &str) -> bool {
    let t = s.trim_start_matches(['\'', '’', '‘']);
    if t.len() < s.len() {
        let lw = t.to_lowercase();
        return matches!(
            lw.as_str(),
            "em" | "n"
                | "til"
                | "cause"
                | "bout"
                | "round"
                | "tis"
                | "twas"
                | "s"
                | "d"
                | "ll"
                | "re"
                | "ve"
                | "m"
        ) || (t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit()))
            || (t.len() == 3 && t.ends_with('s') && t[..2].bytes().all(|b| b.is_ascii_digit()));
    }
    false
}

pub(crate) fn is_emoticon(s: &str) -> bool {
    EMOTICONS.contains(&s)
}

fn is_exception(s: &str) -> bool {
    if EXCEPTIONS.contains(&s) || EMOTICONS.contains(&s) || apostrophe_word(s) {
        return true;
    }
    // single lowercase letter + period ("n.", "m.")
    let b = s.as_bytes();
    b.len() == 2 && b[0].is_ascii_lowercase() && b[1] == b'.'
}

/// Pictographs and other symbols spaCy splits off as "icons".
pub(crate) fn is_icon(c: char) -> bool {
    let u = c as u32;
    (0x2190..=0x21FF).contains(&u)
        || (0x2300..=0x23FF).contains(&u)
        || (0x2460..=0x27BF).contains(&u)
        || (0x2900..=0x2BFF).contains(&u)
        || (0x1F000..=0x1FAFF).contains(&u)
        || c == '©'
        || c == '®'
        || c == '™'
}

fn is_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '“' | '”' | '‘' | '’' | '`' | '«' | '»' | '„' | '‚'
    )
}

fn prefix_len(s: &str) -> Option<usize> {
    let c = s.chars().next()?;
    if s.starts_with("..") {
        return Some(s.bytes().take_while(|&b| b == b'.').count());
    }
    if c == '+' {
        return match s[1..].chars().next() {
            Some(d) if d.is_ascii_digit() => None,
            _ => Some(1),
        };
    }
    let split = matches!(
        c,
        '…' | '§'
            | '%'
            | '='
            | '—'
            | '–'
            | '('
            | '['
            | '{'
            | '~'
            | '#'
            | '&'
            | ','
            | ':'
            | ';'
            | '!'
            | '?'
            | '¿'
            | '¡'
            | '$'
            | '£'
            | '€'
            | '¥'
            | '₹'
            | '₩'
            | '¢'
    ) || is_quote(c)
        || is_icon(c);
    split.then(|| c.len_utf8())
}

fn suffix_len(s: &str) -> Option<usize> {
    let c = s.chars().next_back()?;
    if s.ends_with("..") {
        return Some(s.bytes().rev().take_while(|&b| b == b'.').count());
    }
    let before = || s[..s.len() - c.len_utf8()].chars().next_back();
    if c == '.' {
        let p = before()?;
        let ok = p.is_ascii_digit()
            || p.is_lowercase()
            || matches!(p, '%' | '²' | '-' | '+')
            || is_quote(p)
            || matches!(p, ')' | ']' | '}' | '!' | '?' | ',' | ':' | ';')
            || {
                let mut it = s[..s.len() - 1].chars().rev();
                matches!((it.next(), it.next()), (Some(a), Some(b)) if a.is_uppercase() && b.is_uppercase())
            };
        return ok.then_some(1);
    }
    if c == '\'' || c == '’' {
        // "dogs'" keeps a straight apostrophe (possessive), "nothin'" its dropped g;
        // other trailing quotes are split.
        let body = &s[..s.len() - c.len_utf8()];
        if body.is_empty() {
            return None;
        }
        let g_dropped = matches!(
            body.to_lowercase().as_str(),
            "lovin" | "havin" | "doin" | "goin" | "nothin" | "nuthin" | "somethin"
        );
        if (c == '\'' && body.ends_with(['s', 'S'])) || g_dropped {
            return None;
        }
        return Some(c.len_utf8());
    }
    let split = matches!(
        c,
        '…' | '—' | '–' | ')' | ']' | '}' | ',' | ':' | ';' | '!' | '?' | '~' | '*'
    ) || is_quote(c)
        || is_icon(c);
    split.then(|| c.len_utf8())
}

/// Splits one space-free chunk into spaCy-like tokens. Offsets are relative to `s`.
fn split_chunk(s: &str, out: &mut Vec<Range<usize>>) {
    let (mut start, mut end) = (0, s.len());
    let mut suffixes: Vec<Range<usize>> = Vec::new();
    while start < end {
        let cur = &s[start..end];
        if is_exception(cur) {
            break;
        }
        let pre = prefix_len(cur);
        let suf = suffix_len(&cur[pre.unwrap_or(0)..])
            .filter(|&n| n < cur.len() - pre.unwrap_or(0) || pre.is_none());
        if pre.is_none() && suf.is_none() {
            break;
        }
        if let Some(p) = pre {
            if p < cur.len() && is_exception(&cur[p..]) {
                out.push(start..start + p);
                start += p;
                break;
            }
        }
        if let Some(n) = suf {
            if n < cur.len() && is_exception(&cur[..cur.len() - n]) {
                suffixes.push(end - n..end);
                end -= n;
                break;
            }
        }
        if let Some(p) = pre {
            out.push(start..start + p);
            start += p;
        }
        if let Some(n) = suf {
            if start + n <= end {
                suffixes.push(end - n..end);
                end -= n;
            }
        }
    }
    if start < end {
        split_infix_ellipsis(s, start..end, out);
    }
    out.extend(suffixes.into_iter().rev());
}

/// Splits `word...word` / `word…word` around the ellipsis (spaCy's ellipsis infix).
fn split_infix_ellipsis(s: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let core = &s[r.clone()];
    let mut last = 0;
    let mut i = 0;
    let b = core.as_bytes();
    while i < b.len() {
        let run = if b[i] == b'.' {
            b[i..].iter().take_while(|&&x| x == b'.').count()
        } else if core[i..].starts_with('…') {
            '…'.len_utf8()
        } else {
            0
        };
        let is_ellipsis = run >= 2 || (run > 0 && b[i] != b'.');
        if is_ellipsis && i > 0 && i + run < b.len() {
            if i > last {
                out.push(r.start + last..r.start + i);
            }
            out.push(r.start + i..r.start + i + run);
            last = i + run;
            i += run;
            continue;
        }
        i += run.max(1);
        while i < b.len() && !core.is_char_boundary(i) {
            i += 1;
        }
    }
    out.push(r.start + last..r.end);
}

/// Tokenizes a paragraph. `map` turns an offset in `text` into an offset in the caller's input.
pub(crate) fn tokenize(
    text: &str,
    map: &dyn Fn(usize, bool) -> usize,
    known: &dyn Fn(&str) -> bool,
) -> Vec<MToken> {
    let mut toks: Vec<MToken> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let src = |r: &Range<usize>| map(r.start, false)..map(r.end, true);
    while i < text.len() {
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            let mut j = i;
            while j < text.len() {
                let d = text[j..].chars().next().unwrap_or('x');
                if !d.is_whitespace() {
                    break;
                }
                j += d.len_utf8();
            }
            let r = i..j;
            let mut t = MToken::new(&text[i..j], "_SP", false, src(&r));
            t.pstart = i;
            toks.push(t);
            i = j;
            continue;
        }
        let mut j = i;
        while j < text.len() {
            let d = text[j..].chars().next().unwrap_or(' ');
            if d.is_whitespace() {
                break;
            }
            j += d.len_utf8();
        }
        ranges.clear();
        split_chunk(&text[i..j], &mut ranges);
        let n = ranges.len();
        for (k, r) in ranges.iter().enumerate() {
            let r = i + r.start..i + r.end;
            let mut t = MToken::new(&text[r.clone()], "", false, src(&r));
            t.pstart = r.start;
            if k + 1 == n && j < text.len() && bytes[j] == b' ' {
                t.ws = true;
            }
            toks.push(t);
        }
        i = if j < text.len() && bytes[j] == b' ' {
            j + 1
        } else {
            j
        };
    }
    let mut toks = crate::abbrev::apply(toks, map, known);
    tag(&mut toks, known);
    toks
}

fn punct_tag(t: &str, is_start: bool) -> Option<&'static str> {
    let c = t.chars().next()?;
    if t.chars().all(|d| d == '.')
        || t == "…"
        || t == "!"
        || t == "?"
        || t.chars().all(|d| "!?".contains(d))
    {
        return Some(".");
    }
    Some(match t {
        "," => ",",
        ":" | ";" | "-" | "--" | "---" | "–" | "—" => ":",
        "(" | "[" | "{" => "-LRB-",
        ")" | "]" | "}" => "-RRB-",
        "“" | "‘" | "`" | "«" | "„" => "``",
        "”" | "»" => "''",
        "\"" | "'" | "’" => {
            if is_start {
                "``"
            } else {
                "''"
            }
        }
        "$" | "£" | "€" | "¥" | "₹" | "₩" | "¢" => "$",
        "#" => "#",
        "*" | "~" | "=" | "§" | "¿" | "¡" => "NFP",
        _ => {
            if c == '-' && t.chars().all(|d| d == '-') {
                ":"
            } else {
                return None;
            }
        }
    })
}

fn is_verbish(tag: &str) -> bool {
    tag.starts_with("VB") || tag == "MD"
}

fn tag(toks: &mut [MToken], known: &dyn Fn(&str) -> bool) {
    // 1. punctuation and lexical tags
    let n = toks.len();
    let mut sentence_start = true;
    let mut starts = vec![false; n];
    for i in 0..n {
        if toks[i].tag == "_SP" {
            continue;
        }
        if toks[i].alias.is_some() {
            // an abbreviation read as a word: tagged by the abbreviation pass
            sentence_start = false;
            continue;
        }
        let text = toks[i].text.clone();
        // A quote opens when it starts a chunk (nothing glued before it).
        let glued_before = i > 0
            && !toks[i - 1].ws
            && toks[i - 1].tag != "_SP"
            && toks[i - 1].src.end == toks[i].src.start;
        let glued_after = i + 1 < n && !toks[i].ws && toks[i + 1].tag != "_SP";
        let opening = !glued_before || (glued_after && is_quote_start_ctx(&toks[i - 1].text));
        if is_emoticon(&text) {
            toks[i].tag = "NFP";
            continue;
        }
        if text.chars().any(is_icon) {
            toks[i].tag = "NN";
            continue;
        }
        if let Some(p) = punct_tag(&text, opening) {
            toks[i].tag = p;
            if p == "." || p == ":" {
                sentence_start = true;
            }
            continue;
        }
        let lw = text.to_lowercase();
        starts[i] = sentence_start;
        let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
        let all_caps = letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase());
        let capitalized = letters.first().is_some_and(|c| c.is_uppercase())
            && text.chars().next().is_some_and(char::is_uppercase);
        toks[i].tag =
            if text.bytes().any(|b| b.is_ascii_digit()) && !text.chars().any(char::is_alphabetic) {
                "CD"
            } else if text.bytes().any(|b| b.is_ascii_digit()) {
                if crate::lexicon::is_number(&text, true) {
                    "CD"
                } else {
                    "NN"
                }
            } else if letters.is_empty() {
                match text.as_str() {
                    "%" => "NN",
                    "&" => "CC",
                    "+" => "CC",
                    "@" => "IN",
                    _ => "NFP",
                }
            } else if all_caps && !known(&lw) {
                "NNP"
            } else if let Some(t) = closed_class(&lw) {
                t
            } else if let Some(t) = contraction_tag(&lw) {
                t
            } else if capitalized && !all_caps && !sentence_start && text != "I" {
                "NNP"
            } else {
                ""
            };
        if text == "I" {
            toks[i].tag = "PRP";
        }
        if matches!(lw.as_str(), "am" | "pm" | "a.m." | "p.m.") && i > 0 {
            let prev_cd = toks[..i]
                .iter()
                .rev()
                .find(|t| t.tag != "_SP")
                .is_some_and(|t| t.tag == "CD");
            if prev_cd {
                toks[i].tag = "NN";
            }
        }
        sentence_start = false;
    }
    // 2. open-class words: decide from neighbours
    let words: Vec<usize> = (0..n).filter(|&i| toks[i].tag != "_SP").collect();
    for (k, &i) in words.iter().enumerate() {
        let prev = if k > 0 { toks[words[k - 1]].tag } else { "" };
        let prev_text = if k > 0 {
            toks[words[k - 1]].text.to_lowercase()
        } else {
            String::new()
        };
        let next_tag = words.get(k + 1).map(|&j| toks[j].tag).unwrap_or("");
        let next_text = words
            .get(k + 1)
            .map(|&j| toks[j].text.to_lowercase())
            .unwrap_or_default();
        let lw = toks[i].text.to_lowercase();
        if lw == "that" || lw == "that's" || lw == "that’s" {
            let (next_tag, next_text) = if lw == "that" {
                (next_tag, next_text.as_str())
            } else {
                ("VBZ", "'s")
            };
            let next_verbish = matches!(next_tag, "MD" | "VBZ" | "VBD" | "VBP")
                || matches!(next_text, "'s" | "is" | "was" | "'ll" | "'d")
                || (next_tag.is_empty() && next_text.ends_with('s') && !next_text.ends_with("ss"));
            let next_nominal = matches!(next_tag, "PRP" | "DT" | "PRP$" | "NNP" | "CD" | "EX");
            let prev_open =
                matches!(prev, "" | "CC" | "," | "." | ":" | "IN" | "``") || is_verbish(prev);
            let says = matches!(
                prev_text.as_str(),
                "think"
                    | "thought"
                    | "thinks"
                    | "suppose"
                    | "say"
                    | "said"
                    | "says"
                    | "know"
                    | "knew"
                    | "knows"
                    | "believe"
                    | "believed"
                    | "believes"
                    | "determined"
                    | "conceive"
                    | "swear"
                    | "hope"
                    | "mean"
                    | "means"
                    | "meant"
                    | "is"
                    | "was"
                    | "are"
                    | "were"
                    | "be"
                    | "feel"
                    | "felt"
                    | "realize"
                    | "realise"
                    | "see"
                    | "saw"
                    | "show"
                    | "shows"
                    | "showed"
                    | "claim"
                    | "claims"
                    | "find"
                    | "found"
                    | "understand"
                    | "assume"
                    | "guess"
                    | "doubt"
                    | "ensure"
                    | "prove"
                    | "argue"
                    | "agree"
                    | "decide"
                    | "decided"
                    | "fear"
                    | "wish"
                    | "notice"
                    | "noticed"
                    | "insist"
                    | "admit"
                    | "sure"
                    | "told"
                    | "tell"
                    | "learn"
                    | "learned"
                    | "hear"
                    | "heard"
                    | "except"
                    | "so"
                    | "such"
                    | "now"
                    | "given"
                    | "seems"
                    | "seemed"
                    | "certain"
                    | "clear"
                    | "true"
                    | "fact"
                    | "idea"
                    | "reason"
            );
            let next_is_be = matches!(next_text, "is" | "was" | "'s");
            let says = says && lw == "that" && !next_is_be;
            let dt = (prev == "CC" && !next_nominal && !matches!(next_tag, "," | "."))
                || !says
                    && (k + 1 == words.len()
                        || matches!(next_tag, "." | "''")
                        || prev == "IN"
                        || (next_verbish && prev_open)
                        || (is_verbish(prev) && !next_nominal && next_tag != ","));
            toks[i].tag = if dt {
                "DT"
            } else if prev.starts_with("NN") || prev.starts_with("JJ") || prev == "DT" {
                "WDT"
            } else {
                "IN"
            };
            continue;
        }
        if lw == "used" && next_text == "to" {
            toks[i].tag = "VBD";
            continue;
        }
        if !toks[i].tag.is_empty() {
            continue;
        }
        let prev2 = if k > 1 { toks[words[k - 2]].tag } else { "" };
        let after_have = matches!(
            prev_text.as_str(),
            "have" | "has" | "had" | "'ve" | "having"
        );
        let after_be = matches!(
            prev_text.as_str(),
            "is" | "was" | "are" | "were" | "be" | "been" | "being" | "'s" | "'re" | "am" | "'m"
        );
        toks[i].tag = if lw.ends_with("ly") && lw.len() > 4 {
            "RB"
        } else if lw.ends_with("thing") {
            "NN"
        } else if starts[i] && matches!(next_tag, "DT" | "PRP$") && !lw.ends_with('s') {
            "VB"
        } else if lw.ends_with("ing") && lw.len() > 4 {
            if matches!(prev, "DT" | "PRP$" | "JJ") {
                "NN"
            } else {
                "VBG"
            }
        } else if lw.ends_with("ed") && lw.len() > 3 {
            if after_have || after_be {
                "VBN"
            } else if matches!(prev, "DT" | "PRP$") {
                "JJ"
            } else {
                "VBD"
            }
        } else if prev_text == "it" && is_verbish(prev2) {
            "NN"
        } else if prev == "RB"
            && matches!(prev2, "PRP" | "NNS" | "NNP" | "NN")
            && !lw.ends_with('s')
        {
            "VBP"
        } else if prev == "MD"
            || prev == "TO"
            || matches!(
                prev_text.as_str(),
                "not" | "n't" | "never" | "cannot" | "do" | "don't" | "please"
            )
        {
            "VB"
        } else if matches!(prev, "WDT" | "WP") {
            if lw.ends_with('s') {
                "VBZ"
            } else {
                "VBP"
            }
        } else if matches!(prev, "NNP" | "PRP") && matches!(next_tag, "DT" | "PRP$")
            || (matches!(prev, "NNP")
                && matches!(
                    next_text.as_str(),
                    "it" | "them" | "him" | "her" | "me" | "us"
                ))
        {
            "VBD"
        } else if after_have && !lw.ends_with('s') {
            "VBN"
        } else if after_be {
            "JJ"
        } else if matches!(prev, "NN" | "NNP")
            && lw.ends_with('s')
            && !lw.ends_with("ss")
            && matches!(next_tag, "DT" | "IN" | "RB" | "PRP$" | "TO")
        {
            "VBZ"
        } else if prev == "PRP" && !matches!(prev_text.as_str(), "me" | "him" | "us" | "them") {
            if lw.ends_with('s') && matches!(prev_text.as_str(), "he" | "she" | "it") {
                "VBZ"
            } else {
                "VBP"
            }
        } else if matches!(prev, "NNS") && next_tag == "DT" {
            "VBP"
        } else if lw.ends_with('s') && !lw.ends_with("ss") {
            "NNS"
        } else {
            "NN"
        };
    }
}

fn is_quote_start_ctx(prev: &str) -> bool {
    prev.chars().all(|c| "([{“‘\"'`".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<(String, &'static str, bool)> {
        tokenize(s, &|x, _| x, &|_| false)
            .into_iter()
            .map(|t| (t.text, t.tag, t.ws))
            .collect()
    }

    #[test]
    fn splits_punctuation_and_keeps_abbreviations() {
        let t = toks("\"Help Mr. Wizard!\" -- Tennessee");
        let texts: Vec<&str> = t.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(
            texts,
            ["\"", "Help", "Mr.", "Wizard", "!", "\"", "--", "Tennessee"]
        );
        assert_eq!(t[0].1, "``");
        assert_eq!(t[5].1, "''");
        assert_eq!(t[6].1, ":");
    }

    #[test]
    fn extra_spaces_become_tokens() {
        let t = toks("it.  Then");
        let texts: Vec<&str> = t.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(texts, ["it", ".", " ", "Then"]);
        assert!(t[1].2);
        assert_eq!(t[2].1, "_SP");
    }

    #[test]
    fn ellipsis_and_times() {
        let texts: Vec<String> = toks("at 7:11 p.m..").into_iter().map(|x| x.0).collect();
        assert_eq!(texts, ["at", "7:11", "p.m", ".."]);
    }

    #[test]
    fn tags() {
        let t = toks("I have that old urge to use a car.");
        let tags: Vec<&str> = t.iter().map(|x| x.1).collect();
        assert_eq!(tags[0], "PRP");
        assert_eq!(tags[2], "DT");
        assert_eq!(tags[5], "TO");
        assert_eq!(tags[6], "VB");
        assert_eq!(tags[7], "DT");
    }
}
