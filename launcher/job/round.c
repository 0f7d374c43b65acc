/*
 * round.c - the end of a round of the allreduce across nodes (see round.h).
 */
#include "round.h"
#include "bw.h"

#include <string.h>

int fd_round_node_problem(int outcome)
{
	return outcome == FWO_NO_GPU || outcome == FWO_HUNG || outcome == FWO_NO_ID ||
	       outcome == FWO_FAILED;
}

enum fd_round_fault fd_round_fault(const struct fd_round_set *sets, int nsets, int *set, int *rank)
{
	int no_gpu_set = -1, no_gpu_rank = -1;

	for (int i = 0; i < nsets; i++) {
		const struct fd_round_set *s = &sets[i];

		for (int k = 0; k < s->n; k++) {
			int o = s->res[k].outcome;

			if (!s->got[k] || !fd_round_node_problem(o))
				continue;
			if (o == FWO_NO_GPU) {
				if (no_gpu_set < 0) {
					no_gpu_set = i;
					no_gpu_rank = k;
				}
				continue;
			}
			*set = i;
			*rank = k;
			return FD_ROUND_FAILED;
		}
	}
	if (no_gpu_set < 0)
		return FD_ROUND_CLEAN;
	*set = no_gpu_set;
	*rank = no_gpu_rank;
	return FD_ROUND_NO_GPU;
}

void fd_round_sum(const struct fd_round_set *s, const struct fd_config *cfg,
		  struct fd_round_sum *out)
{
	double lo = -1;

	memset(out, 0, sizeof(*out));
	out->ok = 1;
	out->all_ran = 1;
	for (int k = 0; k < s->n; k++) {
		const struct fd_world_msg *r = &s->res[k];
		int ran = s->got[k] && r->outcome == FWO_RAN;
		double b = ran ? r->busbw : 0;

		if (!ran)
			out->all_ran = 0;
		else if (!r->ok)
			out->ok = 0;
		if (lo < 0 || b < lo) {
			lo = b;
			out->algbw = s->got[k] ? r->algbw : 0;
		}
		if (ran) {
			out->bytes = r->bytes;
			out->nranks = r->nranks > out->nranks ? r->nranks : out->nranks;
			out->nodes = r->nodes > out->nodes ? r->nodes : out->nodes;
		}
	}
	out->busbw = lo < 0 ? 0 : lo;
	out->pass = out->all_ran && bw_world_passes(cfg, out->busbw, out->ok);
}
