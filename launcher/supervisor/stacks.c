/*
 * stacks.c - the stacks of a stuck job: each rank that registered a faulthandler dump
 * (stacks=1 in its beats) is sent FLIGHTDECK_STACK_SIGNAL and writes its stacks to
 * stacks-RANK.txt in the heartbeat directory; the innermost frames are said in one line and
 * the whole text goes to the events log. The dump parser is pure (stacks.h).
 */
#define _GNU_SOURCE
#include "stacks.h"
#include "culprit.h"
#include "proctree.h"
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PY_FRAME "File \"" /* how faulthandler starts a frame line */

static int stack_path(const struct sv *s, int rank, char *out, size_t len)
{
	return fd_pathf(out, len, "%s/stacks-%d.txt", s->beats.hb.dir, rank);
}

static int fr_path(const struct sv *s, int rank, char *out, size_t len)
{
	return fd_pathf(out, len, "%s/fr-%d.json", s->beats.hb.dir, rank);
}

/*
 * Asks the ranks whose beats said fr=1 for torch's flight recorder: the Python client's thread
 * writes fr-RANK.json when fr-request changes (the heartbeat directory is flightdeck's own).
 */
static void fr_request(struct sv *s)
{
	char path[PATH_MAX], text[32];
	int any = 0, fd;

	for (size_t i = 0; i < s->ranks.n; i++) {
		struct sup_rank *r = &s->ranks.v[i];

		r->frsum.known = 0;
		if (r->id < 0 || !r->fr || r->pid <= 0 || !r->pid_start)
			continue;
		if (!fr_path(s, r->id, path, sizeof(path)) && unlink(path) && errno != ENOENT)
			continue;
		r->fr_asked = 1;
		any = 1;
	}
	if (!any || fd_pathf(path, sizeof(path), "%s/fr-request", s->beats.hb.dir))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	snprintf(text, sizeof(text), "%lld\n", (long long)fd_mono_ns());
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		ev_say(s, "cannot ask for the flight recorder (%s): %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

int stacks_ask(struct sv *s)
{
	int asked = 0;
	char path[PATH_MAX];

	fr_request(s);

	for (size_t i = 0; i < s->ranks.n; i++) {
		struct sup_rank *r = &s->ranks.v[i];

		/* The signal's default action terminates: only a pid proven to be the beater. */
		if (r->id < 0 || !r->stacks || r->pid <= 0 || !r->pid_start)
			continue;
		/* Remove last time's text so only a fresh dump counts. */
		if (!stack_path(s, r->id, path, sizeof(path)) && truncate(path, 0) &&
		    errno != ENOENT)
			ev_say(s, "cannot empty %s: %s", path, strerror(errno));
		if (!fd_pid_signal_checked(r->pid, r->pid_start, s->stack_sig)) {
			r->stack_asked = 1;
			asked++;
		}
	}
	return asked;
}

/* A rank stopped by a signal (state T) cannot run its handler: waiting for it is waiting
 * out all of --stack-wait for nothing. */
/*
 * Stopped by a signal (state T): it runs nothing until continued, and is not waited for. A
 * tracing stop (t) is a debugger's or a sanitizer's leak check at exit: it may go on, dump or
 * exit by itself, so --stack-wait is waited (LeakSanitizer's stop of an exiting rank read as T
 * once ended the wait, and the job, under a rank that was exiting 0).
 */
static int cannot_dump(const struct sup_rank *r)
{
	struct fd_proc p;

	return !fd_proc_read(r->pid, &p) && p.state == 'T';
}

int stacks_ready(struct sv *s)
{
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < s->ranks.n; i++) {
		if (!s->ranks.v[i].stack_asked)
			continue;
		if (stack_path(s, s->ranks.v[i].id, path, sizeof(path)) || stat(path, &st) ||
		    st.st_size == 0) {
			if (cannot_dump(&s->ranks.v[i]))
				continue;
			return 0;
		}
		if (s->ranks.v[i].fr_asked &&
		    (fr_path(s, s->ranks.v[i].id, path, sizeof(path)) || stat(path, &st)) &&
		    !cannot_dump(&s->ranks.v[i]))
			return 0; /* its flight recorder is being written */
	}
	return 1;
}

/* 'File "/a/b/train.py", line 81 in main' -> "train.py:81 in main" */
void stacks_frame_short(const char *f, char *out, size_t len)
{
	const char *q = strchr(f + 6, '"'), *base = f + 6, *line;
	int n = 0;

	for (const char *c = f + 6; q && c < q; c++)
		if (*c == '/')
			base = c + 1;
	line = q ? strstr(q, "line ") : NULL;
	if (!q || !line || (size_t)(line - f) > strcspn(f, "\n")) {
		snprintf(out, len, "%.*s", (int)strcspn(f, "\n"), f);
		return;
	}
	sscanf(line + 5, "%d", &n);
	snprintf(out, len, "%.*s:%d%.*s", (int)(q - base), base, n,
		 (int)strcspn(strstr(line, " in ") ? strstr(line, " in ") : "", "\n"),
		 strstr(line, " in ") ? strstr(line, " in ") : "");
}

/*
 * Where the thread the dump calls current is (faulthandler's format, most recent call first):
 * the innermost frame of the job's own code, and the innermost frame of all when that is in
 * a library ("train.py:81 in main (in distributed_c10d.py:1541 in all_reduce)").
 */
void stacks_innermost(const char *text, char *out, size_t len)
{
	const char *p = strstr(text, "Current thread"), *first, *own = NULL;
	char a[256], b[256];

	if (!p)
		p = text;
	first = strstr(p, PY_FRAME);
	if (!first) {
		snprintf(out, len, "(no frame in the dump)");
		return;
	}
	for (const char *f = first; f && f < first + 65536; f = strstr(f + 6, PY_FRAME)) {
		size_t l = strcspn(f, "\n");

		if (!memmem(f, l, "-packages/", 10) && !memmem(f, l, "/lib/python", 11)) {
			own = f;
			break;
		}
		if (!strncmp(f + l, "\n\n", 2))
			break; /* the end of this thread's stack */
	}
	stacks_frame_short(first, a, sizeof(a));
	if (!own || own == first) {
		snprintf(out, len, "%s", a);
		return;
	}
	stacks_frame_short(own, b, sizeof(b));
	snprintf(out, len, "%s (in %s)", b, a);
}

/* A rank that did not dump: say why when /proc can tell (stopped, stuck in the kernel). */
static void no_dump(struct sv *s, const struct sup_rank *r)
{
	struct fd_proc p;

	if (fd_proc_read(r->pid, &p))
		ev_say(s, "rank %d (pid %d) did not dump its stack", r->id, (int)r->pid);
	else if (p.state == 'T' || p.state == 't')
		ev_say(s, "rank %d (pid %d) is stopped (state %c): it cannot dump its stack", r->id,
		       (int)r->pid, p.state);
	else if (p.state == 'D')
		ev_say(s, "rank %d (pid %d) is in uninterruptible sleep (state D): no stack", r->id,
		       (int)r->pid);
	else
		ev_say(s, "rank %d (pid %d) did not dump its stack", r->id, (int)r->pid);
}

/* This rank's flight-recorder dump, parsed into r->frsum; a bad one is said and ignored. */
static void fr_collect(struct sv *s, struct sup_rank *r)
{
	char path[PATH_MAX], why[128];
	char *text = NULL;
	size_t n = 0;
	struct stat st;
	int rc;

	r->fr_asked = 0;
	if (fr_path(s, r->id, path, sizeof(path)) || stat(path, &st))
		return; /* none came: stopped, or torch had no recorder on */
	if (!S_ISREG(st.st_mode) || st.st_size > FR_DUMP_MAX) {
		ev_say(s, "rank %d's flight-recorder dump ignored: %s", r->id,
		       S_ISREG(st.st_mode) ? "larger than 16 MiB" : "not a regular file");
		return;
	}
	if (fd_read_all(path, &text, &n)) {
		ev_say(s, "rank %d's flight-recorder dump ignored: cannot read %s", r->id, path);
		return;
	}
	rc = fd_fr_parse(text, n, &r->frsum, why, sizeof(why));
	free(text);
	if (rc)
		ev_say(s, "rank %d's flight-recorder dump ignored: %s", r->id, why);
}

void stacks_collect(struct sv *s)
{
	char path[PATH_MAX], frame[512];

	for (size_t i = 0; i < s->ranks.n; i++) {
		struct sup_rank *r = &s->ranks.v[i];
		char *text = NULL;
		size_t n = 0;

		if (r->fr_asked)
			fr_collect(s, r);
		if (!r->stack_asked)
			continue;
		r->stack_asked = 0;
		r->stack_class = SC_NONE;
		if (!stack_path(s, r->id, path, sizeof(path)) && !fd_read_all(path, &text, &n) &&
		    n > 0) {
			if (n > STACK_TEXT_MAX)
				text[STACK_TEXT_MAX] = '\0';
			stacks_innermost(text, frame, sizeof(frame));
			r->stack_class = fd_stack_class(text);
			fd_strlcpy(r->stack_where, frame, sizeof(r->stack_where));
			ev_say(s, "rank %d is at %s (whole stacks in the events log)", r->id,
			       frame);
			ev_emit(s, "stacks", r->id, r->step, NULL, -1, ev_fields("stacks", text));
		} else {
			no_dump(s, r);
		}
		free(text);
	}
}

/* /proc's word on a rank's process, checked to be the one that beat (pid_start). */
static void rank_state(const struct sup_rank *r, struct fd_rank_evidence *e)
{
	struct fd_proc p;
	char path[64], *w = NULL;
	size_t n = 0;

	e->state = RS_UNKNOWN;
	if (r->pid <= 0)
		return;
	if (fd_proc_read(r->pid, &p) || (r->pid_start && p.starttime != r->pid_start)) {
		e->state = RS_GONE;
		return;
	}
	switch (p.state) {
	case 'T':
	case 't':
		e->state = RS_STOPPED;
		break;
	case 'D':
		e->state = RS_DISK;
		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)r->pid);
		if (!fd_read_all(path, &w, &n) && n && strcmp(w, "0"))
			fd_strlcpy(e->wchan, w, sizeof(e->wchan));
		free(w);
		break;
	case 'Z':
	case 'X':
		e->state = RS_ZOMBIE;
		break;
	default:
		e->state = RS_RUNNING;
	}
}

/*
 * Whether the machine made this node's ranks the culprits (a driver's D state, an Xid since
 * the job started): then this node is the one to drain, said here and kept in att.drain for
 * the group's decision, the exit event and the termination message.
 */
static void machine(struct sv *s, const struct fd_rank_evidence *ev, size_t n,
		    const struct fd_culprit *v)
{
	char xid[FD_WHY_MAX] = "", host[256];
	double ran = fd_wall_s() - s->ckpt.start_wall;

	if (s->o->xid_since && ran > 0)
		s->o->xid_since(s->o, (int64_t)(ran * 1000.0), xid, sizeof(xid));
	if (!fd_culprit_machine(ev, n, v, xid, s->att.drain, sizeof(s->att.drain)))
		return;
	fd_node_name(host, sizeof(host), NULL);
	ev_say(s, "the node to drain: this node (%s): %s", host, s->att.drain);
}

int stacks_stuck_rank(const struct sv *s)
{
	for (size_t i = 0; i < s->ranks.n; i++) {
		const struct sup_rank *r = &s->ranks.v[i];
		struct fd_rank_evidence e = {0};

		if (r->id < 0 || !ranks_watched(r))
			continue;
		rank_state(r, &e);
		if (e.state == RS_STOPPED || e.state == RS_DISK)
			return r->id;
	}
	return RANK_NONE;
}

int stacks_fr_waves(const struct sv *s, struct fd_fr_wave *out, int max)
{
	int n = 0;

	for (size_t i = 0; i < s->ranks.n; i++) {
		const struct sup_rank *r = &s->ranks.v[i];

		for (int g = 0; r->id >= 0 && r->frsum.known && g < r->frsum.npg; g++) {
			const struct fd_fr_pg *p = &r->frsum.pg[g];
			int k;

			for (k = 0; k < n && out[k].pg != p->pg; k++)
				;
			if (k == n) {
				if (n == max)
					continue;
				out[n++] = (struct fd_fr_wave){
				    .pg = p->pg, .lo = p->seq, .hi = p->seq, .lo_rank = r->id};
				fd_strlcpy(out[k].op, p->op, sizeof(out[k].op));
				continue;
			}
			if (p->seq < out[k].lo || (p->seq == out[k].lo && r->id < out[k].lo_rank)) {
				out[k].lo = p->seq;
				out[k].lo_rank = r->id;
			}
			if (p->seq > out[k].hi) {
				out[k].hi = p->seq;
				fd_strlcpy(out[k].op, p->op, sizeof(out[k].op));
			}
		}
	}
	return n;
}

void stacks_attribute(struct sv *s)
{
	struct fd_rank_evidence *ev = calloc(s->ranks.n ? s->ranks.n : 1, sizeof(*ev));
	struct fd_culprit v;
	size_t n = 0;
	int64_t now = fd_mono_ns(), most = 0;
	cJSON *o, *a;

	s->att.culprit[0] = '\0';
	if (!ev)
		return;
	for (size_t i = 0; i < s->ranks.n; i++)
		if (s->ranks.v[i].id >= 0 && s->ranks.v[i].progress_ns > 0 &&
		    now - s->ranks.v[i].progress_ns > most)
			most = now - s->ranks.v[i].progress_ns;
	for (size_t i = 0; i < s->ranks.n; i++) {
		const struct sup_rank *r = &s->ranks.v[i];
		struct fd_rank_evidence *e = &ev[n];

		if (r->id < 0 || r->done)
			continue; /* a file or the output beats for no one process; done: not stuck */
		e->rank = r->id;
		e->pid = (int)r->pid;
		rank_state(r, e);
		if (r->gone)
			e->state = RS_GONE;
		e->stack = r->stack_class;
		/* quiet for over half the quietest one's silence, or it went on without it */
		if (r->progress_ns > 0 && most > (int64_t)1000000000)
			e->quiet = now - r->progress_ns > most / 2 ? QUIET_YES : QUIET_NO;
		fd_strlcpy(e->where, r->stack_where, sizeof(e->where));
		e->fr = r->frsum;
		e->python = r->stacks || r->fr; /* only the Python client registers a dump */
		if ((e->state == RS_GONE || e->state == RS_ZOMBIE) && s->o->oom_killed &&
		    r->pid > 0)
			e->oom = s->o->oom_killed(s->o, (int)r->pid);
		if (e->oom)
			ev_say(s, "rank %d (pid %d) was killed by the kernel's OOM killer", r->id,
			       (int)r->pid);
		n++;
	}
	fd_culprit_judge(ev, n, &v);
	if (n < 2) {
		free(ev);
		return; /* one rank or none: the stall line named it already */
	}
	ev_say(s, "%s%s",
	       v.confidence == FC_CERTAIN  ? "culprit (certain): "
	       : v.confidence == FC_LIKELY ? "culprit (likely): "
					   : "",
	       v.line);
	s->att.drain[0] = '\0';
	if (v.confidence >= FC_LIKELY) {
		fd_strlcpy(s->att.culprit, v.line, sizeof(s->att.culprit));
		s->att.culprit_likely = 1;
		s->att.culprit_rank = v.culprits[0];
		machine(s, ev, n, &v);
	}
	free(ev);
	o = ev_fields("confidence", v.confidence == FC_CERTAIN	? "certain"
				    : v.confidence == FC_LIKELY ? "likely"
								: "unknown");
	if (o) {
		cJSON_AddStringToObject(o, "evidence", v.evidence);
		if (v.desync)
			cJSON_AddBoolToObject(o, "desync", 1);
		a = cJSON_AddArrayToObject(o, "culprit");
		for (int i = 0; a && i < v.nculprits; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber(v.culprits[i]));
		a = cJSON_AddArrayToObject(o, "victims");
		for (int i = 0; a && i < v.nvictims; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber(v.victims[i]));
		cJSON_AddStringToObject(o, "detail", v.line);
		if (s->att.drain[0])
			cJSON_AddStringToObject(o, "drain", s->att.drain);
	}
	ev_emit(s, "culprit", v.nculprits ? v.culprits[0] : RANK_NONE, -1, NULL, -1, o);
}
