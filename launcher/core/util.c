/*
 * util.c - unit parsers, bounded file reads, clocks and formatting shared by every command.
 *
 * The parsers accept a deliberately narrow grammar: strtod() alone would take " 1", "inf",
 * "0x10" and "1e400", each of which would turn a typo in a Slurm prolog into a silent default.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void fd_err(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "flightdeck: %s\n", msg);
}

/*
 * Scans [0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)? at s; *end is set past it. The scanned text is
 * then converted with strtod, which is exact for what this grammar admits.
 */
static int scan_number(const char *s, int allow_exp, double *v, const char **end)
{
	const char *p = s;
	char tmp[64];

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (allow_exp && (*p == 'e' || *p == 'E')) {
		const char *q = p + 1;

		if (*q == '+' || *q == '-')
			q++;
		if (isdigit((unsigned char)*q)) {
			while (isdigit((unsigned char)*q))
				q++;
			p = q;
		}
	}
	if ((size_t)(p - s) >= sizeof(tmp))
		return -ERANGE;
	memcpy(tmp, s, (size_t)(p - s));
	tmp[p - s] = '\0';
	*v = strtod(tmp, NULL);
	if (!isfinite(*v))
		return -ERANGE;
	*end = p;
	return 0;
}

struct unit {
	const char *suffix;
	double scale;
};

/*
 * The number at the head of s and the unit its suffix names (case-insensitive): 0 with *v,
 * *end (the suffix) and *u set; -EINVAL for no number or a suffix not in units.
 */
static int scan_with_unit(const char *s, int allow_exp, const struct unit *units, size_t n,
			  double *v, const char **end, const struct unit **u)
{
	int rc;

	if (!s)
		return -EINVAL;
	rc = scan_number(s, allow_exp, v, end);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(*end, units[i].suffix) == 0) {
			*u = &units[i];
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_with_units(const char *s, int allow_exp, const struct unit *units, size_t n,
			    double max, double *out)
{
	const struct unit *u;
	const char *end;
	double v;
	int rc = scan_with_unit(s, allow_exp, units, n, &v, &end, &u);

	if (rc)
		return rc;
	v *= u->scale;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int fd_parse_duration_ms(const char *s, int64_t *ms)
{
	static const struct unit units[] = {
	    {"", 1e3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3},
	};
	double v;
	int rc = parse_with_units(s, 0, units, FD_ARRAY_SIZE(units), 9e18, &v);

	if (rc)
		return rc;
	*ms = (int64_t)llround(v);
	return 0;
}

/*
 * Sizes and counts as uint64: a whole number of a whole unit is converted exactly in 64 bits
 * (a double holds 53 bits, and llround() past 2^63 wrapped "16000000000000000000" to 2^63);
 * a fraction or an exponent goes through the double. Past 2^64 - 1: -ERANGE.
 */
static int parse_u64_with_units(const char *s, int allow_exp, const struct unit *units, size_t n,
				uint64_t *out)
{
	const struct unit *u;
	const char *end;
	double v;
	int rc = scan_with_unit(s, allow_exp, units, n, &v, &end, &u);

	if (rc)
		return rc;
	if (strspn(s, "0123456789") == (size_t)(end - s)) {
		uint64_t x = 0;

		for (const char *p = s; p < end; p++)
			if (__builtin_mul_overflow(x, 10, &x) ||
			    __builtin_add_overflow(x, (uint64_t)(*p - '0'), &x))
				return -ERANGE;
		if (__builtin_mul_overflow(x, (uint64_t)u->scale, &x))
			return -ERANGE;
		*out = x;
		return 0;
	}
	v *= u->scale;
	if (!(v < 18446744073709551616.0)) /* 2^64, exact as a double */
		return -ERANGE;
	*out = v < 4503599627370496.0 ? (uint64_t)llround(v) : (uint64_t)v; /* 2^52 */
	return 0;
}

int fd_parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {
	    {"", 1},
	    {"b", 1},
	    {"k", 1e3},
	    {"kb", 1e3},
	    {"m", 1e6},
	    {"mb", 1e6},
	    {"g", 1e9},
	    {"gb", 1e9},
	    {"t", 1e12},
	    {"tb", 1e12},
	    {"kib", 1024.0},
	    {"mib", 1048576.0},
	    {"gib", 1073741824.0},
	    {"tib", 1099511627776.0},
	};
	return parse_u64_with_units(s, 0, units, FD_ARRAY_SIZE(units), bytes);
}

int fd_parse_count(const char *s, uint64_t *n)
{
	static const struct unit units[] = {
	    {"", 1}, {"k", 1e3}, {"m", 1e6}, {"b", 1e9}, {"g", 1e9}, {"t", 1e12},
	};
	return parse_u64_with_units(s, 1, units, FD_ARRAY_SIZE(units), n);
}

int fd_parse_uint(const char *s, int *out)
{
	long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > 0x7fffffff)
			return -ERANGE;
	}
	*out = (int)v;
	return 0;
}

int fd_parse_int_list(const char *s, int *out, size_t max, size_t *n)
{
	char buf[1024];
	char *save = NULL;
	size_t k = 0;

	if (fd_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -ERANGE;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		if (k == max)
			return -ERANGE;
		int rc = fd_parse_uint(tok, &out[k]);
		if (rc)
			return rc;
		k++;
	}
	*n = k;
	return 0;
}

int fd_read_small(const char *path, char *buf, size_t len)
{
	ssize_t got;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* sysfs attributes are at most a page; loop anyway, regular files may be short-read. */
	while (off + 1 < len) {
		got = read(fd, buf + off, len - 1 - off);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			close(fd);
			return e;
		}
		if (got == 0)
			break;
		off += (size_t)got;
	}
	if (off + 1 >= len) {
		char extra;
		ssize_t more;

		do
			more = read(fd, &extra, 1);
		while (more < 0 && errno == EINTR);
		if (more != 0) { /* more data (too big), or a read error: neither is the file */
			int e = more > 0 ? -EFBIG : -errno;

			close(fd);
			return e;
		}
	}
	close(fd);
	while (off > 0 && isspace((unsigned char)buf[off - 1]))
		off--;
	buf[off] = '\0';
	return (int)off;
}

int fd_read_all(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, off = 0;
	char *buf = malloc(cap);
	int fd, rc = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	for (;;) {
		if (off + 1 >= cap) {
			char *nb;

			if (cap >=
			    FD_READ_ALL_MAX) { /* /dev/zero as a config.json: refused, not OOM */
				rc = -EFBIG;
				goto fail;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + off, cap - 1 - off);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		if (got == 0)
			break;
		off += (size_t)got;
	}
	close(fd);
	buf[off] = '\0';
	*out = buf;
	if (len)
		*len = off;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int fd_pathf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int64_t fd_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double fd_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fd_fmt_bytes(uint64_t bytes, char *out, size_t len)
{
	static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	size_t i = 0;

	while (v >= 1024 && i + 1 < FD_ARRAY_SIZE(names)) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, len, "%.1f %s", v, names[i]);
}

void fd_node_name(char *out, size_t len, const char *given)
{
	const char *s = given ? given : getenv("FLIGHTDECK_NODE");

	if (!s || !*s)
		s = getenv("SLURMD_NODENAME");

	if (s && *s) {
		fd_strlcpy(out, s, len);
		return;
	}
	if (gethostname(out, len))
		fd_strlcpy(out, "unknown", len);
	out[len - 1] = '\0';
}

void fd_fmt_duration(int64_t ms, char *out, size_t len)
{
	if (ms < 1000)
		snprintf(out, len, "%lld ms", (long long)ms);
	else if (ms < 120000)
		snprintf(out, len, "%.3g s", (double)ms / 1e3);
	else if (ms < 2 * 3600000LL)
		snprintf(out, len, "%.1f min", (double)ms / 60e3);
	else if (ms < 48 * 3600000LL)
		snprintf(out, len, "%.1f h", (double)ms / 3600e3);
	else
		snprintf(out, len, "%.1f d", (double)ms / 86400e3);
}

void fd_pci_normalise(char *bdf)
{
	char *colon = strchr(bdf, ':');

	if (colon && colon - bdf == 8 && strncmp(bdf, "0000", 4) == 0)
		memmove(bdf, bdf + 4, strlen(bdf + 4) + 1);
	for (char *p = bdf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

long fd_send_now(int fd, const void *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t k = send(fd, (const char *)buf + off, n - off, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (k <= 0)
			return k < 0 ? -errno : -EPIPE;
		off += (size_t)k;
	}
	return (long)off;
}

long fd_cpus_allowed(void)
{
	cpu_set_t set;
	long n;

	if (!sched_getaffinity(0, sizeof(set), &set))
		return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

size_t fd_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (len) {
		size_t c = n < len - 1 ? n : len - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int64_t fd_sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

int64_t fd_sat_mul(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
	return r;
}

int64_t fd_ms_to_ns(int64_t ms)
{
	return ms <= 0 ? 0 : fd_sat_mul(ms, 1000000);
}

int64_t fd_deadline_ns(int64_t now_ns, int64_t ms)
{
	return fd_sat_add(now_ns, fd_ms_to_ns(ms));
}

int64_t fd_dbl_to_i64(double v)
{
	if (isnan(v))
		return 0;
	/* 2^63 is exact as a double; anything at or past it does not fit */
	if (v >= 9223372036854775808.0)
		return INT64_MAX;
	if (v < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)v;
}

int fd_free_tcp_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

	if (fd < 0)
		return 0;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void fd_appendf(char *out, size_t len, size_t *k, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (!len || *k + 1 >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(out + *k, len - *k, fmt, ap);
	va_end(ap);
	if (w > 0)
		*k += (size_t)w;
	if (*k >= len)
		*k = len - 1;
}
