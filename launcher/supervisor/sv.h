/*
 * sv.h - the supervisor's private state, one sub-struct per concern, and the functions its
 * files share (docs/architecture.md, "The supervisor"). Nothing outside launcher/supervisor/ includes
 * this header; the public interface is run.h.
 *
 * The files, each owning one concern:
 *   supervise.c  set-up, the loop, tear-down, the summary
 *   phase.c      the phases: every transition, the timer and the signals; the group's answers
 *   attempt.c    launching the command, judging it (stalls, crashes): reports to phase.c
 *   decide.c     what the node submits to the group, and what it says of the decisions
 *   tree.c       signals to the process tree, reaping, waiting for the tree to be gone
 *   helpers.c    the preflight and GPU-wait helper children
 *   beats.c      the heartbeat socket (readiness or polled) and the heartbeat file
 *   output.c     the child's stdout/stderr pass-through and --progress-regex
 *   stacks.c     asking stuck ranks for stacks, and reading them
 *   ckpt_watch.c the resume checkpoint and the --checkpoint-max-age watch
 *   events.c     the stderr line and the --events JSON lines
 *   prom.c       the --prom-file textfile for node_exporter
 *   ranks.c      the rank table and the stall policy (pure, ranks.h)
 */
#ifndef FD_SV_H
#define FD_SV_H

#include "checkpoint.h"
#include "group.h"
#include "heartbeat.h"
#include "loop.h"
#include "ranks.h"
#include "run.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define MS NS_PER_MS

/* Deadlines and poll intervals. */
#define KILL_POLL_MS	     50	    /* after SIGKILL: is the tree gone yet */
#define STOP_POLL_MS	     100    /* during the grace, and while stacks are awaited */
#define PREFLIGHT_QUICK_MS   120000 /* bounds `check --level quick` (its probes bound themselves) */
#define PREFLIGHT_STD_MS     600000 /* bounds `check --level standard` (gpubench included) */
#define GPU_WAIT_SLACK_MS    5000   /* the GPU-wait helper's own timeout, plus this */
#define FILE_POLL_MAX_MS     1000   /* --heartbeat-file: stat at least this often... */
#define FILE_POLLS_PER_STALL 4	    /* ...or 4 times per --stall-timeout */
#define CKPT_CHECK_MAX_MS    60000  /* --checkpoint-max-age: look at least once a minute... */
#define CKPT_CHECKS_PER_AGE  4	    /* ...or 4 times per max age */
#define CKPT_SLICE_ENTRIES   256    /* directory entries looked at per wake-up of the loop */
#define QUEUED_SIGNAL_MS     10000  /* a queued SIGUSR1/2 waits this long at most for a beat */
#define PROM_EVERY_MS	     5000   /* --prom-file: rewritten at least this often, ... */
#define PROM_GAP_MS	     100    /* ... on every event, but a burst of them is one write */
#define EMERGENCY_ROUNDS     100    /* last-resort SIGKILL rounds, ... */
#define EMERGENCY_ROUND_US   20000  /* ... this far apart: 2 s at most */

/* The adaptive heartbeat polling (see struct sup_beats). */
#define HB_POLL_MAX_NS (8 * MS) /* beats closer than this: poll the socket on the timer */
#define HB_POLL_MIN_NS (1 * MS)
#define HB_POLL_TARGET 6  /* datagrams queued per poll, of the kernel's 10 */
#define HB_FAST_WAKES  8  /* wake-ups in a row this close switch to polling */
#define HB_IDLE_POLLS  20 /* empty polls in a row switch back to readiness */
#define HB_RECV_BATCH  256

#define MAX_PROCS      4096
#define LINE_MAX_MATCH 4096

/* Our stdout and stderr (output.c). */
#define OUT_BUF_MAX	  (4 << 20) /* kept per sink for a stuck reader; more is dropped */
#define OUT_HIGH_WATER	  (1 << 20) /* a slow reader: stop reading the child above this... */
#define OUT_STUCK_MS	  5000	    /* ...unless the reader took nothing for this long */
#define OUT_EXIT_IDLE_MS  2000	    /* at exit: a reader that takes nothing this long... */
#define OUT_EXIT_MAX_MS	  30000	    /* ...or this long in all loses what is left */
#define OUT_FINAL_IDLE_MS 200	    /* the summary line, after that */
#define STACK_TEXT_MAX	  65536
#define FR_DUMP_MAX	  (16 << 20) /* a flight-recorder dump larger is ignored, said */

enum sup_phase {
	PH_PREFLIGHT,
	PH_GPU_WAIT,
	PH_BACKOFF,
	PH_RUNNING,
	PH_STACKS,   /* asked the stuck ranks for their stacks; the child still runs */
	PH_STOPPING, /* SIGTERM (or the forwarded signal) sent; grace running */
	PH_KILLING,  /* SIGKILL sent; waiting for the tree to be gone */
	PH_DECIDING, /* the node's state is submitted; the group's decision is awaited */
	PH_DONE,
};

struct sv;

/* output.c: flightdeck's own stdout or stderr, written without ever blocking the loop */
struct sup_sink {
	struct sv *s;
	struct fd_loop *loop;
	int64_t last_progress; /* when the reader last took something, or pending began */
	const char *name;      /* "stdout", "stderr" */
	int fd, orig;	       /* written: a private non-blocking reopen of orig, or orig */
	int own;	       /* fd was opened here */
	int sock;	       /* a socket: send(MSG_DONTWAIT) */
	int gated;	       /* no reopen: write PIPE_BUF at a time when poll says writable */
	int in_loop, polling;
	int dead; /* the reader is gone: drop, as a closed stdout always was */
	char *buf;
	size_t off, len, cap; /* pending: buf[off, off + len), at most OUT_BUF_MAX */
	int dropping;	      /* an overflow episode */
	uint64_t dropped;     /* bytes dropped in it */
};

/* output.c: a pipe (or the pty master) the child writes to */
struct sup_stream {
	struct sv *s;
	int fd;
	struct sup_sink *sink; /* where it passes through to */
	int paused;	       /* not read while its sink waits for a slow reader */
	char line[LINE_MAX_MATCH + 1];
	size_t len;	 /* a longer line is matched on its first LINE_MAX_MATCH bytes */
	int rank;	 /* whose beats its matches are: RANK_OUTPUT, or a native rank's */
	char prefix[24]; /* --prefix-output: "[rank3]: " before each line; "" none */
	int bol;	 /* the next byte starts a line */
};

/* output.c: the child's output, captured when --progress-regex reads it or with --pty */
struct sup_output {
	struct fd_progress re;
	int have_re;
	uint64_t no_rank; /* lines that matched with no rank in the rank group: no one's beat */
	char lit[64];	  /* a literal every match contains: lines without it are not matched */
	size_t litlen;
	struct sup_sink sink[2];   /* our stdout, our stderr */
	struct sup_sink *err_sink; /* &sink[1], or &sink[0] when both are one file */
	int merged;		   /* they are: the child gets one pipe for both */
	struct sup_stream *st;	   /* a launch's: stdout and stderr of each local rank (2 each) */
	int nst;
	int timer_added;
};

/* A process that got this stop's one SIGTERM (or the forwarded signal): pid and start time. */
struct sup_sent {
	pid_t pid;
	unsigned long long start;
};

/* tree.c: the processes flightdeck started, and how they ended */
#define MAX_LOCAL_RANKS 1024 /* --nproc-per-node's bound */

struct sup_procs {
	/*
	 * The command: one process, or with --nproc-per-node one per local rank, all in the
	 * process group of the first (child). child_done: every one of them is reaped;
	 * child_status: the first that failed's status, else the last one's (0).
	 */
	pid_t child;
	int child_done, child_status;
	pid_t *rank_pid; /* [nlocal]; rank_pid[0] == child */
	int *rank_status;
	int nlocal, left;
	int failed;   /* the local rank that failed first (exited non-zero, or by a signal); -1 */
	pid_t helper; /* the preflight or the GPU wait */
	int helper_done, helper_status;
	int walk_failed;  /* a /proc walk failed (said once) */
	int foreign_proc; /* /proc is another pid namespace's: no walk (tree_check_proc) */
	/*
	 * The command is a launcher that passes a stop signal on to its own workers (torchrun,
	 * mpirun, srun, ...): a stop's signal goes to it alone, and its children count as told.
	 * launcher: its name, for the messages; "" when it is not one.
	 */
	char launcher[32];
	/* --drain-replaced's scontrol runs, set aside from the tree (fd_aside_add): 0 when free */
	struct {
		pid_t pid;
		char host[256];
	} drain[4];
	/* This stop: its signal, whether the group had it, and who had it one by one. */
	int stop_sig, group_sent;
	struct sup_sent *sent;
	size_t n_sent, cap_sent;
};

/*
 * beats.c. Beats only move deadlines later, so they need not be read the instant they come.
 * When they arrive faster than HB_POLL_MAX_NS apart, the socket leaves the epoll set and is
 * read on the timer every period (1-8 ms), sized so that about HB_POLL_TARGET of the kernel's
 * 10 datagrams (net.unix.max_dgram_qlen) are queued at each read. After HB_IDLE_POLLS empty
 * polls it goes back to waking on readiness.
 */
struct sup_beats {
	struct fd_hb_socket hb;
	int poll, fast, idle;
	int64_t period, next_poll, last_wake;
	/* --heartbeat-file */
	int64_t next_file_poll;
	struct timespec file_mtime;
	int file_seen;
};

/* helpers.c: with run -q, the preflight's table, shown only when the node is unfit */
#define HELPER_TEXT_MAX 65536
struct sup_helper_text {
	int fd; /* the preflight's stdout; -1 when not kept */
	size_t len;
	char buf[HELPER_TEXT_MAX + 1];
};

/* ckpt_watch.c: --checkpoint-max-age, when to look next and what was already said */
struct sup_ckpt_age {
	int64_t next_check;
	struct fd_ckpt_walk walk; /* the scan under way, when walking */
	int walking;
	double start_wall;
	char warned[PATH_MAX];
	int warned_none;
};

/* prom.c: --prom-file */
struct sup_prom {
	char node[256];	  /* the node label */
	int on;		  /* --prom-file given, its timer in the loop */
	int64_t due;	  /* the next write */
	int64_t last;	  /* the last one */
	int failed;	  /* the last write failed (said once until one succeeds) */
	double ckpt_time; /* the newest complete checkpoint's completion, Unix s; 0: none known */
	int last_fail;	  /* FD_FAIL_* of the latest failed attempt before this one */
	char last_codes[200]; /* ...and its preflight's codes and subject (sup_attempt.codes) */
};

/* attempt.c: this attempt and the count of them */
struct sup_attempt {
	int launches, restarts;
	int stalls;	 /* attempts this node ended for a stall (startup included) */
	int fail;	 /* FD_FAIL_* of this attempt, as this node saw it */
	int peer_halt;	 /* stopped because another node's attempt failed */
	int rank_base;	 /* the global rank of local rank 0 (native ranks) */
	int master_port; /* MASTER_PORT of this attempt (native ranks) */
	/*
	 * The training slot this node holds this attempt (its NODE_RANK) and how many train:
	 * the group's decision says (hot spares); without spares its own node and the group's
	 * size. slot -1: a spare.
	 */
	int slot, nslots;
	char what[FD_DETAIL_MAX]; /* this node's failure in its own words */
	char codes[200]; /* an unfit preflight's codes and subject ("IB_PORT_DOWN mlx5_0/1") */
	int64_t launch_ns;
	char resume[PATH_MAX];
	char culprit[768];		  /* the last stall's verdict (stacks_attribute); "" */
	int culprit_likely, culprit_rank; /* this attempt's: for the group's decision */
	/* the machine made this node's ranks the culprits (culprit.h's fd_culprit_machine):
	 * why, "the node to drain"; kept for the exit like culprit; "" */
	char drain[FD_WHY_MAX];
};

/*
 * Where events.c's words go once said: set up by supervise.c, so the file that says things
 * calls no file that reports them (output.c writes the line without blocking; prom.c rewrites
 * --prom-file after every event). A NULL sink: the line goes to stderr, the event nowhere.
 */
struct sup_sinks {
	void (*line)(const struct sv *s, const char *line);
	void (*event)(struct sv *s);
};

struct sv {
	const struct fd_run_opts *o;
	struct fd_loop loop;
	struct sup_sinks sinks;
	char self_exe[PATH_MAX];
	int stack_sig;
	int events_fd;

	enum sup_phase phase; /* changed in phase.c only (enter) */
	int64_t deadline;     /* of the current phase: grace end, backoff end, ... ; 0 = none */
	int64_t start_ns, job_deadline;

	struct sup_attempt att;
	struct sup_ranks ranks;
	struct sup_procs procs;
	struct sup_output output;
	struct sup_beats beats;
	struct sup_ckpt_age ckpt;
	struct sup_helper_text helper_text;
	struct sup_prom prom;

	struct fd_group group;
	struct fd_decision peer_stop; /* a stop a peer started (on_stop) */
	struct fd_decision final;     /* the decision that ended the job; verdict 0: none */
	int have_peer_stop;
	int gate;		/* the submit before a launch: every node's preflight passed? */
	int stop_signal;	/* a terminating signal flightdeck received */
	int64_t stop_signal_ns; /* when: a repeat within --signal-dedupe is the same request */
	int queued_usr;		/* SIGUSR1 (1), SIGUSR2 (2) received with no command running */
	int exit_code;		/* set when the decision to exit is made */
	int spare_idle;		/* a spare holding its place: submitted, waiting, running nothing */
	int last_unfit;		/* this node's last preflight found it unfit (a spare says so) */
	int was_spare;		/* the last CONTINUE found this node a spare */
	char replaced[256];	/* node 0: the last replacement of a node by a spare, in words */
};

/* match.c: lines of the child's output against --progress-regex */
size_t match_literal(const char *re, char *out, size_t cap);
void match_line(struct sv *s, int rank, const char *p, size_t n);
void match_scan(struct sup_stream *st, const char *p, size_t n);

/* phase.c: every transition (see the file's comment) */
void sup_finish(struct sv *s, int code);
void sup_preflight(struct sv *s); /* the first step of a launch: the preflight, or the gate */
void sup_kill(struct sv *s);	  /* SIGKILL to the whole tree, waiting --kill-wait */
const char *sup_phase_name(enum sup_phase ph);
int64_t sup_next_wake(void *arg, int64_t now);
void sup_on_timer(struct fd_loop *l, int64_t now, void *arg);
void sup_on_signal(struct fd_loop *l, int sig, void *arg);
int64_t sup_backoff_ms(const struct sv *s);
/* When a phase entered at now ends (its bound); 0: no bound of its own. */
int64_t sup_phase_deadline(const struct sv *s, enum sup_phase ph, int64_t now);
/* the group's callbacks: its decision, a peer's stop, a peer's failed attempt */
void sup_on_decision(void *ctx, const struct fd_decision *d);
void sup_on_stop(void *ctx, const struct fd_decision *d);
void sup_on_halt(void *ctx, const struct fd_decision *d);

/* attempt.c: launching and judging an attempt; each reports, phase.c acts */
enum att_launch {
	ATT_STARTED,	      /* every local rank runs */
	ATT_NOT_STARTED,      /* nothing started: *status is the launch's exit status */
	ATT_RANK_NOT_STARTED, /* rank 0 runs, a later one could not start: what says which */
};
enum att_launch att_launch(struct sv *s, int *status, char *what, size_t len);
/* The failure a deadline brings (stall, startup, timeout) with what; FD_FAIL_NONE: none. */
int att_check_deadlines(struct sv *s, int64_t now, char *what, size_t len);
enum att_exit {
	ATT_EXIT_OK,	/* the command ended by itself with status 0 */
	ATT_EXIT_CRASH, /* it crashed, or a rank did: what says how */
	ATT_EXIT_LATE,	/* not while the attempt ran: the stop under way goes on */
};
enum att_exit att_child_exited(struct sv *s, char *what, size_t len);
int att_rank_failed(struct sv *s, char *what, size_t len);

/* decide.c: what this node tells the group, and what it says of the answers */
void dec_state(const struct sv *s, struct fd_node_state *me, int failure, int status, int ended);
void dec_gate(struct sv *s, struct fd_node_state *me);
void dec_attempt_over(struct sv *s, struct fd_node_state *me);
void dec_give_up(struct sv *s, const struct fd_decision *d);
void dec_restart(struct sv *s, const struct fd_decision *d);
void dec_on_group_event(void *ctx, const char *name, int node, const char *host, const char *line,
			int say);
int dec_drain_reaped(struct sv *s, pid_t p, int st);
void dec_drain_wait(struct sv *s, int64_t ms);

/* tree.c: signals to the tree, reaping, and whether it is gone */
enum tree_state {
	TREE_ALIVE,	 /* something of it still runs */
	TREE_GONE,	 /* the child reaped, no descendant alive */
	TREE_GRACE_OVER, /* stopping, and --grace is over: SIGKILL next */
	TREE_ABANDONED,	 /* killing, and --kill-wait is over: what survives is named and left */
};
int tree_signal(pid_t pid, int sig);
int tree_status_code(int st);
void tree_reap(struct sv *s);
/*
 * The name of a launcher that passes stop signals on to its own workers when argv starts one
 * (torchrun, mpirun, mpiexec, srun, deepspeed, accelerate, `python -m torch.distributed.run`),
 * else NULL. Pure: for the unit tests too.
 */
const char *tree_launcher_name(char *const *argv);
void tree_stop(struct sv *s, int sig);
/* The same, for a signal the scheduler gave every process of the tree itself: none sent. */
void tree_stop_delivered(struct sv *s, int sig);
void tree_kill(struct sv *s);
enum tree_state tree_poll(struct sv *s);
void tree_emergency_kill(struct sv *s);
void tree_forward(struct sv *s, int sig);
void tree_check_proc(struct sv *s);
void tree_free(struct sv *s);

/* helpers.c: the preflight and the GPU wait, as children; each reports, phase.c acts */
enum helper_start {
	HELPER_STARTED,
	HELPER_NOT_NEEDED, /* --preflight none: the node counts as fit */
	HELPER_FAILED,	   /* could not start (said why) */
};
enum helper_result {
	HELPER_STOPPED,	  /* a stop signal came meanwhile: it decides */
	HELPER_GPUS_FREE, /* the GPU wait is over (released, or past its timeout: said) */
	HELPER_FIT,
	HELPER_UNFIT,	/* detail holds the findings for the coordinator's table */
	HELPER_NOTHING, /* not in a helper's phase: nothing follows */
};
enum helper_start helper_start_preflight(struct sv *s);
enum helper_start helper_start_gpu_wait(struct sv *s);
enum helper_result helper_exited(struct sv *s, char *detail, size_t len);
int helper_check_deadline(struct sv *s, int64_t now);

/* beats.c */
int beats_watch(struct sv *s);
void beats_on_timer(struct sv *s, int64_t now);
void beats_poll_file(struct sv *s, int64_t now);
int64_t beats_next_poll(const struct sv *s);
void beats_relaunch(struct sv *s);
void beats_explain(const struct sv *s, char *what, size_t len);

/* output.c */
void out_init(struct sv *s);
void out_watch(struct sv *s, int local, int out_fd, int err_fd);
void out_close(struct sv *s);
void out_say(const struct sv *s, const char *line);
void out_flush(struct sv *s, int idle_ms);
void out_fini(struct sv *s);

/* stacks.c */
int stacks_ask(struct sv *s);
int stacks_ready(struct sv *s);
void stacks_collect(struct sv *s);
/*
 * The culprit of a stall, from every rank's process state and the stacks just collected
 * (culprit.h): said in one line, a `culprit` event, kept for the exit event and the
 * termination message.
 */
void stacks_attribute(struct sv *s);
/*
 * This attempt's flight-recorder dumps as a STATE carries them (group.h, struct fd_fr_wave):
 * per process group, the oldest and the newest collective of this node's ranks. Returns how
 * many groups, at most max; 0 when no rank dumped one.
 */
int stacks_fr_waves(const struct sv *s, struct fd_fr_wave *out, int max);
/*
 * A watched rank whose process cannot run (stopped, state T; in the kernel, D), for the stall
 * line to name it rather than a rank that waits for it; RANK_NONE.
 */
int stacks_stuck_rank(const struct sv *s);

/* ckpt_watch.c */
int ckpt_newest(struct sv *s, char *out, size_t len);
int ckpt_list(struct sv *s, struct fd_node_state *me);
void ckpt_path(struct sv *s, const char *name, char *out, size_t len);
int ckpt_watching(const struct sv *s);
void ckpt_age_check(struct sv *s, int64_t now);
void ckpt_watch_close(struct sv *s);

/* prom.c */
int prom_open(struct sv *s);
void prom_event(struct sv *s);
void prom_learn_ckpt(struct sv *s, const struct fd_ckpt_scan *scan);
void prom_final(struct sv *s);

/* events.c */
void ev_say(const struct sv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ev_emit(struct sv *s, const char *name, int rank, int64_t step, const char *ckpt,
	     int exit_code, cJSON *extra);
cJSON *ev_fields(const char *k1, const char *v1);
const char *ev_sig_name(int sig);
void ev_describe_status(int st, char *out, size_t len);

#endif
