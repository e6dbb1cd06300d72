//! Arabic numerals → Chinese numerals, as misaki's legacy path does it with cn2an 0.5.24
//! (`transform(text, "an2cn")`), re-implemented from its behaviour: ranges before a measure word
//! (`2-3个` 二到三个), dates (`2007年9月25日` 二零零七年九月二十五日: the year digit by digit),
//! fractions (`3/4` 四分之三), percentages (`1.2%` 百分之一点二), `℃`, then every other number in
//! cn2an's "low" reading (`1500` 一千五百, `40.1` 四十点一, `-5` 负五). Full-width digits read as
//! ASCII ones; what cn2an refuses (more than 16 integer digits) stays as written.
//!
//! Where misaki reads wrong, hark reads better ([`Readings::Hark`]; each case is named in
//! `tests/zh.rs`):
//! * a currency sign before a number is read as its unit after it (`¥5556` 五千五百五十六元,
//!   `$3` 三美元), where misaki keeps the sign, which the model cannot say;
//! * a count of years is a number (`住了10年` 十年, `干了33年` 三十三年); only four-digit years
//!   and years followed by a month are read digit by digit (二零零七年, `98年5月` 九八年五月);
//! * clock times read as times (`9:00` 九点, `2:30` 两点三十, `16:05` 十六点零五) instead of
//!   `九:零`;
//! * a lone 2 before a measure word is 两 (`2个小时` 两个小时, `下午2点` 两点), except after 第;
//! * long digit strings (11 or more: phone, account numbers) are read digit by digit, with 1 as
//!   幺, instead of as a cardinal in the hundreds of billions;
//! * thousands separators are ignored (`1,234` 一千二百三十四, not 一,二百三十四);
//! * a `/` after a number and its unit and before a unit is 每 (`5元/斤` 五元每斤); any other
//!   `/` outside a fraction is dropped (misaki keeps it; the model cannot say it).

use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::norm::Norm;

/// Which readings to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readings {
    /// Exactly cn2an's, as misaki gets them.
    Misaki,
    /// cn2an's with hark's corrections (see the module docs).
    Hark,
}

const NUM: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
const UNIT: [&str; 16] = [
    "", "十", "百", "千", "万", "十", "百", "千", "亿", "十", "百", "千", "万", "十", "百", "千",
];
/// cn2an's measure words: a range before one of them is read with 到.
const MEASURE_WORDS: [&str; 34] = [
    "斤", "克", "千克", "公斤", "吨", "米", "厘米", "毫米", "公里", "升", "毫升", "元", "角", "分",
    "个", "只", "条", "张", "块", "瓶", "杯", "份", "本", "辆", "台", "匹", "头", "位", "亩",
    "小时", "分钟", "秒", "天", "半",
];
/// Measure words before which a lone 2 is 两 (hark's reading).
const LIANG_BEFORE: [&str; 40] = [
    "个", "点", "位", "名", "只", "条", "张", "本", "件", "次", "天", "岁", "小时", "分钟", "周",
    "星期", "倍", "辆", "台", "块", "杯", "瓶", "碗", "份", "种", "双", "对", "间", "套", "篇",
    "首", "部", "遍", "趟", "斤", "公斤", "千克", "吨", "公里", "人",
];

/// A digit as cn2an's `\d` finds it in practice: ASCII or full-width.
const D: &str = "[0-9０-９]";

fn re(pattern: &str) -> Regex {
    Regex::new(&pattern.replace('D', D)).expect("valid number pattern")
}

static RANGE: LazyLock<Regex> = LazyLock::new(|| re(r"D+(\.D+)?-D+(\.D+)?"));
static DATE: LazyLock<Regex> = LazyLock::new(|| re("(D{2,4}年)?(D{1,2}月)?(D{1,2}日)?"));
static FRACTION: LazyLock<Regex> = LazyLock::new(|| re("D+/D+"));
static PERCENT: LazyLock<Regex> = LazyLock::new(|| re(r"-?(D+\.)?D+%"));
static CELSIUS: LazyLock<Regex> = LazyLock::new(|| re("D+℃"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| re(r"-?(D+\.)?D+"));
static DIGITS: LazyLock<Regex> = LazyLock::new(|| re("D+"));
static WAN_LING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("([万亿])零([一二三四五六七八九壹贰叁肆伍陆柒捌玖][千仟])").expect("valid pattern")
});
static CURRENCY: LazyLock<Regex> = LazyLock::new(|| re(r"([¥￥$€£]) ?(-?D+(\.D+)?)"));
static TIME: LazyLock<Regex> = LazyLock::new(|| re("(D{1,2}):(D{2})"));
static GROUPED: LazyLock<Regex> = LazyLock::new(|| re("D{1,3}(,D{3})+"));

/// `text` with ASCII digits for full-width ones.
fn ascii_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            c => c,
        })
        .collect()
}

/// cn2an's integer reading ("low" numerals); `None` where cn2an raises.
fn integer(digits: &str) -> Option<String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d = digits.trim_start_matches('0');
    let d = if d.is_empty() { "0" } else { d };
    let n = d.len();
    if n > UNIT.len() {
        return None;
    }
    let mut out = String::new();
    for (i, b) in d.bytes().enumerate() {
        let (v, u) = (usize::from(b - b'0'), n - i - 1);
        if v != 0 {
            out.push_str(NUM[v]);
            out.push_str(UNIT[u]);
        } else {
            if u % 4 == 0 {
                out.push_str(NUM[0]);
                out.push_str(UNIT[u]);
            }
            if i > 0 && !out.ends_with('零') {
                out.push_str(NUM[0]);
            }
        }
    }
    let out = out
        .replace("零零", "零")
        .replace("零万", "万")
        .replace("零亿", "亿")
        .replace("亿万", "亿");
    let out = WAN_LING
        .replace_all(out.trim_matches('零'), "$1$2")
        .into_owned();
    let out = out
        .strip_prefix("一十")
        .map_or(out.clone(), |r| format!("十{r}"));
    Some(if out.is_empty() { "零".into() } else { out })
}

/// cn2an's `an2cn(s, "low")`: sign, integer, decimals digit by digit. `None` where it raises.
pub(crate) fn low(s: &str) -> Option<String> {
    let s = ascii_digits(s);
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => ("负", rest),
        None => ("", s.as_str()),
    };
    let parts: Vec<&str> = s.split('.').collect();
    let body = match parts[..] {
        [int] => integer(int)?,
        [int, dec] => {
            let mut out = integer(int)?;
            if !dec.is_empty() {
                out.push('点');
                for b in dec.bytes().take(16) {
                    out.push_str(NUM[usize::from(b.checked_sub(b'0').filter(|v| *v < 10)?)]);
                }
            }
            out
        }
        _ => return None,
    };
    Some(format!("{sign}{body}"))
}

/// cn2an's `an2cn(s, "direct")`: digit by digit.
fn direct(s: &str) -> Option<String> {
    ascii_digits(s)
        .bytes()
        .map(|b| match b {
            b'.' => Some("点"),
            b'0'..=b'9' => Some(NUM[usize::from(b - b'0')]),
            _ => None,
        })
        .collect()
}

/// What to do with one match.
enum Sub {
    /// Replace it.
    With(String),
    /// Leave it as written (cn2an failed on it).
    Keep,
    /// Not a match after all: look again from this byte (the regex engine's retry one
    /// character later, or further where no later start can match either, so that no input
    /// makes the passes quadratic).
    Retry(usize),
}

/// The byte index of the char after the one at `i`.
fn next_char(t: &str, i: usize) -> usize {
    i + t[i..].chars().next().map_or(1, char::len_utf8)
}

/// `re.sub(pattern, f, text)`, keeping sources; empty matches change nothing.
fn sub(n: &Norm, re: &Regex, mut f: impl FnMut(&Captures, &str) -> Sub) -> Norm {
    let t = n.text();
    let mut edits = Vec::new();
    let mut pos = 0;
    while pos < t.len() {
        let Some(c) = re.captures_at(t, pos) else {
            break;
        };
        let m = c.get(0).expect("group 0");
        if m.is_empty() {
            pos = next_char(t, m.start());
            continue;
        }
        match f(&c, t) {
            Sub::With(s) => {
                edits.push((m.range(), s));
                pos = m.end();
            }
            Sub::Keep => pos = m.end(),
            Sub::Retry(at) => pos = at.max(next_char(t, m.start())),
        }
    }
    n.rewrite(edits)
}

/// `Sub::With` the reading, or `Sub::Keep` where there is none.
fn with(reading: Option<String>) -> Sub {
    reading.map_or(Sub::Keep, Sub::With)
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// The char before byte `i` and the one at byte `j` of `t`.
fn around(t: &str, i: usize, j: usize) -> (Option<char>, Option<char>) {
    (t[..i].chars().next_back(), t[j..].chars().next())
}

/// Numerals read as cn2an reads them, with hark's corrections when `readings` is `Hark`.
pub(crate) fn transform(n: &Norm, readings: Readings) -> Norm {
    let mut n = n.clone();
    if readings == Readings::Hark {
        n = hark_readings(&n);
    }
    n = sub(&n, &RANGE, |c, t| {
        let m = c.get(0).expect("group 0");
        if !MEASURE_WORDS.iter().any(|w| t[m.end()..].starts_with(w)) {
            // a range starting inside the first digits ends where this one does
            let digits = m.as_str().find(|c| !is_digit(c)).unwrap_or(m.len());
            return Sub::Retry(m.start() + digits);
        }
        let (a, b) = m.as_str().split_once('-').expect("a range has a hyphen");
        with(low(a).zip(low(b)).map(|(a, b)| format!("{a}到{b}")))
    });
    n = sub(&n, &DATE, |c, _| {
        let year = c.get(1).map(|y| y.as_str().trim_end_matches('年'));
        // hark: a count of years (fewer than four digits, no month after it) is a number
        let year_reading = match year {
            Some(y)
                if readings == Readings::Hark && y.chars().count() < 4 && c.get(2).is_none() =>
            {
                low(y)
            }
            Some(y) => direct(y),
            None => Some(String::new()),
        };
        let mut out = match year_reading {
            Some(y) if year.is_some() => format!("{y}年"),
            Some(_) => String::new(),
            None => return Sub::Keep,
        };
        for (g, unit) in [(2, '月'), (3, '日')] {
            if let Some(m) = c.get(g) {
                let Some(r) = low(m.as_str().trim_end_matches(unit)) else {
                    return Sub::Keep;
                };
                out.push_str(&r);
                out.push(unit);
            }
        }
        Sub::With(out)
    });
    n = sub(&n, &FRACTION, |c, _| {
        let (a, b) = c[0].split_once('/').expect("a fraction has a slash");
        with(low(a).zip(low(b)).map(|(a, b)| format!("{b}分之{a}")))
    });
    n = sub(&n, &PERCENT, |c, _| {
        with(low(c[0].trim_end_matches('%')).map(|r| format!("百分之{r}")))
    });
    n = sub(&n, &CELSIUS, |c, _| {
        with(low(c[0].trim_end_matches('℃')).map(|r| format!("{r}摄氏度")))
    });
    if readings == Readings::Hark {
        n = slashes(&n);
    }
    sub(&n, &NUMBER, |c, _| with(low(&c[0])))
}

/// hark's corrections that must see the digits before cn2an's passes do.
fn hark_readings(n: &Norm) -> Norm {
    // 1,234 → 1234
    let n = sub(n, &GROUPED, |c, t| {
        let m = c.get(0).expect("group 0");
        match around(t, m.start(), m.end()) {
            // part of a longer digit string: so is any grouping inside it
            (Some(p), _) if is_digit(p) || p == ',' => Sub::Keep,
            (_, Some(q)) if is_digit(q) || q == ',' => Sub::Keep,
            _ => Sub::With(m.as_str().replace(',', "")),
        }
    });
    // ¥5 → 五元
    let n = sub(&n, &CURRENCY, |c, _| {
        let unit = match &c[1] {
            "$" => "美元",
            "€" => "欧元",
            "£" => "英镑",
            _ => "元",
        };
        with(low(&c[2]).map(|r| format!("{r}{unit}")))
    });
    // 9:05 → 九点零五
    let n = sub(&n, &TIME, |c, t| {
        let m = c.get(0).expect("group 0");
        let (p, q) = around(t, m.start(), m.end());
        // part of a longer number or of h:mm:ss: not a plain clock time
        let joined = |x: Option<char>| x.is_some_and(|x| is_digit(x) || x == ':');
        if joined(p) || joined(q) {
            return Sub::Retry(0);
        }
        let (h, mm) = (ascii_digits(&c[1]), ascii_digits(&c[2]));
        let (hv, mv): (u32, u32) = (h.parse().unwrap_or(99), mm.parse().unwrap_or(99));
        if hv > 24 || mv > 59 {
            return Sub::Retry(0);
        }
        let hour = if hv == 2 {
            "两".into()
        } else {
            low(&h).unwrap_or_default()
        };
        let minutes = match mv {
            0 => String::new(),
            1..=9 => format!("零{}", NUM[mv as usize]),
            _ => low(&mm).unwrap_or_default(),
        };
        Sub::With(format!("{hour}点{minutes}"))
    });
    // 13912345678 → 幺三九幺二三四五六七八
    let n = sub(&n, &DIGITS, |c, t| {
        let m = c.get(0).expect("group 0");
        let (p, q) = around(t, m.start(), m.end());
        let decimal = p == Some('.') || q == Some('.') && t[m.end() + 1..].starts_with(is_digit);
        if m.as_str().chars().count() < 11 || decimal {
            return Sub::Keep;
        }
        Sub::With(
            ascii_digits(m.as_str())
                .bytes()
                .map(|b| {
                    if b == b'1' {
                        "幺"
                    } else {
                        NUM[usize::from(b - b'0')]
                    }
                })
                .collect(),
        )
    });
    // 2个 → 两个
    sub(&n, &DIGITS, |c, t| {
        let m = c.get(0).expect("group 0");
        let (p, _) = around(t, m.start(), m.end());
        // not in a decimal or range, nor an ordinal (第2个 is 第二个)
        let lone = ascii_digits(m.as_str()) == "2" && !matches!(p, Some('.' | '-' | '/' | '第'));
        let rest = &t[m.end()..];
        if lone && LIANG_BEFORE.iter().any(|w| rest.starts_with(w)) {
            Sub::With("两".into())
        } else {
            Sub::Keep
        }
    })
}

/// hark's `/`: 每 between a number's unit and a unit (`5元/斤`), else dropped. Runs after the
/// fractions, before the plain numbers, so "after a number" still sees digits.
fn slashes(n: &Norm) -> Norm {
    let t = n.text();
    let is_han = |c: char| ('\u{4E00}'..='\u{9FFF}').contains(&c);
    let edits = t
        .match_indices('/')
        .map(|(i, _)| {
            let before: Vec<char> = t[..i].chars().rev().take(4).collect();
            let units = before.iter().take_while(|c| is_han(**c)).count();
            let after_number = units > 0 && before.get(units).is_some_and(|c| is_digit(*c));
            let unit_next = t[i + 1..].chars().next().is_some_and(is_han);
            let reading = if after_number && unit_next { "每" } else { "" };
            (i..i + 1, reading.to_string())
        })
        .collect();
    n.rewrite(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misaki(s: &str) -> String {
        transform(&Norm::new(s), Readings::Misaki)
            .text()
            .to_string()
    }

    #[test]
    fn cn2an_low_readings() {
        for (n, want) in [
            ("0", "零"),
            ("10", "十"),
            ("15", "十五"),
            ("100", "一百"),
            ("1005", "一千零五"),
            ("10000", "一万"),
            ("10010", "一万零一十"),
            ("13000", "一万三千"),
            ("100000000", "一亿"),
            ("1500000", "一百五十万"),
            ("007", "七"),
            ("-5", "负五"),
            ("40.1", "四十点一"),
            ("0.50", "零点五零"),
        ] {
            assert_eq!(low(n).as_deref(), Some(want), "{n}");
        }
        assert_eq!(low("12345678901234567"), None, "more than 16 digits");
    }

    #[test]
    fn cn2an_transform_as_misaki_gets_it() {
        for (s, want) in [
            ("12345年", "一二三四五年"),
            ("住了10年", "住了一零年"),
            ("2-3个", "二到三个"),
            ("2-3", "二负三"),
            ("3/4", "四分之三"),
            ("¥1452", "¥一千四百五十二"),
            ("１２３", "一百二十三"),
            ("-5%", "百分之负五"),
            ("20℃", "二十摄氏度"),
            ("2:30", "二:三十"),
            ("9:05", "九:五"),
            ("2015年2月14日", "二零一五年二月十四日"),
            ("1,234", "一,二百三十四"),
            ("5.6.7", "五点六.七"),
            ("1.2.3%", "一.百分之二点三"),
            ("10000000000000000000", "10000000000000000000"),
        ] {
            assert_eq!(misaki(s), want, "{s}");
        }
    }
}
