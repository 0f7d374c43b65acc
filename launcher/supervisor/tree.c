/*
 * tree.c - the process tree flightdeck started: signals to it, reaping, and waiting until it
 * is gone (docs/architecture.md, "Stopping the tree").
 *
 * A signal reaches only processes that are provably ours now: a descendant found in /proc is
 * signalled through fd_proc_signal (a pidfd, and its start time checked), never by a
 * remembered pid; the child's process group through tree_signal while the group is ours.
 * A /proc walk that fails says nothing about the tree: it is never read as "all gone".
 */
#define _GNU_SOURCE
#include "proctree.h"
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
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

/*
 * Our descendants into procs (at most max); -errno when the walk failed, said once. With a
 * /proc of another pid namespace nothing there is provably ours: an empty walk.
 */
static int descendants(struct sv *s, struct fd_proc *procs, size_t max, size_t *n)
{
	int rc;

	*n = 0;
	if (s->procs.foreign_proc)
		return 0;
	rc = fd_descendants(getpid(), procs, max, n);
	if (rc) {
		*n = 0;
		if (!s->procs.walk_failed)
			ev_say(s,
			       "cannot list the process tree in /proc: %s; the tree is "
			       "treated as alive until its deadline",
			       strerror(-rc));
		s->procs.walk_failed = 1;
		return rc;
	}
	if (*n > max)
		*n = max;
	return 0;
}

/*
 * In a new pid namespace whose /proc was not remounted, /proc/self names our pid in the
 * outer namespace and every outer process descends from the "pid 1" we would walk from:
 * none of them is ours. Then only our own process groups are signalled (said once here).
 */
void tree_check_proc(struct sv *s)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	int pid;

	if (n <= 0)
		return; /* no /proc at all: the walk fails and says so */
	buf[n] = '\0';
	if (fd_parse_uint(buf, &pid) || pid == (int)getpid())
		return;
	s->procs.foreign_proc = 1;
	ev_say(s,
	       "/proc belongs to another pid namespace (it shows me as pid %d, I am pid %d): "
	       "only the command's own process group is signalled; remount /proc (unshare "
	       "--mount-proc) so that escaped descendants can be found",
	       pid, (int)getpid());
}

void tree_free(struct sv *s)
{
	free(s->procs.rank_pid);
	free(s->procs.rank_status);
	s->procs.rank_pid = NULL;
	s->procs.rank_status = NULL;
	free(s->procs.sent);
	s->procs.sent = NULL;
	s->procs.n_sent = s->procs.cap_sent = 0;
}

/*
 * A stopped process acts on nothing but SIGKILL until continued, so every other signal is
 * followed by SIGCONT.
 */
static void send_group(pid_t pg, int sig)
{
	tree_signal(-pg, sig);
	if (sig != SIGKILL)
		tree_signal(-pg, SIGCONT);
}

static void send_proc(const struct fd_proc *p, int sig)
{
	fd_proc_signal(p, sig);
	if (sig != SIGKILL)
		fd_proc_signal(p, SIGCONT);
}

/*
 * The process group we may signal: the child's (or the helper's) while its leader is not
 * reaped. A zombie leader keeps its pid, so the group id cannot be handed to anyone else;
 * once we reap it, a stranger may lead a new group with the same id. 0: none.
 */
static pid_t our_group(const struct sup_procs *p)
{
	if (p->child > 0)
		return p->child_done ? 0 : p->child;
	return p->helper > 0 && !p->helper_done ? p->helper : 0;
}

static int was_sent(const struct sup_procs *p, const struct fd_proc *f)
{
	for (size_t i = 0; i < p->n_sent; i++)
		if (p->sent[i].pid == f->pid && p->sent[i].start == f->starttime)
			return 1;
	return 0;
}

/* Remembers that f had this stop's signal; a full or failed table only risks a repeat. */
static void mark_sent(struct sup_procs *p, const struct fd_proc *f)
{
	if (p->n_sent == p->cap_sent) {
		size_t cap = p->cap_sent ? p->cap_sent * 2 : 64;
		struct sup_sent *v;

		if (cap > MAX_PROCS * 4 || !(v = realloc(p->sent, cap * sizeof(*v))))
			return;
		p->sent = v;
		p->cap_sent = cap;
	}
	p->sent[p->n_sent++] = (struct sup_sent){f->pid, f->starttime};
}

const char *tree_launcher_name(char *const *argv)
{
	static const char *const launchers[] = {"torchrun",   "mpirun", "mpiexec",   "orterun",
						"prterun",    "srun",	"deepspeed", "accelerate",
						"horovodrun", NULL};
	static const char *const modules[] = {"torch.distributed.run", "torch.distributed.launch",
					      "deepspeed.launcher.runner",
					      "accelerate.commands.launch", NULL};
	const char *b;

	if (!argv || !argv[0])
		return NULL;
	b = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	for (size_t i = 0; launchers[i]; i++)
		if (!strcmp(b, launchers[i]))
			return launchers[i];
	if (strncmp(b, "python", 6))
		return NULL;
	/* python[3[.11]] [-u ...] -m MODULE */
	for (size_t k = 1; argv[k] && argv[k][0] == '-'; k++) {
		if (strcmp(argv[k], "-m"))
			continue;
		for (size_t i = 0; argv[k + 1] && modules[i]; i++)
			if (!strcmp(argv[k + 1], modules[i]))
				return modules[i];
		return NULL;
	}
	return NULL;
}

/*
 * A stop's notice to a launcher that passes it on: to the launcher alone, its children
 * (the workers it tells) counted as told, every other member of our group told once as the
 * group's signal would have; SIGCONT to the group and to every descendant outside it (torch
 * 2.x's torchrun starts each worker in a session of its own), so a stopped worker can act on
 * the notice the launcher passes on, instead of holding the stop for the whole grace.
 */
static void signal_launcher(struct sv *s, pid_t pg, int sig, struct fd_proc *procs, size_t n,
			    int walked)
{
	struct sup_procs *p = &s->procs;

	tree_signal(p->child, sig);
	p->group_sent = 1;
	for (size_t i = 0; walked && i < n; i++) {
		if (procs[i].pid == p->child || procs[i].state == 'Z' ||
		    getpgid(procs[i].pid) != pg)
			continue;
		if (procs[i].ppid != p->child)
			fd_proc_signal(&procs[i], sig);
		mark_sent(p, &procs[i]);
	}
	tree_signal(-pg, SIGCONT);
	for (size_t i = 0; walked && i < n; i++)
		if (procs[i].state != 'Z' && getpgid(procs[i].pid) != pg)
			fd_proc_signal(&procs[i], SIGCONT);
}

/*
 * Sends sig to our group and, with all, to every descendant. SIGKILL goes every time it is
 * asked for; any other signal is a stop's notice, and a process that is saving a checkpoint
 * on it must not be interrupted by repeats: each process gets it once per stop (pid and start
 * time remembered; the members of the group when the group had it count as having had it).
 */
static void signal_tree(struct sv *s, int sig, int all)
{
	static struct fd_proc procs[MAX_PROCS];
	struct sup_procs *p = &s->procs;
	pid_t pg = our_group(p);
	int once = sig != SIGKILL, walked;
	size_t n = 0;

	walked = (all || (once && pg > 0)) && !descendants(s, procs, MAX_PROCS, &n);
	if (pg > 0 && once && *p->launcher && !p->group_sent && pg == p->child) {
		signal_launcher(s, pg, sig, procs, n, walked);
	} else if (pg > 0 && (!once || !p->group_sent)) {
		send_group(pg, sig);
		if (once) {
			p->group_sent = 1;
			for (size_t i = 0; walked && i < n; i++)
				if (getpgid(procs[i].pid) == pg)
					mark_sent(p, &procs[i]);
		}
	}
	if (!all || !walked)
		return;
	for (size_t i = 0; i < n; i++) {
		if (procs[i].state == 'Z' || (once && was_sent(p, &procs[i])))
			continue;
		send_proc(&procs[i], sig);
		if (once)
			mark_sent(p, &procs[i]);
	}
}

/*
 * A rank of the command reaped: the first to fail is remembered; the command is done once
 * every rank is. 1 when p was one of them.
 */
static int tree_reap_rank(struct sv *s, pid_t p, int st)
{
	struct sup_procs *pr = &s->procs;

	for (int i = 0; i < pr->nlocal; i++) {
		if (pr->rank_pid[i] != p)
			continue;
		pr->rank_pid[i] = -1;
		pr->rank_status[i] = st;
		if (st != 0 && pr->failed < 0)
			pr->failed = i;
		if (--pr->left == 0) {
			pr->child_done = 1;
			pr->child_status = pr->failed >= 0 ? pr->rank_status[pr->failed] : st;
		}
		return 1;
	}
	return 0;
}

void tree_reap(struct sv *s)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (tree_reap_rank(s, p, st) || dec_drain_reaped(s, p, st))
			continue;
		if (p == s->procs.helper) {
			s->procs.helper_done = 1;
			s->procs.helper_status = st;
		}
	}
}

/*
 * Live (non-zombie) descendants, reaping what can be reaped first; -errno when /proc could
 * not be walked (the caller must not take that for an empty tree).
 */
static int live_tree(struct sv *s, struct fd_proc *procs, size_t max, size_t *live)
{
	size_t n;
	int rc;

	tree_reap(s);
	*live = 0;
	rc = descendants(s, procs, max, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (procs[i].state != 'Z')
			procs[(*live)++] = procs[i];
	return 0;
}

void tree_stop(struct sv *s, int sig)
{
	s->procs.stop_sig = sig; /* a new stop: everyone may have its one notice */
	s->procs.group_sent = 0;
	s->procs.n_sent = 0;
	if (*s->procs.launcher && s->procs.child > 0 && !s->procs.child_done)
		ev_say(s, "%s to %s (pid %d) alone: it passes it on to its workers",
		       ev_sig_name(sig), s->procs.launcher, (int)s->procs.child);
	/* The group first (so the trainer can checkpoint); stragglers outside it later. */
	signal_tree(s, sig, s->procs.child_done);
}

/*
 * A stop whose signal every process of the tree already had from the scheduler (Slurm's
 * slurmstepd signals each process of the step): nothing is sent, everyone is counted as
 * notified, and the grace runs as after tree_stop. A process that appears later gets the
 * notice from tree_poll, once.
 */
void tree_stop_delivered(struct sv *s, int sig)
{
	static struct fd_proc procs[MAX_PROCS];
	size_t n = 0;

	s->procs.stop_sig = sig;
	s->procs.group_sent = our_group(&s->procs) > 0;
	s->procs.n_sent = 0;
	if (!descendants(s, procs, MAX_PROCS, &n))
		for (size_t i = 0; i < n; i++)
			mark_sent(&s->procs, &procs[i]);
}

void tree_kill(struct sv *s)
{
	signal_tree(s, SIGKILL, 1);
	ev_emit(s, "kill", RANK_NONE, -1, NULL, -1, ev_fields("signal", "SIGKILL"));
}

/* Whatever survives SIGKILL past --kill-wait is named and given up on: never wedge here. */
static void give_up(struct sv *s, const struct fd_proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ev_say(s, "pid %d (%s) survives SIGKILL in state %c%s", (int)procs[i].pid,
		       procs[i].comm, procs[i].state,
		       procs[i].state == 'D' ? " (uninterruptible sleep, stuck in the kernel)"
					     : "");
	ev_emit(s, "kill", RANK_NONE, -1, NULL, -1,
		ev_fields("message", "processes survive SIGKILL"));
	s->procs.child_done = 1;
	s->procs.helper_done = 1;
	s->procs.child = -1;
	s->procs.nlocal = 0; /* a rank reaped after this is no news */
}

/*
 * The tree is gone when the child has been reaped and no descendant is alive. While it is
 * not, a stop's notice reaches stragglers and newcomers once each, and SIGKILL what survives
 * it; the phase's deadline says when the grace, or the wait after SIGKILL, is over.
 */
enum tree_state tree_poll(struct sv *s)
{
	static struct fd_proc procs[MAX_PROCS];
	size_t n;
	int walked = !live_tree(s, procs, MAX_PROCS, &n);
	int64_t now = fd_mono_ns();
	struct sup_procs *p = &s->procs;

	if ((p->child <= 0 || p->child_done) && (p->helper <= 0 || p->helper_done) && walked &&
	    n == 0) {
		out_close(s);
		p->child = -1;
		return TREE_GONE;
	}
	if (s->phase == PH_STOPPING && now >= s->deadline) {
		ev_say(s, "grace period over: SIGKILL to process group %d and %zu descendant(s)",
		       (int)p->child, n);
		return TREE_GRACE_OVER;
	}
	/* Stragglers outside the group, and newcomers, get the same notice: once each. */
	if (s->phase == PH_STOPPING && p->child_done)
		signal_tree(s, SIGTERM, 1);
	if (s->phase == PH_KILLING && now >= s->deadline) {
		give_up(s, procs, n);
		return TREE_ABANDONED;
	}
	if (s->phase == PH_KILLING)
		signal_tree(s, SIGKILL, 1);
	return TREE_ALIVE;
}

/*
 * A signal for the job while it is being stopped (an operator's SIGINT during the grace of a
 * stall): to our group while it is ours, unless the group had that very signal this stop.
 */
void tree_forward(struct sv *s, int sig)
{
	pid_t pg = our_group(&s->procs);

	if (pg > 0 && !(s->procs.group_sent && sig == s->procs.stop_sig))
		tree_signal(-pg, sig);
}

/* Last resort on an internal error: nothing may outlive flightdeck. */
void tree_emergency_kill(struct sv *s)
{
	static struct fd_proc procs[MAX_PROCS];

	for (int round = 0; round < EMERGENCY_ROUNDS; round++) {
		size_t n;

		signal_tree(s, SIGKILL, 1);
		if (!live_tree(s, procs, MAX_PROCS, &n) && !n)
			return;
		usleep(EMERGENCY_ROUND_US);
	}
}
