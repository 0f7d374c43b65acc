/*
 * cmd_gpu_wait.c - `flightdeck gpu-wait --timeout DUR`, internal: waits until
 * no GPU holds a compute process, so that a relaunch does not meet the dying job's memory
 * still allocated.
 *
 * `flightdeck run` executes this between a failed attempt and the next preflight, rather than
 * calling NVML in a forked child: between fork and exec only async-signal-safe calls are
 * allowed, and dlopen and NVML are not (docs/architecture.md, "The supervisor"). It is left
 * out of `flightdeck --help`: people have no reason to run it.
 *
 * Exit: 0 when the GPUs are free (or there is no NVML: nothing to wait for), 1 when some
 * still hold processes after the timeout, 2 on bad usage.
 */
#include "commands.h"
#include "nvml.h"
#include "opts.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GPU_WAIT_POLL_US 200000 /* NVML's process list is cheap; 5 looks a second */

/* Compute processes on every GPU, or 0 when they cannot be counted. */
static unsigned int busy(struct fd_nvml *n, unsigned int count)
{
	unsigned int total = 0;

	for (unsigned int i = 0; i < count; i++) {
		fd_nvmlDevice_t h;
		unsigned int k = 0;

		/* With no array, NVML answers "insufficient size" and the count when busy. */
		if (!n->DeviceGetHandleByIndex(i, &h) &&
		    n->DeviceGetComputeRunningProcesses(h, &k, NULL) ==
			FD_NVML_ERROR_INSUFFICIENT_SIZE)
			total += k;
	}
	return total;
}

struct gpu_wait_cli {
	int64_t timeout_ms;
};

static const struct fd_opt gpu_wait_rows[] = {
    {.name = "timeout",
     .metavar = "DUR",
     .help = "give up after DUR: exit 1 when a GPU still holds a process",
     .type = FD_OPT_DURATION,
     .def = "60s",
     .min = 0,
     .max = FD_OPT_MS_MAX,
     .off = offsetof(struct gpu_wait_cli, timeout_ms)},
    FD_OPT_HELP_ROW,
};

static void usage(FILE *out, const struct fd_opt_table *t, size_t n)
{
	fprintf(out,
		"usage: flightdeck gpu-wait [--timeout DUR]\n\n"
		"Internal: `flightdeck run` runs it between attempts to wait until no GPU holds\n"
		"a compute process. Exit 0 free (or no NVML), 1 still busy, 2 usage.\n");
	fd_opt_help(out, t, n);
}

int cmd_gpu_wait(int argc, char **argv)
{
	struct gpu_wait_cli cli = {0};
	struct fd_opt_table table = {
	    .rows = gpu_wait_rows, .n = FD_ARRAY_SIZE(gpu_wait_rows), .obj = &cli};
	struct fd_opt_parser p = {.cmd = "gpu-wait", .tables = &table, .n_tables = 1};
	struct fd_nvml *n;
	char why[256];
	unsigned int count = 0;
	int64_t end;

	int rc = fd_opt_main(&p, argc, argv, usage);

	fd_opt_release(&p);
	if (rc >= 0)
		return rc;
	end = fd_deadline_ns(fd_mono_ns(), cli.timeout_ms);
	if (fd_nvml_session(&n, why, sizeof(why)))
		return 0; /* no NVML here: nothing to wait for */
	if (n->DeviceGetCount(&count) || !n->DeviceGetComputeRunningProcesses)
		return 0;
	while (busy(n, count)) {
		if (fd_mono_ns() > end)
			return 1;
		usleep(GPU_WAIT_POLL_US);
	}
	return 0;
}
