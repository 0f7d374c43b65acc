/* fuzz_kmsg_line.c - one kernel-log line, either format (fd_kmsg_parse_line). */
#include "fuzz.h"
#include "kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	struct fd_kmsg_line l;

	fd_kmsg_parse_line(s, &l);
	free(s);
	return 0;
}
