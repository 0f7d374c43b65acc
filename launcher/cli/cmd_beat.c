/*
 * cmd_beat.c - `flightdeck beat`: one heartbeat from a shell script.
 */
#include "commands.h"
#include "flightdeck_heartbeat.h" /* the one client: rank, datagram, send timeout */
#include "opts.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

struct beat_cli {
	int64_t step;  /* -1: not given */
	int64_t total; /* 0: not given */
	int rank;
	int phase; /* -1: not given */
	int done;
};

static const char *const phase_words[] = {"train", "checkpoint", NULL};

static const struct fd_opt beat_rows[] = {
    {.name = "step",
     .metavar = "N",
     .help = "the training step reached; progress is a step that advances",
     .type = FD_OPT_UINT64,
     .min = 0,
     .max = 9.2e18,
     .off = offsetof(struct beat_cli, step)},
    {.name = "total",
     .metavar = "N",
     .help = "the job's steps: from step N-1 on, the rank is past its last step and\n"
	     "its teardown gets `flightdeck run --teardown-timeout`",
     .type = FD_OPT_UINT64,
     .min = 1,
     .max = 1e18 - 128, /* 18 digits, what the supervisor reads */
     .off = offsetof(struct beat_cli, total)},
    {.name = "rank",
     .metavar = "R",
     .help = "the rank beating [the first whole number of $RANK, $OMPI_COMM_WORLD_RANK,\n"
	     "$PMI_RANK, $PMIX_RANK, $SLURM_PROCID, $LOCAL_RANK; else 0]",
     .type = FD_OPT_UINT,
     .min = 0,
     .max = INT_MAX,
     .off = offsetof(struct beat_cli, rank)},
    {.name = "phase",
     .metavar = "P",
     .help = "checkpoint: saving, a longer deadline applies; train: back to work",
     .type = FD_OPT_ENUM,
     .off = offsetof(struct beat_cli, phase),
     .words = phase_words},
    {.name = "done",
     .help = "this rank's work is over: a slow teardown after it is not a stall",
     .type = FD_OPT_FLAG,
     .off = offsetof(struct beat_cli, done)},
    FD_OPT_HELP_ROW,
};

static void usage(FILE *out, const struct fd_opt_table *t, size_t n)
{
	fprintf(
	    out,
	    "usage: flightdeck beat [--step N [--total N]] [--rank R] [--phase train|checkpoint]\n"
	    "                      [--done]\n"
	    "\n"
	    "Sends one heartbeat to the `flightdeck run` supervising this job (the socket in\n"
	    "FLIGHTDECK_HEARTBEAT). Without that variable it does nothing and exits 0, so a\n"
	    "script can call it whether or not it runs under flightdeck.\n");
	fd_opt_help(out, t, n);
}

int cmd_beat(int argc, char **argv)
{
	struct beat_cli cli = {.step = -1, .rank = flightdeck_rank(), .phase = -1};
	struct fd_opt_table table = {.rows = beat_rows, .n = FD_ARRAY_SIZE(beat_rows), .obj = &cli};
	struct fd_opt_parser p = {.cmd = "beat", .tables = &table, .n_tables = 1};
	const char *path = getenv("FLIGHTDECK_HEARTBEAT");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char fields[96] = "";
	int n = 0, rc;

	rc = fd_opt_main(&p, argc, argv, usage);
	fd_opt_release(&p);
	if (rc >= 0)
		return rc;
	if (!path || !*path)
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fd_err("beat: FLIGHTDECK_HEARTBEAT '%s' is too long for a unix socket", path);
		return FD_EXIT_USAGE;
	}
	if (cli.step >= 0)
		n = snprintf(fields, sizeof(fields), "step=%lld", (long long)cli.step);
	if (cli.total > 0)
		n += snprintf(fields + n, sizeof(fields) - (size_t)n, "%stotal=%lld", n ? " " : "",
			      (long long)cli.total);
	if (cli.phase >= 0)
		n += snprintf(fields + n, sizeof(fields) - (size_t)n, "%sphase=%s", n ? " " : "",
			      phase_words[cli.phase]);
	if (cli.done)
		snprintf(fields + n, sizeof(fields) - (size_t)n, "%sdone=1", n ? " " : "");
	rc = flightdeck_hb_send_rank(cli.rank, fields);
	if (rc) {
		fd_err("beat: cannot send to %s: %s", path, strerror(-rc));
		return FD_EXIT_CANT_RUN;
	}
	return 0;
}
