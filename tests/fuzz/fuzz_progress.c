/*
 * fuzz_progress.c - --progress-regex: the first line of the input is the pattern
 * (fd_progress_compile), each further line is output it is matched against.
 */
#include "fuzz.h"
#include "heartbeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size), *nl = strchr(s, '\n'), err[256];
	struct fd_progress re;
	int64_t step, total;
	int rank;

	if (nl)
		*nl = '\0';
	if (!fd_progress_compile(&re, s, err, sizeof(err))) {
		for (char *line = nl ? nl + 1 : NULL; line;) {
			char *next = strchr(line, '\n');

			if (next)
				*next++ = '\0';
			fd_progress_match(&re, line, &step, &rank, &total);
			line = next;
		}
		fd_progress_free(&re);
	}
	free(s);
	return 0;
}
