#!/usr/bin/env python3
"""nvrx.py - flightdeck side by side with NVIDIA's resiliency extension (ft_launcher).

The same trainer (scripts/demo/train.py: 2 ranks, gloo, CPU, a checkpoint every 2 steps, torch
from scripts/venv.sh) under three launchers, RUNS times each, taking turns:

  native     flightdeck run --nproc-per-node 2 -- python3 train.py ...
  torchrun   flightdeck run -- torchrun --nproc_per_node 2 ... train.py ...
  ft         ft_launcher --nproc-per-node 2 ... train.py --nvrx ... (its RankMonitorClient
             beats each step; --resume auto finds the newest checkpoint, as ft_launcher
             substitutes nothing)

flightdeck with --stall-timeout 2s --stack-wait 1s --backoff 0; ft_launcher with
--ft-rank-heartbeat-timeout 2 (--ft-initial-rank-heartbeat-timeout 60); both --max-restarts 3.

1. A crash: rank 1 exits 1 (os._exit) right after step 5 on the first launch. From its death
   (its beat-log line of step 5) to the first step of the relaunched job (the first beat-log
   line 0.3 s or more after it: a relaunch takes seconds, the first launch's last line is
   within milliseconds of the death).
2. A hang: rank 1 stops itself (SIGSTOP) at step 5. From its last beat to the first new step.
   flightdeck's detection alone (last beat -> its stall event) comes from its events log;
   ft_launcher keeps none.
3. Final parameters: every run's digest must equal an uninterrupted run's.
4. Steady state at about 100 beats/s per rank (--step-time 0.004, STEADY s): CPU seconds and
   peak RSS of the supervising stack, every process of the launcher's tree but the trainers
   (flightdeck; torchrun's agent; ft_launcher and its rank monitors), each read from /proc every
   0.2 s (a process's CPU at its last sample, its VmHWM; summed).
5. A slow teardown: the job sleeps 8 s after its last step (longer than either heartbeat
   timeout), once beating each step only and once saying the end (--mark-end: flightdeck's
   beat(total=...), the extension's shutdown_workload_monitoring()): exit status and launches.
6. An escaped daemon: rank 0 starts one (setsid, double fork) on the first launch; still
   running after the launcher exited, or not.

Timings are printed, never judged; a run that does not end as it should (exit 0 after one
restart, the digest) exits 1. Usage: nvrx.py FLIGHTDECK [RUNS] [STEADY]. QUICK=1: RUNS 1, the
crash only, flightdeck native and ft_launcher; a missing torch or ft_launcher is a skip
(exit 77, "skipped: ...").
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import recovery as rec  # noqa: E402  (the beat log, the events log, the table's statistics)

TRAIN = os.path.join(HERE, "..", "..", "scripts", "demo", "train.py")
VENV = os.environ.get("FD_VENV", "")
PY = os.path.join(VENV, "bin", "python3")
TORCHRUN = os.path.join(VENV, "bin", "torchrun")
FT = os.path.join(VENV, "bin", "ft_launcher")
AT = 5
STEPS = 6
QUICK = os.environ.get("QUICK") == "1"
KINDS = ("native", "torchrun", "ft")
NAMES = {"native": "flightdeck native", "torchrun": "flightdeck+torchrun", "ft": "ft_launcher"}
FD_FLAGS = ["--preflight", "none", "--backoff", "0", "--stall-timeout", "2s", "--stack-wait",
            "1s", "--max-restarts", "3"]
FT_FLAGS = ["--nnodes=1", "--nproc-per-node=2", "--standalone", "--max-restarts", "3",
            "--ft-initial-rank-heartbeat-timeout", "60", "--ft-rank-heartbeat-timeout", "2"]


def tree(root):
    """Every descendant of root (and root), from /proc's parent links."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                kids.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def is_trainer(pid):
    """A rank: python3 running train.py (torchrun's and ft_launcher's own command lines hold
    train.py too, as an argument; the rank monitors' do not hold it)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = [os.path.basename(a) for a in f.read().split(b"\0")[:3]]
    except OSError:
        return True  # gone: nothing to count
    return argv[0].startswith(b"python") and b"train.py" in argv[1:]


class Job:
    def __init__(self, fd, tmp, name, kind, train_args):
        self.dir = os.path.join(tmp, name)
        self.ck = os.path.join(self.dir, "ck")
        os.makedirs(self.ck)
        self.ev = os.path.join(self.dir, "ev.jsonl")
        self.beats = os.path.join(self.dir, "beats")
        self.sha = os.path.join(self.dir, "sha")
        self.name, self.kind = name, kind
        train = [TRAIN, "--ckpt-dir", self.ck, "--out", self.sha, "--beat-log", self.beats,
                 "--ckpt-every", "2"] + train_args
        if kind == "ft":
            self.argv = [FT] + FT_FLAGS + train + ["--resume", "auto", "--nvrx"]
            return
        argv = [fd, "run"] + FD_FLAGS + ["--events", self.ev, "--checkpoint-dir", self.ck]
        if kind == "native":
            argv += ["--nproc-per-node", "2", "--", PY]
        else:
            argv += ["--", TORCHRUN, "--nnodes=1", "--nproc_per_node=2", "--standalone", "-r",
                     "1", "-t", "1", "--log_dir", os.path.join(self.dir, "logs")]
        self.argv = argv + train + ["--resume", "{resume}"]

    def run(self, limit, sample=False):
        env = dict(os.environ, FLIGHTDECK_DEMO_TIMING="1")
        env.pop("FLIGHTDECK_HEARTBEAT", None)
        out = open(os.path.join(self.dir, "out"), "w")
        err = open(os.path.join(self.dir, "err"), "w")
        t0 = time.monotonic()
        p = subprocess.Popen(self.argv, stdout=out, stderr=err, env=env, start_new_session=True)
        seen = {}  # pid -> (cpu, hwm) at its last sample, for the supervising processes
        try:
            while p.poll() is None:
                if time.monotonic() - t0 > limit:
                    raise rec.Fail("%s: still running after %d s" % (self.name, limit))
                if sample:
                    for pid in tree(p.pid):
                        if not is_trainer(pid):
                            s = rec.proc_cpu_hwm(pid)
                            seen[pid] = s or seen.get(pid)
                time.sleep(0.2 if sample else 0.05)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        out.close()
        err.close()
        self.wall = time.monotonic() - t0
        self.rc = p.returncode
        self.cpu = sum(v[0] for v in seen.values() if v)
        self.rss = sum(v[1] for v in seen.values() if v)
        self.nproc = len(seen)
        with open(os.path.join(self.dir, "err")) as f:
            self.err = f.read()
        self.evs = rec.events(self.ev)
        self.launches = sum(1 for line in self.err.splitlines() if line.startswith("t up 0 "))
        return self

    def check(self, digest, launches):
        why = None
        if self.rc != 0:
            why = "exit %d" % self.rc
        elif self.launches != launches:
            why = "%d launches, not %d" % (self.launches, launches)
        elif digest is not None:
            try:
                with open(self.sha) as f:
                    if f.read().strip() != digest:
                        why = "final parameters differ from the uninterrupted run's"
            except OSError:
                why = "no digest written"
        if why:
            raise rec.Fail("%s: %s\n%s" % (self.name, why,
                                           "\n".join(self.err.splitlines()[-15:])))
        return self


def recovery(job, cause):
    """(failure -> first new step, failure -> flightdeck's event or None), in seconds."""
    bl = rec.beats(job.beats)
    if cause == "crash":
        last = [t for r, s, t in bl if r == 1 and s == AT][:1]
    else:
        last = [t for r, s, t in bl if r == 1 and s == AT - 1][:1]
    new = [t for _, _, t in bl if last and t > last[0] + 0.3]
    if not last or not new:
        raise rec.Fail("%s: the %s or the first new step is missing from the beat log"
                       % (job.name, cause))
    ev = rec.first(job.evs, cause, 0)
    return min(new) - last[0], (ev["time"] - last[0]) if ev else None


def versions():
    out = subprocess.run([PY, "-c", "import torch, importlib.metadata as m; print(torch.__version__,"
                          " m.version('nvidia-resiliency-ext'))"], capture_output=True, text=True)
    torch_v, nvrx_v = (out.stdout.split() + ["?", "?"])[:2]
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return torch_v, nvrx_v, "%s, %d cores" % (cpu, os.cpu_count() or 0)


def row(name, d, kinds, fmt=rec.stats):
    print("  %-40s" % name + "".join("  %-22s" % (fmt(d[k]) if k in d else "-") for k in kinds))


def main():
    fd = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1 if QUICK else 3
    steady = float(sys.argv[3]) if len(sys.argv) > 3 else 15
    for path, what in ((PY, "torch"), (FT, "ft_launcher")):
        if not os.access(path, os.X_OK):
            print("%snvrx.py: no %s at %s (scripts/install-deps.sh installs it)"
                  % ("skipped: " if QUICK else "", what, path))
            return 77 if QUICK else 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="flightdeck-nvrx.")
    base = ["--steps", str(STEPS), "--step-time", "0.02"]
    kinds = ("native", "ft") if QUICK else KINDS
    torch_v, nvrx_v, machine = versions()
    print("flightdeck side by side with NVIDIA's resiliency extension %s (ft_launcher), torch %s,"
          " %s; 2 ranks, gloo, CPU" % (nvrx_v, torch_v, machine))
    print("  flightdeck %s; ft_launcher %s" % (" ".join(FD_FLAGS), " ".join(FT_FLAGS)))
    try:
        ref = Job(fd, tmp, "ref", "native", base).run(90).check(None, 1)
        with open(ref.sha) as f:
            digest = f.read().strip()
        crash, crash_ev, stall, stall_ev = {}, {}, {}, {}
        for i in range(runs):
            for k in kinds:
                j = Job(fd, tmp, "crash-%s-%d" % (k, i), k,
                        base + ["--crash-at", str(AT), "--crash-rank", "1"])
                a, b = recovery(j.run(120).check(digest, 2), "crash")
                crash.setdefault(k, []).append(a)
                if b is not None:
                    crash_ev.setdefault(k, []).append(b)
        if not QUICK:
            for i in range(runs):
                for k in kinds:
                    j = Job(fd, tmp, "stall-%s-%d" % (k, i), k,
                            base + ["--stall-at", str(AT), "--stall-rank", "1"])
                    a, b = recovery(j.run(120).check(digest, 2), "stall")
                    stall.setdefault(k, []).append(a)
                    if b is not None:
                        stall_ev.setdefault(k, []).append(b)
        print("seconds, median (min-max) of %d runs; every run's final parameters equal the "
              "uninterrupted run's" % runs)
        print("  %-40s" % "" + "".join("  %-22s" % NAMES[k] for k in kinds))
        row("rank 1 dies -> crash noticed", crash_ev, kinds)
        row("rank 1 dies -> first new step", crash, kinds)
        if not QUICK:
            row("rank 1 hangs -> stall noticed", stall_ev, kinds)
            row("rank 1 hangs -> first new step", stall, kinds)
        sys.stdout.flush()
        if QUICK:
            return 0

        steps = int(steady * 100)
        cpu, rss, rate = {}, {}, {}
        for k in kinds:
            j = Job(fd, tmp, "steady-%s" % k, k, ["--steps", str(steps), "--ckpt-every",
                                                  str(steps + 1), "--step-time", "0.004"])
            j.run(steady * 3 + 90, sample=True).check(None, 1)
            bl = rec.beats(j.beats)
            t0 = min(t for _, _, t in bl)
            rate[k] = [len(bl) / 2 / (max(t for _, _, t in bl) - t0)]
            cpu[k] = [100 * j.cpu / j.wall]
            rss[k] = [j.rss / 1024]
        print("steady state, %d steps (--step-time 0.004), the supervising stack (all but the "
              "trainers):" % steps)
        row("beats/s per rank", rate, kinds, lambda v: "%.0f" % v[0])
        row("CPU, % of one core", cpu, kinds, lambda v: "%.2f%%" % v[0])
        row("peak RSS, summed", rss, kinds, lambda v: "%.1f MB" % v[0])
        sys.stdout.flush()

        end = {}
        for mark in (False, True):
            for k in kinds:
                j = Job(fd, tmp, "linger-%s-%d" % (k, mark), k,
                        base + ["--linger", "8"] + (["--mark-end"] if mark else []))
                j.run(180)
                end.setdefault(mark, {})[k] = [(j.rc, j.launches, j.wall)]
        print("a job that sleeps 8 s after its last step (heartbeat timeouts 2 s): exit status, "
              "launches, seconds")
        fmt = lambda v: "exit %d, %d launch%s, %.0f s" % (  # noqa: E731
            v[0][0], v[0][1], "" if v[0][1] == 1 else "es", v[0][2])
        row("beating each step only", end[False], kinds, fmt)
        row("the end said (total=; shutdown_...)", end[True], kinds, fmt)
        sys.stdout.flush()

        left = {}
        for k in kinds:
            pidfile = os.path.join(tmp, "daemon-%s.pid" % k)
            j = Job(fd, tmp, "daemon-%s" % k, k, base + ["--daemon", pidfile])
            j.run(120).check(digest, 1)
            alive = False
            try:
                with open(pidfile) as f:
                    pid = int(f.read())
            except (OSError, ValueError):
                raise rec.Fail("%s: the daemon wrote no pid to %s" % (j.name, pidfile))
            try:
                os.kill(pid, 0)
                alive = True
                os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
            left[k] = ["still running" if alive else "stopped with the job"]
        row("a daemon a rank started (setsid)", left, kinds, lambda v: v[0])
    except rec.Fail as e:
        print("nvrx.py: FAIL: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
