/*
 * verdict.c - the report's verdict in the short forms schedulers read: one Slurm drain reason
 * (--reason-file) and the Kubernetes termination message (--termination-log). See report.h.
 */
#define _GNU_SOURCE
#include "report.h"
#include "exits.h"
#include "termlog.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "-" and /dev/stdout: the line goes to standard output (a link, were it opened as a path). */
static int to_stdout(const char *path)
{
	return !strcmp(path, "-") || !strcmp(path, "/dev/stdout");
}

int fd_reason_path_check(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (to_stdout(path))
		return 0;
	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--reason-file %s: not a regular file (%s)", path,
			 S_ISLNK(st.st_mode)	? "a symbolic link"
			 : S_ISFIFO(st.st_mode) ? "a FIFO"
						: "not a file");
		return -EINVAL;
	}
	return 0;
}

/*
 * Written in place, never through a link (the prolog runs as root in a directory others may
 * write) and never into a FIFO, which would block without a reader.
 */
int fd_report_reason_file(const char *path, const struct fd_report *rep, char *err, size_t errlen)
{
	char line[200] = "";
	size_t n = 0;
	struct stat st;
	int fd, r = 0;

	if (fd_report_verdict(rep) == FD_FAIL) {
		n = (size_t)snprintf(line, sizeof(line), "flightdeck: ");
		n += fd_report_reason(rep, line + n, sizeof(line) - n - 1);
		line[n++] = '\n';
	}
	if (to_stdout(path)) {
		if (fwrite(line, 1, n, stdout) != n || fflush(stdout)) {
			snprintf(err, errlen, "--reason-file %s: %s", path, strerror(errno));
			return -EIO;
		}
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "--reason-file %s: %s", path,
			 errno == ELOOP	  ? "a symbolic link (refused)"
			 : errno == ENXIO ? "a FIFO (refused)"
					  : strerror(errno));
		return r;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--reason-file %s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (ftruncate(fd, 0) || write(fd, line, n) != (ssize_t)n) { /* a regular file: whole */
		r = -errno;
		snprintf(err, errlen, "--reason-file %s: %s", path, strerror(errno));
	}
	if (close(fd) && !r) {
		r = -errno;
		snprintf(err, errlen, "--reason-file %s: %s", path, strerror(errno));
	}
	return r;
}

int fd_report_termination(const char *path, const struct fd_report *rep,
			  const struct fd_report_meta *m, int status, char *err, size_t errlen)
{
	char msg[FD_TERMLOG_MAX], codes[200];
	int n;

	n = snprintf(msg, sizeof(msg), "flightdeck check: exit %d (%s)\nnode: %s\nlevel: %s\n",
		     status, fd_exit_name("check", status), m->node, m->level);
	if (fd_report_reason(rep, codes, sizeof(codes)) && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, "codes: %s\n", codes);
	return fd_termlog_write(path, msg, err, errlen);
}
