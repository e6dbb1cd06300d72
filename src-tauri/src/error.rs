//! The error the app's commands return to the settings window: serialized as
//! `{"kind": "...", "message": "..."}` (`kind` for the code, `message` for the user).

use serde::ser::SerializeStruct;

/// What a command (or an action taken from the tray) can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Settings that are out of range, or a settings file that could not be written.
    #[error(transparent)]
    Settings(#[from] hark_settings::SettingsError),
    /// A voice the engine does not have.
    #[error("unknown voice '{0}'")]
    UnknownVoice(String),
    /// The engine is not loaded (yet).
    #[error("the voice model is not loaded yet")]
    ModelNotLoaded,
    /// The download process could not be started.
    #[error("could not start the download: {0}")]
    Download(#[source] std::io::Error),
    /// An accelerator that does not parse.
    #[error("'{accelerator}' is not a valid shortcut: {reason}")]
    InvalidHotkey {
        /// The accelerator as given.
        accelerator: String,
        /// Why it does not parse.
        reason: String,
    },
}

impl AppError {
    /// The machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Settings(_) => "settings",
            AppError::UnknownVoice(_) => "unknown_voice",
            AppError::ModelNotLoaded => "model_not_loaded",
            AppError::Download(_) => "download",
            AppError::InvalidHotkey { .. } => "invalid_hotkey",
        }
    }
}

impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut e = s.serialize_struct("AppError", 2)?;
        e.serialize_field("kind", self.kind())?;
        e.serialize_field("message", &self.to_string())?;
        e.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_kind_and_message() {
        let e = AppError::UnknownVoice("zz_nobody".into());
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"kind": "unknown_voice", "message": "unknown voice 'zz_nobody'"})
        );
        let e = AppError::from(hark_settings::SettingsError::Invalid("port 80".into()));
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["kind"], "settings");
        assert_eq!(v["message"], "invalid setting: port 80");
    }
}
