/*
 * tree.c - the process tree flightdeck started: signals to it, reaping, and waiting until it
 * is gone (docs/architecture.md, "Stopping the tree").
 *
 * Every signal flightdeck sends to a process goes through tree_signal, so that the sender can
 * be swapped for one that cannot hit a recycled pid (a pidfd-based one) in one line.
 */
#define _GNU_SOURCE
#include "proctree.h"
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int tree_signal(pid_t pid, int sig)
{
	return kill(pid, sig) ? -errno : 0;
}

/* The status a shell would report: the exit status, or 128+N for signal N. */
int tree_status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return FD_RUN_INTERNAL;
}

static size_t descendants(struct fd_proc *procs, size_t max)
{
	size_t n = 0;

	if (fd_descendants(getpid(), procs, max, &n))
		return 0;
	return n < max ? n : max;
}

/*
 * A stopped process acts on nothing but SIGKILL until continued, so every other signal is
 * followed by SIGCONT.
 */
static void send_to(pid_t pid, int sig)
{
	tree_signal(pid, sig);
	if (sig != SIGKILL)
		tree_signal(pid, SIGCONT);
}

/* Sends sig to the child's group (or the helper's) and, with all, to every descendant. */
static void signal_tree(struct sv *s, int sig, int all)
{
	static struct fd_proc procs[MAX_PROCS];
	pid_t pg = s->procs.child > 0 ? s->procs.child : s->procs.helper;

	if (pg > 0)
		send_to(-pg, sig);
	if (!all)
		return;
	size_t n = descendants(procs, MAX_PROCS);

	for (size_t i = 0; i < n; i++)
		if (procs[i].state != 'Z')
			send_to(procs[i].pid, sig);
}

void tree_reap(struct sv *s)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == s->procs.child) {
			s->procs.child_done = 1;
			s->procs.child_status = st;
		} else if (p == s->procs.helper) {
			s->procs.helper_done = 1;
			s->procs.helper_status = st;
		}
	}
}

/* Live (non-zombie) descendants, reaping what can be reaped first. */
static size_t live_tree(struct sv *s, struct fd_proc *procs, size_t max)
{
	size_t n, live = 0;

	tree_reap(s);
	n = descendants(procs, max);
	for (size_t i = 0; i < n; i++)
		if (procs[i].state != 'Z')
			procs[live++] = procs[i];
	return live;
}

void tree_begin_stop(struct sv *s, int sig)
{
	sup_enter(s, PH_STOPPING);
	/* The group first (so the trainer can checkpoint); stragglers outside it later. */
	signal_tree(s, sig, s->procs.child_done);
}

/* A failed attempt's SIGTERM, told in the events log. */
void tree_terminate(struct sv *s)
{
	sup_event(s, "kill", RANK_NONE, -1, NULL, -1, sup_fields("signal", "SIGTERM"));
	tree_begin_stop(s, SIGTERM);
}

void tree_begin_kill(struct sv *s)
{
	sup_enter(s, PH_KILLING);
	signal_tree(s, SIGKILL, 1);
	sup_event(s, "kill", RANK_NONE, -1, NULL, -1, sup_fields("signal", "SIGKILL"));
}

/* Whatever survives SIGKILL past --kill-wait is named and given up on: never wedge here. */
static void give_up(struct sv *s, const struct fd_proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sup_say(s, "pid %d (%s) survives SIGKILL in state %c%s", (int)procs[i].pid,
			procs[i].comm, procs[i].state,
			procs[i].state == 'D' ? " (uninterruptible sleep, stuck in the kernel)"
					      : "");
	sup_event(s, "kill", RANK_NONE, -1, NULL, -1,
		  sup_fields("message", "processes survive SIGKILL"));
	s->procs.child_done = 1;
	s->procs.helper_done = 1;
	s->procs.child = -1;
	s->deadline = 0;
	sup_tree_gone(s);
}

/* The tree is gone when the child has been reaped and no descendant is alive. */
void tree_poll(struct sv *s)
{
	static struct fd_proc procs[MAX_PROCS];
	size_t n = live_tree(s, procs, MAX_PROCS);
	int64_t now = fd_mono_ns();
	struct sup_procs *p = &s->procs;

	if ((p->child <= 0 || p->child_done) && (p->helper <= 0 || p->helper_done) && n == 0) {
		out_close(s);
		s->deadline = 0;
		p->child = -1;
		sup_tree_gone(s);
		return;
	}
	if (s->phase == PH_STOPPING && now >= s->deadline) {
		sup_say(s, "grace period over: SIGKILL to process group %d and %zu descendant(s)",
			(int)p->child, n);
		tree_begin_kill(s);
		return;
	}
	if (s->phase == PH_STOPPING && p->child_done)
		signal_tree(s, SIGTERM, 1); /* stragglers outside the group get the same notice */
	if (s->phase == PH_KILLING && now >= s->deadline) {
		give_up(s, procs, n);
		return;
	}
	if (s->phase == PH_KILLING)
		signal_tree(s, SIGKILL, 1);
}

/* Last resort on an internal error: nothing may outlive flightdeck. */
void tree_emergency_kill(struct sv *s)
{
	static struct fd_proc procs[MAX_PROCS];

	for (int round = 0; round < EMERGENCY_ROUNDS; round++) {
		signal_tree(s, SIGKILL, 1);
		if (!live_tree(s, procs, MAX_PROCS))
			return;
		usleep(EMERGENCY_ROUND_US);
	}
}
