/*
 * memfit_check.h - the memfit area of `flightdeck check` (memfit_check.c).
 */
#ifndef FD_MEMFIT_CHECK_H
#define FD_MEMFIT_CHECK_H

#include "check.h"
#include "memfit_args.h"

struct memfit_facts {
	int described; /* the memfit tunable was given */
	struct fd_memfit_args args;
	double free; /* bytes; 0 = unknown */
	int ngpus;
	char source[96];
	char why[256];
};

int memfit_probe(struct fd_probe_ctx *ctx, void *facts);
void memfit_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

#endif
