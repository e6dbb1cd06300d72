//! What a window of the decoder + generator costs on this machine, by its length:
//! `cargo run --release -p hark-kokoro --example window_cost [-- REPEATS]`
//! (weights from `$HARK_ASSETS`, default `~/.cache/hark/assets`). Prints the text side's cost,
//! `window F SECONDS` for a window rendered on its own (`render`, no state: what a stream cost
//! when it recomputed context), and `stream F ...` for the whole chunk streamed in windows of F
//! frames (each layer keeps its state from window to window): seconds per frame over the chunk
//! (the first window's look-ahead included) and per frame of the middle windows, and each
//! against the chunk streamed in 400-frame windows.
use std::time::Instant;

use hark_kokoro::{Config, ForwardOptions, Kokoro, StreamPlan, VoicePack};

const PS: &str = "lˈOkəl tˈɛkst tə spˈiʧ hæz kˈʌm ə lˈɔŋ wˈA. ə fjˈu jˈɪɹz əɡˈO, ə nˈæʧəɹəl vˈYs \
nˈidᵻd ə sˈɜɹvəɹ fˈɑɹm ænd ə nˈɛtwˌɜɹk kənˈɛkʃən; tədˈA ə mˈɑdᵊl wɪð ˈAti tˈu mˈɪljən pəɹˈæmətəɹz \
ɹˈʌnz ˌɑn ən ˈɔɹdᵊnˌɛɹi lˈæptˌɑp.";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dir = std::env::var("HARK_ASSETS")
        .unwrap_or_else(|_| format!("{}/.cache/hark/assets", std::env::var("HOME").unwrap()));
    let dir = std::path::Path::new(&dir);
    let cfg = Config::from_file(&dir.join("config.json"))?;
    // (this example is a shell: it turns HARK_GEMM / HARK_CPU / HARK_THREADS into a Compute)
    let var = |k: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty() && v != "auto")
    };
    let compute = hark_kokoro::Compute {
        backend: var("HARK_GEMM").map_or(Ok(Default::default()), |v| v.parse())?,
        level: var("HARK_CPU").map(|v| v.parse()).transpose()?,
        threads: var("HARK_THREADS").and_then(|v| v.parse().ok()),
        ..Default::default()
    };
    let m = Kokoro::load(&dir.join("kokoro-v1_0.safetensors"), &cfg, &compute)?;
    let v = VoicePack::load(&dir.join("voices/af_heart.bin"))?;
    let opts = ForwardOptions {
        deterministic: true,
        ..Default::default()
    };
    eprintln!(
        "{} ({}), {} loops, {} threads",
        m.backend(),
        m.backend_detail(),
        m.cpu_level(),
        m.threads()
    );
    // warm
    let p = m.prepare(PS, &v, 1.0, &opts)?;
    m.render(&p, 0..p.frames().min(100), &opts)?;
    for n in [20usize, 40, 80, 160, PS.chars().count()] {
        let s: String = PS.chars().take(n).collect();
        let mut best = f64::MAX;
        let mut parts = String::new();
        for _ in 0..reps {
            let t = Instant::now();
            let p = m.prepare(&s, &v, 1.0, &opts)?;
            let secs = t.elapsed().as_secs_f64();
            if secs < best {
                best = secs;
                let tm = p.timings();
                parts = format!(
                    "(bert {:.4}, durations {:.4}, f0/n {:.4}, text encoder {:.4})",
                    tm.bert, tm.predictor, tm.f0n, tm.text_encoder
                );
            }
        }
        println!("prepare {n} phonemes {best:.4} {parts}");
    }
    println!("frames in chunk {}", p.frames());
    for f in [8usize, 14, 22, 38, 70, 134, 262, 400] {
        let f = f.min(p.frames());
        let mut best = f64::MAX;
        for _ in 0..reps {
            let t = Instant::now();
            m.render(&p, 0..f, &opts)?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("window {f} {best:.4} rtf {:.2}", f as f64 * 0.025 / best);
    }
    let frames = p.frames();
    println!("look-ahead {} frames", m.stream_lookahead());
    let mut rows = Vec::new();
    for f in [8usize, 14, 22, 38, 70, 134, 262, 400] {
        let plan = StreamPlan {
            first: f,
            growth: 1.0,
            max: f,
        };
        let (mut best_total, mut best_mid) = (f64::MAX, f64::MAX);
        for _ in 0..reps {
            let mut s = m.stream(&p, plan, &opts);
            let t0 = Instant::now();
            let (mut mid_s, mut mid_f) = (0f64, 0usize);
            let mut i = 0;
            while !s.is_done() {
                let (t, at) = (Instant::now(), s.position());
                s.next().unwrap()?;
                let secs = t.elapsed().as_secs_f64();
                // the middle windows: neither the first (look-ahead) nor the last (flush)
                if i > 0 && !s.is_done() {
                    mid_s += secs;
                    mid_f += s.position() - at;
                }
                i += 1;
            }
            best_total = best_total.min(t0.elapsed().as_secs_f64() / frames as f64);
            if mid_f > 0 {
                best_mid = best_mid.min(mid_s / mid_f as f64);
            }
        }
        rows.push((f, best_total, best_mid));
    }
    let (_, base, _) = *rows.last().unwrap();
    for (f, total, mid) in rows {
        let mid = if mid < f64::MAX {
            format!("{mid:.5} s/frame ({:.2}x)", mid / base)
        } else {
            "-".into()
        };
        println!(
            "stream {f} chunk {total:.5} s/frame ({:.2}x), middle windows {mid}",
            total / base
        );
    }
    Ok(())
}
