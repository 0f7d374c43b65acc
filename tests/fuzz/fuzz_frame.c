/*
 * fuzz_frame.c - the node group's frames (launcher/group/frame.c), as they arrive from the network:
 * the input as a byte stream (parsed frame by frame, as a connection would), and as the
 * payload of a frame signed with the right token, so the payload decoders are reached past
 * the MAC. A payload that decodes must encode back to the same meaning (the allreduce's WORLD
 * payload included). The seeds in tests/fuzz/corpus/frame are the golden frames' (a stream of
 * all of them and a HELLO, signed with this token, and three payloads alone), written by
 * FD_WRITE_CORPUS=1 tests/unit_tests 'frame: golden'.
 */
#include "frame.h"
#include "fuzz.h"

static const struct fd_token tok = {.b = "fuzz-token", .n = 10};

static void payloads(const uint8_t *p, size_t n)
{
	static uint8_t again[FD_FRAME_MAX];
	static struct fd_node_state s, s2;
	static struct fd_decision d, d2;
	static struct fd_world_msg w, w2;
	struct fd_hello h, h2;
	size_t k;

	if (!fd_hello_get(p, n, &h)) {
		k = fd_hello_put(again, sizeof(again), &h);
		if (!k || fd_hello_get(again, k, &h2) || strcmp(h.host, h2.host) ||
		    h.pid != h2.pid || h.nnodes != h2.nnodes)
			abort();
	}
	memset(&s, 0, sizeof(s));
	if (!fd_state_get(p, n, &s)) {
		memset(&s2, 0, sizeof(s2));
		k = fd_state_put(again, sizeof(again), &s);
		if (!k || fd_state_get(again, k, &s2) || s.nckpts != s2.nckpts ||
		    s.max_step != s2.max_step || strcmp(s.detail, s2.detail))
			abort();
	}
	if (!fd_decision_get(p, n, &d)) {
		k = fd_decision_put(again, sizeof(again), &d);
		if (!k || fd_decision_get(again, k, &d2) || memcmp(&d, &d2, sizeof(d)))
			abort();
	}
	if (!fd_world_get(p, n, &w)) {
		k = fd_world_put(again, sizeof(again), &w);
		if (!k || fd_world_get(again, k, &w2) || w.kind != w2.kind || w.set != w2.set ||
		    w.rank != w2.rank || w.size != w2.size || w.busbw != w2.busbw ||
		    w.bytes != w2.bytes || strcmp(w.id, w2.id) || strcmp(w.text, w2.text))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[FD_FRAME_HDR + FD_FRAME_MAX];
	struct fd_frame f;
	size_t off = 0;
	long k;

	/* a stream: frames until an error or the end */
	while (off < size && (k = fd_frame_parse(data + off, size - off, &tok, &f)) > 0) {
		if (f.len > FD_FRAME_MAX || (size_t)k != FD_FRAME_HDR + f.len)
			abort();
		payloads(f.payload, f.len);
		off += (size_t)k;
	}
	/* the same bytes as a payload, signed: the decoders past the MAC */
	if (size <= FD_FRAME_MAX && size > 0) {
		k = fd_frame_build(buf, sizeof(buf), 1 + data[0] % (FR_TYPE_MAX - 1), 3, 7, 9, data,
				   size, &tok);
		if (k < 0 || fd_frame_parse(buf, (size_t)k, &tok, &f) != k || f.node != 3 ||
		    f.gen != 7 || f.round != 9 || f.len != size)
			abort();
		payloads(f.payload, f.len);
	}
	return 0;
}
