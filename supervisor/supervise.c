/*
 * supervise.c - the `flightdeck run` event loop: one thread, one epoll set.
 *
 * The loop owns the child, the heartbeat sources, the timers and the restart state machine:
 *
 *   PREFLIGHT -> RUNNING -> (stall/crash/timeout/signal) -> STACKS -> STOPPING -> KILLING
 *       ^                                                                            |
 *       +------ PREFLIGHT <- GPU_WAIT <- BACKOFF <- (group decides RESTART) <--------+
 *
 * Every wait has a deadline (`deadline`, the ranks', the polls'); before each epoll_wait the
 * loop arms one timerfd at the earliest of them (next_wake), and only when that is earlier
 * than what is armed: beats only move deadlines later, so a timer that fires early just has
 * the deadlines recomputed and is armed again. The
 * preflight and the GPU wait run as helper children, so nothing in here can block on a GPU.
 */
#define _GNU_SOURCE
#include "run.h"
#include "checkpoint.h"
#include "group.h"
#include "heartbeat.h"
#include "nvml.h"
#include "proctree.h"
#include "spawn.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS	       1000000LL /* nanoseconds in a millisecond */
#define RANK_OUTPUT    (-1)	 /* the pseudo-rank fed by --progress-regex */
#define RANK_FILE      (-2)	 /* the pseudo-rank fed by --heartbeat-file */
#define MAX_RANKS      4096
#define MAX_PROCS      4096
#define LINE_MAX_MATCH 4096
#define STACK_TEXT_MAX 65536
#define KILL_POLL_MS   50
#define STOP_POLL_MS   100
#define HB_POLL_MAX_NS (8 * MS) /* beats closer than this: poll the socket on the timer */
#define HB_POLL_TARGET 6	/* datagrams queued per poll, of the kernel's 10 */
#define HB_POLL_MIN_NS (1 * MS)

enum phase {
	PH_PREFLIGHT,
	PH_GPU_WAIT,
	PH_BACKOFF,
	PH_RUNNING,
	PH_STACKS,   /* asked the stuck ranks for their stacks; the child still runs */
	PH_STOPPING, /* SIGTERM (or the forwarded signal) sent; grace running */
	PH_KILLING,  /* SIGKILL sent; waiting for the tree to be gone */
	PH_DONE,
};

static const char *const phase_names[] = {"preflight", "gpu-wait", "backoff", "running",
					  "stacks",    "stopping", "killing", "done"};

struct rank {
	int id;
	pid_t pid;
	int stacks, phase, stack_asked;
	int64_t last_ns, progress_ns, step_ns;
	int64_t step;
	int64_t max_interval_ns;
	int nintervals;
};

struct stream {
	int fd, out; /* read from fd, write through to out */
	char line[LINE_MAX_MATCH + 1];
	size_t len; /* a longer line is matched on its first LINE_MAX_MATCH bytes */
};

struct sv {
	const struct fd_run_opts *o;
	int ep, sfd, tfd, events_fd;
	int64_t armed_ns;
	struct fd_hb_socket hb;
	regex_t re;
	int have_re;
	struct fd_group group;
	char self_exe[PATH_MAX];
	int stack_sig;

	enum phase phase;
	int64_t deadline; /* of the current phase: grace end, backoff end, ... ; 0 = none */
	int64_t start_ns, job_deadline, launch_ns, next_file_poll;

	/* this attempt */
	int launches, restarts;
	int fail;
	int64_t attempt_max_step;
	char resume[PATH_MAX];
	pid_t child;
	int child_done, child_status;
	struct stream sout, serr;
	struct rank *ranks;
	size_t nranks;
	int expected;
	struct timespec file_mtime;
	int file_seen;

	/* helper children: the preflight, the GPU wait */
	pid_t helper;
	int helper_done, helper_status;

	/*
	 * Beats only move deadlines later, so they need not be read the instant they come. When
	 * they arrive faster than HB_POLL_MAX_NS apart, the socket leaves the epoll set and is
	 * read on the timer every hb_period (1-8 ms), sized so that about HB_POLL_TARGET of the
	 * kernel's 10 datagrams (net.unix.max_dgram_qlen) are queued at each read. After
	 * 20 empty polls it goes back to waking on readiness.
	 */
	int hb_poll, hb_fast, hb_idle;
	int64_t hb_period, hb_next_poll, hb_last_wake;

	/* --checkpoint-max-age: when to look next, and the checkpoint already warned about */
	int64_t next_ckpt_check;
	double start_wall;
	char ckpt_warned[PATH_MAX];
	int ckpt_warned_none;

	int stop_signal; /* a terminating signal flightdeck received */
	int exit_code;	 /* set when the decision to exit is made */
	uint64_t total_beats;
};

/* One line on stderr per event, "flightdeck: ...". */
static void say(const struct sv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct sv *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (s->o->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "flightdeck: %s\n", buf);
}

/*
 * One JSON line in --events: time, event, restart, rank, step, checkpoint, exit_code always
 * present (null when they do not apply), then the event's own fields.
 */
static void event(struct sv *s, const char *name, int rank, int64_t step, const char *ckpt,
		  int exit_code, cJSON *extra)
{
	cJSON *o;
	char *text;

	if (s->events_fd < 0) {
		cJSON_Delete(extra);
		return;
	}
	o = extra ? extra : cJSON_CreateObject();
	if (!o)
		return;
	/* The contract's fields, after the event's own. */
	cJSON_AddNumberToObject(o, "time", fd_wall_s());
	cJSON_AddStringToObject(o, "event", name);
	cJSON_AddNumberToObject(o, "restart", s->restarts);
	if (rank >= 0)
		cJSON_AddNumberToObject(o, "rank", rank);
	else if (rank == RANK_OUTPUT)
		cJSON_AddStringToObject(o, "rank", "output");
	else if (rank == RANK_FILE)
		cJSON_AddStringToObject(o, "rank", "file");
	else
		cJSON_AddNullToObject(o, "rank");
	if (step >= 0)
		cJSON_AddNumberToObject(o, "step", (double)step);
	else
		cJSON_AddNullToObject(o, "step");
	if (ckpt && *ckpt)
		cJSON_AddStringToObject(o, "checkpoint", ckpt);
	else
		cJSON_AddNullToObject(o, "checkpoint");
	if (exit_code >= 0)
		cJSON_AddNumberToObject(o, "exit_code", exit_code);
	else
		cJSON_AddNullToObject(o, "exit_code");
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return;
	size_t n = strlen(text);

	text[n] = '\n'; /* cJSON's buffer has room: overwrite the NUL, write n+1 bytes */
	if (write(s->events_fd, text, n + 1) < 0)
		say(s, "cannot write --events: %s", strerror(errno));
	cJSON_free(text);
}

static cJSON *fields(const char *k1, const char *v1)
{
	cJSON *o = cJSON_CreateObject();

	if (o && k1)
		cJSON_AddStringToObject(o, k1, v1);
	return o;
}

static void rank_name(int id, char *out, size_t len)
{
	if (id == RANK_OUTPUT)
		snprintf(out, len, "the output (--progress-regex)");
	else if (id == RANK_FILE)
		snprintf(out, len, "the heartbeat file");
	else
		snprintf(out, len, "rank %d", id);
}

/* "SIGTERM": the name people grep for. */
static const char *sig_name(int sig)
{
	static char buf[16];
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return FD_RUN_INTERNAL;
}

static void describe_status(int st, char *out, size_t len)
{
	if (WIFEXITED(st))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, len, "was killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(out, len, "ended (status 0x%x)", st);
}

/* ---- the timer ---------------------------------------------------------------------- */

static void arm(struct sv *s, int64_t at)
{
	struct itimerspec its = {0};

	if (at <= 0)
		at = 1; /* 0 would disarm */
	its.it_value.tv_sec = at / 1000000000LL;
	its.it_value.tv_nsec = at % 1000000000LL;
	if (!timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		s->armed_ns = at;
}

/* ---- ranks and deadlines -------------------------------------------------------------- */

static struct rank *find_rank(struct sv *s, int id)
{
	for (size_t i = 0; i < s->nranks; i++)
		if (s->ranks[i].id == id)
			return &s->ranks[i];
	return NULL;
}

static struct rank *add_rank(struct sv *s, int id, int64_t now)
{
	struct rank *r = find_rank(s, id);

	if (r)
		return r;
	if (s->nranks == MAX_RANKS)
		return NULL;
	if (!(s->nranks & (s->nranks - 1))) { /* 0 or a power of two: full, double it */
		size_t cap = s->nranks ? s->nranks * 2 : 1;
		struct rank *p = realloc(s->ranks, cap * sizeof(*p));

		if (!p)
			return NULL;
		s->ranks = p;
	}
	r = &s->ranks[s->nranks++];
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->step = -1;
	r->progress_ns = r->step_ns = now;
	r->phase = FD_PHASE_TRAIN;
	return r;
}

static int real_ranks(const struct sv *s)
{
	int n = 0;

	for (size_t i = 0; i < s->nranks; i++)
		n += s->ranks[i].id >= 0;
	return n;
}

/* Stall detection is armed once a heartbeat source is known; before that only crashes and
 * --timeout end a job (a command that never heard of flightdeck is not killed for silence). */
static int startup_pending(const struct sv *s)
{
	return (s->have_re && !find_rank((struct sv *)s, RANK_OUTPUT)) ||
	       (s->o->heartbeat_file && !find_rank((struct sv *)s, RANK_FILE)) ||
	       real_ranks(s) < s->expected;
}

static int64_t rank_limit(const struct sv *s, const struct rank *r)
{
	int64_t limit = s->o->stall_ms;

	if (s->o->stall_auto) {
		if (r->nintervals < 2)
			limit = s->o->startup_ms; /* still warming up: no intervals to learn from */
		else {
			limit = (int64_t)(s->o->stall_factor * (double)r->max_interval_ns / MS);
			if (limit < s->o->stall_floor_ms)
				limit = s->o->stall_floor_ms;
		}
	}
	if (r->phase == FD_PHASE_CHECKPOINT && limit < s->o->checkpoint_ms)
		limit = s->o->checkpoint_ms;
	return limit;
}

static int64_t rank_deadline(const struct sv *s, const struct rank *r)
{
	return r->progress_ns + rank_limit(s, r) * MS;
}

static void beat(struct sv *s, const struct fd_beat *b, int64_t now)
{
	struct rank *r = add_rank(s, b->rank, now);

	if (!r)
		return;
	s->total_beats++;
	r->last_ns = now;
	if (b->pid)
		r->pid = b->pid;
	if (b->stacks)
		r->stacks = 1;
	if (b->phase && b->phase != r->phase) {
		r->phase = b->phase; /* entering or leaving a checkpoint is progress */
		r->progress_ns = now;
	}
	if (b->step >= 0) {
		if (r->step < 0 || b->step > r->step) {
			if (r->step >= 0) {
				int64_t iv = now - r->step_ns;

				if (iv > r->max_interval_ns)
					r->max_interval_ns = iv;
				r->nintervals++;
			}
			r->step = b->step;
			r->step_ns = r->progress_ns = now;
			if (b->step > s->attempt_max_step)
				s->attempt_max_step = b->step;
		}
	} else if (r->step < 0) {
		r->progress_ns = now; /* a rank that never reports steps: liveness is progress */
	}
}

/* ---- stopping the tree ---------------------------------------------------------------- */

static size_t descendants(struct sv *s, struct fd_proc *procs, size_t max)
{
	size_t n = 0;

	if (fd_descendants(getpid(), procs, max, &n))
		return 0;
	return n < max ? n : max;
}

/*
 * Sends sig to the child's group and, when everyone is to go, to every other descendant. A
 * stopped process acts on nothing but SIGKILL until continued, so every other signal is
 * followed by SIGCONT.
 */
static void send_to(pid_t pid, int sig)
{
	kill(pid, sig);
	if (sig != SIGKILL)
		kill(pid, SIGCONT);
}

static void signal_tree(struct sv *s, int sig, int all)
{
	static struct fd_proc procs[MAX_PROCS];
	pid_t pg = s->child > 0 ? s->child : s->helper;

	if (pg > 0)
		send_to(-pg, sig);
	if (!all)
		return;
	size_t n = descendants(s, procs, MAX_PROCS);

	for (size_t i = 0; i < n; i++)
		if (procs[i].state != 'Z')
			send_to(procs[i].pid, sig);
}

static void reap(struct sv *s)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == s->child) {
			s->child_done = 1;
			s->child_status = st;
		} else if (p == s->helper) {
			s->helper_done = 1;
			s->helper_status = st;
		}
	}
}

/* Live (non-zombie) descendants, reaping what can be reaped first. */
static size_t live_tree(struct sv *s, struct fd_proc *procs, size_t max)
{
	size_t n, live = 0;

	reap(s);
	n = descendants(s, procs, max);
	for (size_t i = 0; i < n; i++)
		if (procs[i].state != 'Z')
			procs[live++] = procs[i];
	return live;
}

static void begin_stop(struct sv *s, int sig)
{
	s->phase = PH_STOPPING;
	s->deadline = fd_mono_ns() + s->o->grace_ms * MS;
	/* The group first (so the trainer can checkpoint); stragglers outside it later. */
	signal_tree(s, sig, s->child_done);
}

/* A failed attempt's SIGTERM, told in the events log. */
static void terminate(struct sv *s)
{
	event(s, "kill", -3, -1, NULL, -1, fields("signal", "SIGTERM"));
	begin_stop(s, SIGTERM);
}

static void begin_kill(struct sv *s)
{
	s->phase = PH_KILLING;
	s->deadline = fd_mono_ns() + s->o->kill_wait_ms * MS;
	signal_tree(s, SIGKILL, 1);
	event(s, "kill", -3, -1, NULL, -1, fields("signal", "SIGKILL"));
}

/* ---- stacks of a stuck job ------------------------------------------------------------ */

static int ask_stacks(struct sv *s)
{
	int asked = 0;
	char path[PATH_MAX];

	for (size_t i = 0; i < s->nranks; i++) {
		struct rank *r = &s->ranks[i];

		if (r->id < 0 || !r->stacks || r->pid <= 0)
			continue;
		/* Remove last time's text so only a fresh dump counts. */
		if (!fd_pathf(path, sizeof(path), "%s/stacks-%d.txt", s->hb.dir, r->id))
			truncate(path, 0);
		if (!kill(r->pid, s->stack_sig)) {
			r->stack_asked = 1;
			asked++;
		}
	}
	return asked;
}

static int stacks_ready(struct sv *s)
{
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < s->nranks; i++) {
		if (!s->ranks[i].stack_asked)
			continue;
		if (fd_pathf(path, sizeof(path), "%s/stacks-%d.txt", s->hb.dir, s->ranks[i].id) ||
		    stat(path, &st) || st.st_size == 0)
			return 0;
	}
	return 1;
}

/* 'File "/a/b/train.py", line 81 in main' -> "train.py:81 in main" */
static void frame_short(const char *f, char *out, size_t len)
{
	const char *q = strchr(f + 6, '"'), *base = f + 6, *line;
	int n = 0;

	for (const char *c = f + 6; q && c < q; c++)
		if (*c == '/')
			base = c + 1;
	line = q ? strstr(q, "line ") : NULL;
	if (!q || !line || (size_t)(line - f) > strcspn(f, "\n")) {
		snprintf(out, len, "%.*s", (int)strcspn(f, "\n"), f);
		return;
	}
	sscanf(line + 5, "%d", &n);
	snprintf(out, len, "%.*s:%d%.*s", (int)(q - base), base, n,
		 (int)strcspn(strstr(line, " in ") ? strstr(line, " in ") : "", "\n"),
		 strstr(line, " in ") ? strstr(line, " in ") : "");
}

/*
 * Where the thread the dump calls current is (faulthandler's format, most recent call first):
 * the innermost frame of the job's own code, and the innermost frame of all when that is in
 * a library ("train.py:81 in main (in distributed_c10d.py:1541 in all_reduce)").
 */
static void innermost(const char *text, char *out, size_t len)
{
	const char *p = strstr(text, "Current thread"), *first, *own = NULL;
	char a[256], b[256];

	if (!p)
		p = text;
	first = strstr(p, "File \"");
	if (!first) {
		snprintf(out, len, "(no frame in the dump)");
		return;
	}
	for (const char *f = first; f && f < first + 65536; f = strstr(f + 6, "File \"")) {
		size_t l = strcspn(f, "\n");

		if (!memmem(f, l, "-packages/", 10) && !memmem(f, l, "/lib/python", 11)) {
			own = f;
			break;
		}
		if (!strncmp(f + l, "\n\n", 2))
			break; /* the end of this thread's stack */
	}
	frame_short(first, a, sizeof(a));
	if (!own || own == first) {
		snprintf(out, len, "%s", a);
		return;
	}
	frame_short(own, b, sizeof(b));
	snprintf(out, len, "%s (in %s)", b, a);
}

static void collect_stacks(struct sv *s)
{
	char path[PATH_MAX], frame[512];

	for (size_t i = 0; i < s->nranks; i++) {
		struct rank *r = &s->ranks[i];
		struct fd_proc p;
		char *text = NULL;
		size_t n = 0;

		if (!r->stack_asked)
			continue;
		r->stack_asked = 0;
		if (!fd_pathf(path, sizeof(path), "%s/stacks-%d.txt", s->hb.dir, r->id) &&
		    !fd_read_all(path, &text, &n) && n > 0) {
			if (n > STACK_TEXT_MAX)
				text[STACK_TEXT_MAX] = '\0';
			innermost(text, frame, sizeof(frame));
			say(s, "rank %d is at %s (whole stacks in the events log)", r->id, frame);
			event(s, "stacks", r->id, r->step, NULL, -1, fields("stacks", text));
		} else if (fd_proc_read(r->pid, &p)) {
			say(s, "rank %d (pid %d) did not dump its stack", r->id, (int)r->pid);
		} else if (p.state == 'T' || p.state == 't') {
			say(s, "rank %d (pid %d) is stopped (state T): it cannot dump its stack",
			    r->id, (int)r->pid);
		} else if (p.state == 'D') {
			say(s, "rank %d (pid %d) is in uninterruptible sleep (state D): no stack",
			    r->id, (int)r->pid);
		} else {
			say(s, "rank %d (pid %d) did not dump its stack", r->id, (int)r->pid);
		}
		free(text);
	}
}

/* ---- failures ------------------------------------------------------------------------- */

/*
 * A failure of the running attempt: say what happened and what is done about it in one line,
 * record it, ask the ranks for their stacks, then stop the tree.
 */
static void fail(struct sv *s, int why, const char *what)
{
	char g[32];

	s->fail = why;
	fd_fmt_duration(s->o->grace_ms, g, sizeof(g));
	if (s->child_done) {
		say(s, "%s", what);
		begin_stop(s, SIGTERM);
		return;
	}
	say(s, "%s: stopping process group %d (SIGTERM, %s grace)", what, (int)s->child, g);
	if (why != FD_FAIL_CRASH && ask_stacks(s)) {
		s->phase = PH_STACKS;
		s->deadline = fd_mono_ns() + s->o->stack_wait_ms * MS;
		return;
	}
	terminate(s);
}

static void check_deadlines(struct sv *s, int64_t now)
{
	char who[64], d[32], st[64] = "", what[256];

	if (s->phase != PH_RUNNING)
		return;
	if (s->job_deadline && now >= s->job_deadline) {
		fd_fmt_duration(s->o->timeout_ms, d, sizeof(d));
		snprintf(what, sizeof(what), "the job ran past --timeout %s", d);
		event(s, "timeout", -3, s->attempt_max_step, NULL, -1, NULL);
		fail(s, FD_FAIL_TIMEOUT, what);
		return;
	}
	struct rank *r = NULL;
	int late = 0;

	/* Of the ranks past their deadline, the one silent longest is named. */
	for (size_t i = 0; i < s->nranks; i++) {
		if (now < rank_deadline(s, &s->ranks[i]))
			continue;
		late++;
		if (!r || s->ranks[i].progress_ns < r->progress_ns)
			r = &s->ranks[i];
	}
	if (r) {
		char others[64] = "";

		if (late > 1)
			snprintf(others, sizeof(others), " (%d of %zu heartbeat sources stalled)",
				 late, s->nranks);
		rank_name(r->id, who, sizeof(who));
		fd_fmt_duration((now - r->progress_ns) / MS, d, sizeof(d));
		if (r->step >= 0)
			snprintf(st, sizeof(st), " after step %lld", (long long)r->step);
		snprintf(what, sizeof(what), "%s %s for %s%s%s%s", who,
			 r->step >= 0 && now - r->last_ns < (now - r->progress_ns) / 2
			     ? "still beats but made no progress"
			     : "silent",
			 d, st, r->phase == FD_PHASE_CHECKPOINT ? " (in a checkpoint)" : "",
			 others);
		event(s, "stall", r->id, r->step, NULL, -1,
		      fields("reason", r->phase == FD_PHASE_CHECKPOINT ? "checkpoint" : "stall"));
		fail(s, FD_FAIL_STALL, what);
		return;
	}
	if (now >= s->launch_ns + s->o->startup_ms * MS && startup_pending(s)) {
		fd_fmt_duration(s->o->startup_ms, d, sizeof(d));
		if (s->expected)
			snprintf(what, sizeof(what),
				 "%d of %d ranks beat within --startup-timeout %s", real_ranks(s),
				 s->expected, d);
		else
			snprintf(what, sizeof(what), "no heartbeat within --startup-timeout %s", d);
		event(s, "stall", -3, -1, NULL, -1, fields("reason", "startup"));
		fail(s, FD_FAIL_STARTUP, what);
	}
}

static int64_t next_wake(struct sv *s, int64_t now)
{
	int64_t t = s->deadline ? s->deadline : INT64_MAX;

	switch (s->phase) {
	case PH_RUNNING:
		for (size_t i = 0; i < s->nranks; i++)
			if (rank_deadline(s, &s->ranks[i]) < t)
				t = rank_deadline(s, &s->ranks[i]);
		if (startup_pending(s) && s->launch_ns + s->o->startup_ms * MS < t)
			t = s->launch_ns + s->o->startup_ms * MS;
		if (s->o->heartbeat_file && s->next_file_poll < t)
			t = s->next_file_poll;
		if (s->o->checkpoint_max_age_ms && s->next_ckpt_check < t)
			t = s->next_ckpt_check;
		break;
	case PH_STACKS:
	case PH_STOPPING:
		if (now + STOP_POLL_MS * MS < t)
			t = now + STOP_POLL_MS * MS;
		break;
	case PH_KILLING:
		if (now + KILL_POLL_MS * MS < t)
			t = now + KILL_POLL_MS * MS;
		break;
	default:
		break;
	}
	if (s->job_deadline && s->job_deadline < t)
		t = s->job_deadline;
	if (s->hb_poll && s->hb_next_poll < t)
		t = s->hb_next_poll;
	return t;
}

/* ---- output pass-through and --progress-regex ---------------------------------------- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* our stdout is gone: keep supervising, drop the copy */
		p += w;
		n -= (size_t)w;
	}
}

static void match_line(struct sv *s, struct stream *st)
{
	struct fd_beat b = {.rank = RANK_OUTPUT, .step = -1};

	st->line[st->len] = '\0';
	if (fd_progress_match(&s->re, st->line, &b.step))
		beat(s, &b, fd_mono_ns());
	st->len = 0;
}

static void close_stream(struct sv *s, struct stream *st)
{
	if (st->fd < 0)
		return;
	if (st->len)
		match_line(s, st);
	epoll_ctl(s->ep, EPOLL_CTL_DEL, st->fd, NULL);
	close(st->fd);
	st->fd = -1;
}

static void pump(struct sv *s, struct stream *st)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(st->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_stream(s, st);
			return;
		}
		write_all(st->out, buf, (size_t)n);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				match_line(s, st);
			} else if (st->len < LINE_MAX_MATCH) {
				st->line[st->len++] = buf[i];
			}
		}
	}
}

/* ---- launching ------------------------------------------------------------------------ */

static int add_fd(struct sv *s, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void set_env_int(const char *k, long long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", v);
	setenv(k, b, 1);
}

static void finish(struct sv *s, int code);

static void launch(struct sv *s)
{
	struct fd_spawn sp = {0};
	char err[PATH_MAX + 128];
	char **argv;
	int eno;

	/* Environment and argv are built here, before fork. */
	setenv("FLIGHTDECK_HEARTBEAT", s->hb.path, 1);
	setenv("FLIGHTDECK_STACK_DIR", s->hb.dir, 1);
	set_env_int("FLIGHTDECK_STACK_SIGNAL", s->stack_sig);
	set_env_int("FLIGHTDECK_RESTART_COUNT", s->restarts);
	if (*s->resume)
		setenv("FLIGHTDECK_RESUME_FROM", s->resume, 1);
	else
		unsetenv("FLIGHTDECK_RESUME_FROM");
	argv = fd_resume_argv(s->o->argv, s->resume);
	if (!argv) {
		say(s, "out of memory building the command line");
		finish(s, FD_RUN_INTERNAL);
		return;
	}
	sp.argv = argv;
	sp.capture = s->have_re;
	if (fd_spawn_start(&sp, &eno, err, sizeof(err))) {
		fd_err("%s", err);
		fd_argv_free(argv);
		finish(s, !eno ? FD_RUN_INTERNAL : eno == ENOENT ? FD_RUN_NOTFOUND : FD_RUN_NOEXEC);
		return;
	}
	fd_argv_free(argv);
	s->child = sp.pid;
	s->child_done = 0;
	s->launches++;
	s->fail = FD_FAIL_NONE;
	s->attempt_max_step = -1;
	s->nranks = 0;
	s->launch_ns = fd_mono_ns();
	s->phase = PH_RUNNING;
	s->deadline = 0;
	s->file_seen = 0;
	s->next_file_poll = s->launch_ns;
	s->next_ckpt_check = s->launch_ns;
	s->sout = (struct stream){.fd = sp.out_fd, .out = STDOUT_FILENO};
	s->serr = (struct stream){.fd = sp.err_fd, .out = STDERR_FILENO};
	if (sp.out_fd >= 0 && (add_fd(s, sp.out_fd) || add_fd(s, sp.err_fd)))
		say(s, "cannot watch the command's output: %s", strerror(errno));
	if (*s->resume)
		say(s, "launch %d: process group %d, resuming from %s", s->launches, (int)s->child,
		    s->resume);
	else
		say(s, "launch %d: process group %d", s->launches, (int)s->child);
	event(s, "start", -3, -1, s->resume, -1, NULL);
}

static void preflight(struct sv *s)
{
	static const char *const levels[] = {"none", "quick", "standard"};
	char *argv[12];
	struct fd_spawn sp = {0};
	char err[PATH_MAX + 128];
	int n = 0, eno;

	if (s->o->preflight == FD_PREFLIGHT_NONE) {
		launch(s);
		return;
	}
	argv[n++] = s->self_exe;
	argv[n++] = "check";
	argv[n++] = "--level";
	argv[n++] = (char *)levels[s->o->preflight];
	argv[n++] = "-q";
	if (s->o->checkpoint_dir) {
		argv[n++] = "--checkpoint-dir";
		argv[n++] = (char *)s->o->checkpoint_dir;
	}
	if (s->o->check_config) {
		argv[n++] = "--config";
		argv[n++] = (char *)s->o->check_config;
	}
	argv[n] = NULL;
	sp.argv = argv;
	sp.stdout_to_stderr = 1; /* the job's stdout stays the job's */
	if (fd_spawn_start(&sp, &eno, err, sizeof(err))) {
		say(s, "preflight: %s", err);
		finish(s, FD_RUN_PREFLIGHT);
		return;
	}
	s->helper = sp.pid;
	s->helper_done = 0;
	s->phase = PH_PREFLIGHT;
	/* check bounds its own probes (gpubench has --gpubench-timeout); this bounds check. */
	s->deadline = fd_mono_ns() + (s->o->preflight == FD_PREFLIGHT_QUICK ? 120000 : 600000) * MS;
}

/* In a forked helper: wait until no GPU holds a compute process, or the deadline passes. */
static void gpu_wait_child(int64_t limit_ms)
{
	struct fd_nvml n;
	char why[256];
	int64_t end = fd_mono_ns() + limit_ms * MS;
	unsigned int count = 0;

	if (fd_nvml_open(&n, why, sizeof(why)))
		_exit(0); /* no NVML here: nothing to wait for */
	if (n.DeviceGetCount(&count) || !n.DeviceGetComputeRunningProcesses)
		_exit(0);
	for (;;) {
		unsigned int busy = 0;

		for (unsigned int i = 0; i < count; i++) {
			fd_nvmlDevice_t h;
			unsigned int k = 0;

			if (!n.DeviceGetHandleByIndex(i, &h) &&
			    n.DeviceGetComputeRunningProcesses(h, &k, NULL) ==
				FD_NVML_ERROR_INSUFFICIENT_SIZE)
				busy += k;
		}
		if (!busy)
			_exit(0);
		if (fd_mono_ns() > end)
			_exit(1);
		usleep(200000);
	}
}

static void gpu_wait(struct sv *s)
{
	pid_t pid = fd_fork_group();

	if (pid < 0) {
		preflight(s);
		return;
	}
	if (pid == 0)
		gpu_wait_child(s->o->gpu_release_ms);
	s->helper = pid;
	s->helper_done = 0;
	s->phase = PH_GPU_WAIT;
	s->deadline = fd_mono_ns() + (s->o->gpu_release_ms + 5000) * MS;
}

/* ---- what happens once the tree is gone ------------------------------------------------ */

static const char *fail_name(int f)
{
	switch (f) {
	case FD_FAIL_STARTUP:
		return "startup";
	case FD_FAIL_STALL:
		return "stall";
	case FD_FAIL_CRASH:
		return "crash";
	case FD_FAIL_TIMEOUT:
		return "timeout";
	case FD_FAIL_PREFLIGHT:
		return "preflight";
	}
	return "none";
}

static void finish(struct sv *s, int code)
{
	s->exit_code = code;
	s->phase = PH_DONE;
}

/*
 * The newest complete checkpoint under --checkpoint-dir into out ("" when none or no
 * directory), naming a newer one that is not complete. 0 or -errno.
 */
static int newest_checkpoint(struct sv *s, char *out, size_t len)
{
	struct fd_ckpt_scan scan;
	int r;

	out[0] = '\0';
	if (!s->o->checkpoint_dir)
		return 0;
	r = fd_ckpt_newest(s->o->checkpoint_dir, s->o->checkpoint_marker, &scan);
	if (r)
		return r;
	if (*scan.skipped)
		say(s, "skipping %s: not complete (no completion marker)", scan.skipped);
	fd_strlcpy(out, scan.newest, len);
	return 0;
}

static void tree_gone(struct sv *s)
{
	struct fd_node_state me = {0};
	struct fd_decision d;
	char why[128], b[32];

	if (s->stop_signal) {
		finish(s, 128 + s->stop_signal);
		return;
	}
	if (s->fail == FD_FAIL_NONE) {
		finish(s, s->child_done ? status_code(s->child_status) : FD_RUN_INTERNAL);
		return;
	}
	me.node = s->group.rank;
	me.failure = s->fail;
	me.max_step = s->attempt_max_step;
	int r = newest_checkpoint(s, me.checkpoint, sizeof(me.checkpoint));

	if (r)
		say(s, "cannot read --checkpoint-dir %s: %s", s->o->checkpoint_dir, strerror(-r));
	s->group.ops->exchange(&s->group, &me, &d);
	if (d.verdict == FD_STOP) {
		switch (d.stop_why) {
		case FD_STOP_FAILURE:
			finish(s, s->fail == FD_FAIL_TIMEOUT ? FD_RUN_TIMEOUT : FD_RUN_PREFLIGHT);
			return;
		case FD_STOP_BUDGET:
			say(s, "giving up: --max-restarts %d spent", s->o->max_restarts);
			break;
		default:
			if (s->group.history.last_max_step >= 0)
				snprintf(why, sizeof(why), "got no further than step %lld",
					 (long long)s->group.history.last_max_step);
			else
				snprintf(why, sizeof(why), "failed the same way");
			say(s, "giving up: %d restarts in a row resumed from %s and %s",
			    s->group.history.no_progress,
			    *me.checkpoint ? me.checkpoint : "the start", why);
			break;
		}
		finish(s, s->fail == FD_FAIL_CRASH ? status_code(s->child_status) : FD_RUN_STALLED);
		return;
	}
	fd_strlcpy(s->resume, d.checkpoint, sizeof(s->resume));
	s->restarts = s->group.history.restarts;
	int64_t wait = s->o->backoff_ms;

	for (int i = 1; i < s->restarts && wait < s->o->backoff_max_ms; i++)
		wait *= 2;
	if (wait > s->o->backoff_max_ms)
		wait = s->o->backoff_max_ms;
	fd_fmt_duration(wait, b, sizeof(b));
	say(s, "restart %d of %d after a %s, in %s, from %s", s->restarts, s->o->max_restarts,
	    fail_name(s->fail), b, *s->resume ? s->resume : "the start (no complete checkpoint)");
	event(s, "restart", -3, -1, s->resume, -1, fields("reason", fail_name(s->fail)));
	s->phase = PH_BACKOFF;
	s->deadline = fd_mono_ns() + wait * MS;
}

/* The tree is gone when the child has been reaped and no descendant is alive. */
static void poll_tree(struct sv *s)
{
	static struct fd_proc procs[MAX_PROCS];
	size_t n = live_tree(s, procs, MAX_PROCS);
	int64_t now = fd_mono_ns();

	if ((s->child <= 0 || s->child_done) && (s->helper <= 0 || s->helper_done) && n == 0) {
		close_stream(s, &s->sout);
		close_stream(s, &s->serr);
		s->deadline = 0;
		s->child = -1;
		tree_gone(s);
		return;
	}
	if (s->phase == PH_STOPPING && now >= s->deadline) {
		say(s, "grace period over: SIGKILL to process group %d and %zu descendant(s)",
		    (int)s->child, n);
		begin_kill(s);
		return;
	}
	if (s->phase == PH_STOPPING && s->child_done)
		signal_tree(s, SIGTERM, 1); /* stragglers outside the group get the same notice */
	if (s->phase == PH_KILLING && now >= s->deadline) {
		for (size_t i = 0; i < n; i++)
			say(s, "pid %d (%s) survives SIGKILL in state %c%s", (int)procs[i].pid,
			    procs[i].comm, procs[i].state,
			    procs[i].state == 'D' ? " (uninterruptible sleep, stuck in the kernel)"
						  : "");
		event(s, "kill", -3, -1, NULL, -1, fields("message", "processes survive SIGKILL"));
		s->child_done = 1; /* give up on them: never wedge here */
		s->helper_done = 1;
		s->child = -1;
		s->deadline = 0;
		tree_gone(s);
		return;
	}
	if (s->phase == PH_KILLING)
		signal_tree(s, SIGKILL, 1);
}

/* ---- events from the loop ------------------------------------------------------------- */

static void on_child_exit(struct sv *s)
{
	char what[96], line[128];

	describe_status(s->child_status, what, sizeof(what));
	if (s->phase == PH_RUNNING || s->phase == PH_STACKS) {
		if (s->child_status == 0) {
			say(s, "the command exited with status 0");
			begin_stop(s, SIGTERM); /* stragglers it left behind */
			return;
		}
		event(s, "crash", -3, s->attempt_max_step, NULL, status_code(s->child_status),
		      NULL);
		snprintf(line, sizeof(line), "the command %s", what);
		fail(s, FD_FAIL_CRASH, line);
		return;
	}
	if (s->phase == PH_STOPPING || s->phase == PH_KILLING)
		poll_tree(s);
}

static void on_helper_exit(struct sv *s)
{
	pid_t h = s->helper;
	int st = s->helper_status;

	s->helper = -1;
	if (s->stop_signal) {
		finish(s, 128 + s->stop_signal);
		return;
	}
	if (s->phase == PH_GPU_WAIT) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
			say(s, "GPUs still hold compute processes after --gpu-release-timeout; "
			       "the preflight will judge");
		preflight(s);
		return;
	}
	if (s->phase != PH_PREFLIGHT)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		event(s, "preflight", -3, -1, NULL, 0, fields("verdict", "fit"));
		launch(s);
		return;
	}
	say(s, "preflight: this node is unfit (flightdeck check %s, pid %d); not launching",
	    WIFEXITED(st) && WEXITSTATUS(st) == 1 ? "found failures" : "could not run", (int)h);
	event(s, "preflight", -3, -1, NULL, status_code(st), fields("verdict", "unfit"));
	finish(s, FD_RUN_PREFLIGHT);
}

static void on_signal(struct sv *s, int sig)
{
	if (sig == SIGCHLD) {
		int was_child = s->child_done, was_helper = s->helper_done;

		reap(s);
		if (s->child > 0 && s->child_done && !was_child)
			on_child_exit(s);
		if (s->helper > 0 && s->helper_done && !was_helper && s->phase != PH_STOPPING &&
		    s->phase != PH_KILLING)
			on_helper_exit(s);
		else if (s->phase == PH_STOPPING || s->phase == PH_KILLING)
			poll_tree(s);
		return;
	}
	if (sig == SIGUSR1 || sig == SIGUSR2) {
		if (s->child > 0 && !s->child_done) {
			kill(-s->child, sig);
			say(s, "forwarded %s to process group %d", sig_name(sig), (int)s->child);
			event(s, "signal", -3, -1, NULL, -1, fields("signal", sig_name(sig)));
		}
		return;
	}
	/* SIGTERM, SIGINT, SIGHUP, SIGQUIT: stop the job, with the same grace. */
	event(s, "signal", -3, -1, NULL, -1, fields("signal", sig_name(sig)));
	if (s->stop_signal) {
		say(s, "second %s: killing everything now", sig_name(sig));
		begin_kill(s);
		return;
	}
	s->stop_signal = sig;
	switch (s->phase) {
	case PH_RUNNING:
	case PH_STACKS:
		say(s, "received %s: passing it to process group %d", sig_name(sig), (int)s->child);
		begin_stop(s, sig);
		break;
	case PH_STOPPING:
		kill(-s->child, sig);
		break;
	case PH_PREFLIGHT:
	case PH_GPU_WAIT:
		begin_kill(s);
		break;
	case PH_BACKOFF:
		finish(s, 128 + sig);
		break;
	default:
		break;
	}
}

/*
 * Reads every queued beat, on readiness or on the polling timer (see hb_poll in struct sv):
 * the kernel queues at most net.unix.max_dgram_qlen (10 by default) datagrams per socket and
 * clients wait 20 ms at most on a full queue, so a supervisor that dawdled would lose beats.
 */
static int drain_hb(struct sv *s)
{
	static struct fd_beat b[256];
	int64_t now = fd_mono_ns();
	int n, total = 0;

	do {
		n = fd_hb_recv(&s->hb, b, (int)FD_ARRAY_SIZE(b));
		for (int i = 0; i < n; i++)
			if (s->phase == PH_RUNNING || s->phase == PH_STACKS)
				beat(s, &b[i], now);
		total += n > 0 ? n : 0;
	} while (n == (int)FD_ARRAY_SIZE(b));
	return total;
}

static void hb_mode(struct sv *s, int poll)
{
	struct epoll_event ev = {.events = poll ? 0 : EPOLLIN, .data.fd = s->hb.fd};

	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, s->hb.fd, &ev))
		return;
	s->hb_poll = poll;
	s->hb_fast = s->hb_idle = 0;
	s->hb_period = HB_POLL_MAX_NS;
	s->hb_next_poll = fd_mono_ns() + s->hb_period;
}

/* The socket was readable (readiness mode). */
static void on_hb_ready(struct sv *s)
{
	int64_t now = fd_mono_ns();

	drain_hb(s);
	s->hb_fast = now - s->hb_last_wake < HB_POLL_MAX_NS ? s->hb_fast + 1 : 0;
	s->hb_last_wake = now;
	if (s->hb_fast >= 8)
		hb_mode(s, 1);
}

/* A poll in polling mode, with n datagrams read: size the period to the rate. */
static void on_hb_poll(struct sv *s, int n, int64_t now)
{
	if (n == 0 && ++s->hb_idle >= 20) {
		hb_mode(s, 0);
		return;
	}
	/* Proportional: the period that would have queued HB_POLL_TARGET datagrams. */
	if (n) {
		s->hb_idle = 0;
		s->hb_period = s->hb_period * HB_POLL_TARGET / n;
	}
	if (s->hb_period < HB_POLL_MIN_NS)
		s->hb_period = HB_POLL_MIN_NS;
	if (s->hb_period > HB_POLL_MAX_NS)
		s->hb_period = HB_POLL_MAX_NS;
	s->hb_next_poll = now + s->hb_period;
}

/*
 * The 68-hours-without-a-checkpoint incident: while the job runs, the newest complete
 * checkpoint must not grow older than --checkpoint-max-age. Said once per checkpoint.
 */
static void check_ckpt_age(struct sv *s, int64_t now)
{
	struct fd_ckpt_scan scan;
	double age, limit = (double)s->o->checkpoint_max_age_ms / 1000;
	char a[32], l[32];
	int64_t every =
	    s->o->checkpoint_max_age_ms / 4 < 60000 ? s->o->checkpoint_max_age_ms / 4 : 60000;

	s->next_ckpt_check = now + (every > 0 ? every : 1) * MS;
	if (fd_ckpt_newest(s->o->checkpoint_dir, s->o->checkpoint_marker, &scan))
		return;
	age = fd_wall_s() - (*scan.newest ? scan.newest_time : s->start_wall);
	if (age <= limit)
		return;
	if (*scan.newest ? !strcmp(scan.newest, s->ckpt_warned) : s->ckpt_warned_none)
		return;
	fd_fmt_duration((int64_t)(age * 1000), a, sizeof(a));
	fd_fmt_duration(s->o->checkpoint_max_age_ms, l, sizeof(l));
	if (*scan.newest) {
		fd_strlcpy(s->ckpt_warned, scan.newest, sizeof(s->ckpt_warned));
		say(s,
		    "the newest complete checkpoint, %s, is %s old (--checkpoint-max-age %s): a "
		    "failure now loses all that training",
		    scan.newest, a, l);
	} else {
		s->ckpt_warned_none = 1;
		say(s,
		    "no complete checkpoint in %s after %s (--checkpoint-max-age %s): a failure "
		    "now loses all of this run",
		    s->o->checkpoint_dir, a, l);
	}
	cJSON *o = cJSON_CreateObject();

	if (o)
		cJSON_AddNumberToObject(o, "age_s", age);
	event(s, "checkpoint_overdue", -3, s->attempt_max_step, scan.newest, -1, o);
}

static void poll_file(struct sv *s, int64_t now)
{
	struct stat st;

	s->next_file_poll = now + (s->o->stall_ms / 4 < 1000 ? s->o->stall_ms / 4 : 1000) * MS;
	if (stat(s->o->heartbeat_file, &st))
		return;
	if (!s->file_seen) { /* the first look at this launch: what was there before */
		s->file_seen = 1;
		s->file_mtime = st.st_mtim;
		return;
	}
	if (st.st_mtim.tv_sec != s->file_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != s->file_mtime.tv_nsec) {
		struct fd_beat b = {.rank = RANK_FILE, .step = -1};

		s->file_mtime = st.st_mtim;
		beat(s, &b, now);
	}
}

static void on_timer(struct sv *s)
{
	int64_t now = fd_mono_ns();

	/* Beats queued up to now count before any deadline is judged. */
	int n = drain_hb(s);

	if (s->hb_poll && now >= s->hb_next_poll)
		on_hb_poll(s, n, now);

	switch (s->phase) {
	case PH_RUNNING:
		if (s->o->heartbeat_file && now >= s->next_file_poll)
			poll_file(s, now);
		if (s->o->checkpoint_max_age_ms && now >= s->next_ckpt_check)
			check_ckpt_age(s, now);
		check_deadlines(s, now);
		break;
	case PH_STACKS:
		if (stacks_ready(s) || now >= s->deadline) {
			collect_stacks(s);
			terminate(s);
		}
		break;
	case PH_STOPPING:
	case PH_KILLING:
		poll_tree(s);
		break;
	case PH_BACKOFF:
		if (now >= s->deadline)
			gpu_wait(s);
		break;
	case PH_GPU_WAIT:
	case PH_PREFLIGHT:
		if (s->deadline && now >= s->deadline && s->helper > 0) {
			say(s, "the %s helper (pid %d) is past its deadline: killing it",
			    phase_names[s->phase], (int)s->helper);
			kill(-s->helper, SIGKILL); /* NVML or a GPU test hung: never wedge */
			s->deadline = 0;
		}
		break;
	default:
		break;
	}
	if (s->job_deadline && now >= s->job_deadline && s->phase != PH_DONE &&
	    s->phase != PH_STOPPING && s->phase != PH_KILLING && s->phase != PH_STACKS &&
	    s->phase != PH_RUNNING) {
		say(s, "the job ran past --timeout while %s", phase_names[s->phase]);
		event(s, "timeout", -3, -1, NULL, -1, NULL);
		if (s->helper > 0 && !s->helper_done) {
			s->fail = FD_FAIL_TIMEOUT;
			s->stop_signal = 0;
			begin_kill(s);
		} else {
			finish(s, FD_RUN_TIMEOUT);
		}
	}
}

/* ---- set-up and the loop -------------------------------------------------------------- */

static int count_nproc(char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		const char *a = argv[i], *v = NULL;
		int n;

		if (!strncmp(a, "--nproc-per-node", 16) || !strncmp(a, "--nproc_per_node", 16)) {
			if (a[16] == '=')
				v = a + 17;
			else if (!a[16])
				v = argv[i + 1];
		}
		if (v && !fd_parse_uint(v, &n) && n > 0)
			return n;
	}
	return 0;
}

/*
 * VmHWM: this process's own peak. getrusage's ru_maxrss is not: Linux keeps the larger of
 * the parent's at fork across exec, so a flightdeck started by a big Python reports its size.
 */
static long peak_rss_kb(void)
{
	char buf[8192], *p;

	if (fd_read_small("/proc/self/status", buf, sizeof(buf)) < 0 ||
	    !(p = strstr(buf, "VmHWM:")))
		return -1;
	return strtol(p + 6, NULL, 10);
}

static void summary(struct sv *s)
{
	struct rusage ru;
	double cpu;
	char b[64];

	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	      ru.ru_stime.tv_usec / 1e6;
	fd_fmt_duration((fd_mono_ns() - s->start_ns) / MS, b, sizeof(b));
	say(s, "done: exit %d after %s, %d launch(es), %d restart(s), %llu beat(s)%s%s",
	    s->exit_code, b, s->launches, s->restarts, (unsigned long long)s->total_beats,
	    *s->resume ? ", last resumed from " : "", s->resume);
	if (s->hb.malformed || s->hb.foreign)
		say(s, "ignored %llu malformed and %llu foreign heartbeat datagram(s)",
		    (unsigned long long)s->hb.malformed, (unsigned long long)s->hb.foreign);
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddNumberToObject(o, "launches", s->launches);
		cJSON_AddNumberToObject(o, "beats", (double)s->total_beats);
		cJSON_AddNumberToObject(o, "malformed", (double)s->hb.malformed);
		cJSON_AddNumberToObject(o, "foreign", (double)s->hb.foreign);
		cJSON_AddNumberToObject(o, "cpu_s", cpu);
		cJSON_AddNumberToObject(o, "peak_rss_kb", (double)peak_rss_kb());
		cJSON_AddStringToObject(o, "reason", fail_name(s->fail));
	}
	event(s, "exit", -3, s->attempt_max_step, s->resume, s->exit_code, o);
}

/* Last resort on an internal error: nothing may outlive flightdeck. */
static void emergency_kill(struct sv *s)
{
	static struct fd_proc procs[MAX_PROCS];

	for (int round = 0; round < 100; round++) {
		signal_tree(s, SIGKILL, 1);
		if (!live_tree(s, procs, MAX_PROCS))
			return;
		usleep(20000);
	}
}

int fd_supervise(const struct fd_run_opts *o)
{
	static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sv sv = {0}, *s = &sv;
	struct fd_policy pol = {o->max_restarts, o->no_progress_limit};
	sigset_t mask;
	char err[PATH_MAX + 128];
	ssize_t n;

	s->o = o;
	s->ep = s->sfd = s->tfd = s->events_fd = -1;
	s->child = s->helper = -1;
	s->sout.fd = s->serr.fd = -1;
	s->stack_sig = SIGRTMIN + 3;
	s->start_ns = fd_mono_ns();
	s->start_wall = fd_wall_s();
	s->job_deadline = o->timeout_ms ? s->start_ns + o->timeout_ms * MS : 0;
	s->expected = o->ranks ? o->ranks : count_nproc(o->argv);
	s->exit_code = FD_RUN_INTERNAL;
	s->hb.fd = -1;
	fd_group_local(&s->group, &pol);

	if (o->progress_regex) {
		if (fd_progress_compile(&s->re, o->progress_regex, err, sizeof(err))) {
			fd_err("--progress-regex '%s': %s", o->progress_regex, err);
			return FD_RUN_USAGE;
		}
		s->have_re = 1;
	}
	int r = newest_checkpoint(s, s->resume, sizeof(s->resume));

	if (r) {
		fd_err("--checkpoint-dir %s: %s", o->checkpoint_dir, strerror(-r));
		s->exit_code = FD_RUN_USAGE;
		goto out;
	}
	if (o->events) {
		s->events_fd = open(o->events, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (s->events_fd < 0) {
			fd_err("--events %s: %s", o->events, strerror(errno));
			s->exit_code = FD_RUN_USAGE;
			goto out;
		}
	}
	n = readlink("/proc/self/exe", s->self_exe, sizeof(s->self_exe) - 1);
	if (n <= 0) {
		fd_err("cannot find my own executable: %s", strerror(errno));
		goto out;
	}
	s->self_exe[n] = '\0';
	if (fd_hb_open(&s->hb, err, sizeof(err))) {
		fd_err("%s", err);
		goto out;
	}

	/* Signals arrive through signalfd only; the child gets them unblocked again. */
	sigemptyset(&mask);
	for (size_t i = 0; i < FD_ARRAY_SIZE(sigs); i++)
		sigaddset(&mask, sigs[i]);
	sigaddset(&mask, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		fd_err("sigprocmask: %s", strerror(errno));
		goto out;
	}
	sigdelset(&mask, SIGPIPE);
	s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->sfd < 0 || s->tfd < 0 || s->ep < 0 || add_fd(s, s->sfd) || add_fd(s, s->tfd) ||
	    add_fd(s, s->hb.fd)) {
		fd_err("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	/* Orphans of the job come to us, not to init, so they can be found and killed. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		say(s, "cannot become a child subreaper (%s): daemonised descendants may escape",
		    strerror(errno));

	if (!s->expected && !s->have_re && !o->heartbeat_file)
		say(s, "no heartbeat source given: stall detection starts with the first beat on "
		       "FLIGHTDECK_HEARTBEAT");
	preflight(s);

	while (s->phase != PH_DONE) {
		struct epoll_event evs[8];
		int64_t now = fd_mono_ns(), wake = next_wake(s, now);
		int k;

		if (wake != INT64_MAX && (wake < s->armed_ns || s->armed_ns <= now))
			arm(s, wake);
		k = epoll_wait(s->ep, evs, FD_ARRAY_SIZE(evs), -1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fd_err("epoll_wait: %s", strerror(errno));
			emergency_kill(s);
			s->exit_code = FD_RUN_INTERNAL;
			break;
		}
		for (int i = 0; i < k && s->phase != PH_DONE; i++) {
			int fd = evs[i].data.fd;

			if (fd == s->sfd) {
				struct signalfd_siginfo si;

				while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
				       s->phase != PH_DONE)
					on_signal(s, (int)si.ssi_signo);
			} else if (fd == s->tfd) {
				uint64_t ticks;

				if (read(s->tfd, &ticks, sizeof(ticks)) > 0)
					s->armed_ns = 0;
				on_timer(s);
			} else if (fd == s->hb.fd) {
				on_hb_ready(s);
			} else if (fd == s->sout.fd) {
				pump(s, &s->sout);
			} else if (fd == s->serr.fd) {
				pump(s, &s->serr);
			}
		}
	}
	if (s->child > 0 || s->helper > 0)
		emergency_kill(s);
	summary(s);
out:
	close_stream(s, &s->sout);
	close_stream(s, &s->serr);
	if (s->have_re)
		regfree(&s->re);
	fd_hb_close(&s->hb);
	free(s->ranks);
	if (s->events_fd >= 0)
		close(s->events_fd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->tfd >= 0)
		close(s->tfd);
	s->group.ops->close(&s->group);
	return s->exit_code;
}
