//! Global hotkeys on X11 (and XWayland): key grabs on the root window and a thread that blocks
//! on the X connection, so a press is handled the moment the server sends it (no polling).
//!
//! The listener has its own connection and a small input-only window. Grabs are made from
//! the calling thread (the connection is shared; x11rb lets one thread wait for events while
//! others make requests). Stopping sends a client message to that window, which wakes the
//! thread; it then ends and is joined ([`Listener`]'s drop).

use global_hotkey::hotkey::{Code, HotKey, Modifiers};
use hark_base::lock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use x11rb::connection::Connection;
use x11rb::errors::ReplyError;
use x11rb::protocol::xkb::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, GrabMode,
    Keycode, ModMask, Window, WindowClass,
};
use x11rb::protocol::{ErrorKind, Event};
use x11rb::rust_connection::RustConnection;

/// Called with the id of a registered hotkey when it is pressed.
pub type OnPress = Box<dyn Fn(u32) + Send>;

/// Lock-like modifiers a grab must not depend on: X11 reports Caps Lock and Num Lock (`M2`) in
/// the event state, so each hotkey is grabbed with every combination of them.
/// (Masks as X11 numbers them: Shift 1, Lock 2, Control 4, Mod1 8, Mod2 16, Mod4 64.)
const IGNORED: [u16; 4] = [0, LOCK, NUM_LOCK, LOCK | NUM_LOCK];
const LOCK: u16 = 1 << 1;
const NUM_LOCK: u16 = 1 << 4;

/// The modifiers a hotkey is made of: Shift, Control, Mod1 (Alt), Mod4 (Super).
const USED: u16 = 1 | (1 << 2) | (1 << 3) | (1 << 6);

#[derive(Debug, Clone, Copy)]
struct Grab {
    keycode: Keycode,
    mods: u16,
    id: u32,
    /// Held down (a press was reported, its release not yet): auto-repeat presses are ignored.
    down: bool,
}

/// The X11 hotkey listener: grabs, and the thread that reports presses.
pub struct Listener {
    conn: Arc<RustConnection>,
    root: Window,
    /// Our own window: the target of the wake-up message that stops the thread.
    window: Window,
    grabs: Arc<Mutex<Vec<Grab>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("root", &self.root)
            .finish()
    }
}

impl Listener {
    /// Connects to `$DISPLAY` and starts the thread that calls `on_press` for every press of a
    /// registered hotkey (on that thread, as soon as the server reports it).
    pub fn start(on_press: OnPress) -> Result<Listener, String> {
        let (conn, screen) = RustConnection::connect(None)
            .map_err(|e| format!("cannot connect to the X server: {e}"))?;
        let conn = Arc::new(conn);
        let root = conn.setup().roots[screen].root;
        // Held keys repeat as presses only (no fake releases in between), so a held hotkey
        // fires once. Without XKB the `down` flag still filters most repeats.
        let detectable = conn
            .xkb_use_extension(1, 0)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|r| r.supported)
            && conn
                .xkb_per_client_flags(
                    xkb::ID::USE_CORE_KBD.into(),
                    xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT,
                    xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT,
                    Default::default(),
                    Default::default(),
                    Default::default(),
                )
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some();
        if !detectable {
            tracing::debug!("X server without detectable auto-repeat");
        }
        let window = conn.generate_id().map_err(|e| e.to_string())?;
        conn.create_window(
            0,
            window,
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
        .map_err(|e| e.to_string())?
        .check()
        .map_err(|e| format!("cannot create the hotkey window: {e}"))?;
        let grabs = Arc::new(Mutex::new(Vec::<Grab>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (conn, grabs, stop) = (conn.clone(), grabs.clone(), stop.clone());
            std::thread::Builder::new()
                .name("hark-hotkeys".into())
                .spawn(move || listen(&conn, &grabs, &stop, on_press))
                .map_err(|e| e.to_string())?
        };
        Ok(Listener {
            conn,
            root,
            window,
            grabs,
            stop,
            thread: Some(thread),
        })
    }

    /// Grabs `hk` for hotkey id `hk.id()`. The error says why not: no key for it on this
    /// keyboard, or another client holds it.
    pub fn register(&self, hk: &HotKey) -> Result<(), String> {
        let sym = keysym(hk.key).ok_or_else(|| format!("the key {} is not supported", hk.key))?;
        let keycode = self
            .keycode(sym)?
            .ok_or_else(|| format!("no key on this keyboard types {}", hk.key))?;
        let mods = x11_mods(hk.mods);
        if lock(&self.grabs)
            .iter()
            .any(|g| g.keycode == keycode && g.mods == mods)
        {
            return Err("already registered".into());
        }
        for (i, extra) in IGNORED.iter().enumerate() {
            let res = self
                .conn
                .grab_key(
                    false,
                    self.root,
                    ModMask::from(mods | *extra),
                    keycode,
                    GrabMode::ASYNC,
                    GrabMode::ASYNC,
                )
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    c.check().map_err(|e| match e {
                        ReplyError::X11Error(x) if x.error_kind == ErrorKind::Access => {
                            "another application holds this key combination".to_string()
                        }
                        e => e.to_string(),
                    })
                });
            if let Err(e) = res {
                for extra in &IGNORED[..i] {
                    self.ungrab(keycode, mods | *extra);
                }
                let _ = self.conn.flush();
                return Err(e);
            }
        }
        lock(&self.grabs).push(Grab {
            keycode,
            mods,
            id: hk.id(),
            down: false,
        });
        Ok(())
    }

    /// Releases every grab made here.
    pub fn unregister_all(&self) {
        let grabs = std::mem::take(&mut *lock(&self.grabs));
        for g in grabs {
            for extra in IGNORED {
                self.ungrab(g.keycode, g.mods | extra);
            }
        }
        if let Err(e) = self.conn.flush() {
            tracing::warn!("releasing hotkeys: {e}");
        }
    }

    fn ungrab(&self, keycode: Keycode, mods: u16) {
        if let Ok(c) = self
            .conn
            .ungrab_key(keycode, self.root, ModMask::from(mods))
        {
            c.ignore_error();
        }
    }

    /// The first keycode whose keysyms include `sym`.
    fn keycode(&self, sym: u32) -> Result<Option<Keycode>, String> {
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let map = self
            .conn
            .get_keyboard_mapping(min, max - min + 1)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| format!("reading the keyboard map: {e}"))?;
        let per = usize::from(map.keysyms_per_keycode.max(1));
        Ok(map
            .keysyms
            .chunks(per)
            .position(|syms| syms.contains(&sym))
            .map(|i| min + i as u8))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.unregister_all();
        self.stop.store(true, Ordering::SeqCst);
        // Wake the thread from its wait on the connection.
        let wake = ClientMessageEvent::new(32, self.window, AtomEnum::NOTICE, [0u32; 5]);
        let sent = self
            .conn
            .send_event(false, self.window, EventMask::NO_EVENT, wake)
            .map_err(|e| e.to_string())
            .and_then(|_| self.conn.flush().map_err(|e| e.to_string()));
        if let Err(e) = sent {
            // Only a broken connection fails here, and then the thread's wait fails too.
            tracing::debug!("hotkey listener: no wake-up sent ({e})");
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The listener thread: blocks on the connection, reports presses of grabbed keys.
fn listen(conn: &RustConnection, grabs: &Mutex<Vec<Grab>>, stop: &AtomicBool, on_press: OnPress) {
    loop {
        let ev = match conn.wait_for_event() {
            Ok(ev) => ev,
            Err(e) => {
                if !stop.load(Ordering::SeqCst) {
                    tracing::warn!("hotkey listener: the X connection failed: {e}");
                }
                return;
            }
        };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match ev {
            Event::KeyPress(k) => {
                let mods = u16::from(k.state) & USED;
                let fire = {
                    let mut g = lock(grabs);
                    g.iter_mut()
                        .find(|g| g.keycode == k.detail && g.mods == mods && !g.down)
                        .map(|g| {
                            g.down = true;
                            g.id
                        })
                };
                if let Some(id) = fire {
                    on_press(id);
                }
            }
            Event::KeyRelease(k) => {
                for g in lock(grabs).iter_mut().filter(|g| g.keycode == k.detail) {
                    g.down = false;
                }
            }
            _ => {}
        }
    }
}

fn x11_mods(m: Modifiers) -> u16 {
    let mut out = 0;
    for (ours, x) in [
        (Modifiers::SHIFT, ModMask::SHIFT),
        (Modifiers::CONTROL, ModMask::CONTROL),
        (Modifiers::ALT, ModMask::M1),
        (Modifiers::SUPER, ModMask::M4),
        (Modifiers::META, ModMask::M4),
    ] {
        if m.contains(ours) {
            out |= u16::from(x);
        }
    }
    out
}

/// The X keysym of a key code of an accelerator, for the keys accelerators can name.
fn keysym(code: Code) -> Option<u32> {
    use xkeysym::key as k;
    let letters = [
        Code::KeyA,
        Code::KeyB,
        Code::KeyC,
        Code::KeyD,
        Code::KeyE,
        Code::KeyF,
        Code::KeyG,
        Code::KeyH,
        Code::KeyI,
        Code::KeyJ,
        Code::KeyK,
        Code::KeyL,
        Code::KeyM,
        Code::KeyN,
        Code::KeyO,
        Code::KeyP,
        Code::KeyQ,
        Code::KeyR,
        Code::KeyS,
        Code::KeyT,
        Code::KeyU,
        Code::KeyV,
        Code::KeyW,
        Code::KeyX,
        Code::KeyY,
        Code::KeyZ,
    ];
    if let Some(i) = letters.iter().position(|c| *c == code) {
        return Some(k::a + i as u32);
    }
    let digits = [
        Code::Digit0,
        Code::Digit1,
        Code::Digit2,
        Code::Digit3,
        Code::Digit4,
        Code::Digit5,
        Code::Digit6,
        Code::Digit7,
        Code::Digit8,
        Code::Digit9,
    ];
    if let Some(i) = digits.iter().position(|c| *c == code) {
        return Some(k::_0 + i as u32);
    }
    let numpad = [
        Code::Numpad0,
        Code::Numpad1,
        Code::Numpad2,
        Code::Numpad3,
        Code::Numpad4,
        Code::Numpad5,
        Code::Numpad6,
        Code::Numpad7,
        Code::Numpad8,
        Code::Numpad9,
    ];
    if let Some(i) = numpad.iter().position(|c| *c == code) {
        return Some(k::KP_0 + i as u32);
    }
    let f = [
        Code::F1,
        Code::F2,
        Code::F3,
        Code::F4,
        Code::F5,
        Code::F6,
        Code::F7,
        Code::F8,
        Code::F9,
        Code::F10,
        Code::F11,
        Code::F12,
        Code::F13,
        Code::F14,
        Code::F15,
        Code::F16,
        Code::F17,
        Code::F18,
        Code::F19,
        Code::F20,
        Code::F21,
        Code::F22,
        Code::F23,
        Code::F24,
    ];
    if let Some(i) = f.iter().position(|c| *c == code) {
        return Some(k::F1 + i as u32);
    }
    Some(match code {
        Code::Backquote => k::grave,
        Code::Minus => k::minus,
        Code::Equal => k::equal,
        Code::BracketLeft => k::bracketleft,
        Code::BracketRight => k::bracketright,
        Code::Backslash => k::backslash,
        Code::Semicolon => k::semicolon,
        Code::Quote => k::apostrophe,
        Code::Comma => k::comma,
        Code::Period => k::period,
        Code::Slash => k::slash,
        Code::Space => k::space,
        Code::Tab => k::Tab,
        Code::Enter => k::Return,
        Code::Backspace => k::BackSpace,
        Code::Escape => k::Escape,
        Code::CapsLock => k::Caps_Lock,
        Code::NumLock => k::Num_Lock,
        Code::ScrollLock => k::Scroll_Lock,
        Code::PrintScreen => k::Print,
        Code::Pause => k::Pause,
        Code::Insert => k::Insert,
        Code::Delete => k::Delete,
        Code::Home => k::Home,
        Code::End => k::End,
        Code::PageUp => k::Page_Up,
        Code::PageDown => k::Page_Down,
        Code::ArrowUp => k::Up,
        Code::ArrowDown => k::Down,
        Code::ArrowLeft => k::Left,
        Code::ArrowRight => k::Right,
        Code::NumpadAdd => k::KP_Add,
        Code::NumpadSubtract => k::KP_Subtract,
        Code::NumpadMultiply => k::KP_Multiply,
        Code::NumpadDivide => k::KP_Divide,
        Code::NumpadDecimal => k::KP_Decimal,
        Code::NumpadEnter => k::KP_Enter,
        Code::AudioVolumeUp => k::XF86_AudioRaiseVolume,
        Code::AudioVolumeDown => k::XF86_AudioLowerVolume,
        Code::AudioVolumeMute => k::XF86_AudioMute,
        Code::MediaPlayPause => k::XF86_AudioPlay,
        Code::MediaStop => k::XF86_AudioStop,
        Code::MediaTrackNext => k::XF86_AudioNext,
        Code::MediaTrackPrevious => k::XF86_AudioPrev,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerator_keys_have_keysyms_and_modifiers_map_to_x11() {
        let hk: HotKey = "CommandOrControl+Alt+S".parse().unwrap();
        assert_eq!(keysym(hk.key), Some(u32::from('s')));
        assert_eq!(x11_mods(hk.mods), u16::from(ModMask::CONTROL | ModMask::M1));
        for (accel, sym) in [
            ("Ctrl+F5", xkeysym::key::F5),
            ("Ctrl+Shift+9", u32::from('9')),
            ("Alt+Quote", u32::from('\'')),
            ("Super+Space", u32::from(' ')),
            ("Ctrl+ArrowLeft", xkeysym::key::Left),
        ] {
            let hk: HotKey = accel.parse().unwrap();
            assert_eq!(keysym(hk.key), Some(sym), "{accel}");
        }
        let hk: HotKey = "Shift+Super+N".parse().unwrap();
        assert_eq!(x11_mods(hk.mods), u16::from(ModMask::SHIFT | ModMask::M4));
        // the lock modifiers a grab ignores are not among those a hotkey uses
        assert!(IGNORED.iter().all(|m| m & USED == 0));
    }
}
