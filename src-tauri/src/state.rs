//! The app's shared state (`app.manage(AppState)`) and the status the settings window shows.

use crate::settings::{Settings, Store};
use serde::Serialize;
use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use tauri::{AppHandle, Emitter};

/// The event sent with the [`Status`] after every change (the window and the tray follow it).
pub const STATUS_EVENT: &str = "status";

/// Engine + bridge readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineStatus {
    /// Model assets are missing; a download is needed.
    NeedsModel,
    /// Assets are being downloaded.
    Downloading,
    /// The model is loading.
    Loading,
    /// Ready to speak.
    Ready,
    /// Loading failed (see `engine_error`).
    Failed,
}

/// What the tray icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrayState {
    /// Nothing playing.
    Idle,
    /// Speaking.
    Speaking,
    /// Paused.
    Paused,
    /// Model loading or downloading.
    Loading,
}

/// One global hotkey's registration result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HotkeyStatus {
    /// `speak`, `pause` or `skip`.
    pub action: String,
    /// The accelerator as configured.
    pub accelerator: String,
    /// Registered and active.
    pub ok: bool,
    /// Why not (conflict, parse error), if not.
    pub error: Option<String>,
}

/// Model download progress.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Download {
    /// Bytes done across all files.
    pub done: u64,
    /// Total bytes, when known.
    pub total: u64,
    /// The file being fetched.
    pub current: String,
    /// Last message (note, error or "cancelled").
    pub message: Option<String>,
}

/// The Japanese dictionary (an optional asset, fetched when a Japanese voice is first used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JapaneseState {
    /// Not installed.
    Missing,
    /// Being downloaded (progress in [`Status::japanese_download`]).
    Downloading,
    /// Installed.
    Installed,
}

/// Bridge status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BridgeStatus {
    /// Listening.
    pub running: bool,
    /// The address it listens on.
    pub addr: Option<String>,
    /// Why it is not running.
    pub error: Option<String>,
    /// The pairing token for the extension.
    pub token: Option<String>,
}

/// Everything the settings window shows besides the settings themselves.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Engine readiness.
    pub engine: EngineStatus,
    /// Why loading failed.
    pub engine_error: Option<String>,
    /// What the tray shows.
    pub tray: TrayState,
    /// Download progress.
    pub download: Download,
    /// The Japanese dictionary.
    pub japanese: JapaneseState,
    /// Its download progress.
    pub japanese_download: Download,
    /// Hotkey registrations.
    pub hotkeys: Vec<HotkeyStatus>,
    /// The bridge.
    pub bridge: BridgeStatus,
    /// Messages for the user (corrupt settings, missing audio device, …).
    pub notices: Vec<String>,
    /// The config dir in use.
    pub config_dir: String,
    /// The tiny random test model is in use ([`crate::test_hooks::tiny_model`]).
    pub tiny_model: bool,
}

impl Status {
    /// The status at start: loading, nothing else known yet.
    pub fn new(config_dir: String, notices: Vec<String>, tiny_model: bool) -> Status {
        Status {
            engine: EngineStatus::Loading,
            engine_error: None,
            tray: TrayState::Loading,
            download: Download::default(),
            japanese: if crate::model::japanese_installed() {
                JapaneseState::Installed
            } else {
                JapaneseState::Missing
            },
            japanese_download: Download::default(),
            hotkeys: Vec::new(),
            bridge: BridgeStatus::default(),
            notices,
            config_dir,
            tiny_model,
        }
    }
}

/// Shared state of the running app.
pub struct AppState {
    /// Settings file access.
    pub store: Store,
    /// Settings in force.
    pub settings: Mutex<Settings>,
    /// The engine, once loaded.
    pub engine: RwLock<Option<hark_engine::Engine>>,
    /// The bridge, once started.
    pub bridge: Mutex<Option<hark_bridge::BridgeHandle>>,
    /// Status for the window.
    pub status: Mutex<Status>,
    /// Set to cancel a running download.
    pub cancel_download: Arc<AtomicBool>,
    /// `HARK_EVENT_LOG` file (JSON lines), for tests ([`crate::test_hooks::event_log`]).
    event_log: Option<Mutex<std::fs::File>>,
    /// When the state was made (for `t_ms` in the event log), and the system's monotonic clock
    /// then (ns), to turn `Instant`s into `mono_ms`.
    started: std::time::Instant,
    started_mono_ns: Option<u64>,
}

/// The system's monotonic clock (`CLOCK_MONOTONIC`) in ns: the clock of the first-press
/// benchmark's key presses and sound card, so the event log's `mono_ms` compare with them.
pub fn monotonic_ns() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec for the call to fill.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        (r == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Locks a mutex, recovering from poisoning ([`hark_base::lock`]).
pub use hark_base::lock;

impl AppState {
    /// New state; `event_log` is opened for appending (created with mode 0600).
    pub fn new(store: Store, settings: Settings, notices: Vec<String>, tiny: bool) -> Self {
        let event_log = crate::test_hooks::event_log().and_then(|p| {
            let mut opts = std::fs::OpenOptions::new();
            opts.create(true).append(true);
            // It holds the text of everything read: the user's eyes only.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            match opts.open(&p) {
                Ok(f) => Some(Mutex::new(f)),
                Err(e) => {
                    tracing::warn!("HARK_EVENT_LOG {}: {e}", p.display());
                    None
                }
            }
        });
        let status = Status::new(store.dir().display().to_string(), notices, tiny);
        AppState {
            store,
            settings: Mutex::new(settings),
            engine: RwLock::new(None),
            bridge: Mutex::new(None),
            status: Mutex::new(status),
            cancel_download: Arc::new(AtomicBool::new(false)),
            event_log,
            started: std::time::Instant::now(),
            started_mono_ns: monotonic_ns(),
        }
    }

    /// The engine, if loaded.
    pub fn engine(&self) -> Option<hark_engine::Engine> {
        self.engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A copy of the settings.
    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// `t` on the monotonic clock in ms (µs precision), as in the event log's `mono_ms`.
    pub fn mono_ms(&self, t: std::time::Instant) -> Option<f64> {
        let base = self.started_mono_ns? as i128;
        let d = if t >= self.started {
            (t - self.started).as_nanos() as i128
        } else {
            -((self.started - t).as_nanos() as i128)
        };
        Some(((base + d) / 1000) as f64 / 1000.0)
    }

    /// Whether the event log is on.
    pub fn logging(&self) -> bool {
        self.event_log.is_some()
    }

    /// Appends one JSON line to the event log, if enabled, with `t_ms` (ms since start) and
    /// `mono_ms` (the system's monotonic clock, ms with µs precision).
    pub fn log_event(&self, mut value: serde_json::Value) {
        if let Some(f) = &self.event_log {
            let now = std::time::Instant::now();
            if let Some(obj) = value.as_object_mut() {
                obj.insert(
                    "t_ms".into(),
                    ((now - self.started).as_millis() as u64).into(),
                );
                if let Some(m) = self.mono_ms(now) {
                    obj.insert("mono_ms".into(), m.into());
                }
            }
            let mut f = lock(f);
            let _ = writeln!(f, "{value}");
            let _ = f.flush();
        }
    }

    /// Changes the status and sends it to the window (`status` event).
    pub fn update_status(&self, app: &AppHandle, f: impl FnOnce(&mut Status)) {
        let snapshot = {
            let mut s = lock(&self.status);
            f(&mut s);
            s.clone()
        };
        let _ = app.emit(STATUS_EVENT, snapshot);
    }

    /// Adds a user-visible notice (and logs it).
    pub fn notice(&self, app: &AppHandle, msg: impl Into<String>) {
        let msg = msg.into();
        tracing::warn!("{msg}");
        self.log_event(serde_json::json!({"type": "notice", "message": msg}));
        self.update_status(app, |s| {
            s.notices.push(msg);
            if s.notices.len() > 20 {
                s.notices.remove(0);
            }
        });
    }
}
