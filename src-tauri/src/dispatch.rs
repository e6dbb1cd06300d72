//! Carries out the user's actions, whether they come from the tray menu or a hotkey.

use crate::action::Action;
use crate::apply::apply_settings;
use crate::state::AppState;
use crate::{speech, window};
use tauri::{AppHandle, Manager};

/// Carries out `action`.
pub fn perform(app: &AppHandle, action: Action) {
    let st = app.state::<AppState>();
    let change = |edit: &dyn Fn(&mut hark_settings::Settings)| {
        let mut s = st.settings();
        edit(&mut s);
        if let Err(e) = apply_settings(app, s) {
            st.notice(app, e.to_string());
        }
    };
    match action {
        Action::SpeakSelection => speech::speak_selection_or_stop(app),
        Action::SpeakClipboard => speech::speak_clipboard(app),
        Action::PauseResume => speech::toggle_pause(app),
        Action::Stop => speech::stop(app),
        Action::Skip => speech::skip(app),
        Action::Settings => window::show_settings(app),
        Action::ToggleLaunchAtLogin => change(&|s| s.launch_at_login = !s.launch_at_login),
        Action::ToggleMatchLanguage => change(&|s| s.match_language = !s.match_language),
        Action::Quit => app.exit(0),
        Action::Voice(v) => change(&|s| s.voice = v.clone()),
        Action::Speed(sp) => change(&|s| s.speed = sp),
    }
}
