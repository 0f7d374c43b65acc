#!/usr/bin/env python3
"""A trainer that saves on SIGTERM, for the scheduler tests: every SIGTERM it gets is one line
in OUT.terms; the first starts a save of SAVE_S seconds (default 4), written in pieces to
OUT.ckpt, and OUT.saved appears only when the save is whole; then it exits 0. A later
SIGTERM during the save is counted and ignored: a scheduler that sends two would be seen.
Under a launcher that starts several (torchrun), each writes OUT.rankN, N its LOCAL_RANK.
Every SIGUSR1 (Slurm's --signal warning) is one line in OUT.usr1, and the trainer goes on."""
import os
import signal
import sys
import time

out = sys.argv[1]
if "LOCAL_RANK" in os.environ:
    out += ".rank" + os.environ["LOCAL_RANK"]
save_s = float(os.environ.get("SAVE_S", "4"))
terms = []


def on_term(sig, frame):
    terms.append(time.time())
    with open(out + ".terms", "a") as f:
        f.write("%.3f\n" % terms[-1])
    if len(terms) > 1:
        return
    with open(out + ".ckpt", "w") as f:
        for i in range(8):
            f.write("piece %d\n" % i)
            f.flush()
            time.sleep(save_s / 8)
    with open(out + ".saved", "w") as f:
        f.write("%.1f\n" % (time.time() - terms[0]))
    sys.exit(0)


def on_usr1(sig, frame):
    with open(out + ".usr1", "a") as f:
        f.write("%.3f\n" % time.time())


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGUSR1, on_usr1)
with open(out + ".started", "w") as f:
    f.write("%d\n" % os.getpid())
while True:
    time.sleep(0.2)
