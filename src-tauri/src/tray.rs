//! The tray icon and its menu, built in one place.

use crate::settings::SPEEDS;
use crate::state::{AppState, TrayState};
use crate::{commands, speech, voices};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

const TRAY_ID: &str = "hark";

/// Whether the tray icons are templates: black glyphs macOS tints to follow light and dark menu
/// bars. Linux trays get the coloured icons.
const TEMPLATE: bool = cfg!(target_os = "macos");

/// The icon's PNG for a state (`tools/make_icons.py` draws both sets).
pub fn icon_png(state: TrayState, template: bool) -> &'static [u8] {
    match (state, template) {
        (TrayState::Idle, false) => include_bytes!("../assets/tray-idle.png"),
        (TrayState::Speaking, false) => include_bytes!("../assets/tray-speaking.png"),
        (TrayState::Paused, false) => include_bytes!("../assets/tray-paused.png"),
        (TrayState::Loading, false) => include_bytes!("../assets/tray-loading.png"),
        (TrayState::Idle, true) => include_bytes!("../assets/tray-idle-template.png"),
        (TrayState::Speaking, true) => include_bytes!("../assets/tray-speaking-template.png"),
        (TrayState::Paused, true) => include_bytes!("../assets/tray-paused-template.png"),
        (TrayState::Loading, true) => include_bytes!("../assets/tray-loading-template.png"),
    }
}

fn icon(state: TrayState) -> Image<'static> {
    Image::from_bytes(icon_png(state, TEMPLATE)).expect("tray icons are valid PNGs")
}

fn tooltip(state: TrayState) -> &'static str {
    match state {
        TrayState::Idle => "hark",
        TrayState::Speaking => "hark: speaking",
        TrayState::Paused => "hark: paused",
        TrayState::Loading => "hark: loading the voice model…",
    }
}

/// Speed label: 1.25 → "1.25×".
pub fn speed_label(s: f32) -> String {
    let t = format!("{s:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t}×")
}

/// Builds the tray icon. Call once, from `setup`.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let menu = build_menu(app)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(TrayState::Loading))
        .icon_as_template(TEMPLATE)
        .tooltip(tooltip(TrayState::Loading))
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, ev| on_menu(app, ev.id().as_ref()))
        .build(app)?;
    Ok(())
}

fn build_menu(app: &AppHandle) -> tauri::Result<Menu<Wry>> {
    let st = app.state::<AppState>();
    let s = st.settings();
    let item = |id: &str, text: &str| MenuItem::with_id(app, id, text, true, None::<&str>);

    // Voice ▸ grouped American/British × female/male, grades in the labels, check on the current one.
    let entries = speech::voice_entries(app);
    let mut voice_items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    if entries.is_empty() {
        voice_items.push(Box::new(MenuItem::with_id(
            app,
            "voice-none",
            "(voices appear when the model is loaded)",
            false,
            None::<&str>,
        )?));
    }
    for group in voices::GROUPS {
        let in_group: Vec<_> = entries.iter().filter(|e| e.group == group).collect();
        if in_group.is_empty() {
            continue;
        }
        let mut items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
        for e in in_group {
            items.push(Box::new(CheckMenuItem::with_id(
                app,
                format!("voice:{}", e.name),
                &e.label,
                true,
                e.name == s.voice,
                None::<&str>,
            )?));
        }
        let refs: Vec<&dyn IsMenuItem<Wry>> = items.iter().map(|b| b.as_ref()).collect();
        voice_items.push(Box::new(Submenu::with_id_and_items(
            app,
            format!("group:{group}"),
            group,
            true,
            &refs,
        )?));
    }
    let refs: Vec<&dyn IsMenuItem<Wry>> = voice_items.iter().map(|b| b.as_ref()).collect();
    let voice_menu = Submenu::with_id_and_items(app, "voice", "Voice", true, &refs)?;

    let mut speed_items = Vec::new();
    for sp in SPEEDS {
        speed_items.push(CheckMenuItem::with_id(
            app,
            format!("speed:{sp}"),
            speed_label(sp),
            true,
            (sp - s.speed).abs() < 1e-3,
            None::<&str>,
        )?);
    }
    let refs: Vec<&dyn IsMenuItem<Wry>> = speed_items
        .iter()
        .map(|b| b as &dyn IsMenuItem<Wry>)
        .collect();
    let speed_menu = Submenu::with_id_and_items(app, "speed", "Speed", true, &refs)?;

    let sep = || PredefinedMenuItem::separator(app);
    Menu::with_items(
        app,
        &[
            &item("speak_selection", "Speak selection")?,
            &item("speak_clipboard", "Speak clipboard")?,
            &item("pause_resume", "Pause / Resume")?,
            &item("stop", "Stop")?,
            &item("skip", "Skip sentence")?,
            &sep()?,
            &voice_menu,
            &speed_menu,
            &sep()?,
            &item("settings", "Settings…")?,
            &CheckMenuItem::with_id(
                app,
                "launch_at_login",
                "Launch at login",
                true,
                s.launch_at_login,
                None::<&str>,
            )?,
            &sep()?,
            &item("quit", "Quit hark")?,
        ],
    )
}

/// Rebuilds the menu from the current settings and voices (after a change).
pub fn rebuild_menu(app: &AppHandle) {
    let a = app.clone();
    let _ = app.run_on_main_thread(move || {
        let Some(tray) = a.tray_by_id(TRAY_ID) else {
            return;
        };
        match build_menu(&a) {
            Ok(m) => {
                if let Err(e) = tray.set_menu(Some(m)) {
                    tracing::warn!("tray menu: {e}");
                }
            }
            Err(e) => tracing::warn!("tray menu: {e}"),
        }
    });
}

/// Sets the icon (and tooltip: `tip`, or the state's default).
pub fn set_state(app: &AppHandle, state: TrayState, tip: Option<&str>) {
    let st = app.state::<AppState>();
    st.update_status(app, |s| s.tray = state);
    st.log_event(serde_json::json!({"type": "tray", "state": state}));
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        // `set_icon` alone would drop the template flag on macOS.
        let _ = tray.set_icon_with_as_template(Some(icon(state)), TEMPLATE);
        let _ = tray.set_tooltip(Some(tip.unwrap_or(tooltip(state))));
    }
}

/// Sets only the tooltip (download progress).
pub fn set_tooltip(app: &AppHandle, tip: &str) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(tip));
    }
}

fn on_menu(app: &AppHandle, id: &str) {
    let st = app.state::<AppState>();
    st.log_event(serde_json::json!({"type": "menu", "id": id}));
    match id {
        "speak_selection" => speech::speak_selection_or_stop(app),
        "speak_clipboard" => speech::speak_clipboard(app),
        "pause_resume" => speech::toggle_pause(app),
        "stop" => speech::stop(app),
        "skip" => speech::skip(app),
        "settings" => crate::show_settings(app),
        "launch_at_login" => {
            let mut s = st.settings();
            s.launch_at_login = !s.launch_at_login;
            if let Err(e) = commands::apply_settings(app, s) {
                st.notice(app, e);
            }
        }
        "quit" => app.exit(0),
        _ => {
            let mut s = st.settings();
            if let Some(v) = id.strip_prefix("voice:") {
                s.voice = v.to_string();
            } else if let Some(sp) = id
                .strip_prefix("speed:")
                .and_then(|x| x.parse::<f32>().ok())
            {
                s.speed = sp;
            } else {
                return;
            }
            if let Err(e) = commands::apply_settings(app, s) {
                st.notice(app, e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn speed_labels() {
        assert_eq!(super::speed_label(1.0), "1×");
        assert_eq!(super::speed_label(0.75), "0.75×");
        assert_eq!(super::speed_label(1.5), "1.5×");
    }
}
