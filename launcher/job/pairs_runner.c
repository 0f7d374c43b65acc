/*
 * pairs_runner.c - this node's side of the RDMA test between node pairs (see pairs_run.h).
 * perftest's ib_write_bw is run by checks/ib_bw.c, whose functions block; here they run in a
 * worker process, so the loop goes on beating and reading the group meanwhile.
 */
#define _GNU_SOURCE
#include "pairs_run.h"
#include "ib.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKER_SLACK_MS 5000 /* past the worker's own deadline, before it is killed */

struct pairs_runner {
	struct fd_loop *loop;
	struct fd_group *g;
	const struct fd_config *cfg;
	pid_t pid;    /* the worker, 0 when none */
	int rfd;      /* its pipe, -1 */
	int reported; /* its PAIR_RESULT reached node 0 */
	struct fd_world_msg order;
	int64_t deadline;
	unsigned char buf[sizeof(struct fd_world_msg)];
	size_t have;
};

/* ---- the worker (a child process: it may block) ---------------------------------------------- */

static void put(int fd, const struct fd_world_msg *m)
{
	const unsigned char *p = (const unsigned char *)m;
	size_t off = 0;

	while (off < sizeof(*m)) {
		ssize_t k = write(fd, p + off, sizeof(*m) - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(1); /* the runner is gone: nobody to tell */
		off += (size_t)k;
	}
}

static void worker(const struct fd_config *cfg, const struct fd_world_msg *o, int fd)
{
	static struct fd_world_msg m;
	struct ib_rail rails[IB_PAIR_RAILS];
	char tool[4096], why[256] = "";
	int dur = (int)((o->duration_ms + 999) / 1000);
	int n = ib_pair_rails(cfg, rails, FD_WORLD_RAILS, tool, sizeof(tool), why, sizeof(why));
	int64_t per = o->timeout_ms;

	m = (struct fd_world_msg){
	    .kind = FW_PAIR_RESULT, .set = o->set, .role = o->role, .peer = o->peer};
	if (n <= 0) {
		m.skip = 1;
		snprintf(m.text, sizeof(m.text), "%s", n < 0 ? "out of memory" : why);
		put(fd, &m);
		return;
	}
	if (o->role == FWR_CLIENT && o->nrails < n)
		n = o->nrails; /* rail k meets the server's rail k */
	m.nrails = n;
	for (int i = 0; i < n; i++) {
		fd_strlcpy(m.rails[i].dev, rails[i].dev, sizeof(m.rails[i].dev));
		m.rails[i].ib_port = rails[i].port;
		m.rails[i].rate = rails[i].rate;
	}
	if (o->role == FWR_SERVER) {
		struct ib_pair_servers sv;
		int outcome[IB_PAIR_RAILS] = {0};
		/* the client starts once node 0 relays READY, then runs the rails one by one */
		int64_t deadline = fd_deadline_ns(fd_mono_ns(), per * (n + 1) + 2000);

		if (ib_pair_serve(tool, rails, n, dur, &sv, why, sizeof(why))) {
			for (int i = 0; i < n; i++)
				m.rails[i].outcome = FRO_FAILED;
			snprintf(m.text, sizeof(m.text), "%s", why);
			put(fd, &m);
			return;
		}
		m.kind = FW_READY;
		for (int i = 0; i < n; i++)
			m.rails[i].tcp_port = sv.tcp[i];
		put(fd, &m);
		m.kind = FW_PAIR_RESULT;
		ib_pair_serve_end(&sv, deadline, outcome, why, sizeof(why));
		for (int i = 0; i < n; i++)
			m.rails[i].outcome = outcome[i] == 2 ? FRO_HUNG : FRO_MEASURED;
		snprintf(m.text, sizeof(m.text), "%s", why);
		put(fd, &m);
		return;
	}
	for (int i = 0; i < n; i++) {
		int64_t deadline = fd_deadline_ns(fd_mono_ns(), per);
		int rc = ib_pair_connect(tool, &rails[i], o->addr, o->rails[i].tcp_port, dur,
					 deadline, &m.rails[i].gbps, why, sizeof(why));

		m.rails[i].outcome = rc == 0 ? FRO_MEASURED : rc == 2 ? FRO_HUNG : FRO_FAILED;
		if (rc && !m.text[0])
			snprintf(m.text, sizeof(m.text), "%s/%d: %s", rails[i].dev, rails[i].port,
				 why);
	}
	put(fd, &m);
}

/* ---- the runner, on the loop ------------------------------------------------------------------ */

static void forward(struct pairs_runner *r, const struct fd_world_msg *m)
{
	if (m->kind == FW_PAIR_RESULT)
		r->reported = 1;
	grp_world_send(r->g, 0, m);
}

/*
 * The worker ended (its pipe closed) or is to be stopped: its group is killed while the worker
 * is still unreaped (its pid, and so its group's, cannot be anyone else's yet), then it is
 * reaped; node 0 is told what happened when it had no result.
 */
static void take_back(struct pairs_runner *r, const char *what)
{
	int status = 0;

	if (!r->pid)
		return;
	if (r->rfd >= 0) {
		fd_loop_del(r->loop, r->rfd);
		close(r->rfd);
		r->rfd = -1;
	}
	kill(-r->pid, SIGKILL); /* the worker leads its group: its ib_write_bw with it */
	while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
		;
	r->pid = 0;
	if (!r->reported && what) {
		struct fd_world_msg m = {.kind = FW_PAIR_RESULT,
					 .set = r->order.set,
					 .role = r->order.role,
					 .peer = r->order.peer};

		snprintf(m.text, sizeof(m.text), "%s", what);
		forward(r, &m);
	}
}

static void on_pipe(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct pairs_runner *r = arg;

	(void)l;
	(void)events;
	for (;;) {
		ssize_t k = read(fd, r->buf + r->have, sizeof(r->buf) - r->have);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0) {
			take_back(r, "the pair test's worker ended without a result");
			return;
		}
		r->have += (size_t)k;
		if (r->have == sizeof(r->buf)) {
			struct fd_world_msg m;

			memcpy(&m, r->buf, sizeof(m));
			r->have = 0;
			forward(r, &m);
		}
	}
}

static int64_t runner_next(void *arg, int64_t now)
{
	struct pairs_runner *r = arg;

	(void)now;
	return r->pid ? r->deadline : INT64_MAX;
}

static void runner_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct pairs_runner *r = arg;

	(void)l;
	if (r->pid && now >= r->deadline)
		take_back(r, "the pair test did not end by its deadline: killed");
}

int pairs_runner_new(struct pairs_runner **out, struct fd_loop *loop, struct fd_group *g,
		     const struct fd_config *cfg)
{
	struct pairs_runner *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	*r = (struct pairs_runner){.loop = loop, .g = g, .cfg = cfg, .rfd = -1};
	rc = fd_loop_timer(loop, runner_next, runner_timer, r);
	if (rc) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void pairs_runner_on(struct pairs_runner *r, const struct fd_world_msg *m)
{
	int p[2];
	pid_t pid;
	/* the server waits for its client's rails one after another; the client runs its own */
	int64_t rails = m->role == FWR_CLIENT ? m->nrails : IB_PAIR_RAILS + 1;

	if (!r || m->kind != FW_PAIR || (m->role != FWR_SERVER && m->role != FWR_CLIENT))
		return;
	take_back(r, NULL);
	r->order = *m;
	r->reported = 0;
	r->have = 0;
	if (pipe2(p, O_CLOEXEC)) {
		struct fd_world_msg e = {
		    .kind = FW_PAIR_RESULT, .set = m->set, .role = m->role, .peer = m->peer};

		snprintf(e.text, sizeof(e.text), "cannot start the pair test: %s", strerror(errno));
		forward(r, &e);
		return;
	}
	pid = fd_fork_group();
	if (pid == 0) {
		/* only the pipe: a group socket held open here would hide this node's loss */
		if (dup2(p[1], 3) < 0)
			_exit(1);
		fcntl(3, F_SETFD, FD_CLOEXEC);
		closefrom(4);
		worker(r->cfg, m, 3);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		struct fd_world_msg e = {
		    .kind = FW_PAIR_RESULT, .set = m->set, .role = m->role, .peer = m->peer};

		close(p[0]);
		snprintf(e.text, sizeof(e.text), "cannot start the pair test: %s", strerror(errno));
		forward(r, &e);
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	r->pid = pid;
	r->rfd = p[0];
	r->deadline =
	    fd_deadline_ns(fd_mono_ns(), (int64_t)m->timeout_ms * (rails + 1) + WORKER_SLACK_MS);
	if (fd_loop_add(r->loop, r->rfd, EPOLLIN, on_pipe, r)) {
		close(r->rfd);
		r->rfd = -1;
		take_back(r, "cannot watch the pair test's worker");
	}
}

void pairs_runner_free(struct pairs_runner *r)
{
	if (!r)
		return;
	take_back(r, NULL);
	fd_loop_untimer(r->loop, r);
	free(r);
}
