//! Voice names, blend expressions, the language of a voice and the voice library.
//!
//! A voice spec is one name (`af_heart`) or a blend `af_heart:0.6+af_bella:0.4`;
//! a term without a weight counts 1. Weights are normalized to sum to 1.

use crate::error::{Error, Result};
use crate::sync::lock;
use hark_kokoro::VoicePack;
use hark_text::Lang;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One installed voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoiceInfo {
    /// File stem, e.g. `af_heart`.
    pub name: String,
    /// The language it speaks (`en-us`, `en-gb`, `es`, `fr-fr`, `it`, `pt-br`, `hi`, `zh`,
    /// `ja`), or `other` for a name outside Kokoro's naming.
    pub lang: String,
    /// The BCP 47 tag of that language (`en-US`, `en-GB`, `es-ES`, `fr-FR`, `it-IT`, `pt-BR`,
    /// `hi-IN`, `zh-CN`, `ja-JP`), as browsers' speech APIs name languages; `und` for `other`.
    pub bcp47: String,
    /// `female`, `male` or `unknown`.
    pub gender: String,
    /// Overall grade from the voice catalogue (`A`, `B-`, ...), `?` when unknown.
    pub grade: String,
}

/// The 28 English v1.0 voices and their overall grades.
const ENGLISH_GRADES: &[(&str, &str)] = &[
    ("af_heart", "A"),
    ("af_bella", "A-"),
    ("af_nicole", "B-"),
    ("af_aoede", "C+"),
    ("af_kore", "C+"),
    ("af_sarah", "C+"),
    ("af_alloy", "C"),
    ("af_nova", "C"),
    ("af_sky", "C-"),
    ("af_jessica", "D"),
    ("af_river", "D"),
    ("am_fenrir", "C+"),
    ("am_michael", "C+"),
    ("am_puck", "C+"),
    ("am_echo", "D"),
    ("am_eric", "D"),
    ("am_liam", "D"),
    ("am_onyx", "D"),
    ("am_santa", "D-"),
    ("am_adam", "F+"),
    ("bf_emma", "B-"),
    ("bf_isabella", "C"),
    ("bf_alice", "D"),
    ("bf_lily", "D"),
    ("bm_george", "C"),
    ("bm_fable", "C"),
    ("bm_lewis", "D+"),
    ("bm_daniel", "D"),
];

/// The 26 v1.0 voices of the other languages (no published grade used here).
const OTHER_VOICES: &[&str] = &[
    "ef_dora",
    "em_alex",
    "em_santa",
    "ff_siwis",
    "hf_alpha",
    "hf_beta",
    "hm_omega",
    "hm_psi",
    "if_sara",
    "im_nicola",
    "jf_alpha",
    "jf_gongitsune",
    "jf_nezumi",
    "jf_tebukuro",
    "jm_kumo",
    "pf_dora",
    "pm_alex",
    "pm_santa",
    "zf_xiaobei",
    "zf_xiaoni",
    "zf_xiaoxiao",
    "zf_xiaoyi",
    "zm_yunjian",
    "zm_yunxi",
    "zm_yunxia",
    "zm_yunyang",
];

/// Every v1.0 voice name, English first (the order fixes each tiny-model voice's seed).
fn catalogue() -> impl Iterator<Item = &'static str> {
    ENGLISH_GRADES
        .iter()
        .map(|(n, _)| *n)
        .chain(OTHER_VOICES.iter().copied())
}

/// The voice every shell (CLI, tray app, `hark serve`, settings file) uses unless told
/// otherwise: the best-graded voice of the catalogue.
pub const DEFAULT_VOICE: &str = "af_heart";

/// The language a voice name is made for, from its first letter (Kokoro's naming: `a…`
/// American, `b…` British, `e…` Spanish, `f…` French, `i…` Italian, `p…` Brazilian
/// Portuguese, `h…` Hindi, `z…` Mandarin, `j…` Japanese); `None` for other names.
fn lang_of(name: &str) -> Option<Lang> {
    name.trim_start().chars().next().and_then(Lang::from_code)
}

/// The front-end language a voice spec is read with, from its name's first letter (see
/// [`lang_of`]); American English for a name outside Kokoro's naming. For a blend, the
/// language of its first voice. This is the one rule every shell and the engine use.
pub fn voice_lang(spec: &str) -> Lang {
    let first = parse_blend(spec)
        .ok()
        .and_then(|parts| parts.into_iter().next().map(|(name, _)| name));
    lang_of(first.as_deref().unwrap_or(spec)).unwrap_or(Lang::EnUs)
}

/// Describe a voice from its name.
pub fn voice_info(name: &str) -> VoiceInfo {
    let lang = lang_of(name);
    let mut chars = name.chars();
    chars.next();
    let gender = match chars.next() {
        Some('f') => "female",
        Some('m') => "male",
        _ => "unknown",
    };
    let grade = ENGLISH_GRADES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("?", |(_, g)| g);
    VoiceInfo {
        name: name.to_string(),
        lang: lang.map_or("other", Lang::as_str).to_string(),
        bcp47: lang.map_or("und", Lang::bcp47).to_string(),
        gender: gender.to_string(),
        grade: grade.to_string(),
    }
}

/// Parse `a:0.6+b:0.4` into normalized `(name, weight)` pairs.
pub fn parse_blend(spec: &str) -> Result<Vec<(String, f32)>> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err(Error::Voice("empty voice name".into()));
    }
    let mut parts: Vec<(String, f32)> = Vec::new();
    for term in spec.split('+') {
        let term = term.trim();
        let (name, weight) = match term.split_once(':') {
            Some((n, w)) => {
                let w: f32 = w.trim().parse().map_err(|_| {
                    Error::Voice(format!("bad weight {:?} in voice spec {spec:?}", w.trim()))
                })?;
                (n.trim(), w)
            }
            None => (term, 1.0),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::Voice(format!(
                "bad voice name {name:?} in voice spec {spec:?}"
            )));
        }
        if !weight.is_finite() || weight < 0.0 {
            return Err(Error::Voice(format!(
                "weight of {name} must be a finite number ≥ 0 (got {weight})"
            )));
        }
        match parts.iter_mut().find(|(n, _)| n == name) {
            Some(p) => p.1 += weight,
            None => parts.push((name.to_string(), weight)),
        }
    }
    let total: f32 = parts.iter().map(|p| p.1).sum();
    if total <= 0.0 {
        return Err(Error::Voice(format!("weights of {spec:?} sum to 0")));
    }
    parts.retain(|p| p.1 > 0.0);
    for p in &mut parts {
        p.1 /= total;
    }
    Ok(parts)
}

/// Where voice packs come from.
#[derive(Debug, Clone)]
pub(crate) enum VoiceSource {
    /// `<dir>/<name>.bin` files.
    Dir(PathBuf),
    /// Deterministic random packs (tiny model), one per catalogue name (all 54, so every
    /// language can be tried without the real voices).
    Random {
        rows: usize,
        width: usize,
        seed: u64,
    },
}

/// Loads packs on demand and caches them (and blends) for the engine's lifetime.
#[derive(Debug)]
pub(crate) struct VoiceLibrary {
    source: VoiceSource,
    cache: Mutex<HashMap<String, Arc<VoicePack>>>,
}

/// Cache bound: 54 single packs plus a few blends (≈ 0.5 MB each).
const CACHE_LIMIT: usize = 80;

impl VoiceLibrary {
    pub(crate) fn new(source: VoiceSource) -> VoiceLibrary {
        VoiceLibrary {
            source,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Names of installed voices, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.source {
            VoiceSource::Dir(dir) => std::fs::read_dir(dir)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .filter_map(|e| {
                            let p = e.path();
                            (p.extension().and_then(|x| x.to_str()) == Some("bin"))
                                .then(|| p.file_stem()?.to_str().map(str::to_string))
                                .flatten()
                        })
                        .collect()
                })
                .unwrap_or_default(),
            VoiceSource::Random { .. } => catalogue().map(str::to_string).collect(),
        };
        names.sort();
        names
    }

    fn single(&self, name: &str) -> Result<Arc<VoicePack>> {
        if let Some(p) = lock(&self.cache).get(name) {
            return Ok(p.clone());
        }
        let pack = match &self.source {
            VoiceSource::Dir(dir) => {
                let path = dir.join(format!("{name}.bin"));
                if !path.is_file() {
                    return Err(Error::Voice(format!(
                        "unknown voice {name:?} (no {})",
                        path.display()
                    )));
                }
                VoicePack::load(&path).map_err(|source| Error::VoicePack {
                    spec: name.to_string(),
                    source,
                })?
            }
            VoiceSource::Random { rows, width, seed } => {
                let Some(i) = catalogue().position(|n| n == name) else {
                    return Err(Error::Voice(format!("unknown voice {name:?}")));
                };
                VoicePack::random(name, *rows, *width, seed.wrapping_add(i as u64 + 1))
            }
        };
        let pack = Arc::new(pack);
        self.insert(name, pack.clone());
        Ok(pack)
    }

    fn insert(&self, key: &str, pack: Arc<VoicePack>) {
        let mut cache = lock(&self.cache);
        if cache.len() >= CACHE_LIMIT {
            // Blends are cheap to rebuild; keep the single packs.
            cache.retain(|k, _| !k.contains(['+', ':']));
        }
        cache.insert(key.to_string(), pack);
    }

    /// Resolve a voice spec (single name or blend) to a pack.
    pub(crate) fn resolve(&self, spec: &str) -> Result<Arc<VoicePack>> {
        let parts = parse_blend(spec)?;
        if parts.len() == 1 {
            return self.single(&parts[0].0);
        }
        let key = parts
            .iter()
            .map(|(n, w)| format!("{n}:{w}"))
            .collect::<Vec<_>>()
            .join("+");
        if let Some(p) = lock(&self.cache).get(&key) {
            return Ok(p.clone());
        }
        let packs = parts
            .iter()
            .map(|(n, _)| self.single(n))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<(&VoicePack, f32)> = packs
            .iter()
            .zip(&parts)
            .map(|(p, (_, w))| (p.as_ref(), *w))
            .collect();
        let blended = Arc::new(VoicePack::blend(&refs).map_err(|source| Error::VoicePack {
            spec: spec.to_string(),
            source,
        })?);
        self.insert(&key, blended.clone());
        Ok(blended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blends_parse_and_normalize() {
        let p = parse_blend("af_heart:0.6+af_bella:0.4").unwrap();
        assert_eq!(p.len(), 2);
        assert!((p[0].1 - 0.6).abs() < 1e-6 && (p[1].1 - 0.4).abs() < 1e-6);
        let p = parse_blend(" af_heart : 3 + af_bella:1 ").unwrap();
        assert!((p[0].1 - 0.75).abs() < 1e-6);
        let p = parse_blend("af_heart+af_bella").unwrap();
        assert!((p[1].1 - 0.5).abs() < 1e-6);
        assert_eq!(
            parse_blend("af_heart").unwrap(),
            vec![("af_heart".into(), 1.0)]
        );
        let p = parse_blend("af_heart:1+af_heart:1+af_sky:2").unwrap();
        assert_eq!(p.len(), 2);
        assert!((p[0].1 - 0.5).abs() < 1e-6);
    }

    #[test]
    fn bad_blends_are_errors() {
        for bad in [
            "",
            "  ",
            "af_heart:x",
            "af_heart:-1",
            "a:0+b:0",
            "+",
            "af heart",
            "a:inf",
        ] {
            assert!(parse_blend(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_voice_speaks_its_own_english() {
        assert_eq!(voice_lang("bm_george"), Lang::EnGb);
        assert_eq!(voice_lang(" bf_emma "), Lang::EnGb);
        assert_eq!(voice_lang(DEFAULT_VOICE), Lang::EnUs);
        assert_eq!(voice_lang("am_adam"), Lang::EnUs);
        // every language's voices by their first letter; other names with the American rules
        assert_eq!(voice_lang("ef_dora"), Lang::Es);
        assert_eq!(voice_lang("ff_siwis"), Lang::FrFr);
        assert_eq!(voice_lang("im_nicola"), Lang::It);
        assert_eq!(voice_lang("pm_alex"), Lang::PtBr);
        assert_eq!(voice_lang("hf_alpha"), Lang::Hi);
        assert_eq!(voice_lang("zf_xiaobei"), Lang::Zh);
        assert_eq!(voice_lang("jf_alpha"), Lang::Ja);
        assert_eq!(voice_lang("xx_custom"), Lang::EnUs);
        assert_eq!(voice_lang("ef_dora:0.5+af_heart:0.5"), Lang::Es);
        // a blend: its first voice (a weight of 0 leaves a voice out of the blend)
        assert_eq!(voice_lang("bf_emma:0.3+af_heart:0.7"), Lang::EnGb);
        assert_eq!(voice_lang("af_heart+bm_george"), Lang::EnUs);
        assert_eq!(voice_lang("af_heart:0+bm_george:1"), Lang::EnGb);
        // a spec that does not parse still gets a language
        assert_eq!(voice_lang("b?"), Lang::EnGb);
        assert_eq!(
            voice_info("bm_george").lang,
            voice_lang("bm_george").as_str()
        );
    }

    #[test]
    fn the_catalogue_has_every_language() {
        let names: Vec<&str> = catalogue().collect();
        assert_eq!(names.len(), 54);
        for lang in Lang::ALL {
            assert!(names.iter().any(|n| voice_lang(n) == lang), "{lang}");
        }
    }

    #[test]
    fn info_from_names() {
        let v = voice_info("bm_george");
        assert_eq!(
            (v.lang.as_str(), v.gender.as_str(), v.grade.as_str()),
            ("en-gb", "male", "C")
        );
        let v = voice_info("zf_xiaobei");
        assert_eq!(
            (v.lang.as_str(), v.gender.as_str(), v.grade.as_str()),
            ("zh", "female", "?")
        );
        assert_eq!(voice_info("custom").lang, "other");
        assert_eq!(voice_info("custom").bcp47, "und");
        let tags: Vec<String> = ["af_heart", "bm_george", "em_alex", "ff_siwis", "if_sara"]
            .into_iter()
            .chain(["pm_alex", "hm_omega", "zm_yunxi", "jm_kumo"])
            .map(|n| voice_info(n).bcp47)
            .collect();
        assert_eq!(
            tags,
            ["en-US", "en-GB", "es-ES", "fr-FR", "it-IT", "pt-BR", "hi-IN", "zh-CN", "ja-JP"]
        );
    }
}
