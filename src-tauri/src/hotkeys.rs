//! Global hotkeys: parse, check for conflicts, register, and find the action of a key press.
//! Failures are reported in the status (the settings window shows them), never swallowed.
//!
//! Accelerators (`CommandOrControl+Alt+S`) are parsed by `global-hotkey` everywhere. On Linux
//! the keys are grabbed by our own X11 listener ([`x11`]), which blocks on the X connection and
//! handles a press the moment it arrives; elsewhere the Tauri global-shortcut plugin does it.

use crate::action::{Action, HOTKEYS};
use crate::error::AppError;
use crate::settings::Hotkeys;
use crate::state::{lock, AppState, HotkeyStatus};
use std::sync::Mutex;
use tauri::{AppHandle, Manager};

#[cfg(target_os = "linux")]
pub mod x11;

/// An accelerator: modifiers and a key (its `id()` identifies it).
pub use global_hotkey::hotkey::HotKey as Shortcut;

/// Registered shortcut ids → the hotkey's name and action, managed as app state, and (on
/// Linux) the X11 listener that grabs them.
#[derive(Default)]
pub struct Registered {
    /// (shortcut id, hotkey name, action, accelerator as configured)
    keys: Mutex<Vec<(u32, &'static str, Action, String)>>,
    #[cfg(target_os = "linux")]
    listener: Mutex<Option<Result<x11::Listener, String>>>,
}

/// Parses an accelerator like `CommandOrControl+Alt+S`.
pub fn parse(accel: &str) -> Result<Shortcut, AppError> {
    accel
        .parse::<Shortcut>()
        .map_err(|e| AppError::InvalidHotkey {
            accelerator: accel.to_string(),
            reason: e.to_string(),
        })
}

/// The action of a press of our shortcut `id` (logged: the event log's time stamp is when the
/// press arrived); `None` for other ids.
pub fn pressed(app: &AppHandle, id: u32) -> Option<Action> {
    let (name, action, accel) = lock(&app.state::<Registered>().keys)
        .iter()
        .find(|k| k.0 == id)
        .map(|(_, name, a, accel)| (*name, a.clone(), accel.clone()))?;
    app.state::<AppState>()
        .log_event(serde_json::json!({"type": "hotkey", "action": name, "shortcut": accel}));
    Some(action)
}

/// Carries out the action of a press of shortcut `id`, on the calling thread (the listener's:
/// the actions of hotkeys only send commands to the engine or start a thread).
pub fn on_press(app: &AppHandle, id: u32) {
    if let Some(action) = pressed(app, id) {
        crate::dispatch::perform(app, action);
    }
}

/// The Tauri plugin that reports hotkeys where our own listener does not (not Linux).
#[cfg(not(target_os = "linux"))]
pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    use tauri_plugin_global_shortcut::ShortcutState;
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app: &AppHandle, sc: &Shortcut, ev| {
            if ev.state == ShortcutState::Pressed {
                on_press(app, sc.id());
            }
        })
        .build()
}

/// Starts the X11 listener (Linux). Its failure (no X server) is reported by
/// [`register_all`] for each hotkey.
#[cfg(target_os = "linux")]
pub fn start(app: &AppHandle) {
    let handle = app.clone();
    let l = x11::Listener::start(Box::new(move |id| on_press(&handle, id)));
    if let Err(e) = &l {
        tracing::warn!("global hotkeys unavailable: {e}");
    }
    *lock(&app.state::<Registered>().listener) = Some(l);
}

/// Releases the hotkeys and stops (joins) the X11 listener (Linux); at quit.
pub fn stop(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    {
        let l = lock(&app.state::<Registered>().listener).take();
        drop(l);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Drops every registration of ours.
fn unregister_all(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    if let Some(Ok(l)) = &*lock(&app.state::<Registered>().listener) {
        l.unregister_all();
    }
    #[cfg(not(target_os = "linux"))]
    {
        use tauri_plugin_global_shortcut::GlobalShortcutExt;
        if let Err(e) = app.global_shortcut().unregister_all() {
            tracing::warn!("unregistering hotkeys: {e}");
        }
    }
}

/// Registers one shortcut; the error says why it could not be.
fn register(app: &AppHandle, sc: Shortcut) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        match &*lock(&app.state::<Registered>().listener) {
            Some(Ok(l)) => l.register(&sc),
            Some(Err(e)) => Err(format!("global hotkeys are unavailable: {e}")),
            None => Err("global hotkeys are not started".into()),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        use tauri_plugin_global_shortcut::GlobalShortcutExt;
        app.global_shortcut()
            .register(sc)
            .map_err(|e| e.to_string())
    }
}

/// One configured hotkey after checking: (name, action, accelerator, parsed shortcut or `None`
/// when disabled, or why it can't be used).
pub type Checked = (
    &'static str,
    Action,
    String,
    Result<Option<Shortcut>, String>,
);

/// Checks the configured hotkeys against each other.
pub fn check(h: &Hotkeys) -> Vec<Checked> {
    let mut out: Vec<Checked> = Vec::new();
    for (name, action) in HOTKEYS {
        let accel = action.accelerator(h).unwrap_or_default().trim().to_string();
        let res = if accel.is_empty() {
            Ok(None)
        } else {
            parse(&accel).map_err(|e| e.to_string()).and_then(|sc| {
                match out
                    .iter()
                    .find(|(_, _, _, r)| matches!(r, Ok(Some(o)) if o.id() == sc.id()))
                {
                    Some((other, ..)) => Err(format!("'{accel}' is already used for {other}")),
                    None => Ok(Some(sc)),
                }
            })
        };
        out.push((name, action, accel, res));
    }
    out
}

/// Unregisters ours, registers the configured hotkeys, and records the result in the status.
pub fn register_all(app: &AppHandle, h: &Hotkeys) -> Vec<HotkeyStatus> {
    let reg = app.state::<Registered>();
    lock(&reg.keys).clear();
    unregister_all(app);
    let mut statuses = Vec::new();
    for (name, action, accel, res) in check(h) {
        let (ok, error) = match res {
            Ok(None) => (false, None),
            Ok(Some(sc)) => match register(app, sc) {
                Ok(()) => {
                    lock(&reg.keys).push((sc.id(), name, action, accel.clone()));
                    (true, None)
                }
                Err(e) => (
                    false,
                    Some(format!(
                        "'{accel}' could not be registered (another app may use it): {e}"
                    )),
                ),
            },
            Err(e) => (false, Some(e)),
        };
        if let Some(e) = &error {
            tracing::warn!("hotkey {name}: {e}");
        }
        statuses.push(HotkeyStatus {
            action: name.to_string(),
            accelerator: accel,
            ok,
            error,
        });
    }
    let st = app.state::<AppState>();
    st.log_event(serde_json::json!({"type": "hotkeys", "status": statuses}));
    let s2 = statuses.clone();
    st.update_status(app, |s| s.hotkeys = s2);
    statuses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_duplicates_and_bad_accelerators() {
        let h = Hotkeys {
            speak: "Ctrl+Alt+S".into(),
            pause: "control+alt+s".into(),
            skip: "Ctrl+Banana".into(),
        };
        let r = check(&h);
        assert!(matches!(r[0].3, Ok(Some(_))));
        assert!(r[1]
            .3
            .as_ref()
            .unwrap_err()
            .contains("already used for speak"));
        assert!(r[2]
            .3
            .as_ref()
            .unwrap_err()
            .contains("not a valid shortcut"));
    }

    #[test]
    fn empty_means_disabled() {
        let h = Hotkeys {
            speak: String::new(),
            ..Hotkeys::default()
        };
        let r = check(&h);
        assert!(matches!(r[0].3, Ok(None)));
        assert!(matches!(r[1].3, Ok(Some(_))));
    }
}
