/*
 * group.c - the group decision, the exit status it yields, what every transport shares (its
 * opening, the deciding node's policy applied to a decision, events), and the size-1 local
 * transport, which decides through the same grp_decide as the star's coordinator.
 */
#define _GNU_SOURCE
#include "group.h"
#include "hostlist.h"
#include "loop.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

void fd_node_rec_clear(struct fd_node_rec *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < FD_GROUP_CKPTS; i++)
		r->ckpts[i] = "";
	r->detail = r->culprit = r->drain = "";
}

void fd_node_rec_view(struct fd_node_rec *r, const struct fd_node_state *s)
{
	memcpy(r, s, offsetof(struct fd_node_rec, ckpts)); /* the facts: one layout in both */
	for (int i = 0; i < FD_GROUP_CKPTS; i++)
		r->ckpts[i] = s->ckpts[i];
	r->detail = s->detail;
	r->culprit = s->culprit;
	r->drain = s->drain;
}

_Static_assert(offsetof(struct fd_node_rec, ckpts) == offsetof(struct fd_node_state, ckpts),
	       "the facts differ in layout");

int fd_node_rec_keep(struct fd_node_rec *r, char **block, const struct fd_node_state *s)
{
	int nk = s->nckpts < 0 ? 0 : s->nckpts > FD_GROUP_CKPTS ? FD_GROUP_CKPTS : s->nckpts;
	size_t len[FD_GROUP_CKPTS + 3], need = 0, off = 0;
	const char *from[FD_GROUP_CKPTS + 3];
	const char **to[FD_GROUP_CKPTS + 3];
	char *b;

	for (int i = 0; i < nk; i++)
		from[i] = s->ckpts[i], to[i] = &r->ckpts[i];
	from[nk] = s->detail, to[nk] = &r->detail;
	from[nk + 1] = s->culprit, to[nk + 1] = &r->culprit;
	from[nk + 2] = s->drain, to[nk + 2] = &r->drain;
	for (int i = 0; i < nk + 3; i++)
		need += (len[i] = strlen(from[i])) + 1;
	b = malloc(need);
	if (!b)
		return -ENOMEM;
	fd_node_rec_view(r, s);
	for (int i = 0; i < nk + 3; i++) {
		memcpy(b + off, from[i], len[i] + 1);
		*to[i] = b + off;
		off += len[i] + 1;
	}
	for (int i = nk; i < FD_GROUP_CKPTS; i++)
		r->ckpts[i] = ""; /* nothing points into s */
	free(*block);
	*block = b;
	return 0;
}

int fd_node_has_ckpt(const struct fd_node_rec *n, const char *name)
{
	for (int i = 0; i < n->nckpts && i < FD_GROUP_CKPTS; i++)
		if (!strcmp(n->ckpts[i], name))
			return 1;
	return 0;
}

static int is_skipped(const struct fd_group_history *h, const char *name)
{
	for (int i = 0; h && i < h->nskipped; i++)
		if (!strcmp(h->skipped[i], name))
			return 1;
	return 0;
}

/*
 * The newest checkpoint complete on every node that has a --checkpoint-dir, in the first such
 * node's order (newest first): a step one of them lacks, or holds torn, is skipped, and so is
 * one the history fell back from (h may be NULL). A node without a directory (trainers often
 * save from rank 0 only) has no say: its empty list would veto every checkpoint and restart
 * the job from scratch, over its own checkpoints. "" when none is common, or no node has a
 * directory.
 */
static const char *common_ckpt(const struct fd_node_rec *nodes, int n,
			       const struct fd_group_history *h)
{
	const struct fd_node_rec *first = NULL;

	for (int k = 0; k < n && !first; k++)
		if (!nodes[k].no_ckpt_dir)
			first = &nodes[k];
	for (int i = 0; first && i < first->nckpts && i < FD_GROUP_CKPTS; i++) {
		int k = 0;

		if (is_skipped(h, first->ckpts[i]))
			continue;
		while (k < n &&
		       (nodes[k].no_ckpt_dir || fd_node_has_ckpt(&nodes[k], first->ckpts[i])))
			k++;
		if (k == n)
			return first->ckpts[i];
	}
	return "";
}

/* A run of decimal digits, at most 18 (so it fits): its value, else -1. */
static int64_t digits_at(const char *p)
{
	int64_t v = 0;
	int k = 0;

	for (; isdigit((unsigned char)p[k]); k++) {
		if (k == 18)
			return -1;
		v = v * 10 + (p[k] - '0');
	}
	return k ? v : -1;
}

int64_t fd_ckpt_name_step(const char *name)
{
	const char *p, *after = NULL, *only = NULL;
	int runs = 0;

	for (p = name; (p = strcasestr(p, "step")); p += 4)
		after = p + 4;
	if (after) {
		after += strspn(after, "-_=");
		if (isdigit((unsigned char)*after))
			return digits_at(after);
	}
	for (p = name; *p; p++)
		if (isdigit((unsigned char)*p) && (p == name || !isdigit((unsigned char)p[-1]))) {
			runs++;
			only = p;
		}
	return runs == 1 ? digits_at(only) : -1;
}

/* How a fallback's why says what the checkpoint did, by the failure decided on. */
static const char *const fallback_verbs[] = {" crashed the job ", " failed the job at start-up "};
static const char fallback_tail[] = " before any progress: falling back";

int fd_decision_fallback(const struct fd_decision *d, char *name, size_t len)
{
	size_t n = strnlen(d->why, sizeof(d->why)), tl = sizeof(fallback_tail) - 1;
	const char *at = NULL;

	if (d->verdict != FD_RESTART || n < tl || strcmp(d->why + n - tl, fallback_tail))
		return 0;
	for (size_t v = 0; v < sizeof(fallback_verbs) / sizeof(*fallback_verbs); v++)
		for (const char *p = d->why; (p = strstr(p, fallback_verbs[v])); p++)
			if (!at || p > at)
				at = p;
	if (!at || at == d->why)
		return 0;
	snprintf(name, len, "%.*s", (int)(at - d->why), d->why);
	return 1;
}

/* The skipped checkpoints whose step an attempt got past: the trainer may have saved them anew. */
static void unskip_passed(struct fd_group_history *h, int64_t max_step)
{
	int k = 0;

	for (int i = 0; i < h->nskipped; i++) {
		int64_t step = fd_ckpt_name_step(h->skipped[i]);

		if (step >= 0 && max_step > step)
			continue;
		if (k != i)
			memcpy(h->skipped[k], h->skipped[i], sizeof(h->skipped[k]));
		k++;
	}
	h->nskipped = k;
}

static void skip_ckpt(struct fd_group_history *h, const char *name)
{
	if (h->nskipped == FD_GROUP_CKPTS) { /* full: the oldest skip goes */
		memmove(h->skipped[0], h->skipped[1], sizeof(h->skipped[0]) * (FD_GROUP_CKPTS - 1));
		h->nskipped--;
	}
	fd_strlcpy(h->skipped[h->nskipped++], name, sizeof(h->skipped[0]));
}

/*
 * Did the attempt that resumed from `from` get past it? A rank beat past its step (from the
 * name; without one, any beat counts: the start is -1), or a newer checkpoint was saved.
 */
static int got_past(const char *from, int64_t max_step, const char *newest)
{
	int64_t step = *from ? fd_ckpt_name_step(from) : -1;

	return max_step > step || strcmp(newest, from);
}

/* A stop after fallbacks names them: the checkpoints that may be corrupt. */
static void say_skipped(const struct fd_group_history *h, struct fd_decision *d)
{
	size_t k;

	if (!h->nskipped)
		return;
	k = (size_t)snprintf(d->why, sizeof(d->why),
			     "fell back from %d checkpoint(s), each failed %d attempts in a row "
			     "before any progress:",
			     h->nskipped, FD_GROUP_FALLBACK);
	for (int i = 0; i < h->nskipped && k < sizeof(d->why); i++)
		k += (size_t)snprintf(d->why + k, sizeof(d->why) - k, "%s %s", i ? "," : "",
				      h->skipped[i]);
}

/*
 * The restart verdict for a failure a restart may cure (a crash, a stall). The attempt resumed
 * from h->resume: when it is the FD_GROUP_FALLBACK-th in a row to crash (or never beat) before
 * getting past that checkpoint, and that checkpoint would be chosen again, it is skipped and the
 * restart resumes from the next older one complete on every node (or the start). Such an
 * attempt counts toward --no-progress-limit like a restart that got no further, so a job that
 * gets past none of them still ends.
 */
static void decide_restart(const struct fd_node_rec *nodes, int n, int failure, int64_t max_step,
			   const struct fd_policy *pol, struct fd_group_history *h,
			   struct fd_decision *d)
{
	const char *ckpt;
	int strike = 0, fallback = 0;

	unskip_passed(h, max_step);
	ckpt = common_ckpt(nodes, n, h);
	if ((failure == FD_FAIL_CRASH || failure == FD_FAIL_STARTUP) &&
	    !got_past(h->resume, max_step, ckpt)) {
		strike = 1;
		if (h->strikes && !strcmp(h->struck, h->resume))
			h->strikes++;
		else {
			fd_strlcpy(h->struck, h->resume, sizeof(h->struck));
			h->strikes = 1;
		}
	} else {
		h->strikes = 0;
	}
	if (strike && h->strikes >= FD_GROUP_FALLBACK && *h->resume) {
		fallback = 1;
		skip_ckpt(h, h->resume);
		h->strikes = 0;
		ckpt = common_ckpt(nodes, n, h);
	}
	if (h->have_last &&
	    (strike || (!strcmp(ckpt, h->last_resume) && max_step <= h->last_max_step)))
		h->no_progress++;
	else
		h->no_progress = 0;
	d->no_progress = h->no_progress;
	d->last_max_step = h->have_last ? h->last_max_step : -1;
	d->restarts = h->restarts;
	/* Where the restart resumes from, or where the restarts given up on resumed from. */
	fd_strlcpy(d->checkpoint, ckpt, sizeof(d->checkpoint));
	if (h->restarts >= pol->max_restarts) {
		d->verdict = FD_STOP;
		d->stop_why = FD_STOP_BUDGET;
		say_skipped(h, d);
		return;
	}
	if (pol->no_progress_limit > 0 && h->no_progress >= pol->no_progress_limit) {
		d->verdict = FD_STOP;
		d->stop_why = FD_STOP_NO_PROGRESS;
		fd_strlcpy(d->checkpoint, h->resume, sizeof(d->checkpoint));
		say_skipped(h, d);
		return;
	}
	d->verdict = FD_RESTART;
	d->restarts = ++h->restarts;
	h->have_last = 1;
	h->last_max_step = max_step;
	fd_strlcpy(h->last_resume, ckpt, sizeof(h->last_resume));
	if (fallback)
		snprintf(d->why, sizeof(d->why), "%s%s%d times%s", h->resume,
			 fallback_verbs[failure == FD_FAIL_STARTUP], FD_GROUP_FALLBACK,
			 fallback_tail);
	fd_strlcpy(h->resume, ckpt, sizeof(h->resume));
}

void fd_group_decide_recs(const struct fd_node_rec *nodes, int n, const struct fd_policy *pol,
			  struct fd_group_history *h, struct fd_decision *d)
{
	const struct fd_node_rec *worst = NULL, *stop = NULL, *ended = NULL;
	int64_t max_step = -1;

	memset(d, 0, sizeof(*d));
	d->node = -1;
	d->max_restarts = pol->max_restarts;
	d->no_progress_limit = pol->no_progress_limit;
	d->restarts = h->restarts;
	d->no_progress = h->no_progress;
	d->last_max_step = h->have_last ? h->last_max_step : -1;
	/* The first node with the gravest failure: timeouts and unfit nodes end the job. */
	for (int i = 0; i < n; i++) {
		if (nodes[i].max_step > max_step)
			max_step = nodes[i].max_step;
		if (nodes[i].stop_signal && !stop)
			stop = &nodes[i];
		if (nodes[i].ended && !ended)
			ended = &nodes[i];
		if (!nodes[i].failure)
			continue;
		if (!worst || fd_fail_gravity(nodes[i].failure) > fd_fail_gravity(worst->failure))
			worst = &nodes[i];
	}
	if (worst) {
		d->failure = worst->failure;
		d->node = worst->node;
		d->status = worst->status;
	}
	/* A stall: every node's ranks went quiet at once, and the first deadline to expire is
	 * noise. The node whose rank the flight recorders show behind the others is named; else
	 * the node whose own evidence names one of its ranks the culprit. */
	if (worst && worst->failure == FD_FAIL_STALL) {
		int fr = fd_group_fr_culprit(nodes, n, NULL, 0);

		for (int i = 0; fr < 0 && i < n; i++)
			if (nodes[i].culprit_likely)
				fr = i;
		if (fr >= 0)
			d->node = nodes[fr].node;
	}
	if (stop) { /* told to stop: no restart, whatever else happened */
		d->verdict = FD_STOP;
		d->stop_why = FD_STOP_SIGNAL;
		d->stop_signal = stop->stop_signal;
		d->node = stop->node;
		return;
	}
	if (!worst) {
		/* where a first launch resumes from: the same place on every node */
		fd_strlcpy(d->checkpoint, common_ckpt(nodes, n, NULL), sizeof(d->checkpoint));
		if (!h->have_last && !ended) /* a later launch resumes where its restart said */
			fd_strlcpy(h->resume, d->checkpoint, sizeof(h->resume));
		if (ended) {
			d->verdict = FD_STOP;
			d->stop_why = FD_STOP_ENDED;
			d->node = ended->node;
			d->status = ended->status;
		}
		return; /* FD_CONTINUE otherwise */
	}
	if (fd_fail_gravity(worst->failure) >= fd_fail_gravity(FD_FAIL_TIMEOUT)) {
		d->verdict = FD_STOP;
		d->stop_why = FD_STOP_FAILURE;
		return;
	}
	decide_restart(nodes, n, worst->failure, max_step, pol, h, d);
}

int fd_group_decide(const struct fd_node_state *nodes, int n, const struct fd_policy *pol,
		    struct fd_group_history *h, struct fd_decision *d)
{
	struct fd_node_rec *v = calloc(n > 0 ? (size_t)n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		fd_node_rec_view(&v[i], &nodes[i]);
	fd_group_decide_recs(v, n, pol, h, d);
	free(v);
	return 0;
}

int fd_decision_exit_code(const struct fd_decision *d)
{
	if (d->verdict != FD_STOP)
		return -1;
	switch (d->stop_why) {
	case FD_STOP_SIGNAL:
		return 128 + d->stop_signal;
	case FD_STOP_ENDED:
		return d->status;
	case FD_STOP_PEER_LOST:
		return FD_RUN_PEER_LOST;
	case FD_STOP_CONFIG:
		return FD_RUN_USAGE;
	case FD_STOP_FAILURE:
		if (d->failure == FD_FAIL_TIMEOUT)
			return FD_RUN_TIMEOUT;
		if (d->failure == FD_FAIL_LAUNCH)
			return d->status;
		return FD_RUN_PREFLIGHT;
	case FD_STOP_BUDGET:
	case FD_STOP_NO_PROGRESS:
		/* Crashes end as the last crash did, as a shell would; stalls have no status; a
		 * loss the budget cannot cure is a loss. */
		if (d->failure == FD_FAIL_LOST)
			return FD_RUN_PEER_LOST;
		return d->failure == FD_FAIL_CRASH ? d->status : FD_RUN_STALLED;
	}
	return FD_RUN_INTERNAL;
}

const char *fd_fail_name(int failure)
{
	switch (failure) {
	case FD_FAIL_STARTUP:
		return "startup";
	case FD_FAIL_STALL:
		return "stall";
	case FD_FAIL_CRASH:
		return "crash";
	case FD_FAIL_TIMEOUT:
		return "timeout";
	case FD_FAIL_PREFLIGHT:
		return "preflight";
	case FD_FAIL_LAUNCH:
		return "launch";
	case FD_FAIL_LOST:
		return "lost node";
	}
	return "none";
}

/*
 * The wavefronts of one process group across nodes, in one pass: how many nodes reported it,
 * the newest collective any entered (top, on node at), the first node behind it and whether
 * more are.
 */
struct fr_front {
	int pg, reported, at, behind, more;
	const struct fd_fr_wave *top;
};

static void fr_front_of(const struct fd_node_rec *nodes, int n, struct fr_front *f)
{
	f->reported = 0, f->at = f->behind = -1, f->more = 0, f->top = NULL;
	for (int j = 0; j < n; j++)
		for (int h = 0; h < nodes[j].nfr && h < FD_FR_PGS; h++) {
			const struct fd_fr_wave *w = &nodes[j].fr[h];

			if (w->pg != f->pg)
				continue;
			f->reported++;
			if (!f->top || w->hi > f->top->hi)
				f->top = w, f->at = j;
		}
	for (int j = 0; f->reported >= 2 && j < n; j++)
		for (int h = 0; h < nodes[j].nfr && h < FD_FR_PGS; h++) {
			const struct fd_fr_wave *w = &nodes[j].fr[h];

			if (w->pg != f->pg || w->lo >= f->top->hi)
				continue;
			if (f->behind < 0)
				f->behind = j;
			else if (j != f->behind)
				f->more = 1;
		}
}

/*
 * At most this many process groups are compared, in the order the nodes first report them:
 * each costs two passes over every node (at 16,384 nodes each reporting the same group,
 * comparing per node's report instead was quadratic: minutes).
 */
#define FR_GROUPS_MAX 64

int fd_group_fr_culprit(const struct fd_node_rec *nodes, int n, char *line, size_t len)
{
	int seen[FR_GROUPS_MAX], nseen = 0;

	if (line && len)
		*line = '\0';
	for (int i = 0; i < n && nseen < FR_GROUPS_MAX; i++) {
		for (int g = 0; g < nodes[i].nfr && g < FD_FR_PGS && nseen < FR_GROUPS_MAX; g++) {
			struct fr_front f = {.pg = nodes[i].fr[g].pg};
			int k = 0;

			while (k < nseen && seen[k] != f.pg)
				k++;
			if (k < nseen)
				continue; /* compared already */
			seen[nseen++] = f.pg;
			fr_front_of(nodes, n, &f);
			if (f.behind < 0)
				continue;
			for (int h = 0; line && h < nodes[f.behind].nfr && h < FD_FR_PGS; h++) {
				const struct fd_fr_wave *w = &nodes[f.behind].fr[h];

				if (w->pg != f.pg)
					continue;
				snprintf(
				    line, len,
				    "rank %d never entered collective %lld of process group %d (%s; "
				    "its newest: %lld); node %d's ranks wait in it%s",
				    w->lo_rank, (long long)f.top->hi, f.pg, f.top->op,
				    (long long)w->lo, nodes[f.at].node,
				    f.more ? " (more nodes behind)" : "");
			}
			return f.behind;
		}
	}
	return -1;
}

int fd_fail_gravity(int failure)
{
	/* a lost node that a spare replaces restarts the job, as a crash does, and a timeout
	 * or an unfit node still ends it */
	if (failure == FD_FAIL_LOST)
		return 2 * FD_FAIL_CRASH + 1;
	return 2 * failure;
}

int fd_decision_slot(const struct fd_decision *d, int node)
{
	int held = 0;

	if (d->nactive <= 0)
		return node;
	for (int i = 0; i < d->nmoved && i < FD_SPARES_MAX; i++) {
		if (d->moved[i].node == node)
			return d->moved[i].slot;
		if (d->moved[i].slot == node)
			held = 1; /* its own slot went to another node */
	}
	return node < d->nactive && !held ? node : -1;
}

int fd_decision_node(const struct fd_decision *d, int slot)
{
	for (int i = 0; i < d->nmoved && i < FD_SPARES_MAX; i++)
		if (d->moved[i].slot == slot)
			return d->moved[i].node;
	return slot;
}

const char *fd_stop_why_name(int why)
{
	switch (why) {
	case FD_STOP_FAILURE:
		return "failure";
	case FD_STOP_BUDGET:
		return "budget";
	case FD_STOP_NO_PROGRESS:
		return "no_progress";
	case FD_STOP_SIGNAL:
		return "signal";
	case FD_STOP_ENDED:
		return "ended";
	case FD_STOP_PEER_LOST:
		return "peer_lost";
	case FD_STOP_CONFIG:
		return "config";
	}
	return "none";
}

int grp_submit(struct fd_group *g, const struct fd_node_state *mine)
{
	return g->ops->submit(g, mine);
}

void grp_halt(struct fd_group *g, int failure, int stop_signal, const char *what)
{
	if (g->ops && g->ops->halt)
		g->ops->halt(g, failure, stop_signal, what);
}

int grp_world_send(struct fd_group *g, int to, const struct fd_world_msg *m)
{
	if (!g->ops || !g->ops->world)
		return -ENOTSUP;
	return g->ops->world(g, to, m);
}

int grp_reach(struct fd_group *g, int server, int client, char *out, size_t len)
{
	*out = '\0';
	if (!g->ops || !g->ops->reach)
		return -ENOTSUP;
	return g->ops->reach(g, server, client, out, len);
}

const char *grp_host(struct fd_group *g, int node)
{
	return g->ops && g->ops->host ? g->ops->host(g, node) : "?";
}

void grp_close(struct fd_group *g)
{
	if (g->ops)
		g->ops->close(g);
	g->ops = NULL;
	free(g->active);
	g->active = NULL;
	g->nactive = 0;
}

/* ---- what every transport shares ------------------------------------------------------ */

int grp_open(struct fd_group *g, const struct fd_group_ops *ops, int rank, int size,
	     struct fd_loop *loop, const struct fd_policy *pol, const struct fd_group_callbacks *cb,
	     void *ctx)
{
	g->ops = ops;
	g->rank = rank;
	g->size = size;
	g->policy = *pol;
	g->loop = loop;
	g->cb = *cb;
	g->ctx = ctx;
	if (gethostname(g->host, sizeof(g->host) - 1))
		fd_strlcpy(g->host, "?", sizeof(g->host));
	g->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return g->efd < 0 ? -errno : 0;
}

void grp_vevent_as(struct fd_group *g, int say, const char *name, int node, const char *host,
		   const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (g->cb.on_event)
		g->cb.on_event(g->ctx, name, node, host ? host : "", line, say);
}

void grp_vevent(struct fd_group *g, const char *name, int node, const char *host, const char *fmt,
		va_list ap)
{
	grp_vevent_as(g, 1, name, node, host, fmt, ap);
}

void grp_event(struct fd_group *g, const char *name, int node, const char *host, const char *fmt,
	       ...)
{
	va_list ap;

	va_start(ap, fmt);
	grp_vevent(g, name, node, host, fmt, ap);
	va_end(ap);
}

/* The unfit nodes' hosts in Slurm hostlist form, into the policy's exclude file. */
static void grp_write_exclude(struct fd_group *g, char **bad, size_t nbad)
{
	const char *path = g->policy.exclude_file;
	char list[8192];
	FILE *f;

	if (fd_hostlist_compress(bad, nbad, list, sizeof(list)) || !(f = fopen(path, "w"))) {
		grp_event(g, "unfit", -1, "", "cannot write --exclude-file %s: %s", path,
			  strerror(errno));
		return;
	}
	fprintf(f, "%s\n", list);
	if (fclose(f))
		grp_event(g, "unfit", -1, "", "cannot write --exclude-file %s", path);
	else
		grp_event(g, "unfit", -1, "",
			  "wrote %s to %s: sbatch --exclude=%s ... keeps them out", list, path,
			  list);
}

void grp_note_replaced(struct fd_group *g, const char *host)
{
	char *bad[FD_SPARES_MAX];

	if (g->nreplaced == FD_SPARES_MAX)
		return;
	fd_strlcpy(g->replaced[g->nreplaced++], host, sizeof(g->replaced[0]));
	for (int i = 0; i < g->nreplaced; i++)
		bad[i] = g->replaced[i];
	if (g->policy.exclude_file && *g->policy.exclude_file)
		grp_write_exclude(g, bad, (size_t)g->nreplaced);
}

/* The preflight table: one line per finding of every unfit node, and the exclude file. */
static void grp_unfit_table(struct fd_group *g, const struct fd_node_rec *nodes)
{
	char **bad = calloc((size_t)(g->size + g->nreplaced), sizeof(*bad));
	size_t nbad = 0;

	for (int i = 0; bad && i < g->nreplaced; i++)
		bad[nbad++] = g->replaced[i]; /* replaced earlier: out as well */

	for (int i = 0; i < g->size; i++) {
		const struct fd_node_rec *s = &nodes[i];
		const char *host = grp_host(g, i);
		char *line, *save = NULL, copy[FD_DETAIL_MAX];

		if (s->failure != FD_FAIL_PREFLIGHT)
			continue;
		if (bad)
			bad[nbad++] = (char *)host;
		fd_strlcpy(copy, *s->detail ? s->detail : "unfit (no findings sent)", sizeof(copy));
		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			grp_event(g, "unfit", i, host, "node %d (%s): %s", i, host, line);
	}
	if (g->policy.exclude_file && *g->policy.exclude_file && bad && nbad)
		grp_write_exclude(g, bad, nbad);
	free(bad);
}

/*
 * With spares: the training nodes' states, in slot order, then those of the nodes lost since
 * the last decision; a spare's never decide (an unfit spare does not stop the job). 0 or -1.
 */
static int decide_active(struct fd_group *g, const struct fd_node_rec *nodes, struct fd_decision *d)
{
	int n = g->nactive + g->nlost_now, k = 0;
	struct fd_node_rec *v = calloc((size_t)n, sizeof(*v));

	if (!v)
		return -1;
	for (int i = 0; i < g->nactive; i++)
		v[k++] = nodes[g->active[i]];
	for (int i = 0; i < g->nlost_now; i++)
		v[k++] = nodes[g->lost_now[i]];
	fd_group_decide_recs(v, k, &g->policy, &g->history, d);
	free(v);
	d->nactive = g->nactive;
	for (int i = 0; i < g->nactive; i++)
		if (g->active[i] != i && d->nmoved < FD_SPARES_MAX) {
			d->moved[d->nmoved].slot = i;
			d->moved[d->nmoved++].node = g->active[i];
		}
	return 0;
}

void grp_decide(struct fd_group *g, const struct fd_node_rec *nodes, struct fd_decision *d)
{
	if (!g->active || decide_active(g, nodes, d))
		fd_group_decide_recs(nodes, g->size, &g->policy, &g->history, d);
	if (g->size > 1 && d->node >= 0 && d->node < g->size && d->failure == FD_FAIL_STALL &&
	    !nodes[d->node].culprit_likely && !*d->why) {
		char line[FD_WHY_MAX];

		if (fd_group_fr_culprit(nodes, g->size, line, sizeof(line)) == d->node)
			snprintf(d->why, sizeof(d->why), "the culprit: node %d (%s): %s", d->node,
				 grp_host(g, d->node), line);
	}
	if (g->size > 1 && d->node >= 0 && d->node < g->size && nodes[d->node].culprit_likely &&
	    !*d->why) {
		if (nodes[d->node].drain[0]) /* the machine's fault: first, the line may be cut */
			snprintf(d->why, sizeof(d->why), "drain node %d (%s): %s; the culprit: %s",
				 d->node, grp_host(g, d->node), nodes[d->node].drain,
				 nodes[d->node].culprit);
		else
			snprintf(d->why, sizeof(d->why), "the culprit: node %d (%s): %s", d->node,
				 grp_host(g, d->node), nodes[d->node].culprit);
	}
	if (d->verdict == FD_STOP && d->failure == FD_FAIL_PREFLIGHT)
		grp_unfit_table(g, nodes);
	if (d->verdict == FD_CONTINUE && g->policy.master_port)
		d->master_port = g->policy.master_port(); /* native ranks' store, on this node */
}

/* ---- the size-1 local transport ------------------------------------------------------- */

/* The eventfd is readable: hand the decision made at submit time to the supervisor. */
static void local_ready(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct fd_group *g = arg;
	uint64_t v;
	struct fd_decision d;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v) || !g->pending)
		return;
	g->pending = 0;
	d = g->decision; /* the callback may submit again, overwriting g->decision */
	g->cb.on_decision(g->ctx, &d);
}

static int local_submit(struct fd_group *g, const struct fd_node_state *mine)
{
	uint64_t one = 1;
	struct fd_node_rec r;

	if (g->pending)
		return -EBUSY;
	fd_node_rec_view(&r, mine);
	grp_decide(g, &r, &g->decision);
	g->pending = 1;
	if (write(g->efd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
		g->pending = 0;
		return -errno;
	}
	return 0;
}

static void local_close(struct fd_group *g)
{
	if (g->efd < 0)
		return;
	fd_loop_del(g->loop, g->efd);
	close(g->efd);
	g->efd = -1;
}

static const char *local_host(struct fd_group *g, int node)
{
	return node == 0 ? g->host : "?";
}

static const struct fd_group_ops local_ops = {
    .name = "local",
    .submit = local_submit,
    .host = local_host,
    .close = local_close,
};

int fd_group_local(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
		   const struct fd_group_callbacks *cb, void *ctx)
{
	int r;

	memset(g, 0, sizeof(*g));
	r = grp_open(g, &local_ops, 0, 1, loop, pol, cb, ctx);
	if (r)
		return r;
	r = fd_loop_add(loop, g->efd, EPOLLIN, local_ready, g);
	if (r) {
		close(g->efd);
		g->efd = -1;
	}
	return r;
}
