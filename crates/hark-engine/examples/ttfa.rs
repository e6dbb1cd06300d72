//! Time to first audio and late audio (gaps a real-time device would have played) through the
//! engine on the null output:
//! `cargo run --release -p hark-engine --example ttfa -- [fast|exact] [RUNS] [TEXT]`
//! (TEXT defaults to the benchmark's sentence; `paragraph` picks its paragraph). Like the
//! benchmark, it waits for the engine's warm-up first; `HARK_NO_WARM_UP=1` speaks at once.
use hark_engine::{Engine, EngineConfig, Event, Output, SpeakOptions};

/// `hark bench`'s texts.
#[path = "../../hark-cli/src/bench_texts.rs"]
mod bench;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=hark_engine=debug shows the pacing's measured costs and decisions.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = hark_testkit::assets_dir();
    let mut cfg = EngineConfig::from_assets(&dir);
    cfg.output = Output::Null;
    cfg.fast_start = args.first().is_none_or(|s| s == "fast");
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let text = match args.get(2).map(String::as_str) {
        None => bench::SENTENCE.to_string(),
        Some("paragraph") => bench::PARAGRAPH.to_string(),
        Some(t) => t.to_string(),
    };
    let engine = Engine::start(cfg)?;
    if std::env::var_os("HARK_NO_WARM_UP").is_none() {
        if let Some(w) = engine.warm_up(std::time::Duration::from_secs(120)) {
            eprintln!("warm-up {:.2} s", w.secs);
        }
    }
    let mut rx = engine.subscribe();
    let mut firsts = Vec::new();
    let mut lates = Vec::new();
    for i in 0..=runs {
        let late = engine.late_audio();
        let t0 = Instant::now();
        let id = engine.speak(
            if i == 0 { "Warming up." } else { &text },
            SpeakOptions::default(),
        );
        let mut first = f64::NAN;
        loop {
            let ev = rx.blocking_recv()?;
            if ev.id() != Some(id) {
                continue;
            }
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            match ev {
                Event::Started { .. } => first = ms,
                e if e.is_terminal() => {
                    let late_ms = (engine.late_audio() - late).as_secs_f64() * 1e3;
                    eprintln!(
                        "first audio {first:.0} ms, done {ms:.0} ms, late {late_ms:.0} ms ({e:?})"
                    );
                    if i > 0 {
                        firsts.push(first);
                        lates.push(late_ms);
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    firsts.sort_by(f64::total_cmp);
    lates.sort_by(f64::total_cmp);
    println!(
        "median first audio {:.0} ms, median late {:.0} ms, worst late {:.0} ms",
        firsts[firsts.len() / 2],
        lates[lates.len() / 2],
        lates.last().unwrap()
    );
    Ok(())
}
