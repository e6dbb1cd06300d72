//! Audio device output through `cpal`.
//!
//! The producer side (the engine's playback thread) resamples 24 kHz audio to
//! the device rate and pushes it into a lock-free SPSC ring (`rtrb`). The
//! audio callback only copies from the ring into the device buffer: no locks,
//! no allocation, no logging. Control flags (pause, discard) and counters are
//! plain atomics shared with the callback through [`AudioControl`], which
//! outlives any one stream, so `stop` and `pause` reach the callback directly.
//! A fatal stream error (device gone, stream invalidated) marks the stream
//! failed; the producer then reopens the default device and goes on. Underruns
//! and route changes that cpal handled itself are counted, not acted on (see
//! [`stream_survives`]).
//!
//! Latency: the stream asks for a small period (10 ms, `BufferSize::Fixed`) where the device's
//! range allows, and records what was granted ([`DeviceStats::buffer_frames`]). The producer can
//! mark the next frame it pushes ([`DevicePlayer::mark_next`]); the callback that copies that
//! frame out stores, through atomics, when it ran and when cpal predicts the frame reaches the
//! device's output ([`AudioControl::first_play`]).

use crate::error::{Error, Result};
use crate::resample::Resampler;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SizedSample};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::SAMPLE_RATE as SOURCE_RATE;

/// Ring capacity in milliseconds of device audio.
const RING_MS: u32 = 200;

/// FNV-1a offset basis, the initial value of [`DeviceStats::checksum`].
pub const CHECKSUM_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// Fold one mono sample into a running FNV-1a checksum (as the callback does).
#[inline]
pub fn checksum_step(hash: u64, sample: f32) -> u64 {
    (hash ^ sample.to_bits() as u64).wrapping_mul(0x0000_0100_0000_01b3)
}

/// Flags and counters shared between the engine and every stream's callback.
#[derive(Debug)]
pub struct AudioControl {
    paused: AtomicBool,
    discard_req: AtomicU64,
    discard_ack: AtomicU64,
    /// Frames of real audio the callback copied to the device.
    played: AtomicU64,
    /// Frames the callback threw away on a discard.
    dropped: AtomicU64,
    /// Running checksum over every played mono sample.
    checksum: AtomicU64,
    /// Streams opened so far.
    opened: AtomicU64,
    /// Underruns/overruns the backend reported (the stream went on).
    xruns: AtomicU64,
    /// Make the open stream fail at its next callback ([`AudioControl::simulate_device_loss`]).
    lose: AtomicBool,
    /// A stream is open now.
    open: AtomicBool,
    /// Period (callback buffer) size granted to the open stream, in frames (0: unknown).
    buffer_frames: AtomicU64,
    /// Period size asked for (0: the device default was asked for).
    buffer_requested: AtomicU64,
    /// Sample rate of the open stream.
    rate: AtomicU64,
    /// Origin of the callback's time stamps below.
    base: Instant,
    /// The marked frame: its position in the removed-frame count (`played + dropped`) and
    /// the tag it was marked with; `mark_tag` is 0 when nothing is marked.
    mark_pos: AtomicU64,
    mark_tag: AtomicU64,
    /// The last marked frame that played: its tag, the callback's start (ns since `base`, plus
    /// one) and the predicted time it leaves the device's output (same clock). `play_tag` is
    /// stored last.
    play_tag: AtomicU64,
    play_callback_ns: AtomicU64,
    play_output_ns: AtomicU64,
}

/// When a marked frame ([`DevicePlayer::mark_next`]) played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstPlay {
    /// The tag it was marked with.
    pub tag: u64,
    /// When the audio callback that copied it out started.
    pub callback: Instant,
    /// When the device is predicted to output it: the callback's time plus the latency cpal
    /// reports for that callback (its playback timestamp less its callback timestamp) plus the
    /// frame's offset in the callback buffer.
    pub output: Instant,
}

impl Default for AudioControl {
    fn default() -> Self {
        AudioControl {
            paused: AtomicBool::new(false),
            discard_req: AtomicU64::new(0),
            discard_ack: AtomicU64::new(0),
            played: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            checksum: AtomicU64::new(CHECKSUM_SEED),
            opened: AtomicU64::new(0),
            xruns: AtomicU64::new(0),
            lose: AtomicBool::new(false),
            open: AtomicBool::new(false),
            buffer_frames: AtomicU64::new(0),
            buffer_requested: AtomicU64::new(0),
            rate: AtomicU64::new(0),
            base: Instant::now(),
            mark_pos: AtomicU64::new(0),
            mark_tag: AtomicU64::new(0),
            play_tag: AtomicU64::new(0),
            play_callback_ns: AtomicU64::new(0),
            play_output_ns: AtomicU64::new(0),
        }
    }
}

impl AudioControl {
    /// Output silence (keeping buffered audio) while `paused`.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }

    /// Ask the callback to drop everything buffered at its next call.
    pub fn request_discard(&self) -> u64 {
        self.discard_req.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn discard_done(&self, req: u64) -> bool {
        self.discard_ack.load(Ordering::SeqCst) >= req
    }

    /// Counters so far.
    pub fn stats(&self) -> DeviceStats {
        DeviceStats {
            frames_played: self.played.load(Ordering::SeqCst),
            frames_dropped: self.dropped.load(Ordering::SeqCst),
            checksum: self.checksum.load(Ordering::SeqCst),
            streams_opened: self.opened.load(Ordering::SeqCst),
            xruns: self.xruns.load(Ordering::SeqCst),
            open: self.open.load(Ordering::SeqCst),
            buffer_frames: self.buffer_frames.load(Ordering::SeqCst) as u32,
            buffer_requested: self.buffer_requested.load(Ordering::SeqCst) as u32,
            rate: self.rate.load(Ordering::SeqCst) as u32,
        }
    }

    /// When the last marked frame played, if it has ([`DevicePlayer::mark_next`]).
    pub fn first_play(&self) -> Option<FirstPlay> {
        let tag = self.play_tag.load(Ordering::Acquire);
        if tag == 0 {
            return None;
        }
        let at = |ns: u64| self.base + Duration::from_nanos(ns.saturating_sub(1));
        Some(FirstPlay {
            tag,
            callback: at(self.play_callback_ns.load(Ordering::Relaxed)),
            output: at(self.play_output_ns.load(Ordering::Relaxed)),
        })
    }

    /// Called by the audio callback after it took `removed` frames out of the ring (played or
    /// dropped, in that order of the ring), the first of them at removed-frame position
    /// `before`, of which the first `played` went to the device. Atomics only.
    fn check_mark(
        &self,
        before: u64,
        played: u64,
        removed: u64,
        info: &cpal::OutputCallbackInfo,
        started: Instant,
        rate: u32,
    ) {
        let tag = self.mark_tag.load(Ordering::Acquire);
        if tag == 0 {
            return;
        }
        let pos = self.mark_pos.load(Ordering::Relaxed);
        if pos < before || pos >= before + removed {
            return;
        }
        // Taken off the ring: it is played now or never.
        if self
            .mark_tag
            .compare_exchange(tag, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        if pos >= before + played {
            // dropped by a stop or skip
            return;
        }
        let ts = info.timestamp();
        let latency = ts.playback.duration_since(ts.callback);
        let offset = Duration::from_nanos((pos - before) * 1_000_000_000 / u64::from(rate.max(1)));
        let cb = started.saturating_duration_since(self.base).as_nanos() as u64 + 1;
        let out = cb + (latency + offset).as_nanos() as u64;
        self.play_callback_ns.store(cb, Ordering::Relaxed);
        self.play_output_ns.store(out, Ordering::Relaxed);
        self.play_tag.store(tag, Ordering::Release);
    }

    /// Make the open stream behave as if its device had vanished: at its next callback it
    /// reports a stream error (as cpal's error callback would) and never plays again, and the
    /// audio in its ring is lost. The player then reopens the default device. For tests: a
    /// real device cannot be unplugged on a machine without a sound card.
    pub fn simulate_device_loss(&self) {
        self.lose.store(true, Ordering::SeqCst);
    }
}

/// What the audio callback has done so far (device-rate frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DeviceStats {
    /// Frames of real audio copied to the device (silence fill not counted).
    pub frames_played: u64,
    /// Frames dropped by stop / skip.
    pub frames_dropped: u64,
    /// FNV-1a over the bits of every played mono sample, in order (see [`checksum_step`]);
    /// starts at [`CHECKSUM_SEED`]. Test instrumentation: kept only with the `checksum` feature
    /// (the crate's tests); without it, always [`CHECKSUM_SEED`].
    pub checksum: u64,
    /// Output streams opened (more than one after a device was lost and reopened).
    pub streams_opened: u64,
    /// Underruns/overruns the backend reported; the stream went on without reopening.
    pub xruns: u64,
    /// Whether an output stream is open now.
    pub open: bool,
    /// Frames per audio callback (the period) granted to the open (or last) stream; 0 when the
    /// backend does not say.
    pub buffer_frames: u32,
    /// Frames per callback asked for (`BufferSize::Fixed`, about 10 ms); 0 when the device
    /// gave no range and its default was used, or a fixed size was refused.
    pub buffer_requested: u32,
    /// Sample rate of the open (or last) stream.
    pub rate: u32,
}

struct OpenStream {
    // Dropping the stream stops the callback.
    _stream: cpal::Stream,
    producer: rtrb::Producer<f32>,
    failed: Arc<AtomicBool>,
    rate: u32,
    /// Frames pushed into this stream's ring.
    pushed: u64,
    /// `played + dropped` of the control when this stream opened.
    base_removed: u64,
}

/// Playback on the default output device.
pub struct DevicePlayer {
    control: Arc<AudioControl>,
    stream: Option<OpenStream>,
    resampler: Resampler,
    scratch: Vec<f32>,
}

impl std::fmt::Debug for DevicePlayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevicePlayer")
            .field("open", &self.stream.is_some())
            .field("rate", &self.stream.as_ref().map(|s| s.rate))
            .finish()
    }
}

impl Drop for DevicePlayer {
    fn drop(&mut self) {
        self.set_stream(None);
    }
}

impl DevicePlayer {
    /// A player that opens the device on first use.
    pub fn new(control: Arc<AudioControl>) -> DevicePlayer {
        DevicePlayer {
            control,
            stream: None,
            resampler: Resampler::new(SOURCE_RATE, SOURCE_RATE),
            scratch: Vec::with_capacity(4096),
        }
    }

    /// The shared control block.
    pub fn control(&self) -> &Arc<AudioControl> {
        &self.control
    }

    /// Device sample rate, if open.
    pub fn rate(&self) -> Option<u32> {
        self.stream.as_ref().map(|s| s.rate)
    }

    /// Open the default output device if it is not open (or reopen it after an error).
    pub fn ensure_open(&mut self) -> Result<()> {
        if let Some(s) = &self.stream {
            if !s.failed.load(Ordering::SeqCst) {
                return Ok(());
            }
            tracing::warn!("audio stream failed; reopening the default output device");
            self.set_stream(None);
        }
        let opened = open_default(self.control.clone())?;
        tracing::info!(rate = opened.rate, "audio output opened");
        self.resampler = Resampler::new(SOURCE_RATE, opened.rate);
        self.set_stream(Some(opened));
        Ok(())
    }

    fn set_stream(&mut self, s: Option<OpenStream>) {
        self.control.open.store(s.is_some(), Ordering::SeqCst);
        self.stream = s;
    }

    /// Close the device (it is reopened by the next write).
    pub fn close(&mut self) {
        self.set_stream(None);
    }

    /// 24 kHz samples that can be written now without waiting.
    pub fn room(&self) -> usize {
        match &self.stream {
            Some(s) => {
                let slots = s.producer.slots();
                // Leave space for the resampler's rounding.
                (slots as u64 * SOURCE_RATE as u64 / s.rate as u64).saturating_sub(4) as usize
            }
            // Not open: the next write opens it.
            None => usize::MAX,
        }
    }

    /// Has the open stream reported an error?
    pub fn failed(&self) -> bool {
        self.stream
            .as_ref()
            .is_some_and(|s| s.failed.load(Ordering::SeqCst))
    }

    /// Resample and queue `samples` (24 kHz). Call [`room`](Self::room) first;
    /// whatever does not fit is dropped with a warning.
    pub fn write(&mut self, samples: &[f32]) -> Result<()> {
        self.ensure_open()?;
        let Some(s) = self.stream.as_mut() else {
            return Err(Error::device("no output stream"));
        };
        self.scratch.clear();
        self.resampler.process(samples, &mut self.scratch);
        let (done, rest) = s.producer.push_partial_slice(&self.scratch);
        s.pushed += done.len() as u64;
        if !rest.is_empty() {
            tracing::warn!(lost = rest.len(), "device ring full; frames dropped");
        }
        Ok(())
    }

    /// Mark the next frame [`write`](Self::write) pushes with `tag` (not 0): the callback that
    /// plays it records when ([`AudioControl::first_play`]). A new mark replaces an unplayed
    /// one. Opens the device if needed.
    pub fn mark_next(&mut self, tag: u64) -> Result<()> {
        self.ensure_open()?;
        if let Some(s) = &self.stream {
            let pos = s.base_removed + s.pushed;
            self.control.mark_tag.store(0, Ordering::SeqCst);
            self.control.mark_pos.store(pos, Ordering::SeqCst);
            self.control.mark_tag.store(tag, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Flush the resampler's tail at the end of an utterance.
    pub fn finish(&mut self) {
        if let Some(s) = self.stream.as_mut() {
            self.scratch.clear();
            self.resampler.finish(&mut self.scratch);
            let (done, _) = s.producer.push_partial_slice(&self.scratch);
            s.pushed += done.len() as u64;
        }
    }

    /// Frames pushed but not yet played or dropped.
    pub fn pending_frames(&self) -> u64 {
        match &self.stream {
            Some(s) => {
                let st = self.control.stats();
                let removed = st.frames_played + st.frames_dropped - s.base_removed;
                s.pushed.saturating_sub(removed)
            }
            None => 0,
        }
    }

    /// Audio played on this stream so far, in 24 kHz samples.
    pub fn played_source_samples(&self) -> u64 {
        match &self.stream {
            Some(s) => {
                let st = self.control.stats();
                let removed = st.frames_played + st.frames_dropped - s.base_removed;
                let played = removed.min(s.pushed);
                played * SOURCE_RATE as u64 / s.rate as u64
            }
            None => 0,
        }
    }

    /// Drop everything queued, waiting (≤ 200 ms) for the callback to confirm.
    pub fn discard(&mut self) {
        self.resampler.reset();
        let req = self.control.request_discard();
        let Some(s) = &self.stream else { return };
        let deadline = Instant::now() + Duration::from_millis(200);
        while !self.control.discard_done(req) {
            if Instant::now() > deadline || s.failed.load(Ordering::SeqCst) {
                tracing::warn!("audio callback did not confirm the discard; closing the stream");
                self.set_stream(None);
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Pick an output config: f32 at 24 kHz when the device can, else the device default.
fn choose_config(device: &cpal::Device) -> Result<(cpal::StreamConfig, cpal::SampleFormat)> {
    let default = device
        .default_output_config()
        .map_err(|e| Error::backend("no default output config", e))?;
    let channels = default.channels();
    let mut chosen = None;
    if let Ok(ranges) = device.supported_output_configs() {
        for r in ranges {
            if r.sample_format() == cpal::SampleFormat::F32 && r.channels() == channels {
                if let Some(c) = r.try_with_sample_rate(SOURCE_RATE) {
                    chosen = Some(c);
                    break;
                }
            }
        }
    }
    let supported = chosen.unwrap_or(default);
    let rate = supported.sample_rate();
    let buffer_size = small_buffer(rate, supported.buffer_size());
    let format = supported.sample_format();
    let mut config: cpal::StreamConfig = supported.into();
    config.buffer_size = buffer_size;
    Ok((config, format))
}

/// Frames per callback to ask for: 10 ms, within the device's range; the device default when
/// it gives no range.
pub fn small_buffer(rate: u32, range: &cpal::SupportedBufferSize) -> cpal::BufferSize {
    match range {
        cpal::SupportedBufferSize::Range { min, max } if min <= max && *max > 0 => {
            cpal::BufferSize::Fixed((rate / 100).clamp(*min, *max))
        }
        _ => cpal::BufferSize::Default,
    }
}

fn open_default(control: Arc<AudioControl>) -> Result<OpenStream> {
    let host = cpal::default_host();
    let device = host
        .default_output_device()
        .ok_or_else(|| Error::device("no default output device"))?;
    let (config, format) = choose_config(&device)?;
    match build(&device, config, format, control.clone()) {
        Ok(s) => Ok(s),
        Err(e) if config.buffer_size != cpal::BufferSize::Default => {
            tracing::info!("fixed buffer size refused ({e}); using the device default");
            let mut config = config;
            config.buffer_size = cpal::BufferSize::Default;
            build(&device, config, format, control)
        }
        Err(e) => Err(e),
    }
}

/// Whether a stream goes on after cpal reports this kind of error: an underrun or overrun (cpal
/// has already recovered), a route change that cpal followed (the default device changed and the
/// stream was moved to it), or refused real-time scheduling. Anything else (device gone, stream
/// invalidated, backend failure, kinds added later) means the stream is dead and is reopened,
/// which loses the audio in its ring; doing that on a mere underrun would cut out speech.
pub fn stream_survives(kind: cpal::ErrorKind) -> bool {
    use cpal::ErrorKind as K;
    matches!(kind, K::Xrun | K::DeviceChanged | K::RealtimeDenied)
}

fn build(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    format: cpal::SampleFormat,
    control: Arc<AudioControl>,
) -> Result<OpenStream> {
    use cpal::SampleFormat as F;
    match format {
        F::F32 => build_typed::<f32>(device, config, control),
        F::F64 => build_typed::<f64>(device, config, control),
        F::I16 => build_typed::<i16>(device, config, control),
        F::I32 => build_typed::<i32>(device, config, control),
        F::U16 => build_typed::<u16>(device, config, control),
        F::I8 => build_typed::<i8>(device, config, control),
        F::U8 => build_typed::<u8>(device, config, control),
        other => Err(Error::device(format!(
            "unsupported sample format {other:?}"
        ))),
    }
}

fn build_typed<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    control: Arc<AudioControl>,
) -> Result<OpenStream>
where
    T: SizedSample + FromSample<f32> + Send + 'static,
{
    let rate = config.sample_rate;
    let channels = (config.channels as usize).max(1);
    let capacity = (rate as usize * RING_MS as usize / 1000).max(1024);
    let (producer, mut consumer) = rtrb::RingBuffer::<f32>::new(capacity);
    let failed = Arc::new(AtomicBool::new(false));
    let failed_cb = failed.clone();
    let failed_data = failed.clone();
    let mut dead = false;
    let st = control.stats();
    let base_removed = st.frames_played + st.frames_dropped;
    let ctl = control.clone();
    let silence = T::from_sample(0.0f32);
    // Any discard requested before this stream existed is already done.
    let mut seen_req = ctl.discard_req.load(Ordering::SeqCst);
    ctl.discard_ack.fetch_max(seen_req, Ordering::SeqCst);
    let data_cb = move |out: &mut [T], info: &cpal::OutputCallbackInfo| {
        // Only atomics and slice copies in here (and a clock read).
        let started = Instant::now();
        if !dead && ctl.lose.load(Ordering::SeqCst) && ctl.lose.swap(false, Ordering::SeqCst) {
            dead = true;
            failed_data.store(true, Ordering::SeqCst);
        }
        if dead {
            out.fill(silence);
            return;
        }
        let req = ctl.discard_req.load(Ordering::SeqCst);
        if req != seen_req {
            let n = consumer.slots();
            if let Ok(chunk) = consumer.read_chunk(n) {
                chunk.commit_all();
            }
            let before = ctl.played.load(Ordering::Relaxed) + ctl.dropped.load(Ordering::Relaxed);
            ctl.check_mark(before, 0, n as u64, info, started, rate);
            ctl.dropped.fetch_add(n as u64, Ordering::SeqCst);
            ctl.discard_ack.fetch_max(req, Ordering::SeqCst);
            seen_req = req;
        }
        if ctl.paused.load(Ordering::SeqCst) {
            out.fill(silence);
            return;
        }
        let frames = out.len() / channels;
        let n = consumer.slots().min(frames);
        let mut written = 0;
        if n > 0 {
            if let Ok(chunk) = consumer.read_chunk(n) {
                let (a, b) = chunk.as_slices();
                #[cfg(feature = "checksum")]
                let mut hash = ctl.checksum.load(Ordering::Relaxed);
                for (&s, frame) in a.iter().chain(b).zip(out.chunks_mut(channels)) {
                    #[cfg(feature = "checksum")]
                    {
                        hash = checksum_step(hash, s);
                    }
                    frame.fill(T::from_sample(s));
                }
                #[cfg(feature = "checksum")]
                ctl.checksum.store(hash, Ordering::Relaxed);
                chunk.commit_all();
                written = n;
            }
        }
        out[written * channels..].fill(silence);
        if written > 0 {
            let before = ctl.played.load(Ordering::Relaxed) + ctl.dropped.load(Ordering::Relaxed);
            ctl.check_mark(before, written as u64, written as u64, info, started, rate);
        }
        // Published last, so a reader that sees the count also sees the checksum.
        ctl.played.fetch_add(written as u64, Ordering::SeqCst);
    };
    let ctl_err = control.clone();
    let err_cb = move |e: cpal::Error| {
        // Called on the stream's own thread, not the real-time path.
        if stream_survives(e.kind()) {
            if e.kind() == cpal::ErrorKind::Xrun {
                ctl_err.xruns.fetch_add(1, Ordering::SeqCst);
            }
            tracing::debug!("audio stream event: {e}");
        } else {
            tracing::warn!("audio stream error: {e}");
            failed_cb.store(true, Ordering::SeqCst);
        }
    };
    let stream = device
        .build_output_stream::<T, _, _>(config, data_cb, err_cb, None)
        .map_err(|e| Error::backend("cannot open output stream", e))?;
    stream
        .play()
        .map_err(|e| Error::backend("cannot start output stream", e))?;
    let granted = stream.buffer_size().unwrap_or(0);
    let requested = match config.buffer_size {
        cpal::BufferSize::Fixed(n) => n,
        cpal::BufferSize::Default => 0,
    };
    control
        .buffer_frames
        .store(u64::from(granted), Ordering::SeqCst);
    control
        .buffer_requested
        .store(u64::from(requested), Ordering::SeqCst);
    control.rate.store(u64::from(rate), Ordering::SeqCst);
    tracing::info!(
        rate,
        requested_frames = requested,
        granted_frames = granted,
        granted_ms = f64::from(granted) * 1e3 / f64::from(rate.max(1)),
        "audio stream buffer"
    );
    control.opened.fetch_add(1, Ordering::SeqCst);
    Ok(OpenStream {
        _stream: stream,
        producer,
        failed,
        rate,
        pushed: 0,
        base_removed,
    })
}

#[cfg(test)]
mod tests {
    use super::stream_survives;
    use cpal::ErrorKind as K;

    #[test]
    fn only_dead_streams_are_reopened() {
        for k in [K::Xrun, K::DeviceChanged, K::RealtimeDenied] {
            assert!(stream_survives(k), "{k:?}");
        }
        for k in [
            K::DeviceNotAvailable,
            K::StreamInvalidated,
            K::HostUnavailable,
            K::BackendError,
            K::DeviceBusy,
        ] {
            assert!(!stream_survives(k), "{k:?}");
        }
    }
}
