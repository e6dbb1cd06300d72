#!/usr/bin/env python3
"""Writes misaki-espeak-1.51.jsonl: misaki 0.9.4's EspeakG2P readings of the g2p-<lang>.jsonl
lines (es fr-fr it pt-br hi) with the system's libespeak-ng (1.51 on Debian 12) instead of the
1.52 that espeakng-loader ships, so the tests can tell espeak-ng's version from our own
differences.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install phonemizer-fork==3.3.2 espeakng-loader==0.2.4
    /tmp/v/bin/pip install --no-deps misaki==0.9.4
    /tmp/v/bin/python misaki_espeak.py /usr/lib/x86_64-linux-gnu/libespeak-ng.so.1 \
        /usr/lib/x86_64-linux-gnu/espeak-ng-data > misaki-espeak-1.51.jsonl

With espeakng-loader's own library (no arguments) it reproduces g2p-<lang>.jsonl exactly.
"""
import json
import os
import sys

import espeakng_loader

if len(sys.argv) == 3:
    # misaki points phonemizer at espeakng-loader's files when imported
    espeakng_loader.get_library_path = lambda: sys.argv[1]
    espeakng_loader.get_data_path = lambda: sys.argv[2]

from misaki import espeak  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
for lang in ["es", "fr-fr", "it", "pt-br", "hi"]:
    g2p = espeak.EspeakG2P(language=lang)
    with open(os.path.join(here, f"g2p-{lang}.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            ps, _ = g2p(d["text"].strip())
            print(json.dumps({"lang": lang, "id": d["id"], "phonemes": ps}, ensure_ascii=False))
