/*
 * bw.c - running flightdeck-gpubench and judging what it measured.
 *
 * CUDA and NCCL never run inside flightdeck: a GPU that hangs a kernel, or an NCCL
 * communicator waiting for a peer, would hang the checker with it. gpubench runs as a child
 * (launcher/core/spawn.c: default signals, PR_SET_PDEATHSIG, exec errors reported) in flightdeck's
 * process group under a deadline, and only its JSON comes back.
 */
#define _GNU_SOURCE
#include "bw.h"
#include "gpu.h"
#include "spawn.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Expectations by model. hbm_min is about 85% of what a Triad-like kernel reaches on a healthy
 * GPU (H100 SXM ~2.9-3.0 TB/s of 3.35 peak; H200 ~4.1 of 4.8; DCGM fails H100 below 1.9).
 * busbw8_min is for 8 GPUs at >= 1 GB messages; Azure's health checks fail 8xA100 below 228
 * and 8xH100 below 460 (with NVLS); ring-only NCCL reaches ~365 on H100, hence 340 here.
 * More specific names first.
 */
static const struct bw_expect expect_table[] = {
    {"H100 PCIe", 1450, 0},	 {"H100 NVL", 2800, 0}, {"H100", 2500, 340},
    {"H200", 3500, 340},	 {"B200", 5500, 600},	{"A100-SXM4-80GB", 1500, 228},
    {"A100-PCIE-80GB", 1400, 0}, {"A100", 1150, 228},	{"L40S", 640, 0},
};

const struct bw_expect *bw_expect_for(const char *name)
{
	for (size_t i = 0; i < FD_ARRAY_SIZE(expect_table); i++)
		if (strstr(name, expect_table[i].match))
			return &expect_table[i];
	return NULL;
}

double bw_busbw(double algbw, int n)
{
	return n > 0 ? algbw * 2.0 * (n - 1) / n : 0;
}

/* ---- the child ------------------------------------------------------------------------- */

/* Kills what is left of gpubench and reaps it: the deadline's and the error paths' end. */
static void take_back(const struct fd_spawn *sp)
{
	int status;

	fd_spawn_kill(sp);
	while (waitpid(sp->pid, &status, 0) < 0 && errno == EINTR)
		;
}

/*
 * SIGTERM or SIGINT while gpubench runs (Slurm kills a HealthCheckProgram with SIGTERM at 60 s,
 * an operator presses ^C): gpubench is in our process group, so a signal sent to check alone
 * would leave it and its children behind. While it runs, the handler only writes the signal's
 * number to a pipe the wait polls (any thread may take the signal: NVML starts threads); the
 * wait then kills gpubench's tree and returns -EINTR. A signal the caller ignores (SIGINT in a
 * shell's background job) stays ignored.
 */
static const int stop_sigs[] = {SIGTERM, SIGINT};
static int stop_pipe[2] = {-1, -1};

struct stop_watch {
	struct sigaction old[FD_ARRAY_SIZE(stop_sigs)];
	int armed[FD_ARRAY_SIZE(stop_sigs)];
};

static void on_stop(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;

	if (write(stop_pipe[1], &c, 1) < 0) /* full: a signal is already waiting to be read */
		c = 0;
	errno = e;
}

static int stop_arm(struct stop_watch *w)
{
	struct sigaction sa = {.sa_handler = on_stop};

	memset(w, 0, sizeof(*w));
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < FD_ARRAY_SIZE(stop_sigs); i++) {
		if (sigaction(stop_sigs[i], NULL, &w->old[i]) || w->old[i].sa_handler == SIG_IGN)
			continue;
		if (!sigaction(stop_sigs[i], &sa, NULL))
			w->armed[i] = 1;
	}
	return 0;
}

static void stop_disarm(struct stop_watch *w)
{
	for (size_t i = 0; i < FD_ARRAY_SIZE(stop_sigs); i++)
		if (w->armed[i])
			sigaction(stop_sigs[i], &w->old[i], NULL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
}

/* The signal that came, or 0. */
static int stop_signal(void)
{
	unsigned char c;

	return read(stop_pipe[0], &c, 1) == 1 ? c : 0;
}

/* Waits for gpubench's output until EOF, the deadline or a stop signal (*sig set). */
static int read_all(const struct fd_spawn *sp, int64_t deadline, char **bufp, size_t *cap,
		    size_t *off, int *sig)
{
	for (;;) {
		int64_t left = (deadline - fd_mono_ns()) / 1000000;
		struct pollfd p[2] = {{sp->out_fd, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(p, 2, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			return -errno;
		if ((*sig = stop_signal()))
			return -EINTR;
		if (n <= 0 || !p[0].revents)
			continue;
		if (*off + 4096 > *cap) {
			if (*cap >= (1 << 24))
				return -EFBIG; /* a runaway writer: not a gpubench */
			char *nb = realloc(*bufp, *cap * 2);
			if (!nb)
				return -ENOMEM;
			*bufp = nb;
			*cap *= 2;
		}
		ssize_t got = read(sp->out_fd, *bufp + *off, *cap - *off - 1);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return -errno; /* a read error is not the end of gpubench's output */
		if (got == 0)
			return 0; /* EOF: the child closed stdout (it is exiting) */
		*off += (size_t)got;
	}
}

/* After EOF: the exit itself must come within the deadline too, and a stop signal ends it. */
static int reap(const struct fd_spawn *sp, int64_t deadline, int *status, int *sig)
{
	for (;;) {
		pid_t w = waitpid(sp->pid, status, WNOHANG);
		if (w == sp->pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (fd_mono_ns() > deadline)
			return -ETIMEDOUT;
		struct pollfd p = {stop_pipe[0], POLLIN, 0};
		poll(&p, 1, 10);
		if ((*sig = stop_signal()))
			return -EINTR;
	}
}

/* How run_child treats the child: bw_run_tool's flags. */
struct run_how {
	int merged; /* stdout and stderr through one pipe */
	int keep;   /* the output is kept whatever the exit status, given in status */
	int status; /* with keep: as waitpid gives it */
	size_t off; /* with keep: bytes of output */
};

static int run_child(char *const argv[], long timeout_ms, char **out, char *why, size_t len,
		     int *sig, struct run_how *how)
{
	/*
	 * gpubench stays in our process group: the supervisor runs `flightdeck check` in a
	 * group of its own and kills that group, and gpubench must die with it (its
	 * PR_SET_PDEATHSIG covers a check killed alone). Its own deadline, and a SIGTERM or
	 * SIGINT to check, kill it and what it started through fd_spawn_kill. exec_path: the
	 * path bw_probe checked is what runs.
	 */
	struct fd_spawn sp = {.argv = argv, .same_group = 1, .exec_path = 1};
	int status, rc = 0, eno, eof = 0;
	size_t cap = 16384, off = 0;
	char *buf = malloc(cap), err[256];
	int64_t deadline = fd_deadline_ns(fd_mono_ns(), timeout_ms);

	*sig = 0;
	if (!buf)
		return -ENOMEM;
	if (how && how->merged)
		sp.capture = sp.capture_merged = 1;
	else
		sp.capture_stdout = 1;
	rc = fd_spawn_start(&sp, &eno, err, sizeof(err));
	if (rc) {
		free(buf);
		if (eno) { /* as a child that exits 127 was always told */
			snprintf(why, len, "%s could not be executed", argv[0]);
			return -ECHILD;
		}
		snprintf(why, len, "%s", err);
		return rc;
	}
	rc = read_all(&sp, deadline, &buf, &cap, &off, sig);
	close(sp.out_fd);
	if (!rc) {
		eof = 1;
		rc = reap(&sp, deadline, &status, sig);
	}
	if (rc) {
		take_back(&sp);
		free(buf);
		if (rc == -EINTR)
			snprintf(why, len, "%s received: %s and its children killed",
				 *sig == SIGINT ? "SIGINT" : "SIGTERM", argv[0]);
		else if (rc == -ETIMEDOUT && eof)
			snprintf(why, len, "%s closed its output but did not exit within %ld ms",
				 argv[0], timeout_ms);
		else if (rc == -ETIMEDOUT)
			snprintf(why, len, "%s did not finish within %ld ms: killed", argv[0],
				 timeout_ms);
		else
			snprintf(why, len, "%s: %s", argv[0], strerror(-rc));
		return rc;
	}
	buf[off] = '\0';
	if (how && how->keep) {
		how->status = status;
		how->off = off;
		*out = buf;
		return 0;
	}
	if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			snprintf(why, len, "%s died of signal %d (%s)", argv[0], WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		else if (WEXITSTATUS(status) == 127)
			snprintf(why, len, "%s could not be executed", argv[0]);
		else
			snprintf(why, len, "%s exited with status %d", argv[0],
				 WEXITSTATUS(status));
		free(buf);
		return -ECHILD;
	}
	*out = buf;
	return 0;
}

/* run_child with the stop watch armed before the fork, so no signal falls between start and wait */
static int run_watched(char *const argv[], long timeout_ms, char **out, char *why, size_t len,
		       int *sig, struct run_how *how)
{
	struct stop_watch w;
	int rc;

	rc = stop_arm(&w);
	if (rc) {
		snprintf(why, len, "cannot create a pipe: %s", strerror(-rc));
		return rc;
	}
	rc = run_child(argv, timeout_ms, out, why, len, sig, how);
	stop_disarm(&w);
	return rc;
}

int bw_run_child_sig(char *const argv[], long timeout_ms, char **out, char *why, size_t len,
		     int *sig)
{
	return run_watched(argv, timeout_ms, out, why, len, sig, NULL);
}

int bw_run_tool(char *const argv[], long timeout_ms, char **out, size_t *outlen, int *status,
		char *why, size_t len, int *sig)
{
	struct run_how how = {.merged = 1, .keep = 1};
	int rc = run_watched(argv, timeout_ms, out, why, len, sig, &how);

	if (!rc) {
		*outlen = how.off;
		*status = how.status;
	}
	return rc;
}

int bw_run_child(char *const argv[], long timeout_ms, char **out, char *why, size_t len)
{
	int sig;

	return bw_run_child_sig(argv, timeout_ms, out, why, len, &sig);
}

/* ---- the document ----------------------------------------------------------------------- */

/*
 * Every number of the document is range-checked before it is stored: a cast of 3e9 or 1e10
 * to int, or of 1e999 (inf, which cJSON accepts) to anything, is undefined. The first bad
 * one is named in why and the document refused.
 */
struct doc {
	struct bw_facts *f;
	int bad;
};

static double num(struct doc *d, const cJSON *o, const char *k, double lo, double hi, int whole,
		  double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	double x;

	if (!cJSON_IsNumber(v))
		return def;
	x = v->valuedouble;
	if (isfinite(x) && x >= lo && x <= hi && (!whole || x == floor(x)))
		return x;
	if (!d->bad)
		snprintf(d->f->why, sizeof(d->f->why),
			 "gpubench output: %s %g is not a%s number in %g..%g", k, x,
			 whole ? " whole" : "", lo, hi);
	d->bad = 1;
	return def;
}

/* Measurements: -1 is gpubench's "not measured"; 1e18 is past any bandwidth or size. */
#define MEAS(d, o, k, def) num(d, o, k, -1, 1e18, 0, def)
/* GPU indices and counts: well inside an int */
#define BW_MAX_INDEX 1048575

static void str(const cJSON *o, const char *k, char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	fd_strlcpy(out, cJSON_IsString(v) ? v->valuestring : "", len);
}

static void parse_collective(struct doc *d, const cJSON *o, struct bw_collective *c)
{
	const cJSON *res, *r;

	if (!cJSON_IsObject(o))
		return;
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(o, "scope");

	res = cJSON_GetObjectItemCaseSensitive(o, "results");
	c->ran = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ran"));
	c->ngpus = (int)num(d, o, "ngpus", 0, BW_MAX_INDEX, 1, 0);
	c->world = cJSON_IsString(scope) && !strcmp(scope->valuestring, "world");
	c->nranks = (int)num(d, o, "nranks", 0, BW_MAX_INDEX, 1, 0);
	c->nodes = (int)num(d, o, "nodes", 0, BW_MAX_INDEX, 1, 0);
	str(o, "reason", c->reason, sizeof(c->reason));
	cJSON_ArrayForEach(r, res)
	{
		if (c->n_results == BW_MAX_SIZES)
			break;
		struct bw_result *x = &c->results[c->n_results++];
		x->bytes = MEAS(d, r, "bytes", 0);
		x->time_us = MEAS(d, r, "time_us", 0);
		x->algbw = MEAS(d, r, "algbw", 0);
		x->busbw = MEAS(d, r, "busbw", 0);
		x->ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
	}
}

int bw_parse(const char *json, struct bw_facts *f)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *gpus, *g;
	struct doc d = {.f = f};

	if (!root || !cJSON_IsObject(root) || num(&d, root, "version", 0, 1e9, 1, 0) != 1 ||
	    !cJSON_IsArray(gpus = cJSON_GetObjectItemCaseSensitive(root, "gpus"))) {
		snprintf(f->why, sizeof(f->why),
			 "output is not a gpubench version 1 document: '%.60s'", json);
		cJSON_Delete(root);
		return -EINVAL;
	}
	f->n_gpus = 0;
	cJSON_ArrayForEach(g, gpus)
	{
		if (f->n_gpus == BW_MAX_GPUS)
			break;
		struct bw_gpu *x = &f->gpus[f->n_gpus++];
		x->index = (int)num(&d, g, "index", 0, BW_MAX_INDEX, 1, (double)(f->n_gpus - 1));
		str(g, "name", x->name, sizeof(x->name));
		str(g, "bus_id", x->bus_id, sizeof(x->bus_id));
		fd_pci_normalise(x->bus_id);
		x->hbm_gbps = MEAS(&d, g, "hbm_gbps", -1);
		x->hbm_ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "hbm_ok"));
		x->h2d_gbps = MEAS(&d, g, "h2d_gbps", -1);
		x->d2h_gbps = MEAS(&d, g, "d2h_gbps", -1);
	}
	parse_collective(&d, cJSON_GetObjectItemCaseSensitive(root, "nccl"), &f->nccl);
	parse_collective(&d, cJSON_GetObjectItemCaseSensitive(root, "p2p"), &f->p2p);
	cJSON_Delete(root);
	return d.bad ? -EINVAL : 0;
}

/* ---- probe and judge ----------------------------------------------------------------------- */

void bw_gpubench_path(const struct fd_config *cfg, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;

	if (cfg->gpubench[0]) {
		fd_strlcpy(out, cfg->gpubench, len);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		fd_strlcpy(out, "flightdeck-gpubench", len);
		return;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, len, "%s/flightdeck-gpubench", self);
}

int bw_probe(struct fd_probe_ctx *ctx, void *facts)
{
	struct bw_facts *f = facts;
	char *out = NULL, timeout[32];
	int rc;

	rc = gpu_pci_count(ctx, &f->pci_gpus);
	if (rc || !f->pci_gpus)
		return rc;
	bw_gpubench_path(ctx->cfg, f->path, sizeof(f->path));
	if (access(f->path, X_OK)) {
		f->state = BW_NOT_BUILT;
		snprintf(f->why, sizeof(f->why), "%s: %s (built only with the CUDA toolkit)",
			 f->path, strerror(errno));
		return 0;
	}
	/* gpubench bounds its own NCCL waits to a little less than our deadline */
	snprintf(timeout, sizeof(timeout), "%lld",
		 (long long)ctx->cfg->gpubench_timeout_ms * 9 / 10);
	char *argv[] = {f->path,
			"--json",
			"--timeout-ms",
			timeout,
			ctx->level == FD_LEVEL_FULL ? "--full" : "--quick",
			NULL};
	rc = bw_run_child_sig(argv, (long)ctx->cfg->gpubench_timeout_ms, &out, f->why,
			      sizeof(f->why), &ctx->signo);
	if (rc == -EINTR) { /* check itself is asked to stop: no verdict, exit 128+signo */
		snprintf(ctx->err, sizeof(ctx->err), "check: %s", f->why);
		return rc;
	}
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		f->state = BW_FAILED;
		return 0;
	}
	f->state = bw_parse(out, f) ? BW_FAILED : BW_RAN;
	free(out);
	return 0;
}

/*
 * An allreduce's findings: a wrong sum at any size fails; busbw at the largest message is
 * judged for NCCL against --expect-busbw or the model's 8-GPU floor, and for the custom P2P
 * allreduce against --expect-p2p-busbw or BW_P2P_FRACTION (half) of that NCCL floor: its
 * host barriers make it slower than NCCL by design, but far below half, peer traffic is not
 * on NVLink. Without a floor (another model, another GPU count) busbw is reported only.
 */
static void judge_collective(const struct bw_collective *c, const char *check, const char *what,
			     const struct bw_facts *f, const struct fd_config *cfg,
			     struct fd_report *rep)
{
	const struct bw_result *best = NULL;
	char v[96], e[96], m[256];

	if (!c->ran) {
		fd_report_add(rep, check, FD_SKIP, NULL, what, "%s allreduce not run: %s", what,
			      c->reason[0] ? c->reason : "no reason given");
		return;
	}
	for (size_t i = 0; i < c->n_results; i++) {
		const struct bw_result *r = &c->results[i];
		if (!r->ok) {
			snprintf(v, sizeof(v), "%.0f bytes", r->bytes);
			fd_report_addv(rep, check, FD_FAIL, "ALLREDUCE_WRONG", what, v,
				       "exact sums", "%s allreduce returned a wrong sum", what);
			return;
		}
		if (!best || r->bytes > best->bytes)
			best = r;
	}
	if (!best)
		return;
	const struct bw_expect *x = f->n_gpus ? bw_expect_for(f->gpus[0].name) : NULL;
	double want = 0;
	if (c == &f->nccl)
		want = cfg->expect_busbw > 0  ? cfg->expect_busbw
		       : (x && c->ngpus == 8) ? x->busbw8_min
					      : 0;
	else /* the custom P2P allreduce: below half of NCCL's floor, P2P is not on NVLink */
		want = cfg->expect_p2p_busbw > 0 ? cfg->expect_p2p_busbw
		       : (x && c->ngpus == 8)	 ? x->busbw8_min * BW_P2P_FRACTION
						 : 0;
	snprintf(v, sizeof(v), "%.1f GB/s", best->busbw);
	if (c->world) /* one communicator over the job: its nodes, not this node's GPUs */
		snprintf(
		    m, sizeof(m),
		    "%s allreduce across %d node(s), %d ranks, %.0f MB: algbw %.1f, busbw %.1f "
		    "GB/s%s%s",
		    what, c->nodes, c->nranks ? c->nranks : c->ngpus, best->bytes / 1e6,
		    best->algbw, best->busbw, c->reason[0] ? "; " : "", c->reason);
	else
		snprintf(m, sizeof(m),
			 "%s allreduce over %d GPUs, %.0f MB: algbw %.1f, busbw %.1f GB/s%s%s",
			 what, c->ngpus, best->bytes / 1e6, best->algbw, best->busbw,
			 c->reason[0] ? "; " : "", c->reason);
	if (want <= 0) {
		fd_report_addv(rep, check, FD_PASS, NULL, what, v, "-", "%s", m);
		return;
	}
	snprintf(e, sizeof(e), ">= %.0f GB/s", want);
	fd_report_addv(rep, check, best->busbw < want ? FD_FAIL : FD_PASS,
		       best->busbw < want ? "ALLREDUCE_BW_LOW" : NULL, what, v, e, "%s", m);
}

void bw_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct bw_facts *f = facts;
	char v[96], e[96], m[256];

	if (!f->pci_gpus) {
		fd_report_add(rep, "bw.gpubench", FD_SKIP, NULL, "gpus",
			      "no NVIDIA GPU on the PCI bus: nothing to measure");
		return;
	}
	if (f->state == BW_NOT_BUILT) {
		fd_report_add(rep, "bw.gpubench", FD_SKIP, NULL, "gpubench", "%s", f->why);
		return;
	}
	if (f->state == BW_FAILED) {
		fd_report_addv(rep, "bw.gpubench", FD_FAIL, "GPU_BENCH_FAILED", "gpubench",
			       "failed", "a report", "%s", f->why);
		return;
	}
	for (size_t i = 0; i < f->n_gpus; i++) {
		const struct bw_gpu *g = &f->gpus[i];
		const struct bw_expect *x = bw_expect_for(g->name);
		double want = cfg->expect_hbm_bw > 0 ? cfg->expect_hbm_bw : x ? x->hbm_min : 0;
		const char *subj = g->bus_id[0] ? g->bus_id : g->name;

		if (g->hbm_gbps < 0)
			continue;
		snprintf(v, sizeof(v), "%.0f GB/s", g->hbm_gbps);
		if (!g->hbm_ok) {
			fd_report_addv(
			    rep, "bw.hbm", FD_FAIL, "GPU_BENCH_WRONG", subj, v, "verified",
			    "the HBM kernel's result did not verify: the GPU computes wrong results");
		} else if (want <= 0) {
			snprintf(m, sizeof(m),
				 "%s: no expectation for this model (--expect-hbm-bw)", g->name);
			fd_report_addv(rep, "bw.hbm", FD_PASS, NULL, subj, v, "-", "%s", m);
		} else {
			snprintf(e, sizeof(e), ">= %.0f GB/s", want);
			snprintf(m, sizeof(m), "%s HBM bandwidth %.0f GB/s", g->name, g->hbm_gbps);
			fd_report_addv(rep, "bw.hbm", g->hbm_gbps < want ? FD_FAIL : FD_PASS,
				       g->hbm_gbps < want ? "HBM_BW_LOW" : NULL, subj, v, e, "%s",
				       m);
		}
	}
	judge_collective(&f->nccl, "bw.nccl", "NCCL", f, cfg, rep);
	judge_collective(&f->p2p, "bw.p2p", "custom P2P", f, cfg, rep);
}

/* ---- bw.world ------------------------------------------------------------------------------ */

const struct bw_result *bw_largest(const struct bw_collective *c, int *ok)
{
	const struct bw_result *best = NULL;

	*ok = 1;
	for (size_t i = 0; i < c->n_results; i++) {
		if (!c->results[i].ok)
			*ok = 0;
		if (!best || c->results[i].bytes > best->bytes)
			best = &c->results[i];
	}
	return best;
}

double bw_world_floor(const struct fd_config *cfg)
{
	return cfg->expect_world_busbw > 0 ? cfg->expect_world_busbw : cfg->expect_busbw;
}

int bw_world_passes(const struct fd_config *cfg, double busbw, int ok)
{
	double want = bw_world_floor(cfg);

	return ok && (want <= 0 || busbw >= want);
}

/* The job's finding, as node 0 judged it (launcher/job/allreduce_driver.c); none without a job. */
int bw_world_probe(struct fd_probe_ctx *ctx, void *facts)
{
	struct bw_world_facts *f = facts;

	f->state = BWW_NOT_JOB;
	if (ctx->job && ctx->job->have_world) {
		f->state = BWW_GIVEN;
		f->given = ctx->job->world;
	}
	return 0;
}

void bw_world_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct bw_world_facts *f = facts;
	double want = bw_world_floor(cfg);
	char v[96], e[96], subj[64], m[256], named[160];

	if (f->state == BWW_NOT_JOB)
		return;
	if (f->state == BWW_GIVEN) {
		const struct fd_job_finding *g = &f->given;

		/* only the codes this judge gives are taken from node 0's finding */
		fd_report_addv(rep, "bw.world", (enum fd_status)g->status,
			       !strcmp(g->code, "BW_WORLD_LOW")	     ? "BW_WORLD_LOW"
			       : !strcmp(g->code, "ALLREDUCE_WRONG") ? "ALLREDUCE_WRONG"
			       : !strcmp(g->code, "BW_WORLD_FAILED") ? "BW_WORLD_FAILED"
								     : NULL,
			       g->subject, g->value, g->expected, "%s", g->text);
		return;
	}
	if (f->state == BWW_SKIP) {
		fd_report_add(rep, "bw.world", FD_SKIP, NULL, "job",
			      "the allreduce across %d nodes did not run: %s", f->nnodes, f->why);
		return;
	}
	if (f->state == BWW_NODE_FAILED) {
		snprintf(subj, sizeof(subj), "node %d (%.40s)", f->culprit[0], f->host[0]);
		fd_report_addv(rep, "bw.world", FD_FAIL, "BW_WORLD_FAILED", subj, "failed",
			       "a world document", "%s", f->why);
		return;
	}
	snprintf(v, sizeof(v), "%.1f GB/s", f->busbw);
	snprintf(e, sizeof(e), want > 0 ? ">= %.0f GB/s" : "-", want);
	snprintf(
	    m, sizeof(m),
	    "NCCL allreduce across %d nodes (%d ranks), %.0f MB: algbw %.1f, busbw %.1f GB/s%s",
	    f->nodes ? f->nodes : f->nnodes, f->nranks, f->bytes / 1e6, f->algbw, f->busbw,
	    f->ok ? "" : ", wrong sums");
	if (f->outcome == BWW_PASS) {
		fd_report_addv(rep, "bw.world", FD_PASS, NULL, "job", v, e, "%s%s", m,
			       want > 0 ? "" : " (no floor: --expect-world-busbw)");
		return;
	}
	if (f->outcome == BWW_NONE || f->outcome == BWW_ROUNDS) {
		/* below, and no node to hold responsible: said, but no node is drained for it */
		fd_report_addv(rep, "bw.world", FD_WARN, f->ok ? "BW_WORLD_LOW" : "ALLREDUCE_WRONG",
			       "job", v, e, "%s; %s", m,
			       f->outcome == BWW_NONE
				   ? "every half meets the floor: no single node is slow (the "
				     "fabric at full scale?)"
				   : "no node named within the round bound");
		return;
	}
	if (f->outcome == BWW_PAIR) {
		snprintf(subj, sizeof(subj), "nodes %d, %d", f->culprit[0], f->culprit[1]);
		snprintf(named, sizeof(named),
			 "one of node %d (%.40s) and node %d (%.40s): no node proven good to tell "
			 "them apart",
			 f->culprit[0], f->host[0], f->culprit[1], f->host[1]);
	} else {
		snprintf(subj, sizeof(subj), "node %d (%.40s)", f->culprit[0], f->host[0]);
		snprintf(named, sizeof(named),
			 "the slowest is node %d (%.40s), named in %d rounds (a set with it: %.1f "
			 "GB/s)%s",
			 f->culprit[0], f->host[0], f->rounds, f->culprit_busbw,
			 f->also_slow ? "; another half was below the floor too" : "");
	}
	fd_report_addv(rep, "bw.world", FD_FAIL, f->ok ? "BW_WORLD_LOW" : "ALLREDUCE_WRONG", subj,
		       v, e, "%s; %s", m, named);
}
