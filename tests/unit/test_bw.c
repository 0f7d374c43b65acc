/* test_bw.c - the bandwidth arithmetic, gpubench's document, the expectation table, the judge. */
#include "bw.h"
#include "testhelp.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>

static void arithmetic(void)
{
	/* nccl-tests: busbw = algbw * 2(n-1)/n */
	CHECK(fabs(bw_busbw(100.0, 8) - 175.0) < 1e-9);
	CHECK(fabs(bw_busbw(100.0, 2) - 100.0) < 1e-9);
	CHECK(bw_busbw(100.0, 1) == 0.0);
	CHECK(bw_busbw(100.0, 0) == 0.0);
	CHECK(bw_expect_for("NVIDIA H100 PCIe")->hbm_min <
	      bw_expect_for("NVIDIA H100 80GB HBM3")->hbm_min);
	CHECK(bw_expect_for("NVIDIA H200")->hbm_min >
	      bw_expect_for("NVIDIA H100 80GB HBM3")->hbm_min);
	CHECK(bw_expect_for("NVIDIA A100-SXM4-80GB")->busbw8_min == 228);
	CHECK(bw_expect_for("NVIDIA GeForce RTX 4090") == NULL);
}

static void parse(void)
{
	struct bw_facts *f = calloc(1, sizeof(*f));
	const char *doc =
	    "{\"version\": 1, \"gpus\": [{\"index\": 0, \"name\": \"NVIDIA H200\","
	    " \"bus_id\": \"00000000:18:00.0\", \"hbm_gbps\": 4100.5, \"hbm_ok\": true}],"
	    " \"p2p\": {\"ran\": false, \"reason\": \"no peer access\"},"
	    " \"nccl\": {\"ran\": true, \"ngpus\": 1, \"results\": [{\"bytes\": 1e9,"
	    " \"algbw\": 10, \"busbw\": 0, \"ok\": true}]}}";
	CHECK(bw_parse(doc, f) == 0);
	CHECK_EQ_INT(f->n_gpus, 1);
	CHECK_STREQ(f->gpus[0].name, "NVIDIA H200");
	CHECK(f->gpus[0].hbm_gbps == 4100.5 && f->gpus[0].hbm_ok);
	CHECK(f->gpus[0].h2d_gbps < 0); /* absent: not measured */
	CHECK(f->nccl.ran && f->nccl.n_results == 1 && f->nccl.results[0].ok && !f->p2p.ran &&
	      !strcmp(f->p2p.reason, "no peer access"));
	/* gpubench --mpi's document (checks/bw.h): its world fields are not read yet */
	memset(f, 0, sizeof(*f));
	CHECK(bw_parse("{\"version\": 1, \"gpus\": [], \"p2p\": {\"ran\": false, \"ngpus\": 0,"
		       " \"reason\": \"--mpi measures only NCCL's allreduce across the job\","
		       " \"results\": []}, \"nccl\": {\"ran\": true, \"scope\": \"world\","
		       " \"ngpus\": 16, \"nranks\": 16, \"nodes\": 2, \"reason\": \"\","
		       " \"results\": [{\"bytes\": 8388608, \"time_us\": 120.5, \"algbw\": 69.6,"
		       " \"busbw\": 130.5, \"ok\": true}]}}",
		       f) == 0);
	CHECK(f->n_gpus == 0 && !f->p2p.ran && f->nccl.ran && f->nccl.ngpus == 16 &&
	      f->nccl.n_results == 1 && f->nccl.results[0].busbw == 130.5);
	memset(f, 0, sizeof(*f));
	CHECK(bw_parse("not json", f) == -EINVAL && strstr(f->why, "not a gpubench"));
	CHECK(bw_parse("{\"version\": 2, \"gpus\": []}", f) == -EINVAL);
	CHECK(bw_parse("{\"version\": 1}", f) == -EINVAL);
	CHECK(bw_parse("[1,2]", f) == -EINVAL);
	free(f);
}

/* Numbers out of range in gpubench's document: rejected, named. */
static void parse_ranges(void)
{
	struct bw_facts *f = calloc(1, sizeof(*f));
	const char *bad[][2] = {
	    {"{\"version\": 1, \"gpus\": [{\"index\": 3e9}]}", "index"},
	    {"{\"version\": 1, \"gpus\": [{\"index\": -1}]}", "index"},
	    {"{\"version\": 1, \"gpus\": [{\"index\": 0.5}]}", "index"},
	    {"{\"version\": 1, \"gpus\": [], \"nccl\": {\"ngpus\": 1e10}}", "ngpus"},
	    {"{\"version\": 1, \"gpus\": [], \"p2p\": {\"ngpus\": -3}}", "ngpus"},
	    {"{\"version\": 1, \"gpus\": [{\"hbm_gbps\": 1e999}]}", "hbm_gbps"},
	    {"{\"version\": 1, \"gpus\": [], \"nccl\": {\"results\": [{\"busbw\": -1e999}]}}",
	     "busbw"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(f, 0, sizeof(*f));
		int rc = bw_parse(bad[i][0], f);
		if (rc != -EINVAL || !strstr(f->why, bad[i][1]))
			printf("    %s: rc %d, why '%s'\n", bad[i][0], rc, f->why);
		CHECK_EQ_INT(rc, -EINVAL);
		CHECK(strstr(f->why, bad[i][1]) != NULL);
	}
	memset(f, 0, sizeof(*f));
	CHECK_EQ_INT(bw_parse("{\"version\": 1, \"gpus\": [{\"index\": 7, \"hbm_gbps\": -1}],"
			      " \"nccl\": {\"ngpus\": 8}}",
			      f),
		     0);
	CHECK(f->gpus[0].index == 7 && f->nccl.ngpus == 8);
	free(f);
}

static void judge(void)
{
	struct bw_facts *f = calloc(1, sizeof(*f));
	struct fd_config cfg;
	struct fd_report rep = {0};
	fd_config_init(&cfg);
	f->pci_gpus = 8;
	f->n_gpus = 8;
	for (int i = 0; i < 8; i++) {
		strcpy(f->gpus[i].name, "NVIDIA H100 80GB HBM3");
		snprintf(f->gpus[i].bus_id, sizeof(f->gpus[i].bus_id), "gpu%d", i);
		f->gpus[i].hbm_gbps = 2900;
		f->gpus[i].hbm_ok = 1;
	}
	f->nccl.ran = 1;
	f->nccl.ngpus = 8;
	f->nccl.n_results = 2;
	f->nccl.results[0] = (struct bw_result){1e9, 5000, 200, 350, 1};
	f->nccl.results[1] = (struct bw_result){1e6, 50, 20, 35, 1}; /* small: not the one judged */
	bw_judge(f, &cfg, &rep);
	CHECK(fd_report_verdict(&rep) == FD_PASS);
	CHECK_EQ_INT(count_status(&rep, "bw.hbm", FD_PASS), 8);
	CHECK(find_check(&rep, "bw.nccl", FD_PASS) &&
	      !strcmp(find_check(&rep, "bw.nccl", FD_PASS)->value, "350.0 GB/s"));
	fd_report_free(&rep);

	f->gpus[2].hbm_gbps = 2000;
	f->gpus[3].hbm_ok = 0;
	f->nccl.results[0].busbw = 300;
	bw_judge(f, &cfg, &rep);
	CHECK(find_code(&rep, "HBM_BW_LOW") &&
	      !strcmp(find_code(&rep, "HBM_BW_LOW")->subject, "gpu2"));
	CHECK(find_code(&rep, "GPU_BENCH_WRONG") != NULL);
	CHECK(find_code(&rep, "ALLREDUCE_BW_LOW") != NULL);
	fd_report_free(&rep);

	f->nccl.ngpus = 4; /* the table is for 8 GPUs: 4 are reported, not judged */
	bw_judge(f, &cfg, &rep);
	CHECK(find_code(&rep, "ALLREDUCE_BW_LOW") == NULL);
	fd_report_free(&rep);
	cfg.expect_busbw = 400;
	bw_judge(f, &cfg, &rep);
	CHECK(find_code(&rep, "ALLREDUCE_BW_LOW") != NULL);
	fd_report_free(&rep);

	f->nccl.results[1].ok = 0;
	bw_judge(f, &cfg, &rep);
	CHECK(find_code(&rep, "ALLREDUCE_WRONG") != NULL);
	fd_report_free(&rep);

	/* the custom allreduce: its floor is half the model's NCCL floor, or the flag */
	f->nccl.results[1].ok = 1;
	f->p2p.ran = 1;
	f->p2p.ngpus = 8;
	f->p2p.n_results = 1;
	f->p2p.results[0] = (struct bw_result){2.68e8, 3000, 89.5, 10.0, 1};
	bw_judge(f, &cfg, &rep);
	CHECK(find_check(&rep, "bw.p2p", FD_FAIL) &&
	      !strcmp(find_check(&rep, "bw.p2p", FD_FAIL)->value, "10.0 GB/s") &&
	      !strcmp(find_check(&rep, "bw.p2p", FD_FAIL)->code, "ALLREDUCE_BW_LOW"));
	fd_report_free(&rep);
	f->p2p.results[0].busbw = 300;
	bw_judge(f, &cfg, &rep);
	CHECK(find_check(&rep, "bw.p2p", FD_PASS) != NULL);
	fd_report_free(&rep);
	cfg.expect_p2p_busbw = 350;
	bw_judge(f, &cfg, &rep);
	CHECK(find_check(&rep, "bw.p2p", FD_FAIL) != NULL);
	fd_report_free(&rep);
	cfg.expect_p2p_busbw = 0;
	f->p2p.results[0].ok = 0;
	bw_judge(f, &cfg, &rep);
	CHECK(find_check(&rep, "bw.p2p", FD_FAIL) &&
	      !strcmp(find_check(&rep, "bw.p2p", FD_FAIL)->code, "ALLREDUCE_WRONG"));
	fd_report_free(&rep);

	f->state = BW_FAILED;
	strcpy(f->why, "x did not finish within 1000 ms: killed");
	bw_judge(f, &cfg, &rep);
	CHECK(rep.n == 1 && find_code(&rep, "GPU_BENCH_FAILED"));
	fd_report_free(&rep);
	f->state = BW_NOT_BUILT;
	bw_judge(f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
	free(f);
}

static void child(void)
{
	char *out = NULL, why[256];
	char *ok[] = {"/bin/sh", "-c", "echo hello", NULL};
	CHECK(bw_run_child(ok, 5000, &out, why, sizeof(why)) == 0);
	CHECK(out && !strcmp(out, "hello\n"));
	free(out);
	char *hang[] = {"/bin/sh", "-c", "sleep 30", NULL};
	CHECK(bw_run_child(hang, 300, &out, why, sizeof(why)) == -ETIMEDOUT);
	CHECK(strstr(why, "300 ms") != NULL);
	char *bad[] = {"/bin/sh", "-c", "exit 4", NULL};
	CHECK(bw_run_child(bad, 5000, &out, why, sizeof(why)) == -ECHILD &&
	      strstr(why, "status 4"));
	char *none[] = {"/nonexistent/gpubench", NULL};
	CHECK(bw_run_child(none, 5000, &out, why, sizeof(why)) == -ECHILD &&
	      strstr(why, "could not be executed"));
}

/* A world document (--mpi's rank 0, or --world's every process): scope, ranks, nodes read. */
static void parse_world(void)
{
	static struct bw_facts f;
	const struct bw_result *best;
	int ok;
	const char *doc =
	    "{\"version\": 1, \"gpus\": [], \"p2p\": {\"ran\": false, \"ngpus\": 0, "
	    "\"reason\": \"world\", \"results\": []}, \"nccl\": {\"ran\": true, \"scope\": "
	    "\"world\", \"rank\": 3, \"ngpus\": 32, \"nranks\": 32, \"nodes\": 4, \"reason\": "
	    "\"\", \"results\": [{\"bytes\": 8388608, \"time_us\": 100, \"algbw\": 80, "
	    "\"busbw\": 155, \"ok\": true}, {\"bytes\": 1073741824, \"time_us\": 9000, "
	    "\"algbw\": 119.3, \"busbw\": 231.1, \"ok\": true}]}}";

	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(bw_parse(doc, &f), 0);
	CHECK(f.nccl.world);
	CHECK_EQ_INT(f.nccl.nranks, 32);
	CHECK_EQ_INT(f.nccl.nodes, 4);
	best = bw_largest(&f.nccl, &ok);
	CHECK(best && best->bytes == 1073741824 && best->busbw == 231.1);
	CHECK(ok);
	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(bw_parse("{\"version\": 1, \"gpus\": [], \"nccl\": {\"ran\": true, "
			      "\"scope\": \"world\", \"nranks\": -2, \"results\": []}}",
			      &f),
		     -EINVAL);
	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(bw_parse("{\"version\": 1, \"gpus\": [], \"nccl\": {\"ran\": true, "
			      "\"ngpus\": 8, \"results\": []}}",
			      &f),
		     0);
	CHECK(!f.nccl.world); /* no scope: this node's own sweep */
}

/* bw.world's judge: pure, from what the group found. */
static void judge_world(void)
{
	struct fd_config cfg;
	struct fd_report rep = {0};
	struct bw_world_facts f = {.state = BWW_RAN,
				   .outcome = BWW_PASS,
				   .nnodes = 4,
				   .nranks = 32,
				   .nodes = 4,
				   .bytes = 1073741824,
				   .busbw = 200,
				   .algbw = 114,
				   .ok = 1,
				   .culprit = {-1, -1}};
	const struct fd_finding *x;

	fd_config_init(&cfg);
	f.state = BWW_NOT_JOB; /* a plain check: nothing */
	bw_world_judge(&f, &cfg, &rep);
	CHECK_EQ_INT(rep.n, 0);
	f.state = BWW_RAN;
	bw_world_judge(&f, &cfg, &rep); /* no floor: reported, a pass */
	CHECK((x = find_check(&rep, "bw.world", FD_PASS)) && !strcmp(x->expected, "-"));
	fd_report_free(&rep);
	memset(&rep, 0, sizeof(rep));
	cfg.expect_busbw = 100; /* --expect-world-busbw falls back to it */
	CHECK(bw_world_floor(&cfg) == 100);
	CHECK(bw_world_passes(&cfg, 150, 1) && !bw_world_passes(&cfg, 99, 1) &&
	      !bw_world_passes(&cfg, 150, 0));
	cfg.expect_world_busbw = 180;
	CHECK(!bw_world_passes(&cfg, 150, 1));
	f.outcome = BWW_CULPRIT;
	f.busbw = 10;
	f.culprit[0] = 2;
	f.culprit_busbw = 10;
	f.rounds = 3;
	strcpy(f.host[0], "gpu07");
	bw_world_judge(&f, &cfg, &rep);
	x = find_code(&rep, "BW_WORLD_LOW");
	CHECK(x && x->status == FD_FAIL);
	CHECK(x && !strcmp(x->subject, "node 2 (gpu07)") && !strcmp(x->expected, ">= 180 GB/s"));
	CHECK(x && strstr(x->message, "slowest is node 2 (gpu07)"));
	fd_report_free(&rep);
	memset(&rep, 0, sizeof(rep));
	f.outcome = BWW_NONE; /* nobody to drain: a warning */
	bw_world_judge(&f, &cfg, &rep);
	CHECK(find_check(&rep, "bw.world", FD_WARN));
	fd_report_free(&rep);
	memset(&rep, 0, sizeof(rep));
	f.ok = 0; /* wrong sums across the job */
	f.outcome = BWW_CULPRIT;
	bw_world_judge(&f, &cfg, &rep);
	CHECK(find_code(&rep, "ALLREDUCE_WRONG"));
	fd_report_free(&rep);
	memset(&rep, 0, sizeof(rep));
	f.state = BWW_NODE_FAILED;
	strcpy(f.why, "node 2 (gpu07), rank 0 of 4: rank 0 printed no NCCL id within 3000 ms");
	bw_world_judge(&f, &cfg, &rep);
	x = find_code(&rep, "BW_WORLD_FAILED");
	CHECK(x && !strcmp(x->subject, "node 2 (gpu07)"));
	fd_report_free(&rep);
	memset(&rep, 0, sizeof(rep));
	f.state = BWW_SKIP;
	strcpy(f.why, "node 1 (gpu03): no GPU");
	bw_world_judge(&f, &cfg, &rep);
	CHECK(find_check(&rep, "bw.world", FD_SKIP));
	CHECK_EQ_INT(count_status(&rep, "bw.world", FD_PASS), 0);
	fd_report_free(&rep);
}

const struct unit_test bw_tests[] = {
    {"bw: busbw formula and the expectation table", arithmetic},
    {"bw: gpubench document", parse},
    {"bw: judge", judge},
    {"bw: the supervised child", child},
    {"bw: numbers out of range in gpubench's document", parse_ranges},
    {"bw: a world document: scope, ranks, nodes", parse_world},
    {"bw.world: the judge of what the group found", judge_world},
    {NULL, NULL},
};
