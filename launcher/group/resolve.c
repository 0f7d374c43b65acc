/*
 * resolve.c - a name looked up in a child process that writes the addresses to a pipe the
 * loop watches, so that a resolver that does not answer never blocks the loop (resolve.h).
 * The child is fd_fork_group's: its own process group, default signals, SIGKILL when
 * flightdeck dies. flightdeck is one thread, so the child may call what it likes.
 */
#define _GNU_SOURCE
#include "loop.h"
#include "resolve.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

void resolve_init(struct resolve *rs, struct fd_loop *loop, resolve_done_fn done, void *arg)
{
	memset(rs, 0, sizeof(*rs));
	rs->loop = loop;
	rs->done = done;
	rs->arg = arg;
	rs->fd = -1;
}

int resolve_busy(const struct resolve *rs)
{
	return rs->fd >= 0;
}

/* getaddrinfo's answer, in its order, into r (the first RESOLVE_ADDRS addresses). */
static void resolve_keep(struct resolve_addrs *r, const struct addrinfo *res)
{
	for (r->n = 0; res && r->n < RESOLVE_ADDRS; res = res->ai_next, r->n++) {
		r->len[r->n] =
		    res->ai_addrlen < sizeof(r->addr[0]) ? res->ai_addrlen : sizeof(r->addr[0]);
		memcpy(&r->addr[r->n], res->ai_addr, r->len[r->n]);
	}
}

int resolve_numeric(const char *host, int port, struct resolve_addrs *r)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST},
			*res;
	char serv[16];

	memset(r, 0, sizeof(*r));
	snprintf(serv, sizeof(serv), "%d", port);
	if (getaddrinfo(host, serv, &hints, &res))
		return -EINVAL;
	resolve_keep(r, res);
	freeaddrinfo(res);
	return 0;
}

void resolve_cancel(struct resolve *rs)
{
	if (rs->fd < 0)
		return;
	fd_loop_del(rs->loop, rs->fd);
	close(rs->fd);
	rs->fd = -1;
}

static void resolve_ready(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct resolve *rs = arg;
	struct resolve_addrs r;
	ssize_t n = read(fd, &r, sizeof(r));

	(void)l;
	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	resolve_cancel(rs);
	/* It has written or died (EOF): reaped here unless the supervisor's reaping got it
	 * first; no rank runs before the welcome, so the pid cannot be anyone else's. */
	while (waitpid(rs->pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(r)) {
		r.gai = EAI_SYSTEM; /* killed before it answered */
		r.n = 0;
	}
	if (!r.gai && !r.n)
		r.gai = EAI_NONAME;
	rs->done(rs->arg, &r);
}

/* The child: one lookup, one write, and out. */
__attribute__((noreturn)) static void resolve_child(int fd, const char *host, const char *serv)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
	struct resolve_addrs r = {0};

	r.gai = getaddrinfo(host, serv, &hints, &res);
	if (!r.gai)
		resolve_keep(&r, res);
	_exit(write(fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
}

int resolve_start(struct resolve *rs, const char *host, int port, const char **call)
{
	char serv[16];
	int p[2], r;
	pid_t pid;

	if (rs->fd >= 0)
		return -EBUSY;
	snprintf(serv, sizeof(serv), "%d", port);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		*call = "pipe2";
		return -errno;
	}
	pid = fd_fork_group();
	if (pid == 0) {
		close(p[0]);
		resolve_child(p[1], host, serv);
	}
	r = -errno;
	close(p[1]);
	if (pid < 0) {
		*call = "fork";
		goto fail;
	}
	r = fd_loop_add(rs->loop, p[0], EPOLLIN, resolve_ready, rs);
	if (r) {
		/* not back in the loop since the fork: nothing has reaped it, the pid is its */
		*call = "epoll_ctl";
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto fail;
	}
	rs->pid = pid;
	rs->fd = p[0];
	return 0;
fail:
	close(p[0]);
	return r;
}
