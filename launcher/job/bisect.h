/*
 * bisect.h - the bisection that names the node slowing the job-wide allreduce of `check --job`
 * (docs/architecture.md, "The allreduce across nodes"), a pure function of each round's set
 * results: no socket, no clock, no process.
 *
 * Round 0 tests the whole job as one set. When a set's allreduce is below the floor, the two
 * halves of the suspects are tested at the same time (disjoint sets), and the slow half is
 * recursed into until one node is left. The last two suspects are told apart by testing each
 * against a node already proven good. The outcomes are bw.h's BWW_* values, the ones the
 * bw.world finding is judged from.
 */
#ifndef FD_BISECT_H
#define FD_BISECT_H

#include "bw.h"

#define FD_BISECT_SETS 2 /* at most two sets run at once: the halves, or a pair's two tests */

/* fd_bisect_next's answer while the bisection goes on; its outcomes are bw.h's BWW_*. */
#define FD_BISECT_MORE (-1)

struct fd_bisect_set {
	int *nodes; /* into the state's buffer */
	int n;
};

struct fd_bisect {
	int n;		/* nodes in the job */
	int round;	/* 0: the whole job */
	int max_rounds; /* 1 + ceil(log2 n): the whole job, the halvings, the last pair */
	int nsets;	/* sets to test this round */
	struct fd_bisect_set sets[FD_BISECT_SETS];
	int *buf;      /* n + FD_BISECT_SETS node numbers: the sets' members */
	int *suspects; /* [n]: the slow set being narrowed */
	int nsus;
	unsigned char *good; /* [n]: in a set that passed */
	int kind;	     /* what this round tests (world.c) */
	int b_alone;	     /* halves: B had one node and no good partner: not tested */
	int also_slow;	     /* both halves (or both pair tests) were below: the slower is named */
	int culprit[2];
};

/* One set's result: passed (its allreduce met the floor and verified) and its busbw. */
struct fd_bisect_result {
	int pass;
	double busbw;
};

/* Starts with the whole job, nodes 0..n-1, as round 0's one set. 0 or -ENOMEM / -EINVAL. */
int fd_bisect_init(struct fd_bisect *b, int n);
void fd_bisect_free(struct fd_bisect *b);
/*
 * Takes the results of this round's sets (res[i] for b->sets[i]) and plans the next round.
 * Returns FD_BISECT_MORE with b->sets filled, or the outcome (BWW_PASS, BWW_CULPRIT, ...).
 */
int fd_bisect_next(struct fd_bisect *b, const struct fd_bisect_result *res);

#endif
