/*
 * loop.c - one epoll set, one timerfd at the earliest deadline, one signalfd (see loop.h).
 *
 * Registrations are kept in an array indexed by fd, as redis's ae.c does, and each event is
 * looked up there when it is dispatched: a callback may delete (or close) another fd whose
 * readiness is already in this round's batch, and that stale event then finds an empty slot
 * instead of a freed pointer.
 */
#define _GNU_SOURCE
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

/*
 * Events taken per epoll_wait. A node watches a handful of descriptors, node 0 one per member:
 * 8 at a time, 16,384 members' frames of a round took 2,000 waits, each after a look at every
 * timer's next deadline.
 */
#define LOOP_BATCH 256

static int arm(struct fd_loop *l, int64_t at)
{
	struct itimerspec its = {0};

	if (at <= 0)
		at = 1; /* 0 would disarm */
	its.it_value.tv_sec = at / 1000000000LL;
	its.it_value.tv_nsec = at % 1000000000LL;
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		return -errno;
	l->armed_ns = at;
	return 0;
}

/*
 * Arms the timerfd at the owners' earliest deadline, unless an earlier expiry is pending.
 * Returns the epoll_wait timeout: -1 (the timerfd wakes us), or, should the timerfd refuse to
 * be armed, the milliseconds to that deadline, so a deadline is never slept through.
 */
static int arm_earliest(struct fd_loop *l)
{
	int64_t now = fd_mono_ns(), wake = INT64_MAX;

	for (int i = 0; i < l->ntimers; i++) {
		int64_t t = l->timers[i].next(l->timers[i].arg, now);

		if (t < wake)
			wake = t;
	}
	if (wake == INT64_MAX || (wake >= l->armed_ns && l->armed_ns > now) || !arm(l, wake))
		return -1;
	l->armed_ns = 0;
	if (wake <= now)
		return 0;
	int64_t ms = (wake - now + 999999) / 1000000;

	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void on_timerfd(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	uint64_t ticks;
	int64_t now = fd_mono_ns();

	if (read(fd, &ticks, sizeof(ticks)) > 0)
		l->armed_ns = 0;
	for (int i = 0; i < l->ntimers && !l->stop; i++)
		l->timers[i].cb(l, now, l->timers[i].arg);
}

int fd_loop_init(struct fd_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->sfd = -1;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->ep < 0 || l->tfd < 0)
		return -errno;
	return fd_loop_add(l, l->tfd, EPOLLIN, on_timerfd, NULL);
}

void fd_loop_close(struct fd_loop *l)
{
	if (l->ep >= 0)
		close(l->ep);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->sfd >= 0)
		close(l->sfd);
	free(l->files);
	l->files = NULL;
	l->nfiles = 0;
	l->ep = l->tfd = l->sfd = -1;
}

static int grow(struct fd_loop *l, int fd)
{
	int n = l->nfiles ? l->nfiles : 16;
	struct fd_loop_file *p;

	while (n <= fd)
		n *= 2;
	if (n == l->nfiles)
		return 0;
	p = realloc(l->files, (size_t)n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + l->nfiles, 0, (size_t)(n - l->nfiles) * sizeof(*p));
	l->files = p;
	l->nfiles = n;
	return 0;
}

int fd_loop_add(struct fd_loop *l, int fd, uint32_t events, fd_loop_fd_cb cb, void *arg)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	int r;

	if (fd < 0 || !cb)
		return -EINVAL;
	r = grow(l, fd);
	if (r)
		return r;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->files[fd] = (struct fd_loop_file){.cb = cb, .arg = arg};
	return 0;
}

int fd_loop_mod(struct fd_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (fd < 0 || fd >= l->nfiles || !l->files[fd].cb)
		return -ENOENT;
	return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int fd_loop_del(struct fd_loop *l, int fd)
{
	if (fd < 0 || fd >= l->nfiles || !l->files[fd].cb)
		return -ENOENT;
	l->files[fd].cb = NULL;
	return epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL) ? -errno : 0;
}

int fd_loop_timer(struct fd_loop *l, fd_loop_next_fn next, fd_loop_timer_cb cb, void *arg)
{
	if (l->ntimers == FD_LOOP_MAX_TIMERS)
		return -ENOSPC;
	l->timers[l->ntimers++] = (struct fd_loop_timer){.next = next, .cb = cb, .arg = arg};
	return 0;
}

static void on_signalfd(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	/* One at a time, so a callback that stops the loop sees no further signal. */
	while (!l->stop && read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int sent =
		    si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE || si.ssi_code == SI_TKILL;

		l->sig_sender = sent ? (pid_t)si.ssi_pid : 0;
		l->sig_cb(l, (int)si.ssi_signo, l->sig_arg);
		l->sig_sender = 0;
	}
}

void fd_loop_untimer(struct fd_loop *l, void *arg)
{
	for (int i = 0; i < l->ntimers;)
		if (l->timers[i].arg == arg)
			l->timers[i] = l->timers[--l->ntimers];
		else
			i++;
}

int fd_loop_signals(struct fd_loop *l, const sigset_t *mask, fd_loop_signal_cb cb, void *arg)
{
	int r;

	if (sigprocmask(SIG_BLOCK, mask, NULL))
		return -errno;
	l->sfd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sfd < 0)
		return -errno;
	l->sig_cb = cb;
	l->sig_arg = arg;
	r = fd_loop_add(l, l->sfd, EPOLLIN, on_signalfd, NULL);
	return r;
}

int fd_loop_run(struct fd_loop *l)
{
	while (!l->stop) {
		struct epoll_event evs[LOOP_BATCH];
		int k;

		int timeout = arm_earliest(l);

		k = epoll_wait(l->ep, evs, LOOP_BATCH, timeout);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0) /* the fallback timeout of a timerfd that could not be armed */
			for (int i = 0; i < l->ntimers && !l->stop; i++)
				l->timers[i].cb(l, fd_mono_ns(), l->timers[i].arg);
		for (int i = 0; i < k && !l->stop; i++) {
			int fd = evs[i].data.fd;

			if (fd < l->nfiles && l->files[fd].cb)
				l->files[fd].cb(l, fd, evs[i].events, l->files[fd].arg);
		}
	}
	return 0;
}

void fd_loop_stop(struct fd_loop *l)
{
	l->stop = 1;
}
