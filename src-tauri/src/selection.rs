//! Reading the text the user selected in another app.
//!
//! The strategy lives here and is the same on every platform (and unit-tested on Linux):
//!
//! 1. the selection as the system exposes it ([`Desktop::selected_text`]): X11's PRIMARY, or on
//!    macOS the focused element's `AXSelectedText` (Accessibility);
//! 2. where the platform has a clipboard change counter (macOS), a synthesized copy (⌘C): the
//!    whole clipboard is saved first, the copied text read once the counter moves, and the saved
//!    clipboard put back (only if the copy changed it, so nothing is touched when nothing was
//!    selected);
//! 3. for "selection or clipboard", the clipboard's text.
//!
//! Text is trimmed; blank text counts as nothing. The platform back-ends (`linux.rs`,
//! `macos.rs`) are thin: one system call per [`Desktop`] method.

use std::time::Duration;

#[cfg(target_os = "linux")]
#[path = "selection/linux.rs"]
mod platform;
#[cfg(target_os = "macos")]
#[path = "selection/macos.rs"]
mod platform;

/// How long a synthesized copy may take to reach the clipboard before we give up.
pub const COPY_TIMEOUT: Duration = Duration::from_millis(500);
/// How often the clipboard counter is polled after a synthesized copy.
pub const COPY_POLL: Duration = Duration::from_millis(10);

/// Where the text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The selection (X11 PRIMARY, the macOS focused element, or a synthesized copy of it).
    Selection,
    /// The clipboard.
    Clipboard,
}

/// What a platform offers to read a selection. Each method is a thin wrapper over the system.
pub trait Desktop {
    /// Everything the clipboard holds (all items, all types), to be put back after a copy.
    type Saved;

    /// The selection as the system exposes it without side effects. `Err` says why it could
    /// not be asked (no permission, no focused element, the app does not support it).
    fn selected_text(&mut self) -> Result<Option<String>, String>;
    /// The clipboard's text, if it has any.
    fn clipboard_text(&mut self) -> Option<String>;
    /// A counter that changes on every write to the clipboard (`NSPasteboard.changeCount`).
    /// `None` where the platform has none (the default): then no copy is synthesized, and the
    /// three methods below are never called.
    fn clipboard_generation(&mut self) -> Option<i64> {
        None
    }
    /// The clipboard's whole content, or `None` if it could not be read.
    fn save_clipboard(&mut self) -> Option<Self::Saved> {
        None
    }
    /// Puts saved content back. `false` if that failed.
    fn restore_clipboard(&mut self, _saved: Self::Saved) -> bool {
        false
    }
    /// Sends the copy shortcut to the frontmost app. `false` if it could not be sent.
    fn send_copy(&mut self) -> bool {
        false
    }
    /// Waits (polling for the copy).
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// Trimmed text, or `None` when blank.
fn usable(s: Option<String>) -> Option<String> {
    let s = s?;
    let t = s.trim();
    if t.is_empty() {
        None
    } else if t.len() == s.len() {
        Some(s)
    } else {
        Some(t.to_string())
    }
}

/// The selection: what the system exposes, else (where possible) a synthesized copy.
pub fn read_selection<D: Desktop>(d: &mut D) -> Option<String> {
    match d.selected_text() {
        Ok(t) => {
            if let Some(t) = usable(t) {
                return Some(t);
            }
        }
        Err(e) => tracing::debug!("selected text unavailable: {e}"),
    }
    copy_selection(d)
}

/// Synthesizes a copy, reads the copied text and puts the previous clipboard back.
/// `None` (and the clipboard untouched) when nothing was copied.
pub fn copy_selection<D: Desktop>(d: &mut D) -> Option<String> {
    let before = d.clipboard_generation()?;
    // Never overwrite a clipboard we could not save.
    let Some(saved) = d.save_clipboard() else {
        tracing::debug!("clipboard could not be saved: no synthesized copy");
        return None;
    };
    if !d.send_copy() {
        tracing::debug!("the copy shortcut could not be sent");
        return None;
    }
    let mut waited = Duration::ZERO;
    let mut changed = false;
    let mut text = None;
    loop {
        if d.clipboard_generation() != Some(before) {
            changed = true;
            // Apps may clear the clipboard first and write the text a moment later.
            text = usable(d.clipboard_text());
            if text.is_some() {
                break;
            }
        }
        if waited >= COPY_TIMEOUT {
            break;
        }
        d.sleep(COPY_POLL);
        waited += COPY_POLL;
    }
    if changed {
        if !d.restore_clipboard(saved) {
            tracing::warn!("the clipboard could not be restored after reading the selection");
        }
    } else {
        tracing::debug!("the synthesized copy changed nothing (no selection?)");
    }
    text
}

/// The selection, falling back to the clipboard. `None` when both are empty or unreadable.
pub fn selection_or_clipboard_from<D: Desktop>(d: &mut D) -> Option<(String, Source)> {
    if let Some(t) = read_selection(d) {
        return Some((t, Source::Selection));
    }
    usable(d.clipboard_text()).map(|t| (t, Source::Clipboard))
}

/// The selection on this desktop, falling back to the clipboard.
pub fn selection_or_clipboard() -> Option<(String, Source)> {
    selection_or_clipboard_from(&mut platform::System::new()?)
}

/// The clipboard's text on this desktop, if any.
pub fn clipboard() -> Option<String> {
    usable(platform::System::new()?.clipboard_text())
}

/// Whether the app may read other apps' selections. On macOS this is the Accessibility
/// permission (with `prompt`, the system shows its prompt if it was not granted); elsewhere it
/// is always true.
pub fn ensure_permission(prompt: bool) -> bool {
    platform::ensure_permission(prompt)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod platform {
    /// No selection support on this platform.
    pub struct System;
    impl System {
        pub fn new() -> Option<System> {
            None
        }
    }
    impl super::Desktop for System {
        type Saved = ();
        fn selected_text(&mut self) -> Result<Option<String>, String> {
            Ok(None)
        }
        fn clipboard_text(&mut self) -> Option<String> {
            None
        }
    }
    pub fn ensure_permission(_prompt: bool) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A desktop whose clipboard is a list of (type, bytes) and whose copy shortcut puts
    /// `on_copy` there after `copy_delay` polls.
    struct Fake {
        selected: Result<Option<String>, String>,
        clip: Vec<(String, Vec<u8>)>,
        generation: i64,
        has_generation: bool,
        can_save: bool,
        can_send: bool,
        /// What a copy writes (`None`: the app copies nothing, as with no selection).
        on_copy: Option<Vec<(String, Vec<u8>)>>,
        /// Polls before the copy lands; the clipboard is cleared (generation bumped) one poll before.
        copy_delay: u32,
        pending: Option<u32>,
        slept: Duration,
        calls: Vec<&'static str>,
    }

    impl Fake {
        fn mac() -> Fake {
            Fake {
                selected: Ok(None),
                clip: Vec::new(),
                generation: 0,
                has_generation: true,
                can_save: true,
                can_send: true,
                on_copy: None,
                copy_delay: 0,
                pending: None,
                slept: Duration::ZERO,
                calls: Vec::new(),
            }
        }
        fn with_clip(mut self, text: &str) -> Fake {
            self.clip = vec![
                ("public.utf8-plain-text".into(), text.as_bytes().to_vec()),
                ("public.rtf".into(), b"{\\rtf1 x}".to_vec()),
            ];
            self
        }
        fn copying(mut self, text: &str, delay: u32) -> Fake {
            self.on_copy = Some(vec![(
                "public.utf8-plain-text".into(),
                text.as_bytes().to_vec(),
            )]);
            self.copy_delay = delay;
            self
        }
        fn land_copy(&mut self) {
            let Some(left) = self.pending else { return };
            if left == 1 && self.copy_delay > 0 {
                // The app clears the clipboard first …
                self.clip.clear();
                self.generation += 1;
            }
            if left == 0 {
                // … and writes the text later.
                self.clip = self.on_copy.clone().unwrap();
                self.generation += 1;
                self.pending = None;
            } else {
                self.pending = Some(left - 1);
            }
        }
    }

    impl Desktop for Fake {
        type Saved = Vec<(String, Vec<u8>)>;
        fn selected_text(&mut self) -> Result<Option<String>, String> {
            self.calls.push("selected_text");
            self.selected.clone()
        }
        fn clipboard_text(&mut self) -> Option<String> {
            self.calls.push("clipboard_text");
            self.clip
                .iter()
                .find(|(t, _)| t == "public.utf8-plain-text")
                .map(|(_, b)| String::from_utf8(b.clone()).unwrap())
        }
        fn clipboard_generation(&mut self) -> Option<i64> {
            self.has_generation.then_some(self.generation)
        }
        fn save_clipboard(&mut self) -> Option<Self::Saved> {
            self.calls.push("save");
            self.can_save.then(|| self.clip.clone())
        }
        fn restore_clipboard(&mut self, saved: Self::Saved) -> bool {
            self.calls.push("restore");
            self.clip = saved;
            self.generation += 1;
            true
        }
        fn send_copy(&mut self) -> bool {
            self.calls.push("send_copy");
            if self.can_send && self.on_copy.is_some() {
                self.pending = Some(self.copy_delay);
                self.land_copy();
            }
            self.can_send
        }
        fn sleep(&mut self, d: Duration) {
            self.slept += d;
            self.land_copy();
        }
    }

    fn text_of(clip: &[(String, Vec<u8>)]) -> Option<&str> {
        clip.iter()
            .find(|(t, _)| t == "public.utf8-plain-text")
            .map(|(_, b)| std::str::from_utf8(b).unwrap())
    }

    #[test]
    fn the_exposed_selection_wins_and_the_clipboard_is_not_touched() {
        let mut d = Fake::mac().with_clip("old").copying("copied", 0);
        d.selected = Ok(Some("  Hello there.\n".into()));
        assert_eq!(
            selection_or_clipboard_from(&mut d),
            Some(("Hello there.".into(), Source::Selection))
        );
        assert_eq!(d.calls, ["selected_text"]);
        assert_eq!(text_of(&d.clip), Some("old"));
    }

    #[test]
    fn blank_or_refused_selection_falls_back_to_a_copy_that_restores_the_clipboard() {
        for selected in [
            Ok(Some(" \n\t".into())),
            Ok(None),
            Err("no permission".into()),
        ] {
            let mut d = Fake::mac().with_clip("old").copying(" copied text ", 0);
            d.selected = selected;
            let before = d.clip.clone();
            assert_eq!(
                selection_or_clipboard_from(&mut d),
                Some(("copied text".into(), Source::Selection))
            );
            assert_eq!(
                d.calls,
                [
                    "selected_text",
                    "save",
                    "send_copy",
                    "clipboard_text",
                    "restore"
                ]
            );
            // Every type is back, not just the text.
            assert_eq!(d.clip, before);
        }
    }

    #[test]
    fn a_slow_copy_is_waited_for_through_a_cleared_clipboard() {
        let mut d = Fake::mac().with_clip("old").copying("slow", 5);
        assert_eq!(read_selection(&mut d).as_deref(), Some("slow"));
        assert_eq!(d.slept, COPY_POLL * 5);
        assert_eq!(text_of(&d.clip), Some("old"));
    }

    #[test]
    fn a_copy_that_changes_nothing_leaves_the_clipboard_alone_and_it_is_read_as_clipboard() {
        let mut d = Fake::mac().with_clip("the clipboard");
        let gen = d.generation;
        assert_eq!(
            selection_or_clipboard_from(&mut d),
            Some(("the clipboard".into(), Source::Clipboard))
        );
        assert!(!d.calls.contains(&"restore"), "{:?}", d.calls);
        assert_eq!(d.generation, gen, "the clipboard was written");
        assert!(d.slept >= COPY_TIMEOUT && d.slept < COPY_TIMEOUT + COPY_POLL * 2);
    }

    #[test]
    fn a_copy_of_something_that_is_not_text_is_undone_and_yields_nothing() {
        let mut d = Fake::mac().with_clip("old");
        d.on_copy = Some(vec![("public.png".into(), vec![0x89, b'P'])]);
        assert_eq!(read_selection(&mut d), None);
        assert_eq!(text_of(&d.clip), Some("old"));
        assert!(d.calls.contains(&"restore"));
    }

    #[test]
    fn no_copy_when_the_clipboard_cannot_be_saved_or_the_key_cannot_be_sent() {
        let mut d = Fake::mac().with_clip("old").copying("copied", 0);
        d.can_save = false;
        assert_eq!(read_selection(&mut d), None);
        assert!(!d.calls.contains(&"send_copy"));
        assert_eq!(text_of(&d.clip), Some("old"));

        let mut d = Fake::mac().with_clip("old").copying("copied", 0);
        d.can_send = false;
        assert_eq!(read_selection(&mut d), None);
        assert!(!d.calls.contains(&"restore"));
        assert_eq!(text_of(&d.clip), Some("old"));
    }

    #[test]
    fn without_a_clipboard_counter_no_copy_is_synthesized() {
        // Linux: PRIMARY, then CLIPBOARD; nothing is ever sent to the other app.
        let mut d = Fake::mac().with_clip("  clip  ").copying("copied", 0);
        d.has_generation = false;
        assert_eq!(
            selection_or_clipboard_from(&mut d),
            Some(("clip".into(), Source::Clipboard))
        );
        assert_eq!(d.calls, ["selected_text", "clipboard_text"]);
    }

    #[test]
    fn nothing_anywhere_is_none() {
        let mut d = Fake::mac().with_clip(" \n ");
        assert_eq!(selection_or_clipboard_from(&mut d), None);
        let mut d = Fake::mac();
        assert_eq!(selection_or_clipboard_from(&mut d), None);
    }

    #[test]
    fn text_is_trimmed_and_blank_is_nothing() {
        assert_eq!(usable(Some(" \n\t".into())), None);
        assert_eq!(usable(None), None);
        assert_eq!(usable(Some(" a b \n".into())).as_deref(), Some("a b"));
        assert_eq!(usable(Some("\u{a0}é\u{3000}".into())).as_deref(), Some("é"));
    }
}
