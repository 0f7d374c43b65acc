/* fuzz_nccl_list.c - NCCL_SOCKET_IFNAME / NCCL_IB_HCA lists (fd_nccl_list_parse, match). */
#include "fuzz.h"
#include "nccl_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	struct fd_nccl_list l;

	if (!fd_nccl_list_parse(s, &l)) {
		fd_nccl_list_match(&l, "mlx5_0", 1);
		fd_nccl_list_match(&l, "eth0", 0);
	}
	free(s);
	return 0;
}
