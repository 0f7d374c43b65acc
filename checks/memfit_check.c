/*
 * memfit_check.c - area memfit of `flightdeck check`: the job described by the `memfit`
 * tunable (the options of `flightdeck memfit`) must fit in the least free GPU's memory.
 */
#include "check.h"
#include "config.h"
#include "memfit_args.h"
#include "memfit_check.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define GIB 1073741824.0

int memfit_probe(struct fd_probe_ctx *ctx, void *facts)
{
	struct memfit_facts *f = facts;
	char err[400];

	if (!ctx->cfg->memfit[0])
		return 0;
	if (fd_memfit_args_parse_string(ctx->cfg->memfit, &f->args, err, sizeof(err))) {
		snprintf(ctx->err, sizeof(ctx->err), "--memfit: %s", err);
		return -EINVAL; /* a usage error: exit 2 */
	}
	f->described = 1;
	if (f->args.gpu_mem) {
		f->free = (double)f->args.gpu_mem;
		snprintf(f->source, sizeof(f->source), "--gpu-mem");
	} else {
		f->free = fd_memfit_gpu_free(&f->ngpus, f->why, sizeof(f->why));
		snprintf(f->source, sizeof(f->source), "free on the least free of %d GPU(s)",
			 f->ngpus);
	}
	return 0;
}

void memfit_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct memfit_facts *f = facts;
	struct fd_memfit r;
	struct fd_memfit_suggestion sg[1];
	char need[48], have[48];

	(void)cfg;
	if (!f->described) {
		fd_report_add(
		    rep, "memfit.fit", FD_SKIP, NULL, "job",
		    "no job described: give --memfit \"--model NAME --seq N --gpus N ...\"");
		return;
	}
	fd_memfit_compute(&f->args.model, &f->args.job, &r);
	snprintf(need, sizeof(need), "%.1f GiB", r.total / GIB);
	if (f->free <= 0) {
		fd_report_add(
		    rep, "memfit.fit", FD_SKIP, NULL, f->args.model.name,
		    "needs %s per GPU; GPU memory unknown (%s): add --gpu-mem to --memfit", need,
		    f->why);
		return;
	}
	snprintf(have, sizeof(have), "<= %.1f GiB", f->free / GIB);
	enum fd_memfit_verdict v = fd_memfit_verdict(&r, f->free);

	if (v == FD_MEMFIT_UNKNOWN) {
		fd_report_addv(rep, "memfit.fit", FD_SKIP, NULL, f->args.model.name, need, have,
			       "model states fit (%s, %s); activations unknown without the shape",
			       need, f->source);
		return;
	}
	if (v == FD_MEMFIT_YES) {
		fd_report_addv(rep, "memfit.fit", FD_PASS, NULL, f->args.model.name, need, have,
			       "fits: %s per GPU, %.1f GiB %s", need, f->free / GIB, f->source);
		return;
	}
	int n = fd_memfit_suggest(&f->args.model, &f->args.job, f->free, sg, 1);

	fd_report_addv(rep, "memfit.fit", FD_FAIL, "MEMFIT_OOM", f->args.model.name, need, have,
		       "needs %s per GPU, %.1f GiB %s; %s%s%s", need, f->free / GIB, f->source,
		       n ? "cheapest fix: " : "no single change fits", n ? sg[0].change : "",
		       n && !sg[0].fits ? " (still too big)" : "");
}
