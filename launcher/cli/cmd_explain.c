/*
 * cmd_explain.c - `flightdeck explain [CODE]`: the reason-code table for people.
 * Without a code it lists every code with its severity and title.
 */
#include "check.h"
#include "commands.h"
#include "report.h"
#include "util.h"
#include "build_config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int cmd_explain(int argc, char **argv)
{
	if (argc > 2) {
		fd_err("explain: one code at a time (got %d arguments)", argc - 1);
		return FD_EXIT_USAGE;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: flightdeck explain [CODE]\n\n"
		       "Prints what a reason code means, why it matters and what to do.\n"
		       "Without CODE, lists every code.\n");
		return 0;
	}
	if (argc == 1) {
		for (size_t i = 0; i < fd_code_count(); i++) {
			const struct fd_code *c = fd_code_at(i);
			printf("%-22s %-5s %s\n", c->code, fd_status_name(c->severity), c->title);
		}
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
