/*
 * coord.c - node 0 of the TCP star, the coordinator's transport: it listens, admits each
 * member once, collects every node's state for a round and makes the round's one decision
 * (grp_decide, under the caller's policy), for the whole job. A member that fails makes it
 * stop every other node first (STOP), so the group restarts together, from the same
 * checkpoint. A member lost ends the job for everyone with the one peer-lost code, unless a
 * fit spare takes its place (--spares: docs/architecture.md, "Hot spares"); see "The node
 * group" there. It uses the shared part (tcp.c, conn.c) only.
 */
#define _GNU_SOURCE
#include "fanout.h"
#include "loop.h"
#include "spawn.h"
#include "tcp.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Connections that have not said HELLO yet are capped, as sshd's MaxStartups caps
 * unauthenticated ones: past the cap the oldest is dropped, so a flood of idle sockets (anyone
 * who reaches the port can open them) cannot take the descriptors, and a real node, whose HELLO
 * follows its connect at once, still gets in. Beside the members' and the pending ones,
 * RESERVE_FDS stay free for the supervisor (the /proc walk of a kill, the checkpoint scan, a
 * relaunch's pipes).
 */
#define PENDING_MAX	64
#define RESERVE_FDS	64
#define ACCEPT_PAUSE_MS 100 /* out of descriptors: accept nothing for this long */
#define ACCEPT_PER_CALL 16  /* then the reads of those accepted (a HELLO) come first */

struct coord {
	struct tcp t; /* first: a connection's t is its coordinator */
	int lfd;
	struct conn **by_node; /* [nnodes]; [0] unused: node 0 is this process */
	struct conn **pending; /* accepted, no HELLO yet */
	int npending;	       /* oldest first, at most PENDING_MAX */
	int joined;	       /* members with a HELLO, node 0 not counted */
	int running;	       /* the last decision launched attempts (CONTINUE) */
	/* every node's state for the round, its texts in texts[node] (fd_node_rec_keep) */
	struct fd_node_rec *states;
	char **texts;
	unsigned char *have;
	int nhave, halted;
	int formed_said;
	int flags_compared;
	long dropped;		   /* pending connections dropped for a newer one past the cap */
	long accept_failed;	   /* accept() errors (out of descriptors, memory) */
	int64_t accept_paused_end; /* the listening socket is out of the loop until then; 0 */
	long token_refused;	   /* HELLOs signed with another token, and the last one's peer */
	char token_refused_host[64];
	/*
	 * Hot spares (conf.spares > 0; else role is NULL): what each node is. Slots are
	 * g->active. A node out (lost, or replaced at a gate) is never promoted; one lost is
	 * not waited for in a round (nlost) until it comes back, as a spare.
	 */
	unsigned char *role;	 /* [nnodes] ROLE_* */
	unsigned char *unfit;	 /* [nnodes] a spare's (or an out node's) last preflight: unfit */
	unsigned char *promoted; /* [nnodes] promoted since its last gate: its view is checked */
	int nlost;
	/*
	 * The earliest a member can have been silent past --peer-timeout: a lower bound (a
	 * member's last_rx only grows), found again after each timer call; 0: to be found. The
	 * loop asks for the next deadline after every wakeup: a scan of 16,384 members each
	 * time was a fifth of the coordinator's CPU.
	 */
	int64_t silent_at;
	int beat_at; /* the member beaten last (coord_beat_slice) */
	/*
	 * A decision to many members goes out on several threads (fanout.h); NULL: this thread
	 * alone. fan_fds/fan_res [nnodes] are a fan-out's sockets by node and what each took.
	 */
	struct fd_fanout *fan;
	int *fan_fds;
	long *fan_res;
	int fan_err; /* errno when the threads could not be started */
};

enum {
	ROLE_ACTIVE,
	ROLE_SPARE,
	ROLE_OUT
};

static struct coord *coord_of(struct tcp *t)
{
	return (struct coord *)t;
}

/* The host of a node: what it said in its HELLO, else the job's node list, else "?". */
static const char *coord_host_of(struct coord *co, int node)
{
	if (node == 0)
		return co->t.g->host;
	if (node > 0 && co->by_node && node < co->t.conf.nnodes && co->by_node[node])
		return co->by_node[node]->host;
	return tcp_listed_host(&co->t, node);
}

static void coord_lose(struct coord *co, int node, const char *how);

static void coord_unpend_at(struct coord *co, int i)
{
	memmove(co->pending + i, co->pending + i + 1,
		(size_t)(co->npending - i - 1) * sizeof(*co->pending));
	co->npending--;
}

static void coord_drop_pending(struct coord *co, int i)
{
	conn_free(co->pending[i]);
	coord_unpend_at(co, i);
}

/*
 * Counted always, said for the first REJECT_SAID and then every REJECT_EVERY-th: an agent
 * with the wrong token retries four times a second until --join-timeout, and a port scanner
 * never stops; neither may flood stderr and the events log.
 */
#define REJECT_SAID  10
#define REJECT_EVERY 100

/* Whether the count-th of a kind is said: the first REJECT_SAID, then every REJECT_EVERY-th. */
static int said_now(long count)
{
	return count <= REJECT_SAID || count % REJECT_EVERY == 0;
}

static void coord_reject(struct coord *co, struct conn *c, const char *why)
{
	co->t.rejected++;
	if (!said_now(co->t.rejected))
		return;
	tcp_event(&co->t, "rejected", c->node, c->host,
		  "refused a %s from %s: %s (%ld refused so far)",
		  c->node >= 0 ? "frame" : "connection", *c->host ? c->host : "a peer", why,
		  co->t.rejected);
}

static void coord_end_job(struct coord *co, struct fd_decision *d, const char *event,
			  const char *host, int except, int kind);

/*
 * The nodes' flags do not make one job (a node count that differs, a node number twice or out
 * of range, another build): no requeue can cure it, so the job ends now on every node with
 * the usage code, instead of 75 after --join-timeout.
 */
static void coord_end_config(struct coord *co, int node, const char *host, const char *why)
{
	struct fd_decision d = {.verdict = FD_STOP,
				.stop_why = FD_STOP_CONFIG,
				.node = node >= 0 && node < co->t.conf.nnodes ? node : -1,
				.last_max_step = -1,
				.max_restarts = co->t.g->policy.max_restarts,
				.no_progress_limit = co->t.g->policy.no_progress_limit};

	if (co->t.over)
		return;
	snprintf(d.why, sizeof(d.why), "%s: the nodes' flags do not make one job", why);
	coord_end_job(co, &d, "config", host, -1,
		      co->t.submitted ? DELIVER_DECISION : DELIVER_STOP);
}

/*
 * A connection refused with its reason: logged (coord_reject), then told in a REFUSE before
 * it is closed, so the member says why and exits at once instead of retrying until
 * --join-timeout. A refusal that only a holder of the token could have caused (its HELLO
 * passed the MAC) and that is the flags' fault ends the job (coord_end_config); one with
 * another token cannot be told from a stranger's and ends nothing here.
 */
static void coord_refuse(struct coord *co, struct conn *c, int code, int node, const char *why)
{
	struct fd_refuse rf = {.code = code, .nnodes = (uint32_t)co->t.conf.nnodes};
	uint8_t buf[512];
	size_t n;

	if (!*c->host) { /* no HELLO was read: named by its address */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char a[INET6_ADDRSTRLEN] = "";

		if (!getpeername(c->fd, (struct sockaddr *)&ss, &sl) &&
		    !getnameinfo((struct sockaddr *)&ss, sl, a, sizeof(a), NULL, 0, NI_NUMERICHOST))
			fd_strlcpy(c->host, a, sizeof(c->host));
	}
	coord_reject(co, c, why);
	fd_strlcpy(rf.why, why, sizeof(rf.why));
	n = fd_refuse_put(buf, sizeof(buf), &rf);
	if (n)
		conn_send(c, FR_REFUSE, buf, n);
	shutdown(c->fd, SHUT_WR);
	c->closing = 1;
	if (code == FD_REFUSE_TOKEN) {
		co->token_refused++;
		fd_strlcpy(co->token_refused_host, *c->host ? c->host : "a peer",
			   sizeof(co->token_refused_host));
	} else if (fd_refuse_is_config(code)) {
		coord_end_config(co, node, c->host, why);
	}
}

/*
 * The same frame to every member but one: built and signed once (at 1024 nodes, signing per
 * connection was a seventh of the coordinator's CPU).
 */
static void coord_send_all(struct coord *co, int type, const void *p, size_t n, int except)
{
	static uint8_t frame[FD_FRAME_HDR + FD_FRAME_MAX];
	long k =
	    fd_frame_build(frame, sizeof(frame), type, 0, co->t.gen, co->t.round, p, n, &co->t.tok);

	if (k < 0)
		return;
	if (co->fan) { /* the sockets with nothing queued: the threads' */
		for (int i = 0; i < co->t.conf.nnodes; i++) {
			struct conn *c = co->by_node[i];

			co->fan_fds[i] =
			    i > 0 && i != except && c && c->fd >= 0 && !c->closing && !c->out_len
				? c->fd
				: -1;
		}
		fd_fanout_send(co->fan, co->fan_fds, co->fan_res, co->t.conf.nnodes, frame,
			       (size_t)k);
	}
	for (int i = 1; i < co->t.conf.nnodes; i++) {
		struct conn *c = co->by_node[i];
		int r;

		if (!c || i == except)
			continue;
		if (co->fan && co->fan_fds[i] >= 0)
			r = conn_sent(c, frame, (size_t)k, co->fan_res[i]);
		else
			r = conn_send_raw(c, frame, (size_t)k);
		if (r)
			c->closing = 1; /* noticed on the next timer: lost */
	}
}

/*
 * The members' BEATs go out in BEAT_SLICES slices over each --peer-interval, each member once
 * an interval: at 16,384 nodes one burst was 16,383 sends (150 ms on a loopback), which a
 * round's DECISION then waited behind.
 */
#define BEAT_SLICES 16

static void coord_beat_slice(struct coord *co, int slices)
{
	uint8_t frame[FD_FRAME_HDR];
	int members = co->t.conf.nnodes - 1, per;

	if (members < 1 || slices < 1 ||
	    fd_frame_build(frame, sizeof(frame), FR_BEAT, 0, co->t.gen, co->t.round, NULL, 0,
			   &co->t.tok) != FD_FRAME_HDR)
		return;
	per = (members + slices - 1) / slices;
	for (int k = 0; k < per; k++) {
		struct conn *c;

		co->beat_at = co->beat_at % members + 1; /* 1..members, in turn */
		c = co->by_node[co->beat_at];
		if (c && conn_send_raw(c, frame, sizeof(frame)))
			c->closing = 1; /* noticed on the next timer: lost */
	}
}

/* "--max-restarts 3" or "--stall-timeout 30 s" of a node, for a warning. */
static void flag_text(const char *flag, int64_t v, int ms, char *out, size_t len)
{
	char b[32];

	if (!ms)
		snprintf(out, len, "%s %lld", flag, (long long)v);
	else if (!v)
		snprintf(out, len, "%s auto", flag);
	else {
		fd_fmt_duration(v, b, sizeof(b));
		snprintf(out, len, "%s %s", flag, b);
	}
}

/*
 * The gate, once: the flags the group's decision depends on are node 0's, whatever a member
 * was started with, and a node without --checkpoint-dir has no say in the common checkpoint.
 * Where the nodes differ, a warning names both values, so that a member's own flags are not
 * taken for the job's.
 */
static void coord_compare_flags(struct coord *co)
{
	const struct fd_node_rec *z = &co->states[0];
	int n = co->t.conf.nnodes, without = 0, first_without = -1;

	for (int i = 1; i < n; i++) {
		const struct fd_node_rec *m = &co->states[i];
		static const char *const names[] = {"--max-restarts", "--no-progress-limit",
						    "--stall-timeout"};
		int64_t mine[3], theirs[3];

		if (!z->opts_known || !m->opts_known)
			continue;
		mine[0] = z->max_restarts, theirs[0] = m->max_restarts;
		mine[1] = z->no_progress_limit, theirs[1] = m->no_progress_limit;
		mine[2] = z->stall_timeout_ms, theirs[2] = m->stall_timeout_ms;
		for (int k = 0; k < 3; k++) {
			char a[64], b[64];

			if (mine[k] == theirs[k])
				continue;
			flag_text(names[k], theirs[k], k == 2, a, sizeof(a));
			flag_text(names[k], mine[k], k == 2, b, sizeof(b));
			tcp_event(&co->t, "flags", i, coord_host_of(co, i),
				  "warning: node %d (%s) has %s, node 0 has %s: %s", i,
				  coord_host_of(co, i), a, b,
				  k == 2
				      ? "each node judges its own ranks by its own, so one stall "
					"is caught sooner than another"
				      : "node 0's applies to the group's decisions");
		}
	}
	for (int i = 0; i < n; i++)
		if (co->states[i].no_ckpt_dir && without++ == 0)
			first_without = i;
	if (without && without < n)
		tcp_event(&co->t, "flags", first_without, coord_host_of(co, first_without),
			  "warning: %d of %d nodes have no --checkpoint-dir (node %d, %s, first): "
			  "they have no say in which checkpoint is common, and their ranks get no "
			  "{resume}; give every node the same --checkpoint-dir",
			  without, n, first_without, coord_host_of(co, first_without));
}

/* The states a round waits for: every node but those lost (and not back). */
static int coord_expected(const struct coord *co)
{
	return co->t.conf.nnodes - co->nlost;
}

/* The spares in reserve: fit at their last gate, connected, never out. */
static int coord_spares_left(const struct coord *co)
{
	int k = 0;

	for (int i = 1; co->role && i < co->t.conf.nnodes; i++)
		k += co->role[i] == ROLE_SPARE && co->by_node[i] && !co->unfit[i];
	return k;
}

/*
 * Whether spare i may train now: fit, here, and (when the group resumes from a checkpoint and
 * it has a --checkpoint-dir) it sees that checkpoint. why says what it lacks, for the event.
 */
static int coord_eligible(struct coord *co, int i, const char *resume, char *why, size_t len)
{
	const struct fd_node_rec *s = &co->states[i];

	*why = '\0';
	if (co->role[i] != ROLE_SPARE || !co->by_node[i] || co->unfit[i])
		return 0;
	if (co->have[i] && *resume && !s->no_ckpt_dir && !fd_node_has_ckpt(s, resume)) {
		snprintf(why, len,
			 "spare node %d (%s) cannot see %s under its --checkpoint-dir (%s): "
			 "not eligible",
			 i, coord_host_of(co, i), resume,
			 s->nckpts ? "it holds others" : "it holds none");
		return 0;
	}
	return 1;
}

/*
 * The lowest eligible spare takes slot's place (its node going out); -1 when none is. The
 * spares passed over are said, with why.
 */
static int coord_promote(struct coord *co, int slot, const char *resume)
{
	struct fd_group *g = co->t.g;
	char why[FD_WHY_MAX];

	for (int i = 1; i < co->t.conf.nnodes; i++) {
		if (!coord_eligible(co, i, resume, why, sizeof(why))) {
			if (*why)
				tcp_event(&co->t, "spare", i, coord_host_of(co, i), "%s", why);
			continue;
		}
		co->role[g->active[slot]] = ROLE_OUT;
		co->role[i] = ROLE_ACTIVE;
		co->promoted[i] = 1;
		g->active[slot] = i;
		return i;
	}
	return -1;
}

/*
 * A gate with spares (nothing running anywhere): a training node that its preflight found
 * unfit, or a spare promoted since the last gate that cannot see the checkpoint the group
 * resumes from, gives its place to the lowest eligible spare, with no restart (nothing runs).
 * 0, or -1 when a promoted spare's place found no eligible spare: the job ends (75).
 */
static int coord_gate_replace(struct coord *co)
{
	struct fd_group *g = co->t.g;
	const char *resume = g->history.resume;
	char why[FD_WHY_MAX];

	for (int slot = 1; slot < g->nactive; slot++) {
		int a = g->active[slot], sp;
		const struct fd_node_rec *s = &co->states[a];
		int unfit = s->failure == FD_FAIL_PREFLIGHT;
		int blind =
		    co->promoted[a] && *resume && !s->no_ckpt_dir && !fd_node_has_ckpt(s, resume);

		co->promoted[a] = 0;
		if (!unfit && !blind)
			continue;
		if (blind) { /* back to the spares: it may see a later one */
			tcp_event(&co->t, "spare", a, coord_host_of(co, a),
				  "spare node %d (%s) cannot see %s under its --checkpoint-dir: "
				  "not eligible",
				  a, coord_host_of(co, a), resume);
			co->role[a] = ROLE_SPARE;
		}
		sp = coord_promote(co, slot, resume);
		if (blind)
			co->role[a] = ROLE_SPARE; /* coord_promote put it out */
		if (sp < 0) {
			if (!unfit) {
				struct fd_decision d = {.verdict = FD_STOP,
							.stop_why = FD_STOP_PEER_LOST,
							.failure = FD_FAIL_LOST,
							.node = a,
							.last_max_step = -1};

				snprintf(d.why, sizeof(d.why),
					 "no spare left that sees %s for training node %d", resume,
					 slot);
				coord_end_job(co, &d, "lost", coord_host_of(co, a), -1,
					      co->t.submitted ? DELIVER_DECISION : DELIVER_STOP);
				return -1;
			}
			continue; /* no spare: the unfit node stops the job, as without spares */
		}
		if (unfit) {
			snprintf(why, sizeof(why), "%s", coord_host_of(co, a));
			grp_note_replaced(g, why);
		}
		tcp_event(&co->t, "replaced", a, coord_host_of(co, a),
			  "%s node %d (%s): spare node %d (%s) takes its place as training node %d "
			  "(%d spare(s) left)",
			  unfit ? "unfit at the gate:" : "not eligible:", a, coord_host_of(co, a),
			  sp, coord_host_of(co, sp), slot, coord_spares_left(co));
	}
	return 0;
}

/*
 * A stall's restart whose culprit node is the machine's fault (its state's drain: a driver's
 * D state, an Xid since the job started) is said as the node to drain; with spares, the
 * lowest eligible one takes that node's slot for the restart (the gate checks that it sees
 * the checkpoint) and the node is out for the rest of the job, like a lost one.
 */
static void coord_drain(struct coord *co, struct fd_decision *d)
{
	struct fd_group *g = co->t.g;
	int a = d->node, slot = -1, sp;

	if (d->failure != FD_FAIL_STALL || a < 0 || a >= co->t.conf.nnodes ||
	    !co->states[a].culprit_likely || !co->states[a].drain[0])
		return;
	tcp_event(&co->t, "drain", a, coord_host_of(co, a), "the node to drain: node %d (%s): %s",
		  a, coord_host_of(co, a), co->states[a].drain);
	if (!co->role || d->verdict != FD_RESTART || co->role[a] != ROLE_ACTIVE)
		return;
	for (int i = 1; i < g->nactive; i++) /* node 0, the coordinator, trains to the end */
		if (g->active[i] == a)
			slot = i;
	sp = slot > 0 ? coord_promote(co, slot, "") : -1;
	if (sp < 0) {
		if (slot > 0)
			tcp_event(&co->t, "drain", a, coord_host_of(co, a),
				  "no fit spare left: node %d (%s) trains on", a,
				  coord_host_of(co, a));
		return;
	}
	grp_note_replaced(g, coord_host_of(co, a));
	tcp_event(&co->t, "replaced", a, coord_host_of(co, a),
		  "to drain: node %d (%s): spare node %d (%s) takes its place as training node %d "
		  "(%d spare(s) left)",
		  a, coord_host_of(co, a), sp, coord_host_of(co, sp), slot, coord_spares_left(co));
	d->nmoved = 0;
	for (int i = 0; i < g->nactive; i++)
		if (g->active[i] != i && d->nmoved < FD_SPARES_MAX) {
			d->moved[d->nmoved].slot = i;
			d->moved[d->nmoved++].node = g->active[i];
		}
}

/* Every node's state is in: the round's decision, for everyone. */
static void coord_decide(struct coord *co)
{
	struct fd_decision d;
	uint8_t buf[2048];
	size_t n;

	if (!co->flags_compared) {
		co->flags_compared = 1;
		coord_compare_flags(co);
	}
	if (co->role && !co->running && coord_gate_replace(co))
		return;
	grp_decide(co->t.g, co->states, &d);
	coord_drain(co, &d);
	if (co->t.g->nlost_now && d.verdict == FD_RESTART && !*d.why) {
		int lost = co->t.g->lost_now[0];

		snprintf(d.why, sizeof(d.why), "%s", co->states[lost].detail);
	}
	co->t.g->nlost_now = 0;
	if (d.verdict == FD_RESTART)
		co->t.gen++;
	d.gen = co->t.gen;
	if (d.verdict == FD_STOP)
		co->t.over = 1;
	co->running = d.verdict == FD_CONTINUE;
	n = fd_decision_put(buf, sizeof(buf), &d);
	/* the frame carries the round it answers; the next round starts after */
	coord_send_all(co, FR_DECISION, buf, n, -1);
	co->t.round++;
	co->nhave = co->halted = 0;
	memset(co->have, 0, (size_t)co->t.conf.nnodes);
	if (co->role && d.verdict == FD_CONTINUE)
		for (int i = 0; i < co->t.conf.nnodes; i++)
			co->promoted[i] = 0; /* checked at this gate */
	if (d.verdict == FD_RESTART)
		tcp_event(&co->t, "go", -1, "", "generation %u: every node restarts from %s",
			  co->t.gen, *d.checkpoint ? d.checkpoint : "the start");
	co->t.submitted = 0;
	tcp_deliver(&co->t, &d, DELIVER_DECISION);
}

/*
 * A final decision made outside a round (a node lost, a signal with nothing running): said
 * as an event naming d->node, sent to every member but except, and handed to this node.
 */
static void coord_end_job(struct coord *co, struct fd_decision *d, const char *event,
			  const char *host, int except, int kind)
{
	uint8_t buf[2048];
	size_t n;

	co->t.over = 1;
	d->gen = co->t.gen;
	d->restarts = co->t.g->history.restarts;
	d->max_restarts = co->t.g->policy.max_restarts;
	d->no_progress_limit = co->t.g->policy.no_progress_limit;
	tcp_event(&co->t, event, d->node, host, "%s", d->why);
	n = fd_decision_put(buf, sizeof(buf), d);
	coord_send_all(co, FR_DECISION, buf, n, except);
	tcp_deliver(&co->t, d, kind);
}

/*
 * A stop signal while no attempt runs anywhere (the group forming, the nodes in their
 * preflight or at the gate, a backoff): nothing needs stopping, and waiting for every node's
 * state could mean waiting for a node that never comes. The signal decides now, for every
 * node that is here.
 */
static void coord_stop_now(struct coord *co, int node, int sig)
{
	struct fd_decision d = {.verdict = FD_STOP,
				.stop_why = FD_STOP_SIGNAL,
				.node = node,
				.stop_signal = sig,
				.last_max_step = -1};

	snprintf(d.why, sizeof(d.why),
		 "node %d (%s) was told to stop (signal %d) with no attempt running: every node "
		 "stops",
		 node, coord_host_of(co, node), sig);
	coord_end_job(co, &d, "stop", coord_host_of(co, node), -1,
		      co->t.submitted ? DELIVER_DECISION : DELIVER_STOP);
}

/*
 * A node stops its attempt (its own failure, a stop signal): every other node is told to
 * stop too, once a round. Node 0 hears it through on_halt like the members.
 */
static void coord_halt_all(struct coord *co, int node, int failure, int stop_signal,
			   const char *detail)
{
	struct fd_decision d = {.verdict = FD_STOP, .node = node, .failure = failure};
	uint8_t buf[2048];
	size_t n;

	if (co->t.over)
		return;
	if (stop_signal && !co->running) {
		coord_stop_now(co, node, stop_signal);
		return;
	}
	if (co->halted)
		return;
	co->halted = 1;
	d.stop_signal = stop_signal;
	d.gen = co->t.gen;
	snprintf(d.why, sizeof(d.why), "node %d (%s): %s", node, coord_host_of(co, node),
		 *detail       ? detail
		 : stop_signal ? "stop signal"
			       : fd_fail_name(failure));
	tcp_event(&co->t, "stop", node, coord_host_of(co, node), "stopping every node: %s", d.why);
	n = fd_decision_put(buf, sizeof(buf), &d);
	coord_send_all(co, FR_STOP, buf, n, node);
	if (node != 0)
		tcp_deliver(&co->t, &d, DELIVER_HALT);
}

/* A spare's (or an out node's) state: its preflight's verdict, said when it changes. */
static void coord_spare_state(struct coord *co, int node, const struct fd_node_state *s)
{
	int unfit = s->failure == FD_FAIL_PREFLIGHT;
	char first[160];

	if (unfit == co->unfit[node])
		return;
	co->unfit[node] = (unsigned char)unfit;
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(s->detail, "\n"), s->detail);
	if (unfit)
		tcp_event(&co->t, "spare", node, coord_host_of(co, node),
			  "%s node %d (%s) is unfit (%s): it is not promoted while it stays so",
			  co->role[node] == ROLE_SPARE ? "spare" : "out:", node,
			  coord_host_of(co, node), *first ? first : "its preflight failed");
	else if (co->role[node] == ROLE_SPARE)
		tcp_event(&co->t, "spare", node, coord_host_of(co, node),
			  "spare node %d (%s) is fit again", node, coord_host_of(co, node));
}

static void coord_round_complete(struct coord *co)
{
	if (!co->t.over && co->nhave >= coord_expected(co))
		coord_decide(co);
}

/*
 * Keeps a node's state for the round: its facts, and its texts in a block of their size. Out
 * of memory, its texts are dropped and it has no say in the common checkpoint, as a node
 * without --checkpoint-dir (the facts decide; an empty list would veto every checkpoint).
 */
static void coord_store(struct coord *co, int node, const struct fd_node_state *s)
{
	struct fd_node_rec *r = &co->states[node];

	if (fd_node_rec_keep(r, &co->texts[node], s)) {
		free(co->texts[node]);
		co->texts[node] = NULL;
		fd_node_rec_clear(r);
		memcpy(r, s, offsetof(struct fd_node_rec, ckpts));
		r->nckpts = 0;
		r->no_ckpt_dir = 1;
		tcp_event(&co->t, "memory", node, coord_host_of(co, node),
			  "out of memory: node %d's checkpoint list and findings are dropped",
			  node);
	}
	r->node = node;
}

static void coord_take_state(struct coord *co, int node, const struct fd_node_state *s)
{
	coord_store(co, node, s);
	if (!co->have[node]) {
		co->have[node] = 1;
		co->nhave++;
	}
	if (co->role && co->role[node] != ROLE_ACTIVE)
		coord_spare_state(co, node, s); /* a spare's never stops the job */
	else if (s->failure && s->failure != FD_FAIL_PREFLIGHT)
		coord_halt_all(co, node, s->failure, s->stop_signal, s->detail);
	else if (s->stop_signal)
		coord_halt_all(co, node, 0, s->stop_signal, s->detail);
	coord_round_complete(co);
}

/*
 * Said on stderr: the first JOINS_SAID joins (node 0 counted), then one at each tenth of the
 * group, and the last; 16,383 lines of a large job's join would crowd out what follows them
 * in a log that is read slowly. The events log has every one.
 */
#define JOINS_SAID 16

static int join_said(int k, int n)
{
	if (k <= JOINS_SAID || k == n)
		return 1;
	return (long)k * 10 / n != (long)(k - 1) * 10 / n;
}

static void coord_welcome(struct coord *co, struct conn *c, const struct fd_frame *f)
{
	struct fd_hello h;
	uint8_t buf[512];
	size_t n;
	int node = (int)f->node;
	int r = f->type == FR_HELLO ? fd_hello_get(f->payload, f->len, &h) : -EBADMSG;

	if (r) {
		if (r == -EPROTONOSUPPORT) {
			const char *why = conn_refuse_version(c, f);

			c->closing = 0; /* for the REFUSE; coord_refuse closes it */
			coord_refuse(co, c, FD_REFUSE_PROTOCOL, node, why);
		} else {
			coord_reject(co, c, "the first frame is not a HELLO");
			c->closing = 1;
		}
		return;
	}
	fd_strlcpy(c->host, h.host, sizeof(c->host));
	if ((int)h.nnodes == co->t.conf.nnodes && (int)h.spares != co->t.conf.spares) {
		char why[160];

		snprintf(why, sizeof(why), "node %u says --spares %u, node 0 has --spares %d",
			 f->node, h.spares, co->t.conf.spares);
		coord_refuse(co, c, FD_REFUSE_NNODES, node, why);
		return;
	}
	if ((int)h.nnodes != co->t.conf.nnodes || node < 1 || node >= co->t.conf.nnodes) {
		char why[160];

		if ((int)h.nnodes != co->t.conf.nnodes)
			snprintf(why, sizeof(why),
				 "node %u says --nnodes %u, node 0 has --nnodes %d", f->node,
				 h.nnodes, co->t.conf.nnodes);
		else
			snprintf(why, sizeof(why),
				 "node %u is not a node of a %d-node job (1 to %d)", f->node,
				 co->t.conf.nnodes, co->t.conf.nnodes - 1);
		coord_refuse(co, c,
			     (int)h.nnodes != co->t.conf.nnodes ? FD_REFUSE_NNODES : FD_REFUSE_NODE,
			     node, why);
		return;
	}
	if (f->gen != 0 || co->by_node[node] || co->t.over) {
		char why[320];

		if (co->by_node[node])
			snprintf(
			    why, sizeof(why),
			    "node %d has joined already, from %s (pid %u): two agents have "
			    "--node-rank %d (srun --ntasks-per-node above 1 starts one per task)",
			    node, co->by_node[node]->host, co->by_node[node]->pid, node);
		else
			snprintf(why, sizeof(why), "node %d %s", node,
				 co->t.over ? "comes after the job ended"
					    : "rejoins from an earlier generation");
		coord_refuse(co, c, co->by_node[node] ? FD_REFUSE_DUPLICATE : FD_REFUSE_LATE, node,
			     why);
		return;
	}
	c->node = node;
	c->pid = h.pid;
	co->by_node[node] = c;
	co->joined++;
	n = fd_hello_put(buf, sizeof(buf),
			 &(struct fd_hello){.nnodes = (uint32_t)co->t.conf.nnodes,
					    .spares = (uint32_t)co->t.conf.spares});
	conn_send(c, FR_WELCOME, buf, n);
	if (co->role && co->role[node] == ROLE_OUT) {
		/* a lost node back (its agent restarted, a partition healed): a spare from now
		 * on, never back in its old place mid-attempt; its gate state is awaited */
		co->role[node] = ROLE_SPARE;
		co->unfit[node] = 0;
		co->nlost--;
		co->have[node] = 0;
		tcp_event(&co->t, "rejoined", node, c->host,
			  "node %d (%s, pid %u) came back: a spare for the rest of the job", node,
			  c->host, h.pid);
		return;
	}
	tcp_event_as(&co->t, join_said(co->joined + 1, co->t.conf.nnodes), "joined", node, c->host,
		     "node %d (%s, pid %u) joined: %d of %d%s", node, c->host, h.pid,
		     co->joined + 1, co->t.conf.nnodes,
		     co->joined + 1 == JOINS_SAID && co->t.conf.nnodes > JOINS_SAID
			 ? " (from here on each tenth is said; every join is in the events log)"
			 : "");
	if (co->joined + 1 == co->t.conf.nnodes && !co->formed_said) {
		co->formed_said = 1;
		tcp_event(&co->t, "formed", -1, "", "all %d nodes joined in %.1f s",
			  co->t.conf.nnodes, (double)(fd_mono_ns() - co->t.start) / 1e9);
		if (co->fan)
			tcp_event(&co->t, "threads", -1, "",
				  "node 0 hands each decision to the %d others on %d threads",
				  co->t.conf.nnodes - 1, fd_fanout_nthreads(co->fan));
		else if (co->fan_err)
			tcp_event(&co->t, "threads", -1, "",
				  "cannot start the threads that hand out decisions (%s): one "
				  "thread sends",
				  strerror(co->fan_err));
	}
}

static void coord_on_frame(struct conn *c, const struct fd_frame *f)
{
	struct coord *co = coord_of(c->t);
	struct fd_node_state s;
	char why[128];
	int r;

	if (c->node < 0) {
		coord_welcome(co, c, f);
		return;
	}
	if ((int)f->node != c->node) {
		snprintf(why, sizeof(why), "a frame claiming node %u on node %d's connection",
			 f->node, c->node);
		coord_reject(co, c, why);
		return;
	}
	if (f->type == FR_BEAT)
		return; /* any frame is a sign of life; a late one of an older generation too */
	if (f->type == FR_WORLD) { /* the allreduce's own sets order it, not the rounds */
		struct fd_world_msg m;

		r = fd_world_get(f->payload, f->len, &m);
		if (r == -EPROTONOSUPPORT) {
			coord_reject(co, c, conn_refuse_version(c, f));
			return;
		}
		if (f->gen != co->t.gen || r) {
			snprintf(why, sizeof(why), "a malformed WORLD or one of generation %u",
				 f->gen);
			coord_reject(co, c, why);
			return;
		}
		tcp_deliver_world(&co->t, c->node, &m);
		return;
	}
	if (f->gen != co->t.gen || f->round != co->t.round) {
		snprintf(why, sizeof(why), "a %s of generation %u round %u (now %u round %u)",
			 fd_frame_type_name(f->type), f->gen, f->round, co->t.gen, co->t.round);
		coord_reject(co, c, why);
		return;
	}
	memset(&s, 0, sizeof(s));
	r = f->type == FR_STATE || f->type == FR_HALT ? fd_state_get(f->payload, f->len, &s)
						      : -EBADMSG;
	if (r == -EPROTONOSUPPORT) {
		coord_reject(co, c, conn_refuse_version(c, f));
		return;
	}
	if (r) {
		snprintf(why, sizeof(why), "a malformed or unexpected %s",
			 fd_frame_type_name(f->type));
		coord_reject(co, c, why);
		return;
	}
	if (f->type == FR_HALT) {
		if (!co->role || co->role[c->node] == ROLE_ACTIVE) /* a spare stops nothing */
			coord_halt_all(co, c->node, s.failure, s.stop_signal, s.detail);
	} else {
		coord_take_state(co, c->node, &s);
	}
}

static void coord_unpend(struct coord *co, struct conn *c)
{
	for (int i = 0; i < co->npending; i++)
		if (co->pending[i] == c) {
			coord_unpend_at(co, i);
			return;
		}
}

static void coord_on_conn(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	struct coord *co = coord_of(c->t);
	const char *why = NULL;
	char how[sizeof(c->why)];
	int r = 0, was_pending = c->node < 0;

	if (events & EPOLLOUT)
		r = conn_flush(c);
	if (!r && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		r = conn_read(c, coord_on_frame, &why);
	if (c->node >= 0 && was_pending)
		coord_unpend(co, c); /* admitted: by_node holds it now */
	if (!r && !c->closing)
		return;
	if (c->node < 0) { /* never admitted: a stranger, dropped */
		if (r == -EBADMSG && !c->closing)
			coord_refuse(co, c, FD_REFUSE_TOKEN, -1,
				     "its HELLO is signed with another token (--token-file, "
				     "FLIGHTDECK_TOKEN or --token-from-job differ)");
		else if (r == -EPIPE && why)
			coord_reject(co, c, why);
		else if (r && r != -EPIPE)
			coord_reject(co, c, conn_err_name(r));
		coord_unpend(co, c);
		conn_free(c);
		return;
	}
	if (r == -EPROTO || r == -EMSGSIZE || r == -EBADMSG)
		coord_reject(co, c, conn_err_name(r));
	/* a copy: coord_lose frees the connection, c->why with it */
	fd_strlcpy(how, why ? why : *c->why ? c->why : conn_err_name(r ? r : -EPIPE), sizeof(how));
	coord_lose(co, c->node, how);
}

/* Counted always, said like refusals: the first few, then every REJECT_EVERY-th. */
static void coord_say_drop(struct coord *co, long count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void coord_say_drop(struct coord *co, long count, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!said_now(count))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tcp_event(&co->t, "dropped", -1, "", "%s", line);
}

/*
 * accept() failed for want of a resource (descriptors, memory): the listening socket stays
 * readable, and accepting again at once would spin a core. It leaves the loop for
 * ACCEPT_PAUSE_MS (the timer puts it back); the members already in are served meanwhile.
 */
static void coord_pause_accept(struct coord *co, int err)
{
	co->accept_failed++;
	coord_say_drop(co, co->accept_failed,
		       "cannot accept a connection: %s (%ld so far): accepting again in %d ms",
		       err == EMFILE ? "too many open files (ulimit -n)" : strerror(err),
		       co->accept_failed, ACCEPT_PAUSE_MS);
	fd_loop_mod(co->t.g->loop, co->lfd, 0);
	co->accept_paused_end = fd_mono_ns() + (int64_t)ACCEPT_PAUSE_MS * 1000000;
}

static void coord_on_accept(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct coord *co = arg;

	for (int k = 0; k < ACCEPT_PER_CALL; k++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				coord_pause_accept(co, errno);
			/* EAGAIN: all taken; others (a connection reset before it was taken) are
			 * the peer's and leave nothing readable behind */
			return;
		}
		if (co->npending == PENDING_MAX) {
			co->dropped++;
			coord_say_drop(
			    co, co->dropped,
			    "%d connections without a HELLO: dropped the oldest, from %s "
			    "(%ld dropped so far)",
			    PENDING_MAX, *co->pending[0]->host ? co->pending[0]->host : "a peer",
			    co->dropped);
			conn_free(co->pending[0]);
			memmove(co->pending, co->pending + 1,
				(size_t)(co->npending - 1) * sizeof(*co->pending));
			co->npending--;
		}
		conn_sockopts(&co->t, cfd);
		c = conn_new(&co->t, cfd);
		if (!c || fd_loop_add(l, cfd, EPOLLIN, coord_on_conn, c)) {
			if (c)
				c->fd = -1;
			conn_free(c);
			close(cfd);
			continue;
		}
		co->pending[co->npending++] = c;
	}
}

/*
 * With spares, a node lost: a spare lost is named and the job goes on; a training node's place
 * goes to the lowest eligible spare, and when an attempt runs every node stops it and the
 * group restarts (the lost node's state, failure FD_FAIL_LOST, takes part in the decision).
 * 1 when the job goes on, 0 when no spare can take the place (the job ends, 75).
 */
static int coord_replace(struct coord *co, int node, const char *host, const char *how,
			 int was_joined)
{
	struct fd_group *g = co->t.g;
	int was = co->role[node], slot = -1, sp = -1;

	if (was == ROLE_ACTIVE) {
		for (int i = 0; i < g->nactive; i++)
			if (g->active[i] == node)
				slot = i;
		sp = slot > 0 && g->nlost_now < FD_SPARES_MAX
			 ? coord_promote(co, slot, co->running ? "" : g->history.resume)
			 : -1;
		if (sp < 0)
			return 0;
	}
	co->role[node] = ROLE_OUT;
	co->nlost++;
	if (co->have[node]) {
		co->have[node] = 0;
		co->nhave--;
	}
	if (was_joined && co->joined > 0)
		co->joined--;
	if (was != ROLE_ACTIVE) {
		tcp_event(&co->t, "spare_lost", node, host,
			  "%s node %d (%s) lost: %s; the job goes on (%d spare(s) left)",
			  was == ROLE_SPARE ? "spare" : "out:", node, host, how,
			  coord_spares_left(co));
		coord_round_complete(co);
		return 1;
	}
	grp_note_replaced(g, host);
	tcp_event(&co->t, "replaced", node, host,
		  "node %d (%s) lost: %s: spare node %d (%s) takes its place as training node %d "
		  "(%d spare(s) left)",
		  node, host, how, sp, coord_host_of(co, sp), slot, coord_spares_left(co));
	if (co->running) {
		/* its attempt is broken everywhere: every node stops it, the group restarts */
		struct fd_node_state st = {.node = node,
					   .failure = FD_FAIL_LOST,
					   .max_step = -1,
					   .no_ckpt_dir =
					       1}; /* no say in the checkpoint: it is gone */

		snprintf(st.detail, sizeof(st.detail),
			 "node %d (%s) lost: %s: spare node %d (%s) trains as node %d", node, host,
			 how, sp, coord_host_of(co, sp), slot);
		coord_store(co, node, &st);
		g->lost_now[g->nlost_now++] = node;
		/* the spare's list is as old as the attempt: the survivors say where the restart
		 * resumes, and the spare's own view is checked at the gate (coord_gate_replace) */
		co->states[sp].no_ckpt_dir = 1;
		coord_halt_all(co, node, FD_FAIL_LOST, 0, co->states[node].detail);
	}
	coord_round_complete(co);
	return 1;
}

/* The job is over for everyone: a node is gone, or never came. */
static void coord_lose(struct coord *co, int node, const char *how)
{
	struct fd_decision d = {.verdict = FD_STOP, .stop_why = FD_STOP_PEER_LOST, .node = node};
	char host[256];
	int was_joined = node > 0 && co->by_node[node];

	/* named by the host it said in its HELLO, which goes with its connection */
	fd_strlcpy(host, coord_host_of(co, node), sizeof(host));
	if (node > 0 && co->by_node[node]) {
		conn_free(co->by_node[node]);
		co->by_node[node] = NULL;
	}
	if (co->t.over)
		return;
	if (co->role && node > 0 && coord_replace(co, node, host, how, was_joined))
		return;
	snprintf(d.why, sizeof(d.why), "node %d (%s) lost: %s%s", node, host, how,
		 co->role && co->role[node] == ROLE_ACTIVE ? " (no fit spare left)" : "");
	coord_end_job(co, &d, "lost", host, node, DELIVER_STOP);
}

static void coord_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct coord *co = arg;
	int64_t silent = co->t.conf.peer_timeout_ms * 1000000;

	co->silent_at = 0; /* found again from what the scan below leaves */
	if (co->accept_paused_end && now >= co->accept_paused_end) {
		co->accept_paused_end = 0;
		fd_loop_mod(l, co->lfd, EPOLLIN);
	}
	for (int i = 0; i < co->npending;) {
		struct conn *c = co->pending[i];

		if (now - c->opened > (int64_t)HELLO_WAIT_MS * 1000000) {
			coord_reject(co, c, "no HELLO within 5 s");
			coord_drop_pending(co, i);
		} else {
			i++;
		}
	}
	if (co->t.over)
		return;
	for (int i = 1; i < co->t.conf.nnodes; i++) {
		struct conn *c = co->by_node[i];
		char how[64];

		if (!c)
			continue;
		if (c->closing) {
			coord_lose(co, i, "not reading (its send queue is full)");
			return;
		}
		if (now - c->last_rx > silent) {
			snprintf(how, sizeof(how), "silent %.1f s",
				 (double)(now - c->last_rx) / 1e9);
			coord_lose(co, i, how);
			return;
		}
	}
	if (co->joined + 1 + co->nlost < co->t.conf.nnodes &&
	    now - co->t.start > co->t.conf.join_timeout_ms * 1000000) {
		char missing[FD_WHY_MAX] = "";
		size_t k = 0;
		int first = -1;

		for (int i = 1; i < co->t.conf.nnodes && k + 32 < sizeof(missing); i++) {
			if (co->by_node[i] || (co->role && co->role[i] == ROLE_OUT))
				continue;
			if (first < 0)
				first = i;
			k += (size_t)snprintf(missing + k, sizeof(missing) - k, "%s%d (%s)",
					      k ? ", " : "", i, coord_host_of(co, i));
		}
		tcp_event(&co->t, "join_timeout", first, coord_host_of(co, first),
			  "--join-timeout: %d of %d nodes never joined: %s",
			  co->t.conf.nnodes - 1 - co->joined, co->t.conf.nnodes, missing);
		if (co->token_refused) {
			/* a node that tried with another token: the job's tokens differ, and a
			 * requeue (75) would meet the same refusal */
			char why[FD_WHY_MAX];

			snprintf(why, sizeof(why),
				 "%ld HELLO(s) signed with another token, the last from %s, while "
				 "%d node(s) never joined",
				 co->token_refused, co->token_refused_host,
				 co->t.conf.nnodes - 1 - co->joined);
			coord_end_config(co, first, coord_host_of(co, first), why);
			return;
		}
		coord_lose(co, first, "never joined within --join-timeout");
		return;
	}
	if (now >= co->t.next_beat) {
		int slices =
		    co->t.conf.nnodes - 1 < BEAT_SLICES ? co->t.conf.nnodes - 1 : BEAT_SLICES;

		coord_beat_slice(co, slices);
		co->t.next_beat =
		    now + co->t.conf.peer_interval_ms * 1000000 / (slices ? slices : 1);
	}
}

static int64_t coord_next(void *arg, int64_t now)
{
	struct coord *co = arg;
	int64_t next = co->t.next_beat, silent = co->t.conf.peer_timeout_ms * 1000000;

	if (co->t.over && !co->npending)
		return INT64_MAX;
	/* a silent member is lost at its deadline, not at the next beat after it */
	if (!co->t.over && !co->silent_at) {
		co->silent_at = INT64_MAX;
		for (int i = 1; i < co->t.conf.nnodes; i++)
			if (co->by_node[i] && co->by_node[i]->last_rx + silent + 1 < co->silent_at)
				co->silent_at = co->by_node[i]->last_rx + silent + 1;
	}
	if (!co->t.over && co->silent_at < next)
		next = co->silent_at;
	if (!co->t.over && co->joined + 1 + co->nlost < co->t.conf.nnodes &&
	    co->t.start + co->t.conf.join_timeout_ms * 1000000 + 1 < next)
		next = co->t.start + co->t.conf.join_timeout_ms * 1000000 + 1;

	if (co->npending && co->pending[0]->opened + (int64_t)HELLO_WAIT_MS * 1000000 < next)
		next = co->pending[0]->opened + (int64_t)HELLO_WAIT_MS * 1000000 + 1;
	if (co->accept_paused_end && co->accept_paused_end < next)
		next = co->accept_paused_end;
	return next;
}

static int coord_submit(struct fd_group *g, const struct fd_node_state *mine)
{
	struct coord *co = g->tcp;

	if (co->t.submitted)
		return -EBUSY;
	if (co->t.over) /* the final decision may be on its way (queued): it decides */
		return co->t.nqueue ? 0 : -EPIPE;
	co->t.submitted = 1;
	coord_take_state(co, 0, mine);
	return 0;
}

static int coord_world(struct fd_group *g, int to, const struct fd_world_msg *m)
{
	struct coord *co = g->tcp;
	uint8_t buf[2048];
	size_t n;

	if (co->t.over)
		return -EPIPE;
	if (to < 0 || to >= co->t.conf.nnodes)
		return -EINVAL;
	if (to == 0) { /* this node takes part too: through the loop, like a member's */
		tcp_deliver_world(&co->t, 0, m);
		return 0;
	}
	if (!co->by_node[to])
		return -ENOTCONN;
	n = fd_world_put(buf, sizeof(buf), m);
	if (!n)
		return -EMSGSIZE;
	if (conn_send(co->by_node[to], FR_WORLD, buf, n))
		co->by_node[to]->closing = 1; /* noticed on the next timer: lost */
	return 0;
}

static void coord_halt(struct fd_group *g, int failure, int stop_signal, const char *detail)
{
	coord_halt_all(g->tcp, 0, failure, stop_signal, detail ? detail : "");
}

static const char *coord_host(struct fd_group *g, int node)
{
	return coord_host_of(g->tcp, node);
}

static int coord_listen(struct coord *co, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
			*res = NULL, *ai;
	char port[16];
	int r, one = 1;

	snprintf(port, sizeof(port), "%d", co->t.conf.coord_port);
	r = getaddrinfo(co->t.conf.bind_host, port, &hints, &res);
	if (r) {
		snprintf(err, errlen, "cannot listen on %s:%s: %s",
			 co->t.conf.bind_host ? co->t.conf.bind_host : "*", port, gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	/*
	 * Every address when no --bind is given: glibc's passive lookup lists 0.0.0.0 before ::,
	 * and the first bind would leave IPv6 members out. So the IPv6 wildcard first, with
	 * IPV6_V6ONLY off so that it takes IPv4 too (a dual-stack socket), then IPv4 alone where
	 * the machine has no IPv6.
	 */
	for (int pass = 0; pass < 2 && co->lfd < 0; pass++) {
		for (ai = res; ai; ai = ai->ai_next) {
			int fd, off = 0;

			if ((ai->ai_family == AF_INET6) != (pass == 0))
				continue;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    0);
			if (fd < 0) {
				r = errno;
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
			if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 4096)) {
				co->lfd = fd;
				break;
			}
			r = errno;
			close(fd);
		}
	}
	freeaddrinfo(res);
	if (co->lfd < 0) {
		snprintf(err, errlen, "cannot listen on port %d (--coordinator): %s%s",
			 co->t.conf.coord_port, strerror(r ? r : EADDRNOTAVAIL),
			 r == EADDRINUSE
			     ? ": another node 0 of this job listens there (two agents with "
			       "--node-rank 0: srun --ntasks-per-node above 1?), or another "
			       "program does"
			     : "");
		return r == EADDRNOTAVAIL ? -EADDRNOTAVAIL : -EADDRINUSE;
	}
	return fd_loop_add(co->t.g->loop, co->lfd, EPOLLIN, coord_on_accept, co);
}

static void coord_close(struct fd_group *g)
{
	struct coord *co = g->tcp;

	if (!co)
		return;
	for (int i = 1; co->by_node && i < co->t.conf.nnodes; i++) {
		if (!co->by_node[i])
			continue;
		conn_flush_blocking(co->by_node[i], 1000);
		conn_free(co->by_node[i]);
	}
	while (co->npending)
		coord_drop_pending(co, 0);
	free(co->pending);
	if (co->lfd >= 0) {
		fd_loop_del(g->loop, co->lfd);
		close(co->lfd);
	}
	free(co->by_node);
	for (int i = 0; co->texts && i < co->t.conf.nnodes; i++)
		free(co->texts[i]);
	free(co->texts);
	free(co->states);
	free(co->have);
	free(co->role);
	free(co->unfit);
	free(co->promoted);
	fd_fanout_free(co->fan);
	free(co->fan_fds);
	free(co->fan_res);
	fd_loop_untimer(g->loop, co);
	tcp_release(&co->t);
	free(co);
}

/*
 * A member's address as this node sees it (getpeername), or this node's own as the client's
 * connection reached it (getsockname): the network the group runs over, which perftest's
 * exchange then uses too. An IPv4-mapped IPv6 address is given as IPv4.
 */
static int coord_reach(struct fd_group *g, int server, int client, char *out, size_t len)
{
	struct coord *co = g->tcp;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct conn *c;
	int r;

	if (server < 0 || client < 0 || server >= co->t.conf.nnodes ||
	    client >= co->t.conf.nnodes || server == client)
		return -EINVAL;
	c = co->by_node[server ? server : client];
	if (!server && !client)
		return -EINVAL;
	if (!c)
		return -ENOTCONN;
	r = server ? getpeername(c->fd, (struct sockaddr *)&ss, &sl)
		   : getsockname(c->fd, (struct sockaddr *)&ss, &sl);
	if (r)
		return -errno;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
			struct in_addr a4;

			memcpy(&a4, a6->sin6_addr.s6_addr + 12, sizeof(a4));
			return inet_ntop(AF_INET, &a4, out, (socklen_t)len) ? 0 : -ENOSPC;
		}
		inet_ntop(AF_INET6, &a6->sin6_addr, out, (socklen_t)len);
		return -EAFNOSUPPORT;
	}
	if (ss.ss_family != AF_INET)
		return -EAFNOSUPPORT;
	return inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)len)
		   ? 0
		   : -ENOSPC;
}

static const struct fd_group_ops coord_ops = {
    .name = "tcp coordinator",
    .submit = coord_submit,
    .halt = coord_halt,
    .world = coord_world,
    .host = coord_host,
    .reach = coord_reach,
    .close = coord_close,
};

int coord_new(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
	      const struct fd_group_conf *conf, const struct fd_group_callbacks *cb, void *ctx,
	      char *err, size_t errlen)
{
	struct coord *co = calloc(1, sizeof(*co));
	int r, n = conf->nnodes, threads;

	if (!co)
		return -ENOMEM;
	co->t.g = g;
	co->lfd = -1;
	r = grp_open(g, &coord_ops, 0, n, loop, pol, cb, ctx);
	g->tcp = co;
	if (r)
		goto fail;
	r = tcp_init(&co->t, g, conf);
	if (r)
		goto fail;
	co->by_node = calloc((size_t)n, sizeof(*co->by_node));
	co->states = calloc((size_t)n, sizeof(*co->states));
	co->texts = calloc((size_t)n, sizeof(*co->texts));
	co->have = calloc((size_t)n, 1);
	co->pending = calloc(PENDING_MAX, sizeof(*co->pending));
	if (!co->by_node || !co->states || !co->texts || !co->have || !co->pending) {
		r = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < n; i++)
		fd_node_rec_clear(&co->states[i]);
	if (conf->spares > 0) { /* the last `spares` nodes hold their place as spares */
		g->nactive = n - conf->spares;
		g->active = calloc((size_t)g->nactive, sizeof(*g->active));
		co->role = calloc((size_t)n, 1);
		co->unfit = calloc((size_t)n, 1);
		co->promoted = calloc((size_t)n, 1);
		if (!g->active || !co->role || !co->unfit || !co->promoted) {
			r = -ENOMEM;
			goto fail;
		}
		for (int i = 0; i < n; i++) {
			if (i < g->nactive)
				g->active[i] = i;
			co->role[i] = i < g->nactive ? ROLE_ACTIVE : ROLE_SPARE;
		}
	}
	threads = fd_fanout_threads(conf->send_threads, n, fd_cpus_allowed());
	if (threads > 1) {
		co->fan_fds = calloc((size_t)n, sizeof(*co->fan_fds));
		co->fan_res = calloc((size_t)n, sizeof(*co->fan_res));
		if (co->fan_fds && co->fan_res)
			co->fan = fd_fanout_new(threads);
		if (!co->fan)
			co->fan_err = errno ? errno : ENOMEM;
	}
	/* a descriptor per member, the pending cap and the reserve, beside those open now */
	r = fd_nofile_reserve(fd_nofile_open_now() + (n - 1) + PENDING_MAX + RESERVE_FDS, err,
			      errlen);
	if (!r)
		r = fd_loop_timer(loop, coord_next, coord_timer, co);
	if (!r)
		r = coord_listen(co, err, errlen);
	if (!r)
		return 0;
fail:
	coord_close(g);
	return r;
}
