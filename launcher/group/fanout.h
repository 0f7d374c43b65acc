/*
 * fanout.h - one frame handed to many sockets by several threads: node 0's decision to
 * thousands of members (docs/architecture.md, "The node group at scale").
 *
 * The loop's thread calls fd_fanout_send and waits in it; the workers only call send() on
 * the descriptors given and write each result, so nothing else is ever touched by two threads.
 * The workers exist from fd_fanout_new to fd_fanout_free, blocked in a wait with every signal
 * masked (signals stay the loop's signalfd's), and never run while the loop's thread forks.
 */
#ifndef FD_FANOUT_H
#define FD_FANOUT_H

#include <stddef.h>

struct fd_fanout;

#define FD_FANOUT_MAX	   16	/* threads, the caller's included */
#define FD_FANOUT_PER	   1024 /* nodes a thread at least, for "auto" */
#define FD_FANOUT_MIN_SEND 512	/* fewer sockets than this: sent by the caller alone */

/*
 * The threads for a decision in a group of `nodes` on a machine of `cpus` CPUs, when asked is
 * 0 ("auto"): one per FD_FANOUT_PER nodes, at most the CPUs (a burst of well under 100 ms
 * at a decision: the training job's threads lose that much), at most 8; at least 1. asked
 * > 0 is taken as it is, up to FD_FANOUT_MAX.
 */
int fd_fanout_threads(int asked, int nodes, long cpus);

/* threads - 1 workers beside the caller; NULL (errno set) when one cannot be started. */
struct fd_fanout *fd_fanout_new(int threads);
void fd_fanout_free(struct fd_fanout *f);
int fd_fanout_nthreads(const struct fd_fanout *f);

/*
 * frame (n bytes) to every fds[i] (< 0: skipped, res[i] = 0), sent at once as far as each
 * socket takes it: res[i] is the bytes it took (short: the rest is the caller's to queue) or
 * -errno. Returns when every socket has been tried. f NULL: the caller alone.
 */
void fd_fanout_send(struct fd_fanout *f, const int *fds, long *res, int count, const void *frame,
		    size_t n);

#endif
