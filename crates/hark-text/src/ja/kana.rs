//! Kana → phonemes, as misaki's cutlet path reads a word: its reading in hiragana, one kana at
//! a time with its neighbours (small kana make digraphs, っ is a glottal stop, ん takes the
//! place of the next sound, ー lengthens), through misaki's kana→IPA table.

/// Phonemes of one kana (or of a symbol misaki maps through the same table).
pub(crate) fn single(c: char) -> Option<&'static str> {
    Some(match c {
        'ぁ' | 'あ' => "a",
        'ぃ' | 'い' | 'ゐ' => "i",
        'ぅ' | 'う' => "ɯ",
        'ぇ' | 'え' | 'ゑ' => "e",
        'ぉ' | 'お' | 'を' => "o",
        'か' | 'ゕ' => "ka",
        'が' => "ɡa",
        'き' => "kʲi",
        'ぎ' => "ɡʲi",
        'く' => "kɯ",
        'ぐ' => "ɡɯ",
        'け' | 'ゖ' => "ke",
        'げ' => "ɡe",
        'こ' => "ko",
        'ご' => "ɡo",
        'さ' => "sa",
        'ざ' => "ʣa",
        'し' => "ɕi",
        'じ' | 'ぢ' => "ʥi",
        'す' => "sɨ",
        'ず' | 'づ' => "zɨ",
        'せ' => "se",
        'ぜ' => "ʣe",
        'そ' => "so",
        'ぞ' => "ʣo",
        'た' => "ta",
        'だ' => "da",
        'ち' => "ʨi",
        'つ' => "ʦɨ",
        'て' => "te",
        'で' => "de",
        'と' => "to",
        'ど' => "do",
        'な' => "na",
        'に' => "ɲi",
        'ぬ' => "nɯ",
        'ね' => "ne",
        'の' => "no",
        'は' => "ha",
        'ば' => "ba",
        'ぱ' => "pa",
        'ひ' => "çi",
        'び' => "bʲi",
        'ぴ' => "pʲi",
        'ふ' => "ɸɯ",
        'ぶ' => "bɯ",
        'ぷ' => "pɯ",
        'へ' => "he",
        'べ' => "be",
        'ぺ' => "pe",
        'ほ' => "ho",
        'ぼ' => "bo",
        'ぽ' => "po",
        'ま' => "ma",
        'み' => "mʲi",
        'む' => "mɯ",
        'め' => "me",
        'も' => "mo",
        'ゃ' | 'や' => "ja",
        'ゅ' | 'ゆ' => "jɯ",
        'ょ' | 'よ' => "jo",
        'ら' => "ɾa",
        'り' => "ɾʲi",
        'る' => "ɾɯ",
        'れ' => "ɾe",
        'ろ' => "ɾo",
        'ゎ' | 'わ' => "βa",
        'ゔ' => "vɯ",
        // katakana without a hiragana form
        'ヷ' => "va",
        'ヸ' => "vʲi",
        'ヹ' => "ve",
        'ヺ' => "vo",
        // punctuation, through the same table
        '。' => ".",
        '、' | '，' => ",",
        '？' => "?",
        '！' => "!",
        '「' | '『' | '«' => "“",
        '」' | '』' | '»' => "”",
        '：' => ":",
        '；' => ";",
        '（' | '《' => "(",
        '）' | '》' => ")",
        '【' => "[",
        '】' => "]",
        '・' => " ",
        '～' | '〜' | '—' => "—",
        // a combining (han)dakuten left on its own
        '\u{3099}' | '\u{309A}' => "",
        _ => return None,
    })
}

/// Phonemes of two kana read as one sound (`きゃ`, `ふぁ`, `でぃ`).
pub(crate) fn pair(a: char, b: char) -> Option<&'static str> {
    Some(match (a, b) {
        ('い', 'ぇ') => "je",
        ('う', 'ぃ') => "βi",
        ('う', 'ぇ') => "βe",
        ('う', 'ぉ') => "βo",
        ('き', 'ぇ') => "kʲe",
        ('き', 'ゃ') => "kʲa",
        ('き', 'ゅ') => "kʲɨ",
        ('き', 'ょ') => "kʲo",
        ('ぎ', 'ゃ') => "ɡʲa",
        ('ぎ', 'ゅ') => "ɡʲɨ",
        ('ぎ', 'ょ') => "ɡʲo",
        ('く', 'ぁ') => "kᵝa",
        ('く', 'ぃ') => "kᵝi",
        ('く', 'ぇ') => "kᵝe",
        ('く', 'ぉ') => "kᵝo",
        ('ぐ', 'ぁ') => "ɡᵝa",
        ('ぐ', 'ぃ') => "ɡᵝi",
        ('ぐ', 'ぇ') => "ɡᵝe",
        ('ぐ', 'ぉ') => "ɡᵝo",
        ('し', 'ぇ') => "ɕe",
        ('し', 'ゃ') => "ɕa",
        ('し', 'ゅ') => "ɕɨ",
        ('し', 'ょ') => "ɕo",
        ('じ', 'ぇ') => "ʥe",
        ('じ' | 'ぢ', 'ゃ') => "ʥa",
        ('じ' | 'ぢ', 'ゅ') => "ʥɨ",
        ('じ' | 'ぢ', 'ょ') => "ʥo",
        ('ち', 'ぇ') => "ʨe",
        ('ち', 'ゃ') => "ʨa",
        ('ち', 'ゅ') => "ʨɨ",
        ('ち', 'ょ') => "ʨo",
        ('つ', 'ぁ') => "ʦa",
        ('つ', 'ぃ') => "ʦʲi",
        ('つ', 'ぇ') => "ʦe",
        ('つ', 'ぉ') => "ʦo",
        ('て', 'ぃ') => "tʲi",
        ('て', 'ゅ') => "tʲɨ",
        ('で', 'ぃ') => "dʲi",
        ('で', 'ゅ') => "dʲɨ",
        ('と', 'ぅ') => "tɯ",
        ('ど', 'ぅ') => "dɯ",
        ('に', 'ぇ') => "ɲe",
        ('に', 'ゃ') => "ɲa",
        ('に', 'ゅ') => "ɲɨ",
        ('に', 'ょ') => "ɲo",
        ('ひ', 'ぇ') => "çe",
        ('ひ', 'ゃ') => "ça",
        ('ひ', 'ゅ') => "çɨ",
        ('ひ', 'ょ') => "ço",
        ('び', 'ゃ') => "bʲa",
        ('び' | 'ゔ', 'ゅ') => "bʲɨ",
        ('び' | 'ゔ', 'ょ') => "bʲo",
        ('ぴ', 'ゃ') => "pʲa",
        ('ぴ', 'ゅ') => "pʲɨ",
        ('ぴ', 'ょ') => "pʲo",
        ('ふ', 'ぁ') => "ɸa",
        ('ふ', 'ぃ') => "ɸʲi",
        ('ふ', 'ぇ') => "ɸe",
        ('ふ', 'ぉ') => "ɸo",
        ('ふ', 'ゅ') => "ɸʲɨ",
        ('ふ', 'ょ') => "ɸʲo",
        ('み', 'ゃ') => "mʲa",
        ('み', 'ゅ') => "mʲɨ",
        ('み', 'ょ') => "mʲo",
        ('り', 'ゃ') => "ɾʲa",
        ('り', 'ゅ') => "ɾʲɨ",
        ('り', 'ょ') => "ɾʲo",
        ('ゔ', 'ぁ') => "va",
        ('ゔ', 'ぃ') => "vʲi",
        ('ゔ', 'ぇ') => "ve",
        ('ゔ', 'ぉ') => "vo",
        _ => return None,
    })
}

/// Every entry of the table: `(kana, phonemes)` (one or two characters), for checking it.
pub(crate) fn table() -> impl Iterator<Item = (String, &'static str)> {
    let singles = ('\u{3000}'..='\u{30FF}')
        .chain([
            '，', '～', '—', '«', '»', '（', '）', '：', '；', '？', '！',
        ])
        .filter_map(|c| single(c).map(|p| (c.to_string(), p)));
    let smalls = ['ぁ', 'ぃ', 'ぅ', 'ぇ', 'ぉ', 'ゃ', 'ゅ', 'ょ'];
    let pairs = ('\u{3041}'..='\u{3096}').flat_map(move |a| {
        smalls
            .into_iter()
            .filter_map(move |b| pair(a, b).map(|p| (format!("{a}{b}"), p)))
    });
    singles.chain(pairs)
}

/// Small kana that join the kana before them.
fn is_small(c: char) -> bool {
    matches!(c, 'ゃ' | 'ゅ' | 'ょ' | 'ぁ' | 'ぃ' | 'ぅ' | 'ぇ' | 'ぉ')
}

/// The voiced form of a kana (`か` → `が`), for the repeat mark `ゞ`.
fn voiced(c: char) -> Option<char> {
    const PLAIN: &str = "かきくけこさしすせそたちつてとはひふへほ";
    const VOICED: &str = "がぎぐげござじずぜぞだぢづでどばびぶべぼ";
    let i = PLAIN.chars().position(|p| p == c)?;
    VOICED.chars().nth(i)
}

/// Katakana → hiragana as jaconv's `kata2hira` does it (`ァ`–`ヶ`, `ヽ`, `ヾ`).
pub(crate) fn to_hiragana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            'ヽ' => 'ゝ',
            'ヾ' => 'ゞ',
            _ => c,
        })
        .collect()
}

/// ん before `next`: m before m p b, ŋ before k ɡ, ɲ before ɲ ʨ ʥ, n before n t d ɾ z,
/// otherwise the uvular ɴ.
fn moraic_n(next: Option<char>) -> &'static str {
    let Some(p) = next.and_then(single).filter(|p| !p.is_empty()) else {
        return "ɴ";
    };
    let first = p.chars().next().expect("not empty");
    match first {
        'm' | 'p' | 'b' => "m",
        'k' | 'ɡ' => "ŋ",
        'ɲ' | 'ʨ' | 'ʥ' => "ɲ",
        'n' | 't' | 'd' | 'ɾ' | 'z' => "n",
        _ => "ɴ",
    }
}

/// Appends the phonemes of kana `c` between `prev` and `next` (misaki's
/// `_get_single_mapping`; a repeat mark `ゝ` writes the previous kana itself, as misaki does).
fn push_kana(out: &mut String, prev: Option<char>, c: char, next: Option<char>) {
    match c {
        'ゝ' | 'ヽ' => {
            out.extend(prev);
            return;
        }
        'ゞ' => {
            out.push_str(prev.and_then(voiced).and_then(single).unwrap_or(""));
            return;
        }
        '〃' | '々' => return,
        _ => {}
    }
    if let Some(p) = prev.and_then(|p| pair(p, c)) {
        out.push_str(p);
        return;
    }
    if next.is_some_and(|n| pair(c, n).is_some()) {
        return;
    }
    if let Some(n) = next.filter(|&n| is_small(n)) {
        if c == 'っ' {
            return;
        }
        let own = single(c).unwrap_or("");
        let mut chars = own.chars();
        chars.next_back();
        out.push_str(chars.as_str());
        out.push_str(single(n).unwrap_or(""));
        return;
    }
    if is_small(c) {
        return;
    }
    match c {
        'ー' => out.push('ː'),
        'っ' => out.push('ʔ'),
        'ん' => out.push_str(moraic_n(next)),
        _ => out.push_str(single(c).unwrap_or("")),
    }
}

/// Phonemes of a reading in hiragana.
pub(crate) fn read(hira: &str, out: &mut String) {
    let chars: Vec<char> = hira.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        push_kana(out, prev, c, chars.get(i + 1).copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(hira: &str) -> String {
        let mut s = String::new();
        read(hira, &mut s);
        s
    }

    #[test]
    fn kana_rules() {
        assert_eq!(ph("きゃべつ"), "kʲabeʦɨ");
        assert_eq!(ph("がっこう"), "ɡaʔkoɯ");
        assert_eq!(ph("さんぽ"), "sampo");
        assert_eq!(ph("げんき"), "ɡeŋkʲi");
        assert_eq!(ph("こんにちは"), "koɲɲiʨiha");
        assert_eq!(ph("ほん"), "hoɴ");
        assert_eq!(ph("らーめん"), "ɾaːmeɴ");
        // a small kana after a kana without a pair takes its vowel
        assert_eq!(ph("しぃ"), "ɕi");
        assert_eq!(ph("すゞ"), "sɨzɨ");
        assert_eq!(to_hiragana("カタカナヴヵヽヾヷ"), "かたかなゔゕゝゞヷ");
    }
}
