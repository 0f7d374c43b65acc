/*
 * fanout.c - one frame handed to many sockets by several threads (see fanout.h).
 *
 * A send of a small frame costs a few microseconds of the sender's CPU, all of it in the
 * kernel (on a loopback the receiver's TCP path too): 16,384 of them are 50-150 ms on one
 * core, the whole of a barrier round at that size. The sockets are taken in chunks from one
 * counter, so a thread that meets slow sockets does fewer of them.
 */
#define _GNU_SOURCE
#include "fanout.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#define CHUNK 64

struct fd_fanout {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	pthread_t tid[FD_FANOUT_MAX];
	int nworkers; /* started: the caller is one more */
	unsigned gen; /* one more for each job */
	int busy;     /* workers still on the current job */
	int stop;
	/* the job */
	const int *fds;
	long *res;
	int count;
	const void *frame;
	size_t n;
	int next; /* the next socket to take (atomic) */
};

int fd_fanout_threads(int asked, int nodes, long cpus)
{
	int t;

	if (asked > 0)
		return asked < FD_FANOUT_MAX ? asked : FD_FANOUT_MAX;
	t = nodes / FD_FANOUT_PER;
	if (cpus < t)
		t = (int)cpus;
	if (t > 8)
		t = 8;
	return t < 1 ? 1 : t;
}

static void take(struct fd_fanout *f)
{
	for (;;) {
		int i = __atomic_fetch_add(&f->next, CHUNK, __ATOMIC_RELAXED), end = i + CHUNK;

		if (i >= f->count)
			return;
		if (end > f->count)
			end = f->count;
		for (; i < end; i++)
			f->res[i] = f->fds[i] < 0 ? 0 : fd_send_now(f->fds[i], f->frame, f->n);
	}
}

static void *worker(void *arg)
{
	struct fd_fanout *f = arg;
	unsigned seen = 0;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->gen == seen && !f->stop)
			pthread_cond_wait(&f->go, &f->mu);
		if (f->stop)
			break;
		seen = f->gen;
		pthread_mutex_unlock(&f->mu);
		take(f);
		pthread_mutex_lock(&f->mu);
		if (--f->busy == 0)
			pthread_cond_signal(&f->done);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

struct fd_fanout *fd_fanout_new(int threads)
{
	struct fd_fanout *f = calloc(1, sizeof(*f));
	sigset_t all, old;
	int r = 0;

	if (!f)
		return NULL;
	if (threads > FD_FANOUT_MAX)
		threads = FD_FANOUT_MAX;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->go, NULL);
	pthread_cond_init(&f->done, NULL);
	/* the workers start with every signal masked: each stays the loop's signalfd's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (f->nworkers < threads - 1) {
		r = pthread_create(&f->tid[f->nworkers], NULL, worker, f);
		if (r)
			break;
		f->nworkers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		fd_fanout_free(f);
		errno = r;
		return NULL;
	}
	return f;
}

void fd_fanout_free(struct fd_fanout *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->go);
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i < f->nworkers; i++)
		pthread_join(f->tid[i], NULL);
	pthread_cond_destroy(&f->done);
	pthread_cond_destroy(&f->go);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

int fd_fanout_nthreads(const struct fd_fanout *f)
{
	return f ? f->nworkers + 1 : 1;
}

void fd_fanout_send(struct fd_fanout *f, const int *fds, long *res, int count, const void *frame,
		    size_t n)
{
	struct fd_fanout one = {.fds = fds, .res = res, .count = count, .frame = frame, .n = n};

	if (!f || !f->nworkers || count < FD_FANOUT_MIN_SEND) {
		take(&one);
		return;
	}
	pthread_mutex_lock(&f->mu);
	f->fds = fds;
	f->res = res;
	f->count = count;
	f->frame = frame;
	f->n = n;
	f->next = 0;
	f->busy = f->nworkers;
	f->gen++;
	pthread_cond_broadcast(&f->go);
	pthread_mutex_unlock(&f->mu);
	take(f);
	pthread_mutex_lock(&f->mu);
	while (f->busy)
		pthread_cond_wait(&f->done, &f->mu);
	pthread_mutex_unlock(&f->mu);
}
