//! From text to joined audio chunks: sentence segmentation, front end, model,
//! word timings, edge fades and sentence gaps.
//!
//! Every output path (device, WAV, null, PCM stream, `synthesize_to_vec`) is
//! fed by [`synthesize`], so they all produce the same samples.

use crate::audio::{fade_in, fade_out, sentence_gap, EDGE_FADE};
use crate::config::{EngineConfig, ModelSource, SAMPLE_RATE};
use crate::error::{Error, Result};
use crate::frontend::FrontEnds;
use crate::pacing::{Ahead, Costs, Pacer};
use crate::segment;
use crate::timing::{word_timings, WordTiming};
use crate::voice::{VoiceLibrary, VoiceSource};
use hark_kokoro::StreamPlan;
use hark_kokoro::{ForwardOptions, Kokoro, VoicePack};
use hark_text::ChunkOptions;
use std::collections::VecDeque;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Model, front ends and voices, loaded once (the front end of a second language on first use).
pub(crate) struct Model {
    kokoro: Kokoro,
    /// The G2P of each language; each chunk is read by its voice's ([`FrontEnds::lang_for`]).
    g2p: FrontEnds,
    pub(crate) voices: VoiceLibrary,
    /// Same text, same samples: fixed noise seeds, and no pacing (see [`synthesize`]).
    deterministic: bool,
    /// Noise seed of an utterance's first chunk ([`EngineConfig::seed`]).
    seed: u64,
    /// Compute each utterance's first chunk in growing windows ([`EngineConfig::fast_start`]).
    pub(crate) fast_start: AtomicBool,
    /// What the model costs on this machine (for pacing), from the warm-up and every pass.
    costs: Mutex<Costs>,
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
                let at = |path: &PathBuf| {
                    let path = Some(path.clone());
                    move |source| Error::Model { path, source }
                };
                let kcfg = hark_kokoro::Config::from_file(config).map_err(at(config))?;
                let kokoro = Kokoro::load(weights, &kcfg, &cfg.compute).map_err(at(weights))?;
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
                let kokoro = Kokoro::tiny_random(*seed, &cfg.compute).map_err(Error::model)?;
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
        let g2p = FrontEnds::new(cfg.lexicons.clone(), cfg.japanese.clone(), cfg.lang);
        // The default voice's front end now: missing lexicons fail the start, not a request.
        g2p.for_voice(&cfg.voice)?;
        Ok(Model {
            kokoro,
            g2p,
            voices: VoiceLibrary::new(source),
            deterministic: cfg.deterministic,
            seed: cfg.seed,
            fast_start: AtomicBool::new(cfg.fast_start),
            costs: Mutex::new(Costs::default()),
        })
    }
}

/// One model chunk, ready to play: `audio` starts with the sentence gap (if
/// any), then the faded model output.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    /// Chunk number within the utterance.
    pub index: usize,
    /// A later window of the same chunk as the piece before (no chunk-start event).
    pub continues: bool,
    /// Sentence number within the utterance.
    pub sentence: usize,
    /// Source range of the sentence.
    pub sentence_src: Range<usize>,
    /// Source range of the chunk.
    pub src: Range<usize>,
    /// The voice (name or blend) the chunk is spoken with.
    pub voice: String,
    /// Utterance time (24 kHz samples) of `audio[0]`.
    pub start: u64,
    /// Samples.
    pub audio: Vec<f32>,
    /// Words starting in this piece, in samples relative to `audio[0]` (a word's end may lie
    /// in a later piece of the same chunk).
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
/// `pace`: a playback clock (wall time less pauses) when the pieces are played as they come;
/// then the first sound waits until, by what the model measurably costs on this machine, the
/// rest can follow without a gap, and chunks (and fast-start windows) are sized so each is
/// ready before the audio before it has played: a long sentence may be said in two or more
/// parts, cut preferably at a comma (see [`crate::pacing`]).
/// Without it, or with a deterministic model, the chunks depend only on the text (files,
/// `synthesize_to_vec`, [`EngineConfig::deterministic`]).
/// Returns the number of pieces emitted.
pub(crate) fn synthesize(
    model: &Model,
    text: &str,
    mut settings: impl FnMut() -> Settings,
    cancelled: impl Fn() -> bool,
    cancel_flag: Option<&Arc<AtomicBool>>,
    pace: Option<&dyn Fn() -> Duration>,
    mut emit: impl FnMut(Piece) -> bool,
) -> Result<usize> {
    let mut pacer = pace
        .filter(|_| !model.deterministic)
        .map(|clock| Pacer::new(clock, &model.costs));
    // Pieces computed before the first sound may start (see `Pacer::may_start`).
    let mut held: Vec<Piece> = Vec::new();
    let mut index = 0usize;
    let mut time = 0u64;
    let mut current_voice: Option<(String, Arc<VoicePack>)> = None;
    let mut sentences = segment::sentences(text).enumerate().peekable();
    while let Some((sentence, range)) = sentences.next() {
        if cancelled() {
            return Err(Error::Cancelled);
        }
        // The sentence is read by the front end of its voice's language; `base` is where the
        // text the chunks were made from starts.
        let mut lang = model.g2p.lang_for(&settings().voice);
        let mut base = range.start;
        let opts = ChunkOptions {
            max_phonemes: hark_kokoro::MAX_PHONEMES,
            first_chunk: index == 0,
        };
        let mut chunks: VecDeque<_> =
            hark_text::chunk(&text[range.clone()], model.g2p.get(lang)?, &opts).into();
        let mut first_in_sentence = true;
        while let Some(mut chunk) = chunks.pop_front() {
            if chunk.phonemes.trim().is_empty() {
                continue;
            }
            let s = settings();
            if model.g2p.lang_for(&s.voice) != lang {
                // The voice changed to one of another language: the rest of the sentence is
                // read by the new voice's rules.
                lang = model.g2p.lang_for(&s.voice);
                base += chunk.src.start;
                let opts = ChunkOptions {
                    first_chunk: index == 0,
                    ..opts
                };
                let rest = &text[base..range.end];
                chunks = hark_text::chunk(rest, model.g2p.get(lang)?, &opts).into();
                continue;
            }
            let fast = model.fast_start.load(Ordering::Relaxed);
            // With fast start, an utterance played as it comes starts with a short first part
            // (its first clause, `segment::first_part`), whose text side
            // and audio are ready soon; the rest of the chunk follows as the next one.
            if index == 0 && fast && pacer.is_some() {
                if let Some((head, tail)) = segment::first_part(&chunk) {
                    tracing::debug!(
                        head = head.phonemes.chars().count(),
                        tail = tail.phonemes.chars().count(),
                        "first part"
                    );
                    chunks.push_front(tail);
                    chunk = head;
                }
            }
            // Not enough audio in hand for the whole chunk: say it in parts.
            if let Some(max) = pacer.as_ref().and_then(|p| p.max_phonemes(time, s.speed)) {
                if let Some((head, tail)) = chunk.split_at_most(max) {
                    tracing::debug!(
                        max,
                        head = head.phonemes.chars().count(),
                        tail = tail.phonemes.chars().count(),
                        "chunk split to keep playback fed"
                    );
                    chunks.push_front(tail);
                    chunk = head;
                }
            }
            let work = Instant::now();
            if cancelled() {
                return Err(Error::Cancelled);
            }
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
                seed: model.seed.wrapping_add(index as u64),
                // Lets `stop` cut a long chunk short inside the model, not only between chunks.
                cancel: cancel_flag.cloned(),
                ..Default::default()
            };
            let model_err = Error::model;
            let mut prepared = model
                .kokoro
                .prepare(&chunk.phonemes, &pack, s.speed, &fwd)
                .map_err(model_err)?;
            let n_phonemes = chunk.phonemes.chars().count();
            model.costs().prepared(
                n_phonemes,
                prepared.frames(),
                s.speed,
                work.elapsed().as_secs_f64(),
            );
            let gap = if first_in_sentence && sentence > 0 && index > 0 {
                sentence_gap(s.speed)
            } else {
                0
            };
            let offset = base;
            let words = word_timings(
                &chunk.phonemes,
                chunk
                    .words
                    .iter()
                    .map(|w| (w.src.start + offset..w.src.end + offset, w.phonemes.clone())),
                prepared.durations(),
            );
            // The first sound of a played utterance starts at its voice: the model's leading
            // pad (≈ 0.3 s of near-silence that `LeadTrim` would drop) is not computed, but for
            // `LEAD_KEEP_FRAMES` frames before the first phoneme, where the voice's rise starts.
            let skipped = if index == 0 && fast && pacer.is_some() {
                let kept =
                    prepared.skip_lead(prepared.lead_frames().saturating_sub(LEAD_KEEP_FRAMES));
                let skipped = prepared.frames() - kept.frames();
                prepared = kept;
                skipped
            } else {
                0
            };
            // With fast start the utterance's first chunk comes in growing windows, so its first
            // sound is ready after a fraction of the chunk's compute; so does a later chunk that
            // the audio in hand cannot cover in one pass. Otherwise a chunk is one exact pass.
            let fits = pacer.as_ref().and_then(|p| p.max_frames(time));
            let windowed = fast && (index == 0 || fits.is_some_and(|f| f < prepared.frames()));
            // What follows this chunk, for planning the first sound.
            let next = Ahead {
                next_phonemes: chunks
                    .front()
                    .map(|c| c.phonemes.chars().count())
                    .or_else(|| sentences.peek().map(|_| PACE_GUESS_PHONEMES)),
                next_windowed: fast,
                first_window: StreamPlan::default().first + model.kokoro.stream_lookahead(),
                speed: s.speed,
                ..Ahead::default()
            };
            let plan = match (windowed, pacer.as_ref()) {
                (true, Some(p)) if !p.has_started() => StreamPlan {
                    first: first_window(p, &model.kokoro, &prepared, &fwd, &next),
                    ..StreamPlan::default()
                },
                (true, _) => StreamPlan::default(),
                (false, _) => StreamPlan::whole(),
            };
            let src = chunk.src.start + offset..chunk.src.end + offset;
            let mut stream = model.kokoro.stream(&prepared, plan, &fwd);
            // Chunk samples before the current window (the leading pad left out counts).
            let mut done = skipped * prepared.samples_per_frame();
            let mut words = words.into_iter().peekable();
            let mut first_window = true;
            // The utterance's first chunk starts at its voice (see `LeadTrim`).
            let mut trim = (index == 0).then(LeadTrim::default);
            if let (true, Some(f)) = (windowed && index > 0, fits) {
                stream.set_next_window(stream.window_within(f));
            }
            loop {
                let t = Instant::now();
                let computed = stream.computed_frames();
                let Some(window) = stream.next() else {
                    break;
                };
                let window = window.map_err(model_err)?;
                let last = stream.is_done();
                model.costs().window.add(
                    (stream.computed_frames() - computed) as f64,
                    t.elapsed().as_secs_f64(),
                );
                let end = done + window.len();
                // Where this piece starts in the chunk's samples, and the quiet samples kept
                // from before it.
                let cut = trim.as_mut().map(|t| match t.cut(&window, last) {
                    Cut::Drop => None,
                    Cut::From(from, pre) => Some((from, pre.to_vec())),
                });
                let (from, pre) = match cut {
                    None => (0, Vec::new()),
                    Some(None) => {
                        done = end;
                        continue;
                    }
                    Some(Some(kept)) => {
                        trim = None;
                        kept
                    }
                };
                let base = done + from - pre.len();
                let lead = if first_window { gap } else { 0 };
                let mut audio = Vec::with_capacity(lead + pre.len() + window.len() - from);
                audio.resize(lead, 0.0);
                audio.extend_from_slice(&pre);
                audio.extend_from_slice(&window[from..]);
                if first_window {
                    fade_in(&mut audio[lead..], EDGE_FADE);
                }
                if last {
                    fade_out(&mut audio[lead..], EDGE_FADE);
                }
                let mut piece_words = Vec::new();
                while let Some(w) = words.next_if(|w| last || w.start < end) {
                    piece_words.push(WordTiming {
                        src: w.src,
                        start: w.start.saturating_sub(base) + lead,
                        end: w.end.saturating_sub(base) + lead,
                    });
                }
                let len = audio.len() as u64;
                let piece = Piece {
                    index,
                    continues: !first_window,
                    sentence,
                    sentence_src: range.clone(),
                    src: src.clone(),
                    voice: s.voice.clone(),
                    start: time,
                    audio,
                    words: piece_words,
                };
                time += len;
                done = end;
                first_window = false;
                let Some(p) = pacer.as_mut() else {
                    if !emit(piece) {
                        return Ok(index + 1);
                    }
                    continue;
                };
                if !p.has_started() {
                    // Before the first sound: hold the audio back until the rest can follow
                    // without a gap.
                    held.push(piece);
                    let ahead = Ahead {
                        held_s: time as f64 / f64::from(SAMPLE_RATE),
                        windows: stream.remaining_windows(),
                        ..next.clone()
                    };
                    if p.may_start(&ahead) {
                        tracing::debug!(held_s = ahead.held_s, costs = ?model.costs().summary(), "first sound");
                        p.started();
                        for piece in held.drain(..) {
                            if !emit(piece) {
                                return Ok(index + 1);
                            }
                        }
                    } else {
                        tracing::debug!(held_s = ahead.held_s, "first sound held back");
                    }
                } else if !emit(piece) {
                    return Ok(index + 1);
                }
                // The planned next window unless the audio in hand cannot cover it, then a
                // smaller one (never below MIN_WINDOW), growing again from there. Before the
                // first sound, the audio held back counts as in hand: a held-back start looks
                // again soon, not after a doubled window (on a machine just too slow for the
                // plan, that doubled window held the first sound back by most of a second).
                if !last {
                    let in_hand = if p.has_started() {
                        p.in_hand_s(time)
                    } else {
                        Some(time as f64 / f64::from(crate::SAMPLE_RATE))
                    };
                    if let Some(f) = in_hand.and_then(|s| p.max_frames_in_hand(s)) {
                        let fits = f.max(MIN_WINDOW);
                        if fits < stream.next_window() {
                            stream.set_next_window(fits);
                        }
                    }
                }
            }
            index += 1;
            first_in_sentence = false;
        }
    }
    // Audio still held (the utterance ended before the plan allowed a start): play it now.
    if let Some(p) = pacer.as_mut() {
        if !held.is_empty() {
            p.started();
        }
    }
    for piece in held {
        if !emit(piece) {
            break;
        }
    }
    Ok(index)
}

/// Level below which the model's output at the start of an utterance counts as its leading
/// near-silence: −50 dBFS, 10 dB under what a listener hears as the voice (−40 dBFS, the
/// benchmark's `ttfa_*_audible_ms`), so a soft first consonant is kept.
const TRIM_LEVEL: f32 = 0.003_162;
/// Audio kept before the first sample at [`TRIM_LEVEL`], samples (15 ms): the start of the
/// first sound's rise.
const TRIM_PRE_ROLL: usize = 360;

/// Cuts the model's leading near-silence from the start of an utterance (its first chunk; the
/// pauses between sentences, clauses and chunks are kept): every window before the first one
/// with a sample at [`TRIM_LEVEL`] is dropped, and that one starts [`TRIM_PRE_ROLL`] samples
/// before it (taken from the dropped audio where the window has fewer). A chunk quiet to its end
/// keeps its last window.
#[derive(Debug, Default)]
struct LeadTrim {
    /// The last samples dropped, up to [`TRIM_PRE_ROLL`].
    dropped: Vec<f32>,
}

/// What [`LeadTrim::cut`] keeps of a window.
#[derive(Debug, PartialEq)]
enum Cut<'a> {
    /// Nothing: all of it is leading near-silence.
    Drop,
    /// The window from this sample on, after these samples from before it.
    From(usize, &'a [f32]),
}

impl LeadTrim {
    fn cut(&mut self, window: &[f32], last: bool) -> Cut<'_> {
        let Some(i) = window.iter().position(|v| v.abs() >= TRIM_LEVEL) else {
            if last {
                return Cut::From(0, &[]);
            }
            self.dropped.extend_from_slice(window);
            let excess = self.dropped.len().saturating_sub(TRIM_PRE_ROLL);
            self.dropped.drain(..excess);
            return Cut::Drop;
        };
        let from = i.saturating_sub(TRIM_PRE_ROLL);
        let want = TRIM_PRE_ROLL - (i - from);
        let pre = &self.dropped[self.dropped.len().saturating_sub(want)..];
        Cut::From(from, pre)
    }
}

/// Frames of the model's leading pad computed before an utterance's first phoneme when it is
/// played as it comes (125 ms; the pad is about 14 frames). Measured on the benchmark's sentence
/// against the exact pass: with five frames the voice is heard (−40 dBFS) 701 samples before
/// the first word, the exact pass 613; with three it came 20 ms late and 5–10 dB weak for its
/// first 60 ms (test `the_first_sound_skips_the_leading_pad_and_keeps_its_words_in_place`).
const LEAD_KEEP_FRAMES: usize = 5;

/// The shortest window worth computing once playing, frames (0.2 s): with the context frames a
/// window computes on both sides, a shorter one costs about as much compute as it gives audio, and
/// shrinking to it would starve the player for good.
const MIN_WINDOW: usize = 8;

/// Phoneme characters assumed for a chunk not yet segmented (the next sentence), when planning
/// the first sound: a short sentence.
const PACE_GUESS_PHONEMES: usize = 40;

/// The fewest frames [`first_window`] lets a first window yield (0.2 s).
const MIN_FIRST_WINDOW: usize = 8;

/// Audio a first window shorter than the default must leave to spare, by the measured costs,
/// for the first sound to start right after it, s: room for a machine a little slower than
/// measured, since a first sound that must then wait for the next window comes later than the
/// default window's would have.
const FIRST_WINDOW_MARGIN_S: f64 = 0.08;

/// Frames the first window of an utterance's first chunk yields with fast start: the fewest,
/// from [`MIN_FIRST_WINDOW`] up to the default's, after which, by this machine's measured costs,
/// the first sound could start at once with [`FIRST_WINDOW_MARGIN_S`] to spare (every later
/// window, and the next chunk, ready before the player needs them). The default until the
/// window costs have been measured.
fn first_window(
    pacer: &Pacer,
    kokoro: &Kokoro,
    prepared: &hark_kokoro::Prepared,
    fwd: &ForwardOptions,
    next: &Ahead,
) -> usize {
    let default = StreamPlan::default();
    if !pacer.knows_window_costs() {
        return default.first;
    }
    for first in MIN_FIRST_WINDOW..default.first {
        let plan = StreamPlan { first, ..default };
        let mut windows = kokoro.stream(prepared, plan, fwd).remaining_windows();
        if windows.len() < 2 {
            // the chunk fits in one window: shorter ones only split it
            break;
        }
        let (yielded, _) = windows.remove(0);
        let ahead = Ahead {
            held_s: yielded as f64 * crate::pacing::FRAME_S - FIRST_WINDOW_MARGIN_S,
            windows,
            ..next.clone()
        };
        if pacer.may_start(&ahead) {
            return first;
        }
    }
    default.first
}

impl Model {
    fn costs(&self) -> std::sync::MutexGuard<'_, Costs> {
        crate::sync::lock(&self.costs)
    }

    /// One model pass over a phoneme string with `voice` at `speed`: the model's output as it
    /// is (no fades), noise as for an utterance's first chunk. Ends with `Cancelled` when
    /// `cancel` is raised.
    pub(crate) fn synthesize_phonemes(
        &self,
        phonemes: &str,
        voice: &str,
        speed: f32,
        cancel: &Arc<AtomicBool>,
    ) -> Result<Vec<f32>> {
        let pack = self.voices.resolve(voice)?;
        let fwd = ForwardOptions {
            deterministic: self.deterministic,
            seed: self.seed,
            cancel: Some(cancel.clone()),
            ..Default::default()
        };
        let out = self.kokoro.synthesize(phonemes, &pack, speed, &fwd);
        Ok(out.map_err(Error::model)?.audio)
    }

    /// Runs, without a sound, what the first real request needs: the front end (lexicons,
    /// number and fallback paths), the text side at two lengths, and a few windows of audio of
    /// growing size. That touches the weight pages, starts the thread pools, sizes the
    /// allocator's arenas and measures this machine's costs for pacing, so the first request is
    /// as fast as the hundredth and its first sound is planned from real figures. Stops early
    /// (without error) when `cancel` is raised, as it is when a request arrives.
    pub(crate) fn warm_up(&self, voice: &str, cancel: &Arc<AtomicBool>) -> Result<WarmUp> {
        let t0 = Instant::now();
        let pack = self.voices.resolve(voice)?;
        let fwd = ForwardOptions {
            deterministic: true,
            cancel: Some(cancel.clone()),
            ..Default::default()
        };
        let mut frames = 0usize;
        let opts = ChunkOptions {
            max_phonemes: hark_kokoro::MAX_PHONEMES,
            first_chunk: true,
        };
        for &(text, windowed, record) in &WARM_UP_PASSES {
            for chunk in hark_text::chunk(text, self.g2p.for_voice(voice)?, &opts) {
                if cancel.load(Ordering::Relaxed) {
                    return Ok(WarmUp::cut_short(t0));
                }
                let t = Instant::now();
                let p = match self.kokoro.prepare(&chunk.phonemes, &pack, 1.0, &fwd) {
                    Ok(p) => p,
                    Err(hark_kokoro::Error::Cancelled) => return Ok(WarmUp::cut_short(t0)),
                    Err(e) => return Err(Error::model(e)),
                };
                if record {
                    self.costs().prepared(
                        chunk.phonemes.chars().count(),
                        p.frames(),
                        1.0,
                        t.elapsed().as_secs_f64(),
                    );
                }
                let plan = if windowed {
                    StreamPlan::default()
                } else {
                    StreamPlan::whole()
                };
                let mut stream = self.kokoro.stream(&p, plan, &fwd);
                for _ in 0..WARM_UP_WINDOWS {
                    let (t, before) = (Instant::now(), stream.computed_frames());
                    match stream.next() {
                        None => break,
                        Some(Ok(_)) => {}
                        Some(Err(hark_kokoro::Error::Cancelled)) => {
                            return Ok(WarmUp::cut_short(t0))
                        }
                        Some(Err(e)) => return Err(Error::model(e)),
                    }
                    let n = stream.computed_frames() - before;
                    frames += n;
                    if record {
                        self.costs().window.add(n as f64, t.elapsed().as_secs_f64());
                    }
                }
            }
        }
        tracing::debug!(costs = ?self.costs().summary(), "costs measured by the warm-up");
        Ok(WarmUp {
            secs: t0.elapsed().as_secs_f64(),
            frames,
            complete: true,
        })
    }
}

/// The warm-up's passes: (text, windowed as fast start makes them, costs recorded). A short text
/// rendered whole, first unrecorded (the first pass pays for cold caches and weight pages, which
/// later requests don't), then recorded with a sentence's first windows, so the costs are
/// measured at two text lengths and four window sizes.
const WARM_UP_PASSES: [(&str, bool, bool); 3] = [
    ("Ready.", false, false),
    ("Ready.", false, true),
    (
        "The meeting at 10:30 was moved to Thursday afternoon, and nothing else changed.",
        true,
        true,
    ),
];
/// Windows rendered per warm-up text.
const WARM_UP_WINDOWS: usize = 3;

/// What the engine's start-up warm-up did: once the model is loaded, it runs without a sound
/// what the first request will need (the front end, the text side, a few windows of audio),
/// so the first request is as fast as the later ones and its pacing uses measured costs.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct WarmUp {
    /// Seconds it took.
    pub secs: f64,
    /// Frames of audio it computed (context included).
    pub frames: usize,
    /// Whether it ran to the end (a request arriving cuts it short).
    pub complete: bool,
}

impl WarmUp {
    fn cut_short(t0: Instant) -> WarmUp {
        WarmUp {
            secs: t0.elapsed().as_secs_f64(),
            frames: 0,
            complete: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    use hark_testkit::lexicons;

    fn run(model: &Model, text: &str, pace: Option<&dyn Fn() -> Duration>) -> Vec<Piece> {
        run_voices(model, text, pace, |_| crate::voice::DEFAULT_VOICE)
    }

    /// Synthesizes `text` with the voice `voice(pieces emitted so far)` for each chunk.
    fn run_voices(
        model: &Model,
        text: &str,
        pace: Option<&dyn Fn() -> Duration>,
        voice: impl Fn(usize) -> &'static str,
    ) -> Vec<Piece> {
        let emitted = Cell::new(0usize);
        let mut pieces = Vec::new();
        let settings = || Settings {
            voice: voice(emitted.get()).into(),
            speed: 1.0,
        };
        synthesize(
            model,
            text,
            settings,
            || false,
            None,
            pace,
            |p| {
                pieces.push(p);
                emitted.set(emitted.get() + 1);
                true
            },
        )
        .unwrap();
        pieces
    }

    /// [`lexicons`] when the American ones are installed; `None` (and a note) to skip a test.
    fn us_lexicons() -> Option<std::path::PathBuf> {
        let lex = lexicons();
        if lex.join("us_gold.json").is_file() {
            Some(lex)
        } else {
            eprintln!("skipping: no lexicons in {}", lex.display());
            None
        }
    }

    /// The audio of each chunk of `pieces`, with its source range.
    fn chunks(pieces: &[Piece]) -> Vec<(Range<usize>, Vec<f32>)> {
        let mut out: Vec<(Range<usize>, Vec<f32>)> = Vec::new();
        for p in pieces {
            match out.last_mut() {
                Some(last) if p.continues => last.1.extend_from_slice(&p.audio),
                _ => out.push((p.src.clone(), p.audio.clone())),
            }
        }
        out
    }

    /// Each chunk is read by the front end of its own voice's language: a voice that changes to
    /// a British one in the middle of a sentence has the rest of the sentence read with British
    /// rules, and no word is lost or said twice.
    #[test]
    fn the_front_end_follows_the_voice_of_each_chunk() {
        // (the tiny model, each voice read with its own language or all with American rules)
        let lex = lexicons();
        let installed = lex.join("gb_gold.json").is_file();
        let load = |lang| {
            let cfg = EngineConfig {
                lang,
                ..EngineConfig::tiny(3, &lex)
            };
            Model::load(&cfg).unwrap()
        };
        let Some(model) = installed.then(|| load(None)) else {
            return eprintln!("skipping: no lexicons in {}", lex.display());
        };
        // first chunk cut at the comma after the ninth word, the rest in a second chunk
        let text = "Either way, the tomato schedule for our laboratory was moved again, \
                    so the aluminium vase stayed in the garage until Thursday.";
        let us = run_voices(&model, text, None, |_| "af_heart");
        let gb = run_voices(&model, text, None, |_| "bm_george");
        // British from the second chunk on (the voice changes once the first sound is out)
        let switched = run_voices(&model, text, None, |n| {
            if n == 0 {
                "af_heart"
            } else {
                "bm_george"
            }
        });
        let forced = load(Some(hark_text::Lang::EnUs));
        let gb_read_as_us = run_voices(&forced, text, None, |_| "bm_george");

        let (us, gb, switched, gb_as_us) = (
            chunks(&us),
            chunks(&gb),
            chunks(&switched),
            chunks(&gb_read_as_us),
        );
        assert_eq!(gb.len(), 2, "{gb:?}");
        assert_ne!(
            gb[1].1, gb_as_us[1].1,
            "British and American rules differ here"
        );
        assert_eq!(switched[0], us[0], "the first chunk is American");
        assert_eq!(switched[1], gb[1], "the rest is British");
        let srcs =
            |cs: &[(Range<usize>, Vec<f32>)]| cs.iter().map(|c| c.0.clone()).collect::<Vec<_>>();
        assert_eq!(srcs(&switched), srcs(&us), "every word once");
    }

    /// The first window is as short as this machine's measured window costs allow with the
    /// margin, never shorter than the minimum, and the default while the costs are unknown or
    /// too high for a shorter one.
    #[test]
    fn the_first_window_follows_the_measured_costs() {
        let Some(lex) = us_lexicons() else {
            return;
        };
        let model = Model::load(&EngineConfig::tiny(3, lex)).unwrap();
        let pack = model.voices.resolve(crate::voice::DEFAULT_VOICE).unwrap();
        let fwd = ForwardOptions::default();
        let phonemes = "ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps ˌOvəɹ ðə lˈAzi dˈɔɡ. ".repeat(6);
        let p = model.kokoro.prepare(&phonemes, &pack, 1.0, &fwd).unwrap();
        assert!(p.frames() > 200, "{} frames", p.frames());
        let clock = || Duration::ZERO;
        let next = Ahead {
            speed: 1.0,
            ..Ahead::default()
        };
        // windows cost `fixed + per_frame · frames computed`
        let first = |costs: Option<(f64, f64)>| {
            let mut c = Costs::default();
            if let Some((fixed, per_frame)) = costs {
                for f in [8.0, 12.0, 16.0, 24.0, 32.0, 64.0, 128.0, 256.0] {
                    c.window.add(f, fixed + per_frame * f);
                }
            }
            let c = std::sync::Mutex::new(c);
            first_window(&Pacer::new(&clock, &c), &model.kokoro, &p, &fwd, &next)
        };
        let default = StreamPlan::default().first;
        assert_eq!(first(None), default, "costs unknown");
        assert_eq!(
            first(Some((0.02, 0.002))),
            MIN_FIRST_WINDOW,
            "a fast machine"
        );
        assert_eq!(first(Some((0.06, 0.015))), default, "a slow machine");
        // 80 ms + 6 ms per frame: an 8-frame first window (0.2 s of audio) leaves less than the
        // margin before the windows after it, a somewhat longer one enough
        let between = first(Some((0.08, 0.006)));
        assert!(
            (MIN_FIRST_WINDOW + 1..default).contains(&between),
            "{between}"
        );
    }

    /// Windows of leading near-silence are dropped, the first with a sound keeps the pre-roll
    /// before it (from the dropped audio where it has too little), and nothing after that is
    /// touched; a chunk quiet to its end keeps its last window.
    #[test]
    fn the_lead_trim_cuts_to_the_first_sound_with_its_pre_roll() {
        let quiet = |n: usize| vec![TRIM_LEVEL * 0.5; n];
        let mut t = LeadTrim::default();
        assert_eq!(t.cut(&quiet(1000), false), Cut::Drop);
        // sound 100 samples in: the pre-roll is the dropped window's end and these 100
        let mut w = quiet(100);
        w.extend([0.5, -0.2, 0.0]);
        match t.cut(&w, false) {
            Cut::From(0, pre) => assert_eq!(pre.len(), TRIM_PRE_ROLL - 100),
            c => panic!("{c:?}"),
        }
        // sound well into the first window: no more than the pre-roll before it
        let mut t = LeadTrim::default();
        let mut w = quiet(5000);
        w.push(-0.01);
        assert_eq!(t.cut(&w, false), Cut::From(5000 - TRIM_PRE_ROLL, &[]));
        // sound at once: everything kept
        assert_eq!(
            LeadTrim::default().cut(&[0.1, 0.0], false),
            Cut::From(0, &[])
        );
        // all quiet to the end: the last window stays
        let mut t = LeadTrim::default();
        assert_eq!(t.cut(&quiet(10), false), Cut::Drop);
        assert_eq!(t.cut(&quiet(10), true), Cut::From(0, &[]));
    }

    /// With the real weights, played as it comes: the first chunk is computed from a few frames
    /// before its first phoneme (the leading pad left out), yet its voice is heard as long before
    /// its first word as in the exact pass (within a frame), and nothing after is lost.
    #[test]
    fn the_first_sound_skips_the_leading_pad_and_keeps_its_words_in_place() {
        let Some(dir) = hark_testkit::real_assets() else {
            return;
        };
        let mut cfg = EngineConfig::from_assets(&dir);
        cfg.deterministic = false;
        cfg.fast_start = true;
        let model = Model::load(&cfg).unwrap();
        let text = "The meeting has been moved to Thursday afternoon.";
        // the exact pass (one window, the whole chunk's statistics)
        model.fast_start.store(false, Ordering::Relaxed);
        let plain = run(&model, text, None);
        model.fast_start.store(true, Ordering::Relaxed);
        let clock = || Duration::ZERO;
        let paced = run(&model, text, Some(&clock));
        let (p, q) = (chunks(&plain), chunks(&paced));
        assert_eq!(p.len(), 1);
        assert_eq!(q.len(), 1);
        // (the first word in the utterance's samples, in whichever piece it falls)
        let first_word = |ps: &[Piece]| {
            ps.iter()
                .find_map(|p| p.words.first().map(|w| p.start as usize + w.start))
                .unwrap()
        };
        // how long before its first word each is heard (the first sample at −40 dBFS, the
        // benchmark's audible level)
        let heard = |c: &[f32]| c.iter().position(|v| v.abs() >= 0.01).unwrap();
        let (a, b) = (
            first_word(&plain) as i64 - heard(&p[0].1) as i64,
            first_word(&paced) as i64 - heard(&q[0].1) as i64,
        );
        eprintln!(
            "heard {b} vs {a} samples before the first word; first word at {} vs {}; {} vs {} \
             samples in all",
            first_word(&paced),
            first_word(&plain),
            q[0].1.len(),
            p[0].1.len()
        );
        assert!(
            b > 0,
            "the voice is heard {b} samples after its first word's start"
        );
        assert!(
            a.abs_diff(b) <= 600,
            "heard {b} samples before the first word, exactly {a}"
        );
        assert!(q[0].1.len().abs_diff(p[0].1.len()) <= 1200);
    }

    /// Played as it comes with fast start, an utterance starts with a short first part (here
    /// its first clause); the rest of the sentence follows, and
    /// every word is said once, with its source range, as without the cut.
    #[test]
    fn the_first_part_is_short_and_loses_no_word() {
        let Some(lex) = us_lexicons() else {
            return;
        };
        let mut cfg = EngineConfig::tiny(3, lex);
        cfg.deterministic = false;
        cfg.fast_start = true;
        let model = Model::load(&cfg).unwrap();
        let text =
            "After the meeting, everything was moved to Thursday afternoon by the team. It stays.";
        let plain = run(&model, text, None);
        // a clock that never moves: every plan fits, nothing else cuts chunks
        let clock = || Duration::ZERO;
        let paced = run(&model, text, Some(&clock));
        let srcs = |ps: &[Piece]| chunks(ps).into_iter().map(|c| c.0).collect::<Vec<_>>();
        let (p, q) = (srcs(&plain), srcs(&paced));
        assert_eq!(&text[q[0].clone()], "After the meeting, ");
        // the rest of the sentence follows (in one chunk, or more where the pacing finds the
        // audio in hand short for its measured costs)
        let first_sentence: Vec<_> = q.iter().take_while(|r| r.end <= p[0].end).collect();
        for w in first_sentence.windows(2) {
            assert_eq!(w[1].start, w[0].end);
        }
        assert_eq!(first_sentence.last().unwrap().end, p[0].end);
        let words = |ps: &[Piece]| -> Vec<(usize, &str)> {
            ps.iter()
                .flat_map(|p| {
                    p.words
                        .iter()
                        .map(move |w| (p.sentence, &text[w.src.clone()]))
                })
                .collect()
        };
        assert_eq!(words(&paced), words(&plain));
        assert_eq!(words(&paced)[4], (0, "was"));
        // word times run on from piece to piece, inside each piece's audio
        for p in &paced {
            for w in &p.words {
                assert!(w.start <= w.end && w.start <= p.audio.len(), "{w:?}");
            }
        }
        // without fast start, no cut
        model.fast_start.store(false, Ordering::Relaxed);
        assert_eq!(srcs(&run(&model, text, Some(&clock)))[0], p[0]);
    }

    /// A player that has always played everything already: every chunk is cut down to the
    /// minimum, yet every word is said once, in order, in its sentence.
    #[test]
    fn a_starved_player_gets_long_sentences_in_parts_and_every_word() {
        let Some(lex) = us_lexicons() else {
            return;
        };
        let mut cfg = EngineConfig::tiny(3, lex);
        cfg.fast_start = false;
        // (a deterministic model is never paced: checked at the end)
        cfg.deterministic = false;
        let model = Model::load(&cfg).unwrap();
        let text = "A few years ago, a natural voice needed a server farm and a network \
                    connection; today a model with eighty-two million parameters runs on an \
                    ordinary laptop, faster than it speaks. That changes what a reader can do.";
        let plain = run(&model, text, None);
        // every reading of the clock is an hour later: nothing is ever in hand
        let hours = Cell::new(0u64);
        let clock = || {
            hours.set(hours.get() + 1);
            Duration::from_secs(3600 * hours.get())
        };
        let paced = run(&model, text, Some(&clock));
        assert!(
            paced.len() >= plain.len() + 3,
            "{} pieces paced, {} plain",
            paced.len(),
            plain.len()
        );
        let words = |ps: &[Piece]| -> Vec<(usize, Range<usize>)> {
            ps.iter()
                .flat_map(|p| p.words.iter().map(move |w| (p.sentence, w.src.clone())))
                .collect()
        };
        assert_eq!(words(&paced), words(&plain));
        // (the first chunk is before any audio: never cut)
        assert_eq!(paced[0].src, plain[0].src);
        for p in &paced[1..] {
            let said = &text[p.src.clone()];
            assert!(!said.trim().is_empty());
            assert!(p.audio.iter().all(|v| v.is_finite()) && !p.audio.is_empty());
            // parts are at most the minimum, unless a single word is longer
            assert!(p.words.len() <= 6, "{said:?} is more than the minimum");
        }
        // time runs on without holes or overlaps
        for w in paced.windows(2) {
            assert_eq!(w[1].start, w[0].start + w[0].audio.len() as u64);
        }
        // a deterministic model ignores the clock: the same pieces as without one
        cfg.deterministic = true;
        let model = Model::load(&cfg).unwrap();
        let src = |ps: &[Piece]| ps.iter().map(|p| p.src.clone()).collect::<Vec<_>>();
        assert_eq!(
            src(&run(&model, text, Some(&clock))),
            src(&run(&model, text, None))
        );
    }
}
