//! `hark say`: text or phonemes → audio, written to a WAV file / stdout, or played.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use hark_assets::AssetDir;
use hark_kokoro::{Config, ForwardOptions, Kokoro, VoicePack, MAX_PHONEMES, SAMPLE_RATE};
use hark_text::{ChunkOptions, G2p, Lang, Lexicon};

use crate::util::{asset_dir, text_arg};
use hark_engine::wav::write_wav;

#[derive(Args, Debug)]
pub struct SayArgs {
    /// Text to speak (`-` or nothing: read stdin).
    pub text: Option<String>,
    /// Speak this phoneme string (misaki alphabet) instead of text.
    #[arg(long, conflicts_with = "text")]
    pub phonemes: Option<String>,
    /// Voice name, or a blend like `af_heart:0.6+af_bella:0.4`.
    #[arg(long, default_value = "af_heart")]
    pub voice: String,
    /// Speaking rate (0.5–2.0 typical).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f32,
    /// Language of the text: en-us or en-gb (default: from the voice, `b…` voices are British).
    #[arg(long)]
    pub lang: Option<Lang>,
    /// Write a 24 kHz 16-bit WAV here instead of playing (`-` = stdout, nothing else is written there).
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

pub fn run(assets: Option<&Path>, args: SayArgs) -> Result<()> {
    let dir = asset_dir(assets)?;
    let Some(out) = args.out.clone() else {
        if args.phonemes.is_some() {
            bail!("--phonemes needs --out (the engine speaks text)");
        }
        let text = text_arg(args.text.clone())?;
        return crate::play::play(
            &dir,
            &text,
            &args.voice,
            args.speed,
            args.lang,
            args.start.fast_start(),
        );
    };
    let audio = synthesize(&dir, &args)?;
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

/// The whole direct pipeline: front end → chunks → model, concatenated.
pub fn synthesize(dir: &AssetDir, args: &SayArgs) -> Result<Vec<f32>> {
    let cfg = Config::from_file(&dir.config_path()).with_context(|| {
        format!(
            "reading the model config; run `hark fetch` (assets: {})",
            dir.root().display()
        )
    })?;
    let model = Kokoro::load(&dir.weights_path(), &cfg).with_context(|| {
        format!(
            "loading the model; run `hark fetch` (assets: {})",
            dir.root().display()
        )
    })?;
    let voice = load_voice(dir, &args.voice)?;
    let opts = ForwardOptions {
        deterministic: args.deterministic,
        seed: args.seed,
        ..Default::default()
    };
    if let Some(ps) = &args.phonemes {
        return Ok(model.synthesize(ps, &voice, args.speed, &opts)?.audio);
    }
    let text = text_arg(args.text.clone())?;
    let lang = args.lang.unwrap_or_else(|| lang_for_voice(&args.voice));
    let lexicon = Lexicon::load(&dir.lexicons_dir(), lang).with_context(|| {
        format!(
            "loading lexicons; run `hark fetch` (assets: {})",
            dir.root().display()
        )
    })?;
    let g2p = G2p::new(lexicon);
    let chunks = hark_text::chunk(
        &text,
        &g2p,
        &ChunkOptions {
            max_phonemes: MAX_PHONEMES,
            first_chunk: false,
        },
    );
    if chunks.is_empty() {
        bail!("nothing to say: the text has no speakable words");
    }
    let mut audio = Vec::new();
    for c in &chunks {
        let s = model
            .synthesize(&c.phonemes, &voice, args.speed, &opts)
            .with_context(|| {
                format!(
                    "synthesizing the chunk at bytes {}..{}",
                    c.src.start, c.src.end
                )
            })?;
        audio.extend_from_slice(&s.audio);
    }
    Ok(audio)
}

/// `b…` voices expect British phonemes; everything else American.
pub fn lang_for_voice(spec: &str) -> Lang {
    if spec.trim_start().starts_with('b') {
        Lang::EnGb
    } else {
        Lang::EnUs
    }
}

/// Load a voice or a blend (`a:0.6+b:0.4`).
pub fn load_voice(dir: &AssetDir, spec: &str) -> Result<VoicePack> {
    let parts = hark_engine::parse_blend(spec)?;
    let mut packs = Vec::with_capacity(parts.len());
    for (name, _) in &parts {
        let path = dir.voice_path(name);
        if !path.exists() {
            let have = dir.list_voices().unwrap_or_default();
            if have.is_empty() {
                bail!("voice `{name}` is not installed and no voices are; run `hark fetch`");
            }
            bail!(
                "unknown voice `{name}`; installed voices: {}",
                have.join(", ")
            );
        }
        packs.push(VoicePack::load(&path).with_context(|| format!("loading voice `{name}`"))?);
    }
    if packs.len() == 1 {
        return Ok(packs.pop().expect("one pack"));
    }
    let weighted: Vec<(&VoicePack, f32)> = packs.iter().zip(parts.iter().map(|p| p.1)).collect();
    Ok(VoicePack::blend(&weighted)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn british_voices_pick_british_english() {
        assert_eq!(lang_for_voice("bf_emma"), Lang::EnGb);
        assert_eq!(lang_for_voice("af_heart"), Lang::EnUs);
    }
}
