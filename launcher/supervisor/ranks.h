/*
 * ranks.h - the rank table and the stall policy, as pure functions of the table, the options
 * and the time (docs/architecture.md, "The supervisor"): what a beat does to a rank, when a
 * rank is next due, which rank is stalled and how to say so. No I/O, no clock reads: the
 * unit tests drive them with made-up times.
 */
#ifndef FD_RANKS_H
#define FD_RANKS_H

#include "culprit.h"
#include "heartbeat.h"
#include "run.h"

#include <stddef.h>
#include <stdint.h>

#define RANK_OUTPUT (-1) /* the pseudo-rank fed by --progress-regex */
#define RANK_FILE   (-2) /* the pseudo-rank fed by --heartbeat-file */
#define RANK_NONE   (-3) /* an event about the job, not about one rank */
#define MAX_RANKS   4096 /* sources tracked; a beat from one more is ignored */

#define NS_PER_MS 1000000LL

struct sup_rank {
	int id; /* the rank, or RANK_OUTPUT / RANK_FILE */
	pid_t pid;
	unsigned long long pid_start; /* pid's start time, read at its first beat; 0: unknown */
	int stacks, phase, stack_asked;
	int fr; /* it dumps torch's flight recorder when asked (its beats say fr=1) */
	int fr_asked;
	struct fd_fr_summary frsum; /* its dump at this stall (stacks.c); known 0: none */
	int stack_class;	    /* what its last dump said (culprit.h SC_*), this attempt */
	char stack_where[192];	    /* and where: "train.py:81 in main (in ...)" */
	int64_t last_ns, progress_ns, step_ns;
	int64_t step;		 /* -1: none reported yet */
	int64_t total;		 /* the job's steps, from its latest beat that said; 0: not said */
	int64_t max_interval_ns; /* the longest step-to-step interval, for --stall-timeout auto */
	int nintervals;
	int pid_beats; /* beats in a row from pid: more than one, a process that lives on */
	int done;      /* its last beat said done=1: never stalled */
	int gone;      /* its beating process has exited: never stalled (the status judges) */
	int back;      /* the step went back: 1 to be said (back_from), 2 said this attempt */
	int64_t back_from, back_to;
};

struct sup_ranks {
	struct sup_rank *v;
	size_t n;
	int expected;	  /* ranks expected to beat (--ranks, --nproc-per-node); 0 = learn */
	int want_output;  /* a --progress-regex source is configured */
	int want_file;	  /* a --heartbeat-file source is configured */
	int64_t max_step; /* the furthest step of any rank this attempt; -1 */
	uint64_t beats;	  /* every beat taken, for the summary */
};

/* What ranks_judge found wrong. */
struct sup_stall {
	int failure;  /* FD_FAIL_STALL or FD_FAIL_STARTUP; FD_FAIL_NONE when all is well */
	int rank;     /* the source named in the event, RANK_NONE for a startup failure */
	int64_t step; /* its last step, -1 */
	/* the stall event's reason: "stall", "checkpoint", "teardown" (past the last step),
	 * "startup" */
	const char *reason;
	int64_t total;	/* the stalled rank's total; 0 when it said none */
	char what[256]; /* the line said on stderr */
};

/* Forgets the ranks of the last attempt (the memory is kept for the next). */
void ranks_reset(struct sup_ranks *t);
void ranks_free(struct sup_ranks *t);
struct sup_rank *ranks_find(const struct sup_ranks *t, int id);
/* The rank, created at now if new; NULL past MAX_RANKS or out of memory. */
struct sup_rank *ranks_add(struct sup_ranks *t, int id, int64_t now);
/*
 * A beat at now: liveness, step, phase; progress moves the rank's deadline. Returns the rank
 * it updated; NULL when the table could not take it.
 */
struct sup_rank *ranks_beat(struct sup_ranks *t, const struct fd_beat *b, int64_t now);
/* Whether r is judged for stalls: not after its done beat, not once its process is gone. */
int ranks_watched(const struct sup_rank *r);
/* A rank whose step went back and that was not said yet (r->back 1); NULL when none. */
struct sup_rank *ranks_take_back(struct sup_ranks *t);
/* How many real ranks (not the output or the file) have beaten. */
int ranks_real(const struct sup_ranks *t);
/* Some configured source has not beaten yet: the startup deadline still applies. */
int ranks_startup_pending(const struct sup_ranks *t);

/*
 * Past its last step: the rank said a total and its step is at least total - 1, the last of
 * range(total) counted from 0, or the one before the last counted from 1 ("step 59/60").
 */
int ranks_past_last(const struct sup_rank *r);
/* The silence a rank is allowed, in ms: fixed, learned (auto), a teardown's or a checkpoint's. */
int64_t rank_limit_ms(const struct fd_run_opts *o, const struct sup_rank *r);
int64_t rank_deadline(const struct fd_run_opts *o, const struct sup_rank *r);
/* The earliest rank or startup deadline of an attempt launched at launch_ns; INT64_MAX. */
int64_t ranks_next_deadline(const struct sup_ranks *t, const struct fd_run_opts *o,
			    int64_t launch_ns);
/*
 * Judges the attempt launched at launch_ns at time now: of the ranks past their deadline the
 * one silent longest is named; else the startup deadline. Returns st->failure.
 */
int ranks_judge(const struct sup_ranks *t, const struct fd_run_opts *o, int64_t launch_ns,
		int64_t now, struct sup_stall *st);
/*
 * The same, naming rank id (watched, past its deadline or not) once any rank is: a rank whose
 * process cannot run, which the others wait for (its deadline and theirs expire together, and
 * which expires first is noise).
 */
int ranks_judge_naming(const struct sup_ranks *t, const struct fd_run_opts *o, int64_t launch_ns,
		       int64_t now, int id, struct sup_stall *st);
/* Whether r is watched and past its deadline at now. */
int ranks_late(const struct fd_run_opts *o, const struct sup_rank *r, int64_t now);

/* "rank 3", "the output (--progress-regex)", "the heartbeat file" */
void ranks_name(int id, char *out, size_t len);

#endif
