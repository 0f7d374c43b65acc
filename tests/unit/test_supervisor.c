/*
 * test_supervisor.c - the supervisor's pure parts: the rank table and the stall policy
 * (ranks.c), and the faulthandler dump parser (stacks.c) on text Python 3.11 wrote.
 */
#include "testhelp.h"
#include "ranks.h"
#include "culprit.h"
#include "stacks.h"

#include "proctree.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define S(x) ((int64_t)(x)*1000 * NS_PER_MS) /* seconds, in the table's nanoseconds */

static const struct fd_run_opts opts = {
    .stall_ms = 30000,
    .stall_factor = 3,
    .stall_floor_ms = 10000,
    .startup_ms = 120000,
    .checkpoint_ms = 600000,
    .teardown_ms = 300000,
};

static void beat(struct sup_ranks *t, int rank, int64_t step, int64_t at)
{
	struct fd_beat b = {.rank = rank, .step = step};

	ranks_beat(t, &b, at);
}

static void ranks_deadlines(void)
{
	struct sup_ranks t = {.expected = 2, .max_step = -1};
	struct fd_run_opts o = opts;
	struct sup_rank *r;

	/* a fixed --stall-timeout counts from the last progress */
	beat(&t, 0, 1, S(10));
	r = ranks_find(&t, 0);
	CHECK(r != NULL);
	CHECK_EQ_INT(rank_deadline(&o, r), S(40));
	beat(&t, 0, 1, S(20)); /* the same step again: alive, but no progress */
	CHECK_EQ_INT(rank_deadline(&o, r), S(40));
	beat(&t, 0, 2, S(25));
	CHECK_EQ_INT(rank_deadline(&o, r), S(55));
	CHECK_EQ_INT(t.max_step, 2);
	/* startup: one of two ranks has beaten, so the startup deadline is the earliest */
	CHECK(ranks_startup_pending(&t));
	CHECK_EQ_INT(ranks_next_deadline(&t, &o, S(0)), S(55));
	CHECK_EQ_INT(ranks_next_deadline(&t, &o, -S(100)), S(20));
	beat(&t, 1, -1, S(26));
	CHECK(!ranks_startup_pending(&t));
	CHECK_EQ_INT(ranks_real(&t), 2);
	r = ranks_find(&t, 0); /* a new rank may have moved the table */

	/* auto: the startup limit until two intervals are known, then factor x the longest */
	o.stall_auto = 1;
	CHECK_EQ_INT(rank_limit_ms(&o, r), 120000); /* one interval so far */
	beat(&t, 0, 3, S(45));			    /* intervals 15 s and 20 s */
	CHECK_EQ_INT(rank_limit_ms(&o, r), 60000);
	/* a checkpoint may take --checkpoint-timeout, and entering it is progress */
	struct fd_beat ck = {.rank = 0, .step = -1, .phase = FD_PHASE_CHECKPOINT};

	ranks_beat(&t, &ck, S(50));
	CHECK_EQ_INT(rank_limit_ms(&o, r), 600000);
	CHECK_EQ_INT(rank_deadline(&o, r), S(650));
	/* a new attempt starts empty */
	ranks_reset(&t);
	CHECK_EQ_INT(t.n, 0);
	CHECK_EQ_INT(t.max_step, -1);
	CHECK(ranks_find(&t, 0) == NULL);
	ranks_free(&t);
}

/* A total: from step total - 1 on, the rank is past its last step and gets --teardown-timeout. */
static void ranks_teardown(void)
{
	struct sup_ranks t = {.max_step = -1};
	struct fd_run_opts o = opts;
	struct sup_stall st;
	struct sup_rank *r;
	struct fd_beat b = {.rank = 0, .step = 58, .total = 60};

	ranks_beat(&t, &b, S(10));
	r = ranks_find(&t, 0);
	CHECK_EQ_INT(r->total, 60);
	CHECK(!ranks_past_last(r));
	CHECK_EQ_INT(rank_limit_ms(&o, r), 30000);
	beat(&t, 0, 59, S(20)); /* the last of range(60); the total is kept from before */
	CHECK(ranks_past_last(r));
	CHECK_EQ_INT(rank_limit_ms(&o, r), 300000);
	CHECK_EQ_INT(rank_deadline(&o, r), S(320));
	/* past --stall-timeout, within --teardown-timeout: no stall */
	CHECK_EQ_INT(ranks_judge(&t, &o, 0, S(20) + S(31), &st), FD_FAIL_NONE);
	CHECK_EQ_INT(ranks_next_deadline(&t, &o, 0), S(320));
	/* past it: a stall, said to be past the last step */
	CHECK_EQ_INT(ranks_judge(&t, &o, 0, S(320), &st), FD_FAIL_STALL);
	CHECK_STREQ(st.reason, "teardown");
	CHECK_EQ_INT(st.total, 60);
	CHECK_EQ_INT(st.step, 59);
	CHECK(strstr(st.what,
		     "after step 59 of 60, past its last step (--teardown-timeout 5.0 min)"));
	/* auto learns nothing for teardown: the teardown limit still */
	o.stall_auto = 1;
	CHECK_EQ_INT(rank_limit_ms(&o, r), 300000);
	o.stall_auto = 0;
	/* a final checkpoint may take the longer of the two */
	struct fd_beat ck = {.rank = 0, .step = -1, .phase = FD_PHASE_CHECKPOINT};

	ranks_beat(&t, &ck, S(30));
	CHECK_EQ_INT(rank_limit_ms(&o, r), 600000);
	CHECK_EQ_INT(ranks_judge(&t, &o, 0, S(630), &st), FD_FAIL_STALL);
	CHECK_STREQ(st.reason, "checkpoint");
	ck.phase = FD_PHASE_TRAIN;
	ranks_beat(&t, &ck, S(35));
	CHECK_EQ_INT(rank_limit_ms(&o, r), 300000);
	/* a per-epoch counter going back to 0: training again, the stall timeout again */
	beat(&t, 0, 0, S(40));
	CHECK(!ranks_past_last(r));
	CHECK_EQ_INT(rank_limit_ms(&o, r), 30000);
	/* a step counted from 1 ("step 60/60") is past too, one step early at 59 */
	b.step = 60;
	ranks_beat(&t, &b, S(50));
	CHECK(ranks_past_last(r));
	/* a new total moves the deadline and can end the teardown */
	b.step = -1;
	b.total = 120;
	ranks_beat(&t, &b, S(60));
	CHECK(!ranks_past_last(r));
	CHECK_EQ_INT(rank_deadline(&o, r), S(90));
	/* a stall before the last step says nothing of a total */
	CHECK_EQ_INT(ranks_judge(&t, &o, 0, S(90), &st), FD_FAIL_STALL);
	CHECK_STREQ(st.reason, "stall");
	CHECK(!strstr(st.what, "past its last step"));
	ranks_free(&t);
}

/* A step that goes back, the done beat, a gone rank. */
static void ranks_lifecycle(void)
{
	struct sup_ranks t = {.max_step = -1};
	struct fd_run_opts o = opts;
	struct sup_stall st;
	struct sup_rank *r;

	o.stall_auto = 1;
	for (int i = 1; i <= 40; i++)
		beat(&t, 0, i, S(i));
	r = ranks_find(&t, 0);
	CHECK_EQ_INT(r->nintervals, 39);
	CHECK_EQ_INT(r->max_interval_ns, S(1));
	/* back to step 1, 100 s later (an evaluation between epochs): progress, said once, and
	 * no step interval learned across it */
	beat(&t, 0, 1, S(140));
	CHECK_EQ_INT(r->progress_ns, S(140));
	CHECK_EQ_INT(r->nintervals, 39);
	CHECK_EQ_INT(r->max_interval_ns, S(1));
	CHECK_EQ_INT(t.max_step, 40);
	CHECK(ranks_take_back(&t) == r);
	CHECK_EQ_INT(r->back_from, 40);
	CHECK_EQ_INT(r->back_to, 1);
	CHECK(ranks_take_back(&t) == NULL);
	beat(&t, 0, 2, S(141));
	beat(&t, 0, 1, S(142)); /* a second decrease in the attempt: not said again */
	CHECK(ranks_take_back(&t) == NULL);
	CHECK_EQ_INT(ranks_judge(&t, &o, 0, S(142) + S(11), &st), FD_FAIL_STALL);

	/* the done beat: never stalled, and out of the next deadline; a later beat undoes it */
	struct fd_beat d = {.rank = 0, .step = -1, .done = 1};

	ranks_beat(&t, &d, S(150));
	CHECK(!ranks_watched(r));
	CHECK_EQ_INT(ranks_judge(&t, &o, 0, S(100000), &st), FD_FAIL_NONE);
	CHECK_EQ_INT(ranks_next_deadline(&t, &o, 0), INT64_MAX);
	beat(&t, 0, 3, S(160));
	CHECK(ranks_watched(r));
	/* gone: the same */
	r->gone = 1;
	CHECK_EQ_INT(ranks_judge(&t, &o, 0, S(100000), &st), FD_FAIL_NONE);
	beat(&t, 0, 4, S(170));
	CHECK(ranks_watched(r));
	/* pid_beats: a process that beats more than once, counted per pid */
	struct fd_beat p = {.rank = 0, .step = 5, .pid = 100};

	ranks_beat(&t, &p, S(171));
	CHECK_EQ_INT(r->pid_beats, 1);
	ranks_beat(&t, &p, S(172));
	CHECK_EQ_INT(r->pid_beats, 2);
	p.pid = 101;
	ranks_beat(&t, &p, S(173));
	CHECK_EQ_INT(r->pid_beats, 1);
	ranks_free(&t);
}

/*
 * The stack signal (default action: terminate) goes to a rank's remembered pid only with the
 * start time read at its beat: a process that exited, or whose pid now names another start
 * time (a reuse, simulated by a start time that does not match), gets nothing.
 */
static void stack_signal_checked(void)
{
	struct fd_proc p;
	pid_t pid = fork();
	int st;

	CHECK(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	CHECK_EQ_INT(fd_proc_read(pid, &p), 0);
	/* another process under the same number: not signalled */
	CHECK_EQ_INT(fd_pid_signal_checked(pid, p.starttime + 1, SIGTERM), -ESRCH);
	CHECK_EQ_INT(waitpid(pid, &st, WNOHANG), 0); /* still alive */
	/* the remembered process: signalled (0 only probes) */
	CHECK_EQ_INT(fd_pid_signal_checked(pid, p.starttime, 0), 0);
	kill(pid, SIGKILL);
	CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
	/* exited and reaped: nothing is sent, whoever has the number next */
	CHECK_EQ_INT(fd_pid_signal_checked(pid, p.starttime, SIGTERM), -ESRCH);
}

static void ranks_stalls(void)
{
	struct sup_ranks t = {.max_step = -1};
	struct sup_stall st;

	/* nothing configured and nothing heard: no startup failure, ever */
	CHECK_EQ_INT(ranks_judge(&t, &opts, 0, S(1000), &st), FD_FAIL_NONE);
	/* --ranks 4, two beat: a startup failure that counts them */
	t.expected = 4;
	beat(&t, 0, -1, S(1));
	beat(&t, 1, -1, S(1));
	CHECK_EQ_INT(ranks_judge(&t, &opts, 0, S(30), &st), FD_FAIL_NONE);
	CHECK_EQ_INT(ranks_judge(&t, &opts, 0, S(31), &st), FD_FAIL_STALL);
	t.expected = 2;
	beat(&t, 0, -1, S(100));
	beat(&t, 1, -1, S(100));

	/* rank 1 made steps then stopped; rank 3 beats but is stuck on its step */
	beat(&t, 1, 7, S(101));
	beat(&t, 3, 5, S(100));
	for (int s = 102; s < 140; s += 2)
		beat(&t, 3, 5, S(s));
	beat(&t, 0, -1, S(139));
	CHECK_EQ_INT(ranks_judge(&t, &opts, 0, S(129), &st), FD_FAIL_NONE);
	CHECK_EQ_INT(ranks_judge(&t, &opts, 0, S(140), &st), FD_FAIL_STALL);
	/* both are late: the one silent longest (rank 3, since 100 s) is named */
	CHECK_EQ_INT(st.rank, 3);
	CHECK_EQ_INT(st.step, 5);
	CHECK_STREQ(st.reason, "stall");
	CHECK_STREQ(st.what, "rank 3 still beats but made no progress for 40 s after step 5 (2 "
			     "of 3 heartbeat sources stalled)");
	/* rank 1's process cannot run (the caller read its state): it is named, not rank 3 */
	CHECK_EQ_INT(ranks_judge_naming(&t, &opts, 0, S(140), 1, &st), FD_FAIL_STALL);
	CHECK_EQ_INT(st.rank, 1);
	CHECK_EQ_INT(st.step, 7);
	CHECK_STREQ(st.what, "rank 1 silent for 39 s after step 7 (2 of 3 heartbeat sources "
			     "stalled)");
	CHECK(ranks_late(&opts, ranks_find(&t, 1), S(140)));
	CHECK(!ranks_late(&opts, ranks_find(&t, 0), S(140)));
	/* one not yet past its deadline too, once another is (it stopped a moment later) */
	CHECK_EQ_INT(ranks_judge_naming(&t, &opts, 0, S(140), 0, &st), FD_FAIL_STALL);
	CHECK_EQ_INT(st.rank, 0);
	/* before any is, nothing */
	CHECK_EQ_INT(ranks_judge_naming(&t, &opts, 0, S(129), 0, &st), FD_FAIL_NONE);
	/* a rank the table does not watch is never named */
	CHECK_EQ_INT(ranks_judge_naming(&t, &opts, 0, S(140), 42, &st), FD_FAIL_STALL);
	CHECK_EQ_INT(st.rank, 3);
	/* the output pseudo-rank is named for people */
	struct sup_ranks o = {.want_output = 1, .max_step = -1};

	CHECK_EQ_INT(ranks_judge(&o, &opts, S(0), S(121), &st), FD_FAIL_STARTUP);
	CHECK_EQ_INT(st.rank, RANK_NONE);
	CHECK_STREQ(st.reason, "startup");
	CHECK_STREQ(st.what, "no heartbeat within --startup-timeout 2.0 min");
	beat(&o, RANK_OUTPUT, 9, S(121));
	CHECK_EQ_INT(ranks_judge(&o, &opts, S(0), S(160), &st), FD_FAIL_STALL);
	CHECK_EQ_INT(st.rank, RANK_OUTPUT);
	CHECK_STREQ(st.what, "the output (--progress-regex) silent for 39 s after step 9");
	ranks_free(&t);
	ranks_free(&o);
}

/* Python 3.11's faulthandler.dump_traceback(all_threads=True), paths shortened. */
static const char dump[] =
    "Thread 0x00007fd24ebb16c0 (most recent call first):\n"
    "  File \"/work/job/train.py\", line 5 in loader\n"
    "  File \"/usr/lib/python3.11/threading.py\", line 982 in run\n"
    "  File \"/usr/lib/python3.11/threading.py\", line 1045 in _bootstrap_inner\n"
    "  File \"/usr/lib/python3.11/threading.py\", line 1002 in _bootstrap\n"
    "\n"
    "Current thread 0x00007fd24f9f9b80 (most recent call first):\n"
    "  File \"/venv/lib/python3.11/site-packages/torch/distributed/distributed_c10d.py\", "
    "line 1541 in all_reduce\n"
    "  File \"/work/job/train.py\", line 81 in step\n"
    "  File \"/work/job/train.py\", line 11 in main\n"
    "  File \"/work/job/train.py\", line 12 in <module>\n";

static void stack_dumps(void)
{
	char out[512];

	stacks_innermost(dump, out, sizeof(out));
	CHECK_STREQ(out, "train.py:81 in step (in distributed_c10d.py:1541 in all_reduce)");
	/* the job's own frame innermost: only it */
	stacks_innermost("Current thread 0x1 (most recent call first):\n"
			 "  File \"/work/job/train.py\", line 7 in step\n"
			 "  File \"/work/job/train.py\", line 12 in <module>\n",
			 out, sizeof(out));
	CHECK_STREQ(out, "train.py:7 in step");
	/* nothing but library frames in the current thread: the innermost of them */
	stacks_innermost("Current thread 0x1 (most recent call first):\n"
			 "  File \"/usr/lib/python3.11/threading.py\", line 320 in wait\n"
			 "\n"
			 "Thread 0x2 (most recent call first):\n"
			 "  File \"/work/job/train.py\", line 5 in loader\n",
			 out, sizeof(out));
	CHECK_STREQ(out, "threading.py:320 in wait");
	stacks_innermost("Fatal Python error: Aborted\n", out, sizeof(out));
	CHECK_STREQ(out, "(no frame in the dump)");
	stacks_frame_short("File \"/a/b/train.py\", line 81 in main\n", out, sizeof(out));
	CHECK_STREQ(out, "train.py:81 in main");
	stacks_frame_short("File \"train.py\" (truncated)\nFile \"x\", line 2", out, sizeof(out));
	CHECK_STREQ(out, "File \"train.py\" (truncated)");
}

/* The verdict on a stall: states first, then stacks, else unknown (culprit.h). */
static void culprit_verdicts(void)
{
	struct fd_rank_evidence ev[4] = {
	    {.rank = 0, .pid = 10, .state = RS_RUNNING},
	    {.rank = 1, .pid = 11, .state = RS_STOPPED},
	    {.rank = 2, .pid = 12, .state = RS_RUNNING},
	    {.rank = 3, .pid = 13, .state = RS_RUNNING},
	};
	struct fd_culprit v;

	CHECK_EQ_INT(fd_stack_class(dump), SC_COLLECTIVE);
	CHECK_EQ_INT(
	    fd_stack_class("Current thread 0x1 (most recent call first):\n"
			   "  File \"/usr/lib/python3.11/threading.py\", line 320 in wait\n"
			   "  File \"/work/job/train.py\", line 5 in load\n"),
	    SC_ELSEWHERE); /* a data loader's wait is no collective */
	CHECK_EQ_INT(fd_stack_class("garbage"), SC_NONE);
	CHECK_EQ_INT(fd_stack_class(NULL), SC_NONE);

	for (int i = 0; i < 4; i++) {
		ev[i].stack = SC_COLLECTIVE;
		strcpy(ev[i].where,
		       "train.py:104 in main (in distributed_c10d.py:1541 in all_reduce)");
	}
	ev[1].stack = SC_NONE; /* stopped: it could not dump */
	fd_culprit_judge(ev, 4, &v);
	CHECK_EQ_INT(v.confidence, FC_LIKELY);
	CHECK_STREQ(v.evidence, "state");
	CHECK_EQ_INT(v.nculprits, 1);
	CHECK_EQ_INT(v.culprits[0], 1);
	CHECK_EQ_INT(v.nvictims, 3);
	CHECK_STREQ(v.line, "rank 1 (pid 11) stopped (state T); ranks 0,2,3 wait for it at "
			    "train.py:104 in main (in distributed_c10d.py:1541 in all_reduce)");

	/* every rank can run: the one not in a collective, from the stacks */
	ev[1].state = RS_RUNNING;
	ev[2].stack = SC_ELSEWHERE;
	strcpy(ev[2].where, "train.py:88 in load_batch");
	fd_culprit_judge(ev, 4, &v);
	CHECK_STREQ(v.evidence, "stacks");
	CHECK_EQ_INT(v.nculprits, 1);
	CHECK_EQ_INT(v.culprits[0], 2);
	CHECK(strstr(v.line, "rank 2 (pid 12) at train.py:88 in load_batch; ranks 0,1,3 wait") ==
	      v.line);

	/* a rank in D state, with where in the kernel */
	ev[3].state = RS_DISK;
	strcpy(ev[3].wchan, "nv_wait");
	fd_culprit_judge(ev, 4, &v);
	CHECK_STREQ(v.evidence, "state");
	CHECK_EQ_INT(v.culprits[0], 3);
	CHECK(strstr(v.line, "in uninterruptible sleep (state D) in nv_wait") != NULL);
	/* ...in the GPU driver: the machine's fault, this node is the one to drain */
	char why[256];
	CHECK_EQ_INT(fd_culprit_machine(ev, 4, &v, "", why, sizeof(why)), 1);
	CHECK_STREQ(why, "rank 3 is in uninterruptible sleep in a driver (nv_wait)");
	strcpy(ev[3].wchan, "nfs_wait"); /* a hung file system: nothing says the node */
	fd_culprit_judge(ev, 4, &v);
	CHECK_EQ_INT(fd_culprit_machine(ev, 4, &v, "", why, sizeof(why)), 0);
	CHECK_STREQ(why, "");
	/* with an Xid since the job started, any culprit here is the machine's */
	CHECK_EQ_INT(
	    fd_culprit_machine(ev, 4, &v, "Xid 79 on 0000:3b:00, 2.0 s ago", why, sizeof(why)), 1);
	CHECK_STREQ(why, "Xid 79 on 0000:3b:00, 2.0 s ago, and rank 3 here is the culprit");
	strcpy(ev[3].wchan, "nv_wait");

	/* the others kept making progress: the quiet one, by progress (not a synchronous job) */
	ev[1].stack = ev[2].stack = SC_COLLECTIVE;
	ev[3].state = RS_RUNNING;
	for (int i = 0; i < 4; i++)
		ev[i].quiet = i == 2 ? QUIET_YES : QUIET_NO;
	fd_culprit_judge(ev, 4, &v);
	CHECK_STREQ(v.evidence, "progress");
	CHECK_EQ_INT(v.nculprits, 1);
	CHECK_EQ_INT(v.culprits[0], 2);
	CHECK(strstr(v.line, "ranks 0,1,3 kept making progress") != NULL);
	/* a Python rank that stopped beating is the job's own: no node to drain */
	CHECK_EQ_INT(fd_culprit_machine(ev, 4, &v, "", why, sizeof(why)), 0);
	/* a Python rank gone without its done beat (SIGKILL, a segfault in a driver): the node's */
	ev[2].state = RS_GONE;
	ev[2].python = 1;
	fd_culprit_judge(ev, 4, &v);
	CHECK_EQ_INT(v.culprits[0], 2);
	CHECK_EQ_INT(fd_culprit_machine(ev, 4, &v, "", why, sizeof(why)), 1);
	CHECK_STREQ(why, "rank 2 is gone without its Python shutdown (no done beat: killed by a "
			 "signal, or crashed in native code)");
	ev[2].oom = 1; /* the OOM killer's: the job's memory, not the node */
	CHECK_EQ_INT(fd_culprit_machine(ev, 4, &v, "", why, sizeof(why)), 0);
	ev[2].oom = 0;
	ev[2].python = 0; /* no Python client: nothing says how it ended */
	CHECK_EQ_INT(fd_culprit_machine(ev, 4, &v, "", why, sizeof(why)), 0);
	ev[2].state = RS_RUNNING;
	for (int i = 0; i < 4; i++)
		ev[i].quiet = QUIET_YES; /* all quiet: synchronous; nothing from progress */

	/* nothing tells them apart: unknown, never a guess */
	ev[1].stack = ev[2].stack = SC_COLLECTIVE;
	ev[3].state = RS_RUNNING;
	fd_culprit_judge(ev, 4, &v);
	CHECK_EQ_INT(v.confidence, FC_UNKNOWN);
	CHECK_EQ_INT(v.nculprits, 0);
	CHECK(strstr(v.line, "every rank waits in a collective") != NULL);
	for (int i = 0; i < 4; i++)
		ev[i].state = RS_STOPPED; /* the whole job stopped (a ^Z): no one to blame */
	fd_culprit_judge(ev, 4, &v);
	CHECK_EQ_INT(v.confidence, FC_UNKNOWN);
	fd_culprit_judge(ev, 1, &v);
	CHECK_EQ_INT(v.confidence, FC_UNKNOWN);
	fd_culprit_judge(ev, 0, &v);
	CHECK_EQ_INT(v.confidence, FC_UNKNOWN);
}

/* A flight-recorder dump as torch 2.x writes it: entries per collective, newest last. */
static const char fr_dump[] =
    "{\"version\": \"2.10\", \"pg_config\": {}, \"entries\": ["
    "{\"collective_seq_id\": 16, \"is_p2p\": false, \"pg_id\": 0, "
    "\"profiling_name\": \"gloo:all_reduce\", \"state\": \"completed\"}, "
    "{\"collective_seq_id\": 17, \"is_p2p\": false, \"pg_id\": 0, "
    "\"profiling_name\": \"gloo:all_reduce\", \"state\": \"scheduled\"}, "
    "{\"collective_seq_id\": 0, \"p2p_seq_id\": 3, \"is_p2p\": true, \"pg_id\": 1, "
    "\"profiling_name\": \"gloo:send\"}]}";

static int fr_text(const char *text, struct fd_fr_summary *fr, char *why)
{
	return fd_fr_parse(text, strlen(text), fr, why, 128);
}

static void flight_recorder(void)
{
	struct fd_fr_summary fr;
	struct fd_rank_evidence ev[3] = {
	    {.rank = 0, .pid = 10, .state = RS_RUNNING, .stack = SC_COLLECTIVE},
	    {.rank = 1, .pid = 11, .state = RS_RUNNING, .stack = SC_COLLECTIVE},
	    {.rank = 2, .pid = 12, .state = RS_RUNNING, .stack = SC_COLLECTIVE},
	};
	struct fd_culprit v;
	char why[128];

	CHECK_EQ_INT(fd_fr_parse(fr_dump, strlen(fr_dump), &fr, why, sizeof(why)), 0);
	CHECK_EQ_INT(fr.known, 1);
	CHECK_EQ_INT(fr.npg, 1); /* the point-to-point entry is not a group's collective */
	CHECK_EQ_INT(fr.pg[0].pg, 0);
	CHECK_EQ_INT((int)fr.pg[0].seq, 17);
	CHECK_STREQ(fr.pg[0].op, "gloo:all_reduce");
	/* cut short (the rank died while writing), not JSON, another version, no fields */
	CHECK_EQ_INT(fd_fr_parse(fr_dump, 100, &fr, why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(fr.known, 0);
	CHECK(strstr(why, "not JSON") == why);
	CHECK_EQ_INT(fr_text("[1,2]", &fr, why), -EINVAL);
	CHECK_EQ_INT(fd_fr_parse(NULL, 0, &fr, why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(fr_text("{\"version\":\"3.0\",\"entries\":[]}", &fr, why), -ENOTSUP);
	CHECK_STREQ(why, "version 3.0, not 2.x");
	CHECK_EQ_INT(fr_text("{\"entries\":[]}", &fr, why), -EINVAL);
	CHECK_EQ_INT(fr_text("{\"version\":\"2.1\",\"entries\":[{\"pg_id\":0}]}", &fr, why),
		     -EINVAL);
	CHECK_STREQ(why, "an entry without a pg_id or collective_seq_id");
	CHECK_EQ_INT(fr_text("{\"version\":\"2.1\",\"entries\":[{\"pg_id\":0,"
			     "\"collective_seq_id\":-4}]}",
			     &fr, why),
		     -EINVAL);
	CHECK_EQ_INT(fr_text("{\"version\":\"2.1\",\"entries\":[]}", &fr, why),
		     0); /* no collective yet: known, no group */
	CHECK_EQ_INT(fr.npg, 0);

	/* ranks 0 and 2 wait in collective 17; rank 1's newest is 16: it never entered 17 */
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(fd_fr_parse(fr_dump, strlen(fr_dump), &ev[i].fr, why, sizeof(why)), 0);
		strcpy(ev[i].where,
		       "train.py:104 in main (in distributed_c10d.py:1541 in all_reduce)");
	}
	ev[1].fr.pg[0].seq = 16;
	ev[1].stack = SC_ELSEWHERE;
	strcpy(ev[1].where, "train.py:88 in main");
	fd_culprit_judge(ev, 3, &v);
	CHECK_EQ_INT(v.confidence, FC_CERTAIN);
	CHECK_STREQ(v.evidence, "flight-recorder");
	CHECK_EQ_INT(v.desync, 0);
	CHECK_EQ_INT(v.nculprits, 1);
	CHECK_EQ_INT(v.culprits[0], 1);
	CHECK_EQ_INT(v.nvictims, 2);
	CHECK_STREQ(v.line,
		    "rank 1 (pid 11) at train.py:88 in main never entered collective 17 of "
		    "process group 0 (gloo:all_reduce; its newest: 16); ranks 0,2 wait in it");
	/* the recorder outranks a stopped rank's state: a stopped rank cannot dump, and the
	 * ones that did say who is behind */
	ev[0].state = RS_STOPPED;
	fd_culprit_judge(ev, 3, &v);
	CHECK_STREQ(v.evidence, "flight-recorder");
	CHECK_EQ_INT(v.culprits[0], 1);
	ev[0].state = RS_RUNNING;

	/* a rank without a dump is neither side, and the line says so */
	ev[2].fr.known = 0;
	fd_culprit_judge(ev, 3, &v);
	CHECK_EQ_INT(v.confidence, FC_CERTAIN);
	CHECK_EQ_INT(v.nculprits, 1);
	CHECK_EQ_INT(v.nvictims, 1);
	CHECK(strstr(v.line, "(rank 2: no flight-recorder dump)") != NULL);

	/* the same number, another collective: a desync */
	ev[2].fr = ev[0].fr;
	ev[1].fr.pg[0].seq = 17;
	strcpy(ev[1].fr.pg[0].op, "gloo:broadcast");
	fd_culprit_judge(ev, 3, &v);
	CHECK_EQ_INT(v.confidence, FC_CERTAIN);
	CHECK_EQ_INT(v.desync, 1);
	CHECK_EQ_INT(v.culprits[0], 1);
	CHECK_STREQ(v.line, "desync in process group 0 at collective 17: rank 1 in gloo:broadcast, "
			    "ranks 0,2 in gloo:all_reduce");

	/* two ranks, one each side: the lowest rank's side is the job's, whatever the order */
	{
		struct fd_rank_evidence two[2] = {ev[1], ev[0]};

		fd_culprit_judge(two, 2, &v);
		CHECK_EQ_INT(v.desync, 1);
		CHECK_EQ_INT(v.culprits[0], 1);
		CHECK(strstr(v.line, "rank 0 in gloo:all_reduce (as many ranks on each side") !=
		      NULL);
		two[0].rank = 0, two[1].rank = 1; /* now rank 0 is the broadcasting one */
		fd_culprit_judge(two, 2, &v);
		CHECK_EQ_INT(v.culprits[0], 1);
		CHECK(strstr(v.line, "rank 1 in gloo:all_reduce, rank 0 in gloo:broadcast") !=
		      NULL);
	}

	/* every rank at the same collective: the recorder tells nothing, the stacks do */
	strcpy(ev[1].fr.pg[0].op, "gloo:all_reduce");
	fd_culprit_judge(ev, 3, &v);
	CHECK_EQ_INT(v.confidence, FC_LIKELY);
	CHECK_STREQ(v.evidence, "stacks");
	CHECK_EQ_INT(v.culprits[0], 1);
	/* one dump alone compares with nothing: the old rules */
	ev[1].fr.pg[0].seq = 16;
	ev[0].fr.known = ev[2].fr.known = 0;
	fd_culprit_judge(ev, 3, &v);
	CHECK_STREQ(v.evidence, "stacks");
	/* a certain verdict with an Xid on this node still names the node to drain */
	ev[0].fr = ev[2].fr = ev[1].fr;
	ev[0].fr.pg[0].seq = ev[2].fr.pg[0].seq = 17;
	fd_culprit_judge(ev, 3, &v);
	CHECK_EQ_INT(
	    fd_culprit_machine(ev, 3, &v, "Xid 48 on 0000:3b:00, 1.0 s ago", why, sizeof(why)), 1);
}

const struct unit_test supervisor_tests[] = {
    {"supervisor: the culprit of a stall", culprit_verdicts},
    {"supervisor: the flight recorder's verdict", flight_recorder},
    {"supervisor: rank deadlines", ranks_deadlines},
    {"supervisor: which rank is stalled", ranks_stalls},
    {"supervisor: faulthandler dumps", stack_dumps},
    {"supervisor: a step back, done, gone", ranks_lifecycle},
    {"supervisor: past the last step, the teardown timeout", ranks_teardown},
    {"supervisor: the stack signal is checked", stack_signal_checked},
    {NULL, NULL},
};
