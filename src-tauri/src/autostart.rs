//! Launch at login: a `.desktop` file in `~/.config/autostart` on Linux; on macOS a launch
//! agent (`~/Library/LaunchAgents/dev.hark.reader.plist`, labelled with the bundle identifier)
//! that starts the app's binary at login. No AppleScript, so no Apple Events permission.

use crate::state::AppState;
use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt;

/// The autostart plugin, set up as above.
pub fn plugin<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let builder = tauri_plugin_autostart::Builder::new();
    #[cfg(target_os = "macos")]
    let builder = builder
        .macos_launcher(tauri_plugin_autostart::MacosLauncher::LaunchAgent)
        .app_name(crate::platform::BUNDLE_ID);
    builder.build()
}

/// Turns launch-at-login on or off; failures become a notice.
pub fn set(app: &AppHandle, on: bool) {
    let al = app.autolaunch();
    let res = if on { al.enable() } else { al.disable() };
    if let Err(e) = res {
        app.state::<AppState>()
            .notice(app, format!("Launch at login could not be changed: {e}"));
    }
}

/// Makes the login item match the setting at start: re-registers it when on (so it follows
/// the app if it moved), removes a stale one when off.
pub fn sync(app: &AppHandle, on: bool) {
    match app.autolaunch().is_enabled() {
        Ok(enabled) if on || enabled => set(app, on),
        Ok(_) => {}
        Err(e) => tracing::debug!("launch at login: {e}"),
    }
}
