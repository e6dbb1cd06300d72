//! `hark say`: text or phonemes → audio through the speech engine, written to a WAV file /
//! stdout, or played.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use hark_engine::wav::write_wav;
use hark_engine::{Output, SpeakOptions, SAMPLE_RATE};

use crate::util::{asset_dir, text_arg};

#[derive(Args, Debug)]
pub struct SayArgs {
    /// Text to speak (`-` or nothing: read stdin).
    pub text: Option<String>,
    /// Speak this phoneme string (misaki alphabet) instead of text.
    #[arg(long, conflicts_with = "text")]
    pub phonemes: Option<String>,
    #[command(flatten)]
    pub voice: crate::play::VoiceArgs,
    /// Write a 24 kHz 16-bit WAV here instead of playing (`-` = stdout, nothing else is written
    /// there). The file holds the exact audio (each first sentence computed whole).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Zero the generator's random excitation (bit-reproducible output, as in the parity tests).
    #[arg(long)]
    pub deterministic: bool,
    /// Seed of the generator's noise when not deterministic.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub start: crate::play::StartArgs,
}

pub fn run(assets: Option<&Path>, args: SayArgs, compute: hark_kokoro::Compute) -> Result<()> {
    let dir = asset_dir(assets)?;
    let Some(out) = args.out.clone() else {
        if args.phonemes.is_some() {
            bail!("--phonemes needs --out (the engine speaks text)");
        }
        let text = text_arg(args.text.clone())?;
        let engine = crate::play::engine_for(&dir, &args.voice, |cfg| {
            cfg.fast_start = args.start.fast_start();
            cfg.compute = compute;
        })?;
        return crate::play::speak_to_end(&engine, &text, false);
    };
    let audio = synthesize(&dir, &args, compute)?;
    if out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        write_wav(&mut lock, &audio, SAMPLE_RATE).context("writing WAV to stdout")?;
        lock.flush()?;
    } else {
        let f =
            std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
        write_wav(std::io::BufWriter::new(f), &audio, SAMPLE_RATE)
            .with_context(|| format!("writing {}", out.display()))?;
        tracing::info!(path = %out.display(), seconds = audio.len() as f64 / SAMPLE_RATE as f64, "wrote WAV");
    }
    Ok(())
}

/// The audio of `say --out`: the engine's samples for the text (as `hark say` plays them with
/// `--exact`), or one model pass over `--phonemes`.
pub fn synthesize(
    dir: &hark_assets::AssetDir,
    args: &SayArgs,
    compute: hark_kokoro::Compute,
) -> Result<Vec<f32>> {
    let engine = crate::play::engine_for(dir, &args.voice, |cfg| {
        cfg.compute = compute;
        cfg.output = Output::Null;
        cfg.fast_start = false;
        cfg.deterministic = args.deterministic;
        cfg.seed = args.seed;
    })?;
    let audio = match &args.phonemes {
        Some(ps) => engine.synthesize_phonemes(ps, SpeakOptions::default()),
        None => {
            let text = text_arg(args.text.clone())?;
            engine.synthesize_to_vec(&text, SpeakOptions::default())
        }
    };
    // Nothing of the engine computes once this returns (see `Engine::shutdown`).
    engine.shutdown();
    let audio = audio?;
    if args.phonemes.is_none() && audio.is_empty() {
        bail!("nothing to say: the text has no speakable words");
    }
    Ok(audio)
}
