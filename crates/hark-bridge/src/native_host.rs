//! Chrome native messaging: how hark's extension gets the bridge token without copy-paste.
//!
//! The browser vouches for the extension (it starts the host only for the origins the host
//! manifest allows), and the host hands over the token, as password managers' browser
//! extensions pair with their apps.
//!
//! - [`install`] writes, for Chrome, Chromium, Edge and Brave on Linux and macOS, the host
//!   manifest `io.github.hark_tts.hark.json` into each browser's `NativeMessagingHosts` dir,
//!   with `allowed_origins` naming hark's extension (and any allowlisted ids), and a small
//!   launcher script in hark's config dir that runs the host (`hark native-host`, or the app
//!   binary with `--native-host`). The app and `hark serve` call it when the bridge starts.
//! - [`run`] is the host: Chrome starts it with the caller's origin as argument and speaks
//!   the native messaging protocol on stdin/stdout (each message a 4-byte native-endian
//!   length and that many bytes of JSON). To `{"type": "pair"}` it answers
//!   `{"type": "paired", "token": ..., "port": ..., "api": 1}`, after checking that the origin
//!   is allowlisted. It never logs to stdout.
//!
//! `HARK_NATIVE_HOST_DIRS` (a path list) replaces the browsers' dirs, for tests (Chromium
//! also reads `<user-data-dir>/NativeMessagingHosts` on Linux); set but empty, nothing is
//! installed.

use crate::config::{API_VERSION, DEFAULT_PORT};
use crate::policy::{extension_id, is_extension_id};
use crate::token::load_or_create_token;
use crate::EXTENSION_ID;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The native messaging host name (what the extension passes to `sendNativeMessage`).
pub const HOST_NAME: &str = "io.github.hark_tts.hark";

/// The launcher script's file name in hark's config dir.
pub const LAUNCHER: &str = "native-host.sh";

/// Largest message accepted from the browser (a pairing request is tiny).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The environment variable that replaces the browsers' manifest dirs.
pub const DIRS_ENV: &str = "HARK_NATIVE_HOST_DIRS";

/// Where the browsers read user-level host manifests: (browser, its data dir, the manifest
/// dir inside it), for this OS.
fn browser_dirs(home: &Path) -> Vec<(&'static str, PathBuf)> {
    let list: &[(&str, &str)] = if cfg!(target_os = "macos") {
        &[
            ("Chrome", "Library/Application Support/Google/Chrome"),
            ("Chromium", "Library/Application Support/Chromium"),
            ("Edge", "Library/Application Support/Microsoft Edge"),
            (
                "Brave",
                "Library/Application Support/BraveSoftware/Brave-Browser",
            ),
        ]
    } else {
        &[
            ("Chrome", ".config/google-chrome"),
            ("Chromium", ".config/chromium"),
            ("Edge", ".config/microsoft-edge"),
            ("Brave", ".config/BraveSoftware/Brave-Browser"),
        ]
    };
    list.iter().map(|(b, d)| (*b, home.join(d))).collect()
}

/// The manifest dirs to install into: `HARK_NATIVE_HOST_DIRS` if set, else the
/// `NativeMessagingHosts` dir of each of the four browsers whose data dir exists.
pub fn target_dirs() -> Vec<PathBuf> {
    if let Some(v) = std::env::var_os(DIRS_ENV) {
        return std::env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return Vec::new();
    };
    browser_dirs(&home)
        .into_iter()
        .filter(|(_, data)| data.is_dir())
        .map(|(_, data)| data.join("NativeMessagingHosts"))
        .collect()
}

/// What to install.
#[derive(Debug, Clone)]
pub struct Install {
    /// The program Chrome should run (the `hark` CLI or the app binary), absolute.
    pub program: PathBuf,
    /// Its arguments before the origin Chrome appends, e.g. `["native-host", "--config-dir",
    /// DIR, "--port", "7723"]`.
    pub args: Vec<String>,
    /// hark's config dir (the launcher goes there, next to the token).
    pub config_dir: PathBuf,
    /// Extension ids allowed besides [`EXTENSION_ID`].
    pub allowed_extension_ids: Vec<String>,
}

/// Quotes `s` for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The host manifest JSON.
pub fn manifest(launcher: &Path, allowed_extension_ids: &[String]) -> serde_json::Value {
    let mut ids: Vec<&str> = vec![EXTENSION_ID];
    for id in allowed_extension_ids {
        if is_extension_id(id) && !ids.contains(&id.as_str()) {
            ids.push(id);
        }
    }
    serde_json::json!({
        "name": HOST_NAME,
        "description": "hark: hands the local bridge's token to hark's browser extension",
        "path": launcher,
        "type": "stdio",
        "allowed_origins": ids.iter().map(|id| format!("chrome-extension://{id}/")).collect::<Vec<_>>(),
    })
}

impl Install {
    /// The running binary as the host, started as `<this binary> <leading...> --config-dir DIR
    /// --port PORT [--allow-extension ID]...` (what [`run`] parses after `leading`).
    pub fn current_exe(
        leading: &str,
        config_dir: &Path,
        port: u16,
        allowed_extension_ids: &[String],
    ) -> io::Result<Install> {
        let mut args = vec![
            leading.to_string(),
            "--config-dir".into(),
            config_dir.display().to_string(),
            "--port".into(),
            port.to_string(),
        ];
        for id in allowed_extension_ids {
            args.extend(["--allow-extension".into(), id.clone()]);
        }
        Ok(Install {
            program: std::env::current_exe()?,
            args,
            config_dir: config_dir.to_path_buf(),
            allowed_extension_ids: allowed_extension_ids.to_vec(),
        })
    }
}

/// Installs the running binary as the host (see [`Install::current_exe`]); a failure is only
/// logged, since the bridge works without it (the token can be pasted).
pub fn install_current_exe(
    leading: &str,
    config_dir: &Path,
    port: u16,
    allowed_extension_ids: &[String],
) {
    let res = Install::current_exe(leading, config_dir, port, allowed_extension_ids)
        .and_then(|what| install(&what));
    if let Err(e) = res {
        tracing::warn!("cannot install the native messaging host: {e}");
    }
}

/// Writes the launcher into the config dir and the manifest into every [`target_dirs`] dir.
/// Returns the manifests written; a dir that cannot be written is skipped with a warning.
pub fn install(what: &Install) -> io::Result<Vec<PathBuf>> {
    install_into(what, &target_dirs())
}

/// [`install`] into the given manifest dirs.
pub fn install_into(what: &Install, dirs: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    if dirs.is_empty() {
        return Ok(Vec::new());
    }
    let launcher = what.config_dir.join(LAUNCHER);
    let mut script = String::from(
        "#!/bin/sh\n# Written by hark: the browser runs this to let hark's extension pair with the bridge.\nexec",
    );
    for a in std::iter::once(what.program.to_string_lossy().into_owned())
        .chain(what.args.iter().cloned())
    {
        script.push(' ');
        script.push_str(&sh_quote(&a));
    }
    script.push_str(" \"$@\"\n");
    std::fs::create_dir_all(&what.config_dir)?;
    hark_base::write_atomic(&launcher, script.as_bytes(), Some(0o700))?;
    let json = serde_json::to_vec_pretty(&manifest(&launcher, &what.allowed_extension_ids))
        .expect("manifest serializes");
    let mut written = Vec::new();
    for dir in dirs {
        let path = dir.join(format!("{HOST_NAME}.json"));
        let res = std::fs::create_dir_all(dir)
            .and_then(|()| hark_base::write_atomic(&path, &json, Some(0o644)));
        match res {
            Ok(()) => written.push(path),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "cannot install the native messaging host: {e}")
            }
        }
    }
    tracing::info!(manifests = written.len(), "native messaging host installed");
    Ok(written)
}

/// Reads one message: `Ok(None)` at the end of input.
pub fn read_message(r: &mut impl Read) -> io::Result<Option<serde_json::Value>> {
    match read_frame(r)? {
        None => Ok(None),
        Some(buf) => serde_json::from_slice(&buf)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
    }
}

/// Reads one frame's bytes: `Ok(None)` at the end of input (or inside a length prefix); an
/// error for a length over [`MAX_MESSAGE`] (nothing is allocated for it) or a frame cut short.
fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = u32::from_ne_bytes(len) as usize;
    if n > MAX_MESSAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {n} bytes (limit {MAX_MESSAGE})"),
        ));
    }
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
}

/// Writes one message.
pub fn write_message(w: &mut impl Write, v: &serde_json::Value) -> io::Result<()> {
    let bytes = serde_json::to_vec(v).expect("JSON serializes");
    w.write_all(&(bytes.len() as u32).to_ne_bytes())?;
    w.write_all(&bytes)?;
    w.flush()
}

/// What the host needs to answer.
#[derive(Debug, Clone)]
pub struct Host {
    /// hark's config dir (the token is read from there when asked for).
    pub config_dir: PathBuf,
    /// The bridge's port.
    pub port: u16,
    /// Extension ids allowed besides [`EXTENSION_ID`].
    pub allowed_extension_ids: Vec<String>,
}

impl Host {
    /// The answer to one message from `origin`.
    pub fn answer(&self, origin: Option<&str>, msg: &serde_json::Value) -> serde_json::Value {
        let id = origin.and_then(extension_id);
        let allowed = id.is_some_and(|id| {
            id == EXTENSION_ID || self.allowed_extension_ids.iter().any(|a| a == id)
        });
        if !allowed {
            return serde_json::json!({"type": "error", "message": "this extension is not allowed to pair with hark"});
        }
        match msg.get("type").and_then(|t| t.as_str()) {
            Some("pair") => match load_or_create_token(&self.config_dir) {
                Ok(token) => serde_json::json!({
                    "type": "paired", "token": token, "port": self.port, "api": API_VERSION,
                }),
                Err(e) => serde_json::json!({"type": "error", "message": e.to_string()}),
            },
            Some("ping") => serde_json::json!({"type": "pong", "port": self.port}),
            _ => {
                serde_json::json!({"type": "error", "message": "unknown message; send {\"type\": \"pair\"}"})
            }
        }
    }

    /// Serves messages from `input` until it ends. `origin` is the argument Chrome passes
    /// (`chrome-extension://<id>/`). A message that is not JSON gets an error answer (the next
    /// one is read as usual); a length over [`MAX_MESSAGE`] or a message cut short ends the
    /// exchange with an error, as the stream cannot be followed past it.
    pub fn serve(
        &self,
        origin: Option<&str>,
        input: &mut impl Read,
        output: &mut impl Write,
    ) -> io::Result<()> {
        while let Some(frame) = read_frame(input)? {
            let answer = match serde_json::from_slice(&frame) {
                Ok(msg) => self.answer(origin, &msg),
                Err(e) => serde_json::json!({
                    "type": "error",
                    "message": format!("the message is not JSON ({e}); send {{\"type\": \"pair\"}}"),
                }),
            };
            write_message(output, &answer)?;
        }
        Ok(())
    }
}

/// Runs the host on stdin/stdout; `args` are what follows the subcommand: `--config-dir DIR`,
/// `--port N`, `--allow-extension ID` (repeatable) and the origin Chrome appends (others,
/// like Windows' `--parent-window`, are ignored). Returns the process exit code.
pub fn run(args: &[String]) -> i32 {
    let mut host = Host {
        config_dir: PathBuf::new(),
        port: DEFAULT_PORT,
        allowed_extension_ids: Vec::new(),
    };
    let mut origin = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config-dir" => host.config_dir = it.next().map(PathBuf::from).unwrap_or_default(),
            "--port" => {
                host.port = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(DEFAULT_PORT)
            }
            "--allow-extension" => host.allowed_extension_ids.extend(it.next().cloned()),
            o if o.starts_with("chrome-extension://") => origin = Some(o.to_string()),
            _ => {}
        }
    }
    if host.config_dir.as_os_str().is_empty() {
        eprintln!("hark native host: --config-dir is required");
        return 2;
    }
    let stdin = io::stdin();
    let stdout = io::stdout();
    match host.serve(origin.as_deref(), &mut stdin.lock(), &mut stdout.lock()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("hark native host: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(
        host: &Host,
        origin: Option<&str>,
        msgs: &[serde_json::Value],
    ) -> Vec<serde_json::Value> {
        let mut input = Vec::new();
        for m in msgs {
            write_message(&mut input, m).unwrap();
        }
        let mut out = Vec::new();
        host.serve(origin, &mut input.as_slice(), &mut out).unwrap();
        let mut r = out.as_slice();
        std::iter::from_fn(|| read_message(&mut r).unwrap()).collect()
    }

    #[test]
    fn pairs_allowlisted_extensions_only() {
        let dir = tempfile::tempdir().unwrap();
        let token = load_or_create_token(dir.path()).unwrap();
        let other = "abcdefghijklmnopabcdefghijklmnop";
        let host = Host {
            config_dir: dir.path().into(),
            port: 7800,
            allowed_extension_ids: vec![other.into()],
        };
        let pair = serde_json::json!({"type": "pair"});
        for id in [EXTENSION_ID, other] {
            let origin = format!("chrome-extension://{id}/");
            let got = exchange(
                &host,
                Some(&origin),
                &[pair.clone(), serde_json::json!({"type": "x"})],
            );
            assert_eq!(got[0]["type"], "paired");
            assert_eq!(got[0]["token"], token.as_str());
            assert_eq!(got[0]["port"], 7800);
            assert_eq!(got[1]["type"], "error");
        }
        for origin in [
            Some("chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba/"),
            Some("https://evil.example"),
            None,
        ] {
            let got = exchange(&host, origin, std::slice::from_ref(&pair));
            assert_eq!(got[0]["type"], "error", "{origin:?}");
            assert!(got[0].get("token").is_none());
        }
    }

    #[test]
    fn oversize_messages_are_refused() {
        let mut input = Vec::new();
        input.extend_from_slice(&((MAX_MESSAGE + 1) as u32).to_ne_bytes());
        input.extend(std::iter::repeat_n(b' ', MAX_MESSAGE + 1));
        assert!(read_message(&mut input.as_slice()).is_err());
        assert!(read_message(&mut [].as_slice()).unwrap().is_none());
    }

    #[test]
    fn install_writes_manifest_and_launcher() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("it's config");
        let hosts = [
            dir.path().join("a/NativeMessagingHosts"),
            dir.path().join("b"),
        ];
        let what = Install {
            program: "/opt/hark/bin/hark".into(),
            args: vec![
                "native-host".into(),
                "--config-dir".into(),
                cfg.display().to_string(),
            ],
            config_dir: cfg.clone(),
            allowed_extension_ids: vec!["abcdefghijklmnopabcdefghijklmnop".into(), "bad".into()],
        };
        let written = install_into(&what, &hosts).unwrap();
        assert_eq!(written.len(), 2);
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&written[0]).unwrap()).unwrap();
        assert_eq!(m["name"], HOST_NAME);
        assert_eq!(m["type"], "stdio");
        assert_eq!(m["path"], cfg.join(LAUNCHER).display().to_string());
        assert_eq!(
            m["allowed_origins"],
            serde_json::json!([
                format!("chrome-extension://{EXTENSION_ID}/"),
                "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"
            ])
        );
        // The launcher passes its arguments through, quoted.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "sed 's#^exec #exec printf \"%s|\" #' {} > {dir}/echo.sh && sh {dir}/echo.sh chrome-extension://x/",
                sh_quote(&cfg.join(LAUNCHER).display().to_string()),
                dir = dir.path().display()
            ))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "/opt/hark/bin/hark|native-host|--config-dir|{}|chrome-extension://x/|",
                cfg.display()
            )
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(cfg.join(LAUNCHER))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(install_into(&what, &[]).unwrap().is_empty());
    }
}
