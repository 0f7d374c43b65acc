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
 *
 * Before it, when ib.pairs is selected, the RDMA pairs phase (launcher/job/pairs.h): for each
 * pair of a round the coordinator tells the server node its role (PAIR); the node starts one
 * ib_write_bw server per InfiniBand port (rail) and answers READY with their TCP ports; the
 * coordinator relays them, with the address by which it reaches the server, to the client
 * node (PAIR), which runs the rails one after another and reports what it measured
 * (PAIR_RESULT), as the server does when its servers have ended. PAIRS_DONE ends that phase.
 */
#ifndef FD_WORLD_H
#define FD_WORLD_H

#include <stddef.h>
#include <stdint.h>

#define FD_WORLD_VERSION 2   /* the FR_WORLD payload's own version byte (2: the pairs) */
#define FD_WORLD_ID_MAX	 257 /* an ncclUniqueId (128 bytes) as hex, and the NUL */
#define FD_WORLD_TEXT	 512 /* a result's reason, a finding's message */
#define FD_WORLD_RAILS	 16  /* the InfiniBand ports one pair test runs over, at most */

enum fd_world_kind {
	FW_START = 1,	/* coordinator -> node: run gpubench as rank of size (id "" : make one) */
	FW_ID,		/* rank 0's node -> coordinator: the id its gpubench printed */
	FW_RESULT,	/* node -> coordinator: what its gpubench measured, or why nothing */
	FW_ABORT,	/* coordinator -> node: the set is decided; kill your gpubench */
	FW_DONE,	/* coordinator -> node: the phase is over; the job's finding, yours */
	FW_PAIR,	/* coordinator -> node: serve (role 1) or connect to addr (role 2) */
	FW_READY,	/* server -> coordinator: its rails' servers listen on these TCP ports */
	FW_PAIR_RESULT, /* node -> coordinator: what its side of the pair test gave */
	FW_PAIRS_DONE,	/* coordinator -> node: the pairs phase is over; its finding, yours */
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

enum fd_world_role {
	FWR_NONE = 0,
	FWR_SERVER,
	FWR_CLIENT,
	FWR_MAX
};

/* What one rail of a pair test gave (PAIR_RESULT), or was not tested for. */
enum fd_rail_outcome {
	FRO_MEASURED = 0, /* client: a report row; server: its server ended by itself */
	FRO_FAILED,	  /* no report (refused, an error, garbage): text says the first */
	FRO_HUNG,	  /* killed at the deadline */
	FRO_MAX,
};

/* One InfiniBand port of a pair test: the node's own (READY, PAIR_RESULT) or its peer's. */
struct fd_world_rail {
	char dev[64]; /* the HCA, mlx5_0 */
	int ib_port;  /* its port number, 1.. */
	int tcp_port; /* READY and the client's PAIR: the server's perftest port */
	double rate;  /* the port's active rate, Gb/s */
	double gbps;  /* PAIR_RESULT of a client: the average it measured, Gb/s */
	int outcome;  /* PAIR_RESULT: enum fd_rail_outcome */
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
	/* the pairs (version 2): PAIR, READY, PAIR_RESULT; PAIRS_DONE takes DONE's fields */
	int role;	      /* enum fd_world_role: PAIR and PAIR_RESULT */
	int peer;	      /* the other node of the pair; -1 */
	uint32_t duration_ms; /* PAIR: ib_write_bw -D, the same for both sides */
	int skip;	      /* PAIR_RESULT: this side cannot test (no tool, no port): text */
	char addr[64];	      /* the client's PAIR: the server's IPv4 address */
	int nrails;
	struct fd_world_rail rails[FD_WORLD_RAILS];
};

#endif
