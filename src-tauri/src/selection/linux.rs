//! X11 (and XWayland) back-end: the PRIMARY selection read directly over X11, the CLIPBOARD
//! through `arboard`. No copy is ever synthesized here: PRIMARY already is the selection.
//!
//! PRIMARY is what a hotkey press reads, so that path is short: one connection, the request,
//! and a wait on the connection's socket for the owner's answer (no polling, no helper
//! thread). Answers this reader does not take (no UTF-8 offered, incremental transfers of very
//! large selections) go through `arboard`, which handles every case.

use arboard::{Clipboard, GetExtLinux, LinuxClipboardKind};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, CreateWindowAux, WindowClass};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::NONE;

/// How long the owner of PRIMARY may take to answer.
const PRIMARY_TIMEOUT: Duration = Duration::from_secs(2);

/// The clipboard, opened on first use (reading PRIMARY does not need it).
pub struct System(Option<Clipboard>);

impl System {
    pub fn new() -> Option<System> {
        Some(System(None))
    }

    fn clipboard(&mut self) -> Option<&mut Clipboard> {
        if self.0.is_none() {
            match Clipboard::new() {
                Ok(cb) => self.0 = Some(cb),
                Err(e) => tracing::warn!("clipboard unavailable: {e}"),
            }
        }
        self.0.as_mut()
    }

    fn read(&mut self, kind: LinuxClipboardKind) -> Result<Option<String>, String> {
        let Some(cb) = self.clipboard() else {
            return Err("no clipboard".into());
        };
        match cb.get().clipboard(kind).text() {
            Ok(t) => Ok(Some(t)),
            Err(arboard::Error::ContentNotAvailable) => Ok(None),
            Err(e) => Err(format!("reading {kind:?}: {e}")),
        }
    }
}

/// Why PRIMARY was not read directly.
enum Direct {
    /// Ask `arboard` instead (the owner offers no UTF-8, an incremental transfer, no display).
    Fallback(String),
    /// The owner did not answer in time: asking again elsewhere would wait as long.
    Failed(String),
}

/// PRIMARY as UTF-8 text; `Ok(None)` when nothing is selected.
fn read_primary(timeout: Duration) -> Result<Option<String>, Direct> {
    let fallback = |e: &dyn std::fmt::Display| Direct::Fallback(e.to_string());
    let (conn, screen) = RustConnection::connect(None).map_err(|e| fallback(&e))?;
    let root = conn.setup().roots[screen].root;
    let owner = conn
        .get_selection_owner(AtomEnum::PRIMARY.into())
        .map_err(|e| fallback(&e))?;
    let utf8 = conn
        .intern_atom(false, b"UTF8_STRING")
        .map_err(|e| fallback(&e))?;
    let prop = conn
        .intern_atom(false, b"HARK_SELECTION")
        .map_err(|e| fallback(&e))?;
    let incr = conn.intern_atom(false, b"INCR").map_err(|e| fallback(&e))?;
    if owner.reply().map_err(|e| fallback(&e))?.owner == NONE {
        return Ok(None);
    }
    let utf8 = utf8.reply().map_err(|e| fallback(&e))?.atom;
    let prop = prop.reply().map_err(|e| fallback(&e))?.atom;
    let incr = incr.reply().map_err(|e| fallback(&e))?.atom;
    let win = conn.generate_id().map_err(|e| fallback(&e))?;
    conn.create_window(
        0,
        win,
        root,
        0,
        0,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        0,
        &CreateWindowAux::new(),
    )
    .map_err(|e| fallback(&e))?;
    conn.convert_selection(
        win,
        AtomEnum::PRIMARY.into(),
        utf8,
        prop,
        x11rb::CURRENT_TIME,
    )
    .map_err(|e| fallback(&e))?;
    conn.flush().map_err(|e| fallback(&e))?;
    let deadline = Instant::now() + timeout;
    loop {
        while let Some(ev) = conn.poll_for_event().map_err(|e| fallback(&e))? {
            let Event::SelectionNotify(n) = ev else {
                continue;
            };
            if n.requestor != win {
                continue;
            }
            if n.property == NONE {
                return Err(Direct::Fallback("the owner offers no UTF-8 text".into()));
            }
            let reply = conn
                .get_property(true, win, prop, AtomEnum::ANY, 0, u32::MAX / 4)
                .map_err(|e| fallback(&e))?
                .reply()
                .map_err(|e| fallback(&e))?;
            if reply.type_ == incr {
                return Err(Direct::Fallback("an incremental transfer".into()));
            }
            return Ok(Some(String::from_utf8_lossy(&reply.value).into_owned()));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Direct::Failed(format!(
                "the selection's owner did not answer within {timeout:?}"
            )));
        }
        // Wait for the answer on the socket (x11rb has read everything before it).
        let mut fd = libc::pollfd {
            fd: conn.stream().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd, for the duration of the call.
        let r = unsafe { libc::poll(&mut fd, 1, ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(fallback(&e));
            }
        }
    }
}

impl super::Desktop for System {
    type Saved = ();

    fn selected_text(&mut self) -> Result<Option<String>, String> {
        match read_primary(PRIMARY_TIMEOUT) {
            Ok(t) => Ok(t),
            Err(Direct::Failed(e)) => Err(e),
            Err(Direct::Fallback(why)) => {
                tracing::debug!("PRIMARY through arboard: {why}");
                self.read(LinuxClipboardKind::Primary)
            }
        }
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
