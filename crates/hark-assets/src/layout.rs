//! The canonical asset layout under one root directory, the manifest, status and verification.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::util;

/// Environment variable that overrides the asset root.
pub const ENV_ASSETS: &str = "HARK_ASSETS";
/// File name of the canonical fp32 weights.
pub const WEIGHTS_FILE: &str = "kokoro-v1_0.safetensors";
/// File name of the model config.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the manifest.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Size of one raw voice pack: f32 [510, 256].
pub const VOICE_BYTES: u64 = 510 * 256 * 4;
/// The four misaki lexicons, as installed under `lexicons/`.
pub const LEXICON_FILES: [&str; 4] = [
    "us_gold.json",
    "us_silver.json",
    "gb_gold.json",
    "gb_silver.json",
];

/// The Kokoro v1.0 `config.json` (dimensions + 114-symbol vocab), checked against the reference:
/// the very file hark-kokoro embeds as `CONFIG_V1_JSON` (one file, read by both crates, so
/// installing assets needs no model code).
pub const EMBEDDED_CONFIG: &str = include_str!("../../hark-kokoro/data/kokoro-config.json");

/// The files of the Japanese dictionary, as installed under `ja/` (see [`AssetDir::ja_dir`]).
pub const JA_FILES: [&str; 6] = [
    "sys.dic",
    "unk.dic",
    "matrix.bin",
    "char.bin",
    "BSD",
    "ja_words.txt",
];

pub(crate) const JA_PIN: &str = include_str!("../data/ja-unidic-lite-1.0.8.sha256");
pub(crate) const VOICES_PIN: &str = include_str!("../data/kokoro-js-1.2.1-voices.sha256");
pub(crate) const LEXICONS_PIN: &str = include_str!("../data/misaki-0.9.4-lexicons.sha256");

/// A pinned file: sha256, size, file name.
pub(crate) struct Pin<'a> {
    pub sha256: &'a str,
    pub bytes: u64,
    pub file: &'a str,
}

pub(crate) fn pins(text: &str) -> impl Iterator<Item = Pin<'_>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace();
            let sha256 = it.next().expect("pin sha256");
            let bytes = it.next().and_then(|b| b.parse().ok()).expect("pin size");
            let file = it.next().expect("pin file name");
            Pin {
                sha256,
                bytes,
                file,
            }
        })
}

/// The 54 Kokoro v1.0 voice names, sorted.
pub fn known_voices() -> Vec<String> {
    pins(VOICES_PIN)
        .map(|p| p.file.trim_end_matches(".bin").to_string())
        .collect()
}

/// One installed file as recorded in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Lowercase hex sha256 of the installed file.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Where it came from (e.g. `registry:kokoro-js@1.2.1`, a URL, a local path).
    pub source: String,
}

/// `manifest.json`: relative path (with `/`) → entry.
pub type Manifest = BTreeMap<String, ManifestEntry>;

/// One user's asset directory in the canonical layout (see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetDir {
    root: PathBuf,
}

/// Whether a file is there with a plausible size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Present with the size the manifest records (or any non-empty size if unrecorded).
    Present,
    /// Absent.
    Missing,
    /// Present but with a size other than the one recorded.
    WrongSize {
        /// Size in the manifest.
        expected: u64,
        /// Size on disk.
        actual: u64,
    },
}

/// What is installed; computed from file sizes only (see [`AssetDir::verify`] for hashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The asset root.
    pub root: PathBuf,
    /// Whether `manifest.json` exists and parses.
    pub manifest: bool,
    /// `kokoro-v1_0.safetensors`.
    pub weights: FileState,
    /// `config.json`.
    pub config: FileState,
    /// Installed voices (right size), sorted.
    pub voices: Vec<String>,
    /// Known v1.0 voices that are not installed.
    pub missing_voices: Vec<String>,
    /// Each lexicon file name with its state.
    pub lexicons: Vec<(String, FileState)>,
}

impl Status {
    /// Weights, config, every lexicon and at least one voice are present, and the manifest exists.
    pub fn is_ready(&self) -> bool {
        self.manifest
            && self.weights == FileState::Present
            && self.config == FileState::Present
            && !self.voices.is_empty()
            && self.lexicons.iter().all(|(_, s)| *s == FileState::Present)
    }
    /// Everything, including all 54 voices, is present.
    pub fn is_complete(&self) -> bool {
        self.is_ready() && self.missing_voices.is_empty()
    }
}

impl AssetDir {
    /// Resolve the root: `override_dir` > `$HARK_ASSETS` > the platform user data dir + `hark`
    /// (`~/.local/share/hark` on Linux). Does not create it.
    pub fn resolve(override_dir: Option<&Path>) -> Result<Self> {
        if let Some(d) = override_dir {
            return Ok(Self::at(d));
        }
        if let Some(d) = std::env::var_os(ENV_ASSETS).filter(|d| !d.is_empty()) {
            return Ok(Self::at(d));
        }
        let dirs = directories::BaseDirs::new().ok_or(Error::NoAssetDir)?;
        Ok(Self::at(dirs.data_dir().join("hark")))
    }
    /// An asset directory at `root` (not created).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        AssetDir { root: root.into() }
    }
    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `<root>/kokoro-v1_0.safetensors`.
    pub fn weights_path(&self) -> PathBuf {
        self.root.join(WEIGHTS_FILE)
    }
    /// `<root>/config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }
    /// `<root>/voices`.
    pub fn voices_dir(&self) -> PathBuf {
        self.root.join("voices")
    }
    /// `<root>/voices/<name>.bin`.
    pub fn voice_path(&self, name: &str) -> PathBuf {
        self.voices_dir().join(format!("{name}.bin"))
    }
    /// `<root>/lexicons`.
    pub fn lexicons_dir(&self) -> PathBuf {
        self.root.join("lexicons")
    }
    /// `<root>/ja`: the Japanese dictionary (MeCab's compiled unidic-lite 1.0.8 and misaki's
    /// word list), installed by [`crate::fetch_japanese`].
    pub fn ja_dir(&self) -> PathBuf {
        self.root.join("ja")
    }
    /// `<root>/manifest.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.root.join(MANIFEST_FILE)
    }
    /// `<root>/.downloads`: raw downloads and resumable `.part` files.
    pub fn downloads_dir(&self) -> PathBuf {
        self.root.join(".downloads")
    }

    /// Installed voice names (`voices/*.bin` of the right size), sorted.
    pub fn list_voices(&self) -> Result<Vec<String>> {
        let dir = self.voices_dir();
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", dir, e)),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io("list", &dir, e))?;
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".bin")) else {
                continue;
            };
            if entry.metadata().map(|m| m.len()).unwrap_or(0) == VOICE_BYTES {
                out.push(stem.to_string());
            }
        }
        out.sort();
        Ok(out)
    }

    /// Read `manifest.json` (an absent file is an empty manifest).
    pub fn read_manifest(&self) -> Result<Manifest> {
        let path = self.manifest_path();
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| Error::Manifest {
                path,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::new()),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Write `manifest.json` atomically.
    pub(crate) fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(m).map_err(|e| Error::Manifest {
            path: self.manifest_path(),
            reason: e.to_string(),
        })?;
        json.push(b'\n');
        util::write_atomic(&self.manifest_path(), &json)
    }

    fn state(&self, rel: &str, manifest: Option<&Manifest>) -> FileState {
        let Ok(meta) = std::fs::metadata(self.root.join(rel)) else {
            return FileState::Missing;
        };
        match manifest.and_then(|m| m.get(rel)) {
            Some(e) if e.bytes != meta.len() => FileState::WrongSize {
                expected: e.bytes,
                actual: meta.len(),
            },
            None if meta.len() == 0 => FileState::Missing,
            _ => FileState::Present,
        }
    }

    /// What is present or missing (cheap: sizes, not hashes).
    pub fn status(&self) -> Status {
        let manifest = self.read_manifest().ok().filter(|m| !m.is_empty());
        let m = manifest.as_ref();
        let voices = self.list_voices().unwrap_or_default();
        let missing_voices = known_voices()
            .into_iter()
            .filter(|v| !voices.contains(v))
            .collect();
        Status {
            root: self.root.clone(),
            manifest: m.is_some(),
            weights: self.state(WEIGHTS_FILE, m),
            config: self.state(CONFIG_FILE, m),
            voices,
            missing_voices,
            lexicons: LEXICON_FILES
                .iter()
                .map(|f| (f.to_string(), self.state(&format!("lexicons/{f}"), m)))
                .collect(),
        }
    }

    /// Check one manifest entry against the file on disk (size, then full sha256).
    pub(crate) fn check_entry(&self, rel: &str, e: &ManifestEntry) -> Result<()> {
        let path = self.root.join(rel);
        let (sha, bytes) = match util::sha256_file(&path) {
            Ok(x) => x,
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Missing(path))
            }
            Err(e) => return Err(e),
        };
        if bytes != e.bytes {
            return Err(Error::Size {
                what: path.display().to_string(),
                expected: e.bytes,
                actual: bytes,
            });
        }
        if sha != e.sha256 {
            return Err(Error::Checksum {
                what: path.display().to_string(),
                expected: e.sha256.clone(),
                actual: sha,
            });
        }
        Ok(())
    }

    /// Full sha256 check of every file in `manifest.json`; also requires the weights, config,
    /// lexicons and at least one voice to be recorded there. Errors name the file.
    pub fn verify(&self) -> Result<()> {
        let path = self.manifest_path();
        if !path.exists() {
            return Err(Error::Manifest {
                path,
                reason: "not found (run `hark fetch`)".into(),
            });
        }
        let m = self.read_manifest()?;
        let mut required: Vec<String> = vec![WEIGHTS_FILE.into(), CONFIG_FILE.into()];
        required.extend(LEXICON_FILES.iter().map(|f| format!("lexicons/{f}")));
        for r in &required {
            if !m.contains_key(r) {
                return Err(Error::Missing(self.root.join(r)));
            }
        }
        if !m.keys().any(|k| k.starts_with("voices/")) {
            return Err(Error::Missing(self.voices_dir()));
        }
        for (rel, e) in &m {
            self.check_entry(rel, e)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: &[u8]) -> ManifestEntry {
        ManifestEntry {
            sha256: util::sha256_hex(bytes),
            bytes: bytes.len() as u64,
            source: "test".into(),
        }
    }

    #[test]
    fn paths_follow_the_layout() {
        let d = AssetDir::at("/x");
        assert_eq!(d.weights_path(), Path::new("/x/kokoro-v1_0.safetensors"));
        assert_eq!(d.config_path(), Path::new("/x/config.json"));
        assert_eq!(
            d.voice_path("af_heart"),
            Path::new("/x/voices/af_heart.bin")
        );
        assert_eq!(d.lexicons_dir(), Path::new("/x/lexicons"));
        assert_eq!(
            AssetDir::resolve(Some(Path::new("/y"))).unwrap().root(),
            Path::new("/y")
        );
    }

    #[test]
    fn pins_list_54_voices_and_4_lexicons() {
        let v = known_voices();
        assert_eq!(v.len(), 54);
        assert!(v.contains(&"af_heart".to_string()) && v.contains(&"zm_yunyang".to_string()));
        assert!(pins(VOICES_PIN).all(|p| p.bytes == VOICE_BYTES && p.sha256.len() == 64));
        let lex: Vec<_> = pins(LEXICONS_PIN).map(|p| p.file).collect();
        assert_eq!(lex.len(), 4);
        assert!(LEXICON_FILES.iter().all(|f| lex.contains(f)));
        let cfg: serde_json::Value = serde_json::from_str(EMBEDDED_CONFIG).unwrap();
        assert_eq!(cfg["vocab"].as_object().unwrap().len(), 114);
    }

    #[test]
    fn status_and_verify_report_what_is_wrong() {
        let tmp = tempfile::tempdir().unwrap();
        let d = AssetDir::at(tmp.path());
        let st = d.status();
        assert!(!st.manifest && st.weights == FileState::Missing && !st.is_ready());
        assert_eq!(st.missing_voices.len(), 54);
        assert!(matches!(d.verify(), Err(Error::Manifest { .. })));

        let mut m = Manifest::new();
        let files: Vec<(String, Vec<u8>)> = vec![
            (WEIGHTS_FILE.into(), b"weights".to_vec()),
            (CONFIG_FILE.into(), b"{}".to_vec()),
            (
                "voices/af_heart.bin".into(),
                vec![0u8; VOICE_BYTES as usize],
            ),
        ]
        .into_iter()
        .chain(
            LEXICON_FILES
                .iter()
                .map(|f| (format!("lexicons/{f}"), b"{}".to_vec())),
        )
        .collect();
        for (rel, bytes) in &files {
            util::write_atomic(&tmp.path().join(rel), bytes).unwrap();
            m.insert(rel.clone(), entry(bytes));
        }
        d.write_manifest(&m).unwrap();
        assert_eq!(d.read_manifest().unwrap(), m);
        d.verify().unwrap();
        let st = d.status();
        assert!(st.is_ready() && !st.is_complete(), "{st:?}");
        assert_eq!(d.list_voices().unwrap(), vec!["af_heart".to_string()]);

        // same size, different content: only the hash check notices, and names the file
        std::fs::write(d.config_path(), b"[]").unwrap();
        assert!(d.status().is_ready());
        let err = d.verify().unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("checksum"),
            "{err}"
        );
        std::fs::write(d.config_path(), b"{}").unwrap();
        // a truncated voice: status sees the size, verify names it
        std::fs::write(d.voice_path("af_heart"), b"short").unwrap();
        assert!(d.list_voices().unwrap().is_empty());
        let err = d.verify().unwrap_err().to_string();
        assert!(
            err.contains("af_heart.bin") && err.contains("size"),
            "{err}"
        );
        std::fs::remove_file(d.voice_path("af_heart")).unwrap();
        let err = d.verify().unwrap_err().to_string();
        assert!(
            err.contains("missing asset") && err.contains("af_heart.bin"),
            "{err}"
        );
        // a corrupt manifest is an error naming it
        std::fs::write(d.manifest_path(), b"{not json").unwrap();
        let err = d.verify().unwrap_err().to_string();
        assert!(err.contains("manifest.json"), "{err}");
    }
}
