/* fuzz_perftest.c - what ib_write_bw prints (pt_parse, pt_help_has_cuda). */
#include "fuzz.h"
#include "perftest.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_result r;

	if (pt_parse((const char *)data, size, &r) == PT_REPORT &&
	    (!(r.gbps >= 0) || r.gbps > PT_GBPS_MAX || !isfinite(r.peak_gbps) || !r.bytes))
		__builtin_trap(); /* a report the parser should have refused */
	if (strnlen(r.line, sizeof(r.line)) == sizeof(r.line))
		__builtin_trap();
	pt_help_has_cuda((const char *)data, size);
	return 0;
}
