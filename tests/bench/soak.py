#!/usr/bin/env python3
"""soak.py - does `flightdeck run` leak across restarts? (1000 restarts: the numbers stay flat)

A job that beats once through `flightdeck beat` and then crashes (exit 3) is restarted N times
(--max-restarts N, --backoff 0, --no-progress-limit 0, no preflight). While it runs, the
supervisor itself is sampled from /proc: open file descriptors, VmRSS, and zombie children
(processes whose parent is flightdeck in state Z), each sample tagged with the restart count
read from the events log. The first and last samples are printed side by side; flat numbers are
the pass mark. Usage: soak.py FLIGHTDECK [RESTARTS]
QUICK=1 (ctest's bench-quick-soak): 50 restarts by default.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def zombies(pid):
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                rest = f.read().rsplit(")", 1)[1].split()
            if rest[0] == "Z" and int(rest[1]) == pid:
                n += 1
        except (OSError, IndexError, ValueError):
            pass
    return n


def restarts(ev):
    n = 0
    try:
        with open(ev) as f:
            for line in f:
                n += '"event":"restart"' in line
    except OSError:
        pass
    return n


def main():
    fd = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50 if os.environ.get("QUICK") == "1" else 1000
    tmp = tempfile.mkdtemp(prefix="flightdeck-soak.")
    ev = os.path.join(tmp, "ev.jsonl")
    job = "%s beat --step 1; exit 3" % fd
    try:
        t0 = time.monotonic()
        p = subprocess.Popen([fd, "run", "-q", "--preflight", "none", "--events", ev,
                              "--max-restarts", str(n), "--backoff", "0",
                              "--no-progress-limit", "0", "--", "sh", "-c", job],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = []
        while p.poll() is None:
            s = (restarts(ev), fds(p.pid), rss_kb(p.pid), zombies(p.pid))
            if s[1] is not None and s[2] is not None:
                samples.append(s)
            time.sleep(0.05)
        wall = time.monotonic() - t0
        exits = [json.loads(line) for line in open(ev) if '"event":"exit"' in line]
        ex = exits[-1] if exits else {}
        print("flightdeck run: %d restarts of a job that beats once and exits 3, %.1f s "
              "(exit %d, %d launches, %d beats)" % (restarts(ev), wall, p.returncode,
                                                     ex.get("launches", 0), ex.get("beats", 0)))
        if not samples:
            print("no samples taken")
            return 1
        # The first sample after one whole cycle: the socket, pipes and loop are all open.
        first = next((s for s in samples if s[0] >= 1), samples[0])
        late = [s for s in samples if s[0] >= 0.9 * n] or samples[-1:]
        last = late[-1]
        print("  %-22s %10s %10s %10s" % ("", "open fds", "VmRSS kB", "zombies"))
        print("  %-22s %10d %10d %10d" % ("at restart %d" % first[0], first[1], first[2],
                                           first[3]))
        print("  %-22s %10d %10d %10d" % ("at restart %d" % last[0], last[1], last[2], last[3]))
        print("  %-22s %10d %10d %10d" % ("max over %d samples" % len(samples),
                                           max(s[1] for s in samples),
                                           max(s[2] for s in samples),
                                           max(s[3] for s in samples)))
        print("  peak RSS (VmHWM) from the exit event: %s kB" % ex.get("peak_rss_kb"))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
