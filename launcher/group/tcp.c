/*
 * tcp.c - what both roles of the TCP star share and neither owns: the state every node keeps
 * (the job's node list and token, generation and round), its events, and the delivery queue
 * whose eventfd hands every decision to the supervisor from the loop, never from inside the
 * supervisor's own call (docs/architecture.md, "The node group"). It calls neither role.
 */
#define _GNU_SOURCE
#include "loop.h"
#include "tcp.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

void tcp_event(struct tcp *t, const char *name, int node, const char *host, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	grp_vevent(t->g, name, node, host, fmt, ap);
	va_end(ap);
}

void tcp_event_as(struct tcp *t, int say, const char *name, int node, const char *host,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	grp_vevent_as(t->g, say, name, node, host, fmt, ap);
	va_end(ap);
}

const char *tcp_listed_host(struct tcp *t, int node)
{
	if (node >= 0 && node < t->conf.nhosts && t->hosts)
		return t->hosts[node];
	return "?";
}

/* Room for one more delivery; NULL when there is none (the delivery is dropped and said). */
static struct delivery *tcp_queue_slot(struct tcp *t)
{
	if (t->nqueue == t->cap_queue) {
		int cap = t->cap_queue ? t->cap_queue * 2 : 8;
		struct delivery *q = realloc(t->queue, (size_t)cap * sizeof(*q));

		if (!q) {
			fd_err("node group: out of memory for a delivery");
			return NULL;
		}
		t->queue = q;
		t->cap_queue = cap;
	}
	return &t->queue[t->nqueue++];
}

static void tcp_wake(struct tcp *t)
{
	uint64_t one = 1;

	if (write(t->g->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		fd_err("node group: cannot wake the loop: %s", strerror(errno));
}

void tcp_deliver(struct tcp *t, const struct fd_decision *d, int kind)
{
	struct delivery *q = tcp_queue_slot(t);

	if (!q)
		return;
	q->kind = kind;
	q->from = d->node;
	q->u.d = *d;
	tcp_wake(t);
}

void tcp_deliver_world(struct tcp *t, int from, const struct fd_world_msg *m)
{
	struct delivery *q;

	if (!t->g->cb.on_world)
		return; /* nobody here takes part */
	q = tcp_queue_slot(t);
	if (!q)
		return;
	q->kind = DELIVER_WORLD;
	q->from = from;
	q->u.w = *m;
	tcp_wake(t);
}

/*
 * Hands every queued delivery over, in the order it came: a STOP read right after a
 * DECISION reaches the supervisor after that decision, and a world message after the
 * decision that opened its phase. A callback may queue more (a coordinator's message to
 * itself): they are taken in the same pass, whose writes to the eventfd then find an empty
 * queue on the next wake-up.
 */
static void tcp_on_deliver(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct tcp *t = arg;
	uint64_t v;
	int i = 0;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;
	while (i < t->nqueue) {
		struct delivery q = t->queue[i++];

		if (q.kind == DELIVER_STOP)
			t->g->cb.on_stop(t->g->ctx, &q.u.d);
		else if (q.kind == DELIVER_HALT && t->g->cb.on_halt)
			t->g->cb.on_halt(t->g->ctx, &q.u.d);
		else if (q.kind == DELIVER_DECISION)
			t->g->cb.on_decision(t->g->ctx, &q.u.d);
		else if (q.kind == DELIVER_WORLD && t->g->cb.on_world)
			t->g->cb.on_world(t->g->ctx, q.from, &q.u.w);
	}
	t->nqueue = 0; /* callbacks never close the group: they stop the loop */
}

int tcp_init(struct tcp *t, struct fd_group *g, const struct fd_group_conf *conf)
{
	t->g = g;
	t->conf = *conf;
	t->conf.coord_host = NULL;   /* a member's own copy (member.c) */
	t->conf.exclude_file = NULL; /* the caller's policy's, not the transport's */
	memcpy(t->tok.b, conf->token, conf->token_len);
	t->tok.n = conf->token_len;
	if (conf->nhosts > 0 && conf->hosts) {
		t->hosts = calloc((size_t)conf->nhosts, sizeof(*t->hosts));
		for (int i = 0; t->hosts && i < conf->nhosts; i++)
			t->hosts[i] = strdup(conf->hosts[i] ? conf->hosts[i] : "?");
	}
	t->conf.hosts = t->hosts;
	t->conf.nhosts = t->hosts ? conf->nhosts : 0;
	t->start = fd_mono_ns();
	t->next_beat = t->start;
	return fd_loop_add(g->loop, g->efd, EPOLLIN, tcp_on_deliver, t);
}

void tcp_release(struct tcp *t)
{
	struct fd_group *g = t->g;

	if (g->efd >= 0) {
		fd_loop_del(g->loop, g->efd);
		close(g->efd);
		g->efd = -1;
	}
	for (int i = 0; t->hosts && i < t->conf.nhosts; i++)
		free(t->hosts[i]);
	free(t->hosts);
	t->hosts = NULL;
	free(t->queue);
	t->queue = NULL;
	g->ops = NULL;
	g->tcp = NULL;
}
