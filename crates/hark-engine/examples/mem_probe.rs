//! Where the model's memory goes: resident memory (and its anonymous and file-backed parts;
//! the weights are a mapped file) after loading, preparing a sentence, streaming it, a whole
//! pass, a six-times-longer whole pass and dropping the model, with the high-water mark.
//! `cargo run --release -p hark-engine --example mem_probe` (`STOP_AFTER_STREAM=1`: only up to
//! the stream, so the high-water mark is the stream's).
use hark_kokoro::{Config, ForwardOptions, Kokoro, StreamPlan, VoicePack};
use std::path::PathBuf;
/// Prints the memory figures of this process under `tag`.
fn st(tag: &str) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let g = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<f64>()
            .unwrap()
            / 1024.0
    };
    let sm = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    let h = |k: &str| {
        sm.lines()
            .find(|l| l.starts_with(k))
            .map(|l| l.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0)
            .unwrap_or(0.0)
    };
    println!(
        "{tag:>28}: rss {:.0} hwm {:.0} anon {:.0} file {:.0} MB",
        g("VmRSS:"),
        g("VmHWM:"),
        h("Anonymous:"),
        g("RssFile:")
    );
}
fn main() -> Result<(), Box<dyn std::error::Error>> {
    st("start");
    let dir = PathBuf::from(std::env::var("HOME")?).join(".cache/hark/assets");
    let cfg = Config::from_file(&dir.join("config.json"))?;
    let model = Kokoro::load(
        &dir.join("kokoro-v1_0.safetensors"),
        &cfg,
        &hark_kokoro::Compute::default(),
    )?;
    st("loaded");
    let voice = VoicePack::load(&dir.join("voices/af_heart.bin"))?;
    let ps = "ðə mˈiTɪŋ hæz bɪn mˈuvd tə θˈɜɹzdˌA ˌæftəɹnˈun.";
    let fwd = ForwardOptions::default();
    let p = model.prepare(ps, &voice, 1.0, &fwd)?;
    st("prepared");
    for w in model.stream(&p, StreamPlan::default(), &fwd) {
        w?;
    }
    st("streamed");
    if std::env::var_os("STOP_AFTER_STREAM").is_some() {
        return Ok(());
    }
    model.synthesize(ps, &voice, 1.0, &fwd)?;
    st("whole pass short");
    let long = ps.repeat(6);
    model.synthesize(&long, &voice, 1.0, &fwd)?;
    st("whole pass 6x");
    drop(model);
    st("dropped");
    Ok(())
}
