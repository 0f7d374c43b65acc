/*
 * culprit.h - which rank the others wait on, from the evidence a stall leaves: torch's flight
 * recorder, each rank's process state and, where it dumped one, its Python stack (docs/architecture.md, "The
 * culprit"). In a synchronous job every rank goes quiet at once when one hangs, and the first
 * deadline to expire names a rank that waits in a collective for the culprit. Pure functions,
 * unit tested: the supervisor gathers the evidence (stacks.c) and says the verdict.
 */
#ifndef FD_CULPRIT_H
#define FD_CULPRIT_H

#include <stddef.h>
#include <stdint.h>

#define CULPRIT_RANKS_MAX 64 /* the ranks a verdict names, each list */

/* What /proc says of a rank's process. */
enum fd_rank_state {
	RS_UNKNOWN = 0, /* no pid known: a rank that beat through a file or the output */
	RS_RUNNING,	/* R, S, I: not stopped */
	RS_STOPPED,	/* T, t: stopped by a signal (SIGSTOP, a debugger): it runs nothing */
	RS_DISK,	/* D: uninterruptible, in the kernel (a driver, a hung file system) */
	RS_ZOMBIE,	/* Z: exited, not yet reaped */
	RS_GONE,	/* no such process, or another one under its pid */
};

/* Where a rank's dumped stack says it is. */
enum fd_stack_class {
	SC_NONE = 0,   /* no dump */
	SC_COLLECTIVE, /* waiting in a collective, a barrier, a Work.wait or a store get */
	SC_ELSEWHERE,  /* anywhere else: data loading, a Python loop, I/O, a checkpoint save */
};

/*
 * Whether a rank kept making progress: QUIET_YES when it made none for over half as long as
 * the quietest rank (in a synchronous job every rank goes quiet within a step of the culprit),
 * QUIET_NO when it went on (it did not wait for the stalled one).
 */
enum {
	QUIET_UNKNOWN = 0,
	QUIET_YES,
	QUIET_NO
};

/*
 * What torch's flight recorder says of one rank (its dump, read at a stall): per process
 * group, the newest collective it entered (collective_seq_id) and which one ("gloo:all_reduce").
 */
#define FR_PGS_MAX 8
struct fd_fr_pg {
	int pg;
	int64_t seq;
	char op[48];
};
struct fd_fr_summary {
	int known; /* a dump was read and parsed */
	int npg;
	struct fd_fr_pg pg[FR_PGS_MAX];
};

/*
 * Parses a flight-recorder dump (torch's _dump_fr_trace_json: {"version": "2.x", "entries":
 * [...]}) of len bytes. 0 with out filled; -EINVAL for text that is not one (why says what:
 * not JSON, no entries, an entry without its fields), -ENOTSUP for another major version.
 */
int fd_fr_parse(const char *text, size_t len, struct fd_fr_summary *out, char *why, size_t whylen);

struct fd_rank_evidence {
	int rank;
	int pid;
	int state;		 /* RS_* */
	char wchan[48];		 /* with RS_DISK: where in the kernel; "" */
	int stack;		 /* SC_* */
	int quiet;		 /* QUIET_* */
	char where[192];	 /* with a stack: "train.py:88 in load_batch (in ...)" */
	struct fd_fr_summary fr; /* with a flight-recorder dump */
	int python;		 /* it beat through the Python client (which says done at exit) */
	int oom;		 /* gone: the kernel log says the OOM killer killed it */
};

enum fd_confidence {
	FC_UNKNOWN = 0, /* no evidence tells one rank from another: nothing is guessed */
	FC_LIKELY,	/* from process states, or from stacks */
	FC_CERTAIN,	/* from the flight recorder: the ranks missing at a collective */
};

struct fd_culprit {
	int confidence; /* FC_* */
	int culprits[CULPRIT_RANKS_MAX], nculprits;
	int victims[CULPRIT_RANKS_MAX], nvictims;
	int desync;	      /* FC_CERTAIN: ranks in different collectives at one number */
	const char *evidence; /* "flight-recorder", "state", "progress", "stacks", "none" */
	char line[768];	      /* the verdict in one line, culprits first */
};

/*
 * Classifies a faulthandler dump by the innermost frames of its current thread: a frame in
 * torch.distributed (distributed_c10d.py, c10d_logger.py, a store, a rendezvous) or a Work's
 * wait is SC_COLLECTIVE; a dump with frames elsewhere is SC_ELSEWHERE; no frame, SC_NONE.
 */
int fd_stack_class(const char *text);

/*
 * The verdict from n ranks' evidence. In order: with two or more flight-recorder dumps, the ranks
 * behind the others in a process group (certain), or at one number in another collective than
 * most (a desync); ranks that cannot run (stopped, in D, exited,
 * gone) beside ranks that can are the culprits; else quiet ranks beside ranks that kept making
 * progress; else, among the ranks that dumped a stack, those not waiting in a collective beside
 * some that are; else unknown. Every rank not named a culprit is a victim.
 */
void fd_culprit_judge(const struct fd_rank_evidence *ev, size_t n, struct fd_culprit *out);

/*
 * Whether the machine, not the job, made this node's ranks the culprits: a culprit in
 * uninterruptible sleep in a GPU or RDMA driver (its wchan); a Python culprit gone without the
 * done beat its interpreter's shutdown sends (killed by a signal, crashed in native code) that
 * the OOM killer did not kill (the job's memory, not the node's); or an Xid since the job started
 * (xid: gpu_xid_since's line, "" for none) while one of this node's ranks is a culprit. Writes
 * why, for "the node to drain", and returns 1; 0 otherwise (a Python loop, a data-loader wait,
 * a stopped process: the job's own, or nothing tells). A LIKELY or CERTAIN verdict counts.
 */
int fd_culprit_machine(const struct fd_rank_evidence *ev, size_t n, const struct fd_culprit *v,
		       const char *xid, char *why, size_t len);

/* "stopped (state T)", "in uninterruptible sleep (state D, in nfs_wait)", ... */
const char *fd_rank_state_words(int state);

#endif
