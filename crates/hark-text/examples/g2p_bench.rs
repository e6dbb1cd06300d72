//! Throughput benchmark: lexicon load time and phonemize/chunk speed on ~1 MB of English.
//!
//! `cargo run --release -p hark-text --example g2p_bench -- [lexicon dir] [en-us|en-gb] [MB] [no-espeak]`
//!
//! The text is built from the golden G2P sentences (tests/reference) repeated with varying
//! numbers, so most words are dictionary words and some go to the fallback.

use std::time::Instant;

#[path = "common/cpu.rs"]
mod cpu;
use cpu::cpu;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(hark_testkit::lexicon_dir);
    let lang: hark_text::Lang = args.get(2).map(String::as_str).unwrap_or("en-us").parse()?;
    let mb: f64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let espeak = args.get(4).map(String::as_str) != Some("no-espeak");

    let t = Instant::now();
    let lex = hark_text::Lexicon::load(&dir, lang)?;
    let load = t.elapsed();
    let (g, s) = lex.len();
    eprintln!(
        "lexicon load: {:.0} ms ({g} gold + {s} silver entries)",
        load.as_secs_f64() * 1e3
    );
    let g2p = hark_text::G2p::new(lex).with_espeak(espeak);
    eprintln!("espeak-ng fallback: {}", g2p.espeak_enabled());

    let refs = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/g2p-en-us.jsonl"
    );
    let mut sentences: Vec<String> = Vec::new();
    for line in std::fs::read_to_string(refs)?.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        sentences.push(v["text"].as_str().unwrap_or("").to_string());
    }
    let target = (mb * 1_000_000.0) as usize;
    let mut text = String::with_capacity(target + 1000);
    let mut i = 0usize;
    while text.len() < target {
        text.push_str(&sentences[i % sentences.len()]);
        text.push_str(if i % 7 == 6 { "\n" } else { " " });
        i += 1;
    }
    let bytes = text.len() as f64;

    let (c0, k0) = cpu();
    let t = Instant::now();
    let p = g2p.phonemize(&text);
    let dt = t.elapsed().as_secs_f64();
    let (c1, k1) = cpu();
    eprintln!(
        "phonemize (cold): {:.2} MB in {:.3} s wall = {:.2} MB/s; CPU {:.2} s ours + {:.2} s espeak-ng ({} tokens)",
        bytes / 1e6,
        dt,
        bytes / 1e6 / dt,
        c1 - c0,
        k1 - k0,
        p.tokens.len()
    );
    let t = Instant::now();
    let chunks = hark_text::chunk(&text, &g2p, &hark_text::ChunkOptions::default());
    let dt = t.elapsed().as_secs_f64();
    let (c2, k2) = cpu();
    eprintln!(
        "chunk (warm):     {:.2} MB in {:.3} s wall = {:.2} MB/s; CPU {:.2} s ours + {:.2} s espeak-ng ({} chunks)",
        bytes / 1e6,
        dt,
        bytes / 1e6 / dt,
        c2 - c1,
        k2 - k1,
        chunks.len()
    );
    Ok(())
}
