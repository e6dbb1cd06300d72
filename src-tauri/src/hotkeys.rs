//! Global hotkeys: parse, check for conflicts, register, dispatch. Failures are reported in
//! the status (the settings window shows them), never swallowed.

use crate::settings::Hotkeys;
use crate::speech;
use crate::state::{lock, AppState, HotkeyStatus};
use std::sync::Mutex;
use tauri::{AppHandle, Manager};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};

/// Registered shortcut ids → action, managed as app state.
#[derive(Default)]
pub struct Registered(Mutex<Vec<(u32, &'static str)>>);

/// Parses an accelerator like `CommandOrControl+Alt+S`.
pub fn parse(accel: &str) -> Result<Shortcut, String> {
    accel
        .parse::<Shortcut>()
        .map_err(|e| format!("'{accel}' is not a valid shortcut: {e}"))
}

/// The plugin's handler: runs the action on key press.
pub fn on_shortcut(app: &AppHandle, shortcut: &Shortcut, state: ShortcutState) {
    if state != ShortcutState::Pressed {
        return;
    }
    let action = lock(&app.state::<Registered>().0)
        .iter()
        .find(|(id, _)| *id == shortcut.id())
        .map(|(_, a)| *a);
    let Some(action) = action else { return };
    app.state::<AppState>().log_event(
        serde_json::json!({"type": "hotkey", "action": action, "shortcut": shortcut.to_string()}),
    );
    match action {
        "speak" => speech::speak_selection_or_stop(app),
        "pause" => speech::toggle_pause(app),
        "skip" => speech::skip(app),
        _ => {}
    }
}

/// One configured hotkey after checking: (action, accelerator, parsed shortcut or `None` when
/// disabled, or why it can't be used).
pub type Checked = (&'static str, String, Result<Option<Shortcut>, String>);

/// Checks the configured hotkeys against each other.
pub fn check(h: &Hotkeys) -> Vec<Checked> {
    let list = [("speak", &h.speak), ("pause", &h.pause), ("skip", &h.skip)];
    let mut out: Vec<Checked> = Vec::new();
    for (action, accel) in list {
        let accel = accel.trim().to_string();
        let res = if accel.is_empty() {
            Ok(None)
        } else {
            parse(&accel).and_then(|sc| {
                match out
                    .iter()
                    .find(|(_, _, r)| matches!(r, Ok(Some(o)) if o.id() == sc.id()))
                {
                    Some((other, _, _)) => Err(format!("'{accel}' is already used for {other}")),
                    None => Ok(Some(sc)),
                }
            })
        };
        out.push((action, accel, res));
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
    for (action, accel, res) in check(h) {
        let (ok, error) = match res {
            Ok(None) => (false, None),
            Ok(Some(sc)) => match gs.register(sc) {
                Ok(()) => {
                    lock(&reg.0).push((sc.id(), action));
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
            tracing::warn!("hotkey {action}: {e}");
        }
        statuses.push(HotkeyStatus {
            action: action.to_string(),
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
        assert!(matches!(r[0].2, Ok(Some(_))));
        assert!(r[1]
            .2
            .as_ref()
            .unwrap_err()
            .contains("already used for speak"));
        assert!(r[2]
            .2
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
        assert!(matches!(r[0].2, Ok(None)));
        assert!(matches!(r[1].2, Ok(Some(_))));
    }
}
