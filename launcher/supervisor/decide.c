/*
 * decide.c - the supervisor's side of the node group: what this node tells the group once an
 * attempt (or a helper) is over, and what it says of the decision that comes back. The exit
 * status always comes from a decision (fd_decision_exit_code), never from this node's own
 * state (docs/architecture.md, "The node group"). The transitions these lead to are
 * phase.c's.
 */
#include "proctree.h"
#include "spawn.h"
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void dec_state(const struct sv *s, struct fd_node_state *me, int failure, int status, int ended)
{
	me->node = s->group.rank;
	me->failure = failure;
	me->status = status;
	me->ended = ended;
	me->stop_signal = s->stop_signal;
	me->max_step = s->ranks.max_step;
	me->no_ckpt_dir = !s->o->checkpoint_dir;
	/* for the gate's comparison of the nodes' flags, on the deciding node */
	me->opts_known = 1;
	me->max_restarts = s->o->max_restarts;
	me->no_progress_limit = s->o->no_progress_limit;
	me->stall_timeout_ms = s->o->stall_auto ? 0 : s->o->stall_ms;
}

/*
 * This node is fit: may it launch? The checkpoints this node sees go with it, so the first
 * launch of every node resumes from the same one.
 */
void dec_gate(struct sv *s, struct fd_node_state *me)
{
	if (!s->att.launches && ckpt_list(s, me))
		me->nckpts = 0;
	dec_state(s, me, FD_FAIL_NONE, 0, 0);
}

/*
 * The tree of a stopped attempt is gone: how it ended. A failed attempt brings the
 * checkpoint this node sees, where a restart would resume from.
 */
void dec_attempt_over(struct sv *s, struct fd_node_state *me)
{
	struct sup_procs *p = &s->procs;
	int fail = s->att.fail, r;

	if (!s->stop_signal && fail == FD_FAIL_NONE && !s->att.peer_halt) {
		/* Ended by itself: its status is the job's (125 when it was never reaped). The
		 * checkpoints go with it: another node's failure may still restart the group. */
		if (s->group.size > 1 && ckpt_list(s, me))
			me->nckpts = 0;
		dec_state(s, me, FD_FAIL_NONE,
			  p->child_done ? tree_status_code(p->child_status) : FD_RUN_INTERNAL, 1);
		return;
	}
	if (!s->stop_signal) {
		r = ckpt_list(s, me);
		if (r)
			ev_say(s, "cannot read --checkpoint-dir %s: %s", s->o->checkpoint_dir,
			       strerror(-r));
	}
	fd_strlcpy(me->detail, s->att.what, sizeof(me->detail));
	dec_state(s, me, fail, fail == FD_FAIL_CRASH ? tree_status_code(p->child_status) : 0, 0);
	/* this node's verdict on the stall, for the deciding node to name the right node */
	me->culprit_likely = s->att.culprit_likely;
	me->culprit_rank = s->att.culprit_likely ? s->att.culprit_rank : 0;
	if (s->att.culprit_likely) {
		fd_strlcpy(me->culprit, s->att.culprit, sizeof(me->culprit));
		fd_strlcpy(me->drain, s->att.drain, sizeof(me->drain));
	}
	/* its ranks' flight recorders, for the deciding node to compare across nodes */
	me->nfr =
	    fail == FD_FAIL_STALL || s->att.peer_halt ? stacks_fr_waves(s, me->fr, FD_FR_PGS) : 0;
}

void dec_give_up(struct sv *s, const struct fd_decision *d)
{
	char why[128];

	if (d->stop_why == FD_STOP_BUDGET) {
		/* the deciding node's budget, which applies to every node */
		ev_say(s, "giving up: --max-restarts %d spent%s", d->max_restarts,
		       s->group.rank ? " (node 0's, which decides for the group)" : "");
		return;
	}
	if (*d->why) { /* fell back: the restarts resumed from several checkpoints */
		ev_say(s, "giving up: %d restarts in a row got nowhere, the last from %s",
		       d->no_progress, *d->checkpoint ? d->checkpoint : "the start");
		return;
	}
	if (d->last_max_step >= 0)
		snprintf(why, sizeof(why), "got no further than step %lld",
			 (long long)d->last_max_step);
	else
		snprintf(why, sizeof(why), "failed the same way");
	ev_say(s, "giving up: %d restarts in a row resumed from %s and %s", d->no_progress,
	       *d->checkpoint ? d->checkpoint : "the start", why);
}

void dec_restart(struct sv *s, const struct fd_decision *d)
{
	int64_t wait;
	char b[32], from[NAME_MAX + 1], note[FD_WHY_MAX + 4] = "";
	const char *reason = fd_fail_name(d->failure);
	int fallback = fd_decision_fallback(d, from, sizeof(from));
	cJSON *o;

	ckpt_path(s, d->checkpoint, s->att.resume, sizeof(s->att.resume));
	s->att.restarts = d->restarts;
	wait = sup_backoff_ms(s);
	fd_fmt_duration(wait, b, sizeof(b));
	if (fallback) /* the deciding node's words: the same on every node */
		snprintf(note, sizeof(note), " (%s)", d->why);
	if (!*s->att.resume && *d->checkpoint)
		/* the other nodes resume from it; this one cannot name a path */
		ev_say(s,
		       "restart %d of %d after a %s, in %s: the group resumes from %s, which this "
		       "node cannot pass on (no --checkpoint-dir: {resume} is empty here)%s",
		       s->att.restarts, d->max_restarts, reason, b, d->checkpoint, note);
	else
		ev_say(s, "restart %d of %d after a %s, in %s, from %s%s", s->att.restarts,
		       d->max_restarts, reason, b,
		       *s->att.resume ? s->att.resume
		       : fallback     ? "the start" /* older ones are there, all fallen back from */
				      : "the start (no complete checkpoint)",
		       note);
	if (*d->why && !fallback) /* the group's culprit, named by the deciding node */
		ev_say(s, "%s", d->why);
	o = ev_fields("reason", reason);
	if (o && fallback) {
		cJSON_AddStringToObject(o, "fallback_from", from);
		cJSON_AddStringToObject(o, "detail", d->why);
	}
	ev_emit(s, "restart", RANK_NONE, -1, s->att.resume, -1, o);
}

/*
 * --drain-replaced, on node 0: the node a spare replaced is drained under Slurm, so that the
 * next job is not placed on it. scontrol runs in its own process group, set aside from the
 * tree (the stop that follows the replacement must not kill it), unwaited: the loop's SIGCHLD
 * reaps it with the rest (dec_drain_reaped), and flightdeck's exit waits a while for it
 * (dec_drain_wait). What it says goes to stderr.
 */
static void drain_replaced(struct sv *s, const char *host, const char *line)
{
	char node[300], reason[400];
	const char *job = getenv("SLURM_JOB_ID");
	unsigned k;
	pid_t p;

	for (k = 0; k < FD_ARRAY_SIZE(s->procs.drain) && s->procs.drain[k].pid > 0; k++)
		;
	if (k == FD_ARRAY_SIZE(s->procs.drain)) {
		ev_say(s, "--drain-replaced: %u scontrol runs still under way: %s not drained", k,
		       host);
		return;
	}

	snprintf(node, sizeof(node), "nodename=%s", host);
	snprintf(reason, sizeof(reason),
		 "reason=flightdeck: NODE_REPLACED by a spare in job %s: %.200s",
		 job && *job ? job : "?", line);
	p = fd_fork_group();
	if (p == 0) {
		execlp("scontrol", "scontrol", "update", node, "state=drain", reason, (char *)NULL);
		fprintf(stderr, "flightdeck: --drain-replaced: cannot run scontrol: %s\n",
			strerror(errno));
		_exit(127);
	}
	if (p < 0) {
		ev_say(s, "--drain-replaced: cannot start scontrol to drain %s: %s", host,
		       strerror(errno));
		return;
	}
	s->procs.drain[k].pid = p;
	fd_strlcpy(s->procs.drain[k].host, host, sizeof(s->procs.drain[k].host));
	fd_aside_add(p); /* -ESRCH: it is already gone, nothing to spare */
	ev_say(s, "--drain-replaced: scontrol update %s state=drain %s", node, reason);
}

/* A reaped child: 1 when it was a drain's scontrol (a failed one is said: not drained). */
int dec_drain_reaped(struct sv *s, pid_t p, int st)
{
	for (unsigned k = 0; k < FD_ARRAY_SIZE(s->procs.drain); k++) {
		if (s->procs.drain[k].pid != p)
			continue;
		s->procs.drain[k].pid = 0;
		fd_aside_forget(p);
		if (st)
			ev_say(s, "--drain-replaced: scontrol ended with %d: %s may not be drained",
			       tree_status_code(st), s->procs.drain[k].host);
		return 1;
	}
	return 0;
}

/*
 * At flightdeck's exit, the drains still under way are waited for, at most ms in all (their
 * PR_SET_PDEATHSIG would kill them with flightdeck); one that outlasts it is named.
 */
void dec_drain_wait(struct sv *s, int64_t ms)
{
	int64_t end = fd_mono_ns() + ms * 1000000;

	for (;;) {
		int left = 0, st;

		for (unsigned k = 0; k < FD_ARRAY_SIZE(s->procs.drain); k++) {
			pid_t p = s->procs.drain[k].pid;

			if (p <= 0)
				continue;
			pid_t r = waitpid(p, &st, WNOHANG);

			if (r == p)
				dec_drain_reaped(s, p, st);
			else if (r < 0 && errno == ECHILD)
				dec_drain_reaped(s, p, 0); /* reaped elsewhere: nothing to say */
			else
				left++;
		}
		if (!left)
			return;
		if (fd_mono_ns() >= end)
			break;
		poll(NULL, 0, 20);
	}
	for (unsigned k = 0; k < FD_ARRAY_SIZE(s->procs.drain); k++)
		if (s->procs.drain[k].pid > 0)
			ev_say(s,
			       "--drain-replaced: scontrol (pid %d) still runs after %lld ms: "
			       "killed with flightdeck; %s may not be drained",
			       (int)s->procs.drain[k].pid, (long long)ms, s->procs.drain[k].host);
}

/* What the group did, said on stderr and in the events log, with the node named. */
void dec_on_group_event(void *ctx, const char *name, int node, const char *host, const char *line,
			int say)
{
	struct sv *s = ctx;
	cJSON *o = ev_fields("group", name);

	/* a loss or a refused job is said with the stop it brings (sup_on_stop) */
	if (say && strcmp(name, "lost") && strcmp(name, "config"))
		ev_say(s, "group: %s", line);
	if (o) {
		if (node >= 0)
			cJSON_AddNumberToObject(o, "node", node);
		if (host && *host)
			cJSON_AddStringToObject(o, "host", host);
		cJSON_AddStringToObject(o, "detail", line);
	}
	ev_emit(s, "group", RANK_NONE, -1, NULL, -1, o);
	if (!strcmp(name, "replaced"))
		fd_strlcpy(s->replaced, line,
			   sizeof(s->replaced)); /* for the termination message */
	if (!strcmp(name, "replaced") && s->o->drain_replaced && s->group.rank == 0 && host &&
	    *host)
		drain_replaced(s, host, line);
}
