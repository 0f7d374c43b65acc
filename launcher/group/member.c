/*
 * member.c - a node other than 0 in the TCP star: it connects to the coordinator (again and
 * again until --join-timeout, since node 0 may start later), says HELLO, sends its state each
 * round and applies what comes back. A coordinator that closes or falls silent ends the job
 * on this node with the peer-lost code (docs/architecture.md, "The node group").
 */
#define _GNU_SOURCE
#include "loop.h"
#include "resolve.h"
#include "tcp.h"
#include "util.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * This node ends the job on its own (its coordinator lost or never there, a signal before it
 * answered): the connection goes, d is said (event, when named) and handed to this node.
 */
static void end_alone(struct tcp *t, struct fd_decision *d, const char *event, int kind)
{
	conn_free(t->up);
	t->up = NULL;
	t->over = 1;
	d->gen = t->gen;
	if (event)
		tcp_event(t, event, 0, t->coord_host, "%s", d->why);
	tcp_deliver(t, d, kind);
}

static void coordinator_lost(struct tcp *t, const char *how)
{
	struct fd_decision d = {.verdict = FD_STOP, .stop_why = FD_STOP_PEER_LOST, .node = 0};

	if (t->over) {
		conn_free(t->up);
		t->up = NULL;
		return;
	}
	snprintf(d.why, sizeof(d.why), "the coordinator, node 0 (%s), lost: %s", t->coord_host,
		 how);
	end_alone(t, &d, "lost", DELIVER_STOP);
}

static int send_state(struct tcp *t, int type, const struct fd_node_state *s)
{
	uint8_t buf[FD_FRAME_MAX];
	size_t n = fd_state_put(buf, sizeof(buf), s);

	if (!n)
		return -EMSGSIZE;
	return conn_send(t->up, type, buf, n);
}

static void on_coord_frame(struct conn *c, const struct fd_frame *f)
{
	struct tcp *t = c->t;
	struct fd_decision d;
	char why[128];

	if (f->node != 0) {
		snprintf(why, sizeof(why), "a frame from node %u on the coordinator's connection",
			 f->node);
		t->rejected++;
		tcp_event(t, "rejected", 0, t->coord_host, "refused %s", why);
		return;
	}
	switch (f->type) {
	case FR_BEAT:
		return;
	case FR_WELCOME:
		if (t->welcomed)
			break;
		t->welcomed = 1;
		t->gen = f->gen;
		t->round = f->round;
		tcp_event(t, "joined", t->g->rank, t->my_host,
			  "node %d joined the group of %d at %s:%d", t->g->rank, t->conf.nnodes,
			  t->coord_host, t->conf.coord_port);
		if (t->mine_queued) {
			t->mine_queued = 0;
			if (send_state(t, FR_STATE, &t->mine))
				c->closing = 1;
		}
		return;
	case FR_WORLD: {
		struct fd_world_msg m;

		if (!t->welcomed || f->gen != t->gen || fd_world_get(f->payload, f->len, &m))
			break;
		tcp_deliver_world(t, 0, &m);
		return;
	}
	case FR_STOP:
	case FR_DECISION:
		if (!t->welcomed || fd_decision_get(f->payload, f->len, &d))
			break;
		if (f->type == FR_STOP) {
			if (f->gen == t->gen && f->round == t->round)
				tcp_deliver(t, &d, DELIVER_HALT);
			return;
		}
		if (f->round != t->round && d.stop_why != FD_STOP_PEER_LOST)
			break;
		t->round++;
		t->gen = d.gen;
		if (d.verdict == FD_STOP)
			t->over = 1;
		if (d.verdict == FD_RESTART)
			tcp_event(t, "go", -1, "", "generation %u: restarting from %s", t->gen,
				  *d.checkpoint ? d.checkpoint : "the start");
		tcp_deliver(t, &d, t->submitted ? DELIVER_DECISION : DELIVER_STOP);
		t->submitted = 0;
		return;
	default:
		break;
	}
	snprintf(why, sizeof(why), "an unexpected or malformed %s (generation %u round %u)",
		 fd_frame_type_name(f->type), f->gen, f->round);
	t->rejected++;
	tcp_event(t, "rejected", 0, t->coord_host, "refused %s", why);
}

static void on_coord(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	struct tcp *t = c->t;
	const char *why = NULL;
	int r = 0;

	if (c->node < 0 || (events & EPOLLOUT)) {
		if (c->node < 0) { /* the connect finished, or failed */
			int e = 0;
			socklen_t el = sizeof(e);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
			if (!e && !(events & EPOLLOUT))
				return; /* not finished yet */
			if (e) {
				if (!t->welcomed && !t->addr_err_said) {
					tcp_event(t, "waiting", 0, t->coord_host,
						  "coordinator %s:%d not reachable yet (%s): "
						  "retrying until --join-timeout",
						  t->coord_host, t->conf.coord_port, strerror(e));
					t->addr_err_said = 1;
				}
				conn_free(c);
				t->up = NULL;
				return;
			}
			c->node = 0;
			c->want_out = 0;
			fd_loop_mod(l, fd, EPOLLIN);
			{
				struct fd_hello h = {.nnodes = (uint32_t)t->conf.nnodes,
						     .pid = (uint32_t)getpid()};
				uint8_t buf[512];
				size_t n;

				fd_strlcpy(h.host, t->my_host, sizeof(h.host));
				n = fd_hello_put(buf, sizeof(buf), &h);
				r = conn_send(c, FR_HELLO, buf, n);
			}
		} else {
			r = conn_flush(c);
		}
	}
	if (!r && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->node == 0)
		r = conn_read(c, on_coord_frame, &why);
	if (!r && !c->closing)
		return;
	if (!t->welcomed && !t->over) {
		/* refused before the welcome: not a loss; tried again until --join-timeout */
		if (r == -EBADMSG || r == -EPROTO)
			tcp_event(t, "rejected", 0, t->coord_host,
				  "the coordinator at %s:%d speaks %s", t->coord_host,
				  t->conf.coord_port, conn_err_name(r));
		conn_free(c);
		t->up = NULL;
		return;
	}
	coordinator_lost(t, why ? why : conn_err_name(r ? r : -EPIPE));
}

/* A non-blocking connect to the coordinator at sa, finished in on_coord. */
static void connect_to(struct tcp *t, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	conn_sockopts(t, fd);
	if (connect(fd, sa, len) && errno != EINPROGRESS) {
		close(fd);
		return;
	}
	t->up = conn_new(t, fd);
	if (!t->up) {
		close(fd);
		return;
	}
	t->up->node = -1; /* -1: connecting; 0: connected */
	t->up->want_out = 1;
	if (fd_loop_add(t->g->loop, fd, EPOLLOUT | EPOLLIN, on_coord, t->up)) {
		conn_free(t->up);
		t->up = NULL;
	}
}

/* A name that does not resolve yet (the index-0 pod not up) is retried like a refusal. */
static void not_resolvable(struct tcp *t, int gai)
{
	if (t->addr_err_said)
		return;
	tcp_event(t, "waiting", 0, t->coord_host,
		  "coordinator %s:%d not resolvable yet (%s): retrying until --join-timeout",
		  t->coord_host, t->conf.coord_port, gai_strerror(gai));
	t->addr_err_said = 1;
}

/* The next address of the list, connected to; the list is used up after its last. */
static void connect_next(struct tcp *t)
{
	int i = t->next_addr++;

	connect_to(t, (const struct sockaddr *)&t->addrs[i], t->addr_len[i]);
}

static void take_addrs(struct tcp *t, const struct resolve_addrs *r)
{
	t->naddr = (int)(r->n < RESOLVE_ADDRS ? r->n : RESOLVE_ADDRS);
	t->next_addr = 0;
	for (int i = 0; i < t->naddr; i++) {
		t->addr_len[i] = (socklen_t)r->len[i];
		memcpy(&t->addrs[i], &r->addr[i], r->len[i]);
	}
}

/*
 * The lookup could not start (pipe2 or fork failed: out of descriptors or processes): said
 * once a streak, and tried again at the next retry, as an unreachable coordinator is.
 */
static void lookup_failed(struct tcp *t, const char *call, int err)
{
	if (t->lookup_err_said)
		return;
	tcp_event(t, "waiting", 0, t->coord_host,
		  "cannot look up coordinator %s:%d: %s failed (%s): retrying until --join-timeout",
		  t->coord_host, t->conf.coord_port, call, strerror(-err));
	t->lookup_err_said = 1;
}

/* The lookup's answer (resolve.c), from the loop. */
static void on_resolved(void *arg, const struct resolve_addrs *r)
{
	struct tcp *t = arg;

	if (r->gai) {
		not_resolvable(t, r->gai);
		return;
	}
	take_addrs(t, r);
	if (!t->over && !t->welcomed && !t->up)
		connect_next(t);
}

/*
 * One try at reaching the coordinator: the next address of the last lookup; when every one was
 * tried, a new lookup (the name may have moved: a pod rescheduled), an address given as digits
 * at once, a name through the resolver's child.
 */
static void try_connect(struct tcp *t)
{
	struct resolve_addrs r;
	const char *call = "";

	if (resolve_busy(&t->resolver))
		return; /* a lookup is under way */
	if (t->next_addr < t->naddr) {
		connect_next(t);
		return;
	}
	if (resolve_numeric(t->coord_host, t->conf.coord_port, &r)) {
		int e = resolve_start(&t->resolver, t->coord_host, t->conf.coord_port, &call);

		if (e)
			lookup_failed(t, call, e);
		else
			t->lookup_err_said = 0;
		return;
	}
	take_addrs(t, &r);
	if (t->naddr)
		connect_next(t);
}

void member_timer(struct tcp *t, int64_t now)
{
	int64_t silent = t->conf.peer_timeout_ms * 1000000;
	char how[64];

	if (t->over)
		return;
	if (!t->welcomed) {
		if (now - t->start > t->conf.join_timeout_ms * 1000000) {
			struct fd_decision d = {
			    .verdict = FD_STOP, .stop_why = FD_STOP_PEER_LOST, .node = 0};

			snprintf(d.why, sizeof(d.why),
				 "the coordinator, node 0 (%s:%d), never answered within "
				 "--join-timeout",
				 t->coord_host, t->conf.coord_port);
			end_alone(t, &d, "join_timeout", DELIVER_STOP);
			return;
		}
		if (!t->up && now >= t->next_connect) {
			t->next_connect = now + (int64_t)CONNECT_RETRY_MS * 1000000;
			try_connect(t);
		}
		return;
	}
	if (t->up && t->up->closing) {
		coordinator_lost(t, "not reading (its send queue is full)");
		return;
	}
	if (t->up && now - t->up->last_rx > silent) {
		snprintf(how, sizeof(how), "silent %.1f s", (double)(now - t->up->last_rx) / 1e9);
		coordinator_lost(t, how);
		return;
	}
	if (t->up && now >= t->next_beat) {
		if (conn_send(t->up, FR_BEAT, NULL, 0))
			t->up->closing = 1;
		t->next_beat = now + t->conf.peer_interval_ms * 1000000;
	}
}

int64_t member_next(struct tcp *t)
{
	int64_t next = t->next_beat;

	if (!t->welcomed) {
		/* no beats before the welcome: the next try, or the end of the wait */
		next = t->start + t->conf.join_timeout_ms * 1000000 + 1;
		if (!t->up && t->next_connect < next)
			next = t->next_connect;
		return next;
	}
	/* the coordinator silent: lost at its deadline, not at the next beat after it */
	if (t->welcomed && t->up && t->up->last_rx + t->conf.peer_timeout_ms * 1000000 + 1 < next)
		next = t->up->last_rx + t->conf.peer_timeout_ms * 1000000 + 1;
	return next;
}

/*
 * Told to stop before the coordinator answered: nobody to tell, nothing launched; this node
 * stops now rather than wait for --join-timeout (past the scheduler's patience).
 */
static void stop_alone(struct tcp *t, int sig)
{
	struct fd_decision d = {.verdict = FD_STOP,
				.stop_why = FD_STOP_SIGNAL,
				.node = t->g->rank,
				.stop_signal = sig,
				.last_max_step = -1};

	snprintf(d.why, sizeof(d.why), "told to stop (signal %d) before the group formed", sig);
	end_alone(t, &d, NULL, t->submitted ? DELIVER_DECISION : DELIVER_STOP);
}

int member_submit(struct tcp *t, const struct fd_node_state *mine)
{
	if (t->over)
		return -EPIPE;
	t->submitted = 1;
	if (!t->welcomed && mine->stop_signal) {
		stop_alone(t, mine->stop_signal);
		return 0;
	}
	if (!t->welcomed || !t->up) {
		t->mine = *mine;
		t->mine_queued = 1;
		return 0;
	}
	if (send_state(t, FR_STATE, mine))
		t->up->closing = 1; /* the timer says it */
	return 0;
}

void member_halt(struct tcp *t, int failure, int stop_signal, const char *detail)
{
	struct fd_node_state s = {.failure = failure, .stop_signal = stop_signal};

	if (t->over)
		return;
	if (!t->welcomed && stop_signal) {
		stop_alone(t, stop_signal);
		return;
	}
	if (!t->welcomed || !t->up)
		return;
	fd_strlcpy(s.detail, detail, sizeof(s.detail));
	if (send_state(t, FR_HALT, &s))
		t->up->closing = 1;
}

int member_world(struct tcp *t, const struct fd_world_msg *m)
{
	uint8_t buf[2048];
	size_t n;

	if (!t->welcomed || !t->up)
		return -ENOTCONN;
	n = fd_world_put(buf, sizeof(buf), m);
	if (!n)
		return -EMSGSIZE;
	if (conn_send(t->up, FR_WORLD, buf, n))
		t->up->closing = 1; /* the timer says it */
	return 0;
}

int member_open(struct tcp *t, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	resolve_init(&t->resolver, t->g->loop, on_resolved, t);
	t->next_connect = t->start;
	try_connect(t);
	t->next_connect = t->start + (int64_t)CONNECT_RETRY_MS * 1000000;
	return 0;
}

void member_close(struct tcp *t)
{
	resolve_cancel(&t->resolver);
	if (t->up) {
		conn_flush_blocking(t->up, 1000);
		conn_free(t->up);
		t->up = NULL;
	}
}
