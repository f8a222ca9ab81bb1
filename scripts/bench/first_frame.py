#!/usr/bin/env python3
"""Start-up to first frame of the rt-tui console, in a real pseudo-terminal.

first_frame.py --bin target/release/rt-tui --url URL --token T [--runs 5] [--size 120x40]

Measures, per run, from spawning `rt-tui` to (a) the first frame drawn (the header text
"ResourceTracker" on the terminal) and (b) the first frame showing the loaded fleet (the header's
"updated HH:MM:SS", drawn once the fleet list and summary arrived). Then presses q and waits for
exit. Prints JSON: {"runs":[...], "first_frame_ms_median":.., "loaded_frame_ms_median":..}.
"""
import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True)
p.add_argument("--url", required=True)
p.add_argument("--token", required=True)
p.add_argument("--runs", type=int, default=5)
p.add_argument("--size", default="120x40")
p.add_argument("--timeout", type=float, default=30.0)
a = p.parse_args()
cols, rows = (int(x) for x in a.size.split("x"))
ESC = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def one_run(home):
    env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8", HOME=home,
               XDG_CONFIG_HOME=os.path.join(home, ".config"),
               RT_SERVER_URL=a.url, RT_TOKEN=a.token)
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(a.bin, [a.bin], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    buf = b""
    first = loaded = None
    deadline = t0 + a.timeout
    while time.perf_counter() < deadline and loaded is None:
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        text = ESC.sub(b"", buf)
        now = time.perf_counter()
        if first is None and b"ResourceTracker" in text:
            first = (now - t0) * 1000
        if b"updated " in text:
            loaded = (now - t0) * 1000
    try:
        os.write(fd, b"q")
    except OSError:
        pass
    end = time.time() + 5
    while time.time() < end:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        try:
            select.select([fd], [], [], 0.05)
            os.read(fd, 65536)
        except OSError:
            time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    if loaded is None:
        tail = ESC.sub(b"", buf)[-400:]
        sys.exit(f"first_frame: no loaded frame within {a.timeout} s; screen tail: {tail!r}")
    return {"first_frame_ms": round(first or loaded, 1), "loaded_frame_ms": round(loaded, 1)}


with tempfile.TemporaryDirectory() as home:
    runs = [one_run(home) for _ in range(a.runs)]
print(json.dumps({
    "runs": runs,
    "first_frame_ms_median": statistics.median(r["first_frame_ms"] for r in runs),
    "loaded_frame_ms_median": statistics.median(r["loaded_frame_ms"] for r in runs),
    "loaded_frame_ms_max": max(r["loaded_frame_ms"] for r in runs),
}))
