/*
 * decide.c - the supervisor's side of the node group: what this node submits once an attempt
 * (or a helper) is over, and what it does with the decision that comes back, or with a stop
 * a peer started. The exit status always comes from a decision (fd_decision_exit_code),
 * never from this node's own state (docs/architecture.md, "The node group").
 */
#include "sv.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* A peer lost: the collectives of this node's ranks will never complete; no long grace. */
#define PEER_LOST_GRACE_MS 1000

static void submit(struct sv *s, struct fd_node_state *me, int failure, int status, int ended)
{
	int r;

	me->node = s->group.rank;
	me->failure = failure;
	me->status = status;
	me->ended = ended;
	me->stop_signal = s->stop_signal;
	me->max_step = s->ranks.max_step;
	sup_enter(s, PH_DECIDING);
	r = grp_submit(&s->group, me);
	if (r) {
		fd_err("the node group did not take this node's state: %s", strerror(-r));
		tree_emergency_kill(s);
		sup_finish(s, FD_RUN_INTERNAL);
	}
}

/*
 * Tells the group what this node came to outside an attempt (a preflight, a launch, a
 * timeout or a stop while waiting) and waits, in PH_DECIDING, for the decision.
 */
void sup_submit(struct sv *s, int failure, int status, int ended)
{
	struct fd_node_state me = {0};

	s->gate = 0;
	submit(s, &me, failure, status, ended);
}

/* The same, with this node's findings for the coordinator's table. */
void sup_submit_detail(struct sv *s, int failure, int status, const char *detail)
{
	struct fd_node_state me = {0};

	s->gate = 0;
	fd_strlcpy(me.detail, detail, sizeof(me.detail));
	submit(s, &me, failure, status, 0);
}

/*
 * This node is fit: may it launch? Only when every node is (the group's CONTINUE). The
 * checkpoints this node sees go with it, so the first launch of every node resumes from the
 * same one.
 */
void sup_gate(struct sv *s)
{
	struct fd_node_state me = {0};

	if (!s->att.launches && ckpt_list(s, &me))
		me.nckpts = 0;
	s->gate = 1;
	submit(s, &me, FD_FAIL_NONE, 0, 0);
}

/*
 * The tree of a stopped attempt is gone: submit how it ended. A failed attempt brings the
 * checkpoint this node sees, where a restart would resume from.
 */
void sup_tree_gone(struct sv *s)
{
	struct sup_procs *p = &s->procs;
	struct fd_node_state me = {0};
	int fail = s->att.fail, r;

	if (s->have_peer_stop) {
		sup_finish(s, fd_decision_exit_code(&s->peer_stop));
		return;
	}
	s->gate = 0;
	if (!s->stop_signal && fail == FD_FAIL_NONE && !s->att.peer_halt) {
		/* Ended by itself: its status is the job's (125 when it was never reaped). The
		 * checkpoints go with it: another node's failure may still restart the group. */
		if (s->group.size > 1 && ckpt_list(s, &me))
			me.nckpts = 0;
		submit(s, &me, FD_FAIL_NONE,
		       p->child_done ? tree_status_code(p->child_status) : FD_RUN_INTERNAL, 1);
		return;
	}
	if (!s->stop_signal) {
		r = ckpt_list(s, &me);
		if (r)
			sup_say(s, "cannot read --checkpoint-dir %s: %s", s->o->checkpoint_dir,
				strerror(-r));
	}
	fd_strlcpy(me.detail, s->att.what, sizeof(me.detail));
	s->gate = 0;
	submit(s, &me, fail, fail == FD_FAIL_CRASH ? tree_status_code(p->child_status) : 0, 0);
}

static void give_up(struct sv *s, const struct fd_decision *d)
{
	char why[128];

	if (d->stop_why == FD_STOP_BUDGET) {
		sup_say(s, "giving up: --max-restarts %d spent", s->o->max_restarts);
		return;
	}
	if (d->last_max_step >= 0)
		snprintf(why, sizeof(why), "got no further than step %lld",
			 (long long)d->last_max_step);
	else
		snprintf(why, sizeof(why), "failed the same way");
	sup_say(s, "giving up: %d restarts in a row resumed from %s and %s", d->no_progress,
		*d->checkpoint ? d->checkpoint : "the start", why);
}

static void restart(struct sv *s, const struct fd_decision *d)
{
	int64_t wait;
	char b[32];
	const char *reason = fd_fail_name(d->failure);

	ckpt_path(s, d->checkpoint, s->att.resume, sizeof(s->att.resume));
	s->att.restarts = d->restarts;
	wait = sup_backoff_ms(s);
	fd_fmt_duration(wait, b, sizeof(b));
	sup_say(s, "restart %d of %d after a %s, in %s, from %s", s->att.restarts,
		s->o->max_restarts, reason, b,
		*s->att.resume ? s->att.resume : "the start (no complete checkpoint)");
	sup_event(s, "restart", RANK_NONE, -1, s->att.resume, -1, sup_fields("reason", reason));
	sup_enter(s, PH_BACKOFF);
}

void sup_on_decision(void *ctx, const struct fd_decision *d)
{
	struct sv *s = ctx;

	if (s->phase != PH_DECIDING)
		return; /* a peer's stop ended the wait already */
	switch (d->verdict) {
	case FD_CONTINUE:
		if (!s->gate)
			break;
		s->gate = 0;
		if (s->stop_signal) { /* told to stop while the nodes were gathering */
			sup_submit(s, FD_FAIL_NONE, 0, 0);
			return;
		}
		if (!s->att.launches)
			ckpt_path(s, d->checkpoint, s->att.resume, sizeof(s->att.resume));
		s->att.master_port = d->master_port; /* node 0's pick for every node; 0: ours */
		att_launch(s);
		return;
	case FD_RESTART:
		if (s->stop_signal) { /* told to stop while the group decided: that decides */
			sup_submit(s, FD_FAIL_NONE, 0, 0);
			return;
		}
		restart(s, d);
		return;
	case FD_STOP:
		if (d->stop_why == FD_STOP_BUDGET || d->stop_why == FD_STOP_NO_PROGRESS)
			give_up(s, d);
		if (*d->why)
			sup_say(s, "%s", d->why);
		s->final = *d;
		sup_finish(s, fd_decision_exit_code(d));
		return;
	default:
		break;
	}
	/* nothing this node submits after an attempt leaves the job running */
	sup_finish(s, FD_RUN_INTERNAL);
}

/*
 * A peer stops the job, whatever this node is doing: a running tree is stopped with the usual
 * grace, a helper is killed, a wait ends; once nothing of ours runs, the peer's decision gives
 * the exit status.
 */
void sup_on_stop(void *ctx, const struct fd_decision *d)
{
	struct sv *s = ctx;

	if (s->have_peer_stop || s->phase == PH_DONE)
		return;
	s->peer_stop = *d;
	s->final = *d;
	s->have_peer_stop = 1;
	if (*d->why)
		sup_say(s, "%s: stopping this node (exit %d)", d->why, fd_decision_exit_code(d));
	else
		sup_say(s, "node %d stops the job", d->node);
	switch (s->phase) {
	case PH_RUNNING:
	case PH_STACKS:
		tree_terminate(s);
		/* a lost node leaves this node's collectives hanging: SIGKILL soon */
		if (d->stop_why == FD_STOP_PEER_LOST && s->o->grace_ms > PEER_LOST_GRACE_MS)
			s->deadline = fd_deadline_ns(fd_mono_ns(), PEER_LOST_GRACE_MS);
		break;
	case PH_PREFLIGHT:
	case PH_GPU_WAIT:
		tree_begin_kill(s);
		break;
	case PH_BACKOFF:
	case PH_DECIDING:
		sup_finish(s, fd_decision_exit_code(d));
		break;
	default: /* stopping or killing already: sup_tree_gone applies the decision */
		break;
	}
}

/*
 * Another node's attempt failed: this node's stops too (with the usual grace) and then
 * submits, so the group decides once. A node already past its attempt has nothing to stop.
 */
void sup_on_halt(void *ctx, const struct fd_decision *d)
{
	struct sv *s = ctx;
	char g[32];

	if (s->phase != PH_RUNNING && s->phase != PH_STACKS)
		return;
	if (s->att.fail != FD_FAIL_NONE || s->stop_signal)
		return; /* stopping for its own reason already */
	s->att.peer_halt = 1;
	fd_fmt_duration(s->o->grace_ms, g, sizeof(g));
	if (s->procs.child_done) {
		tree_begin_stop(s, SIGTERM);
		return;
	}
	sup_say(s, "%s: stopping process group %d too (SIGTERM, %s grace)", d->why,
		(int)s->procs.child, g);
	tree_terminate(s);
}

/* What the group did, said on stderr and in the events log, with the node named. */
void sup_on_group_event(void *ctx, const char *name, int node, const char *host, const char *line)
{
	struct sv *s = ctx;
	cJSON *o = sup_fields("group", name);

	if (strcmp(name, "lost")) /* a loss is said with the stop it brings (sup_on_stop) */
		sup_say(s, "group: %s", line);
	if (o) {
		if (node >= 0)
			cJSON_AddNumberToObject(o, "node", node);
		if (host && *host)
			cJSON_AddStringToObject(o, "host", host);
		cJSON_AddStringToObject(o, "detail", line);
	}
	sup_event(s, "group", RANK_NONE, -1, NULL, -1, o);
}
