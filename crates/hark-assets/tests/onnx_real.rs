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
    let from_assets = Some(hark_testkit::assets_dir().join(".downloads/kokoro-v1_0-int8.onnx"))
        .filter(|p| p.is_file());
    let Some(onnx) = std::env::var_os("HARK_TEST_ONNX")
        .map(PathBuf::from)
        .or(from_assets)
    else {
        hark_testkit::skip::<()>(
            "the ONNX export is missing (HARK_TEST_ONNX or $HARK_ASSETS/.downloads)",
        );
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
    // Statistics of a few tensors, as converted from this export by an independent (Python)
    // dequantizer. A wrong name mapping, transpose, gate order or zero point changes them.
    let values = |name: &str| -> Vec<f64> {
        f32s(st.tensor(name).unwrap().data())
            .into_iter()
            .map(f64::from)
            .collect()
    };
    let close = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() <= 1e-5 * want.abs().max(1.0),
            "{what}: {got} vs {want}"
        );
    };
    // LSTM: per gate block (PyTorch order i, f, g, o) sums and sums of squares
    for (name, sums, sqs) in [
        (
            "predictor.lstm.weight_ih_l0",
            [228.83, 65.4546, -58.6718, 205.52],
            [1740.0, 1529.58, 1209.23, 1765.97],
        ),
        (
            "predictor.lstm.bias_hh_l0_reverse",
            [-16.6146, -10.128, 1.14316, -20.7604],
            [2.42901, 1.99838, 0.95689, 3.78182],
        ),
    ] {
        let v = values(name);
        for (k, block) in v.chunks(v.len() / 4).enumerate() {
            let (s, q) = (
                block.iter().sum::<f64>(),
                block.iter().map(|x| x * x).sum::<f64>(),
            );
            assert!(
                (s - sums[k]).abs() <= 1e-4 * sums[k].abs().max(1.0),
                "{name} block {k} sum {s}"
            );
            assert!(
                (q - sqs[k]).abs() <= 1e-4 * sqs[k],
                "{name} block {k} sumsq {q}"
            );
        }
    }
    for (name, sum, sumsq, first, last) in [
        (
            "text_encoder.cnn.0.0.weight",
            -40.287379,
            197.0004,
            -0.016258958727121353,
            -0.012774896807968616,
        ),
        (
            "decoder.generator.resblocks.4.adain2.2.fc.weight",
            94.142609,
            329.1331,
            0.08214321732521057,
            -0.03125240281224251,
        ),
        (
            "bert.embeddings.word_embeddings.weight",
            1.4378765,
            84.07299,
            0.0,
            -0.1264066994190216,
        ),
        (
            "predictor.F0.0.conv1.weight",
            -509.49384,
            266.18329,
            -0.006572375539690256,
            -0.03286187723278999,
        ),
        (
            "decoder.generator.m_source.l_linear.weight",
            -1.4948329,
            0.5830022,
            -0.08154186606407166,
            -0.5477443337440491,
        ),
    ] {
        let v = values(name);
        close(v.iter().sum(), sum, &format!("{name} sum"));
        close(
            v.iter().map(|x| x * x).sum(),
            sumsq,
            &format!("{name} sum of squares"),
        );
        assert_eq!(v[0], first, "{name}[0]");
        assert_eq!(v[v.len() - 1], last, "{name}[-1]");
    }

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
