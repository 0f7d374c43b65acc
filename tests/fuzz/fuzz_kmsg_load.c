/* fuzz_kmsg_load.c - a kernel-log file (fd_kmsg_load) and the age of each line in it. */
#include "fuzz.h"
#include "kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_kmsg_log *log = NULL;
	char path[64], err[512];
	int fd = fz_file(data, size, path, sizeof(path));

	if (!fd_kmsg_load(path, &log, err, sizeof(err))) {
		log->uptime_ms = 1000000;
		for (size_t i = 0; i < log->n; i++)
			fd_kmsg_age_ms(log, log->lines[i].ts_us);
		fd_kmsg_free(log);
	}
	close(fd);
	return 0;
}
