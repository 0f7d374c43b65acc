/*
 * allreduce_runner.c - the runner of the allreduce across nodes, on every node (see
 * allreduce.h). Nothing here blocks the loop: gpubench is a child whose output is read as it
 * comes, and every wait has a deadline.
 */
#define _GNU_SOURCE
#include "allreduce.h"
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
