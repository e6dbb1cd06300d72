// What the tray app's GUI tests and the first-press benchmark share: a private X session
// (Xvfb on a free display, a D-Bus session bus, trayer as the XEmbed tray), the app's event log
// (HARK_EVENT_LOG, JSON lines), polling, and the PRIMARY selection.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The app's event log as objects; a half-written last line is skipped. */
export function readEvents(logPath) {
  if (!fs.existsSync(logPath)) return [];
  return fs.readFileSync(logPath, "utf8").split("\n").filter(Boolean).flatMap((l) => {
    try { return [JSON.parse(l)]; } catch { return []; }
  });
}

/** Polls `pred` every `every` ms until it returns something truthy; `context()` explains a timeout. */
export async function waitFor(what, pred, ms = 30000, context = () => "", every = 100) {
  const t0 = Date.now();
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}${context()}`);
    await sleep(every);
  }
}

/** The last events of a log (words left out), for error messages. */
export function eventTail(logPath, n = 15) {
  const tail = readEvents(logPath).filter((e) => e.type !== "word").slice(-n);
  return `; last events:\n${tail.map((e) => JSON.stringify(e)).join("\n")}`;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

/**
 * Starts Xvfb, a session bus and trayer, with HOME and XDG_CONFIG_HOME inside `tmp`.
 * Returns { env, display, procs, start(cmd, args, name, childEnv = env) → child (output in
 * tmp/name.log), stop() }.
 */
export async function startSession(tmp, baseEnv = process.env) {
  const procs = [];
  let n = 90 + (process.pid % 50);
  while (fs.existsSync(`/tmp/.X11-unix/X${n}`) || fs.existsSync(`/tmp/.X${n}-lock`)) n++;
  const display = `:${n}`;
  const env = { ...baseEnv, DISPLAY: display, HOME: tmp, XDG_CONFIG_HOME: path.join(tmp, "xdg") };
  delete env.WAYLAND_DISPLAY;
  let dbusPid = 0;
  const session = {
    env,
    display,
    procs,
    start(cmd, args, name, childEnv = env) {
      const out = fs.openSync(path.join(tmp, `${name}.log`), "a");
      const p = spawn(cmd, args, { env: childEnv, stdio: ["ignore", out, out] });
      fs.closeSync(out);
      procs.push(p);
      return p;
    },
    /** SIGTERM to every process still running, newest first; waits until they have exited. */
    async stop() {
      const alive = procs.filter((p) => p.exitCode === null && p.signalCode === null);
      const gone = Promise.all(alive.map((p) => new Promise((r) => p.once("exit", r))));
      for (const p of [...alive].reverse()) { try { p.kill("SIGTERM"); } catch { /* gone */ } }
      if (dbusPid) { try { process.kill(dbusPid); } catch { /* gone */ } }
      await Promise.race([gone, sleep(10000)]); // a deadline: then SIGKILL
      for (const p of alive) { if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL"); }
    },
  };
  session.start("Xvfb", [display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"], "xvfb");
  await waitFor("Xvfb", () => fs.existsSync(`/tmp/.X11-unix/X${n}`), 10000);
  // A private session bus (single-instance and notifications use D-Bus).
  const dbus = execFileSync("dbus-launch", ["--sh-syntax"], { env, encoding: "utf8", timeout: 20000 });
  env.DBUS_SESSION_BUS_ADDRESS = /DBUS_SESSION_BUS_ADDRESS='([^']+)'/.exec(dbus)[1];
  dbusPid = Number(/DBUS_SESSION_BUS_PID=(\d+)/.exec(dbus)[1]);
  // An XEmbed tray for the icon to dock in.
  session.start("trayer", ["--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "200",
    "--height", "32", "--SetDockType", "false", "--transparent", "false"], "trayer");
  // Ready once it owns the XEmbed tray selection of screen 0 (where the app's icon docks).
  await waitFor("trayer to own the tray selection", () => selectionOwner(env, "_NET_SYSTEM_TRAY_S0") !== 0, 10000);
  return session;
}

/**
 * Whether no X client holds a pointer or keyboard grab on `env.DISPLAY` (a popup menu holds
 * both until it is really gone, which is after its window is unmapped): tries to grab both on
 * the root window and lets go at once.
 */
export function noGrabs(env) {
  const py = `import ctypes, sys
x = ctypes.CDLL("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
x.XOpenDisplay.argtypes = [ctypes.c_char_p]
x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x.XDefaultRootWindow.restype = ctypes.c_ulong
x.XGrabPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_uint, ctypes.c_int,
                           ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
x.XGrabKeyboard.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
x.XUngrabPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
x.XUngrabKeyboard.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
d = x.XOpenDisplay(None)
if not d:
    sys.exit("cannot open the display")
root = x.XDefaultRootWindow(d)
p = x.XGrabPointer(d, root, 0, 0, 1, 1, 0, 0, 0)  # GrabModeAsync, None, None, CurrentTime
k = x.XGrabKeyboard(d, root, 0, 1, 1, 0)
x.XUngrabPointer(d, 0)
x.XUngrabKeyboard(d, 0)
x.XSync(d, 0)
print(int(p == 0 and k == 0))  # GrabSuccess`;
  return execFileSync("python3", ["-c", py], { env, encoding: "utf8", timeout: 10000 }).trim() === "1";
}

/** The window owning X selection `name` on `env.DISPLAY` (0: none), by libX11 through ctypes. */
export function selectionOwner(env, name) {
  const py = `import ctypes, sys
x = ctypes.CDLL("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
x.XOpenDisplay.argtypes = [ctypes.c_char_p]
x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x.XInternAtom.restype = ctypes.c_ulong
x.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
x.XGetSelectionOwner.restype = ctypes.c_ulong
d = x.XOpenDisplay(None)
if not d:
    sys.exit("cannot open the display")
print(x.XGetSelectionOwner(d, x.XInternAtom(d, sys.argv[1].encode(), 0)))`;
  return Number(execFileSync("python3", ["-c", py, name], { env, encoding: "utf8", timeout: 10000 }).trim());
}

/** Sets the PRIMARY selection (xclip keeps serving it until something else takes it). */
export async function setPrimary(env, text) {
  const p = spawn("xclip", ["-selection", "primary", "-i"], { env, stdio: ["pipe", "ignore", "ignore"] });
  p.stdin.end(text);
  await new Promise((r) => p.on("close", r));
  // xclip exits (its copy forked into the background) before the X server has necessarily
  // processed its claim on PRIMARY: wait until PRIMARY reads back as the new text, or a fast
  // reader could still get the previous owner's.
  const read = () => {
    try { return execFileSync("xclip", ["-selection", "primary", "-o"], { env, encoding: "utf8", timeout: 5000 }); }
    catch { return null; }
  };
  await waitFor("PRIMARY to hold the new text", () => read() === text, 10000, () => "", 20);
}

/** The default asset dir (as scripts/test.sh), or $HARK_ASSETS. */
export function assetDir(home) {
  return process.env.HARK_ASSETS ||
    path.join(process.env.XDG_CACHE_HOME || path.join(home, ".cache"), "hark", "assets");
}
