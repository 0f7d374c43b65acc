/*
 * proctree.c - walking /proc for the descendants of a process, and signalling a process
 * only while it is provably the one that was found (see proctree.h).
 */
#define _GNU_SOURCE
#include "proctree.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int fd_proc_read(pid_t pid, struct fd_proc *p)
{
	char path[64], buf[2048], *open_p, *close_p; /* a stat line is ~52 numbers */
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = fd_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : n;
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses; the last ')' ends it. */
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p || close_p[1] != ' ')
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(close_p - open_p - 1), open_p + 1);
	/* fields 3 (state) and 4 (ppid), then 5 to 21 skipped, then 22 (starttime) */
	if (sscanf(close_p + 2,
		   "%c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
		   "%llu",
		   &p->state, &p->ppid, &p->starttime) != 3)
		return -EINVAL;
	return 0;
}

/* The side children set aside (pid 0: a free slot); next: the slot the next one takes. */
static struct {
	pid_t pid;
	unsigned long long starttime;
} aside[FD_ASIDE_MAX];
static unsigned aside_next;

int fd_aside_add(pid_t pid)
{
	struct fd_proc p;
	int rc = fd_proc_read(pid, &p);
	unsigned i;

	if (rc)
		return rc;
	for (i = 0; i < FD_ASIDE_MAX && aside[i].pid; i++)
		;
	if (i == FD_ASIDE_MAX) /* all taken: the oldest goes */
		i = aside_next++ % FD_ASIDE_MAX;
	aside[i].pid = pid;
	aside[i].starttime = p.starttime;
	return 0;
}

void fd_aside_forget(pid_t pid)
{
	for (unsigned i = 0; pid > 0 && i < FD_ASIDE_MAX; i++)
		if (aside[i].pid == pid)
			aside[i].pid = 0;
}

static int is_aside(const struct fd_proc *p)
{
	for (unsigned i = 0; i < FD_ASIDE_MAX; i++)
		if (aside[i].pid && aside[i].pid == p->pid && aside[i].starttime == p->starttime)
			return 1;
	return 0;
}

int fd_descendants(pid_t root, struct fd_proc *out, size_t max, size_t *n)
{
	size_t cap = 1024, all = 0, found = 0;
	struct fd_proc *procs = malloc(cap * sizeof(*procs));
	char *mark = NULL;
	struct dirent *de;
	DIR *d = opendir("/proc");
	int changed, rc = 0;

	*n = 0;
	if (!d) {
		rc = -errno;
		goto out;
	}
	if (!procs) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			rc = -errno; /* 0 at the end of the directory */
			break;
		}
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (all == cap) {
			struct fd_proc *p = realloc(procs, 2 * cap * sizeof(*procs));

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			procs = p;
			cap *= 2;
		}
		int r = fd_proc_read((pid_t)atoi(de->d_name), &procs[all]);

		if (!r)
			all++;
		else if (r != -ESRCH) { /* -ESRCH: it exited since readdir, which is no error */
			rc = r;
			break;
		}
	}
	if (rc)
		goto out;
	mark = calloc(all ? all : 1, 1);
	if (!mark) {
		rc = -ENOMEM;
		goto out;
	}
	/* Mark children of root, then their children, until nothing new is marked; what is
	 * set aside is never marked, so neither is anything below it. */
	do {
		changed = 0;
		for (size_t i = 0; i < all; i++) {
			if (mark[i] || is_aside(&procs[i]))
				continue;
			if (procs[i].ppid == root) {
				mark[i] = changed = 1;
				continue;
			}
			for (size_t j = 0; j < all; j++)
				if (mark[j] && procs[j].pid == procs[i].ppid) {
					mark[i] = changed = 1;
					break;
				}
		}
	} while (changed);
	for (size_t i = 0; i < all; i++)
		if (mark[i]) {
			if (found < max)
				out[found] = procs[i];
			found++;
		}
	*n = found;
out:
	if (d)
		closedir(d);
	free(mark);
	free(procs);
	return rc;
}

/* Is pid still the process that started at `starttime` (and, for a real signal, alive)? */
static int still_same(pid_t pid, unsigned long long starttime, int sig)
{
	struct fd_proc now;
	int rc = fd_proc_read(pid, &now);

	if (rc)
		return rc;
	if (now.starttime != starttime)
		return -ESRCH; /* the pid was reused: a stranger */
	if (sig && (now.state == 'Z' || now.state == 'X'))
		return -ESRCH; /* exited, not yet reaped: nothing to deliver to */
	return 0;
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static int pidfd_send_signal_(int fd, int sig)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

int fd_pid_signal_checked(pid_t pid, unsigned long long starttime, int sig)
{
	int fd, rc;

	if (pid <= 0)
		return -EINVAL; /* never a group or "everyone": kill(0) and kill(-1) are not ours */
	fd = pidfd_open_(pid);
	if (fd < 0 && errno != ENOSYS)
		return -errno; /* -ESRCH: gone */
	/* With fd open the process cannot be replaced: a match now is a match at the send. */
	rc = still_same(pid, starttime, sig);
	if (rc)
		goto out;
	if (fd >= 0)
		rc = pidfd_send_signal_(fd, sig) ? -errno : 0;
	else
		rc = kill(pid, sig) ? -errno : 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int fd_proc_signal(const struct fd_proc *p, int sig)
{
	return fd_pid_signal_checked(p->pid, p->starttime, sig);
}
