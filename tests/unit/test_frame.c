/*
 * test_frame.c - the node group's frames: the codec as a connection sees it (whole, partial,
 * forged, altered, oversized, not ours), the payloads' round trips, refusals and versions, and
 * one frame of every type against the golden bytes in tests/fixtures/frames (docs/protocol.md).
 */
#include "testhelp.h"
#include "frame.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

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
	CHECK_EQ_INT(fd_hello_get(buf, n - 5, &h2), -EBADMSG);
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
	s.no_ckpt_dir = 1;
	s.opts_known = 1;
	s.max_restarts = 7;
	s.no_progress_limit = 2;
	s.stall_timeout_ms = 90000;
	s.culprit_likely = 1;
	s.culprit_rank = 5;
	strcpy(s.culprit, "rank 5 (pid 9) stopped (state T)");
	strcpy(s.drain, "Xid 79 on 0000:3b:00, 2.0 s ago (since the job started)");
	s.nfr = 1;
	s.fr[0] = (struct fd_fr_wave){.pg = 2, .lo = 16, .lo_rank = 5, .hi = 17};
	strcpy(s.fr[0].op, "nccl:all_reduce");
	n = fd_state_put(buf, sizeof(buf), &s);
	CHECK(n > 0);
	CHECK_EQ_INT(fd_state_get(buf, n, &s2), 0);
	CHECK_EQ_INT(s2.failure, FD_FAIL_STALL);
	CHECK_EQ_INT(s2.stop_signal, 15);
	CHECK(s2.max_step == 1234567890123LL);
	CHECK_EQ_INT(s2.nckpts, FD_GROUP_CKPTS);
	CHECK_STREQ(s2.ckpts[15], "step-85");
	CHECK_STREQ(s2.detail, s.detail);
	CHECK_EQ_INT(s2.no_ckpt_dir, 1);
	CHECK_EQ_INT(s2.opts_known, 1);
	CHECK_EQ_INT(s2.max_restarts, 7);
	CHECK_EQ_INT(s2.no_progress_limit, 2);
	CHECK(s2.stall_timeout_ms == 90000);
	CHECK_EQ_INT(s2.culprit_likely, 1);
	CHECK_EQ_INT(s2.culprit_rank, 5);
	CHECK_STREQ(s2.culprit, s.culprit);
	CHECK_STREQ(s2.drain, s.drain);
	CHECK_EQ_INT(s2.nfr, 1);
	CHECK_EQ_INT(s2.fr[0].pg, 2);
	CHECK(s2.fr[0].lo == 16 && s2.fr[0].hi == 17);
	CHECK_EQ_INT(s2.fr[0].lo_rank, 5);
	CHECK_STREQ(s2.fr[0].op, "nccl:all_reduce");
	/* cut short: refused, but where the fields added to version 1 start, which reads as an
	 * older writer's payload: "has a directory", no options (the flags, 18 bytes), no
	 * culprit (7 bytes and its line), no node to drain (2 bytes and its line), no flight
	 * recorder (1 byte, then 26 and the name for each group) */
	size_t fr = 1 + 26 + strlen(s.fr[0].op), drain = 2 + strlen(s.drain) + fr,
	       tail = 7 + strlen(s.culprit) + drain;
	for (size_t k = 0; k < n; k++)
		CHECK_EQ_INT(fd_state_get(buf, k, &s2),
			     k == n - tail - 18 || k == n - tail || k == n - drain || k == n - fr
				 ? 0
				 : -EBADMSG);
	CHECK_EQ_INT(fd_state_get(buf, n - fr, &s2), 0);
	CHECK_EQ_INT(s2.nfr, 0);
	CHECK_STREQ(s2.drain, s.drain);
	CHECK_EQ_INT(fd_state_get(buf, n - drain, &s2), 0);
	CHECK_EQ_INT(s2.culprit_likely, 1);
	CHECK_STREQ(s2.drain, "");
	CHECK_EQ_INT(fd_state_get(buf, n - tail, &s2), 0);
	CHECK_EQ_INT(s2.culprit_likely, 0);
	CHECK_EQ_INT(s2.opts_known, 1);
	CHECK_EQ_INT(fd_state_get(buf, n - tail - 18, &s2), 0);
	CHECK_EQ_INT(s2.no_ckpt_dir, 0);
	CHECK_EQ_INT(s2.opts_known, 0);
	/* values no agent sends */
	s.fr[0].lo = 18; /* its oldest newer than its newest */
	n = fd_state_put(buf, sizeof(buf), &s);
	CHECK_EQ_INT(fd_state_get(buf, n, &s2), -EBADMSG);
	s.fr[0].lo = 16;
	buf[n - fr] = FD_FR_PGS + 1; /* more groups than any node sends */
	CHECK_EQ_INT(fd_state_get(buf, n, &s2), -EBADMSG);
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
	/* the last byte of the checkpoint name: before gen, why, master_port, the policy and the
	 * training set (5 bytes with nothing moved) */
	buf[n - 5 - 8 - 2 - 2 - strlen(d.why) - 4 - 1] = 0;
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);

	/* the training set (hot spares): read back; a set no coordinator could mean refused */
	memset(d.checkpoint, 0, sizeof(d.checkpoint)); /* the names before left bytes behind */
	strcpy(d.checkpoint, "step-90");
	d.nactive = 3;
	d.nmoved = 2;
	d.moved[0].slot = 2, d.moved[0].node = 4;
	d.moved[1].slot = 0, d.moved[1].node = 3;
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), 0);
	CHECK(!memcmp(&d, &d2, sizeof(d)));
	CHECK_EQ_INT(fd_decision_slot(&d2, 4), 2);
	CHECK_EQ_INT(fd_decision_slot(&d2, 3), 0);
	CHECK_EQ_INT(fd_decision_slot(&d2, 1), 1);
	CHECK_EQ_INT(fd_decision_slot(&d2, 0), -1); /* its slot went to node 3 */
	CHECK_EQ_INT(fd_decision_slot(&d2, 2), -1);
	CHECK_EQ_INT(fd_decision_slot(&d2, 5), -1); /* a spare */
	CHECK_EQ_INT(fd_decision_node(&d2, 2), 4);
	CHECK_EQ_INT(fd_decision_node(&d2, 1), 1);
	d.moved[1].slot = 2; /* one slot twice */
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);
	d.moved[1].slot = 0, d.moved[1].node = 4; /* one node twice */
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);
	d.moved[1].slot = 3, d.moved[1].node = 5; /* a slot past the training set */
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);
	d.nmoved = 1, d.nactive = 0; /* moved with no training set */
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);
	d.nactive = 3, d.moved[0].node = 2; /* a slot "moved" to its own node */
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);
	d.nactive = d.nmoved = 0;
	CHECK_EQ_INT(fd_decision_slot(&d, 7), 7); /* no spares: every node in its place */
	d.failure = FD_FAIL_LOST;
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), 0);
	d.failure = FD_FAIL_LOST + 1;
	n = fd_decision_put(buf, sizeof(buf), &d);
	CHECK_EQ_INT(fd_decision_get(buf, n, &d2), -EBADMSG);

	/* the spares in a HELLO: read back, absent reads 0, past the most refused */
	h.spares = 2;
	n = fd_hello_put(buf, sizeof(buf), &h);
	CHECK_EQ_INT(fd_hello_get(buf, n, &h2), 0);
	CHECK_EQ_INT(h2.spares, 2);
	CHECK_EQ_INT(fd_hello_get(buf, n - 4, &h2), 0);
	CHECK_EQ_INT(h2.spares, 0);
	CHECK_EQ_INT(fd_hello_get(buf, n - 2, &h2), -EBADMSG);
	h.spares = FD_SPARES_MAX + 1;
	n = fd_hello_put(buf, sizeof(buf), &h);
	CHECK_EQ_INT(fd_hello_get(buf, n, &h2), -EBADMSG);
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
	/* cut anywhere before the policy's end: refused; there, an older writer's (no training
	 * set); inside the training set: refused */
	buf[0] = FD_DECISION_VERSION;
	for (size_t k = 0; k < n - 5; k++)
		CHECK_EQ_INT(fd_decision_get(buf, k, &d2), -EBADMSG);
	CHECK_EQ_INT(fd_decision_get(buf, n - 5, &d2), 0);
	for (size_t k = n - 4; k < n; k++)
		CHECK_EQ_INT(fd_decision_get(buf, k, &d2), -EBADMSG);

	{
		struct fd_refuse rf = {.code = FD_REFUSE_DUPLICATE, .nnodes = 8}, rf2;

		strcpy(rf.why, "node 1 has joined already");
		n = fd_refuse_put(buf, sizeof(buf), &rf);
		CHECK_EQ_INT(buf[0], FD_REFUSE_VERSION);
		CHECK_EQ_INT(fd_refuse_get(buf, n, &rf2), 0);
		CHECK_EQ_INT(rf2.code, FD_REFUSE_DUPLICATE);
		CHECK_EQ_INT((int)rf2.nnodes, 8);
		CHECK_STREQ(rf2.why, rf.why);
		for (size_t k = 0; k < n; k++)
			CHECK_EQ_INT(fd_refuse_get(buf, k, &rf2), -EBADMSG);
		buf[1] = FD_REFUSE_CODE_MAX + 1; /* a reason this build does not know */
		CHECK_EQ_INT(fd_refuse_get(buf, n, &rf2), -EBADMSG);
		buf[0] = FD_REFUSE_VERSION + 1;
		CHECK_EQ_INT(fd_refuse_get(buf, n, &rf2), -EPROTONOSUPPORT);
		CHECK(fd_refuse_is_config(FD_REFUSE_NNODES) &&
		      !fd_refuse_is_config(FD_REFUSE_LATE));
	}

	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(buf[0], FD_WORLD_VERSION);
	memcpy(buf + n, "\x00\x05hello", 7);
	CHECK_EQ_INT(fd_world_get(buf, n + 7, &m2), 0);
	CHECK_EQ_INT(m2.kind, FW_DONE);
	CHECK_EQ_INT(m2.status, 1);
	buf[0] = FD_WORLD_VERSION + 1;
	CHECK_EQ_INT(fd_world_get(buf, n, &m2), -EPROTONOSUPPORT);

	/* the pairs' fields: rails and the server's address round-trip; out of bounds refused */
	m = (struct fd_world_msg){.kind = FW_PAIR, .role = FWR_CLIENT, .peer = 3, .nrails = 2};
	strcpy(m.addr, "192.168.0.17");
	strcpy(m.rails[1].dev, "mlx5_7");
	m.rails[1].ib_port = 2;
	m.rails[1].tcp_port = 65535;
	m.rails[1].rate = 400;
	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(fd_world_get(buf, n, &m2), 0);
	CHECK_EQ_INT(m2.nrails, 2);
	CHECK_STREQ(m2.addr, "192.168.0.17");
	CHECK_STREQ(m2.rails[1].dev, "mlx5_7");
	CHECK_EQ_INT(m2.rails[1].tcp_port, 65535);
	CHECK_EQ_INT(m2.peer, 3);
	CHECK(m2.rails[1].rate == 400.0);
	for (size_t k = 0; k < n; k++) /* every cut is refused, never read past */
		CHECK_EQ_INT(fd_world_get(buf, k, &m2), -EBADMSG);
	strcpy(m.addr, "evil;host");
	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(fd_world_get(buf, n, &m2), -EBADMSG);
	strcpy(m.addr, "10.0.0.1");
	m.rails[0].outcome = FRO_MAX;
	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(fd_world_get(buf, n, &m2), -EBADMSG);
	m.rails[0].outcome = 0;
	m.role = FWR_MAX;
	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(fd_world_get(buf, n, &m2), -EBADMSG);
	m.role = FWR_SERVER;
	n = fd_world_put(buf, sizeof(buf), &m);
	/* the count: before rail 0 (an empty dev, 22 bytes) and rail 1 ("mlx5_7", 28 bytes) */
	buf[n - 22 - 28 - 1] = FD_WORLD_RAILS + 1;
	CHECK_EQ_INT(fd_world_get(buf, n, &m2), -EBADMSG);

	CHECK_EQ_INT(fd_payload_version(FR_BEAT), 0);
	CHECK_EQ_INT(fd_payload_version(FR_WELCOME), FD_HELLO_VERSION);
	CHECK_EQ_INT(fd_payload_version(FR_HALT), FD_STATE_VERSION);
	CHECK_EQ_INT(fd_payload_version(FR_STOP), FD_DECISION_VERSION);
	CHECK_EQ_INT(fd_payload_version(FR_WORLD), FD_WORLD_VERSION);
}

/* ---- golden frames ------------------------------------------------------------------------ */

/*
 * One frame of every type, with fixed values and a fixed token, against the bytes checked in
 * under tests/fixtures/frames (NAME.bin) and the values beside them (NAME.json), which the
 * second implementation, tests/bench/group_sim.py --golden, decodes too. A payload changed
 * without a version bump fails here. After a deliberate change (a new version, an added field)
 * FD_WRITE_GOLDEN=1 rewrites them (FD_WRITE_GOLDEN=DIR: into DIR, nothing compared), and
 * FD_WRITE_CORPUS=1 rewrites the fuzz target's seeds in tests/fuzz/corpus/frame (or DIR).
 */
#define GOLDEN_TOKEN "flightdeck-golden-token"
static const struct fd_token golden_tok = {.b = GOLDEN_TOKEN, .n = sizeof(GOLDEN_TOKEN) - 1};
/* tests/fuzz/fuzz_frame.c's token: its seeds pass the MAC and reach the payload decoders */
static const struct fd_token fuzz_tok = {.b = "fuzz-token", .n = 10};

struct golden {
	const char *name;
	int type;
	uint32_t node, gen, round;
	uint8_t payload[2048];
	size_t len;
};

static cJSON *hello_json(const struct fd_hello *h)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "nnodes", h->nnodes);
	cJSON_AddNumberToObject(o, "pid", h->pid);
	cJSON_AddStringToObject(o, "host", h->host);
	cJSON_AddNumberToObject(o, "spares", h->spares);
	return o;
}

static cJSON *state_json(const struct fd_node_state *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *a;

	cJSON_AddNumberToObject(o, "failure", s->failure);
	cJSON_AddNumberToObject(o, "status", s->status);
	cJSON_AddNumberToObject(o, "ended", s->ended);
	cJSON_AddNumberToObject(o, "stop_signal", s->stop_signal);
	cJSON_AddNumberToObject(o, "max_step", (double)s->max_step);
	a = cJSON_AddArrayToObject(o, "ckpts");
	for (int i = 0; i < s->nckpts; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(s->ckpts[i]));
	cJSON_AddStringToObject(o, "detail", s->detail);
	cJSON_AddNumberToObject(o, "no_ckpt_dir", s->no_ckpt_dir);
	cJSON_AddNumberToObject(o, "opts_known", s->opts_known);
	cJSON_AddNumberToObject(o, "max_restarts", s->max_restarts);
	cJSON_AddNumberToObject(o, "no_progress_limit", s->no_progress_limit);
	cJSON_AddNumberToObject(o, "stall_timeout_ms", (double)s->stall_timeout_ms);
	cJSON_AddNumberToObject(o, "culprit_likely", s->culprit_likely);
	cJSON_AddNumberToObject(o, "culprit_rank", s->culprit_rank);
	cJSON_AddStringToObject(o, "culprit", s->culprit);
	cJSON_AddStringToObject(o, "drain", s->drain);
	a = cJSON_AddArrayToObject(o, "fr");
	for (int i = 0; i < s->nfr; i++) {
		cJSON *w = cJSON_CreateObject();

		cJSON_AddNumberToObject(w, "pg", s->fr[i].pg);
		cJSON_AddNumberToObject(w, "lo", (double)s->fr[i].lo);
		cJSON_AddNumberToObject(w, "lo_rank", s->fr[i].lo_rank);
		cJSON_AddNumberToObject(w, "hi", (double)s->fr[i].hi);
		cJSON_AddStringToObject(w, "op", s->fr[i].op);
		cJSON_AddItemToArray(a, w);
	}
	return o;
}

static cJSON *refuse_json(const struct fd_refuse *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "code", r->code);
	cJSON_AddNumberToObject(o, "nnodes", r->nnodes);
	cJSON_AddStringToObject(o, "why", r->why);
	return o;
}

static cJSON *decision_json(const struct fd_decision *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *a;

	cJSON_AddNumberToObject(o, "verdict", d->verdict);
	cJSON_AddNumberToObject(o, "stop_why", d->stop_why);
	cJSON_AddNumberToObject(o, "failure", d->failure);
	cJSON_AddNumberToObject(o, "node", d->node);
	cJSON_AddNumberToObject(o, "status", d->status);
	cJSON_AddNumberToObject(o, "stop_signal", d->stop_signal);
	cJSON_AddNumberToObject(o, "restarts", d->restarts);
	cJSON_AddNumberToObject(o, "no_progress", d->no_progress);
	cJSON_AddNumberToObject(o, "last_max_step", (double)d->last_max_step);
	cJSON_AddStringToObject(o, "checkpoint", d->checkpoint);
	cJSON_AddNumberToObject(o, "gen", d->gen);
	cJSON_AddStringToObject(o, "why", d->why);
	cJSON_AddNumberToObject(o, "master_port", d->master_port);
	cJSON_AddNumberToObject(o, "max_restarts", d->max_restarts);
	cJSON_AddNumberToObject(o, "no_progress_limit", d->no_progress_limit);
	cJSON_AddNumberToObject(o, "nactive", d->nactive);
	a = cJSON_AddArrayToObject(o, "moved");
	for (int i = 0; i < d->nmoved; i++) {
		cJSON *m = cJSON_CreateObject();

		cJSON_AddNumberToObject(m, "slot", d->moved[i].slot);
		cJSON_AddNumberToObject(m, "node", d->moved[i].node);
		cJSON_AddItemToArray(a, m);
	}
	return o;
}

static cJSON *world_json(const struct fd_world_msg *m)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "kind", m->kind);
	cJSON_AddNumberToObject(o, "set", m->set);
	cJSON_AddNumberToObject(o, "rank", m->rank);
	cJSON_AddNumberToObject(o, "size", m->size);
	cJSON_AddNumberToObject(o, "timeout_ms", m->timeout_ms);
	cJSON_AddNumberToObject(o, "full", m->full);
	cJSON_AddStringToObject(o, "id", m->id);
	cJSON_AddNumberToObject(o, "outcome", m->outcome);
	cJSON_AddNumberToObject(o, "ok", m->ok);
	cJSON_AddNumberToObject(o, "nranks", m->nranks);
	cJSON_AddNumberToObject(o, "nodes", m->nodes);
	cJSON_AddNumberToObject(o, "bytes", m->bytes);
	cJSON_AddNumberToObject(o, "busbw", m->busbw);
	cJSON_AddNumberToObject(o, "algbw", m->algbw);
	cJSON_AddNumberToObject(o, "status", m->status);
	cJSON_AddNumberToObject(o, "unfit", m->unfit);
	cJSON_AddStringToObject(o, "code", m->code);
	cJSON_AddStringToObject(o, "subject", m->subject);
	cJSON_AddStringToObject(o, "value", m->value);
	cJSON_AddStringToObject(o, "expected", m->expected);
	cJSON_AddStringToObject(o, "text", m->text);
	cJSON_AddNumberToObject(o, "role", m->role);
	cJSON_AddNumberToObject(o, "peer", m->peer);
	cJSON_AddNumberToObject(o, "duration_ms", m->duration_ms);
	cJSON_AddNumberToObject(o, "skip", m->skip);
	cJSON_AddStringToObject(o, "addr", m->addr);
	cJSON *rails = cJSON_AddArrayToObject(o, "rails");
	for (int i = 0; i < m->nrails; i++) {
		const struct fd_world_rail *r = &m->rails[i];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "dev", r->dev);
		cJSON_AddNumberToObject(x, "ib_port", r->ib_port);
		cJSON_AddNumberToObject(x, "tcp_port", r->tcp_port);
		cJSON_AddNumberToObject(x, "rate", r->rate);
		cJSON_AddNumberToObject(x, "gbps", r->gbps);
		cJSON_AddNumberToObject(x, "outcome", r->outcome);
		cJSON_AddItemToArray(rails, x);
	}
	return o;
}

/* A payload as the C reader sees it, as the fields of NAME.json; NULL when it is refused. */
static cJSON *decoded_json(int type, const uint8_t *p, size_t n)
{
	static struct fd_node_state s;
	static struct fd_world_msg m;
	struct fd_decision d;
	struct fd_hello h;
	struct fd_refuse r;

	memset(&s, 0, sizeof(s));
	switch (type) {
	case FR_HELLO:
	case FR_WELCOME:
		return fd_hello_get(p, n, &h) ? NULL : hello_json(&h);
	case FR_STATE:
	case FR_HALT:
		return fd_state_get(p, n, &s) ? NULL : state_json(&s);
	case FR_STOP:
	case FR_DECISION:
		return fd_decision_get(p, n, &d) ? NULL : decision_json(&d);
	case FR_WORLD:
		return fd_world_get(p, n, &m) ? NULL : world_json(&m);
	case FR_REFUSE:
		return fd_refuse_get(p, n, &r) ? NULL : refuse_json(&r);
	}
	return n ? NULL : cJSON_CreateObject(); /* BEAT */
}

/* The frames, in type order; each payload is written by the codec under test. */
static int golden_set(struct golden *g)
{
	static struct fd_node_state st, halt;
	static struct fd_world_msg w, pr;
	struct fd_hello hello = {.nnodes = 4, .pid = 4242, .spares = 1}, welcome = {.nnodes = 4};
	struct fd_decision stop = {
	    .verdict = FD_STOP, .failure = FD_FAIL_STALL, .node = 2, .gen = 1};
	struct fd_decision dec = {.verdict = FD_RESTART,
				  .failure = FD_FAIL_CRASH,
				  .node = 3,
				  .status = 137,
				  .restarts = 2,
				  .no_progress = 1,
				  .last_max_step = 40,
				  .gen = 2,
				  .master_port = 45678,
				  .max_restarts = 3,
				  .no_progress_limit = 2,
				  .nactive = 3,
				  .nmoved = 1,
				  .moved = {{.slot = 2, .node = 3}}};
	struct fd_refuse refuse = {.code = FD_REFUSE_NNODES, .nnodes = 4};
	int n = 0;

	strcpy(hello.host, "gpu03");
	st.failure = FD_FAIL_CRASH;
	st.status = 137;
	st.stop_signal = 15;
	st.max_step = 1234567890123LL;
	st.nckpts = 2;
	strcpy(st.ckpts[0], "step-90");
	strcpy(st.ckpts[1], "step-80");
	strcpy(st.detail, "rank 5 exited 137 at step 41");
	st.no_ckpt_dir = 1;
	st.opts_known = 1;
	st.max_restarts = 3;
	st.no_progress_limit = 2;
	st.stall_timeout_ms = 300000;
	st.culprit_likely = 1;
	st.culprit_rank = 5;
	strcpy(st.culprit, "rank 5 (pid 4247) stopped (state T)");
	strcpy(st.drain, "Xid 79 (GPU has fallen off the bus) on 0000:3b:00, 2.0 s ago (since "
			 "the job started), and rank 5 here is the culprit");
	st.nfr = 2;
	st.fr[0] = (struct fd_fr_wave){.pg = 0, .lo = 5016, .lo_rank = 5, .hi = 5017};
	strcpy(st.fr[0].op, "nccl:all_reduce");
	st.fr[1] = (struct fd_fr_wave){.pg = 3, .lo = 41, .lo_rank = 4, .hi = 41};
	strcpy(st.fr[1].op, "nccl:broadcast");
	strcpy(refuse.why, "node 3 says --nnodes 8, node 0 has --nnodes 4");
	halt.failure = FD_FAIL_STALL;
	strcpy(halt.detail, "rank 3 silent for 12 s after step 40");
	strcpy(stop.why, "node 2 (gpu02): rank 3 silent for 12 s after step 40");
	strcpy(dec.checkpoint, "step-90");
	strcpy(dec.why, "node 3 (gpu03): rank 5 exited 137");
	w = (struct fd_world_msg){.kind = FW_RESULT,
				  .set = 7,
				  .rank = 1,
				  .size = 4,
				  .timeout_ms = 30000,
				  .full = 1,
				  .outcome = FWO_RAN,
				  .ok = 1,
				  .nranks = 32,
				  .nodes = 4,
				  .bytes = 1073741824.0,
				  .busbw = 365.25,
				  .algbw = 194.75,
				  .status = 2,
				  .unfit = 1};
	strcpy(w.id, "00ff3a");
	strcpy(w.code, "NCCL_BW_LOW");
	strcpy(w.subject, "node 2");
	strcpy(w.value, "365.2 GB/s");
	strcpy(w.expected, ">= 400 GB/s");
	strcpy(w.text, "gpubench ran");
	w.peer = -1;
	pr = (struct fd_world_msg){.kind = FW_PAIR_RESULT,
				   .set = 3,
				   .role = FWR_CLIENT,
				   .peer = 4,
				   .duration_ms = 2000,
				   .timeout_ms = 50000,
				   .nrails = 2};
	strcpy(pr.addr, "10.1.2.5");
	strcpy(pr.text, "mlx5_1/1: Couldn't connect to 10.1.2.5:40123");
	pr.rails[0] = (struct fd_world_rail){
	    .ib_port = 1, .tcp_port = 40122, .rate = 400, .gbps = 392.71, .outcome = FRO_MEASURED};
	strcpy(pr.rails[0].dev, "mlx5_0");
	pr.rails[1] = (struct fd_world_rail){
	    .ib_port = 1, .tcp_port = 40123, .rate = 400, .outcome = FRO_FAILED};
	strcpy(pr.rails[1].dev, "mlx5_1");

	g[n] = (struct golden){.name = "hello", .type = FR_HELLO, .node = 3, .gen = 0, .round = 0};
	g[n].len = fd_hello_put(g[n].payload, sizeof(g[n].payload), &hello);
	n++;
	g[n] =
	    (struct golden){.name = "welcome", .type = FR_WELCOME, .node = 0, .gen = 0, .round = 0};
	g[n].len = fd_hello_put(g[n].payload, sizeof(g[n].payload), &welcome);
	n++;
	g[n++] = (struct golden){.name = "beat", .type = FR_BEAT, .node = 3, .gen = 1, .round = 2};
	g[n] = (struct golden){.name = "state", .type = FR_STATE, .node = 3, .gen = 1, .round = 2};
	g[n].len = fd_state_put(g[n].payload, sizeof(g[n].payload), &st);
	n++;
	g[n] = (struct golden){.name = "halt", .type = FR_HALT, .node = 2, .gen = 1, .round = 2};
	g[n].len = fd_state_put(g[n].payload, sizeof(g[n].payload), &halt);
	n++;
	g[n] = (struct golden){.name = "stop", .type = FR_STOP, .node = 0, .gen = 1, .round = 2};
	g[n].len = fd_decision_put(g[n].payload, sizeof(g[n].payload), &stop);
	n++;
	g[n] = (struct golden){
	    .name = "decision", .type = FR_DECISION, .node = 0, .gen = 1, .round = 2};
	g[n].len = fd_decision_put(g[n].payload, sizeof(g[n].payload), &dec);
	n++;
	g[n] = (struct golden){.name = "world", .type = FR_WORLD, .node = 2, .gen = 1, .round = 2};
	g[n].len = fd_world_put(g[n].payload, sizeof(g[n].payload), &w);
	n++;
	g[n] = (struct golden){
	    .name = "world-pair", .type = FR_WORLD, .node = 5, .gen = 0, .round = 1};
	g[n].len = fd_world_put(g[n].payload, sizeof(g[n].payload), &pr);
	n++;
	g[n] =
	    (struct golden){.name = "refuse", .type = FR_REFUSE, .node = 0, .gen = 0, .round = 0};
	g[n].len = fd_refuse_put(g[n].payload, sizeof(g[n].payload), &refuse);
	n++;
	return n;
}

/* NAME.json: the header's fields, the token, and the payload's fields as the reader gives them. */
static cJSON *golden_doc(const struct golden *g)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", fd_frame_type_name(g->type));
	cJSON_AddNumberToObject(o, "type_code", g->type);
	cJSON_AddNumberToObject(o, "node", g->node);
	cJSON_AddNumberToObject(o, "gen", g->gen);
	cJSON_AddNumberToObject(o, "round", g->round);
	cJSON_AddStringToObject(o, "token", GOLDEN_TOKEN);
	cJSON_AddNumberToObject(o, "payload_version", fd_payload_version(g->type));
	cJSON_AddNumberToObject(o, "payload_bytes", (double)g->len);
	cJSON_AddItemToObject(o, "fields", decoded_json(g->type, g->payload, g->len));
	return o;
}

/* FD_WRITE_GOLDEN and FD_WRITE_CORPUS: unset, "1" (the tree's own directory) or a directory. */
static const char *write_dir(const char *var, const char *tree)
{
	const char *v = getenv(var);

	if (!v || !*v)
		return NULL;
	return strcmp(v, "1") ? v : tree;
}

static int put_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;
	int r = 0;

	if (fd_pathf(path, sizeof(path), "%s/%s", dir, name))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	if (fwrite(p, 1, n, f) != n)
		r = -EIO;
	if (fclose(f) && !r)
		r = -errno;
	return r;
}

static void golden_compare(const struct golden *g, const uint8_t *frame, size_t n, const cJSON *doc)
{
	char path[4096];
	char *file = NULL;
	size_t len = 0, at = 0;
	cJSON *want;

	snprintf(path, sizeof(path), "%s/frames/%s.bin", FD_TEST_FIXTURES, g->name);
	if (fd_read_all(path, &file, &len)) {
		printf("    %s: cannot read it (FD_WRITE_GOLDEN=1 writes it)\n", path);
		unit_failed = 1;
		return;
	}
	/* the payload first: a different payload changes the header's length and MAC too */
	while (FD_FRAME_HDR + at < len && FD_FRAME_HDR + at < n &&
	       (uint8_t)file[FD_FRAME_HDR + at] == frame[FD_FRAME_HDR + at])
		at++;
	if (len != n || memcmp(file, frame, n)) {
		printf(
		    "    %s: the codec's %s differs from payload byte %zu on (payload %zu bytes, "
		    "the file's %zu): a layout changed without a version bump? docs/protocol.md, "
		    "\"Changing the protocol\"\n",
		    path, fd_frame_type_name(g->type), at, n - FD_FRAME_HDR,
		    len < FD_FRAME_HDR ? 0 : len - FD_FRAME_HDR);
		unit_failed = 1;
	}
	free(file);
	snprintf(path, sizeof(path), "%s/frames/%s.json", FD_TEST_FIXTURES, g->name);
	if (fd_read_all(path, &file, &len)) {
		printf("    %s: cannot read it (FD_WRITE_GOLDEN=1 writes it)\n", path);
		unit_failed = 1;
		return;
	}
	want = cJSON_Parse(file);
	if (!want || !cJSON_Compare(want, doc, 1)) {
		printf(
		    "    %s: the values differ from the codec's (FD_WRITE_GOLDEN=1 rewrites them)\n",
		    path);
		unit_failed = 1;
	}
	cJSON_Delete(want);
	free(file);
}

static void golden_frames(void)
{
	static struct golden g[FR_TYPE_MAX + 1];
	static uint8_t frame[FD_FRAME_HDR + 2048], stream[(FR_TYPE_MAX + 1) * sizeof(frame)];
	const char *gdir = write_dir("FD_WRITE_GOLDEN", FD_TEST_FIXTURES "/frames");
	const char *cdir = write_dir("FD_WRITE_CORPUS", FD_TEST_FIXTURES "/../fuzz/corpus/frame");
	size_t slen = 0;
	int n = golden_set(g);
	char name[64];

	/* a new type needs its golden frame; WORLD has two (the allreduce's, the pairs') */
	CHECK_EQ_INT(n, FR_TYPE_MAX);
	for (int i = 0; i < n; i++) {
		long k = fd_frame_build(frame, sizeof(frame), g[i].type, g[i].node, g[i].gen,
					g[i].round, g[i].payload, g[i].len, &golden_tok);
		cJSON *doc = golden_doc(&g[i]);
		char *text = cJSON_Print(doc);

		CHECK(k > 0 && text);
		CHECK(g[i].type == FR_BEAT || g[i].len > 0);
		/* the C reader gives back what was written: the fields are the frame's meaning */
		CHECK(cJSON_GetObjectItem(doc, "fields") &&
		      !cJSON_IsNull(cJSON_GetObjectItem(doc, "fields")));
		if (k <= 0 || !text) {
			free(text);
			cJSON_Delete(doc);
			continue;
		}
		if (gdir) {
			size_t tl = strlen(text);

			text[tl] = '\n'; /* cJSON_Print's NUL: the file ends with a newline */
			snprintf(name, sizeof(name), "%s.bin", g[i].name);
			CHECK_EQ_INT(put_file(gdir, name, frame, (size_t)k), 0);
			snprintf(name, sizeof(name), "%s.json", g[i].name);
			CHECK_EQ_INT(put_file(gdir, name, text, tl + 1), 0);
		} else {
			golden_compare(&g[i], frame, (size_t)k, doc);
		}
		free(text);
		cJSON_Delete(doc);
		k = fd_frame_build(stream + slen, sizeof(stream) - slen, g[i].type, g[i].node,
				   g[i].gen, g[i].round, g[i].payload, g[i].len, &fuzz_tok);
		CHECK(k > 0);
		if (cdir && k > 0 && g[i].type == FR_HELLO)
			CHECK_EQ_INT(put_file(cdir, "hello-frame", stream + slen, (size_t)k), 0);
		if (cdir &&
		    (g[i].type == FR_STATE || g[i].type == FR_DECISION || g[i].type == FR_WORLD)) {
			snprintf(name, sizeof(name), "%s-payload", g[i].name);
			CHECK_EQ_INT(put_file(cdir, name, g[i].payload, g[i].len), 0);
		}
		slen += k > 0 ? (size_t)k : 0;
	}
	if (cdir)
		CHECK_EQ_INT(put_file(cdir, "stream", stream, slen), 0);
}

const struct unit_test frame_tests[] = {
    {"frame: build and parse, whole and in pieces", frame_round_trip},
    {"frame: another token or any altered byte is refused", frame_forged},
    {"frame: not ours, unknown, oversized", frame_not_ours},
    {"frame: payloads round trip; truncated, odd values and paths refused", payload_round_trips},
    {"frame: payload versions: another refused, trailing bytes skipped", payload_versions},
    {"frame: golden frames of every type (tests/fixtures/frames)", golden_frames},
    {NULL, NULL},
};
