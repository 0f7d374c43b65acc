/*
 * spawn.c - fork and exec with the supervisor's guarantees (see spawn.h).
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

pid_t fd_fork_group(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	pid_t parent = getpid(), pid = fork();
	sigset_t none;

	if (pid > 0)
		setpgid(pid, pid); /* also here, so no signal is sent before the child did it */
	if (pid != 0)
		return pid;
	/* the child: only async-signal-safe calls from here to exec */
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, 32, 33 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) /* flightdeck died before the prctl */
		_exit(127);
	return 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(const struct fd_spawn *sp, int out[2], int errp[2], int report)
{
	int e;

	if (sp->capture) {
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
	} else if (sp->stdout_to_stderr) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
	execvp(sp->argv[0], sp->argv);
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(e == ENOENT ? 127 : 126);
}

int fd_spawn_start(struct fd_spawn *sp, int *exec_errno, char *err, size_t errlen)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1}, e = 0;
	pid_t pid;
	ssize_t n;

	*exec_errno = 0;
	sp->pid = -1;
	sp->out_fd = sp->err_fd = -1;
	if ((sp->capture && (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC))) ||
	    pipe2(rep, O_CLOEXEC)) {
		e = errno;
		snprintf(err, errlen, "cannot create pipes: %s", strerror(e));
		goto fail;
	}
	pid = fd_fork_group();
	if (pid < 0) {
		e = errno;
		snprintf(err, errlen, "cannot fork: %s", strerror(e));
		goto fail;
	}
	if (pid == 0)
		child(sp, out, errp, rep[1]);
	close(rep[1]);
	rep[1] = -1;
	do
		n = read(rep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	rep[0] = -1;
	if (n == (ssize_t)sizeof(e)) {
		/* exec failed: the child is exiting right now */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		*exec_errno = e;
		snprintf(err, errlen, "cannot execute '%s': %s", sp->argv[0], strerror(e));
		goto fail;
	}
	sp->pid = pid;
	if (sp->capture) {
		close(out[1]);
		close(errp[1]);
		sp->out_fd = out[0];
		sp->err_fd = errp[0];
		fcntl(sp->out_fd, F_SETFL, O_NONBLOCK);
		fcntl(sp->err_fd, F_SETFL, O_NONBLOCK);
	}
	return 0;
fail:
	close_pair(out);
	close_pair(errp);
	close_pair(rep);
	return -(e ? e : EIO);
}
