/*
 * prom.c - `run --prom-file`: the run as node_exporter's textfile collector shows it to
 * Prometheus (docs/architecture.md, "Contracts": the textfile of run), so alerts see a stalled
 * job, a climbing restart count or an overdue checkpoint without reading the events log.
 *
 * The file is rewritten whole (launcher/core/promfile.h) on every event, a burst of events being one
 * write PROM_GAP_MS after the last, and every PROM_EVERY_MS otherwise, from its own timer in
 * the supervisor's loop. It is a small local file: written directly, its size bounded by the
 * rank table (MAX_RANKS), never fsynced (the next write replaces it anyway). Nothing here
 * scans the checkpoint directory: the age comes from the scans the supervisor makes anyway
 * (prom_learn_ckpt). The last write, at exit, holds up 0 and the exit code.
 */
#define _GNU_SOURCE
#include "promfile.h"
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The "# HELP" and "# TYPE" lines of a metric. */
static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The start of a sample: its name and node label, the brace left open. */
static void sample(FILE *f, const struct sv *s, const char *name)
{
	fprintf(f, "%s{node=", name);
	fd_prom_label(f, s->prom.node);
}

/* A metric with one sample, v with that many decimals. */
static void one(FILE *f, const struct sv *s, const char *name, const char *type, const char *help,
		int decimals, double v)
{
	head(f, name, type, help);
	sample(f, s, name);
	fprintf(f, "} %.*f\n", decimals, v);
}

/* A sample of one rank: rank="N", or the pseudo-ranks' "output" and "file" as in --events. */
static void rank_sample(FILE *f, const struct sv *s, const char *name, int id)
{
	sample(f, s, name);
	if (id == RANK_OUTPUT)
		fputs(",rank=\"output\"} ", f);
	else if (id == RANK_FILE)
		fputs(",rank=\"file\"} ", f);
	else
		fprintf(f, ",rank=\"%d\"} ", id);
}

/* Each rank that has beaten, as the rank table (ranks.h) holds it this attempt. */
static void ranks(FILE *f, const struct sv *s, double wall, int64_t mono)
{
	const struct sup_ranks *t = &s->ranks;
	int steps = 0, beats = 0;

	for (size_t i = 0; i < t->n; i++) {
		steps += t->v[i].step >= 0;
		beats += t->v[i].last_ns > 0;
	}
	if (steps)
		head(f, "flightdeck_run_last_step", "gauge",
		     "The last step each rank reported in this attempt.");
	for (size_t i = 0; steps && i < t->n; i++) {
		if (t->v[i].step < 0)
			continue;
		rank_sample(f, s, "flightdeck_run_last_step", t->v[i].id);
		fprintf(f, "%lld\n", (long long)t->v[i].step);
	}
	if (beats)
		head(f, "flightdeck_run_last_beat_timestamp_seconds", "gauge",
		     "When each rank last beat (any beat, progress or not), Unix seconds.");
	for (size_t i = 0; beats && i < t->n; i++) {
		if (t->v[i].last_ns <= 0)
			continue;
		rank_sample(f, s, "flightdeck_run_last_beat_timestamp_seconds", t->v[i].id);
		fprintf(f, "%.3f\n", wall - (double)(mono - t->v[i].last_ns) / 1e9);
	}
}

/*
 * The latest failure this node saw (this attempt's, else the one before the restart) as labels,
 * for alerts and dashboards that say why: failure (stall, startup, crash, timeout, preflight,
 * launch), and for an unfit preflight its reason codes and subject ("IB_PORT_DOWN,IB_PHYS_DOWN",
 * "mlx5_3/1"), as `flightdeck explain` takes them.
 */
static void failure(FILE *f, const struct sv *s)
{
	int fail = s->att.fail != FD_FAIL_NONE ? s->att.fail : s->prom.last_fail;
	const char *codes = s->att.fail != FD_FAIL_NONE ? s->att.codes : s->prom.last_codes;
	char code[200];
	const char *subj;
	size_t n;

	if (fail == FD_FAIL_NONE)
		return;
	if (fail != FD_FAIL_PREFLIGHT)
		codes = "";
	n = strcspn(codes, " ");
	fd_strlcpy(code, codes, n + 1 < sizeof(code) ? n + 1 : sizeof(code));
	subj = codes[n] ? codes + n + 1 : "";
	head(f, "flightdeck_run_last_failure_info", "gauge",
	     "1 for the latest failure this node saw: failure, and an unfit preflight's codes and "
	     "subject.");
	sample(f, s, "flightdeck_run_last_failure_info");
	fputs(",failure=", f);
	fd_prom_label(f, fd_fail_name(fail));
	fputs(",codes=", f);
	fd_prom_label(f, code);
	fputs(",subject=", f);
	fd_prom_label(f, subj);
	fputs("} 1\n", f);
}

static void document(FILE *f, const struct sv *s, int final)
{
	double wall = fd_wall_s();
	int64_t mono = fd_mono_ns();

	one(f, s, "flightdeck_run_up", "gauge",
	    "1 while flightdeck run supervises its command; 0 in the last write, at its exit.", 0,
	    final ? 0 : 1);
	one(f, s, "flightdeck_run_start_timestamp_seconds", "gauge",
	    "When flightdeck run started, Unix seconds.", 3, s->ckpt.start_wall);
	one(f, s, "flightdeck_run_launches_total", "counter", "Launches of the command.", 0,
	    s->att.launches);
	one(f, s, "flightdeck_run_restarts_total", "counter",
	    "Restarts the group decided (every node of a group counts each one).", 0,
	    s->att.restarts);
	one(f, s, "flightdeck_run_stalls_total", "counter",
	    "Attempts this node stopped because a rank stalled or never started beating.", 0,
	    s->att.stalls);
	ranks(f, s, wall, mono);
	if (s->att.culprit[0]) { /* the last stall's culprit: which rank the others waited on */
		head(
		    f, "flightdeck_run_culprit_info", "gauge",
		    "1 for the rank the last stall's verdict names (the one the others waited on).");
		rank_sample(f, s, "flightdeck_run_culprit_info", s->att.culprit_rank);
		fputs("1\n", f);
	}
	failure(f, s);
	if (s->prom.ckpt_time > 0)
		one(f, s, "flightdeck_run_checkpoint_age_seconds", "gauge",
		    "Seconds since the newest complete checkpoint under --checkpoint-dir was "
		    "completed.",
		    3, wall - s->prom.ckpt_time);
	if (final)
		one(f, s, "flightdeck_run_exit_code", "gauge",
		    "The exit status of flightdeck run (its contract: 0, the command's, 69, 75, "
		    "86, 124, 128+N, ...).",
		    0, s->exit_code);
	one(f, s, "flightdeck_run_timestamp_seconds", "gauge",
	    "When this file was written, Unix seconds.", 3, wall);
}

/* One write; a failure is said once, until a write succeeds again. */
static void prom_write(struct sv *s, int final)
{
	struct sup_prom *p = &s->prom;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r = -ENOMEM;

	p->last = fd_mono_ns();
	p->due = fd_deadline_ns(p->last, PROM_EVERY_MS);
	if (f) {
		document(f, s, final);
		r = ferror(f) ? -ENOMEM : 0;
		if (fclose(f) && !r)
			r = -ENOMEM;
	}
	if (!r)
		r = fd_prom_replace(s->o->prom_file, text, len, 0, NULL);
	free(text);
	if (r && !p->failed)
		ev_say(s, "cannot write --prom-file %s: %s", s->o->prom_file, strerror(-r));
	else if (!r && p->failed)
		ev_say(s, "--prom-file %s written again", s->o->prom_file);
	p->failed = !!r;
}

static int64_t prom_next(void *arg, int64_t now)
{
	const struct sv *s = arg;

	(void)now;
	return s->prom.on ? s->prom.due : INT64_MAX;
}

static void prom_timer(struct fd_loop *l, int64_t now, void *arg)
{
	struct sv *s = arg;

	(void)l;
	if (s->prom.on && now >= s->prom.due)
		prom_write(s, 0);
}

/* With --prom-file: the node label, the timer, and a first write (up 1). 0 or -errno. */
int prom_open(struct sv *s)
{
	int r;

	if (!s->o->prom_file)
		return 0;
	fd_node_name(s->prom.node, sizeof(s->prom.node), NULL);
	r = fd_loop_timer(&s->loop, prom_next, prom_timer, s);
	if (r)
		return r;
	s->prom.on = 1;
	prom_write(s, 0);
	return 0;
}

/* Something happened (ev_emit): written at the next wake, PROM_GAP_MS after the last. */
void prom_event(struct sv *s)
{
	struct sup_prom *p = &s->prom;
	int64_t soon;

	if (!p->on)
		return;
	soon = p->last ? p->last + PROM_GAP_MS * MS : 0;
	if (soon < p->due)
		p->due = soon;
}

/* A scan of --checkpoint-dir the supervisor made anyway: the newest complete one's time. */
void prom_learn_ckpt(struct sv *s, const struct fd_ckpt_scan *scan)
{
	s->prom.ckpt_time = *scan->newest ? scan->newest_time : 0;
}

/* The last write: up 0, the exit code. Made even when the set-up failed. */
void prom_final(struct sv *s)
{
	if (!s->o->prom_file)
		return;
	fd_node_name(s->prom.node, sizeof(s->prom.node), NULL);
	s->prom.on = 0;
	prom_write(s, 1);
}
