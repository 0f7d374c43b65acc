/*
 * conn.c - one connection of the TCP star: non-blocking reads into a buffer that grows to one
 * frame at most, frames parsed and handed on whole, writes queued while the kernel's buffer
 * is full, and the socket options that make a dead link noticed (see tcp.h).
 */
#define _GNU_SOURCE
#include "loop.h"
#include "tcp.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_READ_STACK 8192 /* bytes read at once into the stack: many frames */

struct conn *conn_new(struct tcp *t, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->t = t;
	c->fd = fd;
	c->node = -1;
	c->last_rx = c->opened = fd_mono_ns();
	return c;
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0) {
		fd_loop_del(c->t->g->loop, c->fd);
		close(c->fd);
	}
	free(c->in);
	free(c->out);
	free(c);
}

/*
 * A sender keeps "succeeding" into a dead link until the kernel gives up retransmitting
 * (15 minutes by default): TCP_USER_TIMEOUT bounds unacknowledged data by --peer-timeout, and
 * keepalive probes find a silent peer even when nothing is queued.
 */
void conn_sockopts(struct tcp *t, int fd)
{
	int one = 1, idle, intvl = 1, cnt;
	unsigned int uto =
	    (unsigned int)(t->conf.peer_timeout_ms > UINT32_MAX ? UINT32_MAX
								: t->conf.peer_timeout_ms);

	idle = (int)(t->conf.peer_interval_ms / 1000);
	if (idle < 1)
		idle = 1;
	cnt = (int)(t->conf.peer_timeout_ms / 1000) - idle;
	if (cnt < 1)
		cnt = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

int conn_flush(struct conn *c)
{
	long k = fd_send_now(c->fd, c->out, c->out_len);
	size_t off;

	if (k < 0)
		return (int)k;
	off = (size_t)k;
	memmove(c->out, c->out + off, c->out_len - off);
	c->out_len -= off;
	if (!c->out_len) { /* an idle connection holds no buffer (16,384 of them at node 0) */
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	if (!!c->out_len != c->want_out) {
		c->want_out = !!c->out_len;
		fd_loop_mod(c->t->g->loop, c->fd, EPOLLIN | (c->want_out ? EPOLLOUT : 0));
	}
	return 0;
}

/* At the end: what is still queued gets up to ms to leave, so the last decision arrives. */
void conn_flush_blocking(struct conn *c, int64_t ms)
{
	int64_t end = fd_mono_ns() + ms * 1000000;

	while (c->fd >= 0 && c->out_len && !conn_flush(c) && c->out_len) {
		struct pollfd p = {.fd = c->fd, .events = POLLOUT};
		int64_t left = (end - fd_mono_ns()) / 1000000;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
	}
}

/* Room for need more bytes in the write queue. 0 or -errno. */
static int conn_out_room(struct conn *c, size_t need)
{
	if (c->fd < 0 || c->closing)
		return -EPIPE;
	if (c->out_len + need > CONN_OUT_MAX)
		return -ENOBUFS; /* the peer has not read for a long while */
	if (c->out_cap - c->out_len < need) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		uint8_t *p;

		while (cap - c->out_len < need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	return 0;
}

/*
 * Sent at once when nothing waits before it; only what the socket does not take is queued
 * (so the queue, and its buffer, exist only for a peer slow to read).
 */
int conn_send_raw(struct conn *c, const uint8_t *frame, size_t n)
{
	long k = 0;

	if (c->fd < 0 || c->closing)
		return -EPIPE;
	if (!c->out_len)
		k = fd_send_now(c->fd, frame, n);
	return conn_sent(c, frame, n, k);
}

int conn_sent(struct conn *c, const uint8_t *frame, size_t n, long k)
{
	size_t off = (size_t)k;
	int r;

	if (k < 0)
		return (int)k;
	if (off == n)
		return 0;
	r = conn_out_room(c, n - off);
	if (r)
		return r;
	memcpy(c->out + c->out_len, frame + off, n - off);
	c->out_len += n - off;
	if (!c->want_out) {
		c->want_out = 1;
		fd_loop_mod(c->t->g->loop, c->fd, EPOLLIN | EPOLLOUT);
	}
	return 0;
}

int conn_send(struct conn *c, int type, const void *payload, size_t len)
{
	static uint8_t frame[FD_FRAME_HDR + FD_FRAME_MAX]; /* one loop, one thread */
	long n = fd_frame_build(frame, sizeof(frame), type, (uint32_t)c->t->g->rank, c->t->gen,
				c->t->round, payload, len, &c->t->tok);

	if (n < 0)
		return (int)n;
	return conn_send_raw(c, frame, (size_t)n);
}

const char *conn_err_name(int err)
{
	switch (err) {
	case -EPROTO:
		return "not a flightdeck frame";
	case -EMSGSIZE:
		return "an oversized frame";
	case -EBADMSG:
		return "a frame signed with another token";
	case -EPIPE:
		return "connection closed";
	case -ECONNRESET:
		return "connection reset";
	case -ETIMEDOUT:
		return "connection timed out";
	}
	return strerror(-err);
}

/*
 * The peer runs a build that lays this payload out differently. Dropping such frames one by
 * one would leave a round waiting for a state or a decision that never comes; ending the
 * connection makes it a lost node, said with this reason, within a round trip.
 */
const char *conn_refuse_version(struct conn *c, const struct fd_frame *f)
{
	snprintf(c->why, sizeof(c->why),
		 "a %s of payload version %u, this build reads version %d: the peer runs another "
		 "flightdeck",
		 fd_frame_type_name(f->type), f->len ? f->payload[0] : 0,
		 fd_payload_version(f->type));
	c->closing = 1;
	return c->why;
}

/* Room for n more bytes in the input buffer, which never grows past one whole frame. */
static int conn_in_room(struct conn *c, size_t n)
{
	size_t cap = c->in_cap ? c->in_cap : 512;
	uint8_t *p;

	if (c->in_cap - c->in_len >= n)
		return 0;
	while (cap - c->in_len < n)
		cap *= 2;
	if (cap > FD_FRAME_HDR + FD_FRAME_MAX)
		cap = FD_FRAME_HDR + FD_FRAME_MAX;
	if (cap <= c->in_len)
		return -EMSGSIZE;
	p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/* What is left of buf[0..have) from off (the start of a frame) becomes c->in. 0 or -ENOMEM. */
static int conn_keep(struct conn *c, const uint8_t *buf, size_t have, size_t off)
{
	if (buf == c->in) {
		memmove(c->in, c->in + off, have - off);
	} else if (have > off) {
		int r = conn_in_room(c, have - off);

		if (r)
			return r;
		memcpy(c->in, buf + off, have - off);
	}
	c->in_len = have - off;
	return 0;
}

/*
 * A connection with nothing half-read is read into the stack: 16,384 members' BEATs and STATEs
 * then cost no malloc and free each, and a short read ends the turn (the level-triggered loop
 * comes back for more), so no read is made only to be told EAGAIN.
 */
int conn_read(struct conn *c, void (*on_frame)(struct conn *, const struct fd_frame *),
	      const char **why)
{
	uint8_t stack[CONN_READ_STACK];

	for (;;) {
		uint8_t *buf = stack;
		size_t have = 0, cap = sizeof(stack), off = 0;
		ssize_t n;

		if (c->in_len) {
			int r = conn_in_room(c, 512);

			if (r)
				return r;
			buf = c->in;
			have = c->in_len;
			cap = c->in_cap;
		}
		n = read(c->fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			/* a frame cut short by the close is worth naming: a truncated frame */
			*why = c->in_len ? "connection closed inside a frame" : NULL;
			return n < 0 ? -errno : -EPIPE;
		}
		have += (size_t)n;
		c->last_rx = fd_mono_ns();
		while (!c->closing && c->fd >= 0) {
			struct fd_frame f;
			long k = fd_frame_parse(buf + off, have - off, &c->t->tok, &f);

			if (k < 0) { /* the refused frame stays at c->in's head for the caller */
				conn_keep(c, buf, have, off);
				return (int)k;
			}
			if (k == 0)
				break;
			off += (size_t)k;
			on_frame(c, &f);
		}
		if (c->closing || c->fd < 0)
			return 0;
		if (conn_keep(c, buf, have, off))
			return -ENOMEM;
		if (!c->in_len && c->in) { /* an idle connection holds no buffer */
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
		if ((size_t)n < cap - (have - (size_t)n))
			return 0; /* a short read: all there was */
	}
}
