//! `hark bench`: model load time, real-time factor of the forward pass over the public reference cases,
//! and peak memory. `--json` prints one JSON object on stdout.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use hark_assets::AssetDir;
use hark_kokoro::{Config, ForwardOptions, Kokoro, VoicePack, SAMPLE_RATE};
use serde::{Deserialize, Serialize};

use crate::util::{asset_dir, peak_rss_mb};

/// The public reference texts with their phonemes, voice and speed (from the model crate's
/// reference cases, `crates/hark-kokoro/tests/reference`).
const CASES: &str = include_str!("../data/bench-cases.json");

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only the first N cases (default: all 14).
    #[arg(long)]
    pub cases: Option<usize>,
    /// Skip the speech-engine section (time to first audio, end-to-end RTF, memory over 1,000 utterances).
    #[arg(long)]
    pub no_latency: bool,
}

#[derive(Deserialize)]
struct Case {
    case: String,
    phonemes: String,
    voice: String,
    speed: f32,
    frames: u64,
}

#[derive(Serialize)]
struct CaseResult {
    case: String,
    tokens: usize,
    audio_s: f64,
    compute_s: f64,
    rtf: f64,
    frames_match_reference: bool,
}

#[derive(Serialize)]
struct Report {
    rtf: f64,
    load_s: f64,
    warmup_s: f64,
    audio_s: f64,
    compute_s: f64,
    /// Peak RSS of the whole run (model section and, unless skipped, the engine section).
    peak_rss_mb: Option<f64>,
    /// Peak RSS after the model section alone.
    model_peak_rss_mb: Option<f64>,
    /// Threads the model ran on (`--threads`, default one per core).
    threads: usize,
    /// The matrix-product engine that ran (`gemm`, `openblas`, `accelerate`).
    gemm_backend: String,
    /// What that engine is (library, version, kernel family).
    gemm_detail: String,
    /// GFLOP/s of that engine on the model's dominant matrix shapes, all threads.
    gemm_gflops: f64,
    /// Vector instructions the kernels ran (`avx512`, `avx2`, `neon`, `scalar`).
    cpu_level: String,
    /// The CPU, as the OS names it.
    cpu_model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfa_sentence_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfa_paragraph_ms: Option<f64>,
    /// Time to the first sample above −40 dBFS (the voice), sentence and paragraph, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfa_sentence_audible_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfa_paragraph_audible_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfa_article_ms: Option<f64>,
    /// Silence a real-time device would have heard after the first sample (audio not ready in
    /// time), ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_sentence_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_paragraph_ms: Option<f64>,
    /// Seconds the engine's start-up warm-up took (the engine figures are measured after it).
    #[serde(skip_serializing_if = "Option::is_none")]
    warm_up_s: Option<f64>,
    /// Whether the figures above had fast start on (the default; `--exact` turns it off).
    #[serde(skip_serializing_if = "Option::is_none")]
    fast_start: Option<bool>,
    /// The same with fast start off: each first sentence computed whole (exact audio).
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfa_sentence_exact_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfa_paragraph_exact_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_paragraph_exact_ms: Option<f64>,
    /// Audio seconds / wall seconds from `speak` to the end of a paragraph, through the whole engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    rtf_end_to_end: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rss_after_1000_mb: Option<f64>,
    cases: Vec<CaseResult>,
}

pub fn run(assets: Option<&Path>, args: BenchArgs, compute: hark_kokoro::Compute) -> Result<()> {
    let dir = asset_dir(assets)?;
    let mut cases: Vec<Case> = serde_json::from_str(CASES).context("embedded bench cases")?;
    if let Some(n) = args.cases {
        cases.truncate(n.max(1));
    }
    let t0 = Instant::now();
    let cfg = Config::from_file(&dir.config_path())
        .context("reading the model config; run `hark fetch`")?;
    let model = Kokoro::load(&dir.weights_path(), &cfg, &compute)
        .context("loading the model; run `hark fetch`")?;
    let load_s = t0.elapsed().as_secs_f64();
    let opts = ForwardOptions {
        deterministic: true,
        seed: 0,
        ..Default::default()
    };

    // One untimed pass so thread pools and page faults of the mapped weights don't count as compute.
    let t = Instant::now();
    let warm_voice = load_voice(&dir, &cases[0].voice)?;
    model.synthesize(&cases[0].phonemes, &warm_voice, cases[0].speed, &opts)?;
    let warmup_s = t.elapsed().as_secs_f64();

    let mut results = Vec::new();
    for c in &cases {
        let voice = load_voice(&dir, &c.voice)?;
        let t = Instant::now();
        let s = model.synthesize(&c.phonemes, &voice, c.speed, &opts)?;
        let compute_s = t.elapsed().as_secs_f64();
        let audio_s = s.audio.len() as f64 / SAMPLE_RATE as f64;
        let frames: u64 = s.durations.iter().map(|&d| d as u64).sum();
        results.push(CaseResult {
            case: c.case.clone(),
            tokens: s.durations.len(),
            audio_s,
            compute_s,
            rtf: audio_s / compute_s,
            frames_match_reference: frames == c.frames,
        });
        if !args.json {
            eprintln!(
                "  {} {:>4} tokens {:>7.3} s audio in {:>7.3} s",
                c.case,
                s.durations.len(),
                audio_s,
                compute_s
            );
        }
    }
    let backend = model.backend();
    let gemm_detail = model.backend_detail();
    let gemm_gflops = model.gemm_gflops();
    let (threads, cpu_level) = (model.threads(), model.cpu_level());
    let audio_s: f64 = results.iter().map(|r| r.audio_s).sum();
    let compute_s: f64 = results.iter().map(|r| r.compute_s).sum();
    if compute_s <= 0.0 {
        bail!("no compute time measured");
    }
    drop(model);
    let model_peak_rss_mb = peak_rss_mb();
    let latency = if args.no_latency {
        None
    } else {
        if !args.json {
            eprintln!("  engine: time to first audio, end-to-end RTF, 1,000 utterances…");
        }
        // Not deterministic: a deterministic engine does not pace, and pacing is part of what
        // is measured (the noise seed makes no difference to the timing).
        let mut ecfg = hark_engine::EngineConfig::from_assets(dir.root());
        ecfg.compute = compute;
        Some(crate::latency::latency(ecfg).context("engine latency benchmark")?)
    };
    let report = Report {
        rtf: audio_s / compute_s,
        load_s,
        warmup_s,
        audio_s,
        compute_s,
        peak_rss_mb: peak_rss_mb(),
        model_peak_rss_mb,
        ttfa_sentence_ms: latency.as_ref().map(|l| l.ttfa_sentence_ms),
        ttfa_paragraph_ms: latency.as_ref().map(|l| l.ttfa_paragraph_ms),
        ttfa_sentence_audible_ms: latency.as_ref().map(|l| l.ttfa_sentence_audible_ms),
        ttfa_paragraph_audible_ms: latency.as_ref().map(|l| l.ttfa_paragraph_audible_ms),
        ttfa_article_ms: latency.as_ref().map(|l| l.ttfa_article_ms),
        gap_sentence_ms: latency.as_ref().map(|l| l.gap_sentence_ms),
        gap_paragraph_ms: latency.as_ref().map(|l| l.gap_paragraph_ms),
        fast_start: latency.as_ref().map(|l| l.fast_start),
        warm_up_s: latency.as_ref().map(|l| l.warm_up_s),
        ttfa_sentence_exact_ms: latency.as_ref().map(|l| l.ttfa_sentence_exact_ms),
        ttfa_paragraph_exact_ms: latency.as_ref().map(|l| l.ttfa_paragraph_exact_ms),
        gap_paragraph_exact_ms: latency.as_ref().map(|l| l.gap_paragraph_exact_ms),
        rtf_end_to_end: latency.as_ref().map(|l| l.rtf_end_to_end),
        rss_after_1000_mb: latency.as_ref().map(|l| l.rss_after_1000_mb),
        threads,
        gemm_backend: backend.name().to_string(),
        gemm_detail,
        gemm_gflops,
        cpu_level: cpu_level.name().to_string(),
        cpu_model: cpu_model(),
        cases: results,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("model load      {:>8.3} s", report.load_s);
        println!("warm-up pass    {:>8.3} s", report.warmup_s);
        println!(
            "audio           {:>8.3} s over {} cases",
            report.audio_s,
            report.cases.len()
        );
        println!("compute         {:>8.3} s", report.compute_s);
        println!("RTF (forward)   {:>8.2}x real time", report.rtf);
        println!(
            "GEMM            {:>8.1} GFLOP/s: {} ({}), {} thread(s), {} kernels on {}",
            report.gemm_gflops,
            report.gemm_backend,
            report.gemm_detail,
            report.threads,
            report.cpu_level,
            report.cpu_model
        );
        if let Some(m) = report.model_peak_rss_mb {
            println!("peak RSS (model){m:>8.1} MB");
        }
        if let (Some(s), Some(p), Some(a)) = (
            report.ttfa_sentence_ms,
            report.ttfa_paragraph_ms,
            report.ttfa_article_ms,
        ) {
            println!("first audio     {s:>8.0} ms sentence, {p:.0} ms paragraph, {a:.0} ms 5,000-word article");
        }
        if let (Some(s), Some(p)) = (
            report.ttfa_sentence_audible_ms,
            report.ttfa_paragraph_audible_ms,
        ) {
            println!("first voice     {s:>8.0} ms sentence, {p:.0} ms paragraph (above -40 dBFS)");
        }
        if let (Some(s), Some(p)) = (report.gap_sentence_ms, report.gap_paragraph_ms) {
            println!("gaps (late audio) {s:>6.0} ms sentence, {p:.0} ms paragraph");
        }
        if let (Some(s), Some(p), Some(g)) = (
            report.ttfa_sentence_exact_ms,
            report.ttfa_paragraph_exact_ms,
            report.gap_paragraph_exact_ms,
        ) {
            let mode = if report.fast_start == Some(true) {
                "(above: fast start)"
            } else {
                ""
            };
            println!("exact first chunk {s:>6.0} ms sentence, {p:.0} ms paragraph, gaps {g:.0} ms {mode}");
        }
        if let Some(r) = report.rtf_end_to_end {
            println!("RTF (engine)    {r:>8.2}x real time, end to end");
        }
        if let Some(m) = report.rss_after_1000_mb {
            println!("RSS after 1,000 utterances {m:.1} MB");
        }
        if let Some(m) = report.peak_rss_mb {
            println!("peak RSS        {m:>8.1} MB");
        }
        let mismatched: Vec<&str> = report
            .cases
            .iter()
            .filter(|c| !c.frames_match_reference)
            .map(|c| c.case.as_str())
            .collect();
        if !mismatched.is_empty() {
            println!(
                "durations differ from the reference in: {}",
                mismatched.join(", ")
            );
        }
    }
    Ok(())
}

/// The CPU's model name (`/proc/cpuinfo` on Linux, `sysctl` on macOS), or "unknown".
fn cpu_model() -> String {
    #[cfg(target_os = "linux")]
    if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
        if let Some(name) = info
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
        {
            return name.1.trim().to_string();
        }
    }
    #[cfg(target_os = "macos")]
    if let Ok(out) = std::process::Command::new("sysctl")
        .args(["-n", "machdep.cpu.brand_string"])
        .output()
    {
        let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !name.is_empty() {
            return name;
        }
    }
    "unknown".into()
}

/// Loads the voice of a case (one installed voice).
fn load_voice(dir: &AssetDir, name: &str) -> Result<VoicePack> {
    let path = dir.voice_path(name);
    if !path.is_file() {
        bail!("voice `{name}` is not installed; run `hark fetch`");
    }
    VoicePack::load(&path).with_context(|| format!("loading voice `{name}`"))
}
