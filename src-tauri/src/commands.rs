//! Commands the settings window calls (`invoke`). Each is listed in `build.rs` and granted
//! in `capabilities/settings.json`.

use crate::settings::Settings;
use crate::state::{lock, AppState, Status};
use crate::voices::VoiceEntry;
use crate::{hotkeys, model, speech, tray};
use tauri::{AppHandle, Emitter, Manager, State};

/// Validates, saves and applies new settings: engine voice/speed, hotkeys, bridge, autostart,
/// tray menu. Returns the hotkey problems as part of the status, not as an error.
pub fn apply_settings(app: &AppHandle, new: Settings) -> Result<Settings, String> {
    let st = app.state::<AppState>();
    new.validate().map_err(|e| e.to_string())?;
    if let Some(engine) = st.engine() {
        if !engine.voices().iter().any(|v| v.name == new.voice) {
            return Err(format!("unknown voice '{}'", new.voice));
        }
    }
    let old = st.settings();
    st.store.save(&new).map_err(|e| e.to_string())?;
    *lock(&st.settings) = new.clone();
    st.log_event(serde_json::json!({"type": "settings", "voice": new.voice, "speed": new.speed}));
    if let Err(e) = speech::apply_to_engine(app, &new) {
        st.notice(
            app,
            format!("The engine refused the new voice or speed: {e}"),
        );
    }
    if old.hotkeys != new.hotkeys {
        hotkeys::register_all(app, &new.hotkeys);
    }
    if old.bridge != new.bridge {
        speech::restart_bridge(app);
    }
    if old.launch_at_login != new.launch_at_login {
        set_autostart(app, new.launch_at_login);
    }
    tray::rebuild_menu(app);
    let _ = app.emit("settings", &new);
    Ok(new)
}

/// Turns launch-at-login on or off; failures become a notice.
pub fn set_autostart(app: &AppHandle, on: bool) {
    use tauri_plugin_autostart::ManagerExt;
    let al = app.autolaunch();
    let res = if on { al.enable() } else { al.disable() };
    if let Err(e) = res {
        app.state::<AppState>()
            .notice(app, format!("Launch at login could not be changed: {e}"));
    }
}

/// Makes the login item match the setting at start: re-registers it when on (so it follows
/// the app if it moved), removes a stale one when off.
pub fn sync_autostart(app: &AppHandle, on: bool) {
    use tauri_plugin_autostart::ManagerExt;
    match app.autolaunch().is_enabled() {
        Ok(enabled) if on || enabled => set_autostart(app, on),
        Ok(_) => {}
        Err(e) => tracing::debug!("launch at login: {e}"),
    }
}

/// The settings in force.
#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    state.settings()
}

/// Saves and applies settings; the error is a sentence for the user.
#[tauri::command]
pub fn save_settings(app: AppHandle, settings: Settings) -> Result<Settings, String> {
    apply_settings(&app, settings)
}

/// Engine, download, hotkey and bridge status.
#[tauri::command]
pub fn get_status(state: State<'_, AppState>) -> Status {
    lock(&state.status).clone()
}

/// Voices, grouped and sorted for display.
#[tauri::command]
pub fn list_voices(app: AppHandle) -> Vec<VoiceEntry> {
    speech::voice_entries(&app)
}

/// Speaks a short sample with `voice` (without changing the setting).
#[tauri::command]
pub fn preview_voice(app: AppHandle, voice: String) -> Result<(), String> {
    let st = app.state::<AppState>();
    let engine = st.engine().ok_or("the voice model is not loaded yet")?;
    if !engine.voices().iter().any(|v| v.name == voice) {
        return Err(format!("unknown voice '{voice}'"));
    }
    engine.stop();
    let speed = st.settings().speed;
    let text = "Hello! This is how I sound when I read to you.";
    let id = engine.speak(
        text,
        hark_engine::SpeakOptions {
            voice: Some(voice.clone()),
            speed: Some(speed),
        },
    );
    st.log_event(serde_json::json!({
        "type": "speak", "id": id, "source": "preview", "text": text, "spoken": text, "voice": voice, "speed": speed
    }));
    Ok(())
}

/// Stops speech.
#[tauri::command]
pub fn stop_speech(app: AppHandle) {
    speech::stop(&app);
}

/// Starts (or resumes) the model download.
#[tauri::command]
pub fn start_model_download(app: AppHandle) -> Result<(), String> {
    model::start_download(&app)
}

/// Cancels the model download.
#[tauri::command]
pub fn cancel_model_download(app: AppHandle) {
    model::cancel_download(&app);
}

/// Whether an accelerator string parses (for the hotkey recorder); the error says why not.
#[tauri::command]
pub fn check_hotkey(accelerator: String) -> Result<String, String> {
    hotkeys::parse(&accelerator).map(|s| s.to_string())
}
