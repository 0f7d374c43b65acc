/*
 * util.h - small shared helpers: the unit parsers of the CLI contract, bounded file reads,
 * clocks and human formatting.
 *
 * Conventions (as everywhere in flightdeck): functions return 0 or a negative errno, never
 * exit, never print unless their name says so (fd_err).
 */
#ifndef FD_UTIL_H
#define FD_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The size of an error-line buffer handed down to a layer that fills it (a probe's err). */
#define FD_ERR_MAX 512

#include "exits.h" /* the exit statuses, a contract scripts rely on */

/* Prints "flightdeck: <message>" and a newline on stderr: the one-line error of the contract. */
void fd_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Durations: plain seconds or a number with a suffix ms, s, m, h, d ("90", "1.5s", "10m", "72h").
 * The result is in milliseconds. -EINVAL for anything else (empty, negative, trailing junk),
 * -ERANGE past ~290 million years.
 */
int fd_parse_duration_ms(const char *s, int64_t *ms);

/*
 * Sizes: bytes, or K/M/G/T (and KB/MB/GB/TB: powers of 1000), or KiB/MiB/GiB/TiB (powers of
 * 1024). Case-insensitive suffix; fractions allowed ("1.5GiB"). -EINVAL / -ERANGE as above.
 */
int fd_parse_size(const char *s, uint64_t *bytes);

/* Counts: a number, scientific notation or K/M/B/T suffix ("7B", "7e9", "70b", "1.5k"). */
int fd_parse_count(const char *s, uint64_t *n);

/* A comma-separated list of non-negative integers ("48,63,79"); at most max entries. */
int fd_parse_int_list(const char *s, int *out, size_t max, size_t *n);

/* A plain non-negative decimal integer that fits an int ("8"); -EINVAL / -ERANGE. */
int fd_parse_uint(const char *s, int *out);

/*
 * Reads a small file whole into buf (NUL-terminated), trailing whitespace stripped.
 * Returns the length, -errno on failure, -EFBIG if it does not fit.
 */
int fd_read_small(const char *path, char *buf, size_t len);

/*
 * Reads any file whole into a malloc'd buffer (NUL-terminated); *len gets its length.
 * -EFBIG past FD_READ_ALL_MAX bytes (a device or a FIFO named as a file must not eat memory).
 */
#define FD_READ_ALL_MAX (256u << 20)
int fd_read_all(const char *path, char **out, size_t *len);

/* snprintf that reports truncation as -ENAMETOOLONG. */
int fd_pathf(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Saturating arithmetic for clocks and durations (docs/architecture.md, "Contracts"): a
 * deadline far in the future is INT64_MAX ("never"), not a wrapped negative that fires at
 * once. The option layer bounds each duration (FD_OPT_MS_MAX), but a sum with the clock or a
 * product (a factor, a doubling) can still leave int64; these never do.
 */
int64_t fd_sat_add(int64_t a, int64_t b);
int64_t fd_sat_mul(int64_t a, int64_t b);
/* ms -> ns, saturating; a negative ms is 0. */
int64_t fd_ms_to_ns(int64_t ms);
/* now_ns + ms, saturating at INT64_MAX. */
int64_t fd_deadline_ns(int64_t now_ns, int64_t ms);
/* A double to int64, truncated, saturating at the ends; NaN is 0. */
int64_t fd_dbl_to_i64(double v);

/* Monotonic nanoseconds, and wall-clock Unix seconds with a fraction. */
int64_t fd_mono_ns(void);
double fd_wall_s(void);

/*
 * The node's name in reports and textfiles: given (--node), else $FLIGHTDECK_NODE (a
 * Kubernetes manifest sets it to node/pod), else $SLURMD_NODENAME (what Slurm calls the
 * node), else the hostname, else "unknown".
 */
void fd_node_name(char *out, size_t len, const char *given);

/* "64.0 MiB", "1.2 TiB": binary units, one decimal. */
void fd_fmt_bytes(uint64_t bytes, char *out, size_t len);

/* "850 ms", "12 s", "27.5 h": a duration for people. */
void fd_fmt_duration(int64_t ms, char *out, size_t len);

/*
 * Rewrites a PCI address the way the kernel's sysfs names it: NVML and CUDA print an 8-digit
 * domain in upper case ("00000000:1B:00.0"); sysfs uses 4 digits, lower case ("0000:1b:00.0").
 */
void fd_pci_normalise(char *bdf);

/* Copies at most len-1 bytes and always terminates; returns strlen(src). */
size_t fd_strlcpy(char *dst, const char *src, size_t len);

/*
 * Sends what a non-blocking socket takes now (MSG_NOSIGNAL, EINTR retried): the bytes sent, 0
 * to n, fewer when it would block; -errno on an error, -EPIPE when it sends nothing more.
 */
long fd_send_now(int fd, const void *buf, size_t n);
/* The CPUs this process may run on (its affinity: a Slurm or cgroup cpuset), at least 1. */
long fd_cpus_allowed(void);
/*
 * printf onto the end of out[0..len), *k the length so far (kept < len); what does not fit is
 * cut, and later calls add nothing. For messages built in pieces.
 */
void fd_appendf(char *out, size_t len, size_t *k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * A TCP port free on this host now (bound to port 0 and let go): a new generation's store
 * never meets the old one's port in TIME_WAIT. 0 when none can be had.
 */
int fd_free_tcp_port(void);

#endif
