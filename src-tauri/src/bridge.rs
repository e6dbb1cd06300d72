//! The browser bridge (`hark-bridge`) of the running engine: started when the engine is ready
//! and restarted when its settings change.

use crate::platform::NATIVE_HOST_FLAG;
use crate::state::{lock, AppState, BridgeStatus};
use tauri::{AppHandle, Manager};

/// (Re)starts the bridge with the current settings, off the calling (UI) thread: stopping the
/// old bridge can take its shutdown grace (1 s) when clients hold connections. Restarts run
/// one at a time, in order; errors go to the status.
pub fn restart(app: &AppHandle) {
    static RESTARTS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("hark-bridge-restart".into())
        .spawn(move || {
            let _one_at_a_time = lock(&RESTARTS);
            restart_now(&app);
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot restart the bridge: {e}");
    }
}

fn restart_now(app: &AppHandle) {
    let st = app.state::<AppState>();
    let old = lock(&st.bridge).take();
    if let Some(old) = old {
        if let Err(e) = old.shutdown() {
            tracing::warn!("bridge shutdown: {e}");
        }
    }
    let Some(engine) = st.engine() else { return };
    let s = st.settings();
    let token = match hark_bridge::load_or_create_token(st.store.dir()) {
        Ok(t) => t,
        Err(e) => {
            st.update_status(app, |x| {
                x.bridge = BridgeStatus {
                    error: Some(format!("pairing token: {e}")),
                    ..Default::default()
                }
            });
            return;
        }
    };
    if !s.bridge.enabled {
        st.update_status(app, |x| {
            x.bridge = BridgeStatus {
                token: Some(token),
                ..Default::default()
            }
        });
        return;
    }
    let cfg = hark_bridge::BridgeConfig::from_settings(&s.bridge, token.clone());
    match hark_bridge::spawn(engine, cfg) {
        Ok(h) => {
            let addr = h.addr().to_string();
            tracing::info!("bridge listening on {addr}");
            // This binary with --native-host is the browsers' pairing helper.
            hark_bridge::native_host::install_current_exe(
                NATIVE_HOST_FLAG,
                st.store.dir(),
                h.addr().port(),
                &s.bridge.allowed_extension_ids,
            );
            st.log_event(serde_json::json!({"type": "bridge", "addr": addr}));
            *lock(&st.bridge) = Some(h);
            st.update_status(app, |x| {
                x.bridge = BridgeStatus {
                    running: true,
                    addr: Some(addr),
                    error: None,
                    token: Some(token),
                }
            });
        }
        Err(e) => {
            let msg = format!(
                "The browser bridge could not start on port {}: {e}",
                s.bridge.port
            );
            st.update_status(app, |x| {
                x.bridge = BridgeStatus {
                    error: Some(msg.clone()),
                    token: Some(token),
                    ..Default::default()
                }
            });
            st.notice(app, msg);
        }
    }
}
