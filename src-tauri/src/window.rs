//! The settings window (`ui/`): it exists from the start, hidden; closing it hides it again.

use tauri::{AppHandle, Manager};

/// The settings window's label (`tauri.conf.json`, `capabilities/settings.json`).
pub const SETTINGS_WINDOW: &str = "settings";

/// Shows and focuses the settings window.
pub fn show_settings(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(SETTINGS_WINDOW) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}
