/*
 * attempt.c - one attempt of the command: launching it, judging it while it runs (the
 * --timeout, the ranks' stalls, a crash) and failing it. A failed attempt is stopped
 * (tree.c); once the tree is gone the group decides what comes next (decide.c).
 */
#include "checkpoint.h"
#include "proctree.h"
#include "spawn.h"
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void set_env_int(const char *k, long long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", v);
	setenv(k, b, 1);
}

/* The contract with the job: where to beat, where to dump stacks, where to resume from. */
static void job_env(struct sv *s)
{
	setenv("FLIGHTDECK_HEARTBEAT", s->beats.hb.path, 1);
	setenv("FLIGHTDECK_STACK_DIR", s->beats.hb.dir, 1);
	set_env_int("FLIGHTDECK_STACK_SIGNAL", s->stack_sig);
	set_env_int("FLIGHTDECK_RESTART_COUNT", s->att.restarts);
	if (*s->att.resume)
		setenv("FLIGHTDECK_RESUME_FROM", s->att.resume, 1);
	else
		unsetenv("FLIGHTDECK_RESUME_FROM");
	/* Python block-buffers into a pipe: no line, so no beat, until 8 KiB, and what is
	 * buffered is lost at a kill. The user's own setting, even empty, wins. */
	setenv("PYTHONUNBUFFERED", "1", 0);
}

/*
 * torchrun's contract with each worker (its env:// rendezvous and torchrun-aware code), for
 * local rank i of this node; the command's own settings of the rest are left alone.
 */
static void rank_env(struct sv *s, int i)
{
	const struct fd_run_opts *o = s->o;
	int n = o->nproc_per_node, nodes = s->group.size > 0 ? s->group.size : 1;
	int world = n * nodes, rank = s->att.rank_base + i;
	char id[64];

	set_env_int("RANK", rank);
	set_env_int("LOCAL_RANK", i);
	set_env_int("WORLD_SIZE", world);
	set_env_int("LOCAL_WORLD_SIZE", n);
	set_env_int("GROUP_RANK", s->group.rank);
	set_env_int("NODE_RANK", s->group.rank);
	set_env_int("GROUP_WORLD_SIZE", nodes);
	set_env_int("ROLE_RANK", rank);
	set_env_int("ROLE_WORLD_SIZE", world);
	setenv("ROLE_NAME", "default", 1);
	setenv("MASTER_ADDR",
	       nodes > 1 && o->group.coord_host && *o->group.coord_host ? o->group.coord_host
									: "127.0.0.1",
	       1);
	set_env_int("MASTER_PORT", s->att.master_port);
	set_env_int("TORCHELASTIC_RESTART_COUNT", s->att.restarts);
	set_env_int("TORCHELASTIC_MAX_RESTARTS", o->max_restarts);
	snprintf(id, sizeof(id), "flightdeck-%d-%d", (int)getpid(), s->att.launches);
	setenv("TORCHELASTIC_RUN_ID",
	       getenv("FLIGHTDECK_RUN_ID") ? getenv("FLIGHTDECK_RUN_ID") : id, 1);
}

/* One local rank (or the whole command): started, watched. 0, or -1 after submitting. */
static int launch_one(struct sv *s, char **argv, int i)
{
	struct fd_spawn sp = {0};
	char err[PATH_MAX + 128];
	int eno;

	if (s->o->nproc_per_node > 0)
		rank_env(s, i);
	sp.argv = argv;
	/* read by the pump: for the regex, the prefix, or from the pty; one pipe when both go to
	 * one file */
	sp.capture = s->output.have_re || s->o->pty || s->o->prefix_output;
	sp.pty = s->o->pty;
	sp.capture_merged = s->output.merged;
	sp.join_group = i > 0 ? s->procs.child : 0;
	if (fd_spawn_start(&sp, &eno, err, sizeof(err))) {
		fd_err("%s", err);
		if (i > 0) { /* the ranks already started go as a crashed attempt's would */
			snprintf(err, sizeof(err), "local rank %d could not be started", i);
			att_fail(s, FD_FAIL_CRASH, err);
			return -1;
		}
		sup_submit(s, FD_FAIL_LAUNCH,
			   !eno		   ? FD_RUN_INTERNAL
			   : eno == ENOENT ? FD_RUN_NOTFOUND
					   : FD_RUN_NOEXEC,
			   0);
		return -1;
	}
	if (i == 0)
		s->procs.child = sp.pid;
	s->procs.rank_pid[i] = sp.pid;
	s->procs.left++;
	out_watch(s, i, sp.out_fd, sp.err_fd);
	return 0;
}

void att_launch(struct sv *s)
{
	struct sup_procs *p = &s->procs;
	int n = s->o->nproc_per_node > 0 ? s->o->nproc_per_node : 1;
	char **argv;

	beats_relaunch(s); /* a socket the last launch deleted is bound again */
	if (!p->rank_pid) {
		p->rank_pid = calloc((size_t)n, sizeof(*p->rank_pid));
		p->rank_status = calloc((size_t)n, sizeof(*p->rank_status));
		if (!p->rank_pid || !p->rank_status) {
			sup_say(s, "out of memory starting %d ranks", n);
			sup_submit(s, FD_FAIL_LAUNCH, FD_RUN_INTERNAL, 0);
			return;
		}
	}
	/* Environment and argv are built here, before fork. */
	job_env(s);
	if (n > 1 && !getenv("OMP_NUM_THREADS")) {
		/* torchrun's default and its notice: N ranks each with every core's threads
		 * would oversubscribe the node */
		setenv("OMP_NUM_THREADS", "1", 1);
		sup_say(s,
			"OMP_NUM_THREADS=1 for each of the %d ranks (as torchrun sets it); set "
			"it yourself to tune",
			n);
	}
	if (s->o->nproc_per_node > 0) {
		s->att.rank_base = s->group.rank * n;
		if (!s->att.master_port)
			s->att.master_port = fd_free_tcp_port();
	}
	argv = fd_resume_argv(s->o->argv, s->att.resume);
	if (!argv) {
		sup_say(s, "out of memory building the command line");
		sup_submit(s, FD_FAIL_LAUNCH, FD_RUN_INTERNAL, 0);
		return;
	}
	p->nlocal = n;
	p->left = 0;
	p->failed = -1;
	p->child_done = 0;
	p->child_status = 0;
	s->att.launches++;
	s->att.fail = FD_FAIL_NONE;
	s->att.peer_halt = 0;
	*s->att.what = '\0';
	ranks_reset(&s->ranks);
	s->att.launch_ns = fd_mono_ns();
	sup_enter(s, PH_RUNNING);
	s->beats.file_seen = 0;
	s->beats.next_file_poll = s->att.launch_ns;
	s->ckpt.next_check = s->att.launch_ns;
	for (int i = 0; i < n; i++) {
		if (launch_one(s, argv, i)) {
			if (i == 0)
				s->att.launches--; /* nothing started */
			p->nlocal = i;		   /* only those started are waited for */
			fd_argv_free(argv);
			return;
		}
	}
	fd_argv_free(argv);
	if (s->o->nproc_per_node > 0)
		sup_say(
		    s, "launch %d: %d ranks (%d-%d of %d) in process group %d, MASTER_PORT %d%s%s",
		    s->att.launches, n, s->att.rank_base, s->att.rank_base + n - 1,
		    n * (s->group.size > 0 ? s->group.size : 1), (int)p->child, s->att.master_port,
		    *s->att.resume ? ", resuming from " : "", s->att.resume);
	else if (*s->att.resume)
		sup_say(s, "launch %d: process group %d, resuming from %s", s->att.launches,
			(int)p->child, s->att.resume);
	else
		sup_say(s, "launch %d: process group %d", s->att.launches, (int)p->child);
	sup_event(s, "start", RANK_NONE, -1, s->att.resume, -1, NULL);
	s->att.master_port = 0; /* the next launch takes a fresh one */
}

/*
 * A failure of the running attempt: say what happened and what is done about it in one line,
 * record it, ask the ranks for their stacks, then stop the tree.
 */
void att_fail(struct sv *s, int why, const char *what)
{
	char g[32];

	s->att.fail = why;
	fd_strlcpy(s->att.what, what, sizeof(s->att.what));
	grp_halt(&s->group, why, 0, what); /* the other nodes stop theirs now, not after grace */
	fd_fmt_duration(s->o->grace_ms, g, sizeof(g));
	if (s->procs.child_done) {
		sup_say(s, "%s", what);
		tree_begin_stop(s, SIGTERM);
		return;
	}
	sup_say(s, "%s: stopping process group %d (SIGTERM, %s grace)", what, (int)s->procs.child,
		g);
	/* A crash has no stuck rank to ask; a stall or a timeout may. */
	if (why != FD_FAIL_CRASH && stacks_ask(s)) {
		sup_enter(s, PH_STACKS);
		return;
	}
	tree_terminate(s);
}

/*
 * A rank past its deadline whose beating process has exited is not stalled: it is gone, and
 * the command's exit status judges it (a worker that ended its last step while torchrun
 * polls every 5 s, a trainer whose parent tears down slowly). Only a process that beat more
 * than once counts: `flightdeck beat` is a new process per beat, and its exit says nothing.
 * A zombie, or the pid now naming another process, has exited too. 1 when r is gone.
 */
static int rank_exited(struct sv *s, struct sup_rank *r)
{
	struct fd_proc p;
	int rc;

	if (r->id < 0 || r->pid <= 0 || r->pid_beats < 2)
		return 0;
	rc = fd_proc_read(r->pid, &p);
	if (rc == -ESRCH || rc == -ENOENT ||
	    (!rc &&
	     (p.state == 'Z' || p.state == 'X' || (r->pid_start && p.starttime != r->pid_start)))) {
		r->gone = 1;
		sup_say(s,
			"rank %d (pid %d) has exited after step %lld: not a stall; the "
			"command's exit status judges it",
			r->id, (int)r->pid, (long long)r->step);
		return 1;
	}
	return 0;
}

void att_check_deadlines(struct sv *s, int64_t now)
{
	struct sup_stall st;
	char d[32], what[256];

	if (s->phase != PH_RUNNING)
		return;
	if (s->job_deadline && now >= s->job_deadline) {
		fd_fmt_duration(s->o->timeout_ms, d, sizeof(d));
		snprintf(what, sizeof(what), "the job ran past --timeout %s", d);
		sup_event(s, "timeout", RANK_NONE, s->ranks.max_step, NULL, -1, NULL);
		att_fail(s, FD_FAIL_TIMEOUT, what);
		return;
	}
	do {
		if (!ranks_judge(&s->ranks, s->o, s->att.launch_ns, now, &st))
			return;
	} while (st.failure == FD_FAIL_STALL && rank_exited(s, ranks_find(&s->ranks, st.rank)));
	beats_explain(s, st.what, sizeof(st.what));
	s->att.stalls++;
	sup_event(s, "stall", st.rank, st.step, NULL, -1, sup_fields("reason", st.reason));
	att_fail(s, st.failure, st.what);
}

/* The command ended: by itself (status 0: the job is done) or as a crash. */
/*
 * With --nproc-per-node: a rank exited non-zero or was killed while others still run. As
 * torchrun does, that fails the attempt: the others are stopped (one SIGTERM, grace, SIGKILL),
 * and the rank and its status are named.
 */
void att_rank_failed(struct sv *s)
{
	struct sup_procs *p = &s->procs;
	char what[96], line[160];
	int st = p->rank_status[p->failed];

	if (s->phase != PH_RUNNING && s->phase != PH_STACKS)
		return;
	sup_describe_status(st, what, sizeof(what));
	snprintf(line, sizeof(line), "rank %d %s", s->att.rank_base + p->failed, what);
	sup_event(s, "crash", s->att.rank_base + p->failed, s->ranks.max_step, NULL,
		  tree_status_code(st), NULL);
	att_fail(s, FD_FAIL_CRASH, line);
}

void att_child_exited(struct sv *s)
{
	char what[96], line[160];
	int st = s->procs.child_status;

	if (s->phase == PH_RUNNING || s->phase == PH_STACKS) {
		if (st == 0) {
			/* Its own status wins, even over a stall whose stacks were being read. */
			s->att.fail = FD_FAIL_NONE;
			if (s->o->nproc_per_node > 0)
				sup_say(s, "all %d ranks exited with status 0", s->procs.nlocal);
			else
				sup_say(s, "the command exited with status 0");
			tree_begin_stop(s, SIGTERM); /* stragglers it left behind */
			return;
		}
		if (s->o->nproc_per_node > 0 && s->procs.failed >= 0) {
			att_rank_failed(s);
			return;
		}
		sup_event(s, "crash", RANK_NONE, s->ranks.max_step, NULL, tree_status_code(st),
			  NULL);
		sup_describe_status(st, what, sizeof(what));
		snprintf(line, sizeof(line), "the command %s", what);
		att_fail(s, FD_FAIL_CRASH, line);
		return;
	}
	if (s->phase == PH_STOPPING || s->phase == PH_KILLING)
		tree_poll(s);
}
