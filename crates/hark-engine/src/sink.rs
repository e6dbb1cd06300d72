//! Where playback audio goes.
//!
//! A [`Sink`] receives 24 kHz mono `f32` from the engine's playback thread.
//! Sinks with a clock (the device) report how much they actually played, so
//! word events line up with what is heard; the others count as played the
//! moment they accept samples.

use crate::config::{StreamItem, SAMPLE_RATE};
use crate::device::DevicePlayer;
use crate::error::{Error, Result};
use crate::wav::WavFile;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A consumer of synthesized audio (24 kHz mono f32, already volume-scaled).
pub trait Sink: Send {
    /// Take `samples`. Must not block for long; call [`room`](Sink::room) first.
    fn write(&mut self, samples: &[f32]) -> Result<()>;
    /// Samples that can be written now without waiting.
    fn room(&self) -> usize {
        usize::MAX
    }
    /// Prepare for an utterance (e.g. open the device).
    fn begin(&mut self) -> Result<()> {
        Ok(())
    }
    /// An utterance is about to be requested: get ready without starting one (open the
    /// device). Errors are for `begin` to report.
    fn prepare(&mut self) {}
    /// The utterance's audio is complete: flush / finalize what was written.
    fn end(&mut self) -> Result<()> {
        Ok(())
    }
    /// Drop audio accepted but not yet played (stop, skip).
    fn discard(&mut self) {}
    /// Samples accepted but not yet played.
    fn pending(&self) -> u64 {
        0
    }
    /// Nothing to play for a while: release what can be released.
    fn idle(&mut self) {}
    /// The next sample written starts an utterance (`tag` is its id): a sink with a clock
    /// records when it plays (see [`crate::device::AudioControl::first_play`]).
    fn mark_next(&mut self, _tag: u64) {}
}

/// Counts samples, plays nothing. It also keeps a virtual 24 kHz clock per utterance,
/// started at its first sample, and adds up how late later samples arrived against it: the
/// time a real-time device fed the same way would have run dry (see [`NullSink::late`]).
#[derive(Debug, Default, Clone)]
pub struct NullSink {
    frames: Arc<AtomicU64>,
    late_ns: Arc<AtomicU64>,
    clock: Option<(std::time::Instant, u64, std::time::Duration)>,
    /// When the current utterance's first audible sample would have played.
    audible: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// Whether the current utterance had an audible sample yet.
    heard: bool,
}

/// The level from which a sample counts as audible: −40 dBFS.
pub const AUDIBLE_LEVEL: f32 = 0.01;

impl NullSink {
    /// A new counting sink.
    pub fn new() -> NullSink {
        NullSink::default()
    }
    /// A counting sink that adds its lateness (nanoseconds) to `late_ns`.
    pub fn with_late_counter(late_ns: Arc<AtomicU64>) -> NullSink {
        NullSink {
            late_ns,
            ..NullSink::default()
        }
    }
    /// The same sink, also noting in `slot`, per utterance, the moment a real-time device fed
    /// the same way would have played its first sample above [`AUDIBLE_LEVEL`] (the voice,
    /// not the model's leading near-silence).
    pub fn with_audible_slot(
        mut self,
        slot: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    ) -> NullSink {
        self.audible = slot;
        self
    }
    /// Shared counter of samples written so far.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.frames.clone()
    }
    /// Total time, over all utterances so far, that audio arrived after a real-time device
    /// started at the utterance's first sample would have needed it.
    pub fn late(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.late_ns.load(Ordering::Relaxed))
    }
}

impl Sink for NullSink {
    fn write(&mut self, samples: &[f32]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let now = std::time::Instant::now();
        let (start, played, late) = self
            .clock
            .get_or_insert((now, 0, std::time::Duration::ZERO));
        let due = *start
            + std::time::Duration::from_nanos(*played * 1_000_000_000 / SAMPLE_RATE as u64)
            + *late;
        if now > due {
            let d = now - due;
            tracing::debug!(
                late_ms = d.as_secs_f64() * 1e3,
                at_s = *played as f64 / f64::from(crate::SAMPLE_RATE),
                "audio arrived late"
            );
            *late += d;
            self.late_ns
                .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
        }
        if !self.heard {
            if let Some(i) = samples.iter().position(|v| v.abs() >= AUDIBLE_LEVEL) {
                self.heard = true;
                let at = *start
                    + std::time::Duration::from_nanos(
                        (*played + i as u64) * 1_000_000_000 / SAMPLE_RATE as u64,
                    )
                    + *late;
                *crate::sync::lock(&self.audible) = Some(at);
            }
        }
        *played += samples.len() as u64;
        self.frames
            .fetch_add(samples.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        self.clock = None;
        self.heard = false;
        Ok(())
    }
}

/// Writes a 24 kHz mono 16-bit WAV file ([`crate::wav::WavFile`]); the header is updated after
/// every utterance, so the file is valid whenever the engine is idle.
#[derive(Debug)]
pub struct WavSink {
    path: PathBuf,
    file: WavFile,
}

impl WavSink {
    /// Create (truncate) `path`.
    pub fn create(path: &Path) -> Result<WavSink> {
        let file = WavFile::create(path, SAMPLE_RATE).map_err(|source| Error::Output {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(WavSink {
            path: path.to_path_buf(),
            file,
        })
    }

    fn err(&self, source: std::io::Error) -> Error {
        Error::Output {
            path: self.path.clone(),
            source,
        }
    }
}

impl Sink for WavSink {
    fn write(&mut self, samples: &[f32]) -> Result<()> {
        self.file.append(samples).map_err(|e| self.err(e))
    }

    fn end(&mut self) -> Result<()> {
        self.file.finalize().map_err(|e| self.err(e))
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if let Err(e) = self.file.finalize() {
            tracing::warn!(path = %self.path.display(), "finalizing WAV: {e}");
        }
    }
}

/// Samples delivered chunk by chunk as [`StreamItem::Audio`] messages over a bounded channel:
/// a write waits while the channel is full, so synthesis keeps pace with the consumer.
#[derive(Debug)]
pub struct SampleStreamSink {
    tx: std::sync::mpsc::SyncSender<StreamItem>,
}

impl SampleStreamSink {
    /// Send to `tx`.
    pub fn new(tx: std::sync::mpsc::SyncSender<StreamItem>) -> SampleStreamSink {
        SampleStreamSink { tx }
    }
}

impl Sink for SampleStreamSink {
    fn write(&mut self, samples: &[f32]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        self.tx
            .send(StreamItem::Audio(samples.to_vec()))
            .map_err(|_| Error::Disconnected("stream consumer went away".into()))
    }
}

/// The default output device (see [`crate::device`]).
#[derive(Debug)]
pub struct DeviceSink {
    player: DevicePlayer,
}

impl DeviceSink {
    /// Wrap a player.
    pub fn new(player: DevicePlayer) -> DeviceSink {
        DeviceSink { player }
    }
}

impl Sink for DeviceSink {
    fn write(&mut self, samples: &[f32]) -> Result<()> {
        self.player.write(samples)
    }
    fn room(&self) -> usize {
        if self.player.failed() {
            // Let the next write reopen the device.
            return usize::MAX;
        }
        self.player.room()
    }
    fn begin(&mut self) -> Result<()> {
        self.player.ensure_open()
    }
    fn prepare(&mut self) {
        if let Err(e) = self.player.ensure_open() {
            tracing::debug!(error = %e, "could not open the audio output ahead of time");
        }
    }
    fn end(&mut self) -> Result<()> {
        self.player.finish();
        Ok(())
    }
    fn discard(&mut self) {
        self.player.discard();
    }
    fn pending(&self) -> u64 {
        let frames = self.player.pending_frames();
        match self.player.rate() {
            Some(rate) => frames * u64::from(SAMPLE_RATE) / rate as u64,
            None => 0,
        }
    }
    fn idle(&mut self) {
        self.player.close();
    }
    fn mark_next(&mut self, tag: u64) {
        if let Err(e) = self.player.mark_next(tag) {
            tracing::debug!(error = %e, "no device to mark the first sample on");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The null output's virtual clock: audio that arrives after what was written before it has
    /// "played" counts as late, audio that arrives early does not, and each utterance starts a
    /// new clock.
    #[test]
    fn null_sink_adds_up_how_late_audio_arrives() {
        let counter = Arc::new(AtomicU64::new(0));
        let mut sink = NullSink::with_late_counter(counter.clone());
        let tenth = vec![0.0f32; SAMPLE_RATE as usize / 10];
        let ten_s = vec![0.0f32; SAMPLE_RATE as usize * 10];
        sink.begin().unwrap();
        // 10 s in hand: the next write is early
        sink.write(&ten_s).unwrap();
        sink.write(&tenth).unwrap();
        assert_eq!(sink.late(), Duration::ZERO);
        // a new utterance: 0.1 s in hand, then 0.3 s without audio
        sink.begin().unwrap();
        sink.write(&tenth).unwrap();
        assert_eq!(sink.late(), Duration::ZERO, "the first write is never late");
        std::thread::sleep(Duration::from_millis(300));
        sink.write(&tenth).unwrap();
        let late = sink.late();
        assert!(late >= Duration::from_millis(200), "{late:?}");
        assert_eq!(Duration::from_nanos(counter.load(Ordering::Relaxed)), late);
        // once late, the clock restarts from the late sample: no double counting
        sink.write(&ten_s).unwrap();
        assert_eq!(sink.late(), late);
    }
}
