//! Without a display the app must not crash: a clear message pointing at `hark serve`, non-zero exit.
//! Linux only: a Mac always has its window server, so there the app would really start.
#![cfg(target_os = "linux")]

use std::process::Command;

/// Runs the app with `DISPLAY` set to `display` (unset for `None`) and no Wayland display.
fn run_app(display: Option<&str>) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hark-app"));
    match display {
        Some(d) => cmd.env("DISPLAY", d),
        None => cmd.env_remove("DISPLAY"),
    };
    cmd.env_remove("WAYLAND_DISPLAY")
        .env("HARK_CONFIG_DIR", dir.path())
        .env("HARK_TINY_MODEL", "1")
        .output()
        .expect("run hark-app")
}

#[test]
fn no_display_exits_with_a_pointer_to_hark_serve() {
    let out = run_app(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("hark serve"), "stderr: {stderr}");
    assert!(stderr.contains("no display"), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn unreachable_display_exits_cleanly_too() {
    let out = run_app(Some(":987"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("hark serve"), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}
