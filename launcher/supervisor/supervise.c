/*
 * supervise.c - `flightdeck run`: set-up, the loop, tear-down (docs/architecture.md,
 * "The supervisor").
 *
 * fd_supervise reads like an init's main: parse what the options name (the regex, the
 * checkpoint directory, the events file), take the signals, become the subreaper, start the
 * first phase and run the event loop until a decision ends the job. One thread, one epoll
 * set (launcher/core/loop.h); every wait has a deadline, and the preflight and the GPU wait run as
 * helper children, so nothing in here can block on a GPU. The phases are in phase.c, the rest
 * in one file per concern (sv.h lists them).
 */
#define _GNU_SOURCE
#include "sv.h"
#include "termlog.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define STACK_SIGNAL_OFFSET 3 /* FLIGHTDECK_STACK_SIGNAL is SIGRTMIN+3 */
/* flightdeck's exit waits this long for --drain-replaced's scontrol still under way */
#define DRAIN_WAIT_MS 10000

/* --nproc-per-node N (torchrun's) in the command: the ranks to expect, without --ranks. */
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

static void summary(struct sv *s, int say)
{
	struct fd_hb_socket *hb = &s->beats.hb;
	struct rusage ru;
	double cpu;
	char b[64];

	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	      ru.ru_stime.tv_usec / 1e6;
	fd_fmt_duration((fd_mono_ns() - s->start_ns) / MS, b, sizeof(b));
	if (say)
		ev_say(s, "done: exit %d after %s, %d launch(es), %d restart(s), %llu beat(s)%s%s",
		       s->exit_code, b, s->att.launches, s->att.restarts,
		       (unsigned long long)s->ranks.beats,
		       *s->att.resume ? ", last resumed from " : "", s->att.resume);
	if (say && (hb->malformed || hb->foreign || hb->dropped))
		ev_say(s,
		       "ignored %llu malformed and %llu foreign heartbeat datagram(s), dropped "
		       "%llu past %d per sender per read",
		       (unsigned long long)hb->malformed, (unsigned long long)hb->foreign,
		       (unsigned long long)hb->dropped, FD_HB_PER_PID);
	if (say && s->output.no_rank)
		ev_say(s,
		       "ignored %llu output line(s) matching --progress-regex with no rank in "
		       "its rank group",
		       (unsigned long long)s->output.no_rank);
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddNumberToObject(o, "launches", s->att.launches);
		cJSON_AddNumberToObject(o, "beats", (double)s->ranks.beats);
		cJSON_AddNumberToObject(o, "malformed", (double)hb->malformed);
		cJSON_AddNumberToObject(o, "foreign", (double)hb->foreign);
		cJSON_AddNumberToObject(o, "dropped", (double)hb->dropped);
		cJSON_AddNumberToObject(o, "cpu_s", cpu);
		cJSON_AddNumberToObject(o, "peak_rss_kb", (double)peak_rss_kb());
		/* this node's own view of the last attempt, as the events contract has it */
		cJSON_AddStringToObject(o, "reason", fd_fail_name(s->att.fail));
		if (s->att.culprit[0]) /* the last stall's: the rank the others waited on */
			cJSON_AddStringToObject(o, "culprit", s->att.culprit);
		if (s->att.drain[0]) /* ...and why the machine, this node, is to blame */
			cJSON_AddStringToObject(o, "drain", s->att.drain);
		/* and the decision that ended the job, for every node alike: why, and whose */
		if (s->final.verdict == FD_STOP) {
			cJSON_AddStringToObject(o, "stop", fd_stop_why_name(s->final.stop_why));
			if (s->final.node >= 0)
				cJSON_AddNumberToObject(o, "node", s->final.node);
		}
	}
	ev_emit(s, "exit", RANK_NONE, s->ranks.max_step, s->att.resume, s->exit_code, o);
}

/*
 * The Kubernetes termination message (--termination-log): why this agent ended, in lines a
 * person reads in `kubectl describe pod` and a controller can match (exit, node, failure,
 * stop, codes, checkpoint). Its own failure is one line on stderr; the exit code stays.
 */
static void termination_message(struct sv *s)
{
	const char *path = fd_termlog_path(s->o->termination_log);
	static char msg[FD_TERMLOG_MAX * 2];
	char err[PATH_MAX + 128], host[256];
	size_t k = 0, cap = sizeof(msg);

	if (!path)
		return;
	fd_node_name(host, sizeof(host), NULL);
	fd_appendf(msg, cap, &k, "flightdeck run: exit %d (%s)\n", s->exit_code,
		   fd_exit_name("run", s->exit_code));
	if (s->group.size > 1)
		fd_appendf(msg, cap, &k, "node: %d of %d (%s)\n", s->group.rank, s->group.size,
			   host);
	else
		fd_appendf(msg, cap, &k, "node: %s\n", host);
	if (s->att.fail != FD_FAIL_NONE)
		fd_appendf(msg, cap, &k, "failure: %s%s%s\n", fd_fail_name(s->att.fail),
			   s->att.what[0] ? ": " : "", s->att.what);
	if (s->final.verdict == FD_STOP) {
		fd_appendf(msg, cap, &k, "stop: %s", fd_stop_why_name(s->final.stop_why));
		if (s->final.node >= 0)
			fd_appendf(msg, cap, &k, ", node %d", s->final.node);
		fd_appendf(msg, cap, &k, "%s%s\n", s->final.why[0] ? ": " : "", s->final.why);
	}
	if (s->att.codes[0])
		fd_appendf(msg, cap, &k, "codes: %s\n", s->att.codes);
	if (s->replaced[0]) /* out for the rest of the job: the node to look at */
		fd_appendf(msg, cap, &k, "replaced: %s\n", s->replaced);
	if (s->att.culprit[0])
		fd_appendf(msg, cap, &k, "culprit: %s\n", s->att.culprit);
	if (s->att.drain[0]) /* this node's machine: drain it */
		fd_appendf(msg, cap, &k, "drain: %s: %s\n", host, s->att.drain);
	if (s->att.resume[0])
		fd_appendf(msg, cap, &k, "checkpoint: %s\n", s->att.resume);
	fd_appendf(msg, cap, &k, "launches: %d, restarts: %d, stalls: %d\n", s->att.launches,
		   s->att.restarts, s->att.stalls);
	if (fd_termlog_write(path, msg, err, sizeof(err)))
		fd_err("%s", err);
}

/* The options' own files: the regex, the checkpoint directory, --events. 0 or exit code. */
static int open_inputs(struct sv *s)
{
	const struct fd_run_opts *o = s->o;
	char err[PATH_MAX + 128];
	int r;

	/* --events first: whatever fails after it, the log gets its exit event */
	if (o->events) {
		s->events_fd = open(o->events, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (s->events_fd < 0) {
			fd_err("--events %s: %s", o->events, strerror(errno));
			return FD_RUN_USAGE;
		}
	}
	if (o->progress_regex) {
		if (fd_progress_compile(&s->output.re, o->progress_regex, err, sizeof(err))) {
			fd_err("--progress-regex '%s': %s", o->progress_regex, err);
			return FD_RUN_USAGE;
		}
		s->output.have_re = 1;
		/* with a rank group (and no native ranks) the lines are the ranks' own beats,
		 * counted by --ranks, not one source of their own */
		if (s->output.re.rank_group && o->nproc_per_node <= 0)
			s->ranks.want_output = 0;
	}
	r = ckpt_newest(s, s->att.resume, sizeof(s->att.resume));
	if (r) {
		fd_err("--checkpoint-dir %s: %s", o->checkpoint_dir, strerror(-r));
		return FD_RUN_USAGE;
	}
	return 0;
}

/*
 * Signals arrive through the loop's signalfd only (the children get them unblocked again);
 * SIGPIPE is blocked so that a closed stdout is an EPIPE, not our death. A signal that was
 * ignored when we started (nohup's SIGHUP, SIGINT of a background job) stays ignored: the
 * parent said it means nothing to us.
 */
static int take_signals(struct sv *s)
{
	static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		fd_err("sigprocmask: %s", strerror(errno));
		return -errno;
	}
	sigemptyset(&mask);
	for (size_t i = 0; i < FD_ARRAY_SIZE(sigs); i++) {
		struct sigaction old;

		if (sigs[i] != SIGCHLD && !sigaction(sigs[i], NULL, &old) &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaddset(&mask, sigs[i]);
	}
	r = fd_loop_signals(&s->loop, &mask, sup_on_signal, s);
	if (r)
		fd_err("cannot set up the event loop: %s", strerror(-r));
	return r;
}

/*
 * The heartbeat socket could not be made under $TMPDIR (missing, unwritable, too long for
 * AF_UNIX): under /tmp then, said once. The job keeps its TMPDIR. 0 or -errno.
 */
static int hb_open_tmp(struct sv *s, char *err, size_t len)
{
	const char *t = getenv("TMPDIR");
	char *saved = t ? strdup(t) : NULL;
	char first[PATH_MAX + 128];
	int r;

	if (!saved || !strcmp(saved, "/tmp")) {
		free(saved);
		return -EIO;
	}
	fd_strlcpy(first, err, sizeof(first));
	unsetenv("TMPDIR");
	r = fd_hb_open_for(&s->beats.hb, s->o->heartbeat_uid, err, len);
	setenv("TMPDIR", saved, 1);
	free(saved);
	if (!r)
		ev_say(s, "%s: the heartbeat socket is under /tmp instead", first);
	return r;
}

/* The loop, the heartbeat socket, the group: everything the phases wait on. 0 or -errno. */
static int open_loop(struct sv *s)
{
	static const struct fd_group_callbacks cb = {.on_decision = sup_on_decision,
						     .on_stop = sup_on_stop,
						     .on_halt = sup_on_halt,
						     .on_event = dec_on_group_event};
	/* one port for native ranks' store on node 0, told to every node with the launch */
	struct fd_policy pol = {.max_restarts = s->o->max_restarts,
				.no_progress_limit = s->o->no_progress_limit,
				.master_port = fd_free_tcp_port,
				.exclude_file = s->o->group.exclude_file};
	char err[PATH_MAX + 128];
	ssize_t n;
	int r;

	n = readlink("/proc/self/exe", s->self_exe, sizeof(s->self_exe) - 1);
	if (n <= 0) {
		fd_err("cannot find my own executable: %s", strerror(errno));
		return -ENOENT;
	}
	s->self_exe[n] = '\0';
	r = fd_hb_open_for(&s->beats.hb, s->o->heartbeat_uid, err, sizeof(err));
	if (r && r != -EPERM && !hb_open_tmp(s, err, sizeof(err)))
		r = 0;
	if (r) {
		fd_err("%s", err);
		/* a --heartbeat-uid that cannot be honoured is the operator's to fix */
		if (s->o->heartbeat_uid >= 0 && r == -EPERM)
			s->exit_code = FD_RUN_USAGE;
		return -EIO;
	}
	r = take_signals(s);
	if (r)
		return r;
	r = fd_loop_timer(&s->loop, sup_next_wake, sup_on_timer, s);
	if (!r)
		r = prom_open(s);
	if (!r)
		r = beats_watch(s);
	if (!r && s->o->group.nnodes > 1) {
		*err = '\0';
		r = fd_group_tcp(&s->group, &s->loop, &pol, &s->o->group, &cb, s, err, sizeof(err));
		if (r) {
			fd_err("%s", err);
			/* a port taken, an address not here, too few descriptors: the operator's to
			 * fix, and a requeue would meet the same */
			if (r == -EADDRINUSE || r == -EADDRNOTAVAIL || r == -EMFILE)
				s->exit_code = FD_RUN_USAGE;
			return r;
		}
	} else if (!r) {
		r = fd_group_local(&s->group, &s->loop, &pol, &cb, s);
	}
	if (r)
		fd_err("cannot set up the event loop: %s", strerror(-r));
	return r;
}

/*
 * A command that passes a stop signal on to its own workers is signalled alone. With
 * --nproc-per-node the ranks are flightdeck's own, and there is no launcher between.
 */
static void set_launcher(struct sv *s)
{
	const char *name = tree_launcher_name(s->o->argv);

	if (s->o->nproc_per_node > 0 || s->o->forwarding_launcher == FD_FORWARDS_NO)
		return;
	if (s->o->forwarding_launcher == FD_FORWARDS_YES && !name) {
		const char *a0 = s->o->argv && s->o->argv[0] ? s->o->argv[0] : "the command";
		const char *b = strrchr(a0, '/');

		name = b ? b + 1 : a0;
	}
	if (name)
		fd_strlcpy(s->procs.launcher, name, sizeof(s->procs.launcher));
}

int fd_supervise(const struct fd_run_opts *o)
{
	struct sv sv = {0}, *s = &sv;
	int r;

	s->o = o;
	s->events_fd = -1;
	s->helper_text.fd = -1;
	s->procs.child = s->procs.helper = -1;
	s->procs.failed = -1;
	set_launcher(s);
	s->beats.hb.fd = -1;
	s->group.efd = -1;
	s->stack_sig = SIGRTMIN + STACK_SIGNAL_OFFSET;
	s->start_ns = fd_mono_ns();
	s->ckpt.start_wall = fd_wall_s();
	s->job_deadline = o->timeout_ms ? fd_deadline_ns(s->start_ns, o->timeout_ms) : 0;
	s->ranks.expected = o->ranks		? o->ranks
			    : o->nproc_per_node ? o->nproc_per_node
						: count_nproc(o->argv);
	s->ranks.want_output = !!o->progress_regex;
	s->ranks.want_file = !!o->heartbeat_file;
	s->exit_code = FD_RUN_INTERNAL;
	s->loop.ep = s->loop.tfd = s->loop.sfd = -1; /* fd_loop_close is safe before init */
	s->sinks.line = out_say;		     /* never blocks on a reader that stopped */
	s->sinks.event = prom_event;		     /* every event rewrites --prom-file */
	out_init(s);

	/* The inputs first: --events opens before anything else can fail. */
	r = open_inputs(s);
	if (r) {
		s->exit_code = r;
		goto out;
	}
	r = fd_loop_init(&s->loop);
	if (r) {
		fd_err("cannot set up the event loop: %s", strerror(-r));
		goto out;
	}
	if (open_loop(s))
		goto out;
	tree_check_proc(s);
	/* Orphans of the job come to us, not to init, so they can be found and killed. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		ev_say(s, "cannot become a child subreaper (%s): daemonised descendants may escape",
		       strerror(errno));
	if (!s->ranks.expected && !s->output.have_re && !o->heartbeat_file)
		ev_say(s, "no heartbeat source given: stall detection starts with the first beat "
			  "on FLIGHTDECK_HEARTBEAT");

	sup_preflight(s);
	r = fd_loop_run(&s->loop);
	if (r) {
		fd_err("epoll_wait: %s", strerror(-r));
		tree_emergency_kill(s);
		s->exit_code = FD_RUN_INTERNAL;
	}
	if (s->procs.child > 0 || s->procs.helper > 0)
		tree_emergency_kill(s);
	dec_drain_wait(s, DRAIN_WAIT_MS);
	out_close(s);
	out_flush(s, OUT_EXIT_IDLE_MS); /* bounded: a reader that stopped loses the rest, said */
	summary(s, 1);
	goto done;
out:
	summary(s, 0); /* a set-up that failed: the events log still gets its exit event */
done:
	prom_final(s); /* likewise the textfile: up 0 and the exit code */
	termination_message(s);
	ckpt_watch_close(s);
	out_close(s);
	out_fini(s);
	if (s->output.have_re)
		fd_progress_free(&s->output.re);
	grp_close(&s->group);
	fd_hb_close(&s->beats.hb);
	ranks_free(&s->ranks);
	tree_free(s);
	if (s->events_fd >= 0)
		close(s->events_fd);
	fd_loop_close(&s->loop);
	return s->exit_code;
}
