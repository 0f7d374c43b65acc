/*
 * kmsg.c - loading and parsing the kernel log in /dev/kmsg and dmesg formats.
 *
 * /dev/kmsg hands out one record per read() and needs a buffer large enough for the whole
 * record (else EINVAL); EPIPE means records were overwritten while we read, which only
 * loses old lines, so reading goes on. The log is read once per `check` and shared.
 */
#include "kmsg.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_digits(const char **p, int64_t *v, int *ndigits)
{
	int64_t x = 0;
	int n = 0;

	while (isdigit((unsigned char)**p)) {
		if (x > (INT64_MAX - 9) / 10)
			return -ERANGE;
		x = x * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (!n)
		return -EINVAL;
	*v = x;
	if (ndigits)
		*ndigits = n;
	return 0;
}

/* "PRIO,SEQ,TS_US,FLAGS[,...];MESSAGE" */
static int parse_record(const char *line, struct fd_kmsg_line *out)
{
	const char *p = line, *semi = strchr(line, ';');
	int64_t prio, seq, ts;

	if (!semi || parse_digits(&p, &prio, NULL) || *p++ != ',' || parse_digits(&p, &seq, NULL) ||
	    *p++ != ',' || parse_digits(&p, &ts, NULL) || (*p != ',' && *p != ';') || p > semi)
		return -EINVAL;
	out->ts_us = ts;
	out->text = semi + 1;
	return 0;
}

/* "[ SECONDS.FRACTION] MESSAGE" */
static int parse_dmesg(const char *line, struct fd_kmsg_line *out)
{
	const char *p = line + 1;
	int64_t sec, frac = 0;
	int nd = 0;

	if (line[0] != '[')
		return -EINVAL;
	while (*p == ' ')
		p++;
	if (parse_digits(&p, &sec, NULL))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (parse_digits(&p, &frac, &nd) || nd > 9)
			return -EINVAL;
		for (; nd < 6; nd++)
			frac *= 10;
		for (; nd > 6; nd--)
			frac /= 10;
	}
	if (*p++ != ']')
		return -EINVAL;
	while (*p == ' ')
		p++;
	/* "[9223372036855] x" wrapped int64 microseconds: such a stamp is no stamp */
	if (__builtin_mul_overflow(sec, 1000000, &sec) || __builtin_add_overflow(sec, frac, &sec))
		return -EINVAL;
	out->ts_us = sec;
	out->text = p;
	return 0;
}

int fd_kmsg_parse_line(const char *line, struct fd_kmsg_line *out)
{
	if (!*line || line[0] == ' ' || line[0] == '\t')
		return -ENODATA;
	if (parse_record(line, out) == 0 || parse_dmesg(line, out) == 0)
		return 0;
	out->ts_us = -1;
	out->text = line;
	return 0;
}

/* Reads /dev/kmsg record by record until EAGAIN (the end of the buffer). */
static int read_kmsg_device(int fd, char **out, size_t *outlen)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	char rec[16384];

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t got = read(fd, rec, sizeof(rec) - 1);
		if (got < 0) {
			if (errno == EINTR || errno == EPIPE)
				continue;
			if (errno == EAGAIN)
				break;
			int e = -errno;
			free(buf);
			return e;
		}
		if (got == 0)
			break;
		if (len + (size_t)got + 2 > cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		memcpy(buf + len, rec, (size_t)got);
		len += (size_t)got;
		if (buf[len - 1] != '\n')
			buf[len++] = '\n';
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

static int split_lines(struct fd_kmsg_log *log, size_t len)
{
	size_t cap = 64, n = 0;
	char *p = log->buf, *end = log->buf + len;

	log->lines = malloc(cap * sizeof(*log->lines));
	if (!log->lines)
		return -ENOMEM;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl)
			*nl = '\0';
		if (n == cap) {
			void *nv = realloc(log->lines, cap * 2 * sizeof(*log->lines));
			if (!nv)
				return -ENOMEM;
			log->lines = nv;
			cap *= 2;
		}
		if (fd_kmsg_parse_line(p, &log->lines[n]) == 0)
			n++;
		if (!nl)
			break;
		p = nl + 1;
	}
	log->n = n;
	return 0;
}

int fd_kmsg_load(const char *path, struct fd_kmsg_log **out, char *err, size_t errlen)
{
	struct fd_kmsg_log *log = calloc(1, sizeof(*log));
	struct stat st;
	size_t len = 0;
	int fd, rc;

	if (!log)
		return -ENOMEM;
	log->uptime_ms = -1;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	if (S_ISCHR(st.st_mode)) {
		rc = read_kmsg_device(fd, &log->buf, &len);
		close(fd);
	} else {
		close(fd);
		rc = fd_read_all(path, &log->buf, &len);
	}
	if (rc)
		goto fail;
	rc = split_lines(log, len);
	if (rc)
		goto fail;
	*out = log;
	return 0;
fail:
	snprintf(err, errlen, "kernel log %s: %s", path, strerror(-rc));
	fd_kmsg_free(log);
	return rc;
}

void fd_kmsg_free(struct fd_kmsg_log *log)
{
	if (!log)
		return;
	free(log->buf);
	free(log->lines);
	free(log);
}

/* PROC/uptime: "3047.94 6045.26" (seconds since boot, idle seconds). */
int64_t fd_kmsg_uptime_ms(const char *proc_root)
{
	char path[PATH_MAX], buf[128];
	double up;

	if (fd_pathf(path, sizeof(path), "%s/uptime", proc_root) ||
	    fd_read_small(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%lf", &up) != 1)
		return -1;
	/* inf, nan or 1e19 seconds cast to int64 is undefined: unknown, like a missing file */
	if (!(up >= 0 && up * 1000 < 9.2e18))
		return -1;
	return (int64_t)(up * 1000);
}

int fd_kmsg_oom_killed(const struct fd_kmsg_log *log, int pid)
{
	char killed[48], field[32];

	if (pid <= 0)
		return 0;
	snprintf(killed, sizeof(killed), "Killed process %d ", pid);
	snprintf(field, sizeof(field), ",pid=%d,", pid);
	for (size_t i = 0; log && i < log->n; i++) {
		const char *t = log->lines[i].text;

		if ((strstr(t, "out of memory") || strstr(t, "Out of memory")) && strstr(t, killed))
			return 1;
		if (!strncmp(t, "oom-kill:", 9) && strstr(t, field))
			return 1;
	}
	return 0;
}

int64_t fd_kmsg_age_ms(const struct fd_kmsg_log *log, int64_t ts_us)
{
	if (ts_us < 0 || log->uptime_ms < 0)
		return -1;
	int64_t age = log->uptime_ms - ts_us / 1000;
	return age < 0 ? 0 : age;
}
