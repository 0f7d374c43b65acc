#!/bin/sh
# Strangers at the coordinator's port: bytes that are not frames, a HELLO signed with another
# token, an oversized header, a truncated frame, a correctly signed HELLO of an earlier
# generation (docs/protocol.md). Each is refused and counted (an event "rejected"), and the
# group is unharmed: node 1, starting 2 s late (inside --join-timeout, no false alarm), joins
# and the job finishes on both nodes. A correctly signed HELLO for a job of another size, or
# whose payload has a version this build does not read, comes from a holder of the token, so
# from this job started with other flags or another build: it ends the job with 2 (t0179 has
# the real agents). Then peers that joined but speak
# another payload version, a member's STATE and a coordinator's DECISION: each end is refused,
# its connection ended and its peer lost (exit 75), the versions said.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

cat >"$TMP/stranger.py" <<'PY'
import hashlib, hmac, socket, struct, sys, time

port, token, what = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]

def frame(typ, node, gen, rnd, payload, key=token, length=None):
    n = len(payload) if length is None else length
    hdr = struct.pack(">IBBHIIII", 0x46444746, 3, typ, 0, node, gen, rnd, n)
    mac = hmac.new(key, hdr + payload, hashlib.sha256).digest()[:16]
    return hdr + mac + payload

def hello(nnodes, host=b"stranger", version=1):
    return struct.pack(">BIIH", version, nnodes, 4242, len(host)) + host

if what == "member-version":  # joins as node 1, then sends a STATE of another payload version
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(frame(1, 1, 0, 0, hello(2)))
    s.settimeout(10)
    buf = b""
    while len(buf) < 40:
        more = s.recv(4096)
        if not more:
            sys.exit("closed before the WELCOME")
        buf += more
    gen, rnd = struct.unpack(">II", buf[12:20])
    s.sendall(frame(4, 1, gen, rnd, b"\x09" + bytes(30)))
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    sys.exit(0)
if what == "coordinator-version":  # node 0 that welcomes, then decides in another version
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    ls.settimeout(20)
    s, _ = ls.accept()
    s.settimeout(10)
    buf = b""
    while len(buf) < 40:
        more = s.recv(4096)
        if not more:
            sys.exit("closed before its HELLO")
        buf += more
    s.sendall(frame(2, 0, 0, 0, hello(2, b"")))
    s.sendall(frame(7, 0, 0, 0, b"\x09" + bytes(40)))
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    sys.exit(0)
if what == "flood":  # a port scanner: 150 connections of garbage
    for _ in range(150):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"\x16\x03\x01\x02\x00")  # a TLS ClientHello's first bytes
        s.close()
    sys.exit(0)
data = {
    "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "token": frame(1, 1, 0, 0, hello(2), key=b"another-job"),
    "oversized": frame(1, 1, 0, 0, b"", length=0x7FFFFFFF),
    "truncated": frame(1, 1, 0, 0, hello(2))[:30],
    "generation": frame(1, 1, 5, 0, hello(2)),
    "size": frame(1, 1, 0, 0, hello(64)),
    "version": frame(1, 1, 0, 0, hello(2, version=9)),
}[what]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
PY

cat >"$TMP/job.sh" <<'JOB'
#!/bin/sh
for i in 1 2 3 4 5 6 7 8 9 10; do "$FLIGHTDECK" beat --step "$i"; sleep 0.1; done
JOB
chmod +x "$TMP/job.sh"
export FLIGHTDECK

agent 0 2 --stall-timeout 5s -- "$TMP/job.sh"
sleep 0.5
for w in garbage token oversized truncated generation; do
	python3 "$TMP/stranger.py" "$PORT" "$FLIGHTDECK_TOKEN" "$w" || fail "the stranger ($w) could not connect"
done
sleep 1.5
agent 1 2 --stall-timeout 5s -- "$TMP/job.sh"
wait_agents 30 0 1
expect_agent_rc 0 0
expect_agent_rc 1 0
n=$(node_event 0 '.event=="group" and .group=="rejected"')
[ "$n" -eq 5 ] || { cat "$TMP/n0.ev"; fail "expected 5 rejections, got $n"; }
for pat in "not a flightdeck frame" "signed with another token" "an oversized frame" \
	"connection closed inside a frame" "rejoins from an earlier generation"; do
	grep -q "$pat" "$TMP/n0.err" || { dump_agents 0; fail "no rejection says '$pat'"; }
done
[ "$(node_event 0 '.event=="group" and (.group=="lost" or .group=="join_timeout")')" -eq 0 ] || fail "a false alarm"
expect_node_event 0 '.event=="group" and .group=="joined" and .node==1'
ok "5 strangers refused and counted, each saying why; node 1 joined 2 s late; both finished with 0"

# signed, but another size or another payload version: the job ends with 2, the reason said
for w in size version; do
	PORT=$(free_port)
	agent 0 2 --stall-timeout 5s -- "$TMP/job.sh"
	wait_for 10 sh -c "ss -ltn | grep -q ':$PORT '" || fail "node 0 never listened"
	python3 "$TMP/stranger.py" "$PORT" "$FLIGHTDECK_TOKEN" "$w" || fail "the stranger ($w) could not connect"
	wait_agents 10 0
	expect_agent_rc 0 2
done
grep -q "a HELLO of payload version 9, this build reads version 1" "$TMP/n0.err" ||
	{ dump_agents 0; fail "the version is not said"; }
ok "a signed HELLO of another size or payload version ends the job with 2, the version said"

# a flood of strangers is counted, and said only now and then
PORT=$(free_port)
agent 0 2 --stall-timeout 5s -- "$TMP/job.sh"
sleep 0.5
python3 "$TMP/stranger.py" "$PORT" "$FLIGHTDECK_TOKEN" flood || fail "the flood could not connect"
agent 1 2 --stall-timeout 5s -- "$TMP/job.sh"
wait_agents 30 0 1
expect_agent_rc 0 0
expect_agent_rc 1 0
n=$(node_event 0 '.event=="group" and .group=="rejected"')
[ "$n" -eq 11 ] || fail "150 refusals made $n events, expected 11 (the first 10, then every 100th)"
grep -q "(100 refused so far)" "$TMP/n0.err" || fail "the 100th refusal was not said with its count"
ok "150 strangers: all refused, 11 lines said (the first 10 and the 100th, with the count)"

# an admitted member whose STATE has a payload version this build does not read: the frame is
# refused and the connection ended, so the node is lost (exit 75), said with the reason
PORT=$(free_port)
agent 0 2 --stall-timeout 5s -- "$TMP/job.sh"
sleep 0.5
python3 "$TMP/stranger.py" "$PORT" "$FLIGHTDECK_TOKEN" member-version || fail "the member could not join"
wait_agents 30 0
expect_agent_rc 0 75
grep -q "lost: a STATE of payload version 9, this build reads version 1" "$TMP/n0.err" ||
	{ dump_agents 0; fail "the loss does not say the payload version"; }
ok "a member speaking another STATE payload version: refused, lost (exit 75), the version said"

# a coordinator whose DECISION has a payload version this build does not read: the member
# refuses it, ends the connection and stops: the coordinator is lost (exit 75), said with why
PORT=$(free_port)
python3 "$TMP/stranger.py" "$PORT" "$FLIGHTDECK_TOKEN" coordinator-version &
coord=$!
sleep 0.3
agent 1 2 --stall-timeout 5s -- "$TMP/job.sh"
wait_agents 30 1
wait "$coord" || fail "the stand-in coordinator failed"
expect_agent_rc 1 75
grep -q "lost: a DECISION of payload version 9, this build reads version 2" "$TMP/n1.err" ||
	{ dump_agents 1; fail "the loss does not say the payload version"; }
ok "a coordinator speaking another DECISION payload version: refused, lost (exit 75), the version said"
