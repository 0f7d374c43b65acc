/*
 * pairs_run.h - the RDMA write test between node pairs in `flightdeck check --job` (ib.pairs;
 * docs/architecture.md, "RDMA between node pairs"). Two parts on the check's event loop, as
 * the allreduce's (allreduce.h):
 *
 *   the runner, on every node: told by node 0 (PAIR) to serve or to connect, it runs its side
 *     in a worker process (checks/ib_bw.c's ib_pair_* block, the loop must not), which writes
 *     READY and PAIR_RESULT messages back through a pipe; the runner forwards them to node 0.
 *     A worker is killed at its deadline or with the phase: no child outlives the check.
 *   the driver, on node 0: it plans the rounds (pairs.h), relays each server's TCP ports and
 *     address to its client, judges each pair against both ends' port rates, and ends the
 *     phase with the job's ib.pairs finding sent to every node (PAIRS_DONE), each told
 *     whether it is named.
 */
#ifndef FD_PAIRS_RUN_H
#define FD_PAIRS_RUN_H

#include "config.h"
#include "group.h"
#include "loop.h"
#include "world.h"

struct pairs_runner;
struct pairs_driver;

/* 0 or -ENOMEM / -ENOSPC (the loop's timers). */
int pairs_runner_new(struct pairs_runner **out, struct fd_loop *loop, struct fd_group *g,
		     const struct fd_config *cfg);
/* PAIR: runs this node's side (a worker still running is killed first). */
void pairs_runner_on(struct pairs_runner *r, const struct fd_world_msg *m);
/* Kills a worker still running, with its ib_write_bw, and reaps it. */
void pairs_runner_free(struct pairs_runner *r);

/* Node 0: plans round 0 and sends its orders. 0 or -errno. */
int pairs_driver_new(struct pairs_driver **out, struct fd_loop *loop, struct fd_group *g,
		     const struct fd_config *cfg);
/* READY and PAIR_RESULT from node `from`. */
void pairs_driver_on(struct pairs_driver *d, int from, const struct fd_world_msg *m);
void pairs_driver_free(struct pairs_driver *d);

#endif
