//! Global hotkeys: parse, check for conflicts, register, and find the action of a key press.
//! Failures are reported in the status (the settings window shows them), never swallowed.

use crate::action::{Action, HOTKEYS};
use crate::error::AppError;
use crate::settings::Hotkeys;
use crate::state::{lock, AppState, HotkeyStatus};
use std::sync::Mutex;
use tauri::{AppHandle, Manager};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};

/// Registered shortcut ids → the hotkey's name and action, managed as app state.
#[derive(Default)]
pub struct Registered(Mutex<Vec<(u32, &'static str, Action)>>);

/// Parses an accelerator like `CommandOrControl+Alt+S`.
pub fn parse(accel: &str) -> Result<Shortcut, AppError> {
    accel
        .parse::<Shortcut>()
        .map_err(|e| AppError::InvalidHotkey {
            accelerator: accel.to_string(),
            reason: e.to_string(),
        })
}

/// The action of a key press of one of our shortcuts (logged); `None` for releases and other
/// shortcuts.
pub fn pressed(app: &AppHandle, shortcut: &Shortcut, state: ShortcutState) -> Option<Action> {
    if state != ShortcutState::Pressed {
        return None;
    }
    let (name, action) = lock(&app.state::<Registered>().0)
        .iter()
        .find(|(id, _, _)| *id == shortcut.id())
        .map(|(_, name, a)| (*name, a.clone()))?;
    app.state::<AppState>().log_event(
        serde_json::json!({"type": "hotkey", "action": name, "shortcut": shortcut.to_string()}),
    );
    Some(action)
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
    let gs = app.global_shortcut();
    let reg = app.state::<Registered>();
    lock(&reg.0).clear();
    if let Err(e) = gs.unregister_all() {
        tracing::warn!("unregistering hotkeys: {e}");
    }
    let mut statuses = Vec::new();
    for (name, action, accel, res) in check(h) {
        let (ok, error) = match res {
            Ok(None) => (false, None),
            Ok(Some(sc)) => match gs.register(sc) {
                Ok(()) => {
                    lock(&reg.0).push((sc.id(), name, action));
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
