//! Everything that talks to `hark-engine` and `hark-bridge`: start-up, the event pump,
//! and the user's actions (speak selection, pause, skip, …).

use crate::selection::{self, Source};
use crate::settings::{apply_dictionary, Settings};
use crate::state::{lock, AppState, EngineStatus, TrayState};
use crate::voices::{self, VoiceEntry};
use crate::{model, tray};
use hark_engine::{Engine, EngineConfig, Event, ModelSource, Output, SpeakOptions, State};
use std::path::PathBuf;
use tauri::{AppHandle, Emitter, Manager};

/// Which model to load.
pub enum ModelChoice {
    /// `ModelSource::Tiny` with this seed (tests).
    Tiny(u64),
    /// The real assets.
    Assets {
        /// Weights (safetensors).
        weights: PathBuf,
        /// Model config.
        config: PathBuf,
        /// Voice packs.
        voices: PathBuf,
        /// Lexicons.
        lexicons: PathBuf,
    },
}

/// `hark_text::Lang` of a voice name (`b…` = British, anything else American).
fn lang_of(voice: &str) -> hark_text::Lang {
    if voice.starts_with('b') {
        hark_text::Lang::EnGb
    } else {
        hark_text::Lang::EnUs
    }
}

/// Output: the sound device, unless `HARK_AUDIO=null` (frame counting, no device).
fn output() -> Output {
    match std::env::var("HARK_AUDIO").as_deref() {
        Ok("null") => Output::Null,
        _ => Output::Device,
    }
}

fn engine_config(choice: &ModelChoice, s: &Settings, out: Output) -> EngineConfig {
    let (model, lexicons, voices_dir) = match choice {
        ModelChoice::Tiny(seed) => (
            ModelSource::Tiny { seed: *seed },
            model::lexicons_if_installed(),
            None,
        ),
        ModelChoice::Assets {
            weights,
            config,
            voices,
            lexicons,
        } => (
            ModelSource::Files {
                weights: weights.clone(),
                config: config.clone(),
            },
            Some(lexicons.clone()),
            Some(voices.clone()),
        ),
    };
    EngineConfig {
        model,
        lexicons,
        voices_dir,
        voice: s.voice.clone(),
        speed: s.speed,
        volume: s.volume,
        lang: lang_of(&s.voice),
        output: out,
        deterministic: false,
        fast_start: s.fast_start,
        keep_audio_open: s.keep_audio_open,
    }
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
            });
            tray::set_state(
                &app,
                TrayState::Loading,
                Some("hark: loading the voice model…"),
            );
            let settings = st.settings();
            let t0 = std::time::Instant::now();
            let mut started = Engine::start(engine_config(&choice, &settings, output()));
            if let Err(e @ hark_engine::Error::Device(_)) = &started {
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
                    *st.engine.write().unwrap_or_else(|e| e.into_inner()) = Some(engine.clone());
                    spawn_event_pump(app.clone(), engine);
                    st.update_status(&app, |s| s.engine = EngineStatus::Ready);
                    tray::rebuild_menu(&app);
                    tray::set_state(&app, TrayState::Idle, None);
                    restart_bridge(&app);
                }
                Err(e) => {
                    let msg = format!("The voice model could not be loaded: {e}");
                    st.update_status(&app, |s| {
                        s.engine = EngineStatus::Failed;
                        s.engine_error = Some(msg.clone());
                    });
                    st.notice(&app, msg.clone());
                    tray::set_state(&app, TrayState::Idle, Some(&format!("hark: {msg}")));
                }
            }
        })
        .expect("spawn engine thread");
}

/// Forwards engine events to the event log, the tray icon and the window.
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
                tray::set_state(&app, t, None);
            }
        })
        .expect("spawn event pump");
}

/// (Re)starts the bridge with the current settings, off the calling (UI) thread: stopping the
/// old bridge can take its shutdown grace (1 s) when clients hold connections. Restarts run
/// one at a time, in order; errors go to the status.
pub fn restart_bridge(app: &AppHandle) {
    static RESTARTS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("hark-bridge-restart".into())
        .spawn(move || {
            let _one_at_a_time = lock(&RESTARTS);
            restart_bridge_now(&app);
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot restart the bridge: {e}");
    }
}

fn restart_bridge_now(app: &AppHandle) {
    let st = app.state::<AppState>();
    let old = lock(&st.bridge).take();
    if let Some(old) = old {
        if let Err(e) = old.shutdown() {
            tracing::warn!("bridge shutdown: {e}");
        }
    }
    let Some(engine) = st.engine() else { return };
    let s = st.settings();
    let token = match hark_bridge::load_or_create_token(st.store.dir()) {
        Ok(t) => t,
        Err(e) => {
            st.update_status(app, |x| {
                x.bridge = crate::state::BridgeStatus {
                    error: Some(format!("pairing token: {e}")),
                    ..Default::default()
                }
            });
            return;
        }
    };
    if !s.bridge.enabled {
        st.update_status(app, |x| {
            x.bridge = crate::state::BridgeStatus {
                token: Some(token),
                ..Default::default()
            }
        });
        return;
    }
    let cfg = hark_bridge::BridgeConfig {
        port: s.bridge.port,
        allowed_extension_ids: s.bridge.allowed_extension_ids.clone(),
        ..hark_bridge::BridgeConfig::new(token.clone())
    };
    match hark_bridge::spawn(engine, cfg) {
        Ok(h) => {
            let addr = h.addr().to_string();
            tracing::info!("bridge listening on {addr}");
            // This binary with --native-host is the browsers' pairing helper.
            hark_bridge::native_host::install_current_exe(
                crate::NATIVE_HOST_FLAG,
                st.store.dir(),
                h.addr().port(),
                &s.bridge.allowed_extension_ids,
            );
            st.log_event(serde_json::json!({"type": "bridge", "addr": addr}));
            *lock(&st.bridge) = Some(h);
            st.update_status(app, |x| {
                x.bridge = crate::state::BridgeStatus {
                    running: true,
                    addr: Some(addr),
                    error: None,
                    token: Some(token),
                }
            });
        }
        Err(e) => {
            let msg = format!(
                "The browser bridge could not start on port {}: {e}",
                s.bridge.port
            );
            st.update_status(app, |x| {
                x.bridge = crate::state::BridgeStatus {
                    error: Some(msg.clone()),
                    token: Some(token),
                    ..Default::default()
                }
            });
            st.notice(app, msg);
        }
    }
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
    let id = engine.speak(
        &spoken,
        SpeakOptions {
            voice: Some(s.voice.clone()),
            speed: Some(s.speed),
        },
    );
    st.log_event(serde_json::json!({
        "type": "speak", "id": id, "source": source, "text": text, "spoken": spoken,
        "voice": s.voice, "speed": s.speed,
    }));
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
pub fn apply_to_engine(app: &AppHandle, s: &Settings) -> Result<(), String> {
    if let Some(e) = app.state::<AppState>().engine() {
        e.set_voice(&s.voice).map_err(|e| e.to_string())?;
        e.set_speed(s.speed).map_err(|e| e.to_string())?;
        e.set_volume(s.volume);
        e.set_fast_start(s.fast_start);
        e.set_keep_audio_open(s.keep_audio_open);
    }
    Ok(())
}

/// Decides which model to load: the tiny test model, installed assets, or none yet.
pub fn choose_model() -> Result<ModelChoice, String> {
    if std::env::var("HARK_TINY_MODEL").as_deref() == Ok("1") {
        let seed = std::env::var("HARK_TINY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7);
        return Ok(ModelChoice::Tiny(seed));
    }
    model::installed()
}
