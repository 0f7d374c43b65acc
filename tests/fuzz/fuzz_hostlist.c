/*
 * fuzz_hostlist.c - Slurm hostlist expressions (SLURM_JOB_NODELIST and friends): the input
 * as an expression, checked against itself (first, count and expand agree; the compact form
 * of its hosts names the same set), and the input as a list of names for the compact form
 * (split at newlines), which must read back as the same set. A disagreement aborts.
 */
#include "fuzz.h"
#include "hostlist.h"

#include <errno.h>

#define FZ_MAX_HOSTS 4096
#define FZ_OUT	     65536

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts v and drops repeats (freeing them); returns the new count. */
static size_t uniq(char **v, size_t n)
{
	size_t m = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (m && !strcmp(v[i], v[m - 1]))
			free(v[i]);
		else
			v[m++] = v[i];
	}
	return m;
}

/* The compact form of v[0..n) reads back as the same set. */
static void check_compress(char **v, size_t n)
{
	char *out = malloc(FZ_OUT), **w;
	size_t m, un;
	int rc;

	if (!out)
		abort();
	rc = fd_hostlist_compress(v, n, out, FZ_OUT);
	if (rc) {
		free(out);
		return;
	}
	if (!n) {
		free(out);
		return;
	}
	if (fd_hostlist_expand(out, &w, &m, FZ_MAX_HOSTS * 2))
		abort(); /* a compact form that does not read back */
	un = uniq(v, n);
	m = uniq(w, m);
	if (m != un)
		abort();
	for (size_t i = 0; i < m; i++)
		if (strcmp(v[i], w[i]))
			abort();
	fd_hostlist_free(w, m);
	/* v was deduplicated in place: the caller frees un entries */
	for (size_t i = un; i < n; i++)
		v[i] = NULL;
	free(out);
}

static void as_expression(const char *s)
{
	char first[FD_HOSTLIST_NAME_MAX + 1], **v;
	size_t n, count;
	int rc_first = fd_hostlist_first(s, first, sizeof(first));
	int rc_count = fd_hostlist_count(s, &count);
	int rc = fd_hostlist_expand(s, &v, &n, FZ_MAX_HOSTS);

	if ((rc_first == 0) != (rc_count == 0))
		abort();
	if (rc == -E2BIG) {
		if (rc_count || count <= FZ_MAX_HOSTS)
			abort();
		return;
	}
	if ((rc == 0) != (rc_first == 0))
		abort();
	if (rc)
		return;
	if (n != count || !n || strcmp(v[0], first))
		abort();
	check_compress(v, n);
	fd_hostlist_free(v, n);
}

static void as_names(char *s)
{
	char *names[256];
	size_t n = 0;

	for (char *p = s; n < 256;) {
		char *nl = strchr(p, '\n');

		names[n++] = strdup(p);
		if (!names[n - 1])
			abort();
		if (nl)
			names[n - 1][nl - p] = '\0';
		if (!nl)
			break;
		p = nl + 1;
	}
	check_compress(names, n);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);

	as_expression(s);
	as_names(s);
	free(s);
	return 0;
}
