//! Abbreviations read in context: one table ([`ABBREVIATIONS`]) and the pass that applies it to
//! a paragraph's tokens before tagging.
//!
//! An abbreviation is expanded only where its reading is meant ("No. 5" → "number five") and is
//! otherwise read as the word it spells, its period then being ordinary sentence punctuation
//! ("No. Never." → "no. never."). Entries marked [`Reading::Misaki`] are left to misaki's rules
//! (its lexicon has `Mr.`, `Mrs.`, `Ms.`, `Dr.`, `Esq.`, `etc.`; `vs.` is one of its special
//! cases; dotted initialisms such as `e.g.` are spelled).
//!
//! Token boundaries are still decided by the tokenizer (spaCy's exceptions keep `No.`, `St.`,
//! `Jan.` whole; a lowercase word or an all-caps one before a period is split from it): this
//! pass recognizes both shapes, so `no. 12` and `NO. 5` read like `No. 5`.

use crate::token::{closed_class, contraction_tag, MToken};

/// Where an abbreviation stands, judged from the words around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// The next word is a numeral: "No. 5", "no. 12", "Nos. 3".
    BeforeNumber,
    /// The previous word is a numeral: "5 ft.", "3 lb.", "12 in.".
    AfterNumber,
    /// The next word is a name (capitalized, not a function word; initials count):
    /// "St. John", "Dr. Smith", "Mt. Fuji".
    BeforeName,
    /// The previous word is a name or an ordinal: "John St.", "Mulholland Dr.", "5th Ave.".
    /// A capitalized first word of a sentence counts only when the lexicon does not know it in
    /// lowercase ("Call Dr." is a call to a doctor).
    AfterName,
    /// Next to a day number or a year ("Oct. 7", "Jan. 2002", "9 Jan.", "the 9th of Jan."),
    /// or after `in`, `since`, `until`, `till`, `during`, `through`, `early`, `late`, `mid`
    /// ("in Jan.").
    Date,
    /// Anywhere.
    Always,
}

/// How an abbreviation is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reading {
    /// As this word, spelled the way the lexicon has it ("Saint", "August").
    Word(&'static str),
    /// As a unit counted by the number before it: singular after `1`, plural otherwise.
    Unit {
        /// The unit after `1` ("inch").
        one: &'static str,
        /// The unit after any other number ("inches").
        many: &'static str,
    },
    /// As the word its letters spell, the period being sentence punctuation ("No." → "no.").
    Plain,
    /// Left to misaki's rules, unchanged (a lexicon entry such as `Mr.`, or spelled).
    Misaki,
}

/// How the letters of an abbreviation must be cased to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Case {
    /// Any case: `No.`, `no.`, `NO.`.
    Any,
    /// First letter uppercase (`Dr.`, `DR.`), as titles are written.
    Capitalized,
}

/// A context rule: in `when`, read as `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Where the rule applies.
    pub when: Context,
    /// How the abbreviation is read there.
    pub read: Reading,
}

/// One abbreviation: its rules, tried in order (the first whose context holds wins), and its
/// reading where none holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Abbreviation {
    /// The written form with its period, e.g. `"No."`.
    pub text: &'static str,
    /// How its letters must be cased to match.
    pub case: Case,
    /// The context rules, tried in order.
    pub rules: &'static [Rule],
    /// The reading where no rule holds.
    pub otherwise: Reading,
}

const fn word(when: Context, w: &'static str) -> Rule {
    Rule {
        when,
        read: Reading::Word(w),
    }
}

const fn unit(one: &'static str, many: &'static str) -> Rule {
    Rule {
        when: Context::AfterNumber,
        read: Reading::Unit { one, many },
    }
}

const fn abbr(
    text: &'static str,
    case: Case,
    rules: &'static [Rule],
    otherwise: Reading,
) -> Abbreviation {
    Abbreviation {
        text,
        case,
        rules,
        otherwise,
    }
}

use Case::{Any, Capitalized as Cap};
use Context::{AfterName, Always, BeforeName, BeforeNumber, Date};
use Reading::{Misaki, Plain, Word};

/// Every abbreviation the front end reads in context. Anything not listed here is read as
/// misaki reads it.
pub const ABBREVIATIONS: &[Abbreviation] = &[
    // numbers
    abbr("No.", Any, &[word(BeforeNumber, "number")], Plain),
    abbr("Nos.", Any, &[word(BeforeNumber, "numbers")], Plain),
    // places: a saint or a mount before a name, a street after one
    abbr(
        "St.",
        Any,
        &[word(BeforeName, "Saint"), word(AfterName, "Street")],
        Word("Street"),
    ),
    abbr(
        "Dr.",
        Cap,
        &[word(BeforeName, "Doctor"), word(AfterName, "Drive")],
        Word("Doctor"),
    ),
    abbr("Mt.", Any, &[word(Always, "Mount")], Misaki),
    abbr("Ave.", Any, &[word(Always, "Avenue")], Misaki),
    abbr("Rd.", Cap, &[word(Always, "Road")], Misaki),
    abbr("Blvd.", Any, &[word(Always, "Boulevard")], Misaki),
    // months: only next to a day number or a year
    abbr("Jan.", Any, &[word(Date, "January")], Plain),
    abbr("Feb.", Any, &[word(Date, "February")], Plain),
    abbr("Mar.", Any, &[word(Date, "March")], Plain),
    abbr("Apr.", Any, &[word(Date, "April")], Plain),
    abbr("Jun.", Any, &[word(Date, "June")], Plain),
    abbr("Jul.", Any, &[word(Date, "July")], Plain),
    abbr("Aug.", Any, &[word(Date, "August")], Plain),
    abbr("Sep.", Any, &[word(Date, "September")], Plain),
    abbr("Sept.", Any, &[word(Date, "September")], Plain),
    abbr("Oct.", Any, &[word(Date, "October")], Plain),
    abbr("Nov.", Any, &[word(Date, "November")], Plain),
    abbr("Dec.", Any, &[word(Date, "December")], Plain),
    // units: only after a number
    abbr("in.", Any, &[unit("inch", "inches")], Plain),
    abbr(
        "ft.",
        Any,
        &[unit("foot", "feet"), word(BeforeName, "Fort")],
        Plain,
    ),
    abbr("lb.", Any, &[unit("pound", "pounds")], Plain),
    abbr("lbs.", Any, &[unit("pound", "pounds")], Plain),
    abbr("oz.", Any, &[unit("ounce", "ounces")], Plain),
    abbr("mi.", Any, &[unit("mile", "miles")], Plain),
    abbr("yd.", Any, &[unit("yard", "yards")], Plain),
    abbr("yds.", Any, &[unit("yard", "yards")], Plain),
    // titles before a name
    abbr("Mr.", Cap, &[], Misaki),
    abbr("Mrs.", Cap, &[], Misaki),
    abbr("Ms.", Cap, &[], Misaki),
    abbr("Prof.", Cap, &[word(BeforeName, "Professor")], Misaki),
    abbr("Gen.", Cap, &[word(BeforeName, "General")], Misaki),
    abbr("Gov.", Cap, &[word(BeforeName, "Governor")], Misaki),
    abbr("Sen.", Cap, &[word(BeforeName, "Senator")], Misaki),
    abbr("Rep.", Cap, &[word(BeforeName, "Representative")], Misaki),
    abbr("Rev.", Cap, &[word(BeforeName, "Reverend")], Misaki),
    abbr("Pres.", Cap, &[word(BeforeName, "President")], Misaki),
    abbr("Adm.", Cap, &[word(BeforeName, "Admiral")], Misaki),
    abbr("Capt.", Cap, &[word(BeforeName, "Captain")], Misaki),
    abbr("Lt.", Cap, &[word(BeforeName, "Lieutenant")], Misaki),
    abbr("Sgt.", Cap, &[word(BeforeName, "Sergeant")], Misaki),
    abbr("Col.", Cap, &[word(BeforeName, "Colonel")], Misaki),
    // after a name
    abbr("Jr.", Cap, &[word(Always, "Junior")], Misaki),
    abbr(
        "Sr.",
        Cap,
        &[word(AfterName, "Senior"), word(BeforeName, "Sister")],
        Word("Senior"),
    ),
    abbr("Esq.", Cap, &[], Misaki),
    abbr("Inc.", Cap, &[word(Always, "Incorporated")], Misaki),
    abbr("Ltd.", Cap, &[word(Always, "Limited")], Misaki),
    abbr("Corp.", Cap, &[word(Always, "Corporation")], Misaki),
    abbr("Bros.", Cap, &[word(Always, "Brothers")], Misaki),
    abbr(
        "Co.",
        Cap,
        &[word(AfterName, "Company"), word(BeforeName, "County")],
        Word("Company"),
    ),
    // as misaki reads them
    abbr("vs.", Any, &[], Misaki),
    abbr("etc.", Any, &[], Misaki),
    abbr("e.g.", Any, &[], Misaki),
    abbr("i.e.", Any, &[], Misaki),
];

/// The table entry for a written form (with its period), if any.
pub(crate) fn lookup(text: &str) -> Option<&'static Abbreviation> {
    ABBREVIATIONS.iter().find(|a| {
        a.text.eq_ignore_ascii_case(text)
            && (a.case == Any || text.chars().next().is_some_and(char::is_uppercase))
    })
}

/// The tokens around an abbreviation (`None` at a paragraph edge or a line break).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Around<'a> {
    pub prev: Option<&'a str>,
    /// The token before `prev`.
    pub prev2: Option<&'a str>,
    /// `prev` is the first word of a sentence.
    pub prev_starts_sentence: bool,
    /// The next token, closing quotes and brackets skipped.
    pub next: Option<&'a str>,
    /// A closing quote or bracket follows right after the abbreviation.
    pub closed: bool,
}

fn is_numeral(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

fn strip_ordinal(s: &str) -> &str {
    let n = s.len();
    if n > 2 && s.is_char_boundary(n - 2) {
        let suf = s[n - 2..].to_ascii_lowercase();
        if matches!(suf.as_str(), "st" | "nd" | "rd" | "th") {
            return &s[..n - 2];
        }
    }
    s
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_ordinal(s: &str) -> bool {
    let d = strip_ordinal(s);
    d.len() < s.len() && is_digits(d)
}

fn is_day(s: &str) -> bool {
    let d = strip_ordinal(s);
    is_digits(d) && d.len() <= 2 && matches!(d.parse::<u8>(), Ok(1..=31))
}

fn is_year(s: &str) -> bool {
    (s.len() == 4 && is_digits(s))
        || s.strip_prefix(['\'', '’'])
            .is_some_and(|y| y.len() == 2 && is_digits(y))
}

/// A word that is a function word rather than a name when capitalized ("The", "Who", "I").
fn is_function_word(s: &str) -> bool {
    let lw = s.to_lowercase();
    closed_class(&lw).is_some()
        || contraction_tag(&lw).is_some()
        || matches!(
            lw.as_str(),
            "when" | "where" | "why" | "how" | "yes" | "let's" | "please" | "thanks" | "then"
        )
}

/// Capitalized, alphabetic (initials, apostrophes and hyphens allowed) and not a function word.
fn is_name(s: &str) -> bool {
    let w = s.strip_suffix('.').unwrap_or(s);
    w.chars().next().is_some_and(char::is_uppercase)
        && w.chars()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.'))
        && !is_function_word(w)
}

fn holds(when: Context, a: &Around, known: &dyn Fn(&str) -> bool) -> bool {
    match when {
        Context::BeforeNumber => a.next.is_some_and(is_numeral),
        Context::AfterNumber => a.prev.is_some_and(is_numeral),
        Context::BeforeName => a.next.is_some_and(is_name),
        Context::AfterName => a.prev.is_some_and(|p| {
            is_ordinal(p)
                || p == "&"
                || (is_name(p) && !(a.prev_starts_sentence && known(&p.to_lowercase())))
        }),
        Context::Date => {
            a.next.is_some_and(|n| is_day(n) || is_year(n))
                || (a.prev == Some("of") && a.prev2.is_some_and(is_day))
                || a.prev.is_some_and(|p| {
                    is_day(p)
                        || matches!(
                            p,
                            "in" | "since"
                                | "until"
                                | "till"
                                | "during"
                                | "through"
                                | "early"
                                | "late"
                                | "mid"
                        )
                })
        }
        Context::Always => true,
    }
}

/// What the pass does with one abbreviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Read as `alias` (one word); `context` is the rule that chose it (`None`: the
    /// entry's `otherwise`).
    Expand {
        alias: &'static str,
        context: Option<Context>,
    },
    /// The word it spells, then a sentence period.
    Plain,
    /// Leave the token(s) as the tokenizer made them.
    Keep,
}

/// Decides how `entry` reads between its neighbours.
pub(crate) fn decide(
    entry: &Abbreviation,
    around: &Around,
    known: &dyn Fn(&str) -> bool,
) -> Decision {
    let (read, context) = entry
        .rules
        .iter()
        .find(|r| holds(r.when, around, known))
        .map_or((entry.otherwise, None), |r| (r.read, Some(r.when)));
    match read {
        Reading::Word(w) => Decision::Expand { alias: w, context },
        Reading::Unit { one, many } => {
            let n = around.prev.unwrap_or("");
            let single = matches!(n.trim_start_matches(['-', '+']), "1");
            Decision::Expand {
                alias: if single { one } else { many },
                context,
            }
        }
        Reading::Plain => Decision::Plain,
        Reading::Misaki => Decision::Keep,
    }
}

/// Whether the period of an expanded abbreviation also ends the sentence: nothing spoken
/// follows in the paragraph, a closing quote or bracket follows ("… Baker St.” he said"), or
/// (for an abbreviation that follows what it qualifies: "Main St.", "5 ft.", "Smith Jr.",
/// "in Jan.") the next word is a capitalized function word ("… Main St. The house …").
fn expanded_period_ends_sentence(context: Option<Context>, around: &Around) -> bool {
    let Some(next) = around.next.filter(|_| !around.closed) else {
        return true;
    };
    let trailing = matches!(
        context,
        Some(Context::AfterName | Context::AfterNumber | Context::Date | Context::Always)
    );
    trailing
        && next.chars().next().is_some_and(char::is_uppercase)
        && (next == "I" || is_function_word(next))
}

fn is_line_break(t: &MToken) -> bool {
    t.is_space() && t.text.contains(['\n', '\r'])
}

/// Closing punctuation that may sit between an abbreviation and the end of its paragraph.
fn is_closing(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| ")]}\"'”’»".contains(c))
}

fn is_sentence_punct(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| ".!?…:;".contains(c))
}

fn around<'a>(out: &'a [MToken], toks: &'a [MToken], after: usize) -> Around<'a> {
    let mut before = out
        .iter()
        .rev()
        .take_while(|t| !is_line_break(t))
        .filter(|t| !t.is_space());
    let prev = before.next();
    let prev2 = before.next();
    let prev_starts_sentence = prev.is_some() && prev2.is_none_or(|q| is_sentence_punct(&q.text));
    let mut after = toks[after..]
        .iter()
        .take_while(|t| !is_line_break(t))
        .filter(|t| !t.is_space())
        .peekable();
    let closed = after.peek().is_some_and(|t| is_closing(&t.text));
    let next = after.find(|t| !is_closing(&t.text));
    Around {
        prev: prev.map(|t| t.text.as_str()),
        prev2: prev2.map(|t| t.text.as_str()),
        prev_starts_sentence,
        next: next.map(|t| t.text.as_str()),
        closed,
    }
}

/// Splits glued `No.5` into `No.` and `5` (entries read before a number only).
fn split_glued_numbers(toks: Vec<MToken>, map: &dyn Fn(usize, bool) -> usize) -> Vec<MToken> {
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        let cut = t.text.find('.').map(|k| k + 1).filter(|&k| {
            k < t.text.len()
                && t.text[..k - 1].chars().all(char::is_alphabetic)
                && t.text[k..].bytes().all(|b| b.is_ascii_digit())
                && lookup(&t.text[..k])
                    .is_some_and(|e| e.rules.iter().any(|r| r.when == Context::BeforeNumber))
        });
        match cut {
            Some(k) => {
                // a space between the two readings in the phoneme string
                out.push(piece(&t, 0..k, true, map));
                out.push(piece(&t, k..t.text.len(), t.ws, map));
            }
            None => out.push(t),
        }
    }
    out
}

/// A token for the byte range `r` of `t.text`, its source range mapped to the caller's text.
fn piece(
    t: &MToken,
    r: std::ops::Range<usize>,
    ws: bool,
    map: &dyn Fn(usize, bool) -> usize,
) -> MToken {
    let p = t.pstart;
    let (a, b) = (map(p + r.start, false), map(p + r.end, true));
    let a = a.clamp(t.src.start, t.src.end);
    let mut x = MToken::new(&t.text[r.clone()], "", ws, a..b.clamp(a, t.src.end));
    x.pstart = p + r.start;
    x
}

/// Applies the table to a paragraph's tokens (before tagging). Expanded abbreviations become
/// one token with `alias` set to the reading (and a tag), covering the abbreviation and its
/// period; when the period also ends the sentence it becomes a `.` token of its own. Plain
/// readings split the period off as punctuation. Source ranges stay exact.
pub(crate) fn apply(
    toks: Vec<MToken>,
    map: &dyn Fn(usize, bool) -> usize,
    known: &dyn Fn(&str) -> bool,
) -> Vec<MToken> {
    let toks = split_glued_numbers(toks, map);
    let mut out: Vec<MToken> = Vec::with_capacity(toks.len() + 4);
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        // `No.` whole, or `no` `.` split by the tokenizer
        let glued_period = toks.get(i + 1).is_some_and(|p| {
            p.text == "." && !t.ws && p.pstart == t.pstart + t.text.len() && !p.is_space()
        });
        let (entry, whole) = if t.text.len() > 1 && t.text.ends_with('.') {
            (lookup(&t.text), true)
        } else if glued_period && t.text.chars().all(char::is_alphabetic) {
            (lookup(&format!("{}.", t.text)), false)
        } else {
            (None, true)
        };
        let Some(entry) = entry else {
            out.push(t.clone());
            i += 1;
            continue;
        };
        let last = if whole { i } else { i + 1 };
        let ctx = around(&out, &toks, last + 1);
        let decision = decide(entry, &ctx, known);
        // the abbreviation as a word token and its period token
        let (word, period) = if whole {
            let k = t.text.len() - 1;
            (
                piece(t, 0..k, false, map),
                piece(t, k..t.text.len(), t.ws, map),
            )
        } else {
            (t.clone(), toks[i + 1].clone())
        };
        match decision {
            Decision::Keep => out.extend(toks[i..=last].iter().cloned()),
            Decision::Plain => {
                out.push(word);
                out.push(period);
            }
            Decision::Expand { alias, context } => {
                let ends = expanded_period_ends_sentence(context, &ctx);
                let tag = if alias.starts_with(char::is_uppercase) {
                    "NNP"
                } else if alias.ends_with('s') {
                    "NNS"
                } else {
                    "NN"
                };
                if ends {
                    let mut w = word;
                    w.alias = Some(alias.to_string());
                    w.tag = tag;
                    out.push(w);
                    out.push(period);
                } else {
                    let mut w = MToken::new(
                        &format!("{}.", word.text),
                        tag,
                        period.ws,
                        word.src.start..period.src.end,
                    );
                    w.pstart = word.pstart;
                    w.alias = Some(alias.to_string());
                    out.push(w);
                }
            }
        }
        i = last + 1;
    }
    out
}

#[cfg(test)]
mod tests;
