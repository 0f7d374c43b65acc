/*
 * allreduce_driver.c - the driver of the allreduce across nodes, on node 0 (see allreduce.h):
 * it plans the test sets (bisect.c), relays each set's NCCL id, gathers the results and ends
 * the phase with the job's bw.world finding. A round's end is judged by round.c's pure
 * functions; every wait has a deadline.
 */
#define _GNU_SOURCE
#include "allreduce.h"
#include "bisect.h"
#include "bw.h"
#include "check.h"
#include "round.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Node 0 waits this much past gpubench's own deadline for a set's results: a node's runner
 * kills its gpubench at the deadline and reports at once, so only a node whose flightdeck
 * itself is stuck comes later (and the group's --peer-timeout catches a dead one).
 */
#define ROUND_SLACK_MS 3000

struct world_driver {
	struct fd_loop *loop;
	struct fd_group *g;
	const struct fd_config *cfg;
	int full, nnodes;
	struct fd_bisect b;
	struct fd_round_set sets[FD_BISECT_SETS];
	int nsets;
	uint32_t next_id;
	int64_t round_deadline;
	double *low; /* per node: the lowest busbw of a slow set it was in (the finding's) */
	struct bw_world_facts facts;
	int over;
};

static void set_clear(struct fd_round_set *s)
{
	free(s->nodes);
	free(s->res);
	free(s->got);
	memset(s, 0, sizeof(*s));
}

static void say(struct world_driver *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct world_driver *d, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fd_err("group: bw.world: %s", line);
}

static void list_nodes(const struct fd_round_set *s, char *out, size_t len)
{
	size_t k = 0;

	*out = '\0';
	for (int i = 0; i < s->n && k + 16 < len; i++)
		k += (size_t)snprintf(out + k, len - k, "%s%d", i ? "," : "", s->nodes[i]);
}

/* The phase is over: the job's finding to every node, each told whether it is named. */
static void finish_phase(struct world_driver *d)
{
	struct fd_report rep = {0};
	struct bw_world_facts *f = &d->facts;
	struct fd_world_msg m = {.kind = FW_DONE, .set = d->next_id ? d->next_id : 1};

	d->over = 1;
	f->nnodes = d->nnodes;
	f->rounds = d->b.round + 1;
	f->max_rounds = d->b.max_rounds;
	for (int i = 0; i < 2; i++)
		if (f->culprit[i] >= 0)
			fd_strlcpy(f->host[i], grp_host(d->g, f->culprit[i]), sizeof(f->host[i]));
	bw_world_judge(f, d->cfg, &rep);
	if (rep.n) {
		const struct fd_finding *x = &rep.v[0];

		m.status = (int)x->status;
		fd_strlcpy(m.code, x->code ? x->code : "", sizeof(m.code));
		fd_strlcpy(m.subject, x->subject, sizeof(m.subject));
		fd_strlcpy(m.value, x->value, sizeof(m.value));
		fd_strlcpy(m.expected, x->expected, sizeof(m.expected));
		fd_strlcpy(m.text, x->message, sizeof(m.text));
		say(d, "%s %s%s%s: %s", fd_status_name(x->status), x->code ? x->code : "",
		    x->code ? " " : "", x->subject, x->message);
	}
	fd_report_free(&rep);
	for (int i = 0; i < d->nnodes; i++) {
		m.unfit = (f->state == BWW_NODE_FAILED ||
			   (f->state == BWW_RAN &&
			    (f->outcome == BWW_CULPRIT || f->outcome == BWW_PAIR))) &&
			  (i == f->culprit[0] || i == f->culprit[1]);
		grp_world_send(d->g, i, &m);
	}
}

static void start_round(struct world_driver *d)
{
	char list[256];

	for (int i = 0; i < d->nsets; i++)
		set_clear(&d->sets[i]);
	d->nsets = d->b.nsets;
	d->round_deadline =
	    fd_deadline_ns(fd_mono_ns(), d->cfg->gpubench_timeout_ms + ROUND_SLACK_MS);
	for (int i = 0; i < d->nsets; i++) {
		struct fd_round_set *s = &d->sets[i];
		int n = d->b.sets[i].n;

		s->id = ++d->next_id;
		s->n = n;
		s->nodes = malloc((size_t)n * sizeof(*s->nodes));
		s->res = calloc((size_t)n, sizeof(*s->res));
		s->got = calloc((size_t)n, 1);
		if (!s->nodes || !s->res || !s->got) {
			d->facts.state = BWW_SKIP;
			snprintf(d->facts.why, sizeof(d->facts.why), "out of memory");
			finish_phase(d);
			return;
		}
		memcpy(s->nodes, d->b.sets[i].nodes, (size_t)n * sizeof(*s->nodes));
		list_nodes(s, list, sizeof(list));
		if (d->b.round)
			say(d, "round %d: re-testing nodes %s", d->b.round + 1, list);
		struct fd_world_msg m = {.kind = FW_START,
					 .set = s->id,
					 .rank = 0,
					 .size = n,
					 .timeout_ms = (uint32_t)d->cfg->gpubench_timeout_ms,
					 .full = d->full};

		grp_world_send(d->g, s->nodes[0], &m);
	}
}

/* Every node of the set that has not reported is told to stop its gpubench. */
static void decide_set(struct world_driver *d, struct fd_round_set *s)
{
	struct fd_world_msg m = {.kind = FW_ABORT, .set = s->id};

	s->decided = 1;
	for (int i = 0; i < s->n; i++)
		if (!s->got[i])
			grp_world_send(d->g, s->nodes[i], &m);
}

static void end_round(struct world_driver *d)
{
	struct fd_bisect_result res[FD_BISECT_SETS];
	struct bw_world_facts *f = &d->facts;
	int si = 0, k = 0, st;
	enum fd_round_fault fault = fd_round_fault(d->sets, d->nsets, &si, &k);

	/* a node that hangs, gives no id or fails is named at once; one without a GPU: skip */
	if (fault != FD_ROUND_CLEAN) {
		const struct fd_round_set *s = &d->sets[si];
		int node = s->nodes[k];

		if (fault == FD_ROUND_FAILED) {
			f->state = BWW_NODE_FAILED;
			f->culprit[0] = node;
			snprintf(f->why, sizeof(f->why), "node %d (%.60s), rank %d of %d: %s", node,
				 grp_host(d->g, node), k, s->n, s->res[k].text);
		} else {
			f->state = BWW_SKIP;
			snprintf(f->why, sizeof(f->why), "node %d (%.60s): %s", node,
				 grp_host(d->g, node), s->res[k].text);
		}
		finish_phase(d);
		return;
	}
	for (int i = 0; i < d->nsets; i++) {
		const struct fd_round_set *s = &d->sets[i];
		struct fd_round_sum sum;
		char list[256];

		fd_round_sum(s, d->cfg, &sum);
		res[i].busbw = sum.busbw;
		res[i].pass = sum.pass;
		for (int n = 0; !sum.pass && n < s->n; n++)
			if (d->low[s->nodes[n]] < 0 || sum.busbw < d->low[s->nodes[n]])
				d->low[s->nodes[n]] = sum.busbw;
		list_nodes(s, list, sizeof(list));
		say(d, "nodes %s: busbw %.1f GB/s%s: %s", list, sum.busbw,
		    sum.all_ran ? (sum.ok ? "" : ", wrong sums") : ", not every node ran",
		    sum.pass ? "pass" : "below");
		if (d->b.round == 0) {
			f->busbw = sum.busbw;
			f->algbw = sum.algbw;
			f->bytes = sum.bytes;
			f->ok = sum.ok;
			f->nranks = sum.nranks;
			f->nodes = sum.nodes;
		}
	}
	st = fd_bisect_next(&d->b, res);
	if (st == FD_BISECT_MORE) {
		start_round(d);
		return;
	}
	f->state = BWW_RAN;
	f->also_slow = d->b.also_slow;
	f->outcome = st;
	if (st == BWW_CULPRIT || st == BWW_PAIR) {
		f->culprit[0] = d->b.culprit[0];
		f->culprit[1] = st == BWW_PAIR ? d->b.culprit[1] : -1;
		f->culprit_busbw = d->low[f->culprit[0]] >= 0 ? d->low[f->culprit[0]] : f->busbw;
	}
	finish_phase(d);
}

static void round_maybe_over(struct world_driver *d)
{
	for (int i = 0; i < d->nsets; i++)
		if (!d->sets[i].decided)
			return;
	end_round(d);
}

void world_driver_on(struct world_driver *d, int from, const struct fd_world_msg *m)
{
	struct fd_round_set *s = NULL;
	int k = -1;

	if (d->over)
		return;
	for (int i = 0; i < d->nsets; i++)
		if (d->sets[i].id == m->set)
			s = &d->sets[i];
	for (int i = 0; s && i < s->n; i++)
		if (s->nodes[i] == from)
			k = i;
	if (!s || k < 0 || s->decided)
		return; /* an older set's, or not a member's: node 0 has moved on */
	if (m->kind == FW_ID && k == 0 && !s->relayed) {
		struct fd_world_msg st = {.kind = FW_START,
					  .set = s->id,
					  .size = s->n,
					  .timeout_ms = (uint32_t)d->cfg->gpubench_timeout_ms,
					  .full = d->full};

		s->relayed = 1;
		fd_strlcpy(st.id, m->id, sizeof(st.id));
		for (int i = 1; i < s->n; i++) {
			st.rank = i;
			grp_world_send(d->g, s->nodes[i], &st);
		}
		return;
	}
	if (m->kind != FW_RESULT || s->got[k])
		return;
	s->res[k] = *m;
	s->got[k] = 1;
	s->ngot++;
	/* rank 0 ended before its id went out: the others never started */
	if (s->ngot == s->n || fd_round_node_problem(m->outcome) || (k == 0 && !s->relayed))
		decide_set(d, s);
	round_maybe_over(d);
}

static int64_t driver_next(void *arg, int64_t now)
{
	struct world_driver *d = arg;

	return d->over ? INT64_MAX : d->round_deadline;
}

/* Past the round's deadline: a node that never reported is named. */
static void driver_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct world_driver *d = arg;

	if (d->over || now < d->round_deadline)
		return;
	for (int i = 0; i < d->nsets; i++) {
		struct fd_round_set *s = &d->sets[i];

		for (int k = 0; !s->decided && k < s->n; k++) {
			if (s->got[k])
				continue;
			s->res[k] = (struct fd_world_msg){.kind = FW_RESULT, .outcome = FWO_FAILED};
			snprintf(s->res[k].text, sizeof(s->res[k].text),
				 "no result within %lld ms of the set's start",
				 (long long)d->cfg->gpubench_timeout_ms + ROUND_SLACK_MS);
			s->got[k] = 1;
			decide_set(d, s);
		}
	}
	round_maybe_over(d);
}

int world_driver_new(struct world_driver **out, struct fd_loop *loop, struct fd_group *g,
		     const struct fd_config *cfg, int full)
{
	struct world_driver *d = calloc(1, sizeof(*d));
	int rc = -ENOMEM;

	if (!d)
		return -ENOMEM;
	d->loop = loop;
	d->g = g;
	d->cfg = cfg;
	d->full = full;
	d->nnodes = g->size;
	d->facts.culprit[0] = d->facts.culprit[1] = -1;
	d->low = malloc((size_t)g->size * sizeof(*d->low));
	if (!d->low || (rc = fd_bisect_init(&d->b, g->size)) ||
	    (rc = fd_loop_timer(loop, driver_next, driver_timer, d))) {
		fd_bisect_free(&d->b);
		free(d->low);
		free(d);
		return rc;
	}
	for (int i = 0; i < g->size; i++)
		d->low[i] = -1;
	say(d, "the allreduce across %d nodes: every node's gpubench as one NCCL world", g->size);
	*out = d;
	start_round(d);
	return 0;
}

void world_driver_free(struct world_driver *d)
{
	if (!d)
		return;
	for (int i = 0; i < FD_BISECT_SETS; i++)
		set_clear(&d->sets[i]);
	fd_bisect_free(&d->b);
	fd_loop_untimer(d->loop, d);
	free(d->low);
	free(d);
}
