/*
 * test_frame.c - the node group's frames: the codec as a connection sees it (whole, partial,
 * forged, altered, oversized, not ours) and the payloads' round trips, refusals and versions.
 */
#include "testhelp.h"
#include "frame.h"

#include <errno.h>

static const struct fd_token tok = {.b = "job-secret", .n = 10};
static const struct fd_token other = {.b = "job-secreu", .n = 10};

static void frame_round_trip(void)
{
	uint8_t buf[FD_FRAME_HDR + 64];
	struct fd_frame f;
	long n = fd_frame_build(buf, sizeof(buf), FR_STATE, 7, 3, 11, "hello", 5, &tok);

	CHECK_EQ_INT(n, FD_FRAME_HDR + 5);
	CHECK_EQ_INT(fd_frame_parse(buf, (size_t)n, &tok, &f), n);
	CHECK_EQ_INT(f.type, FR_STATE);
	CHECK_EQ_INT(f.node, 7);
	CHECK_EQ_INT(f.gen, 3);
	CHECK_EQ_INT(f.round, 11);
	CHECK_EQ_INT(f.len, 5);
	CHECK(!memcmp(f.payload, "hello", 5));
	/* every prefix is "more, please" */
	for (long k = 0; k < n; k++)
		CHECK_EQ_INT(fd_frame_parse(buf, (size_t)k, &tok, &f), 0);
	/* an empty payload */
	n = fd_frame_build(buf, sizeof(buf), FR_BEAT, 0, 0, 0, NULL, 0, &tok);
	CHECK_EQ_INT(n, FD_FRAME_HDR);
	CHECK_EQ_INT(fd_frame_parse(buf, (size_t)n, &tok, &f), FD_FRAME_HDR);
	/* no room */
	CHECK_EQ_INT(fd_frame_build(buf, 10, FR_BEAT, 0, 0, 0, NULL, 0, &tok), -EMSGSIZE);
}

/* Another job's token, a flipped bit anywhere, a frame moved to another node or round. */
static void frame_forged(void)
{
	uint8_t buf[FD_FRAME_HDR + 64], copy[sizeof(buf)];
	struct fd_frame f;
	long n = fd_frame_build(buf, sizeof(buf), FR_HALT, 2, 1, 4, "payload!", 8, &tok);

	CHECK_EQ_INT(fd_frame_parse(buf, (size_t)n, &other, &f), -EBADMSG);
	for (long i = 8; i < n; i++) { /* past magic, version, type and flags */
		memcpy(copy, buf, (size_t)n);
		copy[i] ^= 0x10;
		if (i >= 20 && i < 24) /* the length: a shorter or longer frame, or oversized */
			continue;
		CHECK_EQ_INT(fd_frame_parse(copy, (size_t)n, &tok, &f), -EBADMSG);
	}
}

static void frame_not_ours(void)
{
	uint8_t buf[FD_FRAME_HDR + 8];
	struct fd_frame f;
	long n = fd_frame_build(buf, sizeof(buf), FR_BEAT, 1, 0, 0, NULL, 0, &tok);

	/* an HTTP probe is refused on its first four bytes */
	CHECK_EQ_INT(fd_frame_parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &tok, &f), -EPROTO);
	CHECK_EQ_INT(fd_frame_parse((const uint8_t *)"GET ", 4, &tok, &f), -EPROTO);
	buf[4] = FD_FRAME_VERSION + 1; /* a later header */
	CHECK_EQ_INT(fd_frame_parse(buf, (size_t)n, &tok, &f), -EPROTO);
	buf[4] = 1; /* the header of payloads without their version byte */
	CHECK_EQ_INT(fd_frame_parse(buf, 5, &tok, &f), -EPROTO);
	buf[4] = FD_FRAME_VERSION;
	buf[5] = 0; /* no such type */
	CHECK_EQ_INT(fd_frame_parse(buf, (size_t)n, &tok, &f), -EPROTO);
	buf[5] = FR_TYPE_MAX;
	CHECK_EQ_INT(fd_frame_parse(buf, (size_t)n, &tok, &f), -EPROTO);
	buf[5] = FR_BEAT;
	buf[7] = 1; /* flags */
	CHECK_EQ_INT(fd_frame_parse(buf, (size_t)n, &tok, &f), -EPROTO);
	buf[7] = 0;
	/* a length over the maximum is refused from the header alone */
	buf[20] = 0x7f;
	CHECK_EQ_INT(fd_frame_parse(buf, FD_FRAME_HDR, &tok, &f), -EMSGSIZE);
	buf[20] = 0;
	buf[21] = 1; /* 65536 + 0: exactly the maximum, so more bytes wanted */
	buf[22] = 0;
	buf[23] = 0;
	CHECK_EQ_INT(fd_frame_parse(buf, FD_FRAME_HDR, &tok, &f), 0);
	buf[23] = 1; /* one over */
	CHECK_EQ_INT(fd_frame_parse(buf, FD_FRAME_HDR, &tok, &f), -EMSGSIZE);
	CHECK_EQ_INT(
	    fd_frame_build(buf, sizeof(buf), FR_BEAT, 0, 0, 0, buf, FD_FRAME_MAX + 1, &tok),
	    -EMSGSIZE);
}

static void payload_round_trips(void)
{
	static uint8_t buf[FD_FRAME_MAX];
	static struct fd_node_state s, s2;
	struct fd_decision d = {0}, d2;
	struct fd_hello h = {.nnodes = 4, .pid = 1234}, h2;
	size_t n;

	strcpy(h.host, "gpu03");
	n = fd_hello_put(buf, sizeof(buf), &h);
	CHECK_EQ_INT(fd_hello_get(buf, n, &h2), 0);
	CHECK_STREQ(h2.host, "gpu03");
	CHECK_EQ_INT(h2.pid, 1234);
	/* truncated: refused; a trailing byte (a later writer's field) is skipped */
	CHECK_EQ_INT(fd_hello_get(buf, n - 1, &h2), -EBADMSG);
	CHECK_EQ_INT(fd_hello_get(buf, n + 1, &h2), 0);
	CHECK_STREQ(h2.host, "gpu03");

	s.failure = FD_FAIL_STALL;
	s.status = 0;
	s.stop_signal = 15;
	s.max_step = 1234567890123LL;
	s.nckpts = FD_GROUP_CKPTS;
	for (int i = 0; i < FD_GROUP_CKPTS; i++)
		snprintf(s.ckpts[i], sizeof(s.ckpts[i]), "step-%d", 100 - i);
	strcpy(s.detail, "rank 3 silent for 12 s after step 40");
	n = fd_state_put(buf, sizeof(buf), &s);
	CHECK(n > 0);
	CHECK_EQ_INT(fd_state_get(buf, n, &s2), 0);
	CHECK_EQ_INT(s2.failure, FD_FAIL_STALL);
	CHECK_EQ_INT(s2.stop_signal, 15);
	CHECK(s2.max_step == 1234567890123LL);
	CHECK_EQ_INT(s2.nckpts, FD_GROUP_CKPTS);
	CHECK_STREQ(s2.ckpts[15], "step-85");
	CHECK_STREQ(s2.detail, s.detail);
	for (size_t k = 0; k < n; k++)
		CHECK_EQ_INT(fd_state_get(buf, k, &s2), -EBADMSG);
	/* values no agent sends */
	s.failure = 99;
	n = fd_state_put(buf, sizeof(buf), &s);
	CHECK_EQ_INT(fd_state_get(buf, n, &s2), -EBADMSG);

	d.verdict = FD_RESTART;
	d.failure = FD_FAIL_CRASH;
	d.node = 3;
	d.status = 137;
	d.restarts = 2;
	d.last_max_step = -1;
	d.gen = 5;
	d.master_port = 45678;
	strcpy(d.checkpoint, "step-90");
	strcpy(d.why, "node 3 (gpu04): rank 5 exited 137");
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), 0);
	CHECK(!memcmp(&d, &d2, sizeof(d)));
	/* a checkpoint name is a name under the node's own directory, never a path */
	strcpy(d.checkpoint, "../../etc");
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);
	strcpy(d.checkpoint, "..");
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);
	/* a string holding a NUL */
	strcpy(d.checkpoint, "ok");
	n = fd_decision_put(buf, sizeof(buf), &d);
	buf[n - 2 - 2 - strlen(d.why) - 4 - 1] = 0; /* the last byte of the checkpoint name */
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);
}

/*
 * Every payload opens with its version byte: another version is refused before any field is
 * read, an empty payload is cut short, and bytes after the known fields are skipped (a later
 * writer's additive fields, docs/protocol.md "Changing").
 */
static void payload_versions(void)
{
	static uint8_t buf[FD_FRAME_MAX];
	static struct fd_node_state s, s2;
	static struct fd_world_msg m = {.kind = FW_DONE, .status = 1}, m2;
	struct fd_decision d = {.verdict = FD_CONTINUE, .node = -1, .master_port = 29500}, d2;
	struct fd_hello h = {.nnodes = 2, .pid = 7}, h2;
	size_t n;

	strcpy(h.host, "gpu01");
	n = fd_hello_put(buf, sizeof(buf), &h);
	CHECK_EQ_INT(buf[0], FD_HELLO_VERSION);
	memcpy(buf + n, "\x01\x02\x03", 3);
	CHECK_EQ_INT(fd_hello_get(buf, n + 3, &h2), 0);
	CHECK_STREQ(h2.host, "gpu01");
	CHECK_EQ_INT(fd_hello_get(buf, 0, &h2), -EBADMSG);
	buf[0] = FD_HELLO_VERSION + 1;
	CHECK_EQ_INT(fd_hello_get(buf, n, &h2), -EPROTONOSUPPORT);
	buf[0] = 0;
	CHECK_EQ_INT(fd_hello_get(buf, n, &h2), -EPROTONOSUPPORT);
	/* a later version is refused even when it is only one byte long */
	buf[0] = FD_HELLO_VERSION + 1;
	CHECK_EQ_INT(fd_hello_get(buf, 1, &h2), -EPROTONOSUPPORT);

	s.failure = FD_FAIL_CRASH;
	s.status = 1;
	s.nckpts = 1;
	strcpy(s.ckpts[0], "step-4");
	n = fd_state_put(buf, sizeof(buf), &s);
	CHECK_EQ_INT(buf[0], FD_STATE_VERSION);
	memcpy(buf + n, "\x00\x00\x00\x09", 4);
	CHECK_EQ_INT(fd_state_get(buf, n + 4, &s2), 0);
	CHECK_STREQ(s2.ckpts[0], "step-4");
	CHECK_EQ_INT(s2.failure, FD_FAIL_CRASH);
	buf[0] = FD_STATE_VERSION + 1;
	CHECK_EQ_INT(fd_state_get(buf, n, &s2), -EPROTONOSUPPORT);

	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(buf[0], FD_DECISION_VERSION);
	memcpy(buf + n, "\xff", 1);
	CHECK_EQ_INT(fd_decision_get(buf, n + 1, &d2), 0);
	CHECK(!memcmp(&d, &d2, sizeof(d)));
	buf[0] = FD_DECISION_VERSION + 1;
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EPROTONOSUPPORT);
	/* cut anywhere before master_port, the last field: refused */
	buf[0] = FD_DECISION_VERSION;
	for (size_t k = 0; k < n; k++)
		CHECK_EQ_INT(fd_decision_get(buf, k, &d2), -EBADMSG);

	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(buf[0], FD_WORLD_VERSION);
	memcpy(buf + n, "\x00\x05hello", 7);
	CHECK_EQ_INT(fd_world_get(buf, n + 7, &m2), 0);
	CHECK_EQ_INT(m2.kind, FW_DONE);
	CHECK_EQ_INT(m2.status, 1);
	buf[0] = FD_WORLD_VERSION + 1;
	CHECK_EQ_INT(fd_world_get(buf, n, &m2), -EPROTONOSUPPORT);

	CHECK_EQ_INT(fd_payload_version(FR_BEAT), 0);
	CHECK_EQ_INT(fd_payload_version(FR_WELCOME), FD_HELLO_VERSION);
	CHECK_EQ_INT(fd_payload_version(FR_HALT), FD_STATE_VERSION);
	CHECK_EQ_INT(fd_payload_version(FR_STOP), FD_DECISION_VERSION);
	CHECK_EQ_INT(fd_payload_version(FR_WORLD), FD_WORLD_VERSION);
}

const struct unit_test frame_tests[] = {
    {"frame: build and parse, whole and in pieces", frame_round_trip},
    {"frame: another token or any altered byte is refused", frame_forged},
    {"frame: not ours, unknown, oversized", frame_not_ours},
    {"frame: payloads round trip; truncated, odd values and paths refused", payload_round_trips},
    {"frame: payload versions: another refused, trailing bytes skipped", payload_versions},
    {NULL, NULL},
};
