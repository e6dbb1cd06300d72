//! The tray icon and its menu, built in one place. The tray redraws itself: its icon and
//! tooltip from the `status` event, its menu from the `settings` event and when the voices
//! arrive. A menu item is an [`Action`], carried out by [`dispatch::perform`].

use crate::action::Action;
use crate::apply::SETTINGS_EVENT;
use crate::dispatch;
use crate::settings::SPEEDS;
use crate::state::{lock, AppState, EngineStatus, JapaneseState, Status, TrayState, STATUS_EVENT};
use crate::{speech, voices};
use std::sync::Mutex;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Listener, Manager, Wry};

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

/// The tooltip for a status: what the app is doing, or why it cannot speak.
pub fn tooltip(s: &Status) -> String {
    let loading = "hark: loading the voice model…";
    match s.engine {
        EngineStatus::NeedsModel => "hark: voice model not installed".into(),
        EngineStatus::Downloading => match (s.download.done, s.download.total) {
            (done, total) if total > 0 => {
                format!("hark: downloading the voice model, {}%", done * 100 / total)
            }
            (0, _) => "hark: downloading the voice model…".into(),
            (done, _) => format!("hark: downloading the voice model, {} MB", done / 1_000_000),
        },
        EngineStatus::Loading => loading.into(),
        EngineStatus::Failed => match &s.engine_error {
            Some(e) => format!("hark: {e}"),
            None => "hark: the voice model could not be loaded".into(),
        },
        EngineStatus::Ready if s.japanese == JapaneseState::Downloading => {
            match (s.japanese_download.done, s.japanese_download.total) {
                (done, total) if total > 0 => format!(
                    "hark: downloading the Japanese dictionary, {}%",
                    done * 100 / total
                ),
                _ => "hark: downloading the Japanese dictionary…".into(),
            }
        }
        EngineStatus::Ready => match s.tray {
            TrayState::Idle => "hark".into(),
            TrayState::Speaking => "hark: speaking".into(),
            TrayState::Paused => "hark: paused".into(),
            TrayState::Loading => loading.into(),
        },
    }
}

/// Speed label: 1.25 → "1.25×".
pub fn speed_label(s: f32) -> String {
    let t = format!("{s:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t}×")
}

/// Builds the tray icon and has it follow the status and the settings. Call once, from `setup`.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let menu = build_menu(app)?;
    let status = lock(&app.state::<AppState>().status).clone();
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(status.tray))
        .icon_as_template(TEMPLATE)
        .tooltip(tooltip(&status))
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, ev| on_menu(app, ev.id().as_ref()))
        .build(app)?;
    // What is drawn now: (icon, tooltip, engine status).
    let drawn = Mutex::new((status.tray, tooltip(&status), status.engine));
    let a = app.clone();
    app.listen(STATUS_EVENT, move |_| {
        let status = lock(&a.state::<AppState>().status).clone();
        let tip = tooltip(&status);
        let mut d = lock(&drawn);
        if d.0 != status.tray {
            a.state::<AppState>()
                .log_event(serde_json::json!({"type": "tray", "state": status.tray}));
        }
        if (d.0, &d.1) != (status.tray, &tip) {
            if let Some(tray) = a.tray_by_id(TRAY_ID) {
                // `set_icon` alone would drop the template flag on macOS.
                let _ = tray.set_icon_with_as_template(Some(icon(status.tray)), TEMPLATE);
                let _ = tray.set_tooltip(Some(&tip));
            }
        }
        // the voices are known once the engine is ready
        if status.engine == EngineStatus::Ready && d.2 != EngineStatus::Ready {
            rebuild_menu(&a);
        }
        *d = (status.tray, tip, status.engine);
    });
    let a = app.clone();
    app.listen(SETTINGS_EVENT, move |_| rebuild_menu(&a));
    Ok(())
}

fn build_menu(app: &AppHandle) -> tauri::Result<Menu<Wry>> {
    let st = app.state::<AppState>();
    let s = st.settings();
    let item =
        |a: Action, text: &str| MenuItem::with_id(app, a.menu_id(), text, true, None::<&str>);

    // Voice ▸ grouped by language (English: American/British × female/male), grades in the
    // labels, check on the current one.
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
                Action::Voice(e.name.clone()).menu_id(),
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
    // After the groups: whether a selection in another language gets that language's voice.
    voice_items.push(Box::new(PredefinedMenuItem::separator(app)?));
    voice_items.push(Box::new(CheckMenuItem::with_id(
        app,
        Action::ToggleMatchLanguage.menu_id(),
        "Other languages in their own voice",
        true,
        s.match_language,
        None::<&str>,
    )?));
    let refs: Vec<&dyn IsMenuItem<Wry>> = voice_items.iter().map(|b| b.as_ref()).collect();
    let voice_menu = Submenu::with_id_and_items(app, "voice", "Voice", true, &refs)?;

    let mut speed_items = Vec::new();
    for sp in SPEEDS {
        speed_items.push(CheckMenuItem::with_id(
            app,
            Action::Speed(sp).menu_id(),
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
            &item(Action::SpeakSelection, "Speak selection")?,
            &item(Action::SpeakClipboard, "Speak clipboard")?,
            &item(Action::PauseResume, "Pause / Resume")?,
            &item(Action::Stop, "Stop")?,
            &item(Action::Skip, "Skip sentence")?,
            &sep()?,
            &voice_menu,
            &speed_menu,
            &sep()?,
            &item(Action::Settings, "Settings…")?,
            &CheckMenuItem::with_id(
                app,
                Action::ToggleLaunchAtLogin.menu_id(),
                "Launch at login",
                true,
                s.launch_at_login,
                None::<&str>,
            )?,
            &sep()?,
            &item(Action::Quit, "Quit hark")?,
        ],
    )
}

/// Rebuilds the menu from the current settings and voices (after a change). The event log gets
/// `tray_menu` `rebuilding` now and `rebuilt` once the new menu is in place: a click in between
/// can open the old menu, which is then taken down (the GUI tests wait for `rebuilt`).
fn rebuild_menu(app: &AppHandle) {
    let log = |a: &AppHandle, state: &str| {
        a.state::<AppState>()
            .log_event(serde_json::json!({"type": "tray_menu", "state": state}));
    };
    log(app, "rebuilding");
    let a = app.clone();
    let _ = app.run_on_main_thread(move || {
        if let Some(tray) = a.tray_by_id(TRAY_ID) {
            match build_menu(&a) {
                Ok(m) => {
                    if let Err(e) = tray.set_menu(Some(m)) {
                        tracing::warn!("tray menu: {e}");
                    }
                }
                Err(e) => tracing::warn!("tray menu: {e}"),
            }
        }
        log(&a, "rebuilt");
    });
}

/// Carries out a menu item's action, then logs it: once `menu` is in the event log, a settings
/// change it made is saved and its menu rebuild has been asked for (`tray_menu` `rebuilding`).
fn on_menu(app: &AppHandle, id: &str) {
    if let Some(action) = Action::from_menu_id(id) {
        dispatch::perform(app, action);
    }
    app.state::<AppState>()
        .log_event(serde_json::json!({"type": "menu", "id": id}));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tooltips_say_what_the_app_is_doing_or_why_it_cannot_speak() {
        let mut s = Status::new(String::new(), Vec::new(), false);
        assert_eq!(tooltip(&s), "hark: loading the voice model…");
        s.engine = EngineStatus::Ready;
        s.tray = TrayState::Speaking;
        assert_eq!(tooltip(&s), "hark: speaking");
        s.tray = TrayState::Idle;
        assert_eq!(tooltip(&s), "hark");
        s.engine = EngineStatus::NeedsModel;
        assert_eq!(tooltip(&s), "hark: voice model not installed");
        s.engine = EngineStatus::Downloading;
        assert_eq!(tooltip(&s), "hark: downloading the voice model…");
        s.download.done = 2_500_000;
        assert_eq!(tooltip(&s), "hark: downloading the voice model, 2 MB");
        s.download.total = 10_000_000;
        assert_eq!(tooltip(&s), "hark: downloading the voice model, 25%");
        s.engine = EngineStatus::Ready;
        s.japanese = JapaneseState::Downloading;
        assert_eq!(tooltip(&s), "hark: downloading the Japanese dictionary…");
        s.japanese_download.total = 4_000;
        s.japanese_download.done = 1_000;
        assert_eq!(
            tooltip(&s),
            "hark: downloading the Japanese dictionary, 25%"
        );
        s.engine = EngineStatus::Failed;
        s.engine_error = Some("The voice model could not be loaded: bad file".into());
        assert_eq!(
            tooltip(&s),
            "hark: The voice model could not be loaded: bad file"
        );
    }

    #[test]
    fn speed_labels() {
        assert_eq!(super::speed_label(1.0), "1×");
        assert_eq!(super::speed_label(0.75), "0.75×");
        assert_eq!(super::speed_label(1.5), "1.5×");
    }
}
