/* fuzz_beat.c - the heartbeat datagram (fd_beat_parse), as it arrives from any local process. */
#include "fuzz.h"
#include "heartbeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_beat b;

	fd_beat_parse((const char *)data, size, &b);
	return 0;
}
