/* fuzz_units.c - the unit parsers of the CLI contract: durations, sizes, counts, integers. */
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size), out[64];
	int64_t ms;
	uint64_t u;
	int i, list[16];
	size_t n;

	if (!fd_parse_duration_ms(s, &ms)) {
		fd_fmt_duration(ms, out, sizeof(out));
		fd_deadline_ns(fd_mono_ns(), ms);
	}
	if (!fd_parse_size(s, &u))
		fd_fmt_bytes(u, out, sizeof(out));
	fd_parse_count(s, &u);
	fd_parse_uint(s, &i);
	fd_parse_int_list(s, list, 16, &n);
	free(s);
	return 0;
}
