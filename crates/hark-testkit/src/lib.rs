//! What hark's tests and examples share, defined once (a dev-dependency only; never shipped):
//!
//! - [`assets_dir`]: where the model assets are (`$HARK_ASSETS`, else the cache `scripts/test.sh`
//!   fills), [`lexicon_dir`] / [`lexicons`], [`real_assets`];
//! - [`require_assets`]: whether missing assets fail the test (`HARK_REQUIRE_ASSETS=1`) or skip it;
//! - [`alsa_null_conf`]: an ALSA configuration whose default device is `null` (no sound card);
//! - with the `engine` feature, [`tiny_engine`]: a started engine on the tiny random model.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The environment variable naming the asset directory (as for the `hark` CLI).
pub const ENV_ASSETS: &str = "HARK_ASSETS";
/// The environment variable naming the lexicon directory of the tests (default: `lexicons/` of
/// [`assets_dir`]).
pub const ENV_LEXICON_DIR: &str = "HARK_LEXICON_DIR";
/// The environment variable that, set to `1`, turns a missing asset or tool from a skip into a
/// failure (`scripts/test.sh` and CI set it).
pub const ENV_REQUIRE_ASSETS: &str = "HARK_REQUIRE_ASSETS";

/// The test assets: `$HARK_ASSETS` when set and not empty, else `$XDG_CACHE_HOME/hark/assets`
/// (`~/.cache/hark/assets`), where `scripts/test.sh` installs them. Not checked.
pub fn assets_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(ENV_ASSETS).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("hark/assets")
}

/// True when missing assets (or tools such as espeak-ng) must fail a test instead of skipping
/// it: `HARK_REQUIRE_ASSETS=1`.
pub fn require_assets() -> bool {
    std::env::var(ENV_REQUIRE_ASSETS).as_deref() == Ok("1")
}

/// What a test does when something it needs is missing: panics with `what` when
/// [`require_assets`], else prints that the test is skipped. Returns `None` so callers can write
/// `let Some(x) = found.or_else(|| skip("…")) else { return };`.
pub fn skip<T>(what: &str) -> Option<T> {
    assert!(!require_assets(), "{ENV_REQUIRE_ASSETS}=1 but {what}");
    eprintln!("skipped: {what}");
    None
}

/// The misaki lexicons' directory: `$HARK_LEXICON_DIR` when set and not empty, else
/// `lexicons/` of [`assets_dir`]. Not checked.
pub fn lexicon_dir() -> PathBuf {
    std::env::var_os(ENV_LEXICON_DIR)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| assets_dir().join("lexicons"))
}

/// [`lexicon_dir`], checked: panics with a hint when the lexicons are not there (every test that
/// synthesizes needs them, even on the tiny model).
pub fn lexicons() -> PathBuf {
    let dir = lexicon_dir();
    assert!(
        dir.join("us_gold.json").is_file(),
        "lexicons not found in {} (run `hark fetch`, or set {ENV_ASSETS} to an asset dir)",
        dir.display()
    );
    dir
}

/// The asset directory when it holds the real weights and the default voice; else [`skip`].
pub fn real_assets() -> Option<PathBuf> {
    let dir = assets_dir();
    if has_real_weights(&dir) {
        Some(dir)
    } else {
        skip(&format!("no real weights/voices in {}", dir.display()))
    }
}

fn has_real_weights(dir: &Path) -> bool {
    dir.join("kokoro-v1_0.safetensors").is_file() && dir.join("voices/af_heart.bin").is_file()
}

/// A file for `ALSA_CONFIG_PATH` whose default device is ALSA's `null` (it plays nothing and
/// has no clock), written once per process. Set it before any audio call, or pass it to a child.
pub fn alsa_null_conf() -> &'static Path {
    static CONF: OnceLock<PathBuf> = OnceLock::new();
    CONF.get_or_init(|| {
        let p =
            std::env::temp_dir().join(format!("hark-test-alsa-null-{}.conf", std::process::id()));
        std::fs::write(&p, "pcm.!default { type null }\n").expect("writing the ALSA null config");
        p
    })
}

/// Points this process's ALSA at [`alsa_null_conf`] (once; before any cpal / ALSA call).
pub fn use_alsa_null() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::env::set_var("ALSA_CONFIG_PATH", alsa_null_conf()));
}

/// A started engine on the tiny random model (`seed`), the real lexicons, and `output`.
#[cfg(feature = "engine")]
pub fn tiny_engine(seed: u64, output: hark_engine::Output) -> hark_engine::Engine {
    let mut cfg = hark_engine::EngineConfig::tiny(seed, lexicons());
    cfg.output = output;
    // (a test is a shell: it turns `HARK_GEMM` into the model's backend, as scripts/test-compute.sh sets it)
    if let Some(v) = std::env::var("HARK_GEMM").ok().filter(|v| !v.is_empty()) {
        cfg.compute.backend = v.parse().expect("HARK_GEMM");
    }
    hark_engine::Engine::start(cfg).expect("the tiny engine starts")
}
