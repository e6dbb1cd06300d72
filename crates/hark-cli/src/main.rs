//! `hark`: headless access to the whole reader — synthesis, the front end, assets and benchmarks.
//!
//! Everything the tray app does goes through the same library crates; this binary is a thin shell.
//! Only payloads go to stdout (WAV with `--out -`, phonemes, JSON); logs and progress go to stderr.

mod bench;
mod bench_texts;
mod fetch;
mod latency;
mod phonemize;
mod play;
mod say;
mod serve;
mod util;
mod voices;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "hark",
    version,
    about = "Local Kokoro-82M text-to-speech reader"
)]
struct Cli {
    /// Asset directory (weights, voices, lexicons). Default: $HARK_ASSETS, else the user data dir.
    #[arg(long, global = true, env = "HARK_ASSETS", value_name = "DIR")]
    assets: Option<PathBuf>,
    /// More logging on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(flatten)]
    compute: ComputeArgs,
    #[command(subcommand)]
    cmd: Cmd,
}

/// Where the model's arithmetic runs (every subcommand that runs the model).
#[derive(clap::Args, Debug)]
struct ComputeArgs {
    /// Matrix-product engine: auto (the fastest here: Accelerate on macOS, else OpenBLAS when it
    /// loads and covers this CPU's vector unit, else the built-in kernels), gemm, openblas or
    /// accelerate.
    #[arg(long, global = true, env = "HARK_GEMM", value_name = "BACKEND")]
    gemm: Option<String>,
    /// Vector instructions the kernels may use: auto (the best this CPU has), avx512, avx2, neon or
    /// scalar. Lower levels run the code paths of older machines.
    #[arg(long, global = true, env = "HARK_CPU", value_name = "LEVEL")]
    cpu: Option<String>,
    /// Threads the model uses (default: one per core). `--threads 1` runs as a slower machine.
    #[arg(long, global = true, env = "HARK_THREADS", value_name = "N")]
    threads: Option<usize>,
    /// Long convolutions through the DFT: on (1, the default) or off (0), for comparisons.
    #[arg(
        long,
        global = true,
        env = "HARK_FFT_CONV",
        value_name = "0|1",
        hide = true
    )]
    fft_conv: Option<String>,
    /// 3-tap convolutions as Winograd F(4,3): on (1, the default) or off (0), for comparisons.
    #[arg(
        long,
        global = true,
        env = "HARK_WINOGRAD",
        value_name = "0|1",
        hide = true
    )]
    winograd: Option<String>,
}

impl ComputeArgs {
    /// The model's compute these choices make (checked against this machine when it loads).
    fn compute(&self) -> anyhow::Result<hark_kokoro::Compute> {
        if let Some(n) = self.threads {
            anyhow::ensure!(n >= 1, "--threads must be at least 1");
        }
        let level = match self
            .cpu
            .as_deref()
            .filter(|l| !l.eq_ignore_ascii_case("auto"))
        {
            Some(l) => Some(hark_kokoro::cpu::check(l.parse()?)?),
            None => None,
        };
        let on = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim() != "0");
        Ok(hark_kokoro::Compute {
            backend: self.gemm.as_deref().unwrap_or("auto").parse()?,
            level,
            threads: self.threads,
            conv: hark_kokoro::ConvAlgos {
                dft: on(&self.fft_conv),
                winograd: on(&self.winograd),
            },
        })
    }
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Speak text (or phonemes): play it, or write a WAV file with --out.
    Say(say::SayArgs),
    /// Read a text file aloud with live progress.
    Read(play::ReadArgs),
    /// Run the headless daemon: the warm engine plus the localhost bridge for the browser extension.
    Serve(serve::ServeArgs),
    /// Chrome native messaging host that hands the bridge token to hark's extension (the
    /// browser starts it; `hark serve` installs it). Speaks the protocol on stdin/stdout.
    NativeHost(serve::NativeHostArgs),
    /// Print the phoneme string the front end makes of a text.
    Phonemize(phonemize::PhonemizeArgs),
    /// List the installed voices.
    Voices(voices::VoicesArgs),
    /// Download and install the model, voices and lexicons (sha256-checked).
    Fetch(fetch::FetchArgs),
    /// Measure model load time, real-time factor and peak memory.
    Bench(bench::BenchArgs),
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn main() -> ExitCode {
    hark_kokoro::limit_heap_arenas();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let assets = cli.assets.as_deref();
    let compute = match cli.compute.compute() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hark: error: {}", error_chain(&e));
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.cmd {
        Cmd::Say(a) => say::run(assets, a, compute),
        Cmd::Read(a) => play::run_read(assets, a, compute),
        Cmd::Serve(a) => serve::run(assets, a, compute),
        Cmd::NativeHost(a) => return serve::native_host(a),
        Cmd::Phonemize(a) => phonemize::run(assets, a),
        Cmd::Voices(a) => voices::run(assets, a),
        Cmd::Fetch(a) => fetch::run(assets, a),
        Cmd::Bench(a) => bench::run(assets, a, compute),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<play::Interrupted>() => ExitCode::from(130),
        Err(e) => {
            eprintln!("hark: error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// `outer: inner: …`, leaving out a cause whose text the message already ends with (library errors
/// often print their source themselves and also expose it as `source()`).
fn error_chain(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if msg.ends_with(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "config.json: {}", self.0)
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn causes_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Wrapped(io)).context("reading the model config");
        assert_eq!(
            error_chain(&e),
            "reading the model config: config.json: no such file"
        );
    }
}
