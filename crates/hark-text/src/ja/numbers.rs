//! Numbers → hiragana before tagging.
//!
//! misaki replaces every run of digits by a space and its reading from num2kana's `Convert`
//! (up to nine digits; longer runs get an English error message instead). hark reads the same
//! way ([`convert`] follows num2kana's rules and quirks, `いっせん` inside larger numbers
//! included) and corrects what misaki gets wrong:
//! * thousands separators: `1,500` is one number (misaki reads `1` and `500` around a comma);
//! * decimals: `25.5` is にじゅうごてんご (misaki reads a sentence-ending period between them);
//! * `%` after a number is パーセント (misaki leaves the sign, which the model cannot say);
//! * more than nine digits: with separators a number up to 兆, without them digit by digit;
//! * counters: the counter after a number is read as a counter, with its sound changes: MeCab,
//!   seeing hiragana before 年, 歳, 時, 月 …, often reads them as nouns (とし, とき, つき), and
//!   num2kana knows none of よじ, いっさい, はたち, みっか. For 年, 時, 歳, 月 and 人 the kanji
//!   stays (MeCab cuts the text as for misaki) and the word it becomes gets the counter's
//!   reading ([`Counter`]); 分, 日 and the whole-word readings (はたち, ひとり, みっか) are
//!   written in hiragana with the number, as MeCab would join 分 to what follows (`分から`
//!   is 分かる's わから).

use std::ops::Range;

use super::Readings;
use crate::zh::norm::Norm;

/// A counter kept as a kanji after a number: its span in the rewritten text and the reading
/// the word MeCab makes of it gets (when that word is the kanji alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counter {
    pub(crate) span: Range<usize>,
    pub(crate) reading: &'static str,
}

/// How a number and the counter after it are read.
enum CounterReading {
    /// One hiragana word for both.
    Whole(String),
    /// The number's reading; the counter kanji stays and is read `counter` (or as MeCab
    /// reads it, if `None`: 時間, 年間).
    Split(String, Option<&'static str>),
}

const DIGITS: [&str; 10] = [
    "ゼロ",
    "いち",
    "に",
    "さん",
    "よん",
    "ご",
    "ろく",
    "なな",
    "はち",
    "きゅう",
];

fn one(d: u8) -> &'static str {
    DIGITS[(d - b'0') as usize]
}

/// 10–99 (or a leading zero and one digit).
fn two(s: &[u8]) -> String {
    match s {
        [b'0', d] => one(*d).into(),
        [b'1', b'0'] => "じゅう".into(),
        [b'1', d] => format!("じゅう{}", one(*d)),
        [d, b'0'] => format!("{}じゅう", one(*d)),
        [a, b] => format!("{}じゅう{}", one(*a), one(*b)),
        _ => String::new(),
    }
}

/// 100–999.
fn three(s: &[u8]) -> String {
    let head = match s[0] {
        b'1' => "ひゃく".into(),
        b'3' => "さんびゃく".into(),
        b'6' => "ろっぴゃく".into(),
        b'8' => "はっぴゃく".into(),
        d => format!("{}ひゃく", one(d)),
    };
    finish_three(head, s)
}

fn finish_three(mut head: String, s: &[u8]) -> String {
    if &s[1..] != b"00" {
        if s[1] == b'0' {
            head.push_str(one(s[2]));
        } else {
            head.push_str(&two(&s[1..]));
        }
    }
    head
}

/// Up to four digits; `alone`: the whole number (1000 is せん), else part of a larger one
/// (いっせん, num2kana's reading).
fn four(s: &[u8], alone: bool) -> String {
    if s == b"0000" {
        return String::new();
    }
    let s = &s[s.iter().position(|&d| d != b'0').unwrap_or(s.len() - 1)..];
    match s.len() {
        1 => one(s[0]).into(),
        2 => two(s),
        3 => three(s),
        _ => {
            let head = match s[0] {
                b'1' if alone => "せん".into(),
                b'1' => "いっせん".into(),
                b'3' => "さんぜん".into(),
                b'8' => "はっせん".into(),
                d => format!("{}せん", one(d)),
            };
            finish_four(head, s)
        }
    }
}

fn finish_four(mut head: String, s: &[u8]) -> String {
    if &s[1..] != b"000" {
        if s[1] == b'0' {
            head.push_str(&two(&s[2..]));
        } else {
            head.push_str(&three(&s[1..]));
        }
    }
    head
}

/// num2kana's `Convert(digits, 'hiragana')`: at most nine digits (else its English error).
pub(crate) fn convert(digits: &str) -> String {
    if digits.len() > 9 {
        return "Number length too long, choose less than 10 digits".into();
    }
    let b = digits.as_bytes();
    let b = &b[b.iter().position(|&d| d != b'0').unwrap_or(b.len() - 1)..];
    match b.len() {
        1 => one(b[0]).into(),
        2 => two(b),
        3 => three(b),
        4 => four(b, true),
        n => {
            let (high, low) = b.split_at(n - 4);
            let mut out = match high.len() {
                1 => one(high[0]).to_string(),
                2 => two(high),
                3 => three(high),
                4 => four(high, false),
                _ => {
                    let mut s = one(high[0]).to_string();
                    s.push_str("おく");
                    s.push_str(&four(&high[1..], false));
                    if &high[1..] == b"0000" {
                        s.push_str(&four(low, false));
                        return s;
                    }
                    s
                }
            };
            out.push_str("まん");
            out.push_str(&four(low, false));
            out
        }
    }
}

/// hark's reading of an integer: num2kana's up to nine digits, then 万/億/兆 by groups of
/// four up to sixteen; `None` beyond.
fn integer(digits: &str) -> Option<String> {
    let d = digits.trim_start_matches('0');
    if d.len() <= 9 {
        return Some(convert(if d.is_empty() { "0" } else { d }));
    }
    if d.len() > 16 {
        return None;
    }
    let b = d.as_bytes();
    let mut groups = Vec::new();
    let mut end = b.len();
    for unit in ["", "まん", "おく", "ちょう"] {
        if end == 0 {
            break;
        }
        let start = end.saturating_sub(4);
        groups.push((&b[start..end], unit));
        end = start;
    }
    let mut out = String::new();
    for (part, unit) in groups.into_iter().rev() {
        if part.iter().all(|&c| c == b'0') {
            continue;
        }
        let mut read = four(part, false);
        if unit == "ちょう" {
            read = geminate(read);
        }
        out.push_str(&read);
        out.push_str(unit);
    }
    Some(out)
}

/// The small-tsu form of a reading before a voiceless sound (いち → いっ, はち → はっ,
/// じゅう → じゅっ).
fn geminate(s: String) -> String {
    for (from, to) in [("いち", "いっ"), ("はち", "はっ"), ("じゅう", "じゅっ")] {
        if s.ends_with(from) {
            return change_end(s, from, to);
        }
    }
    s
}

/// Digit by digit.
fn digits_read(digits: &str) -> String {
    digits.bytes().map(one).collect()
}

/// A decimal number: the integer part, 点 (てん), each digit (a final じゅう before the point is
/// じゅっ, as num2kana's point rule says; いち and はち are いっ and はっ likewise).
fn decimal(int: &str, frac: &str) -> String {
    let mut out = if int.trim_start_matches('0').is_empty() {
        "れい".to_string()
    } else {
        integer(int).unwrap_or_else(|| digits_read(int))
    };
    out = geminate(out);
    // the kanji, which MeCab always reads テン (hiragana てん it may cut as て + ん)
    out.push('点');
    out.push_str(&digits_read(frac));
    out
}

/// Replaces the ending `from` of `s` by `to` (if `s` ends so).
fn change_end(mut s: String, from: &str, to: &str) -> String {
    if s.ends_with(from) {
        s.truncate(s.len() - from.len());
        s.push_str(to);
    }
    s
}

/// The reading of integer `digits` (read `number`) with the counter `c` after it.
/// `after_month`: the number follows 月 (so 1日 is ついたち); `next`: the character after the
/// counter. `None`: no counter hark reads.
fn counter(
    digits: &str,
    number: String,
    c: char,
    next: Option<char>,
    after_month: bool,
) -> Option<CounterReading> {
    use CounterReading::{Split, Whole};
    let d = digits.trim_start_matches('0');
    let b = d.as_bytes();
    let last = *b.last()?;
    let tens = b.len().checked_sub(2).map(|i| b[i]).unwrap_or(b'0');
    let whole = |s: &str| Some(Whole(s.to_string()));
    let with = |n: String, counter: &str| Some(Whole(n + counter));
    let split = |n: String, counter| Some(Split(n, Some(counter)));
    let hour = |n: String| {
        let n = change_end(n, "よん", "よ");
        let n = change_end(n, "なな", "しち");
        change_end(n, "きゅう", "く")
    };
    if next == Some('間') {
        // 時間, 年間: the number changes (よじかん, よねんかん), MeCab reads the rest
        return match c {
            '時' => Some(Split(hour(number), None)),
            '年' => Some(Split(change_end(number, "よん", "よ"), None)),
            _ => None,
        };
    }
    match c {
        '年' => split(change_end(number, "よん", "よ"), "ねん"),
        '時' => split(hour(number), "じ"),
        '歳' => match (d, last) {
            ("20", _) => whole("はたち"),
            (_, b'1') => split(change_end(number, "いち", "いっ"), "さい"),
            (_, b'8') => split(change_end(number, "はち", "はっ"), "さい"),
            (_, b'0') if tens != b'0' => split(change_end(number, "じゅう", "じゅっ"), "さい"),
            _ => split(number, "さい"),
        },
        '分' => match last {
            b'1' => with(change_end(number, "いち", "いっ"), "ぷん"),
            b'3' | b'4' => with(number, "ぷん"),
            b'6' => with(change_end(number, "ろく", "ろっ"), "ぷん"),
            b'8' => with(change_end(number, "はち", "はっ"), "ぷん"),
            b'0' if tens != b'0' => with(change_end(number, "じゅう", "じゅっ"), "ぷん"),
            b'0' if number.ends_with("ひゃく") => {
                with(change_end(number, "ひゃく", "ひゃっ"), "ぷん")
            }
            b'0' => with(number, "ぷん"),
            _ => with(number, "ふん"),
        },
        '月' if (1..=12).contains(&d.parse::<u32>().ok()?) => {
            split(change_end(hour(number), "よ", "し"), "がつ")
        }
        '日' => match d {
            "1" if after_month => whole("ついたち"),
            "1" => whole("いちにち"),
            "2" => whole("ふつか"),
            "3" => whole("みっか"),
            "4" => whole("よっか"),
            "5" => whole("いつか"),
            "6" => whole("むいか"),
            "7" => whole("なのか"),
            "8" => whole("ようか"),
            "9" => whole("ここのか"),
            "10" => whole("とおか"),
            "14" => whole("じゅうよっか"),
            "20" => whole("はつか"),
            "24" => whole("にじゅうよっか"),
            _ => split(number, "にち"),
        },
        '人' => match d {
            "1" => whole("ひとり"),
            "2" => whole("ふたり"),
            _ => split(change_end(number, "よん", "よ"), "にん"),
        },
        _ => None,
    }
}

/// The number starting at byte `i` of `t` (a digit): `(end, digits, fraction)` — digits
/// without separators, and the fraction's digits if it has one.
fn scan(t: &str, i: usize) -> (usize, String, Option<Range<usize>>, bool) {
    let b = t.as_bytes();
    let run = |from: usize| digit_run(t, from);
    let mut end = run(i);
    let mut digits = t[i..end].to_string();
    let mut grouped = false;
    // thousands separators: 1–3 digits, then groups of exactly three
    if end - i <= 3 {
        let mut e = end;
        let mut groups = String::new();
        while b.get(e) == Some(&b',') && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
            let g = run(e + 1);
            if g - (e + 1) != 3 {
                break;
            }
            groups.push_str(&t[e + 1..g]);
            e = g;
        }
        if e > end {
            digits.push_str(&groups);
            end = e;
            grouped = true;
        }
    }
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        let f = run(end + 1);
        let frac = end + 1..f;
        return (f, digits, Some(frac), grouped);
    }
    (end, digits, None, grouped)
}

/// Rewrites the numbers of `n` (see the module docs); returns the new text and the counters
/// whose words get their readings after tagging.
pub(crate) fn transform(n: &Norm, readings: Readings) -> (Norm, Vec<Counter>) {
    let t = n.text();
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut counters = Vec::new();
    // growth of the text by the edits so far, to place counters in the rewritten text
    let mut shift: isize = 0;
    let mut i = 0;
    let b = t.as_bytes();
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (mut end, digits, frac, grouped) = match readings {
            Readings::Misaki => {
                let e = digit_run(t, i);
                (e, t[i..e].to_string(), None, false)
            }
            Readings::Hark => scan(t, i),
        };
        let mut reading = String::from(" ");
        let mut counter_at = None;
        match (readings, &frac) {
            (Readings::Misaki, _) => reading.push_str(&convert(&digits)),
            (Readings::Hark, Some(f)) => reading.push_str(&decimal(&digits, &t[f.clone()])),
            (Readings::Hark, None) => {
                // a long run without separators is a code or a phone number
                let number = match integer(&digits) {
                    Some(n) if grouped || digits.len() <= 9 => n,
                    _ => digits_read(&digits),
                };
                let mut rest = t[end..].chars();
                let c = rest.next();
                let after_month = t[..i].ends_with('月');
                let read =
                    c.and_then(|c| counter(&digits, number.clone(), c, rest.next(), after_month));
                match read {
                    Some(CounterReading::Whole(r)) => {
                        reading.push_str(&r);
                        end += c.map_or(0, char::len_utf8);
                    }
                    Some(CounterReading::Split(r, counter)) => {
                        reading.push_str(&r);
                        counter_at = counter;
                    }
                    None => reading.push_str(&number),
                }
            }
        }
        if readings == Readings::Hark && b.get(end) == Some(&b'%') {
            reading.push_str("パーセント");
            end += 1;
        }
        shift += reading.len() as isize - (end - i) as isize;
        if let Some(r) = counter_at {
            let at = (end as isize + shift) as usize;
            let len = t[end..].chars().next().map_or(0, char::len_utf8);
            counters.push(Counter {
                span: at..at + len,
                reading: r,
            });
        }
        edits.push((i..end, reading));
        i = end;
    }
    (n.rewrite(edits), counters)
}

/// misaki's digit run: ASCII digits only (other scripts' digits are left to MeCab).
fn digit_run(t: &str, i: usize) -> usize {
    let b = t.as_bytes();
    i + b[i..]
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(b.len() - i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num2kana_readings() {
        for (n, want) in [
            ("0", "ゼロ"),
            ("7", "なな"),
            ("10", "じゅう"),
            ("54", "ごじゅうよん"),
            ("300", "さんびゃく"),
            ("1000", "せん"),
            ("1965", "せんきゅうひゃくろくじゅうご"),
            ("2023", "にせんにじゅうさん"),
            ("11000", "いちまんいっせん"),
            ("830000", "はちじゅうさんまん"),
            (
                "9438720",
                "きゅうひゃくよんじゅうさんまんはっせんななひゃくにじゅう",
            ),
            ("100000000", "いちおく"),
            ("120004000", "いちおくにせんまんよんせん"),
            ("007", "なな"),
            (
                "1234567890",
                "Number length too long, choose less than 10 digits",
            ),
        ] {
            assert_eq!(convert(n), want, "{n}");
        }
        assert_eq!(
            integer("1234567890").unwrap(),
            "じゅうにおくさんぜんよんひゃくごじゅうろくまんななせんはっぴゃくきゅうじゅう"
        );
        assert_eq!(integer("1000000000000").unwrap(), "いっちょう");
        // (点 in kanji: MeCab always reads it テン, where it may cut hiragana てん as て + ん)
        assert_eq!(decimal("25", "5"), "にじゅうご点ご");
        assert_eq!(decimal("10", "05"), "じゅっ点ゼロご");
        assert_eq!(decimal("0", "5"), "れい点ご");
    }

    #[test]
    fn hark_reads_separators_decimals_percent_and_counters() {
        let read = |s: &str| {
            transform(&Norm::new(s), Readings::Hark)
                .0
                .text()
                .to_string()
        };
        assert_eq!(read("1,500円"), " せんごひゃく円");
        assert_eq!(read("1,50円"), " いち, ごじゅう円");
        assert_eq!(read("1.2%"), " いっ点にパーセント");
        assert_eq!(read("3日"), " みっか");
        assert_eq!(read("12月1日"), " じゅうに月 ついたち");
        assert_eq!(read("4時間"), " よ時間");
        assert_eq!(read("10歳"), " じゅっ歳");
        assert_eq!(read("60分から"), " ろくじゅっぷんから");
        assert_eq!(read("4月"), " し月");
        assert_eq!(read("13月"), " じゅうさん月");
        assert_eq!(
            read("08012345678"),
            " ゼロはちゼロいちにさんよんごろくななはち"
        );
        let (t, c) = transform(&Norm::new("4時に"), Readings::Hark);
        assert_eq!(t.text(), " よ時に");
        assert_eq!(
            c,
            vec![Counter {
                span: 4..7,
                reading: "じ"
            }]
        );
        let (m, c) = transform(&Norm::new("1,500円は4時"), Readings::Misaki);
        assert_eq!(m.text(), " いち, ごひゃく円は よん時");
        assert!(c.is_empty());
    }
}
