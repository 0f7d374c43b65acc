/*
 * test_group.c - the group decision over many nodes (64, 1024), the exit status a decision
 * yields, and the size-1 local group's asynchronous delivery.
 */
#include "testhelp.h"
#include "fanout.h"
#include "frame.h"
#include "group.h"
#include "loop.h"
#include "resolve.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static struct fd_node_state *nodes_new(int n, int64_t step)
{
	struct fd_node_state *v = calloc((size_t)n, sizeof(*v));

	for (int i = 0; v && i < n; i++) {
		v[i].node = i;
		v[i].max_step = step;
		/* a shared filesystem: every node sees the same checkpoints */
		strcpy(v[i].ckpts[0], "s-40");
		strcpy(v[i].ckpts[1], "s-30");
		v[i].nckpts = 2;
	}
	return v;
}

/* The gravest failure wins, the first node with it is named, at 64 and 1024 nodes. */
static void decide_gravest(void)
{
	static const int sizes[] = {64, 1024};
	struct fd_policy pol = {.max_restarts = 5, .no_progress_limit = 3};

	for (size_t k = 0; k < 2; k++) {
		int n = sizes[k];
		struct fd_node_state *v = nodes_new(n, 100);
		struct fd_group_history h = {0};
		struct fd_decision d;

		if (!v)
			return;
		fd_group_decide(v, n, &pol, &h, &d);
		CHECK_EQ_INT(d.verdict, FD_CONTINUE);
		CHECK_EQ_INT(d.node, -1);
		/* stalls everywhere, one crash in the middle, a later crash: the first crash */
		for (int i = 0; i < n; i += 3)
			v[i].failure = FD_FAIL_STALL;
		v[n / 2].failure = FD_FAIL_CRASH;
		v[n / 2].status = 137;
		v[n - 1].failure = FD_FAIL_CRASH;
		v[n - 1].status = 3;
		fd_group_decide(v, n, &pol, &h, &d);
		CHECK_EQ_INT(d.verdict, FD_RESTART);
		CHECK_EQ_INT(d.failure, FD_FAIL_CRASH);
		CHECK_EQ_INT(d.node, n / 2);
		CHECK_EQ_INT(d.status, 137);
		/* every node resumes from the same checkpoint, whoever failed */
		CHECK_STREQ(d.checkpoint, "s-40");
		/* counted once for the whole group, not once per failed node */
		CHECK_EQ_INT(h.restarts, 1);
		CHECK_EQ_INT(d.restarts, 1);
		/* one unfit node among crashes: nobody restarts, that node is named */
		v[n - 7].failure = FD_FAIL_PREFLIGHT;
		fd_group_decide(v, n, &pol, &h, &d);
		CHECK_EQ_INT(d.verdict, FD_STOP);
		CHECK_EQ_INT(d.stop_why, FD_STOP_FAILURE);
		CHECK_EQ_INT(d.node, n - 7);
		CHECK_EQ_INT(fd_decision_exit_code(&d), FD_RUN_PREFLIGHT);
		CHECK_EQ_INT(h.restarts, 1);
		/* a timeout on two nodes: the first of them; 124 */
		v[n - 7].failure = FD_FAIL_STALL;
		v[5].failure = FD_FAIL_TIMEOUT;
		v[n - 2].failure = FD_FAIL_TIMEOUT;
		fd_group_decide(v, n, &pol, &h, &d);
		CHECK_EQ_INT(d.stop_why, FD_STOP_FAILURE);
		CHECK_EQ_INT(d.node, 5);
		CHECK_EQ_INT(fd_decision_exit_code(&d), FD_RUN_TIMEOUT);
		/* a stop signal on any node beats every failure */
		v[n - 3].stop_signal = SIGTERM;
		fd_group_decide(v, n, &pol, &h, &d);
		CHECK_EQ_INT(d.verdict, FD_STOP);
		CHECK_EQ_INT(d.stop_why, FD_STOP_SIGNAL);
		CHECK_EQ_INT(d.node, n - 3);
		CHECK_EQ_INT(fd_decision_exit_code(&d), 128 + SIGTERM);
		free(v);
	}
}

/* The budget and the no-progress rule, judged on the furthest step of all nodes. */
static void decide_budget_progress(void)
{
	const int n = 1024;
	struct fd_policy pol = {.max_restarts = 4, .no_progress_limit = 2};
	struct fd_node_state *v = nodes_new(n, 10);
	struct fd_group_history h = {0};
	struct fd_decision d;

	if (!v)
		return;
	for (int i = 0; i < n; i++)
		v[i].failure = FD_FAIL_STALL;
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_RESTART);
	/* same checkpoint, but one node got further: progress, no strike */
	v[900].max_step = 50;
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_RESTART);
	CHECK_EQ_INT(h.no_progress, 0);
	CHECK_EQ_INT(d.restarts, 2);
	/* nobody passes step 50 from the same checkpoint, twice: give up early, 86 */
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_RESTART);
	CHECK_EQ_INT(h.no_progress, 1);
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.stop_why, FD_STOP_NO_PROGRESS);
	CHECK_EQ_INT(d.no_progress, 2);
	CHECK_EQ_INT(d.last_max_step, 50);
	CHECK_STREQ(d.checkpoint, "s-40");
	CHECK_EQ_INT(fd_decision_exit_code(&d), FD_RUN_STALLED);
	CHECK_EQ_INT(h.restarts, 3);

	/* with progress each time the budget ends it; crashes end with the crash's status */
	memset(&h, 0, sizeof(h));
	for (int r = 0; r < 4; r++) {
		v[r].max_step = 100 * (r + 1);
		fd_group_decide(v, n, &pol, &h, &d);
		CHECK_EQ_INT(d.verdict, FD_RESTART);
		CHECK_EQ_INT(d.restarts, r + 1);
	}
	v[17].failure = FD_FAIL_CRASH;
	v[17].status = 128 + SIGSEGV;
	v[3].max_step = 1000;
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.stop_why, FD_STOP_BUDGET);
	CHECK_EQ_INT(d.node, 17);
	CHECK_EQ_INT(fd_decision_exit_code(&d), 128 + SIGSEGV);
	CHECK_EQ_INT(h.restarts, 4);
	free(v);
}

static void decision_exit_codes(void)
{
	struct fd_decision d = {.verdict = FD_RESTART};

	CHECK_EQ_INT(fd_decision_exit_code(&d), -1);
	d.verdict = FD_STOP;
	d.stop_why = FD_STOP_ENDED;
	d.status = 0;
	CHECK_EQ_INT(fd_decision_exit_code(&d), 0);
	d.status = 7;
	CHECK_EQ_INT(fd_decision_exit_code(&d), 7);
	d.stop_why = FD_STOP_FAILURE;
	d.failure = FD_FAIL_LAUNCH;
	d.status = FD_RUN_NOTFOUND;
	CHECK_EQ_INT(fd_decision_exit_code(&d), 127);
	d.stop_why = FD_STOP_BUDGET;
	d.failure = FD_FAIL_STALL;
	CHECK_EQ_INT(fd_decision_exit_code(&d), FD_RUN_STALLED);
	d.failure = FD_FAIL_STARTUP;
	CHECK_EQ_INT(fd_decision_exit_code(&d), FD_RUN_STALLED);
	d.stop_why = FD_STOP_SIGNAL;
	d.stop_signal = SIGINT;
	CHECK_EQ_INT(fd_decision_exit_code(&d), 130);

	/* a node whose command ended by itself stops the group with that status */
	struct fd_node_state two[2] = {{.node = 0}, {.node = 1, .ended = 1, .status = 0}};
	struct fd_group_history h = {0};
	struct fd_policy pol = {.max_restarts = 1};

	fd_group_decide(two, 2, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.stop_why, FD_STOP_ENDED);
	CHECK_EQ_INT(d.node, 1);
	CHECK_EQ_INT(fd_decision_exit_code(&d), 0);
	CHECK_STREQ(fd_fail_name(FD_FAIL_PREFLIGHT), "preflight");
}

struct waiter {
	struct fd_loop *loop;
	int decisions;
	struct fd_decision d;
};

static void got_decision(void *ctx, const struct fd_decision *d)
{
	struct waiter *w = ctx;

	w->decisions++;
	w->d = *d;
	fd_loop_stop(w->loop);
}

static void got_stop(void *ctx, const struct fd_decision *d)
{
}

/* The local group answers through the loop, never from inside grp_submit. */
static void local_async(void)
{
	static const struct fd_group_callbacks cb = {.on_decision = got_decision,
						     .on_stop = got_stop};
	struct fd_loop l;
	struct fd_group g;
	struct waiter w = {.loop = &l};
	struct fd_policy pol = {.max_restarts = 0};
	struct fd_node_state me = {.failure = FD_FAIL_CRASH, .status = 9, .max_step = -1};

	CHECK_EQ_INT(fd_loop_init(&l), 0);
	CHECK_EQ_INT(fd_group_local(&g, &l, &pol, &cb, &w), 0);
	CHECK_EQ_INT(g.size, 1);
	CHECK_EQ_INT(grp_submit(&g, &me), 0);
	CHECK_EQ_INT(w.decisions, 0);
	CHECK_EQ_INT(grp_submit(&g, &me), -EBUSY);
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(w.decisions, 1);
	CHECK_EQ_INT(w.d.verdict, FD_STOP);
	CHECK_EQ_INT(w.d.stop_why, FD_STOP_BUDGET);
	CHECK_EQ_INT(fd_decision_exit_code(&w.d), 9);
	/* an unfit node goes through the same decision: 69 */
	me.failure = FD_FAIL_PREFLIGHT;
	CHECK_EQ_INT(grp_submit(&g, &me), 0);
	l.stop = 0;
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(w.decisions, 2);
	CHECK_EQ_INT(fd_decision_exit_code(&w.d), FD_RUN_PREFLIGHT);
	grp_close(&g);
	grp_close(&g); /* twice is harmless */
	fd_loop_close(&l);
}

struct policy_seen {
	struct fd_loop *loop;
	struct fd_decision d;
	char unfit[4][256];
	int nunfit;
};

static void policy_decision(void *ctx, const struct fd_decision *d)
{
	struct policy_seen *p = ctx;

	p->d = *d;
	fd_loop_stop(p->loop);
}

static void policy_event(void *ctx, const char *name, int node, const char *host, const char *line,
			 int say)
{
	struct policy_seen *p = ctx;

	(void)say;
	if (!strcmp(name, "unfit") && p->nunfit < 4)
		snprintf(p->unfit[p->nunfit++], sizeof(p->unfit[0]), "%d %s", node, line);
}

static int picked_port(void)
{
	return 4242;
}

/*
 * The size-1 group decides through the same grp_decide as the star's coordinator, under the
 * caller's policy: a CONTINUE carries the policy's master port, an unfit node's findings are
 * the table's lines and its host goes to the policy's exclude file.
 */
static void local_policy(void)
{
	static const struct fd_group_callbacks cb = {
	    .on_decision = policy_decision, .on_stop = policy_decision, .on_event = policy_event};
	char path[] = "/tmp/fd-unit-exclude-XXXXXX", host[256] = "", want[320], got[320] = "";
	struct fd_policy pol = {.master_port = picked_port, .exclude_file = path};
	struct fd_loop l;
	struct fd_group g;
	struct policy_seen p = {.loop = &l};
	struct fd_node_state me = {.max_step = -1};
	int fd = mkstemp(path);
	FILE *f;

	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ_INT(fd_loop_init(&l), 0);
	CHECK_EQ_INT(fd_group_local(&g, &l, &pol, &cb, &p), 0);
	CHECK_EQ_INT(grp_submit(&g, &me), 0);
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(p.d.verdict, FD_CONTINUE);
	CHECK_EQ_INT(p.d.master_port, 4242);
	CHECK_EQ_INT(p.nunfit, 0);

	me.failure = FD_FAIL_PREFLIGHT;
	me.status = FD_RUN_PREFLIGHT;
	strcpy(me.detail, "ib.port IB_PORT_DOWN mlx5_3/1\ngpu.ecc GPU_ECC_DBE 0000:17:00.0\n");
	CHECK_EQ_INT(grp_submit(&g, &me), 0);
	l.stop = 0;
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(fd_decision_exit_code(&p.d), FD_RUN_PREFLIGHT);
	CHECK_EQ_INT(p.d.master_port, 0);
	gethostname(host, sizeof(host) - 1);
	CHECK_STREQ(grp_host(&g, 0), host);
	CHECK_EQ_INT(p.nunfit, 3);
	snprintf(want, sizeof(want), "0 node 0 (%s): ib.port IB_PORT_DOWN mlx5_3/1", host);
	CHECK_STREQ(p.unfit[0], want);
	snprintf(want, sizeof(want), "0 node 0 (%s): gpu.ecc GPU_ECC_DBE 0000:17:00.0", host);
	CHECK_STREQ(p.unfit[1], want);
	snprintf(want, sizeof(want), "-1 wrote %s to %s: sbatch --exclude=%s ... keeps them out",
		 host, path, host);
	CHECK_STREQ(p.unfit[2], want);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(got, sizeof(got), f) != NULL);
		fclose(f);
	}
	snprintf(want, sizeof(want), "%s\n", host);
	CHECK_STREQ(got, want);
	grp_close(&g);
	fd_loop_close(&l);
	unlink(path);
}

static void set_ckpts(struct fd_node_state *n, const char *const *names)
{
	n->nckpts = 0;
	for (; *names; names++)
		strcpy(n->ckpts[n->nckpts++], *names);
}

/*
 * Per-node checkpoint directories: the group resumes from the newest name complete on every
 * node (node 0's order), so a step one node lacks or holds torn is skipped.
 */
static void decide_common_checkpoint(void)
{
	struct fd_policy pol = {.max_restarts = 9};
	struct fd_group_history h = {0};
	struct fd_node_state v[4] = {{.node = 0}, {.node = 1}, {.node = 2}, {.node = 3}};
	struct fd_decision d;

	set_ckpts(&v[0], (const char *[]){"s-40", "s-30", "s-20", "s-10", NULL});
	set_ckpts(&v[1], (const char *[]){"s-40", "s-30", "s-20", "s-10", NULL});
	set_ckpts(&v[2], (const char *[]){"s-30", "s-20", "s-10", NULL}); /* lacks s-40 */
	set_ckpts(&v[3], (const char *[]){"s-50", "s-40", "s-20", NULL}); /* lacks s-30 */
	v[1].failure = FD_FAIL_STALL;
	fd_group_decide(v, 2, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_RESTART);
	CHECK_STREQ(d.checkpoint, "s-40");
	fd_group_decide(v, 3, &pol, &h, &d);
	CHECK_STREQ(d.checkpoint, "s-30");
	fd_group_decide(v, 4, &pol, &h, &d);
	CHECK_STREQ(d.checkpoint, "s-20");
	/* node 3's s-50 is newer but only node 3 has it */
	set_ckpts(&v[0], (const char *[]){"s-50", "s-40", "s-20", NULL});
	fd_group_decide(v, 4, &pol, &h, &d);
	CHECK_STREQ(d.checkpoint, "s-20");
	/* nothing in common: from the start */
	set_ckpts(&v[2], (const char *[]){"other", NULL});
	fd_group_decide(v, 4, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_RESTART);
	CHECK_STREQ(d.checkpoint, "");
	/* a node with none at all */
	set_ckpts(&v[2], (const char *[]){NULL});
	fd_group_decide(v, 4, &pol, &h, &d);
	CHECK_STREQ(d.checkpoint, "");
	/* no failure: the first launch resumes from the common one too */
	v[1].failure = 0;
	set_ckpts(&v[2], (const char *[]){"s-20", NULL});
	fd_group_decide(v, 4, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_CONTINUE);
	CHECK_STREQ(d.checkpoint, "s-20");
	/* a lost peer exits 75 */
	d.verdict = FD_STOP;
	d.stop_why = FD_STOP_PEER_LOST;
	CHECK_EQ_INT(fd_decision_exit_code(&d), FD_RUN_PEER_LOST);
}

/* The step a checkpoint's name gives, for "no progress past it". */
static void ckpt_name_steps(void)
{
	CHECK_EQ_INT(fd_ckpt_name_step("step-000030.pt"), 30);
	CHECK_EQ_INT(fd_ckpt_name_step("global_step1200"), 1200);
	CHECK_EQ_INT(fd_ckpt_name_step("epoch=2-step=500.ckpt"), 500);
	CHECK_EQ_INT(fd_ckpt_name_step("checkpoint-500"), 500);
	CHECK_EQ_INT(fd_ckpt_name_step("Step_7"), 7);
	CHECK_EQ_INT(fd_ckpt_name_step("s-40"), 40);
	CHECK_EQ_INT(fd_ckpt_name_step("model.safetensors"), -1);
	CHECK_EQ_INT(fd_ckpt_name_step("run3-ckpt12"), -1);		 /* two numbers: which? */
	CHECK_EQ_INT(fd_ckpt_name_step("laststep.pt"), -1);		 /* "step" with no number */
	CHECK_EQ_INT(fd_ckpt_name_step("step-1234567890123456789"), -1); /* past int64 */
}

/* Every node's state after an attempt: the same list on each, max_step on node 1. */
static void attempt_over(struct fd_node_state *v, int n, int failure, int64_t max_step,
			 const char *const *names)
{
	for (int i = 0; i < n; i++) {
		v[i].node = i;
		v[i].failure = i == 1 ? failure : 0;
		v[i].status = i == 1 && failure == FD_FAIL_CRASH ? 1 : 0;
		v[i].max_step = i == 1 ? max_step : -1;
		set_ckpts(&v[i], names);
	}
}

/* A decision after one attempt, checked: its verdict, where it resumes, what it fell from. */
#define DECIDE(v, n, pol, h, d, verdict_, ckpt_, from_)                                            \
	do {                                                                                       \
		char from[NAME_MAX + 1] = "";                                                      \
		fd_group_decide(v, n, pol, h, d);                                                  \
		CHECK_EQ_INT((d)->verdict, verdict_);                                              \
		CHECK_STREQ((d)->checkpoint, ckpt_);                                               \
		CHECK_EQ_INT(fd_decision_fallback(d, from, sizeof(from)), *(from_) != 0);          \
		CHECK_STREQ(from, from_);                                                          \
	} while (0)

static const char *const three[] = {"step-000030.pt", "step-000020.pt", "step-000010.pt", NULL};

/*
 * A checkpoint that crashes the job on load: two crashes in a row from it before any progress
 * past it, and the restart falls back to the next older one complete on every node, then the
 * next, then the start; the start is never fallen back from.
 */
static void decide_fallback_crash_loop(void)
{
	struct fd_policy pol = {.max_restarts = 20};
	struct fd_group_history h = {0};
	struct fd_node_state v[3];
	struct fd_decision d;

	memset(v, 0, sizeof(v));
	attempt_over(v, 3, 0, -1, three);
	DECIDE(v, 3, &pol, &h, &d, FD_CONTINUE, "step-000030.pt", ""); /* the first launch */
	attempt_over(v, 3, FD_FAIL_CRASH, -1, three);
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "step-000030.pt", ""); /* once may be a fluke */
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "step-000020.pt", "step-000030.pt");
	CHECK_STREQ(d.why,
		    "step-000030.pt crashed the job 2 times before any progress: falling back");
	CHECK_EQ_INT(d.restarts, 2);
	/* a beat at the resumed step itself is no progress past it */
	attempt_over(v, 3, FD_FAIL_CRASH, 20, three);
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "step-000020.pt", "");
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "step-000010.pt", "step-000020.pt");
	attempt_over(v, 3, FD_FAIL_CRASH, -1, three);
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "step-000010.pt", "");
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "", "step-000010.pt");
	CHECK_EQ_INT(h.nskipped, 3);
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "", "");
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "", ""); /* nothing older than the start */
	CHECK_EQ_INT(d.restarts, 8);
	/* the fallbacks and the no-progress count: every one of them got nowhere */
	CHECK_EQ_INT(d.no_progress, 7);

	/* the same fallback for every node: the next older one that every node holds whole */
	memset(&h, 0, sizeof(h));
	attempt_over(v, 3, 0, -1, three);
	set_ckpts(&v[2], (const char *[]){"step-000030.pt", "step-000010.pt", NULL});
	DECIDE(v, 3, &pol, &h, &d, FD_CONTINUE, "step-000030.pt", "");
	for (int i = 0; i < 3; i++)
		v[i].failure = i == 2 ? FD_FAIL_CRASH : 0;
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	DECIDE(v, 3, &pol, &h, &d, FD_RESTART, "step-000010.pt", "step-000030.pt");
	CHECK_EQ_INT(d.node, 2);
}

/* No fallback for a crash after progress, a newer save, a stall; a start-up failure is one. */
static void decide_fallback_progress(void)
{
	struct fd_policy pol = {.max_restarts = 20};
	struct fd_group_history h = {0};
	struct fd_node_state v[2];
	struct fd_decision d;

	memset(v, 0, sizeof(v));
	attempt_over(v, 2, 0, -1, three);
	DECIDE(v, 2, &pol, &h, &d, FD_CONTINUE, "step-000030.pt", "");
	/* past step 30 before each crash: resumes from the newest every time */
	attempt_over(v, 2, FD_FAIL_CRASH, 31, three);
	for (int k = 0; k < 3; k++)
		DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	/* a crash, then one after progress, then a crash: never two in a row */
	attempt_over(v, 2, FD_FAIL_CRASH, -1, three);
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	attempt_over(v, 2, FD_FAIL_CRASH, 35, three);
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	attempt_over(v, 2, FD_FAIL_CRASH, -1, three);
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	/* no beats at all, but a newer checkpoint saved: that is progress */
	attempt_over(v, 2, FD_FAIL_CRASH, -1,
		     (const char *[]){"step-000040.pt", "step-000030.pt", "step-000020.pt", NULL});
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000040.pt", "");
	/* stalls before progress are --no-progress-limit's, not a fallback's */
	attempt_over(v, 2, FD_FAIL_STALL, -1,
		     (const char *[]){"step-000040.pt", "step-000030.pt", "step-000020.pt", NULL});
	for (int k = 0; k < 3; k++)
		DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000040.pt", "");
	/* a rank that never beats, twice: falls back, said as such */
	attempt_over(v, 2, FD_FAIL_STARTUP, -1,
		     (const char *[]){"step-000040.pt", "step-000030.pt", "step-000020.pt", NULL});
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000040.pt", "");
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000030.pt", "step-000040.pt");
	CHECK_STREQ(d.why, "step-000040.pt failed the job at start-up 2 times before any progress: "
			   "falling back");
	/* a name without a step: any beat is progress past it */
	memset(&h, 0, sizeof(h));
	attempt_over(v, 2, 0, -1, (const char *[]){"latest.pt", "older.pt", NULL});
	DECIDE(v, 2, &pol, &h, &d, FD_CONTINUE, "latest.pt", "");
	attempt_over(v, 2, FD_FAIL_CRASH, 3, (const char *[]){"latest.pt", "older.pt", NULL});
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "latest.pt", "");
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "latest.pt", "");
	attempt_over(v, 2, FD_FAIL_CRASH, -1, (const char *[]){"latest.pt", "older.pt", NULL});
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "latest.pt", "");
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "older.pt", "latest.pt");
}

/*
 * A checkpoint fallen back from stays skipped until an attempt gets past its step: by then the
 * trainer may have saved it again, whole.
 */
static void decide_fallback_unskip(void)
{
	struct fd_policy pol = {.max_restarts = 20};
	struct fd_group_history h = {0};
	struct fd_node_state v[1];
	struct fd_decision d;

	memset(v, 0, sizeof(v));
	attempt_over(v, 1, 0, -1, three);
	DECIDE(v, 1, &pol, &h, &d, FD_CONTINUE, "step-000030.pt", "");
	v[0].failure = FD_FAIL_CRASH;
	DECIDE(v, 1, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	DECIDE(v, 1, &pol, &h, &d, FD_RESTART, "step-000020.pt", "step-000030.pt");
	v[0].max_step = 28; /* progress, but not past 30: still skipped */
	DECIDE(v, 1, &pol, &h, &d, FD_RESTART, "step-000020.pt", "");
	CHECK_EQ_INT(h.nskipped, 1);
	v[0].max_step = 33; /* past 30 (and step-000030.pt saved again): resumed from */
	DECIDE(v, 1, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	CHECK_EQ_INT(h.nskipped, 0);

	/* a decision that falls back from nothing reads as none */
	struct fd_decision plain = {.verdict = FD_RESTART};
	char from[NAME_MAX + 1] = "";

	CHECK_EQ_INT(fd_decision_fallback(&plain, from, sizeof(from)), 0);
	strcpy(plain.why, " crashed the job 2 times before any progress: falling back");
	CHECK_EQ_INT(fd_decision_fallback(&plain, from, sizeof(from)), 0); /* no name */
	strcpy(plain.why, "a b crashed the job 2 times before any progress: falling back");
	plain.verdict = FD_STOP;
	CHECK_EQ_INT(fd_decision_fallback(&plain, from, sizeof(from)), 0);
	plain.verdict = FD_RESTART;
	CHECK_EQ_INT(fd_decision_fallback(&plain, from, sizeof(from)), 1);
	CHECK_STREQ(from, "a b");
}

/*
 * Every checkpoint crashes: --no-progress-limit still ends the job (the fallbacks count as
 * restarts that got nowhere), with the crash's status, naming the checkpoints skipped; without
 * it, --max-restarts does.
 */
static void decide_fallback_gives_up(void)
{
	struct fd_policy pol = {.max_restarts = 3, .no_progress_limit = 2};
	struct fd_group_history h = {0};
	struct fd_node_state v[2];
	struct fd_decision d;

	memset(v, 0, sizeof(v));
	attempt_over(v, 2, 0, -1, three);
	DECIDE(v, 2, &pol, &h, &d, FD_CONTINUE, "step-000030.pt", "");
	attempt_over(v, 2, FD_FAIL_CRASH, -1, three);
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000020.pt", "step-000030.pt");
	CHECK_EQ_INT(d.no_progress, 1);
	/* the stop names where the last attempt resumed from, and what was skipped */
	DECIDE(v, 2, &pol, &h, &d, FD_STOP, "step-000020.pt", "");
	CHECK_EQ_INT(d.stop_why, FD_STOP_NO_PROGRESS);
	CHECK_EQ_INT(d.no_progress, 2);
	CHECK_EQ_INT(fd_decision_exit_code(&d), 1);
	CHECK(strstr(d.why, "fell back from 1 checkpoint(s)") != NULL);
	CHECK(strstr(d.why, ": step-000030.pt") != NULL);

	pol.no_progress_limit = 0;
	memset(&h, 0, sizeof(h));
	attempt_over(v, 2, 0, -1, three);
	DECIDE(v, 2, &pol, &h, &d, FD_CONTINUE, "step-000030.pt", "");
	attempt_over(v, 2, FD_FAIL_CRASH, -1, three);
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000030.pt", "");
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000020.pt", "step-000030.pt");
	DECIDE(v, 2, &pol, &h, &d, FD_RESTART, "step-000020.pt", "");
	fd_group_decide(v, 2, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.stop_why, FD_STOP_BUDGET);
	CHECK_EQ_INT(fd_decision_exit_code(&d), 1);
	CHECK(strstr(d.why, ": step-000030.pt, step-000020.pt") != NULL);
}

/* ---- the TCP star's member, against a coordinator played by the test ---------------------- */

struct order {
	struct fd_loop *loop;
	char seen[16];
	int n;
};

static void ord_decision(void *ctx, const struct fd_decision *d)
{
	struct order *o = ctx;

	o->seen[o->n++] = d->verdict == FD_CONTINUE ? 'C' : 'D';
}

static void ord_halt(void *ctx, const struct fd_decision *d)
{
	struct order *o = ctx;

	o->seen[o->n++] = 'H';
	fd_loop_stop(o->loop);
}

static void ord_stop(void *ctx, const struct fd_decision *d)
{
	struct order *o = ctx;

	o->seen[o->n++] = 'S';
	fd_loop_stop(o->loop);
}

static int64_t never(void *arg, int64_t now)
{
	return now + 200 * 1000000LL;
}

static void bail(struct fd_loop *l, int64_t now, void *arg)
{
	int64_t *end = arg;

	if (now > *end)
		fd_loop_stop(l); /* the test's own deadline */
}

/*
 * A STOP that arrives in the same read as the DECISION letting the node launch must reach the
 * supervisor after that decision, or it would find nothing running and the launch that follows
 * would never be stopped.
 */
static void member_decision_then_halt(void)
{
	static const struct fd_group_callbacks cb = {
	    .on_decision = ord_decision, .on_stop = ord_stop, .on_halt = ord_halt};
	struct fd_token tok = {.b = "t", .n = 1};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd;
	struct fd_group_conf conf = {.node = 1,
				     .nnodes = 2,
				     .coord_host = "127.0.0.1",
				     .token = "t",
				     .token_len = 1,
				     .peer_interval_ms = 100,
				     .peer_timeout_ms = 5000,
				     .join_timeout_ms = 5000};
	struct fd_policy pol = {0};
	struct fd_loop l;
	struct fd_group g;
	struct order o = {.loop = &l};
	struct fd_node_state me = {.node = 1, .max_step = -1};
	struct fd_decision go = {.verdict = FD_CONTINUE, .node = -1}, stop = {.verdict = FD_STOP};
	uint8_t buf[4096], pay[1024];
	char err[256] = "";
	int64_t end = fd_mono_ns() + 5000 * 1000000LL;
	long n = 0;
	size_t pn;

	CHECK(lfd >= 0);
	CHECK_EQ_INT(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ_INT(listen(lfd, 1), 0);
	CHECK_EQ_INT(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	conf.coord_port = ntohs(a.sin_port);
	CHECK_EQ_INT(fd_loop_init(&l), 0);
	CHECK_EQ_INT(fd_loop_timer(&l, never, bail, &end), 0);
	CHECK_EQ_INT(fd_group_tcp(&g, &l, &pol, &conf, &cb, &o, err, sizeof(err)), 0);
	CHECK_EQ_INT(grp_submit(&g, &me), 0); /* the launch gate, before the coordinator answers */
	cfd = accept(lfd, NULL, NULL);
	CHECK(cfd >= 0);
	/* WELCOME, then the gate's CONTINUE and a STOP in one write */
	pn = fd_hello_put(pay, sizeof(pay), &(struct fd_hello){.nnodes = 2});
	n += fd_frame_build(buf, sizeof(buf), FR_WELCOME, 0, 0, 0, pay, pn, &tok);
	pn = fd_decision_put(pay, sizeof(pay), &go);
	n += fd_frame_build(buf + n, sizeof(buf) - n, FR_DECISION, 0, 0, 0, pay, pn, &tok);
	strcpy(stop.why, "node 0 (test): rank 0 exited 1");
	pn = fd_decision_put(pay, sizeof(pay), &stop);
	n += fd_frame_build(buf + n, sizeof(buf) - n, FR_STOP, 0, 0, 1, pay, pn, &tok);
	/* all three before the member's loop has run at all: one read takes them */
	CHECK_EQ_INT(write(cfd, buf, (size_t)n), n);
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	o.seen[o.n] = '\0';
	CHECK_STREQ(o.seen, "CH");
	grp_close(&g);
	fd_loop_close(&l);
	close(cfd);
	close(lfd);
}

/* ---- the coordinator's name, looked up in a child (resolve.c) ------------------------------ */

static void resolve_digits(void)
{
	struct resolve_addrs r;
	const struct sockaddr_in *in = (const struct sockaddr_in *)&r.addr[0];
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&r.addr[0];

	CHECK_EQ_INT(resolve_numeric("127.0.0.1", 29471, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK_EQ_INT(in->sin_family, AF_INET);
	CHECK_EQ_INT(ntohs(in->sin_port), 29471);
	CHECK_EQ_INT(in->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	CHECK_EQ_INT(resolve_numeric("::1", 7, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK_EQ_INT(in6->sin6_family, AF_INET6);
	CHECK_EQ_INT(ntohs(in6->sin6_port), 7);
	/* a name needs the child */
	CHECK_EQ_INT(resolve_numeric("localhost", 7, &r), -EINVAL);
	CHECK_EQ_INT(resolve_numeric("node0.example", 7, &r), -EINVAL);
}

struct looked_up {
	struct fd_loop *loop;
	int calls;
	struct resolve_addrs r;
};

static void got_addrs(void *arg, const struct resolve_addrs *r)
{
	struct looked_up *u = arg;

	u->calls++;
	u->r = *r;
	fd_loop_stop(u->loop);
}

/* The lowest descriptor free: with RLIMIT_NOFILE at it + k, only k more can be opened. */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

static void set_nofile(rlim_t n)
{
	struct rlimit rl;

	CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = n;
	CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/*
 * A name is looked up in a child and answered through the loop; a lookup that cannot start
 * (no descriptor left for its pipe) says which call failed and leaves nothing under way.
 */
static void resolve_child_lookup(void)
{
	struct fd_loop l;
	struct looked_up u = {.loop = &l};
	struct resolve rs;
	const char *call = "";
	int64_t end = fd_mono_ns() + 5000 * 1000000LL;
	struct rlimit saved;

	CHECK_EQ_INT(fd_loop_init(&l), 0);
	CHECK_EQ_INT(fd_loop_timer(&l, never, bail, &end), 0);
	resolve_init(&rs, &l, got_addrs, &u);
	CHECK(!resolve_busy(&rs));
	CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &saved), 0);
	set_nofile((rlim_t)lowest_free_fd() + 1); /* one descriptor: a pipe needs two */
	CHECK_EQ_INT(resolve_start(&rs, "localhost", 29471, &call), -EMFILE);
	CHECK_STREQ(call, "pipe2");
	CHECK(!resolve_busy(&rs));
	set_nofile(saved.rlim_cur);
	CHECK_EQ_INT(resolve_start(&rs, "localhost", 29471, &call), 0);
	CHECK(resolve_busy(&rs));
	CHECK_EQ_INT(resolve_start(&rs, "localhost", 29471, &call), -EBUSY);
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(u.calls, 1);
	CHECK_EQ_INT(u.r.gai, 0);
	CHECK(u.r.n >= 1 && u.r.n <= RESOLVE_ADDRS);
	CHECK(!resolve_busy(&rs));
	/* a lookup cancelled is never answered */
	CHECK_EQ_INT(resolve_start(&rs, "localhost", 29471, &call), 0);
	resolve_cancel(&rs);
	CHECK(!resolve_busy(&rs));
	resolve_cancel(&rs);
	fd_loop_close(&l);
	CHECK_EQ_INT(u.calls, 1);
}

struct lookup_events {
	struct fd_loop *loop;
	char waiting[512];
	int nwaiting;
};

static void note_event(void *ctx, const char *name, int node, const char *host, const char *line,
		       int say)
{
	struct lookup_events *e = ctx;

	(void)say;
	if (strcmp(name, "waiting") || !strstr(line, "look up"))
		return;
	e->nwaiting++;
	snprintf(e->waiting, sizeof(e->waiting), "%s", line);
}

static void lookup_decision(void *ctx, const struct fd_decision *d)
{
}

static void lookup_stop(void *ctx, const struct fd_decision *d)
{
	struct lookup_events *e = ctx;

	fd_loop_stop(e->loop); /* --join-timeout: the retry never connected */
}

static void accepted(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	int *cfd = arg;

	*cfd = accept(fd, NULL, NULL);
	if (*cfd >= 0)
		fd_loop_stop(l);
}

/* A listening socket on every loopback address (IPv6 dual-stack, else IPv4); its port. */
static int listen_loopback(int *port)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	int zero = 0, fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (fd >= 0 && (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
			bind(fd, (struct sockaddr *)&a6, sizeof(a6)))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
			return -1;
	}
	if (listen(fd, 4) || getsockname(fd, (struct sockaddr *)&got, &gl))
		return -1;
	*port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
						: ((struct sockaddr_in *)&got)->sin_port);
	return fd;
}

/*
 * A member whose lookup child cannot be started (pipe2 fails: no descriptor left) says which
 * call failed and why, once, and tries again at the next retry: once descriptors are back, it
 * reaches the coordinator.
 */
static void member_lookup_fails_then_retries(void)
{
	static const struct fd_group_callbacks cb = {
	    .on_decision = lookup_decision, .on_stop = lookup_stop, .on_event = note_event};
	struct fd_group_conf conf = {.node = 1,
				     .nnodes = 2,
				     .coord_host = "localhost",
				     .token = "t",
				     .token_len = 1,
				     .peer_interval_ms = 100,
				     .peer_timeout_ms = 5000,
				     .join_timeout_ms = 5000};
	struct fd_policy pol = {0};
	struct fd_loop l;
	struct fd_group g;
	struct lookup_events e = {.loop = &l};
	struct rlimit saved;
	char err[256] = "";
	int64_t end = fd_mono_ns() + 5000 * 1000000LL;
	int lfd, cfd = -1;

	lfd = listen_loopback(&conf.coord_port);
	CHECK(lfd >= 0);
	CHECK_EQ_INT(fd_loop_init(&l), 0);
	CHECK_EQ_INT(fd_loop_timer(&l, never, bail, &end), 0);
	CHECK_EQ_INT(fd_loop_add(&l, lfd, EPOLLIN, accepted, &cfd), 0);
	CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &saved), 0);
	/* one descriptor left: the group's eventfd takes it, the lookup's pipe finds none */
	set_nofile((rlim_t)lowest_free_fd() + 1);
	CHECK_EQ_INT(fd_group_tcp(&g, &l, &pol, &conf, &cb, &e, err, sizeof(err)), 0);
	set_nofile(saved.rlim_cur);
	CHECK_EQ_INT(e.nwaiting, 1);
	CHECK(strstr(e.waiting, "pipe2 failed") != NULL);
	CHECK(strstr(e.waiting, strerror(EMFILE)) != NULL);
	CHECK(strstr(e.waiting, "retrying until --join-timeout") != NULL);
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK(cfd >= 0); /* the next try looked the name up and connected */
	CHECK_EQ_INT(e.nwaiting, 1);
	grp_close(&g);
	fd_loop_close(&l);
	if (cfd >= 0)
		close(cfd);
	close(lfd);
}

/*
 * A lost node that a spare replaces (FD_FAIL_LOST): the group restarts, as after a crash, but
 * a timeout or an unfit node beside it still stops; the budget spent on losses ends the job
 * with 75, not a crash's status; its node has no say in the checkpoint.
 */
static void decide_lost_node(void)
{
	struct fd_policy pol = {.max_restarts = 1, .no_progress_limit = 0};
	struct fd_node_state *v = nodes_new(4, 50);
	struct fd_group_history h = {0};
	struct fd_decision d;

	if (!v)
		return;
	v[2].failure = FD_FAIL_CRASH;
	v[2].status = 1;
	v[3].failure = FD_FAIL_LOST;
	v[3].no_ckpt_dir = 1; /* as the coordinator sends it: gone, no say */
	v[3].nckpts = 0;
	fd_group_decide(v, 4, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_RESTART);
	CHECK_EQ_INT(d.failure, FD_FAIL_LOST); /* graver than the crash it caused */
	CHECK_EQ_INT(d.node, 3);
	CHECK_STREQ(d.checkpoint, "s-40");
	CHECK_STREQ(fd_fail_name(d.failure), "lost node");
	fd_group_decide(v, 4, &pol, &h, &d); /* the budget (1) is spent */
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.stop_why, FD_STOP_BUDGET);
	CHECK_EQ_INT(fd_decision_exit_code(&d), FD_RUN_PEER_LOST);
	memset(&h, 0, sizeof(h));
	v[1].failure = FD_FAIL_TIMEOUT; /* a timeout beside it still ends the job */
	fd_group_decide(v, 4, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.failure, FD_FAIL_TIMEOUT);
	v[1].failure = FD_FAIL_PREFLIGHT;
	fd_group_decide(v, 4, &pol, &h, &d);
	CHECK_EQ_INT(d.failure, FD_FAIL_PREFLIGHT);
	CHECK(fd_fail_gravity(FD_FAIL_CRASH) < fd_fail_gravity(FD_FAIL_LOST));
	CHECK(fd_fail_gravity(FD_FAIL_LOST) < fd_fail_gravity(FD_FAIL_TIMEOUT));
	free(v);
}

/* fd_group_fr_culprit over whole states, as the coordinator keeps them (fd_node_rec). */
static int fr_culprit(const struct fd_node_state *v, int n, char *line, size_t len)
{
	struct fd_node_rec *r = calloc((size_t)n, sizeof(*r));
	int k;

	if (!r)
		return -2;
	for (int i = 0; i < n; i++)
		fd_node_rec_view(&r[i], &v[i]);
	k = fd_group_fr_culprit(r, n, line, len);
	free(r);
	return k;
}

/* A stall across 1024 nodes: the flight recorders compared, else the node's own verdict. */
static void decide_stall_culprit(void)
{
	int n = 1024;
	struct fd_policy pol = {.max_restarts = 5, .no_progress_limit = 3};
	struct fd_node_state *v = nodes_new(n, 100);
	struct fd_group_history h = {0};
	struct fd_decision d;
	char line[FD_WHY_MAX];

	if (!v)
		return;
	for (int i = 0; i < n; i++) { /* every node stalled, 8 ranks each at collective 17 */
		v[i].failure = i ? FD_FAIL_NONE : FD_FAIL_STALL;
		v[i].nfr = 1;
		v[i].fr[0] = (struct fd_fr_wave){.pg = 0, .lo = 17, .hi = 17, .lo_rank = 8 * i};
		strcpy(v[i].fr[0].op, "nccl:all_reduce");
	}
	/* all alike: the recorders tell nothing, nor does any node: node 0, first to stall */
	CHECK_EQ_INT(fr_culprit(v, n, line, sizeof(line)), -1);
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.node, 0);
	/* node 700's own verdict (a stopped rank, which cannot dump): node 700 */
	v[700].culprit_likely = 1;
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.node, 700);
	/* node 513's ranks all behind (one rank a node, or every rank of it in a data loader):
	 * the recorders outrank a node's own likely verdict */
	v[513].fr[0].lo = v[513].fr[0].hi = 16;
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.node, 513);
	CHECK_EQ_INT(fr_culprit(v, n, line, sizeof(line)), 513);
	CHECK_STREQ(line, "rank 4104 never entered collective 17 of process group 0 "
			  "(nccl:all_reduce; its newest: 16); node 0's ranks wait in it");
	/* a second node behind is said */
	v[900].fr[0].lo = 15;
	CHECK_EQ_INT(fr_culprit(v, n, line, sizeof(line)), 513);
	CHECK(strstr(line, "(more nodes behind)") != NULL);
	/* a crash is graver than a stall: the recorders do not move it */
	v[3].failure = FD_FAIL_CRASH;
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.node, 3);
	v[3].failure = FD_FAIL_NONE;
	/* a group only one node reported compares with nothing */
	for (int i = 0; i < n; i++)
		v[i].nfr = i == 513;
	CHECK_EQ_INT(fr_culprit(v, n, line, sizeof(line)), -1);
	fd_group_decide(v, n, &pol, &h, &d);
	CHECK_EQ_INT(d.node, 700);
	free(v);
}

/*
 * 16,384 nodes, each reporting four process groups, all alike but one node behind in the
 * last: each group is compared once (per report, it was quadratic: billions of steps).
 */
static void fr_culprit_16k(void)
{
	int n = 16384;
	struct fd_node_rec *r = calloc((size_t)n, sizeof(*r));
	char line[FD_WHY_MAX];

	CHECK(r != NULL);
	if (!r)
		return;
	for (int i = 0; i < n; i++) {
		fd_node_rec_clear(&r[i]);
		r[i].node = i;
		r[i].nfr = FD_FR_PGS;
		for (int g = 0; g < FD_FR_PGS; g++)
			r[i].fr[g] =
			    (struct fd_fr_wave){.pg = g, .lo = 40, .hi = 40, .lo_rank = 8 * i};
	}
	CHECK_EQ_INT(fd_group_fr_culprit(r, n, line, sizeof(line)), -1);
	CHECK_STREQ(line, "");
	r[12000].fr[3].lo = 39;
	CHECK_EQ_INT(fd_group_fr_culprit(r, n, line, sizeof(line)), 12000);
	CHECK_STREQ(line,
		    "rank 96000 never entered collective 40 of process group 3 (; its newest: "
		    "39); node 0's ranks wait in it");
	free(r);
}

/* The coordinator's copy of a state: its texts in one block of their size, facts equal. */
static void rec_keep(void)
{
	struct fd_node_state s = {.node = 3,
				  .failure = FD_FAIL_STALL,
				  .max_step = 77,
				  .nckpts = 2,
				  .culprit_likely = 1,
				  .nfr = 1};
	struct fd_node_rec r;
	char *block = NULL;

	strcpy(s.ckpts[0], "step-000070.pt");
	strcpy(s.ckpts[1], "step-000060.pt");
	strcpy(s.ckpts[2], "stale: not counted");
	strcpy(s.culprit, "rank 5 (pid 9) stopped");
	s.fr[0].hi = 12;
	CHECK_EQ_INT(fd_node_rec_keep(&r, &block, &s), 0);
	memset(&s, 0xaa, sizeof(s)); /* nothing points into it */
	CHECK_EQ_INT(r.node, 3);
	CHECK_EQ_INT(r.failure, FD_FAIL_STALL);
	CHECK_EQ_INT((int)r.max_step, 77);
	CHECK_EQ_INT(r.nfr, 1);
	CHECK_EQ_INT((int)r.fr[0].hi, 12);
	CHECK_STREQ(r.ckpts[1], "step-000060.pt");
	CHECK_STREQ(r.ckpts[2], "");
	CHECK_STREQ(r.culprit, "rank 5 (pid 9) stopped");
	CHECK_STREQ(r.detail, "");
	CHECK(fd_node_has_ckpt(&r, "step-000070.pt"));
	CHECK(!fd_node_has_ckpt(&r, "stale: not counted"));
	CHECK(block != NULL && r.ckpts[0] == block);
	free(block);
}

/* How many threads "auto" and a number ask for. */
static void fanout_threads(void)
{
	CHECK_EQ_INT(fd_fanout_threads(0, 1000, 64), 1); /* a small group: this thread */
	CHECK_EQ_INT(fd_fanout_threads(0, 2047, 64), 1); /* one per 1,024 nodes */
	CHECK_EQ_INT(fd_fanout_threads(0, 2048, 64), 2);
	CHECK_EQ_INT(fd_fanout_threads(0, 16384, 2), 2); /* at most the CPUs it may use */
	CHECK_EQ_INT(fd_fanout_threads(0, 16384, 1), 1);
	CHECK_EQ_INT(fd_fanout_threads(0, 65535, 128), 8); /* at most 8 */
	CHECK_EQ_INT(fd_fanout_threads(3, 10, 1), 3);	   /* asked: as asked */
	CHECK_EQ_INT(fd_fanout_threads(99, 10, 1), FD_FANOUT_MAX);
}

/*
 * One frame to 600 sockets on 4 threads: each peer reads exactly the frame once; a skipped
 * socket is not written; a closed peer is -EPIPE; a full socket takes part of it or nothing,
 * said in its result and never more. Twice, so the workers take a second job.
 */
#define FAN_N 600

static void fanout_send(void)
{
	static int sv[FAN_N][2], fds[FAN_N];
	static long res[FAN_N];
	static char big[1 << 20];
	char frame[200], got[sizeof(frame) + 1];
	struct rlimit rl;
	struct fd_fanout *f;
	int sz = 4096;

	CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2 * FAN_N + 64) {
		rl.rlim_cur = rl.rlim_max;
		if (rl.rlim_cur < 2 * FAN_N + 64 || setrlimit(RLIMIT_NOFILE, &rl)) {
			printf("  skipped: the open-file limit is below %d\n", 2 * FAN_N + 64);
			return;
		}
	}
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (char)('a' + i % 26);
	f = fd_fanout_new(4);
	CHECK(f != NULL);
	CHECK_EQ_INT(fd_fanout_nthreads(f), 4);
	for (int i = 0; i < FAN_N; i++) {
		CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv[i]), 0);
		fds[i] = sv[i][0];
	}
	fds[5] = -1;
	close(sv[7][1]);
	setsockopt(sv[9][0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	while (fd_send_now(sv[9][0], big, sizeof(big)) > 0) /* full */
		;
	for (int round = 0; round < 2; round++) {
		memset(res, 0x55, sizeof(res));
		fd_fanout_send(f, fds, res, FAN_N, frame, sizeof(frame));
		for (int i = 0; i < FAN_N; i++) {
			if (i == 5) {
				CHECK(res[i] == 0);
				CHECK(read(sv[i][1], got, sizeof(got)) == -1 && errno == EAGAIN);
			} else if (i == 7) {
				CHECK(res[i] == -EPIPE);
			} else if (i == 9) {
				CHECK(res[i] >= 0 && res[i] < (long)sizeof(frame));
			} else {
				CHECK(res[i] == (long)sizeof(frame));
				CHECK(read(sv[i][1], got, sizeof(got)) == (ssize_t)sizeof(frame));
				CHECK(!memcmp(got, frame, sizeof(frame)));
			}
		}
	}
	fd_fanout_free(f);
	fd_fanout_send(NULL, fds, res, 3, frame, sizeof(frame)); /* no threads: this one */
	CHECK(res[0] == (long)sizeof(frame) && res[1] == (long)sizeof(frame));
	for (int i = 0; i < FAN_N; i++) {
		close(sv[i][0]);
		if (i != 7)
			close(sv[i][1]);
	}
}

const struct unit_test group_tests[] = {
    {"group: the coordinator's address given as digits", resolve_digits},
    {"group: a name looked up in a child, through the loop", resolve_child_lookup},
    {"group: a member whose lookup cannot start says so, retries",
     member_lookup_fails_then_retries},
    {"group: a STOP read with the DECISION comes after it", member_decision_then_halt},
    {"group: the newest checkpoint complete on every node", decide_common_checkpoint},
    {"group: the step a checkpoint's name gives", ckpt_name_steps},
    {"group: a crash loop on a checkpoint falls back, to the start", decide_fallback_crash_loop},
    {"group: no fallback after progress, a newer save, a stall", decide_fallback_progress},
    {"group: a skipped checkpoint is tried again past its step", decide_fallback_unskip},
    {"group: every checkpoint crashes: the limits still end it", decide_fallback_gives_up},
    {"group: gravest failure of 64 and 1024 nodes", decide_gravest},
    {"group: a stall's culprit node, from the flight recorders", decide_stall_culprit},
    {"group: budget and no-progress over 1024 nodes", decide_budget_progress},
    {"group: exit status of a decision", decision_exit_codes},
    {"group: a lost node a spare replaces restarts; 75 when the budget is spent", decide_lost_node},
    {"group: the local group decides asynchronously", local_async},
    {"group: the local group decides under the caller's policy", local_policy},
    {"group: the flight recorders of 16,384 nodes compared once per process group", fr_culprit_16k},
    {"group: the coordinator keeps a state's texts in a block of their size", rec_keep},
    {"group: the threads a decision goes out on", fanout_threads},
    {"group: one frame to 600 sockets on 4 threads", fanout_send},
    {NULL, NULL},
};
