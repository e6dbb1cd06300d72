//! The full Kokoro forward pass.
//!
//! Ports `KModel.forward_with_tokens` of kokoro 0.9.4's `kokoro/model.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/model.py>).

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use crate::config::MAX_PHONEMES;
use crate::config::{Config, Vocab};
use crate::error::{Error, Result};
use crate::kernels::cpu::CpuLevel;
use crate::kernels::matmul::Backend;
use crate::kernels::ops::transpose;
use crate::kernels::pass::{Cancel, Pass, Timings};
use crate::model::compute::{Compute, ComputePool};
use crate::model::voice::VoicePack;
use crate::nn::albert::Albert;
use crate::nn::decoder::Decoder;
use crate::nn::layers::Linear;
use crate::nn::predictor::ProsodyPredictor;
use crate::nn::text_encoder::TextEncoder;
use crate::nn::weights::{FileSource, RandomSource, Vb, WeightSource};

/// Options of one forward pass.
#[derive(Debug, Clone, Default)]
pub struct ForwardOptions {
    /// Zero the harmonic source's additive noise (the reference's deterministic mode).
    pub deterministic: bool,
    /// Seed of the counter-based Gaussian noise (ignored when `deterministic`).
    pub seed: u64,
    /// Keep intermediate tensors in [`Synthesis::trace`].
    pub trace: bool,
    /// Cooperative cancellation: when the flag becomes `true` (from any thread) the forward pass
    /// returns [`Error::Cancelled`] at its next check. Checks run between modules, between
    /// generator resblocks and between the time tiles of every generator convolution (a few
    /// milliseconds of compute apart). `None` or a `false` flag changes nothing.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// A tensor snapshot: flat values and shape.
pub type TraceTensor = (Vec<f32>, Vec<usize>);

/// Intermediates of a forward pass (for parity tests). Shapes follow the reference dump:
/// `bert [T, 768]`, `d_en [512, T]`, `d [T, 640]`, `duration [T]`, `f0 [2L]`, `n [2L]`,
/// `t_en [512, T]`.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// ALBERT's output.
    pub bert: TraceTensor,
    /// The projected text features.
    pub d_en: TraceTensor,
    /// The duration encoder's output.
    pub d: TraceTensor,
    /// Real-valued durations per token.
    pub duration: TraceTensor,
    /// The F0 curve (Hz).
    pub f0: TraceTensor,
    /// The energy curve.
    pub n: TraceTensor,
    /// The acoustic text encoder's output.
    pub t_en: TraceTensor,
}

/// Output of one forward pass.
#[derive(Debug, Clone)]
pub struct Synthesis {
    /// 24 kHz mono PCM, `samples_per_frame · Σ durations` samples (600 per frame for v1.0).
    pub audio: Vec<f32>,
    /// Integer duration (frames) per token, including the two pads.
    pub durations: Vec<u32>,
    /// Intermediates, with [`ForwardOptions::trace`].
    pub trace: Option<Trace>,
    /// Seconds per module.
    pub timings: Timings,
}

/// Kokoro-82M. Immutable after loading; `forward_*` take `&self`.
pub struct Kokoro {
    cfg: Config,
    vocab: Vocab,
    bert: Albert,
    bert_encoder: Linear,
    predictor: ProsodyPredictor,
    text_encoder: TextEncoder,
    decoder: Decoder,
    /// Page-aligned ranges of the mapped weights only the text side reads.
    text_pages: Vec<PageRange>,
    /// Page-aligned ranges of the mapped weights only the decoder's residual stack reads.
    decoder_pages: Vec<PageRange>,
    /// The pool every call runs on, with the model's compute settings and buffers.
    compute: Arc<ComputePool>,
}

impl std::fmt::Debug for Kokoro {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kokoro")
            .field("hidden_dim", &self.cfg.hidden_dim)
            .finish_non_exhaustive()
    }
}

impl Kokoro {
    /// Loads the canonical safetensors weights. The file is memory-mapped and the tensors are
    /// used in place (zero-copy; only a few re-laid-out matrices are copied), so the weights are
    /// resident once. The computation runs on the CPU as `compute` says, on threads of the
    /// model's own (an error if this machine cannot run what `compute` asks for).
    pub fn load(weights: &Path, cfg: &Config, compute: &Compute) -> Result<Self> {
        let t = Instant::now();
        let mut src = FileSource::open(weights)?;
        let m = Self::build(&mut src, cfg, compute)?;
        tracing::info!(
            file = %weights.display(),
            secs = t.elapsed().as_secs_f64(),
            "loaded Kokoro weights"
        );
        Ok(m)
    }

    /// [`Config::tiny`] with deterministic random weights (finite, non-silent audio).
    pub fn tiny_random(seed: u64, compute: &Compute) -> Result<Self> {
        let mut src = RandomSource::new(seed);
        Self::build(&mut src, &Config::tiny(), compute)
    }

    pub(crate) fn build(
        src: &mut (dyn WeightSource + Send),
        cfg: &Config,
        compute: &Compute,
    ) -> Result<Self> {
        let pool = Arc::new(ComputePool::new(compute)?);
        let own = pool.clone();
        // (on the model's threads: the layers choose their algorithms for its compute)
        pool.run(move || Self::build_on(src, cfg, own))
    }

    fn build_on(
        src: &mut (dyn WeightSource + Send),
        cfg: &Config,
        compute: Arc<ComputePool>,
    ) -> Result<Self> {
        let mark0 = src.mapped_count();
        let mut vb = Vb::new(src);
        let mut bert = Albert::new(&mut vb.pp("bert"), cfg)?;
        let mut bert_encoder = Linear::new(
            &mut vb.pp("bert_encoder"),
            cfg.plbert.hidden_size,
            cfg.hidden_dim,
            true,
        )?;
        // ALBERT's and its projection's weights, laid out once for the packed kernels; their
        // mapped pages leave the resident set (read again only by long chunks, or where the
        // kernels don't run), so the copy costs no memory.
        let mut packed = bert.pack();
        packed.extend(bert_encoder.pack());
        for (start, len) in page_ranges(packed) {
            unmap_resident(start, len);
        }
        let predictor = ProsodyPredictor::new(&mut vb.pp("predictor"), cfg)?;
        let text_encoder = TextEncoder::new(&mut vb.pp("text_encoder"), cfg)?;
        drop(vb);
        let mark1 = src.mapped_count();
        let mut vb = Vb::new(src);
        let (decoder, gen_mark) = Decoder::new(&mut vb.pp("decoder"), cfg)?;
        drop(vb);
        let text_pages = page_ranges(src.mapped_ranges(mark0, mark1));
        let decoder_pages = page_ranges(src.mapped_ranges(mark1, gen_mark));
        Ok(Self {
            cfg: cfg.clone(),
            vocab: Vocab::new(cfg),
            bert,
            bert_encoder,
            predictor,
            text_encoder,
            decoder,
            text_pages,
            decoder_pages,
            compute,
        })
    }

    /// The matrix-product backend the model runs on.
    pub fn backend(&self) -> Backend {
        self.compute.backend
    }

    /// The CPU level of the model's vector loops.
    pub fn cpu_level(&self) -> CpuLevel {
        self.compute.level
    }

    /// The threads of the model's pool.
    pub fn threads(&self) -> usize {
        self.compute.threads
    }

    /// A line about the backend as the model runs it (for OpenBLAS its kernel family).
    pub fn backend_detail(&self) -> String {
        let b = self.compute.backend;
        self.compute.run(|| b.detail())
    }

    /// Measured matrix-product speed on the model's compute ([`crate::matmul::gflops`]).
    pub fn gemm_gflops(&self) -> f64 {
        self.compute.run(crate::kernels::matmul::gflops)
    }

    /// Runs `f` on the model's threads, with its compute settings.
    pub(crate) fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.compute.run(f)
    }

    /// Drops the given weight pages from this process's resident set. They stay in the page
    /// cache, so the next forward pass maps them back with cheap minor faults; the values are
    /// re-read from the read-only file mapping, so this cannot change any result.
    fn release_pages(&self, pages: &[PageRange]) {
        for &(start, len) in pages {
            unmap_resident(start, len);
        }
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The phoneme vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Length of a style vector (`2 · style_dim`, 256 for v1.0).
    pub fn style_width(&self) -> usize {
        2 * self.cfg.style_dim
    }

    /// Validates a phoneme string, picks the voice row and runs the model.
    pub fn synthesize(
        &self,
        phonemes: &str,
        voice: &VoicePack,
        speed: f32,
        opts: &ForwardOptions,
    ) -> Result<Synthesis> {
        self.run(|| {
            let p = self.prepare(phonemes, voice, speed, opts)?;
            self.finish(p, opts)
        })
    }

    /// The text side of [`synthesize`](Self::synthesize) (ALBERT, prosody predictor, F0/energy,
    /// text encoder): everything before the decoder. Audio for any frame range of the result
    /// comes from [`render`](Self::render) or, window by window, from [`stream`](Self::stream).
    pub fn prepare(
        &self,
        phonemes: &str,
        voice: &VoicePack,
        speed: f32,
        opts: &ForwardOptions,
    ) -> Result<Prepared> {
        self.run(|| {
            let n = phonemes.chars().count();
            if n == 0 {
                return Err(Error::Empty);
            }
            if n > MAX_PHONEMES {
                return Err(Error::TooLong {
                    len: n,
                    max: MAX_PHONEMES,
                });
            }
            let ids = self.vocab.encode(phonemes)?;
            check_speed(speed)?;
            if voice.width() != self.style_width() {
                return Err(Error::BadStyle(format!(
                    "voice {} has rows of {} values, the model needs {}",
                    voice.name(),
                    voice.width(),
                    self.style_width()
                )));
            }
            self.prepare_ids(&ids, voice.style_for(n), speed, opts)
        })
    }

    /// Runs the model on token ids that already include the leading/trailing 0 pads.
    pub fn forward_ids(
        &self,
        ids: &[u32],
        style: &[f32],
        speed: f32,
        opts: &ForwardOptions,
    ) -> Result<Synthesis> {
        self.run(|| {
            let p = self.prepare_ids(ids, style, speed, opts)?;
            self.finish(p, opts)
        })
    }

    /// Whole-chunk audio from a prepared text side.
    fn finish(&self, mut p: Prepared, opts: &ForwardOptions) -> Result<Synthesis> {
        let t_all = Instant::now();
        let (audio, t) = self.render_inner(&p, 0..p.frames, opts, None)?;
        let tm = &mut p.timings;
        tm.decoder += t.decoder;
        tm.source += t.source;
        tm.post += t.post;
        for (a, b) in tm.generator_stage.iter_mut().zip(t.generator_stage) {
            *a += b;
        }
        debug_assert_eq!(audio.len(), p.samples());
        p.timings.total += t_all.elapsed().as_secs_f64();
        tracing::debug!(
            tokens = p.durations.len(),
            frames = p.frames,
            secs = p.timings.total,
            "forward pass"
        );
        Ok(Synthesis {
            audio,
            durations: p.durations,
            trace: p.trace,
            timings: p.timings,
        })
    }

    /// [`prepare`](Self::prepare) on token ids that already include the two 0 pads.
    pub fn prepare_ids(
        &self,
        ids: &[u32],
        style: &[f32],
        speed: f32,
        opts: &ForwardOptions,
    ) -> Result<Prepared> {
        self.run(|| {
            let t_all = Instant::now();
            let t = ids.len();
            if t <= 2 {
                return Err(Error::Empty);
            }
            let max_t = self
                .cfg
                .plbert
                .max_position_embeddings
                .min(MAX_PHONEMES + 2);
            if t > max_t {
                return Err(Error::TooLong {
                    len: t - 2,
                    max: max_t - 2,
                });
            }
            if let Some(&id) = ids.iter().find(|&&id| id as usize >= self.cfg.n_token) {
                return Err(Error::BadTokenId {
                    id,
                    n_token: self.cfg.n_token,
                });
            }
            check_speed(speed)?;
            if style.len() != self.style_width() {
                return Err(Error::BadStyle(format!(
                    "{} values, expected {}",
                    style.len(),
                    self.style_width()
                )));
            }
            if let Some(i) = style.iter().position(|v| !v.is_finite()) {
                return Err(Error::BadStyle(format!("non-finite value at index {i}")));
            }
            let sd = self.cfg.style_dim;
            let (s_dec, s_pro) = style.split_at(sd);
            let hd = self.cfg.hidden_dim;
            let mut timings = Timings::default();
            let cancel = Cancel(opts.cancel.as_deref());
            cancel.check()?;

            let t0 = Instant::now();
            let bert = self.bert.forward(ids); // [T, 768]
            let d_en_t = self.bert_encoder.forward(&bert, t); // [T, 512]
            let d_en = transpose(&d_en_t, t, hd); // [512, T]
            timings.bert = t0.elapsed().as_secs_f64();
            cancel.check()?;

            let t0 = Instant::now();
            let d = self.predictor.encode(&d_en, t, s_pro); // [T, 640]
            let duration = self.predictor.durations(&d, t, speed);
            if let Some(i) = duration.iter().position(|v| !v.is_finite()) {
                return Err(Error::Numerical(format!(
                    "duration of token {i} is not finite"
                )));
            }
            let durations: Vec<u32> = duration
                .iter()
                .map(|v| v.round_ties_even().max(1.0) as u32)
                .collect();
            let l: usize = durations.iter().map(|&v| v as usize).sum();
            timings.predictor = t0.elapsed().as_secs_f64();
            cancel.check()?;

            // en = dᵀ @ A as a repeat of token rows: [L, 640] (time-major).
            let t0 = Instant::now();
            let w = d.len() / t;
            let mut en = Vec::with_capacity(l * w);
            for (i, &k) in durations.iter().enumerate() {
                for _ in 0..k {
                    en.extend_from_slice(&d[i * w..(i + 1) * w]);
                }
            }
            let (f0, n) = self.predictor.f0_n(&en, l, s_pro);
            drop(en);
            timings.f0n = t0.elapsed().as_secs_f64();
            cancel.check()?;

            let t0 = Instant::now();
            let t_en = self.text_encoder.forward(ids); // [512, T]
            let mut asr = vec![0f32; hd * l];
            for c in 0..hd {
                let row = &t_en[c * t..(c + 1) * t];
                let out = &mut asr[c * l..(c + 1) * l];
                let mut pos = 0;
                for (i, &k) in durations.iter().enumerate() {
                    out[pos..pos + k as usize].fill(row[i]);
                    pos += k as usize;
                }
            }
            timings.text_encoder = t0.elapsed().as_secs_f64();
            cancel.check()?;
            let trace = opts.trace.then(|| Trace {
                bert: (bert, vec![t, self.cfg.plbert.hidden_size]),
                d_en: (d_en, vec![hd, t]),
                d: (d, vec![t, w]),
                duration: (duration, vec![t]),
                f0: (f0.clone(), vec![2 * l]),
                n: (n.clone(), vec![2 * l]),
                t_en: (t_en, vec![hd, t]),
            });
            timings.total = t_all.elapsed().as_secs_f64();
            Ok(Prepared {
                ids: ids.to_vec(),
                durations,
                frames: l,
                asr,
                f0,
                n,
                s_dec: s_dec.to_vec(),
                hidden: hd,
                samples_per_frame: self.cfg.samples_per_frame(),
                trace,
                timings,
            })
        })
    }

    /// Audio of the frames `range` of a prepared chunk, computed from those frames alone:
    /// `samples_per_frame · range.len()` samples. The decoder and generator see only the window
    /// (their InstanceNorm statistics and convolution padding are the window's), while the
    /// excitation keeps the whole chunk's phase and noise. `0..frames` is exactly the output of
    /// [`synthesize`](Self::synthesize). To stitch windows smoothly use [`stream`](Self::stream).
    pub fn render(
        &self,
        p: &Prepared,
        range: Range<usize>,
        opts: &ForwardOptions,
    ) -> Result<Vec<f32>> {
        self.run(|| {
            self.render_inner(p, range, opts, None)
                .map(|(audio, _)| audio)
        })
    }

    pub(crate) fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    pub(crate) fn render_inner(
        &self,
        p: &Prepared,
        range: Range<usize>,
        opts: &ForwardOptions,
        record: Option<&mut Vec<Vec<(f32, f32)>>>,
    ) -> Result<(Vec<f32>, Timings)> {
        if range.start >= range.end || range.end > p.frames {
            return Err(Error::BadRange {
                start: range.start,
                end: range.end,
                frames: p.frames,
            });
        }
        if p.hidden != self.cfg.hidden_dim || p.samples_per_frame != self.cfg.samples_per_frame() {
            return Err(Error::BadStyle(
                "prepared by a model of another configuration".into(),
            ));
        }
        let mut pass = Pass::new(Cancel(opts.cancel.as_deref()), record);
        pass.cancel.check()?;
        let l = range.len();
        let whole = l == p.frames;
        // The window's slice of the aligned text features [d, l].
        let asr_w: std::borrow::Cow<[f32]> = if whole {
            std::borrow::Cow::Borrowed(&p.asr)
        } else {
            let mut v = Vec::with_capacity(p.hidden * l);
            for c in 0..p.hidden {
                let row = &p.asr[c * p.frames..(c + 1) * p.frames];
                v.extend_from_slice(&row[range.clone()]);
            }
            std::borrow::Cow::Owned(v)
        };
        let f0_range = 2 * range.start..2 * range.end;
        // Long chunks: the text side is done, let its weight pages go before the big decoder and
        // generator buffers exist (short chunks skip this: their buffers are small and re-faulting
        // the pages costs ~2-3 % of a short pass).
        let release = l >= RELEASE_MIN_FRAMES;
        if release {
            self.release_pages(&self.text_pages);
        }
        let noise = if opts.deterministic {
            None
        } else {
            Some(opts.seed)
        };
        let (x, t_dec) = self.decoder.decode(
            &asr_w,
            l,
            &p.f0[f0_range.clone()],
            &p.n[f0_range.clone()],
            &p.s_dec,
            &mut pass,
        )?;
        drop(asr_w);
        // Same for the decoder's residual stack before the generator's 128-channel buffers.
        if release {
            self.release_pages(&self.decoder_pages);
        }
        let audio = self.decoder.generator().forward(
            x,
            t_dec,
            &p.s_dec,
            (&p.f0, f0_range),
            noise,
            &mut pass,
        )?;
        if let Some(i) = audio.iter().position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!("audio sample {i} is not finite")));
        }
        debug_assert_eq!(audio.len(), l * self.cfg.samples_per_frame());
        Ok((audio, pass.timings))
    }
}

/// The text side of one chunk, from [`Kokoro::prepare`]: durations, the aligned text features,
/// F0 and energy curves and the style. About 2 KB per frame.
#[derive(Debug, Clone)]
pub struct Prepared {
    ids: Vec<u32>,
    durations: Vec<u32>,
    frames: usize,
    /// `[hidden, frames]`
    asr: Vec<f32>,
    /// `[2·frames]`
    f0: Vec<f32>,
    n: Vec<f32>,
    s_dec: Vec<f32>,
    hidden: usize,
    samples_per_frame: usize,
    trace: Option<Trace>,
    timings: Timings,
}

impl Prepared {
    /// Integer duration (frames) per token, including the two pads.
    pub fn durations(&self) -> &[u32] {
        &self.durations
    }

    /// Token ids, including the two pads.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// `[hidden, frames]` aligned text features, the raw F0 and energy curves `[2·frames]` and
    /// the decoder's style.
    pub(crate) fn decoder_inputs(&self) -> (&[f32], &[f32], &[f32], &[f32]) {
        (&self.asr, &self.f0, &self.n, &self.s_dec)
    }

    /// Whether a model of this configuration prepared it.
    pub(crate) fn fits(&self, cfg: &Config) -> bool {
        self.hidden == cfg.hidden_dim && self.samples_per_frame == cfg.samples_per_frame()
    }

    /// Frames (Σ durations).
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Audio samples of the whole chunk.
    pub fn samples(&self) -> usize {
        self.frames * self.samples_per_frame
    }

    /// Audio samples per frame (600).
    pub fn samples_per_frame(&self) -> usize {
        self.samples_per_frame
    }

    /// Time spent preparing.
    pub fn timings(&self) -> &Timings {
        &self.timings
    }

    /// Frames of the leading pad (the duration of the first token): the model's near-silence
    /// before the first phoneme, about 0.3 s.
    pub fn lead_frames(&self) -> usize {
        self.durations.first().map_or(0, |&d| d as usize)
    }

    /// The same chunk from frame `skip` on, for a stream that should not spend compute on the
    /// leading near-silence: `skip` is at most the leading pad's frames less one, so only pad is
    /// left out; durations and frames are those of what remains. The decoder then starts at that frame as it starts at a chunk's first one (zero padding, its
    /// statistics from there on), so the audio after the pad follows the whole chunk's (tests:
    /// `a_stream_without_the_lead_keeps_the_voice`). The trace is not carried over.
    pub fn skip_lead(&self, skip: usize) -> Prepared {
        let skip = skip.min(self.lead_frames().saturating_sub(1));
        let (l, rest) = (self.frames, self.frames - skip);
        let mut asr = Vec::with_capacity(self.hidden * rest);
        for row in self.asr.chunks_exact(l) {
            asr.extend_from_slice(&row[skip..]);
        }
        let mut durations = self.durations.clone();
        if let Some(d) = durations.first_mut() {
            *d -= skip as u32;
        }
        Prepared {
            ids: self.ids.clone(),
            durations,
            frames: rest,
            asr,
            f0: self.f0[2 * skip..].to_vec(),
            n: self.n[2 * skip..].to_vec(),
            s_dec: self.s_dec.clone(),
            hidden: self.hidden,
            samples_per_frame: self.samples_per_frame,
            trace: None,
            timings: self.timings,
        }
    }
}

fn check_speed(speed: f32) -> Result<()> {
    if !(speed.is_finite() && (0.25..=4.0).contains(&speed)) {
        return Err(Error::BadSpeed(speed));
    }
    Ok(())
}

/// Chunks of at least this many frames (6.4 s of audio; generator buffers of ≥ 16 MB each) drop
/// the text-side and decoder weight pages from the resident set before the generator runs.
const RELEASE_MIN_FRAMES: usize = 256;

/// `(start address, length)`, both multiples of the page size.
type PageRange = (usize, usize);

/// The OS page size (4 KiB on x86-64; 16 or 64 KiB on some arm64 Linux kernels and on Apple
/// Silicon).
fn page_size() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if n > 0 {
            return n as usize;
        }
    }
    4096
}

/// The whole pages inside each byte range, merged where adjacent.
fn page_ranges(ranges: Vec<(usize, usize)>) -> Vec<PageRange> {
    page_ranges_of(ranges, page_size())
}

fn page_ranges_of(mut ranges: Vec<(usize, usize)>, page: usize) -> Vec<PageRange> {
    ranges.sort_unstable();
    let mut out: Vec<PageRange> = Vec::new();
    for (start, len) in ranges {
        let lo = start.next_multiple_of(page);
        let hi = (start + len) / page * page;
        if hi <= lo {
            continue;
        }
        match out.last_mut() {
            Some((s, l)) if *s + *l >= lo => *l = (*l).max(hi - *s),
            _ => out.push((lo, hi - lo)),
        }
    }
    out
}

#[cfg(target_os = "linux")]
fn unmap_resident(start: usize, len: usize) {
    // SAFETY: [start, start+len) lies inside the live read-only shared file mapping of the
    // weights (the Arc in every mapped Weight keeps it alive as long as `self`). MADV_DONTNEED on
    // such a mapping only unmaps the pages; later reads fault them back in from the file.
    let rc = unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    if rc != 0 {
        tracing::debug!(err = %std::io::Error::last_os_error(), "madvise(DONTNEED) failed");
    }
}

#[cfg(not(target_os = "linux"))]
fn unmap_resident(_start: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::page_ranges_of;

    /// Only whole pages inside the ranges are released, merged where adjacent, for 4 KiB and
    /// 16 KiB pages alike.
    #[test]
    fn page_ranges_keep_to_whole_pages_of_the_os_size() {
        let ranges = vec![(20_000, 30_000), (5_000, 3_000), (50_000, 100_000)];
        assert_eq!(
            page_ranges_of(ranges.clone(), 4096),
            vec![(20_480, 28_672), (53_248, 94_208)]
        );
        assert_eq!(
            page_ranges_of(ranges, 16_384),
            vec![(32_768, 16_384), (65_536, 81_920)]
        );
        assert!(page_ranges_of(vec![(1, 100)], 4096).is_empty());
    }
}
