/*
 * cmd_beat.c - `flightdeck beat`: one heartbeat from a shell script.
 */
#include "commands.h"
#include "flightdeck_heartbeat.h" /* the one client: rank, datagram, send timeout */
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: flightdeck beat [--step N] [--rank R] [--phase train|checkpoint]\n"
	    "\n"
	    "Sends one heartbeat to the `flightdeck run` supervising this job (the socket in\n"
	    "FLIGHTDECK_HEARTBEAT). Without that variable it does nothing and exits 0, so a\n"
	    "script can call it whether or not it runs under flightdeck.\n"
	    "  --step N     the training step reached; progress is a step that advances\n"
	    "  --rank R     the rank beating [$RANK, else $LOCAL_RANK, else 0]\n"
	    "  --phase P    checkpoint: saving, a longer deadline applies; train: back to work\n");
}

int cmd_beat(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"step", required_argument, NULL, 's'},
	    {"rank", required_argument, NULL, 'r'},
	    {"phase", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = getenv("FLIGHTDECK_HEARTBEAT"), *phase = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long long step = -1;
	int rank = flightdeck_rank(), c, n = 0, rc;
	char fields[96] = "", *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			step = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || step < 0) {
				fd_err("beat: --step: '%s' is not a non-negative whole number",
				       optarg);
				return FD_EXIT_USAGE;
			}
			break;
		case 'r':
			if (fd_parse_uint(optarg, &rank)) {
				fd_err("beat: --rank: '%s' is not a non-negative whole number",
				       optarg);
				return FD_EXIT_USAGE;
			}
			break;
		case 'p':
			if (strcmp(optarg, "train") && strcmp(optarg, "checkpoint")) {
				fd_err("beat: --phase: '%s' is not train or checkpoint", optarg);
				return FD_EXIT_USAGE;
			}
			phase = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fd_err("beat: %s needs a value", argv[optind - 1]);
			return FD_EXIT_USAGE;
		default:
			fd_err("beat: unknown option '%s' (see flightdeck beat --help)",
			       argv[optind - 1]);
			return FD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fd_err("beat: unexpected argument '%s'", argv[optind]);
		return FD_EXIT_USAGE;
	}
	if (!path || !*path)
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fd_err("beat: FLIGHTDECK_HEARTBEAT '%s' is too long for a unix socket", path);
		return FD_EXIT_USAGE;
	}
	if (step >= 0)
		n = snprintf(fields, sizeof(fields), "step=%lld", step);
	if (phase)
		snprintf(fields + n, sizeof(fields) - (size_t)n, "%sphase=%s", n ? " " : "", phase);
	rc = flightdeck_hb_send_rank(rank, fields);
	if (rc) {
		fd_err("beat: cannot send to %s: %s", path, strerror(-rc));
		return FD_EXIT_CANT_RUN;
	}
	return 0;
}
