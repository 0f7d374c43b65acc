/*
 * phase.c - the supervisor's phases (docs/architecture.md, "The supervisor"):
 *
 *   PREFLIGHT -> RUNNING -> (stall/crash/timeout/signal) -> STACKS -> STOPPING -> KILLING
 *       ^                                                                            |
 *       |                                                                   (tree gone)
 *       |                                                                            v
 *       +------ PREFLIGHT <- GPU_WAIT <- BACKOFF <- (group: RESTART) <------- DECIDING
 *                                                    (group: STOP) -> DONE
 *
 * sup_enter is the one place the phase changes, and it sets the phase's deadline, so a phase
 * and its bound cannot drift apart. The timer and the signals are dispatched on the phase
 * here; what each reaction does lives with its concern.
 */
#include "sv.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const phase_names[] = {
    [PH_PREFLIGHT] = "preflight", [PH_GPU_WAIT] = "gpu-wait", [PH_BACKOFF] = "backoff",
    [PH_RUNNING] = "running",	  [PH_STACKS] = "stacks",     [PH_STOPPING] = "stopping",
    [PH_KILLING] = "killing",	  [PH_DECIDING] = "deciding", [PH_DONE] = "done",
};

const char *sup_phase_name(enum sup_phase ph)
{
	return phase_names[ph];
}

/* The backoff before restart N: --backoff doubled per restart, capped at --backoff-max. */
int64_t sup_backoff_ms(const struct sv *s)
{
	int64_t wait = s->o->backoff_ms;

	for (int i = 1; i < s->att.restarts && wait < s->o->backoff_max_ms; i++)
		wait *= 2;
	return wait > s->o->backoff_max_ms ? s->o->backoff_max_ms : wait;
}

/* How long a phase may last (ms from entering it); -1: no bound of its own. */
static int64_t phase_limit_ms(const struct sv *s, enum sup_phase ph)
{
	switch (ph) {
	case PH_PREFLIGHT: /* check bounds its own probes; this bounds check */
		return s->o->preflight == FD_PREFLIGHT_QUICK ? PREFLIGHT_QUICK_MS
							     : PREFLIGHT_STD_MS;
	case PH_GPU_WAIT:
		return fd_sat_add(s->o->gpu_release_ms, GPU_WAIT_SLACK_MS);
	case PH_BACKOFF:
		return sup_backoff_ms(s);
	case PH_STACKS:
		return s->o->stack_wait_ms;
	case PH_STOPPING:
		return s->o->grace_ms;
	case PH_KILLING:
		return s->o->kill_wait_ms;
	default:
		return -1;
	}
}

void sup_enter(struct sv *s, enum sup_phase ph)
{
	int64_t limit = phase_limit_ms(s, ph);

	s->phase = ph;
	s->deadline = limit >= 0 ? fd_deadline_ns(fd_mono_ns(), limit) : 0; /* saturates */
	if (ph == PH_DONE)
		fd_loop_stop(&s->loop);
}

void sup_finish(struct sv *s, int code)
{
	s->exit_code = code;
	sup_enter(s, PH_DONE);
}

static int64_t earlier(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * What the pure rank table noted since the last wait and is said here, once: a step counter
 * that went back (progress all the same).
 */
static void say_noted(struct sv *s)
{
	struct sup_rank *r;

	while ((r = ranks_take_back(&s->ranks))) {
		cJSON *o = sup_fields(NULL, NULL);

		sup_say(s, "rank %d went back from step %lld to step %lld: counted as progress",
			r->id, (long long)r->back_from, (long long)r->back_to);
		if (o)
			cJSON_AddNumberToObject(o, "from", (double)r->back_from);
		sup_event(s, "step_back", r->id, r->back_to, NULL, -1, o);
	}
}

static const int usr_sigs[] = {SIGUSR1, SIGUSR2}; /* queued_usr's bits 1 and 2 */

/*
 * SIGUSR1/2 that came while no command ran go to the next launch once it can take them: at
 * its first beat (it has started, and installed its handler, since the default action of
 * SIGUSR1 is to terminate), or QUEUED_SIGNAL_MS after the launch when no beat comes.
 */
static void deliver_queued(struct sv *s, int64_t now)
{
	pid_t pg = s->procs.child;

	if (!s->queued_usr || s->phase != PH_RUNNING || pg <= 0 || s->procs.child_done ||
	    (!s->ranks.n && now < s->att.launch_ns + QUEUED_SIGNAL_MS * MS))
		return;
	for (size_t i = 0; i < FD_ARRAY_SIZE(usr_sigs); i++) {
		cJSON *o;

		if (!(s->queued_usr & (1 << i)) || tree_signal(-pg, usr_sigs[i]))
			continue;
		sup_say(s, "delivered the queued %s to process group %d", sup_sig_name(usr_sigs[i]),
			(int)pg);
		o = sup_fields("signal", sup_sig_name(usr_sigs[i]));
		if (o)
			cJSON_AddBoolToObject(o, "delivered", 1);
		sup_event(s, "signal", RANK_NONE, -1, NULL, -1, o);
	}
	s->queued_usr = 0;
}

/* The loop's question before every wait: the earliest deadline of this supervisor. */
int64_t sup_next_wake(void *arg, int64_t now)
{
	struct sv *s = arg;
	int64_t t = s->deadline ? s->deadline : INT64_MAX;

	say_noted(s);
	deliver_queued(s, now);
	if (s->queued_usr && s->phase == PH_RUNNING)
		t = earlier(t, s->att.launch_ns + QUEUED_SIGNAL_MS * MS);
	switch (s->phase) {
	case PH_RUNNING:
		t = earlier(t, ranks_next_deadline(&s->ranks, s->o, s->att.launch_ns));
		if (s->o->heartbeat_file)
			t = earlier(t, s->beats.next_file_poll);
		if (ckpt_watching(s))
			t = earlier(t, s->ckpt.next_check);
		break;
	case PH_STACKS:
	case PH_STOPPING:
		t = earlier(t, now + STOP_POLL_MS * MS);
		break;
	case PH_KILLING:
		t = earlier(t, now + KILL_POLL_MS * MS);
		break;
	default:
		break;
	}
	if (s->job_deadline)
		t = earlier(t, s->job_deadline);
	return earlier(t, beats_next_poll(s));
}

/* --timeout outside an attempt: a helper is killed, a backoff ends. */
static void job_timeout(struct sv *s)
{
	sup_say(s, "the job ran past --timeout while %s", sup_phase_name(s->phase));
	sup_event(s, "timeout", RANK_NONE, -1, NULL, -1, NULL);
	if (s->procs.helper > 0 && !s->procs.helper_done) {
		s->att.fail = FD_FAIL_TIMEOUT;
		s->stop_signal = 0;
		tree_begin_kill(s);
	} else {
		sup_submit(s, FD_FAIL_TIMEOUT, FD_RUN_TIMEOUT, 0);
	}
}

void sup_on_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct sv *s = arg;

	beats_on_timer(s, now);
	switch (s->phase) {
	case PH_RUNNING:
		if (s->o->heartbeat_file && now >= s->beats.next_file_poll)
			beats_poll_file(s, now);
		if (ckpt_watching(s) && now >= s->ckpt.next_check)
			ckpt_age_check(s, now);
		att_check_deadlines(s, now); /* the attempt's own --timeout included */
		return;
	case PH_STACKS:
		if (stacks_ready(s) || now >= s->deadline) {
			stacks_collect(s);
			tree_terminate(s);
		}
		return;
	case PH_STOPPING:
	case PH_KILLING:
		tree_poll(s);
		return;
	case PH_BACKOFF:
		if (now >= s->deadline)
			helper_gpu_wait(s);
		break;
	case PH_GPU_WAIT:
	case PH_PREFLIGHT:
		helper_check_deadline(s, now);
		break;
	default:
		return;
	}
	/* Between attempts (and the phases they lead to) --timeout is checked here. */
	if (s->job_deadline && now >= s->job_deadline &&
	    (s->phase == PH_PREFLIGHT || s->phase == PH_GPU_WAIT || s->phase == PH_BACKOFF))
		job_timeout(s);
}

static void on_sigchld(struct sv *s)
{
	struct sup_procs *p = &s->procs;
	int was_child = p->child_done, was_helper = p->helper_done, was_failed = p->failed;
	int stopping;

	tree_reap(s);
	if (p->child > 0 && p->child_done && !was_child)
		att_child_exited(s);
	else if (p->child > 0 && p->failed >= 0 && was_failed < 0)
		att_rank_failed(s); /* one rank of several failed: the others are stopped */
	stopping = s->phase == PH_STOPPING || s->phase == PH_KILLING;
	if (p->helper > 0 && p->helper_done && !was_helper && !stopping)
		helper_exited(s);
	else if (stopping)
		tree_poll(s);
}

/*
 * Whether sender already gave this signal to every process of our tree. Slurm's slurmstepd
 * signals every process of a step (time limit, scancel, preemption: SIGCONT and SIGTERM to
 * each), so the trainer has it already and a second copy from us is what cut saves short
 * (a Python handler entered twice). That holds for a task of an srun step (SLURM_STEP_ID
 * set) and for anything below the batch script; the batch script itself may be signalled
 * alone (--signal=B:..., scancel --batch), so there the signal is passed on as elsewhere.
 */
static int scheduler_signalled_all(const struct sv *s, pid_t sender, char *who, size_t len)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (sender <= 0 || s->procs.foreign_proc || !getenv("SLURM_JOB_ID"))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)sender);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	if (strcmp(comm, "slurmstepd"))
		return 0;
	if (!getenv("SLURM_STEP_ID") && sender == getppid())
		return 0; /* we are the batch script: maybe signalled alone */
	snprintf(who, len, "%s (pid %d)", comm, (int)sender);
	return 1;
}

/*
 * SIGTERM, SIGINT, SIGHUP, SIGQUIT: stop the job, with the same grace. Schedulers repeat
 * themselves: Slurm's time limit sends SIGTERM to the step and again through srun, tens of
 * milliseconds apart; scancel and timeout(1) may repeat within a second or two. A repeat
 * within --signal-dedupe of the first is the same request (escalating it would cut the
 * trainer's save short); only a later one means "now". fd_deadline_ns saturates, so the
 * largest --signal-dedupe is "never escalate", and 0 escalates every repeat.
 */
static void on_stop_signal(struct sv *s, int sig, pid_t sender)
{
	int64_t now = fd_mono_ns();
	char who[64];

	if (s->stop_signal && now < fd_deadline_ns(s->stop_signal_ns, s->o->signal_dedupe_ms)) {
		char d[32];

		fd_fmt_duration(s->o->signal_dedupe_ms, d, sizeof(d));
		sup_say(s, "second %s within %s of the first: the same request", sup_sig_name(sig),
			d);
		return;
	}
	sup_event(s, "signal", RANK_NONE, -1, NULL, -1, sup_fields("signal", sup_sig_name(sig)));
	if (s->stop_signal && s->phase != PH_DECIDING) {
		sup_say(s, "second %s: killing everything now", sup_sig_name(sig));
		tree_begin_kill(s);
		return;
	}
	if (!s->stop_signal) {
		s->stop_signal = sig;
		s->stop_signal_ns = now;
	}
	switch (s->phase) {
	case PH_RUNNING:
	case PH_STACKS:
		grp_halt(&s->group, FD_FAIL_NONE, sig, "told to stop");
		if (scheduler_signalled_all(s, sender, who, sizeof(who))) {
			sup_say(s,
				"received %s from %s, which sends it to every process of the "
				"step: not passed on again; waiting up to --grace",
				sup_sig_name(sig), who);
			tree_begin_stop_delivered(s, sig);
			break;
		}
		sup_say(s, "received %s: passing it to process group %d", sup_sig_name(sig),
			(int)s->procs.child);
		tree_begin_stop(s, sig);
		break;
	case PH_STOPPING:
		tree_forward(s, sig);
		break;
	case PH_PREFLIGHT:
	case PH_GPU_WAIT:
		tree_begin_kill(s);
		break;
	case PH_BACKOFF:
		sup_submit(s, FD_FAIL_NONE, 0, 0); /* the stop signal decides */
		break;
	case PH_DECIDING:
		/* the group may be waiting for a node that never comes: it hears of the signal
		 * now, and with no attempt running anywhere the signal decides at once */
		grp_halt(&s->group, FD_FAIL_NONE, sig, "told to stop");
		break;
	default: /* the decision, when it comes, sees the signal */
		break;
	}
}

void sup_on_signal(struct fd_loop *l, int sig, void *arg)
{
	struct sv *s = arg;

	if (sig == SIGCHLD) {
		on_sigchld(s);
		return;
	}
	if (sig == SIGUSR1 || sig == SIGUSR2) {
		cJSON *o = sup_fields("signal", sup_sig_name(sig));

		if (s->procs.child > 0 && !s->procs.child_done) {
			tree_signal(-s->procs.child, sig);
			sup_say(s, "forwarded %s to process group %d", sup_sig_name(sig),
				(int)s->procs.child);
		} else { /* backoff, preflight, GPU wait: for the next launch */
			s->queued_usr |= sig == SIGUSR1 ? 1 : 2;
			sup_say(s, "%s while no command runs (%s): queued for the next launch",
				sup_sig_name(sig), sup_phase_name(s->phase));
			if (o)
				cJSON_AddBoolToObject(o, "queued", 1);
		}
		sup_event(s, "signal", RANK_NONE, -1, NULL, -1, o);
		return;
	}
	on_stop_signal(s, sig, l->sig_sender);
}
