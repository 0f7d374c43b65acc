/*
 * coord.c - node 0 of the TCP star: it listens, admits each member once, collects every
 * node's state for a round and makes the round's one decision (fd_group_decide), for the
 * whole job. A member that fails makes it stop every other node first (STOP), so the group
 * restarts together, from the same checkpoint. A member lost ends the job for everyone with
 * the one peer-lost code (docs/architecture.md, "The node group").
 */
#define _GNU_SOURCE
#include "hostlist.h"
#include "loop.h"
#include "tcp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void lose(struct tcp *t, int node, const char *how);

static void drop_pending(struct tcp *t, int i)
{
	conn_free(t->pending[i]);
	t->pending[i] = t->pending[--t->npending];
}

/*
 * Counted always, said for the first REJECT_SAID and then every REJECT_EVERY-th: an agent
 * with the wrong token retries four times a second until --join-timeout, and a port scanner
 * never stops; neither may flood stderr and the events log.
 */
#define REJECT_SAID  10
#define REJECT_EVERY 100

static void reject(struct tcp *t, struct conn *c, const char *why)
{
	t->rejected++;
	if (t->rejected > REJECT_SAID && t->rejected % REJECT_EVERY)
		return;
	tcp_event(t, "rejected", c->node, c->host, "refused a %s from %s: %s (%ld refused so far)",
		  c->node >= 0 ? "frame" : "connection", *c->host ? c->host : "a peer", why,
		  t->rejected);
}

/*
 * The same frame to every member but one: built and signed once (at 1024 nodes, signing per
 * connection was a seventh of the coordinator's CPU).
 */
static void send_all(struct tcp *t, int type, const void *p, size_t n, int except)
{
	static uint8_t frame[FD_FRAME_HDR + FD_FRAME_MAX];
	long k = fd_frame_build(frame, sizeof(frame), type, 0, t->gen, t->round, p, n, &t->tok);

	if (k < 0)
		return;
	for (int i = 1; i < t->conf.nnodes; i++) {
		struct conn *c = t->by_node[i];

		if (!c || i == except)
			continue;
		if (conn_send_raw(c, frame, (size_t)k))
			c->closing = 1; /* noticed on the next timer: lost */
	}
}

/* The preflight table: one line per finding of every unfit node, and the exclude file. */
static void unfit_table(struct tcp *t)
{
	char **bad = calloc((size_t)t->conf.nnodes, sizeof(*bad));
	size_t nbad = 0;

	for (int i = 0; i < t->conf.nnodes; i++) {
		const struct fd_node_state *s = &t->states[i];
		const char *host = tcp_host_of(t, i);
		char *line, *save = NULL, copy[FD_DETAIL_MAX];

		if (s->failure != FD_FAIL_PREFLIGHT)
			continue;
		if (bad)
			bad[nbad++] = (char *)host;
		fd_strlcpy(copy, *s->detail ? s->detail : "unfit (no findings sent)", sizeof(copy));
		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			tcp_event(t, "unfit", i, host, "node %d (%s): %s", i, host, line);
	}
	if (*t->exclude_file && bad && nbad) {
		char list[8192];
		FILE *f;

		if (fd_hostlist_compress(bad, nbad, list, sizeof(list)) ||
		    !(f = fopen(t->exclude_file, "w"))) {
			tcp_event(t, "unfit", -1, "", "cannot write --exclude-file %s: %s",
				  t->exclude_file, strerror(errno));
		} else {
			fprintf(f, "%s\n", list);
			if (fclose(f))
				tcp_event(t, "unfit", -1, "", "cannot write --exclude-file %s",
					  t->exclude_file);
			else
				tcp_event(t, "unfit", -1, "",
					  "wrote %s to %s: sbatch --exclude=%s ... keeps them out",
					  list, t->exclude_file, list);
		}
	}
	free(bad);
}

/* Every node's state is in: the round's decision, for everyone. */
static void decide(struct tcp *t)
{
	struct fd_decision d;
	uint8_t buf[2048];
	size_t n;

	fd_group_decide(t->states, t->conf.nnodes, &t->g->policy, &t->g->history, &d);
	if (d.verdict == FD_RESTART)
		t->gen++;
	d.gen = t->gen;
	if (d.verdict == FD_STOP && d.failure == FD_FAIL_PREFLIGHT)
		unfit_table(t);
	if (d.verdict == FD_STOP)
		t->over = 1;
	t->running = d.verdict == FD_CONTINUE;
	if (d.verdict == FD_CONTINUE)
		d.master_port = fd_free_tcp_port(); /* native ranks' store, on this node */
	n = fd_decision_put(buf, sizeof(buf), &d);
	/* the frame carries the round it answers; the next round starts after */
	send_all(t, FR_DECISION, buf, n, -1);
	t->round++;
	t->nhave = t->halted = 0;
	memset(t->have, 0, (size_t)t->conf.nnodes);
	if (d.verdict == FD_RESTART)
		tcp_event(t, "go", -1, "", "generation %u: every node restarts from %s", t->gen,
			  *d.checkpoint ? d.checkpoint : "the start");
	t->submitted = 0;
	tcp_deliver(t, &d, DELIVER_DECISION);
}

/*
 * A final decision made outside a round (a node lost, a signal with nothing running): said
 * as an event naming d->node, sent to every member but except, and handed to this node.
 */
static void end_job(struct tcp *t, struct fd_decision *d, const char *event, const char *host,
		    int except, int kind)
{
	uint8_t buf[2048];
	size_t n;

	t->over = 1;
	d->gen = t->gen;
	d->restarts = t->g->history.restarts;
	tcp_event(t, event, d->node, host, "%s", d->why);
	n = fd_decision_put(buf, sizeof(buf), d);
	send_all(t, FR_DECISION, buf, n, except);
	tcp_deliver(t, d, kind);
}

/*
 * A stop signal while no attempt runs anywhere (the group forming, the nodes in their
 * preflight or at the gate, a backoff): nothing needs stopping, and waiting for every node's
 * state could mean waiting for a node that never comes. The signal decides now, for every
 * node that is here.
 */
static void stop_now(struct tcp *t, int node, int sig)
{
	struct fd_decision d = {.verdict = FD_STOP,
				.stop_why = FD_STOP_SIGNAL,
				.node = node,
				.stop_signal = sig,
				.last_max_step = -1};

	snprintf(d.why, sizeof(d.why),
		 "node %d (%s) was told to stop (signal %d) with no attempt running: every node "
		 "stops",
		 node, tcp_host_of(t, node), sig);
	end_job(t, &d, "stop", tcp_host_of(t, node), -1,
		t->submitted ? DELIVER_DECISION : DELIVER_STOP);
}

/*
 * A node stops its attempt (its own failure, a stop signal): every other node is told to
 * stop too, once a round. Node 0 hears it through on_halt like the members.
 */
static void halt_all(struct tcp *t, int node, int failure, int stop_signal, const char *detail)
{
	struct fd_decision d = {.verdict = FD_STOP, .node = node, .failure = failure};
	uint8_t buf[2048];
	size_t n;

	if (t->over)
		return;
	if (stop_signal && !t->running) {
		stop_now(t, node, stop_signal);
		return;
	}
	if (t->halted)
		return;
	t->halted = 1;
	d.stop_signal = stop_signal;
	d.gen = t->gen;
	snprintf(d.why, sizeof(d.why), "node %d (%s): %s", node, tcp_host_of(t, node),
		 *detail       ? detail
		 : stop_signal ? "stop signal"
			       : fd_fail_name(failure));
	tcp_event(t, "stop", node, tcp_host_of(t, node), "stopping every node: %s", d.why);
	n = fd_decision_put(buf, sizeof(buf), &d);
	send_all(t, FR_STOP, buf, n, node);
	if (node != 0)
		tcp_deliver(t, &d, DELIVER_HALT);
}

static void take_state(struct tcp *t, int node, const struct fd_node_state *s)
{
	t->states[node] = *s;
	t->states[node].node = node;
	if (!t->have[node]) {
		t->have[node] = 1;
		t->nhave++;
	}
	if (s->failure && s->failure != FD_FAIL_PREFLIGHT)
		halt_all(t, node, s->failure, s->stop_signal, s->detail);
	else if (s->stop_signal)
		halt_all(t, node, 0, s->stop_signal, s->detail);
	if (!t->over && t->nhave == t->conf.nnodes)
		decide(t);
}

static void welcome(struct tcp *t, struct conn *c, const struct fd_frame *f)
{
	struct fd_hello h;
	uint8_t buf[512];
	size_t n;
	int node = (int)f->node;
	int r = f->type == FR_HELLO ? fd_hello_get(f->payload, f->len, &h) : -EBADMSG;

	if (r) {
		reject(t, c,
		       r == -EPROTONOSUPPORT ? conn_refuse_version(c, f)
					     : "the first frame is not a HELLO");
		c->closing = 1;
		return;
	}
	fd_strlcpy(c->host, h.host, sizeof(c->host));
	if ((int)h.nnodes != t->conf.nnodes || node < 1 || node >= t->conf.nnodes) {
		char why[128];

		snprintf(why, sizeof(why), "node %u of %u, but this job has %d nodes", f->node,
			 h.nnodes, t->conf.nnodes);
		reject(t, c, why);
		c->closing = 1;
		return;
	}
	if (f->gen != 0 || t->by_node[node] || t->over) {
		char why[320];

		if (t->by_node[node])
			snprintf(why, sizeof(why), "node %d has joined already, from %s", node,
				 t->by_node[node]->host);
		else
			snprintf(why, sizeof(why), "node %d %s", node,
				 t->over ? "comes after the job ended"
					 : "rejoins from an earlier generation");
		reject(t, c, why);
		c->closing = 1;
		return;
	}
	c->node = node;
	c->pid = h.pid;
	t->by_node[node] = c;
	t->joined++;
	n = fd_hello_put(buf, sizeof(buf), &(struct fd_hello){.nnodes = (uint32_t)t->conf.nnodes});
	conn_send(c, FR_WELCOME, buf, n);
	tcp_event(t, "joined", node, c->host, "node %d (%s, pid %u) joined: %d of %d", node,
		  c->host, h.pid, t->joined + 1, t->conf.nnodes);
	if (t->joined + 1 == t->conf.nnodes && !t->formed_said) {
		t->formed_said = 1;
		tcp_event(t, "formed", -1, "", "all %d nodes joined in %.1f s", t->conf.nnodes,
			  (double)(fd_mono_ns() - t->start) / 1e9);
	}
}

static void on_member_frame(struct conn *c, const struct fd_frame *f)
{
	struct tcp *t = c->t;
	struct fd_node_state s;
	char why[128];
	int r;

	if (c->node < 0) {
		welcome(t, c, f);
		return;
	}
	if ((int)f->node != c->node) {
		snprintf(why, sizeof(why), "a frame claiming node %u on node %d's connection",
			 f->node, c->node);
		reject(t, c, why);
		return;
	}
	if (f->type == FR_BEAT)
		return; /* any frame is a sign of life; a late one of an older generation too */
	if (f->type == FR_WORLD) { /* the allreduce's own sets order it, not the rounds */
		struct fd_world_msg m;

		r = fd_world_get(f->payload, f->len, &m);
		if (r == -EPROTONOSUPPORT) {
			reject(t, c, conn_refuse_version(c, f));
			return;
		}
		if (f->gen != t->gen || r) {
			snprintf(why, sizeof(why), "a malformed WORLD or one of generation %u",
				 f->gen);
			reject(t, c, why);
			return;
		}
		tcp_deliver_world(t, c->node, &m);
		return;
	}
	if (f->gen != t->gen || f->round != t->round) {
		snprintf(why, sizeof(why), "a %s of generation %u round %u (now %u round %u)",
			 fd_frame_type_name(f->type), f->gen, f->round, t->gen, t->round);
		reject(t, c, why);
		return;
	}
	memset(&s, 0, sizeof(s));
	r = f->type == FR_STATE || f->type == FR_HALT ? fd_state_get(f->payload, f->len, &s)
						      : -EBADMSG;
	if (r == -EPROTONOSUPPORT) {
		reject(t, c, conn_refuse_version(c, f));
		return;
	}
	if (r) {
		snprintf(why, sizeof(why), "a malformed or unexpected %s",
			 fd_frame_type_name(f->type));
		reject(t, c, why);
		return;
	}
	if (f->type == FR_HALT)
		halt_all(t, c->node, s.failure, s.stop_signal, s.detail);
	else
		take_state(t, c->node, &s);
}

static void unpend(struct tcp *t, struct conn *c)
{
	for (int i = 0; i < t->npending; i++)
		if (t->pending[i] == c) {
			t->pending[i] = t->pending[--t->npending];
			return;
		}
}

static void on_member(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	struct tcp *t = c->t;
	const char *why = NULL;
	char how[sizeof(c->why)];
	int r = 0, was_pending = c->node < 0;

	if (events & EPOLLOUT)
		r = conn_flush(c);
	if (!r && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		r = conn_read(c, on_member_frame, &why);
	if (c->node >= 0 && was_pending)
		unpend(t, c); /* admitted: by_node holds it now */
	if (!r && !c->closing)
		return;
	if (c->node < 0) { /* never admitted: a stranger, dropped */
		if (r == -EPIPE && why)
			reject(t, c, why);
		else if (r && r != -EPIPE)
			reject(t, c, conn_err_name(r));
		unpend(t, c);
		conn_free(c);
		return;
	}
	if (r == -EPROTO || r == -EMSGSIZE || r == -EBADMSG)
		reject(t, c, conn_err_name(r));
	/* a copy: lose() frees the connection, c->why with it */
	fd_strlcpy(how, why ? why : *c->why ? c->why : conn_err_name(r ? r : -EPIPE), sizeof(how));
	lose(t, c->node, how);
}

static void on_accept(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct tcp *t = arg;

	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (cfd < 0)
			break;
		if (t->npending == t->cap_pending) {
			int cap = t->cap_pending ? t->cap_pending * 2 : 16;
			struct conn **p = realloc(t->pending, (size_t)cap * sizeof(*p));

			if (!p) {
				close(cfd);
				continue;
			}
			t->pending = p;
			t->cap_pending = cap;
		}
		conn_sockopts(t, cfd);
		c = conn_new(t, cfd);
		if (!c || fd_loop_add(l, cfd, EPOLLIN, on_member, c)) {
			if (c)
				c->fd = -1;
			conn_free(c);
			close(cfd);
			continue;
		}
		t->pending[t->npending++] = c;
	}
}

/* The job is over for everyone: a node is gone, or never came. */
static void lose(struct tcp *t, int node, const char *how)
{
	struct fd_decision d = {.verdict = FD_STOP, .stop_why = FD_STOP_PEER_LOST, .node = node};
	char host[256];

	/* named by the host it said in its HELLO, which goes with its connection */
	fd_strlcpy(host, tcp_host_of(t, node), sizeof(host));
	if (node > 0 && t->by_node[node]) {
		conn_free(t->by_node[node]);
		t->by_node[node] = NULL;
	}
	if (t->over)
		return;
	snprintf(d.why, sizeof(d.why), "node %d (%s) lost: %s", node, host, how);
	end_job(t, &d, "lost", host, node, DELIVER_STOP);
}

void coord_timer(struct tcp *t, int64_t now)
{
	int64_t silent = t->conf.peer_timeout_ms * 1000000;

	for (int i = 0; i < t->npending;) {
		struct conn *c = t->pending[i];

		if (now - c->opened > (int64_t)HELLO_WAIT_MS * 1000000) {
			reject(t, c, "no HELLO within 5 s");
			drop_pending(t, i);
		} else {
			i++;
		}
	}
	if (t->over)
		return;
	for (int i = 1; i < t->conf.nnodes; i++) {
		struct conn *c = t->by_node[i];
		char how[64];

		if (!c)
			continue;
		if (c->closing) {
			lose(t, i, "not reading (its send queue is full)");
			return;
		}
		if (now - c->last_rx > silent) {
			snprintf(how, sizeof(how), "silent %.1f s",
				 (double)(now - c->last_rx) / 1e9);
			lose(t, i, how);
			return;
		}
	}
	if (t->joined + 1 < t->conf.nnodes && now - t->start > t->conf.join_timeout_ms * 1000000) {
		char missing[FD_WHY_MAX] = "";
		size_t k = 0;
		int first = -1;

		for (int i = 1; i < t->conf.nnodes && k + 32 < sizeof(missing); i++) {
			if (t->by_node[i])
				continue;
			if (first < 0)
				first = i;
			k += (size_t)snprintf(missing + k, sizeof(missing) - k, "%s%d (%s)",
					      k ? ", " : "", i, tcp_host_of(t, i));
		}
		tcp_event(t, "join_timeout", first, tcp_host_of(t, first),
			  "--join-timeout: %d of %d nodes never joined: %s",
			  t->conf.nnodes - 1 - t->joined, t->conf.nnodes, missing);
		lose(t, first, "never joined within --join-timeout");
		return;
	}
	if (now >= t->next_beat) {
		send_all(t, FR_BEAT, NULL, 0, -1);
		t->next_beat = now + t->conf.peer_interval_ms * 1000000;
	}
}

int64_t coord_next(struct tcp *t)
{
	int64_t next = t->next_beat, silent = t->conf.peer_timeout_ms * 1000000;

	/* a silent member is lost at its deadline, not at the next beat after it */
	for (int i = 1; !t->over && i < t->conf.nnodes; i++)
		if (t->by_node[i] && t->by_node[i]->last_rx + silent + 1 < next)
			next = t->by_node[i]->last_rx + silent + 1;
	if (!t->over && t->joined + 1 < t->conf.nnodes &&
	    t->start + t->conf.join_timeout_ms * 1000000 + 1 < next)
		next = t->start + t->conf.join_timeout_ms * 1000000 + 1;

	if (t->npending && t->pending[0]->opened + (int64_t)HELLO_WAIT_MS * 1000000 < next)
		next = t->pending[0]->opened + (int64_t)HELLO_WAIT_MS * 1000000 + 1;
	return next;
}

int coord_submit(struct tcp *t, const struct fd_node_state *mine)
{
	if (t->over)
		return -EPIPE;
	t->submitted = 1;
	take_state(t, 0, mine);
	return 0;
}

int coord_world(struct tcp *t, int to, const struct fd_world_msg *m)
{
	uint8_t buf[2048];
	size_t n;

	if (to < 0 || to >= t->conf.nnodes)
		return -EINVAL;
	if (to == 0) { /* this node takes part too: through the loop, like a member's */
		tcp_deliver_world(t, 0, m);
		return 0;
	}
	if (!t->by_node[to])
		return -ENOTCONN;
	n = fd_world_put(buf, sizeof(buf), m);
	if (!n)
		return -EMSGSIZE;
	if (conn_send(t->by_node[to], FR_WORLD, buf, n))
		t->by_node[to]->closing = 1; /* noticed on the next timer: lost */
	return 0;
}

void coord_halt(struct tcp *t, int failure, int stop_signal, const char *detail)
{
	halt_all(t, 0, failure, stop_signal, detail);
}

int coord_open(struct tcp *t, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
			*res = NULL, *ai;
	char port[16];
	int r, one = 1, n = t->conf.nnodes;

	t->by_node = calloc((size_t)n, sizeof(*t->by_node));
	t->states = calloc((size_t)n, sizeof(*t->states));
	t->have = calloc((size_t)n, 1);
	if (!t->by_node || !t->states || !t->have)
		return -ENOMEM;
	snprintf(port, sizeof(port), "%d", t->conf.coord_port);
	r = getaddrinfo(t->conf.bind_host, port, &hints, &res);
	if (r) {
		snprintf(err, errlen, "cannot listen on %s:%s: %s",
			 t->conf.bind_host ? t->conf.bind_host : "*", port, gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	/* every address: IPv6 first (dual-stack), else IPv4 */
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 4096)) {
			t->lfd = fd;
			break;
		}
		r = errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (t->lfd < 0) {
		snprintf(err, errlen, "cannot listen on port %d (--coordinator): %s",
			 t->conf.coord_port, strerror(r ? r : EADDRNOTAVAIL));
		return -EADDRINUSE;
	}
	return fd_loop_add(t->g->loop, t->lfd, EPOLLIN, on_accept, t);
}

void coord_close(struct tcp *t)
{
	for (int i = 1; t->by_node && i < t->conf.nnodes; i++) {
		if (!t->by_node[i])
			continue;
		conn_flush_blocking(t->by_node[i], 1000);
		conn_free(t->by_node[i]);
	}
	while (t->npending)
		drop_pending(t, 0);
	free(t->pending);
	if (t->lfd >= 0) {
		fd_loop_del(t->g->loop, t->lfd);
		close(t->lfd);
	}
	free(t->by_node);
	free(t->states);
	free(t->have);
}
