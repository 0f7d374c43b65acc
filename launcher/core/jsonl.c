/*
 * jsonl.c - one JSON object per line (see jsonl.h).
 */
#include "jsonl.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int fd_jsonl_write(int fd, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);
	size_t n;
	int r = 0;

	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	text[n] = '\n'; /* cJSON's buffer has room: overwrite the NUL, write n+1 bytes */
	if (write(fd, text, n + 1) < 0)
		r = -errno;
	cJSON_free(text);
	return r;
}
