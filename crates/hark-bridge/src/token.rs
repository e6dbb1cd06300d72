//! The bearer token that scripts and CLI clients (requests without an `Origin`) must present.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// File name of the token inside the config directory (defined with the settings).
pub use hark_settings::TOKEN_FILE;

/// Minimum length accepted for a token read from disk.
const MIN_TOKEN_LEN: usize = 32;

/// Reads the bridge token from `config_dir/bridge-token`, creating it on first use.
///
/// A new token is 32 random bytes as 64 hex characters, written with mode 0600
/// (on Unix) in a directory created with mode 0700. An existing file whose mode
/// lets group or others read it is tightened to 0600. A file holding something
/// too short to be a token is an error, not silently replaced.
pub fn load_or_create_token(config_dir: &Path) -> Result<String> {
    let path = config_dir.join(TOKEN_FILE);
    let io = |what: &'static str| {
        let path = path.clone();
        move |source| Error::TokenFile { path, what, source }
    };
    create_dir_private(config_dir).map_err(io("creating config dir"))?;

    match std::fs::read_to_string(&path) {
        Ok(contents) => {
            let token = contents.trim().to_string();
            if token.len() < MIN_TOKEN_LEN || !token.chars().all(|c| c.is_ascii_graphic()) {
                return Err(Error::InvalidToken {
                    path,
                    min_len: MIN_TOKEN_LEN,
                });
            }
            tighten_mode(&path).map_err(io("setting mode 0600"))?;
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = new_token().map_err(|source| Error::NoRandomness {
                path: path.clone(),
                source,
            })?;
            match write_new(&path, &token) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "created bridge token");
                    Ok(token)
                }
                // Another process created it between our read and our write: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_token(config_dir)
                }
                Err(e) => Err(io("writing")(e)),
            }
        }
        Err(e) => Err(io("reading")(e)),
    }
}

/// 32 random bytes from the OS, hex-encoded.
fn new_token() -> std::result::Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(unix)]
fn create_dir_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir_private(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn write_new(path: &Path, token: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_new(path: &Path, token: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(unix)]
fn tighten_mode(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "token file was readable by others; setting 0600");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten_mode(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("nested/hark");
        let a = load_or_create_token(&cfg).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        let b = load_or_create_token(&cfg).unwrap();
        assert_eq!(a, b, "second call must read the same token");
        let other = tempfile::tempdir().unwrap();
        assert_ne!(a, load_or_create_token(other.path()).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn file_is_0600_and_loose_modes_are_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create_token(dir.path()).unwrap();
        let path = dir.path().join(TOKEN_FILE);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        load_or_create_token(dir.path()).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn garbage_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(TOKEN_FILE), "short\n").unwrap();
        let e = load_or_create_token(dir.path()).unwrap_err();
        assert!(e.to_string().contains("valid token"), "{e}");
    }
}
