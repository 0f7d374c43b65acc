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

void att_launch(struct sv *s)
{
	struct fd_spawn sp = {0};
	char err[PATH_MAX + 128];
	char **argv;
	int eno;

	beats_relaunch(s); /* a socket the last launch deleted is bound again */
	/* Environment and argv are built here, before fork. */
	job_env(s);
	argv = fd_resume_argv(s->o->argv, s->att.resume);
	if (!argv) {
		sup_say(s, "out of memory building the command line");
		sup_submit(s, FD_FAIL_LAUNCH, FD_RUN_INTERNAL, 0);
		return;
	}
	sp.argv = argv;
	/* read by the pump: for the regex, or from the pty; one pipe when both go to one file */
	sp.capture = s->output.have_re || s->o->pty;
	sp.pty = s->o->pty;
	sp.capture_merged = s->output.merged;
	if (fd_spawn_start(&sp, &eno, err, sizeof(err))) {
		fd_err("%s", err);
		fd_argv_free(argv);
		sup_submit(s, FD_FAIL_LAUNCH,
			   !eno		   ? FD_RUN_INTERNAL
			   : eno == ENOENT ? FD_RUN_NOTFOUND
					   : FD_RUN_NOEXEC,
			   0);
		return;
	}
	fd_argv_free(argv);
	s->procs.child = sp.pid;
	s->procs.child_done = 0;
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
	out_watch(s, sp.out_fd, sp.err_fd);
	if (*s->att.resume)
		sup_say(s, "launch %d: process group %d, resuming from %s", s->att.launches,
			(int)s->procs.child, s->att.resume);
	else
		sup_say(s, "launch %d: process group %d", s->att.launches, (int)s->procs.child);
	sup_event(s, "start", RANK_NONE, -1, s->att.resume, -1, NULL);
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
	sup_event(s, "stall", st.rank, st.step, NULL, -1, sup_fields("reason", st.reason));
	att_fail(s, st.failure, st.what);
}

/* The command ended: by itself (status 0: the job is done) or as a crash. */
void att_child_exited(struct sv *s)
{
	char what[96], line[128];
	int st = s->procs.child_status;

	if (s->phase == PH_RUNNING || s->phase == PH_STACKS) {
		if (st == 0) {
			/* Its own status wins, even over a stall whose stacks were being read. */
			s->att.fail = FD_FAIL_NONE;
			sup_say(s, "the command exited with status 0");
			tree_begin_stop(s, SIGTERM); /* stragglers it left behind */
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
