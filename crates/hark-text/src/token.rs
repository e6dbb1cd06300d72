//! The token every stage of the front end passes along, and the word classes the tagger and
//! the abbreviation rules know without context.

use std::ops::Range;

/// A token moving through the pipeline (the `MToken` of misaki plus a source byte range).
#[derive(Debug, Clone)]
pub(crate) struct MToken {
    pub text: String,
    pub tag: &'static str,
    /// A single space follows this token.
    pub ws: bool,
    pub phonemes: Option<String>,
    /// Byte range in the caller's original text.
    pub src: Range<usize>,
    /// Start offset in the pipeline's processed text (link syntax removed).
    pub pstart: usize,
    pub is_head: bool,
    pub alias: Option<String>,
    pub stress: Option<f64>,
    pub currency: Option<char>,
    pub num_flags: String,
    pub prespace: bool,
    pub rating: Option<u8>,
}

impl MToken {
    pub fn new(text: &str, tag: &'static str, ws: bool, src: Range<usize>) -> Self {
        Self {
            text: text.to_string(),
            tag,
            ws,
            phonemes: None,
            src,
            pstart: 0,
            is_head: true,
            alias: None,
            stress: None,
            currency: None,
            num_flags: String::new(),
            prespace: false,
            rating: None,
        }
    }

    /// Whitespace of its own (spaCy's `_SP`).
    pub fn is_space(&self) -> bool {
        self.tag == "_SP"
    }
}

/// The Penn-Treebank tag of a closed-class word (determiners, pronouns, prepositions, modals,
/// conjunctions, common adverbs, forms of "be", number words), lowercase input.
pub(crate) fn closed_class(w: &str) -> Option<&'static str> {
    Some(match w {
        "the" | "a" | "an" | "this" | "these" | "those" | "every" | "each" | "another" | "no"
        | "some" | "any" | "all" | "both" | "either" | "neither" => "DT",
        "i" | "you" | "he" | "she" | "it" | "we" | "they" | "me" | "him" | "us" | "them"
        | "myself" | "yourself" | "himself" | "herself" | "itself" | "ourselves" | "themselves" => {
            "PRP"
        }
        "my" | "your" | "his" | "its" | "our" | "their" | "her" => "PRP$",
        "of" | "in" | "on" | "at" | "by" | "for" | "with" | "from" | "about" | "into" | "onto"
        | "upon" | "over" | "under" | "between" | "through" | "during" | "before" | "after"
        | "above" | "below" | "since" | "until" | "than" | "like" | "via" | "per" | "without"
        | "within" | "along" | "across" | "against" | "among" | "toward" | "towards" | "around"
        | "behind" | "beyond" | "despite" | "except" | "if" | "because" | "while" | "although"
        | "though" | "whether" | "unless" | "as" | "vs" | "vs." => "IN",
        "to" => "TO",
        "can" | "could" | "will" | "would" | "shall" | "should" | "may" | "might" | "must"
        | "ca" | "wo" => "MD",
        "and" | "or" | "but" | "nor" | "&" => "CC",
        "which" => "WDT",
        "who" | "whom" | "what" => "WP",
        "whose" => "WP$",
        "not" | "n't" | "never" | "always" | "often" | "also" | "very" | "too" | "just"
        | "only" | "even" | "still" | "already" | "really" | "quite" | "again" | "ever"
        | "here" | "now" | "then" | "so" | "soon" | "once" | "twice" | "perhaps" | "maybe" => "RB",
        "there" => "EX",
        "is" | "has" | "does" | "'s" => "VBZ",
        "am" | "are" | "'re" | "'m" | "'ve" => "VBP",
        "was" | "were" | "did" | "had" | "'d" => "VBD",
        "be" => "VB",
        "been" => "VBN",
        "being" => "VBG",
        "zero" | "one" | "two" | "three" | "four" | "five" | "six" | "seven" | "eight" | "nine"
        | "ten" | "eleven" | "twelve" | "twenty" | "thirty" | "forty" | "fifty" | "sixty"
        | "seventy" | "eighty" | "ninety" | "hundred" | "thousand" | "million" | "billion"
        | "trillion" | "dozen" => "CD",
        _ => return None,
    })
}

/// Tags for pronoun/verb contractions kept as one token ("I'll", "it's", "don't").
pub(crate) fn contraction_tag(w: &str) -> Option<&'static str> {
    let w = w.replace('’', "'");
    let (base, suffix) = w.split_at(w.find('\'')?);
    Some(match suffix {
        "'ll" | "'d" => "MD",
        "'ve" | "'re" | "'m" => "VBP",
        "'t" => "MD",
        "'s" if matches!(
            base,
            "it" | "he"
                | "she"
                | "that"
                | "what"
                | "there"
                | "here"
                | "who"
                | "where"
                | "how"
                | "let"
        ) =>
        {
            "VBZ"
        }
        _ => return None,
    })
}
