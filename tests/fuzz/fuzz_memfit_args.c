/*
 * fuzz_memfit_args.c - memfit's options as one string (the `memfit` tunable of check), then
 * the arithmetic and the suggestions on whatever was accepted.
 */
#include "fuzz.h"
#include "memfit_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size), err[512];
	struct fd_memfit_args a;
	struct fd_memfit r;
	struct fd_memfit_suggestion sug[8];

	/* a file named here would be read: the harness fuzzes the options, not the disk */
	if (!strstr(s, "hf-config") && !strstr(s, "--config") &&
	    !fd_memfit_args_parse_string(s, &a, err, sizeof(err)) && !a.list && !a.help) {
		fd_memfit_compute(&a.model, &a.job, &r);
		fd_memfit_verdict(&r, 80e9);
		fd_memfit_suggest(&a.model, &a.job, 80e9, sug, 8);
	}
	free(s);
	return 0;
}
