#!/usr/bin/env python3
"""beater.py RATE SECONDS [LAST_BEAT_FILE] - the bench's child: beats RATE times a second for
SECONDS through the Python client (paced by absolute deadlines, so the rate holds), then exits
0; with LAST_BEAT_FILE it writes the wall time of its last beat there and hangs instead."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import flightdeck_heartbeat as hb  # noqa: E402

rate, seconds = float(sys.argv[1]), float(sys.argv[2])
last_file = sys.argv[3] if len(sys.argv) > 3 else None
period, t0 = 1.0 / rate, time.monotonic()
n = 0
while True:
    n += 1
    hb.beat(n)
    last = time.time()
    if n * period >= seconds:
        break
    delay = t0 + n * period - time.monotonic()
    if delay > 0:
        time.sleep(delay)
if last_file:
    with open(last_file, "w") as f:
        f.write("%.6f\n" % last)
    time.sleep(3600)
print("beats %d in %.2f s" % (n, time.monotonic() - t0), file=sys.stderr)
