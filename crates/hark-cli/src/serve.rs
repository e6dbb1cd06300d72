//! `hark serve`: the headless daemon — the warm speech engine plus the localhost bridge.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use hark_bridge::BridgeConfig;
use hark_engine::{Engine, EngineConfig, Output};
use hark_settings::Store;

use crate::util::asset_dir;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (default: the app's settings, else 7723).
    #[arg(long, env = "HARK_PORT")]
    pub port: Option<u16>,
    /// Extension ids allowed as browser origins, besides hark's own extension (repeatable).
    #[arg(long = "allow-extension", value_name = "ID")]
    pub allow_extension: Vec<String>,
    /// Default voice (default: the app's settings, else the default voice, af_heart).
    #[arg(long)]
    pub voice: Option<String>,
    /// Default speed, 0.5–2.0 (default: the app's settings, else 1.0).
    #[arg(long)]
    pub speed: Option<f32>,
    /// Compute each first sentence whole before playing it: exact audio, but the first sound comes
    /// after about 1 s on two cores instead of about 0.2 s. Default: the app's "Fast start"
    /// setting, else fast start.
    #[arg(long, conflicts_with = "fast_start")]
    pub exact: bool,
    /// Fast start even if the app's settings turned it off.
    #[arg(long)]
    pub fast_start: bool,
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

#[derive(Args, Debug)]
pub struct NativeHostArgs {
    /// hark's config dir (where the bridge token is).
    #[arg(long, value_name = "DIR")]
    pub config_dir: PathBuf,
    /// The bridge's port, handed to the extension with the token.
    #[arg(long, default_value_t = hark_bridge::DEFAULT_PORT)]
    pub port: u16,
    /// Extension ids allowed besides hark's own (repeatable).
    #[arg(long = "allow-extension", value_name = "ID")]
    pub allow_extension: Vec<String>,
    /// What the browser passes: the caller's origin (`chrome-extension://<id>/`), and on some
    /// systems more.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub browser_args: Vec<String>,
}

/// `hark native-host`: see [`hark_bridge::native_host`].
pub fn native_host(args: NativeHostArgs) -> std::process::ExitCode {
    let mut argv = vec![
        "--config-dir".to_string(),
        args.config_dir.display().to_string(),
        "--port".into(),
        args.port.to_string(),
    ];
    for id in args.allow_extension {
        argv.extend(["--allow-extension".into(), id]);
    }
    argv.extend(args.browser_args);
    std::process::ExitCode::from(hark_bridge::native_host::run(&argv) as u8)
}

pub fn config_dir(over: Option<&Path>) -> Result<PathBuf> {
    over.map(Path::to_path_buf)
        .or_else(hark_settings::config_dir)
        .context("no user config directory; set HARK_CONFIG_DIR")
}

pub fn run(assets: Option<&Path>, args: ServeArgs, compute: hark_kokoro::Compute) -> Result<()> {
    let dir = asset_dir(assets)?;
    let cfg_dir = config_dir(args.config_dir.as_deref())?;
    // The app's settings, with what the command line says over them.
    let mut app = Store::new(&cfg_dir).read().settings;
    if let Some(voice) = &args.voice {
        app.voice.clone_from(voice);
    }
    app.speed = args.speed.unwrap_or(app.speed);
    app.bridge.port = args.port.unwrap_or(app.bridge.port);
    app.fast_start = !args.exact && (args.fast_start || app.fast_start);
    for id in &args.allow_extension {
        if !app.bridge.allowed_extension_ids.contains(id) {
            app.bridge.allowed_extension_ids.push(id.clone());
        }
    }
    let token = hark_bridge::load_or_create_token(&cfg_dir)
        .with_context(|| format!("reading the bridge token in {}", cfg_dir.display()))?;
    let mut ecfg = if args.tiny {
        EngineConfig::tiny(0, dir.lexicons_dir())
    } else {
        EngineConfig::from_assets(dir.root())
    };
    app.apply_to_engine(&mut ecfg);
    ecfg.compute = compute;
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
    // Text in another language than the voice's: that language's voice (the app's setting).
    engine.set_language_voices(app.engine_language_voices());
    let bcfg = BridgeConfig::from_settings(&app.bridge, token);
    let ids = bcfg.allowed_extension_ids.clone();
    let bridge = hark_bridge::spawn(engine.clone(), bcfg).context("starting the bridge")?;
    hark_bridge::native_host::install_current_exe(
        "native-host",
        &cfg_dir,
        bridge.addr().port(),
        &ids,
    );
    eprintln!(
        "hark: serving on http://{} (token in {}); Ctrl-C to stop",
        bridge.addr(),
        cfg_dir.join(hark_settings::TOKEN_FILE).display()
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let signals = std::sync::atomic::AtomicUsize::new(0);
    ctrlc::set_handler(move || {
        // A second Ctrl-C does not wait for anything.
        if signals.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
            std::process::exit(130);
        }
        let _ = tx.send(());
    })
    .context("installing the Ctrl-C handler")?;
    let _ = rx.recv();
    eprintln!("hark: shutting down");
    // The speech first (it stops at once, and streams in progress end), then the bridge; the
    // process ends only once nothing of the engine computes (see `Engine::shutdown`).
    engine.shutdown();
    bridge.shutdown().context("stopping the bridge")?;
    Ok(())
}
