/*
 * ranks.c - the rank table and the stall policy (see ranks.h).
 */
#include "ranks.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ranks_reset(struct sup_ranks *t)
{
	t->n = 0;
	t->max_step = -1;
}

void ranks_free(struct sup_ranks *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

struct sup_rank *ranks_find(const struct sup_ranks *t, int id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].id == id)
			return &t->v[i];
	return NULL;
}

struct sup_rank *ranks_add(struct sup_ranks *t, int id, int64_t now)
{
	struct sup_rank *r = ranks_find(t, id);

	if (r)
		return r;
	if (t->n == MAX_RANKS)
		return NULL;
	if (!(t->n & (t->n - 1))) { /* 0 or a power of two: full, double it */
		size_t cap = t->n ? t->n * 2 : 1;
		struct sup_rank *p = realloc(t->v, cap * sizeof(*p));

		if (!p)
			return NULL;
		t->v = p;
	}
	r = &t->v[t->n++];
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->step = -1;
	r->progress_ns = r->step_ns = now;
	r->phase = FD_PHASE_TRAIN;
	return r;
}

int ranks_real(const struct sup_ranks *t)
{
	int n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->v[i].id >= 0;
	return n;
}

/* Stall detection is armed once a heartbeat source is known; before that only crashes and
 * --timeout end a job (a command that never heard of flightdeck is not killed for silence). */
int ranks_startup_pending(const struct sup_ranks *t)
{
	return (t->want_output && !ranks_find(t, RANK_OUTPUT)) ||
	       (t->want_file && !ranks_find(t, RANK_FILE)) || ranks_real(t) < t->expected;
}

int ranks_past_last(const struct sup_rank *r)
{
	return r->total > 0 && r->step >= r->total - 1;
}

int64_t rank_limit_ms(const struct fd_run_opts *o, const struct sup_rank *r)
{
	int64_t limit = o->stall_ms;

	if (ranks_past_last(r)) {
		limit = o->teardown_ms; /* teardown is no step: neither learned nor fixed */
	} else if (o->stall_auto) {
		if (r->nintervals < 2)
			limit = o->startup_ms; /* still warming up: no intervals to learn from */
		else {
			limit =
			    fd_dbl_to_i64(o->stall_factor * (double)r->max_interval_ns / NS_PER_MS);
			if (limit < o->stall_floor_ms)
				limit = o->stall_floor_ms;
		}
	}
	if (r->phase == FD_PHASE_CHECKPOINT && limit < o->checkpoint_ms)
		limit = o->checkpoint_ms;
	return limit;
}

int64_t rank_deadline(const struct fd_run_opts *o, const struct sup_rank *r)
{
	return fd_deadline_ns(r->progress_ns, rank_limit_ms(o, r)); /* saturates: util.h */
}

int ranks_watched(const struct sup_rank *r)
{
	return !r->done && !r->gone;
}

struct sup_rank *ranks_take_back(struct sup_ranks *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].back == 1) {
			t->v[i].back = 2;
			return &t->v[i];
		}
	return NULL;
}

/*
 * A step that changed. Going back (a per-epoch counter, a second phase) is progress too; it
 * is noted once per rank per attempt, and the time across it is no step interval for
 * --stall-timeout auto (it spans a phase boundary, not a step).
 */
static void step_changed(struct sup_ranks *t, struct sup_rank *r, int64_t step, int64_t now)
{
	if (r->step >= 0 && step < r->step) {
		if (!r->back) {
			r->back = 1;
			r->back_from = r->step;
			r->back_to = step;
		}
	} else if (r->step >= 0) {
		int64_t iv = now - r->step_ns;

		if (iv > r->max_interval_ns)
			r->max_interval_ns = iv;
		r->nintervals++;
	}
	r->step = step;
	r->step_ns = r->progress_ns = now;
	if (step > t->max_step)
		t->max_step = step;
}

struct sup_rank *ranks_beat(struct sup_ranks *t, const struct fd_beat *b, int64_t now)
{
	struct sup_rank *r = ranks_add(t, b->rank, now);

	if (!r)
		return NULL;
	t->beats++;
	r->last_ns = now;
	/* A beat says the rank is there; one without done=1 says it works again. */
	r->gone = 0;
	r->done = b->done;
	if (b->pid && b->pid != r->pid) {
		r->pid = b->pid;
		r->pid_start = 0; /* a new process: beats.c learns its start time */
		r->pid_beats = 0;
	}
	if (b->pid)
		r->pid_beats++;
	if (b->stacks)
		r->stacks = 1;
	if (b->fr)
		r->fr = 1;
	if (b->phase && b->phase != r->phase) {
		r->phase = b->phase; /* entering or leaving a checkpoint is progress */
		r->progress_ns = now;
	}
	if (b->total > 0 && b->total != r->total) {
		r->total = b->total; /* a new total moves the deadline: it is news too */
		r->progress_ns = now;
	}
	if (b->step >= 0) {
		if (b->step != r->step)
			step_changed(t, r, b->step, now);
	} else if (r->step < 0) {
		r->progress_ns = now; /* a rank that never reports steps: liveness is progress */
	}
	return r;
}

int64_t ranks_next_deadline(const struct sup_ranks *t, const struct fd_run_opts *o,
			    int64_t launch_ns)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < t->n; i++)
		if (ranks_watched(&t->v[i]) && rank_deadline(o, &t->v[i]) < next)
			next = rank_deadline(o, &t->v[i]);
	if (ranks_startup_pending(t) && fd_deadline_ns(launch_ns, o->startup_ms) < next)
		next = fd_deadline_ns(launch_ns, o->startup_ms);
	return next;
}

void ranks_name(int id, char *out, size_t len)
{
	if (id == RANK_OUTPUT)
		snprintf(out, len, "the output (--progress-regex)");
	else if (id == RANK_FILE)
		snprintf(out, len, "the heartbeat file");
	else
		snprintf(out, len, "rank %d", id);
}

/* "rank 3 silent for 12 s after step 40 (in a checkpoint) (2 of 4 heartbeat sources...)" */
static void describe_stall(const struct sup_ranks *t, const struct fd_run_opts *o,
			   const struct sup_rank *r, int late, int64_t now, struct sup_stall *st)
{
	char who[64], d[32], step[64] = "", others[64] = "", past[96] = "";

	if (late > 1)
		snprintf(others, sizeof(others), " (%d of %zu heartbeat sources stalled)", late,
			 t->n);
	ranks_name(r->id, who, sizeof(who));
	fd_fmt_duration((now - r->progress_ns) / NS_PER_MS, d, sizeof(d));
	if (r->step >= 0)
		snprintf(step, sizeof(step), " after step %lld", (long long)r->step);
	if (ranks_past_last(r)) {
		char td[32];

		fd_fmt_duration(o->teardown_ms, td, sizeof(td));
		snprintf(past, sizeof(past), " of %lld, past its last step (--teardown-timeout %s)",
			 (long long)r->total, td);
	}
	/* Beats that keep coming while the step does not: alive, but going nowhere. */
	snprintf(st->what, sizeof(st->what), "%s %s for %s%s%s%s%s", who,
		 r->step >= 0 && now - r->last_ns < (now - r->progress_ns) / 2
		     ? "still beats but made no progress"
		     : "silent",
		 d, step, past, r->phase == FD_PHASE_CHECKPOINT ? " (in a checkpoint)" : "",
		 others);
}

int ranks_late(const struct fd_run_opts *o, const struct sup_rank *r, int64_t now)
{
	return ranks_watched(r) && now >= rank_deadline(o, r);
}

static int judge(const struct sup_ranks *t, const struct fd_run_opts *o, int64_t launch_ns,
		 int64_t now, int prefer, struct sup_stall *st)
{
	const struct sup_rank *r = NULL;
	int late = 0;
	char d[32];

	memset(st, 0, sizeof(*st));
	st->rank = RANK_NONE;
	st->step = -1;
	/* Of the ranks past their deadline, the one silent longest is named; or prefer, once one
	 * is past its deadline. */
	for (size_t i = 0; i < t->n; i++) {
		if (!ranks_late(o, &t->v[i], now))
			continue;
		late++;
		if (!r || t->v[i].progress_ns < r->progress_ns)
			r = &t->v[i];
	}
	for (size_t i = 0; r && i < t->n; i++)
		if (t->v[i].id == prefer && ranks_watched(&t->v[i]))
			r = &t->v[i]; /* it went quiet with them, its deadline a moment later */
	if (r) {
		describe_stall(t, o, r, late, now, st);
		st->failure = FD_FAIL_STALL;
		st->rank = r->id;
		st->step = r->step;
		st->total = r->total;
		st->reason = r->phase == FD_PHASE_CHECKPOINT ? "checkpoint"
			     : ranks_past_last(r)	     ? "teardown"
							     : "stall";
		return st->failure;
	}
	if (now < fd_deadline_ns(launch_ns, o->startup_ms) || !ranks_startup_pending(t))
		return FD_FAIL_NONE;
	fd_fmt_duration(o->startup_ms, d, sizeof(d));
	if (t->expected)
		snprintf(st->what, sizeof(st->what),
			 "%d of %d ranks beat within --startup-timeout %s", ranks_real(t),
			 t->expected, d);
	else
		snprintf(st->what, sizeof(st->what), "no heartbeat within --startup-timeout %s", d);
	st->failure = FD_FAIL_STARTUP;
	st->reason = "startup";
	return st->failure;
}

int ranks_judge(const struct sup_ranks *t, const struct fd_run_opts *o, int64_t launch_ns,
		int64_t now, struct sup_stall *st)
{
	return judge(t, o, launch_ns, now, RANK_NONE, st);
}

int ranks_judge_naming(const struct sup_ranks *t, const struct fd_run_opts *o, int64_t launch_ns,
		       int64_t now, int id, struct sup_stall *st)
{
	return judge(t, o, launch_ns, now, id, st);
}
