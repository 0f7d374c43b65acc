#!/usr/bin/env python3
"""spares.py - what a hot spare buys when a node is lost, and what it costs while idle.

Agents of one node group on loopback (`flightdeck run`, --peer-interval 0.2s, --preflight none,
--backoff 0, --grace 1), each running a small shell trainer that beats through `flightdeck beat`
every 0.05 s and saves a checkpoint every 10 steps; RUNS times each:

1. With a spare (--nnodes 2:3): once both training slots beat past step 20, node 1's agent and
   trainer are SIGKILLed (a node that dies). From the kill to the first step after it on every
   training slot (slot 1 now on node 2, the spare), read from the trainers' own log: the time
   the job is back to training, nothing of a scheduler in it. Split by node 0's events log: the
   loss noticed (the `group` event `replaced`), the restart decided (`restart`), the relaunch
   (`start`).
   The same with node 1's agent and trainer stopped (SIGSTOP: a host that hangs, a link that
   goes down without a reset): noticed when it has been silent for --peer-timeout (3 s here).
2. Without one (--nnodes 2): the same kill; from it to node 0's exit with 75. What follows is the
   scheduler's: a requeue waits in the queue for a new allocation, runs the preflight of every
   node, and starts the job from its checkpoint; this bench cannot measure that.
3. The spare while idle, in each run with a spare before the kill (STEADY seconds): its
   flightdeck's CPU time (utime+stime from /proc, clock ticks: 10 ms resolution, so milliseconds
   of CPU per second over the window) and resident memory (VmRSS, VmHWM), beside a training
   node's flightdeck (which also reads its trainer's 20 beats/s).

Every run with a spare must see both training slots step again from trainers started after
the loss (slot 1's is the spare's: node 1 is dead); every run without one must end with 75 on
node 0; otherwise exit 1. Timings are printed, never judged.
Usage: spares.py FLIGHTDECK [RUNS] [STEADY]. QUICK=1: RUNS 1, STEADY 2.
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")
QUICK = os.environ.get("QUICK") == "1"
TRAINER = r'''
fd=$1 log=$2 slot=$3 ck=$4 resume=${5:-}
i=0
if [ -n "$resume" ]; then r=${resume##*step-}; i=$(expr "${r%.pt}" + 0); fi
while [ "$i" -lt 400 ]; do
	i=$((i + 1))
	"$fd" beat --step "$i"
	echo "$slot $i $(date +%s.%N) $$" >>"$log"
	[ "$slot" = 0 ] && [ $((i % 10)) -eq 0 ] && : >"$ck/step-$(printf %06d $i).pt"
	sleep 0.05
done
'''


class Fail(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(fd, d, node, nnodes, port, steps_log):
    ev = os.path.join(d, "n%d.ev" % node)
    cmd = [fd, "run", "--node-rank", str(node), "--nnodes", nnodes,
           "--coordinator", "127.0.0.1:%d" % port, "--peer-interval", "0.2s",
           "--peer-timeout", "3s", "--join-timeout", "30s", "--preflight", "none",
           "--grace", "1", "--backoff", "0", "--events", ev,
           "--checkpoint-dir", os.path.join(d, "ck"), "--",
           "sh", os.path.join(d, "train.sh"), fd, steps_log, "{node_rank}",
           os.path.join(d, "ck"), "{resume}"]
    err = open(os.path.join(d, "n%d.err" % node), "w")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                            env=dict(os.environ, FLIGHTDECK_TOKEN="bench-spares"))


def log_lines(path):
    try:
        with open(path) as f:
            return [ln.split() for ln in f if len(ln.split()) == 4]
    except OSError:
        return []


def wait_until(pred, secs, what):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return
        time.sleep(0.02)
    raise Fail("timed out waiting for " + what)


def proc_cost(pid):
    """(cpu seconds, VmRSS kB, VmHWM kB) of a process now."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    rss = hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                rss = int(ln.split()[1])
            elif ln.startswith("VmHWM:"):
                hwm = int(ln.split()[1])
    return cpu, rss, hwm


def kill_node(p, sig=signal.SIGKILL):
    kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    os.kill(p.pid, sig)
    for k in kids:
        try:
            os.kill(int(k), sig)
        except ProcessLookupError:
            pass


def events(path):
    out = []
    try:
        with open(path) as f:
            for ln in f:
                try:
                    out.append(json.loads(ln))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def ev_time(evs, pred):
    for e in evs:
        if pred(e):
            return e.get("t_unix") or e.get("time")
    return None


def one_run(fd, spare, steady, frozen=False):
    d = tempfile.mkdtemp(prefix="fd-bench-spares.")
    os.mkdir(os.path.join(d, "ck"))
    with open(os.path.join(d, "train.sh"), "w") as f:
        f.write(TRAINER)
    log = os.path.join(d, "steps")
    port = free_port()
    n = 3 if spare else 2
    nn = "2:3" if spare else "2"
    procs = [start(fd, d, i, nn, port, log) for i in range(n)]
    res = {}
    try:
        wait_until(lambda: len({s for s, st, _, _ in log_lines(log) if int(st) > 20}) >= 2, 60,
                   "both slots past step 20")
        if spare:
            c0 = [proc_cost(procs[k].pid) for k in (0, 2)]
            t = time.time()
            time.sleep(steady)
            c1 = [proc_cost(procs[k].pid) for k in (0, 2)]
            dt = time.time() - t
            res["train_cpu"] = 1000.0 * (c1[0][0] - c0[0][0]) / dt
            res["spare_cpu"] = 1000.0 * (c1[1][0] - c0[1][0]) / dt
            res["train_rss"], res["train_hwm"] = c1[0][1], c1[0][2]
            res["spare_rss"], res["spare_hwm"] = c1[1][1], c1[1][2]
        old = {pid for _, _, _, pid in log_lines(log)}  # the trainers started before
        t0 = time.time()
        kill_node(procs[1], signal.SIGSTOP if frozen else signal.SIGKILL)
        if spare:
            def back():  # each slot's first step from a trainer started after the kill
                after = {}
                for s, st, tt, pid in log_lines(log):
                    if pid not in old and float(tt) > t0 and s not in after:
                        after[s] = float(tt)
                return after if len(after) == 2 else None
            wait_until(back, 60, "every training slot stepping again")
            res["back"] = max(back().values()) - t0
            if frozen:
                kill_node(procs[1])
            for k in (0, 2):
                procs[k].terminate()
            evs = events(os.path.join(d, "n0.ev"))
            for name, pred in (("noticed", lambda e: e.get("event") == "group" and
                                e.get("group") == "replaced"),
                               ("decided", lambda e: e.get("event") == "restart"),
                               ("relaunched", lambda e: e.get("event") == "start" and
                                e.get("restart") == 1)):
                tt = ev_time(evs, pred)
                res[name] = tt - t0 if tt else float("nan")
        else:
            rc = procs[0].wait(timeout=60)
            res["exit75"] = time.time() - t0
            if rc != 75:
                raise Fail("without a spare node 0 exited %d, not 75" % rc)
    finally:
        for p in procs:
            try:
                p.kill()
            except ProcessLookupError:
                pass
            p.wait()
        subprocess.run(["pkill", "-9", "-f", os.path.join(d, "train.sh")])
    return res


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    fd = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else (1 if QUICK else 5)
    steady = float(sys.argv[3]) if len(sys.argv) > 3 else (2.0 if QUICK else 10.0)
    with_s, without, frozen = [], [], []
    try:
        for _ in range(runs):
            with_s.append(one_run(fd, True, steady))
            without.append(one_run(fd, False, steady))
            frozen.append(one_run(fd, True, 0, frozen=True))
    except Fail as e:
        print("spares.py: %s" % e, file=sys.stderr)
        return 1
    col = lambda rs, k: [r[k] for r in rs if k in r]
    print("hot spares on loopback, %d run(s), medians (seconds from the SIGKILL of node 1):" % runs)
    print("  with a spare:   loss noticed %6.2f  restart decided %6.2f  relaunched %6.2f" %
          (med(col(with_s, "noticed")), med(col(with_s, "decided")),
           med(col(with_s, "relaunched"))))
    print("  node loss -> every training slot's first new step (with a spare) %6.2f (%s)" %
          (med(col(with_s, "back")), " ".join("%.2f" % x for x in col(with_s, "back"))))
    print("  node frozen (SIGSTOP) -> every slot's first new step (spare)    %6.2f (%s)" %
          (med(col(frozen, "back")), " ".join("%.2f" % x for x in col(frozen, "back"))))
    print("  node loss -> exit 75 on node 0 (no spare; a requeue follows)   %6.2f (%s)" %
          (med(col(without, "exit75")), " ".join("%.2f" % x for x in col(without, "exit75"))))
    print("idle cost over %.0f s (flightdeck's own process):" % steady)
    print("  %-14s %12s %10s %10s" % ("", "CPU ms/s", "RSS kB", "peak kB"))
    print("  %-14s %12.2f %10d %10d" % ("training node", med(col(with_s, "train_cpu")),
                                       med(col(with_s, "train_rss")), med(col(with_s, "train_hwm"))))
    print("  %-14s %12.2f %10d %10d" % ("spare", med(col(with_s, "spare_cpu")),
                                       med(col(with_s, "spare_rss")), med(col(with_s, "spare_hwm"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
