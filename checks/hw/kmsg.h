/*
 * kmsg.h - the kernel log as a list of (timestamp, message) lines.
 *
 * Two formats are accepted, line by line, in one file or stream:
 *   /dev/kmsg records:  "4,1234,5678901234,-;NVRM: Xid (PCI:0000:3b:00): 79, ..."
 *                       (the third field is microseconds since boot; continuation lines
 *                       that start with a space carry key=value pairs and are dropped)
 *   dmesg text:         "[ 5678.901234] NVRM: Xid (PCI:0000:3b:00): 79, ..."
 * Anything else (journalctl -k, syslog) is kept as a message without a timestamp.
 */
#ifndef FD_KMSG_H
#define FD_KMSG_H

#include <stddef.h>
#include <stdint.h>

#define FD_KMSG_DEFAULT "/dev/kmsg"

struct fd_kmsg_line {
	int64_t ts_us; /* since boot; -1 when the line carries none */
	const char *text;
};

struct fd_kmsg_log {
	char *buf;
	struct fd_kmsg_line *lines;
	size_t n;
	int64_t uptime_ms; /* from PROC/uptime; -1 unknown: ages cannot be computed */
};

/*
 * Parses one line in place (no newline). Returns 0 with *out filled, or -ENODATA for a line
 * to skip (empty, or a /dev/kmsg continuation line).
 */
int fd_kmsg_parse_line(const char *line, struct fd_kmsg_line *out);

/*
 * Loads the kernel log from path: a character device is read record by record (the
 * /dev/kmsg protocol, non-blocking, to the end of the buffer), anything else as text.
 * Returns 0 or -errno (err names the file).
 */
int fd_kmsg_load(const char *path, struct fd_kmsg_log **out, char *err, size_t errlen);
void fd_kmsg_free(struct fd_kmsg_log *log);

/* PROC/uptime in milliseconds (seconds since boot); -1 when unreadable or malformed. */
int64_t fd_kmsg_uptime_ms(const char *proc_root);

/* The age in ms of a line at ts_us given the log's uptime; -1 when unknown. */
int64_t fd_kmsg_age_ms(const struct fd_kmsg_log *log, int64_t ts_us);

/*
 * Whether the kernel's OOM killer killed pid: "Out of memory: Killed process PID (...)", the
 * memory cgroup's "Memory cgroup out of memory: Killed process PID (...)", or an
 * "oom-kill:...,pid=PID,..." line. 1 or 0.
 */
int fd_kmsg_oom_killed(const struct fd_kmsg_log *log, int pid);

#endif
