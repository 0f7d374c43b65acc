/*
 * test_frame.c - the node group's frames: the codec as a connection sees it (whole, partial,
 * forged, altered, oversized, not ours) and the payloads' round trips and refusals.
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
	buf[4] = 2; /* a later version */
	CHECK_EQ_INT(fd_frame_parse(buf, (size_t)n, &tok, &f), -EPROTO);
	buf[4] = 1;
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
	/* truncated or with trailing bytes: refused */
	CHECK_EQ_INT(fd_hello_get(buf, n - 1, &h2), -EBADMSG);
	CHECK_EQ_INT(fd_hello_get(buf, n + 1, &h2), -EBADMSG);

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

const struct unit_test frame_tests[] = {
    {"frame: build and parse, whole and in pieces", frame_round_trip},
    {"frame: another token or any altered byte is refused", frame_forged},
    {"frame: not ours, unknown, oversized", frame_not_ours},
    {"frame: payloads round trip; truncated, odd values and paths refused", payload_round_trips},
    {NULL, NULL},
};
