#!/usr/bin/env python3
"""recovery.py - how fast a job is back after a rank dies, native ranks against torchrun.

The same trainer (scripts/demo/train.py: 2 ranks, gloo, checkpoints every 2 steps) is run
under `flightdeck run --nproc-per-node 2` (native: flightdeck starts the ranks) and under
`flightdeck run -- torchrun --nproc_per_node 2` (flightdeck over torchrun's agent), with
`--preflight none --backoff 0`, RUNS times each, the two kinds taking turns:

1. Recovery from a crash: rank 1 exits 1 (os._exit) right after beating step 5 on the first
   launch (--crash-at 5). From the crashing rank's beat of step 5 (its death, within
   microseconds) to the relaunched job's first new step (the first beat-log line after the
   `start` event with restart 1), broken down with the events log (`crash`, `restart`,
   `start`) and the times the trainer prints on stderr with FLIGHTDECK_DEMO_TIMING=1 (its
   first line run, `import torch` done, init_process_group done; each phase ends when the
   last rank gets there). The quick preflight and the GPU-wait helper are also timed alone.
2. Detection of a stall: rank 1 stops itself (SIGSTOP) at step 5 (--stall-at 5),
   --stall-timeout 2s; from its last beat to the `stall` event, then to the first new step.
   A stopped rank cannot dump its stack, so the stack wait runs to its end: --stack-wait 1s
   here (5 s by default) keeps the bench short.
3. Steady state at about 100 beats/s per rank (--step-time 0.004, 100 x STEADY steps, see
   STEADY_STEP_TIME): CPU seconds and peak RSS of the supervising stack. Native: flightdeck
   alone (its `exit` event's cpu_s and peak_rss_kb). Over torchrun: flightdeck (the same)
   plus torchrun's agent process, its own utime+stime and VmHWM read from /proc every 0.2 s
   while it runs (the agent's last moments, after its final sample, are not counted).

Every run's final parameters must equal an uninterrupted run's (the digest), every recovery
run must exit 0 after exactly one restart: otherwise the bench exits 1. Timings are printed,
never judged. Usage: recovery.py FLIGHTDECK [RUNS] [STEADY]

QUICK=1 (ctest's bench-quick-recovery): RUNS 1 and STEADY 1 s by default, the native kind only
(torchrun's agent would double the time), no uninterrupted run (the stall run's parameters must
equal the crash run's instead), and a missing torch is a skip: exit 77, "skipped: ...".
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "..", "..", "scripts", "demo", "train.py")
# scripts/venv.sh's environment (torch 2.x), which recovery.sh names in FD_VENV; torchrun's
# workers run its python3 too
VENV = os.environ.get("FD_VENV", "")
PY = os.path.join(VENV, "bin", "python3")
TORCHRUN = os.path.join(VENV, "bin", "torchrun")
TICK = os.sysconf("SC_CLK_TCK")
AT = 5  # rank 1 crashes or stalls here; checkpoints every 2 steps, so the job resumes from step 4
STEPS = 6
# A step of the demo trainer costs about 6 ms besides its sleep on the 2-core machine (the
# forward and backward pass, four gloo all_reduces between the two ranks): --step-time 0.01
# beats about 60 times a second, 0.004 about 95.
STEADY_STEP_TIME = 0.004
TIMING_RE = re.compile(r"^t (\w+) (\d+) (\d+) ([0-9.]+)$")
KINDS = (("native", True), ("torchrun", False))
QUICK = os.environ.get("QUICK") == "1"


class Fail(Exception):
    pass


def events(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


def first(evs, name, restart=None):
    for e in evs:
        if e["event"] == name and (restart is None or e["restart"] == restart):
            return e
    return None


def beats(path):
    """The beat log: (rank, step, time) in the order written."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                r, s, t = line.split()
                out.append((int(r), int(s), float(t)))
    except (OSError, ValueError):
        pass
    return out


def marks(err, restart):
    """When the last rank of launch `restart` printed each timing mark."""
    m = {}
    for line in err.splitlines():
        g = TIMING_RE.match(line.strip())
        if g and int(g.group(3)) == restart:
            m[g.group(1)] = max(m.get(g.group(1), 0.0), float(g.group(4)))
    return m


def proc_cpu_hwm(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK  # its own utime, stime
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return cpu, int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return None


def child_of(ppid, word):
    """The child of ppid whose command line holds word (torchrun's agent under flightdeck)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) != ppid:
                    continue
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if word.encode() in f.read():
                    return int(d)
        except (OSError, IndexError, ValueError):
            pass
    return None


class Job:
    """One `flightdeck run` of the trainer in its own directory."""

    def __init__(self, fd, tmp, name, native, fd_args, train_args):
        self.dir = os.path.join(tmp, name)
        os.makedirs(os.path.join(self.dir, "ck"))
        self.ev = os.path.join(self.dir, "ev.jsonl")
        self.beats = os.path.join(self.dir, "beats")
        self.sha = os.path.join(self.dir, "sha")
        self.name = name
        ck = os.path.join(self.dir, "ck")
        argv = [fd, "run", "--preflight", "none", "--backoff", "0", "--events", self.ev,
                "--checkpoint-dir", ck] + fd_args
        if native:
            argv += ["--nproc-per-node", "2", "--", PY]
        else:
            argv += ["--", TORCHRUN, "--nnodes=1", "--nproc_per_node=2", "--standalone", "-r", "1",
                     "-t", "1", "--log_dir", os.path.join(self.dir, "logs")]
        argv += [TRAIN, "--ckpt-dir", ck, "--out", self.sha, "--beat-log", self.beats,
                 "--resume", "{resume}"] + train_args
        self.argv = argv

    def run(self, limit, watch=None):
        """Runs it (killed past limit s); watch: a word naming a child of flightdeck to sample."""
        env = dict(os.environ, FLIGHTDECK_DEMO_TIMING="1")
        env.pop("FLIGHTDECK_HEARTBEAT", None)
        out = open(os.path.join(self.dir, "out"), "w")
        err = open(os.path.join(self.dir, "err"), "w")
        t0 = time.monotonic()
        p = subprocess.Popen(self.argv, stdout=out, stderr=err, env=env)
        agent, sample = None, None
        try:
            while p.poll() is None:
                if time.monotonic() - t0 > limit:
                    raise Fail("%s: still running after %d s" % (self.name, limit))
                if watch:
                    agent = agent or child_of(p.pid, watch)
                    s = proc_cpu_hwm(agent) if agent else None
                    sample = s or sample
                time.sleep(0.2 if watch else 0.05)
        finally:
            if p.poll() is None:  # past the limit, or the bench told to stop
                p.terminate()  # flightdeck stops its tree, then exits
                p.wait()
        out.close()
        err.close()
        self.wall = time.monotonic() - t0
        self.rc = p.returncode
        self.agent = sample
        with open(os.path.join(self.dir, "err")) as f:
            self.err = f.read()
        self.evs = events(self.ev)
        return self

    def check(self, ref, restarts):
        why = None
        ex = first(self.evs, "exit")
        if self.rc != 0:
            why = "exit %d" % self.rc
        elif not ex or ex["restart"] != restarts:
            why = "%s restart(s), not %d" % (ex and ex["restart"], restarts)
        elif restarts and not first(self.evs, "start", restarts):
            why = "no start event after the restart"
        elif ref is not None:
            try:
                with open(self.sha) as f:
                    if f.read().strip() != ref:
                        why = "final parameters differ from the uninterrupted run's"
            except OSError:
                why = "no digest written"
        if why:
            tail = "\n".join(self.err.splitlines()[-15:])
            raise Fail("%s: %s\n%s" % (self.name, why, tail))
        return self


def recovery(job, cause):
    """Phases (s) from the failure to the first new step, for a crash or a stall."""
    bl = beats(job.beats)
    fail = first(job.evs, cause, 0)
    restart = first(job.evs, "restart", 1)
    start = first(job.evs, "start", 1)
    kill = first(job.evs, "kill", 0)
    new = [t for _, _, t in bl if t > start["time"]]
    if cause == "crash":  # the crashing rank's beat of step AT, just before its os._exit
        last = [t for r, s, t in bl if r == 1 and s == AT][:1]
    else:  # the stopped rank's last beat
        last = [t for r, _, t in bl if r == 1 and fail and t < fail["time"]][-1:]
    if not fail or not restart or not new or not last or (cause == "stall" and not kill):
        raise Fail("%s: the %s, the restart or the new step is missing from the logs"
                   % (job.name, cause))
    m = marks(job.err, 1)
    if not all(k in m for k in ("up", "import_done", "pg_init_done")):
        raise Fail("%s: the relaunched trainer printed no timing marks" % job.name)
    t = {"fail": last[0], "event": fail["time"], "kill": kill["time"] if kill else None,
         "restart": restart["time"], "start": start["time"], "up": m["up"],
         "import": m["import_done"], "pg": m["pg_init_done"], "step": min(new)}
    # rank 0 listens for the store: a rank that reaches init_process_group first is refused
    # and retries (torch's TCPStore client; a second later in torch 1.13)
    imp = {int(g.group(2)): float(g.group(4)) for g in map(TIMING_RE.match, job.err.splitlines())
           if g and g.group(1) == "import_done" and int(g.group(3)) == 1}
    t["store_race"] = any(v < imp.get(0, 0) for r, v in imp.items() if r != 0)
    return t


def stats(xs):
    if not xs:
        return "-"
    return "%.3f (%.3f-%.3f)" % (statistics.median(xs), min(xs), max(xs))


def table(title, rows, cols):
    print(title)
    w = max(len(r[0]) for r in rows)
    print("  %-*s  %-22s  %-22s" % (w, "", cols[0], cols[1]))
    for name, a, b in rows:
        print("  %-*s  %-22s  %-22s" % (w, name, stats(a), stats(b)))


def timed(argv, n):
    ts = []
    for _ in range(n):
        t0 = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts.append(time.monotonic() - t0)
    return ts


def main():
    fd = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1 if QUICK else 5
    steady = float(sys.argv[3]) if len(sys.argv) > 3 else 1 if QUICK else 15
    have_torch = os.access(PY, os.X_OK) and subprocess.run(
        [PY, "-c", "import torch"], stderr=subprocess.DEVNULL).returncode == 0
    if QUICK and not have_torch:
        print("skipped: recovery.py needs %s with torch (scripts/install-deps.sh)" % PY)
        return 77
    if not (have_torch and (QUICK or os.access(TORCHRUN, os.X_OK))):
        print("recovery.py: needs %s with torch and %s (scripts/install-deps.sh)" % (PY, TORCHRUN))
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a running job is stopped first
    tmp = tempfile.mkdtemp(prefix="flightdeck-recovery.")
    base = ["--steps", str(STEPS), "--ckpt-every", "2", "--step-time", "0.02"]
    kinds = KINDS[:1] if QUICK else KINDS
    try:
        digest = None
        if not QUICK:
            ref = Job(fd, tmp, "ref", True, [], base).run(60).check(None, 0)
            with open(ref.sha) as f:
                digest = f.read().strip()

        crash = {k: [] for k, _ in KINDS}  # a kind not run shows "-"
        stall = {k: [] for k, _ in KINDS}
        for i in range(runs):
            for k, native in kinds:
                j = Job(fd, tmp, "crash-%s-%d" % (k, i), native, [],
                        base + ["--crash-at", str(AT), "--crash-rank", "1"])
                crash[k].append(recovery(j.run(90).check(digest, 1), "crash"))
                if digest is None:  # QUICK: the stall run must end where the crash run did
                    with open(j.sha) as f:
                        digest = f.read().strip()
        for i in range(runs):
            for k, native in kinds:
                j = Job(fd, tmp, "stall-%s-%d" % (k, i), native,
                        ["--stall-timeout", "2s", "--stack-wait", "1s"],
                        base + ["--stall-at", str(AT), "--stall-rank", "1"])
                stall[k].append(recovery(j.run(90).check(digest, 1), "stall"))
        gpu_wait = timed([fd, "gpu-wait", "--timeout", "60000ms"], runs)
        preflight = timed([fd, "check", "--level", "quick", "-q"], runs)

        def col(d, k, a, b):
            return [x[b] - x[a] for x in d[k]]

        cols = ("native", "over torchrun")
        table("recovery from a crash of rank 1 at step %d, 2 ranks, --preflight none --backoff 0,"
              " %d runs each, seconds: median (min-max)" % (AT, runs), [
                  ("rank dies -> crash event (detection)",) +
                  tuple(col(crash, k, "fail", "event") for k, _ in KINDS),
                  ("crash event -> tree gone (restart event)",) +
                  tuple(col(crash, k, "event", "restart") for k, _ in KINDS),
                  ("restart -> launch (backoff 0, GPU wait)",) +
                  tuple(col(crash, k, "restart", "start") for k, _ in KINDS),
                  ("launch -> trainer's first line",) +
                  tuple(col(crash, k, "start", "up") for k, _ in KINDS),
                  ("  -> import torch done",) +
                  tuple(col(crash, k, "up", "import") for k, _ in KINDS),
                  ("  -> process group initialised",) +
                  tuple(col(crash, k, "import", "pg") for k, _ in KINDS),
                  ("  -> first new step",) +
                  tuple(col(crash, k, "pg", "step") for k, _ in KINDS),
                  ("rank dies -> first new step (recovery)",) +
                  tuple(col(crash, k, "fail", "step") for k, _ in KINDS),
              ], cols)
        for k, name in zip(("native", "torchrun"), cols):
            if not crash[k]:
                continue
            race = [x["pg"] - x["import"] for x in crash[k] + stall[k] if x["store_race"]]
            calm = [x["pg"] - x["import"] for x in crash[k] + stall[k] if not x["store_race"]]
            print("  %s: rank 1 was through import torch before rank 0 in %d of %d relaunches"
                  " (crash and stall runs); process group initialised in %s s then, %s s"
                  " otherwise" % (name, len(race), 2 * runs, stats(race), stats(calm)))
        print("  alone, %d runs: GPU-wait helper %s s, quick preflight %s s; the default "
              "--backoff adds 10 s to a first restart" % (runs, stats(gpu_wait), stats(preflight)))
        print()
        table("a stall of rank 1 at step %d (SIGSTOP), --stall-timeout 2s, %d runs each, "
              "seconds: median (min-max)" % (AT, runs), [
                  ("last beat -> stall event (detection)",) +
                  tuple(col(stall, k, "fail", "event") for k, _ in KINDS),
                  ("stall event -> SIGTERM (stacks, --stack-wait 1s)",) +
                  tuple(col(stall, k, "event", "kill") for k, _ in KINDS),
                  ("SIGTERM -> tree gone (restart event)",) +
                  tuple(col(stall, k, "kill", "restart") for k, _ in KINDS),
                  ("restart -> first new step",) +
                  tuple(col(stall, k, "restart", "step") for k, _ in KINDS),
                  ("stall event -> first new step",) +
                  tuple(col(stall, k, "event", "step") for k, _ in KINDS),
              ], cols)
        print("  rank 1 is stopped (state T): it cannot answer for its stacks, and the stop does"
              " not wait for it")
        print()

        steps = int(steady * 100)
        args = ["--steps", str(steps), "--ckpt-every", str(steps + 1), "--step-time",
                str(STEADY_STEP_TIME)]
        rows = []
        for k, native in kinds:
            j = Job(fd, tmp, "steady-%s" % k, native, ["--max-restarts", "0"], args)
            j.run(steady * 3 + 60, watch=None if native else "torchrun").check(None, 0)
            ex = first(j.evs, "exit")
            bl = beats(j.beats)
            t0 = min(t for _, _, t in bl)
            rate = len(bl) / 2 / (max(t for _, _, t in bl) - t0)
            rows.append((k, j.wall, rate, ex["cpu_s"], ex["peak_rss_kb"], j.agent))
        print("steady state: 2 ranks beating %d times each (--step-time %g), CPU s and peak "
              "RSS of the supervising stack" % (steps, STEADY_STEP_TIME))
        print("  %-28s %8s %7s %12s %10s" % ("", "CPU s", "% core", "peak RSS", "beats/s"))
        for k, wall, rate, cpu, rss, agent in rows:
            if k == "native":
                print("  %-28s %8.3f %6.2f%% %9.1f MB %10.1f" % (
                    "native: flightdeck", cpu, 100 * cpu / wall, rss / 1024, rate))
                continue
            print("  %-28s %8.3f %6.2f%% %9.1f MB %10.1f" % (
                "over torchrun: flightdeck", cpu, 100 * cpu / wall, rss / 1024, rate))
            if not agent:
                raise Fail("torchrun's agent was never sampled")
            print("  %-28s %8.3f %6.2f%% %9.1f MB" % (
                "  + torchrun agent", agent[0], 100 * agent[0] / wall, agent[1] / 1024))
            tot = cpu + agent[0]
            print("  %-28s %8.3f %6.2f%% %9.1f MB" % (
                "  = stack", tot, 100 * tot / wall, (rss + agent[1]) / 1024))
    except Fail as e:
        print("recovery.py: FAIL: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
