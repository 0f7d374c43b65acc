/*
 * tcp.h - the TCP star's private parts, shared by its three files: conn.c (one connection:
 * sockets, buffers, frames in and out), coord.c (node 0, which decides) and member.c (every
 * other node). docs/architecture.md, "The node group".
 */
#ifndef FD_GROUP_TCP_H
#define FD_GROUP_TCP_H

#include "frame.h"
#include "group.h"
#include "resolve.h"

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
	int want_out; /* EPOLLOUT is on */
	int closing;  /* an error ended it: close after this dispatch */
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

struct tcp {
	struct fd_group *g;
	struct fd_group_conf conf; /* strings below are owned copies */
	char coord_host[256], exclude_file[4096];
	char **hosts;
	struct fd_token tok;
	char my_host[256];

	uint32_t gen, round;
	int64_t start, next_beat;
	int over;      /* the final decision was made or received: closes are expected */
	int submitted; /* this node's state awaits the decision */
	long rejected; /* frames and connections refused (forged, stale, malformed) */

	struct delivery *queue;
	int nqueue, cap_queue;

	/* coordinator */
	int lfd;
	struct conn **by_node; /* [nnodes]; [0] unused: node 0 is this process */
	struct conn **pending; /* accepted, no HELLO yet */
	int npending, cap_pending;
	int joined;  /* members with a HELLO, node 0 not counted */
	int running; /* the last decision launched attempts (CONTINUE) */
	struct fd_node_state *states;
	unsigned char *have;
	int nhave, halted;
	int formed_said;

	/* member */
	struct conn *up; /* to the coordinator */
	int welcomed;
	int64_t next_connect;
	struct fd_node_state mine; /* a submit made before the coordinator answered */
	int mine_queued;
	int addr_err_said;
	int lookup_err_said;	 /* the lookup's child could not be started; said */
	struct resolve resolver; /* the child looking up coord_host (resolve.c) */
	/* the coordinator's addresses from the last lookup, tried in turn (a name may give ::1
	 * first to a coordinator listening on IPv4 only); looked up again once all were tried */
	struct sockaddr_storage addrs[RESOLVE_ADDRS];
	socklen_t addr_len[RESOLVE_ADDRS];
	int naddr, next_addr;
};

/* conn.c */
struct conn *conn_new(struct tcp *t, int fd);
void conn_free(struct conn *c);
int conn_send(struct conn *c, int type, const void *payload, size_t len);
/* Queues a frame already built (the same bytes for every member: signed once). */
int conn_send_raw(struct conn *c, const uint8_t *frame, size_t n);
/* Reads what is there and hands each whole frame to on_frame; -errno or 0 (EOF: -EPIPE). */
int conn_read(struct conn *c, void (*on_frame)(struct conn *, const struct fd_frame *),
	      const char **why);
int conn_flush(struct conn *c);
void conn_flush_blocking(struct conn *c, int64_t ms);
void conn_sockopts(struct tcp *t, int fd);
const char *conn_err_name(int err);

/* group-wide */
void tcp_event(struct tcp *t, const char *name, int node, const char *host, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void tcp_deliver(struct tcp *t, const struct fd_decision *d, int kind);
void tcp_deliver_world(struct tcp *t, int from, const struct fd_world_msg *m);
const char *tcp_host_of(struct tcp *t, int node);

/* coord.c, member.c */
int coord_open(struct tcp *t, char *err, size_t errlen);
int coord_world(struct tcp *t, int to, const struct fd_world_msg *m);
int coord_submit(struct tcp *t, const struct fd_node_state *mine);
void coord_halt(struct tcp *t, int failure, int stop_signal, const char *detail);
void coord_timer(struct tcp *t, int64_t now);
int64_t coord_next(struct tcp *t);
void coord_close(struct tcp *t);

int member_open(struct tcp *t, char *err, size_t errlen);
int member_world(struct tcp *t, const struct fd_world_msg *m);
int member_submit(struct tcp *t, const struct fd_node_state *mine);
void member_halt(struct tcp *t, int failure, int stop_signal, const char *detail);
void member_timer(struct tcp *t, int64_t now);
int64_t member_next(struct tcp *t);
void member_close(struct tcp *t);

#endif
