//! Fuzzing the settings file: whatever `settings.json` holds (arbitrary bytes, arbitrary JSON,
//! settings-shaped objects with wrong types and values out of range), reading it never panics
//! and gives settings that pass `validate`, with every field that fell back named; those
//! settings save, and read back the same with nothing falling back. A valid field survives
//! its neighbours being wrong.
//!
//! A bounded campaign: `HARK_FUZZ_CASES` cases per property (default 256; a longer run sets
//! e.g. `HARK_FUZZ_CASES=20000`). The kept corpus: every file in `tests/fuzz-corpus/` is read on
//! each run, and proptest replays the inputs of past failures from
//! `tests/fuzz.proptest-regressions` first.

use hark_settings::{Settings, Store, SETTINGS_FILE};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

fn cases() -> u32 {
    std::env::var("HARK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Reads `bytes` as the settings file of a fresh dir and checks every property.
fn check_file(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(SETTINGS_FILE), bytes).unwrap();
    check_store(dir.path());
}

fn check_store(dir: &Path) {
    let store = Store::new(dir);
    let loaded = store.read();
    loaded
        .settings
        .validate()
        .unwrap_or_else(|e| panic!("read settings do not validate: {e}: {:?}", loaded.settings));
    if !loaded.fell_back.is_empty() {
        let notice = loaded
            .notice
            .as_deref()
            .expect("a notice names what fell back");
        for fb in &loaded.fell_back {
            assert!(notice.contains(&fb.field), "{notice} lacks {}", fb.field);
        }
    }
    // What was read saves, and reads back the same, with nothing falling back.
    store.save(&loaded.settings).expect("read settings save");
    let again = store.read();
    assert_eq!(again.settings, loaded.settings);
    assert!(again.fell_back.is_empty(), "{:?}", again.fell_back);
    assert!(again.notice.is_none(), "{:?}", again.notice);
    // `load` (which sets a corrupt file aside) agrees with `read`.
    assert_eq!(store.load().settings, loaded.settings);
}

/// Checks the field-by-field reader on `obj`: valid settings, and each field given a valid
/// value of the right type keeps it.
fn check_object(obj: &Map<String, Value>) {
    let (s, fell_back) = Settings::from_json_fields(obj);
    s.validate()
        .unwrap_or_else(|e| panic!("{e}: {s:?} from {obj:?}"));
    let d = Settings::default();
    if let Some(v) = obj.get("speed").and_then(Value::as_f64) {
        let f = v as f32;
        if f.is_finite() && (0.5..=2.0).contains(&f) {
            assert_eq!(
                s.speed, f,
                "a valid speed was lost: {obj:?} ({fell_back:?})"
            );
        } else {
            assert_eq!(s.speed, d.speed);
            assert!(
                fell_back.iter().any(|f| f.field == "speed"),
                "{fell_back:?}"
            );
        }
    }
    if let Some(Value::String(v)) = obj.get("voice") {
        if !v.trim().is_empty() {
            assert_eq!(&s.voice, v);
        }
    }
    // Serialized and read again: the same settings, nothing falls back.
    let Value::Object(round) = serde_json::to_value(&s).unwrap() else {
        panic!("settings serialize to an object")
    };
    let (s2, fb2) = Settings::from_json_fields(&round);
    assert_eq!(s2, s);
    assert!(fb2.is_empty(), "{fb2:?}");
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        (-3.0f64..3.0).prop_map(|f| json!(f)),
        (0u32..70000).prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
        "[a-p]{30,34}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys: mostly the real ones, so the fields are reached.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "version", "voice", "speed", "volume", "hotkeys", "speak", "pause", "skip",
            "dictionary", "word", "say", "bridge", "enabled", "port", "allowed_extension_ids",
            "launch_at_login", "fast_start", "keep_audio_open",
        ])
        .prop_map(str::to_string),
        1 => ".{0,8}",
    ]
}

/// Settings-shaped objects: every field present or not, of the right type or not.
fn settings_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), any_json(), 0..14)
        .prop_map(|m| m.into_iter().collect::<Map<String, Value>>())
}

/// Bytes of a valid file with a few bytes changed, cut or inserted.
fn mutated_file() -> impl Strategy<Value = Vec<u8>> {
    let valid = serde_json::to_vec_pretty(&Settings::default()).unwrap();
    let n = valid.len();
    (
        prop::collection::vec((0..n, any::<u8>(), 0u8..3), 1..6),
        0..=n,
    )
        .prop_map(move |(edits, cut)| {
            let mut b = valid.clone();
            for (at, byte, how) in edits {
                let at = at.min(b.len().saturating_sub(1));
                match how {
                    0 if !b.is_empty() => b[at] = byte,
                    1 => b.insert(at, byte),
                    _ if !b.is_empty() => {
                        b.remove(at);
                    }
                    _ => {}
                }
            }
            b.truncate(cut.max(b.len() / 2));
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn settings_shaped_objects(obj in settings_object()) {
        check_object(&obj);
    }

    #[test]
    fn any_json_file(v in any_json()) {
        check_file(&serde_json::to_vec(&v).unwrap());
        if let Value::Object(m) = &v {
            check_object(m);
        }
    }

    #[test]
    fn mutated_files(b in mutated_file()) {
        check_file(&b);
    }

    #[test]
    fn arbitrary_bytes(b in prop::collection::vec(any::<u8>(), 0..512)) {
        check_file(&b);
    }
}

/// The kept corpus.
#[test]
fn corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fuzz-corpus")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{} seeds", files.len());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        check_file(&bytes);
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&bytes) {
            check_object(&m);
        }
    }
}
