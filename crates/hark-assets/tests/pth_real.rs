//! Converts a real `kokoro-v1_0.pth` when `HARK_TEST_PTH` points at one. Hugging Face (its only
//! source) is unreachable from our machines, so the test is ignored by default:
//! `HARK_TEST_PTH=kokoro-v1_0.pth cargo test -p hark-assets --test pth_real -- --ignored`.
//! With `HARK_TEST_PTH_REFERENCE` pointing at canonical safetensors of the same weights, every
//! tensor is compared (weight-norm folding may differ from the reference by float rounding).

use std::path::PathBuf;

use safetensors::SafeTensors;

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
#[ignore = "needs HARK_TEST_PTH: a real kokoro-v1_0.pth, which only Hugging Face serves"]
fn real_checkpoint_converts() {
    let pth = std::env::var_os("HARK_TEST_PTH")
        .map(PathBuf::from)
        .expect("set HARK_TEST_PTH to a kokoro-v1_0.pth");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.safetensors");
    let t0 = std::time::Instant::now();
    let rep = hark_assets::pth::convert_checkpoint(&pth, &out).unwrap();
    eprintln!("converted in {:.2?}: {rep:?}", t0.elapsed());
    assert_eq!(rep.tensors, hark_assets::TENSOR_COUNT);
    let data = std::fs::read(&out).unwrap();
    let st = SafeTensors::deserialize(&data).unwrap();
    for (name, view) in st.tensors() {
        assert!(
            f32s(view.data()).iter().all(|v| v.is_finite()),
            "{name} has non-finite values"
        );
    }
    let Some(reference) = std::env::var_os("HARK_TEST_PTH_REFERENCE") else {
        return;
    };
    let rdata = std::fs::read(reference).unwrap();
    let rst = SafeTensors::deserialize(&rdata).unwrap();
    let mut worst = (0f32, String::new());
    for (name, view) in rst.tensors() {
        let mine = st
            .tensor(&name)
            .unwrap_or_else(|_| panic!("{name} missing"));
        assert_eq!(mine.shape(), view.shape(), "{name}");
        for (a, b) in f32s(mine.data()).iter().zip(f32s(view.data())) {
            let d = (a - b).abs() / b.abs().max(1e-3);
            if d > worst.0 {
                worst = (d, name.clone());
            }
        }
    }
    eprintln!("largest relative difference {:e} in {}", worst.0, worst.1);
    assert!(worst.0 < 1e-5, "{worst:?}");
}
