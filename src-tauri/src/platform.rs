//! Where the app stands on this system: its bundle identifier, its config dir, the flags it is
//! started with, and whether there is a display to show a tray on.

/// The bundle identifier (`tauri.conf.json`'s `identifier`, checked by a test). It must never
/// change: macOS files the Accessibility permission, the launch-at-login agent
/// (`~/Library/LaunchAgents/<id>.plist`) and the app's preferences under it.
pub const BUNDLE_ID: &str = "dev.hark.reader";

/// Flag: open the settings window at start (or, sent to a running instance, open it there).
pub const SETTINGS_FLAG: &str = "--settings";

/// Flag: run as the browser's native messaging host (see `hark_bridge::native_host`) instead of
/// the app; the browser starts the binary this way.
pub const NATIVE_HOST_FLAG: &str = "--native-host";

/// The settings dir: see [`hark_settings::config_dir`].
pub use hark_settings::config_dir;

/// Why the app can't show a GUI here, if it can't (Linux without `DISPLAY`/`WAYLAND_DISPLAY`).
pub fn headless_reason() -> Option<String> {
    if cfg!(target_os = "linux") {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Some(headless_message(
                "no display (DISPLAY and WAYLAND_DISPLAY are unset)",
            ));
        }
    }
    None
}

/// The message for a machine where the tray app cannot run, pointing at `hark serve`.
pub fn headless_message(why: &str) -> String {
    format!(
        "hark-app: cannot start the tray app: {why}.\n\
         On a machine without a desktop, run the daemon instead: `hark serve` \
         (same engine and browser bridge, no tray)."
    )
}
