//! The English dialects the front end reads.

use crate::error::{Error, Result};

/// English dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// American English (`en-us`, Kokoro voices `a…`).
    EnUs,
    /// British English (`en-gb`, Kokoro voices `b…`).
    EnGb,
}

impl Lang {
    pub(crate) fn file_prefix(self) -> &'static str {
        match self {
            Lang::EnUs => "us",
            Lang::EnGb => "gb",
        }
    }

    /// The canonical name (`en-us` / `en-gb`).
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::EnUs => "en-us",
            Lang::EnGb => "en-gb",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Lang {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en-us" | "a" => Ok(Lang::EnUs),
            "en-gb" | "b" => Ok(Lang::EnGb),
            _ => Err(Error::UnknownLang(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_parse() {
        assert_eq!("EN-US".parse::<Lang>().unwrap(), Lang::EnUs);
        assert_eq!("a".parse::<Lang>().unwrap(), Lang::EnUs);
        assert_eq!("b".parse::<Lang>().unwrap(), Lang::EnGb);
        assert_eq!("en-gb".parse::<Lang>().unwrap(), Lang::EnGb);
        assert!("fr".parse::<Lang>().is_err());
    }
}
