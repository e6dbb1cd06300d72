//! Playback through the speech engine: `hark say` without `--out`, and `hark read FILE`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use hark_assets::AssetDir;
use hark_engine::{
    Engine, EngineConfig, Event, Lang, Output, SpeakOptions, AUTO_VOICE, DEFAULT_VOICE,
};
use tokio::sync::broadcast::error::RecvError;

use crate::util::asset_dir;

#[derive(Args, Debug)]
pub struct ReadArgs {
    /// UTF-8 text file to read aloud (`-` = stdin).
    pub file: PathBuf,
    #[command(flatten)]
    pub voice: VoiceArgs,
    /// Write everything spoken to this WAV file instead of the audio device.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub start: StartArgs,
}

/// Who speaks, how fast, in which language (`say` and `read`).
#[derive(Args, Debug)]
pub struct VoiceArgs {
    /// Voice name, a blend like `af_heart:0.6+af_bella:0.4`, or `auto`: the voice of the
    /// text's language (told from the text; the app's choice per language, else that
    /// language's default voice), af_heart when the language is unclear.
    #[arg(long, default_value = DEFAULT_VOICE)]
    pub voice: String,
    /// Speaking rate (0.5–2.0).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f32,
    /// Language of the text: en-us, en-gb, es, fr-fr, it, pt-br, hi or zh (default: from the
    /// voice's first letter, `b…` British, `e…` Spanish, ...).
    #[arg(long)]
    pub lang: Option<Lang>,
}

/// How `say` and `read` start speaking.
#[derive(Args, Debug)]
pub struct StartArgs {
    /// Compute each first sentence whole before playing it: exact audio, but the first sound comes
    /// after about 1 s on two cores instead of about 0.2 s (see "Fast start" in the README).
    #[arg(long, conflicts_with = "fast_start")]
    pub exact: bool,
    /// The default (first sentence in growing windows); accepted for scripts written before.
    #[arg(long, hide = true)]
    pub fast_start: bool,
}

impl StartArgs {
    /// Whether the engine computes first chunks in windows ([`EngineConfig::fast_start`]).
    pub fn fast_start(&self) -> bool {
        !self.exact
    }
}

/// An engine on the real assets with `voice`, playing to the default device unless `tweak` says
/// otherwise.
pub fn engine_for(
    dir: &AssetDir,
    voice: &VoiceArgs,
    tweak: impl FnOnce(&mut EngineConfig),
) -> Result<Engine> {
    let mut cfg = EngineConfig::from_assets(dir.root());
    let auto = voice.voice.trim().eq_ignore_ascii_case(AUTO_VOICE);
    cfg.voice = if auto {
        DEFAULT_VOICE.into()
    } else {
        voice.voice.clone()
    };
    cfg.speed = voice.speed;
    // with --lang, every voice reads with it; else each with its own
    cfg.lang = voice.lang;
    tweak(&mut cfg);
    let engine = Engine::start(cfg).with_context(|| {
        format!(
            "starting the speech engine (assets: {}; run `hark fetch`)",
            dir.root().display()
        )
    })?;
    if auto {
        // every request picks the voice of its text's language, with the app's choices
        let app = hark_settings::config_dir()
            .map(|d| hark_settings::Store::new(d).read().settings)
            .unwrap_or_default();
        let mut lv = app.engine_language_voices();
        lv.enabled = true;
        engine.set_language_voices(lv);
    }
    Ok(engine)
}

/// `hark say` or `hark read` was stopped by SIGINT or SIGTERM (exit code 130).
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// On SIGINT or SIGTERM, stop the speech: `speak_and_wait` then returns [`Interrupted`] and the
/// caller shuts the engine down before the process ends, so no thread computes while it exits.
/// A second signal exits at once.
fn stop_on_signal(engine: &Engine) -> Result<Arc<AtomicBool>> {
    let hit = Arc::new(AtomicBool::new(false));
    let (flag, engine) = (hit.clone(), engine.clone());
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        engine.stop();
    })
    .context("installing the Ctrl-C handler")?;
    Ok(hit)
}

/// Speak `text`, wait for the end, then shut the engine down; `progress` shows the sentence
/// being read on stderr. SIGINT or SIGTERM stops the speech and returns [`Interrupted`].
pub fn speak_to_end(engine: &Engine, text: &str, progress: bool) -> Result<()> {
    let interrupted = stop_on_signal(engine)?;
    let result = speak_and_wait(engine, text, progress);
    engine.shutdown();
    if interrupted.load(Ordering::SeqCst) {
        return Err(Interrupted.into());
    }
    result
}

/// Speak `text` and wait for the end; `progress` shows the sentence being read on stderr.
fn speak_and_wait(engine: &Engine, text: &str, progress: bool) -> Result<()> {
    let mut rx = engine.subscribe();
    let id = engine.speak(text, SpeakOptions::default());
    let total = text.len().max(1);
    loop {
        let ev = match rx.blocking_recv() {
            Ok(ev) => ev,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => bail!("the speech engine stopped"),
        };
        if ev.id() != Some(id) && !matches!(ev, Event::Error { id: None, .. }) {
            continue;
        }
        match ev {
            Event::Sentence { src, .. } if progress => {
                let pct = 100 * src.start / total;
                let line: String = text[src].split_whitespace().collect::<Vec<_>>().join(" ");
                let short: String = line.chars().take(70).collect();
                eprintln!("[{pct:>3}%] {short}");
            }
            Event::Error { message, .. } => bail!("{message}"),
            Event::Cancelled { .. } => bail!("cancelled"),
            Event::Finished { .. } => return Ok(()),
            _ => {}
        }
    }
}

pub fn run_read(
    assets: Option<&Path>,
    args: ReadArgs,
    compute: hark_kokoro::Compute,
) -> Result<()> {
    let dir = asset_dir(assets)?;
    let text = if args.file.as_os_str() == "-" {
        crate::util::text_arg(None)?
    } else {
        let bytes = std::fs::read(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))?;
        String::from_utf8(bytes)
            .with_context(|| format!("{} is not UTF-8 text", args.file.display()))?
    };
    if text.trim().is_empty() {
        eprintln!("hark: {} has nothing to read", args.file.display());
        return Ok(());
    }
    let engine = engine_for(&dir, &args.voice, |cfg| {
        cfg.compute = compute;
        cfg.fast_start = args.start.fast_start();
        if let Some(p) = args.out.clone() {
            cfg.output = Output::Wav(p);
        }
    })?;
    speak_to_end(&engine, &text, true)
}
