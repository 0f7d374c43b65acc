/*
 * world_cli.c - the allreduce across nodes in `flightdeck check --job`: the runner on every
 * node and the driver on node 0 (see world_cli.h). Nothing here blocks the loop: gpubench is
 * a child whose output is read as it comes, and every wait has a deadline.
 */
#define _GNU_SOURCE
#include "world_cli.h"
#include "bw.h"
#include "check.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_MAX	     (1 << 20) /* gpubench's document is a few KiB: more is a runaway */
#define REAP_POLL_MS 20	       /* after its stdout closed, until it has exited */
/*
 * Node 0 waits this much past gpubench's own deadline for a set's results: a node's runner
 * kills its gpubench at the deadline and reports at once, so only a node whose flightdeck
 * itself is stuck comes later (and the group's --peer-timeout catches a dead one).
 */
#define ROUND_SLACK_MS 3000

/* ---- the runner -------------------------------------------------------------------------- */

struct world_runner {
	struct fd_loop *loop;
	struct fd_group *g;
	const struct fd_config *cfg;
	int active;		   /* a gpubench runs, or is being reaped */
	struct fd_world_msg start; /* what it runs for */
	struct fd_spawn sp;
	int out_open, eof, id_sent;
	char *out;
	size_t len, cap;
	int64_t deadline, next_poll;
};

static void report(struct world_runner *r, int outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct world_runner *r, int outcome, const char *fmt, ...)
{
	struct fd_world_msg m = {.kind = FW_RESULT,
				 .set = r->start.set,
				 .rank = r->start.rank,
				 .size = r->start.size,
				 .outcome = outcome};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	grp_world_send(r->g, 0, &m);
}

static void close_out(struct world_runner *r)
{
	if (!r->out_open)
		return;
	fd_loop_del(r->loop, r->sp.out_fd);
	close(r->sp.out_fd);
	r->out_open = 0;
}

/* Kills gpubench and everything it started, and reaps it. */
static void take_back(struct world_runner *r)
{
	close_out(r);
	fd_spawn_kill(&r->sp);
	while (waitpid(r->sp.pid, NULL, 0) < 0 && errno == EINTR)
		;
	r->active = 0;
}

/* The line of the output that starts with prefix, or NULL. */
static const char *line_of(const char *out, const char *prefix)
{
	size_t k = strlen(prefix);

	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, k))
			return p;
	return NULL;
}

/* gpubench exited with status: what it gave, to node 0. */
static void finish(struct world_runner *r, int status)
{
	const char *no_gpu = line_of(r->out, "no-gpu"), *doc = line_of(r->out, "{");
	char text[FD_WORLD_TEXT] = "";
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	close_out(r);
	r->active = 0;
	if (no_gpu && code == 3) {
		fd_strlcpy(text, no_gpu + 6 + (no_gpu[6] == ' '), sizeof(text));
		text[strcspn(text, "\n")] = '\0';
		report(r, FWO_NO_GPU, "no GPU: %s", *text ? text : "no CUDA device");
		return;
	}
	if (code == 4) {
		report(r, FWO_TIMEOUT,
		       "gave up at its own deadline, waiting for its peers (exit status 4)");
		return;
	}
	if (code != 0) {
		if (WIFSIGNALED(status))
			report(r, FWO_FAILED, "gpubench died of signal %d%s", WTERMSIG(status),
			       r->start.rank == 0 && !r->id_sent ? " before printing the id" : "");
		else
			report(r, FWO_FAILED, "gpubench exited with status %d%s", code,
			       r->start.rank == 0 && !r->id_sent ? " before printing the id" : "");
		return;
	}
	struct bw_facts *f = calloc(1, sizeof(*f));
	struct fd_world_msg m = {.kind = FW_RESULT,
				 .set = r->start.set,
				 .rank = r->start.rank,
				 .size = r->start.size,
				 .outcome = FWO_FAILED};
	const struct bw_result *best;
	int ok;

	if (!f) {
		report(r, FWO_FAILED, "out of memory parsing gpubench's document");
		return;
	}
	if (!doc || bw_parse(doc, f)) {
		snprintf(m.text, sizeof(m.text), "%s", doc ? f->why : "printed no document");
	} else if (!f->nccl.world || !f->nccl.ran) {
		snprintf(m.text, sizeof(m.text), "printed no world document%s%s",
			 f->nccl.reason[0] ? ": " : "", f->nccl.reason);
	} else if (!(best = bw_largest(&f->nccl, &ok))) {
		snprintf(m.text, sizeof(m.text), "its world document has no results");
	} else {
		m.outcome = FWO_RAN;
		m.ok = ok;
		m.nranks = f->nccl.nranks ? f->nccl.nranks : f->nccl.ngpus;
		m.nodes = f->nccl.nodes;
		m.bytes = best->bytes;
		m.busbw = best->busbw;
		m.algbw = best->algbw;
	}
	free(f);
	grp_world_send(r->g, 0, &m);
}

static void try_reap(struct world_runner *r)
{
	int status;
	pid_t w = waitpid(r->sp.pid, &status, WNOHANG);

	if (w == r->sp.pid)
		finish(r, status);
	else
		r->next_poll = fd_mono_ns() + (int64_t)REAP_POLL_MS * 1000000;
}

/* Rank 0's first line: the id, relayed at once (its peers start only when they have it). */
static void first_line(struct world_runner *r)
{
	char *nl = memchr(r->out, '\n', r->len);
	const char *hex;
	size_t k;

	if (!nl || r->start.rank != 0 || r->id_sent)
		return;
	if (!strncmp(r->out, "no-gpu", 6)) {
		r->id_sent = 1; /* nothing to relay: the exit says it */
		return;
	}
	hex = r->out + 8;
	k = (size_t)(nl - hex);
	if (strncmp(r->out, "nccl-id ", 8) || !k || k >= FD_WORLD_ID_MAX ||
	    strspn(hex, "0123456789abcdef") != k) {
		*nl = '\0';
		take_back(r);
		report(r, FWO_NO_ID, "rank 0 printed '%.60s' instead of 'nccl-id HEX'", r->out);
		return;
	}
	struct fd_world_msg m = {.kind = FW_ID, .set = r->start.set, .size = r->start.size};

	memcpy(m.id, hex, k);
	r->id_sent = 1;
	grp_world_send(r->g, 0, &m);
}

static void on_out(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct world_runner *r = arg;
	ssize_t n;

	if (r->cap - r->len < 4096) {
		size_t cap = r->cap ? r->cap * 2 : 16384;
		char *p = cap > OUT_MAX ? NULL : realloc(r->out, cap);

		if (!p) {
			take_back(r);
			report(r, FWO_FAILED, "gpubench wrote more than %d bytes", OUT_MAX);
			return;
		}
		r->out = p;
		r->cap = cap;
	}
	n = read(fd, r->out + r->len, r->cap - r->len - 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) { /* EOF (or a read error): it is exiting */
		close_out(r);
		r->eof = 1;
		try_reap(r);
		return;
	}
	r->len += (size_t)n;
	r->out[r->len] = '\0';
	first_line(r);
}

static int64_t runner_next(void *arg, int64_t now)
{
	struct world_runner *r = arg;

	if (!r->active)
		return INT64_MAX;
	return r->eof && r->next_poll < r->deadline ? r->next_poll : r->deadline;
}

static void runner_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct world_runner *r = arg;

	if (r->active && r->eof)
		try_reap(r);
	if (!r->active || now < r->deadline)
		return;
	take_back(r);
	if (r->start.rank == 0 && !r->id_sent)
		report(r, FWO_NO_ID, "rank 0 printed no NCCL id within %u ms: killed",
		       r->start.timeout_ms);
	else
		report(r, FWO_HUNG, "gpubench did not finish within %u ms: killed",
		       r->start.timeout_ms);
}

static void run_start(struct world_runner *r, const struct fd_world_msg *m)
{
	char path[PATH_MAX], tmo[32], world[32], err[256];
	char *argv[12];
	int k = 0, eno = 0;

	if (r->active)
		take_back(r); /* an older set's: node 0 has moved on */
	r->start = *m;
	r->len = 0;
	r->eof = r->id_sent = 0;
	bw_gpubench_path(r->cfg, path, sizeof(path));
	if (access(path, X_OK)) {
		report(r, FWO_NO_GPU, "%s: %s (built only with the CUDA toolkit)", path,
		       strerror(errno));
		return;
	}
	/* gpubench gives up a little before the deadline it is killed at (as in bw_probe) */
	snprintf(tmo, sizeof(tmo), "%u", m->timeout_ms >= 10 ? m->timeout_ms / 10 * 9 : 1);
	snprintf(world, sizeof(world), "%d/%d", m->rank, m->size);
	argv[k++] = path;
	argv[k++] = "--json";
	argv[k++] = "--timeout-ms";
	argv[k++] = tmo;
	argv[k++] = m->full ? "--full" : "--quick";
	argv[k++] = "--world";
	argv[k++] = world;
	if (m->rank > 0) {
		argv[k++] = "--nccl-id";
		argv[k++] = r->start.id;
	}
	argv[k] = NULL;
	/* in check's process group, as bw_probe's: a kill of the group takes it too */
	r->sp =
	    (struct fd_spawn){.argv = argv, .capture_stdout = 1, .same_group = 1, .exec_path = 1};
	if (fd_spawn_start(&r->sp, &eno, err, sizeof(err))) {
		report(r, FWO_FAILED, "%s", err);
		return;
	}
	fcntl(r->sp.out_fd, F_SETFL, fcntl(r->sp.out_fd, F_GETFL) | O_NONBLOCK);
	r->active = 1;
	r->deadline = fd_deadline_ns(fd_mono_ns(), m->timeout_ms);
	if (fd_loop_add(r->loop, r->sp.out_fd, EPOLLIN, on_out, r)) {
		close(r->sp.out_fd); /* not in the loop: take_back must not remove it */
		take_back(r);
		report(r, FWO_FAILED, "cannot watch gpubench's output");
		return;
	}
	r->out_open = 1;
}

void world_runner_on(struct world_runner *r, const struct fd_world_msg *m)
{
	if (m->kind == FW_START)
		run_start(r, m);
	else if (m->kind == FW_ABORT && r->active && r->start.set == m->set)
		take_back(r); /* node 0 has decided the set: no result is wanted */
}

int world_runner_new(struct world_runner **out, struct fd_loop *loop, struct fd_group *g,
		     const struct fd_config *cfg)
{
	struct world_runner *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->g = g;
	r->cfg = cfg;
	rc = fd_loop_timer(loop, runner_next, runner_timer, r);
	if (rc) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void world_runner_free(struct world_runner *r)
{
	if (!r)
		return;
	if (r->active)
		take_back(r);
	fd_loop_untimer(r->loop, r);
	free(r->out);
	free(r);
}

/* ---- the driver (node 0) ----------------------------------------------------------------- */

struct dset {
	uint32_t id;
	int *nodes, n;
	struct fd_world_msg *res; /* [n], by the node's rank in the set */
	unsigned char *got;
	int ngot, relayed, decided;
};

struct world_driver {
	struct fd_loop *loop;
	struct fd_group *g;
	const struct fd_config *cfg;
	int full, nnodes;
	struct fd_bisect b;
	struct dset sets[FD_BISECT_SETS];
	int nsets;
	uint32_t next_id;
	int64_t round_deadline;
	double *low; /* per node: the lowest busbw of a slow set it was in (the finding's) */
	struct bw_world_facts facts;
	int over;
};

static void set_clear(struct dset *s)
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

static void list_nodes(const struct dset *s, char *out, size_t len)
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
		struct dset *s = &d->sets[i];
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

/* A node-level problem: the set is decided without waiting for the rest. */
static int node_problem(int outcome)
{
	return outcome == FWO_NO_GPU || outcome == FWO_HUNG || outcome == FWO_NO_ID ||
	       outcome == FWO_FAILED;
}

/* Every node of the set that has not reported is told to stop its gpubench. */
static void decide_set(struct world_driver *d, struct dset *s)
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
	int skip_node = -1, skip_set = 0, st;

	/* a node that hangs, gives no id or fails is named at once; one without a GPU: skip */
	for (int i = 0; i < d->nsets; i++) {
		const struct dset *s = &d->sets[i];

		for (int k = 0; k < s->n; k++) {
			const struct fd_world_msg *r = &s->res[k];

			if (!s->got[k] || !node_problem(r->outcome))
				continue;
			if (r->outcome == FWO_NO_GPU) {
				if (skip_node < 0) {
					skip_node = s->nodes[k];
					skip_set = i;
				}
				continue;
			}
			f->state = BWW_NODE_FAILED;
			f->culprit[0] = s->nodes[k];
			snprintf(f->why, sizeof(f->why), "node %d (%.60s), rank %d of %d: %s",
				 s->nodes[k], grp_host(d->g, s->nodes[k]), k, s->n, r->text);
			finish_phase(d);
			return;
		}
	}
	if (skip_node >= 0) {
		const struct dset *s = &d->sets[skip_set];
		int k = 0;

		while (s->nodes[k] != skip_node)
			k++;
		f->state = BWW_SKIP;
		snprintf(f->why, sizeof(f->why), "node %d (%.60s): %s", skip_node,
			 grp_host(d->g, skip_node), s->res[k].text);
		finish_phase(d);
		return;
	}
	for (int i = 0; i < d->nsets; i++) {
		const struct dset *s = &d->sets[i];
		double lo = -1, algbw = 0, bytes = 0;
		int ok = 1, all_ran = 1, nranks = 0, nodes = 0;
		char list[256];

		for (int k = 0; k < s->n; k++) {
			const struct fd_world_msg *r = &s->res[k];
			double b = s->got[k] && r->outcome == FWO_RAN ? r->busbw : 0;

			if (!s->got[k] || r->outcome != FWO_RAN)
				all_ran = 0;
			else if (!r->ok)
				ok = 0;
			if (lo < 0 || b < lo) {
				lo = b;
				algbw = s->got[k] ? r->algbw : 0;
			}
			if (s->got[k] && r->outcome == FWO_RAN) {
				bytes = r->bytes;
				nranks = r->nranks > nranks ? r->nranks : nranks;
				nodes = r->nodes > nodes ? r->nodes : nodes;
			}
		}
		res[i].busbw = lo;
		res[i].pass = all_ran && bw_world_passes(d->cfg, lo, ok);
		for (int k = 0; !res[i].pass && k < s->n; k++)
			if (d->low[s->nodes[k]] < 0 || lo < d->low[s->nodes[k]])
				d->low[s->nodes[k]] = lo;
		list_nodes(s, list, sizeof(list));
		say(d, "nodes %s: busbw %.1f GB/s%s: %s", list, lo,
		    all_ran ? (ok ? "" : ", wrong sums") : ", not every node ran",
		    res[i].pass ? "pass" : "below");
		if (d->b.round == 0) {
			f->busbw = lo;
			f->algbw = algbw;
			f->bytes = bytes;
			f->ok = ok;
			f->nranks = nranks;
			f->nodes = nodes;
		}
	}
	st = fd_bisect_next(&d->b, res);
	if (st == FB_MORE) {
		start_round(d);
		return;
	}
	f->state = BWW_RAN;
	f->also_slow = d->b.also_slow;
	f->outcome = st == FB_PASS	? BWW_PASS
		     : st == FB_CULPRIT ? BWW_CULPRIT
		     : st == FB_PAIR	? BWW_PAIR
		     : st == FB_NONE	? BWW_NONE
					: BWW_ROUNDS;
	if (st == FB_CULPRIT || st == FB_PAIR) {
		f->culprit[0] = d->b.culprit[0];
		f->culprit[1] = st == FB_PAIR ? d->b.culprit[1] : -1;
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
	struct dset *s = NULL;
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
	if (s->ngot == s->n || node_problem(m->outcome) || (k == 0 && !s->relayed))
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
		struct dset *s = &d->sets[i];

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
