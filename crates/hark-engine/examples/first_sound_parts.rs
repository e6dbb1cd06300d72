//! Where the first sound's time goes, stage by stage, for the benchmark's sentence and the first
//! sentence of its paragraph: the front end (G2P), the text side (ALBERT + projection,
//! duration predictor, F0/energy, text encoder) and the first stream window (decoder look-ahead
//! plus its frames). Median of RUNS (default 15) after a warm-up.
//! `cargo run --release -p hark-engine --example first_sound_parts -- [RUNS] [FIRST_WINDOW]`
use hark_kokoro::{Config, ForwardOptions, Kokoro, StreamPlan, VoicePack};
use hark_text::{chunk, ChunkOptions, G2p, Lang, Lexicon};
use std::path::PathBuf;
use std::time::Instant;

/// The benchmark's sentence and the first sentence of its paragraph (`hark bench`).
const SENTENCE: &str = "The meeting has been moved to Thursday afternoon.";
const PARA_FIRST: &str = "Local text to speech has come a long way.";

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2] * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(15);
    let first: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(StreamPlan::default().first);
    let dir = PathBuf::from(std::env::var("HOME")?).join(".cache/hark/assets");
    let cfg = Config::from_file(&dir.join("config.json"))?;
    let model = Kokoro::load(
        &dir.join("kokoro-v1_0.safetensors"),
        &cfg,
        &hark_kokoro::Compute::default(),
    )?;
    let voice = VoicePack::load(&dir.join("voices/af_heart.bin"))?;
    let g2p = G2p::new(Lexicon::load(&dir.join("lexicons"), Lang::EnUs)?);
    println!(
        "look-ahead {} frames, first window {first} frames",
        model.stream_lookahead()
    );
    for text in [SENTENCE, PARA_FIRST] {
        let opts = ChunkOptions::default();
        let fwd = ForwardOptions::default();
        let mut cols: Vec<Vec<f64>> = vec![Vec::new(); 8];
        let mut info = (0, 0);
        for r in 0..runs + 2 {
            let t = Instant::now();
            let c = chunk(text, &g2p, &opts).remove(0);
            let g2p_s = t.elapsed().as_secs_f64();
            let p = model.prepare(&c.phonemes, &voice, 1.0, &fwd)?;
            let tm = *p.timings();
            let t1 = Instant::now();
            let plan = StreamPlan {
                first,
                ..StreamPlan::default()
            };
            let mut s = model.stream(&p, plan, &fwd);
            let w = s.next().ok_or("no window")??;
            let win_s = t1.elapsed().as_secs_f64();
            info = (c.phonemes.chars().count(), p.frames());
            if r == 0 {
                let d = p.durations();
                let lead = w.iter().position(|v| v.abs() > 0.01).unwrap_or(w.len());
                println!(
                    "  durations of the first tokens {:?} (frames); first window {} samples, first above -40 dBFS at {}",
                    &d[..4.min(d.len())],
                    w.len(),
                    lead
                );
            }
            if r >= 2 {
                for (col, v) in cols.iter_mut().zip([
                    g2p_s,
                    tm.bert,
                    tm.predictor,
                    tm.f0n,
                    tm.text_encoder,
                    tm.total,
                    win_s,
                    t.elapsed().as_secs_f64(),
                ]) {
                    col.push(v);
                }
            }
        }
        let m: Vec<f64> = cols.iter_mut().map(|c| median(c)).collect();
        println!(
            "{text:?}: {} phonemes, {} frames\n  g2p {:.1}  bert {:.1}  predictor {:.1}  f0n {:.1}  \
             text_encoder {:.1}  text side {:.1}  first window {:.1}  total {:.1} ms",
            info.0, info.1, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
        );
    }
    Ok(())
}
