/*
 * check_job.c - `flightdeck check --job`: the job's verdict through the node group, and the
 * job-wide tests between its two rounds: the RDMA test between node pairs, then the allreduce
 * across nodes (see job.h).
 */
#include "job.h"
#include "allreduce.h"
#include "pairs_run.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * The session: round 1, every node's verdict; when the group says every node is fit, node 0
 * runs the pairs phase when ib.pairs is selected (it ends with PAIRS_DONE), then the
 * allreduce phase (or says there is none: DONE of set 0), and round 2 takes every node's
 * verdict again with the nodes the phases named unfit. With neither phase run, round 1's
 * answer stands.
 */
enum job_phase {
	JOB_VERDICTS,	    /* every node's own verdict goes to node 0 */
	JOB_TESTS,	    /* every node fit: the pairs, then the allreduce across them run */
	JOB_VERDICTS_AGAIN, /* the verdicts once more, the nodes the tests named unfit */
};

struct job_wait {
	struct fd_loop *loop;
	struct fd_group *g;
	const struct fd_group_conf *conf;
	const struct fd_job_world *jw;
	struct world_runner *runner;
	struct world_driver *driver;
	struct pairs_runner *prunner;
	struct pairs_driver *pdriver;
	int pairs_ran; /* PAIRS_DONE came: round 2 follows, whatever the allreduce */
	struct fd_node_state me;
	struct fd_job_facts *facts;
	enum job_phase phase;
	int done, code;
};

/* DONE (bw.world) or PAIRS_DONE (ib.pairs): node 0's finding, as every node's check reads it. */
static void take_finding(struct fd_job_facts *f, const struct fd_world_msg *m)
{
	struct fd_job_finding *g = m->kind == FW_PAIRS_DONE ? &f->pairs : &f->world;

	if (m->kind == FW_PAIRS_DONE)
		f->have_pairs = 1;
	else
		f->have_world = 1;
	g->status = m->status;
	fd_strlcpy(g->code, m->code, sizeof(g->code));
	fd_strlcpy(g->subject, m->subject, sizeof(g->subject));
	fd_strlcpy(g->value, m->value, sizeof(g->value));
	fd_strlcpy(g->expected, m->expected, sizeof(g->expected));
	fd_strlcpy(g->text, m->text, sizeof(g->text));
}

/* This node's failures, one "check code subject" line each, as node 0 prints them. */
static void failures(const struct fd_report *rep, char *out, size_t len)
{
	size_t k = 0;

	*out = '\0';
	for (size_t i = 0; i < rep->n && k + 80 < len; i++)
		if (rep->v[i].status == FD_FAIL)
			k += (size_t)snprintf(out + k, len - k, "%s %s %s\n", rep->v[i].check,
					      rep->v[i].code ? rep->v[i].code : "-",
					      rep->v[i].subject);
}

static void job_end(struct job_wait *w, int code)
{
	w->done = 1;
	w->code = code;
	fd_loop_stop(w->loop);
}

/* Node 0, every node fit: the allreduce phase, or the word that there is none. */
static void job_world_start(struct job_wait *w)
{
	struct fd_world_msg none = {.kind = FW_DONE, .set = 0};
	int r = -ENOTSUP;

	if (w->jw->want) {
		r = world_driver_new(&w->driver, w->loop, w->g, w->jw->cfg, w->jw->full);
		if (r)
			fd_err("check --job: the allreduce across nodes cannot start: %s",
			       strerror(-r));
	}
	if (!r)
		return;
	for (int i = 0; i < w->conf->nnodes; i++)
		grp_world_send(w->g, i, &none);
}

static void job_decision(void *ctx, const struct fd_decision *d)
{
	struct job_wait *w = ctx;

	if (w->done)
		return; /* the coordinator's close after its answer is no loss */
	if (d->verdict == FD_CONTINUE && w->phase == JOB_VERDICTS && w->jw) {
		w->phase = JOB_TESTS; /* every node fit: the tests across them come next */
		if (w->conf->node != 0)
			return;
		if (w->jw->want_pairs) {
			int r = pairs_driver_new(&w->pdriver, w->loop, w->g, w->jw->cfg);

			if (!r)
				return;
			fd_err("check --job: the RDMA test between node pairs cannot start: %s",
			       strerror(-r));
		}
		job_world_start(w);
		return;
	}
	if (d->verdict == FD_STOP && *d->why)
		fd_err("%s", d->why);
	job_end(w, d->verdict == FD_CONTINUE ? 0 : fd_decision_exit_code(d));
}

/* A phase named this node: unfit for round 2, with one "check code subject" line more. */
static void unfit(struct job_wait *w, const char *check, const struct fd_world_msg *m)
{
	size_t k = strlen(w->me.detail);

	w->me.failure = FD_FAIL_PREFLIGHT;
	w->me.status = FD_RUN_PREFLIGHT;
	if (k < sizeof(w->me.detail))
		snprintf(w->me.detail + k, sizeof(w->me.detail) - k, "%s %s %s\n", check, m->code,
			 m->subject);
}

static void job_world(void *ctx, int from, const struct fd_world_msg *m)
{
	struct job_wait *w = ctx;

	if (w->done || !w->jw)
		return;
	if ((m->kind == FW_ID || m->kind == FW_RESULT) && w->driver)
		world_driver_on(w->driver, from, m);
	if ((m->kind == FW_READY || m->kind == FW_PAIR_RESULT) && w->pdriver)
		pairs_driver_on(w->pdriver, from, m);
	if (from != 0 || w->phase != JOB_TESTS)
		return; /* orders come from node 0 only, and only in the phase */
	if (m->kind == FW_START || m->kind == FW_ABORT) {
		world_runner_on(w->runner, m);
		return;
	}
	if (m->kind == FW_PAIR) {
		pairs_runner_on(w->prunner, m);
		return;
	}
	if (m->kind == FW_PAIRS_DONE) {
		pairs_runner_free(w->prunner); /* a test still running is of no use now */
		w->prunner = NULL;
		take_finding(w->facts, m);
		w->pairs_ran = 1;
		if (m->unfit)
			unfit(w, "ib.pairs", m);
		if (w->conf->node == 0) /* the allreduce next, or the word that there is none */
			job_world_start(w);
		return;
	}
	if (m->kind != FW_DONE)
		return;
	world_runner_free(w->runner); /* a gpubench still running is of no use now */
	w->runner = NULL;
	if (m->set == 0 && !w->pairs_ran) { /* no test ran: round 1's answer stands */
		job_end(w, 0);
		return;
	}
	if (m->set != 0)
		take_finding(w->facts, m);
	w->phase = JOB_VERDICTS_AGAIN;
	if (m->set != 0 && m->unfit)
		unfit(w, "bw.world", m);
	if (grp_submit(w->g, &w->me)) {
		fd_err("check --job: cannot send this node's verdict with the allreduce's");
		job_end(w, FD_RUN_INTERNAL);
	}
}

static void job_event(void *ctx, const char *name, int node, const char *host, const char *line,
		      int say)
{
	(void)ctx;
	(void)node;
	(void)host;
	if (say && strcmp(name, "lost")) /* a loss is said with the decision it brings */
		fd_err("group: %s", line);
}

int fd_job_check(const struct fd_group_conf *conf, const struct fd_report *rep,
		 const struct fd_job_world *jw, struct fd_job_facts *facts)
{
	static const struct fd_group_callbacks cb = {.on_decision = job_decision,
						     .on_stop = job_decision,
						     .on_event = job_event,
						     .on_world = job_world};
	/* check launches no ranks: no master port; node 0 writes --exclude-file */
	struct fd_policy pol = {.exclude_file = conf->exclude_file};
	struct fd_loop loop;
	struct fd_group g = {0};
	struct job_wait w = {.loop = &loop,
			     .g = &g,
			     .conf = conf,
			     .jw = jw,
			     .facts = facts,
			     .code = FD_RUN_INTERNAL,
			     .me = {.node = conf->node, .max_step = -1}};
	char err[512] = "";
	int unfit = fd_report_verdict(rep) == FD_FAIL, r;

	memset(facts, 0, sizeof(*facts));
	if (conf->nnodes < 2) /* a group of one: this node's verdict is the job's */
		return unfit ? FD_RUN_PREFLIGHT : 0;
	w.me.failure = unfit ? FD_FAIL_PREFLIGHT : FD_FAIL_NONE;
	w.me.status = unfit ? FD_RUN_PREFLIGHT : 0;
	failures(rep, w.me.detail, sizeof(w.me.detail));
	r = fd_loop_init(&loop);
	if (!r)
		r = fd_group_tcp(&g, &loop, &pol, conf, &cb, &w, err, sizeof(err));
	if (!r && jw)
		r = world_runner_new(&w.runner, &loop, &g, jw->cfg);
	if (!r && jw)
		r = pairs_runner_new(&w.prunner, &loop, &g, jw->cfg);
	if (!r)
		r = grp_submit(&g, &w.me);
	if (!r)
		r = fd_loop_run(&loop);
	if (r && !w.done)
		fd_err("check --job: %s", *err ? err : strerror(-r));
	world_runner_free(w.runner);
	world_driver_free(w.driver);
	pairs_runner_free(w.prunner);
	pairs_driver_free(w.pdriver);
	grp_close(&g);
	fd_loop_close(&loop);
	return w.done ? w.code : FD_RUN_INTERNAL;
}
