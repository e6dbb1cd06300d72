//! Loading the canonical weights file: shapes, dtypes, truncation and corruption, through the
//! model constructor (a test module at the top of the crate, so it may use every module).

use std::path::Path;

use crate::error::{Error, Result};
use crate::nn::weights::*;
use crate::{Config, ForwardOptions, Kokoro, VoicePack};

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
    Kokoro::build(&mut rec, &cfg).unwrap();
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
    let loaded = Kokoro::load(&p, &Config::tiny()).unwrap();
    let random = Kokoro::tiny_random(7).unwrap();
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
    let e = Kokoro::load(&trunc, &cfg).unwrap_err();
    assert!(matches!(e, Error::WeightsFile { .. }), "{e}");
    assert!(e.to_string().contains("truncated.safetensors"), "{e}");

    // not a safetensors file at all
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"\xff\xff\xff\xff\xff\xff\xff\x7fnot a header").unwrap();
    let e = Kokoro::load(&junk, &cfg).unwrap_err();
    assert!(
        matches!(e, Error::WeightsFile { .. }) && e.to_string().contains("junk"),
        "{e}"
    );

    // missing file
    let e = Kokoro::load(&dir.path().join("nope.safetensors"), &cfg).unwrap_err();
    assert!(e.to_string().contains("nope.safetensors"), "{e}");

    // a tensor removed
    let victim = "decoder.generator.conv_post.weight";
    let removed: Vec<_> = tensors.iter().filter(|t| t.0 != victim).cloned().collect();
    let p = dir.path().join("removed.safetensors");
    write_file(&p, &removed, None);
    let e = Kokoro::load(&p, &cfg).unwrap_err();
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
    let msg = Kokoro::load(&p, &cfg).unwrap_err().to_string();
    assert!(
        msg.contains("shape.safetensors") && msg.contains(victim) && msg.contains("shape"),
        "{msg}"
    );

    // a tensor with the wrong dtype
    let victim = "bert_encoder.bias";
    let p = dir.path().join("dtype.safetensors");
    write_file(&p, &tensors, Some(victim));
    let msg = Kokoro::load(&p, &cfg).unwrap_err().to_string();
    assert!(
        msg.contains("dtype.safetensors") && msg.contains(victim) && msg.contains("F16"),
        "{msg}"
    );
}
