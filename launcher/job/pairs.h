/*
 * pairs.h - which node pairs the RDMA write test between nodes of `check --job` runs, round by
 * round, and what their results say about each node (docs/architecture.md, "RDMA between node
 * pairs"). A pure function of the results: no socket, no clock, no process.
 *
 * Round 0 is a perfect matching, (0,1) (2,3) ...: every node is tested once, all pairs at the
 * same time (each pair is its own two HCAs and its own path through the fabric). A pair that
 * meets the floor proves both its nodes good. A slow or failed pair makes both ends suspects,
 * and each suspect is then tested against a node proven good, as the allreduce's bisection
 * tells its last pair apart: slow again, it is slow with every peer it met and is named as the
 * node; fast, it is good, and a slow pair whose two ends both proved good is named as the link
 * between them. A node left out of round 0 (an odd count) is tested against a good node the
 * same way, and needs two slow results, one with a good node, to be named. Without any good
 * node (two nodes, or every pair slow) the suspects are tried against each other in pairs not
 * tested yet; what stays unexplained is named as links.
 *
 * The first node of a pair serves (its ib_write_bw listens), the second connects.
 */
#ifndef FD_PAIRS_H
#define FD_PAIRS_H

enum fd_pair_verdict {
	FDP_PENDING = 0,
	FDP_OK,	    /* every rail met the floor */
	FDP_SLOW,   /* a rail measured below the floor */
	FDP_FAILED, /* a rail gave no report, or a side hung */
	FDP_SKIP,   /* a side cannot test (no perftest, no active port, an IPv6 address) */
};

enum fd_pair_node {
	FDPN_UNTESTED = 0,
	FDPN_GOOD,    /* in a pair that met the floor */
	FDPN_SUSPECT, /* in a slow pair, not yet told apart */
	FDPN_BAD,     /* slow with every peer, one of them proven good */
	FDPN_SKIPPED, /* in a pair that could not test */
};

struct fd_pair {
	int a, b;    /* a serves, b connects */
	int round;   /* the round it ran in */
	int verdict; /* enum fd_pair_verdict */
	int skipper; /* FDP_SKIP: the node that cannot test (the other is tried again); -1 both */
};

#define FD_PAIRS_MAX_ROUNDS 8 /* a bound: each round resolves the suspects a good node meets */

struct fd_pairs {
	int n;
	int round;	    /* the round fd_pairs_next planned last; -1 before the first */
	int *state;	    /* [n] enum fd_pair_node */
	unsigned char *met; /* [n * n]: the pair was tested (either order) */
	struct fd_pair *p;  /* every pair planned, in order */
	int np, cap;
	int first; /* this round's pairs: p[first .. np) */
};

/* 0, or -EINVAL for fewer than 2 nodes, -ENOMEM. */
int fd_pairs_init(struct fd_pairs *s, int n);
void fd_pairs_free(struct fd_pairs *s);
/*
 * Takes this round's verdicts (already set in p[first .. np)) and plans the next round: the
 * number of its pairs, p[first .. np), or 0 when nothing is left to test (or the round bound
 * is reached). The first call plans round 0. -ENOMEM.
 */
int fd_pairs_next(struct fd_pairs *s);

/* What the rounds found, once fd_pairs_next has returned 0. */
struct fd_pairs_verdict {
	int ran, ok, slow, failed, skipped; /* pairs, by verdict */
	int nbad;			    /* nodes named as the node (FDPN_BAD) */
	int nlinks;			    /* slow or failed pairs explained by no bad node */
	int link[2];			    /* the first such pair's ends; -1 */
};

void fd_pairs_verdict(const struct fd_pairs *s, struct fd_pairs_verdict *v);
/* Whether node i is named: a bad node, or an end of an unexplained slow or failed pair. */
int fd_pairs_named(const struct fd_pairs *s, int i);

#endif
