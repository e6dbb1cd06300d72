//! Loading the canonical weights file: shapes, dtypes, truncation and corruption, through the
//! model constructor (a test module at the top of the crate, so it may use every module).

use std::path::Path;

use crate::error::{Error, Result};
use crate::nn::weights::*;
use crate::{Compute, Config, ForwardOptions, Kokoro, VoicePack};

/// The compute `HARK_GEMM` / `HARK_CPU` ask for (scripts/test-compute.sh runs this module at
/// each), as a shell would make it.
fn compute() -> Compute {
    let var = |k: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty() && v != "auto")
    };
    Compute {
        backend: var("HARK_GEMM").map_or(Default::default(), |v| v.parse().unwrap()),
        level: var("HARK_CPU").map(|v| v.parse().unwrap()),
        ..Default::default()
    }
}

/// Records every tensor a model build asks for (name, shape, values).
struct Recorder {
    inner: RandomSource,
    seen: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl WeightSource for Recorder {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Weight> {
        let v = self.inner.take(name, shape)?;
        self.seen
            .push((name.to_string(), shape.to_vec(), v.to_vec()));
        Ok(v)
    }
}

fn tiny_tensors() -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let cfg = Config::tiny();
    // Build through the model constructor so the list is exactly what `load` asks for.
    let mut rec = Recorder {
        inner: RandomSource::new(7),
        seen: vec![],
    };
    Kokoro::build(&mut rec, &cfg, &compute()).unwrap();
    rec.seen
}

fn write_file(path: &Path, tensors: &[(String, Vec<usize>, Vec<f32>)], f16_for: Option<&str>) {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>, bool)> = tensors
        .iter()
        .map(|(n, s, v)| {
            let half = Some(n.as_str()) == f16_for;
            let b = if half {
                v.iter().flat_map(|x| half_bits(*x).to_le_bytes()).collect()
            } else {
                v.iter().flat_map(|x| x.to_le_bytes()).collect()
            };
            (n.clone(), s.clone(), b, half)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = bytes
        .iter()
        .map(|(n, s, b, half)| {
            let dt = if *half {
                safetensors::Dtype::F16
            } else {
                safetensors::Dtype::F32
            };
            (
                n.clone(),
                safetensors::tensor::TensorView::new(dt, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::tensor::serialize_to_file(views, None, path).unwrap();
}

fn half_bits(x: f32) -> u16 {
    // crude f32 -> f16 (values here are small); only the dtype matters for the test
    let b = x.to_bits();
    (((b >> 16) & 0x8000)
        | ((((b >> 23) & 0xff).saturating_sub(112).min(31)) << 10)
        | ((b >> 13) & 0x3ff)) as u16
}

#[test]
fn file_round_trip_matches_the_random_model() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tiny.safetensors");
    write_file(&p, &tiny_tensors(), None);
    let loaded = Kokoro::load(&p, &Config::tiny(), &compute()).unwrap();
    let random = Kokoro::tiny_random(7, &compute()).unwrap();
    let v = VoicePack::random("v", 10, 32, 1);
    let o = ForwardOptions {
        deterministic: true,
        ..Default::default()
    };
    let a = loaded.synthesize("hɛlO", &v, 1.0, &o).unwrap();
    let b = random.synthesize("hɛlO", &v, 1.0, &o).unwrap();
    assert_eq!(a.audio, b.audio);
}

#[test]
fn corrupt_files_name_the_file_and_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let tensors = tiny_tensors();
    let cfg = Config::tiny();
    let good = dir.path().join("good.safetensors");
    write_file(&good, &tensors, None);

    // truncated
    let bytes = std::fs::read(&good).unwrap();
    let trunc = dir.path().join("truncated.safetensors");
    std::fs::write(&trunc, &bytes[..bytes.len() - 1000]).unwrap();
    let e = Kokoro::load(&trunc, &cfg, &compute()).unwrap_err();
    assert!(matches!(e, Error::WeightsFile { .. }), "{e}");
    assert!(e.to_string().contains("truncated.safetensors"), "{e}");

    // not a safetensors file at all
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"\xff\xff\xff\xff\xff\xff\xff\x7fnot a header").unwrap();
    let e = Kokoro::load(&junk, &cfg, &compute()).unwrap_err();
    assert!(
        matches!(e, Error::WeightsFile { .. }) && e.to_string().contains("junk"),
        "{e}"
    );

    // missing file
    let e = Kokoro::load(&dir.path().join("nope.safetensors"), &cfg, &compute()).unwrap_err();
    assert!(e.to_string().contains("nope.safetensors"), "{e}");

    // a tensor removed
    let victim = "decoder.generator.conv_post.weight";
    let removed: Vec<_> = tensors.iter().filter(|t| t.0 != victim).cloned().collect();
    let p = dir.path().join("removed.safetensors");
    write_file(&p, &removed, None);
    let e = Kokoro::load(&p, &cfg, &compute()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Tensor { .. }), "{msg}");
    assert!(
        msg.contains("removed.safetensors") && msg.contains(victim) && msg.contains("missing"),
        "{msg}"
    );

    // a tensor with the wrong shape
    let victim = "predictor.lstm.weight_hh_l0";
    let mut bad = tensors.clone();
    let t = bad.iter_mut().find(|t| t.0 == victim).unwrap();
    let n: usize = t.1.iter().product();
    t.1 = vec![n];
    let p = dir.path().join("shape.safetensors");
    write_file(&p, &bad, None);
    let msg = Kokoro::load(&p, &cfg, &compute()).unwrap_err().to_string();
    assert!(
        msg.contains("shape.safetensors") && msg.contains(victim) && msg.contains("shape"),
        "{msg}"
    );

    // a tensor with the wrong dtype
    let victim = "bert_encoder.bias";
    let p = dir.path().join("dtype.safetensors");
    write_file(&p, &tensors, Some(victim));
    let msg = Kokoro::load(&p, &cfg, &compute()).unwrap_err().to_string();
    assert!(
        msg.contains("dtype.safetensors") && msg.contains(victim) && msg.contains("F16"),
        "{msg}"
    );
}

/// Two models in one process keep their own compute: each one's threads (its parallel parts
/// included) run its CPU level and backend, its pool has its threads, and running both at once
/// gives each the audio it gives alone. A level the CPU lacks, or no threads, is an error.
#[test]
fn two_models_keep_their_own_compute() {
    use crate::kernels::{cpu, matmul};
    use crate::matmul::{Backend, BackendChoice};
    use rayon::prelude::*;

    let narrow = Compute {
        backend: BackendChoice::Use(Backend::Gemm),
        level: Some(cpu::CpuLevel::Scalar),
        threads: Some(1),
        conv: crate::ConvAlgos {
            dft: false,
            winograd: false,
        },
    };
    let a = Kokoro::tiny_random(7, &narrow).unwrap();
    let b = Kokoro::tiny_random(7, &Compute::default()).unwrap();
    assert_eq!(
        (a.cpu_level(), a.backend(), a.threads()),
        (cpu::CpuLevel::Scalar, Backend::Gemm, 1)
    );
    assert_eq!(b.cpu_level(), cpu::detected());
    assert_eq!(b.backend(), matmul::auto_backend(cpu::detected()));
    let seen = |m: &Kokoro| {
        m.run(|| {
            (0..64)
                .into_par_iter()
                .map(|_| (cpu::level(), matmul::backend(), crate::conv::algos()))
                .collect::<std::collections::HashSet<_>>()
        })
    };
    let want_a = (cpu::CpuLevel::Scalar, Backend::Gemm, narrow.conv);
    let want_b = (b.cpu_level(), b.backend(), crate::ConvAlgos::default());
    assert_eq!(seen(&a).into_iter().collect::<Vec<_>>(), vec![want_a]);
    assert_eq!(seen(&b).into_iter().collect::<Vec<_>>(), vec![want_b]);

    let v = VoicePack::random("v", 10, 32, 1);
    let o = ForwardOptions {
        deterministic: true,
        ..Default::default()
    };
    let alone = |m: &Kokoro| m.synthesize("hɛlO wɜɹld", &v, 1.0, &o).unwrap().audio;
    let (solo_a, solo_b) = (alone(&a), alone(&b));
    for _ in 0..3 {
        let (x, y) = std::thread::scope(|s| {
            let x = s.spawn(|| alone(&a));
            let y = s.spawn(|| alone(&b));
            (x.join().unwrap(), y.join().unwrap())
        });
        assert_eq!(x, solo_a);
        assert_eq!(y, solo_b);
    }

    let missing = if cfg!(target_arch = "aarch64") {
        cpu::CpuLevel::Avx2
    } else {
        cpu::CpuLevel::Neon
    };
    let e = Kokoro::tiny_random(
        7,
        &Compute {
            level: Some(missing),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::Compute(_)), "{e}");
    let e = Kokoro::tiny_random(
        7,
        &Compute {
            threads: Some(0),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("thread"), "{e}");
}
