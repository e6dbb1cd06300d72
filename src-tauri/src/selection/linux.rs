//! X11 (and XWayland) back-end: the PRIMARY selection and the CLIPBOARD through `arboard`.
//! No copy is ever synthesized here: PRIMARY already is the selection.

use arboard::{Clipboard, GetExtLinux, LinuxClipboardKind};

pub struct System(Clipboard);

impl System {
    pub fn new() -> Option<System> {
        match Clipboard::new() {
            Ok(cb) => Some(System(cb)),
            Err(e) => {
                tracing::warn!("clipboard unavailable: {e}");
                None
            }
        }
    }

    fn read(&mut self, kind: LinuxClipboardKind) -> Result<Option<String>, String> {
        match self.0.get().clipboard(kind).text() {
            Ok(t) => Ok(Some(t)),
            Err(arboard::Error::ContentNotAvailable) => Ok(None),
            Err(e) => Err(format!("reading {kind:?}: {e}")),
        }
    }
}

impl super::Desktop for System {
    type Saved = ();

    fn selected_text(&mut self) -> Result<Option<String>, String> {
        self.read(LinuxClipboardKind::Primary)
    }

    fn clipboard_text(&mut self) -> Option<String> {
        self.read(LinuxClipboardKind::Clipboard)
            .unwrap_or_else(|e| {
                tracing::debug!("{e}");
                None
            })
    }

    // No clipboard counter: the trait's defaults, so no copy is ever synthesized.
}

pub fn ensure_permission(_prompt: bool) -> bool {
    true
}
