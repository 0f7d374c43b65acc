/*
 * report.c - text, JSON and Prometheus renderings of a check report.
 *
 * The text table is for a person at a 100-column terminal reading a Slurm prolog log: the
 * verdict first, then one line per finding with failures first and the remedy under each,
 * so the first screen says what is wrong and what to do. JSON goes through cJSON so no
 * sysfs string can break the document.
 */
#define _GNU_SOURCE
#include "report.h"
#include "promfile.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 100

static const char *const color_of[] = {
    [FD_PASS] = "\033[32m",
    [FD_WARN] = "\033[33m",
    [FD_FAIL] = "\033[1;31m",
    [FD_SKIP] = "\033[2m",
};
#define RESET "\033[0m"

void fd_wrap(FILE *out, const char *text, int indent, int width)
{
	const char *p = text;
	int avail = width - indent;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		int len = (int)strlen(p), cut = len;
		if (len > avail) {
			cut = avail;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = avail; /* one word longer than the line: break it */
		}
		fprintf(out, "%*s%.*s\n", indent, "", cut, p);
		p += cut;
	}
}

/* A column cell: text cut to width with '~' marking the cut, then padding. */
static void cell(FILE *out, const char *s, int width)
{
	int len = (int)strlen(s);

	if (len > width - 1)
		fprintf(out, "%.*s~ ", width - 2, s);
	else
		fprintf(out, "%-*s", width, s);
}

static const enum fd_status order[] = {FD_FAIL, FD_WARN, FD_PASS, FD_SKIP};

void fd_report_text(FILE *out, const struct fd_report *rep, const struct fd_report_meta *m,
		    int color, int quiet)
{
	size_t count[4] = {0};
	enum fd_status verdict = fd_report_verdict(rep);
	char up[8];

	for (size_t i = 0; i < rep->n; i++)
		count[rep->v[i].status]++;
	snprintf(up, sizeof(up), "%s", verdict == FD_FAIL ? "UNFIT" : "FIT");
	fprintf(out,
		"flightdeck check on %s (level %s): %s%s%s - %zu fail, %zu warn, %zu pass, "
		"%zu skip in %lld ms\n",
		m->node, m->level, color ? color_of[verdict] : "", up, color ? RESET : "",
		count[FD_FAIL], count[FD_WARN], count[FD_PASS], count[FD_SKIP],
		(long long)m->duration_ms);
	if (quiet && !count[FD_FAIL] && !count[FD_WARN])
		return;
	fprintf(out, "%-5s%-13s%-16s%-24s%-20s%s\n", "", "CHECK", "SUBJECT", "VALUE", "EXPECTED",
		"CODE");
	for (size_t o = 0; o < FD_ARRAY_SIZE(order); o++) {
		for (size_t i = 0; i < rep->n; i++) {
			const struct fd_finding *f = &rep->v[i];
			if (f->status != order[o])
				continue;
			if (quiet && f->status != FD_FAIL && f->status != FD_WARN)
				continue;
			char tag[8];
			snprintf(tag, sizeof(tag), "%s", fd_status_name(f->status));
			for (char *t = tag; *t; t++)
				*t = (char)(*t - 'a' + 'A');
			fprintf(out, "%s%-5s%s", color ? color_of[f->status] : "", tag,
				color ? RESET : "");
			cell(out, f->check, 13);
			cell(out, f->subject, 16);
			cell(out, f->value[0] ? f->value : "-", 24);
			cell(out, f->expected[0] ? f->expected : "-", 20);
			fprintf(out, "%s\n", f->code ? f->code : "");
			if (f->status != FD_PASS && f->message[0])
				fd_wrap(out, f->message, 5, WIDTH);
			if ((f->status == FD_FAIL || f->status == FD_WARN) && f->code) {
				const struct fd_code *c = fd_code_find(f->code);
				if (c) {
					char line[1200];
					snprintf(line, sizeof(line), "remedy: %s", c->remedy);
					fd_wrap(out, line, 5, WIDTH);
				}
			}
		}
	}
	if (count[FD_FAIL])
		fprintf(out, "More on a code: flightdeck explain CODE\n");
}

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

char *fd_report_json(const struct fd_report *rep, const struct fd_report_meta *m)
{
	cJSON *root = cJSON_CreateObject(), *arr, *sum;
	size_t count[4] = {0};
	char *out = NULL;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "node", m->node);
	cJSON_AddStringToObject(root, "verdict", fd_status_name(fd_report_verdict(rep)));
	cJSON_AddStringToObject(root, "level", m->level);
	cJSON_AddNumberToObject(root, "duration_ms", (double)m->duration_ms);
	cJSON_AddNumberToObject(root, "timestamp", m->timestamp);
	arr = cJSON_AddArrayToObject(root, "findings");
	for (size_t i = 0; arr && i < rep->n; i++) {
		const struct fd_finding *f = &rep->v[i];
		const struct fd_code *c = f->code ? fd_code_find(f->code) : NULL;
		cJSON *o = cJSON_CreateObject();
		if (!o)
			goto out;
		count[f->status]++;
		cJSON_AddStringToObject(o, "check", f->check);
		cJSON_AddStringToObject(o, "subject", f->subject);
		cJSON_AddStringToObject(o, "status", fd_status_name(f->status));
		add_str_or_null(o, "code", f->code);
		add_str_or_null(o, "value", f->value);
		add_str_or_null(o, "expected", f->expected);
		add_str_or_null(o, "message", f->message);
		add_str_or_null(o, "remedy", c && f->status != FD_PASS ? c->remedy : NULL);
		cJSON_AddItemToArray(arr, o);
	}
	sum = cJSON_AddObjectToObject(root, "summary");
	for (int s = FD_PASS; sum && s <= FD_SKIP; s++)
		cJSON_AddNumberToObject(sum, fd_status_name((enum fd_status)s), (double)count[s]);
	out = cJSON_Print(root);
out:
	cJSON_Delete(root);
	return out;
}

/* Every sample names the node: an alert's text and a dashboard's row say where. */
static void prom_timestamp(FILE *f, const struct fd_report_meta *m)
{
	fputs("# HELP flightdeck_check_timestamp_seconds When the last check started.\n"
	      "# TYPE flightdeck_check_timestamp_seconds gauge\n"
	      "flightdeck_check_timestamp_seconds{node=",
	      f);
	fd_prom_label(f, m->node);
	fprintf(f, "} %.3f\n", m->timestamp);
}

static void prom_write(FILE *f, const struct fd_report *rep, const struct fd_report_meta *m)
{
	size_t count[4] = {0};

	for (size_t i = 0; i < rep->n; i++)
		count[rep->v[i].status]++;
	fputs("# HELP flightdeck_check_fit 1 when the node passed flightdeck check, else 0.\n"
	      "# TYPE flightdeck_check_fit gauge\nflightdeck_check_fit{node=",
	      f);
	fd_prom_label(f, m->node);
	fputs(",level=", f);
	fd_prom_label(f, m->level);
	fprintf(f, "} %d\n", fd_report_verdict(rep) != FD_FAIL);
	fputs("# HELP flightdeck_check_findings Findings of the last check by status.\n"
	      "# TYPE flightdeck_check_findings gauge\n",
	      f);
	for (int s = FD_PASS; s <= FD_SKIP; s++) {
		fputs("flightdeck_check_findings{node=", f);
		fd_prom_label(f, m->node);
		fprintf(f, ",status=\"%s\"} %zu\n", fd_status_name((enum fd_status)s), count[s]);
	}
	fputs("# HELP flightdeck_check_problem One series per failing or warning finding.\n"
	      "# TYPE flightdeck_check_problem gauge\n",
	      f);
	for (size_t i = 0; i < rep->n; i++) {
		const struct fd_finding *x = &rep->v[i];
		if (x->status != FD_FAIL && x->status != FD_WARN)
			continue;
		fputs("flightdeck_check_problem{node=", f);
		fd_prom_label(f, m->node);
		fputs(",check=", f);
		fd_prom_label(f, x->check);
		fputs(",subject=", f);
		fd_prom_label(f, x->subject);
		fputs(",code=", f);
		fd_prom_label(f, x->code ? x->code : "");
		fprintf(f, ",status=\"%s\"} 1\n", fd_status_name(x->status));
	}
	fputs("# HELP flightdeck_check_duration_seconds Wall time of the last check.\n"
	      "# TYPE flightdeck_check_duration_seconds gauge\n"
	      "flightdeck_check_duration_seconds{node=",
	      f);
	fd_prom_label(f, m->node);
	fprintf(f, "} %.3f\n", (double)m->duration_ms / 1e3);
	prom_timestamp(f, m);
}

/* What the atomic writer puts in the file: a check's report, or why there is none. */
struct prom_doc {
	const struct fd_report *rep;
	const struct fd_report_meta *m;
	const char *reason; /* set: no verdict (fd_report_prom_error) */
};

static void prom_error_write(FILE *f, const struct prom_doc *d)
{
	/* NaN, not 0: the node was not judged, and 0 would drain a node for a typo in a flag */
	fputs(
	    "# HELP flightdeck_check_fit 1 when the node passed flightdeck check, else 0; NaN when "
	    "the check could not judge it (see flightdeck_check_error).\n"
	    "# TYPE flightdeck_check_fit gauge\nflightdeck_check_fit{node=",
	    f);
	fd_prom_label(f, d->m->node);
	fputs(",level=", f);
	fd_prom_label(f, d->m->level);
	fputs(
	    "} NaN\n"
	    "# HELP flightdeck_check_error 1 when the last check gave no verdict: usage (exit 2), "
	    "could_not_run (exit 3), stopped (a signal).\n"
	    "# TYPE flightdeck_check_error gauge\nflightdeck_check_error{node=",
	    f);
	fd_prom_label(f, d->m->node);
	fputs(",reason=", f);
	fd_prom_label(f, d->reason);
	fputs("} 1\n", f);
	prom_timestamp(f, d->m);
}

/* The document in memory, then the one atomic replace that `run` uses too (launcher/core/promfile.h). */
static int prom_atomic(const char *path, const struct prom_doc *d, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int beside = 0, rc;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "--prom-file %s: %s", path, strerror(-rc));
		return rc;
	}
	if (d->reason)
		prom_error_write(f, d);
	else
		prom_write(f, d->rep, d->m);
	rc = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (!rc)
		rc = fd_prom_replace(path, text, len, 1, &beside);
	free(text);
	if (rc && beside)
		snprintf(err, errlen, "--prom-file %s: cannot create a file beside it: %s", path,
			 strerror(-rc));
	else if (rc)
		snprintf(err, errlen, "--prom-file %s: %s", path, strerror(-rc));
	return rc;
}

int fd_report_prom(const char *path, const struct fd_report *rep, const struct fd_report_meta *m,
		   char *err, size_t errlen)
{
	struct prom_doc d = {.rep = rep, .m = m};

	return prom_atomic(path, &d, err, errlen);
}

int fd_report_prom_error(const char *path, const struct fd_report_meta *m, const char *reason,
			 char *err, size_t errlen)
{
	struct prom_doc d = {.m = m, .reason = reason};

	return prom_atomic(path, &d, err, errlen);
}
