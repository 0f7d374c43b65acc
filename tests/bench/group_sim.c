/*
 * group_sim.c - the node group at up to 16,384 nodes on loopback: one process plays nodes
 * 1..N-1 of a job over N-1 TCP connections to a real coordinator (`flightdeck run --node-rank
 * 0 --nnodes N`, started here), in one epoll loop, with this build's codec (launcher/group/
 * frame.c). group_sim.py plays the same part with a codec of its own (the protocol's second
 * implementation), but one Python process reading 16,383 connections takes longer than the
 * coordinator does, so its numbers past a few thousand nodes are its own.
 *
 * The members do what launcher/group/member.c does, in the order group_sim.py describes:
 * HELLO; after the WELCOME a gate STATE; a STATE for each STOP of the current round; after each
 * DECISION the round is one more and the generation the DECISION's; after a RESTART the next
 * gate STATE once that DECISION is read on every connection; a BEAT every --peer-interval
 * (the members spread over 64 slots of it, whenever each joined); connects that never block.
 * A frame is checked by its MAC once: the same bytes again (the coordinator signs a frame for
 * every member once) are known good, so the reading of 16,383 copies of a DECISION costs
 * reads, not MACs.
 *
 *   group-sim FLIGHTDECK rounds N RESTARTS HOLD_MS
 *	node 0 runs `sh -c 'exit 1'` under --max-restarts RESTARTS: every attempt is a gate
 *	round and an end round. The last member's STATE is sent HOLD_MS after the others; a
 *	round's latency runs from it to the DECISION read on every connection. Prints
 *	"nodes rounds formed_ms p50_ms p99_ms max_ms first_p50_ms cpu_s wall_s hwm_mb".
 *   group-sim FLIGHTDECK close|silent N
 *	node 0 runs `sleep 1000` (--peer-interval 1s --peer-timeout 3s); one member closes its
 *	connection, or falls silent with it open. Prints "nodes all_ms first_ms exit_ms hwm_mb":
 *	from the close (or its last frame) to the peer-lost DECISION read on every other
 *	connection, on the first, and to node 0's exit (75).
 *
 * GROUP_SIM_THREADS=N gives the coordinator --send-threads N (else its own choice, "auto").
 * GROUP_SIM_KEEP=1 keeps the coordinator's stderr and events log (the directory is said);
 * GROUP_SIM_ROUNDS=1 prints each round's first and last reading on stderr; GROUP_SIM_BUSY=1
 * polls instead of sleeping while a round's DECISION is on its way (16,384 sleeping members'
 * wake-ups are then not this one process's: p50 134 ms instead of 170 at 16,384 nodes here).
 * Exit 1 when the protocol fails (a frame that does not parse, a DECISION of another round,
 * members with different decisions, a connection closed early, nothing for 20 s), 2 on usage,
 * 77 when the open-file limit is below N + 64 (group-scale.sh says "skipped").
 */
#define _GNU_SOURCE
#include "frame.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN_MAX	      8192 /* a member's input: a DECISION is at most ~3 KB */
#define STALL_NS      (20 * 1000000000LL)
#define SEEN_MAX      8 /* frames known good by their bytes */
#define RUN_PEER_LOST 75

struct member {
	int fd, node;
	uint32_t gen, round;
	int welcomed, over, silent, closed, in_gate, connecting;
	uint32_t beat_gen, beat_round;
	int beat_ok;
	uint8_t beat[FD_FRAME_HDR];
	int64_t last_tx, rx_at;
	uint8_t in[IN_MAX];
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_cap;
};

struct round {
	int used;
	int sent;			 /* members but the anchor that sent their STATE */
	int64_t anchor_due, anchor_sent; /* 0: not yet */
	int narr;
	int64_t first, last; /* the DECISION's first and last reading */
	int verdict;
	uint32_t gen;
	int stop_why, node;
};

struct seen {
	uint8_t b[FD_FRAME_HDR + 4096];
	size_t n;
	struct fd_frame f;
	int have_d;
	struct fd_decision d;
};

static struct sim {
	struct fd_token tok;
	int nnodes, nm, port, ep;
	struct member *m;
	int64_t interval, hold;
	int slot;	 /* the next beat slot (beats) */
	int64_t slot_at; /* and when it is due; 0: not yet */
	struct round *rounds;
	int nrounds;
	int welcomed;
	int64_t formed_at;
	int nfinal;
	int64_t final_first, final_last;
	struct fd_decision final_d;
	int *deferred, ndeferred;
	int64_t progress_at;
	struct seen seen[SEEN_MAX];
	int seen_next;
	int busy;	/* GROUP_SIM_BUSY=1 */
	int connecting; /* connects in flight */
	/* the coordinator */
	pid_t pid;
	int pidfd;
	int64_t exited_at;
	int rc;
	double cpu_s;
	long hwm_kb;
	char err_path[256];
} S;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void tail_coord(void)
{
	char cmd[400];

	fprintf(stderr, "--- the coordinator's stderr, last lines:\n");
	snprintf(cmd, sizeof(cmd), "tail -n 12 '%s' >&2", S.err_path);
	if (system(cmd) == -1)
		return;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	int st;

	fprintf(stderr, "group-sim: protocol failure at %d nodes: ", S.nnodes);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (!S.exited_at && S.pid > 0 && waitpid(S.pid, &st, WNOHANG) == S.pid)
		S.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), S.exited_at = 1;
	if (S.exited_at)
		fprintf(stderr, "the coordinator exited with status %d\n", S.rc);
	tail_coord();
	if (S.pid > 0 && !S.exited_at) {
		kill(S.pid, SIGTERM);
		sleep(1);
		kill(S.pid, SIGKILL);
	}
	exit(1);
}

/* ---- the coordinator ------------------------------------------------------------------- */

static long proc_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* utime+stime of a zombie (before it is reaped: nothing is missed), seconds. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void coord_sample(void)
{
	long kb;

	if (S.exited_at)
		return;
	kb = proc_hwm_kb(S.pid);
	if (kb > S.hwm_kb)
		S.hwm_kb = kb;
}

static void coord_exited(void)
{
	siginfo_t si;
	int st;

	S.exited_at = now_ns();
	coord_sample();
	memset(&si, 0, sizeof(si));
	waitid(P_PID, (id_t)S.pid, &si, WEXITED | WNOWAIT);
	S.cpu_s = proc_cpu_s(S.pid);
	waitpid(S.pid, &st, 0);
	S.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	epoll_ctl(S.ep, EPOLL_CTL_DEL, S.pidfd, NULL);
	close(S.pidfd);
	S.pidfd = -1;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &l))
		die("no free port: %s", strerror(errno));
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void coord_start(const char *fd_bin, char **extra, char **command, const char *tmp)
{
	char *argv[64], nn[16], co[64], ev[300], tokenv[FD_TOKEN_MAX + 32];
	int k = 0;

	snprintf(nn, sizeof(nn), "%d", S.nnodes);
	snprintf(co, sizeof(co), "127.0.0.1:%d", S.port);
	snprintf(ev, sizeof(ev), "%s/coord%d.ev", tmp, S.nnodes);
	snprintf(S.err_path, sizeof(S.err_path), "%s/coord%d.err", tmp, S.nnodes);
	snprintf(tokenv, sizeof(tokenv), "FLIGHTDECK_TOKEN=%.*s", (int)S.tok.n, (char *)S.tok.b);
	const char *fixed[] = {
	    fd_bin, "run",    "--no-config", "--node-rank", "0",    "--nnodes", nn, "--coordinator",
	    co,	    "--bind", "127.0.0.1",   "--preflight", "none", "--events", ev};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		argv[k++] = (char *)fixed[i];
	if (getenv("GROUP_SIM_THREADS")) {
		argv[k++] = "--send-threads";
		argv[k++] = getenv("GROUP_SIM_THREADS");
	}
	while (*extra)
		argv[k++] = *extra++;
	argv[k++] = "--";
	while (*command)
		argv[k++] = *command++;
	argv[k] = NULL;
	S.pid = fork();
	if (S.pid < 0)
		die("fork: %s", strerror(errno));
	if (S.pid == 0) {
		int out = open("/dev/null", O_WRONLY),
		    err = open(S.err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		putenv(tokenv);
		execv(fd_bin, argv);
		_exit(127);
	}
	S.pidfd = (int)syscall(SYS_pidfd_open, S.pid, 0);
	if (S.pidfd < 0)
		die("pidfd_open: %s", strerror(errno));
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
	epoll_ctl(S.ep, EPOLL_CTL_ADD, S.pidfd, &e);
}

/* ---- sending ----------------------------------------------------------------------------- */

static void want_write(struct member *m, int on)
{
	struct epoll_event e = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
				.data.u64 = (uint64_t)(m - S.m)};

	epoll_ctl(S.ep, EPOLL_CTL_MOD, m->fd, &e);
}

/* What the member's socket takes now (fd_send_now); an error ends the run. */
static size_t sent(struct member *m, const uint8_t *b, size_t n)
{
	long k = fd_send_now(m->fd, b, n);

	if (k < 0)
		die("node %d: send: %s", m->node, strerror((int)-k));
	return (size_t)k;
}

static void send_bytes(struct member *m, const uint8_t *b, size_t n)
{
	size_t off = 0;

	if (m->closed)
		return;
	m->last_tx = now_ns();
	if (!m->out_len)
		off = sent(m, b, n);
	if (off == n)
		return;
	if (m->out_cap - m->out_len < n - off) {
		size_t cap = m->out_cap ? m->out_cap * 2 : 4096;

		while (cap - m->out_len < n - off)
			cap *= 2;
		m->out = realloc(m->out, cap);
		if (!m->out)
			die("out of memory");
		m->out_cap = cap;
	}
	if (!m->out_len)
		want_write(m, 1);
	memcpy(m->out + m->out_len, b + off, n - off);
	m->out_len += n - off;
}

static void flush(struct member *m)
{
	size_t off = sent(m, m->out, m->out_len);

	memmove(m->out, m->out + off, m->out_len - off);
	m->out_len -= off;
	if (!m->out_len)
		want_write(m, 0);
}

static void send_frame(struct member *m, int type, const void *p, size_t n)
{
	uint8_t b[FD_FRAME_HDR + 1024];
	long k =
	    fd_frame_build(b, sizeof(b), type, (uint32_t)m->node, m->gen, m->round, p, n, &S.tok);

	if (k < 0)
		die("node %d: cannot build a frame", m->node);
	send_bytes(m, b, (size_t)k);
}

/*
 * Member i beats in slot i % BEAT_SLOTS of each interval: every member once an interval,
 * spread evenly, whenever it joined (a join of 16,384 members takes seconds, longer than a
 * --peer-timeout of 3 s).
 */
#define BEAT_SLOTS 64

static void beats(int64_t now)
{
	while (S.slot_at && now >= S.slot_at) {
		for (int i = S.slot; i < S.nm; i += BEAT_SLOTS) {
			struct member *m = &S.m[i];

			if (m->closed || m->silent || m->over || !m->welcomed)
				continue;
			if (!m->beat_ok || m->beat_gen != m->gen || m->beat_round != m->round) {
				fd_frame_build(m->beat, sizeof(m->beat), FR_BEAT, (uint32_t)m->node,
					       m->gen, m->round, NULL, 0, &S.tok);
				m->beat_ok = 1, m->beat_gen = m->gen, m->beat_round = m->round;
			}
			send_bytes(m, m->beat, sizeof(m->beat));
		}
		S.slot = (S.slot + 1) % BEAT_SLOTS;
		S.slot_at += S.interval / BEAT_SLOTS;
	}
}

/* ---- rounds -------------------------------------------------------------------------------- */

static struct round *round_of(uint32_t r)
{
	if ((int)r >= S.nrounds)
		die("round %u: more rounds than expected", r);
	S.rounds[r].used = 1;
	return &S.rounds[r];
}

static uint8_t state_payload[256];
static size_t state_len;

static void submit(struct member *m)
{
	struct round *r = round_of(m->round);

	if (m->node == S.nnodes - 1) { /* the anchor: held until every other member's is sent */
		r->anchor_due = INT64_MAX;
	} else {
		send_frame(m, FR_STATE, state_payload, state_len);
		r->sent++;
	}
	if (r->anchor_due == INT64_MAX && r->sent == S.nm - 1)
		r->anchor_due = now_ns() + S.hold;
}

static int64_t due_anchor(int64_t now)
{
	int64_t next = INT64_MAX;

	for (int i = 0; i < S.nrounds; i++) {
		struct round *r = &S.rounds[i];

		if (!r->used || !r->anchor_due || r->anchor_sent)
			continue;
		if (r->anchor_due <= now) {
			struct member *m = &S.m[S.nm - 1];

			send_frame(m, FR_STATE, state_payload, state_len);
			r->anchor_sent = now_ns();
		} else if (r->anchor_due < next) {
			next = r->anchor_due;
		}
	}
	return next;
}

/* ---- receiving ----------------------------------------------------------------------------- */

/* A frame at b: its length and header, checked by its MAC unless the same bytes were. */
static long parse(const uint8_t *b, size_t n, struct fd_frame *f, const struct fd_decision **d)
{
	long k;
	struct seen *s;

	*d = NULL;
	for (int i = 0; i < SEEN_MAX; i++) {
		s = &S.seen[i];
		if (s->n && s->n <= n && !memcmp(b, s->b, s->n)) {
			*f = s->f;
			f->payload = b + FD_FRAME_HDR;
			*d = s->have_d ? &s->d : NULL;
			return (long)s->n;
		}
	}
	k = fd_frame_parse(b, n, &S.tok, f);
	if (k <= 0)
		return k;
	s = &S.seen[S.seen_next];
	S.seen_next = (S.seen_next + 1) % SEEN_MAX;
	s->n = 0;
	if ((size_t)k > sizeof(s->b))
		return k;
	memcpy(s->b, b, (size_t)k);
	s->f = *f;
	s->have_d = (f->type == FR_DECISION || f->type == FR_STOP) &&
		    !fd_decision_get(f->payload, f->len, &s->d);
	s->n = (size_t)k;
	*d = s->have_d ? &s->d : NULL;
	return k;
}

static void on_frame(struct member *m, const struct fd_frame *f, const struct fd_decision *d)
{
	int64_t at = m->rx_at;

	if (f->node != 0)
		die("node %d: a frame from node %u on the coordinator's connection", m->node,
		    f->node);
	if (f->type == FR_BEAT)
		return;
	S.progress_at = at;
	if (f->type == FR_WELCOME) {
		if (m->welcomed)
			die("node %d: a second WELCOME", m->node);
		m->welcomed = 1;
		m->gen = f->gen, m->round = f->round;
		if (++S.welcomed == S.nm)
			S.formed_at = at;
		submit(m); /* the gate: this node is fit */
		return;
	}
	if ((f->type != FR_STOP && f->type != FR_DECISION) || !m->welcomed)
		die("node %d: an unexpected %s", m->node, fd_frame_type_name(f->type));
	if (!d)
		die("node %d: a %s that does not parse", m->node, fd_frame_type_name(f->type));
	if (f->type == FR_STOP) {
		if (f->gen == m->gen && f->round == m->round && !m->over)
			submit(m); /* a peer failed: this node's attempt stops, its state goes up */
		return;
	}
	if (d->stop_why != FD_STOP_PEER_LOST) {
		struct round *r;

		if (f->round != m->round)
			die("node %d: a DECISION for round %u in round %u", m->node, f->round,
			    m->round);
		r = round_of(f->round);
		if (!r->narr) {
			r->verdict = d->verdict, r->gen = d->gen;
			r->stop_why = d->stop_why, r->node = d->node;
			r->first = at;
		} else if (r->verdict != d->verdict || r->gen != d->gen) {
			die("round %u: members got different decisions", f->round);
		}
		r->narr++;
		r->last = at;
	}
	m->round++;
	m->gen = d->gen;
	m->in_gate = d->verdict != FD_CONTINUE;
	if (d->verdict == FD_STOP) {
		m->over = 1;
		if (!S.nfinal++)
			S.final_first = at, S.final_d = *d;
		S.final_last = at;
	} else if (d->verdict == FD_RESTART) {
		S.deferred[S.ndeferred++] =
		    (int)(m - S.m); /* its gate, once every member read it */
	}
}

static void on_readable(struct member *m)
{
	size_t off = 0;
	int eof = 0;

	for (;;) {
		ssize_t k = recv(m->fd, m->in + m->in_len, sizeof(m->in) - m->in_len, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			break;
		if (k <= 0) { /* what came before the close is read first: the last DECISION */
			eof = k < 0 ? errno : -1;
			break;
		}
		m->in_len += (size_t)k;
		m->rx_at = now_ns();
		if (m->in_len == sizeof(m->in))
			break; /* parse, then read on at the next wakeup */
		if (m->in_len < sizeof(m->in))
			break; /* a short read: all there was (a read for EAGAIN costs a syscall) */
	}
	for (;;) {
		struct fd_frame f;
		const struct fd_decision *d;
		long k = parse(m->in + off, m->in_len - off, &f, &d);

		if (k < 0)
			die("node %d: a frame that does not parse (%s)", m->node,
			    strerror((int)-k));
		if (k == 0)
			break;
		off += (size_t)k;
		on_frame(m, &f, d);
	}
	if (off == 0 && m->in_len == sizeof(m->in))
		die("node %d: a frame over %d bytes", m->node, IN_MAX);
	memmove(m->in, m->in + off, m->in_len - off);
	m->in_len -= off;
	if (eof) {
		epoll_ctl(S.ep, EPOLL_CTL_DEL, m->fd, NULL);
		close(m->fd);
		m->closed = 1;
		if (!m->over && !m->silent)
			die("node %d: the coordinator closed the connection before its last DECISION "
			    "(%s)",
			    m->node, eof > 0 ? strerror(eof) : "EOF");
	}
}

/* Every round a gate was started for has its DECISION on every member. */
static int rounds_read(void)
{
	for (int i = 0; i < S.nrounds; i++)
		if (S.rounds[i].used && S.rounds[i].anchor_sent && S.rounds[i].narr < S.nm)
			return 0;
	return 1;
}

static void connected(struct member *m);

/* One wait of the loop, until wake at the latest: beats, the anchor, every ready connection. */
static void poll_once(int64_t wake)
{
	struct epoll_event ev[1024];
	int64_t now = now_ns(), next;
	int n;

	beats(now);
	next = due_anchor(now);
	if (next < wake)
		wake = next;
	if (S.slot_at && S.slot_at < wake)
		wake = S.slot_at;
	if (S.busy && !rounds_read())
		wake = now; /* a round's DECISION is on its way: poll, do not sleep */
	n = epoll_wait(S.ep, ev, 1024, wake > now ? (int)((wake - now + 999999) / 1000000) : 0);
	for (int i = 0; i < n; i++) {
		struct member *m;

		if (ev[i].data.u64 == UINT64_MAX) {
			if (!S.exited_at)
				coord_exited();
			continue;
		}
		m = &S.m[ev[i].data.u64];
		if (m->closed)
			continue;
		if (m->connecting) {
			connected(m);
			continue;
		}
		if (ev[i].events & EPOLLOUT)
			flush(m);
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(m);
	}
	if (S.ndeferred && rounds_read()) {
		int k = S.ndeferred;

		S.ndeferred = 0;
		for (int i = 0; i < k; i++)
			submit(&S.m[S.deferred[i]]);
	}
}

typedef int (*cond_fn)(void);

static void run_until(cond_fn cond, int64_t timeout_ns, const char *what)
{
	int64_t deadline = now_ns() + timeout_ns, next_sample = 0;

	while (!cond()) {
		int64_t now = now_ns();

		if (now > deadline)
			die("no %s within %.0f s", what, (double)timeout_ns / 1e9);
		if (now - S.progress_at > STALL_NS)
			die("waiting for the %s: nothing but beats from the coordinator for %.0f s",
			    what, (double)STALL_NS / 1e9);
		if (now >= next_sample) {
			coord_sample();
			next_sample = now + 200000000LL;
		}
		poll_once(deadline < next_sample ? deadline : next_sample);
	}
}

/* ---- joining ------------------------------------------------------------------------------- */

static int all_welcomed(void)
{
	return S.welcomed == S.nm;
}

static struct sockaddr_in coord_addr(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)S.port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	return a;
}

/* The member's HELLO, once its connection is up. */
static void hello(struct member *m)
{
	struct fd_hello h = {.nnodes = (uint32_t)S.nnodes};
	uint8_t p[512];
	size_t pn;
	int one = 1;

	setsockopt(m->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	snprintf(h.host, sizeof(h.host), "sim-%d", m->node);
	pn = fd_hello_put(p, sizeof(p), &h);
	send_frame(m, FR_HELLO, p, pn);
}

/*
 * A member's connect, without waiting for it: a blocking connect that met a full accept queue
 * would wait out a SYN retransmit (1 s, then 3 s) with no member beating meanwhile, and the
 * coordinator would rightly find the first ones silent.
 */
static void start_connect(struct member *m)
{
	struct sockaddr_in a = coord_addr();
	struct epoll_event e = {.events = EPOLLOUT, .data.u64 = (uint64_t)(m - S.m)};

	m->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->fd < 0)
		die("socket: %s (node %d)", strerror(errno), m->node);
	if (connect(m->fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS)
		die("node %d: cannot reach the coordinator on port %d: %s", m->node, S.port,
		    strerror(errno));
	m->connecting = 1;
	S.connecting++;
	epoll_ctl(S.ep, EPOLL_CTL_ADD, m->fd, &e);
}

static void connected(struct member *m)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &l) || err)
		die("node %d: cannot reach the coordinator on port %d: %s", m->node, S.port,
		    strerror(err ? err : errno));
	m->connecting = 0;
	S.connecting--;
	want_write(m, 0);
	hello(m);
}

/* At most this many connects in flight: fewer than the coordinator's 64 without a HELLO. */
#define CONNECTS_MAX 32

static int64_t join(void)
{
	struct sockaddr_in a = coord_addr();
	int64_t t0, deadline = now_ns() + 30000000000LL;
	struct member *m = &S.m[0];

	for (int i = 0; i < S.nm; i++)
		S.m[i].node = i + 1, S.m[i].in_gate = 1;
	for (;;) { /* the first: until node 0 listens */
		m->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (m->fd < 0)
			die("socket: %s (node %d)", strerror(errno), m->node);
		if (!connect(m->fd, (struct sockaddr *)&a, sizeof(a)))
			break;
		if (errno != ECONNREFUSED || now_ns() > deadline || S.exited_at)
			die("node %d: cannot reach the coordinator on port %d: %s", m->node, S.port,
			    strerror(errno));
		close(m->fd);
		usleep(20000); /* not listening yet */
		if (waitpid(S.pid, NULL, WNOHANG) == S.pid)
			die("the coordinator exited before it listened");
	}
	t0 = now_ns();
	fcntl(m->fd, F_SETFL, fcntl(m->fd, F_GETFL) | O_NONBLOCK);
	S.slot_at = t0;
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = 0};
	epoll_ctl(S.ep, EPOLL_CTL_ADD, m->fd, &e);
	hello(m);
	S.progress_at = now_ns();
	for (int i = 1; i < S.nm;) {
		while (i < S.nm && S.connecting < CONNECTS_MAX)
			start_connect(&S.m[i++]);
		poll_once(now_ns() + 5000000); /* the WELCOMEs come in while the rest connect */
		if (now_ns() > deadline)
			die("%d of %d members connected within 30 s", i - S.connecting, S.nm);
	}
	S.progress_at = now_ns();
	run_until(all_welcomed, 60000000000LL, "WELCOMEs");
	return S.formed_at - t0;
}

/* ---- the benchmarks ------------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of v[0..n), sorted, in ms. */
static double pct_ms(const int64_t *v, int n, double p)
{
	int k = (int)((p / 100.0) * n + 0.999999) - 1;

	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return (double)v[k] / 1e6;
}

static int final_all(void)
{
	return S.nfinal == S.nm;
}

static int coord_gone(void)
{
	return S.exited_at != 0;
}

static int final_others(void)
{
	return S.nfinal == S.nm - 1;
}

static int gate_read(void)
{
	return S.rounds[S.m[0].round ? S.m[0].round - 1 : 0].narr == S.nm;
}

static void sim_init(int nnodes, int64_t interval, int64_t hold, int nrounds)
{
	S.nnodes = nnodes;
	S.nm = nnodes - 1;
	S.interval = interval;
	S.hold = hold;
	S.nrounds = nrounds;
	S.m = calloc((size_t)S.nm, sizeof(*S.m));
	S.rounds = calloc((size_t)nrounds, sizeof(*S.rounds));
	S.deferred = calloc((size_t)S.nm, sizeof(*S.deferred));
	S.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!S.m || !S.rounds || !S.deferred || S.ep < 0)
		die("out of memory");
	S.port = free_port();
}

static int bench_rounds(const char *fd_bin, const char *tmp, int restarts)
{
	char r[16];
	char *extra[] = {"--max-restarts",
			 r,
			 "--backoff",
			 "0",
			 "--gpu-release-timeout",
			 "0",
			 "--no-progress-limit",
			 "0",
			 "--peer-interval",
			 "1s",
			 "--peer-timeout",
			 "10s",
			 "--join-timeout",
			 "60s",
			 "--grace",
			 "1s",
			 NULL};
	char *command[] = {"sh", "-c", "exit 1", NULL};
	int64_t t0, formed, *lat, *first;
	int k = 0;

	snprintf(r, sizeof(r), "%d", restarts);
	t0 = now_ns();
	coord_start(fd_bin, extra, command, tmp);
	formed = join();
	run_until(final_all, 600000000000LL, "final DECISION");
	run_until(coord_gone, 20000000000LL, "coordinator exit");
	if (S.final_d.stop_why != FD_STOP_BUDGET || S.rc != 1)
		die("the job ended with stop_why %d, exit %d (expected --max-restarts spent, exit 1)",
		    S.final_d.stop_why, S.rc);
	lat = calloc((size_t)S.nrounds, sizeof(*lat));
	first = calloc((size_t)S.nrounds, sizeof(*first));
	for (int i = 0; lat && first && i < S.nrounds; i++) {
		struct round *rd = &S.rounds[i];

		if (!rd->used || !rd->anchor_sent)
			continue;
		if (rd->narr < S.nm)
			die("round %d: the DECISION reached %d of %d members", i, rd->narr, S.nm);
		if (getenv("GROUP_SIM_ROUNDS")) /* each round, for a closer look */
			fprintf(stderr, "round %d %s first %.2f last %.2f ms\n", i,
				rd->verdict == FD_CONTINUE ? "gate" : "end",
				(double)(rd->first - rd->anchor_sent) / 1e6,
				(double)(rd->last - rd->anchor_sent) / 1e6);
		lat[k] = rd->last - rd->anchor_sent;
		first[k++] = rd->first - rd->anchor_sent;
	}
	if (!k)
		die("no round was measured");
	qsort(lat, (size_t)k, sizeof(*lat), cmp_i64);
	qsort(first, (size_t)k, sizeof(*first), cmp_i64);
	printf("%d %d %.1f %.2f %.2f %.2f %.2f %.2f %.1f %.1f\n", S.nnodes, k, (double)formed / 1e6,
	       pct_ms(lat, k, 50), pct_ms(lat, k, 99), (double)lat[k - 1] / 1e6,
	       pct_ms(first, k, 50), S.cpu_s, (double)(S.exited_at - t0) / 1e9,
	       (double)S.hwm_kb / 1024);
	free(lat);
	free(first);
	return 0;
}

static int bench_loss(const char *fd_bin, const char *tmp, int silent)
{
	char *extra[] = {"--peer-interval",
			 "1s",
			 "--peer-timeout",
			 "3s",
			 "--join-timeout",
			 "60s",
			 "--grace",
			 "1s",
			 NULL};
	char *command[] = {"sleep", "1000", NULL};
	struct member *victim;
	int64_t t0, end;

	coord_start(fd_bin, extra, command, tmp);
	join();
	run_until(gate_read, 20000000000LL, "gate DECISION");
	if (S.rounds[S.m[0].round - 1].verdict != FD_CONTINUE)
		die("the gate did not decide CONTINUE");
	end = now_ns() + 2000000000LL; /* the attempt runs, every member beating */
	while (now_ns() < end)
		poll_once(end);
	victim = &S.m[S.nm / 2];
	if (silent) {
		victim->silent = 1;
		t0 = victim->last_tx; /* its last frame: the coordinator's last sign of life */
	} else {
		epoll_ctl(S.ep, EPOLL_CTL_DEL, victim->fd, NULL);
		close(victim->fd);
		victim->closed = 1;
		t0 = now_ns();
	}
	S.progress_at = now_ns();
	run_until(final_others, 30000000000LL, "peer-lost DECISION");
	run_until(coord_gone, 20000000000LL, "coordinator exit");
	if (S.final_d.stop_why != FD_STOP_PEER_LOST || S.rc != RUN_PEER_LOST)
		die("stop_why %d, exit %d (expected PEER_LOST, exit %d)", S.final_d.stop_why, S.rc,
		    RUN_PEER_LOST);
	if (S.final_d.node != victim->node)
		die("node %d was named lost, not node %d", S.final_d.node, victim->node);
	printf("%d %.1f %.1f %.1f %.1f\n", S.nnodes, (double)(S.final_last - t0) / 1e6,
	       (double)(S.final_first - t0) / 1e6, (double)(S.exited_at - t0) / 1e6,
	       (double)S.hwm_kb / 1024);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: group-sim FLIGHTDECK rounds NODES RESTARTS HOLD_MS\n"
			"       group-sim FLIGHTDECK close|silent NODES\n");
	exit(2);
}

static long num_arg(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "group-sim: %s: %s is not a number from %ld to %ld\n", what, s, lo,
			hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct fd_node_state st = {.max_step = -1};
	char tmp[] = "/tmp/flightdeck-groupsim.XXXXXX", cmd[100];
	struct rlimit rl;
	int nodes, rc;

	if (argc < 4)
		usage();
	nodes = (int)num_arg(argv[3], 2, 65536, "NODES");
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)nodes + 64) {
		fprintf(stderr, "group-sim: %d nodes need %d open files; ulimit -n is %llu\n",
			nodes, nodes + 64, (unsigned long long)rl.rlim_cur);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	S.busy = getenv("GROUP_SIM_BUSY") != NULL;
	for (size_t i = 0; i < 32; i++) /* a token of 64 hex digits, as an operator makes one */
		snprintf((char *)S.tok.b + 2 * i, 3, "%02x",
			 (unsigned)(rand() ^ getpid() ^ (int)i) & 0xff);
	S.tok.n = 64;
	state_len = fd_state_put(state_payload, sizeof(state_payload), &st);
	if (!mkdtemp(tmp)) {
		perror("group-sim: mkdtemp");
		return 1;
	}
	if (!strcmp(argv[2], "rounds")) {
		int restarts;

		if (argc != 6)
			usage();
		restarts = (int)num_arg(argv[4], 0, 10000, "RESTARTS");
		sim_init(nodes, 1000000000LL,
			 (int64_t)(num_arg(argv[5], 0, 10000, "HOLD_MS") * 1000000LL),
			 2 * restarts + 8);
		rc = bench_rounds(argv[1], tmp, restarts);
	} else if (!strcmp(argv[2], "close") || !strcmp(argv[2], "silent")) {
		if (argc != 4)
			usage();
		sim_init(nodes, 1000000000LL, 0, 8);
		rc = bench_loss(argv[1], tmp, !strcmp(argv[2], "silent"));
	} else {
		usage();
	}
	if (getenv("GROUP_SIM_KEEP")) { /* the coordinator's stderr and events, to read */
		fprintf(stderr, "group-sim: kept %s\n", tmp);
		return rc;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) == -1)
		return 1;
	return rc;
}
