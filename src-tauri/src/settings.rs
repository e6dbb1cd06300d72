//! User settings: versioned JSON in the platform config dir.
//!
//! A file that can't be read or parsed is moved aside (`settings.json.corrupt-<unix time>`)
//! and the defaults are used; the caller gets a notice to show the user.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The settings file format version this build writes.
pub const SETTINGS_VERSION: u32 = 1;
/// File name inside the config dir.
pub const SETTINGS_FILE: &str = "settings.json";
/// Speeds offered in the tray menu.
pub const SPEEDS: [f32; 7] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0];
/// Bridge port used when the settings don't name one (same as `hark serve`).
pub const DEFAULT_BRIDGE_PORT: u16 = hark_bridge::DEFAULT_PORT;

/// Errors reading or writing settings.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The config dir or file could not be read or written.
    #[error("settings file {path}: {source}")]
    Io {
        /// The file or dir.
        path: PathBuf,
        /// The cause.
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
    /// Extension IDs allowed without the pairing token.
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
    /// Voice name, e.g. `af_heart`.
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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: SETTINGS_VERSION,
            voice: "af_heart".into(),
            speed: 1.0,
            volume: 1.0,
            hotkeys: Hotkeys::default(),
            dictionary: Vec::new(),
            bridge: BridgeSettings::default(),
            launch_at_login: false,
            fast_start: true,
        }
    }
}

impl Settings {
    /// Checks ranges; returns a message naming the bad field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(0.5..=2.0).contains(&self.speed) || !self.speed.is_finite() {
            return Err(SettingsError::Invalid(format!(
                "speed {} is outside 0.5–2.0",
                self.speed
            )));
        }
        if !(0.0..=1.0).contains(&self.volume) || !self.volume.is_finite() {
            return Err(SettingsError::Invalid(format!(
                "volume {} is outside 0–1",
                self.volume
            )));
        }
        if self.voice.trim().is_empty() {
            return Err(SettingsError::Invalid("voice is empty".into()));
        }
        if self.bridge.port < 1024 {
            return Err(SettingsError::Invalid(format!(
                "bridge port {} is reserved; use 1024–65535",
                self.bridge.port
            )));
        }
        for e in &self.dictionary {
            if e.word.trim().is_empty() || e.say.trim().is_empty() {
                return Err(SettingsError::Invalid(
                    "dictionary entries need both a word and how to say it".into(),
                ));
            }
        }
        for id in &self.bridge.allowed_extension_ids {
            if id.len() != 32 || !id.bytes().all(|b| (b'a'..=b'p').contains(&b)) {
                return Err(SettingsError::Invalid(format!(
                    "'{id}' is not an extension ID (32 letters a–p)"
                )));
            }
        }
        Ok(())
    }
}

/// Settings as loaded, plus a notice for the user when the file had to be replaced.
#[derive(Debug)]
pub struct Loaded {
    /// The settings in force.
    pub settings: Settings,
    /// Set when the file was corrupt (and backed up) or from a newer version.
    pub notice: Option<String>,
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

    /// Loads the settings. Missing file → defaults. Unreadable, unparsable or invalid file →
    /// it is renamed to `settings.json.corrupt-<secs>`, defaults are used, and `notice` says so.
    pub fn load(&self) -> Loaded {
        let path = self.path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    settings: Settings::default(),
                    notice: None,
                }
            }
            Err(e) => return self.replace_corrupt(&format!("could not be read ({e})")),
        };
        let value: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return self.replace_corrupt(&format!("is not valid JSON ({e})")),
        };
        let version = value.get("version").and_then(|v| v.as_u64());
        let mut notice = None;
        match version {
            Some(v) if v == u64::from(SETTINGS_VERSION) => {}
            Some(v) if v > u64::from(SETTINGS_VERSION) => {
                notice = Some(format!(
                    "The settings file is from a newer hark (version {v}); unknown fields are ignored and will be dropped on save."
                ));
            }
            _ => return self.replace_corrupt("has no known \"version\""),
        }
        let mut settings: Settings = match serde_json::from_value(value) {
            Ok(s) => s,
            Err(e) => return self.replace_corrupt(&format!("has a bad field ({e})")),
        };
        if let Err(e) = settings.validate() {
            return self.replace_corrupt(&e.to_string());
        }
        settings.version = SETTINGS_VERSION;
        Loaded { settings, notice }
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
            notice: Some(notice),
        }
    }

    /// Validates and writes the settings atomically (temp file + rename).
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
        let tmp = self.dir.join(format!(".{SETTINGS_FILE}.tmp"));
        std::fs::write(&tmp, json).map_err(io(&tmp))?;
        std::fs::rename(&tmp, self.path()).map_err(io(&self.path()))?;
        Ok(())
    }
}

/// Applies the pronunciation dictionary: whole-word, case-insensitive replacement.
/// Words are runs of letters, digits, `'` and `-`.
pub fn apply_dictionary(text: &str, dict: &[DictEntry]) -> String {
    if dict.is_empty() {
        return text.to_string();
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '\'' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(is_word).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        match dict
            .iter()
            .find(|e| e.word.trim().to_lowercase() == word.to_lowercase())
        {
            Some(e) => out.push_str(e.say.trim()),
            None => out.push_str(word),
        }
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_without_notice() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = Store::new(dir.path()).load();
        assert_eq!(loaded.settings, Settings::default());
        assert!(loaded.notice.is_none());
    }

    #[test]
    fn save_then_load_round_trips() {
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
        store.save(&s).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
        let loaded = store.load();
        assert_eq!(loaded.settings, s);
        assert!(loaded.notice.is_none());
    }

    #[test]
    fn corrupt_file_is_backed_up_and_defaults_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(store.path(), b"{ not json").unwrap();
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
    }

    #[test]
    fn out_of_range_value_counts_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(store.path(), br#"{"version":1,"speed":9.0}"#).unwrap();
        let loaded = store.load();
        assert_eq!(loaded.settings.speed, 1.0);
        assert!(loaded.notice.unwrap().contains("speed 9"));
    }

    #[test]
    fn missing_version_is_rejected_newer_version_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(store.path(), br#"{"voice":"af_bella"}"#).unwrap();
        assert_eq!(store.load().settings.voice, "af_heart");
        std::fs::write(
            store.path(),
            br#"{"version":7,"voice":"af_bella","new_thing":1}"#,
        )
        .unwrap();
        let loaded = store.load();
        assert_eq!(loaded.settings.voice, "af_bella");
        assert!(loaded.notice.unwrap().contains("newer"));
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

    #[test]
    fn dictionary_replaces_whole_words_only() {
        let dict = vec![
            DictEntry {
                word: "tauri".into(),
                say: "tow ree".into(),
            },
            DictEntry {
                word: "GIF".into(),
                say: "jiff".into(),
            },
        ];
        assert_eq!(
            apply_dictionary("Tauri apps, a gif, Tauris and gifts.", &dict),
            "tow ree apps, a jiff, Tauris and gifts."
        );
        assert_eq!(apply_dictionary("héllo — wörld", &dict), "héllo — wörld");
        assert_eq!(apply_dictionary("", &dict), "");
    }
}
