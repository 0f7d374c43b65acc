/*
 * round.h - the end of one round of the allreduce across nodes, as pure functions of what the
 * round's test sets reported (docs/architecture.md, "The allreduce across nodes"): which node
 * ended the phase by failing, and what a set measured. No socket, no clock: unit tested alone.
 */
#ifndef FD_ROUND_H
#define FD_ROUND_H

#include "config.h"
#include "world.h"

#include <stdint.h>

/* One test set as node 0 holds it: its nodes in rank order and what each reported. */
struct fd_round_set {
	uint32_t id;
	int *nodes, n;
	struct fd_world_msg *res; /* [n], by the node's rank in the set */
	unsigned char *got;	  /* [n]: res[k] is in */
	int ngot, relayed, decided;
};

/* A node-level problem (no GPU, hung, no id, failed): its set is decided without the rest. */
int fd_round_node_problem(int outcome);

enum fd_round_fault {
	FD_ROUND_CLEAN = 0, /* every node that reported ran its gpubench (or was aborted) */
	FD_ROUND_FAILED,    /* a node's gpubench hung, gave no id or failed: that node */
	FD_ROUND_NO_GPU,    /* no node failed, but one has no GPU: the phase is a skip */
};

/*
 * Which node ends the phase: the first that failed, in set and rank order, else the first
 * without a GPU. Returns the fault with *set and *rank naming the node (untouched when clean).
 */
enum fd_round_fault fd_round_fault(const struct fd_round_set *sets, int nsets, int *set, int *rank);

/* What one set measured: the slowest rank's busbw decides, as the allreduce waits for it. */
struct fd_round_sum {
	double busbw;	   /* the lowest of its ranks (0 for a rank that did not run) */
	double algbw;	   /* the rank with that busbw */
	double bytes;	   /* the largest message */
	int ok;		   /* every rank that ran verified its sums */
	int all_ran;	   /* every rank reported a world document */
	int nranks, nodes; /* the largest the ranks reported */
	int pass;	   /* all ran, sums verified, busbw at the floor (bw_world_passes) */
};

void fd_round_sum(const struct fd_round_set *s, const struct fd_config *cfg,
		  struct fd_round_sum *out);

#endif
