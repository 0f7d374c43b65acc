/* fuzz_bw.c - flightdeck-gpubench's JSON document (bw_parse). */
#include "bw.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	struct bw_facts *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	bw_parse(s, f);
	free(f);
	free(s);
	return 0;
}
