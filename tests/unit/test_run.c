/*
 * test_run.c - the supervisor's pure parts: the heartbeat datagram, the progress regex, the
 * checkpoint finder, {resume} and the group decision.
 */
#define _GNU_SOURCE
#include "testhelp.h"
#include "checkpoint.h"
#include "group.h"
#include "heartbeat.h"
#include "proctree.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PARSE(s, b) fd_beat_parse(s, strlen(s), b)

static void datagram(void)
{
	struct fd_beat b;

	CHECK_EQ_INT(PARSE("rank=3 step=1200", &b), 0);
	CHECK_EQ_INT(b.rank, 3);
	CHECK_EQ_INT(b.step, 1200);
	CHECK_EQ_INT(b.phase, FD_PHASE_NONE);
	CHECK_EQ_INT(PARSE("step=7 rank=0 phase=checkpoint stacks=1\n", &b), 0);
	CHECK_EQ_INT(b.step, 7);
	CHECK_EQ_INT(b.phase, FD_PHASE_CHECKPOINT);
	CHECK_EQ_INT(b.stacks, 1);
	CHECK_EQ_INT(PARSE("rank=1", &b), 0);
	CHECK_EQ_INT(b.step, -1);
	CHECK_EQ_INT(b.total, -1);
	/* total=N: the job's steps, additive (an older supervisor skips it as unknown) */
	CHECK_EQ_INT(PARSE("rank=2 step=59 total=60", &b), 0);
	CHECK_EQ_INT(b.step, 59);
	CHECK_EQ_INT(b.total, 60);
	CHECK_EQ_INT(PARSE("total=1 rank=0", &b), 0);
	CHECK_EQ_INT(b.total, 1);
	CHECK_EQ_INT(b.step, -1);
	CHECK_EQ_INT(PARSE("rank=1 step=3 total=0", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 step=3 total=", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 step=3 total=-5", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 step=3 total=6x", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 total=9999999999999999999", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 total=999999999999999999", &b), 0);
	CHECK_EQ_INT(b.total, 999999999999999999LL);
	CHECK_EQ_INT(PARSE("rank=1 phase=train future=field", &b), 0);
	CHECK_EQ_INT(b.phase, FD_PHASE_TRAIN);
	/* malformed: counted and ignored by the caller */
	CHECK_EQ_INT(PARSE("step=5", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=x", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 step=-3", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 step=", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 phase=lunch", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 garbage", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=99999999999999999999", &b), -EINVAL);
	CHECK_EQ_INT(PARSE("", &b), -EINVAL);
	CHECK_EQ_INT(fd_beat_parse("rank=1\0 step=2", 13, &b), -EINVAL);
	CHECK_EQ_INT(PARSE("rank=1 \x01", &b), -EINVAL);
}

static void progress_regex(void)
{
	struct fd_progress re;
	char err[128];
	int64_t step;

	CHECK_EQ_INT(fd_progress_compile(&re, "step (\\d+)", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "epoch 1 step 1200 loss 0.3", &step, NULL, NULL), 1);
	CHECK_EQ_INT(step, 1200);
	CHECK_EQ_INT(fd_progress_match(&re, "loading shards", &step, NULL, NULL), 0);
	fd_progress_free(&re);
	CHECK_EQ_INT(fd_progress_compile(&re, "^it\\s+\\w+", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "it   done", &step, NULL, NULL), 1);
	CHECK_EQ_INT(step, -1); /* no group: a beat without a step */
	fd_progress_free(&re);
	CHECK_EQ_INT(fd_progress_compile(&re, "step (", err, sizeof(err)), -EINVAL);
	CHECK(err[0] != '\0');
}

/* Named groups: (?<rank>...) says whose line it is; the step is named or the other group. */
static void progress_regex_rank(void)
{
	struct fd_progress re;
	char err[256];
	int64_t step;
	int rank;

	CHECK_EQ_INT(
	    fd_progress_compile(&re, "rank (?<rank>\\d+) step (?<step>\\d+)", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "rank 3 step 120", &step, &rank, NULL), 1);
	CHECK_EQ_INT(rank, 3);
	CHECK_EQ_INT(step, 120);
	fd_progress_free(&re);
	/* the rank named, the step the other group; mpirun --tag-output's prefix */
	CHECK_EQ_INT(fd_progress_compile(&re, "^\\[1,(?<rank>\\d+)\\]<stdout>:.*step (\\d+)", err,
					 sizeof(err)),
		     0);
	CHECK_EQ_INT(fd_progress_match(&re, "[1,2]<stdout>: step 7 loss 1.0", &step, &rank, NULL),
		     1);
	CHECK_EQ_INT(rank, 2);
	CHECK_EQ_INT(step, 7);
	/* no number where the rank should be (99999999999 is past 2^24): -2 */
	CHECK_EQ_INT(fd_progress_match(&re, "[1,99999999999]<stdout>: step 7", &step, &rank, NULL),
		     1);
	CHECK_EQ_INT(rank, -2);
	fd_progress_free(&re);
	/* no names: group 1 is the step, a second group no rank (it is often a total) */
	CHECK_EQ_INT(fd_progress_compile(&re, "step (\\d+)/(\\d+)", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "step 10/1000", &step, &rank, NULL), 1);
	CHECK_EQ_INT(step, 10);
	CHECK_EQ_INT(rank, -1);
	fd_progress_free(&re);
	/* the step named after an unnamed group */
	CHECK_EQ_INT(fd_progress_compile(&re, "(epoch|ep) \\d+ it (?<step>\\d+)", err, sizeof(err)),
		     0);
	CHECK_EQ_INT(fd_progress_match(&re, "epoch 2 it 55", &step, NULL, NULL), 1);
	CHECK_EQ_INT(step, 55);
	fd_progress_free(&re);
	/* refused, each with a line naming why */
	const char *bad[] = {"(?<node>\\d+)",
			     "(?<rank>\\d+) (?<rank>\\d+)",
			     "(?<total>\\d+)/(?<total>\\d+)",
			     "(?:x)",
			     "(?<rank",
			     "(?=x)",
			     NULL};
	for (int i = 0; bad[i]; i++) {
		err[0] = '\0';
		CHECK_EQ_INT(fd_progress_compile(&re, bad[i], err, sizeof(err)), -EINVAL);
		CHECK(err[0] != '\0' && !strchr(err, '\n'));
	}
}

/* (?<total>...): the job's steps, from "step 60/60" or tqdm's "60/60 [00:12<00:00, ...]". */
static void progress_regex_total(void)
{
	struct fd_progress re;
	char err[256];
	int64_t step, total;
	int rank;

	CHECK_EQ_INT(fd_progress_compile(&re, "step (\\d+)/(?<total>\\d+)", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "step 60/60 loss 0.1", &step, &rank, &total), 1);
	CHECK_EQ_INT(step, 60);
	CHECK_EQ_INT(total, 60);
	CHECK_EQ_INT(rank, -1);
	CHECK_EQ_INT(fd_progress_match(&re, "step 7/60", &step, NULL, NULL), 1); /* not asked */
	CHECK_EQ_INT(step, 7);
	fd_progress_free(&re);
	/* the total named first: the step is still the unnamed group */
	CHECK_EQ_INT(fd_progress_compile(&re, "of (?<total>\\d+): (\\d+)", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "of 500: 42", &step, NULL, &total), 1);
	CHECK_EQ_INT(step, 42);
	CHECK_EQ_INT(total, 500);
	fd_progress_free(&re);
	/* tqdm, every group named, a rank too */
	CHECK_EQ_INT(
	    fd_progress_compile(&re, "^\\[rank(?<rank>\\d+)\\].* (?<step>\\d+)/(?<total>\\d+) \\[",
				err, sizeof(err)),
	    0);
	CHECK_EQ_INT(fd_progress_match(&re,
				       "[rank1]: 100%|##########| 60/60 [00:03<00:00, 19.9it/s]",
				       &step, &rank, &total),
		     1);
	CHECK_EQ_INT(rank, 1);
	CHECK_EQ_INT(step, 60);
	CHECK_EQ_INT(total, 60);
	fd_progress_free(&re);
	/* a total group that holds no number, or 0, is no total; the step still counts */
	CHECK_EQ_INT(fd_progress_compile(&re, "step (\\d+)/(?<total>\\w+)", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "step 5/many", &step, NULL, &total), 1);
	CHECK_EQ_INT(step, 5);
	CHECK_EQ_INT(total, -1);
	CHECK_EQ_INT(fd_progress_match(&re, "step 5/0", &step, NULL, &total), 1);
	CHECK_EQ_INT(total, -1);
	fd_progress_free(&re);
	/* without the group: no total */
	CHECK_EQ_INT(fd_progress_compile(&re, "step (\\d+)/(\\d+)", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "step 60/60", &step, NULL, &total), 1);
	CHECK_EQ_INT(total, -1);
	fd_progress_free(&re);
	/* the refusal names the known groups */
	CHECK_EQ_INT(fd_progress_compile(&re, "(?<totl>\\d+)", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "(?<total>...)") != NULL);
}

/* \d and friends next to escaped backslashes and inside brackets. */
static void progress_regex_classes(void)
{
	struct fd_progress re;
	char err[256];
	int64_t step;

	/* an escaped backslash, then a literal d */
	CHECK_EQ_INT(fd_progress_compile(&re, "a\\\\d", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "a\\d", &step, NULL, NULL), 1);
	CHECK_EQ_INT(fd_progress_match(&re, "a\\7", &step, NULL, NULL), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "a7", &step, NULL, NULL), 0);
	fd_progress_free(&re);
	CHECK_EQ_INT(fd_progress_compile(&re, "a\\\\\\d", err, sizeof(err)), 0); /* \\ then \d */
	CHECK_EQ_INT(fd_progress_match(&re, "a\\7", &step, NULL, NULL), 1);
	fd_progress_free(&re);
	/* classes in a bracket expression */
	CHECK_EQ_INT(fd_progress_compile(&re, "step=([\\d]+)", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "step=42", &step, NULL, NULL), 1);
	CHECK_EQ_INT(step, 42);
	CHECK_EQ_INT(fd_progress_match(&re, "step=d", &step, NULL, NULL), 0);
	fd_progress_free(&re);
	CHECK_EQ_INT(fd_progress_compile(&re, "^[\\w\\s]+:([^\\s]+)$", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "it er_1 \t:77", &step, NULL, NULL), 1);
	CHECK_EQ_INT(step, 77);
	CHECK_EQ_INT(fd_progress_match(&re, "it-er:77", &step, NULL, NULL), 0);
	fd_progress_free(&re);
	/* a POSIX class and a literal ] first in a bracket are kept as they are */
	CHECK_EQ_INT(fd_progress_compile(&re, "[]x[:digit:]]+$", err, sizeof(err)), 0);
	CHECK_EQ_INT(fd_progress_match(&re, "a]x9", &step, NULL, NULL), 1);
	fd_progress_free(&re);
}

/* Patterns that make regcomp take seconds and hundreds of MB are refused, with a reason. */
static void progress_regex_bounds(void)
{
	struct fd_progress re;
	char err[256], big[600];
	const char *nested[] = {"(a+)+", "(a*)*", "(.*){9}", "x(a|b+)*y", "((ab)*c)+", "(\\d+)+$",
				"a{1000}{1000}", "a**", "(a?){30}", "(a*)\\1", "((a){9}){9}",
				"(.|..){200}(.|..){200}",
				/* a bound past the limit by its digits (the fuzzer's 2.3 GB) */
				"H{95}~{0,9595}t~{0,9595}", "a{9999}", NULL};

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(fd_progress_compile(&re, big, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "512") != NULL);
	CHECK(strchr(err, '\n') == NULL);
	for (int i = 0; nested[i]; i++) {
		err[0] = '\0';
		int rc = fd_progress_compile(&re, nested[i], err, sizeof(err));
		if (rc != -EINVAL)
			printf("    '%s' was accepted\n", nested[i]);
		CHECK_EQ_INT(rc, -EINVAL);
		if (!rc)
			fd_progress_free(&re);
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	}
	/* quantified groups without a quantifier inside, and quantifiers in brackets, are fine */
	const char *fine[] = {"(ab)+",	  "step ([0-9]+)", "(\\d)+x",	"[+*]+",
			      "(a|b){2}", "a+b*c?",	   "\\(a+\\)+", NULL};
	for (int i = 0; fine[i]; i++) {
		int rc = fd_progress_compile(&re, fine[i], err, sizeof(err));
		if (rc)
			printf("    '%s' was refused: %s\n", fine[i], err);
		CHECK_EQ_INT(rc, 0);
		if (!rc)
			fd_progress_free(&re);
	}
}

static void mk(const char *dir, const char *name, int is_dir, int age_s)
{
	char p[PATH_MAX];
	struct timeval tv[2];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (is_dir)
		mkdir(p, 0755);
	else
		fclose(fopen(p, "w"));
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= age_s;
	tv[1] = tv[0];
	utimes(p, tv);
}

static void checkpoints(void)
{
	char dir[] = "/tmp/fd-unit-ckpt.XXXXXX", want[PATH_MAX];
	struct fd_ckpt_scan sc;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	CHECK_STREQ(sc.newest, "");
	/* torch DCP: .metadata is written last */
	mk(dir, "step-100", 1, 0);
	mk(dir, "step-100/.metadata", 0, 300);
	mk(dir, "step-200", 1, 0);
	mk(dir, "step-200/.metadata", 0, 200);
	mk(dir, "step-300", 1, 0); /* half-written: no marker */
	mk(dir, "step-300/shard-0.distcp", 0, 10);
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	snprintf(want, sizeof(want), "%s/step-200", dir);
	CHECK_STREQ(sc.newest, want);
	snprintf(want, sizeof(want), "%s/step-300", dir);
	CHECK_STREQ(sc.skipped, want);
	CHECK_EQ_INT(sc.ncomplete, 2);
	/* a weight file renamed into place beats an older directory; temp names never count */
	mk(dir, "model-250.pt", 0, 100);
	mk(dir, "model-400.pt.tmp", 0, 5);
	mk(dir, ".model-500.pt", 0, 5);
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	snprintf(want, sizeof(want), "%s/model-250.pt", dir);
	CHECK_STREQ(sc.newest, want);
	/* HF Trainer */
	mk(dir, "checkpoint-500", 1, 0);
	mk(dir, "checkpoint-500/trainer_state.json", 0, 50);
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	snprintf(want, sizeof(want), "%s/checkpoint-500", dir);
	CHECK_STREQ(sc.newest, want);
	/* a user marker: only it counts */
	mk(dir, "step-100/COMMITTED", 0, 1);
	CHECK_EQ_INT(fd_ckpt_newest(dir, "COMMITTED", &sc), 0);
	snprintf(want, sizeof(want), "%s/step-100", dir);
	CHECK_STREQ(sc.newest, want);
	CHECK_EQ_INT(sc.ncomplete, 1);
	/* a file is not a directory of checkpoints */
	snprintf(want, sizeof(want), "%s/model-250.pt", dir);
	CHECK_EQ_INT(fd_ckpt_newest(want, NULL, &sc), -ENOTDIR);
	snprintf(want, sizeof(want), "%s/not-yet", dir);
	CHECK_EQ_INT(fd_ckpt_newest(want, NULL, &sc), 0);
	snprintf(want, sizeof(want), "rm -rf %s", dir);
	CHECK(system(want) == 0);
}

static void deepspeed(void)
{
	char dir[] = "/tmp/fd-unit-ds.XXXXXX", want[PATH_MAX], p[PATH_MAX];
	struct fd_ckpt_scan sc;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	mk(dir, "global_step10", 1, 100);
	mk(dir, "global_step20", 1, 0); /* being written: `latest` not yet updated */
	snprintf(p, sizeof(p), "%s/latest", dir);
	f = fopen(p, "w");
	fputs("global_step10\n", f);
	fclose(f);
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	snprintf(want, sizeof(want), "%s/global_step10", dir);
	CHECK_STREQ(sc.newest, want);
	snprintf(want, sizeof(want), "rm -rf %s", dir);
	CHECK(system(want) == 0);
}

/* An entry whose mtime is exactly sec: a weight file, or a DCP directory with its marker. */
static void mk_at(const char *dir, const char *name, int dcp, time_t sec)
{
	struct timespec ts[2] = {{.tv_sec = sec}, {.tv_sec = sec}};
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (dcp) {
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/%s/.metadata", dir, name);
	}
	fclose(fopen(p, "w"));
	CHECK_EQ_INT(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* names[0] is the newest's last component, and the names are distinct. */
static void check_list(const struct fd_ckpt_scan *sc)
{
	const char *slash = strrchr(sc->newest, '/');

	CHECK(sc->nnames >= 0 && sc->nnames <= FD_CKPT_LIST);
	if (sc->nnames)
		CHECK_STREQ(slash ? slash + 1 : "", sc->names[0]);
	else
		CHECK_STREQ(sc->newest, "");
	for (int i = 0; i < sc->nnames; i++)
		for (int j = i + 1; j < sc->nnames; j++)
			CHECK(strcmp(sc->names[i], sc->names[j]) != 0);
}

/*
 * 20 checkpoints whose mtimes are not in name order: the 16 newest by completion time,
 * newest first, the same in one go and a slice of one entry at a time.
 */
static void ckpt_list_order(void)
{
	char dir[] = "/tmp/fd-unit-list.XXXXXX", name[64];
	struct fd_ckpt_walk w;
	struct fd_ckpt_scan sc;
	int r;

	CHECK(mkdtemp(dir) != NULL);
	/* step k completes at 1e9 + (k * 7) % 20: a permutation of 0..19 */
	for (int k = 0; k < 20; k++) {
		snprintf(name, sizeof(name), "step-%d%s", k, k % 2 ? ".pt" : "");
		mk_at(dir, name, !(k % 2), 1000000000 + (k * 7) % 20);
	}
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	CHECK_EQ_INT(sc.ncomplete, 20);
	CHECK_EQ_INT(sc.nnames, FD_CKPT_LIST);
	check_list(&sc);
	for (int i = 0; i < sc.nnames; i++) {
		int rank = 19 - i, k = (rank * 3) % 20; /* 3 is 7's inverse mod 20 */

		snprintf(name, sizeof(name), "step-%d%s", k, k % 2 ? ".pt" : "");
		CHECK_STREQ(sc.names[i], name);
	}
	CHECK(sc.newest_time == 1000000019.0);
	/* the loop's way: a slice at a time gives the same list */
	CHECK_EQ_INT(fd_ckpt_walk_begin(&w, dir, NULL), 0);
	while ((r = fd_ckpt_walk_step(&w, 1)) > 0)
		;
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(w.out.nnames, sc.nnames);
	for (int i = 0; i < sc.nnames; i++)
		CHECK_STREQ(w.out.names[i], sc.names[i]);
	CHECK_STREQ(w.out.newest, sc.newest);
	fd_ckpt_walk_end(&w);
	rm_rf(dir);
}

/* Incomplete entries are never listed, however new; fewer than 16 lists them all. */
static void ckpt_list_incomplete(void)
{
	char dir[] = "/tmp/fd-unit-inc.XXXXXX", p[PATH_MAX];
	struct fd_ckpt_scan sc;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	CHECK_EQ_INT(sc.nnames, 0);
	check_list(&sc);
	mk_at(dir, "step-1", 1, 1000000001);
	mk_at(dir, "step-2.pt", 0, 1000000002);
	mk_at(dir, "step-3", 1, 1000000003);
	/* newer, and not complete */
	mk_at(dir, "step-4.pt.tmp", 0, 1000000009);
	mk_at(dir, ".step-5.pt", 0, 1000000009);
	mk_at(dir, "step-6.partial", 0, 1000000009);
	mk_at(dir, "notes.txt", 0, 1000000009);
	snprintf(p, sizeof(p), "%s/step-7", dir);
	mkdir(p, 0755); /* a DCP save under way: no .metadata yet */
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	CHECK_EQ_INT(sc.nnames, 3);
	CHECK_EQ_INT(sc.ncomplete, 3);
	CHECK_STREQ(sc.names[0], "step-3");
	CHECK_STREQ(sc.names[1], "step-2.pt");
	CHECK_STREQ(sc.names[2], "step-1");
	check_list(&sc);
	/* with a user marker only directories holding it count */
	mk_at(dir, "step-1/COMMITTED", 0, 1000000005);
	CHECK_EQ_INT(fd_ckpt_newest(dir, "COMMITTED", &sc), 0);
	CHECK_EQ_INT(sc.nnames, 1);
	CHECK_STREQ(sc.names[0], "step-1");
	check_list(&sc);
	/* no directory yet */
	snprintf(p, sizeof(p), "%s/not-yet", dir);
	CHECK_EQ_INT(fd_ckpt_newest(p, NULL, &sc), 0);
	CHECK_EQ_INT(sc.nnames, 0);
	rm_rf(dir);
}

/* Completed in the same nanosecond: names in version order, step-100 before step-20. */
static void ckpt_list_ties(void)
{
	char dir[] = "/tmp/fd-unit-tie.XXXXXX";
	struct fd_ckpt_scan sc;

	CHECK(mkdtemp(dir) != NULL);
	mk_at(dir, "step-9.pt", 0, 1000000000);
	mk_at(dir, "step-100.pt", 0, 1000000000);
	mk_at(dir, "step-20.pt", 0, 1000000000);
	mk_at(dir, "step-5.pt", 0, 1000000001); /* newer beats any name */
	mk_at(dir, "step-10", 1, 1000000000);
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	CHECK_EQ_INT(sc.nnames, 5);
	CHECK_STREQ(sc.names[0], "step-5.pt");
	CHECK_STREQ(sc.names[1], "step-100.pt");
	CHECK_STREQ(sc.names[2], "step-20.pt");
	CHECK_STREQ(sc.names[3], "step-10");
	CHECK_STREQ(sc.names[4], "step-9.pt");
	check_list(&sc);
	rm_rf(dir);
}

/* DeepSpeed's tag is listed once, at the time of `latest`, among the others. */
static void ckpt_list_deepspeed(void)
{
	char dir[] = "/tmp/fd-unit-dsl.XXXXXX", p[PATH_MAX];
	struct timespec ts[2] = {{.tv_sec = 1000000005}, {.tv_sec = 1000000005}};
	struct fd_ckpt_scan sc;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	mk_at(dir, "global_step10", 1, 1000000001); /* a .metadata too: still listed once */
	snprintf(p, sizeof(p), "%s/global_step20", dir);
	mkdir(p, 0755);
	mk_at(dir, "extra-3.pt", 0, 1000000003);
	mk_at(dir, "extra-9.pt", 0, 1000000009);
	snprintf(p, sizeof(p), "%s/latest", dir);
	f = fopen(p, "w");
	fputs("global_step10\n", f);
	fclose(f);
	CHECK_EQ_INT(utimensat(AT_FDCWD, p, ts, 0), 0);
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &sc), 0);
	CHECK_EQ_INT(sc.nnames, 3);
	CHECK_EQ_INT(sc.ncomplete, 3);
	CHECK_STREQ(sc.names[0], "extra-9.pt");
	CHECK_STREQ(sc.names[1], "global_step10");
	CHECK_STREQ(sc.names[2], "extra-3.pt");
	check_list(&sc);
	rm_rf(dir);
}

static char *joined(char **v)
{
	static char buf[512];

	buf[0] = '\0';
	for (size_t i = 0; v && v[i]; i++) {
		strcat(buf, i ? " " : "");
		strcat(buf, v[i]);
	}
	return buf;
}

static void resume_argv(void)
{
	char *a[] = {"torchrun", "train.py", "--resume", "{resume}", "--lr", "1", NULL};
	char *b[] = {"python", "t.py", "--resume={resume}", "--ckpt", "{resume}/x", NULL};
	char *c[] = {"{resume}", "t.py", NULL};
	char **v;

	v = fd_resume_argv(a, "/ck/step-20");
	CHECK_STREQ(joined(v), "torchrun train.py --resume /ck/step-20 --lr 1");
	fd_argv_free(v);
	v = fd_resume_argv(a, "");
	CHECK_STREQ(joined(v), "torchrun train.py --lr 1");
	fd_argv_free(v);
	v = fd_resume_argv(b, "/ck/s");
	CHECK_STREQ(joined(v), "python t.py --resume=/ck/s --ckpt /ck/s/x");
	fd_argv_free(v);
	v = fd_resume_argv(b, NULL);
	CHECK_STREQ(joined(v), "python t.py --ckpt");
	fd_argv_free(v);
	v = fd_resume_argv(c, NULL);
	CHECK_STREQ(joined(v), "t.py");
	fd_argv_free(v);
}

/* Issue 11: every {resume} of an argument is replaced; only a resume-like flag goes with it. */
static void resume_argv_edges(void)
{
	char *a[] = {"t.py", "--from={resume}:{resume}", NULL};
	char *b[] = {"t.py", "--verbose", "{resume}", NULL};
	char *c[] = {"t.py", "--load-ckpt", "{resume}", "--ckpt_path", "{resume}", NULL};
	char **v;

	v = fd_resume_argv(a, "/ck/s");
	CHECK_STREQ(joined(v), "t.py --from=/ck/s:/ck/s");
	fd_argv_free(v);
	v = fd_resume_argv(b, NULL);
	CHECK_STREQ(joined(v), "t.py --verbose");
	fd_argv_free(v);
	v = fd_resume_argv(c, NULL);
	CHECK_STREQ(joined(v), "t.py");
	fd_argv_free(v);
}

static void decide(void)
{
	struct fd_policy pol = {.max_restarts = 3, .no_progress_limit = 2};
	struct fd_group_history h = {0};
	struct fd_node_state n = {.failure = FD_FAIL_NONE, .max_step = 10};
	struct fd_decision d;

	fd_group_decide(&n, 1, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_CONTINUE);
	/* a stall: restart from what the node sees */
	n.failure = FD_FAIL_STALL;
	n.max_step = 25;
	strcpy(n.ckpts[0], "20");
	n.nckpts = 1;
	fd_group_decide(&n, 1, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_RESTART);
	CHECK_STREQ(d.checkpoint, "20");
	CHECK_EQ_INT(h.restarts, 1);
	/* it hangs at the same place again: one strike, still a restart */
	fd_group_decide(&n, 1, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_RESTART);
	CHECK_EQ_INT(h.no_progress, 1);
	/* and again: gave up early, before --max-restarts */
	fd_group_decide(&n, 1, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.stop_why, FD_STOP_NO_PROGRESS);

	/* progress in between resets the strikes; the budget still ends it */
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 3; i++) {
		n.max_step = 30 + 10 * i;
		snprintf(n.ckpts[0], sizeof(n.ckpts[0]), "%d", 20 + 10 * i);
		fd_group_decide(&n, 1, &pol, &h, &d);
		CHECK_EQ_INT(d.verdict, FD_RESTART);
		CHECK_EQ_INT(h.no_progress, 0);
	}
	n.max_step = 100;
	fd_group_decide(&n, 1, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.stop_why, FD_STOP_BUDGET);

	/* a timeout or an unfit node is never restarted; the gravest failure of all nodes wins */
	struct fd_node_state two[2] = {{.node = 0, .failure = FD_FAIL_STALL},
				       {.node = 1, .failure = FD_FAIL_PREFLIGHT}};
	memset(&h, 0, sizeof(h));
	fd_group_decide(two, 2, &pol, &h, &d);
	CHECK_EQ_INT(d.verdict, FD_STOP);
	CHECK_EQ_INT(d.stop_why, FD_STOP_FAILURE);
	CHECK_EQ_INT(d.node, 1);
}

static void proc_tree(void)
{
	struct fd_proc p[16];
	size_t n = 0;
	pid_t kid = fork();

	if (kid == 0) {
		if (fork() == 0) {
			setsid(); /* a grandchild in its own session is still found */
			pause();
			_exit(0);
		}
		pause();
		_exit(0);
	}
	for (int i = 0; i < 100 && n < 2; i++) {
		usleep(10000);
		CHECK_EQ_INT(fd_descendants(getpid(), p, 16, &n), 0);
	}
	CHECK_EQ_INT(n, 2);
	for (size_t i = 0; i < n && i < 16; i++)
		kill(p[i].pid, SIGKILL);
	CHECK_EQ_INT(fd_proc_read(getpid(), &p[0]), 0);
	CHECK_EQ_INT(p[0].state, 'R');
	CHECK_EQ_INT(fd_proc_read(999999999, &p[0]), -ESRCH);
}

const struct unit_test run_tests[] = {
    {"run: heartbeat datagram", datagram},
    {"run: --progress-regex", progress_regex},
    {"run: --progress-regex classes and escapes", progress_regex_classes},
    {"run: --progress-regex rank and step groups", progress_regex_rank},
    {"run: --progress-regex total group", progress_regex_total},
    {"run: --progress-regex bounds", progress_regex_bounds},
    {"run: newest complete checkpoint", checkpoints},
    {"run: DeepSpeed latest", deepspeed},
    {"run: checkpoint list, the 16 newest of 20, newest first", ckpt_list_order},
    {"run: checkpoint list, incomplete entries never listed", ckpt_list_incomplete},
    {"run: checkpoint list, ties in version order", ckpt_list_ties},
    {"run: checkpoint list, DeepSpeed's tag once", ckpt_list_deepspeed},
    {"run: {resume} in the command", resume_argv},
    {"run: {resume} twice, and after a flag that is not a resume flag", resume_argv_edges},
    {"run: group decision", decide},
    {"run: process tree from /proc", proc_tree},
    {NULL, NULL},
};
