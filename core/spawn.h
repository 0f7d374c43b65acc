/*
 * spawn.h - starting a child the supervisor can always take back.
 *
 * Everything is prepared before fork (argv, environment, pipes); signals stay blocked across
 * fork so the child cannot run a handler meant for the parent; the child restores default
 * dispositions and an empty mask, leads its own process group, asks for SIGKILL when
 * flightdeck dies (PR_SET_PDEATHSIG), then execs. A failed exec is reported to the parent
 * through a close-on-exec pipe, so "cannot execute" is told apart from "ran and exited 127".
 */
#ifndef FD_SPAWN_H
#define FD_SPAWN_H

#include <sys/types.h>

struct fd_spawn {
	char *const *argv;    /* argv[0] is looked up in PATH */
	int capture;	      /* 1: stdout and stderr come back through out_fd/err_fd */
	int stdout_to_stderr; /* 1: the child's stdout goes to our stderr (helpers) */
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
 * Starts sp->argv in a new process group. Returns 0, or -errno with err holding one line:
 * "cannot execute 'foo': No such file or directory" (the child has then been reaped, and
 * *exec_errno is its errno) or why the fork or pipes failed (*exec_errno = 0).
 */
int fd_spawn_start(struct fd_spawn *sp, int *exec_errno, char *err, size_t errlen);

#endif
