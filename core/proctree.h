/*
 * proctree.h - the supervisor's view of its process tree, from /proc.
 *
 * flightdeck is a child subreaper, so a descendant that daemonised (double fork, setsid)
 * is re-parented to flightdeck instead of init and can still be found by walking parent
 * links from flightdeck's own pid.
 */
#ifndef FD_PROCTREE_H
#define FD_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

struct fd_proc {
	pid_t pid;
	pid_t ppid;
	char state; /* R S D T t Z X ... as in /proc/PID/stat */
	char comm[32];
};

/*
 * Every process whose parent chain leads to `root` (root itself excluded), zombies included.
 * Fills at most max entries; *n gets how many exist. Returns 0 or -errno.
 */
int fd_descendants(pid_t root, struct fd_proc *out, size_t max, size_t *n);

/* One process's state; -ESRCH when it is gone. */
int fd_proc_read(pid_t pid, struct fd_proc *p);

#endif
