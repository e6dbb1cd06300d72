//! How short can an utterance's first chunk be before its words sound clipped? For each
//! sentence and each head length N (words), the first N words are prepared alone and compared
//! with the same words inside the whole sentence: their durations (frames) and mean F0.
//! `cargo run --release -p hark-engine --example first_chunk [VOICE]`
//!
//! Printed per N, over all sentences: the mean |duration ratio − 1| of the head's words before
//! its last, the same for its last word (the one a cut makes phrase-final), the mean F0 ratio of
//! that last word, the silence the model puts after the head (its end pad, frames) and the text
//! side's time for the head and for the whole sentence.
use hark_kokoro::{Config, ForwardOptions, Kokoro, VoicePack};
use hark_text::{chunk, ChunkOptions, G2p, Lang, Lexicon};
use std::time::Instant;

const SENTENCES: [&str; 12] = [
    "The meeting has been moved to Thursday afternoon.",
    "Local text to speech has come a long way in only a few years.",
    "Today a model with eighty-two million parameters runs on an ordinary laptop.",
    "It can start talking the moment you select a sentence on the screen.",
    "Nothing leaves the machine and nothing has to be uploaded first.",
    "Please remember to bring the signed contract to the office tomorrow morning.",
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "My sister bought three new books about the history of medieval castles.",
    "When the train finally arrived, everyone on the platform started cheering loudly.",
    "Scientists have discovered a new species of frog in the rainforest of Peru.",
    "I think we should leave before the traffic gets any worse tonight.",
    "This document explains how to install the software on a new computer.",
];

struct Words {
    /// Frames per word.
    dur: Vec<f64>,
    /// Mean F0 per word (voiced values).
    f0: Vec<f64>,
    /// Frames of the trailing pad.
    end_pad: f64,
    secs: f64,
    /// ms before the first sample above −40 dBFS, and after the last; ms before the first word.
    lead_ms: f64,
    tail_ms: f64,
    word_ms: f64,
}

fn measure(
    model: &Kokoro,
    voice: &VoicePack,
    c: &hark_text::Chunk,
    n_words: usize,
) -> Result<Words, Box<dyn std::error::Error>> {
    let opts = ForwardOptions {
        deterministic: true,
        trace: true,
        ..Default::default()
    };
    let t = Instant::now();
    model.prepare(&c.phonemes, voice, 1.0, &ForwardOptions::default())?;
    let secs = t.elapsed().as_secs_f64();
    let s = model.synthesize(&c.phonemes, voice, 1.0, &opts)?;
    let trace = &s.trace.as_ref().ok_or("no trace")?.f0.0;
    let durs = &s.durations;
    // frame where each token starts (token i ↔ phoneme character i − 1)
    let mut starts = vec![0usize];
    for d in durs {
        starts.push(starts.last().unwrap() + *d as usize);
    }
    // phoneme byte offset → character index
    let char_at = |byte: usize| c.phonemes[..byte].chars().count();
    let mut dur = Vec::new();
    let mut f0 = Vec::new();
    for w in c.words.iter().take(n_words) {
        let (a, b) = (char_at(w.phonemes.start) + 1, char_at(w.phonemes.end) + 1);
        let (fa, fb) = (starts[a], starts[b]);
        dur.push((fb - fa) as f64);
        let vals: Vec<f64> = trace[2 * fa..2 * fb]
            .iter()
            .map(|&v| f64::from(v))
            .filter(|v| *v > 50.0)
            .collect();
        f0.push(if vals.is_empty() {
            f64::NAN
        } else {
            vals.iter().sum::<f64>() / vals.len() as f64
        });
    }
    let loud = |x: &f32| x.abs() >= 0.01;
    let a = s.audio.iter().position(loud).unwrap_or(0);
    let b = s.audio.iter().rposition(loud).unwrap_or(0);
    Ok(Words {
        lead_ms: a as f64 / 24.0,
        tail_ms: (s.audio.len() - b) as f64 / 24.0,
        word_ms: starts[1] as f64 * 25.0,
        dur,
        f0,
        end_pad: *durs.last().unwrap() as f64,
        secs,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let voice_name = std::env::args().nth(1).unwrap_or_else(|| "af_heart".into());
    let dir = hark_testkit::assets_dir();
    let cfg = Config::from_file(&dir.join("config.json"))?;
    let model = Kokoro::load(
        &dir.join("kokoro-v1_0.safetensors"),
        &cfg,
        &hark_kokoro::Compute::default(),
    )?;
    let voice = VoicePack::load(&dir.join("voices").join(format!("{voice_name}.bin")))?;
    let lang = if voice_name.starts_with('b') {
        Lang::EnGb
    } else {
        Lang::EnUs
    };
    let g2p = G2p::new(Lexicon::load(&dir.join("lexicons"), lang)?);
    let opts = ChunkOptions::default();
    // (N, Σ|inner−1|, inner count, Σ|last−1|, Σ f0 last ratio, f0 count, Σ end pad, Σ head s, Σ whole s, sentences)
    type Row = (usize, f64, usize, f64, f64, usize, f64, f64, f64, usize);
    let mut rows: Vec<Row> = (2..=8)
        .map(|n| (n, 0.0, 0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0))
        .collect();
    for s in SENTENCES {
        let c = chunk(s, &g2p, &opts).remove(0);
        let n_all = c.words.len();
        let whole = measure(&model, &voice, &c, n_all)?;
        println!(
            "{s}\n  whole: {} words, end pad {} frames; first word at {:.0} ms, first sample \
             above -40 dBFS at {:.0} ms, last {:.0} ms before the end",
            n_all, whole.end_pad, whole.word_ms, whole.lead_ms, whole.tail_ms
        );
        for row in rows.iter_mut() {
            let n = row.0;
            let Some((mut head, _)) = c.split_at_word(n) else {
                continue;
            };
            // FIRST_CHUNK_MARK="," ends the head with that mark, as the engine could
            if let Ok(mark) = std::env::var("FIRST_CHUNK_MARK") {
                if !head.phonemes.ends_with([',', ';', ':', '—']) {
                    head.phonemes.push_str(&mark);
                }
            }
            let h = measure(&model, &voice, &head, n)?;
            let ratios: Vec<f64> = (0..n).map(|i| h.dur[i] / whole.dur[i]).collect();
            let f0_last = h.f0[n - 1] / whole.f0[n - 1];
            println!(
                "  N={n}: durations ×{:?}, last word F0 ×{f0_last:.2}, end pad {} frames, \
                 audible to {:.0} ms before the end",
                ratios
                    .iter()
                    .map(|r| (r * 100.0).round() / 100.0)
                    .collect::<Vec<_>>(),
                h.end_pad,
                h.tail_ms
            );
            for r in &ratios[..n - 1] {
                row.1 += (r - 1.0).abs();
                row.2 += 1;
            }
            row.3 += (ratios[n - 1] - 1.0).abs();
            if f0_last.is_finite() {
                row.4 += f0_last;
                row.5 += 1;
            }
            row.6 += h.end_pad;
            row.7 += h.secs;
            row.8 += whole.secs;
            row.9 += 1;
        }
    }
    println!("\nN  inner|Δdur|  last|Δdur|  last F0×  end pad  head ms  whole ms  (sentences)");
    for (n, si, ci, sl, sf, cf, sp, sh, sw, k) in rows {
        if k == 0 {
            continue;
        }
        let k_f = k as f64;
        println!(
            "{n}  {:>10.1}%  {:>9.1}%  {:>8.2}  {:>7.1}  {:>7.1}  {:>8.1}  ({k})",
            100.0 * si / ci.max(1) as f64,
            100.0 * sl / k_f,
            sf / cf.max(1) as f64,
            sp / k_f,
            1e3 * sh / k_f,
            1e3 * sw / k_f,
        );
    }
    Ok(())
}
