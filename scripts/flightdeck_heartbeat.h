/*
 * flightdeck_heartbeat.h - tell the supervising `flightdeck run` that this rank makes progress.
 *
 * Header-only, libc only. Every call is a no-op when FLIGHTDECK_HEARTBEAT is not set.
 *
 *     #include "flightdeck_heartbeat.h"
 *     for (step = start; step < steps; step++) {
 *             train_step();
 *             flightdeck_beat_total(step, steps);   (or flightdeck_beat(step))
 *     }
 *     flightdeck_checkpoint(1); save(); flightdeck_checkpoint(0);
 *     flightdeck_done();      (the last step is behind: teardown is not a stall)
 *
 * The rank is the first of $RANK (torchrun), $OMPI_COMM_WORLD_RANK (Open MPI's mpirun),
 * $PMI_RANK (MPICH, Intel MPI), $PMIX_RANK (PMIx), $SLURM_PROCID (srun) and $LOCAL_RANK that
 * is a whole number, else 0, as flightdeck_heartbeat.py reads it. Not thread-safe: beat from
 * one thread.
 *
 * This is also the client of `flightdeck beat` (launcher/cli/cmd_beat.c), so the shell, C and the
 * datagram the supervisor parses agree: "rank=R", then " step=N" (and " total=N") and/or
 * " phase=P", or " done=1".
 */
#ifndef FLIGHTDECK_HEARTBEAT_H
#define FLIGHTDECK_HEARTBEAT_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

static int flightdeck_hb_fd_ = -2; /* -2 not yet looked, -1 disabled */
static int flightdeck_hb_errno_;   /* why disabled: 0 when FLIGHTDECK_HEARTBEAT is unset */
static struct sockaddr_un flightdeck_hb_addr_;

/* The rank this process beats for (see above). */
static inline int flightdeck_rank(void)
{
	/* The global rank before the node-local one: under mpirun or srun every node has a
	 * LOCAL_RANK 0, and a launcher's own variable is set where torchrun's RANK is not. */
	static const char *const vars[] = {
	    "RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID", "LOCAL_RANK",
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]), *c;
		long long r = 0;

		if (!v || !*v)
			continue;
		for (c = v; *c >= '0' && *c <= '9' && r <= INT_MAX; c++)
			r = r * 10 + (*c - '0');
		if (!*c && r <= INT_MAX)
			return (int)r;
	}
	return 0;
}

/* The socket, opened on first use; -1 when disabled (flightdeck_hb_errno_ says why). */
static inline int flightdeck_hb_socket_(void)
{
	if (flightdeck_hb_fd_ == -2) {
		const char *p = getenv("FLIGHTDECK_HEARTBEAT");

		flightdeck_hb_fd_ = -1;
		if (!p || !*p)
			return -1;
		if (strlen(p) >= sizeof(flightdeck_hb_addr_.sun_path)) {
			flightdeck_hb_errno_ = ENAMETOOLONG;
			return -1;
		}
		flightdeck_hb_addr_.sun_family = AF_UNIX;
		strcpy(flightdeck_hb_addr_.sun_path, p);
		flightdeck_hb_fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (flightdeck_hb_fd_ < 0) {
			flightdeck_hb_errno_ = errno;
			return -1;
		}
		/* A full queue delays a beat 20 ms at most, then drops it: the supervisor
		 * never stalls training. */
		struct timeval tv = {0, 20000};

		setsockopt(flightdeck_hb_fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return flightdeck_hb_fd_;
}

/*
 * Sends "rank=RANK" followed by " FIELDS" when fields is not empty. 0 when sent, and when
 * FLIGHTDECK_HEARTBEAT is not set (nothing to do); else -errno (-EAGAIN: the supervisor's
 * queue stayed full for 20 ms). Training code uses flightdeck_beat and flightdeck_checkpoint,
 * which ignore failures; `flightdeck beat` reports them.
 */
static inline int flightdeck_hb_send_rank(int rank, const char *fields)
{
	char msg[160];
	int fd = flightdeck_hb_socket_(), n;

	if (fd < 0)
		return -flightdeck_hb_errno_;
	n = snprintf(msg, sizeof(msg), "rank=%d%s%s", rank, fields && *fields ? " " : "",
		     fields && *fields ? fields : "");
	if (n < 0 || n >= (int)sizeof(msg))
		return -EMSGSIZE;
	if (sendto(fd, msg, (size_t)n, 0, (const struct sockaddr *)&flightdeck_hb_addr_,
		   sizeof(flightdeck_hb_addr_)) < 0)
		return -errno;
	return 0;
}

static inline void flightdeck_hb_send_(const char *fields)
{
	(void)flightdeck_hb_send_rank(flightdeck_rank(), fields);
}

/* One heartbeat at training step `step` (a negative step: a beat without one). */
static inline void flightdeck_beat(long long step)
{
	char f[32] = "";

	if (step >= 0)
		snprintf(f, sizeof(f), "step=%lld", step);
	flightdeck_hb_send_(f);
}

/*
 * A heartbeat at step `step` of a job of `total` steps, counted from 0: once step reaches
 * total - 1 the rank is past its last step, and what follows (teardown, a final save) gets
 * `flightdeck run --teardown-timeout` instead of --stall-timeout. A total below 1 sends none,
 * as flightdeck_beat does.
 */
static inline void flightdeck_beat_total(long long step, long long total)
{
	char f[64] = "";
	int n = 0;

	if (step >= 0)
		n = snprintf(f, sizeof(f), "step=%lld", step);
	if (total > 0)
		snprintf(f + n, sizeof(f) - (size_t)n, "%stotal=%lld", n ? " " : "", total);
	flightdeck_hb_send_(f);
}

/* 1: a checkpoint is being saved (the longer deadline applies); 0: back to training. */
static inline void flightdeck_checkpoint(int saving)
{
	flightdeck_hb_send_(saving ? "phase=checkpoint" : "phase=train");
}

/*
 * This rank's work is over: what follows (a final save, NCCL or gloo teardown, a slow exit)
 * is never judged a stall. A crash after it is still judged by the exit status. A later
 * beat puts the rank back under stall detection.
 */
static inline void flightdeck_done(void)
{
	flightdeck_hb_send_("done=1");
}

#endif
