/*
 * world.h - the job-wide NCCL allreduce that `flightdeck check --job` runs through the node
 * group (docs/architecture.md, "The node group", "The allreduce across nodes"): the messages
 * its agents exchange (carried by FR_WORLD frames, encoded in frame.c). The bisection that
 * names the slowest node is the job layer's (launcher/job/bisect.h).
 *
 * A test set is a list of nodes that run one flightdeck-gpubench each, as one NCCL world: the
 * coordinator asks the set's first node to start its gpubench as world rank 0 (START, no id);
 * that gpubench makes the ncclUniqueId and prints it; the node sends it back (ID); the
 * coordinator relays it to every other node of the set (START with the id); each reports its
 * gpubench's result (RESULT). When the set's allreduce is below the floor, halves of the
 * suspects are tested again (disjoint sets at the same time), and the slow half is recursed
 * into until one node is left; the last pair is told apart by testing each against a node
 * already proven good. The coordinator ends the phase with DONE to every node.
 */
#ifndef FD_WORLD_H
#define FD_WORLD_H

#include <stddef.h>
#include <stdint.h>

#define FD_WORLD_VERSION 1   /* the FR_WORLD payload's own version byte */
#define FD_WORLD_ID_MAX	 257 /* an ncclUniqueId (128 bytes) as hex, and the NUL */
#define FD_WORLD_TEXT	 512 /* a result's reason, a finding's message */

enum fd_world_kind {
	FW_START = 1, /* coordinator -> node: run gpubench as rank of size (id "" : make one) */
	FW_ID,	      /* rank 0's node -> coordinator: the id its gpubench printed */
	FW_RESULT,    /* node -> coordinator: what its gpubench measured, or why nothing */
	FW_ABORT,     /* coordinator -> node: the set is decided; kill your gpubench */
	FW_DONE,      /* coordinator -> node: the phase is over; the job's finding, yours */
	FW_KIND_MAX,
};

/* What a node's gpubench gave (FW_RESULT). */
enum fd_world_outcome {
	FWO_RAN = 0, /* a world document: busbw, ok */
	FWO_NO_GPU,  /* no CUDA device here: the test cannot run (a skip, never a pass) */
	FWO_TIMEOUT, /* it gave up at its own deadline (waiting for its peers): not its fault */
	FWO_HUNG,    /* killed at flightdeck's deadline: this node hangs */
	FWO_NO_ID,   /* rank 0 never printed the id (or printed garbage) */
	FWO_FAILED,  /* crashed, exited non-zero, printed no document, could not start */
	FWO_ABORTED, /* killed because the coordinator said the set was decided */
	FWO_MAX,
};

struct fd_world_msg {
	int kind;
	uint32_t
	    set; /* the test set, unique within the phase: later messages of an old one are dropped */
	/* START */
	int rank, size;
	uint32_t timeout_ms;	  /* gpubench's deadline, the same for every node of the set */
	int full;		  /* --full's sweep */
	char id[FD_WORLD_ID_MAX]; /* START (rank > 0) and ID: lowercase hex, nothing else */
	/* RESULT */
	int outcome; /* FWO_* */
	int ok;	     /* every element of the sums verified */
	int nranks, nodes;
	double bytes, busbw, algbw; /* at the largest message; GB/s */
	/* DONE: the job's finding, for every node's report; unfit: this node is named */
	int status; /* enum fd_status of checks/ (pass, warn, fail, skip): a number here */
	int unfit;
	char code[32];
	char subject[64];
	char value[96];
	char expected[96];
	char text[FD_WORLD_TEXT]; /* RESULT: gpubench's reason; DONE: the finding's message */
};

#endif
