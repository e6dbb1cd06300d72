//! Linux: a second launch hands its arguments to the running instance and exits *before* any
//! window-system code starts.
//!
//! `tauri-plugin-single-instance` does the hand-over from inside `Builder::build`, then calls
//! `std::process::exit(0)`. By then tao has created the event loop and started its X11
//! device-event thread (`tao::platform_impl::platform::device::spawn`, detached, never joined),
//! which opens its own display and selects XInput2 events. When `exit` runs the shared libraries'
//! finalizers while that thread is still in `XISelectEvents`, it locks libXext's display-list
//! mutex after the finalizer freed it: SIGSEGV (core dump: the main thread in
//! `__cxa_finalize` → `std::ios_base::Init::~Init`, the tao thread in
//! `XextFindDisplay` → `pthread_mutex_lock(NULL)`); 1 of 30 second launches under load.
//!
//! So the app asks the session bus first, with no window-system thread alive, and only falls back
//! to the plugin when no instance owns the name (the plugin then takes it, as before; the rare
//! race with an instance starting at the same moment stays the plugin's). The name, object path
//! and method are the plugin's (2.5, without its `semver` feature): see its `linux.rs`.

use zbus::blocking::{fdo::DBusProxy, Connection};
use zbus::names::BusName;

/// The plugin's D-Bus name and object path for `identifier`.
fn names(identifier: &str) -> (String, String) {
    let name = format!("{identifier}.SingleInstance");
    let path = format!("/{}", name.replace('.', "/").replace('-', "_"));
    (name, path)
}

/// If an instance of the app is running on this session bus, gives it this process's arguments
/// and working directory (it opens what they ask for) and returns `true`: the caller exits.
/// `false` when there is no session bus, no running instance, or the call failed (the plugin
/// then decides).
pub fn to_running_instance(identifier: &str) -> bool {
    let (name, path) = names(identifier);
    let Ok(conn) = Connection::session() else {
        return false;
    };
    let owned = BusName::try_from(name.as_str())
        .ok()
        .and_then(|bus| DBusProxy::new(&conn).ok()?.name_has_owner(bus).ok())
        .unwrap_or(false);
    if !owned {
        return false;
    }
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cwd = std::env::current_dir()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    match conn.call_method(
        Some(name.as_str()),
        path.as_str(),
        Some("org.SingleInstance.DBus"),
        "ExecuteCallback",
        &(argv, cwd.as_str()),
    ) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!("handing over to the running instance failed: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn name_and_path_are_the_plugins() {
        assert_eq!(
            names("dev.hark.reader"),
            (
                "dev.hark.reader.SingleInstance".to_string(),
                "/dev/hark/reader/SingleInstance".to_string()
            )
        );
        assert_eq!(names("a-b.c").1, "/a_b/c/SingleInstance");
    }
}
