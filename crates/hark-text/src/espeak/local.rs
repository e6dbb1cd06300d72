//! Readings misaki gets wrong, made right before espeak-ng reads the text:
//! * numbers written the local way (`1.234,56` in es, fr-fr, it, pt-br; `2,22,840` in hi) are
//!   read as one number. misaki splits them at `.` and `,` (punctuation to phonemizer), so
//!   "1.234,56" became "one. two hundred thirty-four, fifty-six"; espeak-ng reads the whole
//!   number right in each language, so it is simply given the whole number;
//! * amounts of money (`R$ 1.800,00`, `24,43 €`, `₹35,171`, `$5`) are read as the language
//!   says them: "1.800 reais", "24 euros con 43 céntimos" (espeak-ng alone would say
//!   "real mil oitocentos vírgula zero zero");
//! * a minus sign before a number is read ("menos 5"); espeak-ng drops it in most languages.

use std::ops::Range;

use crate::lang::Lang;

use super::split::Item;

/// The decimal separator of the language's numbers.
fn decimal(lang: Lang) -> char {
    if lang == Lang::Hi {
        '.'
    } else {
        ','
    }
}

/// Whether `s` is a number written the language's way with a separator inside: for es, fr-fr,
/// it, pt-br `1.234`, `1.234,56`, `3,5` (groups of three after a `.`, a decimal comma); for hi
/// `35,171`, `2,22,840`, `1,234,567`, `434.27` (Indian or Western groups, a decimal point).
/// Plain integers and other shapes (`20.30`, `1,2,3`) are not.
pub(crate) fn is_local_number(s: &str, lang: Lang) -> bool {
    let dec = decimal(lang);
    let group = if dec == ',' { '.' } else { ',' };
    let (int, frac) = match s.split_once(dec) {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    let groups: Vec<&str> = int.split(group).collect();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(|g| digits(g)) {
        return false;
    }
    if groups.len() == 1 {
        // no grouping: a number only with a decimal part
        return frac.is_some();
    }
    let (first, rest) = groups.split_first().expect("two or more");
    let last = rest.len() - 1;
    first.len() <= 3
        && rest
            .iter()
            .enumerate()
            .all(|(k, g)| g.len() == 3 || (lang == Lang::Hi && k < last && g.len() == 2))
}

/// Byte ranges of `text` holding numbers written the language's way ([`is_local_number`]):
/// maximal runs of digits, `.` and `,` without their leading and trailing separators.
pub(crate) fn numbers(text: &str, lang: Lang) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let is_num = |c: u8| c.is_ascii_digit() || c == b'.' || c == b',';
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !is_num(b[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && is_num(b[j]) {
            j += 1;
        }
        let (mut s, mut e) = (i, j);
        while s < e && !b[s].is_ascii_digit() {
            s += 1;
        }
        while e > s && !b[e - 1].is_ascii_digit() {
            e -= 1;
        }
        if s < e && is_local_number(&text[s..e], lang) {
            out.push(s..e);
        }
        i = j;
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Currency {
    Eur,
    Usd,
    Gbp,
    Brl,
    Inr,
}

/// Currency symbols, longest first.
const SYMBOLS: [(&str, Currency); 6] = [
    ("US$", Currency::Usd),
    ("R$", Currency::Brl),
    ("€", Currency::Eur),
    ("$", Currency::Usd),
    ("£", Currency::Gbp),
    ("₹", Currency::Inr),
];

/// How a language names an amount: unit (one, many), hundredth (one, many), and the word
/// between them ("" when none is said).
struct Names {
    unit: (&'static str, &'static str),
    cent: (&'static str, &'static str),
    and: &'static str,
}

fn names(lang: Lang, c: Currency) -> Names {
    use Currency::*;
    let (unit, cent) = match (lang, c) {
        (Lang::Es, Eur) => (("euro", "euros"), ("céntimo", "céntimos")),
        (Lang::Es, Usd) => (("dólar", "dólares"), ("centavo", "centavos")),
        (Lang::Es, Gbp) => (("libra", "libras"), ("penique", "peniques")),
        (Lang::Es, Brl) => (("real", "reales"), ("centavo", "centavos")),
        (Lang::Es, Inr) => (("rupia", "rupias"), ("paisa", "paisas")),
        (Lang::FrFr, Eur) => (("euro", "euros"), ("centime", "centimes")),
        (Lang::FrFr, Usd) => (("dollar", "dollars"), ("cent", "cents")),
        (Lang::FrFr, Gbp) => (("livre", "livres"), ("penny", "pence")),
        (Lang::FrFr, Brl) => (("réal", "réais"), ("centavo", "centavos")),
        (Lang::FrFr, Inr) => (("roupie", "roupies"), ("paisa", "paisas")),
        (Lang::It, Eur) => (("euro", "euro"), ("centesimo", "centesimi")),
        (Lang::It, Usd) => (("dollaro", "dollari"), ("centesimo", "centesimi")),
        (Lang::It, Gbp) => (("sterlina", "sterline"), ("penny", "pence")),
        (Lang::It, Brl) => (("real", "real"), ("centavo", "centavos")),
        (Lang::It, Inr) => (("rupia", "rupie"), ("paisa", "paise")),
        (Lang::PtBr, Eur) => (("euro", "euros"), ("centavo", "centavos")),
        (Lang::PtBr, Usd) => (("dólar", "dólares"), ("centavo", "centavos")),
        (Lang::PtBr, Gbp) => (("libra", "libras"), ("pêni", "pence")),
        (Lang::PtBr, Brl) => (("real", "reais"), ("centavo", "centavos")),
        (Lang::PtBr, Inr) => (("rupia", "rupias"), ("paisa", "paisas")),
        (_, Eur) => (("यूरो", "यूरो"), ("सेंट", "सेंट")),
        (_, Usd) => (("डॉलर", "डॉलर"), ("सेंट", "सेंट")),
        (_, Gbp) => (("पाउंड", "पाउंड"), ("पेंस", "पेंस")),
        (_, Brl) => (("रियाल", "रियाल"), ("सेंटावो", "सेंटावो")),
        (_, Inr) => (("रुपया", "रुपये"), ("पैसा", "पैसे")),
    };
    let and = match lang {
        Lang::Es => "con",
        Lang::FrFr => "et",
        Lang::It | Lang::PtBr => "e",
        _ => "",
    };
    Names { unit, cent, and }
}

/// The word for a minus sign.
fn minus(lang: Lang) -> &'static str {
    match lang {
        Lang::Es | Lang::PtBr => "menos",
        Lang::FrFr => "moins",
        Lang::It => "meno",
        _ => "माइनस",
    }
}

/// A plain integer or a local number ([`is_local_number`]).
fn is_amount(s: &str, lang: Lang) -> bool {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())) || is_local_number(s, lang)
}

/// How the amount `n` of currency `c` is said: "1.800 reais", "24 euros con 43 céntimos",
/// "50 céntimos"; hundredths of `00` are not said. More than two decimals: the number as it
/// is, then the unit.
fn say_amount(n: &str, c: Currency, lang: Lang) -> String {
    let nm = names(lang, c);
    let (int, frac) = match n.split_once(decimal(lang)) {
        None => (n, ""),
        Some((i, f)) if f.len() <= 2 => (i, f),
        Some(_) => return format!("{n} {}", nm.unit.1),
    };
    let cents: u32 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u32>().unwrap_or(0) * 10,
        _ => frac.parse().unwrap_or(0),
    };
    let zero = int.bytes().all(|b| b == b'0' || !b.is_ascii_digit());
    let pick = |(one, many): (&'static str, &'static str), one_of: bool| {
        if one_of {
            one
        } else {
            many
        }
    };
    let cent = || {
        let w = pick(nm.cent, cents == 1);
        format!("{cents} {w}")
    };
    if zero && cents > 0 {
        return cent();
    }
    let mut s = format!("{int} {}", pick(nm.unit, int == "1"));
    if cents > 0 {
        if !nm.and.is_empty() {
            s.push(' ');
            s.push_str(nm.and);
        }
        s.push(' ');
        s.push_str(&cent());
    }
    s
}

/// The currency and amount of a word written with its symbol attached (`₹35,171`, `24,43€`).
fn attached(w: &str, lang: Lang) -> Option<(Currency, &str)> {
    SYMBOLS.iter().find_map(|&(sym, c)| {
        let n = w.strip_prefix(sym).or_else(|| w.strip_suffix(sym))?;
        is_amount(n, lang).then_some((c, n))
    })
}

fn symbol(w: &str) -> Option<Currency> {
    SYMBOLS.iter().find(|(s, _)| *s == w).map(|&(_, c)| c)
}

/// Gives words their local reading: amounts of money with their symbol (written before or
/// after, attached or apart: the two words then become one) and numbers after a minus sign.
pub(crate) fn respell(items: &mut Vec<Item>, lang: Lang) {
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    let mut k = 0;
    while k < items.len() {
        let Item::Word { src, spoken, ws } = &items[k] else {
            out.push(items[k].clone());
            k += 1;
            continue;
        };
        // a symbol and an amount as two words, in either order
        if let Some(Item::Word {
            src: src2,
            spoken: next,
            ws: ws2,
        }) = items.get(k + 1)
        {
            let pair = match (symbol(spoken), symbol(next)) {
                (Some(c), None) if *ws && is_amount(next, lang) => Some((c, next.as_str())),
                (None, Some(c)) if *ws && is_amount(spoken, lang) => Some((c, spoken.as_str())),
                _ => None,
            };
            if let Some((c, n)) = pair {
                out.push(Item::Word {
                    src: src.start..src2.end,
                    spoken: say_amount(n, c, lang),
                    ws: *ws2,
                });
                k += 2;
                continue;
            }
        }
        let spoken = if let Some((c, n)) = attached(spoken, lang) {
            say_amount(n, c, lang)
        } else if let Some(n) = spoken
            .strip_prefix('-')
            .or_else(|| spoken.strip_prefix('−'))
            .filter(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        {
            format!("{} {n}", minus(lang))
        } else {
            spoken.clone()
        };
        out.push(Item::Word {
            src: src.clone(),
            spoken,
            ws: *ws,
        });
        k += 1;
    }
    *items = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_numbers() {
        for s in ["1.234", "1.234,56", "3,5", "0,8", "12.000.000", "99.188,00"] {
            assert!(is_local_number(s, Lang::Es), "{s}");
            assert!(is_local_number(s, Lang::PtBr), "{s}");
        }
        for s in ["20.30", "1,2,3", "1234", "1.23", "1,234.56", ",5", "1.2345"] {
            assert!(!is_local_number(s, Lang::It), "{s}");
        }
        for s in ["2,22,840", "35,171", "1,234,567", "434.27", "54,65,056"] {
            assert!(is_local_number(s, Lang::Hi), "{s}");
        }
        for s in ["2,2,840", "12,34", "1.2.3", "2,22,84"] {
            assert!(!is_local_number(s, Lang::Hi), "{s}");
        }
        let t = "en 1.234,56. y 20.30, 2025.";
        let r = numbers(t, Lang::Es);
        assert_eq!(
            r.iter().map(|r| &t[r.clone()]).collect::<Vec<_>>(),
            ["1.234,56"]
        );
    }

    #[test]
    fn amounts() {
        assert_eq!(
            say_amount("1.800,00", Currency::Brl, Lang::PtBr),
            "1.800 reais"
        );
        assert_eq!(
            say_amount("359,38", Currency::Brl, Lang::PtBr),
            "359 reais e 38 centavos"
        );
        assert_eq!(
            say_amount("24,43", Currency::Eur, Lang::Es),
            "24 euros con 43 céntimos"
        );
        assert_eq!(say_amount("1", Currency::Eur, Lang::FrFr), "1 euro");
        assert_eq!(say_amount("0,5", Currency::Eur, Lang::It), "50 centesimi");
        assert_eq!(say_amount("35,171", Currency::Inr, Lang::Hi), "35,171 रुपये");
        assert_eq!(
            say_amount("434.27", Currency::Inr, Lang::Hi),
            "434 रुपये 27 पैसे"
        );
    }

    fn spoken(t: &str, lang: Lang) -> Vec<String> {
        super::super::split::split(t, 0, lang, true)
            .into_iter()
            .filter_map(|i| match i {
                Item::Word { spoken, .. } => Some(spoken),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn respelled_words() {
        assert_eq!(
            spoken("custa R$ 1.800,00 e", Lang::PtBr),
            ["custa", "1.800 reais", "e"]
        );
        assert_eq!(
            spoken("cuesta 24,43 €", Lang::Es),
            ["cuesta", "24 euros con 43 céntimos"]
        );
        assert_eq!(spoken("₹35,171 का", Lang::Hi), ["35,171 रुपये", "का"]);
        assert_eq!(spoken("a -5 grados", Lang::Es), ["a", "menos 5", "grados"]);
        assert_eq!(spoken("10-20 €uro", Lang::Es), ["10-20", "€uro"]);
    }
}
