//! Shared helpers of the integration tests: locating the reference cases and the weights.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hark_kokoro::{Compute, Config, Kokoro};

/// The reference cases (`tests/reference/` of this crate).
pub fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

/// Directory holding `kokoro-v1_0.safetensors`: `$HARK_ASSETS`, else the user data dir.
pub fn assets_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HARK_ASSETS") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    if cfg!(target_os = "macos") {
        return home.join("Library/Application Support/hark");
    }
    match std::env::var_os("XDG_DATA_HOME") {
        Some(x) if !x.is_empty() => PathBuf::from(x).join("hark"),
        _ => home.join(".local/share/hark"),
    }
}

/// The compute `HARK_GEMM` / `HARK_CPU` ask for (this test binary is a shell: the library reads
/// no environment). A backend or CPU level asked for but not available here fails the test when
/// the model loads, instead of quietly testing another one.
pub fn compute_from_env() -> Compute {
    let mut c = Compute::default();
    if let Some(v) = std::env::var("HARK_CPU").ok().filter(|v| !v.is_empty()) {
        if !v.eq_ignore_ascii_case("auto") {
            c.level = Some(v.parse().unwrap_or_else(|e| panic!("HARK_CPU={v}: {e}")));
        }
    }
    if let Some(v) = std::env::var("HARK_GEMM").ok().filter(|v| !v.is_empty()) {
        c.backend = v.parse().unwrap_or_else(|e| panic!("HARK_GEMM={v}: {e}"));
    }
    c
}

/// Logs what `m` runs on, for the test's log.
pub fn log_compute(m: &Kokoro) -> String {
    let what = format!(
        "{} ({}), {} loops, {} threads",
        m.backend(),
        m.backend_detail(),
        m.cpu_level(),
        m.threads()
    );
    eprintln!("compute: {what}");
    what
}

/// The tiny random model on the compute of [`compute_from_env`].
pub fn tiny_model(seed: u64) -> Kokoro {
    let m = Kokoro::tiny_random(seed, &compute_from_env()).expect("tiny model");
    log_compute(&m);
    m
}

/// The real model, or a panic telling the developer to fetch the weights (never a silent skip).
pub fn real_model() -> Kokoro {
    let dir = assets_dir();
    let weights = dir.join("kokoro-v1_0.safetensors");
    assert!(
        weights.is_file(),
        "Kokoro weights not found at {}: run `hark fetch` (or set HARK_ASSETS to the directory \
         holding kokoro-v1_0.safetensors) before running the parity tests",
        weights.display()
    );
    let cfg_path = dir.join("config.json");
    let cfg = if cfg_path.is_file() {
        Config::from_file(&cfg_path).expect("config.json")
    } else {
        Config::kokoro_v1()
    };
    let m = Kokoro::load(&weights, &cfg, &compute_from_env()).expect("loading the weights");
    log_compute(&m);
    m
}

/// One reference case.
pub struct Case {
    pub name: String,
    pub speed: f32,
    pub tensors: HashMap<String, (Vec<f32>, Vec<usize>)>,
    pub input_ids: Vec<u32>,
    pub pred_dur: Vec<u32>,
}

impl Case {
    pub fn f32(&self, name: &str) -> &(Vec<f32>, Vec<usize>) {
        self.tensors
            .get(name)
            .unwrap_or_else(|| panic!("{}: tensor {name} missing", self.name))
    }
}

pub fn load_cases() -> Vec<Case> {
    let dir = reference_dir();
    let mut cases = vec![];
    for i in 1..=14 {
        let name = format!("case-{i:02}");
        let path = dir.join(format!("{name}.safetensors"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).expect("header");
        let speed: f32 = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("speed"))
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0);
        let st = safetensors::SafeTensors::deserialize(&bytes).expect("case file");
        let mut tensors = HashMap::new();
        let mut input_ids = vec![];
        let mut pred_dur = vec![];
        for (k, v) in st.tensors() {
            let shape = v.shape().to_vec();
            match v.dtype() {
                safetensors::Dtype::F32 => {
                    let data = v
                        .data()
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                    tensors.insert(k.to_string(), (data, shape));
                }
                safetensors::Dtype::I64 => {
                    let data: Vec<u32> = v
                        .data()
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as u32)
                        .collect();
                    if k == "input_ids" {
                        input_ids = data;
                    } else if k == "pred_dur" {
                        pred_dur = data;
                    }
                }
                other => panic!("{name}: unexpected dtype {other:?} for {k}"),
            }
        }
        cases.push(Case {
            name,
            speed,
            tensors,
            input_ids,
            pred_dur,
        });
    }
    cases
}

/// (relative L2 error, max abs error, Pearson correlation) of `got` against `want`.
pub fn compare(got: &[f32], want: &[f32]) -> (f64, f64, f64) {
    assert_eq!(got.len(), want.len());
    let n = got.len() as f64;
    let (mut num, mut den, mut maxabs) = (0f64, 0f64, 0f64);
    for (a, b) in got.iter().zip(want) {
        let d = (*a - *b) as f64;
        num += d * d;
        den += (*b as f64) * (*b as f64);
        maxabs = maxabs.max(d.abs());
    }
    let ma = got.iter().map(|v| *v as f64).sum::<f64>() / n;
    let mb = want.iter().map(|v| *v as f64).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0f64, 0f64, 0f64);
    for (a, b) in got.iter().zip(want) {
        let (x, y) = (*a as f64 - ma, *b as f64 - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    let corr = if saa > 0.0 && sbb > 0.0 {
        sab / (saa * sbb).sqrt()
    } else {
        0.0
    };
    ((num / den.max(1e-30)).sqrt(), maxabs, corr)
}

/// Spectral convergence ‖|S(got)| − |S(want)|‖ / ‖|S(want)|‖ over 1024-point Hann frames
/// (hop 512, every other DFT bin): a waveform-phase-insensitive distance.
pub fn spectral_convergence(got: &[f32], want: &[f32]) -> f64 {
    const N: usize = 1024;
    const HOP: usize = 512;
    if want.len() < N {
        return compare(got, want).0;
    }
    let w: Vec<f64> = (0..N)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / N as f64).cos())
        .collect();
    let bins = 257; // DFT bins 0, 2, …, 512 (0 – 12 kHz)
    let step = 2;
    let (mut num, mut den) = (0f64, 0f64);
    let frames = (want.len() - N) / HOP + 1;
    let tw: Vec<(f64, f64)> = (0..N)
        .map(|j| {
            let a = std::f64::consts::TAU * j as f64 / N as f64;
            (a.cos(), a.sin())
        })
        .collect();
    for f in 0..frames {
        let xs = &got[f * HOP..f * HOP + N];
        let ys = &want[f * HOP..f * HOP + N];
        for b in 0..bins {
            let k = b * step;
            let (mut xr, mut xi, mut yr, mut yi) = (0f64, 0f64, 0f64, 0f64);
            for j in 0..N {
                let (c, s) = tw[(k * j) % N];
                let xv = xs[j] as f64 * w[j];
                let yv = ys[j] as f64 * w[j];
                xr += xv * c;
                xi -= xv * s;
                yr += yv * c;
                yi -= yv * s;
            }
            let (mx, my) = ((xr * xr + xi * xi).sqrt(), (yr * yr + yi * yi).sqrt());
            num += (mx - my) * (mx - my);
            den += my * my;
        }
    }
    (num / den.max(1e-30)).sqrt()
}
