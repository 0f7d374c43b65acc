/*
 * cmd_gpu_wait.c - `flightdeck gpu-wait --timeout MS` (milliseconds), internal: waits until
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

int cmd_gpu_wait(int argc, char **argv)
{
	struct fd_nvml n;
	char why[256];
	int64_t end;
	long long ms;
	char *e = NULL;
	unsigned int count = 0;
	int rc = 0;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: flightdeck gpu-wait --timeout MS (internal: `run` uses it to wait "
		       "until no GPU holds a compute process; exit 0 free, 1 still busy)\n");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--timeout")) {
		errno = 0;
		ms = strtoll(argv[2], &e, 10);
	}
	if (!e || e == argv[2] || *e || errno || ms < 0 || ms > INT64_MAX / 1000000) {
		fd_err("gpu-wait: usage: flightdeck gpu-wait --timeout MS");
		return FD_EXIT_USAGE;
	}
	end = fd_mono_ns() + ms * 1000000LL;
	if (fd_nvml_open(&n, why, sizeof(why)))
		return 0; /* no NVML here: nothing to wait for */
	if (n.DeviceGetCount(&count) || !n.DeviceGetComputeRunningProcesses)
		goto out;
	while (busy(&n, count)) {
		if (fd_mono_ns() > end) {
			rc = 1;
			goto out;
		}
		usleep(GPU_WAIT_POLL_US);
	}
out:
	fd_nvml_close(&n);
	return rc;
}
