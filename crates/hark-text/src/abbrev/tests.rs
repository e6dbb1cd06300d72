//! Abbreviations as the tokenizer reads them.
use super::*;
use crate::sentence::period_ends_sentence;
use crate::tokenize::tokenize;

/// Tokens as (text, alias, source text).
fn run(s: &str) -> Vec<(String, Option<String>, String)> {
    tokenize(s, &|x, _| x, &|w| matches!(w, "call" | "the" | "park"))
        .into_iter()
        .filter(|t| t.tag != "_SP")
        .map(|t| {
            (
                t.text.clone(),
                t.alias.clone(),
                s[t.src.clone()].to_string(),
            )
        })
        .collect()
}

/// The reading of the abbreviation at byte `at` of `s`: its alias, or its text when it
/// is not expanded; "+." when a period token follows it.
fn reading(s: &str, at: usize) -> String {
    let toks: Vec<MToken> = tokenize(s, &|x, _| x, &|w| matches!(w, "call" | "park"))
        .into_iter()
        .filter(|t| t.tag != "_SP")
        .collect();
    let k = toks
        .iter()
        .position(|t| t.src.start == at)
        .unwrap_or_else(|| panic!("no token at {at} in {s:?}: {toks:?}"));
    let mut r = toks[k].alias.clone().unwrap_or(toks[k].text.clone());
    if toks
        .get(k + 1)
        .is_some_and(|p| p.text == "." && p.alias.is_none())
    {
        r.push_str("+.");
    }
    r
}

#[test]
fn table_is_consistent() {
    for (i, a) in ABBREVIATIONS.iter().enumerate() {
        assert!(a.text.ends_with('.'), "{}", a.text);
        assert!(
            ABBREVIATIONS[..i]
                .iter()
                .all(|b| !b.text.eq_ignore_ascii_case(a.text)),
            "{} listed twice",
            a.text
        );
        let mut seen = Vec::new();
        for r in a.rules {
            assert!(!seen.contains(&r.when), "{}: {:?} twice", a.text, r.when);
            seen.push(r.when);
            assert!(!matches!(r.read, Reading::Misaki | Reading::Plain));
        }
    }
    assert_eq!(lookup("NO.").map(|a| a.text), Some("No."));
    assert_eq!(lookup("dr.").map(|a| a.text), None);
    assert_eq!(lookup("DR.").map(|a| a.text), Some("Dr."));
}

#[test]
fn no_reads_number_only_before_a_numeral() {
    let s = "No. Never. It was No. 5 on the list. No. I said no.";
    assert_eq!(reading(s, 0), "No+.");
    assert_eq!(reading(s, 18), "number");
    assert_eq!(reading(s, 37), "No+.");
    assert_eq!(reading(s, 48), "no+.");
    assert_eq!(reading("see no. 12", 4), "number");
    assert_eq!(reading("INSPECTOR NO. 2-14", 10), "number");
    assert_eq!(reading("Chanel No.5", 7), "number");
    assert_eq!(reading("Nos. 3 and 4", 0), "numbers");
}

#[test]
fn ranges_cover_the_source() {
    let s = "No. Never. It was No. 5, see no. 12 and Chanel No.5 on Main St. The end.";
    for (text, _, src) in run(s) {
        assert_eq!(text, src);
    }
    let t = run(s);
    let n = t.iter().find(|x| x.1.as_deref() == Some("number")).unwrap();
    assert_eq!(n.2, "No.");
    let n = t.iter().filter(|x| x.1.as_deref() == Some("number")).nth(1);
    assert_eq!(n.unwrap().2, "no.");
    let st = t.iter().find(|x| x.1.as_deref() == Some("Street")).unwrap();
    assert_eq!(st.2, "St");
}

#[test]
fn saint_before_a_name_street_after_one() {
    let s = "St. John St. is near Mount St. Helens.";
    assert_eq!(reading(s, 0), "Saint");
    assert_eq!(reading(s, 9), "Street");
    assert_eq!(reading(s, 27), "Saint");
    assert_eq!(reading("I live on 42nd St. in town", 15), "Street");
    // the period of "Main St." ends the sentence before "The"
    assert_eq!(reading("on Main St. The house", 8), "Street+.");
    assert_eq!(reading("on Main St.", 8), "Street+.");
    assert_eq!(reading("\"on Main St.\" he said", 9), "Street+.");
    assert_eq!(reading("on Main St. in town", 8), "Street");
}

#[test]
fn doctor_before_a_name_drive_after_one() {
    let s = "Dr. Smith lives on Mulholland Dr. in LA.";
    assert_eq!(reading(s, 0), "Doctor");
    assert_eq!(reading(s, 30), "Drive");
    assert_eq!(reading("Dr. Who", 0), "Doctor");
    // a known word starting the sentence is not a street name
    assert_eq!(reading("Call Dr. now", 5), "Doctor");
    assert_eq!(reading("Mulholland Dr. is long", 11), "Drive");
}

#[test]
fn months_only_next_to_a_date() {
    assert_eq!(reading("on Oct. 7, 1975", 3), "October");
    assert_eq!(reading("in Jan. 2002 it", 3), "January");
    assert_eq!(reading("on 9 Jan. we", 5), "January");
    assert_eq!(reading("the 9th of Jan. we", 11), "January");
    assert_eq!(reading("a box of Jan. we", 9), "Jan+.");
    assert_eq!(reading("due in Sept. We", 7), "September+.");
    assert_eq!(reading("It's Mar. 5 today", 5), "March");
    assert_eq!(reading("They would mar. the walls", 11), "mar+.");
    assert_eq!(reading("I met Jan. She smiled", 6), "Jan+.");
}

#[test]
fn units_only_after_a_number() {
    assert_eq!(reading("5 in. long", 2), "inches");
    assert_eq!(reading("1 in. long", 2), "inch");
    assert_eq!(reading("Come in. Then go", 5), "in+.");
    assert_eq!(reading("6 ft. tall", 2), "feet");
    assert_eq!(reading("1 ft. tall", 2), "foot");
    assert_eq!(reading("at Ft. Worth", 3), "Fort");
    assert_eq!(reading("3 lb. bag", 2), "pounds");
    assert_eq!(reading("it is 5 ft.", 8), "feet+.");
}

#[test]
fn periods_that_end_sentences() {
    let ends = |s: &str| -> Vec<usize> {
        (0..s.len())
            .filter(|&i| period_ends_sentence(s, i))
            .collect()
    };
    let s = "No. Never. It was No. 5. See Dr. Smith on Main St. in town. Ask Mr. Lee.";
    let dots: Vec<usize> = s.match_indices('.').map(|m| m.0).collect();
    // after "No" (plain), "Never", "5", "town", "Lee"; not after "No." (number),
    // "Dr." (Doctor), "St." (Street, mid-sentence), "Mr."
    assert_eq!(
        ends(s),
        [dots[0], dots[1], dots[3], dots[6], dots[8]],
        "{s}"
    );
    assert_eq!(ends("I live on Main St. The end"), [17]);
    assert_eq!(ends("at 7 p.m. Then"), Vec::<usize>::new());
    assert!(!period_ends_sentence("abc", 1));
    assert!(!period_ends_sentence("abc", 99));
    // far from the start of a long line, the window still sees the neighbours
    let long = format!("{}It was No. 5 then. No.", "word ".repeat(200));
    let dots: Vec<usize> = long.match_indices('.').map(|m| m.0).collect();
    assert_eq!(ends(&long), [dots[1], dots[2]]);
    let long = format!("No. 5 {}No. 6 or no.", "é ".repeat(300));
    assert_eq!(ends(&long), [long.len() - 1]);
}

#[test]
fn misaki_entries_are_left_alone() {
    for (s, at) in [
        ("Mr. Smith", 0),
        ("apples vs. pears", 7),
        ("pears etc. and", 6),
    ] {
        let toks = tokenize(s, &|x, _| x, &|_| false);
        let t = toks.iter().find(|t| t.src.start == at).unwrap();
        assert!(t.alias.is_none() && t.text.ends_with('.'), "{t:?}");
    }
}
