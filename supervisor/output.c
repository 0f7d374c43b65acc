/*
 * output.c - the child's stdout and stderr when --progress-regex reads them: every byte is
 * passed through unchanged, and every complete line is matched (a match is a beat of the
 * RANK_OUTPUT pseudo-rank). Without --progress-regex the child writes to flightdeck's own
 * stdout and stderr directly and nothing here runs.
 */
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define PUMP_CHUNK 65536

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* our stdout is gone: keep supervising, drop the copy */
		p += w;
		n -= (size_t)w;
	}
}

static void match_line(struct sup_stream *st)
{
	struct fd_beat b = {.rank = RANK_OUTPUT, .step = -1};

	st->line[st->len] = '\0';
	if (fd_progress_match(&st->s->output.re, st->line, &b.step))
		ranks_beat(&st->s->ranks, &b, fd_mono_ns());
	st->len = 0;
}

static void close_stream(struct sup_stream *st)
{
	if (st->fd < 0)
		return;
	if (st->len)
		match_line(st); /* the last line, without its newline */
	fd_loop_del(&st->s->loop, st->fd);
	close(st->fd);
	st->fd = -1;
}

/* Readable: copy through what is there, up to EAGAIN; the end closes the stream. */
static void pump(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct sup_stream *st = arg;
	char buf[PUMP_CHUNK];

	for (;;) {
		ssize_t n = read(st->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_stream(st);
			return;
		}
		write_all(st->out, buf, (size_t)n);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				match_line(st);
			} else if (st->len < LINE_MAX_MATCH) {
				st->line[st->len++] = buf[i];
			}
		}
	}
}

/* Watches a launch's captured output (out_fd < 0: not captured). */
void out_watch(struct sv *s, int out_fd, int err_fd)
{
	struct sup_output *o = &s->output;

	o->out = (struct sup_stream){.s = s, .fd = out_fd, .out = STDOUT_FILENO};
	o->err = (struct sup_stream){.s = s, .fd = err_fd, .out = STDERR_FILENO};
	if (out_fd < 0)
		return;
	int r = fd_loop_add(&s->loop, out_fd, EPOLLIN, pump, &o->out);

	if (!r)
		r = fd_loop_add(&s->loop, err_fd, EPOLLIN, pump, &o->err);
	if (r)
		sup_say(s, "cannot watch the command's output: %s", strerror(-r));
}

void out_close(struct sv *s)
{
	close_stream(&s->output.out);
	close_stream(&s->output.err);
}
