/*
 * cmd_bench.c - `flightdeck bench`: run flightdeck-gpubench and show what it measured, every
 * number, beside the expectation the bw checks judge it by.
 */
#include "bw.h"
#include "commands.h"
#include "config.h"
#include "opts.h"
#include "report.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bench_cli {
	int full, json;
};

static const struct fd_opt bench_rows[] = {
    {.name = "full",
     .help = "sweep larger messages (level full)",
     .type = FD_OPT_FLAG,
     .off = offsetof(struct bench_cli, full)},
    {.name = "json",
     .help = "print the findings document of `check`",
     .type = FD_OPT_FLAG,
     .off = offsetof(struct bench_cli, json)},
    FD_OPT_HELP_ROW,
};

/* The thresholds bench takes: config.c's rows, so their parsing and bounds are check's. */
static const char *const bench_tunables[] = {"gpubench", "gpubench-timeout", "expect-hbm-bw",
					     "expect-busbw", "sysfs-root"};

static void usage(FILE *out, const struct fd_opt_table *t, size_t n)
{
	fprintf(
	    out,
	    "usage: flightdeck bench [--full] [--json] [--gpubench PATH] [--gpubench-timeout DUR]\n"
	    "                        [--expect-hbm-bw GBPS] [--expect-busbw GBPS] [--sysfs-root DIR]\n"
	    "\n"
	    "Runs flightdeck-gpubench on this node's GPUs, in its own process group under a\n"
	    "deadline, and prints what it measured: HBM bandwidth (a verified\n"
	    "Triad) and pinned host<->device bandwidth per GPU, the custom peer-to-peer allreduce\n"
	    "and NCCL's allreduce across all GPUs by message size (algbw, busbw by the nccl-tests\n"
	    "formula, result verified), then the same judgements as `flightdeck check --only bw`.\n"
	    "Exit 0: measured and within expectations; 1: a result failed verification or a floor,\n"
	    "or gpubench hung/crashed; 2: usage error; 3: nothing to measure (no GPU, no gpubench).\n"
	    "\n");
	fd_opt_help(out, t, n);
}

static void print_collective(const char *what, const struct bw_collective *c)
{
	if (!c->ran) {
		printf("\n%s allreduce: not run (%s)\n", what,
		       c->reason[0] ? c->reason : "no reason");
		return;
	}
	if (c->world) /* "scope": "world": one communicator across the job's nodes */
		printf("\n%s allreduce across the job: %d rank(s) on %d node(s)%s%s\n", what,
		       c->nranks ? c->nranks : c->ngpus, c->nodes, c->reason[0] ? ": " : "",
		       c->reason);
	else
		printf("\n%s allreduce over %d GPU(s)%s%s\n", what, c->ngpus,
		       c->reason[0] ? ": " : "", c->reason);
	printf("  %14s %12s %10s %10s  %s\n", "bytes", "time (us)", "algbw GB/s", "busbw GB/s",
	       "result");
	for (size_t i = 0; i < c->n_results; i++) {
		const struct bw_result *r = &c->results[i];

		printf("  %14.0f %12.1f %10.1f %10.1f  %s\n", r->bytes, r->time_us, r->algbw,
		       r->busbw, r->ok ? "verified" : "WRONG");
	}
}

int cmd_bench(int argc, char **argv)
{
	struct bench_cli cli = {0};
	struct fd_opt tun[FD_ARRAY_SIZE(bench_tunables)];
	struct fd_config cfg;
	struct fd_opt_table tables[] = {
	    {.rows = bench_rows, .n = FD_ARRAY_SIZE(bench_rows), .obj = &cli},
	    {.heading = "thresholds (as in `flightdeck check`):",
	     .rows = tun,
	     .n = FD_ARRAY_SIZE(tun),
	     .obj = &cfg},
	};
	struct fd_opt_parser p = {.cmd = "bench", .tables = tables, .n_tables = 2};
	struct fd_probe_ctx ctx = {0};
	struct fd_report rep = {0};
	struct bw_facts *f = calloc(1, sizeof(*f));
	char err[512], host[256] = "localhost";
	int ret = FD_EXIT_USAGE;
	int64_t t0 = fd_mono_ns();
	double t_wall = fd_wall_s();
	size_t ntun;
	const struct fd_opt *rows = fd_config_rows(&ntun);
	struct fd_opt_table all = {.rows = rows, .n = ntun, .obj = &cfg};

	if (!f) {
		fd_err("bench: out of memory");
		return FD_EXIT_CANT_RUN;
	}
	for (size_t i = 0; i < FD_ARRAY_SIZE(tun); i++) {
		tun[i] = *fd_opt_find(&all, 1, bench_tunables[i], NULL);
		tun[i].flags |= FD_OPT_NOKEY; /* bench reads no config file */
	}
	/* tun[1], gpubench-timeout: a whole sweep, not check's 120 s preflight budget */
	tun[1].def = "300s";
	fd_config_init(&cfg);
	fd_opt_set(&tun[1], &cfg, tun[1].def, err, sizeof(err));
	ret = fd_opt_main(&p, argc, argv, usage);
	if (ret >= 0)
		goto out;
	ret = FD_EXIT_USAGE; /* what a failure below exits with, unless it says otherwise */
	ctx.cfg = &cfg;
	ctx.level = cli.full ? FD_LEVEL_FULL : FD_LEVEL_STANDARD;
	if (bw_probe(&ctx, f)) {
		fd_err("bench: %s", ctx.err[0] ? ctx.err : "cannot probe the GPUs");
		ret = FD_EXIT_CANT_RUN;
		goto out;
	}
	if (!f->pci_gpus || f->state == BW_NOT_BUILT) {
		fd_err("bench: nothing to measure: %s",
		       !f->pci_gpus ? "no NVIDIA GPU on the PCI bus" : f->why);
		ret = FD_EXIT_CANT_RUN;
		goto out;
	}
	bw_judge(f, &cfg, &rep);
	gethostname(host, sizeof(host) - 1);
	struct fd_report_meta meta = {.node = host,
				      .level = fd_level_name(ctx.level),
				      .duration_ms = (fd_mono_ns() - t0) / 1000000,
				      .timestamp = t_wall};

	ret = fd_report_verdict(&rep) == FD_FAIL ? FD_EXIT_UNFIT : FD_EXIT_FIT;
	if (cli.json) {
		char *doc = fd_report_json(&rep, &meta);

		if (!doc) {
			ret = FD_EXIT_CANT_RUN;
			goto out;
		}
		printf("%s\n", doc);
		free(doc);
		goto out;
	}
	if (f->state == BW_RAN) {
		printf("flightdeck bench: %s (%zu GPU(s))\n\n", f->path, f->n_gpus);
		printf("  %-3s %-14s %-28s %10s %8s %9s %9s\n", "GPU", "bus id", "model",
		       "HBM GB/s", "HBM", "H2D GB/s", "D2H GB/s");
		for (size_t i = 0; i < f->n_gpus; i++) {
			const struct bw_gpu *g = &f->gpus[i];

			printf("  %-3d %-14s %-28.28s %10.1f %8s %9.1f %9.1f\n", g->index,
			       g->bus_id, g->name, g->hbm_gbps, g->hbm_ok ? "verified" : "WRONG",
			       g->h2d_gbps, g->d2h_gbps);
		}
		print_collective("custom P2P", &f->p2p);
		print_collective("NCCL", &f->nccl);
		printf("\n");
	}
	fd_report_text(stdout, &rep, &meta, 0, 0);
out:
	fd_report_free(&rep);
	fd_probe_ctx_release(&ctx);
	free(f);
	return ret;
}
