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
 * Every transition is here, as systemd's service.c keeps every service_enter_*: enter() is
 * the one place the phase changes, and it sets the phase's deadline, so a phase and its
 * bound cannot drift apart. The mechanisms (tree.c, helpers.c, attempt.c) act and report
 * what they found (the tree alive, gone or abandoned; a node fit, unfit or a helper failed;
 * an attempt started, failed or ended); the group's decisions arrive here; one stop path
 * serves a signal, a peer's stop and a lost peer. Which phase follows is decided here only.
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

int64_t sup_phase_deadline(const struct sv *s, enum sup_phase ph, int64_t now)
{
	int64_t limit = phase_limit_ms(s, ph);

	return limit >= 0 ? fd_deadline_ns(now, limit) : 0; /* saturates */
}

static void enter(struct sv *s, enum sup_phase ph)
{
	s->phase = ph;
	s->deadline = sup_phase_deadline(s, ph, fd_mono_ns());
	if (ph == PH_DONE)
		fd_loop_stop(&s->loop);
}

void sup_finish(struct sv *s, int code)
{
	s->exit_code = code;
	enter(s, PH_DONE);
}

/* ---- the tree: stopping, killing, gone ------------------------------------------------- */

/* A peer lost: the collectives of this node's ranks will never complete; no long grace. */
#define PEER_LOST_GRACE_MS 1000

static void stop_tree(struct sv *s, int sig)
{
	enter(s, PH_STOPPING);
	tree_stop(s, sig);
}

/* A failed attempt's SIGTERM, told in the events log. */
static void terminate(struct sv *s)
{
	ev_emit(s, "kill", RANK_NONE, -1, NULL, -1, ev_fields("signal", "SIGTERM"));
	stop_tree(s, SIGTERM);
}

void sup_kill(struct sv *s)
{
	enter(s, PH_KILLING);
	tree_kill(s);
}

static void tree_gone(struct sv *s);

/* While stopping or killing: is the tree gone, or its grace over? */
static void poll_tree(struct sv *s)
{
	switch (tree_poll(s)) {
	case TREE_GONE:
	case TREE_ABANDONED:
		s->deadline = 0;
		tree_gone(s);
		return;
	case TREE_GRACE_OVER:
		sup_kill(s);
		return;
	case TREE_ALIVE:
		return;
	}
}

/* ---- the group: submitting, deciding ------------------------------------------------------ */

static void submit(struct sv *s, struct fd_node_state *me)
{
	int r;

	enter(s, PH_DECIDING);
	r = grp_submit(&s->group, me);
	if (r) {
		fd_err("the node group did not take this node's state: %s", strerror(-r));
		tree_emergency_kill(s);
		sup_finish(s, FD_RUN_INTERNAL);
	}
}

/*
 * Tells the group what this node came to outside an attempt (a preflight, a launch, a
 * timeout or a stop while waiting) and waits, in PH_DECIDING, for the decision; detail, when
 * given, is this node's findings for the coordinator's table.
 */
static void submit_outcome(struct sv *s, int failure, int status, const char *detail)
{
	struct fd_node_state me = {0};

	s->gate = 0;
	s->last_unfit = failure == FD_FAIL_PREFLIGHT;
	if (detail)
		fd_strlcpy(me.detail, detail, sizeof(me.detail));
	dec_state(s, &me, failure, status, 0);
	submit(s, &me);
}

/*
 * The group starts an attempt this node takes no part in (hot spares): it holds its place,
 * runs nothing, beats to the group through its connection, and submits at once for the round
 * the attempt's end closes, so that the group's next decision (a restart that may promote it,
 * the end) reaches it like every node. Its last preflight's verdict goes with it.
 */
static void spare_hold(struct sv *s, const struct fd_decision *d)
{
	struct fd_node_state me = {0};

	if (!s->was_spare && s->att.launches) {
		/* it trained, and node 0 gave its place to a spare (found unfit, to drain) */
		ev_say(s, "out of the job: a spare trains in this node's place (node 0 said why); "
			  "holding, running nothing, until the job ends");
		ev_emit(s, "out", RANK_NONE, -1, NULL, -1, NULL);
	} else if (!s->was_spare) {
		ev_say(s,
		       "a spare: holding this node's place, running nothing, until the group "
		       "needs it (%d nodes train, %d spare(s))",
		       d->nactive, s->group.size - d->nactive);
		ev_emit(s, "spare", RANK_NONE, -1, NULL, -1, NULL);
	}
	s->was_spare = 1;
	s->gate = 0;
	s->spare_idle = 1;
	dec_state(s, &me, s->last_unfit ? FD_FAIL_PREFLIGHT : FD_FAIL_NONE,
		  s->last_unfit ? FD_RUN_PREFLIGHT : 0, 0);
	submit(s, &me);
}

/* This node is fit: it launches when every node is (the group's CONTINUE). */
static void gate(struct sv *s)
{
	struct fd_node_state me = {0};

	dec_gate(s, &me);
	s->gate = 1;
	s->last_unfit = 0;
	submit(s, &me);
}

/* The tree of a stopped attempt is gone: a peer's stop decides, else the group does. */
static void tree_gone(struct sv *s)
{
	struct fd_node_state me = {0};

	if (s->have_peer_stop) {
		sup_finish(s, fd_decision_exit_code(&s->peer_stop));
		return;
	}
	s->gate = 0;
	dec_attempt_over(s, &me);
	submit(s, &me);
}

/* ---- between attempts: the helpers --------------------------------------------------------- */

void sup_preflight(struct sv *s)
{
	switch (helper_start_preflight(s)) {
	case HELPER_STARTED:
		enter(s, PH_PREFLIGHT);
		return;
	case HELPER_NOT_NEEDED:
		gate(s);
		return;
	case HELPER_FAILED:
		submit_outcome(s, FD_FAIL_PREFLIGHT, FD_RUN_PREFLIGHT, NULL);
		return;
	}
}

/* Before a relaunch: wait (bounded) until no GPU holds the old job's processes. */
static void gpu_wait(struct sv *s)
{
	if (helper_start_gpu_wait(s) == HELPER_STARTED)
		enter(s, PH_GPU_WAIT);
	else
		sup_preflight(s);
}

static void helper_done(struct sv *s)
{
	char detail[FD_DETAIL_MAX];

	switch (helper_exited(s, detail, sizeof(detail))) {
	case HELPER_STOPPED:
		submit_outcome(s, FD_FAIL_NONE, 0, NULL); /* the stop signal decides */
		return;
	case HELPER_GPUS_FREE:
		sup_preflight(s);
		return;
	case HELPER_FIT:
		gate(s);
		return;
	case HELPER_UNFIT:
		submit_outcome(s, FD_FAIL_PREFLIGHT, FD_RUN_PREFLIGHT, detail);
		return;
	case HELPER_NOTHING:
		return;
	}
}

/* ---- the attempt ------------------------------------------------------------------------ */

/*
 * A failure of the running attempt: say what happened and what is done about it in one line,
 * record it, tell the other nodes at once, ask the ranks for their stacks, then stop the tree.
 */
static void fail_attempt(struct sv *s, int why, const char *what)
{
	char g[32];

	s->att.fail = why;
	fd_strlcpy(s->att.what, what, sizeof(s->att.what));
	grp_halt(&s->group, why, 0, what); /* the other nodes stop theirs now, not after grace */
	fd_fmt_duration(s->o->grace_ms, g, sizeof(g));
	if (s->procs.child_done) {
		ev_say(s, "%s", what);
		stop_tree(s, SIGTERM);
		return;
	}
	ev_say(s, "%s: stopping process group %d (SIGTERM, %s grace)", what, (int)s->procs.child,
	       g);
	/* A crash has no stuck rank to ask; a stall or a timeout may. */
	if (why != FD_FAIL_CRASH && stacks_ask(s)) {
		enter(s, PH_STACKS);
		return;
	}
	if (why == FD_FAIL_STALL)
		stacks_attribute(s); /* no stacks to wait for: the states alone */
	terminate(s);
}

static void launch(struct sv *s)
{
	char what[160] = "";
	int status;

	switch (att_launch(s, &status, what, sizeof(what))) {
	case ATT_STARTED:
		enter(s, PH_RUNNING);
		return;
	case ATT_RANK_NOT_STARTED: /* the ranks already started go as a crashed attempt's */
		enter(s, PH_RUNNING);
		fail_attempt(s, FD_FAIL_CRASH, what);
		return;
	case ATT_NOT_STARTED:
		submit_outcome(s, FD_FAIL_LAUNCH, status, NULL);
		return;
	}
}

static void child_exited(struct sv *s)
{
	char what[160];

	switch (att_child_exited(s, what, sizeof(what))) {
	case ATT_EXIT_OK:
		stop_tree(s, SIGTERM); /* stragglers it left behind */
		return;
	case ATT_EXIT_CRASH:
		fail_attempt(s, FD_FAIL_CRASH, what);
		return;
	case ATT_EXIT_LATE:
		if (s->phase == PH_STOPPING || s->phase == PH_KILLING)
			poll_tree(s);
		return;
	}
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
		cJSON *o = ev_fields(NULL, NULL);

		ev_say(s, "rank %d went back from step %lld to step %lld: counted as progress",
		       r->id, (long long)r->back_from, (long long)r->back_to);
		if (o)
			cJSON_AddNumberToObject(o, "from", (double)r->back_from);
		ev_emit(s, "step_back", r->id, r->back_to, NULL, -1, o);
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
		ev_say(s, "delivered the queued %s to process group %d", ev_sig_name(usr_sigs[i]),
		       (int)pg);
		o = ev_fields("signal", ev_sig_name(usr_sigs[i]));
		if (o)
			cJSON_AddBoolToObject(o, "delivered", 1);
		ev_emit(s, "signal", RANK_NONE, -1, NULL, -1, o);
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
	ev_say(s, "the job ran past --timeout while %s", sup_phase_name(s->phase));
	ev_emit(s, "timeout", RANK_NONE, -1, NULL, -1, NULL);
	if (s->procs.helper > 0 && !s->procs.helper_done) {
		s->att.fail = FD_FAIL_TIMEOUT;
		s->stop_signal = 0;
		sup_kill(s);
	} else {
		submit_outcome(s, FD_FAIL_TIMEOUT, FD_RUN_TIMEOUT, NULL);
	}
}

void sup_on_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct sv *s = arg;

	beats_on_timer(s, now);
	switch (s->phase) {
	case PH_RUNNING: {
		char what[256];
		int why;

		if (s->o->heartbeat_file && now >= s->beats.next_file_poll)
			beats_poll_file(s, now);
		if (ckpt_watching(s) && now >= s->ckpt.next_check)
			ckpt_age_check(s, now);
		/* the attempt's own --timeout included */
		why = att_check_deadlines(s, now, what, sizeof(what));
		if (why != FD_FAIL_NONE)
			fail_attempt(s, why, what);
		return;
	}
	case PH_STACKS:
		if (stacks_ready(s) || now >= s->deadline) {
			stacks_collect(s);
			if (s->att.fail == FD_FAIL_STALL || s->att.peer_halt)
				stacks_attribute(s);
			terminate(s);
		}
		return;
	case PH_STOPPING:
	case PH_KILLING:
		poll_tree(s);
		return;
	case PH_BACKOFF:
		if (now >= s->deadline)
			gpu_wait(s);
		break;
	case PH_GPU_WAIT:
	case PH_PREFLIGHT:
		if (helper_check_deadline(s, now))
			s->deadline = 0; /* killed: its exit moves on */
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
	if (p->child > 0 && p->child_done && !was_child) {
		child_exited(s);
	} else if (p->child > 0 && p->failed >= 0 && was_failed < 0) {
		char what[160];

		/* one rank of several failed: the others are stopped */
		if (att_rank_failed(s, what, sizeof(what)))
			fail_attempt(s, FD_FAIL_CRASH, what);
	}
	stopping = s->phase == PH_STOPPING || s->phase == PH_KILLING;
	if (p->helper > 0 && p->helper_done && !was_helper && !stopping)
		helper_done(s);
	else if (stopping)
		poll_tree(s);
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

/* Why the job stops from outside its attempt: a signal to flightdeck, or a peer's stop. */
struct stop_cause {
	int sig;			/* the signal; 0: a peer's stop */
	pid_t sender;			/* the signal's sender */
	const struct fd_decision *peer; /* the peer's stop (a lost peer: FD_STOP_PEER_LOST) */
};

/*
 * The one stop path, whatever the phase: a running tree is stopped with the usual grace (a
 * lost peer's tree with a short one), a helper is killed, a wait ends. A signal is told to
 * the group, which decides with it; a peer's stop is the group's decision already, applied
 * once nothing of ours runs.
 */
static void stop(struct sv *s, const struct stop_cause *c)
{
	char who[64];

	switch (s->phase) {
	case PH_RUNNING:
	case PH_STACKS:
		if (c->peer) {
			terminate(s);
			/* a lost node leaves this node's collectives hanging: SIGKILL soon */
			if (c->peer->stop_why == FD_STOP_PEER_LOST &&
			    s->o->grace_ms > PEER_LOST_GRACE_MS)
				s->deadline = fd_deadline_ns(fd_mono_ns(), PEER_LOST_GRACE_MS);
			break;
		}
		grp_halt(&s->group, FD_FAIL_NONE, c->sig, "told to stop");
		if (scheduler_signalled_all(s, c->sender, who, sizeof(who))) {
			ev_say(s,
			       "received %s from %s, which sends it to every process of the "
			       "step: not passed on again; waiting up to --grace",
			       ev_sig_name(c->sig), who);
			enter(s, PH_STOPPING);
			tree_stop_delivered(s, c->sig);
			break;
		}
		ev_say(s, "received %s: passing it to process group %d", ev_sig_name(c->sig),
		       (int)s->procs.child);
		stop_tree(s, c->sig);
		break;
	case PH_STOPPING:
		if (!c->peer)
			tree_forward(s, c->sig);
		break;
	case PH_PREFLIGHT:
	case PH_GPU_WAIT:
		sup_kill(s);
		break;
	case PH_BACKOFF:
		if (c->peer)
			sup_finish(s, fd_decision_exit_code(c->peer));
		else
			submit_outcome(s, FD_FAIL_NONE, 0, NULL); /* the stop signal decides */
		break;
	case PH_DECIDING:
		if (c->peer)
			sup_finish(s, fd_decision_exit_code(c->peer));
		else if (s->spare_idle) {
			/* a spare's own stop (its pod evicted, its node drained) ends no training:
			 * it leaves, and the group goes on with one spare fewer */
			ev_say(s,
			       "received %s as a spare: leaving the group; the job goes on "
			       "without this spare",
			       ev_sig_name(c->sig));
			sup_finish(s, 128 + c->sig);
		} else /* the group may be waiting for a node that never comes: it hears of the
		      * signal now, and with no attempt running anywhere the signal decides */
			grp_halt(&s->group, FD_FAIL_NONE, c->sig, "told to stop");
		break;
	default: /* killing already: tree_gone applies the decision; a decision sees the signal */
		break;
	}
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
	if (s->stop_signal && now < fd_deadline_ns(s->stop_signal_ns, s->o->signal_dedupe_ms)) {
		char d[32];

		fd_fmt_duration(s->o->signal_dedupe_ms, d, sizeof(d));
		ev_say(s, "second %s within %s of the first: the same request", ev_sig_name(sig),
		       d);
		return;
	}
	ev_emit(s, "signal", RANK_NONE, -1, NULL, -1, ev_fields("signal", ev_sig_name(sig)));
	if (s->stop_signal && s->phase != PH_DECIDING) {
		ev_say(s, "second %s: killing everything now", ev_sig_name(sig));
		sup_kill(s);
		return;
	}
	if (!s->stop_signal) {
		s->stop_signal = sig;
		s->stop_signal_ns = now;
	}
	stop(s, &(struct stop_cause){.sig = sig, .sender = sender});
}

void sup_on_signal(struct fd_loop *l, int sig, void *arg)
{
	struct sv *s = arg;

	if (sig == SIGCHLD) {
		on_sigchld(s);
		return;
	}
	if (sig == SIGUSR1 || sig == SIGUSR2) {
		cJSON *o = ev_fields("signal", ev_sig_name(sig));
		char who[64];

		if (s->procs.child > 0 && !s->procs.child_done &&
		    scheduler_signalled_all(s, l->sig_sender, who, sizeof(who))) {
			/* Slurm's --signal=USR1@T reaches every process of the step itself */
			ev_say(s,
			       "received %s from %s, which sends it to every process of the step: "
			       "not passed on again",
			       ev_sig_name(sig), who);
			if (o)
				cJSON_AddBoolToObject(o, "delivered", 0);
		} else if (s->procs.child > 0 && !s->procs.child_done) {
			tree_signal(-s->procs.child, sig);
			ev_say(s, "forwarded %s to process group %d", ev_sig_name(sig),
			       (int)s->procs.child);
		} else { /* backoff, preflight, GPU wait: for the next launch */
			s->queued_usr |= sig == SIGUSR1 ? 1 : 2;
			ev_say(s, "%s while no command runs (%s): queued for the next launch",
			       ev_sig_name(sig), sup_phase_name(s->phase));
			if (o)
				cJSON_AddBoolToObject(o, "queued", 1);
		}
		ev_emit(s, "signal", RANK_NONE, -1, NULL, -1, o);
		return;
	}
	on_stop_signal(s, sig, l->sig_sender);
}

/* ---- the group's answers ----------------------------------------------------------------- */

void sup_on_decision(void *ctx, const struct fd_decision *d)
{
	struct sv *s = ctx;

	int slot = fd_decision_slot(d, s->group.rank);

	if (s->phase != PH_DECIDING)
		return; /* a peer's stop ended the wait already */
	s->spare_idle = 0;
	if (slot < 0 && s->stop_signal && d->verdict != FD_STOP) {
		/* a spare told to stop: nothing of the job runs here; it leaves the group */
		ev_say(s, "told to stop (%s) as a spare: leaving the group; the job goes on",
		       ev_sig_name(s->stop_signal));
		sup_finish(s, 128 + s->stop_signal);
		return;
	}
	switch (d->verdict) {
	case FD_CONTINUE:
		if (slot < 0) { /* the group trains without this node */
			spare_hold(s, d);
			return;
		}
		if (!s->gate)
			break;
		s->gate = 0;
		if (s->stop_signal) { /* told to stop while the nodes were gathering */
			submit_outcome(s, FD_FAIL_NONE, 0, NULL);
			return;
		}
		s->att.slot = slot;
		s->att.nslots = d->nactive > 0 ? d->nactive : s->group.size;
		if (s->was_spare && d->nactive > 0) {
			cJSON *o = ev_fields(NULL, NULL);

			ev_say(s, "promoted: this spare trains as node %d of %d from now on", slot,
			       d->nactive);
			if (o)
				cJSON_AddNumberToObject(o, "slot", slot);
			ev_emit(s, "promoted", RANK_NONE, -1, NULL, -1, o);
		}
		s->was_spare = 0;
		/* a node's first launch resumes where the group's first launch did; after a
		 * restart (a spare's first launch included), where the restart said */
		if (!s->att.launches && !s->att.restarts)
			ckpt_path(s, d->checkpoint, s->att.resume, sizeof(s->att.resume));
		s->att.master_port = d->master_port; /* node 0's pick for every node; 0: ours */
		launch(s);
		return;
	case FD_RESTART:
		if (s->stop_signal) { /* told to stop while the group decided: that decides */
			submit_outcome(s, FD_FAIL_NONE, 0, NULL);
			return;
		}
		dec_restart(s, d);
		enter(s, PH_BACKOFF);
		return;
	case FD_STOP:
		if (d->stop_why == FD_STOP_BUDGET || d->stop_why == FD_STOP_NO_PROGRESS)
			dec_give_up(s, d);
		if (*d->why)
			ev_say(s, "%s", d->why);
		s->final = *d;
		sup_finish(s, fd_decision_exit_code(d));
		return;
	default:
		break;
	}
	/* nothing this node submits after an attempt leaves the job running */
	sup_finish(s, FD_RUN_INTERNAL);
}

/* A peer stops the job, whatever this node is doing; its decision gives the exit status. */
void sup_on_stop(void *ctx, const struct fd_decision *d)
{
	struct sv *s = ctx;

	if (s->have_peer_stop || s->phase == PH_DONE)
		return;
	s->peer_stop = *d;
	s->final = *d;
	s->have_peer_stop = 1;
	if (*d->why)
		ev_say(s, "%s: stopping this node (exit %d)", d->why, fd_decision_exit_code(d));
	else
		ev_say(s, "node %d stops the job", d->node);
	stop(s, &(struct stop_cause){.peer = &s->peer_stop});
}

/*
 * Another node's attempt failed: this node's stops too (with the usual grace) and then
 * submits, so the group decides once. A node already past its attempt has nothing to stop.
 */
void sup_on_halt(void *ctx, const struct fd_decision *d)
{
	struct sv *s = ctx;
	char g[32];

	if (s->phase != PH_RUNNING && s->phase != PH_STACKS)
		return;
	if (s->att.fail != FD_FAIL_NONE || s->stop_signal)
		return; /* stopping for its own reason already */
	s->att.peer_halt = 1;
	/* a lost node leaves this node's collectives hanging (a spare takes its place) */
	fd_fmt_duration(d->failure == FD_FAIL_LOST && s->o->grace_ms > PEER_LOST_GRACE_MS
			    ? PEER_LOST_GRACE_MS
			    : s->o->grace_ms,
			g, sizeof(g));
	if (s->procs.child_done) {
		stop_tree(s, SIGTERM);
		return;
	}
	ev_say(s, "%s: stopping process group %d too (SIGTERM, %s grace)", d->why,
	       (int)s->procs.child, g);
	/* a stall elsewhere may be this node's doing: its ranks' stacks and states say */
	if (d->failure == FD_FAIL_STALL && stacks_ask(s)) {
		enter(s, PH_STACKS);
		return;
	}
	if (d->failure == FD_FAIL_STALL)
		stacks_attribute(s);
	terminate(s);
	if (d->failure == FD_FAIL_LOST && s->o->grace_ms > PEER_LOST_GRACE_MS)
		s->deadline = fd_deadline_ns(fd_mono_ns(), PEER_LOST_GRACE_MS);
}
