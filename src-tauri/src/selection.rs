//! Reading the text the user selected in another app.
//!
//! * Linux (X11): the PRIMARY selection, else the CLIPBOARD.
//! * macOS: the focused element's selected text through the Accessibility API, else a
//!   simulated Cmd+C with the previous clipboard restored (both via `get-selected-text`).
//!   Untested here: it can't be built on this Linux machine.

/// Where the text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The selection (X11 PRIMARY, or the macOS focused element).
    Selection,
    /// The clipboard.
    Clipboard,
}

/// Non-empty text after trimming, or `None`.
fn non_empty(s: String) -> Option<String> {
    if s.trim().is_empty() {
        None
    } else {
        Some(s)
    }
}

/// The selection, falling back to the clipboard. `None` when both are empty or unreadable.
pub fn selection_or_clipboard() -> Option<(String, Source)> {
    if let Some(t) = platform::selection().and_then(non_empty) {
        return Some((t, Source::Selection));
    }
    clipboard().map(|t| (t, Source::Clipboard))
}

/// The clipboard's text, if any.
pub fn clipboard() -> Option<String> {
    platform::clipboard().and_then(non_empty)
}

/// Whether the app may read other apps' selections. On macOS this asks for the Accessibility
/// permission (the system shows its prompt once); elsewhere it is always true.
pub fn ensure_permission(prompt: bool) -> bool {
    platform::ensure_permission(prompt)
}

#[cfg(target_os = "linux")]
mod platform {
    use arboard::{Clipboard, GetExtLinux, LinuxClipboardKind};

    fn read(kind: LinuxClipboardKind) -> Option<String> {
        let mut cb = match Clipboard::new() {
            Ok(cb) => cb,
            Err(e) => {
                tracing::warn!("clipboard unavailable: {e}");
                return None;
            }
        };
        match cb.get().clipboard(kind).text() {
            Ok(t) => Some(t),
            Err(arboard::Error::ContentNotAvailable) => None,
            Err(e) => {
                tracing::debug!("reading {kind:?}: {e}");
                None
            }
        }
    }

    pub fn selection() -> Option<String> {
        read(LinuxClipboardKind::Primary)
    }

    pub fn clipboard() -> Option<String> {
        read(LinuxClipboardKind::Clipboard)
    }

    pub fn ensure_permission(_prompt: bool) -> bool {
        true
    }
}

#[cfg(target_os = "macos")]
mod platform {
    pub fn selection() -> Option<String> {
        // Accessibility first, then a simulated copy that restores the previous clipboard.
        match get_selected_text::get_selected_text() {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::debug!("no selection: {e}");
                None
            }
        }
    }

    pub fn clipboard() -> Option<String> {
        let out = std::process::Command::new("pbpaste").output().ok()?;
        String::from_utf8(out.stdout).ok()
    }

    pub fn ensure_permission(prompt: bool) -> bool {
        if prompt {
            macos_accessibility_client::accessibility::application_is_trusted_with_prompt()
        } else {
            macos_accessibility_client::accessibility::application_is_trusted()
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod platform {
    pub fn selection() -> Option<String> {
        None
    }
    pub fn clipboard() -> Option<String> {
        None
    }
    pub fn ensure_permission(_prompt: bool) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blank_text_counts_as_nothing() {
        assert_eq!(super::non_empty(" \n\t".into()), None);
        assert_eq!(super::non_empty(" a ".into()), Some(" a ".into()));
    }
}
