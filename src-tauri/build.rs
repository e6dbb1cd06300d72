//! Generates the Tauri context and the permissions for the app's own commands.
//! Only the commands listed in `src/command_list.rs` can be granted to a window (see
//! `capabilities/`).

/// The names of the commands in `src/command_list.rs`.
macro_rules! commands {
    ($($name:ident),* $(,)?) => {
        const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}
include!("src/command_list.rs");

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
