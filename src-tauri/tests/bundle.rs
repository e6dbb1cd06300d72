//! The macOS bundle's configuration, checked on every platform (no Mac runs here): what a
//! menu-bar app needs in `tauri.conf.json` and `Info.plist`, and tray icons that are real
//! templates. The code that uses them is type-checked for macOS by `scripts/check-macos.sh`.

use std::path::Path;

use hark_app::state::TrayState;
use hark_app::tray::icon_png;
use tauri::image::Image;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn conf() -> serde_json::Value {
    let text = std::fs::read_to_string(Path::new(DIR).join("tauri.conf.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn info_plist() -> plist::Dictionary {
    let name = conf()["bundle"]["macOS"]["infoPlist"]
        .as_str()
        .expect("bundle.macOS.infoPlist is set")
        .to_string();
    plist::Value::from_file(Path::new(DIR).join(name))
        .expect("Info.plist parses")
        .into_dictionary()
        .expect("Info.plist is a dictionary")
}

#[test]
fn the_bundle_identifier_is_the_stable_one_and_well_formed() {
    let id = conf()["identifier"].as_str().unwrap().to_string();
    assert_eq!(id, hark_app::BUNDLE_ID, "the identifier must never change");
    let parts: Vec<&str> = id.split('.').collect();
    assert!(parts.len() >= 3, "reverse-DNS: {id}");
    for p in &parts {
        assert!(
            !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "bundle identifiers allow A-Z a-z 0-9 - and dots: {id}"
        );
    }
    // A trailing ".app" clashes with the bundle extension on macOS.
    assert_ne!(parts.last(), Some(&"app"), "{id}");
}

#[test]
fn the_app_bundle_is_built_for_macos_11_and_up() {
    let c = conf();
    let targets = c["bundle"]["targets"].as_array().unwrap();
    assert!(targets.iter().any(|t| t == "app"), "{targets:?}");
    assert_eq!(c["bundle"]["macOS"]["minimumSystemVersion"], "11.0");
}

#[test]
fn a_menu_bar_app_has_no_dock_icon() {
    assert_eq!(
        info_plist().get("LSUIElement").and_then(|v| v.as_boolean()),
        Some(true)
    );
}

#[test]
fn usage_strings_match_the_permissions_the_code_uses() {
    let plist = info_plist();
    let ax = plist
        .get("NSAccessibilityUsageDescription")
        .and_then(|v| v.as_string())
        .expect("an Accessibility usage string");
    assert!(ax.len() > 40 && ax.ends_with('.'), "a sentence: {ax}");

    // Apple Events need their own usage string, and only when the app sends them.
    let mut sources = String::new();
    for dir in ["src", "src/selection"] {
        for e in std::fs::read_dir(Path::new(DIR).join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                sources += &std::fs::read_to_string(p).unwrap();
            }
        }
    }
    assert!(
        sources.contains("AXSelectedText"),
        "scanned the right sources"
    );
    let sends_apple_events = [
        "MacosLauncher::AppleScript",
        "osascript",
        "NSAppleScript",
        "AESend",
    ]
    .iter()
    .any(|s| sources.contains(s));
    assert_eq!(
        plist.contains_key("NSAppleEventsUsageDescription"),
        sends_apple_events,
        "NSAppleEventsUsageDescription iff the app sends Apple Events"
    );
}

const STATES: [TrayState; 4] = [
    TrayState::Idle,
    TrayState::Speaking,
    TrayState::Paused,
    TrayState::Loading,
];

#[test]
fn menu_bar_icons_are_templates_that_macos_can_tint() {
    let mut seen = Vec::new();
    for state in STATES {
        let img = Image::from_bytes(icon_png(state, true)).expect("a PNG");
        // The menu bar is 18 pt high; 36 px is sharp at @2x.
        assert_eq!((img.width(), img.height()), (36, 36), "{state:?}");
        let px: Vec<&[u8]> = img.rgba().chunks(4).collect();
        // A template is black and alpha only: macOS draws it in the menu bar's own colour.
        assert!(
            px.iter().all(|p| p[..3] == [0, 0, 0]),
            "{state:?}: not black"
        );
        let opaque = px.iter().filter(|p| p[3] == 255).count();
        let clear = px.iter().filter(|p| p[3] == 0).count();
        assert!(
            opaque > 36 * 2,
            "{state:?}: too faint ({opaque} opaque pixels)"
        );
        assert!(
            clear > px.len() / 3,
            "{state:?}: too solid ({clear} clear pixels)"
        );
        // Antialiased edges.
        assert!(px.iter().any(|p| p[3] > 0 && p[3] < 255), "{state:?}");
        let alpha: Vec<u8> = px.iter().map(|p| p[3]).collect();
        assert!(!seen.contains(&alpha), "{state:?} looks like another state");
        seen.push(alpha);
    }
}

#[test]
fn linux_tray_icons_are_the_coloured_ones() {
    for state in STATES {
        let img = Image::from_bytes(icon_png(state, false)).expect("a PNG");
        assert!(
            img.rgba()
                .chunks(4)
                .any(|p| p[3] > 0 && p[..3] != [0, 0, 0]),
            "{state:?}: a Linux tray icon should have colour"
        );
        assert_ne!(icon_png(state, false), icon_png(state, true));
    }
}
