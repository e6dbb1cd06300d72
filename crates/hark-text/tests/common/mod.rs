//! Shared by the integration tests: where the misaki lexicons are, and how readings are scored.

use std::path::PathBuf;

/// [`hark_testkit::lexicon_dir`] when it holds the lexicons. Without them the caller skips
/// (with a message), unless `HARK_REQUIRE_ASSETS=1` makes that a failure.
pub fn lexicon_dir() -> Option<PathBuf> {
    let dir = hark_testkit::lexicon_dir();
    if dir.join("us_gold.json").is_file() {
        Some(dir)
    } else {
        hark_testkit::skip(&format!(
            "misaki lexicons not found in {} (set HARK_LEXICON_DIR)",
            dir.display()
        ))
    }
}

/// The installed Japanese dictionary: `ja/` of [`hark_testkit::assets_dir`], when it holds the
/// files `hark_text::ja::JaG2p` reads. Without them the caller skips (with a message), unless
/// `HARK_REQUIRE_ASSETS=1` makes that a failure.
#[allow(dead_code)] // not every test binary uses it
pub fn ja_dir() -> Option<PathBuf> {
    let dir = hark_testkit::assets_dir().join("ja");
    if hark_text::ja::FILES.iter().all(|f| dir.join(f).is_file()) {
        Some(dir)
    } else {
        hark_testkit::skip(&format!(
            "the Japanese dictionary is not installed in {} (run `hark fetch --japanese`)",
            dir.display()
        ))
    }
}

/// The lexicon of `lang`, loaded once per test binary (`None`: skip, see [`lexicon_dir`]).
#[allow(dead_code)] // not every test binary uses it
pub fn lexicon(lang: hark_text::Lang) -> Option<hark_text::Lexicon> {
    use std::sync::OnceLock;
    static US: OnceLock<Option<hark_text::Lexicon>> = OnceLock::new();
    static GB: OnceLock<Option<hark_text::Lexicon>> = OnceLock::new();
    let cell = if lang == hark_text::Lang::EnUs {
        &US
    } else {
        &GB
    };
    cell.get_or_init(|| {
        lexicon_dir().map(|d| hark_text::Lexicon::load(&d, lang).expect("lexicon loads"))
    })
    .clone()
}

/// The espeak-ng reader of `lang` (fixes on), or `None` (skip, with a message) when the
/// espeak-ng program is not installed, unless `HARK_REQUIRE_ASSETS=1` makes that a failure (CI
/// installs it: scripts/deps.sh).
#[allow(dead_code)] // not every test binary uses it
pub fn espeak(lang: hark_text::Lang) -> Option<hark_text::EspeakG2p> {
    if hark_text::find_espeak().is_none() {
        return hark_testkit::skip("espeak-ng is not installed (scripts/deps.sh installs it)");
    }
    Some(hark_text::EspeakG2p::new(lang).expect("espeak-ng reads the language"))
}

/// Number of reference words matched by an edit-distance alignment of the two word lists.
#[allow(dead_code)] // not every test binary uses it
pub fn matched_words(r: &[&str], h: &[&str]) -> usize {
    let (n, m) = (r.len(), h.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + usize::from(r[i - 1] != h[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let (mut i, mut j, mut ok) = (n, m, 0);
    while i > 0 && j > 0 {
        let same = r[i - 1] == h[j - 1];
        if d[i][j] == d[i - 1][j - 1] + usize::from(!same) {
            ok += usize::from(same);
            i -= 1;
            j -= 1;
        } else if d[i][j] == d[i - 1][j] + 1 {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    ok
}
