//! hark's tray app: a thin Tauri v2 shell around `hark-engine` (speech) and `hark-bridge`
//! (the local HTTP API the browser extension talks to).
//!
//! It owns the tray icon and menu, global hotkeys, reading the selection, the settings
//! window (`ui/`) and settings file, first-run model download, and platform glue
//! (single instance, launch at login, macOS accessory mode). It does no speech or HTTP work
//! itself, and it is not the headless daemon: without a display it exits and points at
//! `hark serve`.
//!
//! Environment: `HARK_CONFIG_DIR` (settings dir), `HARK_TINY_MODEL=1` (tiny random model, for
//! tests), `HARK_AUDIO=null` (no sound device), `HARK_EVENT_LOG=<file>` (JSON lines of what
//! happens: speak requests with their text, engine events, tray states, menu and hotkey
//! actions), `HARK_ASSETS` (model assets dir, see `hark-assets`).

pub mod commands;
pub mod hotkeys;
pub mod model;
pub mod selection;
pub mod settings;
pub mod speech;
pub mod state;
pub mod tray;
pub mod voices;

use std::path::PathBuf;
use std::process::ExitCode;
use tauri::{AppHandle, Manager, RunEvent, WindowEvent};

/// The bundle identifier (`tauri.conf.json`'s `identifier`, checked by a test). It must never
/// change: macOS files the Accessibility permission, the launch-at-login agent
/// (`~/Library/LaunchAgents/<id>.plist`) and the app's preferences under it.
pub const BUNDLE_ID: &str = "dev.hark.reader";

/// Flag: open the settings window at start (or, sent to a running instance, open it there).
pub const SETTINGS_FLAG: &str = "--settings";

/// Flag: run as the browser's native messaging host (see `hark_bridge::native_host`) instead of
/// the app; the browser starts the binary this way.
pub const NATIVE_HOST_FLAG: &str = "--native-host";

/// The settings dir: `HARK_CONFIG_DIR`, else the platform config dir (`~/.config/hark`,
/// `~/Library/Application Support/hark`).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("HARK_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "hark").map(|p| p.config_dir().to_path_buf())
}

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

fn headless_message(why: &str) -> String {
    format!(
        "hark-app: cannot start the tray app: {why}.\n\
         On a machine without a desktop, run the daemon instead: `hark serve` \
         (same engine and browser bridge, no tray)."
    )
}

/// Shows and focuses the settings window.
pub fn show_settings(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("settings") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HARK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Launch at login: a `.desktop` file in `~/.config/autostart` on Linux; on macOS a launch
/// agent (`~/Library/LaunchAgents/dev.hark.reader.plist`, labelled with the bundle identifier)
/// that starts the app's binary at login. No AppleScript, so no Apple Events permission.
fn autostart_plugin<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let builder = tauri_plugin_autostart::Builder::new();
    #[cfg(target_os = "macos")]
    let builder = builder
        .macos_launcher(tauri_plugin_autostart::MacosLauncher::LaunchAgent)
        .app_name(BUNDLE_ID);
    builder.build()
}

/// Runs the app. Returns only on failure to start (or from the download child).
pub fn run() -> ExitCode {
    init_tracing();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == NATIVE_HOST_FLAG) {
        return ExitCode::from(hark_bridge::native_host::run(&args[i + 1..]) as u8);
    }
    if args.iter().any(|a| a == model::FETCH_FLAG) {
        return ExitCode::from(model::fetch_child() as u8);
    }
    if let Some(msg) = headless_reason() {
        eprintln!("{msg}");
        return ExitCode::from(2);
    }
    let Some(dir) = config_dir() else {
        eprintln!("hark-app: no config directory (set HARK_CONFIG_DIR)");
        return ExitCode::from(2);
    };
    let store = settings::Store::new(&dir);
    let loaded = store.load();
    let tiny = std::env::var("HARK_TINY_MODEL").as_deref() == Ok("1");
    let initial = loaded.settings.clone();
    let state = state::AppState::new(
        store,
        loaded.settings,
        loaded.notice.into_iter().collect(),
        tiny,
    );
    let open_settings = args.iter().any(|a| a == SETTINGS_FLAG);

    let builder = tauri::Builder::default()
        // Must be first: a second launch hands its arguments over and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::info!("second instance started: {argv:?}");
            show_settings(app);
        }))
        .plugin(
            tauri_plugin_global_shortcut::Builder::new()
                .with_handler(|app, sc, ev| hotkeys::on_shortcut(app, sc, ev.state))
                .build(),
        )
        .plugin(autostart_plugin())
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .manage(hotkeys::Registered::default())
        .invoke_handler(tauri::generate_handler![
            commands::get_settings,
            commands::save_settings,
            commands::get_status,
            commands::list_voices,
            commands::preview_voice,
            commands::stop_speech,
            commands::start_model_download,
            commands::cancel_model_download,
            commands::check_hotkey,
        ])
        .setup(move |app| {
            #[cfg(target_os = "macos")]
            app.set_activation_policy(tauri::ActivationPolicy::Accessory);
            let handle = app.handle().clone();
            tray::create(&handle)?;
            hotkeys::register_all(&handle, &initial.hotkeys);
            commands::sync_autostart(&handle, initial.launch_at_login);
            let st = handle.state::<state::AppState>();
            if !selection::ensure_permission(false) {
                st.notice(
                    &handle,
                    "hark needs the Accessibility permission to read the text you select in other apps. \
                     macOS will ask now; enable hark under System Settings → Privacy & Security → Accessibility.",
                );
                selection::ensure_permission(true);
            }
            match speech::choose_model() {
                Ok(choice) => speech::start_engine(handle.clone(), choice),
                Err(why) => {
                    st.update_status(&handle, |s| s.engine = state::EngineStatus::NeedsModel);
                    st.notice(&handle, format!("The voice model is not installed ({why}). Download it in Settings."));
                    tray::set_state(&handle, state::TrayState::Idle, Some("hark: voice model not installed"));
                    show_settings(&handle);
                }
            }
            if open_settings {
                show_settings(&handle);
            }
            Ok(())
        })
        .on_window_event(|w, ev| {
            // Closing the settings window hides it; the app lives in the tray.
            if let WindowEvent::CloseRequested { api, .. } = ev {
                api.prevent_close();
                let _ = w.hide();
            }
        });

    // GTK panics when the display can't be opened: turn that into the headless message
    // (with the panic report silenced; it is restored right after).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| tracing::debug!("during start-up: {info}")));
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        builder.build(tauri::generate_context!())
    }));
    std::panic::set_hook(default_hook);
    let app = match built {
        Ok(Ok(app)) => app,
        Ok(Err(e)) => {
            eprintln!("hark-app: could not start: {e}");
            return ExitCode::from(1);
        }
        Err(_) => {
            eprintln!("{}", headless_message("the display could not be opened"));
            return ExitCode::from(2);
        }
    };
    app.run(|app, ev| match ev {
        RunEvent::ExitRequested {
            api, code: None, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            // Within the bridge's shutdown grace (1 s), whatever its clients do.
            let bridge = state::lock(&app.state::<state::AppState>().bridge).take();
            if let Some(b) = bridge {
                let _ = b.shutdown();
            }
            if let Some(e) = app.state::<state::AppState>().engine() {
                e.stop();
            }
        }
        _ => {}
    });
    ExitCode::SUCCESS
}
