//! Development helper: reads JSONL `{"id","text",...}` (the golden format) on stdin and writes
//! `{"id","phonemes","tokens":[[text,phonemes],...]}` per line on stdout.
//!
//! `cargo run -p hark-text --example g2p_dump -- <lexicon dir> <en-us|en-gb> [no-espeak] < cases.jsonl`

use std::io::{BufRead, Write};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(hark_testkit::lexicon_dir);
    let lang: hark_text::Lang = args.next().as_deref().unwrap_or("en-us").parse()?;
    let espeak = args.next().as_deref() != Some("no-espeak");
    let g2p = hark_text::G2p::new(hark_text::Lexicon::load(&dir, lang)?).with_espeak(espeak);
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let v: serde_json::Value = serde_json::from_str(&line)?;
        let text = v["text"].as_str().unwrap_or("");
        let p = g2p.phonemize(text);
        let toks: Vec<(String, String)> = p
            .tokens
            .iter()
            .map(|t| (t.text.clone(), t.phonemes.clone()))
            .collect();
        let o = serde_json::json!({"id": v["id"], "phonemes": p.phonemes(), "tokens": toks});
        writeln!(out, "{o}")?;
    }
    Ok(())
}
