//! The Japanese front end ([`hark_text::ja`]).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{ja_dir, matched_words};
use hark_text::ja::JaG2p;

fn reference(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference")
        .join(file)
}

fn hark() -> Option<&'static JaG2p> {
    static JA: OnceLock<Option<JaG2p>> = OnceLock::new();
    JA.get_or_init(|| Some(JaG2p::load(&ja_dir()?).expect("the dictionary loads")))
        .as_ref()
}

fn misaki() -> Option<&'static JaG2p> {
    static JA: OnceLock<Option<JaG2p>> = OnceLock::new();
    JA.get_or_init(|| {
        Some(
            JaG2p::load(&ja_dir()?)
                .expect("the dictionary loads")
                .misaki_exact(),
        )
    })
    .as_ref()
}

#[test]
fn golden_ja_misaki_exact() {
    let Some(ja) = misaki() else { return };
    let text = std::fs::read_to_string(reference("g2p-ja.jsonl")).unwrap();
    let (mut words, mut matched, mut exact, mut lines) = (0, 0, 0, 0);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let want = v["phonemes"].as_str().unwrap();
        let got = ja.phonemize(v["text"].as_str().unwrap()).phonemes();
        let r: Vec<&str> = want.split_whitespace().collect();
        let h: Vec<&str> = got.split_whitespace().collect();
        lines += 1;
        words += r.len();
        matched += matched_words(&r, &h);
        if r == h {
            exact += 1;
        } else {
            eprintln!("{}\n  ref  {want}\n  ours {got}", v["id"]);
        }
    }
    println!("exact {exact}/{lines}, words {matched}/{words}");
}
