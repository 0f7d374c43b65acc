/*
 * test_opts.c - the option layer (launcher/core/opts.c): every type parses, bounds refuse, the
 * config file loses to flags whatever their order, unknown keys name FILE:LINE, and what
 * --show-config prints reads back through --config to the same values.
 */
#include "opts.h"
#include "testhelp.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

struct topts {
	int64_t dur, pos, step;
	uint64_t size, count;
	int n, gpus, mode, flag;
	double x, gbps;
	const char *s;
	char buf[16];
	int list[8];
	size_t n_list;
};

#define T(f) offsetof(struct topts, f)

static const char *const modes[] = {"any", "off", "on", NULL};

static const struct fd_opt rows[] = {
    {.name = "dur",
     .metavar = "DUR",
     .help = "zero allowed, or none",
     .type = FD_OPT_DURATION,
     .def = "none",
     .min = 0,
     .max = FD_OPT_MS_MAX,
     .off = T(dur),
     .word = "none"},
    {.name = "pos",
     .metavar = "DUR",
     .help = "positive",
     .type = FD_OPT_DURATION,
     .def = "5m",
     .min = 1,
     .max = FD_OPT_MS_MAX,
     .off = T(pos)},
    {.name = "step",
     .metavar = "N",
     .help = "int64",
     .type = FD_OPT_UINT64,
     .def = "0",
     .min = 0,
     .max = 9e18,
     .off = T(step)},
    {.name = "size",
     .metavar = "SIZE",
     .help = "or unlimited",
     .type = FD_OPT_SIZE,
     .def = "1GiB",
     .min = 1,
     .max = 1.8446744073709552e19,
     .off = T(size),
     .word = "unlimited",
     .word_val = 1.8446744073709552e19,
     .flags = FD_OPT_ICASE},
    {.name = "count",
     .metavar = "N",
     .help = "a count",
     .type = FD_OPT_COUNT,
     .def = "7B",
     .min = 1,
     .max = 1e15,
     .off = T(count)},
    {.name = "n",
     .metavar = "N",
     .help = "0 to 10",
     .type = FD_OPT_UINT,
     .def = "2",
     .min = 0,
     .max = 10,
     .off = T(n)},
    {.name = "gpus",
     .metavar = "N",
     .help = "count or auto",
     .type = FD_OPT_UINT,
     .def = "auto",
     .min = 0,
     .max = INT_MAX,
     .off = T(gpus),
     .word = "auto",
     .word_val = -1},
    {.name = "x",
     .metavar = "X",
     .help = "1 to 1000",
     .type = FD_OPT_DOUBLE,
     .def = "5",
     .min = 1,
     .max = 1000,
     .off = T(x)},
    {.name = "gbps",
     .metavar = "GBPS",
     .help = "Gb/s",
     .type = FD_OPT_GBPS,
     .def = "0",
     .min = 0,
     .max = 1e6,
     .off = T(gbps)},
    {.name = "s", .metavar = "STR", .help = "a string", .type = FD_OPT_STRING, .off = T(s)},
    {.name = "buf",
     .metavar = "DIR",
     .help = "a copied path",
     .type = FD_OPT_BUF,
     .def = "/sys",
     .off = T(buf),
     .cap = 16},
    {.name = "mode",
     .metavar = "MODE",
     .help = "on, off, any",
     .type = FD_OPT_ENUM,
     .def = "any",
     .off = T(mode),
     .words = modes,
     .base = -1,
     .noun = "mode"},
    {.name = "list",
     .metavar = "LIST",
     .help = "ints",
     .type = FD_OPT_INTLIST,
     .def = "48,79",
     .off = T(list),
     .off_n = T(n_list),
     .cap = 8},
    {.name = "flag",
     .short_name = 'q',
     .help = "a flag",
     .type = FD_OPT_FLAG,
     .off = T(flag),
     .flags = FD_OPT_NOKEY},
    {.name = "not-a-key",
     .metavar = "N",
     .help = "flag only",
     .type = FD_OPT_UINT,
     .min = 0,
     .max = 9,
     .off = T(n),
     .flags = FD_OPT_NOKEY},
    {.name = "config", .metavar = "FILE", .help = "a config file", .type = FD_OPT_CONFIG},
    {.name = "show-config", .help = "print it", .type = FD_OPT_SHOW},
};

static struct fd_opt_table table(struct topts *o)
{
	return (struct fd_opt_table){
	    .heading = "test:", .rows = rows, .n = FD_ARRAY_SIZE(rows), .obj = o};
}

static int set(struct topts *o, const char *name, const char *v, char *err, size_t len)
{
	struct fd_opt_table t = table(o);

	return fd_opt_set(fd_opt_find(&t, 1, name, NULL), o, v, err, len);
}

static void fresh(struct topts *o)
{
	struct fd_opt_table t = table(o);

	memset(o, 0, sizeof(*o));
	fd_opt_defaults(&t, 1);
}

static void types(void)
{
	struct topts o;
	char err[256];

	fresh(&o);
	CHECK_EQ_INT(o.dur, 0);
	CHECK_EQ_INT(o.pos, 300000);
	CHECK_EQ_INT(o.size, 1073741824ULL);
	CHECK_EQ_INT(o.count, 7000000000ULL);
	CHECK_EQ_INT(o.gpus, -1);
	CHECK_EQ_INT(o.mode, -1);
	CHECK_EQ_INT(o.n_list, 2);
	CHECK(o.x == 5.0 && o.s == NULL);
	CHECK_STREQ(o.buf, "/sys");

	CHECK_EQ_INT(set(&o, "dur", "90", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.dur, 90000);
	CHECK_EQ_INT(set(&o, "dur", "0", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.dur, 0);
	CHECK_EQ_INT(set(&o, "size", "UNLIMITED", err, sizeof(err)), 0);
	CHECK(o.size == UINT64_MAX);
	CHECK_EQ_INT(set(&o, "size", "64MiB", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.size, 64ULL << 20);
	CHECK_EQ_INT(set(&o, "count", "70b", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.count, 70000000000ULL);
	CHECK_EQ_INT(set(&o, "step", "123456789012", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.step, 123456789012LL);
	CHECK_EQ_INT(set(&o, "gpus", "8", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.gpus, 8);
	CHECK_EQ_INT(set(&o, "x", "2.5", err, sizeof(err)), 0);
	CHECK(o.x == 2.5);
	CHECK_EQ_INT(set(&o, "gbps", "400 Gb/sec", err, sizeof(err)), 0);
	CHECK(o.gbps == 400.0);
	CHECK_EQ_INT(set(&o, "s", "hello", err, sizeof(err)), 0);
	CHECK_STREQ(o.s, "hello");
	CHECK_EQ_INT(set(&o, "mode", "on", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.mode, 1);
	CHECK_EQ_INT(set(&o, "list", "13,31,43", err, sizeof(err)), 0);
	CHECK(o.n_list == 3 && o.list[2] == 43);

	/* one wording: the name, the value, what would have been accepted */
	CHECK_EQ_INT(set(&o, "dur", "10x", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "dur: invalid value '10x' (use seconds") != NULL);
	CHECK_EQ_INT(set(&o, "mode", "maybe", err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, "mode: unknown mode 'maybe' (any, off, on)");
	CHECK_EQ_INT(set(&o, "list", "48,x", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(set(&o, "gbps", "fast", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(set(&o, "n", "-1", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(set(&o, "buf", "/a/path/longer/than/sixteen", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "too long") != NULL);
	CHECK_STREQ(o.buf, "/sys");
}

static void bounds(void)
{
	struct topts o;
	char err[256];

	fresh(&o);
	/* int64 nanoseconds end at 9.2e18: 2562047 h is the last whole hour that fits */
	CHECK_EQ_INT(set(&o, "dur", "2562047h", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.dur, 2562047LL * 3600000);
	CHECK(o.dur <= INT64_MAX / 1000000);
	CHECK_EQ_INT(set(&o, "dur", "3000000h", err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, "dur: invalid value '3000000h' (out of range: 0s to 2562047h)");
	CHECK_EQ_INT(o.dur, 2562047LL * 3600000); /* a refused value stores nothing */
	CHECK_EQ_INT(set(&o, "pos", "0", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "out of range: 1ms to 2562047h") != NULL);
	CHECK_EQ_INT(set(&o, "x", "0.1", err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, "x: invalid value '0.1' (out of range: 1 to 1000)");
	CHECK_EQ_INT(set(&o, "x", "1000.5", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(set(&o, "x", "1000", err, sizeof(err)), 0);
	CHECK_EQ_INT(set(&o, "n", "11", err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, "n: invalid value '11' (out of range: 0 to 10)");
	CHECK_EQ_INT(set(&o, "size", "0", err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, "size: invalid value '0' (out of range: at least 1)");
	CHECK_EQ_INT(set(&o, "count", "2e15", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(set(&o, "step", "99999999999999999999", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "out of range") != NULL);
}

static int parse(struct topts *o, struct fd_opt_parser *p, char **argv, char *err, size_t len)
{
	static struct fd_opt_table t;
	int argc = 0;

	while (argv[argc])
		argc++;
	t = table(o);
	*p = (struct fd_opt_parser){.cmd = "test", .tables = &t, .n_tables = 1};
	return fd_opt_parse(p, argc, argv, err, len);
}

static void argv_parsing(void)
{
	struct topts o;
	struct fd_opt_parser p;
	char err[512];

	fresh(&o);
	char *a1[] = {"test", "--dur", "5s", "-q", "--mode=off", NULL};
	CHECK_EQ_INT(parse(&o, &p, a1, err, sizeof(err)), 0);
	CHECK(o.dur == 5000 && o.flag == 1 && o.mode == 0 && !p.help);
	fd_opt_release(&p);

	char *a2[] = {"test", "--bogus", NULL};
	CHECK_EQ_INT(parse(&o, &p, a2, err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, "unknown option '--bogus' (see flightdeck test --help)");
	char *a3[] = {"test", "-z", NULL};
	CHECK_EQ_INT(parse(&o, &p, a3, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "unknown option '-z'") != NULL);
	char *a4[] = {"test", "--dur", NULL};
	CHECK_EQ_INT(parse(&o, &p, a4, err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, "option '--dur' needs a value");
	char *a5[] = {"test", "stray", NULL};
	CHECK_EQ_INT(parse(&o, &p, a5, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "unexpected argument 'stray'") != NULL);
	char *a6[] = {"test", "--x", "0", NULL};
	CHECK_EQ_INT(parse(&o, &p, a6, err, sizeof(err)), -EINVAL);
	CHECK_STREQ(err, "--x: invalid value '0' (out of range: 1 to 1000)");
	char *a7[] = {"test", "--x", "9", "--help", "--bogus", NULL};
	CHECK_EQ_INT(parse(&o, &p, a7, err, sizeof(err)), 0);
	CHECK(p.help == 1);

	/* run's rule: options end at the first word of the command */
	struct fd_opt_table t = table(&o);
	char *a8[] = {"run", "--n", "3", "cmd", "--n", "4", NULL};
	p = (struct fd_opt_parser){.cmd = "run", .tables = &t, .n_tables = 1, .stop_at_word = 1};
	CHECK_EQ_INT(fd_opt_parse(&p, 6, a8, err, sizeof(err)), 0);
	CHECK_EQ_INT(p.optind, 3);
	CHECK_EQ_INT(o.n, 3);
	CHECK_STREQ(a8[p.optind], "cmd");
	/* ...and a second parse in the same process starts afresh (check, then --memfit) */
	char *a9[] = {"test", "stray", "--n", "5", NULL};
	CHECK_EQ_INT(parse(&o, &p, a9, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "unexpected argument 'stray'") != NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void config_file(void)
{
	struct topts o;
	struct fd_opt_parser p;
	char path[] = "/tmp/fd-opts-XXXXXX", err[600], want[600];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	write_file(path, "# comment\n\ndur = 1m  # inline\n  x=7\ns = from-file\n");

	/* a flag beats the file, before or after --config */
	fresh(&o);
	char *a1[] = {"test", "--dur", "2s", "--config", path, NULL};
	CHECK_EQ_INT(parse(&o, &p, a1, err, sizeof(err)), 0);
	CHECK(o.dur == 2000 && o.x == 7.0);
	CHECK_STREQ(o.s, "from-file");
	CHECK_STREQ(p.config, path);
	fd_opt_release(&p);
	fresh(&o);
	char *a2[] = {"test", "--config", path, "--dur", "2s", NULL};
	CHECK_EQ_INT(parse(&o, &p, a2, err, sizeof(err)), 0);
	CHECK(o.dur == 2000 && o.x == 7.0);
	fd_opt_release(&p);

	/* unknown keys, rows that are flags only, bad values and bad lines name FILE:LINE */
	write_file(path, "dur = 1m\n\nnope = 3\n");
	fresh(&o);
	char *a3[] = {"test", "--config", path, NULL};
	CHECK_EQ_INT(parse(&o, &p, a3, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s:3: unknown setting 'nope'", path);
	CHECK_STREQ(err, want);
	write_file(path, "not-a-key = 3\n");
	CHECK_EQ_INT(parse(&o, &p, a3, err, sizeof(err)), -ENOENT);
	write_file(path, "x = 0.5\n");
	CHECK_EQ_INT(parse(&o, &p, a3, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: x: invalid value '0.5' (out of range: 1 to 1000)",
		 path);
	CHECK_STREQ(err, want);
	write_file(path, "x 3\n");
	CHECK_EQ_INT(parse(&o, &p, a3, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: expected 'key = value'", path);
	CHECK(strstr(err, want) != NULL);
	unlink(path);
	CHECK_EQ_INT(parse(&o, &p, a3, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, path) != NULL);
	fd_opt_release(&p);
}

static char *show(struct topts *o)
{
	struct fd_opt_table t = table(o);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fd_opt_show(f, &t, 1);
	fclose(f);
	return text;
}

static void show_round_trip(void)
{
	struct topts a, b;
	struct fd_opt_parser p;
	char path[] = "/tmp/fd-opts-XXXXXX", err[600];
	char *first, *second;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	fresh(&a);
	CHECK_EQ_INT(set(&a, "dur", "90ms", err, sizeof(err)), 0);
	CHECK_EQ_INT(set(&a, "size", "unlimited", err, sizeof(err)), 0);
	CHECK_EQ_INT(set(&a, "x", "0.1", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(set(&a, "x", "1.2345678901234", err, sizeof(err)), 0);
	CHECK_EQ_INT(set(&a, "mode", "off", err, sizeof(err)), 0);
	CHECK_EQ_INT(set(&a, "list", "1,2,3", err, sizeof(err)), 0);
	a.flag = 1;
	first = show(&a);
	CHECK(first != NULL);
	if (!first)
		return;
	CHECK(strstr(first, "dur = 90ms\n") != NULL);
	CHECK(strstr(first, "size = unlimited\n") != NULL);
	CHECK(strstr(first, "gpus = auto\n") != NULL);
	CHECK(strstr(first, "s = \n") != NULL);
	CHECK(strstr(first, "not-a-key") == NULL);
	write_file(path, first);

	/* start from other values so that every line has to land */
	fresh(&b);
	set(&b, "s", "other", err, sizeof(err));
	set(&b, "gpus", "4", err, sizeof(err));
	char *argv[] = {"test", "--config", path, NULL};
	CHECK_EQ_INT(parse(&b, &p, argv, err, sizeof(err)), 0);
	second = show(&b);
	CHECK(second != NULL);
	if (second)
		CHECK_STREQ(second, first);
	CHECK(b.s == NULL && b.gpus == -1 && b.x == a.x && b.size == UINT64_MAX);
	fd_opt_release(&p);
	free(first);
	free(second);
	unlink(path);
}

static void help_text(void)
{
	struct topts o;
	struct fd_opt_table t = table(&o);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f != NULL);
	if (!f)
		return;
	fd_opt_help(f, &t, 1);
	fclose(f);
	CHECK(strstr(text, "\ntest:\n") != NULL);
	CHECK(strstr(text, "  --pos DUR ") != NULL && strstr(text, "positive [5m]\n") != NULL);
	CHECK(strstr(text, "  -q, --flag ") != NULL);
	CHECK(strstr(text, "a flag [") == NULL); /* a flag has no default to show */
	free(text);
}

const struct unit_test opts_tests[] = {
    {"opts: every type parses, one error wording", types},
    {"opts: bounds refuse, int64 ns durations", bounds},
    {"opts: argv, unknown options, missing values, '+'", argv_parsing},
    {"opts: config file, flags win, FILE:LINE", config_file},
    {"opts: --show-config reads back through --config", show_round_trip},
    {"opts: --help rows", help_text},
    {NULL, NULL},
};
