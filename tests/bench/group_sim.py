#!/usr/bin/env python3
"""group_sim.py - the node group at scale: a real coordinator, up to 1023 simulated members.

One process plays nodes 1..N-1 of a job: N-1 real TCP connections to a real coordinator
(`flightdeck run --node-rank 0 --nnodes N`), each speaking the frames of launcher/group/frame.h, signed
with the job's token, in the order launcher/group/member.c does: HELLO (generation 0, round 0); after
the WELCOME the generation and round it carries; a gate STATE, then a STATE for every STOP of
the current round; after each DECISION the round is one more and the generation the
DECISION's; a RESTART is followed by the next gate STATE, sent once that DECISION is read on
every connection (a real node gets there after its backoff and GPU wait). Every member beats
every --peer-interval. A frame that does not parse, a DECISION of another round, a connection
closed before the last DECISION, ROUND_WAIT_S with nothing but beats from the coordinator, or a
`rejected` event in the coordinator's events log ends the run with exit 1.

What is measured:
 1. Barrier rounds. The coordinator's command crashes at once (`sh -c 'exit 1'`, --max-restarts
    R, --backoff 0, --gpu-release-timeout 0, --no-progress-limit 0, no preflight): every attempt
    is a gate round (CONTINUE) and an end round (node 0's crash, STOP to every member, RESTART).
    One member's STATE (node N-1's) is held back until HOLD_MS after the other members' are
    all sent, so that node 0's own state (submitted after its GPU-wait helper, or after its
    tree is gone) is in first and the number is the barrier's, not the supervisor's. Latency:
    from that last STATE's send to the DECISION read on every member connection (and, beside
    it, on the first). The one simulator reads all N-1 connections in turn, so its own reading
    time is included: an upper bound on what N nodes, each reading one connection, would see.
 2. The coordinator's own CPU seconds (utime+stime of /proc/PID/stat, read from the zombie
    before it is reaped, so nothing is missed) and peak RSS (VmHWM of /proc/PID/status, sampled)
    over the whole run of (1), joins included.
 3. A lost node, with the group formed and `sleep 1000` running on node 0: one member closes its
    connection, or one member stops beating (its socket left open); the time from the close (or
    from that member's last frame) to the peer-lost DECISION (stop_why PEER_LOST) read on every
    other connection, and to the coordinator's exit (75, seen through a pidfd).
 4. A stall on one of three real agents (`flightdeck run` each, on loopback): a job that beats
    every 0.1 s and hangs on node 2 at step 12 on its first launch; from node 2's `stall` event
    to the last node's `start` event of launch 2, and to the first beat of launch 2 on every node
    (the job appends `date +%s.%N` to a file on each beat).

The frames (docs/protocol.md) are encoded and decoded here by a codec of its own, not the C one.
--golden DIR... checks it against golden frames instead (tests/fixtures/frames, see its README):
every NAME.bin is parsed with NAME.json's token, its header and fields compared with NAME.json,
re-encoded to the same bytes; trailing bytes must be skipped and another payload version refused.
Exit 1 on any difference.

Usage: group_sim.py FLIGHTDECK [--sizes 64,256,1024] [--restarts R] [--hold-ms MS]
       [--loss-nodes N] [--skip-rounds] [--skip-loss] [--skip-stall]
       group_sim.py --golden DIR...
"""
import argparse
import hashlib
import hmac
import json
import math
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

# The frames of docs/protocol.md (launcher/group/frame.h, frame.c): a second implementation, so
# the specification is checked by more than the C encoder (--golden).
MAGIC = 0x46444746  # "FDGF"
VERSION = 3  # the header's layout and the frame types
HDR = 40
MAC_LEN = 16
FRAME_MAX = 65536
HELLO, WELCOME, BEAT, STATE, HALT, STOP, DECISION, WORLD, REFUSE = range(1, 10)
TYPE_NAMES = {HELLO: "HELLO", WELCOME: "WELCOME", BEAT: "BEAT", STATE: "STATE", HALT: "HALT",
              STOP: "STOP", DECISION: "DECISION", WORLD: "WORLD", REFUSE: "REFUSE"}
# launcher/group/group.h
CONTINUE, RESTART, STOP_VERDICT = 0, 1, 2
VERDICT_NAMES = {CONTINUE: "CONTINUE", RESTART: "RESTART", STOP_VERDICT: "STOP"}
STOP_BUDGET, STOP_PEER_LOST, STOP_CONFIG = 2, 6, 7  # enum fd_stop_why: FD_STOP_FAILURE = 1, ...
REFUSE_CODE_MAX = 6  # enum fd_refuse_code: FD_REFUSE_TOKEN = 1 ... FD_REFUSE_PROTOCOL
FAIL_LAUNCH = 6  # the last failure a node reports
FAIL_LOST = 7  # the last enum fd_fail: a lost node a spare replaces (decisions only)
SPARES_MAX = 64  # FD_SPARES_MAX
CKPTS_MAX = 16  # FD_GROUP_CKPTS
FR_PGS = 4  # FD_FR_PGS
RUN_PEER_LOST = 75

ROUND_WAIT_S = 10.0  # a round whose DECISION has not reached every member by then: failure
ROUNDS_WAIT_S = 60.0  # the whole round benchmark at one size
JOIN_WAIT_S = 30.0
FD_SPARE = 64  # descriptors besides the members' sockets, in either process
TICK = os.sysconf("SC_CLK_TCK")
HDR_STRUCT = struct.Struct(">IBBHIIII")

# Each payload: its version byte, then its fields in order, as (name, wire type). Wire types:
# u8 u16 u32 (unsigned); i32, i64 (a u32 or u64 read as two's complement); count (a u64 of a
# double, 0 unless in (0, 1e18)); milli (a u64 of whole thousandths of a double, 0 unless in
# (0, 1e12)); ("str", N) (a u16 length and at most N bytes, no NUL); ("strs", K, N) (a u8 count,
# at most K, of such strings). ADDED marks where the fields added to a version start: a payload
# that ends there is an older writer's, and reads them as 0.
ADDED = ("added", None)
HELLO_FIELDS = [("nnodes", "u32"), ("pid", "u32"), ("host", ("str", 255)), ADDED,
                ("spares", "u32")]
STATE_FIELDS = [("failure", "i32"), ("status", "i32"), ("ended", "u8"), ("stop_signal", "i32"),
                ("max_step", "i64"), ("ckpts", ("strs", CKPTS_MAX, 255)),
                ("detail", ("str", 1023)), ADDED, ("no_ckpt_dir", "u8"), ("opts_known", "u8"),
                ("max_restarts", "i32"), ("no_progress_limit", "i32"),
                ("stall_timeout_ms", "i64"), ADDED, ("culprit_likely", "u8"),
                ("culprit_rank", "i32"), ("culprit", ("str", 255)), ADDED,
                ("drain", ("str", 255)), ADDED, ("fr", ("waves", FR_PGS))]
# one process group's flight-recorder wavefront on a node, as the fr list holds it
WAVE_FIELDS = [("pg", "i32"), ("lo", "i64"), ("lo_rank", "i32"), ("hi", "i64"),
               ("op", ("str", 47))]
DECISION_FIELDS = [("verdict", "u8"), ("stop_why", "u8"), ("failure", "u8"), ("node", "i32"),
                   ("status", "i32"), ("stop_signal", "i32"), ("restarts", "i32"),
                   ("no_progress", "i32"), ("last_max_step", "i64"),
                   ("checkpoint", ("str", 255)), ("gen", "u32"), ("why", ("str", 255)),
                   ("master_port", "u16"), ("max_restarts", "i32"),
                   ("no_progress_limit", "i32"), ADDED, ("nactive", "i32"),
                   ("moved", ("moved", SPARES_MAX))]
# a training slot held by another node than its own (hot spares), as the moved list holds it
MOVED_FIELDS = [("slot", "i32"), ("node", "i32")]
REFUSE_FIELDS = [("code", "u8"), ("nnodes", "u32"), ("why", ("str", 255))]
WORLD_FIELDS = [("kind", "u8"), ("set", "u32"), ("rank", "i32"), ("size", "i32"),
                ("timeout_ms", "u32"), ("full", "u8"), ("id", ("str", 256)), ("outcome", "u8"),
                ("ok", "u8"), ("nranks", "i32"), ("nodes", "i32"), ("bytes", "count"),
                ("busbw", "milli"), ("algbw", "milli"), ("status", "u8"), ("unfit", "u8"),
                ("code", ("str", 31)), ("subject", ("str", 63)), ("value", ("str", 95)),
                ("expected", ("str", 95)), ("text", ("str", 511)), ("role", "u8"),
                ("peer", "i32"), ("duration_ms", "u32"), ("skip", "u8"), ("addr", ("str", 63)),
                ("rails", ("rails", 16))]
# one InfiniBand port of a pair test, as the rails list holds it (a u8 count, then each)
RAIL_FIELDS = [("dev", ("str", 63)), ("ib_port", "u8"), ("tcp_port", "u16"), ("rate", "milli"),
               ("gbps", "milli"), ("outcome", "u8")]
MILLI_MAX = 1e15  # thousandths: 1e12 GB/s, past any link
LISTS = {"rails": RAIL_FIELDS, "moved": MOVED_FIELDS, "waves": WAVE_FIELDS}


def state_ok(v):
    return (0 <= v["failure"] <= FAIL_LAUNCH and 0 <= v["status"] <= 255 and v["ended"] <= 1
            and 0 <= v["stop_signal"] <= 64 and v["no_ckpt_dir"] <= 1 and v["opts_known"] <= 1
            and v["max_restarts"] >= 0 and v["no_progress_limit"] >= 0
            and v["stall_timeout_ms"] >= 0 and v["culprit_likely"] <= 1
            and v["culprit_rank"] >= 0
            and all(w["pg"] >= 0 and 0 <= w["lo"] <= w["hi"] and w["lo_rank"] >= 0
                    for w in v["fr"]))


def decision_ok(v):
    return (v["verdict"] <= STOP_VERDICT and v["stop_why"] <= STOP_CONFIG and
            v["max_restarts"] >= 0 and v["no_progress_limit"] >= 0 and
            v["failure"] <= FAIL_LOST and v["node"] >= -1 and 0 <= v["status"] <= 255 and
            0 <= v["stop_signal"] <= 64 and v["restarts"] >= 0 and v["no_progress"] >= 0 and
            "/" not in v["checkpoint"] and v["checkpoint"] not in (".", "..") and
            moved_ok(v["nactive"], v["moved"]))


def moved_ok(nactive, moved):
    slots = [m["slot"] for m in moved]
    nodes = [m["node"] for m in moved]
    return (0 <= nactive <= 65536 and (nactive or not moved) and
            len(set(slots)) == len(slots) and len(set(nodes)) == len(nodes) and
            all(0 <= m["slot"] < nactive and 0 <= m["node"] <= 65535 and m["node"] != m["slot"]
                for m in moved))


def hello_ok(v):
    return v["spares"] <= SPARES_MAX


def refuse_ok(v):
    return 1 <= v["code"] <= REFUSE_CODE_MAX


def world_ok(v):
    return (1 <= v["kind"] <= 9 and v["role"] <= 2 and v["peer"] >= -1 and v["skip"] <= 1 and
            all(c in "0123456789." for c in v["addr"]) and
            all(r["outcome"] <= 2 for r in v["rails"]) and v["rank"] >= 0 and 0 <= v["size"] <= 65536 and
            (v["size"] == 0 or v["rank"] < v["size"]) and v["full"] <= 1 and v["outcome"] < 7
            and v["ok"] <= 1 and v["nranks"] >= 0 and v["nodes"] >= 0 and v["status"] <= 3 and
            v["unfit"] <= 1 and all(c in "0123456789abcdef" for c in v["id"]))


# type -> (payload name, its version, its fields, the reader's bounds on the values)
PAYLOADS = {HELLO: ("HELLO", 1, HELLO_FIELDS, hello_ok),
            WELCOME: ("HELLO", 1, HELLO_FIELDS, hello_ok),
            STATE: ("STATE", 1, STATE_FIELDS, state_ok), HALT: ("STATE", 1, STATE_FIELDS, state_ok),
            STOP: ("DECISION", 2, DECISION_FIELDS, decision_ok),
            DECISION: ("DECISION", 2, DECISION_FIELDS, decision_ok),
            WORLD: ("WORLD", 2, WORLD_FIELDS, world_ok),
            REFUSE: ("REFUSE", 1, REFUSE_FIELDS, refuse_ok)}
# written as 0 or 1 whatever the value
BOOLS = {"ended", "full", "ok", "unfit", "no_ckpt_dir", "opts_known", "culprit_likely", "skip"}


class ProtocolError(Exception):
    pass


class UnknownVersion(ProtocolError):
    """A payload version this reader does not read: the peer runs another build."""


def mac(token, hdr24, payload):
    return hmac.digest(token, hdr24 + payload, hashlib.sha256)[:MAC_LEN]


def frame(token, ftype, node, gen, rnd, payload=b""):
    hdr = HDR_STRUCT.pack(MAGIC, VERSION, ftype, 0, node, gen, rnd, len(payload))
    return hdr + mac(token, hdr, payload) + payload


def parse(token, buf, off):
    """(frame, bytes taken) for the frame at buf[off:], (None, 0) when more bytes are needed."""
    n = len(buf) - off
    if n < HDR:
        return None, 0
    magic, ver, ftype, flags, node, gen, rnd, plen = HDR_STRUCT.unpack_from(buf, off)
    if magic != MAGIC or ver != VERSION or flags or ftype not in TYPE_NAMES:
        raise ProtocolError("not a flightdeck frame from the coordinator")
    if plen > FRAME_MAX:
        raise ProtocolError("an oversized frame (%d bytes)" % plen)
    if n < HDR + plen:
        return None, 0
    hdr = bytes(buf[off:off + 24])
    payload = bytes(buf[off + HDR:off + HDR + plen])
    if not hmac.compare_digest(mac(token, hdr, payload), bytes(buf[off + 24:off + HDR])):
        raise ProtocolError("a frame whose MAC does not match the token")
    return (ftype, node, gen, rnd, payload), HDR + plen


def _put_str(s):
    b = s.encode()
    if len(b) > 0xFFFF:
        raise ValueError("a string over 65535 bytes")
    return struct.pack(">H", len(b)) + b


def _default(kind):
    if isinstance(kind, tuple):
        return "" if kind[0] == "str" else []
    return 0


def _encode_fields(fields, v, out):
    for name, kind in fields:
        if (name, kind) == ADDED:
            continue
        x = v.get(name, _default(kind))
        if name in BOOLS:
            x = 1 if x else 0
        if kind == "u8":
            out.append(struct.pack(">B", x & 0xFF))
        elif kind == "u16":
            out.append(struct.pack(">H", x & 0xFFFF))
        elif kind in ("u32", "i32"):
            out.append(struct.pack(">I", x & 0xFFFFFFFF))
        elif kind == "i64":
            out.append(struct.pack(">Q", x & 0xFFFFFFFFFFFFFFFF))
        elif kind == "count":
            out.append(struct.pack(">Q", int(x) if 0 < x < 1e18 else 0))
        elif kind == "milli":
            out.append(struct.pack(">Q", int(x * 1000.0 + 0.5) if 0 < x < MILLI_MAX / 1000 else 0))
        elif kind[0] == "str":
            out.append(_put_str(x))
        elif kind[0] in LISTS:  # a u8 count, at most kind[1], then each one's fields
            xs = x[:kind[1]]
            out.append(struct.pack(">B", len(xs)))
            for r in xs:
                _encode_fields(LISTS[kind[0]], r, out)
        else:  # strs: the newest first, at most kind[1]
            xs = x[:kind[1]]
            out.append(struct.pack(">B", len(xs)))
            out.extend(_put_str(s) for s in xs)


def encode(ftype, v):
    """The payload of a frame of type ftype from the values v (a dict named as in *_FIELDS)."""
    if ftype == BEAT:
        return b""
    _, version, fields, _ = PAYLOADS[ftype]
    out = [struct.pack(">B", version)]
    _encode_fields(fields, v, out)
    return b"".join(out)


class _Reader:
    def __init__(self, p, what):
        self.p, self.off, self.what = p, 0, what

    def take(self, k):
        if self.off + k > len(self.p):
            raise ProtocolError("a malformed %s (cut short at byte %d)" % (self.what, self.off))
        b = self.p[self.off:self.off + k]
        self.off += k
        return b

    def num(self, fmt):
        s = struct.Struct(fmt)
        return s.unpack(self.take(s.size))[0]

    def string(self, most):
        b = self.take(self.num(">H"))
        if len(b) > most or b"\0" in b:
            raise ProtocolError("a malformed %s (a string over %d bytes or holding a NUL)"
                                % (self.what, most))
        return b.decode(errors="replace")


def _decode_fields(fields, r, p, what):
    v = {}
    for i, (fname, kind) in enumerate(fields):
        if (fname, kind) == ADDED:
            if r.off == len(p):  # an older writer's: the added fields read as 0 (or "")
                v.update((f, _default(k)) for f, k in fields[i + 1:] if (f, k) != ADDED)
                break
            continue
        if kind in ("u8", "u16", "u32"):
            v[fname] = r.num({"u8": ">B", "u16": ">H", "u32": ">I"}[kind])
        elif kind == "i32":
            v[fname] = r.num(">i")
        elif kind == "i64":
            v[fname] = r.num(">q")
        elif kind == "count":
            v[fname] = r.num(">Q")
            if v[fname] >= 1e18:
                raise ProtocolError("a malformed %s (%s)" % (what, fname))
        elif kind == "milli":
            m = r.num(">Q")
            if m >= MILLI_MAX:
                raise ProtocolError("a malformed %s (%s)" % (what, fname))
            v[fname] = m / 1000.0
        elif kind[0] == "str":
            v[fname] = r.string(kind[1])
        else:
            k = r.num(">B")
            if k > kind[1]:
                raise ProtocolError("a malformed %s (%d %s)" % (what, k, fname))
            if kind[0] in LISTS:
                v[fname] = [_decode_fields(LISTS[kind[0]], r, p, what) for _ in range(k)]
            else:
                v[fname] = [r.string(kind[2]) for _ in range(k)]
    return v


def decode(ftype, p):
    """The values of a payload of type ftype, as the C reader gives them. Raises UnknownVersion
    for a version this reader does not read, ProtocolError for a malformed payload; bytes after
    the known fields are skipped (a later writer's additive fields)."""
    if ftype == BEAT:
        return {}  # no payload: whatever a BEAT carries is ignored
    name, version, fields, ok = PAYLOADS[ftype]
    r = _Reader(p, TYPE_NAMES[ftype])
    got = r.num(">B")
    if got != version:
        raise UnknownVersion("a %s of payload version %d, this reader reads version %d"
                             % (TYPE_NAMES[ftype], got, version))
    v = _decode_fields(fields, r, p, TYPE_NAMES[ftype])
    if ok and not ok(v):
        raise ProtocolError("a malformed %s (a value out of bounds)" % TYPE_NAMES[ftype])
    return v


def hello_payload(nnodes, host):
    return encode(HELLO, {"nnodes": nnodes, "pid": os.getpid(), "host": host})


# A fit node at its gate, or a node whose attempt a peer's STOP ended.
STATE_PAYLOAD = encode(STATE, {"failure": 0, "status": 0, "ended": 0, "stop_signal": 0,
                               "max_step": -1, "ckpts": [], "detail": ""})


def decision_get(p):
    return decode(DECISION, p)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_cpu_s(pid):
    """utime+stime of the process itself (not its children), in seconds; None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def proc_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Coordinator:
    """A real `flightdeck run --node-rank 0`, watched through a pidfd and /proc."""

    def __init__(self, fd_bin, nnodes, port, token, tmp, extra, command):
        self.ev = os.path.join(tmp, "coord%d.ev" % nnodes)
        self.err_path = os.path.join(tmp, "coord%d.err" % nnodes)
        env = dict(os.environ, FLIGHTDECK_TOKEN=token.decode())
        argv = [fd_bin, "run", "--no-config", "--node-rank", "0", "--nnodes", str(nnodes),
                "--coordinator", "127.0.0.1:%d" % port, "--bind", "127.0.0.1",
                "--preflight", "none", "--events", self.ev] + extra + ["--"] + command
        with open(self.err_path, "wb") as err:
            self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        self.pidfd = os.pidfd_open(self.p.pid)
        self.exited_at = None
        self.cpu_s = None
        self.hwm_kb = 0
        self.rc = None

    def sample(self):
        h = proc_hwm_kb(self.p.pid)
        if h:
            self.hwm_kb = max(self.hwm_kb, h)

    def on_exit(self):
        """The process is a zombie now: its final CPU times, then reaped."""
        self.exited_at = time.monotonic()
        os.waitid(os.P_PID, self.p.pid, os.WEXITED | os.WNOWAIT)
        self.cpu_s = proc_cpu_s(self.p.pid)
        self.rc = self.p.wait()
        os.close(self.pidfd)
        self.pidfd = -1

    def stop(self):
        """Cleanup on every path: SIGTERM (its tree gets the grace), then SIGKILL."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1

    def events(self, name=None):
        out = []
        try:
            with open(self.ev) as f:
                for line in f:
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue
                    if name is None or e.get("event") == name:
                        out.append(e)
        except OSError:
            pass
        return out

    def tail(self, n=15):
        try:
            with open(self.err_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class Member:
    """One simulated node: its socket, its buffers, and where it is (generation, round)."""

    __slots__ = ("node", "sock", "inbuf", "outbuf", "gen", "round", "welcomed", "over",
                 "silent", "closed", "next_beat", "beat_key", "beat", "last_tx", "rx_at",
                 "want_write", "in_gate")

    def __init__(self, node, sock):
        self.node = node
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.gen = self.round = 0
        self.welcomed = self.over = self.silent = self.closed = False
        self.in_gate = True  # its next STATE is a gate's (a launch's), not an attempt's end
        self.next_beat = 0.0
        self.beat_key = None
        self.beat = b""
        self.last_tx = 0.0
        self.rx_at = 0.0
        self.want_write = False


class Round:
    """One barrier round as the members see it."""

    def __init__(self, rnd):
        self.round = rnd
        self.sent = 0  # members other than the anchor that sent their STATE
        self.anchor_due = None
        self.anchor_sent = None
        self.arrivals = []
        self.verdict = None
        self.decision = None  # the DECISION as the first member read it


class Sim:
    """Nodes 1..N-1 in one epoll loop, with the coordinator's pidfd among their sockets."""

    def __init__(self, token, nnodes, port, interval_s, coord, hold_s=0.0, end_state=None):
        self.token = token
        # the STATE a member sends at an attempt's end: end_state(node) -> payload
        self.end_state = end_state or (lambda node: STATE_PAYLOAD)
        self.nnodes = nnodes
        self.port = port
        self.interval = interval_s
        self.coord = coord
        self.hold = hold_s
        self.sel = selectors.EpollSelector()
        self.members = []
        self.beat_i = 0
        self.rounds = {}
        self.anchor = nnodes - 1
        self.welcomed = 0
        self.final = {}  # node -> (time, decision) of the final STOP DECISION
        self.formed_at = None
        self.deferred = []  # members whose gate STATE waits for the fan-out to end
        self.progress_at = time.monotonic()  # the last frame other than a BEAT
        self.sel.register(coord.pidfd, selectors.EVENT_READ, None)

    # ---- joining --------------------------------------------------------------------------

    def join(self):
        deadline = time.monotonic() + JOIN_WAIT_S
        t0 = None
        for node in range(1, self.nnodes):
            while True:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    s.connect(("127.0.0.1", self.port))
                    break
                except ConnectionRefusedError:
                    s.close()
                    if node > 1 or time.monotonic() > deadline or self.coord.p.poll() is not None:
                        raise ProtocolError("cannot reach the coordinator on port %d"
                                            % self.port)
                    time.sleep(0.02)  # not listening yet
            if t0 is None:
                t0 = time.monotonic()
            s.setblocking(False)
            m = Member(node, s)
            self.members.append(m)
            self.sel.register(s, selectors.EVENT_READ, m)
            self.send(m, frame(self.token, HELLO, node, 0, 0,
                               hello_payload(self.nnodes, "sim-%d" % node)))
        now = time.monotonic()
        for i, m in enumerate(self.members):  # beats spread over one interval
            m.next_beat = now + self.interval * i / len(self.members)
        self.run_until(lambda: self.welcomed == len(self.members), JOIN_WAIT_S, "the WELCOMEs")
        return self.formed_at - t0

    # ---- sending --------------------------------------------------------------------------

    def send(self, m, data):
        if m.closed:
            return
        m.last_tx = time.monotonic()
        if m.outbuf:
            m.outbuf += data
            return
        try:
            k = m.sock.send(data)
        except BlockingIOError:
            k = 0
        except OSError as e:
            raise ProtocolError("node %d: send: %s" % (m.node, e))
        if k < len(data):
            m.outbuf += data[k:]
            if not m.want_write:
                m.want_write = True
                self.sel.modify(m.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, m)

    def flush(self, m):
        try:
            k = m.sock.send(m.outbuf)
        except BlockingIOError:
            return
        except OSError as e:
            raise ProtocolError("node %d: send: %s" % (m.node, e))
        del m.outbuf[:k]
        if not m.outbuf and m.want_write:
            m.want_write = False
            self.sel.modify(m.sock, selectors.EVENT_READ, m)

    def beats(self, now):
        ms = self.members
        while ms and ms[self.beat_i].next_beat <= now:
            m = ms[self.beat_i]
            m.next_beat += self.interval
            self.beat_i = (self.beat_i + 1) % len(ms)
            if m.closed or m.silent or m.over or not m.welcomed:
                continue
            if m.beat_key != (m.gen, m.round):
                m.beat_key = (m.gen, m.round)
                m.beat = frame(self.token, BEAT, m.node, m.gen, m.round)
            self.send(m, m.beat)

    def next_beat(self):
        return self.members[self.beat_i].next_beat if self.members else float("inf")

    # ---- a member's state for the current round -------------------------------------------

    def submit(self, m):
        r = self.rounds.get(m.round)
        if r is None:
            r = self.rounds[m.round] = Round(m.round)
        if m.node == self.anchor:
            r.anchor_due = float("inf")  # held until every other member's is sent
        else:
            self.send(m, frame(self.token, STATE, m.node, m.gen, m.round, self.payload(m)))
            r.sent += 1
        if r.anchor_due == float("inf") and r.sent == len(self.members) - 1:
            r.anchor_due = time.monotonic() + self.hold

    def payload(self, m):
        return STATE_PAYLOAD if m.in_gate else self.end_state(m.node)

    def due_anchor(self, now):
        for r in self.rounds.values():
            if r.anchor_due is not None and r.anchor_sent is None and r.anchor_due <= now:
                m = self.members[self.anchor - 1]
                self.send(m, frame(self.token, STATE, m.node, m.gen, m.round, self.payload(m)))
                r.anchor_sent = time.monotonic()

    def next_anchor(self):
        due = [r.anchor_due for r in self.rounds.values()
               if r.anchor_due is not None and r.anchor_sent is None]
        return min(due) if due else float("inf")

    # ---- receiving --------------------------------------------------------------------------

    def on_frame(self, m, f, at):
        ftype, node, gen, rnd, payload = f
        if node != 0:
            raise ProtocolError("node %d: a frame from node %d on the coordinator's connection"
                                % (m.node, node))
        if ftype == BEAT:
            return
        self.progress_at = at
        if ftype == WELCOME:
            if m.welcomed:
                raise ProtocolError("node %d: a second WELCOME" % m.node)
            m.welcomed = True
            m.gen, m.round = gen, rnd
            self.welcomed += 1
            if self.welcomed == len(self.members):
                self.formed_at = at
            self.submit(m)  # the gate: this node is fit
            return
        if ftype not in (STOP, DECISION) or not m.welcomed:
            raise ProtocolError("node %d: an unexpected %s" % (m.node, TYPE_NAMES[ftype]))
        d = decision_get(payload)
        if ftype == STOP:
            if gen == m.gen and rnd == m.round and not m.over:
                self.submit(m)  # a peer failed: this node's attempt stops, its state goes up
            return
        if rnd != m.round and d["stop_why"] != STOP_PEER_LOST:
            raise ProtocolError("node %d: a DECISION for round %d in round %d"
                                % (m.node, rnd, m.round))
        r = self.rounds.get(rnd)
        if r is not None and d["stop_why"] != STOP_PEER_LOST:
            if r.verdict is None:
                r.verdict = (d["verdict"], d["gen"])
                r.decision = d
            elif r.verdict != (d["verdict"], d["gen"]):
                raise ProtocolError("round %d: members got different decisions" % rnd)
            r.arrivals.append(at)
        m.round += 1
        m.gen = d["gen"]
        m.in_gate = d["verdict"] != CONTINUE
        if d["verdict"] == STOP_VERDICT:
            m.over = True
            self.final[m.node] = (at, d)
        elif d["verdict"] == RESTART:
            # The next attempt's gate, once this DECISION is read everywhere: a real node
            # gets there after its backoff and GPU wait, not while the fan-out is going on.
            self.deferred.append(m)
        # CONTINUE: the attempt runs until a STOP

    def on_readable(self, m, now):
        try:
            data = m.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            data, err = b"", e
        else:
            err = None
        if not data:
            self.sel.unregister(m.sock)
            m.sock.close()
            m.closed = True
            if not m.over and not m.silent:
                raise ProtocolError("node %d: the coordinator closed the connection before "
                                    "its last DECISION (%s)" % (m.node, err or "EOF"))
            return
        m.inbuf += data
        m.rx_at = now

    def parse_all(self, m):
        off = 0
        while True:
            f, k = parse(self.token, m.inbuf, off)
            if not f:
                break
            off += k
            self.on_frame(m, f, m.rx_at)
        if off:
            del m.inbuf[:off]

    def run_until(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        next_sample = 0.0
        while not cond():
            now = time.monotonic()
            if now > deadline:
                raise ProtocolError("no %s within %.0f s" % (what, timeout))
            if now - self.progress_at > ROUND_WAIT_S:
                raise ProtocolError("waiting for the %s: nothing but beats from the "
                                    "coordinator for %.0f s" % (what, ROUND_WAIT_S))
            if now >= next_sample and self.coord.pidfd >= 0:
                self.coord.sample()
                next_sample = now + 0.2
            self.beats(now)
            self.due_anchor(now)
            wait = min(self.next_beat(), self.next_anchor(), deadline, next_sample) - now
            # Read every ready connection first, stamping each read, then parse: the MAC
            # checks of one connection do not delay the time stamp of the next.
            ready = []
            for key, ev in self.sel.select(max(wait, 0)):
                m = key.data
                if m is None:
                    if self.coord.exited_at is None:
                        self.sel.unregister(self.coord.pidfd)
                        self.coord.on_exit()
                    continue
                if ev & selectors.EVENT_WRITE:
                    self.flush(m)
                if ev & selectors.EVENT_READ:
                    self.on_readable(m, time.monotonic())
                    ready.append(m)
            for m in ready:
                self.parse_all(m)
            if self.deferred and all(len(r.arrivals) == len(self.members)
                                     for r in self.rounds.values() if r.anchor_sent):
                for m in self.deferred:
                    self.submit(m)
                self.deferred = []

    def idle(self, seconds):
        end = time.monotonic() + seconds
        self.run_until(lambda: time.monotonic() >= end, seconds + 1, "idle")

    def close(self):
        for m in self.members:
            if not m.closed:
                m.sock.close()
                m.closed = True
        self.sel.close()


def pct(v, p):
    """The nearest-rank percentile."""
    v = sorted(v)
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def rejected(coord):
    bad = [e for e in coord.events("group") if e.get("group") == "rejected"]
    if bad:
        return "the coordinator rejected %d frames or connections; first: %s" % (
            len(bad), bad[0].get("detail"))
    return None


def check_rejected(coord):
    why = rejected(coord)
    if why:
        raise ProtocolError(why)


def failed(e, coord, what):
    """A ProtocolError naming the run, what the coordinator refused and its last words."""
    why = rejected(coord)
    return ProtocolError("%s: %s%s\n--- the coordinator's stderr, last lines:\n%s"
                         % (what, e, "; " + why if why and why not in str(e) else "",
                            coord.tail()))


def bench_rounds(fd_bin, nnodes, restarts, hold_s, tmp, token):
    port = free_port()
    extra = ["--max-restarts", str(restarts), "--backoff", "0", "--gpu-release-timeout", "0",
             "--no-progress-limit", "0", "--peer-interval", "1s", "--peer-timeout", "10s",
             "--join-timeout", "%ds" % JOIN_WAIT_S, "--grace", "1s"]
    coord = Coordinator(fd_bin, nnodes, port, token, tmp, extra, ["sh", "-c", "exit 1"])
    sim = Sim(token, nnodes, port, 1.0, coord, hold_s)
    try:
        t0 = time.monotonic()
        formed = sim.join()
        nm = len(sim.members)
        # every round ends with its DECISION on every member; the final one with STOP
        sim.run_until(lambda: len(sim.final) == nm, ROUNDS_WAIT_S, "final DECISION")
        sim.run_until(lambda: coord.exited_at is not None, ROUND_WAIT_S, "coordinator exit")
        wall = coord.exited_at - t0
        stuck = [r.round for r in sim.rounds.values() if len(r.arrivals) < nm]
        if stuck:
            raise ProtocolError("round %d: the DECISION reached %d of %d members"
                                % (stuck[0], len(sim.rounds[stuck[0]].arrivals), nm))
        check_rejected(coord)
        final = next(iter(sim.final.values()))[1]
        if final["stop_why"] != STOP_BUDGET or coord.rc != 1:
            raise ProtocolError("the job ended with stop_why %d, exit %s (expected "
                                "--max-restarts spent, exit 1)" % (final["stop_why"], coord.rc))
        lat, first = [], []
        for r in sim.rounds.values():
            lat.append(max(r.arrivals) - r.anchor_sent)
            first.append(min(r.arrivals) - r.anchor_sent)
        verdicts = [r.verdict[0] for r in sim.rounds.values()]
        return {"nodes": nnodes, "rounds": len(lat), "formed": formed, "lat": lat,
                "first": first, "cpu": coord.cpu_s, "hwm": coord.hwm_kb, "wall": wall,
                "continue": verdicts.count(CONTINUE), "restart": verdicts.count(RESTART)}
    except ProtocolError as e:
        raise failed(e, coord, "%d nodes" % nnodes)
    finally:
        sim.close()
        coord.stop()


def bench_loss(fd_bin, nnodes, how, tmp, token, interval_s=0.2, timeout_s=2.0):
    port = free_port()
    extra = ["--peer-interval", "%gs" % interval_s, "--peer-timeout", "%gs" % timeout_s,
             "--join-timeout", "%ds" % JOIN_WAIT_S, "--grace", "1s"]
    coord = Coordinator(fd_bin, nnodes, port, token, tmp, extra, ["sleep", "1000"])
    sim = Sim(token, nnodes, port, interval_s, coord)
    try:
        sim.join()
        nm = len(sim.members)
        gate = sim.rounds[0]
        sim.run_until(lambda: len(gate.arrivals) == nm, ROUND_WAIT_S, "gate DECISION")
        if gate.verdict[0] != CONTINUE:
            raise ProtocolError("the gate decided %s" % VERDICT_NAMES[gate.verdict[0]])
        sim.run_until(lambda: coord.events("start"), ROUND_WAIT_S, "launch on node 0")
        sim.idle(0.5)  # the attempt runs, every member beating
        victim = sim.members[nm // 2]
        if how == "close":
            victim.sock.close()
            sim.sel.unregister(victim.sock)
            victim.closed = True
            t0 = time.monotonic()
        else:
            victim.silent = True
            t0 = victim.last_tx  # its last frame: the coordinator's last sign of life from it
        others = nm - 1
        sim.run_until(lambda: len(sim.final) == others, timeout_s * 3 + ROUND_WAIT_S,
                      "peer-lost DECISION")
        sim.run_until(lambda: coord.exited_at is not None, ROUND_WAIT_S, "coordinator exit")
        whys = {d["stop_why"] for _, d in sim.final.values()}
        if whys != {STOP_PEER_LOST} or coord.rc != RUN_PEER_LOST:
            raise ProtocolError("stop_why %s, exit %s (expected PEER_LOST %d, exit %d)"
                                % (sorted(whys), coord.rc, STOP_PEER_LOST, RUN_PEER_LOST))
        lost = [d for _, d in sim.final.values()][0]
        if lost["node"] != victim.node:
            raise ProtocolError("node %d was named lost, not node %d"
                                % (lost["node"], victim.node))
        check_rejected(coord)
        return {"all": max(t for t, _ in sim.final.values()) - t0,
                "first": min(t for t, _ in sim.final.values()) - t0,
                "exit": coord.exited_at - t0, "why": lost["why"]}
    except ProtocolError as e:
        raise failed(e, coord, "%d nodes, a member %s" % (nnodes, how))
    finally:
        sim.close()
        coord.stop()


# A stall's verdicts as nodes stopped for node 0's stall send them (launcher/supervisor/
# stacks.c): most nodes cannot tell (every rank waits in a collective), one names its rank.
UNKNOWN_LINE = ("every rank waits in a collective: ranks 0,1,2,3,4,5,6,7 at train.py:104 in main "
                "(in distributed_c10d.py:2501 in all_reduce); the culprit is elsewhere or a desync")
CULPRIT_LINE = ("rank 4101 (pid 283114) at train.py:109 in main never entered collective 5017 of "
                "process group 0 (nccl:all_reduce; its newest: 5016); ranks 4096,4097,4098,4099,"
                "4100,4102,4103 wait in it")
DRAIN_LINE = "Xid 79 (GPU has fallen off the bus) on 0000:3b:00, 2.0 s ago (since the job started)"


def verdict_state(node, culprit_node, drain):
    v = {"failure": 0, "status": 0, "ended": 0, "stop_signal": 0, "max_step": 5016,
         "ckpts": [], "detail": "", "culprit_likely": 0, "culprit_rank": 0,
         "culprit": UNKNOWN_LINE}
    if node == culprit_node:
        v.update(culprit_likely=1, culprit_rank=4101, culprit=CULPRIT_LINE,
                 drain=DRAIN_LINE if drain else "")
    return encode(STATE, v)


def bench_attribution(fd_bin, nnodes, restarts, verdicts, tmp, token):
    """Node 0's rank stalls each attempt (it beats once); every other node, stopped for it,
    sends its verdict (verdicts) or none. Returns the stall rounds' latencies and whom their
    DECISIONs named."""
    port = free_port()
    extra = ["--max-restarts", str(restarts), "--backoff", "0", "--gpu-release-timeout", "0",
             "--no-progress-limit", "0", "--peer-interval", "1s", "--peer-timeout", "10s",
             "--join-timeout", "%ds" % JOIN_WAIT_S, "--grace", "1s", "--stall-timeout", "1s"]
    os.environ["FLIGHTDECK"] = fd_bin
    coord = Coordinator(fd_bin, nnodes, port, token, tmp, extra,
                        ["sh", "-c", '"$FLIGHTDECK" beat --step 1 && exec sleep 1000'])
    culprit = nnodes // 2
    if verdicts:
        states = {n: verdict_state(n, culprit, False) for n in (1, culprit)}
        end = lambda node: states[culprit if node == culprit else 1]  # noqa: E731
    else:
        end = None
    sim = Sim(token, nnodes, port, 1.0, coord, 0.01, end)
    try:
        sim.join()
        nm = len(sim.members)
        sim.run_until(lambda: len(sim.final) == nm, ROUNDS_WAIT_S, "final DECISION")
        sim.run_until(lambda: coord.exited_at is not None, ROUND_WAIT_S, "coordinator exit")
        check_rejected(coord)
        lat, named, whys = [], set(), set()
        for r in sim.rounds.values():
            if len(r.arrivals) < nm:
                raise ProtocolError("round %d: the DECISION reached %d of %d members"
                                    % (r.round, len(r.arrivals), nm))
            if r.verdict[0] == CONTINUE:
                continue  # a gate
            lat.append(max(r.arrivals) - r.anchor_sent)
            named.add(r.decision["node"])
            whys.add(r.decision["why"])
        want = culprit if verdicts else 0
        if named != {want} or len(lat) != restarts + 1:
            raise ProtocolError("%d stall rounds named nodes %s (expected %d rounds, node %d)"
                                % (len(lat), sorted(named), restarts + 1, want))
        if verdicts and not all(w.startswith("the culprit: node %d (sim-%d): rank 4101"
                                             % (culprit, culprit)) for w in whys):
            raise ProtocolError("a DECISION's why does not name the culprit: %s" % sorted(whys))
        return {"lat": lat, "culprit": culprit, "bytes": len(verdict_state(1, culprit, False)),
                "culprit_bytes": len(verdict_state(culprit, culprit, False)),
                "plain_bytes": len(STATE_PAYLOAD), "cpu": coord.cpu_s}
    except ProtocolError as e:
        raise failed(e, coord, "%d nodes, attribution" % nnodes)
    finally:
        sim.close()
        coord.stop()


STALL_JOB = r"""#!/bin/sh
# job.sh NODE LOG: a step every 0.1 s, each a beat and a line "NODE LAUNCH STEP TIME" in LOG;
# node 2 hangs at step 12 on the first launch; a launch after a restart makes 5 steps and ends.
node=$1 log=$2 step=0 last=1000
[ "$FLIGHTDECK_RESTART_COUNT" = 0 ] || last=5
while [ "$step" -lt "$last" ]; do
	step=$((step + 1))
	"$FLIGHTDECK" beat --step "$step"
	echo "$node $FLIGHTDECK_RESTART_COUNT $step $(date +%s.%N)" >>"$log"
	[ "$node" = 2 ] && [ "$FLIGHTDECK_RESTART_COUNT" = 0 ] && [ "$step" -eq 12 ] && sleep 1000
	sleep 0.1
done
"""


def bench_stall(fd_bin, tmp, token, stall="1s", grace="1s", backoff="0.2s"):
    port = free_port()
    job = os.path.join(tmp, "job.sh")
    with open(job, "w") as f:
        f.write(STALL_JOB)
    os.chmod(job, 0o755)
    env = dict(os.environ, FLIGHTDECK_TOKEN=token.decode(), FLIGHTDECK=fd_bin)
    flags = ["--stall-timeout", stall, "--grace", grace, "--backoff", backoff,
             "--gpu-release-timeout", "0", "--peer-interval", "0.2s", "--peer-timeout", "3s",
             "--join-timeout", "30s", "--max-restarts", "1"]
    agents = []
    try:
        for n in range(3):
            log = os.path.join(tmp, "beats%d" % n)
            ev = os.path.join(tmp, "n%d.ev" % n)
            argv = [fd_bin, "run", "--no-config", "--node-rank", str(n), "--nnodes", "3",
                    "--coordinator", "127.0.0.1:%d" % port, "--preflight", "none",
                    "--events", ev] + flags + ["--", job, str(n), log]
            with open(os.path.join(tmp, "n%d.err" % n), "wb") as err:
                agents.append((subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                                                env=env), ev, log))
        end = time.monotonic() + 60
        for p, _, _ in agents:
            p.wait(max(1, end - time.monotonic()))
        rcs = [p.returncode for p, _, _ in agents]

        def events(path, name):
            with open(path) as f:
                return [e for e in map(json.loads, f) if e.get("event") == name]

        stalls = events(agents[2][1], "stall")
        starts = [[e for e in events(ev, "start") if e.get("restart") == 1]
                  for _, ev, _ in agents]
        firsts = []
        for _, _, log in agents:
            with open(log) as f:
                rows = [line.split() for line in f]
            firsts.append(min((float(r[3]) for r in rows if r[1] == "1"), default=None))
        if rcs != [0, 0, 0] or not stalls or not all(starts) or None in firsts:
            raise ProtocolError("stall: exits %s, %d stall events, relaunches %s, new steps %s"
                                % (rcs, len(stalls), [len(s) for s in starts], firsts))
        t = stalls[0]["time"]
        return {"relaunch": max(s[0]["time"] for s in starts) - t, "step": max(firsts) - t,
                "stall": stall, "grace": grace, "backoff": backoff}
    except subprocess.TimeoutExpired:
        raise ProtocolError("stall: the agents did not finish within 60 s")
    finally:
        for p, _, _ in agents:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, _, _ in agents:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def golden_one(path_json):
    """Checks one golden frame (NAME.bin beside NAME.json); returns (type, a line saying what
    was checked). Raises ProtocolError naming the first difference."""
    with open(path_json) as f:
        want = json.load(f)
    with open(path_json[:-len(".json")] + ".bin", "rb") as f:
        raw = f.read()
    token = want["token"].encode()
    got, k = parse(token, raw, 0)
    if not got or k != len(raw):
        raise ProtocolError("not one whole frame (%d bytes, %d taken)" % (len(raw), k))
    ftype, node, gen, rnd, payload = got
    head = {"type_code": ftype, "node": node, "gen": gen, "round": rnd,
            "payload_bytes": len(payload), "type": TYPE_NAMES[ftype],
            "payload_version": payload[0] if payload else 0}
    for key, v in head.items():
        if want[key] != v:
            raise ProtocolError("%s is %r, the file's values say %r" % (key, v, want[key]))
    fields = decode(ftype, payload)
    for key in sorted(set(fields) | set(want["fields"])):
        if key not in fields or key not in want["fields"] or fields[key] != want["fields"][key]:
            raise ProtocolError("field %s decodes as %r, expected %r"
                                % (key, fields.get(key), want["fields"].get(key)))
    again = encode(ftype, fields)
    if frame(token, ftype, node, gen, rnd, again) != raw:
        at = next((i for i, (a, b) in enumerate(zip(again, payload)) if a != b),
                  min(len(again), len(payload)))
        raise ProtocolError("re-encoded, it differs from payload byte %d on (payload %d bytes, "
                            "the file's %d)" % (at, len(again), len(payload)))
    # the rule for change: trailing bytes are skipped, another version is refused
    if ftype != BEAT:
        if decode(ftype, payload + b"\x00\x07later") != fields:
            raise ProtocolError("trailing bytes changed what it decodes to")
        try:
            decode(ftype, bytes([payload[0] + 1]) + payload[1:])
        except UnknownVersion:
            pass
        else:
            raise ProtocolError("a payload of version %d was not refused" % (payload[0] + 1))
    forged = bytearray(raw)
    forged[24] ^= 1
    try:
        parse(token, forged, 0)
    except ProtocolError:
        pass
    else:
        raise ProtocolError("a frame with an altered MAC was accepted")
    return ftype, ("%-8s %3d payload bytes, version %d: MAC, %d fields, re-encoded"
                   % (TYPE_NAMES[ftype], len(payload), head["payload_version"], len(fields)))


def golden(dirs):
    """--golden: every NAME.json/NAME.bin pair of each directory, every frame type in each."""
    bad = 0
    for d in dirs:
        names = sorted(n for n in os.listdir(d) if n.endswith(".json"))
        seen = set()
        print("golden frames in %s:" % d)
        for n in names:
            try:
                with open(os.path.join(d, n)) as f:
                    seen.add(json.load(f)["type_code"])
                ftype, line = golden_one(os.path.join(d, n))
                print("  %-14s ok: %s" % (n[:-5] + ".bin", line))
            except (ProtocolError, OSError, ValueError, KeyError, struct.error) as e:
                bad += 1
                print("  %-14s FAIL: %s" % (n[:-5] + ".bin", e))
        for t in sorted(set(TYPE_NAMES) - seen):
            bad += 1
            print("  FAIL: no golden %s frame checked" % TYPE_NAMES[t])
    print("golden: %s" % ("every frame decoded, checked and re-encoded" if not bad
                          else "%d failure(s)" % bad))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description="the node group at scale")
    ap.add_argument("flightdeck", nargs="?")
    ap.add_argument("--sizes", default="64,256,1024")
    ap.add_argument("--restarts", type=int, default=100,
                    help="--max-restarts of the round benchmark: 2 rounds per attempt")
    ap.add_argument("--hold-ms", type=float, default=10)
    ap.add_argument("--loss-nodes", type=int, default=1024)
    ap.add_argument("--skip-rounds", action="store_true",
                    help="no barrier rounds (group-scale.sh measures them with group-sim)")
    ap.add_argument("--skip-loss", action="store_true")
    ap.add_argument("--skip-stall", action="store_true")
    ap.add_argument("--attribution-nodes", type=int, default=1024,
                    help="the stall attribution benchmark's size (0: skipped)")
    ap.add_argument("--attribution-restarts", type=int, default=5)
    ap.add_argument("--golden", nargs="+", metavar="DIR",
                    help="check the golden frames in each DIR (tests/fixtures/frames) instead")
    a = ap.parse_args()
    if a.golden:
        return golden(a.golden)
    if not a.flightdeck:
        ap.error("the flightdeck binary is needed, except with --golden")
    sizes = [int(x) for x in a.sizes.split(",")]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cleanup runs in the finally's
    token = os.urandom(32).hex().encode()
    tmp = tempfile.mkdtemp(prefix="flightdeck-group.")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    most = soft - FD_SPARE  # the coordinator and the simulator each hold one fd per member
    try:
        if not a.skip_rounds:
            print("node group on loopback: one process plays nodes 1..N-1 over N-1 TCP connections "
                  "to a real coordinator (open-file limit %d)" % soft)
            print("barrier rounds: node 0 runs sh -c 'exit 1' with --max-restarts %d --backoff 0 "
                  "--gpu-release-timeout 0 --no-progress-limit 0, --peer-interval 1s "
                  "--peer-timeout 10s; the last STATE %g ms after the others"
                  % (a.restarts, a.hold_ms))
            print("  %6s %7s %10s %8s %8s %8s %10s %11s %8s %9s"
                  % ("nodes", "rounds", "formed ms", "p50 ms", "p99 ms", "max ms", "first p50",
                     "coord CPU s", "wall s", "VmHWM MB"))
            for n in sizes:
                if n > most:
                    print("  %6d skipped: the open-file limit %d is too low" % (n, soft))
                    continue
                r = bench_rounds(a.flightdeck, n, a.restarts, a.hold_ms / 1000, tmp, token)
                ms = [1000 * x for x in r["lat"]]
                print("  %6d %7d %10.1f %8.2f %8.2f %8.2f %10.2f %11.2f %8.1f %9.1f"
                      % (n, r["rounds"], 1000 * r["formed"], statistics.median(ms), pct(ms, 99),
                         max(ms), 1000 * statistics.median(r["first"]), r["cpu"], r["wall"],
                         r["hwm"] / 1024))
                sys.stdout.flush()
            print("  (a round: the last member's STATE sent -> the DECISION read on all N-1 "
                  "connections, 'first p50' on the first; coordinator CPU (utime+stime) and VmHWM "
                  "over the whole run, joins included; target p99 < 50 ms at 1024)")
        if not a.skip_loss:
            n = min(a.loss_nodes, most)
            print("lost node, %d nodes, node 0 running sleep 1000, --peer-interval 0.2s "
                  "--peer-timeout 2s:" % n)
            for how, say, since in (("close", "a member closes its connection", "the close"),
                                    ("silent", "a member stops beating, socket left open",
                                     "its last frame")):
                r = bench_loss(a.flightdeck, n, how, tmp, token)
                print("  %s: the peer-lost DECISION read on all %d others %.1f ms after %s "
                      "(first %.1f ms); node 0 exited 75 after %.1f ms"
                      % (say, n - 2, 1000 * r["all"], since, 1000 * r["first"],
                         1000 * r["exit"]))
                sys.stdout.flush()
        n = min(a.attribution_nodes, most)
        if n >= 4:
            print("stall attribution, %d nodes: node 0's rank stalls (--stall-timeout 1s, "
                  "--max-restarts %d); every other node, stopped for it, sends its STATE"
                  % (n, a.attribution_restarts))
            print("  %-40s %6s %8s %8s %8s %11s %s" % ("members' STATE", "rounds", "p50 ms",
                                                   "p99 ms", "max ms", "coord CPU s",
                                                   "the DECISION names"))
            for verdicts in (False, True):
                r = bench_attribution(a.flightdeck, n, a.attribution_restarts, verdicts, tmp,
                                      token)
                ms = [1000 * x for x in r["lat"]]
                say = ("with verdicts (%d B; node %d's %d B)"
                       % (r["bytes"], r["culprit"], r["culprit_bytes"]) if verdicts
                       else "no verdict (%d B)" % r["plain_bytes"])
                print("  %-40s %6d %8.2f %8.2f %8.2f %11.2f %s"
                      % (say, len(ms), statistics.median(ms), pct(ms, 99), max(ms), r["cpu"],
                         "node %d, the culprit's" % r["culprit"] if verdicts
                         else "node 0, first to stall"))
                sys.stdout.flush()
            print("  (a stall round: the last member's STATE sent -> the DECISION read on all "
                  "N-1 connections; target: the verdicts add < 1 s at 1024 nodes)")
        if not a.skip_stall:
            r = bench_stall(a.flightdeck, tmp, token)
            print("stall on node 2 of 3 real agents (--stall-timeout %s --grace %s --backoff %s "
                  "--gpu-release-timeout 0): its stall event -> the last node relaunched "
                  "%.0f ms, -> the first new step on every node %.0f ms"
                  % (r["stall"], r["grace"], r["backoff"], 1000 * r["relaunch"],
                     1000 * r["step"]))
        return 0
    except ProtocolError as e:
        print("protocol failure: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
