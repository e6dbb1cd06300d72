//! hark's user settings: one typed [`Settings`] for the tray app and `hark serve`, stored as
//! versioned JSON (`settings.json`) in hark's config dir.
//!
//! - Loading goes field by field: a field that is missing, of the wrong type or out of range
//!   takes its default and is named in [`Loaded::fell_back`] (and logged), while every other
//!   field keeps its value. A bad entry of a list (a dictionary entry, an extension id) is
//!   dropped alone. Only a file that is not a JSON object at all is set aside
//!   (`settings.json.corrupt-<unix time>`, by [`Store::load`]) and replaced by the defaults.
//! - Saving validates, writes a temporary file, fsyncs it, renames it over `settings.json` and
//!   fsyncs the directory, so a crash leaves the old file or the new one, never a torn one.
//!
//! What it is not: it applies nothing (engine, hotkeys, bridge); the shells do.

#![warn(missing_docs)]

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The settings file format version this build writes.
pub const SETTINGS_VERSION: u32 = 1;
/// File name inside the config dir.
pub const SETTINGS_FILE: &str = "settings.json";
/// The bridge's port on 127.0.0.1 when the settings don't name one (also `hark serve`'s and
/// `hark native-host`'s default; the browser extension's copy is tested against it).
pub const DEFAULT_BRIDGE_PORT: u16 = 7723;
/// File name of the bridge's bearer token inside the config dir (written by the bridge, read by
/// scripts and the native messaging host).
pub const TOKEN_FILE: &str = "bridge-token";
/// Environment variable that names hark's config dir (settings, bridge token) instead of the
/// platform's.
pub const ENV_CONFIG_DIR: &str = "HARK_CONFIG_DIR";

/// hark's config dir, where `settings.json` and the bridge token live: `$HARK_CONFIG_DIR` when
/// set and not empty, else the platform's (`~/.config/hark`, `~/Library/Application
/// Support/hark`, `%APPDATA%\hark\config`). `None` when the platform has none (no home).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(ENV_CONFIG_DIR).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "hark").map(|p| p.config_dir().to_path_buf())
}

/// Lowest bridge port accepted (ports below are reserved for the system).
pub const MIN_BRIDGE_PORT: u16 = 1024;

/// Errors reading or writing settings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The config dir or file could not be read or written.
    #[error("settings file {path}: {source}")]
    Io {
        /// The file or dir.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A value is out of range.
    #[error("invalid setting: {0}")]
    Invalid(String),
}

/// Global hotkeys, as accelerator strings (`"CommandOrControl+Alt+S"`). Empty = disabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hotkeys {
    /// Speak the selection; pressed while speaking, stops.
    pub speak: String,
    /// Pause / resume.
    pub pause: String,
    /// Skip to the next sentence.
    pub skip: String,
}

impl Default for Hotkeys {
    fn default() -> Self {
        Hotkeys {
            speak: "CommandOrControl+Alt+S".into(),
            pause: "CommandOrControl+Alt+P".into(),
            skip: "CommandOrControl+Alt+N".into(),
        }
    }
}

/// One pronunciation override: every whole-word `word` (case-insensitive) is spoken as `say`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DictEntry {
    /// The word as written.
    pub word: String,
    /// How to say it (a respelling, e.g. "tow ree").
    pub say: String,
}

/// The HTTP bridge (browser extension, local API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BridgeSettings {
    /// Run the bridge at all.
    pub enabled: bool,
    /// Loopback port.
    pub port: u16,
    /// Extension IDs allowed as browser origins (with the token) and offered the token through
    /// native messaging, besides hark's own extension.
    pub allowed_extension_ids: Vec<String>,
}

impl Default for BridgeSettings {
    fn default() -> Self {
        BridgeSettings {
            enabled: true,
            port: DEFAULT_BRIDGE_PORT,
            allowed_extension_ids: Vec::new(),
        }
    }
}

/// Everything the user can set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// File format version ([`SETTINGS_VERSION`]).
    pub version: u32,
    /// Voice name, e.g. `af_heart` ([`hark_engine::DEFAULT_VOICE`] by default).
    pub voice: String,
    /// Speaking rate, 0.5–2.0.
    pub speed: f32,
    /// Output volume, 0.0–1.0.
    pub volume: f32,
    /// Global hotkeys.
    pub hotkeys: Hotkeys,
    /// Pronunciation overrides.
    pub dictionary: Vec<DictEntry>,
    /// HTTP bridge.
    pub bridge: BridgeSettings,
    /// Start at login.
    pub launch_at_login: bool,
    /// Start speaking sooner (the default): the first sentence is computed in growing windows
    /// (about 0.2 s to the first sound instead of about 1.1 s, with small level differences in
    /// that sentence). Off: exact audio, later first sound.
    pub fast_start: bool,
    /// Keep the sound output open between readings (off by default). On, no reading waits for
    /// the device to wake (some Bluetooth headphones take a second); the price is paid while
    /// idle: on a Mac an open output keeps the audio hardware powered and stops the Mac from
    /// sleeping when idle. Off, the output opens the moment a hotkey is pressed, while the
    /// selection is read and the speech computed, and closes after a few idle seconds.
    pub keep_audio_open: bool,
    /// Read a selection written in another language than the voice's with the voice of its
    /// language (from `language_voices`), the language told from the text. On by default.
    pub match_language: bool,
    /// The voice of each language for `match_language`, keyed by language (`en-us` for
    /// English, `es`, `fr-fr`, `it`, `pt-br`, `hi`, `zh`, `ja`); each voice must speak its
    /// language. Languages left out use their default voice
    /// ([`hark_engine::default_voice_for`]).
    pub language_voices: BTreeMap<String, String>,
}

/// Every choosable language with its default voice (the default of
/// [`Settings::language_voices`]).
pub fn default_language_voices() -> BTreeMap<String, String> {
    hark_engine::CHOOSABLE
        .iter()
        .map(|l| {
            (
                l.as_str().to_string(),
                hark_engine::default_voice_for(*l).to_string(),
            )
        })
        .collect()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: SETTINGS_VERSION,
            voice: hark_engine::DEFAULT_VOICE.into(),
            speed: 1.0,
            volume: 1.0,
            hotkeys: Hotkeys::default(),
            dictionary: Vec::new(),
            bridge: BridgeSettings::default(),
            launch_at_login: false,
            fast_start: true,
            keep_audio_open: false,
            match_language: true,
            language_voices: default_language_voices(),
        }
    }
}

// ---- the rule of each field (used by loading and by `validate`) ----

fn check_speed(s: &f32) -> Result<(), String> {
    let range = hark_engine::SPEED_RANGE;
    if s.is_finite() && range.contains(s) {
        Ok(())
    } else {
        Err(format!(
            "speed {s} is outside {}–{}",
            range.start(),
            range.end()
        ))
    }
}

fn check_volume(v: &f32) -> Result<(), String> {
    if v.is_finite() && (0.0..=1.0).contains(v) {
        Ok(())
    } else {
        Err(format!("volume {v} is outside 0–1"))
    }
}

fn check_voice(v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        Err("voice is empty".into())
    } else {
        Ok(())
    }
}

/// A language's voice: a language a text can be detected as, and a voice that speaks it.
fn check_language_voice(lang: &str, voice: &str) -> Result<(), String> {
    let l: hark_engine::Lang = lang
        .parse()
        .ok()
        .filter(|l| hark_engine::CHOOSABLE.contains(l))
        .ok_or_else(|| {
            let known: Vec<&str> = hark_engine::CHOOSABLE.iter().map(|l| l.as_str()).collect();
            format!("'{lang}' is not one of {}", known.join(", "))
        })?;
    check_voice(voice)?;
    if !hark_engine::voice_lang(voice).same_as(l) {
        return Err(format!(
            "voice {voice} speaks {}, not {lang}",
            hark_engine::voice_lang(voice)
        ));
    }
    Ok(())
}

fn check_port(p: &u16) -> Result<(), String> {
    if *p < MIN_BRIDGE_PORT {
        Err(format!(
            "bridge port {p} is reserved; use {MIN_BRIDGE_PORT}–65535"
        ))
    } else {
        Ok(())
    }
}

fn check_entry(e: &DictEntry) -> Result<(), String> {
    if e.word.trim().is_empty() || e.say.trim().is_empty() {
        Err("dictionary entries need both a word and how to say it".into())
    } else {
        Ok(())
    }
}

fn check_extension_id(id: &str) -> Result<(), String> {
    if is_extension_id(id) {
        Ok(())
    } else {
        Err(format!("'{id}' is not an extension ID (32 letters a–p)"))
    }
}

/// True when `id` looks like a Chrome extension id: 32 characters in `a..=p`. The settings
/// check allowlists with it, and the bridge checks origins with it.
pub fn is_extension_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

fn no_check<T>(_: &T) -> Result<(), String> {
    Ok(())
}

impl Settings {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let all = [
            check_speed(&self.speed),
            check_volume(&self.volume),
            check_voice(&self.voice),
            check_port(&self.bridge.port),
        ];
        let lists = self
            .dictionary
            .iter()
            .map(check_entry)
            .chain(
                self.language_voices
                    .iter()
                    .map(|(l, v)| check_language_voice(l, v)),
            )
            .chain(
                self.bridge
                    .allowed_extension_ids
                    .iter()
                    .map(|id| check_extension_id(id)),
            );
        all.into_iter()
            .chain(lists)
            .collect::<Result<(), String>>()
            .map_err(SettingsError::Invalid)
    }

    /// Sets what these settings say of the engine on `cfg`: voice, speed, volume, fast start,
    /// keeping the device open. The model, its files and the output are the shell's to choose;
    /// the language voices are set on the running engine ([`Self::engine_language_voices`]).
    /// `hark serve` and the app both start their engine through this.
    pub fn apply_to_engine(&self, cfg: &mut hark_engine::EngineConfig) {
        cfg.voice.clone_from(&self.voice);
        cfg.speed = self.speed;
        cfg.volume = self.volume;
        cfg.fast_start = self.fast_start;
        cfg.keep_audio_open = self.keep_audio_open;
    }

    /// The engine's form of `match_language` and `language_voices`
    /// ([`hark_engine::Engine::set_language_voices`]).
    pub fn engine_language_voices(&self) -> hark_engine::LanguageVoices {
        hark_engine::LanguageVoices {
            enabled: self.match_language,
            voices: self
                .language_voices
                .iter()
                .filter_map(|(l, v)| Some((l.parse().ok()?, v.clone())))
                .collect(),
        }
    }

    /// Reads settings from a parsed JSON object field by field: see [`Loaded::fell_back`].
    pub fn from_json_fields(obj: &Map<String, Value>) -> (Settings, Vec<FellBack>) {
        let d = Settings::default();
        let mut r = Reader {
            fell_back: Vec::new(),
        };
        let voice = r.field(obj, "voice", d.voice, |v: &String| check_voice(v));
        let speed = r.field(obj, "speed", d.speed, check_speed);
        let volume = r.field(obj, "volume", d.volume, check_volume);
        let hotkeys = match r.object(obj, "hotkeys") {
            Some(h) => Hotkeys {
                speak: r.field(h, "hotkeys.speak", d.hotkeys.speak.clone(), no_check),
                pause: r.field(h, "hotkeys.pause", d.hotkeys.pause.clone(), no_check),
                skip: r.field(h, "hotkeys.skip", d.hotkeys.skip.clone(), no_check),
            },
            None => d.hotkeys.clone(),
        };
        let dictionary = r.list(obj, "dictionary", check_entry);
        let bridge = match r.object(obj, "bridge") {
            Some(b) => BridgeSettings {
                enabled: r.field(b, "bridge.enabled", d.bridge.enabled, no_check),
                port: r.field(b, "bridge.port", d.bridge.port, check_port),
                allowed_extension_ids: r.list(b, "bridge.allowed_extension_ids", |id: &String| {
                    check_extension_id(id)
                }),
            },
            None => d.bridge.clone(),
        };
        let s = Settings {
            version: SETTINGS_VERSION,
            voice,
            speed,
            volume,
            hotkeys,
            dictionary,
            bridge,
            launch_at_login: r.field(obj, "launch_at_login", d.launch_at_login, no_check),
            fast_start: r.field(obj, "fast_start", d.fast_start, no_check),
            keep_audio_open: r.field(obj, "keep_audio_open", d.keep_audio_open, no_check),
            match_language: r.field(obj, "match_language", d.match_language, no_check),
            language_voices: r.language_voices(obj, d.language_voices),
        };
        (s, r.fell_back)
    }
}

/// A field of the file that could not be used; its default (or, for a list entry, nothing) is
/// in force instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FellBack {
    /// The field's path: `speed`, `bridge.port`, `dictionary[2]`.
    pub field: String,
    /// Why (wrong type, out of range, ...).
    pub reason: String,
}

impl std::fmt::Display for FellBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.field, self.reason)
    }
}

struct Reader {
    fell_back: Vec<FellBack>,
}

impl Reader {
    fn fail(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        let fb = FellBack {
            field: field.into(),
            reason: reason.into(),
        };
        tracing::warn!(field = %fb.field, reason = %fb.reason, "settings: using the default for a bad field");
        self.fell_back.push(fb);
    }

    /// A present field: parsed and checked, else `default` (and noted). Absent: `default`.
    fn field<T: DeserializeOwned>(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        default: T,
        check: impl Fn(&T) -> Result<(), String>,
    ) -> T {
        let key = path.rsplit('.').next().unwrap_or(path);
        let Some(v) = obj.get(key) else {
            return default;
        };
        match T::deserialize(v) {
            Ok(x) => match check(&x) {
                Ok(()) => x,
                Err(why) => {
                    self.fail(path, why);
                    default
                }
            },
            Err(e) => {
                self.fail(path, e.to_string());
                default
            }
        }
    }

    /// A nested object, if present and an object (else noted, and the caller uses defaults).
    fn object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
    ) -> Option<&'a Map<String, Value>> {
        match obj.get(key) {
            None => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                self.fail(key, "not an object");
                None
            }
        }
    }

    /// `language_voices`: the defaults, with each good entry of the file over its language's
    /// (a bad entry is noted and dropped alone).
    fn language_voices(
        &mut self,
        obj: &Map<String, Value>,
        mut out: BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let Some(m) = self.object(obj, "language_voices") else {
            return out;
        };
        for (lang, v) in m {
            let path = format!("language_voices.{lang}");
            match v.as_str() {
                Some(voice) => match check_language_voice(lang, voice) {
                    Ok(()) => {
                        out.insert(lang.clone(), voice.trim().to_string());
                    }
                    Err(why) => self.fail(path, why),
                },
                None => self.fail(path, "not a voice name"),
            }
        }
        out
    }

    /// A list whose entries are kept or dropped one by one.
    fn list<T: DeserializeOwned>(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        check: impl Fn(&T) -> Result<(), String>,
    ) -> Vec<T> {
        let key = path.rsplit('.').next().unwrap_or(path);
        let items = match obj.get(key) {
            None => return Vec::new(),
            Some(Value::Array(a)) => a,
            Some(_) => {
                self.fail(path, "not a list");
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.iter().enumerate() {
            match T::deserialize(v).map_err(|e| e.to_string()).and_then(|x| {
                check(&x)?;
                Ok(x)
            }) {
                Ok(x) => out.push(x),
                Err(why) => self.fail(format!("{path}[{i}]"), why),
            }
        }
        out
    }
}

/// Settings as loaded, with what the user should be told.
#[derive(Debug)]
pub struct Loaded {
    /// The settings in force.
    pub settings: Settings,
    /// Fields that could not be used and took their defaults.
    pub fell_back: Vec<FellBack>,
    /// A sentence for the user when something was wrong: a corrupt file (set aside), a newer
    /// version, fields that fell back.
    pub notice: Option<String>,
}

/// What is wrong with the whole file, when it can't be read field by field.
enum Unusable {
    Missing,
    Corrupt(String),
}

/// Reads, saves and backs up the settings file in one directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// A store in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Store { dir: dir.into() }
    }

    /// The config dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the settings file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(SETTINGS_FILE)
    }

    fn parse(&self) -> Result<Map<String, Value>, Unusable> {
        let bytes = match std::fs::read(self.path()) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
            Err(e) => return Err(Unusable::Corrupt(format!("could not be read ({e})"))),
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(Unusable::Corrupt("is not a JSON object".into())),
            Err(e) => Err(Unusable::Corrupt(format!("is not valid JSON ({e})"))),
        }
    }

    fn from_object(obj: &Map<String, Value>) -> Loaded {
        let (settings, fell_back) = Settings::from_json_fields(obj);
        let mut notes = Vec::new();
        match obj.get("version").and_then(Value::as_u64) {
            Some(v) if v > u64::from(SETTINGS_VERSION) => notes.push(format!(
                "The settings file is from a newer hark (version {v}); unknown fields are ignored and will be dropped on save."
            )),
            _ => {}
        }
        if !fell_back.is_empty() {
            let list: Vec<String> = fell_back.iter().map(ToString::to_string).collect();
            notes.push(format!(
                "Some settings could not be used and are back to their defaults: {}.",
                list.join("; ")
            ));
        }
        Loaded {
            settings,
            fell_back,
            notice: (!notes.is_empty()).then(|| notes.join(" ")),
        }
    }

    /// Reads the settings without touching the disk: missing file → defaults; a file that is
    /// not a JSON object → defaults with a notice; otherwise field by field.
    pub fn read(&self) -> Loaded {
        match self.parse() {
            Ok(obj) => Self::from_object(&obj),
            Err(Unusable::Missing) => Loaded {
                settings: Settings::default(),
                fell_back: Vec::new(),
                notice: None,
            },
            Err(Unusable::Corrupt(why)) => {
                let notice = format!("Your settings file {why}; the defaults are in use.");
                tracing::warn!("{notice}");
                Loaded {
                    settings: Settings::default(),
                    fell_back: Vec::new(),
                    notice: Some(notice),
                }
            }
        }
    }

    /// Like [`read`](Self::read), but a file that is not a JSON object is renamed to
    /// `settings.json.corrupt-<secs>` so the next save does not destroy it.
    pub fn load(&self) -> Loaded {
        match self.parse() {
            Err(Unusable::Corrupt(why)) => self.replace_corrupt(&why),
            _ => self.read(),
        }
    }

    fn replace_corrupt(&self, why: &str) -> Loaded {
        let path = self.path();
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let backup = self.dir.join(format!("{SETTINGS_FILE}.corrupt-{secs}"));
        let notice = match std::fs::rename(&path, &backup) {
            Ok(()) => format!(
                "Your settings file {why}. It was saved as {} and the defaults are in use.",
                backup.display()
            ),
            Err(e) => format!(
                "Your settings file {why}, and it could not be backed up ({e}). The defaults are in use."
            ),
        };
        tracing::warn!("{notice}");
        Loaded {
            settings: Settings::default(),
            fell_back: Vec::new(),
            notice: Some(notice),
        }
    }

    /// Validates and writes the settings atomically: a temporary file, fsynced, renamed over
    /// the old one, then the directory fsynced.
    pub fn save(&self, settings: &Settings) -> Result<(), SettingsError> {
        settings.validate()?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SettingsError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let mut s = settings.clone();
        s.version = SETTINGS_VERSION;
        let json = serde_json::to_vec_pretty(&s).expect("settings serialize");
        hark_base::write_atomic(&self.path(), &json, None).map_err(io(&self.path()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The browser extension keeps its own copies of the port and the speed range (it is
    /// JavaScript); they must say what the Rust constants say.
    #[test]
    fn extension_constants_match_rust() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../extension/bridge.js");
        let js = std::fs::read_to_string(path).unwrap();
        let value = |name: &str| -> f64 {
            let decl = format!("export const {name} = ");
            let at = js
                .find(&decl)
                .unwrap_or_else(|| panic!("{name} not in bridge.js"))
                + decl.len();
            js[at..].split(';').next().unwrap().trim().parse().unwrap()
        };
        assert_eq!(value("DEFAULT_PORT"), f64::from(DEFAULT_BRIDGE_PORT));
        assert_eq!(
            value("SPEED_MIN"),
            f64::from(*hark_engine::SPEED_RANGE.start())
        );
        assert_eq!(
            value("SPEED_MAX"),
            f64::from(*hark_engine::SPEED_RANGE.end())
        );
        let popup = std::fs::read_to_string(path.replace("bridge.js", "popup.html")).unwrap();
        let slider = format!(
            r#"id="speed" type="range" min="{}" max="{}""#,
            hark_engine::SPEED_RANGE.start(),
            hark_engine::SPEED_RANGE.end()
        );
        assert!(
            popup.contains(&slider),
            "popup.html's speed slider: want {slider}"
        );
    }

    #[test]
    fn apply_to_engine_sets_what_the_settings_say() {
        let s = Settings {
            voice: "bf_emma".into(),
            speed: 1.5,
            volume: 0.25,
            fast_start: false,
            keep_audio_open: true,
            ..Settings::default()
        };
        let mut cfg = hark_engine::EngineConfig::tiny(0, "lexicons");
        s.apply_to_engine(&mut cfg);
        assert_eq!(cfg.voice, "bf_emma");
        assert_eq!((cfg.speed, cfg.volume), (1.5, 0.25));
        assert!(!cfg.fast_start && cfg.keep_audio_open);
        assert_eq!(cfg.model, hark_engine::ModelSource::Tiny { seed: 0 });
    }

    #[test]
    fn missing_file_gives_defaults_without_notice() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = Store::new(dir.path()).load();
        assert_eq!(loaded.settings, Settings::default());
        assert!(loaded.notice.is_none());
        assert!(loaded.fell_back.is_empty());
    }

    #[test]
    fn save_then_load_round_trips_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("nested"));
        let mut s = Settings {
            voice: "bm_george".into(),
            speed: 1.5,
            ..Settings::default()
        };
        s.dictionary.push(DictEntry {
            word: "Tauri".into(),
            say: "tow ree".into(),
        });
        s.hotkeys.skip = String::new();
        s.bridge
            .allowed_extension_ids
            .push("abcdefghijklmnopabcdefghijklmnop".into());
        store.save(&s).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
        let loaded = store.load();
        assert_eq!(loaded.settings, s);
        assert!(loaded.notice.is_none());
        let names: Vec<_> = std::fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![SETTINGS_FILE.to_string()]);
    }

    #[test]
    fn corrupt_file_is_backed_up_and_defaults_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(store.path(), b"{ not json").unwrap();
        // `read` changes nothing on disk.
        let read = store.read();
        assert_eq!(read.settings, Settings::default());
        assert!(store.path().exists());
        let loaded = store.load();
        assert_eq!(loaded.settings, Settings::default());
        let notice = loaded.notice.expect("a notice");
        assert!(notice.contains("not valid JSON"), "{notice}");
        assert!(!store.path().exists());
        let backups: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("settings.json.corrupt-"))
            .collect();
        assert_eq!(backups.len(), 1);
        let kept = std::fs::read(dir.path().join(&backups[0])).unwrap();
        assert_eq!(kept, b"{ not json");
        std::fs::write(store.path(), b"[1, 2]").unwrap();
        assert!(store.load().notice.unwrap().contains("not a JSON object"));
    }

    /// One bad field keeps the rest, and says which one fell back.
    #[test]
    fn one_bad_field_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(
            store.path(),
            br#"{"version":1,"voice":"bf_emma","speed":9.0,"volume":"loud","fast_start":false,
                "keep_audio_open":true,"hotkeys":{"speak":"Alt+X","pause":7},
                "dictionary":[{"word":"GIF","say":"jiff"},{"word":"","say":"x"},{"word":"Tauri"}],
                "bridge":{"enabled":false,"port":80,"allowed_extension_ids":["abcdefghijklmnopabcdefghijklmnop","nope"]}}"#,
        )
        .unwrap();
        let loaded = store.load();
        let s = &loaded.settings;
        let d = Settings::default();
        assert_eq!(s.voice, "bf_emma");
        assert!(!s.fast_start);
        assert!(s.keep_audio_open);
        assert_eq!((s.speed, s.volume), (d.speed, d.volume));
        assert_eq!(s.hotkeys.speak, "Alt+X");
        assert_eq!(s.hotkeys.pause, d.hotkeys.pause);
        assert_eq!(s.hotkeys.skip, d.hotkeys.skip);
        assert_eq!(
            s.dictionary,
            vec![DictEntry {
                word: "GIF".into(),
                say: "jiff".into()
            }]
        );
        assert!(!s.bridge.enabled);
        assert_eq!(s.bridge.port, DEFAULT_BRIDGE_PORT);
        assert_eq!(
            s.bridge.allowed_extension_ids,
            vec!["abcdefghijklmnopabcdefghijklmnop".to_string()]
        );
        let fields: Vec<&str> = loaded.fell_back.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "speed",
                "volume",
                "hotkeys.pause",
                "dictionary[1]",
                "dictionary[2]",
                "bridge.port",
                "bridge.allowed_extension_ids[1]",
            ]
        );
        let notice = loaded.notice.unwrap();
        assert!(
            notice.contains("speed (speed 9 is outside 0.5–2)"),
            "{notice}"
        );
        assert!(notice.contains("bridge.port"), "{notice}");
        assert!(
            store.path().exists(),
            "a file with bad fields is not set aside"
        );
        s.validate().unwrap();
    }

    #[test]
    fn missing_version_and_wrong_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        // A hand-written file without a version is read.
        std::fs::write(store.path(), br#"{"voice":"af_bella"}"#).unwrap();
        let loaded = store.load();
        assert_eq!(loaded.settings.voice, "af_bella");
        assert!(loaded.notice.is_none());
        // A newer version is read, with a notice.
        std::fs::write(
            store.path(),
            br#"{"version":7,"voice":"af_bella","new_thing":1}"#,
        )
        .unwrap();
        let loaded = store.load();
        assert_eq!(loaded.settings.voice, "af_bella");
        assert!(loaded.notice.unwrap().contains("newer"));
        // Nested objects and lists of the wrong shape fall back whole.
        std::fs::write(
            store.path(),
            br#"{"bridge":"on","hotkeys":[],"dictionary":{"a":"b"},"speed":1.5}"#,
        )
        .unwrap();
        let loaded = store.load();
        assert_eq!(loaded.settings.speed, 1.5);
        assert_eq!(loaded.settings.bridge, BridgeSettings::default());
        let fields: Vec<&str> = loaded.fell_back.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["hotkeys", "dictionary", "bridge"]);
    }

    #[test]
    fn a_voice_per_language_with_defaults_and_bad_entries_dropped_alone() {
        let d = Settings::default();
        assert!(d.match_language);
        assert_eq!(d.language_voices.len(), 8);
        assert_eq!(d.language_voices["zh"], "zf_xiaobei");
        assert_eq!(d.language_voices["en-us"], "af_heart");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(
            store.path(),
            br#"{"match_language":false,"language_voices":{"es":"em_alex","zh":"af_heart",
                "en-us":"bm_george","xx":"af_heart","ja":7}}"#,
        )
        .unwrap();
        let loaded = store.load();
        let s = &loaded.settings;
        assert!(!s.match_language);
        assert_eq!(s.language_voices["es"], "em_alex");
        assert_eq!(s.language_voices["en-us"], "bm_george");
        assert_eq!(s.language_voices["zh"], "zf_xiaobei");
        assert_eq!(s.language_voices["ja"], "jf_alpha");
        assert_eq!(s.language_voices.len(), 8);
        let mut fields: Vec<&str> = loaded.fell_back.iter().map(|f| f.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "language_voices.ja",
                "language_voices.xx",
                "language_voices.zh"
            ]
        );
        let lv = s.engine_language_voices();
        assert!(!lv.enabled);
        assert_eq!(lv.voices[&hark_engine::Lang::Es], "em_alex");
        // saving checks that each voice speaks its language
        let mut bad = s.clone();
        bad.language_voices.insert("fr-fr".into(), "ef_dora".into());
        assert!(store
            .save(&bad)
            .unwrap_err()
            .to_string()
            .contains("ef_dora speaks es"));
        store.save(s).unwrap();
        assert_eq!(&store.load().settings, s);
    }

    #[test]
    fn save_rejects_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let bad = Settings {
            speed: 0.1,
            ..Settings::default()
        };
        assert!(matches!(store.save(&bad), Err(SettingsError::Invalid(_))));
        let mut bad = Settings::default();
        bad.bridge.allowed_extension_ids.push("not-an-id".into());
        assert!(store
            .save(&bad)
            .unwrap_err()
            .to_string()
            .contains("not-an-id"));
        assert!(!store.path().exists());
    }
}
