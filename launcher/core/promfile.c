/*
 * promfile.c - label escaping and the atomic replace of a node_exporter textfile (see
 * promfile.h).
 */
#define _GNU_SOURCE
#include "promfile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fd_prom_label(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

/* All of text to fd: a regular file takes it whole unless the disk is full. 0 or -errno. */
static int write_all(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

int fd_prom_replace(const char *path, const char *text, size_t len, int sync, int *beside)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32];
	int fd, r;

	if (beside)
		*beside = 0;
	fd_strlcpy(dir, path, sizeof(dir));
	if (fd_pathf(tmp, sizeof(tmp), "%s/.flightdeck-prom.XXXXXX", dirname(dir)))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		if (beside)
			*beside = 1;
		return -errno;
	}
	r = fchmod(fd, 0644) ? -errno : 0; /* mkstemp makes 0600 */
	if (!r)
		r = write_all(fd, text, len);
	if (!r && sync && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}
