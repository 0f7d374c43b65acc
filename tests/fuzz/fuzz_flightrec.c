/*
 * fuzz_flightrec.c - a rank's flight-recorder dump, cut short, huge, of another version or not
 * one at all (fd_fr_parse), and the verdict over two ranks' summaries of it (fd_culprit_judge).
 */
#include "fuzz.h"
#include "culprit.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_rank_evidence ev[2];
	struct fd_culprit v;
	char why[128];

	memset(ev, 0, sizeof(ev));
	ev[0].rank = 0;
	ev[1].rank = 1;
	(void)fd_fr_parse((const char *)data, size, &ev[0].fr, why, sizeof(why));
	(void)fd_fr_parse((const char *)data, size / 2, &ev[1].fr, why, sizeof(why));
	fd_culprit_judge(ev, 2, &v);
	return 0;
}
