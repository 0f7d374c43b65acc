/*
 * pairs_driver.c - node 0's side of the RDMA test between node pairs (see pairs_run.h): the
 * rounds of pairs.h, the relay of each server's ports and address to its client, the judging
 * of each pair, and the job's ib.pairs finding.
 */
#include "pairs_run.h"
#include "pairs.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READY_WAIT_MS	15000 /* a server's rails enumerated and its servers started */
#define RESULT_SLACK_MS 10000 /* past the client's rails, for its report to come */

struct pd_pair {
	int a, b;  /* a serves, b connects */
	int stage; /* 0 awaiting READY, 1 the client runs, 2 decided */
	int64_t deadline;
	struct fd_world_msg srv; /* the server's READY: its rails */
	double pct;		 /* the lowest rail's measured share of its expected rate */
	char line[192];		 /* what the pair gave, for the finding */
};

struct pairs_driver {
	struct fd_loop *loop;
	struct fd_group *g;
	const struct fd_config *cfg;
	struct fd_pairs plan;
	struct pd_pair *pp; /* [plan.cap], by the plan's index */
	int cap;
	int open; /* this round's pairs not yet decided */
	int64_t per_rail_ms;
	char skip_why[256];		    /* the first pair that could not test: why */
	double low_pct, low_gbps, low_want; /* the lowest rail of all pairs that measured */
	char low_where[128];
	int finished;
};

static const char *host(struct pairs_driver *d, int node)
{
	return grp_host(d->g, node);
}

/* What the phase is doing, on node 0's stderr: the rounds after the first, and each pair's end. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fd_err("group: ib.pairs: %s", line);
}

static void decide(struct pairs_driver *d, int i, int verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void round_start(struct pairs_driver *d);

static void decide(struct pairs_driver *d, int i, int verdict, const char *fmt, ...)
{
	struct pd_pair *q = &d->pp[i];
	struct fd_pair *p = &d->plan.p[i];
	char what[160];
	va_list ap;

	if (q->stage == 2)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	q->stage = 2;
	p->verdict = verdict;
	snprintf(q->line, sizeof(q->line), "node %d (%.24s) - node %d (%.24s): %s", p->a,
		 host(d, p->a), p->b, host(d, p->b), what);
	if (verdict == FDP_SKIP && !d->skip_why[0])
		fd_strlcpy(d->skip_why, q->line, sizeof(d->skip_why));
	if (verdict != FDP_OK)
		say("%s", q->line);
	if (--d->open == 0)
		round_start(d);
}

static void order(struct pairs_driver *d, int to, struct fd_world_msg *m)
{
	m->duration_ms = (uint32_t)d->cfg->ib_bw_duration_ms;
	m->timeout_ms = (uint32_t)d->per_rail_ms;
	grp_world_send(d->g, to, m);
}

/* The client's rails against the server's: each rail's expected rate is the slower end's. */
static void judge(struct pairs_driver *d, int i, const struct fd_world_msg *c)
{
	struct pd_pair *q = &d->pp[i];
	double worst = 1e18, worst_gbps = 0, worst_want = 0;
	int wr = -1, failed = -1;

	if (c->skip) {
		d->plan.p[i].skipper = q->b;
		decide(d, i, FDP_SKIP, "node %d cannot test: %s", q->b, c->text);
		return;
	}
	for (int k = 0; k < c->nrails && k < q->srv.nrails; k++) {
		const struct fd_world_rail *r = &c->rails[k];
		double rate = r->rate < q->srv.rails[k].rate ? r->rate : q->srv.rails[k].rate;
		double want = rate * d->cfg->ib_bw_min / 100;
		double pct = want > 0 ? r->gbps / rate * 100 : 100;

		if (r->outcome != FRO_MEASURED) {
			if (failed < 0)
				failed = k;
			continue;
		}
		if (pct < worst) {
			worst = pct;
			wr = k;
			worst_gbps = r->gbps;
			worst_want = want;
		}
	}
	if (wr >= 0 && worst < d->low_pct) {
		d->low_pct = worst;
		d->low_gbps = worst_gbps;
		d->low_want = worst_want;
		snprintf(d->low_where, sizeof(d->low_where), "node %d - node %d, %s/%d - %s/%d",
			 q->a, q->b, q->srv.rails[wr].dev, q->srv.rails[wr].ib_port,
			 c->rails[wr].dev, c->rails[wr].ib_port);
	}
	if (!c->nrails) {
		decide(d, i, FDP_FAILED, "no rail ran: %s", c->text[0] ? c->text : "no result");
		return;
	}
	if (failed >= 0) {
		decide(d, i, FDP_FAILED, "%s", c->text[0] ? c->text : "a rail gave no report");
		return;
	}
	if (worst_gbps < worst_want) {
		decide(d, i, FDP_SLOW, "%s/%d - %s/%d: %.1f Gb/s, below %g %% of %.0f Gb/s",
		       q->srv.rails[wr].dev, q->srv.rails[wr].ib_port, c->rails[wr].dev,
		       c->rails[wr].ib_port, worst_gbps, d->cfg->ib_bw_min,
		       worst_want * 100 / d->cfg->ib_bw_min);
		return;
	}
	decide(d, i, FDP_OK, "%d rail(s), lowest %.1f Gb/s (%.0f %% of its rate)", c->nrails,
	       worst_gbps, worst);
}

/* The finding every node's ib.pairs row shows, and PAIRS_DONE to each with its own unfit. */
static void finish(struct pairs_driver *d)
{
	struct fd_world_msg m = {.kind = FW_PAIRS_DONE, .set = (uint32_t)d->plan.np + 1};
	struct fd_pairs_verdict v;
	size_t k = 0;

	d->finished = 1;
	fd_pairs_verdict(&d->plan, &v);
	if (v.ran == v.skipped) {
		m.status = 3; /* skip */
		fd_strlcpy(m.subject, "job", sizeof(m.subject));
		snprintf(m.text, sizeof(m.text), "no pair could test: %s", d->skip_why);
	} else if (!v.nbad && !v.nlinks) {
		m.status = 0;
		fd_strlcpy(m.subject, "job", sizeof(m.subject));
		snprintf(m.value, sizeof(m.value), "%.1f Gb/s", d->low_gbps);
		snprintf(m.expected, sizeof(m.expected), ">= %g %% of the port rate",
			 d->cfg->ib_bw_min);
		snprintf(m.text, sizeof(m.text),
			 "RDMA write between %d pair(s) of nodes, every rail at >= %g %% of its "
			 "rate; lowest %.1f Gb/s (%s)%s%s",
			 v.ran - v.skipped, d->cfg->ib_bw_min, d->low_gbps, d->low_where,
			 v.skipped ? "; not tested: " : "", v.skipped ? d->skip_why : "");
	} else {
		m.status = 2;
		fd_strlcpy(m.code, v.slow ? "IB_PAIR_LOW" : "IB_PAIR_FAILED", sizeof(m.code));
		for (int i = 0; i < d->plan.n && k + 24 < sizeof(m.subject); i++)
			if (fd_pairs_named(&d->plan, i))
				k += (size_t)snprintf(m.subject + k, sizeof(m.subject) - k,
						      "%snode %d (%.12s)", k ? ", " : "", i,
						      host(d, i));
		if (k >= sizeof(m.subject)) /* cut: the table names every node, each on its row */
			memcpy(m.subject + sizeof(m.subject) - 4, "...", 4);
		if (v.slow) {
			snprintf(m.value, sizeof(m.value), "%.1f Gb/s", d->low_gbps);
			snprintf(m.expected, sizeof(m.expected), ">= %.1f Gb/s", d->low_want);
		} else {
			fd_strlcpy(m.value, "failed", sizeof(m.value));
			fd_strlcpy(m.expected, "a bandwidth report", sizeof(m.expected));
		}
		k = (size_t)snprintf(m.text, sizeof(m.text), "%s; ",
				     v.nbad && !v.nlinks ? "slow with every peer it met"
				     : v.nbad		 ? "slow with every peer, and slow links"
					      : "the link between them is slow (each end is "
						"fast with other nodes, or no third node "
						"could tell them apart)");
		for (int i = 0; i < d->plan.np && k + 8 < sizeof(m.text); i++) {
			const struct fd_pair *p = &d->plan.p[i];

			if (p->verdict == FDP_SLOW || p->verdict == FDP_FAILED)
				k += (size_t)snprintf(m.text + k, sizeof(m.text) - k, "%s%s",
						      k > 60 ? "; " : "", d->pp[i].line);
		}
		if (k >= sizeof(m.text))
			k = sizeof(m.text) - 1;
	}
	for (int i = 0; i < d->plan.n; i++) {
		m.unfit = m.status == 2 && fd_pairs_named(&d->plan, i);
		grp_world_send(d->g, i, &m);
	}
}

static void round_start(struct pairs_driver *d)
{
	int64_t now = fd_mono_ns();
	int k = fd_pairs_next(&d->plan);

	if (k <= 0) {
		finish(d);
		return;
	}
	if (d->plan.cap > d->cap) {
		struct pd_pair *pp = realloc(d->pp, (size_t)d->plan.cap * sizeof(*pp));

		if (!pp) {
			finish(d); /* what ran so far is judged */
			return;
		}
		d->pp = pp;
		d->cap = d->plan.cap;
	}
	d->open = k;
	if (d->plan.round > 0) {
		char list[256];
		size_t n = 0;

		list[0] = '\0';
		for (int i = d->plan.first; i < d->plan.np && n + 24 < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d-%d", n ? " " : "",
					      d->plan.p[i].a, d->plan.p[i].b);
		say("round %d: testing %s against nodes proven good", d->plan.round + 1, list);
	}
	for (int i = d->plan.first; i < d->plan.np; i++) {
		const struct fd_pair *p = &d->plan.p[i];
		struct fd_world_msg m = {
		    .kind = FW_PAIR, .set = (uint32_t)i + 1, .role = FWR_SERVER, .peer = p->b};

		d->pp[i] = (struct pd_pair){
		    .a = p->a, .b = p->b, .deadline = fd_deadline_ns(now, READY_WAIT_MS)};
		order(d, p->a, &m);
	}
}

/* READY: the client is told where to connect, through the address node 0 reaches it by. */
static void on_ready(struct pairs_driver *d, int i, const struct fd_world_msg *m)
{
	struct pd_pair *q = &d->pp[i];
	struct fd_world_msg c = {
	    .kind = FW_PAIR, .set = m->set, .role = FWR_CLIENT, .peer = q->a, .nrails = m->nrails};
	int r;

	q->srv = *m;
	r = grp_reach(d->g, q->a, q->b, c.addr, sizeof(c.addr));
	if (r == -EAFNOSUPPORT) {
		decide(d, i, FDP_SKIP,
		       "node %d is reached over IPv6 (%s), and perftest's exchange is IPv4 only",
		       q->a, c.addr);
		return;
	}
	if (r) {
		decide(d, i, FDP_FAILED, "no address for node %d: %s", q->a, strerror(-r));
		return;
	}
	memcpy(c.rails, m->rails, sizeof(c.rails));
	q->stage = 1;
	q->deadline = fd_deadline_ns(fd_mono_ns(), d->per_rail_ms * (m->nrails ? m->nrails : 1) +
						       RESULT_SLACK_MS);
	order(d, q->b, &c);
}

void pairs_driver_on(struct pairs_driver *d, int from, const struct fd_world_msg *m)
{
	int i = (int)m->set - 1;
	struct pd_pair *q;

	if (!d || d->finished || i < d->plan.first || i >= d->plan.np)
		return; /* an earlier round's, or nothing of ours */
	q = &d->pp[i];
	if (q->stage == 2)
		return;
	if (m->kind == FW_READY && from == q->a && q->stage == 0) {
		on_ready(d, i, m);
		return;
	}
	if (m->kind != FW_PAIR_RESULT)
		return;
	if (from == q->a && (m->skip || q->stage == 0)) {
		/* the server could not test, or could not start its servers */
		if (m->skip) {
			d->plan.p[i].skipper = q->a;
			decide(d, i, FDP_SKIP, "node %d cannot test: %s", q->a, m->text);
		} else
			decide(d, i, FDP_FAILED, "node %d's servers: %s", q->a,
			       m->text[0] ? m->text : "they did not start");
		return;
	}
	if (from == q->b)
		judge(d, i, m);
}

static int64_t driver_next(void *arg, int64_t now)
{
	struct pairs_driver *d = arg;
	int64_t t = INT64_MAX;

	(void)now;
	for (int i = d->plan.first; !d->finished && i < d->plan.np; i++)
		if (d->pp[i].stage != 2 && d->pp[i].deadline < t)
			t = d->pp[i].deadline;
	return t;
}

static void driver_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct pairs_driver *d = arg;
	int first = d->plan.first, np = d->plan.np;

	(void)l;
	for (int i = first; !d->finished && i < np && d->plan.first == first; i++) {
		struct pd_pair *q = &d->pp[i];

		if (q->stage == 2 || now < q->deadline)
			continue;
		if (q->stage == 0)
			decide(d, i, FDP_FAILED, "node %d's servers gave no ports within %d s",
			       q->a, READY_WAIT_MS / 1000);
		else
			decide(d, i, FDP_FAILED, "node %d gave no result by the deadline", q->b);
	}
}

int pairs_driver_new(struct pairs_driver **out, struct fd_loop *loop, struct fd_group *g,
		     const struct fd_config *cfg)
{
	struct pairs_driver *d = calloc(1, sizeof(*d));
	int r;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	*d = (struct pairs_driver){.loop = loop, .g = g, .cfg = cfg, .low_pct = 1e18};
	/* never shorter than the test itself and a few seconds to set up the HCA (ib.bw's) */
	d->per_rail_ms = cfg->ib_bw_timeout_ms > cfg->ib_bw_duration_ms + 5000
			     ? cfg->ib_bw_timeout_ms
			     : cfg->ib_bw_duration_ms + 5000;
	r = fd_pairs_init(&d->plan, g->size);
	if (!r)
		r = fd_loop_timer(loop, driver_next, driver_timer, d);
	if (r) {
		fd_pairs_free(&d->plan);
		free(d);
		return r;
	}
	*out = d;
	round_start(d);
	return 0;
}

void pairs_driver_free(struct pairs_driver *d)
{
	if (!d)
		return;
	fd_loop_untimer(d->loop, d);
	fd_pairs_free(&d->plan);
	free(d->pp);
	free(d);
}
