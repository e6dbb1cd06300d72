//! `hark voices`: the installed voices, with language (hark's name and the BCP 47 tag), gender
//! and the published quality grade.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use hark_engine::voice_info;

use crate::util::asset_dir;

#[derive(Args, Debug)]
pub struct VoicesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
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
    let rows: Vec<_> = names.iter().map(|n| voice_info(n)).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for r in &rows {
            println!(
                "{:<14} {:<6} {:<6} {:<7} {}",
                r.name, r.lang, r.bcp47, r.gender, r.grade
            );
        }
    }
    Ok(())
}
