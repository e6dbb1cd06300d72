//! The Mandarin front end ([`hark_text::zh`]): agreement with misaki 0.9.4's legacy zh path on the
//! reference lines (`tests/reference/g2p-zh.jsonl`), its pinyin→IPA table, hark's deliberate
//! corrections (each named below), source ranges and bad input.
//!
//! Latin words are read by the American English G2P, which needs the misaki lexicons
//! (`HARK_LEXICON_DIR`); without them those tests are skipped with a message, unless
//! `HARK_REQUIRE_ASSETS=1` makes that a failure.
//!
//! Run: `cargo test -p hark-text --release --test zh -- --nocapture`

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{lexicon, matched_words};
use hark_text::zh::ZhG2p;
use hark_text::{G2p, Lang, Phonemized};

fn reference(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference")
        .join(file)
}

/// hark's reader, with American English for Latin words (`None`: no lexicons, skip).
fn hark() -> Option<&'static ZhG2p> {
    static ZH: OnceLock<Option<ZhG2p>> = OnceLock::new();
    ZH.get_or_init(|| {
        let en = G2p::new(lexicon(Lang::EnUs)?);
        Some(ZhG2p::new().with_english(en))
    })
    .as_ref()
}

/// misaki's reading, without hark's corrections.
fn misaki() -> &'static ZhG2p {
    static ZH: OnceLock<ZhG2p> = OnceLock::new();
    ZH.get_or_init(|| ZhG2p::new().misaki_exact())
}

/// hark's reading without an English reader (no lexicons needed).
fn plain() -> &'static ZhG2p {
    static ZH: OnceLock<ZhG2p> = OnceLock::new();
    ZH.get_or_init(ZhG2p::new)
}

/// The English G2P's reading of `word`, as hark puts it inside Chinese.
fn english(word: &str) -> Option<String> {
    Some(G2p::new(lexicon(Lang::EnUs)?).phonemize(word).phonemes())
}

/// A named case where hark reads differently from misaki on purpose: on the reference lines
/// `ids`, misaki's `misaki` is hark's `ours` (phoneme text, may span several words; `{Word}` in
/// it stands for the English G2P's reading of `Word`).
struct Deliberate {
    case: &'static str,
    misaki: &'static str,
    ours: &'static str,
    ids: &'static [u32],
}

/// Every deliberate difference that shows on the reference lines. Each kind also has its own
/// test below.
const DELIBERATE: &[Deliberate] = &[
    Deliberate {
        case: "a count of years is a number: 住了10年 is 十年, not 一零年",
        misaki: "i→li↗ŋnjɛ↗n",
        ours: "ʂɨ↗njɛ↗n",
        ids: &[237],
    },
    Deliberate {
        case: "a count of years is a number: 干了50年 is 五十年, not 五零年",
        misaki: "u↓li↗ŋ njɛ↗n",
        ours: "u↓ʂɨ↗njɛ↗n",
        ids: &[172],
    },
    Deliberate {
        case: "a count of years is a number: 干了33年 is 三十三年, not 三三年",
        misaki: "sa→n sa→nnjɛ↗n",
        ours: "sa→nʂɨ↗sa→nnjɛ↗n",
        ids: &[65],
    },
    Deliberate {
        case: "a lone 2 before a measure word is 两: 下午2点 两点",
        misaki: "ɚ↘tjɛ↓n",
        ours: "lja↓ŋtjɛ↓n",
        ids: &[2, 37],
    },
    Deliberate {
        case: "a lone 2 before a measure word is 两: 2个小时 两个小时",
        misaki: "ɚ↘kɤ↘",
        ours: "lja↓ŋkɤ↘",
        ids: &[123],
    },
    Deliberate {
        case: "clock time 2:30 is 两点三十, not 二:三十",
        misaki: "ɚ↘:sa→nʂɨ↗",
        ours: "lja↓ŋtjɛ↓n sa→nʂɨ↗",
        ids: &[11],
    },
    Deliberate {
        case: "clock time 9:00 is 九点, not 九:零",
        misaki: "ʨjou↓:li↗ŋtau↘",
        ours: "ʨjou↓tjɛ↓n tau↘",
        ids: &[30],
    },
    Deliberate {
        case: "clock time 8:30 is 八点三十",
        misaki: "pa→:sa→nʂɨ↗",
        ours: "pa→tjɛ↓n sa→nʂɨ↗",
        ids: &[30],
    },
    Deliberate {
        case: "clock time 16:40 is 十六点四十",
        misaki: "ʂɨ↗ljou↘:sɨ↘ʂɨ↗",
        ours: "ʂɨ↗ljou↘tjɛ↓n sɨ↘ʂɨ↗",
        ids: &[32],
    },
    Deliberate {
        case: "clock time 15:15 is 十五点十五",
        misaki: "ʂɨ↗u↓:ʂɨ↗u↓",
        ours: "ʂɨ↗u↓ tjɛ↓n ʂɨ↗u↓",
        ids: &[38],
    },
    Deliberate {
        case: "clock time 20:30 is 二十点三十",
        misaki: "ɚ↘ʂɨ↗:sa→nʂɨ↗",
        ours: "ɚ↘ʂɨ↗tjɛ↓n sa→nʂɨ↗",
        ids: &[46],
    },
    Deliberate {
        case: "clock time 20:45 is 二十点四十五",
        misaki: "ɚ↘ʂɨ↗:sɨ↘ʂɨ↗u↓",
        ours: "ɚ↘ʂɨ↗tjɛ↓n sɨ↘ʂɨ↗u↓",
        ids: &[151],
    },
    Deliberate {
        case: "clock time 20:10 is 二十点十",
        misaki: "ɚ↘ʂɨ↗:ʂɨ↗tau↘",
        ours: "ɚ↘ʂɨ↗tjɛ↓n ʂɨ↗tau↘",
        ids: &[180],
    },
    Deliberate {
        case: "clock time 22:30 is 二十二点三十",
        misaki: "ɚ↘ʂɨ↗ɚ↘:sa→nʂɨ↗",
        ours: "ɚ↘ʂɨ↗ɚ↘tjɛ↓n sa→nʂɨ↗",
        ids: &[228],
    },
    Deliberate {
        case: "clock time 11:30 is 十一点三十",
        misaki: "ʂɨ↗i→:sa→nʂɨ↗",
        ours: "ʂɨ↗i↘tjɛ↓n sa→nʂɨ↗",
        ids: &[236],
    },
    Deliberate {
        case: "¥5556 is 五千五百五十六元 (misaki keeps the ¥)",
        misaki: "ʂɨ↘¥u↓ʨʰjɛ→n u↓pai↓ u↓ʂɨ↗ljou↘,",
        ours: "ʂɨ↘ u↓ʨʰjɛ→n u↓pai↓ u↓ʂɨ↗ljou↘ ɥɛ↗n,",
        ids: &[24],
    },
    Deliberate {
        case: "¥1452 is 一千四百五十二元",
        misaki: "lɤ¥i→ʨʰjɛ→nsɨ↘pai↓ u↓ʂɨ↗ɚ↘.",
        ours: "lɤ i→ʨʰjɛ→n sɨ↘pai↓u↓ʂɨ↗ ɚ↘ɥɛ↗n.",
        ids: &[72],
    },
    Deliberate {
        case: "¥4910 is 四千九百一十元",
        misaki: "lɤ¥sɨ↘ʨʰjɛ→n ʨjou↓pai↓ i→ʂɨ↗.",
        ours: "lɤ sɨ↘ʨʰjɛ→n ʨjou↓pai↓ i→ ʂɨ↗ɥɛ↗n.",
        ids: &[128],
    },
    Deliberate {
        case: "¥5463 is 五千四百六十三元",
        misaki: "lɤ¥u↓ʨʰjɛ→n sɨ↘pai↓ ljou↘ʂɨ↗sa→n mai↓",
        ours: "lɤ u↓ʨʰjɛ→n sɨ↘pai↓ ljou↘ʂɨ↗sa→n ɥɛ↗n mai↓",
        ids: &[199],
    },
    Deliberate {
        case: "phone number 15652814280 digit by digit, 1 as 幺",
        misaki: "i↘pai↓u↓ʂɨ↗ ljou↘i↘ u↓ʨʰjɛ→n ɚ↘pai↓pa→ʂɨ↗ i→wa↘nsɨ↘ʨʰjɛ→n ɚ↘pai↓pa→ʂɨ↗.",
        ours: "jau→ u↓ljou↘ u↓ ɚ↘pa→ jau→ sɨ↘ ɚ↘pa→ li↗ŋ.",
        ids: &[22],
    },
    Deliberate {
        case: "phone number 17310090618 digit by digit, 1 as 幺",
        misaki: "i↘pai↓ʨʰi→ʂɨ↗sa→n i↘ i→ʨʰjɛ→n li↗ŋ ʨjou↓wa↘n li↗ŋ ljou↘pai↓ i→ʂɨ↗pa→.",
        ours: "jau→ ʨʰi→ sa→n jau→ li↗ŋli↗ŋ ʨjou↓li↗ŋ ljou↘ jau→ pa→.",
        ids: &[33],
    },
    Deliberate {
        case: "phone number 19051773472 digit by digit, 1 as 幺",
        misaki: "i↘pai↓ʨjou↓ʂɨ↗ i↘ u↓ʨʰjɛ→n i↘pai↓ʨʰi→ʂɨ↗ ʨʰi→wa↘n sa→nʨʰjɛ→n sɨ↘pai↓ ʨʰi→ʂɨ↗ɚ↘.",
        ours: "jau→ ʨjou↓li↗ŋ u↓ jau→ ʨʰi→ʨʰi→ sa→nsɨ↘ ʨʰi→ɚ↘.",
        ids: &[179],
    },
    Deliberate {
        case: "phone number 13912345678 digit by digit, 1 as 幺",
        misaki:
            "i↘pai↓sa→nʂɨ↗ ʨjou↓i↘ i→ʨʰjɛ→nɚ↘pai↓ sa→nʂɨ↗sɨ↘wa↘n u↓ʨʰjɛ→n ljou↘pai↓ ʨʰi→ʂɨ↗pa→,",
        ours: "jau→ sa→nʨjou↓ jau→ ɚ↘ sa→nsɨ↘ u↓ljou↘ ʨʰi→pa→,",
        ids: &[217],
    },
    Deliberate {
        case: "Latin word read in English: Kindle",
        misaki: "jʊ↘ŋKindlekʰa↘nʂu→",
        ours: "jʊ↘ŋ {Kindle} kʰa↘nʂu→",
        ids: &[12],
    },
    Deliberate {
        case: "Latin letter read in English: m座",
        misaki: "lu↘mʦwo↘",
        ours: "lu↘ {m} ʦwo↘",
        ids: &[16],
    },
    Deliberate {
        case: "Latin letter read in English: Q座",
        misaki: "lu↘Qʦwo↘",
        ours: "lu↘ {Q} ʦwo↘",
        ids: &[44],
    },
    Deliberate {
        case: "Latin letters read in English: CA1501",
        misaki: "tɤCAi→ʨʰjɛ→nu↓pai↓",
        ours: "tɤ {CA} i→ʨʰjɛ→nu↓pai↓",
        ids: &[45],
    },
    Deliberate {
        case: "Latin letters read in English: CBA",
        misaki: "sa→nꭧʰa↓ŋCBApi↓sai↘",
        ours: "sa→nꭧʰa↓ŋ {CBA} pi↓sai↘",
        ids: &[53],
    },
    Deliberate {
        case: "Latin letter read in English: B座",
        misaki: "tʊ↓ŋʨje→Bʦwo↘",
        ours: "tʊ↓ŋʨje→ {B} ʦwo↘",
        ids: &[80],
    },
    Deliberate {
        case: "Latin letters read in English: 16GB",
        misaki: "ʂɨ↗ljou↘GB.",
        ours: "ʂɨ↗ljou↘ {GB}.",
        ids: &[127],
    },
    Deliberate {
        case: "Latin letter read in English: f座",
        misaki: "ʨje→fʦwo↘",
        ours: "ʨje→ {f} ʦwo↘",
        ids: &[137],
    },
    Deliberate {
        case: "Latin letter read in English: g座",
        misaki: "lu↘gʦwo↘",
        ours: "lu↘ {g} ʦwo↘",
        ids: &[146],
    },
    Deliberate {
        case: "Latin word read in English: WiFi",
        misaki: "tɤWiFimi↘ma↓",
        ours: "tɤ {WiFi} mi↘ma↓",
        ids: &[155],
    },
    Deliberate {
        case: "Latin word read in English: Zoom",
        misaki: "i↗kɤ↘Zoomxwei↘i↘",
        ours: "i↗kɤ↘ {Zoom} xwei↘i↘",
        ids: &[165],
    },
    Deliberate {
        case: "Latin letters read in English: 5000mAh",
        misaki: "u↓ʨʰjɛ→nmAh,",
        ours: "u↓ʨʰjɛ→n {mAh},",
        ids: &[182],
    },
];

/// `ours` with each `{Word}` replaced by the English G2P's reading of `Word`.
fn expand(ours: &str) -> String {
    let mut out = String::new();
    let mut rest = ours;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("closing brace");
        out.push_str(&rest[..open]);
        out.push_str(&english(&rest[open + 1..close]).expect("lexicons"));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

struct Score {
    lines: usize,
    exact: usize,
    words: usize,
    matched: usize,
    misses: Vec<(u32, String, String)>,
}

/// Scores `zh` on the reference lines; `named` applies [`DELIBERATE`] (checking that each still
/// holds), else the reference is taken as it is.
fn score(zh: &ZhG2p, named: bool) -> Score {
    let path = reference("g2p-zh.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut s = Score {
        lines: 0,
        exact: 0,
        words: 0,
        matched: 0,
        misses: Vec::new(),
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
        let id = v["id"].as_u64().expect("id") as u32;
        let mut want = v["phonemes"].as_str().expect("phonemes").to_string();
        let got = zh.phonemize(v["text"].as_str().expect("text")).phonemes();
        if named {
            for d in DELIBERATE.iter().filter(|d| d.ids.contains(&id)) {
                assert!(
                    want.contains(d.misaki),
                    "{id}: misaki's reference has no {:?} ({})",
                    d.misaki,
                    d.case
                );
                let ours = expand(d.ours);
                assert!(
                    got.contains(&ours),
                    "{id}: deliberate difference no longer holds: expected {ours:?} ({}) in {got:?}",
                    d.case
                );
                want = want.replacen(d.misaki, &ours, 1);
            }
        }
        let r: Vec<&str> = want.split_whitespace().collect();
        let h: Vec<&str> = got.split_whitespace().collect();
        s.lines += 1;
        s.words += r.len();
        s.matched += matched_words(&r, &h);
        s.exact += usize::from(r == h);
        if r != h {
            s.misses.push((id, want.clone(), got));
        }
    }
    s
}

fn report(label: &str, s: &Score) -> f64 {
    let word = s.matched as f64 / s.words as f64;
    println!(
        "[zh {label}] exact {}/{} = {:.1} %, word-level {}/{} = {:.2} %",
        s.exact,
        s.lines,
        100.0 * s.exact as f64 / s.lines as f64,
        s.matched,
        s.words,
        100.0 * word
    );
    for (id, want, got) in s.misses.iter().take(40) {
        eprintln!("  {id}\n    ref  {want}\n    ours {got}");
    }
    word
}

#[test]
fn golden_zh_misaki_exact() {
    // Without hark's corrections the port reads as misaki reads: what differs is jieba-rs's
    // segmentation where it departs from Python jieba's.
    let s = score(misaki(), false);
    let word = report("misaki-exact", &s);
    assert_eq!(s.lines, 240);
    assert!(word >= 0.995, "word-level agreement {word:.4} below 0.995");
}

#[test]
fn golden_zh() {
    let Some(zh) = hark() else {
        return;
    };
    let s = score(zh, true);
    let word = report("hark, named differences applied", &s);
    assert_eq!(s.lines, 240);
    assert!(word >= 0.97, "word-level agreement {word:.4} below 0.97");
    let raw = score(zh, false);
    report("hark, raw against misaki", &raw);
}

#[test]
fn pinyin_table_matches_misakis_for_every_reading() {
    let path = reference("zh-readings.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let want: std::collections::HashMap<&str, &str> =
        text.lines().filter_map(|l| l.split_once('\t')).collect();
    let mut n = 0;
    for (reading, ipa) in plain().readings() {
        assert_eq!(want.get(reading), Some(&ipa), "{reading}");
        n += 1;
    }
    assert_eq!(n, want.len(), "every reading of the data is in the table");
}

fn ph(zh: &ZhG2p, text: &str) -> String {
    zh.phonemize(text).phonemes()
}

#[test]
fn latin_words_go_to_the_english_reader() {
    let Some(zh) = hark() else {
        return;
    };
    let kindle = english("Kindle").expect("lexicons");
    let got = ph(zh, "我喜欢用Kindle看书");
    assert!(got.contains(&format!(" {kindle} ")), "{got}");
    assert!(!got.contains("Kindle"), "{got}");
    // misaki copies the letters, which the model cannot say
    assert!(ph(misaki(), "我喜欢用Kindle看书").contains("Kindle"));
    // a phrase is read as one English text, its words keeping their own ranges
    let p = zh.phonemize("我们去New York吧");
    let york = p
        .tokens
        .iter()
        .find(|t| t.text == "York")
        .expect("York token");
    assert_eq!(&"我们去New York吧"[york.src.clone()], "York");
}

#[test]
fn currency_sign_is_read_as_its_unit() {
    assert_eq!(ph(plain(), "花了¥1452。"), ph(plain(), "花了1452元。"));
    assert_eq!(ph(plain(), "花了￥5。"), ph(plain(), "花了5元。"));
    assert_eq!(ph(plain(), "花了$3。"), ph(plain(), "花了3美元。"));
    assert!(ph(misaki(), "花了¥1452。").contains('¥'));
}

#[test]
fn a_count_of_years_is_a_number_and_a_year_is_read_digit_by_digit() {
    assert_eq!(ph(plain(), "住了10年。"), ph(plain(), "住了十年。"));
    assert_eq!(ph(plain(), "干了33年。"), ph(plain(), "干了三十三年。"));
    // four digits, or a year with a month: digit by digit, as misaki and a Chinese reader do
    assert_eq!(ph(plain(), "2007年。"), ph(misaki(), "2007年。"));
    assert_eq!(ph(plain(), "2007年。"), ph(plain(), "二零零七年。"));
    assert_eq!(ph(plain(), "98年5月。"), ph(plain(), "九八年五月。"));
    assert_eq!(ph(misaki(), "住了10年。"), ph(misaki(), "住了一零年。"));
}

#[test]
fn clock_times_are_read_as_times() {
    assert_eq!(ph(plain(), "9:00到"), ph(plain(), "九点到"));
    assert_eq!(ph(plain(), "16:05关门"), ph(plain(), "十六点零五关门"));
    assert_eq!(ph(plain(), "下午2:30见"), ph(plain(), "下午两点三十见"));
    // misaki keeps the colon and drops the zero: 九:零, 九:五
    assert_eq!(ph(misaki(), "9:05"), ph(misaki(), "九:五"));
    // not a time: a score, or a longer number
    assert_eq!(ph(plain(), "3:1"), ph(misaki(), "3:1"));
}

#[test]
fn a_lone_two_before_a_measure_word_is_liang() {
    assert_eq!(ph(plain(), "2个小时"), ph(plain(), "两个小时"));
    assert_eq!(ph(plain(), "下午2点"), ph(plain(), "下午两点"));
    // not before other words, nor in longer numbers
    assert_eq!(ph(plain(), "2月"), ph(plain(), "二月"));
    assert_eq!(ph(plain(), "12个"), ph(plain(), "十二个"));
    assert_eq!(ph(plain(), "第2个"), ph(plain(), "第二个"));
    assert_eq!(ph(misaki(), "2个小时"), ph(misaki(), "二个小时"));
}

#[test]
fn long_digit_strings_are_read_digit_by_digit() {
    assert_eq!(
        ph(plain(), "电话13912345678"),
        ph(plain(), "电话幺三九幺二三四五六七八")
    );
    // a cardinal below eleven digits stays a cardinal
    assert_eq!(ph(plain(), "1500万"), ph(misaki(), "1500万"));
    assert_eq!(
        ph(misaki(), "13912345678"),
        ph(misaki(), "一百三十九亿一千二百三十四万五千六百七十八")
    );
}

#[test]
fn thousands_separators_make_one_number() {
    assert_eq!(ph(plain(), "1,234元"), ph(plain(), "一千二百三十四元"));
    assert_eq!(ph(misaki(), "1,234元"), ph(misaki(), "一,二百三十四元"));
}

#[test]
fn a_slash_between_units_is_mei_and_is_dropped_elsewhere() {
    assert_eq!(ph(plain(), "5元/斤"), ph(plain(), "5元每斤"));
    assert_eq!(ph(plain(), "男/女"), ph(plain(), "男女"));
    assert!(ph(misaki(), "男/女").contains('/'));
    // a fraction is still a fraction
    assert_eq!(ph(plain(), "3/4"), ph(plain(), "四分之三"));
}

/// Checks that token ranges are in order, on char boundaries, inside `text`, and that the
/// phoneme string is the tokens'.
fn check_ranges(text: &str, p: &Phonemized) {
    let mut end = 0;
    for t in &p.tokens {
        assert!(t.src.start >= end && t.src.end >= t.src.start, "{t:?}");
        assert!(t.src.end <= text.len(), "{t:?}");
        assert!(text.is_char_boundary(t.src.start) && text.is_char_boundary(t.src.end));
        end = t.src.end;
    }
}

#[test]
fn words_carry_their_source_ranges() {
    let text = "孙兵从2007年起就住在莉县，现在是一名市场助理。";
    let p = plain().phonemize(text);
    check_ranges(text, &p);
    let words: Vec<&str> = p.tokens.iter().map(|t| &text[t.src.clone()]).collect();
    assert!(words.contains(&"市场"), "{words:?}");
    assert!(words.contains(&"，"), "{words:?}");
    // the number's digits go to the first word read from them; the last token is the 。
    assert!(words.iter().any(|w| w.starts_with("2007")), "{words:?}");
    assert_eq!(*words.last().unwrap(), "。");
    // every byte of Chinese text is covered
    let covered: usize = p.tokens.iter().map(|t| t.src.len()).sum();
    assert_eq!(covered, text.len());
}

#[test]
fn bad_input_never_panics() {
    for text in [
        "",
        "   ",
        "\n\t",
        "🎉🎉",
        "a\u{301}\u{32f}",
        "𠀀𠀁",
        "\u{9FFF}\u{4E00}",
        "١٢٣ ١٢٣年",
        "99999999999999999999999999年",
        "--5--",
        "1.2.3.4/5/6%%",
        "：：，，。。",
        "¥",
        "12:",
        ":30",
    ] {
        let p = plain().phonemize(text);
        check_ranges(text, &p);
        let p = misaki().phonemize(text);
        check_ranges(text, &p);
    }
    // long digit strings that the number patterns almost match must not make them quadratic
    for text in [
        format!("{}-1", "1".repeat(100_000)),
        format!("1234{}", ",567".repeat(30_000)),
        format!("{}:", "12:3".repeat(30_000)),
    ] {
        check_ranges(&text, &plain().phonemize(&text));
        check_ranges(&text, &misaki().phonemize(&text));
    }
    let huge = "今天股市开盘上涨了1.2%。".repeat(10_000);
    let p = plain().phonemize(&huge);
    check_ranges(&huge, &p);
    assert_eq!(p.tokens.len(), 10_000 * 8);
}
