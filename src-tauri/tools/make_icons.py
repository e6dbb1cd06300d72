#!/usr/bin/env python3
"""Draws hark's tray and bundle icons (RGBA PNGs) with nothing but the standard library.

Tray icons come in two sets: coloured discs for Linux trays (assets/tray-<state>.png), and
macOS menu-bar templates (assets/tray-<state>-template.png): black glyphs on transparency at
36 px (18 pt @2x), which macOS tints to follow light and dark menu bars.

Run from src-tauri/: python3 tools/make_icons.py
"""
import math
import struct
import zlib


def png(path, size, pixel):
    rows = bytearray()
    for y in range(size):
        rows.append(0)
        for x in range(size):
            rows.extend(pixel((x + 0.5) / size, (y + 0.5) / size))
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def icon(color, glyph):
    """A filled disc in `color` with a white glyph: 'wave', 'bars' (pause), 'dots' (loading)."""
    r, g, b = color
    def pixel(u, v):
        dx, dy = u - 0.5, v - 0.5
        d = math.hypot(dx, dy)
        if d > 0.47:
            return (0, 0, 0, 0)
        white = False
        if glyph == "wave":
            # three vertical bars of different heights, like a sound level meter
            for cx, h in ((0.33, 0.16), (0.5, 0.28), (0.67, 0.2)):
                if abs(u - cx) < 0.05 and abs(v - 0.5) < h:
                    white = True
        elif glyph == "bars":
            for cx in (0.4, 0.6):
                if abs(u - cx) < 0.06 and abs(v - 0.5) < 0.2:
                    white = True
        elif glyph == "dots":
            for cx in (0.3, 0.5, 0.7):
                if math.hypot(u - cx, v - 0.5) < 0.07:
                    white = True
        elif glyph == "h":
            if (abs(u - 0.36) < 0.06 or abs(u - 0.64) < 0.06) and abs(v - 0.5) < 0.24:
                white = True
            if abs(v - 0.5) < 0.05 and abs(u - 0.5) < 0.16:
                white = True
        return (255, 255, 255, 255) if white else (r, g, b, 255)
    return pixel


def template(glyph):
    """The shape of a template glyph: inside(u, v) for u, v in [0, 1]."""
    def inside(u, v):
        if glyph == "meter":  # idle: the hark mark, a three-bar sound meter
            return any(abs(u - cx) < 0.07 and abs(v - 0.5) < h
                       for cx, h in ((0.3, 0.16), (0.5, 0.34), (0.7, 0.24)))
        if glyph == "waves":  # speaking: a taller five-bar meter
            return any(abs(u - cx) < 0.05 and abs(v - 0.5) < h
                       for cx, h in ((0.14, 0.12), (0.32, 0.3), (0.5, 0.44), (0.68, 0.3), (0.86, 0.18)))
        if glyph == "pause":
            return any(abs(u - cx) < 0.08 and abs(v - 0.5) < 0.34 for cx in (0.34, 0.66))
        if glyph == "dots":  # loading
            return any(math.hypot(u - cx, v - 0.5) < 0.1 for cx in (0.2, 0.5, 0.8))
        raise ValueError(glyph)
    return inside


def png_coverage(path, size, inside, ss=4):
    """Writes a black RGBA PNG whose alpha is the glyph's coverage of each pixel."""
    def pixel(u, v):
        # (u, v) is the pixel centre; sample ss x ss points inside the pixel.
        n = 0
        for i in range(ss):
            for j in range(ss):
                du = ((i + 0.5) / ss - 0.5) / size
                dv = ((j + 0.5) / ss - 0.5) / size
                n += inside(u + du, v + dv)
        return (0, 0, 0, round(255 * n / (ss * ss)))
    png(path, size, pixel)


if __name__ == "__main__":
    states = {
        "idle": ((70, 90, 110), "wave"),
        "speaking": ((30, 140, 80), "wave"),
        "paused": ((200, 130, 20), "bars"),
        "loading": ((100, 100, 200), "dots"),
    }
    for name, (color, glyph) in states.items():
        png(f"assets/tray-{name}.png", 32, icon(color, glyph))
    for name, glyph in (("idle", "meter"), ("speaking", "waves"), ("paused", "pause"), ("loading", "dots")):
        png_coverage(f"assets/tray-{name}-template.png", 36, template(glyph))
    app = icon((40, 90, 160), "h")
    for name, size in (("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)):
        png(f"icons/{name}", size, app)
