/*
 * test_proctree.c - signals that reach only the process they were meant for (fd_proc_signal,
 * fd_pid_signal_checked), and the spawn options the checks use (a child that stays in our
 * process group and is still taken back whole), with real processes.
 */
#define _GNU_SOURCE
#include "testhelp.h"

#include "proctree.h"
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* A child that waits for a signal with default dispositions. */
static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGUSR1, SIG_DFL);
		for (;;)
			pause();
	}
	return pid;
}

static void signal_live(void)
{
	struct fd_proc p, again;
	int status = 0;
	pid_t pid = sleeper();

	CHECK(pid > 0);
	CHECK_EQ_INT(fd_proc_read(pid, &p), 0);
	CHECK(p.starttime > 0);
	CHECK_EQ_INT(fd_proc_read(pid, &again), 0);
	CHECK(again.starttime == p.starttime); /* stable: it names the process */
	CHECK_EQ_INT(fd_proc_signal(&p, 0), 0);
	CHECK_EQ_INT(fd_proc_signal(&p, SIGUSR1), 0);
	CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1); /* it arrived */
}

static void signal_gone(void)
{
	struct fd_proc p;
	int status = 0;
	pid_t pid = sleeper();

	CHECK_EQ_INT(fd_proc_read(pid, &p), 0);
	kill(pid, SIGKILL);
	/* a zombie: exists for signal 0, nothing to deliver a real signal to */
	for (int i = 0; i < 200; i++) {
		struct fd_proc z;

		if (fd_proc_read(pid, &z) || z.state == 'Z')
			break;
		usleep(5000);
	}
	CHECK_EQ_INT(fd_proc_signal(&p, SIGTERM), -ESRCH);
	CHECK_EQ_INT(fd_proc_signal(&p, 0), 0);
	CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* reaped: the pid names nothing (or a stranger) now */
	CHECK_EQ_INT(fd_proc_signal(&p, SIGTERM), -ESRCH);
	CHECK_EQ_INT(fd_pid_signal_checked(pid, p.starttime, SIGTERM), -ESRCH);
	CHECK_EQ_INT(fd_pid_signal_checked(0, 0, SIGTERM), -EINVAL);
	CHECK_EQ_INT(fd_pid_signal_checked(-1, 0, SIGTERM), -EINVAL);
}

static void signal_reused(void)
{
	struct fd_proc p;
	int status = 0;
	pid_t pid = sleeper();

	CHECK_EQ_INT(fd_proc_read(pid, &p), 0);
	p.starttime += 1; /* as if the pid now belonged to a later process */
	CHECK_EQ_INT(fd_proc_signal(&p, SIGUSR1), -ESRCH);
	CHECK_EQ_INT(fd_pid_signal_checked(pid, p.starttime, SIGUSR1), -ESRCH);
	usleep(20000);
	CHECK_EQ_INT(waitpid(pid, &status, WNOHANG), 0); /* nothing was sent */
	CHECK_EQ_INT(fd_pid_signal_checked(pid, p.starttime - 1, SIGUSR1), 0);
	CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);
}

/* Is pid gone, or a zombie, or another process than `was`? */
static int dead(const struct fd_proc *was)
{
	struct fd_proc now;

	return fd_proc_read(was->pid, &now) || now.state == 'Z' || now.starttime != was->starttime;
}

static void spawn_same_group(void)
{
	char *argv[] = {"/bin/sh", "-c", "sleep 30 & sleep 30 & wait", NULL};
	struct fd_spawn sp = {.argv = argv, .capture_stdout = 1, .same_group = 1, .exec_path = 1};
	struct fd_proc kids[8];
	char err[256];
	size_t n = 0;
	int eno, status, all_dead = 0;

	CHECK_EQ_INT(fd_spawn_start(&sp, &eno, err, sizeof(err)), 0);
	CHECK(sp.out_fd >= 0 && sp.err_fd == -1);
	CHECK_EQ_INT(getpgid(sp.pid), getpgrp()); /* dies with the group we are killed in */
	for (int i = 0; i < 200 && n < 2; i++) {
		usleep(10000);
		CHECK_EQ_INT(fd_descendants(sp.pid, kids, 8, &n), 0);
	}
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(fd_spawn_kill(&sp), 0);
	CHECK_EQ_INT(waitpid(sp.pid, &status, 0), sp.pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (int i = 0; i < 200 && !all_dead; i++) {
		all_dead = 1;
		for (size_t k = 0; k < n && k < 8; k++)
			all_dead &= dead(&kids[k]);
		if (!all_dead)
			usleep(10000);
	}
	CHECK(all_dead); /* the grandchildren went too */
	close(sp.out_fd);
}

static void spawn_exec_path(void)
{
	char *argv[] = {"sh", "-c", "exit 0", NULL};
	struct fd_spawn sp = {.argv = argv, .exec_path = 1};
	char err[256];
	int eno;

	/* a bare name is not looked up in PATH: it is ./sh, which is not here */
	if (!access("sh", F_OK))
		return;
	CHECK_EQ_INT(fd_spawn_start(&sp, &eno, err, sizeof(err)), -ENOENT);
	CHECK_EQ_INT(eno, ENOENT);
	CHECK(strstr(err, "cannot execute 'sh'") != NULL);
	sp.exec_path = 0;
	CHECK_EQ_INT(fd_spawn_start(&sp, &eno, err, sizeof(err)), 0);
	CHECK(getpgid(sp.pid) == sp.pid); /* the default: a group of its own */
	CHECK_EQ_INT(waitpid(sp.pid, &eno, 0), sp.pid);
}

const struct unit_test proctree_tests[] = {
    {"proctree: a signal to a live process arrives", signal_live},
    {"proctree: a zombie or reaped pid gets nothing", signal_gone},
    {"proctree: a pid with another start time gets nothing", signal_reused},
    {"spawn: same_group child killed with its descendants", spawn_same_group},
    {"spawn: exec_path runs no PATH lookup", spawn_exec_path},
    {NULL, NULL},
};
