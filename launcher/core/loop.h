/*
 * loop.h - the event loop every long-running part of flightdeck shares: one epoll set, one
 * timerfd, one signalfd, one thread (modelled on redis's ae.c and libuv's uv_run).
 *
 * An owner registers a file descriptor with a callback and an opaque pointer and is called
 * back when it is ready; nobody writes an if/else chain over descriptors. Timers are not
 * kept as a list of entries: each owner registers a function that says when it next needs to
 * run (its earliest deadline, computed from its own state), and the loop arms its one timerfd
 * at the earliest of those before every wait. Deadlines in flightdeck mostly move later (a
 * heartbeat pushes a stall deadline out), so the timer is only re-armed when the new earliest
 * is earlier than what is armed; a timer that fires early costs one pass over the owners'
 * callbacks, each of which checks its own deadlines (docs/architecture.md, "The event loop").
 *
 * Layering: the loop lives in launcher/core/ because owners in several layers (the group below the
 * supervisor, the supervisor itself) put descriptors in the same set.
 */
#ifndef FD_LOOP_H
#define FD_LOOP_H

#include <signal.h>
#include <stdint.h>

struct fd_loop;

/* fd is ready for events (EPOLLIN, EPOLLOUT, EPOLLHUP... as epoll reports them). */
typedef void (*fd_loop_fd_cb)(struct fd_loop *l, int fd, uint32_t events, void *arg);
/* The timerfd expired: check your deadlines against now. */
typedef void (*fd_loop_timer_cb)(struct fd_loop *l, int64_t now, void *arg);
/* When this owner next needs its timer callback (CLOCK_MONOTONIC ns); INT64_MAX: never. */
typedef int64_t (*fd_loop_next_fn)(void *arg, int64_t now);
/* One signal taken from the signalfd. */
typedef void (*fd_loop_signal_cb)(struct fd_loop *l, int sig, void *arg);

#define FD_LOOP_MAX_TIMERS 8

struct fd_loop_file {
	fd_loop_fd_cb cb; /* NULL: the slot is free */
	void *arg;
};

struct fd_loop_timer {
	fd_loop_next_fn next;
	fd_loop_timer_cb cb;
	void *arg;
};

struct fd_loop {
	int ep, tfd, sfd;
	int64_t armed_ns; /* when the timerfd fires; 0 = not armed (or already fired) */
	int stop;
	struct fd_loop_file *files; /* indexed by fd, as ae.c's events[] */
	int nfiles;
	struct fd_loop_timer timers[FD_LOOP_MAX_TIMERS];
	int ntimers;
	fd_loop_signal_cb sig_cb;
	void *sig_arg;
	/* While a signal callback runs: the pid that sent it (kill, sigqueue, tgkill), 0 when the
	 * kernel did or the sender is outside our pid namespace. */
	pid_t sig_sender;
};

/* Creates the epoll set and the timerfd. 0 or -errno; fd_loop_close undoes either way. */
int fd_loop_init(struct fd_loop *l);
void fd_loop_close(struct fd_loop *l);

/* Watches fd for events (EPOLLIN...; 0 keeps it in the set but asleep). 0 or -errno. */
int fd_loop_add(struct fd_loop *l, int fd, uint32_t events, fd_loop_fd_cb cb, void *arg);
/* Changes what fd is watched for: 0 to stop waking on it (it is read some other way). */
int fd_loop_mod(struct fd_loop *l, int fd, uint32_t events);
/* Stops watching fd (before it is closed). 0 or -errno; an unknown fd is -ENOENT. */
int fd_loop_del(struct fd_loop *l, int fd);

/* An owner of deadlines: next() before every wait, cb() on every expiry. 0 or -ENOSPC. */
int fd_loop_timer(struct fd_loop *l, fd_loop_next_fn next, fd_loop_timer_cb cb, void *arg);

/* Forgets the owner whose arg this is (it is being freed). */
void fd_loop_untimer(struct fd_loop *l, void *arg);

/*
 * Takes the signals in mask through a signalfd: blocks them (the caller's children get them
 * back through fd_spawn) and delivers each to cb. 0 or -errno.
 */
int fd_loop_signals(struct fd_loop *l, const sigset_t *mask, fd_loop_signal_cb cb, void *arg);

/* Runs until fd_loop_stop; 0, or -errno when epoll_wait itself fails. */
int fd_loop_run(struct fd_loop *l);
/* Makes fd_loop_run return once the callback that calls it returns: no further dispatch. */
void fd_loop_stop(struct fd_loop *l);

#endif
