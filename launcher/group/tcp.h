/*
 * tcp.h - the TCP star's private parts. The star is two transports behind the group's ops
 * table, chosen once when the group is made (star.c): node 0's, the coordinator, which
 * decides (coord.c), and every other node's, a member (member.c). Both stand on a shared part
 * that knows neither: one connection's sockets, buffers and frames (conn.c), and what every
 * node of the star keeps, its delivery queue and its events (tcp.c). docs/architecture.md,
 * "The node group".
 */
#ifndef FD_GROUP_TCP_H
#define FD_GROUP_TCP_H

#include "frame.h"
#include "group.h"

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define CONN_OUT_MAX	 (4u << 20) /* queued for a peer that does not read: it is lost */
#define HELLO_WAIT_MS	 5000	    /* a connection that says nothing is dropped */
#define CONNECT_RETRY_MS 250	    /* a member retries an unreachable coordinator this often */

struct tcp;

struct conn {
	struct tcp *t;
	int fd;
	int node; /* -1 until its HELLO (coordinator side) */
	char host[256];
	uint32_t pid;
	int64_t last_rx, opened;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_cap;
	int want_out;  /* EPOLLOUT is on */
	int closing;   /* an error ended it: close after this dispatch */
	char why[192]; /* why a frame read made this end close it; "" */
};

/*
 * What waits for the loop to hand it to the supervisor (an eventfd), in the order it came: a
 * STOP read right after a DECISION must reach the supervisor after the launch that decision
 * brings, or it would find nothing running and the new attempt would never be stopped.
 */
enum {
	DELIVER_DECISION,
	DELIVER_STOP,
	DELIVER_HALT,
	DELIVER_WORLD
};

/* Grows as needed: a round of the allreduce brings a RESULT from every node at once. */
struct delivery {
	int kind; /* DELIVER_*: on_decision, on_stop, on_halt, on_world */
	int from; /* DELIVER_WORLD: the sender */
	union {
		struct fd_decision d;
		struct fd_world_msg w;
	} u;
};

/*
 * What every node of the star keeps. The first member of each role's own state (struct coord
 * in coord.c, struct member in member.c), so a connection's t leads to its role's state.
 */
struct tcp {
	struct fd_group *g;
	struct fd_group_conf conf; /* hosts is an owned copy; coord_host a member's */
	char **hosts;
	struct fd_token tok;

	uint32_t gen, round;
	int64_t start, next_beat;
	int over;      /* the final decision was made or received: closes are expected */
	int submitted; /* this node's state awaits the decision */
	long rejected; /* frames and connections refused (forged, stale, malformed) */

	struct delivery *queue;
	int nqueue, cap_queue;
};

/* conn.c */
struct conn *conn_new(struct tcp *t, int fd);
void conn_free(struct conn *c);
int conn_send(struct conn *c, int type, const void *payload, size_t len);
/* Queues a frame already built (the same bytes for every member: signed once). */
int conn_send_raw(struct conn *c, const uint8_t *frame, size_t n);
/*
 * The rest of conn_send_raw once k of the frame's n bytes were sent by someone else (the
 * fan-out's threads; k < 0: that send's -errno, returned): what the socket did not take is
 * queued. Only for a connection with nothing queued (its bytes would overtake the queue's).
 */
int conn_sent(struct conn *c, const uint8_t *frame, size_t n, long k);
/* Reads what is there and hands each whole frame to on_frame; -errno or 0 (EOF: -EPIPE). */
int conn_read(struct conn *c, void (*on_frame)(struct conn *, const struct fd_frame *),
	      const char **why);
int conn_flush(struct conn *c);
void conn_flush_blocking(struct conn *c, int64_t ms);
void conn_sockopts(struct tcp *t, int fd);
const char *conn_err_name(int err);
/*
 * The frame's payload has a version this build does not read: says so in c->why, which it
 * returns, and closes the connection after this dispatch (docs/protocol.md, "Changing").
 */
const char *conn_refuse_version(struct conn *c, const struct fd_frame *f);

/* tcp.c */
/*
 * The shared state of g's star from conf (g opened by grp_open), its eventfd in the loop.
 * 0 or -errno; tcp_release undoes it, done or not.
 */
int tcp_init(struct tcp *t, struct fd_group *g, const struct fd_group_conf *conf);
void tcp_release(struct tcp *t);
void tcp_event(struct tcp *t, const char *name, int node, const char *host, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same, said on stderr too only when say (on_event's say; 0: the events log only). */
void tcp_event_as(struct tcp *t, int say, const char *name, int node, const char *host,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void tcp_deliver(struct tcp *t, const struct fd_decision *d, int kind);
void tcp_deliver_world(struct tcp *t, int from, const struct fd_world_msg *m);
/* A node's host from the job's node list, else "?". */
const char *tcp_listed_host(struct tcp *t, int node);

/*
 * The two roles, made by star.c only (g zeroed, conf checked), each opening g with its own
 * ops table. 0 or -errno (err may say why), g closed again.
 */
int coord_new(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
	      const struct fd_group_conf *conf, const struct fd_group_callbacks *cb, void *ctx,
	      char *err, size_t errlen);
int member_new(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
	       const struct fd_group_conf *conf, const struct fd_group_callbacks *cb, void *ctx,
	       char *err, size_t errlen);

#endif
