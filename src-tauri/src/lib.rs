//! hark's tray app: a thin Tauri v2 shell around `hark-engine` (speech) and `hark-bridge`
//! (the local HTTP API the browser extension talks to).
//!
//! It owns the tray icon and menu, global hotkeys, reading the selection, the settings
//! window (`ui/`) and settings file, first-run model download, and platform glue
//! (single instance, launch at login, macOS accessory mode). It does no speech or HTTP work
//! itself, and it is not the headless daemon: without a display it exits and points at
//! `hark serve`.
//!
//! Environment: `HARK_CONFIG_DIR` (settings dir), `HARK_ASSETS` (model assets dir, see
//! `hark-assets`), `HARK_LOG` (log filter), `HARK_FETCH_SOURCES` (where the model download comes
//! from); with the `test-hooks` feature only, the hooks of [`test_hooks`].

#![warn(missing_docs)]

pub mod action;
pub mod apply;
pub mod autostart;
pub mod bridge;
pub mod commands;
pub mod dispatch;
pub mod error;
#[cfg(target_os = "linux")]
pub mod handover;
pub mod hotkeys;
pub mod model;
pub mod platform;
pub mod selection;
pub mod settings;
pub mod speech;
pub mod state;
pub mod test_hooks;
pub mod tray;
pub mod voices;
pub mod window;

pub use platform::{config_dir, headless_reason, BUNDLE_ID, NATIVE_HOST_FLAG, SETTINGS_FLAG};
pub use window::show_settings;

use platform::headless_message;
use std::process::ExitCode;
use tauri::{Listener, Manager, RunEvent, WindowEvent};

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HARK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the app. Returns only on failure to start (or from the download child).
pub fn run() -> ExitCode {
    hark_engine::limit_heap_arenas();
    init_tracing();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == NATIVE_HOST_FLAG) {
        return ExitCode::from(hark_bridge::native_host::run(&args[i + 1..]) as u8);
    }
    if args.iter().any(|a| a == model::FETCH_FLAG) {
        let japanese = args.iter().any(|a| a == model::JAPANESE_FLAG);
        return ExitCode::from(model::fetch_child(japanese) as u8);
    }
    if let Some(msg) = headless_reason() {
        eprintln!("{msg}");
        return ExitCode::from(2);
    }
    let Some(dir) = config_dir() else {
        eprintln!("hark-app: no config directory (set HARK_CONFIG_DIR)");
        return ExitCode::from(2);
    };
    // A second launch hands over to the running instance before any window-system thread
    // exists, so nothing is left running while it exits (see handover.rs).
    #[cfg(target_os = "linux")]
    if handover::to_running_instance(BUNDLE_ID) {
        tracing::info!("handed over to the running instance");
        return ExitCode::SUCCESS;
    }
    let store = settings::Store::new(&dir);
    let loaded = store.load();
    let tiny = test_hooks::tiny_model().is_some();
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
        }));
    // Linux: our own X11 listener (started in `setup`); elsewhere the plugin.
    #[cfg(not(target_os = "linux"))]
    let builder = builder.plugin(hotkeys::plugin());
    let builder = builder
        .plugin(autostart::plugin())
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .manage(hotkeys::Registered::default())
        .invoke_handler(commands::handler())
        .setup(move |app| {
            #[cfg(target_os = "macos")]
            app.set_activation_policy(tauri::ActivationPolicy::Accessory);
            let handle = app.handle().clone();
            tray::create(&handle)?;
            #[cfg(target_os = "linux")]
            hotkeys::start(&handle);
            hotkeys::register_all(&handle, &initial.hotkeys);
            autostart::sync(&handle, initial.launch_at_login);
            // A finished download starts the engine.
            let h = handle.clone();
            handle.listen(model::INSTALLED_EVENT, move |_| match model::installed() {
                Ok(choice) => speech::start_engine(h.clone(), choice),
                Err(e) => model::fail(&h, format!("download finished but {e}")),
            });
            let st = handle.state::<state::AppState>();
            if !selection::ensure_permission(false) {
                st.notice(
                    &handle,
                    "hark needs the Accessibility permission to read the text you select in other apps. \
                     macOS will ask now; enable hark under System Settings → Privacy & Security → Accessibility.",
                );
                selection::ensure_permission(true);
            }
            match model::choose() {
                Ok(choice) => speech::start_engine(handle.clone(), choice),
                Err(why) => {
                    st.update_status(&handle, |s| {
                        s.engine = state::EngineStatus::NeedsModel;
                        s.tray = state::TrayState::Idle;
                    });
                    st.notice(&handle, format!("The voice model is not installed ({why}). Download it in Settings."));
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
            hotkeys::stop(app);
            // Within the bridge's shutdown grace (1 s), whatever its clients do.
            let bridge = state::lock(&app.state::<state::AppState>().bridge).take();
            if let Some(b) = bridge {
                let _ = b.shutdown();
            }
            // Then the speech: cancelled, its threads joined, nothing computing while the
            // process exits (a matrix product still running then can crash it).
            if let Some(e) = app.state::<state::AppState>().engine() {
                e.shutdown();
            }
        }
        _ => {}
    });
    ExitCode::SUCCESS
}
