#!/usr/bin/env python3
"""Intelligibility of hark's front ends, language by language (issues 25 and 26).

For the first N sentences of each language's misaki reference (`g2p-<lang>.jsonl`), the same voice speaks
  1. the text, through hark's own front end (`hark say TEXT`), and
  2. misaki's phonemes for it (`hark say --phonemes`),
then Whisper base (language forced) transcribes both, and the character error rate of each against the
text is averaged. hark's front end passes when its CER is within 2 points of misaki's.

Usage: scripts/eval-intelligibility.py [--langs es,fr-fr,...] [--n 20] [--hark target/release/hark]
                                      [--ref DIR] [--work DIR] [--json OUT]
Needs the ASR setup: `bash ../shared/asr/setup.sh` prints the Python to run this script with (it has
faster-whisper), and `transcribe.py` next to it. Env: HARK_ASR (dir of setup.sh / transcribe.py).
"""
import argparse
import json
import os
import subprocess
import sys

VOICES = {  # one voice per language: the first female voice misaki's examples use
    "es": ("ef_dora", "es"),
    "fr-fr": ("ff_siwis", "fr"),
    "it": ("if_sara", "it"),
    "pt-br": ("pf_dora", "pt"),
    "hi": ("hf_alpha", "hi"),
    "zh": ("zf_xiaobei", "zh"),
    "ja": ("jf_alpha", "ja"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--langs", default=",".join(VOICES))
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--hark", default="target/release/hark")
    ap.add_argument("--ref", default=os.path.join(os.path.dirname(__file__), "../../shared/reference/multilingual"))
    ap.add_argument("--work", default="/tmp/hark-intelligibility")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    asr = os.environ.get("HARK_ASR", os.path.join(os.path.dirname(__file__), "../../shared/asr"))
    sys.path.insert(0, asr)
    import transcribe  # noqa: E402  (cer, and the model loader below)
    from faster_whisper import WhisperModel

    home = os.environ.get("HARK_ASR_DIR", os.path.expanduser("~/.cache/hark-asr"))
    model = WhisperModel(os.path.join(home, "whisper-base"), device="cpu", compute_type="int8", cpu_threads=2)
    # Kokoro's own pipeline drops symbols outside the model's vocabulary (misaki leaves a few, such as ¿);
    # `hark say --phonemes` refuses them, so they are dropped here as the reference does.
    cfg = os.path.join(os.environ.get("HARK_ASSETS", os.path.expanduser("~/.cache/hark/assets")), "config.json")
    vocab = set(json.load(open(cfg, encoding="utf-8"))["vocab"])
    results = {}
    for lang in a.langs.split(","):
        voice, wlang = VOICES[lang]
        lines = [json.loads(l) for l in open(os.path.join(a.ref, f"g2p-{lang}.jsonl"), encoding="utf-8")][: a.n]
        d = os.path.join(a.work, lang)
        os.makedirs(d, exist_ok=True)
        scores = {"hark": [], "misaki": []}
        rows = []
        for ln in lines:
            row = {"id": ln["id"], "text": ln["text"]}
            for way, extra in (("hark", [ln["text"]]), ("misaki", ["--phonemes", "".join(c for c in ln["phonemes"] if c in vocab)])):
                wav = os.path.join(d, f"{ln['id']}-{way}.wav")
                cmd = [a.hark, "say", "--voice", voice, "--out", wav, *extra]
                r = None if os.path.exists(wav) else subprocess.run(
                    cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                if r is not None and r.returncode != 0:
                    sys.exit(f"{' '.join(cmd[:6])}…: exit {r.returncode}: {r.stderr[-500:]}")
                prompt = "以下是普通话的句子。" if wlang == "zh" else None
                segs, _ = model.transcribe(wav, language=wlang, beam_size=1, vad_filter=False, initial_prompt=prompt)
                hyp = " ".join(s.text.strip() for s in segs)
                c = transcribe.cer(ln["text"], hyp)
                scores[way].append(c)
                row[way] = {"asr": hyp, "cer": round(c, 4)}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)
        h = 100 * sum(scores["hark"]) / len(scores["hark"])
        m = 100 * sum(scores["misaki"]) / len(scores["misaki"])
        results[lang] = {"voice": voice, "n": len(lines), "cer_hark": round(h, 2), "cer_misaki": round(m, 2),
                         "diff_points": round(h - m, 2), "pass": h - m <= 2.0, "rows": rows}
        print(f"{lang:6} {voice:11} n={len(lines)}  CER hark {h:6.2f} %  misaki {m:6.2f} %  "
              f"diff {h - m:+.2f} points  {'ok' if h - m <= 2.0 else 'OVER 2 POINTS'}", flush=True)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=1)
    sys.exit(0 if all(r["pass"] for r in results.values()) else 1)


if __name__ == "__main__":
    main()
