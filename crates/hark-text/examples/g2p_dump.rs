//! Development helper: reads JSONL `{"id","text",...}` (the golden format) on stdin and writes
//! `{"id","phonemes","tokens":[[text,phonemes],...]}` per line on stdout.
//!
//! `cargo run -p hark-text --example g2p_dump -- <lexicon dir> <en-us|en-gb> [no-espeak] < cases.jsonl`

use std::io::{BufRead, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let default_dir = format!(
        "{}/.cache/hark/assets/lexicons",
        std::env::var("HOME").unwrap_or_default()
    );
    let dir = args.get(1).map(String::as_str).unwrap_or(&default_dir);
    let lang: hark_text::Lang = args.get(2).map(String::as_str).unwrap_or("en-us").parse()?;
    let espeak = args.get(3).map(String::as_str) != Some("no-espeak");
    let g2p = hark_text::G2p::new(hark_text::Lexicon::load(std::path::Path::new(dir), lang)?)
        .with_espeak(espeak);
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
