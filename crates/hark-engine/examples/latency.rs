//! Print the latency report as JSON: `cargo run --release -p hark-engine --example latency -- [ASSET_DIR] [--tiny]`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(hark_testkit::assets_dir);
    let mut cfg = hark_engine::EngineConfig::from_assets(&dir);
    if args.iter().any(|a| a == "--tiny") {
        cfg = hark_engine::EngineConfig::tiny(1, dir.join("lexicons"));
    }
    let report = hark_engine::bench::latency(cfg)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
