/*
 * test_durations.c - the supervisor's sums and products of durations at the option layer's
 * largest values: every deadline stays in the future (INT64_MAX at
 * worst), never a wrapped negative that fires at once. Run under UBSan by the ASan build,
 * where a signed overflow here is a failure of its own.
 */
#include "bw.h"
#include "checkpoint.h"
#include "ranks.h"
#include "run.h"
#include "sv.h"
#include "testhelp.h"
#include "util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The option layer's largest duration: 2562047 h (launcher/core/opts.h, FD_OPT_MS_MAX). */
#define MAX_MS (2562047LL * 3600000)
/* A monotonic clock of a machine up for a year. */
#define UPTIME_NS (365LL * 86400 * 1000000000)

static void rank_deadlines(void)
{
	struct fd_run_opts o = {.stall_ms = MAX_MS, .startup_ms = MAX_MS, .checkpoint_ms = MAX_MS};
	struct sup_rank r = {.id = 0, .progress_ns = UPTIME_NS, .step = 5};
	struct sup_ranks t = {.v = &r, .n = 1, .max_step = -1};

	/* a fixed --stall-timeout: progress + limit */
	CHECK(rank_deadline(&o, &r) > UPTIME_NS);
	/* --stall-timeout auto: factor x the longest interval, in ms, then ns */
	o.stall_auto = 1;
	o.stall_factor = 1000;
	o.stall_floor_ms = 1000;
	r.nintervals = 5;
	r.max_interval_ns = INT64_MAX / 2;
	CHECK(rank_limit_ms(&o, &r) > 0);
	CHECK(rank_deadline(&o, &r) > UPTIME_NS);
	/* a rank in a checkpoint: the checkpoint timeout */
	r.phase = FD_PHASE_CHECKPOINT;
	CHECK(rank_deadline(&o, &r) > UPTIME_NS);
	/* the startup deadline from the launch */
	CHECK(ranks_next_deadline(&t, &o, UPTIME_NS) > UPTIME_NS);
	t.expected = 2; /* a rank still to come: the startup timeout is pending */
	CHECK(ranks_next_deadline(&t, &o, UPTIME_NS) > UPTIME_NS);
}

static void phase_deadlines(void)
{
	static struct sv s;
	struct fd_run_opts o = {.grace_ms = MAX_MS,
				.kill_wait_ms = MAX_MS,
				.stack_wait_ms = MAX_MS,
				.gpu_release_ms = MAX_MS,
				.backoff_ms = MAX_MS / 2 + 1,
				.backoff_max_ms = MAX_MS};
	const enum sup_phase ph[] = {PH_STOPPING, PH_KILLING, PH_STACKS, PH_GPU_WAIT, PH_BACKOFF};
	int64_t now = fd_mono_ns();

	s.o = &o;
	s.att.restarts = 1000; /* --backoff doubled 999 times, capped */
	CHECK_EQ_INT(sup_backoff_ms(&s), MAX_MS);
	for (size_t i = 0; i < sizeof(ph) / sizeof(ph[0]); i++) {
		int64_t d = sup_phase_deadline(&s, ph[i], now);

		if (d <= now)
			printf("    phase %s: deadline %lld, now %lld\n", sup_phase_name(ph[i]),
			       (long long)d, (long long)now);
		CHECK(d > now);
	}
}

/* gpubench's child, with the largest --gpubench-timeout: it runs, it is not timed out. */
static void child_deadline(void)
{
	char *argv[] = {"/bin/echo", "hi", NULL}, *out = NULL, why[256] = "";

	CHECK_EQ_INT(bw_run_child(argv, (long)MAX_MS, &out, why, sizeof(why)), 0);
	CHECK(out && !strncmp(out, "hi", 2));
	if (!out)
		printf("    why: %s\n", why);
	free(out);
}

/* A checkpoint whose mtime is past 2262 (a user's touch -d): its ns do not wrap negative. */
static void checkpoint_mtime(void)
{
	char dir[] = "/tmp/fd-ckpt-XXXXXX", path[256];
	struct timespec ts[2] = {{16000000000LL, 0}, {16000000000LL, 0}}; /* year 2477 */
	struct fd_ckpt_scan scan;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/step-001.pt", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	if (utimensat(AT_FDCWD, path, ts, 0)) {
		printf("    (this filesystem keeps no mtime past 2262: nothing to test)\n");
		goto out;
	}
	CHECK_EQ_INT(fd_ckpt_newest(dir, NULL, &scan), 0);
	CHECK(strstr(scan.newest, "step-001.pt") != NULL);
	if (scan.newest_time <= 0)
		printf("    newest_time %g\n", scan.newest_time);
	CHECK(scan.newest_time > 9e9);
out:
	unlink(path);
	rmdir(dir);
}

const struct unit_test duration_tests[] = {
    {"durations: rank deadlines at the largest durations", rank_deadlines},
    {"durations: phase deadlines and the backoff at the largest durations", phase_deadlines},
    {"durations: gpubench's child with the largest timeout", child_deadline},
    {"durations: a checkpoint's mtime past 2262", checkpoint_mtime},
    {NULL, NULL},
};
