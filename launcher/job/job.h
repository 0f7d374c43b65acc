/*
 * job.h - the job layer: what concerns the whole job rather than one node (docs/architecture.md,
 * "Layers", "The node group"). It sits between the commands and the layers below them because
 * it needs both the checks and the node group:
 *
 *   the node group's flags, shared by `flightdeck run` and `flightdeck check --job`: one table
 *     of rows (their own struct, so both commands embed the same section), and how they become
 *     an fd_group_conf (flags.c);
 *   `check --job`: every node's verdict through the group, the allreduce across nodes between
 *     its two rounds (check_job.c, allreduce_runner.c, allreduce_driver.c, round.c, bisect.c).
 */
#ifndef FD_JOB_H
#define FD_JOB_H

#include "check.h"
#include "config.h"
#include "group.h"
#include "opts.h"
#include "world.h"

#include <stdint.h>

struct fd_group_flags {
	int node_rank;		/* --node-rank; -1 = from the environment */
	const char *nnodes_arg; /* --nnodes: N, MIN:MAX, "auto" or NULL (parse_nnodes) */
	int spares;		/* --spares */
	const char *coordinator;
	const char *bind;
	const char *token_file;
	int token_from_job;
	int64_t peer_interval_ms, peer_timeout_ms, join_timeout_ms;
	const char *exclude_file;
	int send_threads; /* --send-threads; 0 = auto */
	int print_group;
};

extern const struct fd_opt fd_group_rows[];
extern const size_t fd_group_nrows;

#define FD_GROUP_HEADING                                                                           \
	"the node group (one flightdeck per node; node 0, the coordinator, decides for all):\n"    \
	"  A failure on any node stops every node; they restart together from the newest\n"        \
	"  checkpoint complete on every node, within one --max-restarts. A node lost ends\n"       \
	"  the job on every node (exit 75), unless a spare (--spares) takes its place.\n"          \
	"  With one node (the default) nothing is opened."

/*
 * Who this node is in the group and how the group is reached: the flags, then the
 * scheduler's environment (launcher/group/ident.c), the token. With --print-group, prints and returns
 * 1. 0, or -1 after saying why on stderr.
 */
int fd_group_resolve(const struct fd_group_flags *f, struct fd_group_conf *conf);

/* What `check --job` needs for the allreduce across nodes (allreduce_driver.c). */
struct fd_job_world {
	const struct fd_config *cfg; /* gpubench, its timeout, the floors */
	int want;		     /* node 0: run it (a check judged on it is selected) */
	int want_pairs;		     /* node 0: the RDMA test between node pairs (ib.pairs) */
	int full;		     /* --level full: gpubench's larger sweep */
};

/*
 * `flightdeck check --job`: this node's verdict (its report: unfit, with one "check code
 * subject" line per failure) to the group, and the group's answer: 0 when every node is fit,
 * 69 when any is unfit (node 0 prints the table and writes --exclude-file), 75 when a node is
 * lost or never joins. When every node is fit and node 0 wants it, the allreduce across the
 * nodes runs next (the slowest node named by bisection), and the verdicts go to node 0 once
 * more with it. *facts then holds the job's finding for the checks judged on it (have_world).
 */
int fd_job_check(const struct fd_group_conf *conf, const struct fd_report *rep,
		 const struct fd_job_world *jw, struct fd_job_facts *facts);

#endif
