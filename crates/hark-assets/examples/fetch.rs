//! Fill an asset directory with the default sources (or `local:DIR` / `registry` / `hf` given
//! as extra arguments) and print a summary on stderr.
//!
//! `cargo run -p hark-assets --example fetch -- /tmp/hark-fetch-test [source...]`

use std::path::PathBuf;

use hark_assets::{fetch, AssetDir, FetchOptions, Progress, Source};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = AssetDir::resolve(args.next().map(PathBuf::from).as_deref()).expect("asset dir");
    let mut opts = FetchOptions::default();
    let extra: Vec<Source> = args
        .map(|a| match a.as_str() {
            "registry" => Source::Registry,
            "hf" => FetchOptions::default().sources[0].clone(),
            other => Source::LocalDir(PathBuf::from(other.strip_prefix("local:").unwrap_or(other))),
        })
        .collect();
    if !extra.is_empty() {
        opts.sources = extra;
    }
    let t0 = std::time::Instant::now();
    let mut on = |p: Progress| match p {
        Progress::Start { what, total_bytes } => eprintln!(
            "[{:6.2}s] start {what} ({total_bytes:?} bytes)",
            t0.elapsed().as_secs_f64()
        ),
        Progress::Done { what } => eprintln!("[{:6.2}s] done  {what}", t0.elapsed().as_secs_f64()),
        Progress::Note(n) => eprintln!("[{:6.2}s] note  {n}", t0.elapsed().as_secs_f64()),
        Progress::Advance { .. } => {}
    };
    match fetch(&dir, &opts, &mut on) {
        Ok(r) => {
            eprintln!(
                "installed {} files, skipped {:?}, failures {:?}, in {:.2?}",
                r.installed.len(),
                r.skipped,
                r.failures,
                r.elapsed
            );
            let t1 = std::time::Instant::now();
            dir.verify().expect("verify");
            eprintln!(
                "verified in {:.2?}; status ready={} complete={}",
                t1.elapsed(),
                dir.status().is_ready(),
                dir.status().is_complete()
            );
        }
        Err(e) => {
            eprintln!("fetch failed: {e}");
            std::process::exit(1);
        }
    }
}
