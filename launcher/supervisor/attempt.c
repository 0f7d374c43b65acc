/*
 * attempt.c - one attempt of the command: launching it and judging it while it runs (the
 * --timeout, the ranks' stalls, a crash). Each function reports what it found; phase.c
 * fails the attempt, stops the tree and asks the group what comes next.
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

/* This attempt's training slot (NODE_RANK): the group's decision's, else this node's own. */
static int att_slot(const struct sv *s)
{
	return s->att.nslots > 0 ? s->att.slot : s->group.rank;
}

/* How many nodes train this attempt (spares not counted). */
static int att_nodes(const struct sv *s)
{
	if (s->att.nslots > 0)
		return s->att.nslots;
	return s->group.size > 0 ? s->group.size : 1;
}

/*
 * {node_rank}, {nnodes}, {master_addr}, {master_port} in the command line, beside {resume}:
 * where the group puts this node this attempt, so that torchrun's static rendezvous
 * (--node-rank, --nnodes, --master-addr, --master-port) follows a spare's promotion. 0, or -1
 * out of memory.
 */
static int subst_group(struct sv *s, char **argv)
{
	const char *keys[] = {"{node_rank}", "{nnodes}", "{master_addr}", "{master_port}"};
	char vals[4][256];
	const char *coord = s->o->group.coord_host;

	snprintf(vals[0], sizeof(vals[0]), "%d", att_slot(s));
	snprintf(vals[1], sizeof(vals[1]), "%d", att_nodes(s));
	snprintf(vals[2], sizeof(vals[2]), "%s",
		 s->group.size > 1 && coord && *coord ? coord : "127.0.0.1");
	snprintf(vals[3], sizeof(vals[3]), "%d", s->att.master_port);
	for (size_t i = 0; argv[i]; i++)
		for (size_t k = 0; k < FD_ARRAY_SIZE(keys); k++) {
			char *at = strstr(argv[i], keys[k]), *n;
			size_t kl = strlen(keys[k]), vl = strlen(vals[k]), off;

			while (at) {
				off = (size_t)(at - argv[i]);
				n = malloc(strlen(argv[i]) - kl + vl + 1);
				if (!n)
					return -1;
				memcpy(n, argv[i], off);
				memcpy(n + off, vals[k], vl);
				strcpy(n + off + vl, at + kl);
				free(argv[i]);
				argv[i] = n;
				at = strstr(n + off + vl, keys[k]);
			}
		}
	return 0;
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
	/* torch's flight recorder (torch >= 2.5), read at a stall for the culprit: on unless the
	 * user set it (either name), a ring of 2000 collectives per process group */
	if (!getenv("TORCH_FR_BUFFER_SIZE") && !getenv("TORCH_NCCL_TRACE_BUFFER_SIZE"))
		setenv("TORCH_FR_BUFFER_SIZE", "2000", 1);
}

/*
 * torchrun's contract with each worker (its env:// rendezvous and torchrun-aware code), for
 * local rank i of this node; the command's own settings of the rest are left alone.
 */
static void rank_env(struct sv *s, int i)
{
	const struct fd_run_opts *o = s->o;
	int n = o->nproc_per_node, nodes = att_nodes(s);
	int world = n * nodes, rank = s->att.rank_base + i;
	char id[64];

	set_env_int("RANK", rank);
	set_env_int("LOCAL_RANK", i);
	set_env_int("WORLD_SIZE", world);
	set_env_int("LOCAL_WORLD_SIZE", n);
	set_env_int("GROUP_RANK", att_slot(s));
	set_env_int("NODE_RANK", att_slot(s));
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

/*
 * One local rank (or the whole command): started, watched. 0, or -1 with *status the exit
 * status a launch that started nothing ends with (rank 0), or what failed in what (rank > 0).
 */
static int launch_one(struct sv *s, char **argv, int i, int *status, char *what, size_t len)
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
		if (i > 0) /* the ranks already started go as a crashed attempt's would */
			snprintf(what, len, "local rank %d could not be started", i);
		*status = !eno ? FD_RUN_INTERNAL : eno == ENOENT ? FD_RUN_NOTFOUND : FD_RUN_NOEXEC;
		return -1;
	}
	if (i == 0)
		s->procs.child = sp.pid;
	s->procs.rank_pid[i] = sp.pid;
	s->procs.left++;
	out_watch(s, i, sp.out_fd, sp.err_fd);
	return 0;
}

enum att_launch att_launch(struct sv *s, int *status, char *what, size_t len)
{
	struct sup_procs *p = &s->procs;
	int n = s->o->nproc_per_node > 0 ? s->o->nproc_per_node : 1;
	char **argv;

	*status = FD_RUN_INTERNAL;
	beats_relaunch(s); /* a socket the last launch deleted is bound again */
	if (!p->rank_pid) {
		p->rank_pid = calloc((size_t)n, sizeof(*p->rank_pid));
		p->rank_status = calloc((size_t)n, sizeof(*p->rank_status));
		if (!p->rank_pid || !p->rank_status) {
			ev_say(s, "out of memory starting %d ranks", n);
			return ATT_NOT_STARTED;
		}
	}
	/* Environment and argv are built here, before fork. */
	job_env(s);
	if (n > 1 && !getenv("OMP_NUM_THREADS")) {
		/* torchrun's default and its notice: N ranks each with every core's threads
		 * would oversubscribe the node */
		setenv("OMP_NUM_THREADS", "1", 1);
		ev_say(s,
		       "OMP_NUM_THREADS=1 for each of the %d ranks (as torchrun sets it); set "
		       "it yourself to tune",
		       n);
	}
	if (s->o->nproc_per_node > 0) {
		s->att.rank_base = att_slot(s) * n;
		if (!s->att.master_port)
			s->att.master_port = fd_free_tcp_port();
	}
	argv = fd_resume_argv(s->o->argv, s->att.resume);
	if (argv && subst_group(s, argv)) {
		fd_argv_free(argv);
		argv = NULL;
	}
	if (!argv) {
		ev_say(s, "out of memory building the command line");
		return ATT_NOT_STARTED;
	}
	p->nlocal = n;
	p->left = 0;
	p->failed = -1;
	p->child_done = 0;
	p->child_status = 0;
	s->att.launches++;
	if (s->att.fail != FD_FAIL_NONE) { /* --prom-file keeps the latest failure's why */
		s->prom.last_fail = s->att.fail;
		fd_strlcpy(s->prom.last_codes, s->att.codes, sizeof(s->prom.last_codes));
	}
	s->att.fail = FD_FAIL_NONE;
	s->att.peer_halt = 0;
	s->att.culprit_likely = 0; /* this attempt's stall has its own (the exit keeps the text) */
	*s->att.what = '\0';
	ranks_reset(&s->ranks);
	s->att.launch_ns = fd_mono_ns();
	s->beats.file_seen = 0;
	s->beats.next_file_poll = s->att.launch_ns;
	s->ckpt.next_check = s->att.launch_ns;
	for (int i = 0; i < n; i++) {
		if (launch_one(s, argv, i, status, what, len)) {
			if (i == 0)
				s->att.launches--; /* nothing started */
			p->nlocal = i;		   /* only those started are waited for */
			fd_argv_free(argv);
			return i ? ATT_RANK_NOT_STARTED : ATT_NOT_STARTED;
		}
	}
	fd_argv_free(argv);
	if (s->o->nproc_per_node > 0)
		ev_say(s,
		       "launch %d: %d ranks (%d-%d of %d) in process group %d, MASTER_PORT %d%s%s",
		       s->att.launches, n, s->att.rank_base, s->att.rank_base + n - 1,
		       n * att_nodes(s), (int)p->child, s->att.master_port,
		       *s->att.resume ? ", resuming from " : "", s->att.resume);
	else if (*s->att.resume)
		ev_say(s, "launch %d: process group %d, resuming from %s", s->att.launches,
		       (int)p->child, s->att.resume);
	else
		ev_say(s, "launch %d: process group %d", s->att.launches, (int)p->child);
	ev_emit(s, "start", RANK_NONE, -1, s->att.resume, -1, NULL);
	s->att.master_port = 0; /* the next launch takes a fresh one */
	return ATT_STARTED;
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
		ev_say(s,
		       "rank %d (pid %d) has exited after step %lld: not a stall; the "
		       "command's exit status judges it",
		       r->id, (int)r->pid, (long long)r->step);
		return 1;
	}
	return 0;
}

int att_check_deadlines(struct sv *s, int64_t now, char *what, size_t len)
{
	struct sup_stall st;
	char d[32];

	if (s->phase != PH_RUNNING)
		return FD_FAIL_NONE;
	if (s->job_deadline && now >= s->job_deadline) {
		fd_fmt_duration(s->o->timeout_ms, d, sizeof(d));
		snprintf(what, len, "the job ran past --timeout %s", d);
		ev_emit(s, "timeout", RANK_NONE, s->ranks.max_step, NULL, -1, NULL);
		return FD_FAIL_TIMEOUT;
	}
	do {
		if (!ranks_judge(&s->ranks, s->o, s->att.launch_ns, now, &st))
			return FD_FAIL_NONE;
	} while (st.failure == FD_FAIL_STALL && rank_exited(s, ranks_find(&s->ranks, st.rank)));
	if (st.failure == FD_FAIL_STALL) {
		/* the ranks that wait for a stopped one go quiet with it: name the stopped one */
		int stuck = stacks_stuck_rank(s);

		if (stuck != RANK_NONE && stuck != st.rank)
			ranks_judge_naming(&s->ranks, s->o, s->att.launch_ns, now, stuck, &st);
	}
	beats_explain(s, st.what, sizeof(st.what));
	s->att.stalls++;
	cJSON *f = ev_fields("reason", st.reason);

	if (f && st.total > 0) /* the rank's steps: with reason teardown, it was past the last */
		cJSON_AddNumberToObject(f, "total", (double)st.total);
	ev_emit(s, "stall", st.rank, st.step, NULL, -1, f);
	fd_strlcpy(what, st.what, len);
	return st.failure;
}

/*
 * With --nproc-per-node: a rank exited non-zero or was killed while others still run. As
 * torchrun does, that fails the attempt (the others are stopped), and the rank and its
 * status are named in what. 1 when the attempt fails by it.
 */
int att_rank_failed(struct sv *s, char *what, size_t len)
{
	struct sup_procs *p = &s->procs;
	char st_what[96];
	int st = p->rank_status[p->failed];

	if (s->phase != PH_RUNNING && s->phase != PH_STACKS)
		return 0;
	ev_describe_status(st, st_what, sizeof(st_what));
	snprintf(what, len, "rank %d %s", s->att.rank_base + p->failed, st_what);
	ev_emit(s, "crash", s->att.rank_base + p->failed, s->ranks.max_step, NULL,
		tree_status_code(st), NULL);
	return 1;
}

/* The command ended while it ran: by itself (status 0: the job is done) or as a crash. */
enum att_exit att_child_exited(struct sv *s, char *what, size_t len)
{
	char st_what[96];
	int st = s->procs.child_status;

	if (s->phase != PH_RUNNING && s->phase != PH_STACKS)
		return ATT_EXIT_LATE;
	if (st == 0) {
		/* Its own status wins, even over a stall whose stacks were being read. */
		s->att.fail = FD_FAIL_NONE;
		if (s->o->nproc_per_node > 0)
			ev_say(s, "all %d ranks exited with status 0", s->procs.nlocal);
		else
			ev_say(s, "the command exited with status 0");
		return ATT_EXIT_OK;
	}
	if (s->o->nproc_per_node > 0 && s->procs.failed >= 0)
		return att_rank_failed(s, what, len) ? ATT_EXIT_CRASH : ATT_EXIT_LATE;
	ev_emit(s, "crash", RANK_NONE, s->ranks.max_step, NULL, tree_status_code(st), NULL);
	ev_describe_status(st, st_what, sizeof(st_what));
	snprintf(what, len, "the command %s", st_what);
	return ATT_EXIT_CRASH;
}
