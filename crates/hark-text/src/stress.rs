//! Stress marks: `ˈ` primary and `ˌ` secondary, placed right before a vowel, as misaki's
//! `apply_stress` places them (<https://github.com/hexgrad/misaki/blob/main/misaki/en.py>).

pub(crate) const PRIMARY: char = 'ˈ';
pub(crate) const SECONDARY: char = 'ˌ';

/// Vowel symbols of the misaki alphabet (both dialects).
pub(crate) fn is_vowel(c: char) -> bool {
    matches!(
        c,
        'A' | 'I'
            | 'O'
            | 'Q'
            | 'W'
            | 'Y'
            | 'a'
            | 'i'
            | 'u'
            | 'æ'
            | 'ɑ'
            | 'ɒ'
            | 'ɔ'
            | 'ə'
            | 'ɛ'
            | 'ɜ'
            | 'ɪ'
            | 'ʊ'
            | 'ʌ'
            | 'ᵻ'
    )
}

/// Consonant symbols used by the right-to-left context pass.
pub(crate) fn is_consonant(c: char) -> bool {
    matches!(
        c,
        'b' | 'd'
            | 'f'
            | 'h'
            | 'j'
            | 'k'
            | 'l'
            | 'm'
            | 'n'
            | 'p'
            | 's'
            | 't'
            | 'v'
            | 'w'
            | 'z'
            | 'ð'
            | 'ŋ'
            | 'ɡ'
            | 'ɹ'
            | 'ɾ'
            | 'ʃ'
            | 'ʒ'
            | 'ʤ'
            | 'ʧ'
            | 'θ'
    )
}

fn has_stress(ps: &str) -> bool {
    ps.contains(PRIMARY) || ps.contains(SECONDARY)
}

/// Moves every stress mark to sit right before the next vowel after it.
fn restress(ps: &str) -> String {
    let chars: Vec<char> = ps.chars().collect();
    // (sort key, char): marks get the position of their vowel minus a half.
    let mut keyed: Vec<(f64, usize, char)> = Vec::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let mut key = i as f64;
        if c == PRIMARY || c == SECONDARY {
            if let Some(j) = chars[i..].iter().position(|&v| is_vowel(v)) {
                key = (i + j) as f64 - 0.5;
            }
        }
        keyed.push((key, i, c));
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, _, c)| c).collect()
}

/// Applies a stress value to a phoneme string, following misaki's `apply_stress`.
pub fn apply_stress(ps: &str, stress: Option<f64>) -> String {
    let Some(s) = stress else {
        return ps.to_string();
    };
    if s < -1.0 {
        return ps.replace([PRIMARY, SECONDARY], "");
    }
    if s == -1.0 || ((s == 0.0 || s == -0.5) && ps.contains(PRIMARY)) {
        return ps.replace(SECONDARY, "").replace(PRIMARY, "ˌ");
    }
    if (s == 0.0 || s == 0.5 || s == 1.0) && !has_stress(ps) {
        if !ps.chars().any(is_vowel) {
            return ps.to_string();
        }
        return restress(&format!("{SECONDARY}{ps}"));
    }
    if s >= 1.0 && !ps.contains(PRIMARY) && ps.contains(SECONDARY) {
        return ps.replace(SECONDARY, "ˈ");
    }
    if s > 1.0 && !has_stress(ps) {
        if !ps.chars().any(is_vowel) {
            return ps.to_string();
        }
        return restress(&format!("{PRIMARY}{ps}"));
    }
    ps.to_string()
}

/// misaki's `stress_weight`: diphthongs and affricates count double.
pub(crate) fn stress_weight(ps: &str) -> usize {
    ps.chars()
        .map(|c| if "AIOQWYʤʧ".contains(c) { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_keeps() {
        assert_eq!(apply_stress("hˈɛlO", None), "hˈɛlO");
    }
    #[test]
    fn strip_all_below_minus_one() {
        assert_eq!(apply_stress("ˌɪntəɹˈæk", Some(-2.0)), "ɪntəɹæk");
    }
    #[test]
    fn demote() {
        assert_eq!(apply_stress("ˌɪntəɹˈæk", Some(-1.0)), "ɪntəɹˌæk");
        assert_eq!(apply_stress("ˌɪntəɹˈæk", Some(-0.5)), "ɪntəɹˌæk");
        assert_eq!(apply_stress("ˌɪntəɹˈæk", Some(0.0)), "ɪntəɹˌæk");
    }
    #[test]
    fn add_secondary_before_first_vowel() {
        assert_eq!(apply_stress("ju", Some(0.5)), "jˌu");
        assert_eq!(apply_stress("ðə", Some(1.0)), "ðˌə");
        assert_eq!(apply_stress("st", Some(0.5)), "st");
    }
    #[test]
    fn promote() {
        assert_eq!(apply_stress("ɡˌO", Some(2.0)), "ɡˈO");
        assert_eq!(apply_stress("ju", Some(2.0)), "jˈu");
        // primary present: unchanged
        assert_eq!(apply_stress("hˈɛlO", Some(2.0)), "hˈɛlO");
    }
    #[test]
    fn weight() {
        assert_eq!(stress_weight("bˈI"), 4);
    }
}
