/* fuzz_config.c - a `key = value` config file (fd_config_load over the check tunables). */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_config cfg;
	char path[64], err[512];
	int fd = fz_file(data, size, path, sizeof(path));

	fd_config_init(&cfg);
	fd_config_load(&cfg, path, err, sizeof(err));
	close(fd);
	return 0;
}
