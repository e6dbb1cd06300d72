//! Abbreviations read in context (`hark_text::ABBREVIATIONS`), through the public API with the
//! real misaki lexicons: an example for every entry in every context it has, source ranges
//! of expanded and unexpanded abbreviations, and sentence ends for chunking.
//!
//! Needs `HARK_LEXICON_DIR` (default `~/.cache/hark/assets/lexicons`); skipped when absent unless
//! `HARK_REQUIRE_ASSETS=1`. espeak-ng is off so results do not depend on it.

mod common;

use std::sync::OnceLock;

use hark_text::{chunk, ChunkOptions, Context, G2p, Lang, Reading, Token, ABBREVIATIONS};

fn g2p(lang: Lang) -> Option<&'static G2p> {
    static US: OnceLock<Option<G2p>> = OnceLock::new();
    static GB: OnceLock<Option<G2p>> = OnceLock::new();
    let cell = if lang == Lang::EnUs { &US } else { &GB };
    cell.get_or_init(|| common::lexicon(lang).map(|l| G2p::new(l).with_espeak(false)))
        .as_ref()
}

/// What an example must read as.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This word, as the lexicon reads it on its own.
    Word(&'static str),
    /// The word it spells, then a `.` token.
    Plain,
    /// misaki's reading (en-us phonemes), untouched.
    Misaki(&'static str),
}
use Expect::{Misaki, Plain, Word};

/// (entry, context: `None` for the entry's `otherwise`, sentence with `@` before the
/// abbreviation, expected reading).
type Example = (&'static str, Option<Context>, &'static str, Expect);

use Context::{AfterName, AfterNumber, Always, BeforeName, BeforeNumber, Date};

const EXAMPLES: &[Example] = &[
    (
        "No.",
        Some(BeforeNumber),
        "It was @No. 5 on the list.",
        Word("number"),
    ),
    ("No.", None, "@No. Never. Not again!", Plain),
    (
        "Nos.",
        Some(BeforeNumber),
        "See @Nos. 3 and 4.",
        Word("numbers"),
    ),
    ("Nos.", None, "He said @Nos. Then he left.", Plain),
    (
        "St.",
        Some(BeforeName),
        "Near @St. John's church.",
        Word("Saint"),
    ),
    (
        "St.",
        Some(AfterName),
        "On Baker @St. in town.",
        Word("Street"),
    ),
    ("St.", None, "The @St. is closed today.", Word("Street")),
    (
        "Dr.",
        Some(BeforeName),
        "Ask @Dr. Smith today.",
        Word("Doctor"),
    ),
    (
        "Dr.",
        Some(AfterName),
        "On Mulholland @Dr. in LA.",
        Word("Drive"),
    ),
    ("Dr.", None, "Call the @Dr. now.", Word("Doctor")),
    (
        "Mt.",
        Some(Always),
        "They climbed @Mt. Fuji twice.",
        Word("Mount"),
    ),
    (
        "Ave.",
        Some(Always),
        "Walk down 5th @Ave. today.",
        Word("Avenue"),
    ),
    (
        "Rd.",
        Some(Always),
        "Cross Abbey @Rd. slowly.",
        Word("Road"),
    ),
    (
        "Blvd.",
        Some(Always),
        "Drive down Sunset @Blvd. tonight.",
        Word("Boulevard"),
    ),
    (
        "Jan.",
        Some(Date),
        "We met on @Jan. 9, 2002 there.",
        Word("January"),
    ),
    ("Jan.", None, "I met @Jan. She smiled.", Plain),
    (
        "Feb.",
        Some(Date),
        "It was @Feb. 2, 1990 then.",
        Word("February"),
    ),
    ("Feb.", None, "Call him @Feb. He knows.", Plain),
    ("Mar.", Some(Date), "It's @Mar. 5 today.", Word("March")),
    ("Mar.", None, "They would @mar. the walls.", Plain),
    (
        "Apr.",
        Some(Date),
        "We met on @Apr. 11, 2012 there.",
        Word("April"),
    ),
    ("Apr.", None, "The file is @Apr. The next one too.", Plain),
    ("Jun.", Some(Date), "Due @Jun. 30 at noon.", Word("June")),
    ("Jun.", None, "Say hello to @Jun. He waits.", Plain),
    (
        "Jul.",
        Some(Date),
        "Born @Jul. 4, 1976 in town.",
        Word("July"),
    ),
    ("Jul.", None, "They met @Jul. She left.", Plain),
    ("Aug.", Some(Date), "On @Aug. 6 we met.", Word("August")),
    ("Aug.", None, "His name was @Aug. He came.", Plain),
    (
        "Sep.",
        Some(Date),
        "Since @Sep. 2001 it changed.",
        Word("September"),
    ),
    ("Sep.", None, "The tag said @Sep. Then nothing.", Plain),
    (
        "Sept.",
        Some(Date),
        "It opened in @Sept. The crowd came.",
        Word("September"),
    ),
    ("Sept.", None, "Each @Sept. The clan gathers.", Plain),
    (
        "Oct.",
        Some(Date),
        "On @Oct. 7, 1975 we met.",
        Word("October"),
    ),
    ("Oct.", None, "The band was @Oct. They played.", Plain),
    (
        "Nov.",
        Some(Date),
        "By @Nov. 3 it was done.",
        Word("November"),
    ),
    ("Nov.", None, "His code name was @Nov. He left.", Plain),
    (
        "Dec.",
        Some(Date),
        "On the 5th of @Dec. we left.",
        Word("December"),
    ),
    ("Dec.", None, "Shuffle the @Dec. Then deal.", Plain),
    (
        "in.",
        Some(AfterNumber),
        "It is 5 @in. long.",
        Word("inches"),
    ),
    ("in.", None, "Come @in. Then sit.", Plain),
    ("ft.", Some(AfterNumber), "A 1 @ft. ruler.", Word("foot")),
    (
        "ft.",
        Some(BeforeName),
        "Near @Ft. Worth we stopped.",
        Word("Fort"),
    ),
    ("ft.", None, "The label said @ft. Then nothing.", Plain),
    ("lb.", Some(AfterNumber), "A 3 @lb. bag.", Word("pounds")),
    ("lb.", None, "The label said @lb. Then nothing.", Plain),
    (
        "lbs.",
        Some(AfterNumber),
        "It weighs 2 @lbs. today.",
        Word("pounds"),
    ),
    ("lbs.", None, "The label said @lbs. Then nothing.", Plain),
    (
        "oz.",
        Some(AfterNumber),
        "Add 4 @oz. of sugar.",
        Word("ounces"),
    ),
    ("oz.", None, "The label said @oz. Then nothing.", Plain),
    ("mi.", Some(AfterNumber), "It is 1 @mi. away.", Word("mile")),
    ("mi.", None, "Sing do re @mi. Then stop.", Plain),
    ("yd.", Some(AfterNumber), "Run 100 @yd. now.", Word("yards")),
    ("yd.", None, "The label said @yd. Then nothing.", Plain),
    (
        "yds.",
        Some(AfterNumber),
        "Run 40 @yds. now.",
        Word("yards"),
    ),
    ("yds.", None, "The label said @yds. Then nothing.", Plain),
    ("Mr.", None, "Help @Mr. Wizard!", Misaki("mˈɪstəɹ")),
    ("Mrs.", None, "Ask @Mrs. Smith.", Misaki("mˈɪsɪz")),
    ("Ms.", None, "Ask @Ms. Garcia.", Misaki("mˈɪz")),
    (
        "Prof.",
        Some(BeforeName),
        "Ask @Prof. Lee today.",
        Word("Professor"),
    ),
    ("Prof.", None, "The @Prof. said so.", Misaki("pɹˈɑf")),
    (
        "Gen.",
        Some(BeforeName),
        "Ask @Gen. Grant today.",
        Word("General"),
    ),
    ("Gen.", None, "Read @Gen. 1 today.", Misaki("ʤˈɛn")),
    (
        "Gov.",
        Some(BeforeName),
        "Ask @Gov. Brown today.",
        Word("Governor"),
    ),
    ("Gov.", None, "The @Gov. site is down.", Misaki("ɡˈɑv")),
    (
        "Sen.",
        Some(BeforeName),
        "Ask @Sen. Smith today.",
        Word("Senator"),
    ),
    ("Sen.", None, "The @Sen. said so.", Misaki("sˈɛn")),
    (
        "Rep.",
        Some(BeforeName),
        "Ask @Rep. Jones today.",
        Word("Representative"),
    ),
    ("Rep.", None, "Do one more @Rep. now.", Misaki("ɹˈɛp")),
    (
        "Rev.",
        Some(BeforeName),
        "Ask @Rev. King today.",
        Word("Reverend"),
    ),
    ("Rev.", None, "See @Rev. 3 of the draft.", Misaki("ɹˈɛv")),
    (
        "Pres.",
        Some(BeforeName),
        "Ask @Pres. Lincoln today.",
        Word("President"),
    ),
    ("Pres.", None, "The @Pres. said so.", Misaki("pɹˈiz")),
    (
        "Adm.",
        Some(BeforeName),
        "Ask @Adm. Nelson today.",
        Word("Admiral"),
    ),
    ("Adm.", None, "The @Adm. said so.", Misaki("ˈædəm")),
    (
        "Capt.",
        Some(BeforeName),
        "Ask @Capt. Kirk today.",
        Word("Captain"),
    ),
    ("Capt.", None, "The @Capt. said so.", Misaki("kˈæpt")),
    (
        "Lt.",
        Some(BeforeName),
        "Ask @Lt. Uhura today.",
        Word("Lieutenant"),
    ),
    ("Lt.", None, "The @Lt. said so.", Misaki("ˌɛltˈi")),
    (
        "Sgt.",
        Some(BeforeName),
        "Ask @Sgt. Pepper today.",
        Word("Sergeant"),
    ),
    ("Sgt.", None, "The @Sgt. said so.", Misaki("ˌɛsʤˌitˈi")),
    (
        "Col.",
        Some(BeforeName),
        "Ask @Col. Mustard today.",
        Word("Colonel"),
    ),
    ("Col.", None, "The @Col. said so.", Misaki("kˈɑl")),
    (
        "Jr.",
        Some(Always),
        "Martin Luther King, @Jr. spoke.",
        Word("Junior"),
    ),
    (
        "Sr.",
        Some(AfterName),
        "John Smith @Sr. spoke.",
        Word("Senior"),
    ),
    (
        "Sr.",
        Some(BeforeName),
        "Ask @Sr. Mary today.",
        Word("Sister"),
    ),
    ("Sr.", None, "John Smith, @Sr. spoke.", Word("Senior")),
    (
        "Esq.",
        None,
        "John Smith, @Esq. spoke.",
        Misaki("ˈɛskwˌIəɹ"),
    ),
    (
        "Inc.",
        Some(Always),
        "Acme @Inc. makes anvils.",
        Word("Incorporated"),
    ),
    (
        "Ltd.",
        Some(Always),
        "Acme @Ltd. makes anvils.",
        Word("Limited"),
    ),
    (
        "Corp.",
        Some(Always),
        "Acme @Corp. makes anvils.",
        Word("Corporation"),
    ),
    (
        "Bros.",
        Some(Always),
        "Warner @Bros. made it.",
        Word("Brothers"),
    ),
    (
        "Co.",
        Some(AfterName),
        "Acme @Co. makes anvils.",
        Word("Company"),
    ),
    (
        "Co.",
        Some(BeforeName),
        "They live in @Co. Durham now.",
        Word("County"),
    ),
    ("Co.", None, "Smith and @Co. made it.", Word("Company")),
    ("vs.", None, "Apples @vs. oranges.", Misaki("vˈɜɹsəs")),
    ("etc.", None, "Pears @etc. and plums.", Misaki("ɛtsˈɛTəɹə")),
    ("e.g.", None, "Fruit, @e.g. plums.", Misaki("ˌiʤˈi")),
    ("i.e.", None, "Fruit, @i.e. plums.", Misaki("ˌIˈi")),
];

/// The sentence without its marker, and the marker's byte offset.
fn unmark(s: &str) -> (String, usize) {
    let at = s.find('@').expect("example has a @ marker");
    (s.replacen('@', "", 1), at)
}

/// The tokens of `text`, and the index of the one starting at `at`.
fn token_at(g: &G2p, text: &str, at: usize) -> (Vec<Token>, usize) {
    let toks = g.phonemize(text).tokens;
    let k = toks
        .iter()
        .position(|t| t.src.start == at)
        .unwrap_or_else(|| panic!("no token starts at {at} in {text:?}: {toks:?}"));
    (toks, k)
}

/// The reading the table gives `entry` in `context`, as the example states it.
fn table_agrees(entry: &str, context: Option<Context>, expect: Expect) -> bool {
    let a = ABBREVIATIONS
        .iter()
        .find(|a| a.text == entry)
        .expect("entry");
    let read = match context {
        None => a.otherwise,
        Some(c) => a.rules.iter().find(|r| r.when == c).expect("rule").read,
    };
    match (read, expect) {
        (Reading::Word(w), Word(x)) => w == x,
        (Reading::Unit { one, many }, Word(x)) => x == one || x == many,
        (Reading::Plain, Plain) | (Reading::Misaki, Misaki(_)) => true,
        _ => false,
    }
}

#[test]
fn every_entry_has_an_example_for_each_context() {
    for a in ABBREVIATIONS {
        let mut contexts: Vec<Option<Context>> = a.rules.iter().map(|r| Some(r.when)).collect();
        if !contexts.contains(&Some(Context::Always)) {
            contexts.push(None);
        }
        for c in contexts {
            assert!(
                EXAMPLES.iter().any(|e| e.0 == a.text && e.1 == c),
                "{}: no example for {c:?}",
                a.text
            );
        }
    }
    for &(entry, context, s, expect) in EXAMPLES {
        assert!(
            table_agrees(entry, context, expect),
            "{s:?}: the table does not read {entry} as {expect:?} in {context:?}"
        );
    }
}

fn check_examples(lang: Lang) {
    let Some(g) = g2p(lang) else { return };
    let mut failures = Vec::new();
    for &(entry, context, s, expect) in EXAMPLES {
        let (text, at) = unmark(s);
        let (toks, k) = token_at(g, &text, at);
        let t = &toks[k];
        let written = &text[at..at + entry.len()];
        let next = toks.get(k + 1);
        let period_follows = next.is_some_and(|n| n.text == "." && n.phonemes == ".");
        let ok = match expect {
            Word(w) => {
                let want = g.phonemize(w).phonemes();
                t.phonemes == want
                    && (t.text == written
                        || (t.text == written[..written.len() - 1] && period_follows))
            }
            Plain => t.text == written[..written.len() - 1] && period_follows,
            Misaki(ps) => lang == Lang::EnGb || t.phonemes == ps,
        };
        if !ok {
            failures.push(format!(
                "{entry} {context:?} in {s:?}: expected {expect:?}, got {:?} then {:?}",
                t,
                next.map(|n| (&n.text, &n.phonemes))
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn examples_read_as_the_table_says_en_us() {
    check_examples(Lang::EnUs);
}

#[test]
fn examples_read_as_the_table_says_en_gb() {
    check_examples(Lang::EnGb);
}

#[test]
fn every_reading_is_a_lexicon_word() {
    // A reading missing from a lexicon would go to the letter-to-sound fallback.
    for lang in [Lang::EnUs, Lang::EnGb] {
        let Some(lex) = common::lexicon(lang) else {
            return;
        };
        for a in ABBREVIATIONS {
            let reads = a.rules.iter().map(|r| r.read).chain([a.otherwise]);
            for w in reads.flat_map(|r| match r {
                Reading::Word(w) => vec![w],
                Reading::Unit { one, many } => vec![one, many],
                _ => vec![],
            }) {
                assert!(
                    lex.contains(w),
                    "{lang}: {w} ({}) is not in the lexicon",
                    a.text
                );
            }
        }
    }
}

const ISSUE: &str = "No. Never. Not again! It was No. 5 on the list. No. I said no.";

#[test]
fn the_issue_sentence() {
    let Some(us) = g2p(Lang::EnUs) else { return };
    assert_eq!(
        us.phonemize(ISSUE).phonemes(),
        "nˈO. nˈɛvəɹ. nˌɑt əɡˈɛn! ˌɪt wʌz nˈʌmbəɹ fˈIv ˌɔn ðə lˈɪst. nˈO. ˌI sˈɛd nˈO."
    );
    let Some(gb) = g2p(Lang::EnGb) else { return };
    assert_eq!(
        gb.phonemize(ISSUE).phonemes(),
        "nˈQ. nˈɛvə. nˌɒt əɡˈɛn! ˌɪt wɒz nˈʌmbə fˈIv ˌɒn ðə lˈɪst. nˈQ. ˌI sˈɛd nˈQ."
    );
}

#[test]
fn source_ranges_of_expanded_and_plain_abbreviations() {
    let Some(g) = g2p(Lang::EnUs) else { return };
    // multi-byte text, leading space and a link before the abbreviations shift every offset
    let text = "  Ünïcode — [Kokoro](/kˈOkəɹO/) said No. Never. It was No. 5; see no. 12, \
                Chanel No.5 and St. John St. on Main St. The end.";
    let toks = g.phonemize(text).tokens;
    for t in &toks {
        assert_eq!(text[t.src.clone()].trim(), t.text.trim(), "{t:?}");
    }
    // (source text, token text, phonemes) in order for the abbreviations and their periods
    let find = |from: usize, needle: &str| text[from..].find(needle).map(|i| from + i).unwrap();
    let said = find(0, "said");
    let cases = [
        (find(said, "No."), "No", "nˈO"),
        (find(said, "No.") + 2, ".", "."),
        (find(said, "No. 5"), "No.", "nˈʌmbəɹ"),
        (find(said, "no. 12"), "no.", "nˈʌmbəɹ"),
        (find(said, "No.5"), "No.", "nˈʌmbəɹ"),
        (find(said, "No.5") + 3, "5", "fˈIv"),
        (find(said, "St. John"), "St.", "sˈAnt"),
        (find(said, "John St.") + 5, "St.", "stɹˈit"),
        (find(said, "Main St.") + 5, "St", "stɹˈit"),
        (find(said, "Main St.") + 7, ".", "."),
    ];
    for (at, want_text, want_ps) in cases {
        let t = toks
            .iter()
            .find(|t| t.src.start == at)
            .unwrap_or_else(|| panic!("no token at {at} ({:?})", &text[at..]));
        assert_eq!((t.text.as_str(), t.phonemes.as_str()), (want_text, want_ps));
        assert_eq!(&text[t.src.clone()], want_text);
    }
    // highlighting: chunk word spans of the expanded readings point at the abbreviations
    let chunks = chunk(text, g, &ChunkOptions::default());
    let spans: Vec<(&str, &str)> = chunks
        .iter()
        .flat_map(|c| {
            c.words
                .iter()
                .map(|w| (&text[w.src.clone()], &c.phonemes[w.phonemes.clone()]))
        })
        .filter(|(_, p)| ["nˈʌmbəɹ", "sˈAnt", "stɹˈit", "nˈO"].contains(p))
        .collect();
    assert_eq!(
        spans,
        [
            ("No", "nˈO"),
            ("No.", "nˈʌmbəɹ"),
            ("no.", "nˈʌmbəɹ"),
            ("No.", "nˈʌmbəɹ"),
            ("St.", "sˈAnt"),
            ("St.", "stɹˈit"),
            ("St", "stɹˈit"),
        ]
    );
}

#[test]
fn sentences_end_after_plain_abbreviations_only() {
    let Some(g) = g2p(Lang::EnUs) else { return };
    // Room for about one sentence per chunk: every cut must fall at a sentence end, and
    // "No. 5" must stay together.
    let opts = ChunkOptions {
        max_phonemes: 36,
        first_chunk: false,
    };
    let cs: Vec<String> = chunk(ISSUE, g, &opts)
        .into_iter()
        .map(|c| c.phonemes)
        .collect();
    assert_eq!(
        cs,
        [
            "nˈO. nˈɛvəɹ. nˌɑt əɡˈɛn!",
            "ˌɪt wʌz nˈʌmbəɹ fˈIv ˌɔn ðə lˈɪst.",
            "nˈO. ˌI sˈɛd nˈO."
        ]
    );
    // sentence ends (the `.` tokens the waterfall cuts at): after "5", after the plain "No"
    // and after "no"; none between "No." and "5"
    let toks = g.phonemize("It was No. 5. No. I said no.").tokens;
    let before_ends: Vec<&str> = toks
        .windows(2)
        .filter(|w| w[1].phonemes == ".")
        .map(|w| w[0].text.as_str())
        .collect();
    assert_eq!(before_ends, ["5", "No", "no"]);
    // the first-chunk cut (after 8 words, at a sentence end) does not fall after "No."
    let cs = chunk(
        "One two three four five six seven eight No. 9 is here. And more words follow.",
        g,
        &ChunkOptions {
            max_phonemes: 510,
            first_chunk: true,
        },
    );
    assert!(cs[0].phonemes.ends_with("hˈɪɹ."), "{:?}", cs[0].phonemes);
}
