/*
 * member.c - a node other than 0 in the TCP star, a member's transport: it connects to the
 * coordinator (again and again until --join-timeout, since node 0 may start later), says
 * HELLO, sends its state each round and applies what comes back. A coordinator that closes or
 * falls silent ends the job on this node with the peer-lost code (docs/architecture.md, "The
 * node group"). A name for the coordinator is looked up by resolve.c; the rest is the shared
 * part (tcp.c, conn.c).
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

struct member {
	struct tcp t;	      /* first: a connection's t is its member */
	char coord_host[256]; /* the coordinator as it was named (conf.coord_host) */
	struct conn *up;      /* to the coordinator */
	int welcomed;
	int64_t next_connect;
	struct fd_node_state mine; /* a submit made before the coordinator answered */
	int mine_queued;
	int addr_err_said;
	int lookup_err_said;	 /* the lookup's child could not be started; said */
	struct resolve resolver; /* the child looking up the coordinator's name */
	/* the coordinator's addresses from the last lookup, tried in turn (a name may give ::1
	 * first to a coordinator listening on IPv4 only); looked up again once all were tried */
	struct sockaddr_storage addrs[RESOLVE_ADDRS];
	socklen_t addr_len[RESOLVE_ADDRS];
	int naddr, next_addr;
	int refused; /* a REFUSE came: the job ends here with refusal (member_refused) */
	struct fd_decision refusal;
};

static struct member *member_of(struct tcp *t)
{
	return (struct member *)t;
}

/*
 * This node ends the job on its own (its coordinator lost or never there, a signal before it
 * answered): the connection goes, d is said (event, when named) and handed to this node.
 */
static void member_end_alone(struct member *mb, struct fd_decision *d, const char *event, int kind)
{
	conn_free(mb->up);
	mb->up = NULL;
	mb->t.over = 1;
	d->gen = mb->t.gen;
	if (event)
		tcp_event(&mb->t, event, 0, mb->coord_host, "%s", d->why);
	tcp_deliver(&mb->t, d, kind);
}

static void member_lost_coord(struct member *mb, const char *how)
{
	struct fd_decision d = {.verdict = FD_STOP, .stop_why = FD_STOP_PEER_LOST, .node = 0};

	if (mb->t.over) {
		conn_free(mb->up);
		mb->up = NULL;
		return;
	}
	snprintf(d.why, sizeof(d.why), "the coordinator, node 0 (%s), lost: %s", mb->coord_host,
		 how);
	member_end_alone(mb, &d, "lost", DELIVER_STOP);
}

/*
 * The coordinator refused this node (REFUSE): its flags or token do not make it part of this
 * job, and retrying until --join-timeout would only turn that into 75 and a requeue into the
 * same refusal. Said, and this node stops with the usage code (a job that had ended: 75).
 * signed: the REFUSE passed the MAC; one with another token cannot, and is read as that.
 */
static void member_refused(struct member *mb, const struct fd_frame *f, int signed_ok)
{
	struct fd_decision d = {.verdict = FD_STOP, .stop_why = FD_STOP_CONFIG, .node = 0};
	struct fd_refuse rf;

	if (fd_refuse_get(f->payload, f->len, &rf) || (!signed_ok && rf.code != FD_REFUSE_TOKEN)) {
		/* unreadable, or a claim nobody proved: a refusal like any other, retried */
		tcp_event(&mb->t, "rejected", 0, mb->coord_host,
			  "the coordinator at %s:%d refused this node (unreadable reason)",
			  mb->coord_host, mb->t.conf.coord_port);
		return;
	}
	if (rf.code == FD_REFUSE_TOKEN)
		snprintf(d.why, sizeof(d.why),
			 "the coordinator at %s:%d refused node %d: this node's token differs "
			 "from node 0's (--token-file, FLIGHTDECK_TOKEN or --token-from-job)",
			 mb->coord_host, mb->t.conf.coord_port, mb->t.g->rank);
	else
		snprintf(d.why, sizeof(d.why), "the coordinator at %s:%d refused node %d: %s",
			 mb->coord_host, mb->t.conf.coord_port, mb->t.g->rank, rf.why);
	if (!fd_refuse_is_config(rf.code))
		d.stop_why = FD_STOP_PEER_LOST;
	/* ended by member_on_conn, once the read that brought it is done with the connection */
	mb->refusal = d;
	mb->refused = 1;
	mb->up->closing = 1;
}

static int member_send_state(struct member *mb, int type, const struct fd_node_state *s)
{
	uint8_t buf[FD_FRAME_MAX];
	size_t n = fd_state_put(buf, sizeof(buf), s);

	if (!n)
		return -EMSGSIZE;
	return conn_send(mb->up, type, buf, n);
}

static void member_on_frame(struct conn *c, const struct fd_frame *f)
{
	struct member *mb = member_of(c->t);
	struct fd_decision d;
	struct fd_hello h;
	char why[128];
	int r = 0;

	if (f->node != 0) {
		snprintf(why, sizeof(why), "a frame from node %u on the coordinator's connection",
			 f->node);
		mb->t.rejected++;
		tcp_event(&mb->t, "rejected", 0, mb->coord_host, "refused %s", why);
		return;
	}
	switch (f->type) {
	case FR_BEAT:
		return;
	case FR_REFUSE:
		if (mb->welcomed)
			break;
		member_refused(mb, f, 1);
		return;
	case FR_WELCOME:
		if (mb->welcomed || (r = fd_hello_get(f->payload, f->len, &h)))
			break;
		mb->welcomed = 1;
		mb->t.gen = f->gen;
		mb->t.round = f->round;
		tcp_event(&mb->t, "joined", mb->t.g->rank, mb->t.g->host,
			  "node %d joined the group of %d at %s:%d", mb->t.g->rank,
			  mb->t.conf.nnodes, mb->coord_host, mb->t.conf.coord_port);
		if (mb->mine_queued) {
			mb->mine_queued = 0;
			if (member_send_state(mb, FR_STATE, &mb->mine))
				c->closing = 1;
		}
		return;
	case FR_WORLD: {
		struct fd_world_msg m;

		if (!mb->welcomed || (r = fd_world_get(f->payload, f->len, &m)) ||
		    f->gen != mb->t.gen)
			break;
		tcp_deliver_world(&mb->t, 0, &m);
		return;
	}
	case FR_STOP:
	case FR_DECISION:
		if (!mb->welcomed || (r = fd_decision_get(f->payload, f->len, &d)))
			break;
		if (f->type == FR_STOP) {
			if (f->gen == mb->t.gen && f->round == mb->t.round)
				tcp_deliver(&mb->t, &d, DELIVER_HALT);
			return;
		}
		if (f->round != mb->t.round && d.stop_why != FD_STOP_PEER_LOST)
			break;
		mb->t.round++;
		mb->t.gen = d.gen;
		if (d.verdict == FD_STOP)
			mb->t.over = 1;
		if (d.verdict == FD_RESTART)
			tcp_event(&mb->t, "go", -1, "", "generation %u: restarting from %s",
				  mb->t.gen, *d.checkpoint ? d.checkpoint : "the start");
		tcp_deliver(&mb->t, &d, mb->t.submitted ? DELIVER_DECISION : DELIVER_STOP);
		mb->t.submitted = 0;
		return;
	default:
		break;
	}
	if (r == -EPROTONOSUPPORT) {
		mb->t.rejected++;
		tcp_event(&mb->t, "rejected", 0, mb->coord_host, "refused %s",
			  conn_refuse_version(c, f));
		return;
	}
	snprintf(why, sizeof(why), "an unexpected or malformed %s (generation %u round %u)",
		 fd_frame_type_name(f->type), f->gen, f->round);
	mb->t.rejected++;
	tcp_event(&mb->t, "rejected", 0, mb->coord_host, "refused %s", why);
}

/*
 * The frame at the head of the input did not pass the MAC before the WELCOME: when it is a
 * REFUSE, node 0 signed it with a token that is not this node's, and its reason is read as
 * "the tokens differ" (member_refused).
 */
static void member_unsigned_refuse(struct member *mb, struct conn *c)
{
	struct fd_frame f;

	if (fd_frame_parse(c->in, c->in_len, &mb->t.tok, &f) == -EBADMSG && f.type == FR_REFUSE)
		member_refused(mb, &f, 0);
}

static void member_on_conn(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	struct member *mb = member_of(c->t);
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
				if (!mb->welcomed && !mb->addr_err_said) {
					tcp_event(&mb->t, "waiting", 0, mb->coord_host,
						  "coordinator %s:%d not reachable yet (%s): "
						  "retrying until --join-timeout",
						  mb->coord_host, mb->t.conf.coord_port,
						  strerror(e));
					mb->addr_err_said = 1;
				}
				conn_free(c);
				mb->up = NULL;
				return;
			}
			c->node = 0;
			c->want_out = 0;
			fd_loop_mod(l, fd, EPOLLIN);
			{
				struct fd_hello h = {.nnodes = (uint32_t)mb->t.conf.nnodes,
						     .spares = (uint32_t)mb->t.conf.spares,
						     .pid = (uint32_t)getpid()};
				uint8_t buf[512];
				size_t n;

				fd_strlcpy(h.host, mb->t.g->host, sizeof(h.host));
				n = fd_hello_put(buf, sizeof(buf), &h);
				r = conn_send(c, FR_HELLO, buf, n);
			}
		} else {
			r = conn_flush(c);
		}
	}
	if (!r && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->node == 0)
		r = conn_read(c, member_on_frame, &why);
	if (r == -EBADMSG && !mb->welcomed)
		member_unsigned_refuse(mb, c);
	if (mb->refused) {
		member_end_alone(mb, &mb->refusal,
				 mb->refusal.stop_why == FD_STOP_CONFIG ? "config" : "refused",
				 mb->t.submitted ? DELIVER_DECISION : DELIVER_STOP);
		return;
	}
	if (!r && !c->closing)
		return;
	if (!mb->welcomed && !mb->t.over) {
		/* refused before the welcome: not a loss; tried again until --join-timeout */
		if (r == -EBADMSG || r == -EPROTO)
			tcp_event(&mb->t, "rejected", 0, mb->coord_host,
				  "the coordinator at %s:%d speaks %s", mb->coord_host,
				  mb->t.conf.coord_port, conn_err_name(r));
		conn_free(c);
		mb->up = NULL;
		return;
	}
	member_lost_coord(mb, why ? why : *c->why ? c->why : conn_err_name(r ? r : -EPIPE));
}

/* A non-blocking connect to the coordinator at sa, finished in member_on_conn. */
static void member_connect_to(struct member *mb, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	conn_sockopts(&mb->t, fd);
	if (connect(fd, sa, len) && errno != EINPROGRESS) {
		close(fd);
		return;
	}
	mb->up = conn_new(&mb->t, fd);
	if (!mb->up) {
		close(fd);
		return;
	}
	mb->up->node = -1; /* -1: connecting; 0: connected */
	mb->up->want_out = 1;
	if (fd_loop_add(mb->t.g->loop, fd, EPOLLOUT | EPOLLIN, member_on_conn, mb->up)) {
		conn_free(mb->up);
		mb->up = NULL;
	}
}

/* A name that does not resolve yet (the index-0 pod not up) is retried like a refusal. */
static void member_not_resolvable(struct member *mb, int gai)
{
	if (mb->addr_err_said)
		return;
	tcp_event(&mb->t, "waiting", 0, mb->coord_host,
		  "coordinator %s:%d not resolvable yet (%s): retrying until --join-timeout",
		  mb->coord_host, mb->t.conf.coord_port, gai_strerror(gai));
	mb->addr_err_said = 1;
}

/* The next address of the list, connected to; the list is used up after its last. */
static void member_connect_next(struct member *mb)
{
	int i = mb->next_addr++;

	member_connect_to(mb, (const struct sockaddr *)&mb->addrs[i], mb->addr_len[i]);
}

static void member_take_addrs(struct member *mb, const struct resolve_addrs *r)
{
	mb->naddr = (int)(r->n < RESOLVE_ADDRS ? r->n : RESOLVE_ADDRS);
	mb->next_addr = 0;
	for (int i = 0; i < mb->naddr; i++) {
		mb->addr_len[i] = (socklen_t)r->len[i];
		memcpy(&mb->addrs[i], &r->addr[i], r->len[i]);
	}
}

/*
 * The lookup could not start (pipe2 or fork failed: out of descriptors or processes): said
 * once a streak, and tried again at the next retry, as an unreachable coordinator is.
 */
static void member_lookup_failed(struct member *mb, const char *call, int err)
{
	if (mb->lookup_err_said)
		return;
	tcp_event(&mb->t, "waiting", 0, mb->coord_host,
		  "cannot look up coordinator %s:%d: %s failed (%s): retrying until --join-timeout",
		  mb->coord_host, mb->t.conf.coord_port, call, strerror(-err));
	mb->lookup_err_said = 1;
}

/* The lookup's answer (resolve.c), from the loop. */
static void member_on_resolved(void *arg, const struct resolve_addrs *r)
{
	struct member *mb = arg;

	if (r->gai) {
		member_not_resolvable(mb, r->gai);
		return;
	}
	member_take_addrs(mb, r);
	if (!mb->t.over && !mb->welcomed && !mb->up)
		member_connect_next(mb);
}

/*
 * One try at reaching the coordinator: the next address of the last lookup; when every one was
 * tried, a new lookup (the name may have moved: a pod rescheduled), an address given as digits
 * at once, a name through the resolver's child.
 */
static void member_try_connect(struct member *mb)
{
	struct resolve_addrs r;
	const char *call = "";

	if (resolve_busy(&mb->resolver))
		return; /* a lookup is under way */
	if (mb->next_addr < mb->naddr) {
		member_connect_next(mb);
		return;
	}
	if (resolve_numeric(mb->coord_host, mb->t.conf.coord_port, &r)) {
		int e = resolve_start(&mb->resolver, mb->coord_host, mb->t.conf.coord_port, &call);

		if (e)
			member_lookup_failed(mb, call, e);
		else
			mb->lookup_err_said = 0;
		return;
	}
	member_take_addrs(mb, &r);
	if (mb->naddr)
		member_connect_next(mb);
}

static void member_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct member *mb = arg;
	int64_t silent = mb->t.conf.peer_timeout_ms * 1000000;
	char how[64];

	if (mb->t.over)
		return;
	if (!mb->welcomed) {
		if (now - mb->t.start > mb->t.conf.join_timeout_ms * 1000000) {
			struct fd_decision d = {
			    .verdict = FD_STOP, .stop_why = FD_STOP_PEER_LOST, .node = 0};

			snprintf(d.why, sizeof(d.why),
				 "the coordinator, node 0 (%s:%d), never answered within "
				 "--join-timeout",
				 mb->coord_host, mb->t.conf.coord_port);
			member_end_alone(mb, &d, "join_timeout", DELIVER_STOP);
			return;
		}
		if (!mb->up && now >= mb->next_connect) {
			mb->next_connect = now + (int64_t)CONNECT_RETRY_MS * 1000000;
			member_try_connect(mb);
		}
		return;
	}
	if (mb->up && mb->up->closing) {
		member_lost_coord(mb, "not reading (its send queue is full)");
		return;
	}
	if (mb->up && now - mb->up->last_rx > silent) {
		snprintf(how, sizeof(how), "silent %.1f s", (double)(now - mb->up->last_rx) / 1e9);
		member_lost_coord(mb, how);
		return;
	}
	if (mb->up && now >= mb->t.next_beat) {
		if (conn_send(mb->up, FR_BEAT, NULL, 0))
			mb->up->closing = 1;
		mb->t.next_beat = now + mb->t.conf.peer_interval_ms * 1000000;
	}
}

static int64_t member_next(void *arg, int64_t now)
{
	struct member *mb = arg;
	int64_t next = mb->t.next_beat;

	if (mb->t.over)
		return INT64_MAX;
	if (!mb->welcomed) {
		/* no beats before the welcome: the next try, or the end of the wait */
		next = mb->t.start + mb->t.conf.join_timeout_ms * 1000000 + 1;
		if (!mb->up && mb->next_connect < next)
			next = mb->next_connect;
		return next;
	}
	/* the coordinator silent: lost at its deadline, not at the next beat after it */
	if (mb->welcomed && mb->up &&
	    mb->up->last_rx + mb->t.conf.peer_timeout_ms * 1000000 + 1 < next)
		next = mb->up->last_rx + mb->t.conf.peer_timeout_ms * 1000000 + 1;
	return next;
}

/*
 * Told to stop before the coordinator answered: nobody to tell, nothing launched; this node
 * stops now rather than wait for --join-timeout (past the scheduler's patience).
 */
static void member_stop_alone(struct member *mb, int sig)
{
	struct fd_decision d = {.verdict = FD_STOP,
				.stop_why = FD_STOP_SIGNAL,
				.node = mb->t.g->rank,
				.stop_signal = sig,
				.last_max_step = -1};

	snprintf(d.why, sizeof(d.why), "told to stop (signal %d) before the group formed", sig);
	member_end_alone(mb, &d, NULL, mb->t.submitted ? DELIVER_DECISION : DELIVER_STOP);
}

static int member_submit(struct fd_group *g, const struct fd_node_state *mine)
{
	struct member *mb = g->tcp;

	if (mb->t.submitted)
		return -EBUSY;
	if (mb->t.over) /* the final decision may be on its way (queued): it decides */
		return mb->t.nqueue ? 0 : -EPIPE;
	mb->t.submitted = 1;
	if (!mb->welcomed && mine->stop_signal) {
		member_stop_alone(mb, mine->stop_signal);
		return 0;
	}
	if (!mb->welcomed || !mb->up) {
		mb->mine = *mine;
		mb->mine_queued = 1;
		return 0;
	}
	if (member_send_state(mb, FR_STATE, mine))
		mb->up->closing = 1; /* the timer says it */
	return 0;
}

static void member_halt(struct fd_group *g, int failure, int stop_signal, const char *detail)
{
	struct member *mb = g->tcp;
	struct fd_node_state s = {.failure = failure, .stop_signal = stop_signal};

	if (mb->t.over)
		return;
	if (!mb->welcomed && stop_signal) {
		member_stop_alone(mb, stop_signal);
		return;
	}
	if (!mb->welcomed || !mb->up)
		return;
	fd_strlcpy(s.detail, detail ? detail : "", sizeof(s.detail));
	if (member_send_state(mb, FR_HALT, &s))
		mb->up->closing = 1;
}

/* A member talks to node 0 only. */
static int member_world(struct fd_group *g, int to, const struct fd_world_msg *m)
{
	struct member *mb = g->tcp;
	uint8_t buf[2048];
	size_t n;

	if (mb->t.over)
		return -EPIPE;
	if (to != 0)
		return -EINVAL;
	if (!mb->welcomed || !mb->up)
		return -ENOTCONN;
	n = fd_world_put(buf, sizeof(buf), m);
	if (!n)
		return -EMSGSIZE;
	if (conn_send(mb->up, FR_WORLD, buf, n))
		mb->up->closing = 1; /* the timer says it */
	return 0;
}

/* The host of a node: this one's, the coordinator's as it was named, else the job's list. */
static const char *member_host(struct fd_group *g, int node)
{
	struct member *mb = g->tcp;

	if (node == g->rank)
		return g->host;
	if (node == 0)
		return mb->coord_host;
	return tcp_listed_host(&mb->t, node);
}

static void member_close(struct fd_group *g)
{
	struct member *mb = g->tcp;

	if (!mb)
		return;
	resolve_cancel(&mb->resolver);
	if (mb->up) {
		conn_flush_blocking(mb->up, 1000);
		conn_free(mb->up);
		mb->up = NULL;
	}
	fd_loop_untimer(g->loop, mb);
	tcp_release(&mb->t);
	free(mb);
}

static const struct fd_group_ops member_ops = {
    .name = "tcp member",
    .submit = member_submit,
    .halt = member_halt,
    .world = member_world,
    .host = member_host,
    .close = member_close,
};

int member_new(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
	       const struct fd_group_conf *conf, const struct fd_group_callbacks *cb, void *ctx,
	       char *err, size_t errlen)
{
	struct member *mb = calloc(1, sizeof(*mb));
	int r;

	(void)err;
	(void)errlen;
	if (!mb)
		return -ENOMEM;
	mb->t.g = g;
	resolve_init(&mb->resolver, loop, member_on_resolved, mb);
	r = grp_open(g, &member_ops, conf->node, conf->nnodes, loop, pol, cb, ctx);
	g->tcp = mb;
	if (r)
		goto fail;
	r = tcp_init(&mb->t, g, conf);
	if (r)
		goto fail;
	fd_strlcpy(mb->coord_host, conf->coord_host ? conf->coord_host : "",
		   sizeof(mb->coord_host));
	mb->t.conf.coord_host = mb->coord_host;
	r = fd_loop_timer(loop, member_next, member_timer, mb);
	if (r)
		goto fail;
	mb->next_connect = mb->t.start;
	member_try_connect(mb);
	mb->next_connect = mb->t.start + (int64_t)CONNECT_RETRY_MS * 1000000;
	return 0;
fail:
	member_close(g);
	return r;
}
