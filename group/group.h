/*
 * group.h - the node group: every node's agent contributes its state, rank 0 decides, every
 * agent applies the same decision (DESIGN.md, "The heartbeat barrier").
 *
 * The supervisor's state machine talks only to this interface. This version has the size-1
 * local transport; TCP and MPI transports add an `exchange` that carries fd_node_state to the
 * rank-0 agent and the fd_decision back, and fd_group_decide stays the one place decisions
 * are made.
 */
#ifndef FD_GROUP_H
#define FD_GROUP_H

#include <limits.h>
#include <stdint.h>

enum fd_fail {
	FD_FAIL_NONE = 0,
	FD_FAIL_STARTUP, /* a rank never beat within --startup-timeout */
	FD_FAIL_STALL,	 /* a rank stopped making progress for --stall-timeout */
	FD_FAIL_CRASH,	 /* the command exited non-zero or died by a signal */
	FD_FAIL_TIMEOUT, /* the whole job ran past --timeout */
	FD_FAIL_PREFLIGHT,
};

struct fd_node_state {
	int node;
	int failure;		   /* FD_FAIL_*, since the last decision */
	int64_t max_step;	   /* the furthest step any rank reached this attempt; -1 */
	char checkpoint[PATH_MAX]; /* the newest complete checkpoint this node sees; "" */
};

struct fd_policy {
	int max_restarts;      /* restarts allowed in all */
	int no_progress_limit; /* give up after this many restarts in a row without progress */
};

/* What rank 0 remembers between decisions. Zero it before the first. */
struct fd_group_history {
	int restarts;
	int no_progress;       /* restarts in a row that resumed where the last one did */
	int64_t last_max_step; /* the furthest step of the attempt before the last restart */
	char last_resume[PATH_MAX];
	int have_last;
};

enum fd_verdict {
	FD_CONTINUE = 0,
	FD_RESTART,
	FD_STOP,
};

enum fd_stop_why {
	FD_STOP_FAILURE = 1, /* a timeout or preflight failure: no restart can help */
	FD_STOP_BUDGET,	     /* --max-restarts spent */
	FD_STOP_NO_PROGRESS, /* restarts keep resuming from the same place and getting no further */
};

struct fd_decision {
	int verdict;		   /* FD_CONTINUE, FD_RESTART, FD_STOP */
	int stop_why;		   /* FD_STOP_*, with FD_STOP */
	int failure;		   /* the failure decided on */
	int node;		   /* the node it came from; -1 */
	char checkpoint[PATH_MAX]; /* where every node resumes from, with FD_RESTART */
};

/* The decision, a pure function of every node's state, the policy and the history. */
void fd_group_decide(const struct fd_node_state *nodes, int n, const struct fd_policy *pol,
		     struct fd_group_history *h, struct fd_decision *d);

struct fd_group;
struct fd_group_ops {
	const char *name;
	/* Contributes mine; fills d with the decision every node applies. Deadline-bounded. */
	int (*exchange)(struct fd_group *g, const struct fd_node_state *mine,
			struct fd_decision *d);
	void (*close)(struct fd_group *g);
};

struct fd_group {
	const struct fd_group_ops *ops;
	int rank, size;
	struct fd_policy policy;
	struct fd_group_history history; /* used at rank 0 */
};

/* The size-1 group: this node is rank 0 and decides alone. */
int fd_group_local(struct fd_group *g, const struct fd_policy *pol);

#endif
