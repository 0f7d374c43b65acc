/*
 * allreduce.h - the NCCL allreduce across nodes in `flightdeck check --job`
 * (docs/architecture.md, "The node group", "The allreduce across nodes"). Two parts, both on
 * the check's event loop:
 *
 *   the runner, on every node: told by node 0 (START) to run flightdeck-gpubench as rank R of
 *     a world of N, it starts it as a child under a deadline, sends rank 0's NCCL id back the
 *     moment gpubench prints it (ID), and reports what gpubench gave (RESULT);
 *   the driver, on node 0: it plans the test sets (launcher/group/world.c's bisection), asks each
 *     set's first node for an id and relays it to the others, gathers the results, re-tests
 *     halves of a slow set, and ends the phase with the job's bw.world finding (checks/bw.c)
 *     sent to every node (DONE), each node told whether it is the one named.
 */
#ifndef FD_ALLREDUCE_H
#define FD_ALLREDUCE_H

#include "config.h"
#include "group.h"
#include "loop.h"
#include "world.h"

struct world_runner;
struct world_driver;

/* 0 or -ENOMEM / -ENOSPC (the loop's timers). */
int world_runner_new(struct world_runner **out, struct fd_loop *loop, struct fd_group *g,
		     const struct fd_config *cfg);
/* START: runs gpubench for it (one at a time: a running one is killed first); ABORT: kills it. */
void world_runner_on(struct world_runner *r, const struct fd_world_msg *m);
/* Kills a gpubench still running and reaps it: no child outlives the check. */
void world_runner_free(struct world_runner *r);

/*
 * Node 0: starts the phase (the whole job as the first set). gpubench runs under
 * cfg->gpubench_timeout_ms on every node, with --full when full. 0 or -errno.
 */
int world_driver_new(struct world_driver **out, struct fd_loop *loop, struct fd_group *g,
		     const struct fd_config *cfg, int full);
/* ID and RESULT from node `from`. */
void world_driver_on(struct world_driver *d, int from, const struct fd_world_msg *m);
void world_driver_free(struct world_driver *d);

#endif
