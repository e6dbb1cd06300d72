//! Generates the Tauri context and the permissions for the app's own commands.
//! Only the commands listed here can be granted to a window (see `capabilities/`).

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}

/// Keep in sync with `src/lib.rs` (the `generate_handler!` list).
const COMMANDS: &[&str] = &[
    "get_settings",
    "save_settings",
    "get_status",
    "list_voices",
    "preview_voice",
    "stop_speech",
    "start_model_download",
    "cancel_model_download",
    "check_hotkey",
];
