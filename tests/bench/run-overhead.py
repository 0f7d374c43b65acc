#!/usr/bin/env python3
"""run-overhead.py - what supervising costs, side by side in one run.

For a child beating 1000 times a second for 60 s (tests/bench/beater.py): the CPU seconds and peak
RSS of `flightdeck run` and of torchrun's elastic agent supervising the same child, both read
the same way from /proc/PID/stat (the process's own utime+stime, not its children's) and
/proc/PID/status (VmHWM), sampled every 0.2 s until the process exits. Then the stall-detection
latency: a child beats, records the time of its last beat and hangs; latency is the `stall`
event's time minus that, minus --stall-timeout.

Targets: under 1% of a core, under 8 MB RSS, latency under 0.5 s.
Usage: run-overhead.py FLIGHTDECK [SECONDS] [RATE] [LATENCY_RUNS]
QUICK=1 (ctest's bench-quick-run-overhead): 2 s and 2 latency runs by default.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BEATER = os.path.join(HERE, "beater.py")
TICK = os.sysconf("SC_CLK_TCK")


def sample(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
        hwm = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        return cpu, hwm
    except (OSError, IndexError, ValueError):
        return None


def measure(argv, env=None):
    """Runs argv; samples that process (the supervisor itself, not its children) until exit."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    last = (0.0, 0)
    t0 = time.monotonic()
    while p.poll() is None:
        s = sample(p.pid)
        if s:
            last = s
        time.sleep(0.2)
    err = p.stderr.read().decode(errors="replace")
    return last, time.monotonic() - t0, p.returncode, err


def main():
    fd = sys.argv[1]
    quick = os.environ.get("QUICK") == "1"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2 if quick else 60
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 1000
    lat_runs = int(sys.argv[4]) if len(sys.argv) > 4 else 2 if quick else 10
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    tmp = tempfile.mkdtemp(prefix="flightdeck-bench.")
    rows = []
    try:
        ev = os.path.join(tmp, "ev.jsonl")
        (cpu, hwm), wall, rc, err = measure(
            [fd, "run", "--preflight", "none", "--events", ev, "--stall-timeout", "30",
             "--", py, BEATER, str(rate), str(seconds)])
        exit_ev = [json.loads(line) for line in open(ev) if '"exit"' in line][-1]
        rows.append(("flightdeck run", cpu, wall, hwm, rc))
        self_cpu, self_rss = exit_ev.get("cpu_s"), exit_ev.get("peak_rss_kb")
        nbeats = exit_ev.get("beats", 0)

        torchrun = shutil.which("torchrun") or "/usr/bin/torchrun"
        if os.path.exists(torchrun):
            env = dict(os.environ)
            env.pop("FLIGHTDECK_HEARTBEAT", None)
            (tcpu, thwm), twall, trc, terr = measure(
                [torchrun, "--nnodes=1", "--nproc_per_node=1", "--standalone", "-r", "1",
                 "-t", "1", "--log_dir", os.path.join(tmp, "logs"), "--no_python", py,
                 BEATER, str(rate), str(seconds)], env=env)  # /usr/bin/torchrun is the agent itself
            rows.append(("torchrun agent", tcpu, twall, thwm, trc))
        else:
            rows.append(("torchrun agent", None, 0, 0, "torchrun not installed"))

        print("supervising a child beating %.0f/s for %.0f s (flightdeck counted %d beats):"
              % (rate, seconds, nbeats))
        print("  %-16s %8s %12s %12s  %s" % ("", "CPU s", "% of a core", "peak RSS", "exit"))
        for name, c, w, h, r in rows:
            if c is None:
                print("  %-16s %s" % (name, r))
                continue
            print("  %-16s %8.2f %11.3f%% %9.1f MB  %s" % (name, c, 100 * c / w, h / 1024, r))
        print("  (flightdeck's own account in its exit event: %.3f CPU s, VmHWM %.1f MB)"
              % (self_cpu or 0, (self_rss or 0) / 1024))

        lats = []
        stall = 1.0
        for i in range(lat_runs):
            ev = os.path.join(tmp, "lat%d.jsonl" % i)
            last = os.path.join(tmp, "last%d" % i)
            subprocess.run([fd, "run", "--preflight", "none", "--events", ev, "--grace", "1",
                            "--max-restarts", "0", "--stall-timeout", str(stall), "-q", "--",
                            py, BEATER, str(rate), "0.3", last],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stalls = [json.loads(line) for line in open(ev) if '"stall"' in line]
            if stalls and os.path.exists(last):
                lats.append(stalls[0]["time"] - float(open(last).read()) - stall)
        if lats:
            print("stall-detection latency past --stall-timeout %g s (%d runs): median %.1f ms, "
                  "max %.1f ms" % (stall, len(lats), 1000 * statistics.median(lats),
                                   1000 * max(lats)))
        print("targets: under 1% of a core, under 8 MB RSS, latency under 0.5 s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
