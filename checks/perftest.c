/*
 * perftest.c - ib_write_bw's output read into one result (perftest.h has the format).
 *
 * The text is whatever a child wrote: it may hold NUL bytes, lines of any length, numbers
 * past any range, or stop in the middle of a row. Every line is a (pointer, length) slice of
 * the caller's buffer; nothing is assumed terminated, and numbers are read by hand (strtod
 * would take "inf", "nan" and hex).
 */
#define _GNU_SOURCE
#include "perftest.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct slice {
	const char *s;
	size_t n;
};

static int next_line(const char *text, size_t len, size_t *pos, struct slice *l)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	l->s = text + *pos;
	nl = memchr(l->s, '\n', len - *pos);
	l->n = nl ? (size_t)(nl - l->s) : len - *pos;
	*pos += l->n + (nl ? 1 : 0);
	return 1;
}

static int has(struct slice l, const char *needle)
{
	return memmem(l.s, l.n, needle, strlen(needle)) != NULL;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Copies l into out (cap bytes), printable ASCII only, outer blanks trimmed, tabs as spaces. */
static void printable(char *out, size_t cap, struct slice l)
{
	size_t a = 0, b = l.n, o = 0;

	while (a < b && blank(l.s[a]))
		a++;
	while (b > a && blank(l.s[b - 1]))
		b--;
	for (size_t i = a; i < b && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)l.s[i];
		out[o++] = c == '\t' ? ' ' : (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (cap)
		out[o] = '\0';
}

static void skip_blanks(struct slice *l)
{
	while (l->n && blank(*l->s)) {
		l->s++;
		l->n--;
	}
}

/* A whole number: digits only, at most 19 of them. */
static int read_u64(struct slice *l, uint64_t *v)
{
	size_t i = 0;
	uint64_t x = 0;

	skip_blanks(l);
	while (i < l->n && l->s[i] >= '0' && l->s[i] <= '9') {
		if (i == 19)
			return -1;
		x = x * 10 + (uint64_t)(l->s[i] - '0');
		i++;
	}
	if (!i || (i < l->n && !blank(l->s[i])))
		return -1;
	l->s += i;
	l->n -= i;
	*v = x;
	return 0;
}

/* A plain decimal "123.45": digits, at most one point, no sign, exponent or words. */
static int read_num(struct slice *l, double *v)
{
	size_t i = 0, digits = 0;
	int point = 0;
	double x = 0, scale = 1;

	skip_blanks(l);
	for (; i < l->n; i++) {
		char c = l->s[i];
		if (c == '.' && !point) {
			point = 1;
		} else if (c >= '0' && c <= '9') {
			if (++digits > 30)
				return -1;
			if (point)
				scale /= 10;
			x = point ? x + (c - '0') * scale : x * 10 + (c - '0');
		} else {
			break;
		}
	}
	if (!digits || (i < l->n && !blank(l->s[i])) || !isfinite(x))
		return -1;
	l->s += i;
	l->n -= i;
	*v = x;
	return 0;
}

static int dashes(struct slice l)
{
	size_t d = 0;

	for (size_t i = 0; i < l.n; i++) {
		if (l.s[i] == '-')
			d++;
		else if (!blank(l.s[i]))
			return 0;
	}
	return d >= 10;
}

static int empty(struct slice l)
{
	skip_blanks(&l);
	return l.n == 0;
}

/*
 * " 1048576    46824   0.00   392.71   0.046815[   CPU_Util]": 0 with r filled, -1 when the
 * line is not such a row. mbs: the table was in MB/sec (MiB/s), converted to Gb/s.
 */
static int read_row(struct slice l, int mbs, struct pt_result *r)
{
	struct slice c = l;
	uint64_t bytes, iters;
	double peak, avg, rate, cpu;
	double f = mbs ? 1048576.0 * 8 / 1e9 : 1.0;

	if (read_u64(&c, &bytes) || read_u64(&c, &iters) || read_num(&c, &peak) ||
	    read_num(&c, &avg) || read_num(&c, &rate))
		return -1;
	if (!empty(c) && read_num(&c, &cpu)) /* --cpu_util's column */
		return -1;
	if (!empty(c))
		return -1;
	if (bytes == 0 || peak * f > PT_GBPS_MAX || avg * f > PT_GBPS_MAX)
		return -2;
	r->bytes = bytes;
	r->iters = iters;
	r->peak_gbps = peak * f;
	r->gbps = avg * f;
	r->mbs = mbs;
	printable(r->line, sizeof(r->line), l);
	return 0;
}

/* The report table: 1 found (r filled), 0 none, -1 a table that is not perftest's (line set). */
static int read_table(const char *text, size_t len, struct pt_result *r)
{
	size_t pos = 0;
	struct slice l;
	int found = 0, header = 0;

	while (next_line(text, len, &pos, &l)) {
		if (has(l, "#bytes") && has(l, "BW average[")) {
			if (has(l, "BW average[Gb/sec]"))
				header = 1;
			else if (has(l, "BW average[MB/sec]"))
				header = 2;
			else {
				snprintf(r->line, sizeof(r->line),
					 "a report table in units it does not know");
				return -1;
			}
			continue;
		}
		if (!header || empty(l) || dashes(l))
			continue;
		int rc = read_row(l, header == 2, r);
		if (rc == 0) {
			found = 1;
		} else if (rc == -2) {
			char row[96];
			printable(row, sizeof(row), l);
			snprintf(r->line, sizeof(r->line),
				 "a report row past any port's rate: '%s'", row);
			return -1;
		} else if (has(l, "#bytes") ||
			   (l.n && l.s[0] == ' ' && l.n > 1 && l.s[1] >= '0' && l.s[1] <= '9')) {
			char row[96];
			printable(row, sizeof(row), l);
			snprintf(r->line, sizeof(r->line), "a report row that is not numbers: '%s'",
				 row);
			return -1;
		}
		/* other lines (" Local results:", warnings) end nothing: the next row may come */
	}
	if (header && !found) {
		snprintf(r->line, sizeof(r->line),
			 "a report table without a row (output cut short?)");
		return -1;
	}
	return found;
}

static const struct {
	const char *needle;
	enum pt_kind kind;
} errors[] = {
    {"Did not detect devices", PT_NO_DEVICE},
    {"No IB devices found", PT_NO_DEVICE},
    {"Couldn't listen to port", PT_PORT_BUSY},
    {"Couldn't connect to ", PT_REFUSED},
    {"Parser function exited with Error", PT_USAGE},
    {"Invalid Command line", PT_USAGE},
    {"unrecognized option", PT_USAGE},
    {"invalid option", PT_USAGE},
};

static int device_not_found(struct slice l)
{
	return has(l, "IB device ") && has(l, " not found");
}

/* The first line that reads as an error: perftest's own words for its failures. */
static int error_line(struct slice l)
{
	static const char *const words[] = {"Couldn't", "Unable",	 "Failed",
					    "failed",	"Error",	 "error",
					    "Can't",	"not supported", "Problem"};

	for (size_t i = 0; i < FD_ARRAY_SIZE(words); i++)
		if (has(l, words[i]))
			return 1;
	return 0;
}

enum pt_kind pt_parse(const char *text, size_t len, struct pt_result *r)
{
	size_t pos = 0;
	struct slice l, first_error = {NULL, 0};
	int t;

	memset(r, 0, sizeof(*r));
	if (!text)
		len = 0;
	t = len ? read_table(text, len, r) : 0;
	if (t > 0)
		return r->kind = PT_REPORT;
	for (size_t e = 0; e < FD_ARRAY_SIZE(errors); e++) {
		pos = 0;
		while (next_line(text, len, &pos, &l)) {
			if (has(l, errors[e].needle)) {
				printable(r->line, sizeof(r->line), l);
				return r->kind = errors[e].kind;
			}
		}
	}
	pos = 0;
	while (next_line(text, len, &pos, &l)) {
		if (device_not_found(l)) {
			printable(r->line, sizeof(r->line), l);
			return r->kind = PT_DEVICE_NOT_FOUND;
		}
		if (!first_error.s && error_line(l))
			first_error = l;
	}
	if (first_error.s) {
		printable(r->line, sizeof(r->line), first_error);
		return r->kind = PT_ERROR;
	}
	if (t == 0) /* no table and no error: say what came instead */
		snprintf(r->line, sizeof(r->line), "%s",
			 len ? "no report table and no error in its output" : "no output at all");
	return r->kind = PT_NO_REPORT;
}

const char *pt_kind_name(enum pt_kind k)
{
	static const char *const names[] = {"report",  "no-device", "device-not-found",
					    "refused", "port-busy", "usage",
					    "error",   "no-report"};

	return (size_t)k < FD_ARRAY_SIZE(names) ? names[k] : "?";
}

int pt_help_has_cuda(const char *text, size_t len)
{
	return text && memmem(text, len, "--use_cuda", 10) != NULL;
}
