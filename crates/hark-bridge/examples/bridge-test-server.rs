//! A bridge on a free loopback port with the tiny random model and null audio
//! output, for the browser-extension tests (`tests/extension/run.sh`).
//!
//! Prints one JSON line `{"port": P, "token": "..."}` on stdout once it
//! listens, then serves until its standard input closes.
//! Lexicons: `$HARK_ASSETS/lexicons`, else `~/.cache/hark/assets/lexicons`.

use std::io::Read;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lexicons = std::env::var_os("HARK_ASSETS")
        .map(|a| PathBuf::from(a).join("lexicons"))
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/hark/assets/lexicons")
        });
    let engine = hark_engine::Engine::start(hark_engine::EngineConfig::tiny(7, lexicons))?;
    let dir = tempfile::tempdir()?;
    let token = hark_bridge::load_or_create_token(dir.path())?;
    let mut cfg = hark_bridge::BridgeConfig::new(token.clone());
    cfg.port = 0;
    let handle = hark_bridge::spawn(engine, cfg)?;
    println!(
        "{}",
        serde_json::json!({"port": handle.addr().port(), "token": token})
    );
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    handle.shutdown()?;
    Ok(())
}
