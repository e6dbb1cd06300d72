//! Try or time the Mandarin front end.
//!
//! `cargo run --release -p hark-text --example zh -- 今天股市开盘上涨了1.2%。`  phonemes of the text
//! `echo 你好。 | cargo run --release -p hark-text --example zh`        one line of phonemes per line
//! `cargo run --release -p hark-text --example zh -- --bench`          load time, memory, per-sentence time
//! `... --example zh -- --misaki < lines.txt`                           misaki's readings (no corrections)
//!
//! Latin words are read with American English when the misaki lexicons are in
//! `HARK_LEXICON_DIR` (default `~/.cache/hark/assets/lexicons`). The benchmark phonemizes the 240
//! reference lines (`tests/reference/g2p-zh.jsonl`) and reports the best of 20 passes.

use std::io::BufRead;
use std::time::Instant;

use hark_text::zh::ZhG2p;

mod common;
use common::rss_mb;

fn english() -> Option<hark_text::G2p> {
    let dir = hark_testkit::lexicon_dir();
    let lex = hark_text::Lexicon::load(&dir, hark_text::Lang::EnUs).ok()?;
    Some(hark_text::G2p::new(lex))
}

fn bench() {
    let before = rss_mb();
    let t = Instant::now();
    let zh = ZhG2p::new();
    let load = t.elapsed().as_secs_f64();
    let after = rss_mb();
    println!(
        "load: {:.0} ms, resident memory +{:.1} MB",
        load * 1e3,
        after - before
    );
    let t = Instant::now();
    let jieba = jieba_rs::Jieba::new();
    println!(
        "  of which jieba's dictionary ~{:.0} ms (timed again alone), the pinyin data the rest",
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(jieba);

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/g2p-zh.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(path)
        .expect("reference lines")
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            Some(v["text"].as_str()?.to_string())
        })
        .collect();
    let chars: usize = lines.iter().map(|l| l.chars().count()).sum();
    let t = Instant::now();
    for l in &lines {
        std::hint::black_box(zh.phonemize(l));
    }
    let first = t.elapsed().as_secs_f64();
    let mut best = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        for l in &lines {
            std::hint::black_box(zh.phonemize(l));
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let n = lines.len() as f64;
    println!(
        "{} sentences ({:.0} chars on average): first pass {:.3} ms/sentence, best of 20 {:.3} ms/sentence ({:.2} µs/char)",
        lines.len(),
        chars as f64 / n,
        first / n * 1e3,
        best / n * 1e3,
        best / chars as f64 * 1e6
    );
    println!("resident memory after: {:.1} MB", rss_mb());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--bench") {
        return bench();
    }
    let misaki = args.first().map(String::as_str) == Some("--misaki");
    let args = &args[usize::from(misaki)..];
    let mut zh = ZhG2p::new();
    if misaki {
        zh = zh.misaki_exact();
    } else if let Some(en) = english() {
        zh = zh.with_english(en);
    }
    if args.is_empty() {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            println!("{}", zh.phonemize(&line).phonemes());
        }
    } else {
        let p = zh.phonemize(&args.join(" "));
        println!("{}", p.phonemes());
        for t in &p.tokens {
            eprintln!("{:?} {:?} {:?}", t.src, t.text, t.phonemes);
        }
    }
}
