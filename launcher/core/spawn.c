/*
 * spawn.c - fork and exec with the supervisor's guarantees (see spawn.h).
 */
#define _GNU_SOURCE
#include "spawn.h"
#include "proctree.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* How many of a same_group child's descendants fd_spawn_kill can stop and kill. */
#define KILL_MAX_PROCS 256
/* Walks of /proc until no new descendant appears; a tree that still grows after this many
 * (each walk stops every process it finds) is forking faster than /proc can be read. */
#define KILL_MAX_WALKS 16

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/*
 * own_group: 1 its own process group, 2 its own session (and so its own group), 3 the group
 * join (another child's), 0 ours.
 */
/* The limit flightdeck was started with, once fd_nofile_reserve raised it; every child's. */
static struct rlimit nofile_orig;
static int nofile_raised;

int fd_nofile_reserve(long need, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0; /* nothing known: go on, accept() will say */
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= (rlim_t)need)
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need) {
		snprintf(err, errlen,
			 "ulimit -n: %ld open files are needed, the hard limit is %llu: raise it "
			 "(ulimit -Hn, systemd's LimitNOFILE=, /etc/security/limits.conf; under "
			 "Slurm, the limit slurmd runs with)",
			 need, (unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	if (!nofile_raised) {
		nofile_orig = rl;
		nofile_raised = 1;
	}
	rl.rlim_cur = (rlim_t)need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		snprintf(err, errlen,
			 "ulimit -n: cannot raise the open-file limit from %llu to %ld: %s",
			 (unsigned long long)nofile_orig.rlim_cur, need, strerror(errno));
		return -EMFILE;
	}
	return 0;
}

long fd_nofile_open_now(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = 0;

	if (!d)
		return 64;
	while (readdir(d))
		n++;
	closedir(d);
	return n > 2 ? n - 2 : n; /* "." and ".." */
}

static pid_t fork_child(int own_group, pid_t join)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	pid_t parent = getpid(), pid = fork();
	sigset_t none;

	/* Also here, so no signal is sent before the child did it. A session leader-to-be
	 * must not be made a group leader first (setsid would fail); fd_spawn_start returns
	 * only after the exec, so no kill(-pid) can come before its setsid. */
	if (pid > 0 && own_group == 1)
		setpgid(pid, pid);
	if (pid > 0 && own_group == 3)
		setpgid(pid, join);
	if (pid != 0)
		return pid;
	/* the child: only async-signal-safe calls from here to exec */
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, 32, 33 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (own_group == 1)
		setpgid(0, 0);
	else if (own_group == 2)
		setsid();
	else if (own_group == 3)
		setpgid(0, join);
	if (nofile_raised)
		setrlimit(RLIMIT_NOFILE, &nofile_orig);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) /* flightdeck died before the prctl */
		_exit(127);
	return 0;
}

pid_t fd_fork_group(void)
{
	return fork_child(1, 0);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(const struct fd_spawn *sp, int out[2], int errp[2], int report, int slave)
{
	int e;

	if (sp->pty) {
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, STDOUT_FILENO);
		dup2(slave, STDERR_FILENO);
		close(slave);
	} else if (sp->capture && sp->capture_merged) {
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		close(out[0]);
		close(out[1]);
	} else if (sp->capture) {
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
	} else if (sp->capture_stdout) {
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
	} else if (sp->stdout_to_stderr) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
	if (sp->exec_path)
		execv(sp->argv[0], sp->argv);
	else
		execvp(sp->argv[0], sp->argv);
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(e == ENOENT ? 127 : 126);
}

static int nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* A pseudo-terminal: p[0] the master, p[1] the slave, both close-on-exec. 0 or -errno. */
static int open_pty(int p[2])
{
	char name[128];
	struct termios t;

	p[0] = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p[0] < 0 || grantpt(p[0]) || unlockpt(p[0]) || ptsname_r(p[0], name, sizeof(name)))
		return -errno;
	p[1] = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p[1] < 0)
		return -errno;
	if (!tcgetattr(p[1], &t)) {
		t.c_oflag &= ~(tcflag_t)ONLCR;
		tcsetattr(p[1], TCSANOW, &t);
	}
	return 0;
}

int fd_spawn_start(struct fd_spawn *sp, int *exec_errno, char *err, size_t errlen)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1}, e = 0;
	int pty = sp->capture && sp->pty;
	int want_out = (sp->capture || sp->capture_stdout) && !pty;
	int want_err = sp->capture && !sp->capture_merged && !pty;
	pid_t pid;
	ssize_t n;

	*exec_errno = 0;
	sp->pid = -1;
	sp->out_fd = sp->err_fd = -1;
	if (pty && (e = -open_pty(out))) {
		snprintf(err, errlen, "cannot open a pseudo-terminal: %s", strerror(e));
		goto fail;
	}
	if ((want_out && pipe2(out, O_CLOEXEC)) || (want_err && pipe2(errp, O_CLOEXEC)) ||
	    pipe2(rep, O_CLOEXEC)) {
		e = errno;
		snprintf(err, errlen, "cannot create pipes: %s", strerror(e));
		goto fail;
	}
	pid = fork_child(pty ? 2 : sp->join_group > 0 ? 3 : !sp->same_group, sp->join_group);
	if (pid < 0) {
		e = errno;
		snprintf(err, errlen, "cannot fork: %s", strerror(e));
		goto fail;
	}
	if (pid == 0)
		child(sp, out, errp, rep[1], out[1]);
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
	/* n == 0: the exec closed the report pipe; anything else is not knowable, but the
	 * child exists either way and is the caller's now */
	sp->pid = pid;
	if (want_out || pty) {
		close(out[1]);
		sp->out_fd = out[0];
		out[0] = out[1] = -1;
	}
	if (want_err) {
		close(errp[1]);
		sp->err_fd = errp[0];
		errp[0] = errp[1] = -1;
	}
	/* Non-blocking, so a reader woken by poll never sleeps in read(). */
	if ((sp->out_fd >= 0 && (e = -nonblocking(sp->out_fd))) ||
	    (sp->err_fd >= 0 && (e = -nonblocking(sp->err_fd)))) {
		snprintf(err, errlen, "cannot make the output of '%s' non-blocking: %s",
			 sp->argv[0], strerror(e));
		fd_spawn_kill(sp);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (sp->out_fd >= 0)
			close(sp->out_fd);
		if (sp->err_fd >= 0)
			close(sp->err_fd);
		sp->pid = -1;
		sp->out_fd = sp->err_fd = -1;
		goto fail;
	}
	return 0;
fail:
	close_pair(out);
	close_pair(errp);
	close_pair(rep);
	return -(e ? e : EIO);
}

static int known(const struct fd_proc *set, size_t n, const struct fd_proc *p)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].pid == p->pid && set[i].starttime == p->starttime)
			return 1;
	return 0;
}

int fd_spawn_kill(const struct fd_spawn *sp)
{
	static struct fd_proc found[KILL_MAX_PROCS], walk[KILL_MAX_PROCS];
	size_t nfound = 0, n;
	int rc = 0, grew = 1;

	if (sp->pid <= 0)
		return -ESRCH;
	if (!sp->same_group)
		return kill(-sp->pid, SIGKILL) ? -errno : 0;
	/* Our own unreaped child: its pid cannot have been reused, a plain kill() is exact. */
	kill(sp->pid, SIGSTOP);
	for (int w = 0; w < KILL_MAX_WALKS && grew; w++) {
		grew = 0;
		rc = fd_descendants(sp->pid, walk, KILL_MAX_PROCS, &n);
		if (rc)
			break;
		for (size_t i = 0; i < n && i < KILL_MAX_PROCS; i++) {
			if (walk[i].state == 'Z' || known(found, nfound, &walk[i]))
				continue;
			if (nfound == KILL_MAX_PROCS)
				break;
			/* stopped, it cannot fork a child the next walk would miss */
			if (!fd_proc_signal(&walk[i], SIGSTOP)) {
				found[nfound++] = walk[i];
				grew = 1;
			}
		}
	}
	for (size_t i = 0; i < nfound; i++)
		fd_proc_signal(&found[i], SIGKILL);
	kill(sp->pid, SIGKILL);
	return rc;
}
