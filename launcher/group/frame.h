/*
 * frame.h - the frames the agents of a multi-node group exchange over TCP (docs/architecture.md,
 * "The node group", "Frames"). Pure functions: no socket, no clock, so the codec is unit tested
 * and fuzzed on its own.
 *
 * A frame is a fixed 40-byte header and a payload of at most FD_FRAME_MAX bytes, every integer
 * big-endian:
 *
 *    0  magic "FDGF"          12  generation  u32
 *    4  version u8 (3)        16  round       u32
 *    5  type u8               20  payload length u32
 *    6  flags u16 (0)         24  MAC, 16 bytes: HMAC-SHA256(token, bytes 0-23 || payload)
 *    8  sender's node u32     40  payload
 *
 * The MAC proves the sender holds the job's token without the token crossing the wire, and
 * covers every header field, so a frame cannot be moved to another node, generation or round.
 * A parse never trusts the length before the MAC is checked only in one way: a length over
 * FD_FRAME_MAX is refused at once, so a forged header cannot make the reader buffer 4 GiB.
 *
 * docs/protocol.md is the specification, down to every payload's bytes. Each payload opens with
 * its own version byte; a reader skips bytes after the fields it knows (a later writer's
 * additive fields) and refuses a payload version it does not know (-EPROTONOSUPPORT), so a
 * layout changed without a new version can never be misread.
 */
#ifndef FD_FRAME_H
#define FD_FRAME_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "group.h"
#include "world.h"

#define FD_FRAME_MAGIC	 0x46444746u /* "FDGF" */
#define FD_FRAME_VERSION 3	     /* the header's layout and the frame types */
#define FD_FRAME_HDR	 40
#define FD_FRAME_MAC	 16
#define FD_FRAME_MAX	 65536 /* payload bytes */
#define FD_TOKEN_MAX	 256

/* The payloads' own version bytes (WORLD's, FD_WORLD_VERSION, is in world.h). */
#define FD_HELLO_VERSION    1 /* HELLO, WELCOME */
#define FD_STATE_VERSION    1 /* STATE, HALT */
#define FD_DECISION_VERSION 2 /* DECISION, STOP */
#define FD_REFUSE_VERSION   1 /* REFUSE */

enum fd_frame_type {
	FR_HELLO = 1, /* member -> coordinator: who I am */
	FR_WELCOME,   /* coordinator -> member: you are in, at this generation */
	FR_BEAT,      /* either way, every --peer-interval: I am alive */
	FR_STATE,     /* member -> coordinator: my state for this round (grp_submit) */
	FR_HALT,      /* member -> coordinator: I am stopping my attempt, for this reason */
	FR_STOP,      /* coordinator -> member: stop your attempt and report (a peer failed) */
	FR_DECISION,  /* coordinator -> member: the group's decision for this round */
	FR_WORLD,     /* either way: the allreduce across nodes (world.h), its payload versioned */
	FR_REFUSE,    /* coordinator -> a connection it refuses: why, before it closes it */
	FR_TYPE_MAX,
};

struct fd_frame {
	int type;
	uint32_t node, gen, round;
	uint32_t len;
	const uint8_t *payload; /* into the parsed buffer */
};

/* The token that signs frames: the bytes and their length (at most FD_TOKEN_MAX). */
struct fd_token {
	uint8_t b[FD_TOKEN_MAX];
	size_t n;
};

/*
 * Parses the frame at the start of buf[0..n). Returns the bytes it takes (> 0), 0 when more
 * bytes are needed, or: -EPROTO (not a frame: magic, version, flags, unknown type), -EMSGSIZE
 * (a payload over FD_FRAME_MAX), -EBADMSG (the MAC does not match: another job's token, a
 * forged or altered frame; f then holds the header as it came, unproven, so that a member can
 * tell a REFUSE signed with another token). A byte stream has no resynchronisation: any error
 * ends the connection.
 */
long fd_frame_parse(const uint8_t *buf, size_t n, const struct fd_token *tok, struct fd_frame *f);

/* Writes header and payload into out (FD_FRAME_HDR + len bytes). The bytes written or -EMSGSIZE. */
long fd_frame_build(uint8_t *out, size_t cap, int type, uint32_t node, uint32_t gen, uint32_t round,
		    const void *payload, size_t len, const struct fd_token *tok);

const char *fd_frame_type_name(int type);

/* The payload version this build writes and reads for a frame type; 0 for BEAT (no payload). */
int fd_payload_version(int type);

/* ---- payloads ---------------------------------------------------------------------------- */

/*
 * Every fd_*_get below returns 0, -EBADMSG (cut short, a string over its bound or holding a
 * NUL, a value the sender could not have meant) or -EPROTONOSUPPORT (a payload version this
 * build does not read: the peer runs another build). Bytes after the known fields are skipped.
 */

/* A writer and a reader of big-endian fields; a short buffer sets err, nothing overflows. */
struct fd_wire {
	uint8_t *p;
	const uint8_t *rp;
	size_t n, cap;
	int err;
};

void wire_u8(struct fd_wire *w, uint8_t v);
void wire_u16(struct fd_wire *w, uint16_t v);
void wire_u32(struct fd_wire *w, uint32_t v);
void wire_u64(struct fd_wire *w, uint64_t v);
void wire_str(struct fd_wire *w, const char *s); /* u16 length, bytes */
uint8_t wire_get_u8(struct fd_wire *w);
uint16_t wire_get_u16(struct fd_wire *w);
uint32_t wire_get_u32(struct fd_wire *w);
uint64_t wire_get_u64(struct fd_wire *w);
/* A string into out (NUL-terminated); one holding a NUL or longer than len-1 sets err. */
void wire_get_str(struct fd_wire *w, char *out, size_t len);

struct fd_hello {
	uint32_t nnodes;
	uint32_t pid;
	char host[256];
	uint32_t spares; /* --spares (appended: absent reads as 0) */
};

/* HELLO, and WELCOME (nnodes only, pid 0, host ""). */
size_t fd_hello_put(uint8_t *out, size_t cap, const struct fd_hello *h);
int fd_hello_get(const uint8_t *p, size_t n, struct fd_hello *h);

/*
 * STATE: a node's state (fd_node_state) with its checkpoint list and its detail text; HALT
 * (failure, stop signal and detail in a node state).
 */
size_t fd_state_put(uint8_t *out, size_t cap, const struct fd_node_state *s);
int fd_state_get(const uint8_t *p, size_t n, struct fd_node_state *s);

/* DECISION and STOP: an fd_decision. */
size_t fd_decision_put(uint8_t *out, size_t cap, const struct fd_decision *d);
int fd_decision_get(const uint8_t *p, size_t n, struct fd_decision *d);

/* Why the coordinator refuses a connection (REFUSE's code). */
enum fd_refuse_code {
	FD_REFUSE_TOKEN = 1, /* its HELLO is signed with another token (this REFUSE is not: see
				docs/protocol.md) */
	FD_REFUSE_NNODES,    /* its --nnodes differs from the coordinator's */
	FD_REFUSE_NODE,	     /* its --node-rank is not 1 to N-1 */
	FD_REFUSE_DUPLICATE, /* its --node-rank has joined already: two agents for one node */
	FD_REFUSE_LATE,	     /* the job ended, or it comes from an earlier generation */
	FD_REFUSE_PROTOCOL,  /* its payload version is not this build's */
	FD_REFUSE_CODE_MAX = FD_REFUSE_PROTOCOL,
};

struct fd_refuse {
	int code;	 /* FD_REFUSE_* */
	uint32_t nnodes; /* the coordinator's node count */
	char why[256];	 /* the coordinator's words */
};

/* REFUSE: an fd_refuse. A code past FD_REFUSE_CODE_MAX is refused. */
size_t fd_refuse_put(uint8_t *out, size_t cap, const struct fd_refuse *r);
int fd_refuse_get(const uint8_t *p, size_t n, struct fd_refuse *r);
/*
 * A refusal that is the operator's to fix (flags, tokens or builds that differ): the member
 * exits 2 on it, and so does the coordinator when the HELLO was signed with its token.
 */
int fd_refuse_is_config(int code);

/*
 * WORLD: an fd_world_msg. Numbers the sender could not have meant (a rank past the size, an id
 * that is not hex, a bandwidth past 1e12 GB/s) are refused.
 */
size_t fd_world_put(uint8_t *out, size_t cap, const struct fd_world_msg *m);
int fd_world_get(const uint8_t *p, size_t n, struct fd_world_msg *m);

#endif
