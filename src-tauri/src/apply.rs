//! Saving and applying new settings: the engine's voice and speed, hotkeys, the bridge, launch
//! at login. Whoever changes settings (the window, the tray menu) goes through
//! [`apply_settings`]; the tray and the window redraw from the `settings` event it sends.

use crate::error::AppError;
use crate::settings::Settings;
use crate::state::{lock, AppState};
use crate::{autostart, bridge, hotkeys, speech};
use tauri::{AppHandle, Emitter, Manager};

/// The event sent with the settings in force after every change.
pub const SETTINGS_EVENT: &str = "settings";

/// Validates, saves and applies new settings. Hotkey problems are reported in the status, not
/// as an error.
pub fn apply_settings(app: &AppHandle, new: Settings) -> Result<Settings, AppError> {
    let st = app.state::<AppState>();
    new.validate()?;
    if let Some(engine) = st.engine() {
        if !engine.voices().iter().any(|v| v.name == new.voice) {
            return Err(AppError::UnknownVoice(new.voice));
        }
    }
    let old = st.settings();
    st.store.save(&new)?;
    *lock(&st.settings) = new.clone();
    st.log_event(serde_json::json!({"type": "settings", "voice": new.voice, "speed": new.speed}));
    if let Err(e) = speech::apply_to_engine(app, &new) {
        st.notice(
            app,
            format!("The engine refused the new voice or speed: {e}"),
        );
    }
    // A Japanese voice chosen for the first time: its dictionary now, with progress.
    if old.voice != new.voice && crate::model::needs_japanese(&new.voice) {
        crate::model::fetch_japanese_then(app, None);
    }
    if old.hotkeys != new.hotkeys {
        hotkeys::register_all(app, &new.hotkeys);
    }
    if old.bridge != new.bridge {
        bridge::restart(app);
    }
    if old.launch_at_login != new.launch_at_login {
        autostart::set(app, new.launch_at_login);
    }
    let _ = app.emit(SETTINGS_EVENT, &new);
    Ok(new)
}
