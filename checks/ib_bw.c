/*
 * ib_bw.c - RDMA write bandwidth in loopback on every active port (ib.bw).
 *
 * A port can be ACTIVE at its full rate and still move data at a fraction of it: a marginal
 * cable retransmitting, a HCA in a PCIe slot that trained narrow, a firmware fault. The only
 * proof is moving bytes. perftest's ib_write_bw, a maintained tool every fabric admin knows,
 * runs here as two children under one deadline (never linked): a server on the port, then a
 * client on the same port connecting to it through 127.0.0.1, so the data goes out of the HCA
 * and back in. Host memory always; GPU memory too (GPUDirect RDMA: the path NCCL uses) when
 * perftest was built with CUDA and a GPU is present. Each result is judged against the port's
 * own active rate (--ib-bw-min, --ib-bw-gpu-min); docs/check.md has the thresholds' reasons.
 *
 * perftest's out-of-band exchange is IPv4 only (AF_INET, src/perftest_communication.c), which
 * is why the loopback address is 127.0.0.1 and not a name.
 */
#define _GNU_SOURCE
#include "bw.h"
#include "gpu.h"
#include "ib.h"
#include "perftest.h"
#include "spawn.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_BYTES "1048576" /* 1 MiB: large enough to reach line rate with one QP */
#define TCP_TRIES 3	    /* a taken TCP port: another one, this many times */

/* The tool: a path as given, a bare name looked up in PATH. 0, or -ENOENT with why. */
static int find_tool(const char *name, char *out, size_t len, char *why, size_t wlen)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		fd_strlcpy(out, name, len);
		if (access(out, X_OK) == 0)
			return 0;
		snprintf(why, wlen, "%s: %s (perftest's ib_write_bw, --ib-write-bw)", name,
			 strerror(errno));
		return -ENOENT;
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; p && *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n && snprintf(out, len, "%.*s/%s", (int)n, p, name) < (int)len &&
		    access(out, X_OK) == 0)
			return 0;
		p = end ? end + 1 : NULL;
	}
	snprintf(why, wlen,
		 "%s is not installed (perftest: apt-get install perftest, dnf install perftest)",
		 name);
	return -ENOENT;
}

/* A TCP port free on this node now, for perftest's exchange (its server binds every address). */
static int free_tcp_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &n) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* The GPU nearest the HCA: the longest common prefix of their resolved sysfs device paths. */
static void nearest_gpu(const struct fd_config *cfg, const char *hca_pci,
			const struct gpu_pci_facts *g, char *out, size_t len)
{
	char a[PATH_MAX], b[PATH_MAX], p[PATH_MAX];
	size_t best = 0, pick = 0;

	snprintf(p, sizeof(p), "%s/bus/pci/devices/%s", cfg->sysfs_root, hca_pci);
	if (!hca_pci[0] || !realpath(p, a))
		a[0] = '\0';
	for (size_t i = 0; i < g->n; i++) {
		size_t k = 0, last = 0;

		snprintf(p, sizeof(p), "%s/bus/pci/devices/%s", cfg->sysfs_root, g->dev[i].bdf);
		if (!a[0] || !realpath(p, b))
			continue;
		for (; a[k] && a[k] == b[k]; k++)
			if (a[k] == '/')
				last = k;
		/* a tie (a flat topology: every device on one root port) takes the lowest address */
		if (last > best || (last == best && strcmp(g->dev[i].bdf, g->dev[pick].bdf) < 0)) {
			best = last;
			pick = i;
		}
	}
	fd_strlcpy(out, g->dev[pick].bdf, len);
}

struct server {
	struct fd_spawn sp;
	int reaped; /* waitpid has taken it: its pid may be anyone's now, never signalled */
};

/* Whether the server still runs (reaped, never to be signalled, once it is gone). */
static int server_alive(struct server *sv)
{
	int status;

	if (!sv->reaped && waitpid(sv->sp.pid, &status, WNOHANG) == sv->sp.pid)
		sv->reaped = 1;
	return !sv->reaped;
}

/* The server's end: its output within a short wait, then it is taken back and reaped. */
static void server_end(struct server *sv, long wait_ms, struct pt_result *r)
{
	struct fd_spawn *sp = &sv->sp;
	char buf[16384];
	size_t off = 0;
	int64_t deadline = fd_deadline_ns(fd_mono_ns(), wait_ms);
	int status;

	for (;;) {
		int64_t left = (deadline - fd_mono_ns()) / 1000000;
		struct pollfd p = {sp->out_fd, POLLIN, 0};

		if (left <= 0 || off + 1 >= sizeof(buf))
			break;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t got = read(sp->out_fd, buf + off, sizeof(buf) - 1 - off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		off += (size_t)got;
	}
	close(sp->out_fd);
	if (server_alive(sv)) {
		fd_spawn_kill(sp);
		while (waitpid(sp->pid, &status, 0) < 0 && errno == EINTR)
			;
		sv->reaped = 1;
	}
	pt_parse(buf, off, r);
}

/* What a client that gave no report says, in one line of why. */
static void explain(const struct pt_result *c, const struct pt_result *s, const char *dev,
		    int status, char *why, size_t len)
{
	switch (c->kind) {
	case PT_NO_DEVICE:
		snprintf(why, len,
			 "ib_write_bw (libibverbs) sees no RDMA device though sysfs lists %s: its "
			 "user-space driver (rdma-core's provider) is missing or the device is not "
			 "usable ('%s')",
			 dev, c->line);
		return;
	case PT_DEVICE_NOT_FOUND:
		snprintf(why, len, "libibverbs has no device %s though sysfs lists it ('%s')", dev,
			 c->line);
		return;
	case PT_USAGE:
		snprintf(why, len,
			 "ib_write_bw refused flightdeck's arguments (a perftest older "
			 "than 4.5?): '%s'",
			 c->line);
		return;
	case PT_REFUSED:
		if (s->kind == PT_NO_REPORT)
			snprintf(why, len,
				 "the loopback server exited without listening, and without "
				 "an error");
		else
			snprintf(why, len, "the loopback server never listened: '%s'", s->line);
		return;
	case PT_NO_REPORT:
		snprintf(why, len, "ib_write_bw's output is not perftest's report (%s; %s %d)",
			 c->line, WIFSIGNALED(status) ? "signal" : "exit status",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return;
	default:
		snprintf(why, len, "ib_write_bw failed: '%s'", c->line);
		return;
	}
}

/*
 * One loopback test: the server, then the client until it connects (the server needs a moment
 * to listen), all within --ib-bw-timeout. Returns -EINTR when check itself was told to stop.
 */
static int loopback(struct fd_probe_ctx *ctx, const struct ib_bw_facts *f, struct ib_bw_run *run)
{
	const struct fd_config *cfg = ctx->cfg;
	/* never shorter than the test itself and a few seconds to set up the HCA */
	int64_t limit_ms = cfg->ib_bw_timeout_ms > cfg->ib_bw_duration_ms + 5000
			       ? cfg->ib_bw_timeout_ms
			       : cfg->ib_bw_duration_ms + 5000;
	int64_t deadline = fd_deadline_ns(fd_mono_ns(), limit_ms);
	char ibport[16], tcp[16], dur[24], gpuarg[64];
	struct pt_result c = {0}, s = {0};

	snprintf(ibport, sizeof(ibport), "%d", run->port);
	snprintf(dur, sizeof(dur), "%lld", (long long)((cfg->ib_bw_duration_ms + 999) / 1000));
	gpuarg[0] = '\0';
	if (run->gpu)
		snprintf(gpuarg, sizeof(gpuarg),
			 f->cuda_bus ? "--use_cuda_bus_id=%s" : "--use_cuda=%s", run->gpu_id);
	for (int attempt = 0; attempt < TCP_TRIES; attempt++) {
		int port = free_tcp_port(), eno, status = 0;
		char err[256];

		if (port < 0) {
			snprintf(run->why, sizeof(run->why), "no free TCP port for ib_write_bw: %s",
				 strerror(errno));
			return 0;
		}
		snprintf(tcp, sizeof(tcp), "%d", port);
		/* argv[13] is the GPU's argument or the end; the client adds the server's address */
		char *argv[] = {(char *)f->tool,
				"-d",
				run->dev,
				"-i",
				ibport,
				"-p",
				tcp,
				"-D",
				dur,
				"-s",
				MSG_BYTES,
				"--report_gbits",
				"-F",
				gpuarg[0] ? gpuarg : NULL,
				NULL,
				NULL};
		struct server sv = {.sp = {.argv = argv,
					   .capture = 1,
					   .capture_merged = 1,
					   .same_group = 1,
					   .exec_path = 1}};
		if (fd_spawn_start(&sv.sp, &eno, err, sizeof(err))) {
			snprintf(run->why, sizeof(run->why), "%s", err);
			return 0;
		}
		argv[gpuarg[0] ? 14 : 13] = "127.0.0.1";
		for (;;) {
			char *out = NULL;
			size_t outlen = 0;
			int sig = 0;
			long left = (long)((deadline - fd_mono_ns()) / 1000000);
			int rc = left > 0 ? bw_run_tool(argv, left, &out, &outlen, &status,
							run->why, sizeof(run->why), &sig)
					  : -ETIMEDOUT;

			if (rc == -EINTR) {
				ctx->signo = sig;
				server_end(&sv, 0, &s);
				snprintf(ctx->err, sizeof(ctx->err), "check: %s", run->why);
				return rc;
			}
			if (rc) {
				server_end(&sv, 0, &s);
				if (rc == -ETIMEDOUT)
					snprintf(
					    run->why, sizeof(run->why),
					    "ib_write_bw did not finish within %lld ms: killed (a "
					    "hung HCA or port?)",
					    (long long)limit_ms);
				return 0;
			}
			pt_parse(out, outlen, &c);
			free(out);
			if (c.kind != PT_REFUSED || !server_alive(&sv) || fd_mono_ns() > deadline)
				break;
			nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
		}
		server_end(&sv, c.kind == PT_REPORT ? 2000 : 200, &s);
		if (c.kind == PT_REPORT) {
			run->state = IBBW_MEASURED;
			run->gbps = c.gbps;
			return 0;
		}
		if (c.kind == PT_REFUSED && s.kind == PT_PORT_BUSY && fd_mono_ns() < deadline)
			continue; /* someone took the TCP port between our look and its bind */
		explain(&c, &s, run->dev, status, run->why, sizeof(run->why));
		return 0;
	}
	snprintf(run->why, sizeof(run->why), "ib_write_bw's TCP port was taken %d times in a row",
		 TCP_TRIES);
	return 0;
}

/* `ib_write_bw --help` says whether this perftest can use GPU memory. */
static void read_help(struct ib_bw_facts *f)
{
	char *argv[] = {f->tool, "--help", NULL}, *out = NULL, why[256];
	size_t n = 0;
	int status, sig;

	if (bw_run_tool(argv, 5000, &out, &n, &status, why, sizeof(why), &sig))
		return;
	f->cuda = pt_help_has_cuda(out, n);
	f->cuda_bus = f->cuda && memmem(out, n, "--use_cuda_bus_id", 17) != NULL;
	free(out);
}

static struct ib_bw_run *add_run(struct ib_bw_facts *f, const struct ib_facts *pf,
				 const struct ib_port *p)
{
	struct ib_bw_run *r;

	if (f->n == IB_BW_MAX_RUNS)
		return NULL;
	r = &f->runs[f->n++];
	fd_strlcpy(r->dev, pf->devs[p->dev].name, sizeof(r->dev));
	r->port = p->port;
	r->rate = p->rate;
	r->state = IBBW_FAILED;
	return r;
}

int ib_bw_probe(struct fd_probe_ctx *ctx, void *facts)
{
	struct ib_bw_facts *f = facts;
	struct ib_facts *pf = calloc(1, sizeof(*pf));
	struct gpu_pci_facts *g = calloc(1, sizeof(*g));
	int rc = 0;

	if (!pf || !g) {
		rc = -ENOMEM;
		goto out;
	}
	rc = fd_probe_once(ctx, ib_probe_ports, sizeof(*pf), pf);
	if (rc || !pf->n)
		goto out;
	f->present = 1;
	if (find_tool(ctx->cfg->ib_write_bw, f->tool, sizeof(f->tool), f->why, sizeof(f->why))) {
		f->no_tool = 1;
		goto out;
	}
	read_help(f);
	if (f->cuda && fd_probe_once(ctx, gpu_probe_pci, sizeof(*g), g))
		g->n = 0; /* gpu.pci reports its own trouble; host memory is still tested */
	for (size_t i = 0; i < pf->n && !rc; i++) {
		const struct ib_port *p = &pf->ports[i];
		struct ib_bw_run *r;

		if (!ib_port_selected(pf, p) || !(r = add_run(f, pf, p)))
			continue;
		if (p->state != IB_STATE_ACTIVE || p->phys != IB_PHYS_LINKUP) {
			r->state = IBBW_NOT_ACTIVE;
			continue;
		}
		rc = loopback(ctx, f, r);
		if (rc || !f->cuda || !g->n || !(r = add_run(f, pf, p)))
			continue;
		r->gpu = 1;
		if (f->cuda_bus)
			nearest_gpu(ctx->cfg, pf->devs[p->dev].pci, g, r->gpu_id,
				    sizeof(r->gpu_id));
		else
			fd_strlcpy(r->gpu_id, "0", sizeof(r->gpu_id));
		rc = loopback(ctx, f, r);
	}
out:
	free(pf);
	free(g);
	return rc;
}

static void subject(const struct ib_bw_run *r, char *out, size_t len)
{
	snprintf(out, len, "%s/%d%s", r->dev, r->port, r->gpu ? " gpu" : "");
}

void ib_bw_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ib_bw_facts *f = facts;
	char subj[64];

	if (!f->present) {
		fd_report_add(rep, "ib.bw", FD_SKIP, NULL, "rdma", "no RDMA ports on this node");
		return;
	}
	if (f->no_tool) {
		fd_report_add(rep, "ib.bw", FD_SKIP, NULL, "rdma", "%s", f->why);
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct ib_bw_run *r = &f->runs[i];
		const char *mem = r->gpu ? "GPU memory" : "host memory";
		double pct = r->gpu ? cfg->ib_bw_gpu_min : cfg->ib_bw_min;
		double want = r->rate * pct / 100;
		struct fd_finding *x;

		subject(r, subj, sizeof(subj));
		if (r->state == IBBW_NOT_ACTIVE) {
			fd_report_add(
			    rep, "ib.bw", FD_SKIP, NULL, subj,
			    "not tested: the port is not ACTIVE with its link up (ib.port)");
			continue;
		}
		if (r->state == IBBW_FAILED) {
			x = fd_report_add(rep, "ib.bw", FD_FAIL, "IB_BW_FAILED", subj,
					  "RDMA write test (%s) could not run: %s", mem, r->why);
			if (x)
				snprintf(x->expected, sizeof(x->expected), "a bandwidth report");
			continue;
		}
		if (r->gbps >= want) {
			x = fd_report_add(
			    rep, "ib.bw", FD_PASS, NULL, subj,
			    "RDMA write %.1f Gb/s in loopback from %s (port rate %g Gb/s)", r->gbps,
			    mem, r->rate);
		} else {
			x = fd_report_add(
			    rep, "ib.bw", FD_FAIL, "IB_BW_LOW", subj,
			    "RDMA write %.1f Gb/s in loopback from %s%s%s: below %g %% of "
			    "the port's %g Gb/s (%.1f Gb/s)",
			    r->gbps, mem, r->gpu ? " of GPU " : "", r->gpu ? r->gpu_id : "", pct,
			    r->rate, want);
		}
		if (x) {
			snprintf(x->value, sizeof(x->value), "%.1f Gb/s", r->gbps);
			snprintf(x->expected, sizeof(x->expected), ">= %.1f Gb/s", want);
		}
	}
}

/* ---- one node's side of the test between two nodes (ib.pairs) ------------------------------ */

int ib_pair_rails(const struct fd_config *cfg, struct ib_rail *out, int max, char *tool,
		  size_t tlen, char *why, size_t wlen)
{
	struct fd_probe_ctx ctx = {.cfg = cfg};
	struct ib_facts *pf = calloc(1, sizeof(*pf));
	int n = 0, rc;

	*why = '\0';
	if (!pf)
		return -ENOMEM;
	rc = ib_probe_ports(&ctx, pf);
	if (rc) {
		snprintf(why, wlen, "the RDMA ports cannot be read: %s",
			 ctx.err[0] ? ctx.err : strerror(-rc));
		goto out;
	}
	if (!pf->n) {
		snprintf(why, wlen, "no RDMA ports on this node");
		goto out;
	}
	for (size_t i = 0; i < pf->n && n < max; i++) {
		const struct ib_port *p = &pf->ports[i];

		if (!ib_port_selected(pf, p) || p->state != IB_STATE_ACTIVE ||
		    p->phys != IB_PHYS_LINKUP)
			continue;
		fd_strlcpy(out[n].dev, pf->devs[p->dev].name, sizeof(out[n].dev));
		out[n].port = p->port;
		out[n].rate = p->rate;
		n++;
	}
	if (!n) {
		snprintf(why, wlen, "no RDMA port is ACTIVE with its link up (ib.port)%s",
			 getenv("NCCL_IB_HCA") ? " among those NCCL_IB_HCA selects" : "");
		goto out;
	}
	if (find_tool(cfg->ib_write_bw, tool, tlen, why, wlen))
		n = 0;
out:
	free(pf);
	return n;
}

/* A TCP port free on every address now: a pair's server is reached from another node. */
static int free_tcp_port_any(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	socklen_t n = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &n) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

int ib_pair_serve(const char *tool, const struct ib_rail *rails, int n, int dur_s,
		  struct ib_pair_servers *sv, char *why, size_t wlen)
{
	memset(sv, 0, sizeof(*sv));
	for (int i = 0; i < n && i < IB_PAIR_RAILS; i++) {
		char ibport[16], tcp[16], dur[16], err[256];
		char *argv[] = {(char *)tool, "-d",	 (char *)rails[i].dev,
				"-i",	      ibport,	 "-p",
				tcp,	      "-D",	 dur,
				"-s",	      MSG_BYTES, "--report_gbits",
				"-F",	      NULL};
		int eno;

		sv->tcp[i] = free_tcp_port_any();
		if (sv->tcp[i] < 0) {
			snprintf(why, wlen, "no free TCP port for ib_write_bw: %s",
				 strerror(errno));
			break;
		}
		snprintf(ibport, sizeof(ibport), "%d", rails[i].port);
		snprintf(tcp, sizeof(tcp), "%d", sv->tcp[i]);
		snprintf(dur, sizeof(dur), "%d", dur_s);
		sv->sp[i] = (struct fd_spawn){.argv = argv,
					      .capture = 1,
					      .capture_merged = 1,
					      .same_group = 1,
					      .exec_path = 1};
		if (fd_spawn_start(&sv->sp[i], &eno, err, sizeof(err))) {
			snprintf(why, wlen, "%s", err);
			break;
		}
		sv->started[i] = 1;
		sv->n = i + 1;
	}
	if (sv->n == n)
		return 0;
	ib_pair_serve_end(sv, 0, (int[IB_PAIR_RAILS]){0}, why + strlen(why), 0);
	return -1;
}

void ib_pair_serve_end(struct ib_pair_servers *sv, int64_t deadline, int *outcome, char *why,
		       size_t wlen)
{
	for (int i = 0; i < sv->n; i++) {
		struct server one = {.sp = sv->sp[i], .reaped = sv->reaped[i]};
		struct pt_result r = {0};
		int alive;

		if (!sv->started[i])
			continue;
		/* the output, until the server ends by itself or the deadline comes */
		while ((alive = server_alive(&one)) && fd_mono_ns() < deadline)
			nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
		outcome[i] = alive ? 2 : 0;
		server_end(&one, alive ? 0 : 500, &r); /* ended: its output is all in the pipe */
		sv->reaped[i] = 1;
		if (wlen && !*why &&
		    (r.kind == PT_PORT_BUSY || r.kind == PT_ERROR || r.kind == PT_NO_DEVICE ||
		     r.kind == PT_DEVICE_NOT_FOUND || r.kind == PT_USAGE))
			snprintf(why, wlen, "rail %d's server: '%s'", i, r.line);
	}
}

int ib_pair_connect(const char *tool, const struct ib_rail *rail, const char *addr, int tcp,
		    int dur_s, int64_t deadline, double *gbps, char *why, size_t wlen)
{
	char ibport[16], tcps[16], dur[16];
	char *argv[] = {
	    (char *)tool, "-d",	     (char *)rail->dev, "-i", ibport,	    "-p", tcps, "-D", dur,
	    "-s",	  MSG_BYTES, "--report_gbits",	"-F", (char *)addr, NULL};
	struct pt_result c = {0};
	int status = 0;

	snprintf(ibport, sizeof(ibport), "%d", rail->port);
	snprintf(tcps, sizeof(tcps), "%d", tcp);
	snprintf(dur, sizeof(dur), "%d", dur_s);
	for (;;) {
		char *out = NULL;
		size_t outlen = 0;
		int sig = 0;
		long left = (long)((deadline - fd_mono_ns()) / 1000000);
		int rc = left > 0 ? bw_run_tool(argv, left, &out, &outlen, &status, why, wlen, &sig)
				  : -ETIMEDOUT;

		if (rc == -ETIMEDOUT) {
			snprintf(
			    why, wlen,
			    "ib_write_bw to %s:%d did not finish by the deadline: killed (a hung "
			    "HCA, port or path?)",
			    addr, tcp);
			return 2;
		}
		if (rc)
			return 1; /* could not run it, or told to stop: why says */
		pt_parse(out, outlen, &c);
		free(out);
		if (c.kind == PT_REPORT) {
			*gbps = c.gbps;
			return 0;
		}
		if (c.kind != PT_REFUSED || fd_mono_ns() > deadline - 100 * 1000000LL)
			break;
		nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
	}
	if (c.kind == PT_REFUSED)
		snprintf(why, wlen, "the server at %s:%d never accepted the connection ('%s')",
			 addr, tcp, c.line);
	else
		explain(&c, &(struct pt_result){.kind = PT_NO_REPORT}, rail->dev, status, why,
			wlen);
	return 1;
}

/* ---- ib.pairs: what node 0 found between the pairs (launcher/job/pairs_driver.c) ------------ */

int ib_pairs_probe(struct fd_probe_ctx *ctx, void *facts)
{
	struct ib_pairs_facts *f = facts;

	if (ctx->job && ctx->job->have_pairs) {
		f->given = 1;
		f->f = ctx->job->pairs;
	}
	return 0;
}

void ib_pairs_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ib_pairs_facts *f = facts;
	const struct fd_job_finding *g = &f->f;

	(void)cfg;
	if (!f->given)
		return; /* no job, or the phase did not run (a node was unfit before it) */
	/* only the codes this judge gives are taken from node 0's finding */
	fd_report_addv(rep, "ib.pairs", (enum fd_status)g->status,
		       !strcmp(g->code, "IB_PAIR_LOW")	    ? "IB_PAIR_LOW"
		       : !strcmp(g->code, "IB_PAIR_FAILED") ? "IB_PAIR_FAILED"
							    : NULL,
		       g->subject, g->value, g->expected, "%s", g->text);
}
