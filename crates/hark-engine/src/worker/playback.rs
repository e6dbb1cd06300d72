//! The playback thread's side: the utterance being played, sentence by sentence (for skip and
//! previous), its markers turned into events when their audio has played, and the commands
//! (stop, pause, resume, skip, previous, prepare) that act on it.

use super::shared::{Core, Ctl, Outcome, PlayMsg};
use crate::audio::apply_gain;
use crate::events::{Event, State, UtteranceId};
use crate::pipeline::Piece;
use crate::sink::Sink;
use crate::timing::samples_to_ms;
use crossbeam_channel::Receiver;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Samples written to the sink per step (10 ms).
const BLOCK: usize = 240;
/// Audio the playback thread holds ahead of its write cursor before it stops
/// taking pieces from the synth thread.
const LOOKAHEAD: usize = crate::SAMPLE_RATE as usize * 3;
/// Close the device after this long with nothing to play.
const IDLE_CLOSE: Duration = Duration::from_secs(3);

/// Audio of one sentence, with its markers.
struct SentenceBuf {
    number: usize,
    audio: Vec<f32>,
    /// (offset in `audio`, event), sorted by offset.
    markers: Vec<(usize, Event)>,
}

struct Current {
    id: UtteranceId,
    /// Stop epoch the utterance was queued in.
    epoch: u64,
    sentences: VecDeque<SentenceBuf>,
    /// Index into `sentences` of the sentence being written.
    cur: usize,
    /// Write offset in that sentence.
    offset: usize,
    /// Next marker of that sentence to schedule.
    marker: usize,
    /// Drop incoming pieces of sentences below this number (after a skip).
    skip_below: usize,
    /// Skips requested before any sentence arrived.
    pending_skips: usize,
    ended: Option<Outcome>,
    started: bool,
    paused: bool,
}

impl Current {
    fn ahead(&self) -> usize {
        let mut n = 0;
        for (i, s) in self.sentences.iter().enumerate().skip(self.cur) {
            n += if i == self.cur {
                s.audio.len().saturating_sub(self.offset)
            } else {
                s.audio.len()
            };
        }
        n
    }

    fn add(&mut self, id: UtteranceId, piece: Piece) {
        if piece.sentence < self.skip_below {
            return;
        }
        let new_sentence = self
            .sentences
            .back()
            .is_none_or(|s| s.number != piece.sentence);
        if new_sentence && self.pending_skips > 0 {
            self.pending_skips -= 1;
            self.skip_below = piece.sentence + 1;
            return;
        }
        if new_sentence {
            self.sentences.push_back(SentenceBuf {
                number: piece.sentence,
                audio: Vec::new(),
                markers: vec![(
                    0,
                    Event::Sentence {
                        id,
                        src: piece.sentence_src.clone(),
                    },
                )],
            });
        }
        let Some(s) = self.sentences.back_mut() else {
            return;
        };
        let base = s.audio.len();
        if !piece.continues {
            s.markers.push((
                base,
                Event::ChunkStarted {
                    id,
                    index: piece.index,
                    src: piece.src.clone(),
                    voice: piece.voice.clone(),
                },
            ));
        }
        for w in &piece.words {
            s.markers.push((
                base + w.start,
                Event::Word {
                    id,
                    src: w.src.clone(),
                    start_ms: samples_to_ms(piece.start + w.start as u64),
                    end_ms: samples_to_ms(piece.start + w.end as u64),
                },
            ));
        }
        s.markers.sort_by_key(|m| m.0);
        s.audio.extend_from_slice(&piece.audio);
    }

    /// Forget sentences more than one behind the cursor.
    fn trim_history(&mut self) {
        while self.cur > 1 {
            self.sentences.pop_front();
            self.cur -= 1;
        }
    }

    fn goto(&mut self, idx: usize) {
        self.cur = idx;
        self.offset = 0;
        self.marker = 0;
        self.trim_history();
    }
}

/// The playback thread: owns the sink, keeps the current and the previous sentence, writes
/// blocks while the sink has room and turns markers into events once their audio has played.
pub(super) struct Playback {
    core: Arc<Core>,
    sink: Box<dyn Sink>,
    ctl: Receiver<Ctl>,
    play: Receiver<PlayMsg>,
    current: Option<Current>,
    /// Utterance whose remaining messages are ignored (stopped or failed).
    ignore: Option<UtteranceId>,
    /// (sink position, event) waiting for its audio to play.
    scheduled: VecDeque<(u64, Event)>,
    written: u64,
    block: Vec<f32>,
    idle_since: Option<Instant>,
    /// `pause` arrived between utterances: the next one starts paused.
    pause_pending: bool,
}

impl Playback {
    pub(super) fn new(
        core: Arc<Core>,
        sink: Box<dyn Sink>,
        ctl: Receiver<Ctl>,
        play: Receiver<PlayMsg>,
    ) -> Playback {
        Playback {
            core,
            sink,
            ctl,
            play,
            current: None,
            ignore: None,
            scheduled: VecDeque::new(),
            written: 0,
            block: Vec::with_capacity(BLOCK),
            idle_since: Some(Instant::now()),
            pause_pending: false,
        }
    }

    pub(super) fn run(mut self) {
        loop {
            while let Ok(c) = self.ctl.try_recv() {
                self.on_ctl(c);
            }
            self.flush_events();
            if self.current.is_none() {
                if !self.wait(true, None) {
                    return;
                }
                continue;
            }
            // Take pieces while the look-ahead is short.
            while self
                .current
                .as_ref()
                .is_some_and(|c| c.ahead() < LOOKAHEAD && c.ended.is_none())
            {
                match self.play.try_recv() {
                    Ok(m) => self.on_play(m),
                    Err(_) => break,
                }
            }
            if self.current.is_none() {
                continue;
            }
            match self.step() {
                Step::Wrote => {}
                Step::Finished => self.finish(),
                Step::WaitRoom => {
                    if !self.wait(false, Some(Duration::from_millis(2))) {
                        return;
                    }
                }
                Step::WaitData => {
                    let want = self.current.as_ref().is_some_and(|c| c.ended.is_none());
                    let t = if self.scheduled.is_empty() {
                        None
                    } else {
                        Some(Duration::from_millis(2))
                    };
                    if !self.wait(want, t) {
                        return;
                    }
                }
            }
        }
    }

    /// Block on commands (and pieces if `data`) for at most `timeout`.
    /// Returns false when the engine is gone.
    fn wait(&mut self, data: bool, timeout: Option<Duration>) -> bool {
        let keep_open = self.core.keep_open.load(Ordering::SeqCst);
        let timeout = match (timeout, self.current.is_none(), self.idle_since) {
            (t, true, Some(since)) if !keep_open => {
                let left = IDLE_CLOSE.saturating_sub(since.elapsed());
                if left.is_zero() {
                    self.sink.idle();
                    self.idle_since = None;
                    t
                } else {
                    Some(t.map_or(left, |t| t.min(left)))
                }
            }
            (t, _, _) => t,
        };
        let never = crossbeam_channel::never();
        let play = if data { &self.play } else { &never };
        let deadline = timeout.map(crossbeam_channel::after);
        let tick = deadline.unwrap_or_else(crossbeam_channel::never);
        crossbeam_channel::select! {
            recv(self.ctl) -> m => match m {
                Ok(c) => self.on_ctl(c),
                // The engine was dropped.
                Err(_) => return false,
            },
            recv(play) -> m => match m {
                Ok(m) => self.on_play(m),
                Err(_) => return false,
            },
            recv(tick) -> _ => {},
        }
        true
    }

    fn on_play(&mut self, m: PlayMsg) {
        match m {
            PlayMsg::Begin { id, epoch } => {
                if epoch != self.core.stop_epoch.load(Ordering::SeqCst) {
                    self.ignore = Some(id);
                    self.core.emit(Event::Cancelled { id });
                    return;
                }
                self.core.set_paused(self.pause_pending);
                if let Err(e) = self.sink.begin() {
                    self.ignore = Some(id);
                    self.core.abort_id.store(id.0, Ordering::SeqCst);
                    self.core.cancel_synthesis(|u, _| u == id);
                    self.core.emit(Event::Error {
                        id: Some(id),
                        message: e.to_string(),
                    });
                    return;
                }
                self.idle_since = None;
                let paused = std::mem::take(&mut self.pause_pending);
                if paused {
                    self.core.set_state(State::Paused { id });
                    self.core.emit(Event::Paused { id });
                } else {
                    self.core.set_state(State::Speaking { id });
                }
                self.current = Some(Current {
                    id,
                    epoch,
                    sentences: VecDeque::new(),
                    cur: 0,
                    offset: 0,
                    marker: 0,
                    skip_below: 0,
                    pending_skips: 0,
                    ended: None,
                    started: false,
                    paused,
                });
            }
            PlayMsg::Piece { id, piece } => {
                if let Some(c) = self.current.as_mut().filter(|c| c.id == id) {
                    c.add(id, piece);
                }
            }
            PlayMsg::End { id, outcome } => {
                if self.ignore == Some(id) {
                    self.ignore = None;
                    return;
                }
                if let Some(c) = self.current.as_mut().filter(|c| c.id == id) {
                    match outcome {
                        Outcome::Failed(msg) => {
                            self.sink.discard();
                            self.scheduled.clear();
                            self.current = None;
                            self.idle_since = Some(Instant::now());
                            self.core.emit(Event::Error {
                                id: Some(id),
                                message: msg,
                            });
                        }
                        o => c.ended = Some(o),
                    }
                }
            }
        }
    }

    fn on_ctl(&mut self, c: Ctl) {
        match c {
            Ctl::Stop(epoch) => {
                self.pause_pending = false;
                // An utterance begun after this stop (the commands raced) keeps going.
                if let Some(cur) = self.current.take_if(|c| c.epoch < epoch) {
                    self.sink.discard();
                    self.scheduled.clear();
                    if cur.ended.is_none() {
                        self.ignore = Some(cur.id);
                    }
                    self.idle_since = Some(Instant::now());
                    self.core.emit(Event::Cancelled { id: cur.id });
                }
                self.core.set_paused(false);
            }
            Ctl::Pause => match self.current.as_mut() {
                Some(cur) if !cur.paused => {
                    cur.paused = true;
                    let id = cur.id;
                    self.core.set_state(State::Paused { id });
                    self.core.emit(Event::Paused { id });
                }
                Some(_) => {}
                None => {
                    // Nothing playing: pause the queue if something is waiting in it.
                    // (`queued` drops only after Begin is sent, so check the channel too.)
                    self.pause_pending =
                        self.core.queued.load(Ordering::SeqCst) > 0 || !self.play.is_empty();
                    self.core.set_paused(self.pause_pending);
                }
            },
            Ctl::Resume => {
                self.pause_pending = false;
                if let Some(cur) = self.current.as_mut().filter(|c| c.paused) {
                    cur.paused = false;
                    let id = cur.id;
                    self.core.set_state(State::Speaking { id });
                    self.core.emit(Event::Resumed { id });
                }
                self.core.set_paused(false);
            }
            Ctl::Skip => {
                if self.current.is_some() {
                    self.discard_audio();
                }
                if let Some(cur) = self.current.as_mut() {
                    if cur.sentences.is_empty() {
                        // Nothing synthesized yet: skip sentences as they arrive.
                        cur.pending_skips += 1;
                    } else if let Some(num) = cur.sentences.get(cur.cur).map(|s| s.number) {
                        // A skip still waiting for its sentence moves one further.
                        let target = if cur.skip_below > num {
                            cur.skip_below + 1
                        } else {
                            num + 1
                        };
                        cur.skip_below = target;
                        match cur.sentences.iter().position(|s| s.number >= target) {
                            Some(i) => cur.goto(i),
                            None => {
                                // Not synthesized yet: drop the rest of this sentence
                                // and wait for the target.
                                cur.sentences.truncate(cur.cur + 1);
                                let s = &cur.sentences[cur.cur];
                                cur.offset = s.audio.len();
                                cur.marker = s.markers.len();
                            }
                        }
                    }
                }
            }
            Ctl::KeepOpen(false) => {
                // the idle delay runs from now
                if self.current.is_none() {
                    self.idle_since = Some(Instant::now());
                }
            }
            Ctl::Prepare | Ctl::KeepOpen(true) => {
                if self.current.is_none() {
                    self.sink.prepare();
                    // (the idle timer starts over: the device stays open for the request)
                    self.idle_since = Some(Instant::now());
                }
            }
            Ctl::Previous => {
                if self.current.is_some() {
                    self.discard_audio();
                }
                if let Some(cur) = self.current.as_mut() {
                    let num = cur.sentences.get(cur.cur).map(|s| s.number);
                    if cur.pending_skips > 0 {
                        cur.pending_skips -= 1;
                    } else if num.is_some_and(|n| cur.skip_below > n + 1) {
                        // A skip is still waiting for its sentence: aim one lower.
                        cur.skip_below -= 1;
                    } else if num.is_some_and(|n| cur.skip_below == n + 1) {
                        // Undo the pending skip: restart the current sentence.
                        cur.skip_below -= 1;
                        let here = cur.cur;
                        cur.goto(here);
                    } else {
                        let to = cur.cur.saturating_sub(1);
                        cur.goto(to);
                    }
                }
            }
        }
    }

    fn discard_audio(&mut self) {
        // Events of audio already heard go out; the rest are dropped.
        self.flush_events();
        self.sink.discard();
        self.scheduled.clear();
    }

    fn played(&self) -> u64 {
        self.written.saturating_sub(self.sink.pending())
    }

    fn flush_events(&mut self) {
        let played = self.played();
        while self
            .scheduled
            .front()
            .is_some_and(|(pos, _)| *pos <= played)
        {
            if let Some((_, ev)) = self.scheduled.pop_front() {
                self.core.emit(ev);
            }
        }
    }

    fn step(&mut self) -> Step {
        let Some(cur) = self.current.as_mut() else {
            return Step::WaitData;
        };
        if cur.paused {
            return Step::WaitData;
        }
        // Move to the next sentence when this one is fully written.
        while cur.cur < cur.sentences.len() && cur.offset >= cur.sentences[cur.cur].audio.len() {
            let complete = cur.cur + 1 < cur.sentences.len() || cur.ended.is_some();
            if !complete {
                break;
            }
            if cur.cur + 1 < cur.sentences.len() {
                cur.goto(cur.cur + 1);
            } else {
                break;
            }
        }
        let remaining = cur
            .sentences
            .get(cur.cur)
            .map_or(0, |s| s.audio.len().saturating_sub(cur.offset));
        if remaining == 0 {
            let last = cur.cur + 1 >= cur.sentences.len();
            if cur.ended.is_some() && last {
                return Step::Finished;
            }
            return Step::WaitData;
        }
        let n = remaining.min(BLOCK);
        if self.sink.room() < n {
            return Step::WaitRoom;
        }
        let id = cur.id;
        let s = &cur.sentences[cur.cur];
        let from = cur.offset;
        // Markers inside this block, scheduled at their sink position.
        while let Some((off, ev)) = s.markers.get(cur.marker) {
            if *off >= from + n && !(from + n == s.audio.len() && *off == from + n) {
                break;
            }
            self.scheduled.push_back((
                self.written + (*off).saturating_sub(from) as u64,
                ev.clone(),
            ));
            cur.marker += 1;
        }
        self.block.clear();
        self.block.extend_from_slice(&s.audio[from..from + n]);
        let gain = f32::from_bits(self.core.volume.load(Ordering::Relaxed));
        apply_gain(&mut self.block, gain);
        cur.offset += n;
        let first = !cur.started;
        cur.started = true;
        if first {
            // The device notes when this utterance's first sample plays.
            self.sink.mark_next(id.0);
        }
        if let Err(e) = self.sink.write(&self.block) {
            tracing::warn!("sink write failed: {e}");
            self.core.abort_id.store(id.0, Ordering::SeqCst);
            self.core.cancel_synthesis(|u, _| u == id);
            self.fail(id, e.to_string());
            return Step::Wrote;
        }
        if first {
            // First sample handed to the sink.
            self.core.stages.reached(id, |s| &mut s.first_write);
            self.core.emit(Event::Started { id });
        }
        self.written += n as u64;
        self.core.written.store(self.written, Ordering::Relaxed);
        self.flush_events();
        Step::Wrote
    }

    fn fail(&mut self, id: UtteranceId, message: String) {
        self.sink.discard();
        self.scheduled.clear();
        if let Some(cur) = self.current.take() {
            if cur.ended.is_none() {
                self.ignore = Some(cur.id);
            }
        }
        self.idle_since = Some(Instant::now());
        self.core.emit(Event::Error {
            id: Some(id),
            message,
        });
    }

    /// All audio written: wait until it has played, then end the utterance.
    fn finish(&mut self) {
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let id = cur.id;
        if let Err(e) = self.sink.end() {
            self.fail(id, e.to_string());
            return;
        }
        while self.sink.pending() > 0 {
            // Still playing: keep obeying commands (stop, pause).
            if !self.wait(false, Some(Duration::from_millis(2))) {
                return;
            }
            self.flush_events();
            match self.current.as_ref() {
                Some(c) if c.id == id => {}
                _ => return, // stopped meanwhile
            }
            if self.current.as_ref().is_some_and(|c| c.paused) {
                continue;
            }
            if self.current.as_ref().is_some_and(|c| {
                c.cur + 1 < c.sentences.len()
                    || c.offset < c.sentences.get(c.cur).map_or(0, |s| s.audio.len())
            }) {
                // Moved back (previous_sentence): continue writing.
                return;
            }
        }
        while let Some((_, ev)) = self.scheduled.pop_front() {
            self.core.emit(ev);
        }
        // (before the end event, so whoever waits for it finds the device's time stamps)
        self.core.stages.note_device(&self.core.audio);
        let Some(cur) = self.current.take() else {
            return;
        };
        self.idle_since = Some(Instant::now());
        let ev = match cur.ended {
            Some(Outcome::Cancelled) => Event::Cancelled { id },
            _ => Event::Finished { id },
        };
        self.core.emit(ev);
    }
}

enum Step {
    Wrote,
    Finished,
    WaitRoom,
    WaitData,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Settings;
    use crate::sink::Sink;
    use std::sync::Mutex;

    /// A sink that keeps everything written to it.
    struct Tape(Arc<Mutex<Vec<f32>>>);

    impl Sink for Tape {
        fn write(&mut self, samples: &[f32]) -> crate::error::Result<()> {
            self.0.lock().unwrap().extend_from_slice(samples);
            Ok(())
        }
    }

    /// Samples per sentence: four whole blocks and a bit.
    const LEN: usize = 4 * BLOCK + 40;
    const ID: UtteranceId = UtteranceId(1);

    /// Sentence `n`: one piece of `LEN` samples at level `0.1 * (n + 1)`.
    fn sentence(n: usize) -> PlayMsg {
        let src = n * 10..n * 10 + 9;
        PlayMsg::Piece {
            id: ID,
            piece: Piece {
                index: n,
                continues: false,
                sentence: n,
                sentence_src: src.clone(),
                src,
                voice: crate::voice::DEFAULT_VOICE.into(),
                start: (n * LEN) as u64,
                audio: vec![0.1 * (n + 1) as f32; LEN],
                words: Vec::new(),
            },
        }
    }

    struct Rig {
        pb: Playback,
        tape: Arc<Mutex<Vec<f32>>>,
    }

    impl Rig {
        /// A playback thread (driven by hand) that has begun utterance `ID`.
        fn new() -> Rig {
            let defaults = Settings {
                voice: crate::voice::DEFAULT_VOICE.into(),
                speed: 1.0,
            };
            let core = Arc::new(Core::new(defaults, 1.0, false));
            let tape = Arc::new(Mutex::new(Vec::new()));
            let (_, ctl) = crossbeam_channel::unbounded();
            let (_, play) = crossbeam_channel::bounded(1);
            let mut pb = Playback::new(core, Box::new(Tape(tape.clone())), ctl, play);
            pb.on_play(PlayMsg::Begin { id: ID, epoch: 0 });
            Rig { pb, tape }
        }

        /// Runs `steps` in order.
        fn run(mut self, steps: &[Do]) -> Rig {
            for step in steps {
                match step {
                    Arrive(range) => {
                        for n in range.clone() {
                            self.pb.on_play(sentence(n));
                        }
                    }
                    End => self.pb.on_play(PlayMsg::End {
                        id: ID,
                        outcome: Outcome::Done,
                    }),
                    Play(blocks) => {
                        // up to `blocks` blocks; stops early when the utterance waits or ends
                        for _ in 0..*blocks {
                            match self.pb.step() {
                                Step::Wrote => {}
                                Step::Finished => {
                                    self.pb.finish();
                                    break;
                                }
                                Step::WaitData | Step::WaitRoom => break,
                            }
                        }
                    }
                    Skip => self.pb.on_ctl(Ctl::Skip),
                    Previous => self.pb.on_ctl(Ctl::Previous),
                }
            }
            self
        }

        /// What was heard: (sentence, samples) for each run of one sentence's audio.
        fn heard(&self) -> Vec<(usize, usize)> {
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for &v in self.tape.lock().unwrap().iter() {
                let n = (v * 10.0).round() as usize - 1;
                match runs.last_mut() {
                    Some((m, count)) if *m == n => *count += 1,
                    _ => runs.push((n, 1)),
                }
            }
            runs
        }
    }

    /// What the tests do, in order: sentences arrive from the synth thread, the synthesis
    /// ends, blocks are played, the user skips or goes back.
    enum Do {
        Arrive(std::ops::Range<usize>),
        End,
        Play(usize),
        Skip,
        Previous,
    }
    use Do::*;

    /// What is heard after `steps`: (sentence, samples) for each run of one sentence's audio.
    fn heard(steps: &[Do]) -> Vec<(usize, usize)> {
        Rig::new().run(steps).heard()
    }

    #[test]
    fn skip_jumps_to_the_next_sentence() {
        let r = Rig::new().run(&[Arrive(0..3), End, Play(2), Skip, Play(100)]);
        assert_eq!(r.heard(), [(0, 2 * BLOCK), (1, LEN), (2, LEN)]);
        assert!(r.pb.current.is_none(), "the utterance ended");
    }

    #[test]
    fn previous_goes_back_a_sentence_or_restarts_the_first() {
        // the whole first sentence (5 blocks) and two blocks of the second, then back
        assert_eq!(
            heard(&[Arrive(0..3), End, Play(7), Previous, Play(100)]),
            [(0, LEN), (1, 2 * BLOCK), (0, LEN), (1, LEN), (2, LEN)]
        );
        assert_eq!(
            heard(&[Arrive(0..2), End, Play(2), Previous, Play(100)]),
            [(0, 2 * BLOCK + LEN), (1, LEN)]
        );
    }

    #[test]
    fn a_skip_before_any_audio_drops_the_first_sentence() {
        assert_eq!(
            heard(&[Skip, Arrive(0..3), End, Play(100)]),
            [(1, LEN), (2, LEN)]
        );
    }

    #[test]
    fn a_skip_past_the_audio_in_hand_waits_for_the_next_sentence() {
        // nothing more to play until the next sentence arrives
        let waiting = [Arrive(0..1), Play(2), Skip, Play(100)];
        assert_eq!(heard(&waiting), [(0, 2 * BLOCK)]);
        let r = Rig::new()
            .run(&waiting)
            .run(&[Arrive(1..3), End, Play(100)]);
        assert_eq!(r.heard(), [(0, 2 * BLOCK), (1, LEN), (2, LEN)]);
    }

    #[test]
    fn previous_undoes_a_skip_still_waiting_for_its_sentence() {
        // the first sentence again from its start, then on as if nothing happened
        assert_eq!(
            heard(&[
                Arrive(0..1),
                Play(2),
                Skip,
                Previous,
                Arrive(1..3),
                End,
                Play(100)
            ]),
            [(0, 2 * BLOCK + LEN), (1, LEN), (2, LEN)]
        );
        // two skips ahead of the audio, one taken back: the next sentence after all
        assert_eq!(
            heard(&[
                Arrive(0..1),
                Play(2),
                Skip,
                Skip,
                Previous,
                Arrive(1..4),
                End,
                Play(100)
            ]),
            [(0, 2 * BLOCK), (1, LEN), (2, LEN), (3, LEN)]
        );
    }
}
