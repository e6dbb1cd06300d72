#!/usr/bin/env python3
"""Builds `pinyin.txt.gz`, hark's copy of pypinyin's reading data (MIT, see README.md here).

Usage: make_pinyin.py PYPINYIN_DIR > pinyin.txt.gz
PYPINYIN_DIR holds `pinyin_dict.json` and `phrases_dict.json` of pypinyin 0.55.0 (the `pypinyin/`
folder of its wheel, `pip download --no-deps pypinyin==0.55.0`). Python standard library only.

Only what misaki's legacy Mandarin path can reach is kept: the characters U+4E00..U+9FFF (it sends
nothing else to pypinyin) with their first reading, and the phrases made of such characters with the
first reading of each character. A reading is written in pypinyin's TONE3 form with
`neutral_tone_with_five`: letters (`v` for ü) and a tone digit 1-5.

Format (UTF-8, gzip with a zero timestamp so the output is reproducible): a first section of lines
`<char><reading>`, a blank line, then lines `<phrase><reading><reading>...`.
"""
import gzip
import json
import sys
import unicodedata
from pathlib import Path

# Tone marks (combining, after NFD) -> tone number.
TONES = {"\u0304": "1", "\u0301": "2", "\u030c": "3", "\u0300": "4"}


def tone3(reading: str) -> str:
    """`lǘ` -> `lv2`, `ń` -> `n2`, `de` -> `de5`."""
    tone = "5"
    letters = []
    for c in unicodedata.normalize("NFD", reading):
        if c in TONES:
            tone = TONES[c]
        elif c == "\u0308":  # the diaeresis of ü
            letters[-1] = "v"
        elif c == "\u0302":  # the circumflex of ê
            letters[-1] = "ê"
        else:
            letters.append(c)
    out = "".join(letters) + tone
    if not all("a" <= c <= "z" or c == "ê" for c in out[:-1]):
        raise ValueError(f"unexpected reading {reading!r}")
    return out


def is_cjk(c: str) -> bool:
    return 0x4E00 <= ord(c) <= 0x9FFF


def main() -> None:
    src = Path(sys.argv[1])
    chars = json.loads((src / "pinyin_dict.json").read_text("utf-8"))
    phrases = json.loads((src / "phrases_dict.json").read_text("utf-8"))
    lines = []
    for code in sorted(int(k) for k in chars):
        if 0x4E00 <= code <= 0x9FFF:
            lines.append(chr(code) + tone3(chars[str(code)].split(",")[0]))
    lines.append("")
    for phrase in sorted(phrases):
        if all(is_cjk(c) for c in phrase):
            lines.append(phrase + "".join(tone3(r[0]) for r in phrases[phrase]))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    sys.stdout.buffer.write(gzip.compress(data, compresslevel=9, mtime=0))


if __name__ == "__main__":
    main()
