/*
 * tcp.c - the TCP star as an fd_group: its operations, its timer in the caller's loop, and
 * the eventfd through which every decision reaches the supervisor from the loop, never from
 * inside the supervisor's own call (docs/architecture.md, "The node group").
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
#include <sys/eventfd.h>
#include <unistd.h>

void tcp_event(struct tcp *t, const char *name, int node, const char *host, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t->g->cb.on_event)
		t->g->cb.on_event(t->g->ctx, name, node, host ? host : "", line);
}

/* The host of a node: what it said in its HELLO, else the job's node list, else "?". */
const char *tcp_host_of(struct tcp *t, int node)
{
	if (node == t->g->rank)
		return t->my_host;
	if (node == 0 && t->g->rank != 0)
		return t->coord_host;
	if (node > 0 && t->by_node && node < t->conf.nnodes && t->by_node[node])
		return t->by_node[node]->host;
	if (node >= 0 && node < t->conf.nhosts && t->hosts)
		return t->hosts[node];
	return "?";
}

/* Room for one more delivery; 0 or -ENOMEM (then the delivery is dropped and said). */
static struct delivery *queue_slot(struct tcp *t)
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

static void wake(struct tcp *t)
{
	uint64_t one = 1;

	if (write(t->g->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		fd_err("node group: cannot wake the loop: %s", strerror(errno));
}

const char *grp_host(struct fd_group *g, int node)
{
	return g->tcp ? tcp_host_of(g->tcp, node) : "?";
}

void tcp_deliver(struct tcp *t, const struct fd_decision *d, int kind)
{
	struct delivery *q = queue_slot(t);

	if (!q)
		return;
	q->kind = kind;
	q->from = d->node;
	q->u.d = *d;
	wake(t);
}

void tcp_deliver_world(struct tcp *t, int from, const struct fd_world_msg *m)
{
	struct delivery *q;

	if (!t->g->cb.on_world)
		return; /* nobody here takes part */
	q = queue_slot(t);
	if (!q)
		return;
	q->kind = DELIVER_WORLD;
	q->from = from;
	q->u.w = *m;
	wake(t);
}

/*
 * Hands every queued delivery over, in the order it came: a STOP read right after a
 * DECISION reaches the supervisor after that decision, and a world message after the
 * decision that opened its phase. A callback may queue more (a coordinator's message to
 * itself): they are taken in the same pass, whose writes to the eventfd then find an empty
 * queue on the next wake-up.
 */
static void on_deliver(struct fd_loop *l, int fd, uint32_t events, void *arg)
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

static int64_t tcp_next(void *arg, int64_t now)
{
	struct tcp *t = arg;

	if (t->over)
		return t->g->rank == 0 && t->npending ? coord_next(t) : INT64_MAX;
	return t->g->rank == 0 ? coord_next(t) : member_next(t);
}

static void tcp_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct tcp *t = arg;

	if (t->g->rank == 0)
		coord_timer(t, now);
	else
		member_timer(t, now);
}

static int tcp_submit(struct fd_group *g, const struct fd_node_state *mine)
{
	struct tcp *t = g->tcp;

	if (t->submitted)
		return -EBUSY;
	return g->rank == 0 ? coord_submit(t, mine) : member_submit(t, mine);
}

static void tcp_halt(struct fd_group *g, int failure, int stop_signal, const char *detail)
{
	struct tcp *t = g->tcp;

	if (g->rank == 0)
		coord_halt(t, failure, stop_signal, detail ? detail : "");
	else
		member_halt(t, failure, stop_signal, detail ? detail : "");
}

static int tcp_world(struct fd_group *g, int to, const struct fd_world_msg *m)
{
	struct tcp *t = g->tcp;

	if (t->over)
		return -EPIPE;
	if (g->rank == 0)
		return coord_world(t, to, m);
	return to == 0 ? member_world(t, m) : -EINVAL;
}

static void tcp_close(struct fd_group *g)
{
	struct tcp *t = g->tcp;

	if (!t)
		return;
	if (g->rank == 0)
		coord_close(t);
	else
		member_close(t);
	if (g->efd >= 0) {
		fd_loop_del(g->loop, g->efd);
		close(g->efd);
		g->efd = -1;
	}
	for (int i = 0; t->hosts && i < t->conf.nhosts; i++)
		free(t->hosts[i]);
	free(t->hosts);
	fd_loop_untimer(g->loop, t);
	free(t->queue);
	t->g->ops = NULL;
	g->tcp = NULL;
	free(t);
}

static const struct fd_group_ops tcp_ops = {
    .name = "tcp",
    .submit = tcp_submit,
    .halt = tcp_halt,
    .world = tcp_world,
    .close = tcp_close,
};

int fd_group_tcp(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
		 const struct fd_group_conf *conf, const struct fd_group_callbacks *cb, void *ctx,
		 char *err, size_t errlen)
{
	struct tcp *t;
	int r;

	memset(g, 0, sizeof(*g));
	g->efd = -1;
	if (conf->nnodes < 2 || conf->node < 0 || conf->node >= conf->nnodes ||
	    conf->token_len > FD_TOKEN_MAX) {
		snprintf(err, errlen, "node group: node %d of %d, token of %zu bytes: invalid",
			 conf->node, conf->nnodes, conf->token_len);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	g->tcp = t;
	g->ops = &tcp_ops;
	g->rank = conf->node;
	g->size = conf->nnodes;
	g->policy = *pol;
	g->loop = loop;
	g->cb = *cb;
	g->ctx = ctx;
	t->g = g;
	t->conf = *conf;
	t->lfd = -1;
	t->resolver.fd = -1;
	fd_strlcpy(t->coord_host, conf->coord_host ? conf->coord_host : "", sizeof(t->coord_host));
	fd_strlcpy(t->exclude_file, conf->exclude_file ? conf->exclude_file : "",
		   sizeof(t->exclude_file));
	t->conf.coord_host = t->coord_host;
	t->conf.exclude_file = t->exclude_file;
	memcpy(t->tok.b, conf->token, conf->token_len);
	t->tok.n = conf->token_len;
	if (conf->nhosts > 0 && conf->hosts) {
		t->hosts = calloc((size_t)conf->nhosts, sizeof(*t->hosts));
		for (int i = 0; t->hosts && i < conf->nhosts; i++)
			t->hosts[i] = strdup(conf->hosts[i] ? conf->hosts[i] : "?");
	}
	t->conf.hosts = t->hosts;
	t->conf.nhosts = t->hosts ? conf->nhosts : 0;
	if (gethostname(t->my_host, sizeof(t->my_host) - 1))
		fd_strlcpy(t->my_host, "?", sizeof(t->my_host));
	t->start = fd_mono_ns();
	t->next_beat = t->start;
	g->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = fd_loop_add(loop, g->efd, EPOLLIN, on_deliver, t);
	if (!r)
		r = fd_loop_timer(loop, tcp_next, tcp_timer, t);
	if (!r)
		r = g->rank == 0 ? coord_open(t, err, errlen) : member_open(t, err, errlen);
	if (!r)
		return 0;
fail:
	if (!*err)
		snprintf(err, errlen, "node group: %s", strerror(-r));
	tcp_close(g);
	return r;
}
