/*
 * proctree.h - the supervisor's view of its process tree, from /proc.
 *
 * flightdeck is a child subreaper, so a descendant that daemonised (double fork, setsid)
 * is re-parented to flightdeck instead of init and can still be found by walking parent
 * links from flightdeck's own pid.
 *
 * A pid read from /proc, or remembered from a heartbeat, names a process only until that
 * process is reaped; after that the kernel may hand the number to a stranger. A process's
 * start time (field 22 of /proc/PID/stat) does not change and is not reused together with
 * the pid, so the pair (pid, start time) names one process for good: every signal sent to
 * a process flightdeck did not reap itself goes through fd_proc_signal, which checks it.
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
	unsigned long long starttime; /* clock ticks after boot: with pid, names the process */
};

/*
 * Every process whose parent chain leads to `root` (root itself excluded), zombies included.
 * Fills at most max entries; *n gets how many exist. Returns 0, or -errno when /proc could
 * not be walked whole (cannot open or read it, out of memory, a stat file that does not
 * parse): then *n is 0 and nothing may be concluded about the tree, least of all that it
 * is gone. A process that exits during the walk is simply not counted.
 */
int fd_descendants(pid_t root, struct fd_proc *out, size_t max, size_t *n);

/*
 * flightdeck's own side children (scontrol for --drain-replaced) are not the job's:
 * fd_descendants leaves each, and all it starts, out of every walk, so a stop neither signals
 * nor waits for them. Each is named by pid and start time (read here: call it from the
 * parent right after the fork); at most FD_ASIDE_MAX at once, the oldest forgotten past that.
 * fd_aside_forget when it is reaped. 0, or -errno when pid cannot be read (not set aside).
 */
#define FD_ASIDE_MAX 8
int fd_aside_add(pid_t pid);
void fd_aside_forget(pid_t pid);

/* One process's state; -ESRCH when it is gone. */
int fd_proc_read(pid_t pid, struct fd_proc *p);

/*
 * Sends sig to p only while p->pid still names the process p was read from: pidfd_open()
 * pins the process, /proc/PID/stat is re-read to confirm the start time (and, for a real
 * signal, that it is not a zombie), then pidfd_send_signal() delivers to exactly that
 * process. Without pidfds (Linux < 5.3: ENOSYS) the same check runs immediately before
 * kill(), which leaves only the microseconds between the two to a pid reuse.
 * Returns 0, -ESRCH when the process is gone or the pid is now another process's (nothing
 * was sent), or another -errno (-EPERM).
 */
int fd_proc_signal(const struct fd_proc *p, int sig);

/* The same for a caller that remembers a pid and its start time (a rank's heartbeat pid). */
int fd_pid_signal_checked(pid_t pid, unsigned long long starttime, int sig);

#endif
