//! Converts the real int8 ONNX export when `HARK_TEST_ONNX` points at `model.onnx`, or when
//! `$HARK_ASSETS/.downloads/kokoro-v1_0-int8.onnx` exists (a registry fetch leaves it there, as
//! CI's does before the tests); skipped otherwise. With `HARK_TEST_ORACLE` pointing at a
//! reference conversion (safetensors), every tensor is also compared bit for bit.

use std::path::PathBuf;

use safetensors::SafeTensors;

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn real_onnx_export_converts() {
    let from_assets = std::env::var_os("HARK_ASSETS")
        .map(|d| PathBuf::from(d).join(".downloads/kokoro-v1_0-int8.onnx"))
        .filter(|p| p.is_file());
    let Some(onnx) = std::env::var_os("HARK_TEST_ONNX")
        .map(PathBuf::from)
        .or(from_assets)
    else {
        eprintln!("HARK_TEST_ONNX not set: skipping the real-model conversion test");
        return;
    };
    let bytes = std::fs::read(&onnx).expect("read the ONNX export");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kokoro-v1_0.safetensors");
    let t0 = std::time::Instant::now();
    let report = hark_assets::onnx::convert_int8_onnx(&bytes, &out).unwrap();
    eprintln!("converted in {:.2?}: {report:?}", t0.elapsed());
    assert_eq!(report.tensors, hark_assets::TENSOR_COUNT);

    let data = std::fs::read(&out).unwrap();
    let st = SafeTensors::deserialize(&data).unwrap();
    assert_eq!(st.len(), hark_assets::TENSOR_COUNT);
    for (name, shape) in hark_assets::expected_tensors() {
        let t = st.tensor(name).unwrap();
        assert_eq!(t.dtype(), safetensors::Dtype::F32, "{name}");
        assert_eq!(t.shape(), &shape[..], "{name}");
        assert!(
            f32s(t.data()).iter().all(|v| v.is_finite()),
            "{name} has non-finite values"
        );
    }
    // A few statistics that a wrong mapping, order or dequantization would break.
    let stats = |name: &str| {
        let v = f32s(st.tensor(name).unwrap().data());
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        let rms = (v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        (mean, rms)
    };
    // LayerNorm gains sit near 1; biases near 0; embeddings/linear weights have a small rms.
    let (m, _) = stats("bert.embeddings.LayerNorm.weight");
    assert!((0.3..3.0).contains(&m), "LayerNorm gain mean {m}");
    let (_, r) = stats("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight");
    assert!((0.005..0.5).contains(&r), "query rms {r}");
    let (_, r) = stats("predictor.lstm.weight_ih_l0");
    assert!((0.005..1.0).contains(&r), "lstm rms {r}");

    if let Some(oracle) = std::env::var_os("HARK_TEST_ORACLE") {
        let odata = std::fs::read(oracle).unwrap();
        let ost = SafeTensors::deserialize(&odata).unwrap();
        assert_eq!(ost.len(), st.len());
        for (name, view) in ost.tensors() {
            let mine = st
                .tensor(&name)
                .unwrap_or_else(|_| panic!("{name} missing"));
            assert_eq!(mine.shape(), view.shape(), "{name}");
            assert!(mine.data() == view.data(), "{name} differs from the oracle");
        }
        eprintln!("all {} tensors bit-identical to the oracle", ost.len());
    }
}
