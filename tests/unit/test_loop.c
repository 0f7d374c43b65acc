/*
 * test_loop.c - launcher/core/loop.c: fd callbacks with their opaque pointer, interest changes,
 * deletion, the one timer armed at the owners' earliest deadline, signals through the
 * signalfd.
 */
#define _GNU_SOURCE
#include "testhelp.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

struct probe {
	int calls, last_fd;
	int stop_after;
	int64_t due; /* the timer owner's deadline */
	int64_t fired_at;
	int sig;
};

static void on_fd(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct probe *p = arg;
	char c;

	p->calls++;
	p->last_fd = fd;
	if (read(fd, &c, 1) < 0)
		p->last_fd = -1;
	if (p->calls >= p->stop_after)
		fd_loop_stop(l);
}

static int64_t next_due(void *arg, int64_t now)
{
	return ((struct probe *)arg)->due;
}

static void on_due(struct fd_loop *l, int64_t now, void *arg)
{
	struct probe *p = arg;

	if (now < p->due)
		return; /* early: the loop may fire before a deadline that moved */
	p->fired_at = now;
	p->due = INT64_MAX;
	fd_loop_stop(l);
}

static void loop_fds(void)
{
	struct fd_loop l;
	struct probe a = {.stop_after = 1}, b = {.stop_after = 1};
	int pa[2], pb[2];

	CHECK_EQ_INT(fd_loop_init(&l), 0);
	CHECK_EQ_INT(pipe(pa), 0);
	CHECK_EQ_INT(pipe(pb), 0);
	CHECK_EQ_INT(fd_loop_add(&l, pa[0], EPOLLIN, on_fd, &a), 0);
	CHECK_EQ_INT(fd_loop_add(&l, pb[0], EPOLLIN, on_fd, &b), 0);
	CHECK_EQ_INT(fd_loop_add(&l, pb[0], EPOLLIN, on_fd, &b), -EEXIST);
	/* each fd reaches its own callback with its own pointer */
	CHECK_EQ_INT(write(pb[1], "x", 1), 1);
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(a.calls, 0);
	CHECK_EQ_INT(b.calls, 1);
	CHECK_EQ_INT(b.last_fd, pb[0]);

	/* interest 0: the fd stays registered but wakes nobody; a timer ends the run */
	struct probe t = {.due = fd_mono_ns() + 50 * 1000000LL};

	CHECK_EQ_INT(fd_loop_mod(&l, pa[0], 0), 0);
	CHECK_EQ_INT(write(pa[1], "y", 1), 1);
	CHECK_EQ_INT(fd_loop_timer(&l, next_due, on_due, &t), 0);
	l.stop = 0;
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(a.calls, 0);
	CHECK(t.fired_at > 0);
	/* back to EPOLLIN: the byte queued meanwhile is seen */
	CHECK_EQ_INT(fd_loop_mod(&l, pa[0], EPOLLIN), 0);
	l.stop = 0;
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(a.calls, 1);

	/* deleted: no callback; unknown fds are refused */
	CHECK_EQ_INT(fd_loop_del(&l, pa[0]), 0);
	CHECK_EQ_INT(fd_loop_del(&l, pa[0]), -ENOENT);
	CHECK_EQ_INT(fd_loop_mod(&l, 999, EPOLLIN), -ENOENT);
	fd_loop_close(&l);
	close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]);
}

/* Two owners: the timer fires at the earlier deadline, and each owner sees every expiry. */
static void loop_timer_earliest(void)
{
	struct fd_loop l;
	int64_t start = fd_mono_ns();
	struct probe late = {.due = start + 2000 * 1000000LL};
	struct probe soon = {.due = start + 30 * 1000000LL};

	CHECK_EQ_INT(fd_loop_init(&l), 0);
	CHECK_EQ_INT(fd_loop_timer(&l, next_due, on_due, &late), 0);
	CHECK_EQ_INT(fd_loop_timer(&l, next_due, on_due, &soon), 0);
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK(soon.fired_at >= start + 30 * 1000000LL);
	CHECK(soon.fired_at < start + 1000 * 1000000LL);
	CHECK_EQ_INT(late.fired_at, 0);
	for (int i = 2; i < FD_LOOP_MAX_TIMERS; i++)
		CHECK_EQ_INT(fd_loop_timer(&l, next_due, on_due, &late), 0);
	CHECK_EQ_INT(fd_loop_timer(&l, next_due, on_due, &late), -ENOSPC);
	fd_loop_close(&l);
}

static void on_sig(struct fd_loop *l, int sig, void *arg)
{
	((struct probe *)arg)->sig = sig;
	fd_loop_stop(l);
}

static void loop_signals(void)
{
	struct fd_loop l;
	struct probe p = {0};
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	CHECK_EQ_INT(fd_loop_init(&l), 0);
	CHECK_EQ_INT(fd_loop_signals(&l, &mask, on_sig, &p), 0);
	/* blocked now: delivered through the signalfd, not as a handler */
	CHECK_EQ_INT(kill(getpid(), SIGUSR2), 0);
	CHECK_EQ_INT(fd_loop_run(&l), 0);
	CHECK_EQ_INT(p.sig, SIGUSR2);
	fd_loop_close(&l);
}

const struct unit_test loop_tests[] = {
    {"loop: fd callbacks, interest, deletion", loop_fds},
    {"loop: one timer at the earliest deadline", loop_timer_earliest},
    {"loop: signals through the signalfd", loop_signals},
    {NULL, NULL},
};
