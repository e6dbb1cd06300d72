//! Everything that talks to `hark-engine`: start-up, the event pump, and the user's actions
//! (speak selection, pause, skip, …).

use crate::bridge;
use crate::error::AppError;
use crate::model::ModelChoice;
use crate::selection::{self, Source};
use crate::settings::{apply_dictionary, Settings};
use crate::state::{lock, AppState, EngineStatus, TrayState};
use crate::voices::{self, VoiceEntry};
use hark_engine::{Engine, EngineConfig, Event, ModelSource, Output, SpeakOptions, State};
use tauri::{AppHandle, Emitter, Manager};

/// Output: the sound device, unless a test asks for none ([`crate::test_hooks::null_audio`]).
fn output() -> Output {
    if crate::test_hooks::null_audio() {
        Output::Null
    } else {
        Output::Device
    }
}

fn engine_config(choice: &ModelChoice, s: &Settings, out: Output) -> EngineConfig {
    let (model, lexicons, japanese, voices_dir) = match choice {
        ModelChoice::Tiny { seed, lexicons } => (
            ModelSource::Tiny { seed: *seed },
            lexicons.clone(),
            None,
            None,
        ),
        ModelChoice::Assets {
            weights,
            config,
            voices,
            lexicons,
            japanese,
        } => (
            ModelSource::Files {
                weights: weights.clone(),
                config: config.clone(),
            },
            Some(lexicons.clone()),
            Some(japanese.clone()),
            Some(voices.clone()),
        ),
    };
    let mut cfg = EngineConfig {
        model,
        lexicons,
        japanese,
        voices_dir,
        voice: String::new(),
        speed: 1.0,
        volume: 1.0,
        // each voice is read with its own language's front end
        lang: None,
        output: out,
        deterministic: false,
        seed: 0,
        fast_start: true,
        keep_audio_open: false,
        // the fastest for this machine
        compute: Default::default(),
    };
    // voice, speed, volume, fast start, keeping the device open: as `hark serve` does
    s.apply_to_engine(&mut cfg);
    cfg
}

/// Loads the engine on a background thread, then starts the event pump and the bridge.
pub fn start_engine(app: AppHandle, choice: ModelChoice) {
    std::thread::Builder::new()
        .name("hark-engine-start".into())
        .spawn(move || {
            let st = app.state::<AppState>();
            st.update_status(&app, |s| {
                s.engine = EngineStatus::Loading;
                s.engine_error = None;
                s.tray = TrayState::Loading;
            });
            let settings = st.settings();
            let t0 = std::time::Instant::now();
            let mut started = Engine::start(engine_config(&choice, &settings, output()));
            if let Err(e @ hark_engine::Error::Device { .. }) = &started {
                if matches!(output(), Output::Device) {
                    st.notice(
                        &app,
                        format!("No sound device could be opened ({e}); speech is silent."),
                    );
                    started = Engine::start(engine_config(&choice, &settings, Output::Null));
                }
            }
            match started {
                Ok(engine) => {
                    tracing::info!("engine ready in {:.2}s", t0.elapsed().as_secs_f64());
                    st.log_event(serde_json::json!({
                        "type": "engine_ready", "ms": t0.elapsed().as_millis() as u64
                    }));
                    engine.set_language_voices(settings.engine_language_voices());
                    *st.engine.write().unwrap_or_else(|e| e.into_inner()) = Some(engine.clone());
                    spawn_event_pump(app.clone(), engine);
                    st.update_status(&app, |s| {
                        s.engine = EngineStatus::Ready;
                        s.tray = TrayState::Idle;
                    });
                    bridge::restart(&app);
                }
                Err(e) => {
                    let msg = format!("The voice model could not be loaded: {e}");
                    st.update_status(&app, |s| {
                        s.engine = EngineStatus::Failed;
                        s.engine_error = Some(msg.clone());
                        s.tray = TrayState::Idle;
                    });
                    st.notice(&app, msg);
                }
            }
        })
        .expect("spawn engine thread");
}

/// Forwards engine events to the event log, the status (which the tray shows) and the window.
fn spawn_event_pump(app: AppHandle, engine: Engine) {
    let mut rx = engine.subscribe();
    std::thread::Builder::new()
        .name("hark-events".into())
        .spawn(move || loop {
            let ev = match rx.blocking_recv() {
                Ok(ev) => ev,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!("event pump lagged by {n}");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            let st = app.state::<AppState>();
            if let Ok(v) = serde_json::to_value(&ev) {
                st.log_event(v.clone());
                let _ = app.emit("engine-event", v);
            }
            if ev.is_terminal() && st.logging() {
                if let Some(id) = ev.id() {
                    log_stages(&st, &engine, id);
                }
            }
            if let Event::Error { message, .. } = &ev {
                st.notice(&app, format!("Speech error: {message}"));
            }
            let t = match engine.state() {
                State::Speaking { .. } => TrayState::Speaking,
                State::Paused { .. } => TrayState::Paused,
                State::Loading => TrayState::Loading,
                State::Idle => TrayState::Idle,
            };
            if lock(&st.status).tray != t {
                st.update_status(&app, |s| s.tray = t);
            }
        })
        .expect("spawn event pump");
}

/// Logs when utterance `id` reached each stage in the engine (`stages` event, times as
/// `mono_ms`), with the device's buffer: the engine's half of a press's latency breakdown.
fn log_stages(st: &AppState, engine: &Engine, id: hark_engine::UtteranceId) {
    let Some(s) = engine.stages(id) else { return };
    let t = |i: Option<std::time::Instant>| i.and_then(|i| st.mono_ms(i));
    let d = engine.device_stats();
    st.log_event(serde_json::json!({
        "type": "stages", "id": id,
        "queued_ms": t(Some(s.queued)),
        "synth_started_ms": t(s.synth_started),
        "first_audio_ms": t(s.first_audio),
        "first_write_ms": t(s.first_write),
        "device_callback_ms": t(s.device_callback),
        "device_output_ms": t(s.device_output),
        "device_rate": d.rate,
        "device_buffer_frames": d.buffer_frames,
        "device_buffer_requested": d.buffer_requested,
    }));
}

/// Voices for menus and the window: the engine's when loaded, else the names in the settings.
pub fn voice_entries(app: &AppHandle) -> Vec<VoiceEntry> {
    let st = app.state::<AppState>();
    match st.engine() {
        Some(e) => voices::entries(e.voices().into_iter().map(|v| {
            let grade = if v.grade == "?" {
                String::new()
            } else {
                v.grade
            };
            (v.name, v.lang, v.gender, grade)
        })),
        None => Vec::new(),
    }
}

/// Tells the user something briefly: a desktop notification, plus the status and the log.
pub fn notify(app: &AppHandle, msg: &str) {
    use tauri_plugin_notification::NotificationExt;
    let st = app.state::<AppState>();
    st.log_event(serde_json::json!({"type": "notify", "message": msg}));
    if let Err(e) = app.notification().builder().title("hark").body(msg).show() {
        tracing::debug!("notification failed: {e}");
    }
    tracing::info!("{msg}");
}

/// Speaks `text` with the current voice, speed and dictionary.
pub fn speak_text(app: &AppHandle, text: &str, source: &str) {
    let st = app.state::<AppState>();
    let Some(engine) = st.engine() else {
        notify(app, &model_not_ready(&st));
        return;
    };
    let s = st.settings();
    let spoken = apply_dictionary(text, &s.dictionary);
    // A Japanese voice for the first time: fetch the dictionary first, then read.
    if crate::model::needs_japanese(&reading_voice(&engine, &s, &spoken)) {
        let (text, source) = (text.to_string(), source.to_string());
        crate::model::fetch_japanese_then(
            app,
            Some(Box::new(move |app: &AppHandle| {
                speak_text(app, &text, &source)
            })),
        );
        return;
    }
    let id = engine.speak(
        &spoken,
        SpeakOptions {
            // With "other languages in their own voice", the engine picks the voice for the
            // text (the current voice unless the text is in another language; the chunk events
            // name the voice it took).
            voice: (!s.match_language).then(|| s.voice.clone()),
            speed: Some(s.speed),
        },
    );
    st.log_event(serde_json::json!({
        "type": "speak", "id": id, "source": source, "text": text, "spoken": spoken,
        "voice": s.voice, "speed": s.speed,
    }));
}

/// The voice the engine will read `text` with under settings `s` (see
/// [`hark_engine::LanguageVoices`]).
fn reading_voice(engine: &Engine, s: &Settings, text: &str) -> String {
    if !s.match_language {
        return s.voice.clone();
    }
    let installed: Vec<String> = engine.voices().into_iter().map(|v| v.name).collect();
    s.engine_language_voices()
        .pick(&s.voice, text, |v| installed.iter().any(|n| n == v))
        .map_or_else(|| s.voice.clone(), |(_, v)| v)
}

fn model_not_ready(st: &AppState) -> String {
    match lock(&st.status).engine {
        EngineStatus::NeedsModel => {
            "The voice model isn't installed yet: open Settings to download it.".into()
        }
        EngineStatus::Downloading => "The voice model is still downloading.".into(),
        EngineStatus::Failed => "The voice model failed to load: see Settings.".into(),
        _ => "The voice model is still loading.".into(),
    }
}

/// The hotkey/menu action: speaking or paused → stop; else speak the selection (or clipboard).
pub fn speak_selection_or_stop(app: &AppHandle) {
    let st = app.state::<AppState>();
    if let Some(e) = st.engine() {
        if matches!(e.state(), State::Speaking { .. } | State::Paused { .. }) {
            e.stop();
            st.log_event(serde_json::json!({"type": "action", "action": "stop"}));
            return;
        }
        // The sound device opens while the selection is read and the speech computed.
        e.prepare_output();
    }
    let app = app.clone();
    // Reading a selection can wait on another client: keep it off the event loop.
    std::thread::spawn(move || match selection::selection_or_clipboard() {
        Some((text, src)) => {
            let src = match src {
                Source::Selection => "selection",
                Source::Clipboard => "clipboard",
            };
            app.state::<AppState>().log_event(
                serde_json::json!({"type": "selection", "source": src, "chars": text.chars().count()}),
            );
            speak_text(&app, &text, src)
        }
        None => notify(
            &app,
            "Nothing to read: select some text (or copy it) first.",
        ),
    });
}

/// Speaks the clipboard.
pub fn speak_clipboard(app: &AppHandle) {
    let app = app.clone();
    std::thread::spawn(move || match selection::clipboard() {
        Some(text) => speak_text(&app, &text, "clipboard"),
        None => notify(&app, "The clipboard has no text to read."),
    });
}

/// Pause if speaking, resume if paused.
pub fn toggle_pause(app: &AppHandle) {
    let st = app.state::<AppState>();
    if let Some(e) = st.engine() {
        match e.state() {
            State::Speaking { .. } => e.pause(),
            State::Paused { .. } => e.resume(),
            _ => {}
        }
    }
}

/// Stops speech and clears the queue.
pub fn stop(app: &AppHandle) {
    if let Some(e) = app.state::<AppState>().engine() {
        e.stop();
    }
}

/// Skips to the next sentence.
pub fn skip(app: &AppHandle) {
    if let Some(e) = app.state::<AppState>().engine() {
        e.skip_sentence();
    }
}

/// Applies new voice/speed/volume to the running engine.
pub fn apply_to_engine(app: &AppHandle, s: &Settings) -> hark_engine::Result<()> {
    if let Some(e) = app.state::<AppState>().engine() {
        e.set_voice(&s.voice)?;
        e.set_speed(s.speed)?;
        e.set_volume(s.volume);
        e.set_fast_start(s.fast_start);
        e.set_keep_audio_open(s.keep_audio_open);
        e.set_language_voices(s.engine_language_voices());
    }
    Ok(())
}

/// Speaks a short sample with `voice` (without changing the setting).
pub fn preview(app: &AppHandle, voice: String) -> Result<(), AppError> {
    let st = app.state::<AppState>();
    let engine = st.engine().ok_or(AppError::ModelNotLoaded)?;
    let Some(info) = engine.voices().into_iter().find(|v| v.name == voice) else {
        return Err(AppError::UnknownVoice(voice));
    };
    if crate::model::needs_japanese(&voice) {
        crate::model::fetch_japanese_then(
            app,
            Some(Box::new(move |app: &AppHandle| {
                if let Err(e) = preview(app, voice) {
                    notify(app, &e.to_string());
                }
            })),
        );
        return Ok(());
    }
    engine.stop();
    let speed = st.settings().speed;
    let text = voices::preview_text(&info.lang);
    let id = engine.speak(
        text,
        SpeakOptions {
            voice: Some(voice.clone()),
            speed: Some(speed),
        },
    );
    st.log_event(serde_json::json!({
        "type": "speak", "id": id, "source": "preview", "text": text, "spoken": text, "voice": voice, "speed": speed
    }));
    Ok(())
}
