//! `hark voices`: the installed voices, with language, gender and the published quality grade.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::util::asset_dir;

#[derive(Args, Debug)]
pub struct VoicesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct VoiceRow {
    name: String,
    lang: &'static str,
    gender: &'static str,
    grade: Option<&'static str>,
}

/// Overall grades published with Kokoro v1.0's English voices.
const GRADES: &[(&str, &str)] = &[
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

fn describe(name: &str) -> VoiceRow {
    let mut c = name.chars();
    let lang = match c.next() {
        Some('a') => "en-us",
        Some('b') => "en-gb",
        Some('e') => "es",
        Some('f') => "fr",
        Some('h') => "hi",
        Some('i') => "it",
        Some('j') => "ja",
        Some('p') => "pt-br",
        Some('z') => "zh",
        _ => "?",
    };
    let gender = match c.next() {
        Some('f') => "female",
        Some('m') => "male",
        _ => "?",
    };
    let grade = GRADES.iter().find(|(n, _)| *n == name).map(|(_, g)| *g);
    VoiceRow {
        name: name.to_string(),
        lang,
        gender,
        grade,
    }
}

pub fn run(assets: Option<&Path>, args: VoicesArgs) -> Result<()> {
    let dir = asset_dir(assets)?;
    let names = dir.list_voices()?;
    if names.is_empty() {
        anyhow::bail!(
            "no voices installed in {}; run `hark fetch`",
            dir.voices_dir().display()
        );
    }
    let rows: Vec<VoiceRow> = names.iter().map(|n| describe(n)).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for r in &rows {
            println!(
                "{:<14} {:<6} {:<7} {}",
                r.name,
                r.lang,
                r.gender,
                r.grade.unwrap_or("-")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decode() {
        let v = describe("bf_emma");
        assert_eq!((v.lang, v.gender, v.grade), ("en-gb", "female", Some("B-")));
        let v = describe("jm_kumo");
        assert_eq!((v.lang, v.gender, v.grade), ("ja", "male", None));
    }
}
