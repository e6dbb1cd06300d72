//! The synth thread's side: turns queued jobs into pieces for the playback thread, checking
//! the stop epoch between chunks (and, through the cancel flag, inside the model run).

use super::shared::{check_opts, choose_voice, Core, Job, Outcome, PlayMsg};
use crate::error::Error;
use crate::events::Event;
use crate::pipeline::{self, Model};
use crate::sync::lock;
use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `realtime`: the output plays as it goes (device, null), so synthesis is paced to keep it fed;
/// a file output gets the same chunks whatever the timing.
pub(super) fn synth_loop(
    core: &Arc<Core>,
    model: &Model,
    jobs: Receiver<Job>,
    play: Sender<PlayMsg>,
    realtime: bool,
) {
    for job in jobs {
        // Handed over (Begin) or finished here, either way no longer queued.
        struct Dequeued<'a>(&'a AtomicUsize);
        impl Drop for Dequeued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let dequeued = Dequeued(&core.queued);
        let id = job.id;
        let cancelled = || {
            core.stop_epoch.load(Ordering::SeqCst) != job.epoch
                || core.abort_id.load(Ordering::SeqCst) == id.0
        };
        if cancelled() {
            core.emit(Event::Cancelled { id });
            continue;
        }
        if job.text.trim().is_empty() {
            // Nothing to say: a no-op, not an error sound.
            core.emit(Event::Finished { id });
            continue;
        }
        let opts = choose_voice(model, core, &job.opts, &job.text);
        if let Err(e) = check_opts(model, &opts) {
            core.emit(Event::Error {
                id: Some(id),
                message: e.to_string(),
            });
            continue;
        }
        if play
            .send(PlayMsg::Begin {
                id,
                epoch: job.epoch,
            })
            .is_err()
        {
            return;
        }
        drop(dequeued);
        core.stages.reached(id, |s| &mut s.synth_started);
        let flag = Arc::new(AtomicBool::new(false));
        let clock = || core.play_clock();
        *lock(&core.synth_flag) = Some((id, job.epoch, flag.clone()));
        if cancelled() {
            // A stop that came before the flag was published.
            flag.store(true, Ordering::SeqCst);
        }
        let res = pipeline::synthesize(
            model,
            &job.text,
            core.utterance_settings(&opts),
            cancelled,
            Some(&flag),
            realtime.then_some(&clock as &dyn Fn() -> Duration),
            |piece| {
                core.stages.reached(id, |s| &mut s.first_audio);
                play.send(PlayMsg::Piece { id, piece }).is_ok()
            },
        );
        *lock(&core.synth_flag) = None;
        let outcome = match res {
            Ok(_) => Outcome::Done,
            Err(Error::Cancelled) => Outcome::Cancelled,
            Err(e) => Outcome::Failed(e.to_string()),
        };
        if play.send(PlayMsg::End { id, outcome }).is_err() {
            return;
        }
    }
}
