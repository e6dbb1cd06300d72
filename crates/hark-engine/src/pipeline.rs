//! From text to joined audio chunks: sentence segmentation, front end, model,
//! word timings, edge fades and sentence gaps.
//!
//! Every output path (device, WAV, null, PCM stream, `synthesize_to_vec`) is
//! fed by [`synthesize`], so they all produce the same samples.

use crate::audio::{fade_edges, sentence_gap, EDGE_FADE};
use crate::error::{Error, Result};
use crate::segment;
use crate::timing::{word_timings, WordTiming};
use crate::voice::{VoiceLibrary, VoiceSource};
use crate::{EngineConfig, ModelSource};
use hark_kokoro::{ForwardOptions, Kokoro, VoicePack};
use hark_text::{ChunkOptions, G2p};
use std::ops::Range;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Model, front end and voices, loaded once.
pub(crate) struct Model {
    kokoro: Kokoro,
    g2p: G2p,
    pub(crate) voices: VoiceLibrary,
    deterministic: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").finish_non_exhaustive()
    }
}

impl Model {
    pub(crate) fn load(cfg: &EngineConfig) -> Result<Model> {
        let (kokoro, source) = match &cfg.model {
            ModelSource::Files { weights, config } => {
                let kcfg = hark_kokoro::Config::from_file(config)
                    .map_err(|e| Error::Model(format!("{}: {e}", config.display())))?;
                let device = hark_kokoro::select_device("auto");
                let kokoro = Kokoro::load(weights, &kcfg, &device)
                    .map_err(|e| Error::Model(format!("{}: {e}", weights.display())))?;
                let dir = match &cfg.voices_dir {
                    Some(d) => d.clone(),
                    None => weights
                        .parent()
                        .map(|p| p.join("voices"))
                        .unwrap_or_else(|| "voices".into()),
                };
                (kokoro, VoiceSource::Dir(dir))
            }
            ModelSource::Tiny { seed } => {
                let kokoro = Kokoro::tiny_random(*seed).map_err(|e| Error::Model(e.to_string()))?;
                let width = kokoro.style_width();
                let source = match &cfg.voices_dir {
                    Some(d) => VoiceSource::Dir(d.clone()),
                    None => VoiceSource::Random {
                        rows: 510,
                        width,
                        seed: *seed,
                    },
                };
                (kokoro, source)
            }
        };
        let g2p = load_g2p(cfg)?;
        Ok(Model {
            kokoro,
            g2p,
            voices: VoiceLibrary::new(source),
            deterministic: cfg.deterministic,
        })
    }
}

fn load_g2p(cfg: &EngineConfig) -> Result<G2p> {
    let Some(dir) = &cfg.lexicons else {
        return Err(Error::Text(
            "no lexicon directory configured (EngineConfig::lexicons)".into(),
        ));
    };
    let lexicon = hark_text::Lexicon::load(dir, cfg.lang)
        .map_err(|e| Error::Text(format!("{}: {e}", dir.display())))?;
    Ok(G2p::new(lexicon))
}

/// One model chunk, ready to play: `audio` starts with the sentence gap (if
/// any), then the faded model output.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    /// Chunk number within the utterance.
    pub index: usize,
    /// Sentence number within the utterance.
    pub sentence: usize,
    /// Source range of the sentence.
    pub sentence_src: Range<usize>,
    /// Source range of the chunk.
    pub src: Range<usize>,
    /// Utterance time (24 kHz samples) of `audio[0]`.
    pub start: u64,
    /// Samples.
    pub audio: Vec<f32>,
    /// Words, in samples relative to `audio[0]`.
    pub words: Vec<WordTiming>,
}

/// Voice and speed to use for the next chunk.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub voice: String,
    pub speed: f32,
}

/// Synthesize `text` chunk by chunk. `settings` is asked before every chunk
/// (so voice/speed changes apply from the next chunk), `cancelled` before
/// every chunk, and `emit` gets each piece; it returns `false` to stop.
/// Returns the number of pieces emitted.
pub(crate) fn synthesize(
    model: &Model,
    text: &str,
    mut settings: impl FnMut() -> Settings,
    cancelled: impl Fn() -> bool,
    cancel_flag: Option<&Arc<AtomicBool>>,
    mut emit: impl FnMut(Piece) -> bool,
) -> Result<usize> {
    let mut index = 0usize;
    let mut time = 0u64;
    let mut current_voice: Option<(String, Arc<VoicePack>)> = None;
    for (sentence, range) in segment::sentences(text).enumerate() {
        if cancelled() {
            return Err(Error::Cancelled);
        }
        let piece_text = &text[range.clone()];
        let opts = ChunkOptions {
            max_phonemes: hark_kokoro::MAX_PHONEMES,
            first_chunk: index == 0,
        };
        let chunks = hark_text::chunk(piece_text, &model.g2p, &opts);
        let mut first_in_sentence = true;
        for chunk in chunks {
            if chunk.phonemes.trim().is_empty() {
                continue;
            }
            if cancelled() {
                return Err(Error::Cancelled);
            }
            let s = settings();
            let pack = match &current_voice {
                Some((name, pack)) if *name == s.voice => pack.clone(),
                _ => {
                    let pack = model.voices.resolve(&s.voice)?;
                    current_voice = Some((s.voice.clone(), pack.clone()));
                    pack
                }
            };
            let fwd = ForwardOptions {
                deterministic: model.deterministic,
                seed: index as u64,
                // Lets `stop` cut a long chunk short inside the model, not only between chunks.
                cancel: cancel_flag.cloned(),
                ..Default::default()
            };
            let out = model
                .kokoro
                .synthesize(&chunk.phonemes, &pack, s.speed, &fwd)
                .map_err(|e| match e {
                    hark_kokoro::Error::Cancelled => Error::Cancelled,
                    e => Error::Model(e.to_string()),
                })?;
            let gap = if first_in_sentence && sentence > 0 && index > 0 {
                sentence_gap(s.speed)
            } else {
                0
            };
            let mut audio = Vec::with_capacity(gap + out.audio.len());
            audio.resize(gap, 0.0);
            let body = audio.len();
            audio.extend_from_slice(&out.audio);
            fade_edges(&mut audio[body..], EDGE_FADE);
            let offset = range.start;
            let mut words = word_timings(
                &chunk.phonemes,
                chunk
                    .words
                    .iter()
                    .map(|w| (w.src.start + offset..w.src.end + offset, w.phonemes.clone())),
                &out.durations,
            );
            for w in &mut words {
                w.start += gap;
                w.end += gap;
            }
            let len = audio.len() as u64;
            let piece = Piece {
                index,
                sentence,
                sentence_src: range.clone(),
                src: chunk.src.start + offset..chunk.src.end + offset,
                start: time,
                audio,
                words,
            };
            time += len;
            index += 1;
            first_in_sentence = false;
            if !emit(piece) {
                return Ok(index);
            }
        }
    }
    Ok(index)
}
