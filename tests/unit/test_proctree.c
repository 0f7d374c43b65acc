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

/* How many of kids[0..n) have pid p. */
static int walked(const struct fd_proc *kids, size_t n, pid_t p)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += kids[i].pid == p;
	return k;
}

/* A side child set aside, and its own child, are left out of the walk; forgotten, back in. */
static void aside_left_out(void)
{
	struct fd_proc kids[256];
	pid_t job, side, grand = 0;
	size_t n = 0;
	int p[2];

	CHECK_EQ_INT(pipe(p), 0);
	job = fork();
	if (job == 0) {
		pause();
		_exit(0);
	}
	side = fork();
	if (side == 0) {
		pid_t g = fork();

		if (g == 0) {
			pause();
			_exit(0);
		}
		_exit(write(p[1], &g, sizeof(g)) == sizeof(g) ? (pause(), 0) : 1);
	}
	CHECK(job > 0 && side > 0);
	CHECK_EQ_INT(read(p[0], &grand, sizeof(grand)), (int)sizeof(grand));
	CHECK_EQ_INT(fd_aside_add(side), 0);
	CHECK_EQ_INT(fd_descendants(getpid(), kids, 256, &n), 0);
	CHECK_EQ_INT(walked(kids, n, job), 1);
	CHECK_EQ_INT(walked(kids, n, side), 0);
	CHECK_EQ_INT(walked(kids, n, grand), 0);
	fd_aside_forget(side);
	CHECK_EQ_INT(fd_descendants(getpid(), kids, 256, &n), 0);
	CHECK_EQ_INT(walked(kids, n, side), 1);
	CHECK_EQ_INT(walked(kids, n, grand), 1);
	CHECK_EQ_INT(fd_aside_add(getpid() + 4000000), -ESRCH); /* no such process */
	kill(grand, SIGKILL);
	kill(side, SIGKILL);
	kill(job, SIGKILL);
	waitpid(side, NULL, 0);
	waitpid(job, NULL, 0);
	close(p[0]);
	close(p[1]);
}

const struct unit_test proctree_tests[] = {
    {"proctree: a side child set aside is left out of the walk", aside_left_out},
    {"proctree: a signal to a live process arrives", signal_live},
    {"proctree: a zombie or reaped pid gets nothing", signal_gone},
    {"proctree: a pid with another start time gets nothing", signal_reused},
    {"spawn: same_group child killed with its descendants", spawn_same_group},
    {"spawn: exec_path runs no PATH lookup", spawn_exec_path},
    {NULL, NULL},
};
