//! Number words in the style of the Python `num2words` English converter (cardinal, ordinal,
//! year and decimal readings), written for this crate. Outputs contain spaces, hyphens and
//! commas exactly where that converter puts them; callers split on non-letters.

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [&str; 11] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
    "sextillion",
    "septillion",
    "octillion",
    "nonillion",
];

fn below_hundred(n: u32) -> String {
    if n < 20 {
        ONES[n as usize].to_string()
    } else if n.is_multiple_of(10) {
        TENS[(n / 10) as usize].to_string()
    } else {
        format!("{}-{}", TENS[(n / 10) as usize], ONES[(n % 10) as usize])
    }
}

fn below_thousand(n: u32) -> String {
    let (h, r) = (n / 100, n % 100);
    match (h, r) {
        (0, r) => below_hundred(r),
        (h, 0) => format!("{} hundred", ONES[h as usize]),
        (h, r) => format!("{} hundred and {}", ONES[h as usize], below_hundred(r)),
    }
}

/// Cardinal words for a non-negative integer given as ASCII digits. Falls back to reading the
/// digits one by one when the value is beyond the named scales.
pub fn cardinal_str(digits: &str) -> String {
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return "zero".into();
    }
    if digits.len() > 3 * SCALES.len() {
        return digits
            .chars()
            .filter_map(|c| c.to_digit(10))
            .map(|d| ONES[d as usize])
            .collect::<Vec<_>>()
            .join(" ");
    }
    // groups of three, most significant first
    let mut groups: Vec<u32> = Vec::new();
    let bytes = digits.as_bytes();
    let first = bytes.len() % 3;
    let mut i = 0;
    if first > 0 {
        groups.push(digits[..first].parse().unwrap_or(0));
        i = first;
    }
    while i < bytes.len() {
        groups.push(digits[i..i + 3].parse().unwrap_or(0));
        i += 3;
    }
    let n = groups.len();
    let mut out = String::new();
    for (k, &g) in groups.iter().enumerate() {
        if g == 0 {
            continue;
        }
        let scale = n - 1 - k;
        let mut part = below_thousand(g);
        if scale > 0 {
            part.push(' ');
            part.push_str(SCALES[scale]);
        }
        if !out.is_empty() {
            if scale == 0 && g < 100 {
                out.push_str(" and ");
            } else {
                out.push_str(", ");
            }
        }
        out.push_str(&part);
    }
    out
}

/// Cardinal words for a `u64`.
pub fn cardinal(n: u64) -> String {
    cardinal_str(&n.to_string())
}

/// Ordinal words ("twenty-first").
pub fn ordinal_str(digits: &str) -> String {
    let card = cardinal_str(digits);
    let cut = card.rfind([' ', '-']).map(|i| i + 1).unwrap_or(0);
    let (head, last) = card.split_at(cut);
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

/// Year reading ("nineteen eighty-four", "nineteen oh-five", "two thousand and five").
pub fn year(n: u64) -> String {
    let (high, low) = (n / 100, n % 100);
    if high == 0 || (high % 10 == 0 && low < 10) || high >= 100 {
        return cardinal(n);
    }
    let high_t = cardinal(high);
    let low_t = if low == 0 {
        "hundred".to_string()
    } else if low < 10 {
        format!("oh-{}", cardinal(low))
    } else {
        cardinal(low)
    };
    format!("{high_t} {low_t}")
}

/// Decimal reading of `int.frac` like num2words on a float: "three point one four".
/// Trailing zeros of the fraction are dropped (as a float would); "1.0" reads "one".
pub fn decimal(int_part: &str, frac: &str) -> String {
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        // a whole number written with ".0": the converter reads just the integer
        return cardinal_str(if int_part.is_empty() { "0" } else { int_part });
    }
    let mut out = cardinal_str(if int_part.is_empty() { "0" } else { int_part });
    out.push_str(" point");
    for c in frac.chars() {
        if let Some(d) = c.to_digit(10) {
            out.push(' ');
            out.push_str(ONES[d as usize]);
        }
    }
    out
}

/// Splits converter output into lowercase words (misaki splits on `[^a-z]+`).
pub fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_lowercase())
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        assert_eq!(cardinal(0), "zero");
        assert_eq!(cardinal(21), "twenty-one");
        assert_eq!(cardinal(100), "one hundred");
        assert_eq!(
            cardinal(2353),
            "two thousand, three hundred and fifty-three"
        );
        assert_eq!(cardinal(1001), "one thousand and one");
        assert_eq!(
            cardinal(8_558_596),
            "eight million, five hundred and fifty-eight thousand, five hundred and ninety-six"
        );
        assert_eq!(cardinal(1_000_000), "one million");
    }
    #[test]
    fn ordinals() {
        assert_eq!(ordinal_str("1"), "first");
        assert_eq!(ordinal_str("21"), "twenty-first");
        assert_eq!(ordinal_str("12"), "twelfth");
        assert_eq!(ordinal_str("20"), "twentieth");
        assert_eq!(ordinal_str("103"), "one hundred and third");
    }
    #[test]
    fn years() {
        assert_eq!(year(1984), "nineteen eighty-four");
        assert_eq!(year(1905), "nineteen oh-five");
        assert_eq!(year(1900), "nineteen hundred");
        assert_eq!(year(2005), "two thousand and five");
        assert_eq!(year(2015), "twenty fifteen");
        assert_eq!(year(2000), "two thousand");
    }
    #[test]
    fn decimals() {
        assert_eq!(decimal("3", "14"), "three point one four");
        assert_eq!(decimal("80", "70"), "eighty point seven");
        assert_eq!(decimal("1", "0"), "one");
    }
}
