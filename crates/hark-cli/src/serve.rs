//! `hark serve`: the headless daemon — the warm speech engine plus the localhost bridge.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use hark_bridge::{BridgeConfig, DEFAULT_PORT};
use hark_engine::{Engine, EngineConfig, Output};

use crate::say::lang_for_voice;
use crate::util::asset_dir;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Port on 127.0.0.1.
    #[arg(long, env = "HARK_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Extension ids allowed as browser origins, besides hark's own extension (repeatable).
    #[arg(long = "allow-extension", value_name = "ID")]
    pub allow_extension: Vec<String>,
    /// Default voice.
    #[arg(long, default_value = "af_heart")]
    pub voice: String,
    /// Default speed (0.5–2.0).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f32,
    /// Don't open an audio device (spoken audio is counted and dropped; streaming endpoints still work).
    #[arg(long)]
    pub no_audio: bool,
    /// Use the tiny random-weight model (tests; no assets needed except lexicons).
    #[arg(long, hide = true)]
    pub tiny: bool,
    /// Directory for the bearer token (default: $HARK_CONFIG_DIR, else the user config dir).
    #[arg(long, env = "HARK_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

pub fn config_dir(over: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = over {
        return Ok(d.to_path_buf());
    }
    directories::ProjectDirs::from("", "", "hark")
        .map(|p| p.config_dir().to_path_buf())
        .context("no user config directory; set HARK_CONFIG_DIR")
}

pub fn run(assets: Option<&Path>, args: ServeArgs) -> Result<()> {
    let dir = asset_dir(assets)?;
    let cfg_dir = config_dir(args.config_dir.as_deref())?;
    let token = hark_bridge::load_or_create_token(&cfg_dir)
        .with_context(|| format!("reading the bridge token in {}", cfg_dir.display()))?;
    let mut ecfg = if args.tiny {
        EngineConfig::tiny(0, dir.lexicons_dir())
    } else {
        EngineConfig::from_assets(dir.root())
    };
    ecfg.voice = args.voice.clone();
    ecfg.speed = args.speed;
    ecfg.lang = lang_for_voice(&args.voice);
    ecfg.output = if args.no_audio {
        Output::Null
    } else {
        Output::Device
    };
    let engine = Engine::start(ecfg).with_context(|| {
        format!(
            "starting the speech engine (assets: {}; run `hark fetch`)",
            dir.root().display()
        )
    })?;
    let mut bcfg = BridgeConfig::new(token);
    bcfg.port = args.port;
    bcfg.allowed_extension_ids = args.allow_extension.clone();
    let bridge = hark_bridge::spawn(engine, bcfg).context("starting the bridge")?;
    eprintln!(
        "hark: serving on http://{} (token in {}); Ctrl-C to stop",
        bridge.addr(),
        cfg_dir.join("bridge-token").display()
    );
    let (tx, rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("installing the Ctrl-C handler")?;
    let _ = rx.recv();
    eprintln!("hark: shutting down");
    bridge.shutdown().context("stopping the bridge")?;
    Ok(())
}
