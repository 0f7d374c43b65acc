/*
 * proctree.c - walking /proc for the descendants of a process.
 */
#include "proctree.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fd_proc_read(pid_t pid, struct fd_proc *p)
{
	char path[64], buf[1024], *open_p, *close_p;
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
	if (sscanf(close_p + 2, "%c %d", &p->state, &p->ppid) != 2)
		return -EINVAL;
	return 0;
}

int fd_descendants(pid_t root, struct fd_proc *out, size_t max, size_t *n)
{
	size_t cap = 1024, all = 0, found = 0;
	struct fd_proc *procs = malloc(cap * sizeof(*procs));
	char *mark;
	struct dirent *de;
	DIR *d = opendir("/proc");
	int changed;

	*n = 0;
	if (!procs || !d) {
		int e = d ? ENOMEM : errno;

		free(procs);
		if (d)
			closedir(d);
		return -e;
	}
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (all == cap) {
			struct fd_proc *p = realloc(procs, 2 * cap * sizeof(*procs));

			if (!p)
				break;
			procs = p;
			cap *= 2;
		}
		if (!fd_proc_read((pid_t)atoi(de->d_name), &procs[all]))
			all++;
	}
	closedir(d);
	mark = calloc(all ? all : 1, 1);
	if (!mark) {
		free(procs);
		return -ENOMEM;
	}
	/* Mark children of root, then their children, until nothing new is marked. */
	do {
		changed = 0;
		for (size_t i = 0; i < all; i++) {
			if (mark[i])
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
	free(mark);
	free(procs);
	return 0;
}
