//! Front-end time per sentence of the espeak-ng languages: the reader's start (its espeak-ng
//! process) and then each of the 240 reference lines of a language phonemized one at a time,
//! as the engine hands over one sentence at a time. Prints the median and the mean wall time
//! (the best of `rounds` passes), and the CPU time per sentence, ours and espeak-ng's (Linux;
//! counted when the reader, and so its espeak-ng, is dropped), which a busy machine inflates
//! less than wall time.
//!
//! `cargo run --release -p hark-text --example espeak_bench -- [rounds] [lang…]`

use std::time::Instant;

#[path = "common/cpu.rs"]
mod cpu;
use cpu::cpu;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let mut langs: Vec<hark_text::Lang> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    if langs.is_empty() {
        langs = "es fr-fr it pt-br hi"
            .split(' ')
            .map(|l| l.parse())
            .collect::<Result<_, _>>()?;
    }
    for lang in langs {
        let file = format!(
            "{}/tests/reference/g2p-{lang}.jsonl",
            env!("CARGO_MANIFEST_DIR")
        );
        let lines: Vec<String> = std::fs::read_to_string(&file)?
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .map(|v| v["text"].as_str().unwrap_or("").to_string())
            })
            .collect::<Result<_, _>>()?;
        let (c0, k0) = cpu();
        let t = Instant::now();
        let reader = hark_text::EspeakG2p::new(lang)?;
        let start_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut best: Option<(f64, f64)> = None;
        for _ in 0..rounds {
            let mut ms: Vec<f64> = lines
                .iter()
                .map(|l| {
                    let t = Instant::now();
                    std::hint::black_box(reader.phonemize(l));
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            ms.sort_by(f64::total_cmp);
            let median = ms[ms.len() / 2];
            let mean = ms.iter().sum::<f64>() / ms.len() as f64;
            if best.is_none_or(|(m, _)| median < m) {
                best = Some((median, mean));
            }
        }
        drop(reader);
        let (c1, k1) = cpu();
        let n = (rounds * lines.len()) as f64;
        let (median, mean) = best.unwrap_or_default();
        println!(
            "[{lang}] start {start_ms:.1} ms; per sentence: median {median:.2} ms, mean {mean:.2} ms wall \
             (best of {rounds}), CPU {:.2} ms ours + {:.2} ms espeak-ng ({} lines)",
            (c1 - c0) * 1e3 / n,
            (k1 - k0) * 1e3 / n,
            lines.len()
        );
    }
    Ok(())
}
