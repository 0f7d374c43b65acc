/*
 * hostlist.c - Slurm hostlist expressions: check, count, first host, expansion, compact form.
 *
 * One checking pass (hl_scan) reads the whole expression and yields the host count and the
 * longest name without producing a name, so that first and expand refuse a bad list before
 * any output and expand knows its allocation (and refuses an absurd one) up front. The
 * expansion is then an odometer over each name's brackets: no recursion, no intermediate
 * lists, memory proportional to the output.
 */
#include "hostlist.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One range of a bracket: lo..hi printed zero-padded to width (the digits of lo's text). */
struct hl_range {
	uint64_t lo, hi;
	size_t width;
};

/* A bracket of the name being expanded: where its ranges are and where it stands. */
struct hl_digit {
	const char *body;  /* the first range, just past '[' */
	const char *next;  /* the ',' or ']' after the current range */
	struct hl_range r; /* the current range */
	uint64_t v;	   /* the current number */
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Blanks and control bytes are never part of a host name: a stray newline or tab is an error. */
static int is_bad_byte(char c)
{
	return (unsigned char)c <= ' ' || c == 0x7f;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static size_t ndigits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* DIGITS at *p, *p moved past them; -EINVAL for none or a value past 64 bits. */
static int scan_num(const char **p, uint64_t *v, size_t *nd)
{
	const char *s = *p;
	uint64_t x = 0;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*nd = (size_t)(s - *p);
	*v = x;
	*p = s;
	return 0;
}

/* One range at *p ("7", "01-04"), *p moved past it. */
static int scan_range(const char **p, struct hl_range *r)
{
	size_t nd;
	int rc = scan_num(p, &r->lo, &r->width);

	if (rc)
		return rc;
	r->hi = r->lo;
	if (**p != '-')
		return 0;
	(*p)++;
	rc = scan_num(p, &r->hi, &nd);
	if (rc)
		return rc;
	return r->hi < r->lo ? -EINVAL : 0;
}

/*
 * A bracket's ranges at *p (just past '['), *p moved past its ']': the hosts it yields
 * (saturating) and the widest number it prints.
 */
static int scan_bracket(const char **p, uint64_t *count, size_t *width)
{
	struct hl_range r = {0};
	uint64_t c = 0;
	size_t w = 0;

	for (;;) {
		int rc = scan_range(p, &r);
		size_t rw = ndigits(r.hi);

		if (rc)
			return rc;
		c = sat_add(c, sat_add(r.hi - r.lo, 1));
		if (r.width > rw)
			rw = r.width;
		if (rw > w)
			w = rw;
		if (**p == ']')
			break;
		if (**p != ',')
			return -EINVAL; /* '[' inside, a missing ']', junk after a number */
		(*p)++;
	}
	(*p)++;
	*count = c;
	*width = w;
	return 0;
}

/* One name at *p up to the ',' or the end that follows it: its hosts and longest name. */
static int scan_name(const char **p, uint64_t *count, size_t *longest)
{
	const char *s = *p;
	uint64_t c = 1;
	size_t len = 0;

	if (*s == '\0' || *s == ',')
		return -EINVAL; /* an empty name: ",a", "a,,b", "a," */
	while (*s != '\0' && *s != ',') {
		if (*s == '[') {
			uint64_t bc;
			size_t bw;
			int rc;

			s++;
			rc = scan_bracket(&s, &bc, &bw);
			if (rc)
				return rc;
			c = sat_mul(c, bc);
			len += bw;
		} else if (*s == ']' || is_bad_byte(*s)) {
			return -EINVAL;
		} else {
			s++;
			len++;
		}
	}
	*p = s;
	*count = c;
	*longest = len;
	return 0;
}

/* Checks the whole of expr: its host count (saturating) and the number of its brackets. */
static int hl_scan(const char *expr, uint64_t *count, size_t *nbrackets)
{
	const char *p = expr;
	uint64_t total = 0;
	size_t nb = 0;
	int too_long = 0;

	if (!expr)
		return -EINVAL;
	for (;;) {
		const char *start = p;
		uint64_t c;
		size_t len;
		int rc = scan_name(&p, &c, &len);

		if (rc)
			return rc;
		total = sat_add(total, c);
		too_long |= len > FD_HOSTLIST_NAME_MAX;
		for (; start < p; start++)
			nb += *start == '[';
		if (*p == '\0')
			break;
		p++;
	}
	/* After the syntax: a malformed list is -EINVAL wherever its long name is. */
	if (too_long)
		return -ENAMETOOLONG;
	*count = total;
	if (nbrackets)
		*nbrackets = nb;
	return 0;
}

/* Puts bracket d at its first range's low bound. */
static void digit_reset(struct hl_digit *d)
{
	d->next = d->body;
	scan_range(&d->next, &d->r); /* checked by hl_scan */
	d->v = d->r.lo;
}

/* The next number of bracket d; 0 when it wrapped around to its first (a carry). */
static int digit_step(struct hl_digit *d)
{
	if (d->v < d->r.hi) {
		d->v++;
		return 1;
	}
	if (*d->next == ',') {
		d->next++;
		scan_range(&d->next, &d->r);
		d->v = d->r.lo;
		return 1;
	}
	digit_reset(d);
	return 0;
}

/*
 * The name at p (up to ',' or the end) with its brackets at digits' numbers, or at their
 * first low bounds when digits is NULL. hl_scan has bounded the length.
 */
static void build_name(const char *p, const struct hl_digit *digits, char *out)
{
	size_t o = 0, k = 0;
	struct hl_range r = {0};
	uint64_t v;

	while (*p != '\0' && *p != ',') {
		if (*p != '[') {
			out[o++] = *p++;
			continue;
		}
		if (digits) {
			r = digits[k].r;
			v = digits[k].v;
			k++;
		} else {
			const char *q = p + 1;

			scan_range(&q, &r);
			v = r.lo;
		}
		o += (size_t)snprintf(out + o, FD_HOSTLIST_NAME_MAX + 1 - o, "%0*llu", (int)r.width,
				      (unsigned long long)v);
		p = strchr(p, ']') + 1;
	}
	out[o] = '\0';
}

int fd_hostlist_first(const char *expr, char *out, size_t len)
{
	char name[FD_HOSTLIST_NAME_MAX + 1];
	uint64_t count;
	int rc = hl_scan(expr, &count, NULL);

	if (rc)
		return rc;
	build_name(expr, NULL, name);
	if (strlen(name) >= len)
		return -ENAMETOOLONG;
	memcpy(out, name, strlen(name) + 1);
	return 0;
}

int fd_hostlist_count(const char *expr, size_t *n)
{
	uint64_t count;
	int rc = hl_scan(expr, &count, NULL);

	if (rc)
		return rc;
	*n = count > SIZE_MAX ? SIZE_MAX : (size_t)count;
	return 0;
}

void fd_hostlist_free(char **hosts, size_t n)
{
	if (!hosts)
		return;
	for (size_t i = 0; i < n; i++)
		free(hosts[i]);
	free(hosts);
}

int fd_hostlist_expand(const char *expr, char ***hosts, size_t *n, size_t max)
{
	char name[FD_HOSTLIST_NAME_MAX + 1];
	struct hl_digit *digits = NULL;
	char **v = NULL;
	uint64_t count;
	size_t nb, got = 0;
	const char *p = expr;
	int rc;

	*hosts = NULL;
	*n = 0;
	rc = hl_scan(expr, &count, &nb);
	if (rc)
		return rc;
	if (count > max)
		return -E2BIG;
	v = calloc((size_t)count, sizeof(*v));
	digits = calloc(nb ? nb : 1, sizeof(*digits));
	if (!v || !digits)
		goto nomem;
	for (;;) {
		/* This name's brackets, each at its first number. */
		size_t k = 0;

		for (const char *q = p; *q != '\0' && *q != ','; q++) {
			if (*q != '[')
				continue;
			digits[k].body = q + 1;
			digit_reset(&digits[k]);
			q = strchr(q, ']');
			k++;
		}
		for (;;) {
			size_t i = k;

			build_name(p, digits, name);
			v[got] = strdup(name);
			if (!v[got])
				goto nomem;
			got++;
			/* The last bracket varies fastest, as in Slurm. */
			while (i > 0 && !digit_step(&digits[i - 1]))
				i--;
			if (i == 0)
				break;
		}
		p += strcspn(p, ",[");
		while (*p == '[') {
			p = strchr(p, ']') + 1;
			p += strcspn(p, ",[");
		}
		if (*p == '\0')
			break;
		p++;
	}
	free(digits);
	*hosts = v;
	*n = got;
	return 0;
nomem:
	free(digits);
	fd_hostlist_free(v, got);
	return -ENOMEM;
}

/* A host name split at its last run of digits: prefix, number, suffix. */
struct hl_name {
	const char *s;
	size_t plen; /* the prefix is s[0, plen) */
	size_t dlen; /* the digits are s[plen, plen + dlen); 0: no number */
	uint64_t v;
};

static int hl_name_split(const char *s, struct hl_name *h)
{
	size_t len, end;
	const char *p, *q;

	if (!s || !*s)
		return -EINVAL;
	len = strlen(s);
	if (len > FD_HOSTLIST_NAME_MAX)
		return -ENAMETOOLONG;
	for (p = s; *p; p++)
		if (*p == ',' || *p == '[' || *p == ']' || is_bad_byte(*p))
			return -EINVAL;
	h->s = s;
	h->plen = len;
	h->dlen = 0;
	h->v = 0;
	for (end = len; end > 0 && !is_digit(s[end - 1]); end--)
		;
	if (end == 0)
		return 0;
	p = s + end;
	while (p > s && is_digit(p[-1]))
		p--;
	/* A run of digits past 64 bits is no number: the name is written as it is. */
	q = p;
	if (scan_num(&q, &h->v, &h->dlen) == 0) {
		h->plen = (size_t)(p - s);
	} else {
		h->dlen = 0;
		h->v = 0;
	}
	return 0;
}

static const char *hl_suffix(const struct hl_name *h)
{
	return h->s + h->plen + h->dlen;
}

/* The group's key: prefix, suffix and whether there is a number at all. */
static int hl_group_cmp(const struct hl_name *a, const struct hl_name *b)
{
	size_t m = a->plen < b->plen ? a->plen : b->plen;
	int c = memcmp(a->s, b->s, m);

	if (c)
		return c;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	c = strcmp(hl_suffix(a), hl_suffix(b));
	if (c)
		return c;
	return (a->dlen > 0) - (b->dlen > 0);
}

/* Within a group by number, then by digit count: identical names end up side by side. */
static int hl_name_cmp(const void *x, const void *y)
{
	const struct hl_name *a = x, *b = y;
	int c = hl_group_cmp(a, b);

	if (c)
		return c;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	if (a->dlen != b->dlen)
		return a->dlen < b->dlen ? -1 : 1;
	return 0;
}

struct hl_out {
	char *buf;
	size_t len, pos;
	int err;
};

static void out_put(struct hl_out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (n >= o->len - o->pos) {
		o->err = -ENOSPC;
		return;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

/*
 * Can h follow the range that starts with lo? Slurm prints every number of a range padded to
 * the digits of its low bound, so h belongs only if that prints exactly h's digits: n[8-10]
 * holds n10, n[08-10] holds n10 too, but neither holds n010.
 */
static int hl_fits(const struct hl_name *lo, const struct hl_name *h)
{
	size_t nd = ndigits(h->v);

	return h->dlen == (lo->dlen > nd ? lo->dlen : nd);
}

/*
 * Writes the group e[0..n) (sorted, one prefix and suffix, all numbered) as prefix[ranges]
 * suffix. rlo, rhi and act are scratch arrays of n entries: each range's first and last
 * entry, and the ranges that may still grow (their last number is the current one or the
 * one before: one per digit count at most, so the search stays short).
 */
static void hl_put_group(struct hl_out *o, const struct hl_name *e, size_t n, size_t *rlo,
			 size_t *rhi, size_t *act)
{
	size_t nr = 0, na = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j, keep = 0;

		if (i > 0 && e[i].v == e[i - 1].v && e[i].dlen == e[i - 1].dlen)
			continue; /* a duplicate */
		for (j = 0; j < na; j++)
			if (e[i].v - e[rhi[act[j]]].v <= 1)
				act[keep++] = act[j];
		na = keep;
		for (j = 0; j < na; j++) {
			size_t r = act[j];

			if (e[i].v - e[rhi[r]].v == 1 && hl_fits(&e[rlo[r]], &e[i])) {
				rhi[r] = i;
				break;
			}
		}
		if (j == na) {
			rlo[nr] = rhi[nr] = i;
			act[na++] = nr++;
		}
	}
	if (nr == 1 && rlo[0] == rhi[0]) {
		out_put(o, e[0].s, strlen(e[0].s));
		return;
	}
	out_put(o, e[0].s, e[0].plen);
	out_put(o, "[", 1);
	for (size_t r = 0; r < nr; r++) {
		const struct hl_name *a = &e[rlo[r]], *b = &e[rhi[r]];

		if (r)
			out_put(o, ",", 1);
		out_put(o, a->s + a->plen, a->dlen);
		if (b != a) {
			out_put(o, "-", 1);
			out_put(o, b->s + b->plen, b->dlen);
		}
	}
	out_put(o, "]", 1);
	out_put(o, hl_suffix(&e[0]), strlen(hl_suffix(&e[0])));
}

int fd_hostlist_compress(char *const *hosts, size_t n, char *out, size_t len)
{
	struct hl_out o = {.buf = out, .len = len};
	struct hl_name *e = NULL;
	size_t *scratch = NULL;
	int rc = 0;

	if (!len)
		return -ENOSPC;
	out[0] = '\0';
	if (!n)
		return 0;
	if (n > SIZE_MAX / (3 * sizeof(size_t)))
		return -ENOMEM;
	e = malloc(n * sizeof(*e));
	scratch = malloc(3 * n * sizeof(*scratch));
	if (!e || !scratch) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = hl_name_split(hosts[i], &e[i]);
		if (rc)
			goto out;
	}
	qsort(e, n, sizeof(*e), hl_name_cmp);
	for (size_t i = 0, first = 1; i < n; first = 0) {
		size_t j = i + 1;

		if (!e[i].dlen) {
			/* no number: written as it is, once */
			while (j < n && hl_name_cmp(&e[i], &e[j]) == 0)
				j++;
			if (!first)
				out_put(&o, ",", 1);
			out_put(&o, e[i].s, strlen(e[i].s));
			i = j;
			continue;
		}
		while (j < n && hl_group_cmp(&e[i], &e[j]) == 0)
			j++;
		if (!first)
			out_put(&o, ",", 1);
		hl_put_group(&o, e + i, j - i, scratch, scratch + n, scratch + 2 * n);
		i = j;
	}
	rc = o.err;
out:
	if (rc)
		out[0] = '\0';
	free(e);
	free(scratch);
	return rc;
}
