/*
 * findings.c - the report every check appends to: findings, their statuses, the verdict.
 * Renderers (checks/render/) read it; nothing here prints.
 */
#include "check.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {"pass", "warn", "fail", "skip"};

const char *fd_status_name(enum fd_status s)
{
	return (size_t)s < FD_ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

struct fd_finding *fd_report_add(struct fd_report *rep, const char *check, enum fd_status status,
				 const char *code, const char *subject, const char *fmt, ...)
{
	struct fd_finding *f;
	va_list ap;

	if (rep->n == rep->cap) {
		size_t cap = rep->cap ? rep->cap * 2 : 32;
		struct fd_finding *v = realloc(rep->v, cap * sizeof(*v));
		if (!v) {
			rep->oom = 1;
			return NULL;
		}
		rep->v = v;
		rep->cap = cap;
	}
	f = &rep->v[rep->n++];
	memset(f, 0, sizeof(*f));
	f->check = check;
	f->status = status;
	f->code = code;
	fd_strlcpy(f->subject, subject ? subject : "", sizeof(f->subject));
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return f;
}

struct fd_finding *fd_report_addv(struct fd_report *rep, const char *check, enum fd_status status,
				  const char *code, const char *subject, const char *value,
				  const char *expected, const char *fmt, ...)
{
	struct fd_finding *f = fd_report_add(rep, check, status, code, subject, "%s", "");
	va_list ap;

	if (!f)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	fd_strlcpy(f->value, value ? value : "", sizeof(f->value));
	fd_strlcpy(f->expected, expected ? expected : "", sizeof(f->expected));
	return f;
}

void fd_report_free(struct fd_report *rep)
{
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

size_t fd_report_reason(const struct fd_report *rep, char *buf, size_t len)
{
	const struct fd_finding *first = NULL;
	size_t k = 0, left = 0;
	char tail[96] = "";

	if (!len)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < rep->n; i++) {
		const struct fd_finding *f = &rep->v[i];
		int seen = 0;

		if (f->status != FD_FAIL || !f->code)
			continue;
		if (!first)
			first = f;
		for (size_t j = 0; j < i && !seen; j++)
			seen = rep->v[j].status == FD_FAIL && rep->v[j].code &&
			       !strcmp(rep->v[j].code, f->code);
		if (seen)
			continue;
		/* room for this code, a "+N" for those after it, and the subject */
		if (!left && k + strlen(f->code) + 1 + 8 + strlen(first->subject) + 2 < len)
			k += (size_t)snprintf(buf + k, len - k, "%s%s", k ? "," : "", f->code);
		else
			left++;
	}
	if (!first)
		return 0;
	if (left)
		snprintf(tail, sizeof(tail), "%s+%zu", k ? "," : "", left);
	snprintf(buf + k, len - k, "%s %s", tail, first->subject);
	return strlen(buf);
}

enum fd_status fd_report_verdict(const struct fd_report *rep)
{
	enum fd_status v = FD_PASS;

	for (size_t i = 0; i < rep->n; i++) {
		if (rep->v[i].status == FD_FAIL)
			return FD_FAIL;
		if (rep->v[i].status == FD_WARN)
			v = FD_WARN;
	}
	return v;
}
