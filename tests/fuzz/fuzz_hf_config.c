/* fuzz_hf_config.c - a Hugging Face config.json (fd_model_hf_config), then its arithmetic. */
#include "fuzz.h"
#include "memfit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_model m = {0};
	struct fd_job j = {.dtype = 1, .tp = 1, .pp = 1, .dp = 1, .seq = 2048, .micro_batch = 1};
	struct fd_memfit r;
	char path[64], err[512];
	int fd = fz_file(data, size, path, sizeof(path));

	if (!fd_model_hf_config(path, &m, err, sizeof(err)) &&
	    !fd_memfit_validate(&m, &j, err, sizeof(err)))
		fd_memfit_compute(&m, &j, &r);
	close(fd);
	return 0;
}
