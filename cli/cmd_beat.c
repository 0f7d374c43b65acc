/*
 * cmd_beat.c - `flightdeck beat`: one heartbeat from a shell script.
 */
#include "commands.h"
#include "opts.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct beat_cli {
	int64_t step; /* -1: not given */
	int rank;
	int phase; /* -1: not given */
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
    {.name = "rank",
     .metavar = "R",
     .help = "the rank beating [$RANK, else 0]",
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
    {.name = "help", .short_name = 'h', .help = "this text", .type = FD_OPT_HELP},
};

static void usage(FILE *out, const struct fd_opt_table *t, size_t n)
{
	fprintf(out,
		"usage: flightdeck beat [--step N] [--rank R] [--phase train|checkpoint]\n"
		"\n"
		"Sends one heartbeat to the `flightdeck run` supervising this job (the socket in\n"
		"FLIGHTDECK_HEARTBEAT). Without that variable it does nothing and exits 0, so a\n"
		"script can call it whether or not it runs under flightdeck.\n");
	fd_opt_help(out, t, n);
}

int cmd_beat(int argc, char **argv)
{
	struct beat_cli cli = {.step = -1, .rank = 0, .phase = -1};
	struct fd_opt_table table = {NULL, beat_rows, FD_ARRAY_SIZE(beat_rows), &cli};
	struct fd_opt_parser p = {.cmd = "beat", .tables = &table, .n_tables = 1};
	const char *path = getenv("FLIGHTDECK_HEARTBEAT"), *env_rank = getenv("RANK");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char msg[128], err[512];
	int fd, n;

	if (env_rank && fd_parse_uint(env_rank, &cli.rank))
		cli.rank = 0;
	if (fd_opt_parse(&p, argc, argv, err, sizeof(err))) {
		fd_err("beat: %s", err);
		fd_opt_release(&p);
		return FD_EXIT_USAGE;
	}
	fd_opt_release(&p);
	if (p.help) {
		usage(stdout, &table, 1);
		return 0;
	}
	if (!path || !*path)
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fd_err("beat: FLIGHTDECK_HEARTBEAT '%s' is too long for a unix socket", path);
		return FD_EXIT_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	n = snprintf(msg, sizeof(msg), "rank=%d", cli.rank);
	if (cli.step >= 0)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " step=%lld", (long long)cli.step);
	if (cli.phase >= 0)
		n +=
		    snprintf(msg + n, sizeof(msg) - (size_t)n, " phase=%s", phase_words[cli.phase]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fd_err("beat: cannot send to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return FD_EXIT_CANT_RUN;
	}
	close(fd);
	return 0;
}
