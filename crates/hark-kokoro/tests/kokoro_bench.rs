//! Speed of the forward pass on the 14 reference cases (ignored by default; run in release):
//!
//! ```text
//! HARK_ASSETS=/path/to/assets cargo test --release -p hark-kokoro --test kokoro_bench -- --ignored --nocapture
//! ```
//! Prints per-module seconds, the real-time factor (audio seconds / forward seconds) per case
//! and overall, and the process's peak RSS (VmHWM, asserted ≤ 500 MB).

mod common;

use common::{load_cases, real_model};
use hark_kokoro::{ForwardOptions, SAMPLE_RATE};

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[test]
#[ignore = "benchmark: needs the real weights and a release build"]
fn forward_speed_on_reference_cases() {
    let model = real_model();
    let cases = load_cases();
    // warm-up (thread pool, page faults)
    let c0 = &cases[0];
    let opts = ForwardOptions {
        deterministic: true,
        ..Default::default()
    };
    model
        .forward_ids(&c0.input_ids, &c0.f32("ref_s").0, c0.speed, &opts)
        .unwrap();
    eprintln!(
        "{:8} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "case",
        "tokens",
        "audio_s",
        "fwd_s",
        "RTF",
        "bert",
        "pred",
        "f0n",
        "tenc",
        "dec",
        "src",
        "gen0",
        "gen1",
        "post"
    );
    let (mut audio_total, mut fwd_total) = (0f64, 0f64);
    let mut sum = hark_kokoro::Timings::default();
    for c in &cases {
        let out = model
            .forward_ids(&c.input_ids, &c.f32("ref_s").0, c.speed, &opts)
            .unwrap();
        let t = out.timings;
        let audio_s = out.audio.len() as f64 / SAMPLE_RATE as f64;
        audio_total += audio_s;
        fwd_total += t.total;
        sum.bert += t.bert;
        sum.predictor += t.predictor;
        sum.f0n += t.f0n;
        sum.text_encoder += t.text_encoder;
        sum.decoder += t.decoder;
        sum.source += t.source;
        sum.generator_stage[0] += t.generator_stage[0];
        sum.generator_stage[1] += t.generator_stage[1];
        sum.post += t.post;
        eprintln!(
            "{:8} {:>6} {:>7.3} {:>7.3} {:>6.2} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
            c.name,
            c.input_ids.len(),
            audio_s,
            t.total,
            audio_s / t.total,
            t.bert,
            t.predictor,
            t.f0n,
            t.text_encoder,
            t.decoder,
            t.source,
            t.generator_stage[0],
            t.generator_stage[1],
            t.post
        );
    }
    eprintln!(
        "{:8} {:>6} {:>7.3} {:>7.3} {:>6.2} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
        "total",
        "",
        audio_total,
        fwd_total,
        audio_total / fwd_total,
        sum.bert,
        sum.predictor,
        sum.f0n,
        sum.text_encoder,
        sum.decoder,
        sum.source,
        sum.generator_stage[0],
        sum.generator_stage[1],
        sum.post
    );
    if let Some(mb) = peak_rss_mb() {
        eprintln!("peak RSS {mb:.0} MB");
        // budget: mapped weights (~325 MB) + generator buffers of a 25 s chunk
        assert!(mb <= 500.0, "peak RSS {mb:.0} MB over the 500 MB budget");
    }
    assert!(fwd_total > 0.0);
}
