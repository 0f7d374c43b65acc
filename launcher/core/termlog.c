/*
 * termlog.c - the termination message (termlog.h): where, and written whole or cut where a
 * reader can still read it.
 */
#define _GNU_SOURCE
#include "termlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *fd_termlog_path(const char *opt)
{
	if (opt && *opt) /* "" is unset, as --show-config writes it */
		return strcmp(opt, "none") ? opt : NULL;
	return access(FD_TERMLOG_DEFAULT, W_OK) ? NULL : FD_TERMLOG_DEFAULT;
}

/* How much of msg fits: all, else up to its last line end within the limit, else up to the
 * last character that is whole (a UTF-8 continuation byte is 10xxxxxx). */
static size_t fit(const char *msg, size_t n)
{
	size_t k = FD_TERMLOG_MAX;

	if (n <= FD_TERMLOG_MAX)
		return n;
	while (k > 0 && msg[k - 1] != '\n')
		k--;
	if (k)
		return k;
	k = FD_TERMLOG_MAX;
	while (k > 0 && ((unsigned char)msg[k] & 0xc0) == 0x80)
		k--;
	return k;
}

int fd_termlog_write(const char *path, const char *msg, char *err, size_t errlen)
{
	size_t n = fit(msg, strlen(msg)), off = 0;
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "--termination-log %s: %s", path,
			 errno == ELOOP	  ? "a symbolic link (not followed)"
			 : errno == ENXIO ? "a FIFO with no reader (not written)"
					  : strerror(errno));
		return r;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--termination-log %s: not a regular file (not written)",
			 path);
		close(fd);
		return -EINVAL;
	}
	if (ftruncate(fd, 0))
		r = -errno;
	while (!r && off < n) {
		ssize_t w = write(fd, msg + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) && !r)
		r = -errno;
	if (r)
		snprintf(err, errlen, "--termination-log %s: %s", path, strerror(-r));
	return r;
}
