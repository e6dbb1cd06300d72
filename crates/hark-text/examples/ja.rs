//! Try or time the Japanese front end.
//!
//! `cargo run --release -p hark-text --example ja -- 猫が好きです。`  phonemes of the text
//! `echo 猫が好きです。 | cargo run --release -p hark-text --example ja`  one line of phonemes per line
//! `cargo run --release -p hark-text --example ja -- --bench`        load time, memory, per-sentence time
//! `... --example ja -- --misaki < lines.txt`                         misaki's readings (no corrections)
//!
//! The dictionary is read from `$HARK_ASSETS/ja` (default `~/.cache/hark/assets/ja`; `hark
//! fetch --japanese` installs it). The benchmark phonemizes the 240 reference lines
//! (`tests/reference/g2p-ja.jsonl`) and reports the best of 20 passes.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use hark_text::ja::JaG2p;

mod common;
use common::rss_mb;

fn dir() -> PathBuf {
    hark_testkit::assets_dir().join("ja")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rss0 = rss_mb();
    let t0 = Instant::now();
    let ja = match JaG2p::load(&dir()) {
        Ok(ja) => ja,
        Err(e) => {
            eprintln!("{e} (run `hark fetch --japanese`)");
            std::process::exit(1);
        }
    };
    let load = t0.elapsed();
    let ja = if args.iter().any(|a| a == "--misaki") {
        ja.misaki_exact()
    } else {
        ja
    };
    if args.iter().any(|a| a == "--bench") {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/g2p-ja.jsonl");
        let lines: Vec<String> = std::fs::read_to_string(path)
            .expect("reference lines")
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
                v["text"].as_str().expect("text").to_string()
            })
            .collect();
        let rss_loaded = rss_mb();
        let t = Instant::now();
        for l in &lines {
            std::hint::black_box(ja.phonemize(l));
        }
        let first = t.elapsed();
        let mut best = f64::MAX;
        for _ in 0..20 {
            let t = Instant::now();
            for l in &lines {
                std::hint::black_box(ja.phonemize(l));
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "load {:.1} ms (RSS {:.0} → {:.0} MB); first pass {:.2} ms/sentence (dictionary pages \
             faulted in); best of 20: {:.3} ms/sentence over {} sentences; RSS after {:.0} MB",
            load.as_secs_f64() * 1e3,
            rss0,
            rss_loaded,
            first.as_secs_f64() * 1e3 / lines.len() as f64,
            best * 1e3 / lines.len() as f64,
            lines.len(),
            rss_mb()
        );
        return;
    }
    let words: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if words.is_empty() {
        for line in std::io::stdin().lock().lines() {
            println!("{}", ja.phonemize(&line.expect("stdin")).phonemes());
        }
    } else {
        let text = words
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        println!("{}", ja.phonemize(&text).phonemes());
    }
}
