/*
 * progress.c - --progress-regex: POSIX ERE plus the Perl classes operators write by habit,
 * compiled with bounds on what it may cost, and matched on one output line.
 */
#define _GNU_SOURCE
#include "heartbeat.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The progress regex is POSIX ERE plus Perl's \d \s \w (and \D \S \W), which operators
 * write by habit. Bounded because glibc's regcomp builds the whole automaton up front:
 * stacked quantifiers ("(a+)+", "(.*){9}", "a**") took seconds and 700 MB, so they are
 * refused, as is a pattern past PROGRESS_RE_MAX bytes or {n} counts adding up past
 * PROGRESS_DUP_MAX (twenty (.|..){255} took 3 s to match one 8 KiB line).
 */
#define PROGRESS_RE_MAX	 512
#define PROGRESS_DUP_MAX 255
#define PROGRESS_DEPTH	 32

/* \d \s \w (and negations) as ERE: a whole bracket outside one, its body inside one. */
static const char *perl_class(char c, int in_bracket)
{
	switch (c) {
	case 'd':
		return in_bracket ? "0-9" : "[0-9]";
	case 's':
		return in_bracket ? "[:space:]" : "[[:space:]]";
	case 'w':
		return in_bracket ? "[:alnum:]_" : "[[:alnum:]_]";
	case 'D':
		return in_bracket ? NULL : "[^0-9]";
	case 'S':
		return in_bracket ? NULL : "[^[:space:]]";
	case 'W':
		return in_bracket ? NULL : "[^[:alnum:]_]";
	}
	return NULL;
}

struct re_xlate {
	const char *p; /* the pattern, read */
	char *out;     /* the ERE, written */
	size_t k;
	char *err;
	size_t errlen;
	int ngroups;				 /* groups opened so far */
	int step_group, rank_group, total_group; /* named ones, 0 when not named */
};

/*
 * "?<name>" at x->p, just after a group's '(': its number remembered under its name, the name dropped (ERE
 * has no names). Only rank, step and total mean something here; anything else is refused.
 */
static int group_name(struct re_xlate *x)
{
	const char *name = x->p + 2, *end = strchr(name, '>');
	size_t n = end ? (size_t)(end - name) : 0;
	int *slot = NULL;

	if (end && n == 4 && !memcmp(name, "rank", 4))
		slot = &x->rank_group;
	else if (end && n == 4 && !memcmp(name, "step", 4))
		slot = &x->step_group;
	else if (end && n == 5 && !memcmp(name, "total", 5))
		slot = &x->total_group;
	if (!slot) {
		snprintf(x->err, x->errlen,
			 "unknown group name '%.*s' (known: (?<rank>...), (?<step>...), "
			 "(?<total>...))",
			 end ? (int)(n > 32 ? 32 : n) : 8, name);
		return -EINVAL;
	}
	if (*slot) {
		snprintf(x->err, x->errlen, "two groups named %.*s", (int)n, name);
		return -EINVAL;
	}
	*slot = x->ngroups;
	x->p = end + 1;
	return 0;
}

static void put(struct re_xlate *x, const char *s, size_t n)
{
	memcpy(x->out + x->k, s, n);
	x->k += n;
}

/* A bracket expression at x->p ('['): copied with \d \s \w translated; x->p past its ']'. */
static int xlate_bracket(struct re_xlate *x)
{
	const char *p = x->p;

	put(x, p++, 1);
	if (*p == '^')
		put(x, p++, 1);
	if (*p == ']') /* a ']' first is a member */
		put(x, p++, 1);
	while (*p && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			/* [:digit:], [=a=], [.-.]: copied through their closing pair */
			char close = p[1];
			const char *e = p + 2;

			while (*e && !(e[0] == close && e[1] == ']'))
				e++;
			if (!*e)
				break; /* unterminated: regcomp says so */
			put(x, p, (size_t)(e + 2 - p));
			p = e + 2;
		} else if (*p == '\\' && p[1]) {
			const char *rep = perl_class(p[1], 1);

			if (rep) {
				put(x, rep, strlen(rep));
			} else if (strchr("DSW]^-[", p[1])) {
				snprintf(
				    x->err, x->errlen,
				    "\\%c inside [...] is not supported (a ] goes first, a - last)",
				    p[1]);
				return -EINVAL;
			} else {
				put(x, p + 1, 1); /* [\.] is [.], [\\] a backslash */
			}
			p += 2;
		} else {
			put(x, p++, 1);
		}
	}
	if (*p == ']')
		put(x, p++, 1);
	x->p = p;
	return 0;
}

/* "{n}", "{n,}", "{n,m}" at p: its length, *most its larger bound; 0 when '{' is no interval. */
static size_t interval_len(const char *p, long *most)
{
	const char *q = p + 1;
	long a = 0, b = -1;

	if (!isdigit((unsigned char)*q))
		return 0;
	/* Every digit is read (regcomp reads them all); the value saturates past the bound. */
	for (; isdigit((unsigned char)*q); q++)
		a = a > PROGRESS_DUP_MAX ? a : a * 10 + (*q - '0');
	if (*q == ',') {
		q++;
		if (isdigit((unsigned char)*q))
			for (b = 0; isdigit((unsigned char)*q); q++)
				b = b > PROGRESS_DUP_MAX ? b : b * 10 + (*q - '0');
	}
	if (*q != '}')
		return 0;
	*most = a > b ? a : b;
	return (size_t)(q + 1 - p);
}

static int xlate(struct re_xlate *x)
{
	/* per open group: whether it holds a quantifier; [0] is the whole pattern */
	int holds[PROGRESS_DEPTH + 1] = {0}, depth = 0;
	enum {
		NONE,
		ATOM,
		GROUP,
		QUANT
	} prev = NONE;
	int group_holds = 0; /* the group that just closed held a quantifier */
	long repeats = 0;    /* the {n} counts so far: each copies its atom n times */

	while (*x->p) {
		const char *p = x->p;
		size_t qlen = 0;
		long most = 0;

		if (*p == '*' || *p == '+' || *p == '?')
			qlen = 1;
		else if (*p == '{' && prev != NONE)
			qlen = interval_len(p, &most);
		if (qlen) {
			repeats += most;
			if (repeats > PROGRESS_DUP_MAX) {
				snprintf(x->err, x->errlen, "repeat counts ({n}) adding up past %d",
					 PROGRESS_DUP_MAX);
				return -EINVAL;
			}
			if (prev == QUANT || (prev == GROUP && group_holds)) {
				snprintf(x->err, x->errlen,
					 "nested quantifiers (such as (a+)+ or (.*){9}) make the "
					 "regex too costly to compile: quantify once");
				return -EINVAL;
			}
			holds[depth] = 1;
			put(x, p, qlen);
			x->p += qlen;
			prev = QUANT;
			continue;
		}
		switch (*p) {
		case '\\': {
			const char *rep = p[1] ? perl_class(p[1], 0) : NULL;

			if (p[1] >= '1' && p[1] <= '9') {
				/* glibc matches \1 by backtracking: exponential on a long line */
				snprintf(x->err, x->errlen,
					 "back-references (\\%c) are not supported", p[1]);
				return -EINVAL;
			}
			if (rep)
				put(x, rep, strlen(rep));
			else
				put(x, p, p[1] ? 2 : 1); /* "\\" stays one escaped backslash */
			x->p += p[1] ? 2 : 1;
			prev = ATOM;
			break;
		}
		case '[':
			if (xlate_bracket(x))
				return -EINVAL;
			prev = ATOM;
			break;
		case '(':
			if (depth == PROGRESS_DEPTH) {
				snprintf(x->err, x->errlen, "groups nested deeper than %d",
					 PROGRESS_DEPTH);
				return -EINVAL;
			}
			holds[++depth] = 0;
			put(x, x->p++, 1);
			x->ngroups++;
			if (x->p[0] == '?' && x->p[1] != '<') {
				snprintf(x->err, x->errlen,
					 "(?...) groups other than (?<rank>...), (?<step>...) and "
					 "(?<total>...) are not supported");
				return -EINVAL;
			}
			if (x->p[0] == '?' && group_name(x))
				return -EINVAL;
			prev = NONE;
			break;
		case ')':
			if (depth > 0) {
				group_holds = holds[depth--];
				holds[depth] |= group_holds;
				prev = GROUP;
			} else {
				prev = ATOM;
			}
			put(x, x->p++, 1);
			break;
		case '|':
		case '^':
		case '$':
			put(x, x->p++, 1);
			prev = NONE;
			break;
		default:
			put(x, x->p++, 1);
			prev = ATOM;
			break;
		}
	}
	x->out[x->k] = '\0';
	return 0;
}

int fd_progress_compile(struct fd_progress *pr, const char *pattern, char *err, size_t errlen)
{
	size_t n = strlen(pattern);
	struct re_xlate x = {.p = pattern, .err = err, .errlen = errlen};
	int r;

	memset(pr, 0, sizeof(*pr));
	if (n > PROGRESS_RE_MAX) {
		snprintf(err, errlen, "longer than %d bytes", PROGRESS_RE_MAX);
		return -EINVAL;
	}
	x.out = malloc(n * 12 + 1); /* "[^[:space:]]" is the longest expansion of a byte */
	if (!x.out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = xlate(&x);
	if (r)
		goto out;
	r = regcomp(&pr->re, x.out, REG_EXTENDED);
	if (r) {
		regerror(r, &pr->re, err, errlen);
		r = -EINVAL;
		goto out;
	}
	pr->rank_group = x.rank_group;
	pr->step_group = x.step_group;
	pr->total_group = x.total_group;
	/* the first group that is not the rank's or the total's */
	for (int g = 1; !pr->step_group && g <= x.ngroups; g++)
		if (g != x.rank_group && g != x.total_group)
			pr->step_group = g;
out:
	free(x.out);
	return r;
}

void fd_progress_free(struct fd_progress *pr)
{
	regfree(&pr->re);
}

/* Group g of line as a number: 0 and *v, or -1 (not there, not digits, too many). */
static int group_number(const char *line, const regmatch_t *m, int g, int64_t *v)
{
	if (!g || m[g].rm_so < 0)
		return -1;
	return fd_parse_digits(line + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so), v) ? -1 : 0;
}

int fd_progress_match(const struct fd_progress *pr, const char *line, int64_t *step, int *rank,
		      int64_t *total)
{
	regmatch_t m[PROGRESS_RE_MAX / 2 + 2]; /* every group a pattern of that length can hold */
	size_t nm = pr->re.re_nsub + 1 < FD_ARRAY_SIZE(m) ? pr->re.re_nsub + 1 : FD_ARRAY_SIZE(m);
	int64_t v;

	if (regexec(&pr->re, line, nm, m, 0))
		return 0;
	*step = group_number(line, m, pr->step_group, &v) ? -1 : v;
	if (total)
		*total = group_number(line, m, pr->total_group, &v) || !v ? -1 : v;
	if (rank)
		*rank = !pr->rank_group				    ? -1
			: group_number(line, m, pr->rank_group, &v) ? -2
			: v > 1 << 24				    ? -2
								    : (int)v;
	return 1;
}
