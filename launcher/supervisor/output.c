/*
 * output.c - flightdeck's own stdout and stderr, and the child's output when flightdeck reads
 * it (--progress-regex, --pty).
 *
 * Nothing here may block the loop (docs/architecture.md, "The supervisor"): a reader that
 * stops reading (`flightdeck run ... | sleep 30`) must not stop stall detection, --timeout or
 * a SIGTERM. So every write to our stdout and stderr goes through a sink: what the reader does
 * not take now is kept (up to OUT_BUF_MAX per sink) and written when the descriptor is
 * writable again (EPOLLOUT in the loop), in order. A slow reader slows the child: above
 * OUT_HIGH_WATER pending bytes the child's pipe is not read, so the child waits in write() as
 * it would writing to that reader itself, and nothing is lost. A reader that takes nothing
 * for OUT_STUCK_MS is stuck (`| sleep 30`, a paused pager): the child is read again, so its
 * progress lines keep beating, and past OUT_BUF_MAX the newest bytes are dropped, up to the
 * next line start once there is room again; the count is said once per episode (stderr and
 * an `output_dropped` event).
 *
 * Non-blocking without touching what others share: O_NONBLOCK is a flag of the open file
 * description, which our parent's shell and, without capture, our own child share; setting
 * it on fd 1 would make their writes fail with EAGAIN. A pipe, FIFO or terminal is instead
 * reopened through /proc/self/fd/N, which gives flightdeck a description of its own, with
 * O_NONBLOCK on it alone. A socket is written with send(MSG_DONTWAIT). A regular file never
 * blocks (and must keep its shared offset for `>out 2>&1`), so it is written as given. Where
 * a reopen is refused, writes go out only when poll() says writable, PIPE_BUF bytes at a time
 * (a pipe with room takes that much without blocking).
 *
 * Order: when our stdout and stderr are one file (`>out 2>&1`, one terminal, one pipe), the
 * child gets one pipe for both (spawn's capture_merged), so its lines reach the file in the
 * order it wrote them, as they would without flightdeck; and flightdeck's own lines share
 * that sink. To two different files each stream keeps its own order; the order between them
 * is whatever the two readers make of it.
 *
 * Matching: every line is matched, where a line ends at '\n' or '\r' (tqdm redraws with '\r').
 * The pump reads big chunks, passes them through in one write, and looks for lines in them
 * with no per-byte copy: when the regex has a literal every match must contain (`step` in
 * 'step (\d+)'), only the lines holding it (memmem) are given to regexec.
 */
#define _GNU_SOURCE
#include "sv.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SINK_START   65536
#define PUMP_CHUNK   (256 * 1024)
#define PUMP_READS   8	       /* reads per wake-up, so a firehose cannot starve the loop */
#define PIPE_WANT_SZ (1 << 20) /* the child's pipes: fewer, bigger reads */

/* ---- sinks ------------------------------------------------------------------------------ */

static int sink_setup(struct sup_sink *k, int orig, const char *name)
{
	char path[64];
	struct stat st;
	int fd;

	*k = (struct sup_sink){.fd = orig, .orig = orig, .name = name};
	if (fstat(orig, &st)) {
		k->dead = 1;
		return 0;
	}
	if (S_ISSOCK(st.st_mode)) {
		k->sock = 1;
	} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", orig);
		fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0) {
			k->fd = fd;
			k->own = 1;
		} else {
			k->gated = 1;
		}
	}
	return 0;
}

/* Writes what the descriptor takes now: bytes written, or -errno for a gone reader. */
static ssize_t raw_write(struct sup_sink *k, const char *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t want = n - done;
		ssize_t w;

		if (k->gated) {
			struct pollfd pf = {.fd = k->fd, .events = POLLOUT};

			if (poll(&pf, 1, 0) <= 0 || !(pf.revents & POLLOUT))
				break;
			if (want > PIPE_BUF)
				want = PIPE_BUF;
		}
		if (k->sock)
			w = send(k->fd, p + done, want, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(k->fd, p + done, want);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

static void sink_fd_cb(struct fd_loop *l, int fd, uint32_t events, void *arg);

/* Pending bytes: wake when writable. Without a place in the loop they cannot wait: dropped. */
static void sink_want_out(struct sup_sink *k, int want)
{
	if (want == k->polling)
		return;
	if (!k->in_loop) {
		if (!want || fd_loop_add(k->loop, k->fd, EPOLLOUT, sink_fd_cb, k))
			return;
		k->in_loop = 1;
	} else if (fd_loop_mod(k->loop, k->fd, want ? EPOLLOUT : 0)) {
		return;
	}
	k->polling = want;
}

static void sink_dead(struct sup_sink *k)
{
	k->dead = 1;
	k->off = k->len = 0;
	sink_want_out(k, 0);
}

/* The end of an overflow episode: said once, on stderr and in the events log. */
static void sink_report(struct sv *s, struct sup_sink *k)
{
	uint64_t n = k->dropped;
	cJSON *o;

	k->dropped = 0;
	k->dropping = 0;
	if (!n)
		return;
	ev_say(s,
	       "dropped %llu bytes of the command's %s: the reader of flightdeck's %s did not "
	       "keep up (%d MiB buffered)",
	       (unsigned long long)n, k->name, k->name, OUT_BUF_MAX >> 20);
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddStringToObject(o, "stream", k->name);
		cJSON_AddNumberToObject(o, "bytes", (double)n);
	}
	ev_emit(s, "output_dropped", RANK_NONE, -1, NULL, -1, o);
}

static int sink_append(struct sup_sink *k, const char *p, size_t n)
{
	if (k->off && k->off + k->len + n > k->cap) {
		memmove(k->buf, k->buf + k->off, k->len);
		k->off = 0;
	}
	if (k->len + n > k->cap) {
		size_t cap = k->cap ? k->cap : SINK_START;
		char *b;

		while (cap < k->len + n)
			cap *= 2;
		if (cap > OUT_BUF_MAX)
			cap = OUT_BUF_MAX;
		b = realloc(k->buf, cap);
		if (!b)
			return -ENOMEM;
		k->buf = b;
		k->cap = cap;
	}
	memcpy(k->buf + k->off + k->len, p, n);
	k->len += n;
	return 0;
}

/*
 * Passes p through to the sink: written now, or kept in order behind what waits, or (past
 * OUT_BUF_MAX) dropped. s may be NULL where no report can be made (said later).
 */
static void sink_write(struct sv *s, struct sup_sink *k, const char *p, size_t n)
{
	if (k->dead || !n)
		return;
	if (k->dropping) {
		const char *nl;

		/* Resume at a line start, and only with room for it. */
		if (k->len >= OUT_BUF_MAX / 2 || !(nl = memchr(p, '\n', n))) {
			k->dropped += n;
			return;
		}
		k->dropped += (size_t)(nl + 1 - p);
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
		if (s)
			sink_report(s, k);
		if (!n)
			return;
	}
	if (!k->len) {
		ssize_t w = raw_write(k, p, n);

		if (w < 0) {
			sink_dead(k);
			return;
		}
		p += w;
		n -= (size_t)w;
		if (!n)
			return;
		k->last_progress = fd_mono_ns(); /* pending from now */
	}
	size_t room = OUT_BUF_MAX - k->len, take = n < room ? n : room;

	if (take && sink_append(k, p, take))
		take = 0;
	if (take < n) {
		k->dropping = 1;
		k->dropped += n - take;
	}
	sink_want_out(k, 1);
}

/* Writes what is pending; 0 when nothing is left, 1 when some is, -errno for a gone reader. */
static int sink_drain(struct sup_sink *k)
{
	ssize_t w;

	if (k->dead)
		return 0;
	if (k->len) {
		w = raw_write(k, k->buf + k->off, k->len);
		if (w < 0) {
			sink_dead(k);
			return (int)w;
		}
		k->off += (size_t)w;
		k->len -= (size_t)w;
		if (w > 0)
			k->last_progress = fd_mono_ns();
	}
	if (!k->len)
		k->off = 0;
	return k->len ? 1 : 0;
}

static void resume_streams(struct sv *s, int64_t now);

static void sink_fd_cb(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct sup_sink *k = arg;

	if (sink_drain(k) == 0)
		sink_want_out(k, 0);
	resume_streams(k->s, fd_mono_ns());
}

/* A reader that took nothing for OUT_STUCK_MS is stuck: the child is read again, and what
 * does not fit the bound is dropped, so its beats keep coming. */
static int sink_stuck(const struct sup_sink *k, int64_t now)
{
	return k->len && now - k->last_progress >= (int64_t)OUT_STUCK_MS * MS;
}

/* A slow reader: above the high-water mark the child is not read, so it waits in write()
 * as it would writing to that reader itself. Nothing is lost. */
static int sink_full(const struct sup_sink *k, int64_t now)
{
	return !k->dead && k->len >= OUT_HIGH_WATER && !sink_stuck(k, now);
}

/* ---- the child's output ----------------------------------------------------------------- */

static void close_stream(struct sup_stream *st)
{
	if (st->fd < 0)
		return;
	if (st->len && st->s->output.have_re)
		match_line(st->s, st->rank, st->line, st->len); /* the last line, without its end */
	st->len = 0;
	if (*st->prefix && !st->bol) { /* a last line without its end: ended here */
		sink_write(st->s, st->sink, "\n", 1);
		st->bol = 1;
	}
	fd_loop_del(&st->s->loop, st->fd);
	close(st->fd);
	st->fd = -1;
}

static void pause_stream(struct sup_stream *st, int pause)
{
	if (st->fd < 0 || st->paused == pause)
		return;
	if (!fd_loop_mod(&st->s->loop, st->fd, pause ? 0 : EPOLLIN))
		st->paused = pause;
}

static void resume_streams(struct sv *s, int64_t now)
{
	for (int i = 0; i < s->output.nst; i++) {
		struct sup_stream *st = &s->output.st[i];

		if (st->paused && !sink_full(st->sink, now))
			pause_stream(st, 0);
	}
}

/* The loop's timer: when a paused stream's reader will count as stuck. */
static int64_t out_next(void *arg, int64_t now)
{
	struct sv *s = arg;
	int64_t t = INT64_MAX;

	for (int i = 0; i < s->output.nst; i++) {
		struct sup_stream *st = &s->output.st[i];

		if (st->paused && st->sink->len) {
			int64_t at = st->sink->last_progress + (int64_t)OUT_STUCK_MS * MS;

			if (at < t)
				t = at;
		}
	}
	return t;
}

static void out_timer(struct fd_loop *l, int64_t now, void *arg)
{
	resume_streams(arg, now);
}

/*
 * --prefix-output: "[rankN]: " before every line of a rank, so that ranks sharing one
 * terminal or file can be told apart (torchrun's --tee and log prefixes).
 */
static void write_prefixed(struct sup_stream *st, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl + 1 - p) : n;

		if (st->bol)
			sink_write(st->s, st->sink, st->prefix, strlen(st->prefix));
		sink_write(st->s, st->sink, p, k);
		st->bol = !!nl;
		p += k;
		n -= k;
	}
}

/* Pass through what is there, match its lines; the end closes the stream. force: read even
 * for a slow reader (the tree is gone: what is in the pipe is all there will be). */
static void pump_stream(struct sup_stream *st, int force)
{
	static char buf[PUMP_CHUNK];

	for (int i = 0; i < PUMP_READS; i++) {
		ssize_t n;

		if (!force && sink_full(st->sink, fd_mono_ns())) {
			pause_stream(st, 1);
			return;
		}
		n = read(st->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* EIO: a pty master whose slave side is all closed */
			close_stream(st);
			return;
		}
		if (*st->prefix)
			write_prefixed(st, buf, (size_t)n);
		else
			sink_write(st->s, st->sink, buf, (size_t)n);
		if (st->s->output.have_re)
			match_scan(st, buf, (size_t)n);
	}
}

static void pump(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	pump_stream(arg, 0);
}

/* Our stdout and stderr as sinks, before anything is written. */
void out_init(struct sv *s)
{
	struct sup_output *o = &s->output;
	struct stat a, b;

	sink_setup(&o->sink[0], STDOUT_FILENO, "stdout");
	sink_setup(&o->sink[1], STDERR_FILENO, "stderr");
	o->sink[0].loop = o->sink[1].loop = &s->loop;
	o->sink[0].s = o->sink[1].s = s;
	o->err_sink = &o->sink[1];
	if (!fstat(STDOUT_FILENO, &a) && !fstat(STDERR_FILENO, &b) && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino && a.st_rdev == b.st_rdev) {
		o->merged = 1;
		o->err_sink = &o->sink[0];
	}
	o->nst = 2 * (s->o->nproc_per_node > 1 ? s->o->nproc_per_node : 1);
	o->st = calloc((size_t)o->nst, sizeof(*o->st));
	if (!o->st)
		o->nst = 0; /* out_watch says the output cannot be watched */
	for (int i = 0; i < o->nst; i++)
		o->st[i] = (struct sup_stream){
		    .s = s, .fd = -1, .sink = i % 2 ? o->err_sink : &o->sink[0], .bol = 1};
	if (s->o->progress_regex)
		o->litlen = match_literal(s->o->progress_regex, o->lit, sizeof(o->lit));
}

/*
 * Watches the captured output of a launch's local rank (out_fd < 0: not captured; err_fd < 0:
 * merged). Without native ranks, local is 0 and its beats are the output's own (RANK_OUTPUT).
 */
void out_watch(struct sv *s, int local, int out_fd, int err_fd)
{
	struct sup_output *o = &s->output;
	struct sup_stream *out, *err;
	int r = 0, rank = RANK_OUTPUT;

	if (2 * local + 1 >= o->nst) {
		if (out_fd >= 0)
			close(out_fd);
		if (err_fd >= 0)
			close(err_fd);
		ev_say(s, "cannot watch the output of local rank %d: out of memory", local);
		return;
	}
	out = &o->st[2 * local];
	err = &o->st[2 * local + 1];
	if (s->o->nproc_per_node > 0)
		rank = s->att.rank_base + local;
	for (struct sup_stream *st = out; st <= err; st++) {
		st->len = 0;
		st->paused = 0;
		st->bol = 1;
		st->rank = rank;
		if (s->o->prefix_output)
			snprintf(st->prefix, sizeof(st->prefix), "[rank%d]: ", rank);
	}
	out->fd = out_fd;
	err->fd = err_fd;
	if (out_fd < 0)
		return;
	if (!o->timer_added && !fd_loop_timer(&s->loop, out_next, out_timer, s))
		o->timer_added = 1;
	fcntl(out_fd, F_SETPIPE_SZ, PIPE_WANT_SZ); /* a pty refuses: fine */
	r = fd_loop_add(&s->loop, out_fd, EPOLLIN, pump, out);
	if (!r && err_fd >= 0) {
		fcntl(err_fd, F_SETPIPE_SZ, PIPE_WANT_SZ);
		r = fd_loop_add(&s->loop, err_fd, EPOLLIN, pump, err);
	}
	if (r)
		ev_say(s, "cannot watch the command's output: %s", strerror(-r));
}

void out_close(struct sv *s)
{
	/* the tree is gone: what it wrote last is still in the pipe */
	for (int i = 0; i < s->output.nst; i++) {
		struct sup_stream *st = &s->output.st[i];

		if (st->fd >= 0)
			pump_stream(st, 1);
		close_stream(st);
	}
}

/* flightdeck's own line on stderr (events.c), through the sink once there is one. */
void out_say(const struct sv *s, const char *line)
{
	struct sup_sink *k = s->output.err_sink;

	if (!k) {
		fprintf(stderr, "%s", line);
		return;
	}
	sink_write(NULL, k, line, strlen(line));
}

/*
 * At exit: what is pending goes out while the reader takes some at least every idle_ms;
 * a reader that takes nothing for that long (or OUT_EXIT_MAX_MS in all) loses the rest, said.
 */
void out_flush(struct sv *s, int idle_ms)
{
	int64_t t0 = fd_mono_ns();

	for (int i = 0; i < 2; i++) {
		struct sup_sink *k = &s->output.sink[i];
		int64_t last = fd_mono_ns();

		while (!k->dead && k->len) {
			struct pollfd pf = {.fd = k->fd, .events = POLLOUT};
			int64_t now = fd_mono_ns();
			size_t before = k->len;

			if ((now - last) / MS >= idle_ms || (now - t0) / MS >= OUT_EXIT_MAX_MS)
				break;
			if (!k->gated)
				poll(&pf, 1, 50);
			else
				poll(NULL, 0, 5);
			sink_drain(k);
			if (k->len < before)
				last = fd_mono_ns();
		}
		if (k->len) {
			k->dropped += k->len;
			k->dropping = 1;
			k->off = k->len = 0;
		}
		if (k->dropping)
			sink_report(s, k);
	}
}

/* The last flush (the summary line), then the sinks are closed. */
void out_fini(struct sv *s)
{
	out_flush(s, OUT_FINAL_IDLE_MS);
	for (int i = 0; i < 2; i++) {
		struct sup_sink *k = &s->output.sink[i];

		if (k->in_loop)
			fd_loop_del(k->loop, k->fd);
		if (k->own)
			close(k->fd);
		free(k->buf);
		*k = (struct sup_sink){.fd = -1, .dead = 1};
	}
	s->output.err_sink = NULL;
	free(s->output.st);
	s->output.st = NULL;
	s->output.nst = 0;
}
