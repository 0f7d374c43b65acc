#!/usr/bin/env python3
"""culprit.py - what naming the culprit adds to a stall's stop, and to a STATE frame.

1. One node: `flightdeck run --nproc-per-node R` (R ranks of a Python trainer beating through
   the Python client, which registers its faulthandler dump), --stall-timeout 2s, --stack-wait
   5s. The last rank spins in a Python loop at step 10 (a culprit that can still dump its
   stack); the others go on beating. From the events log: the stall (t0), the last rank's
   stack dump read (the STACKS phase), the verdict (the `culprit` event) and the first SIGTERM
   (the `kill` event). The attribution's own cost is stacks -> culprit (the /proc reads, the
   kernel-log read for the node to drain, the verdict); the STACKS phase is bounded by
   --stack-wait and is what the stacks cost, with or without a verdict.
2. The STATE payload each node sends at a stall, encoded by the protocol's second
   implementation (group_sim.py): without a verdict, with a typical one, and with the longest
   the fields allow (the culprit line and the drain reason, 255 bytes each; four process
   groups' flight-recorder wavefronts).

Every run must name the spinning rank, else exit 1. Timings are printed, never judged.
Usage: culprit.py FLIGHTDECK [RUNS]. QUICK=1: RUNS 1, ranks 2 and 4 only.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import group_sim  # noqa: E402

QUICK = os.environ.get("QUICK") == "1"
TRAINER = r'''
import os, sys, time
import flightdeck_heartbeat as hb
rank, n = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
for i in range(1, 400):
    hb.beat(i)
    if rank == n - 1 and i == 10:
        while True:  # the culprit: a Python loop, outside any collective
            pass
    time.sleep(0.05)
'''


class Fail(Exception):
    pass


def one(fd, ranks, tmp):
    ev = os.path.join(tmp, "ev-%d.jsonl" % ranks)
    if os.path.exists(ev):
        os.unlink(ev)
    env = dict(os.environ, PYTHONPATH=os.path.join(os.getcwd(), "scripts"))
    p = subprocess.run([fd, "run", "--preflight", "none", "--nproc-per-node", str(ranks),
                        "--stall-timeout", "2s", "--stack-wait", "5s", "--grace", "1s",
                        "--max-restarts", "0", "--events", ev, "--", sys.executable,
                        os.path.join(tmp, "train.py")],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    events = [json.loads(line) for line in open(ev)]
    t = {}
    for e in events:
        k = e["event"]
        if k in ("stall", "culprit", "kill") and k not in t:
            t[k] = e["time"]
        if k == "culprit":
            verdict = e
        if k == "stacks" and "culprit" not in t:
            t["stacks"] = e["time"]  # the last dump read before the verdict
    if "culprit" not in t or verdict.get("culprit") != [ranks - 1]:
        raise Fail("%d ranks: the verdict does not name rank %d: %s\n%s"
                   % (ranks, ranks - 1, verdict if "culprit" in t else "none", p.stderr))
    for k in ("stall", "stacks", "kill"):
        if k not in t:
            raise Fail("%d ranks: no %s event\n%s" % (ranks, k, p.stderr))
    return {"stacks": t["stacks"] - t["stall"], "verdict": t["culprit"] - t["stacks"],
            "kill": t["kill"] - t["stall"], "evidence": verdict["evidence"]}


def state_sizes():
    base = {"failure": 1, "status": 0, "max_step": 1234, "ckpts": ["step-000100.pt"],
            "detail": "rank 7 silent for 300 s after step 1234", "opts_known": 1,
            "max_restarts": 3, "no_progress_limit": 2, "stall_timeout_ms": 300000}
    typical = dict(base, culprit_likely=1, culprit_rank=7,
                   culprit="rank 7 (pid 48213) stopped (state T); ranks 0-6 wait for it at "
                   "train.py:104 in main (in distributed_c10d.py:2501 in all_reduce)",
                   drain="Xid 79 (GPU has fallen off the bus) on 0000:3b:00, 12.0 s ago "
                   "(since the job started), and rank 7 here is the culprit",
                   fr=[{"pg": 0, "lo": 5016, "lo_rank": 7, "hi": 5017, "op": "nccl:all_reduce"}])
    longest = dict(base, culprit_likely=1, culprit_rank=7, culprit="x" * 255, drain="y" * 255,
                   fr=[{"pg": g, "lo": 1, "lo_rank": 7, "hi": 2, "op": "z" * 47}
                       for g in range(group_sim.FR_PGS)])
    return [(name, len(group_sim.encode(group_sim.STATE, v)))
            for name, v in (("no verdict", base), ("a typical verdict and drain", typical),
                            ("the longest verdict and drain", longest))]


def main():
    fd = sys.argv[1]
    runs = 1 if QUICK else int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sizes = (2, 4) if QUICK else (2, 8, 32)
    tmp = tempfile.mkdtemp(prefix="flightdeck-culprit.")
    with open(os.path.join(tmp, "train.py"), "w") as f:
        f.write(TRAINER)
    print("culprit of a stall, one node: R native ranks, the last spinning in a Python loop; "
          "--stall-timeout 2s --stack-wait 5s; median of %d run(s), seconds from the stall"
          % runs)
    print("  %5s %12s %14s %14s %9s" % ("ranks", "stacks read", "verdict (+s)", "first SIGTERM",
                                        "evidence"))
    try:
        for r in sizes:
            res = [one(fd, r, tmp) for _ in range(runs)]
            print("  %5d %12.3f %14.4f %14.3f %9s"
                  % (r, statistics.median(x["stacks"] for x in res),
                     statistics.median(x["verdict"] for x in res),
                     statistics.median(x["kill"] for x in res), res[0]["evidence"]))
            sys.stdout.flush()
    except Fail as e:
        print("culprit.py: %s" % e, file=sys.stderr)
        return 1
    print("  (verdict: the last stack read -> the culprit event: what the attribution adds; "
          "the stacks are read within --stack-wait with or without it)")
    print("STATE payload at a stall, bytes:")
    for name, n in state_sizes():
        print("  %-32s %5d" % (name, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
