/* fuzz_stacks.c - a rank's stack dump, garbage or enormous (stacks_innermost, fd_stack_class). */
#include "fuzz.h"
#include "culprit.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	char out[512];

	stacks_innermost(s, out, sizeof(out));
	(void)fd_stack_class(s);
	free(s);
	return 0;
}
