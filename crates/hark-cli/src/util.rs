//! Small helpers shared by the subcommands.

use std::path::Path;

use anyhow::{Context, Result};
use hark_assets::AssetDir;

/// Resolve the asset directory from `--assets` / `HARK_ASSETS` / the user data dir.
pub fn asset_dir(over: Option<&Path>) -> Result<AssetDir> {
    AssetDir::resolve(over).context("cannot find the asset directory")
}

/// Peak resident set size of this process in MB (VmHWM), if the platform tells.
pub fn peak_rss_mb() -> Option<f64> {
    proc_status_kb("VmHWM:").map(|kb| kb as f64 / 1024.0)
}

fn proc_status_kb(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Read TEXT from the argument, or from stdin when it is absent or `-`.
pub fn text_arg(text: Option<String>) -> Result<String> {
    match text.as_deref() {
        Some("-") | None => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .context("reading text from stdin")?;
            Ok(s)
        }
        Some(t) => Ok(t.to_string()),
    }
}
