#!/usr/bin/env python3
"""Presses key chords on $DISPLAY through XTEST (as xdotool does) and prints, as JSON, the
CLOCK_MONOTONIC time in ns (time.monotonic_ns()) at which each chord's last key went down:
  python3 xkey.py ctrl+alt+s   →   {"t": 123456789, "synced": 123456999}
Without an argument it reads one chord per line on stdin and answers each with such a line, so
a caller can start it ahead of time and press without waiting for a process to start.
`t` is taken just before the key-press request is sent, `synced` once the X server has
processed it (XSync). `xkey.py --hold CHORD` grabs the chord instead (as another app's hotkey would),
prints {"held": CHORD} and keeps it until stdin closes. Modifier names: ctrl, alt, shift, super; other parts are keysym names
(s, F5, space, …). Uses libX11 and libXtst through ctypes (no Python packages needed).
"""
import ctypes
import ctypes.util
import json
import sys
import time

MODS = {"ctrl": "Control_L", "control": "Control_L", "alt": "Alt_L", "shift": "Shift_L",
        "super": "Super_L", "meta": "Super_L"}


def lib(name):
    for path in (f"lib{name}.so.6", ctypes.util.find_library(name)):
        if path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                pass
    sys.exit(f"xkey: lib{name} not found (Debian: libx11-6, libxtst6)")


def main():
    if len(sys.argv) > 2 and sys.argv[1] != "--hold":
        sys.exit("usage: xkey.py [CHORD] | --hold CHORD   (e.g. ctrl+alt+s; without one, chords are read from stdin)")
    x11, xtst = lib("X11"), lib("Xtst")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XStringToKeysym.restype = ctypes.c_ulong
    x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.restype = ctypes.c_ubyte
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]

    dpy = x11.XOpenDisplay(None)
    if not dpy:
        sys.exit("xkey: cannot open the X display (is DISPLAY set?)")

    def press(chord):
        codes = []
        for part in chord.split("+"):
            name = MODS.get(part.lower(), part)
            sym = x11.XStringToKeysym(name.encode())
            code = x11.XKeysymToKeycode(dpy, sym) if sym else 0
            if not code:
                return {"error": f"no key for '{part}'"}
            codes.append(code)
        for c in codes[:-1]:
            xtst.XTestFakeKeyEvent(dpy, c, 1, 0)
        x11.XSync(dpy, 0)
        t = time.monotonic_ns()
        xtst.XTestFakeKeyEvent(dpy, codes[-1], 1, 0)
        x11.XSync(dpy, 0)
        synced = time.monotonic_ns()
        for c in reversed(codes):
            xtst.XTestFakeKeyEvent(dpy, c, 0, 0)
        x11.XSync(dpy, 0)
        return {"t": t, "synced": synced}

    if len(sys.argv) == 3 and sys.argv[1] == "--hold":
        # Grab the chord on the root window, as another app's global hotkey would, say so, and
        # keep it until stdin closes.
        x11.XDefaultRootWindow.restype = ctypes.c_ulong
        x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x11.XGrabKey.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_ulong,
                                 ctypes.c_int, ctypes.c_int, ctypes.c_int]
        mask = {"ctrl": 4, "control": 4, "alt": 8, "shift": 1, "super": 64, "meta": 64}
        *mods, key = sys.argv[2].split("+")
        code = x11.XKeysymToKeycode(dpy, x11.XStringToKeysym(key.encode()))
        if not code:
            sys.exit(f"xkey: no key for '{key}'")
        m = sum(mask[x.lower()] for x in mods)
        x11.XGrabKey(dpy, code, m, x11.XDefaultRootWindow(dpy), 0, 1, 1)
        x11.XSync(dpy, 0)
        print(json.dumps({"held": sys.argv[2]}), flush=True)
        sys.stdin.read()
        x11.XCloseDisplay(dpy)
        return

    chords = [sys.argv[1]] if len(sys.argv) == 2 else (line.strip() for line in sys.stdin)
    status = 0
    for chord in chords:
        if chord:
            out = press(chord)
            status = status or ("error" in out)
            print(json.dumps(out), flush=True)
    x11.XCloseDisplay(dpy)
    sys.exit(status)


if __name__ == "__main__":
    main()
