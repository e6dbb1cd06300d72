#!/usr/bin/env python3
"""A stand-in sound card: reads raw PCM from a FIFO at real-time pace and reports, on stdout,
when sound starts after silence.

ALSA's `file` plugin (see first-press.mjs for the asound.conf) writes what the app plays into
the FIFO. This process is the card's clock: it shrinks the pipe to one page (--pipe-bytes) and
takes one chunk (--chunk-ms) at a time, each when the previous one has "played", so a writer
blocks as it would on a full device buffer. The null device under the file plugin has no clock
of its own; without this reader, the app's audio thread would spin.

Output: one JSON object per line, times in ns of CLOCK_MONOTONIC (time.monotonic_ns(), the
clock of Node's process.hrtime on Linux), so they compare with the key event's time:
  {"ev": "ready", "t": ..., "pipe_bytes": N}       FIFO created and sized
  {"ev": "open", "t": ...}                        first data from a (new) writer
  {"ev": "sound", "t": ..., "level": L}           first sample with |s| > --threshold (default:
                                                  any non-zero sample) after at least --gap-ms
                                                  of silence or after open; t is when that
                                                  sample plays: its chunk's start + its offset
  {"ev": "loud", "t": ..., "level": L}            the first sample of that sound above --loud
  {"ev": "silence", "t": ...}                     --gap-ms of silence after sound
  {"ev": "close", "t": ..., "bytes": N,           the writer closed the FIFO. Totals since start:
   "underruns": U, "fill_ms": F}                  U times the pipe was empty when a chunk was
                                                  due; F the mean audio waiting in the pipe
                                                  when a chunk was taken (the queue this card
                                                  adds to the ALSA buffer's)
The FIFO stays open here between writers (the app closes its device after idle), so the pipe
keeps its size. Stops on SIGTERM or when stdin closes.
"""
import argparse
import array
import fcntl
import json
import os
import select
import signal
import stat
import sys
import termios
import time

F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Python ≥ 3.10 has the name; the number is Linux's)


def emit(ev, **kw):
    sys.stdout.write(json.dumps({"ev": ev, **kw}) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fifo")
    ap.add_argument("--rate", type=int, default=48000)
    ap.add_argument("--channels", type=int, default=2)
    ap.add_argument("--pipe-bytes", type=int, default=4096)
    ap.add_argument("--chunk-ms", type=float, default=5.0)
    ap.add_argument("--threshold", type=int, default=0, help="|sample| above this is sound (S16)")
    ap.add_argument("--loud", type=int, default=328, help="|sample| above this is audible (S16; 328 = -40 dBFS)")
    ap.add_argument("--gap-ms", type=float, default=150.0, help="silence that separates sounds")
    a = ap.parse_args()

    frame = 2 * a.channels  # S16_LE
    byte_rate = a.rate * frame
    chunk = max(frame, int(byte_rate * a.chunk_ms / 1000) // frame * frame)
    chunk_ns = chunk * 1_000_000_000 // byte_rate
    gap_frames = int(a.rate * a.gap_ms / 1000)

    if os.path.exists(a.fifo):
        if not stat.S_ISFIFO(os.stat(a.fifo).st_mode):
            sys.exit(f"soundcard: {a.fifo} exists and is not a FIFO")
    else:
        os.mkfifo(a.fifo, 0o600)
    # `keep` holds the pipe (and its size) alive between writers; `fd` is the end we poll, and
    # is reopened after each writer leaves (a FIFO's read end reports hang-up until it's reopened).
    keep = os.open(a.fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fcntl.fcntl(keep, F_SETPIPE_SZ, a.pipe_bytes)
    except OSError as e:
        sys.exit(f"soundcard: F_SETPIPE_SZ {a.pipe_bytes}: {e}")
    pipe_bytes = fcntl.fcntl(keep, 1032)  # F_GETPIPE_SZ
    fd = os.open(a.fifo, os.O_RDONLY | os.O_NONBLOCK)

    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    emit("ready", t=time.monotonic_ns(), pipe_bytes=pipe_bytes, chunk_bytes=chunk, rate=a.rate,
         channels=a.channels)

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    poller.register(sys.stdin.fileno(), select.POLLIN)
    connected = False
    sounding = False  # inside a sound (not yet gap_ms of silence)
    loud_pending = False  # a sound began, not yet above --loud
    quiet = gap_frames  # frames of silence so far (starts "silent")
    total = 0
    underruns = 0  # times the pipe was empty when a chunk was due
    fill_sum = fill_n = 0  # bytes waiting in the pipe when a chunk is taken
    next_t = None  # when the next chunk is due (None: wait for data)
    buf = bytearray()

    while not stop:
        if next_t is not None:
            # Pace: the next chunk is taken when the previous one has played.
            delay = next_t - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
        else:
            # Nothing playing: wait for data, the writer leaving, or stdin closing.
            try:
                events = poller.poll(1000)
            except InterruptedError:
                continue
            if any(f == sys.stdin.fileno() and ev & (select.POLLHUP | select.POLLIN) for f, ev in events):
                if not os.read(sys.stdin.fileno(), 4096):
                    break
            if not any(f == fd for f, _ in events):
                continue
        try:
            fill = array.array("i", [0])
            fcntl.ioctl(fd, termios.FIONREAD, fill)
            if fill[0]:
                fill_sum += fill[0]
                fill_n += 1
            data = os.read(fd, chunk - len(buf))
        except BlockingIOError:
            data = None  # writer there, pipe empty
        now = time.monotonic_ns()
        if data == b"":
            # Every writer closed: the device was closed.
            if connected:
                emit("close", t=now, bytes=total, underruns=underruns,
                     fill_ms=round(fill_sum / max(fill_n, 1) / byte_rate * 1000, 1))
            connected = False
            sounding = False
            quiet = gap_frames
            next_t = None
            buf.clear()
            poller.unregister(fd)
            os.close(fd)
            fd = os.open(a.fifo, os.O_RDONLY | os.O_NONBLOCK)
            poller.register(fd, select.POLLIN)
            continue
        if data is None:
            # Underrun: the card stops and restarts when data comes (the clock restarts then).
            if next_t is not None and connected:
                underruns += 1
            next_t = None
            continue
        if not connected:
            connected = True
            emit("open", t=now)
        if next_t is None:
            next_t = now
        buf += data
        # This chunk plays from next_t on.
        start = next_t
        n = len(buf) // frame * frame
        samples = array.array("h", bytes(buf[:n]))
        del buf[:n]
        total += n
        if sys.byteorder != "little":
            samples.byteswap()
        frames = n // frame
        peak = max(max(samples, default=0), -min(samples, default=0))
        if peak <= a.threshold:
            quiet += frames
            if sounding and quiet >= gap_frames:
                sounding = False
                emit("silence", t=start + (frames - (quiet - gap_frames)) * 1_000_000_000 // a.rate)
        else:
            at = lambda i: start + (i // a.channels) * 1_000_000_000 // a.rate
            first = next(i for i, v in enumerate(samples) if abs(v) > a.threshold)
            if sounding and quiet + first // a.channels >= gap_frames:
                emit("silence", t=at(first) - (quiet + first // a.channels - gap_frames) * 1_000_000_000 // a.rate)
                sounding = False
            if not sounding:
                sounding = True
                loud_pending = True
                emit("sound", t=at(first), level=abs(samples[first]))
            if loud_pending and peak > a.loud:
                loud_pending = False
                i = next(i for i in range(first, len(samples)) if abs(samples[i]) > a.loud)
                emit("loud", t=at(i), level=abs(samples[i]))
            last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > a.threshold)
            quiet = frames - 1 - last // a.channels
        next_t = start + n * 1_000_000_000 // byte_rate
        if next_t < now - 50 * chunk_ns:
            next_t = now  # far behind (descheduled): resynchronise rather than burst

    os.close(fd)
    os.close(keep)


if __name__ == "__main__":
    main()
