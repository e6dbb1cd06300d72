//! Blocking HTTP downloads: resumable `.part` files, progress, size and sha256 checks.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Progress;
use crate::error::{Error, Result};
use crate::util;

pub(crate) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(15))
        .timeout_read(Duration::from_secs(60))
        .user_agent(concat!("hark/", env!("CARGO_PKG_VERSION")))
        .build()
}

fn status_error(url: &str, e: ureq::Error) -> Error {
    match e {
        ureq::Error::Status(404, _) => Error::NotFound {
            url: url.to_string(),
        },
        ureq::Error::Status(code, r) => Error::Http {
            url: url.to_string(),
            reason: format!("HTTP {code} {}", r.status_text()),
        },
        ureq::Error::Transport(t) => Error::Http {
            url: url.to_string(),
            reason: match t.message() {
                Some(m) => format!("{}: {m}", t.kind()),
                None => t.kind().to_string(),
            },
        },
    }
}

/// GET a small document (a listing) as a string.
pub(crate) fn get_text(agent: &ureq::Agent, url: &str) -> Result<String> {
    let resp = agent.get(url).call().map_err(|e| status_error(url, e))?;
    resp.into_string().map_err(|e| Error::Http {
        url: url.to_string(),
        reason: format!("reading body: {e}"),
    })
}

/// What the downloaded file must be.
pub(crate) struct Expect<'a> {
    pub size: Option<u64>,
    pub sha256: Option<&'a str>,
}

fn part_path(dest: &Path) -> PathBuf {
    let mut n = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    n.push(".part");
    dest.with_file_name(n)
}

fn check_final(path: &Path, url: &str, expect: &Expect<'_>) -> Result<()> {
    let (sha, bytes) = util::sha256_file(path)?;
    if let Some(size) = expect.size {
        if bytes != size {
            return Err(Error::Size {
                what: format!("{url} ({})", path.display()),
                expected: size,
                actual: bytes,
            });
        }
    }
    if let Some(want) = expect.sha256 {
        if !sha.eq_ignore_ascii_case(want) {
            return Err(Error::Checksum {
                what: format!("{url} ({})", path.display()),
                expected: want.to_lowercase(),
                actual: sha,
            });
        }
    }
    Ok(())
}

/// Download `url` to `dest`, resuming `dest.part` if present. A complete, verified `dest`
/// already on disk is reused. On a checksum or size mismatch the partial file is deleted;
/// on a truncated body it is kept so the next call resumes.
pub(crate) fn download(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    expect: &Expect<'_>,
    what: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    if dest.exists() {
        if check_final(dest, url, expect).is_ok() {
            tracing::debug!(%url, "reusing verified download {}", dest.display());
            return Ok(());
        }
        let _ = std::fs::remove_file(dest);
    }
    util::ensure_parent(dest)?;
    let part = part_path(dest);
    let mut have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    if expect.size.is_some_and(|s| have > s) {
        let _ = std::fs::remove_file(&part);
        have = 0;
    }
    progress(Progress::Start {
        what: what.to_string(),
        total_bytes: expect.size,
    });
    if have > 0 {
        progress(Progress::Advance {
            what: what.to_string(),
            bytes: have,
        });
    }
    if expect.size != Some(have) || have == 0 {
        fetch_body(agent, url, &part, have, expect, what, progress)?;
    }
    if let Err(e) = check_final(&part, url, expect) {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    util::commit_temp(&part, dest)?;
    progress(Progress::Done {
        what: what.to_string(),
    });
    Ok(())
}

fn fetch_body(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    mut have: u64,
    expect: &Expect<'_>,
    what: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let mut req = agent.get(url);
    if have > 0 {
        req = req.set("Range", &format!("bytes={have}-"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(416, _)) if have > 0 => {
            // Our partial file does not fit the server's; start over.
            let _ = std::fs::remove_file(part);
            return fetch_body(agent, url, part, 0, expect, what, progress);
        }
        Err(e) => return Err(status_error(url, e)),
    };
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(part)
        .map_err(|e| Error::io("open", part, e))?;
    let resumed = have > 0 && resp.status() == 206;
    if resumed {
        if let Some(cr) = resp.header("Content-Range") {
            let start = cr
                .trim_start_matches("bytes ")
                .split('-')
                .next()
                .and_then(|s| s.trim().parse::<u64>().ok());
            if start != Some(have) {
                return Err(Error::Http {
                    url: url.to_string(),
                    reason: format!("unexpected Content-Range {cr:?} for resume at {have}"),
                });
            }
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| Error::io("seek", part, e))?;
    } else {
        if have > 0 {
            tracing::debug!(%url, "server ignored the Range request; restarting from byte 0");
            progress(Progress::Start {
                what: what.to_string(),
                total_bytes: expect.size,
            });
        }
        file.set_len(0)
            .map_err(|e| Error::io("truncate", part, e))?;
        have = 0;
    }
    let res = copy_body(
        resp.into_reader(),
        &mut file,
        part,
        &mut have,
        what,
        progress,
    );
    file.sync_all().map_err(|e| Error::io("sync", part, e))?;
    drop(file);
    let expected = expect.size;
    match res {
        Err(CopyError::Write(e)) => Err(e),
        Err(CopyError::Read(e)) => {
            tracing::warn!(%url, "download interrupted at {have} bytes: {e}");
            Err(Error::Truncated {
                url: url.to_string(),
                got: have,
                expected: expected.unwrap_or(0),
            })
        }
        Ok(()) => match expected {
            Some(size) if have < size => Err(Error::Truncated {
                url: url.to_string(),
                got: have,
                expected: size,
            }),
            _ => Ok(()),
        },
    }
}

enum CopyError {
    Read(std::io::Error),
    Write(Error),
}

fn copy_body(
    mut body: impl Read,
    file: &mut File,
    part: &Path,
    have: &mut u64,
    what: &str,
    progress: &mut dyn FnMut(Progress),
) -> std::result::Result<(), CopyError> {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        file.write_all(&buf[..n])
            .map_err(|e| CopyError::Write(Error::io("write", part, e)))?;
        *have += n as u64;
        progress(Progress::Advance {
            what: what.to_string(),
            bytes: n as u64,
        });
    }
}
