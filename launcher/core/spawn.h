/*
 * spawn.h - starting a child the supervisor can always take back.
 *
 * Everything is prepared before fork (argv, environment, pipes); signals stay blocked across
 * fork so the child cannot run a handler meant for the parent; the child restores default
 * dispositions and an empty mask, leads its own process group, asks for SIGKILL when
 * flightdeck dies (PR_SET_PDEATHSIG), then execs. A failed exec is reported to the parent
 * through a close-on-exec pipe, so "cannot execute" is told apart from "ran and exited 127".
 *
 * This is the one place in flightdeck that forks: every child, the supervisor's and the
 * checks' (gpubench), gets these guarantees.
 */
#ifndef FD_SPAWN_H
#define FD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct fd_spawn {
	char *const *argv;    /* argv[0] is looked up in PATH, unless exec_path */
	int capture;	      /* 1: stdout and stderr come back through out_fd/err_fd */
	int stdout_to_stderr; /* 1: the child's stdout goes to our stderr (helpers) */
	/*
	 * Added later; zero keeps the behaviour above.
	 * capture_stdout: only stdout comes back (out_fd); stderr stays ours, so a child's
	 *   diagnostics reach the user while its output is parsed (gpubench's JSON).
	 * same_group: the child stays in our process group instead of leading its own. For a
	 *   helper's helper: `flightdeck check` runs in a group the supervisor kills with
	 *   kill(-pgid); gpubench must die with it, which it does only as a member. Such a
	 *   child is taken back with fd_spawn_kill, not kill(-pid).
	 * exec_path: argv[0] is a path run as execv() runs it (a bare name is in the current
	 *   directory), never looked up in PATH: what access(path, X_OK) checked is what runs.
	 */
	int capture_stdout;
	int same_group;
	int exec_path;
	/*
	 * For `run`'s output; zero keeps the behaviour above. Both go with
	 * capture, and both leave err_fd at -1:
	 * capture_merged: stdout and stderr share one pipe, out_fd, so what the child wrote
	 *   comes back in the order it wrote it (for a user whose stdout and stderr are one file).
	 * pty: stdout and stderr are the slave of a new pseudo-terminal (opened, granted and
	 *   unlocked in the parent, before fork); the child leads a new session (so also its
	 *   own process group, as without pty) with that terminal as its controlling terminal.
	 *   out_fd is the master, which reads EIO once every holder of the slave is gone.
	 *   Output post-processing (ONLCR) is off, so "\n" stays "\n" as through a pipe.
	 */
	int capture_merged;
	int pty;
	/*
	 * For native ranks; 0 keeps the behaviour above. join_group: the child
	 * joins this existing process group (rank 0's) instead of leading its own, so one
	 * kill(-pgid) reaches every rank. Not with pty or same_group.
	 */
	pid_t join_group;
	/* filled by fd_spawn_start */
	pid_t pid;
	int out_fd, err_fd; /* -1 unless capture */
};

/*
 * fork() for a child flightdeck can always take back: in the child, default signal
 * dispositions and an empty mask, its own process group, SIGKILL when flightdeck dies
 * (PR_SET_PDEATHSIG); the parent sets the group too. Returns as fork() does.
 */
pid_t fd_fork_group(void);

/*
 * Starts sp->argv in a new process group (in ours with same_group). Returns 0, or -errno with err holding one line:
 * "cannot execute 'foo': No such file or directory" (the child has then been reaped, and
 * *exec_errno is its errno) or why the fork or pipes failed (*exec_errno = 0).
 */
int fd_spawn_start(struct fd_spawn *sp, int *exec_errno, char *err, size_t errlen);

/*
 * SIGKILL for a started child and everything it started. A child that leads its own group
 * gets kill(-pid). A same_group child (killing our group would kill us) is stopped, then
 * its descendants found in /proc are stopped too, walk after walk until no new one appears
 * (a stopped process cannot fork), then all of them are killed; each signal to a
 * descendant goes through fd_proc_signal, so a pid reused meanwhile is left alone. The
 * child itself is not reaped: the caller's waitpid() does that. Returns 0, or the first
 * -errno of the /proc walk (the child itself is killed regardless).
 */
int fd_spawn_kill(const struct fd_spawn *sp);

/*
 * Raises the soft limit of open files to need (up to the hard limit) for flightdeck itself:
 * node 0 of a large group holds a connection per node. Every child is started with the limit
 * flightdeck was started with, so the job sees the operator's limit, not ours (a select()
 * loop breaks on descriptors past 1024). 0, or -EMFILE with a line in err naming
 * `ulimit -n` when the hard limit is below need.
 */
int fd_nofile_reserve(long need, char *err, size_t errlen);
/* The descriptors open in this process now (/proc/self/fd), or 64 when it cannot be read. */
long fd_nofile_open_now(void);

#endif
