/*
 * beats.c - the heartbeat sources the supervisor reads itself: the socket, on readiness or
 * polled on the timer at high beat rates (see struct sup_beats), and --heartbeat-file's
 * mtime. The output source is in output.c; all three feed ranks_beat.
 */
#include "proctree.h"
#include "sv.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#define HB_DRAIN_SLICE_NS (2 * MS) /* a read that found datagrams reads again, this long */

/*
 * Reads every queued beat, on readiness or on the polling timer: the kernel queues at most
 * net.unix.max_dgram_qlen (10 by default) datagrams per socket and clients wait 20 ms at most
 * on a full queue, so a supervisor that dawdled would lose beats. One recvmmsg takes a batch.
 */
/*
 * A socket beat. The sender's pid is where a stack dump is asked for later; its start time,
 * read now while the sender is surely alive, proves later that the pid still names the same
 * process (docs/architecture.md, "The supervisor": signals only to our own).
 */
static void beat(struct sv *s, const struct fd_beat *b, int64_t now)
{
	struct sup_rank *r = ranks_beat(&s->ranks, b, now);
	struct fd_proc p;

	if (!b->pid || !r || r->pid_start)
		return;
	if (!fd_proc_read(r->pid, &p))
		r->pid_start = p.starttime;
}

static void take(struct sv *s, const struct fd_beat *b, int n, int64_t now)
{
	for (int i = 0; i < n; i++)
		if (s->phase == PH_RUNNING || s->phase == PH_STACKS)
			beat(s, &b[i], now);
}

/*
 * One period of the per-sender rate limit (heartbeat.h, FD_HB_PER_PID). While datagrams keep
 * coming the socket is read again, for HB_DRAIN_SLICE_NS at most: under a flood the queue
 * refills as fast as it is read, and a slot freed promptly is one a healthy rank's sender,
 * waiting its 20 ms on the full queue, can take (64 flooding processes can starve a
 * healthy rank into a stall otherwise). Beats are taken in arrival order, so a rank's newest beat is
 * the one its state ends with; a rate-limited sender's newest beat comes last, from
 * fd_hb_flush.
 */
static int drain(struct sv *s, int64_t now, int *flooded)
{
	static struct fd_beat b[HB_RECV_BATCH];
	struct fd_hb_socket *hb = &s->beats.hb;
	int64_t until = now + HB_DRAIN_SLICE_NS;
	int n, total = 0;

	*flooded = 0;
	fd_hb_period(hb);
	do {
		n = fd_hb_recv(hb, b, HB_RECV_BATCH);
		take(s, b, n, now);
		total += n > 0 ? n : 0;
		if (n >= 0 && hb->read && fd_mono_ns() >= until) {
			*flooded = 1; /* still coming after a whole slice */
			break;
		}
	} while (n == HB_RECV_BATCH || (n >= 0 && hb->read));
	n = fd_hb_flush(hb, b, HB_RECV_BATCH);
	take(s, b, n, now);
	return total + n;
}

/* Readiness (poll 0) or the timer (poll 1): the socket sleeps in the epoll set when polled. */
static void set_mode(struct sv *s, int poll)
{
	struct sup_beats *b = &s->beats;

	if (fd_loop_mod(&s->loop, b->hb.fd, poll ? 0 : EPOLLIN))
		return;
	b->poll = poll;
	b->fast = b->idle = 0;
	b->period = HB_POLL_MAX_NS;
	b->next_poll = fd_mono_ns() + b->period;
}

/* The socket was readable (readiness mode). */
static void on_ready(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct sv *s = arg;
	struct sup_beats *b = &s->beats;
	int64_t now = fd_mono_ns();
	int flooded;

	drain(s, now, &flooded);
	b->fast = now - b->last_wake < HB_POLL_MAX_NS ? b->fast + 1 : 0;
	b->last_wake = now;
	if (b->fast >= HB_FAST_WAKES)
		set_mode(s, 1);
}

int beats_watch(struct sv *s)
{
	return fd_loop_add(&s->loop, s->beats.hb.fd, EPOLLIN, on_ready, s);
}

/* A poll in polling mode, with n datagrams read: size the period to the rate. */
static void paced(struct sv *s, int n, int64_t now)
{
	struct sup_beats *b = &s->beats;

	if (n == 0 && ++b->idle >= HB_IDLE_POLLS) {
		set_mode(s, 0);
		return;
	}
	/* Proportional: the period that would have queued HB_POLL_TARGET datagrams. */
	if (n) {
		b->idle = 0;
		b->period = b->period * HB_POLL_TARGET / n;
	}
	if (b->period < HB_POLL_MIN_NS)
		b->period = HB_POLL_MIN_NS;
	if (b->period > HB_POLL_MAX_NS)
		b->period = HB_POLL_MAX_NS;
	b->next_poll = now + b->period;
}

/* On every timer expiry: beats queued up to now count before any deadline is judged. */
void beats_on_timer(struct sv *s, int64_t now)
{
	int flooded, n = drain(s, now, &flooded);

	if (s->beats.poll && now >= s->beats.next_poll)
		paced(s, n, now);
	/* a flood: back to the socket as soon as the loop has looked at everything else */
	if (s->beats.poll && flooded)
		s->beats.next_poll = now;
}

int64_t beats_next_poll(const struct sv *s)
{
	return s->beats.poll ? s->beats.next_poll : INT64_MAX;
}

/* --heartbeat-file: a new mtime is a beat of the RANK_FILE pseudo-rank. */
void beats_poll_file(struct sv *s, int64_t now)
{
	struct sup_beats *b = &s->beats;
	int64_t every = s->o->stall_ms / FILE_POLLS_PER_STALL;
	struct stat st;

	b->next_file_poll = now + (every < FILE_POLL_MAX_MS ? every : FILE_POLL_MAX_MS) * MS;
	if (stat(s->o->heartbeat_file, &st))
		return;
	if (!b->file_seen) { /* the first look at this launch: what was there before */
		b->file_seen = 1;
		b->file_mtime = st.st_mtim;
		return;
	}
	if (st.st_mtim.tv_sec != b->file_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != b->file_mtime.tv_nsec) {
		struct fd_beat beat = {.rank = RANK_FILE, .step = -1};

		b->file_mtime = st.st_mtim;
		ranks_beat(&s->ranks, &beat, now);
	}
}

/*
 * Before a launch: the job (or a /tmp cleaner) may have deleted the socket, and a client
 * cannot reach a socket that has no name. Bind a new one at the same path, so this launch is
 * supervised, or say that it cannot be.
 */
void beats_relaunch(struct sv *s)
{
	struct sup_beats *b = &s->beats;
	char err[PATH_MAX + 128];
	int r;

	if (b->hb.fd < 0 || !fd_hb_check(&b->hb))
		return;
	fd_loop_del(&s->loop, b->hb.fd);
	r = fd_hb_rebind(&b->hb, err, sizeof(err));
	if (!r && (r = beats_watch(s)))
		snprintf(err, sizeof(err), "%s", strerror(-r));
	if (r) {
		ev_say(s,
		       "the heartbeat socket %s was removed and cannot be made again (%s): this "
		       "launch's beats cannot arrive",
		       b->hb.path, err);
		return;
	}
	b->poll = b->fast = b->idle = 0;
	ev_say(s, "the heartbeat socket %s was removed during the last launch: made it again",
	       b->hb.path);
}

/*
 * A stall or startup failure of a launch from which no rank's datagram arrived, while ranks
 * were expected or datagrams came from another uid: the likeliest cause is a job that cannot
 * reach the socket, most often because it dropped privileges (docs/architecture.md,
 * "Heartbeats"). Appended to the failure's line.
 */
void beats_explain(const struct sv *s, char *what, size_t len)
{
	const struct fd_hb_socket *hb = &s->beats.hb;
	size_t n = strlen(what);

	if (ranks_real(&s->ranks) || (!s->ranks.expected && !hb->foreign) || n >= len)
		return;
	if (hb->foreign)
		snprintf(what + n, len - n,
			 "; no heartbeat datagram arrived from an allowed uid, %llu refused from "
			 "another (uid %u): --heartbeat-uid %u lets it beat",
			 (unsigned long long)hb->foreign, (unsigned)hb->last_foreign_uid,
			 (unsigned)hb->last_foreign_uid);
	else
		snprintf(what + n, len - n,
			 "; no heartbeat datagram arrived: a job running as another user cannot "
			 "reach the socket (--heartbeat-uid)");
}
