//! The speech engine's latency benchmark, the engine section of `hark bench` (a client of the
//! engine's public API, so it lives here and not in the library).
//!
//! Time to first audio (TTFA) is measured from `speak` to the
//! [`Event::Started`] event, which the playback thread sends right after it
//! handed the first sample to the sink; its audible version to the moment a real-time
//! device would have played the first sample above −40 dBFS ([`Engine::first_audible`](hark_engine::Engine::first_audible)).
//! The output is forced to [`Output::Null`], so nothing waits for a sound card.

use crate::bench_texts::{PARAGRAPH, SENTENCE};
use anyhow::{anyhow, Result};
use hark_engine::{
    Engine, EngineConfig, Event, ModelSource, Output, SpeakOptions, UtteranceId, DEFAULT_VOICE,
};
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::TryRecvError;

/// What `hark bench` prints. The main figures use the configuration as given (fast start on
/// by default, see [`hark_engine::EngineConfig::fast_start`]); the `_exact_` ones have it off.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyReport {
    /// Whether the main figures had fast start on.
    pub fast_start: bool,
    /// Seconds the engine's start-up warm-up took (see [`hark_engine::WarmUp`]); the figures below
    /// were measured after it.
    pub warm_up_s: f64,
    /// TTFA for one short sentence, ms (median of [`SENTENCE_RUNS`]).
    pub ttfa_sentence_ms: f64,
    /// TTFA for one ~90-word paragraph, ms (median of [`PARAGRAPH_RUNS`]).
    pub ttfa_paragraph_ms: f64,
    /// Time from `speak` to the sentence's first sample above −40 dBFS as a real-time device
    /// fed the same way would have played it (the voice, past any leading near-silence), ms
    /// (median of [`SENTENCE_RUNS`]).
    pub ttfa_sentence_audible_ms: f64,
    /// The same for the paragraph, ms (median of [`PARAGRAPH_RUNS`]).
    pub ttfa_paragraph_audible_ms: f64,
    /// TTFA for a 5,000-word article, ms (the article is stopped after its first audio).
    pub ttfa_article_ms: f64,
    /// Silence a real-time device would have inserted after the first sample of the sentence
    /// because audio was not ready in time (see [`hark_engine::Engine::late_audio`]), ms; the worst run.
    pub gap_sentence_ms: f64,
    /// The same for the paragraph, ms (worst run).
    pub gap_paragraph_ms: f64,
    /// TTFA for the sentence with fast start off (exact audio), ms.
    pub ttfa_sentence_exact_ms: f64,
    /// TTFA for the paragraph with fast start off, ms.
    pub ttfa_paragraph_exact_ms: f64,
    /// Late audio in the paragraph with fast start off, ms.
    pub gap_paragraph_exact_ms: f64,
    /// Audio seconds / wall seconds for the paragraph runs, `speak` to `Finished` (> 1 is faster
    /// than real time), the same direction as the model's `rtf`.
    pub rtf_end_to_end: f64,
    /// Peak resident memory of the process (VmHWM), MB.
    pub peak_rss_mb: f64,
    /// Resident memory (VmRSS) after 1,000 short utterances on the tiny model, MB.
    pub rss_after_1000_mb: f64,
    /// Resident memory after the first 100 of those utterances, MB (for comparison).
    pub rss_after_100_mb: f64,
    /// Seconds of audio in one paragraph.
    pub paragraph_audio_s: f64,
}

/// A deterministic article of at least `words` words.
pub fn article(words: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    let mut i = 0;
    while n < words {
        out.push_str(PARAGRAPH);
        out.push_str(if i % 3 == 2 { "\n\n" } else { " " });
        n += PARAGRAPH.split_whitespace().count();
        i += 1;
    }
    out
}

/// Wait for `id`'s first event matching `pred`; error on its terminal event or timeout.
fn wait(
    rx: &mut tokio::sync::broadcast::Receiver<Event>,
    id: UtteranceId,
    timeout: Duration,
    pred: impl Fn(&Event) -> bool,
) -> Result<Event> {
    let deadline = Instant::now() + timeout;
    loop {
        match rx.try_recv() {
            Ok(ev) if ev.id() == Some(id) && pred(&ev) => return Ok(ev),
            Ok(Event::Error {
                id: Some(e),
                message,
            }) if e == id => return Err(anyhow!(message)),
            Ok(ev) if ev.id() == Some(id) && ev.is_terminal() => {
                return Err(anyhow!("utterance ended early: {ev:?}"))
            }
            Ok(_) | Err(TryRecvError::Lagged(_)) => {}
            Err(TryRecvError::Empty) => {
                if Instant::now() > deadline {
                    return Err(anyhow!("benchmark timed out"));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(TryRecvError::Closed) => return Err(anyhow!("engine gone")),
        }
    }
}

fn ttfa(
    engine: &Engine,
    text: &str,
) -> Result<(f64, UtteranceId, tokio::sync::broadcast::Receiver<Event>)> {
    let mut rx = engine.subscribe();
    let t0 = Instant::now();
    let id = engine.speak(text, SpeakOptions::default());
    wait(&mut rx, id, Duration::from_secs(600), |e| {
        matches!(e, Event::Started { .. })
    })?;
    Ok((t0.elapsed().as_secs_f64() * 1000.0, id, rx))
}

/// One utterance spoken to the end through the engine's null output.
struct Spoken {
    /// Time to first audio, ms.
    ttfa_ms: f64,
    /// Time to the first audible sample, ms.
    audible_ms: f64,
    /// Silence a real-time player would have heard (see [`Engine::late_audio`]), ms.
    gap_ms: f64,
    /// `speak` to `Finished`, s.
    wall_s: f64,
    /// Audio handed to the output, s.
    audio_s: f64,
}

fn spoken(engine: &Engine, text: &str) -> Result<Spoken> {
    let before = engine.samples_written();
    let late = engine.late_audio();
    let t0 = Instant::now();
    let (ttfa_ms, id, mut rx) = ttfa(engine, text)?;
    wait(&mut rx, id, Duration::from_secs(3600), |e| {
        matches!(e, Event::Finished { .. })
    })?;
    let audible_ms = engine
        .first_audible()
        .filter(|&at| at >= t0)
        .map_or(f64::NAN, |at| (at - t0).as_secs_f64() * 1e3);
    Ok(Spoken {
        ttfa_ms,
        audible_ms,
        gap_ms: (engine.late_audio() - late).as_secs_f64() * 1e3,
        wall_s: t0.elapsed().as_secs_f64(),
        audio_s: (engine.samples_written() - before) as f64 / f64::from(hark_engine::SAMPLE_RATE),
    })
}

/// `text` spoken `runs` times: the median time to first audio, the worst gap, and wall time and
/// audio summed over the runs (one measurement is at the mercy of whatever else the machine did).
fn spoken_runs(engine: &Engine, text: &str, runs: usize) -> Result<Spoken> {
    let mut all = (0..runs.max(1))
        .map(|_| spoken(engine, text))
        .collect::<Result<Vec<_>>>()?;
    let mut audible: Vec<f64> = all.iter().map(|s| s.audible_ms).collect();
    audible.sort_by(f64::total_cmp);
    all.sort_by(|a, b| a.ttfa_ms.total_cmp(&b.ttfa_ms));
    Ok(Spoken {
        ttfa_ms: all[all.len() / 2].ttfa_ms,
        audible_ms: audible[audible.len() / 2],
        gap_ms: all.iter().map(|s| s.gap_ms).fold(0.0, f64::max),
        wall_s: all.iter().map(|s| s.wall_s).sum(),
        audio_s: all.iter().map(|s| s.audio_s).sum(),
    })
}

/// Runs behind each sentence figure (median first audio, worst gap).
pub const SENTENCE_RUNS: usize = 5;
/// Runs behind each paragraph figure.
pub const PARAGRAPH_RUNS: usize = 3;

fn status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Run the benchmark with `engine_cfg` (its output is replaced by [`Output::Null`]).
/// The 1,000-utterance memory run uses the tiny model with the same lexicons.
pub fn latency(engine_cfg: EngineConfig) -> Result<LatencyReport> {
    let long = Duration::from_secs(3600);

    // Memory over 1,000 utterances first, before the real model is resident.
    let (rss_after_100_mb, rss_after_1000_mb) = {
        let mut cfg = engine_cfg.clone();
        cfg.model = ModelSource::Tiny { seed: 1 };
        cfg.voices_dir = None;
        cfg.voice = DEFAULT_VOICE.into();
        cfg.output = Output::Null;
        let engine = Engine::start(cfg)?;
        let mut rx = engine.subscribe();
        let mut after_100 = 0.0;
        for i in 0..1000 {
            let id = engine.speak(SENTENCE, SpeakOptions::default());
            wait(&mut rx, id, long, |e| matches!(e, Event::Finished { .. }))?;
            if i == 99 {
                after_100 = status_mb("VmRSS:");
            }
        }
        (after_100, status_mb("VmRSS:"))
    };

    let mut cfg = engine_cfg;
    cfg.output = Output::Null;
    let fast_start = cfg.fast_start;
    let engine = Engine::start(cfg)?;
    // The engine warms itself up after loading (first-call costs, and the cost figures its
    // pacing plans with); measure after that, as a user pressing a key after launch would.
    let warm_up_s = engine
        .warm_up(long)
        .ok_or_else(|| anyhow!("the engine's warm-up did not finish"))?
        .secs;
    let sentence = spoken_runs(&engine, SENTENCE, SENTENCE_RUNS)?;
    let paragraph = spoken_runs(&engine, PARAGRAPH, PARAGRAPH_RUNS)?;
    let rtf_end_to_end = if paragraph.wall_s > 0.0 {
        paragraph.audio_s / paragraph.wall_s
    } else {
        0.0
    };

    // The same two with each first chunk computed whole.
    engine.set_fast_start(false);
    let sentence_exact = spoken_runs(&engine, SENTENCE, SENTENCE_RUNS)?;
    let paragraph_exact = spoken_runs(&engine, PARAGRAPH, PARAGRAPH_RUNS)?;
    engine.set_fast_start(fast_start);

    let text = article(5000);
    let (ttfa_article_ms, id, mut rx) = ttfa(&engine, &text)?;
    engine.stop();
    wait(&mut rx, id, long, |e| matches!(e, Event::Cancelled { .. }))?;

    Ok(LatencyReport {
        fast_start,
        warm_up_s,
        ttfa_sentence_ms: sentence.ttfa_ms,
        ttfa_paragraph_ms: paragraph.ttfa_ms,
        ttfa_sentence_audible_ms: sentence.audible_ms,
        ttfa_paragraph_audible_ms: paragraph.audible_ms,
        ttfa_article_ms,
        gap_sentence_ms: sentence.gap_ms,
        gap_paragraph_ms: paragraph.gap_ms,
        ttfa_sentence_exact_ms: sentence_exact.ttfa_ms,
        ttfa_paragraph_exact_ms: paragraph_exact.ttfa_ms,
        gap_paragraph_exact_ms: paragraph_exact.gap_ms,
        rtf_end_to_end,
        peak_rss_mb: status_mb("VmHWM:"),
        rss_after_1000_mb,
        rss_after_100_mb,
        paragraph_audio_s: paragraph.audio_s / PARAGRAPH_RUNS as f64,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn article_has_the_requested_length() {
        let a = super::article(5000);
        let n = a.split_whitespace().count();
        assert!((5000..5100).contains(&n), "{n}");
    }
}
