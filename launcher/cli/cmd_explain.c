/*
 * cmd_explain.c - `flightdeck explain [CODE]`: the reason-code table and the exit-status table
 * for people. Without a code it lists every reason code with its severity and title; a number
 * is an exit status, explained for every command that gives it.
 */
#include "check.h"
#include "commands.h"
#include "report.h"
#include "util.h"
#include "build_config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* An exit status: its row for every command, from the one table (launcher/core/exits.c). */
static int explain_exit(const char *arg)
{
	int code;
	char line[512];

	if (fd_parse_uint(arg, &code) || code > 255) {
		fd_err("explain: exit status '%s' is not a number from 0 to 255", arg);
		return FD_EXIT_USAGE;
	}
	printf("exit status %d\n", code);
	for (size_t i = 0; i < fd_exit_count(); i++) {
		const struct fd_exit *e = fd_exit_at(i);

		if (e->code != code &&
		    !(e->code == FD_EXIT_SIGNAL_BASE && code > FD_EXIT_SIGNAL_BASE))
			continue;
		snprintf(line, sizeof(line), "flightdeck %s: %s", e->cmd, e->meaning);
		fd_wrap(stdout, line, 2, 100);
		if (e->scheduler) {
			snprintf(line, sizeof(line), "what to do: %s", e->scheduler);
			fd_wrap(stdout, line, 4, 100);
		}
	}
	if (code > FD_EXIT_SIGNAL_BASE)
		printf("  (signal %d)\n", code - FD_EXIT_SIGNAL_BASE);
	if (!fd_exit_find("run", code))
		fd_wrap(stdout,
			"flightdeck run: the training command's own exit status, when it ended by "
			"itself",
			2, 100);
	return 0;
}

/* --exit-codes: the whole table, a tab-separated line a row (the docs are held to it). */
static void list_exits(void)
{
	for (size_t i = 0; i < fd_exit_count(); i++) {
		const struct fd_exit *e = fd_exit_at(i);

		if (e->code == FD_EXIT_SIGNAL_BASE)
			printf("%s\t128+N\t%s\t%s\n", e->cmd, e->meaning,
			       e->scheduler ? e->scheduler : "");
		else
			printf("%s\t%d\t%s\t%s\n", e->cmd, e->code, e->meaning,
			       e->scheduler ? e->scheduler : "");
	}
}

int cmd_explain(int argc, char **argv)
{
	if (argc > 2) {
		fd_err("explain: one code at a time (got %d arguments)", argc - 1);
		return FD_EXIT_USAGE;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: flightdeck explain [CODE | EXIT-STATUS]\n\n"
		       "Prints what a reason code means, why it matters and what to do.\n"
		       "Without CODE, lists every code. A number is an exit status: what it\n"
		       "means for each command that gives it (flightdeck explain 75).\n"
		       "--exit-codes lists every command's exit statuses, one per line.\n");
		return 0;
	}
	if (argc == 1) {
		for (size_t i = 0; i < fd_code_count(); i++) {
			const struct fd_code *c = fd_code_at(i);
			printf("%-22s %-5s %s\n", c->code, fd_status_name(c->severity), c->title);
		}
		return 0;
	}
	if (argv[1][0] >= '0' && argv[1][0] <= '9')
		return explain_exit(argv[1]);
	if (!strcmp(argv[1], "--exit-codes")) {
		list_exits();
		return 0;
	}
	for (size_t i = 0; i < fd_code_count(); i++) {
		const struct fd_code *c = fd_code_at(i);
		if (strcasecmp(c->code, argv[1]) != 0)
			continue;
		printf("%s (%s)\n", c->code, fd_status_name(c->severity));
		fd_wrap(stdout, c->title, 2, 100);
		printf("\nWhy it matters:\n");
		fd_wrap(stdout, c->why, 2, 100);
		printf("\nWhat to do:\n");
		fd_wrap(stdout, c->remedy, 2, 100);
		return 0;
	}
	fd_err("explain: unknown reason code '%s' (`flightdeck explain` lists them)", argv[1]);
	return FD_EXIT_USAGE;
}

int cmd_version(int argc, char **argv)
{
	char cuda[32] = "no";

	if (FD_HAVE_CUDA)
		snprintf(cuda, sizeof(cuda), "yes (%d.%d)", FD_CUDA_BUILD_VERSION / 1000,
			 FD_CUDA_BUILD_VERSION % 1000 / 10);
	printf("flightdeck %s (libibverbs: %s, MPI: %s, CUDA toolkit: %s, NCCL: %s; NVML is "
	       "loaded at run time)\n",
	       FD_VERSION, FD_HAVE_IBVERBS ? "yes" : "no", FD_HAVE_MPI ? "yes" : "no", cuda,
	       FD_HAVE_NCCL ? "yes" : "no");
	return 0;
}
