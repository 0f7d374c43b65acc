/*
 * test_round.c - the end of a round of the allreduce across nodes (launcher/job/round.c) and
 * the bw.world check reading node 0's finding from the job's facts (checks/bw.c), both pure;
 * and the exit-status table (launcher/core/exits.c).
 */
#include "testhelp.h"
#include "bw.h"
#include "check.h"
#include "config.h"
#include "exits.h"
#include "round.h"

#include <string.h>

/* A set of n nodes (node numbers from), each reported with outcome and busbw. */
struct fixture {
	int nodes[4];
	struct fd_world_msg res[4];
	unsigned char got[4];
	struct fd_round_set set;
};

static void fixture(struct fixture *x, int n, int from)
{
	memset(x, 0, sizeof(*x));
	for (int k = 0; k < n; k++) {
		x->nodes[k] = from + k;
		x->res[k] = (struct fd_world_msg){.kind = FW_RESULT,
						  .outcome = FWO_RAN,
						  .ok = 1,
						  .nranks = 8 * n,
						  .nodes = n,
						  .bytes = 1e9,
						  .busbw = 100 + k,
						  .algbw = 60 + k};
		x->got[k] = 1;
	}
	x->set = (struct fd_round_set){
	    .id = 1, .nodes = x->nodes, .n = n, .res = x->res, .got = x->got, .ngot = n};
}

static void fault_names_first_failed_node(void)
{
	struct fixture a, b;
	struct fd_round_set sets[2];
	int si = -1, k = -1;

	fixture(&a, 3, 0);
	fixture(&b, 3, 3);
	sets[0] = a.set;
	sets[1] = b.set;
	CHECK_EQ_INT(fd_round_fault(sets, 2, &si, &k), FD_ROUND_CLEAN);
	CHECK_EQ_INT(si, -1);
	/* no GPU on node 1, a hang on node 4: the hang is the node's fault, named over the skip */
	a.res[1].outcome = FWO_NO_GPU;
	b.res[1].outcome = FWO_HUNG;
	CHECK_EQ_INT(fd_round_fault(sets, 2, &si, &k), FD_ROUND_FAILED);
	CHECK_EQ_INT(si, 1);
	CHECK_EQ_INT(k, 1);
	/* a result not yet in does not count */
	b.got[1] = 0;
	CHECK_EQ_INT(fd_round_fault(sets, 2, &si, &k), FD_ROUND_NO_GPU);
	CHECK_EQ_INT(si, 0);
	CHECK_EQ_INT(k, 1);
	/* aborted and timed out are no node's fault */
	a.res[1].outcome = FWO_ABORTED;
	b.res[0].outcome = FWO_TIMEOUT;
	CHECK_EQ_INT(fd_round_fault(sets, 2, &si, &k), FD_ROUND_CLEAN);
	CHECK(fd_round_node_problem(FWO_NO_ID) && fd_round_node_problem(FWO_FAILED));
	CHECK(!fd_round_node_problem(FWO_RAN));
}

static void sum_takes_the_slowest_rank(void)
{
	struct fd_config cfg;
	struct fixture x;
	struct fd_round_sum s;

	fd_config_init(&cfg);
	cfg.expect_world_busbw = 90;
	fixture(&x, 4, 0);
	x.res[2].busbw = 95;
	x.res[2].algbw = 55;
	fd_round_sum(&x.set, &cfg, &s);
	CHECK(s.busbw == 95 && s.algbw == 55);
	CHECK(s.ok && s.all_ran && s.pass);
	CHECK_EQ_INT(s.nranks, 32);
	CHECK_EQ_INT(s.nodes, 4);
	CHECK(s.bytes == 1e9);
	/* below the floor */
	x.res[3].busbw = 80;
	fd_round_sum(&x.set, &cfg, &s);
	CHECK(s.busbw == 80 && !s.pass);
	/* wrong sums on one rank: never a pass, whatever the speed */
	x.res[3].busbw = 200;
	x.res[1].ok = 0;
	fd_round_sum(&x.set, &cfg, &s);
	CHECK(!s.ok && !s.pass);
	/* a rank that did not run counts as 0 GB/s and the set as not all ran */
	x.res[1].ok = 1;
	x.got[0] = 0;
	fd_round_sum(&x.set, &cfg, &s);
	CHECK(s.busbw == 0 && !s.all_ran && !s.pass);
	/* no floor: a set that ran and verified passes */
	cfg.expect_world_busbw = 0;
	cfg.expect_busbw = 0;
	x.got[0] = 1;
	fd_round_sum(&x.set, &cfg, &s);
	CHECK(s.pass);
}

static void world_check_reads_the_job(void)
{
	struct fd_config cfg;
	struct fd_job_facts job = {.have_world = 1,
				   .world = {.status = FD_FAIL,
					     .code = "BW_WORLD_LOW",
					     .subject = "node 2 (n2)",
					     .value = "80.0 GB/s",
					     .expected = ">= 90 GB/s",
					     .text = "named"}};
	struct fd_probe_ctx ctx = {.cfg = &cfg};
	struct fd_check_sel sel = {.level = FD_LEVEL_STANDARD};
	struct fd_report rep = {0};

	fd_config_init(&cfg);
	sel.areas[FD_AREA_BW] = 1;
	CHECK(fd_checks_want_job(&sel, "bw.world"));
	CHECK(!fd_checks_want_job(&sel, "ib.pairs")); /* area ib is not selected */
	sel.areas[FD_AREA_IB] = 1;
	CHECK(fd_checks_want_job(&sel, "ib.pairs"));
	sel.areas[FD_AREA_IB] = 0;
	sel.level = FD_LEVEL_QUICK;
	CHECK(!fd_checks_want_job(&sel, "bw.world"));
	sel.level = FD_LEVEL_STANDARD;
	/* no job: the row says nothing */
	CHECK_EQ_INT(fd_checks_run(&ctx, &sel, 1, &rep), 0);
	CHECK_EQ_INT((int)rep.n, 0);
	ctx.job = &job;
	CHECK_EQ_INT(fd_checks_run(&ctx, &sel, 1, &rep), 0);
	CHECK_EQ_INT((int)rep.n, 1);
	CHECK(rep.v[0].code && !strcmp(rep.v[0].code, "BW_WORLD_LOW"));
	CHECK(!strcmp(rep.v[0].subject, "node 2 (n2)"));
	CHECK_EQ_INT(rep.v[0].status, FD_FAIL);
	fd_report_free(&rep);
	/* a code this check never gives is not taken from the wire */
	memset(&rep, 0, sizeof(rep));
	fd_strlcpy(job.world.code, "GPU_XID_FATAL", sizeof(job.world.code));
	CHECK_EQ_INT(fd_checks_run(&ctx, &sel, 1, &rep), 0);
	CHECK(rep.n == 1 && !rep.v[0].code);
	fd_report_free(&rep);
	fd_probe_ctx_release(&ctx);
}

static void exit_table(void)
{
	const struct fd_exit *e = fd_exit_find("run", 75);

	CHECK(e && strstr(e->meaning, "lost"));
	CHECK(fd_exit_find("run", 143) && fd_exit_find("run", 143)->code == FD_EXIT_SIGNAL_BASE);
	CHECK(!fd_exit_find("run", 5));
	CHECK(!strcmp(fd_exit_name("run", 5), "the command's own exit status"));
	CHECK(!strcmp(fd_exit_name("check", 1), "unfit"));
	/* no command gives one code two rows */
	for (size_t i = 0; i < fd_exit_count(); i++)
		for (size_t j = i + 1; j < fd_exit_count(); j++)
			CHECK(fd_exit_at(i)->code != fd_exit_at(j)->code ||
			      strcmp(fd_exit_at(i)->cmd, fd_exit_at(j)->cmd));
}

const struct unit_test round_tests[] = {
    {"round: the first failed node ends the phase, over a node without a GPU",
     fault_names_first_failed_node},
    {"round: a set's busbw is its slowest rank's; wrong sums or a missing rank never pass",
     sum_takes_the_slowest_rank},
    {"bw.world: a check of the job's facts; only its own codes are taken from node 0",
     world_check_reads_the_job},
    {"exits: one table, 128+N as one row, no code with two meanings", exit_table},
    {NULL, NULL},
};
