/*
 * test_hostlist.c - Slurm hostlist expressions: expansion (padding, lists, several brackets,
 * text after a bracket), the first host, the bound on the count, every malformed form, the
 * compact form and compress(expand(x)) round trips.
 */
#include "testhelp.h"
#include "hostlist.h"

#include <errno.h>
#include <stdlib.h>

/* expr expanded, joined with ' ' (or the negative errno as text), for one-line comparisons. */
static const char *expand_str(const char *expr)
{
	static char buf[4096];
	char **v;
	size_t n, o = 0;
	int rc = fd_hostlist_expand(expr, &v, &n, 1000);

	if (rc) {
		snprintf(buf, sizeof(buf), "error %d", rc);
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "", v[i]);
	fd_hostlist_free(v, n);
	return buf;
}

static const char *compress_str(const char *const *names, size_t n)
{
	static char buf[4096];
	int rc = fd_hostlist_compress((char *const *)names, n, buf, sizeof(buf));

	if (rc)
		snprintf(buf, sizeof(buf), "error %d", rc);
	return buf;
}

static void expand_forms(void)
{
	CHECK_STREQ(expand_str("gpu[01-04,07]"), "gpu01 gpu02 gpu03 gpu04 gpu07");
	CHECK_STREQ(expand_str("tux[1-3,5]"), "tux1 tux2 tux3 tux5");
	CHECK_STREQ(expand_str("node7"), "node7");
	CHECK_STREQ(expand_str("login"), "login");
	CHECK_STREQ(expand_str("a,b[1-2],c"), "a b1 b2 c");
	CHECK_STREQ(expand_str("n[3]"), "n3");
	CHECK_STREQ(expand_str("[1-3]"), "1 2 3");
	CHECK_STREQ(expand_str("n[1-2]x,m4"), "n1x n2x m4");
	CHECK_STREQ(expand_str("gpu[1-2]-ib"), "gpu1-ib gpu2-ib");
	CHECK_STREQ(expand_str("a.b-c_d[9-10].e"), "a.b-c_d9.e a.b-c_d10.e");
	/* duplicates and order are kept, as written */
	CHECK_STREQ(expand_str("n[3,1-2,3]"), "n3 n1 n2 n3");
	CHECK_STREQ(expand_str("n[0]"), "n0");
	CHECK_STREQ(expand_str("n[0-0]"), "n0");
}

/* Slurm pads every number to the digit count of its range's low bound. */
static void expand_padding(void)
{
	CHECK_STREQ(expand_str("n[8-10]"), "n8 n9 n10");
	CHECK_STREQ(expand_str("n[08-10]"), "n08 n09 n10");
	CHECK_STREQ(expand_str("n[008-10]"), "n008 n009 n010");
	CHECK_STREQ(expand_str("n[1-010]"), "n1 n2 n3 n4 n5 n6 n7 n8 n9 n10");
	CHECK_STREQ(expand_str("n[099-101]"), "n099 n100 n101");
	CHECK_STREQ(expand_str("n[00]"), "n00");
	CHECK_STREQ(expand_str("n[7,08-09]"), "n7 n08 n09");
}

/* Several brackets: the cartesian product, the last bracket varying fastest. */
static void expand_product(void)
{
	CHECK_STREQ(expand_str("rack[1-2]-n[1-2]"), "rack1-n1 rack1-n2 rack2-n1 rack2-n2");
	CHECK_STREQ(expand_str("r[1,3]c[0-1]n[5]"), "r1c0n5 r1c1n5 r3c0n5 r3c1n5");
	CHECK_STREQ(expand_str("a[1][2]"), "a12");
	CHECK_STREQ(expand_str("x,r[1-2]n[1-2,4],y"), "x r1n1 r1n2 r1n4 r2n1 r2n2 r2n4 y");
	CHECK_STREQ(expand_str("r[01-02]-[a]"), "error -22");
}

static void malformed(void)
{
	static const char *bad[] = {
	    "",				  /* nothing */
	    "gpu[1-2",			  /* unbalanced */
	    "gpu1-2]",			  /* unbalanced */
	    "gpu[[1]]",			  /* nested */
	    "gpu[1-[2]]",		  /* nested */
	    "gpu[]",			  /* empty bracket */
	    "gpu[,1]",			  /* empty range */
	    "gpu[1,]",			  /* empty range */
	    "gpu[1,,2]",		  /* empty range */
	    "gpu[1-]",			  /* no high bound (Slurm reads 1) */
	    "gpu[-1]",			  /* no low bound */
	    "gpu[1--2]",		  /* a negative number */
	    "gpu[3-1]",			  /* a range going down */
	    "gpu[a-b]",			  /* not numbers */
	    "gpu[+1]",			  /* a sign (Slurm reads 1) */
	    "gpu[ 1]",			  /* a blank */
	    "gpu[1-2x]",		  /* junk after a number */
	    "gpu[1] ",			  /* trailing blank */
	    "a b",			  /* blanks do not separate here */
	    "a\n",			  /* a stray newline */
	    "a,",			  /* trailing comma */
	    ",a",			  /* leading comma */
	    "a,,b",			  /* empty name */
	    ",",			  /* only a comma */
	    "n[18446744073709551616]",	  /* 2^64 */
	    "n[0-99999999999999999999]",  /* past 2^64 */
	    "n[1-184467440737095516150]", /* past 2^64 by a digit */
	    NULL,
	};
	char out[64] = "untouched";
	char **v = (char **)1;
	size_t n = 7;

	for (int i = 0; bad[i]; i++) {
		int rc = fd_hostlist_expand(bad[i], &v, &n, 1000);

		if (rc != -EINVAL)
			printf("    expand(\"%s\") = %d\n", bad[i], rc);
		CHECK_EQ_INT(rc, -EINVAL);
		CHECK(v == NULL && n == 0);
		rc = fd_hostlist_first(bad[i], out, sizeof(out));
		if (rc != -EINVAL)
			printf("    first(\"%s\") = %d\n", bad[i], rc);
		CHECK_EQ_INT(rc, -EINVAL);
		CHECK_EQ_INT(fd_hostlist_count(bad[i], &n), -EINVAL);
	}
	CHECK_STREQ(out, "untouched");
	CHECK_EQ_INT(fd_hostlist_expand(NULL, &v, &n, 1000), -EINVAL);
	CHECK_EQ_INT(fd_hostlist_first(NULL, out, sizeof(out)), -EINVAL);
	/* the largest 64-bit number is a number */
	CHECK_STREQ(expand_str("n[18446744073709551615]"), "n18446744073709551615");
	CHECK_STREQ(expand_str("n[18446744073709551614-18446744073709551615]"),
		    "n18446744073709551614 n18446744073709551615");
}

/* The first host, with the whole list checked and nothing expanded. */
static void first(void)
{
	char out[32];

	CHECK_EQ_INT(fd_hostlist_first("gpu[01-04,07]", out, sizeof(out)), 0);
	CHECK_STREQ(out, "gpu01");
	CHECK_EQ_INT(fd_hostlist_first("n[0-999999999]", out, sizeof(out)), 0);
	CHECK_STREQ(out, "n0"); /* the low bound "0" has one digit */
	CHECK_EQ_INT(fd_hostlist_first("rack[3-4]-n[08-09],x", out, sizeof(out)), 0);
	CHECK_STREQ(out, "rack3-n08");
	CHECK_EQ_INT(fd_hostlist_first("login,gpu[1-2]", out, sizeof(out)), 0);
	CHECK_STREQ(out, "login");
	CHECK_EQ_INT(fd_hostlist_first("gpu[1-2]-ib", out, sizeof(out)), 0);
	CHECK_STREQ(out, "gpu1-ib");
	/* malformed after the first name is still malformed */
	CHECK_EQ_INT(fd_hostlist_first("gpu[01-04],bad[", out, sizeof(out)), -EINVAL);
	/* out too small: the name and its NUL must fit */
	CHECK_EQ_INT(fd_hostlist_first("gpu[01-04]", out, 6), 0);
	CHECK_STREQ(out, "gpu01");
	CHECK_EQ_INT(fd_hostlist_first("gpu[01-04]", out, 5), -ENAMETOOLONG);
	CHECK_EQ_INT(fd_hostlist_first("gpu[01-04]", out, 0), -ENAMETOOLONG);
}

/* A name longer than FD_HOSTLIST_NAME_MAX, wherever it is, refuses the list. */
static void long_names(void)
{
	char expr[600], out[300];
	char **v;
	size_t n;

	memset(expr, 'a', FD_HOSTLIST_NAME_MAX);
	expr[FD_HOSTLIST_NAME_MAX] = '\0';
	CHECK_EQ_INT(fd_hostlist_first(expr, out, sizeof(out)), 0);
	CHECK_EQ_INT(strlen(out), FD_HOSTLIST_NAME_MAX);
	strcpy(expr + FD_HOSTLIST_NAME_MAX, "b");
	CHECK_EQ_INT(fd_hostlist_first(expr, out, sizeof(out)), -ENAMETOOLONG);
	/* 250 letters and a number that becomes 6 digits only at the end of its range */
	memset(expr, 'a', 250);
	strcpy(expr + 250, "[99998-100000]");
	CHECK_EQ_INT(fd_hostlist_expand(expr, &v, &n, 10), -ENAMETOOLONG);
	expr[250] = '\0';
	strcat(expr, "[9998-10000]");
	CHECK_EQ_INT(fd_hostlist_expand(expr, &v, &n, 10), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(strlen(v[2]), 255);
	fd_hostlist_free(v, n);
	/* a zero padding that makes the name too long, after a good first name */
	snprintf(expr, sizeof(expr), "ok,n[%0300d]", 1);
	CHECK_EQ_INT(fd_hostlist_first(expr, out, sizeof(out)), -ENAMETOOLONG);
}

/* The count bound: refused before anything is allocated, however large. */
static void max_count(void)
{
	char **v = (char **)1;
	size_t n = 7;

	CHECK_EQ_INT(fd_hostlist_expand("n[0-999999999]", &v, &n, 10000), -E2BIG);
	CHECK(v == NULL && n == 0);
	CHECK_EQ_INT(fd_hostlist_expand("n[0-18446744073709551615]", &v, &n, 10000), -E2BIG);
	CHECK_EQ_INT(fd_hostlist_expand("a[0-4294967295]b[0-4294967295]c[0-9]", &v, &n, 10000),
		     -E2BIG);
	CHECK_EQ_INT(fd_hostlist_expand("n[1-4]", &v, &n, 3), -E2BIG);
	CHECK_EQ_INT(fd_hostlist_expand("n[1-4]", &v, &n, 4), 0);
	CHECK_EQ_INT(n, 4);
	fd_hostlist_free(v, n);
	CHECK_EQ_INT(fd_hostlist_expand("a,b,c", &v, &n, 2), -E2BIG);
	CHECK_EQ_INT(fd_hostlist_count("n[0-999999999],x", &n), 0);
	CHECK_EQ_INT(n, 1000000001);
	CHECK_EQ_INT(fd_hostlist_count("r[1-2]n[1-3],x[5,7]", &n), 0);
	CHECK_EQ_INT(n, 8);
	CHECK_EQ_INT(fd_hostlist_count("n[0-18446744073709551615],x", &n), 0);
	CHECK(n == SIZE_MAX);
	/* 10,000 nodes expand */
	CHECK_EQ_INT(fd_hostlist_expand("gpu[00000-09999]", &v, &n, 10000), 0);
	CHECK_EQ_INT(n, 10000);
	if (n == 10000) {
		CHECK_STREQ(v[0], "gpu00000");
		CHECK_STREQ(v[9999], "gpu09999");
	}
	fd_hostlist_free(v, n);
}

static void compress(void)
{
	static const char *a[] = {"gpu03", "gpu01", "gpu02", "gpu07"};
	static const char *b[] = {"n10", "n9", "n8"};
	static const char *c[] = {"n08", "n10", "n09"};
	static const char *d[] = {"n8", "n09"};
	static const char *e[] = {"login", "gpu2", "gpu1", "cpu5", "login", "gpu2"};
	static const char *f[] = {"gpu1-ib", "gpu2-ib", "gpu3-eth", "gpu4-ib"};
	static const char *g[] = {"node7"};
	static const char *h[] = {"rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"};
	static const char *i[] = {"n1", "n01", "n2", "n02", "n3"};
	static const char *j[] = {"n9", "n010", "n10", "n11"};
	static const char *k[] = {"7", "5", "6"};
	static const char *l[] = {"n99999999999999999999", "n1"};

	CHECK_STREQ(compress_str(a, 4), "gpu[01-03,07]");
	CHECK_STREQ(compress_str(b, 3), "n[8-10]");
	CHECK_STREQ(compress_str(c, 3), "n[08-10]");
	CHECK_STREQ(compress_str(d, 2), "n[8,09]");
	CHECK_STREQ(compress_str(e, 6), "cpu5,gpu[1-2],login");
	CHECK_STREQ(compress_str(f, 4), "gpu3-eth,gpu[1-2,4]-ib");
	CHECK_STREQ(compress_str(g, 1), "node7");
	CHECK_STREQ(compress_str(h, 4), "rack1-n[1-2],rack2-n[1-2]");
	CHECK_STREQ(compress_str(i, 5), "n[1-3,01-02]");
	CHECK_STREQ(compress_str(j, 4), "n[9-11,010]");
	CHECK_STREQ(compress_str(k, 3), "[5-7]");
	/* a run of digits past 64 bits is no number: the name as it is */
	CHECK_STREQ(compress_str(l, 2), "n1,n99999999999999999999");
	CHECK_STREQ(compress_str(NULL, 0), "");
}

static void compress_errors(void)
{
	static const char *bad[] = {"", "a,b", "a[1]", "a]", "a b", "a\tb", NULL};
	char out[16];
	char long_name[FD_HOSTLIST_NAME_MAX + 2];
	const char *one[1];
	static const char *a[] = {"gpu03", "gpu01", "gpu02", "gpu07"};

	for (int i = 0; bad[i]; i++) {
		one[0] = bad[i];
		CHECK_EQ_INT(fd_hostlist_compress((char *const *)one, 1, out, sizeof(out)),
			     -EINVAL);
	}
	one[0] = NULL;
	CHECK_EQ_INT(fd_hostlist_compress((char *const *)one, 1, out, sizeof(out)), -EINVAL);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	one[0] = long_name;
	CHECK_EQ_INT(fd_hostlist_compress((char *const *)one, 1, out, sizeof(out)), -ENAMETOOLONG);
	/* "gpu[01-03,07]" is 13 bytes: 14 fit, 13 do not, and a short out is left empty */
	CHECK_EQ_INT(fd_hostlist_compress((char *const *)a, 4, out, 14), 0);
	CHECK_STREQ(out, "gpu[01-03,07]");
	CHECK_EQ_INT(fd_hostlist_compress((char *const *)a, 4, out, 13), -ENOSPC);
	CHECK_STREQ(out, "");
	CHECK_EQ_INT(fd_hostlist_compress((char *const *)a, 4, out, 0), -ENOSPC);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* expr's hosts as a sorted set, joined with ' '. */
static void set_of(const char *expr, char *buf, size_t len)
{
	char **v;
	size_t n, o = 0;

	buf[0] = '\0';
	if (fd_hostlist_expand(expr, &v, &n, 100000))
		return;
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n && o < len; i++)
		if (!i || strcmp(v[i], v[i - 1]))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", v[i]);
	fd_hostlist_free(v, n);
}

/* expand(compress(expand(x))) is expand(x) as a set, and compress is stable on its output. */
static void round_trip(void)
{
	static const char *exprs[] = {
	    "gpu[01-04,07]",
	    "n[8-10]",
	    "n[08-10]",
	    "n[7,08-09,10]",
	    "rack[1-2]-n[1-2]",
	    "a,b[1-2],c",
	    "gpu[1-2]-ib,gpu[3]-eth,login",
	    "n[1-3,2-5,01-02,001]",
	    "n[0-999]",
	    "x[18446744073709551610-18446744073709551615]",
	    "[1-3],[02-04]",
	    "r[1-3]c[1-2]n[098-101]-ib",
	    NULL,
	};
	static char want[200000], got[200000], again[200000];

	for (int t = 0; exprs[t]; t++) {
		char **v;
		size_t n;
		char *comp = malloc(65536), *comp2 = malloc(65536);

		CHECK_EQ_INT(fd_hostlist_expand(exprs[t], &v, &n, 100000), 0);
		CHECK_EQ_INT(fd_hostlist_compress(v, n, comp, 65536), 0);
		set_of(exprs[t], want, sizeof(want));
		set_of(comp, got, sizeof(got));
		if (strcmp(want, got))
			printf("    %s -> %s\n", exprs[t], comp);
		CHECK(strcmp(want, got) == 0);
		fd_hostlist_free(v, n);
		/* compressing the compact form's hosts again gives the same text */
		CHECK_EQ_INT(fd_hostlist_expand(comp, &v, &n, 100000), 0);
		CHECK_EQ_INT(fd_hostlist_compress(v, n, comp2, 65536), 0);
		CHECK_STREQ(comp2, comp);
		set_of(comp2, again, sizeof(again));
		CHECK(strcmp(want, again) == 0);
		fd_hostlist_free(v, n);
		free(comp);
		free(comp2);
	}
}

const struct unit_test hostlist_tests[] = {
    {"hostlist: expansion", expand_forms},
    {"hostlist: zero padding as Slurm", expand_padding},
    {"hostlist: several brackets", expand_product},
    {"hostlist: malformed lists", malformed},
    {"hostlist: the first host", first},
    {"hostlist: names too long", long_names},
    {"hostlist: the count bound", max_count},
    {"hostlist: compact form", compress},
    {"hostlist: compact form errors", compress_errors},
    {"hostlist: round trips", round_trip},
    {NULL, NULL},
};
