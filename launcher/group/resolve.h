/*
 * resolve.h - the coordinator's name looked up for a member of the TCP star (member.c) in a
 * child process, because getaddrinfo() cannot be interrupted and waits out the resolver's
 * timeouts (2 x 5 s per nameserver by default, again on every retry) while cluster DNS does
 * not answer yet: the member's loop must go on answering signals and counting --join-timeout.
 * An address given as digits needs no child (resolve_numeric).
 */
#ifndef FD_GROUP_RESOLVE_H
#define FD_GROUP_RESOLVE_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define RESOLVE_ADDRS 8 /* the first addresses of a name kept, in the resolver's order */

/*
 * A lookup's answer. It is also the child's one write to its pipe: under PIPE_BUF, so the
 * write is atomic and a short read means the child died before it answered.
 */
struct resolve_addrs {
	int32_t gai; /* 0 or getaddrinfo's EAI_ code */
	uint32_t n;
	uint32_t len[RESOLVE_ADDRS];
	struct sockaddr_storage addr[RESOLVE_ADDRS];
};

struct fd_loop;

/* Called from the loop with the answer (gai set when there is no address). */
typedef void (*resolve_done_fn)(void *arg, const struct resolve_addrs *r);

struct resolve {
	struct fd_loop *loop;
	resolve_done_fn done;
	void *arg;
	pid_t pid; /* the child, while fd >= 0 */
	int fd;	   /* its pipe; -1 while no lookup is under way */
};

void resolve_init(struct resolve *rs, struct fd_loop *loop, resolve_done_fn done, void *arg);

/* host:port given as digits (IPv4 or IPv6): its address in r, 0; a name: -EINVAL. */
int resolve_numeric(const char *host, int port, struct resolve_addrs *r);

/*
 * Starts looking host:port up in a child (fd_fork_group); its answer reaches done from the
 * loop. 0; -EBUSY while a lookup is under way; else -errno with *call naming what failed
 * ("pipe2", "fork", "epoll_ctl"), and nothing is under way: the caller tries again later.
 */
int resolve_start(struct resolve *rs, const char *host, int port, const char **call);

int resolve_busy(const struct resolve *rs);

/*
 * Stops waiting for the lookup under way, if any: its pipe is closed, so its write fails
 * (SIGPIPE), or flightdeck's exit kills it (PR_SET_PDEATHSIG).
 */
void resolve_cancel(struct resolve *rs);

#endif
