/*
 * culprit.c - the verdict on a stall: which ranks the others wait on (culprit.h).
 */
#define _GNU_SOURCE
#include "culprit.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define PY_FRAME "File \""

/*
 * The frames a rank waiting for its peers sits in (torch 1.13 and 2.x alike): a collective is
 * entered through torch.distributed (torch 2.x wraps each in c10d_logger.py), a store's get
 * and a rendezvous too. A threading wait is not one of them: a data loader waits that way.
 */
static const char *const wait_marks[] = {
    "torch/distributed/",
    "distributed_c10d.py",
    "c10d_logger.py",
    "monitored_barrier",
};

int fd_stack_class(const char *text)
{
	const char *p = text ? strstr(text, "Current thread") : NULL, *f;
	int frames = 0;

	if (!text)
		return SC_NONE;
	if (!p)
		p = text;
	/* the innermost frames: a collective is entered a few calls below the job's own line */
	for (f = strstr(p, PY_FRAME); f && frames < 4; f = strstr(f + 6, PY_FRAME)) {
		size_t l = strcspn(f, "\n");

		frames++;
		for (size_t i = 0; i < sizeof(wait_marks) / sizeof(wait_marks[0]); i++) {
			if (memmem(f, l, wait_marks[i], strlen(wait_marks[i])))
				return SC_COLLECTIVE;
		}
		if (!strncmp(f + l, "\n\n", 2))
			break; /* the end of the current thread */
	}
	return frames ? SC_ELSEWHERE : SC_NONE;
}

const char *fd_rank_state_words(int state)
{
	switch (state) {
	case RS_RUNNING:
		return "running";
	case RS_STOPPED:
		return "stopped (state T)";
	case RS_DISK:
		return "in uninterruptible sleep (state D)";
	case RS_ZOMBIE:
		return "exited (a zombie)";
	case RS_GONE:
		return "gone";
	}
	return "of unknown state";
}

static int cannot_run(int state)
{
	return state == RS_STOPPED || state == RS_DISK || state == RS_ZOMBIE || state == RS_GONE;
}

/* "rank 1 (pid 42) stopped (state T) at train.py:88 in load_batch" */
static void describe(const struct fd_rank_evidence *e, char *out, size_t len)
{
	size_t k = 0;

	*out = '\0';
	fd_appendf(out, len, &k, "rank %d", e->rank);
	if (e->pid > 0)
		fd_appendf(out, len, &k, " (pid %d)", e->pid);
	if (cannot_run(e->state)) {
		fd_appendf(out, len, &k, " %s", fd_rank_state_words(e->state));
		if (e->state == RS_DISK && *e->wchan)
			fd_appendf(out, len, &k, " in %s", e->wchan);
	}
	if (e->stack != SC_NONE && *e->where)
		fd_appendf(out, len, &k, " at %s", e->where);
}

enum {
	BY_STATE = 1,
	BY_PROGRESS,
	BY_STACKS
};

static int is_culprit(const struct fd_rank_evidence *e, int by)
{
	if (by == BY_STATE)
		return cannot_run(e->state);
	if (by == BY_PROGRESS)
		return e->quiet == QUIET_YES;
	return e->stack == SC_ELSEWHERE;
}

void fd_culprit_judge(const struct fd_rank_evidence *ev, size_t n, struct fd_culprit *out)
{
	size_t bad = 0, waiting = 0, elsewhere = 0, quiet = 0, moving = 0, k = 0;
	int by;
	char d[512];

	memset(out, 0, sizeof(*out));
	out->evidence = "none";
	for (size_t i = 0; i < n; i++) {
		bad += cannot_run(ev[i].state);
		waiting += ev[i].stack == SC_COLLECTIVE;
		elsewhere += ev[i].stack == SC_ELSEWHERE;
		quiet += ev[i].quiet == QUIET_YES;
		moving += ev[i].quiet == QUIET_NO;
	}
	by = bad > 0 && bad < n	    ? BY_STATE
	     : quiet && moving	    ? BY_PROGRESS
	     : waiting && elsewhere ? BY_STACKS
				    : 0;
	if (!by) {
		snprintf(out->line, sizeof(out->line),
			 n < 2	    ? "culprit unknown: one rank, nothing to compare"
			 : bad == n ? "culprit unknown: every rank is stopped, in D state or gone"
			 : waiting == n
			     ? "culprit unknown: every rank waits in a collective (a desync, "
			       "or a peer on another node)"
			     : "culprit unknown: no state or stack tells the ranks apart");
		return;
	}
	out->confidence = FC_LIKELY;
	out->evidence = by == BY_STATE ? "state" : by == BY_PROGRESS ? "progress" : "stacks";
	for (size_t i = 0; i < n; i++) {
		int culprit = is_culprit(&ev[i], by);

		if (culprit && out->nculprits < CULPRIT_RANKS_MAX)
			out->culprits[out->nculprits++] = ev[i].rank;
		else if (!culprit && out->nvictims < CULPRIT_RANKS_MAX)
			out->victims[out->nvictims++] = ev[i].rank;
	}
	/* the culprits first, each described; then who waits, and where the first one waits */
	for (size_t i = 0; i < n; i++) {
		if (!is_culprit(&ev[i], by))
			continue;
		describe(&ev[i], d, sizeof(d));
		fd_appendf(out->line, sizeof(out->line), &k, "%s%s", k ? "; " : "", d);
	}
	if (out->nvictims)
		fd_appendf(out->line, sizeof(out->line), &k, "; rank%s",
			   out->nvictims > 1 ? "s" : "");
	for (int i = 0; i < out->nvictims; i++)
		fd_appendf(out->line, sizeof(out->line), &k, "%s%d", i ? "," : " ",
			   out->victims[i]);
	for (size_t i = 0; out->nvictims && i < n; i++) {
		if (ev[i].rank != out->victims[0])
			continue;
		if (by == BY_PROGRESS)
			fd_appendf(out->line, sizeof(out->line), &k, " kept making progress");
		else
			fd_appendf(out->line, sizeof(out->line), &k, " %s",
				   out->nvictims > 1 ? "wait for it" : "waits for it");
		if (ev[i].stack == SC_COLLECTIVE && *ev[i].where)
			fd_appendf(out->line, sizeof(out->line), &k, " at %s", ev[i].where);
		break;
	}
}

/* A kernel wait inside the NVIDIA driver (nv*, uvm*, os_* of its OS layer) or an RDMA one. */
static int driver_wchan(const char *w)
{
	static const char *const marks[] = {"nv", "_nv", "uvm", "os_", "mlx", "ib_", "rdma", "gdr"};

	for (size_t i = 0; i < FD_ARRAY_SIZE(marks); i++)
		if (!strncmp(w, marks[i], strlen(marks[i])))
			return 1;
	return 0;
}

int fd_culprit_machine(const struct fd_rank_evidence *ev, size_t n, const struct fd_culprit *v,
		       const char *xid, char *why, size_t len)
{
	*why = '\0';
	if (!v || v->confidence != FC_LIKELY || !v->nculprits)
		return 0;
	for (int c = 0; c < v->nculprits; c++)
		for (size_t i = 0; i < n; i++)
			if (ev[i].rank == v->culprits[c] && ev[i].state == RS_DISK &&
			    driver_wchan(ev[i].wchan)) {
				snprintf(why, len,
					 "rank %d is in uninterruptible sleep in a driver (%s)",
					 ev[i].rank, ev[i].wchan);
				return 1;
			}
	if (xid && *xid) {
		snprintf(why, len, "%s, and rank %d here is the culprit", xid, v->culprits[0]);
		return 1;
	}
	return 0;
}
