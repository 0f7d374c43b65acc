/*
 * heartbeat.h - how a training job says it is alive (docs/architecture.md, "Heartbeats").
 *
 * Three sources, combinable, all feeding the same per-rank table in the supervisor:
 *   1. a unix datagram socket (FLIGHTDECK_HEARTBEAT) in a 0700 directory; the sender's uid is
 *      checked from the kernel's SCM_CREDENTIALS (the datagram form of SO_PEERCRED), and its
 *      pid is kept so that a stuck rank can be asked for its stack;
 *   2. --progress-regex on the child's output lines;
 *   3. --heartbeat-file, its mtime.
 * Parsing is pure and separate from the I/O so the unit tests reach every case.
 */
#ifndef FD_HEARTBEAT_H
#define FD_HEARTBEAT_H

#include <limits.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FD_HB_MAX_DATAGRAM 512
#define FD_HB_PER_PID	   32  /* datagrams read from one sender pid per period, at most */
#define FD_HB_SENDERS	   256 /* sender pids counted per period (an open-addressed table) */

struct fd_beat {
	int rank;
	int64_t step;  /* -1 when the beat carries none */
	int phase;     /* FD_PHASE_* */
	int stacks;    /* the sender registered a stack dump on FLIGHTDECK_STACK_SIGNAL */
	int fr;	       /* ...and writes torch's flight recorder on request (fr-request) */
	pid_t pid;     /* from the kernel's credentials; 0 for the output and file sources */
	int done;      /* done=1: the rank's work is over; what follows is never a stall */
	int64_t total; /* total=N: the job's steps; -1 when the beat carries none */
};

enum {
	FD_PHASE_NONE = 0, /* not said: keep the phase the rank was in */
	FD_PHASE_TRAIN,
	FD_PHASE_CHECKPOINT,
};

/*
 * Parses "rank=<r> step=<n> [total=<n>] [phase=checkpoint|train] [stacks=1] [fr=1] [done=1]" (fields
 * separated by spaces, any order; unknown keys are ignored so newer clients talk to older
 * supervisors). rank is required. Returns 0, or -EINVAL for a malformed datagram.
 */
int fd_beat_parse(const char *buf, size_t len, struct fd_beat *b);

/* n decimal digits (1 to 18, nothing else) into *out: 0 or -EINVAL. */
int fd_parse_digits(const char *s, size_t n, int64_t *out);

/*
 * A compiled --progress-regex: POSIX extended syntax, plus the Perl classes people write out
 * of habit (\d \s \w and their capitals), translated, and three named groups:
 * (?<rank>...) is whose line it is, (?<step>...) the step, (?<total>...) the job's steps
 * ("step 60/60"). Without a name the step is the first group that is not the rank's or the
 * total's (an unnamed second group is no rank, nor a total: only a named group is). Group
 * numbers count from 1; 0 is none.
 */
struct fd_progress {
	regex_t re;
	int step_group, rank_group, total_group;
};

/* Compiles pattern into p; err gets one line on failure (-EINVAL, -ENOMEM). */
int fd_progress_compile(struct fd_progress *p, const char *pattern, char *err, size_t errlen);
void fd_progress_free(struct fd_progress *p);

/*
 * Matches one output line: 1 on a match with *step (-1 without a step group) and, when rank
 * is not NULL, *rank (-1 without a rank group, -2 when the rank group holds no number up to
 * 2^24), and when total is not NULL, *total (-1 without a total group or a number in it);
 * 0 otherwise.
 */
int fd_progress_match(const struct fd_progress *p, const char *line, int64_t *step, int *rank,
		      int64_t *total);

/* The socket: created in a fresh 0700 directory under $TMPDIR (or /tmp). */
struct fd_hb_socket {
	int fd;
	char dir[PATH_MAX];
	char path[PATH_MAX];
	uid_t uid;	  /* who may beat: flightdeck's own effective uid (and root) */
	uint64_t foreign; /* datagrams from another uid, or without credentials */
	uint64_t malformed;
	/* Flood control: per sender pid, at most FD_HB_PER_PID datagrams are read
	 * per period (fd_hb_period); the rest are counted here and not even parsed. */
	uint64_t dropped;
	unsigned read; /* datagrams the last fd_hb_recv took off the queue, valid or not */
	unsigned gen;  /* the period; a sender entry of another period is free */
	struct fd_hb_sender {
		unsigned gen, n;
		pid_t pid;
		int has_last;	     /* a beat past the limit is kept: the newest, not the oldest */
		struct fd_beat last; /* ...and handed over by fd_hb_flush */
	} senders[FD_HB_SENDERS];
	/* --heartbeat-uid: a job that drops privileges to this uid may beat too */
	int have_extra_uid;
	uid_t extra_uid;
	uid_t last_foreign_uid; /* of the newest foreign datagram, to name it */
	dev_t dev;		/* the socket file bound at path, to notice it was removed */
	ino_t ino;
};

int fd_hb_open(struct fd_hb_socket *s, char *err, size_t errlen);
/*
 * fd_hb_open, and with extra_uid >= 0 (--heartbeat-uid) that uid may beat as well. The directory stays ours,
 * mode 0711 (it can be crossed, not listed or written), and the socket is given to extra_uid,
 * mode 0600: the job and root can reach it, nobody else. Giving it away needs root (or the
 * uid being our own): -EPERM with err filled otherwise.
 */
int fd_hb_open_for(struct fd_hb_socket *s, long long extra_uid, char *err, size_t errlen);
/*
 * The socket file at s->path is still the one bound: 0; -ENOENT when it was removed (or
 * replaced). fd_hb_rebind then binds a new socket there (the old descriptor is closed: the
 * caller takes the new s->fd into its loop).
 */
int fd_hb_check(const struct fd_hb_socket *s);
int fd_hb_rebind(struct fd_hb_socket *s, char *err, size_t errlen);
/*
 * Reads what is queued, up to max datagrams, with as few system calls as the kernel allows
 * (recvmmsg). Fills b[] with the beats and returns how many; foreign and malformed datagrams,
 * and those past a sender's FD_HB_PER_PID this period, are counted in *s and left out. 0 when nothing valid was queued; -errno on failure.
 */
int fd_hb_recv(struct fd_hb_socket *s, struct fd_beat *b, int max);
/* Starts a rate-limit period: every sender's count goes back to 0. */
void fd_hb_period(struct fd_hb_socket *s);
/*
 * Ends a period: fills b[] (up to max) with the newest valid beat of each sender that went
 * past FD_HB_PER_PID, so that a rank that beats too fast still has its latest step counted.
 * Returns how many.
 */
int fd_hb_flush(struct fd_hb_socket *s, struct fd_beat *b, int max);
/* Closes and removes the socket, the stack files in its directory, and the directory. */
void fd_hb_close(struct fd_hb_socket *s);

#endif
