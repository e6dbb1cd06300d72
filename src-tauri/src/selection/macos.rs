//! macOS back-end, on the `objc2` framework crates:
//! - the selection: `AXSelectedText` of the focused element (Accessibility, `AXUIElement`);
//! - the clipboard: its text through `arboard` (as on Linux), its change count and a full
//!   save/restore (every item, every type) through `NSPasteboard`;
//! - the copy shortcut: a ⌘C key press posted with `CGEvent`.
//!
//! Built only for macOS; on our Linux machines it is type-checked and linted
//! (`scripts/check-macos.sh`), never run.

use std::ptr::NonNull;

use arboard::Clipboard;
use objc2::rc::Retained;
use objc2::runtime::ProtocolObject;
use objc2_app_kit::{NSPasteboard, NSPasteboardItem, NSPasteboardType, NSPasteboardWriting};
use objc2_application_services::{
    kAXTrustedCheckOptionPrompt, AXError, AXIsProcessTrusted, AXIsProcessTrustedWithOptions,
    AXUIElement,
};
use objc2_core_foundation::{CFBoolean, CFDictionary, CFRetained, CFString, CFType};
use objc2_core_graphics::{
    CGEvent, CGEventFlags, CGEventSource, CGEventSourceStateID, CGEventTapLocation,
};
use objc2_foundation::{NSArray, NSData};

/// `kVK_ANSI_C`: the C key of an ANSI keyboard.
const KEY_C: u16 = 8;
/// How long an app may take to answer an Accessibility query (the system default is 6 s, far
/// too long for a hotkey).
const AX_TIMEOUT_S: f32 = 0.3;

pub struct System {
    clipboard: Clipboard,
    pasteboard: Retained<NSPasteboard>,
}

/// The pasteboard's items, each as its (type, data) pairs.
pub type Saved = Vec<Vec<(Retained<NSPasteboardType>, Retained<NSData>)>>;

impl System {
    pub fn new() -> Option<System> {
        match Clipboard::new() {
            Ok(clipboard) => Some(System {
                clipboard,
                pasteboard: NSPasteboard::generalPasteboard(),
            }),
            Err(e) => {
                tracing::warn!("clipboard unavailable: {e}");
                None
            }
        }
    }
}

/// An attribute of an accessibility element: `Ok(None)` when it has none.
fn attribute(el: &AXUIElement, name: &'static str) -> Result<Option<CFRetained<CFType>>, String> {
    let key = CFString::from_static_str(name);
    let mut value: *const CFType = std::ptr::null();
    // SAFETY: `value` is a valid out pointer; on success it holds a +1 reference we own.
    let err = unsafe { el.copy_attribute_value(&key, NonNull::from(&mut value)) };
    match err {
        AXError::Success => {
            // SAFETY: copied ("Copy" rule), so the reference is ours to release.
            Ok(NonNull::new(value.cast_mut()).map(|p| unsafe { CFRetained::from_raw(p) }))
        }
        AXError::NoValue | AXError::AttributeUnsupported => Ok(None),
        AXError::APIDisabled => Err("the Accessibility permission is not granted".into()),
        AXError::CannotComplete => Err(format!("{name}: the app did not answer in time")),
        e => Err(format!("{name}: AXError {}", e.0)),
    }
}

impl super::Desktop for System {
    type Saved = Saved;

    fn selected_text(&mut self) -> Result<Option<String>, String> {
        // SAFETY: plain queries of this process's trust and the system-wide element.
        if !unsafe { AXIsProcessTrusted() } {
            return Err("the Accessibility permission is not granted".into());
        }
        let system = unsafe { AXUIElement::new_system_wide() };
        // SAFETY: a valid element; the timeout applies to queries through it.
        unsafe { system.set_messaging_timeout(AX_TIMEOUT_S) };
        let Some(focused) = attribute(&system, "AXFocusedUIElement")? else {
            return Ok(None);
        };
        let focused = focused
            .downcast::<AXUIElement>()
            .map_err(|_| "the focused element is not an accessibility element".to_string())?;
        unsafe { focused.set_messaging_timeout(AX_TIMEOUT_S) };
        match attribute(&focused, "AXSelectedText")? {
            None => Ok(None),
            Some(v) => v
                .downcast::<CFString>()
                .map(|s| Some(s.to_string()))
                .map_err(|_| "AXSelectedText is not a string".into()),
        }
    }

    fn clipboard_text(&mut self) -> Option<String> {
        match self.clipboard.get_text() {
            Ok(t) => Some(t),
            Err(arboard::Error::ContentNotAvailable) => None,
            Err(e) => {
                tracing::debug!("reading the clipboard: {e}");
                None
            }
        }
    }

    fn clipboard_generation(&mut self) -> Option<i64> {
        Some(self.pasteboard.changeCount() as i64)
    }

    fn save_clipboard(&mut self) -> Option<Saved> {
        let items = self.pasteboard.pasteboardItems()?;
        Some(
            items
                .iter()
                .map(|item| {
                    item.types()
                        .iter()
                        .filter_map(|ty| item.dataForType(&ty).map(|data| (ty, data)))
                        .collect()
                })
                .collect(),
        )
    }

    fn restore_clipboard(&mut self, saved: Saved) -> bool {
        self.pasteboard.clearContents();
        if saved.is_empty() {
            return true;
        }
        let items: Vec<Retained<ProtocolObject<dyn NSPasteboardWriting>>> = saved
            .iter()
            .map(|pairs| {
                let item = NSPasteboardItem::new();
                for (ty, data) in pairs {
                    item.setData_forType(data, ty);
                }
                ProtocolObject::from_retained(item)
            })
            .collect();
        self.pasteboard
            .writeObjects(&NSArray::from_retained_slice(&items))
    }

    fn send_copy(&mut self) -> bool {
        // Without the permission the system drops posted events silently: don't wait for them.
        // SAFETY: a plain query.
        if !unsafe { AXIsProcessTrusted() } {
            return false;
        }
        let source = CGEventSource::new(CGEventSourceStateID::CombinedSessionState);
        let (Some(down), Some(up)) = (
            CGEvent::new_keyboard_event(source.as_deref(), KEY_C, true),
            CGEvent::new_keyboard_event(source.as_deref(), KEY_C, false),
        ) else {
            return false;
        };
        // Exactly ⌘: not the modifiers of the hotkey the user may still be holding.
        for ev in [&down, &up] {
            CGEvent::set_flags(Some(ev), CGEventFlags::MaskCommand);
            CGEvent::post(CGEventTapLocation::HIDEventTap, Some(ev));
        }
        true
    }
}

/// Whether this process is a trusted Accessibility client; with `prompt`, macOS shows its
/// "would like to control this computer" prompt if it is not.
pub fn ensure_permission(prompt: bool) -> bool {
    if !prompt {
        // SAFETY: a plain query.
        return unsafe { AXIsProcessTrusted() };
    }
    // SAFETY: the framework's constant, read once.
    let key: &CFString = unsafe { kAXTrustedCheckOptionPrompt };
    let options = CFDictionary::<CFString, CFBoolean>::from_slices(&[key], &[CFBoolean::new(true)]);
    // SAFETY: the dictionary maps the documented key to a CFBoolean.
    unsafe { AXIsProcessTrustedWithOptions(Some(options.as_opaque())) }
}
