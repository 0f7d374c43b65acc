/*
 * flightdeck_heartbeat.h - tell the supervising `flightdeck run` that this rank makes progress.
 *
 * Header-only, libc only. Every call is a no-op when FLIGHTDECK_HEARTBEAT is not set.
 *
 *     #include "flightdeck_heartbeat.h"
 *     for (step = start; step < steps; step++) {
 *             train_step();
 *             flightdeck_beat(step);
 *     }
 *     flightdeck_checkpoint(1); save(); flightdeck_checkpoint(0);
 *
 * The rank is $RANK, else $LOCAL_RANK, else 0. Not thread-safe: beat from one thread.
 */
#ifndef FLIGHTDECK_HEARTBEAT_H
#define FLIGHTDECK_HEARTBEAT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

static int flightdeck_hb_fd_ = -2; /* -2 not yet looked, -1 disabled */
static struct sockaddr_un flightdeck_hb_addr_;

static inline int flightdeck_hb_rank_(void)
{
	const char *r = getenv("RANK");

	if (!r || !*r)
		r = getenv("LOCAL_RANK");
	return r && *r ? atoi(r) : 0;
}

static inline void flightdeck_hb_send_(const char *fields)
{
	char msg[160];
	int n;

	if (flightdeck_hb_fd_ == -2) {
		const char *p = getenv("FLIGHTDECK_HEARTBEAT");

		flightdeck_hb_fd_ = -1;
		if (p && *p && strlen(p) < sizeof(flightdeck_hb_addr_.sun_path)) {
			flightdeck_hb_addr_.sun_family = AF_UNIX;
			strcpy(flightdeck_hb_addr_.sun_path, p);
			flightdeck_hb_fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			/* A full queue delays a beat 20 ms at most, then drops it: the
			 * supervisor never stalls training. */
			struct timeval tv = {0, 20000};

			if (flightdeck_hb_fd_ >= 0)
				setsockopt(flightdeck_hb_fd_, SOL_SOCKET, SO_SNDTIMEO, &tv,
					   sizeof(tv));
		}
	}
	if (flightdeck_hb_fd_ < 0)
		return;
	n = snprintf(msg, sizeof(msg), "rank=%d %s", flightdeck_hb_rank_(), fields);
	if (n > 0 && n < (int)sizeof(msg))
		(void)sendto(flightdeck_hb_fd_, msg, (size_t)n, 0,
			     (const struct sockaddr *)&flightdeck_hb_addr_,
			     sizeof(flightdeck_hb_addr_));
}

/* One heartbeat at training step `step` (a negative step: a beat without one). */
static inline void flightdeck_beat(long long step)
{
	char f[32] = "";

	if (step >= 0)
		snprintf(f, sizeof(f), "step=%lld", step);
	flightdeck_hb_send_(f);
}

/* 1: a checkpoint is being saved (the longer deadline applies); 0: back to training. */
static inline void flightdeck_checkpoint(int saving)
{
	flightdeck_hb_send_(saving ? "phase=checkpoint" : "phase=train");
}

#endif
