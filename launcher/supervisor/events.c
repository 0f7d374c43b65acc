/*
 * events.c - how the supervisor tells people: one "flightdeck: ..." line on stderr per
 * event, and one JSON line per event in --events, whose common fields are a contract
 * (docs/architecture.md, "Events"). The line and the event go on through s->sinks.
 */
#define _GNU_SOURCE
#include "jsonl.h"
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

void ev_say(const struct sv *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (s->o->quiet)
		return;
	n = snprintf(buf, sizeof(buf), "flightdeck: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	if (s->sinks.line)
		s->sinks.line(s, buf);
	else
		fputs(buf, stderr);
}

/*
 * One JSON line in --events: time, event, restart, rank, step, checkpoint, exit_code always
 * present (null when they do not apply), then the event's own fields. Takes extra.
 */
void ev_emit(struct sv *s, const char *name, int rank, int64_t step, const char *ckpt,
	     int exit_code, cJSON *extra)
{
	cJSON *o;
	int r;

	if (s->sinks.event)
		s->sinks.event(s);
	if (s->events_fd < 0) {
		cJSON_Delete(extra);
		return;
	}
	o = extra ? extra : cJSON_CreateObject();
	if (!o)
		return;
	/* The contract's fields, after the event's own. */
	cJSON_AddNumberToObject(o, "time", fd_wall_s());
	cJSON_AddStringToObject(o, "event", name);
	cJSON_AddNumberToObject(o, "restart", s->att.restarts);
	if (rank >= 0)
		cJSON_AddNumberToObject(o, "rank", rank);
	else if (rank == RANK_OUTPUT)
		cJSON_AddStringToObject(o, "rank", "output");
	else if (rank == RANK_FILE)
		cJSON_AddStringToObject(o, "rank", "file");
	else
		cJSON_AddNullToObject(o, "rank");
	if (step >= 0)
		cJSON_AddNumberToObject(o, "step", (double)step);
	else
		cJSON_AddNullToObject(o, "step");
	if (ckpt && *ckpt)
		cJSON_AddStringToObject(o, "checkpoint", ckpt);
	else
		cJSON_AddNullToObject(o, "checkpoint");
	if (exit_code >= 0)
		cJSON_AddNumberToObject(o, "exit_code", exit_code);
	else
		cJSON_AddNullToObject(o, "exit_code");
	r = fd_jsonl_write(s->events_fd, o);
	if (r && r != -ENOMEM)
		ev_say(s, "cannot write --events: %s", strerror(-r));
}

cJSON *ev_fields(const char *k1, const char *v1)
{
	cJSON *o = cJSON_CreateObject();

	if (o && k1)
		cJSON_AddStringToObject(o, k1, v1);
	return o;
}

/* "SIGTERM": the name people grep for. */
const char *ev_sig_name(int sig)
{
	static char buf[16];
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

void ev_describe_status(int st, char *out, size_t len)
{
	if (WIFEXITED(st))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, len, "was killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(out, len, "ended (status 0x%x)", st);
}
