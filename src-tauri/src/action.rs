//! What the user can ask of the app from the tray menu or a global hotkey: one [`Action`] type
//! for both, with the menu item ids and hotkey names that stand for them
//! ([`crate::dispatch::perform`] carries an action out).

use crate::settings::Hotkeys;

/// A user action.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Speak the selection (or the clipboard); while speaking or paused, stop.
    SpeakSelection,
    /// Speak the clipboard.
    SpeakClipboard,
    /// Pause if speaking, resume if paused.
    PauseResume,
    /// Stop speech and clear the queue.
    Stop,
    /// Skip to the next sentence.
    Skip,
    /// Show the settings window.
    Settings,
    /// Turn launch at login on or off.
    ToggleLaunchAtLogin,
    /// Turn on or off reading text in another language with that language's voice.
    ToggleMatchLanguage,
    /// Quit the app.
    Quit,
    /// Make this voice the default.
    Voice(String),
    /// Make this speed the default.
    Speed(f32),
}

/// The actions that have a global hotkey, with the hotkey's name (the settings' `hotkeys`
/// fields, the status the window shows, the event log).
pub const HOTKEYS: [(&str, Action); 3] = [
    ("speak", Action::SpeakSelection),
    ("pause", Action::PauseResume),
    ("skip", Action::Skip),
];

/// Menu item ids of the actions without an argument.
const MENU_IDS: [(&str, Action); 9] = [
    ("speak_selection", Action::SpeakSelection),
    ("speak_clipboard", Action::SpeakClipboard),
    ("pause_resume", Action::PauseResume),
    ("stop", Action::Stop),
    ("skip", Action::Skip),
    ("settings", Action::Settings),
    ("launch_at_login", Action::ToggleLaunchAtLogin),
    ("match_language", Action::ToggleMatchLanguage),
    ("quit", Action::Quit),
];

impl Action {
    /// The id of the menu item for this action.
    pub fn menu_id(&self) -> String {
        match self {
            Action::Voice(v) => format!("voice:{v}"),
            Action::Speed(s) => format!("speed:{s}"),
            a => MENU_IDS
                .iter()
                .find(|(_, b)| b == a)
                .map_or_else(String::new, |(id, _)| id.to_string()),
        }
    }

    /// The action of a menu item id (`None` for items that are not actions, e.g. submenus).
    pub fn from_menu_id(id: &str) -> Option<Action> {
        if let Some(v) = id.strip_prefix("voice:") {
            return Some(Action::Voice(v.to_string()));
        }
        if let Some(s) = id.strip_prefix("speed:") {
            return s.parse().ok().map(Action::Speed);
        }
        MENU_IDS
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, a)| a.clone())
    }

    /// The accelerator configured for this action in `h`, if it is one with a hotkey.
    pub fn accelerator<'a>(&self, h: &'a Hotkeys) -> Option<&'a str> {
        match self {
            Action::SpeakSelection => Some(&h.speak),
            Action::PauseResume => Some(&h.pause),
            Action::Skip => Some(&h.skip),
            _ => None,
        }
    }

    /// The action of a hotkey name (`speak`, `pause`, `skip`).
    pub fn for_hotkey(name: &str) -> Option<Action> {
        HOTKEYS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_and_hotkeys_name_actions_both_ways() {
        for (id, a) in MENU_IDS {
            assert_eq!(a.menu_id(), id);
            assert_eq!(Action::from_menu_id(id), Some(a));
        }
        for a in [Action::Voice("bf_emma".into()), Action::Speed(1.25)] {
            assert_eq!(Action::from_menu_id(&a.menu_id()), Some(a));
        }
        assert_eq!(Action::from_menu_id("speed:fast"), None);
        assert_eq!(Action::from_menu_id("group:British · male"), None);
        assert_eq!(Action::for_hotkey("pause"), Some(Action::PauseResume));
        assert_eq!(Action::for_hotkey("speak"), Some(Action::SpeakSelection));
        assert_eq!(Action::for_hotkey("dance"), None);
        let h = Hotkeys::default();
        for (_, a) in HOTKEYS {
            assert!(a.accelerator(&h).is_some_and(|k| !k.is_empty()), "{a:?}");
        }
        assert_eq!(Action::Quit.accelerator(&h), None);
    }
}
