/*
 * group.h - the node group: every node's agent submits its state, one node decides, every
 * agent applies the same decision (docs/architecture.md, "The node group").
 *
 * The interface is asynchronous, because a real transport waits on its peers: the supervisor
 * submits its node's state (grp_submit) and goes on running its event loop; the decision
 * comes back through the on_decision callback, never as the return value of the submit. A
 * peer may also stop the job at any moment, in any phase of this node (on_stop). A transport
 * owns its file descriptors in the caller's fd_loop: the size-1 local group owns an eventfd,
 * so that even its decision, made on the spot, is delivered from the loop like a peer's
 * would be and the supervisor has one code path.
 *
 * fd_group_decide is the one place a decision is made, for every node count and for every
 * failure (a preflight that found this node unfit included); fd_decision_exit_code turns a
 * decision into the exit status of `flightdeck run`.
 */
#ifndef FD_GROUP_H
#define FD_GROUP_H

#include "exits.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FD_GROUP_CKPTS 16   /* the newest complete checkpoints a node reports */
#define FD_DETAIL_MAX  1024 /* a node's findings, for the coordinator's table */
#define FD_WHY_MAX     256

/*
 * Exit codes of `flightdeck run`, by the names the group's decision (fd_decision_exit_code)
 * and the supervisor use; their meanings are core's table (exits.h). Otherwise run exits with
 * the command's own status (128+N when the command was killed by signal N), as a shell would.
 */
enum {
	FD_RUN_USAGE = FD_EXIT_USAGE,
	FD_RUN_PREFLIGHT = FD_EXIT_JOB_UNFIT,
	FD_RUN_PEER_LOST = FD_EXIT_PEER_LOST,
	FD_RUN_STALLED = FD_EXIT_STALLED,
	FD_RUN_TIMEOUT = FD_EXIT_TIMEOUT,
	FD_RUN_INTERNAL = FD_EXIT_INTERNAL,
	FD_RUN_NOEXEC = FD_EXIT_NOEXEC,
	FD_RUN_NOTFOUND = FD_EXIT_NOTFOUND,
};

/* What went wrong on a node, in rising gravity: of several, the gravest is decided on. */
enum fd_fail {
	FD_FAIL_NONE = 0,
	FD_FAIL_STARTUP,   /* a rank never beat within --startup-timeout */
	FD_FAIL_STALL,	   /* a rank stopped making progress for --stall-timeout */
	FD_FAIL_CRASH,	   /* the command exited non-zero or died by a signal */
	FD_FAIL_TIMEOUT,   /* the whole job ran past --timeout */
	FD_FAIL_PREFLIGHT, /* the preflight found the node unfit, or could not run */
	FD_FAIL_LAUNCH,	   /* the command could not be started (not found, not executable) */
	/*
	 * A training node was lost and a spare takes its place (only the deciding node sets it,
	 * for the lost node): the job restarts, so it ranks beside a crash (fd_fail_gravity),
	 * whatever its number, which is last only to keep the others' on the wire.
	 */
	FD_FAIL_LOST,
};

/* The order of gravity of the failures, for "the gravest wins". */
int fd_fail_gravity(int failure);

/*
 * Hot spares: the most a job may keep (--spares), and so the most training slots whose node
 * is not the slot's own number (a decision carries those, fd_decision.moved).
 */
#define FD_SPARES_MAX 64

#define FD_FR_PGS 4 /* process groups a STATE carries the flight recorder of */

/* One process group's flight-recorder wavefront on a node (fd_node_state.fr). */
struct fd_fr_wave {
	int pg;
	int64_t lo, hi;
	int lo_rank;
	char op[48];
};

/*
 * The facts of a node's state: every field but its texts, in the same order in the state as
 * the wire carries it (fd_node_state) and in the state as the deciding node keeps it
 * (fd_node_rec), so that a field added here is in both.
 *
 * status: the exit status the node's own event implies (128+N for signal N): with
 * FD_FAIL_CRASH the crash's, with FD_FAIL_LAUNCH flightdeck's (126, 127, 125), with `ended`
 * the command's own. opts_known, max_restarts, no_progress_limit, stall_timeout_ms: the
 * options the deciding node's decision depends on, as this node was started with them, for
 * the gate's comparison (opts_known 0: not sent, nothing compared). culprit_likely: the
 * node's verdict on a stall (the supervisor's culprit) is that one of its ranks, culprit_rank,
 * is likely the one every rank waits on (its line is the text culprit): the deciding node
 * names that node, not the first whose deadline expired. fr: its ranks' flight recorders at a
 * stall, per process group: the oldest of its ranks' newest collectives (lo, and the lowest
 * rank there) and the newest (hi, and that collective's name); the deciding node compares
 * them across nodes: a node whose lo is behind another's hi holds a rank that never entered
 * the collective the others wait in.
 */
#define FD_NODE_FACTS                                                                              \
	int node;                                                                                  \
	int failure;	  /* FD_FAIL_*, since the last decision */                                 \
	int status;	  /* the exit status its event implies */                                  \
	int ended;	  /* the command ended by itself, with no failure */                       \
	int stop_signal;  /* a terminating signal this node's agent received; 0 */                 \
	int64_t max_step; /* the furthest step any rank reached this attempt; -1 */                \
	int nckpts;	  /* how many of ckpts hold a name */                                      \
	int no_ckpt_dir;  /* no --checkpoint-dir: no say in the common checkpoint */               \
	int opts_known;	  /* the options below were sent */                                        \
	int max_restarts, no_progress_limit;                                                       \
	int64_t stall_timeout_ms;                                                                  \
	int culprit_likely, culprit_rank;                                                          \
	int nfr; /* flight recorders: 0, no dumps */                                               \
	struct fd_fr_wave fr[FD_FR_PGS]

/*
 * A node's state, as its agent submits it and the wire carries it (frame.c), with its texts
 * in place.
 */
struct fd_node_state {
	FD_NODE_FACTS;
	/*
	 * The complete checkpoints this node sees, by entry name under its --checkpoint-dir,
	 * newest first (at most FD_GROUP_CKPTS): the group resumes from the newest complete on
	 * every node, so a node whose copy of a step is missing or torn never resumes from it.
	 */
	char ckpts[FD_GROUP_CKPTS][NAME_MAX + 1];
	char detail[FD_DETAIL_MAX]; /* the unfit preflight's findings, one per line; "" */
	char culprit[FD_WHY_MAX];   /* with culprit_likely: the verdict's line */
	/* with culprit_likely: why the machine made its ranks the culprits (a driver's D
	 * state, an Xid since the job started): the node to drain; "" */
	char drain[FD_WHY_MAX];
};

/*
 * A node's state as the deciding node keeps it, one per node: the facts, and the texts by
 * pointer (never NULL), into the state it was made from (fd_node_rec_view) or into a block
 * of their exact size (fd_node_rec_keep). At 16,384 nodes a whole fd_node_state each would
 * be 100 MB, nearly all of it empty text. Every decision is made from these.
 */
struct fd_node_rec {
	FD_NODE_FACTS;
	const char *ckpts[FD_GROUP_CKPTS];
	const char *detail, *culprit, *drain;
};

/* An empty state: facts 0, texts "". */
void fd_node_rec_clear(struct fd_node_rec *r);
/* r borrows s's texts: valid while s is. */
void fd_node_rec_view(struct fd_node_rec *r, const struct fd_node_state *s);
/*
 * r gets s's facts and a copy of its texts in one block of their size, which replaces *block
 * (freed; NULL at first, free() it when done). 0 or -ENOMEM (r and *block untouched).
 */
int fd_node_rec_keep(struct fd_node_rec *r, char **block, const struct fd_node_state *s);
/* Whether a node sees the checkpoint of that entry name. */
int fd_node_has_ckpt(const struct fd_node_rec *r, const char *name);

/*
 * How the deciding node decides, set by the caller, so that every transport (the size-1 group,
 * the star's coordinator) makes the same decision from the same states (grp_decide).
 */
struct fd_policy {
	int max_restarts;      /* restarts allowed in all */
	int no_progress_limit; /* give up after this many restarts in a row without progress */
	/*
	 * A CONTINUE's master_port: native ranks' store listens on the deciding node, so every
	 * node must be told the same port. NULL: 0 (each node picks its own, if it needs one).
	 */
	int (*master_port)(void);
	/*
	 * Where the deciding node writes the unfit nodes' hosts (Slurm hostlist form, for sbatch
	 * --exclude) when a preflight stops the job; NULL or "": nowhere. Read while the group
	 * is open.
	 */
	const char *exclude_file;
};

/*
 * Attempts in a row that resumed from one checkpoint and crashed (or never beat) before any
 * progress past it, after which the group falls back to the next older one.
 */
#define FD_GROUP_FALLBACK 2

/* What the deciding node remembers between decisions. Zero it before the first. */
struct fd_group_history {
	int restarts;
	/*
	 * restarts in a row that resumed where the last one did and got no further, or that
	 * crashed before any progress past the checkpoint they resumed from
	 */
	int no_progress;
	int64_t last_max_step; /* the furthest step of the attempt before the last restart */
	char last_resume[PATH_MAX];
	int have_last;
	/* where the attempt now running resumed from: the first launch's, then each restart's */
	char resume[NAME_MAX + 1];
	/* attempts in a row that resumed from `struck` and crashed before any progress past it */
	char struck[NAME_MAX + 1];
	int strikes;
	/*
	 * The checkpoints fallen back from, oldest first: no restart resumes from them again
	 * until an attempt gets past their step (the trainer may have saved it again since).
	 */
	char skipped[FD_GROUP_CKPTS][NAME_MAX + 1];
	int nskipped;
};

enum fd_verdict {
	FD_CONTINUE = 0,
	FD_RESTART,
	FD_STOP,
};

enum fd_stop_why {
	FD_STOP_FAILURE = 1, /* a timeout, preflight or launch failure: no restart can help */
	FD_STOP_BUDGET,	     /* --max-restarts spent */
	FD_STOP_NO_PROGRESS, /* restarts keep resuming from the same place and getting no further */
	FD_STOP_SIGNAL,	     /* a node's agent was told to stop (SIGTERM, SIGINT, ...) */
	FD_STOP_ENDED,	     /* the command ended by itself: its status is the job's */
	FD_STOP_PEER_LOST,   /* a node was lost (closed, silent, never joined): exit 75 */
	FD_STOP_CONFIG,	     /* the nodes' flags do not make one job (a refused join): exit 2 */
};

/*
 * Everything a node needs to act on the decision and to say why, so that no node reads
 * state only the deciding node keeps.
 */
struct fd_decision {
	int verdict;	       /* FD_CONTINUE, FD_RESTART, FD_STOP */
	int stop_why;	       /* FD_STOP_*, with FD_STOP */
	int failure;	       /* the failure decided on, FD_FAIL_* */
	int node;	       /* the node it came from (or the stop, or the end); -1 */
	int status;	       /* that node's status (fd_node_state.status) */
	int stop_signal;       /* with FD_STOP_SIGNAL */
	int restarts;	       /* restarts decided so far, this one included */
	int no_progress;       /* restarts in a row without progress (history) */
	int64_t last_max_step; /* the furthest step before the last restart; -1 */
	/* the checkpoint's name where every node resumes from (FD_RESTART) or resumed from */
	char checkpoint[NAME_MAX + 1];
	uint32_t gen;	 /* the generation the decision opens (a restart's is one more) */
	int master_port; /* a CONTINUE's: the port native ranks' store uses on node 0; 0 */
	/* the deciding node's policy, which every node's messages say: not its own flags */
	int max_restarts, no_progress_limit;
	char why[FD_WHY_MAX]; /* a transport's own words: which node was lost, and how */
	/*
	 * Hot spares: the training nodes of the attempt it starts (CONTINUE) or leads to. nactive
	 * 0: every node trains in its own place (no spares). Else slots 0..nactive-1 train, slot
	 * i on node i unless moved says another node holds it; every other node is a spare (or
	 * out) and runs nothing. fd_decision_slot reads it.
	 */
	int nactive;
	int nmoved;
	struct {
		int slot, node;
	} moved[FD_SPARES_MAX];
};

/*
 * The training slot node holds under d (its NODE_RANK), or -1: a spare this attempt. Without
 * spares (nactive 0) every node holds its own.
 */
int fd_decision_slot(const struct fd_decision *d, int node);
/* The node that holds slot under d (slot itself unless moved). */
int fd_decision_node(const struct fd_decision *d, int slot);

/*
 * The flight recorder across nodes (each node's fr, at a stall): in a process group two or more
 * nodes reported, the first node whose oldest collective is behind the newest any node entered
 * holds a rank that never entered the collective the others wait in. Returns that node's index
 * in nodes, with line ("rank 5 never entered collective 17 of process group 0 (nccl:all_reduce;
 * its newest: 16); node 0's ranks wait in it"); -1 when the dumps tell nothing.
 */
int fd_group_fr_culprit(const struct fd_node_rec *nodes, int n, char *line, size_t len);

/*
 * The decision, a pure function of every node's state, the policy and the history. In order:
 * a stop signal on any node stops everyone; else the gravest failure (the first node with it
 * is named); timeouts, preflight and launch failures stop; others restart from the newest
 * checkpoint complete on every node unless the budget is spent or restarts make no progress
 * (counted once per decision, however many nodes failed); a command that ended by itself stops
 * with its status; else continue. A checkpoint that FD_GROUP_FALLBACK attempts in a row
 * resumed from and crashed on (FD_FAIL_CRASH, FD_FAIL_STARTUP) before any progress past it is
 * skipped: the restart falls back to the next older one, or the start, and its why says so.
 */
void fd_group_decide_recs(const struct fd_node_rec *nodes, int n, const struct fd_policy *pol,
			  struct fd_group_history *h, struct fd_decision *d);
/* The same from whole states (a size-1 group, the unit tests); -ENOMEM. */
int fd_group_decide(const struct fd_node_state *nodes, int n, const struct fd_policy *pol,
		    struct fd_group_history *h, struct fd_decision *d);

/*
 * The step a checkpoint's entry name gives: the number after "step" ("step-000030.pt",
 * "global_step1200", "epoch=2-step=500.ckpt"), else the only number in it ("checkpoint-500");
 * -1 when it gives none or is ambiguous.
 */
int64_t fd_ckpt_name_step(const char *name);

/*
 * A restart that falls back from a checkpoint says so in its why; this reads it back, for any
 * node: 1 with the name fallen back from in name, else 0.
 */
int fd_decision_fallback(const struct fd_decision *d, char *name, size_t len);

/*
 * The exit status of `flightdeck run` for a FD_STOP decision: 128+N for a stop signal, the
 * command's own status when it ended by itself, 124 for a timeout, 69 for an unfit node, the
 * launch's 125-127, and after spent restarts the last crash's own status or 86 after stalls.
 * -1 for a decision that does not stop.
 */
int fd_decision_exit_code(const struct fd_decision *d);

/* "crash", "stall", ...: the failure's name in the events log. */
const char *fd_fail_name(int failure);
/* "ended", "signal", "peer_lost", ...: why a decision stopped the job, for the events log. */
const char *fd_stop_why_name(int why);

struct fd_loop;
struct fd_group;
struct fd_world_msg;

struct fd_group_callbacks {
	/* The answer to a grp_submit. d is valid during the call only. */
	void (*on_decision)(void *ctx, const struct fd_decision *d);
	/* A peer stops the job, whatever this node is doing (FD_STOP decision). */
	void (*on_stop)(void *ctx, const struct fd_decision *d);
	/*
	 * A peer's attempt failed (d->node, d->failure): stop this node's attempt too and submit
	 * its state, so that the group decides once, for everyone. NULL in a size-1 group.
	 */
	void (*on_halt)(void *ctx, const struct fd_decision *d);
	/*
	 * Something the group did, for stderr and the events log: name ("joined", "lost",
	 * "stop", "go", "unfit", "rejected", ...), the node it concerns (-1: none), its host,
	 * and a line saying it; say 0: for the events log only, not stderr (the joins of a large
	 * group past the first few: 16,384 lines would crowd out what follows them).
	 */
	void (*on_event)(void *ctx, const char *name, int node, const char *host, const char *line,
			 int say);
	/*
	 * A message of the allreduce across nodes (world.h) from node `from`: on node 0 from any
	 * node (itself included), on the others from node 0. NULL: such messages are dropped
	 * (`flightdeck run` takes no part). m is valid during the call only.
	 */
	void (*on_world)(void *ctx, int from, const struct fd_world_msg *m);
};

struct fd_group_ops {
	const char *name;
	/* Contributes mine; the decision comes later through on_decision. 0 or -errno. */
	int (*submit)(struct fd_group *g, const struct fd_node_state *mine);
	/* This node is stopping its attempt (a failure, a stop signal): tell the peers now,
	 * before the tree is gone, so theirs stop too. NULL: nobody to tell. */
	void (*halt)(struct fd_group *g, int failure, int stop_signal, const char *what);
	/* A world message to node `to` (a member: to node 0 only). NULL: none can be sent. */
	int (*world)(struct fd_group *g, int to, const struct fd_world_msg *m);
	/* The host of a node, valid until the group closes. NULL: "?". */
	const char *(*host)(struct fd_group *g, int node);
	/* Node 0: the address by which node client reaches node server (grp_reach). NULL: none. */
	int (*reach)(struct fd_group *g, int server, int client, char *out, size_t len);
	void (*close)(struct fd_group *g);
};

struct fd_group {
	const struct fd_group_ops *ops;
	int rank, size;
	struct fd_policy policy;
	struct fd_group_history history; /* kept by the deciding node only */
	struct fd_loop *loop;
	struct fd_group_callbacks cb;
	void *ctx;
	char host[256]; /* this node's (gethostname), "?" */
	/* every transport hands its deliveries over from the loop through this eventfd */
	int efd;
	/* the local transport: the decision waiting for the loop to deliver it */
	int pending;
	struct fd_decision decision;
	void *tcp; /* the TCP star's own state: a coordinator's or a member's (tcp.h) */
	/*
	 * Hot spares, kept by the deciding node (the star's coordinator only): the node training
	 * in each slot (active[nactive]; NULL: no spares, every node in its own place), and the
	 * nodes lost since the last decision whose states (failure FD_FAIL_LOST) take part in the
	 * next one beside the training nodes'.
	 */
	int nactive;
	int *active;
	int lost_now[FD_SPARES_MAX];
	int nlost_now;
	/* the hosts of the nodes replaced (out for the rest of the job), for --exclude-file */
	char replaced[FD_SPARES_MAX][64];
	int nreplaced;
};

/*
 * The size-1 group: this node decides alone; its eventfd in loop delivers the decision.
 * 0 or -errno.
 */
int fd_group_local(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
		   const struct fd_group_callbacks *cb, void *ctx);

/* How a multi-node group is reached and judged (`flightdeck run` flags). */
struct fd_group_conf {
	int node, nnodes;
	const char *coord_host; /* where node 0 listens (node 0 binds every address) */
	int coord_port;
	const char *bind_host; /* node 0: the address to listen on; NULL = every address */
	const void *token;     /* the per-job token (--token-file, FLIGHTDECK_TOKEN) */
	size_t token_len;
	int64_t peer_interval_ms; /* --peer-interval: how often each side beats */
	int64_t peer_timeout_ms;  /* --peer-timeout: a peer silent this long is lost */
	int64_t join_timeout_ms;  /* --join-timeout: every node joined within this */
	const char *exclude_file; /* --exclude-file, for the caller's fd_policy (not read here) */
	char *const *hosts;	  /* the job's hosts by node, when known (SLURM_JOB_NODELIST) */
	int nhosts;
	/*
	 * --spares: of the nnodes agents, the last `spares` hold their place as spares, proven
	 * fit, running nothing, until one replaces a lost training node. 0: none.
	 */
	int spares;
	/*
	 * --send-threads, node 0: the threads that hand a decision to the members (fanout.h);
	 * 0: chosen from the group's size and the CPUs this process may use.
	 */
	int send_threads;
};

/*
 * The TCP star (star.c): node 0 is the coordinator and decides; every other node holds one
 * connection to it. 0 or -errno, with a line in err.
 */
int fd_group_tcp(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
		 const struct fd_group_conf *conf, const struct fd_group_callbacks *cb, void *ctx,
		 char *err, size_t errlen);

/* Submits this node's state; -EBUSY while an earlier submit awaits its decision. */
int grp_submit(struct fd_group *g, const struct fd_node_state *mine);
/*
 * Tells the peers this node is stopping its attempt (nothing in a size-1 group); what says
 * why, in this node's words ("rank 3 silent for 12 s after step 40").
 */
void grp_halt(struct fd_group *g, int failure, int stop_signal, const char *what);
/*
 * Sends an allreduce message (world.h) to node `to`; node 0 may send to any node, itself
 * included (delivered through the loop like a peer's), a member only to node 0. It reaches
 * the other side's on_world. 0, -EPIPE once the job is over, -ENOTSUP in a size-1 group.
 */
int grp_world_send(struct fd_group *g, int to, const struct fd_world_msg *m);
/* The host of a node: what it said when it joined, else the job's node list, else "?". */
const char *grp_host(struct fd_group *g, int node);
/*
 * Node 0: the numeric IPv4 address by which node `client` can reach node `server`, as the
 * group's own connections say (a member's address as node 0 sees it; node 0's own as the
 * client reached it). 0; -EAFNOSUPPORT (an IPv6 address: out holds it), -ENOTCONN (not
 * joined), -ENOTSUP (a size-1 group or a member).
 */
int grp_reach(struct fd_group *g, int server, int client, char *out, size_t len);
/* Leaves the group and the loop; safe on a group that never opened. */
void grp_close(struct fd_group *g);

/* ---- for the transports (group.c) ---------------------------------------------------------- */

/*
 * What opening every transport shares: g's fields, this node's host name, and the eventfd
 * through which the transport hands its deliveries over from the loop (it adds the eventfd
 * to the loop with its own callback). g zeroed before. 0 or -errno.
 */
int grp_open(struct fd_group *g, const struct fd_group_ops *ops, int rank, int size,
	     struct fd_loop *loop, const struct fd_policy *pol, const struct fd_group_callbacks *cb,
	     void *ctx);
/*
 * The deciding node's decision from every node's state (g->size of them, by node), the same in
 * every transport: fd_group_decide under g's policy and history, then the rest of the caller's
 * policy: a preflight stop says the unfit nodes' table (an `unfit` event per finding, by
 * grp_host) and writes its exclude_file; a CONTINUE carries its master_port. With spares
 * (g->active) only the training nodes' states and those of g->lost_now decide, and the
 * decision carries the training set.
 */
void grp_decide(struct fd_group *g, const struct fd_node_rec *nodes, struct fd_decision *d);
/*
 * A training node replaced by a spare is out for the rest of the job: its host joins the
 * policy's exclude_file (with the unfit nodes of a preflight stop, if one comes).
 */
void grp_note_replaced(struct fd_group *g, const char *host);
/* An event through on_event (nothing without one): a line, printf-style. */
void grp_event(struct fd_group *g, const char *name, int node, const char *host, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));
void grp_vevent(struct fd_group *g, const char *name, int node, const char *host, const char *fmt,
		va_list ap) __attribute__((format(printf, 5, 0)));
/* The same with on_event's say given (0: the events log only). */
void grp_vevent_as(struct fd_group *g, int say, const char *name, int node, const char *host,
		   const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

#endif
