/*
 * run.h - `flightdeck run`: the supervisor's options and entry point (its exit codes are in
 * group.h, which this header includes).
 */
#ifndef FD_RUN_H
#define FD_RUN_H

#include <stdint.h>

/*
 * The exit codes of `flightdeck run` (FD_RUN_*) are in group.h: the group's decision yields
 * them (fd_decision_exit_code).
 */
#include "group.h"

enum fd_preflight {
	FD_PREFLIGHT_NONE,
	FD_PREFLIGHT_QUICK,
	FD_PREFLIGHT_STANDARD,
};

/* --forwarding-launcher: does the command pass a stop signal on to its own workers? */
enum {
	FD_FORWARDS_AUTO,
	FD_FORWARDS_YES,
	FD_FORWARDS_NO
};

struct fd_run_opts {
	char **argv; /* the command, NULL-terminated */

	/* detection */
	int64_t stall_ms;	/* --stall-timeout */
	int stall_auto;		/* --stall-timeout auto */
	double stall_factor;	/* auto: the deadline is factor x the longest step interval... */
	int64_t stall_floor_ms; /* ...but never below this */
	int64_t startup_ms;	/* --startup-timeout: launch to a rank's first beat */
	int64_t checkpoint_ms;	/* --checkpoint-timeout: while a rank says phase=checkpoint */
	int64_t teardown_ms; /* --teardown-timeout: a rank past its last step (ranks_past_last) */
	int64_t timeout_ms;  /* --timeout: the whole job's wall clock; 0 = none */
	int ranks;	     /* --ranks: local ranks expected to beat; 0 = learn them */
	const char *progress_regex;
	const char *heartbeat_file;

	/* kill and restart */
	int64_t grace_ms;
	int64_t kill_wait_ms;	  /* after SIGKILL, how long to wait for the tree to go */
	int64_t signal_dedupe_ms; /* a stop signal again within this of the first: the same */
	int forwarding_launcher;  /* FD_FORWARDS_*: whether the command passes stops on itself */
	int max_restarts;
	int no_progress_limit;
	int64_t backoff_ms;
	int64_t backoff_max_ms;
	int64_t gpu_release_ms;
	int64_t stack_wait_ms;
	int preflight; /* FD_PREFLIGHT_* */
	const char *check_config;
	const char *checkpoint_dir;
	const char *checkpoint_marker;
	int64_t checkpoint_max_age_ms; /* warn when the newest checkpoint is older; 0 = off */

	/* telling people */
	const char *events;
	int quiet;
	const char *prom_file; /* --prom-file: the node_exporter textfile */
	/* --termination-log: the Kubernetes termination message; NULL: /dev/termination-log
	 * when it is there and writable; "none": none */
	const char *termination_log;
	/* --drain-replaced: node 0 drains (scontrol) each node a spare replaces */
	int drain_replaced;

	int pty;		 /* --pty: the command's stdout and stderr are a pseudo-terminal */
	long long heartbeat_uid; /* --heartbeat-uid: this uid may beat too; -1 = none */

	/* native ranks: --nproc-per-node (0: the command is one process, as given) */
	int nproc_per_node;
	int prefix_output; /* --prefix-output: "[rankN]: " before each line of a rank */

	/*
	 * A stall's evidence against the machine: the newest Xid in this node's kernel log at
	 * most within_ms old that a job's own fault does not raise, as one line in out (1), or
	 * 0 (none, or the log cannot be read). Set by the command layer, which knows the check
	 * configuration's kernel log (--check-config's kmsg, proc-root); NULL: never asked.
	 */
	int (*xid_since)(const struct fd_run_opts *o, int64_t within_ms, char *out, size_t len);
	/* whether the same kernel log says the OOM killer killed pid (1), else 0; NULL: never */
	int (*oom_killed)(const struct fd_run_opts *o, int pid);

	/* the node group, as cmd_run resolved it from its flags and the environment */
	struct fd_group_conf group; /* nnodes 0 or 1: the size-1 local group */
};

/* Supervises o->argv until it is done; returns the exit status for main. */
int fd_supervise(const struct fd_run_opts *o);

#endif
