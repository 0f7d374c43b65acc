/*
 * opts.c - the option layer: one parser over argv built from the command's tables (the only
 * getopt_long in flightdeck), one config-file loader, one error wording, one --help renderer
 * and one --show-config printer (docs/architecture.md, "Options").
 *
 * Values are checked against the row's bounds before they are stored, so a command never
 * sees a duration the supervisor cannot turn into int64 nanoseconds.
 */
#define _GNU_SOURCE
#include "opts.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define HELP_COL 26 /* width of "--name METAVAR" in --help before the help text */

static int word_is(const struct fd_opt *o, const char *v, const char *w)
{
	return (o->flags & FD_OPT_ICASE) ? !strcasecmp(v, w) : !strcmp(v, w);
}

static int parse_gbps(const char *s, double *out)
{
	/* "400", "400G", "400Gb/s", "400 Gb/sec" (as sysfs prints it) */
	char *end;
	double v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	v = strtod(s, &end);
	while (*end == ' ')
		end++;
	if (*end && strcasecmp(end, "g") && strcasecmp(end, "gb/s") && strcasecmp(end, "gbps") &&
	    strcasecmp(end, "gb/sec"))
		return -EINVAL;
	if (!(v >= 0 && v < 1e6))
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	if (errno || *end || !isfinite(*out))
		return -EINVAL;
	return 0;
}

static int parse_uint64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* What a malformed value of each type should have looked like. */
static const char *examples(enum fd_opt_type t)
{
	switch (t) {
	case FD_OPT_DURATION:
		return "use seconds or a suffix: 90, 90s, 10m, 72h";
	case FD_OPT_SIZE:
		return "use bytes or a suffix: 512M, 8G, 64MiB, 1GiB";
	case FD_OPT_COUNT:
		return "use a count: 7e9, 7B, 70b";
	case FD_OPT_UINT:
	case FD_OPT_UINT64:
		return "use a whole number: 0, 2, 8";
	case FD_OPT_DOUBLE:
		return "use a number: 1, 2.5, 10";
	case FD_OPT_GBPS:
		return "use Gb/s: 400, 200G, 100Gb/s";
	case FD_OPT_INTLIST:
		return "use numbers separated by commas: 48,79,94";
	default:
		return "see --help";
	}
}

static void format_bound(const struct fd_opt *o, double v, char *out, size_t len)
{
	if (o->type == FD_OPT_DURATION)
		fd_opt_format_ms((int64_t)v, out, len);
	else
		snprintf(out, len, "%.15g", v);
}

static int out_of_range(const struct fd_opt *o, const char *v, char *err, size_t len)
{
	char lo[32], hi[32];
	/* the type's own ceiling is no news: say only the floor */
	int no_max = o->max >= 1e18 || (o->type == FD_OPT_UINT && o->max >= INT_MAX);

	format_bound(o, o->min, lo, sizeof(lo));
	format_bound(o, o->max, hi, sizeof(hi));
	if (no_max)
		snprintf(err, len, "%s: invalid value '%s' (out of range: at least %s)", o->name, v,
			 lo);
	else
		snprintf(err, len, "%s: invalid value '%s' (out of range: %s to %s)", o->name, v,
			 lo, hi);
	return -EINVAL;
}

static int store_enum(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len)
{
	char list[200] = "";
	size_t used = 0;

	for (int i = 0; o->words[i]; i++) {
		if (word_is(o, v, o->words[i])) {
			*(int *)((char *)obj + o->off) = o->base + i;
			return 0;
		}
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 o->words[i]);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	snprintf(err, len, "%s: unknown %s '%s' (%s)", o->name, o->noun ? o->noun : "value", v,
		 list);
	return -EINVAL;
}

int fd_opt_store(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len)
{
	char *p = (char *)obj + o->off;
	int64_t ms = 0, i64 = 0;
	uint64_t u64 = 0;
	double d = 0, num = 0;
	int i = 0, rc = 0;

	if (o->type == FD_OPT_FLAG) {
		/* no value on the command line; 0 or 1 in a config file, as --show-config prints */
		if (v && strcmp(v, "0") && strcmp(v, "1")) {
			snprintf(err, len, "%s: invalid value '%s' (use 0 or 1)", o->name, v);
			return -EINVAL;
		}
		*(int *)p = !v || !strcmp(v, "1");
		return 0;
	}
	if (!v)
		v = "";
	if (o->word && word_is(o, v, o->word)) {
		/* The special word ("none", "auto", ...) stands for word_val, bounds aside. */
		d = o->word_val;
		ms = i64 = fd_dbl_to_i64(d);
		u64 = d >= 1.8e19 ? UINT64_MAX : d > 0 ? (uint64_t)d : 0;
		i = d >= INT_MAX ? INT_MAX : d <= INT_MIN ? INT_MIN : (int)d;
		goto store;
	}
	switch (o->type) {
	case FD_OPT_DURATION:
		rc = fd_parse_duration_ms(v, &ms);
		num = (double)ms;
		break;
	case FD_OPT_SIZE:
		rc = fd_parse_size(v, &u64);
		num = (double)u64;
		break;
	case FD_OPT_COUNT:
		rc = fd_parse_count(v, &u64);
		num = (double)u64;
		break;
	case FD_OPT_UINT:
		rc = fd_parse_uint(v, &i);
		num = i;
		break;
	case FD_OPT_UINT64:
		rc = parse_uint64(v, &i64);
		num = (double)i64;
		break;
	case FD_OPT_DOUBLE:
		rc = parse_double(v, &d);
		num = d;
		break;
	case FD_OPT_GBPS:
		rc = parse_gbps(v, &d);
		num = d;
		break;
	case FD_OPT_STRING:
	case FD_OPT_OUTPATH:
		*(const char **)p = v;
		return 0;
	case FD_OPT_BUF:
		if (strlen(v) >= o->cap) { /* before the copy: a refused value stores nothing */
			snprintf(err, len, "%s: invalid value '%.60s...' (too long)", o->name, v);
			return -EINVAL;
		}
		fd_strlcpy(p, v, o->cap);
		return 0;
	case FD_OPT_ENUM:
		return store_enum(o, obj, v, err, len);
	case FD_OPT_INTLIST:
		if (fd_parse_int_list(v, (int *)p, o->cap, (size_t *)((char *)obj + o->off_n))) {
			snprintf(err, len, "%s: invalid value '%s' (%s)", o->name, v,
				 examples(o->type));
			return -EINVAL;
		}
		return 0;
	default: /* FLAG, CONFIG, SHOW, HELP: nothing to store here */
		return 0;
	}
	if (rc == -ERANGE)
		return out_of_range(o, v, err, len);
	if (rc) {
		snprintf(err, len, "%s: invalid value '%s' (%s)", o->name, v, examples(o->type));
		return -EINVAL;
	}
	if (num < o->min || num > o->max)
		return out_of_range(o, v, err, len);
store:
	switch (o->type) {
	case FD_OPT_DURATION:
		*(int64_t *)p = ms;
		break;
	case FD_OPT_SIZE:
	case FD_OPT_COUNT:
		*(uint64_t *)p = u64;
		break;
	case FD_OPT_UINT:
		*(int *)p = i;
		break;
	case FD_OPT_UINT64:
		*(int64_t *)p = i64;
		break;
	case FD_OPT_DOUBLE:
	case FD_OPT_GBPS:
		*(double *)p = d;
		break;
	default:
		break;
	}
	return 0;
}

/*
 * An output file in a directory that is not there is a typo: said before anything runs. Judged
 * on the final value, after the config file and the flags, so a flag that corrects the file's
 * path is not refused for the file's.
 */
static int outpaths_ok(const struct fd_opt_parser *p)
{
	for (size_t k = 0; k < p->n_tables; k++)
		for (size_t i = 0; i < p->tables[k].n; i++) {
			const struct fd_opt *o = &p->tables[k].rows[i];
			const char *v;
			char dir[PATH_MAX];
			struct stat st;

			if (o->type != FD_OPT_OUTPATH)
				continue;
			v = *(const char *const *)((const char *)p->tables[k].obj + o->off);
			if (!v)
				continue;
			fd_strlcpy(dir, v, sizeof(dir));
			if (stat(dirname(dir), &st)) {
				fd_err("--%s %s: directory %s: %s", o->name, v, dir,
				       strerror(errno));
				return 0;
			}
			if (!S_ISDIR(st.st_mode)) {
				fd_err("--%s %s: %s is not a directory", o->name, v, dir);
				return 0;
			}
		}
	return 1;
}

int fd_opt_main(struct fd_opt_parser *p, int argc, char **argv, fd_opt_usage_fn usage)
{
	char err[512];

	if (fd_opt_parse(p, argc, argv, err, sizeof(err))) {
		fd_err("%s: %s", p->cmd, err);
		return FD_EXIT_USAGE;
	}
	if (p->help) {
		usage(stdout, p->tables, p->n_tables);
		return 0;
	}
	if (!p->show_config && !outpaths_ok(p))
		return FD_EXIT_USAGE;
	return -1;
}

int fd_opt_set(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len)
{
	return o->set ? o->set(o, obj, v, err, len) : fd_opt_store(o, obj, v, err, len);
}

void fd_opt_defaults(const struct fd_opt_table *t, size_t n_tables)
{
	char err[256];

	/* Defaults are ours and tests/unit/test_opts.c parses every one: no error to report. */
	for (size_t k = 0; k < n_tables; k++)
		for (size_t i = 0; i < t[k].n; i++)
			if (t[k].rows[i].def)
				fd_opt_set(&t[k].rows[i], t[k].obj, t[k].rows[i].def, err,
					   sizeof(err));
}

int fd_opt_is_key(const struct fd_opt_table *t, const struct fd_opt *o)
{
	return !t->args_only && !(o->flags & FD_OPT_NOKEY) && o->type != FD_OPT_CONFIG &&
	       o->type != FD_OPT_SHOW && o->type != FD_OPT_NOCONFIG && o->type != FD_OPT_HELP;
}

/* The key row of that name, in any of the parser's tables; NULL when there is none. */
static const struct fd_opt *find_key(const struct fd_opt_parser *p, const char *name, void **obj)
{
	for (size_t k = 0; k < p->n_tables; k++)
		for (size_t i = 0; i < p->tables[k].n; i++)
			if (!strcmp(p->tables[k].rows[i].name, name) &&
			    fd_opt_is_key(&p->tables[k], &p->tables[k].rows[i])) {
				*obj = p->tables[k].obj;
				return &p->tables[k].rows[i];
			}
	return NULL;
}

const struct fd_opt *fd_opt_find(const struct fd_opt_table *t, size_t n_tables, const char *name,
				 void **obj)
{
	for (size_t k = 0; k < n_tables; k++)
		for (size_t i = 0; i < t[k].n; i++)
			if (!strcmp(t[k].rows[i].name, name)) {
				if (obj)
					*obj = t[k].obj;
				return &t[k].rows[i];
			}
	return NULL;
}

/* --- the config file --------------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A STRING row points into the file's text: keep a copy as long as the parser lives. */
static const char *keep(struct fd_opt_parser *p, const char *s)
{
	char **grown = realloc(p->owned, (p->n_owned + 1) * sizeof(*grown));
	char *copy = strdup(s);

	if (!grown || !copy) {
		free(copy);
		if (grown)
			p->owned = grown;
		return NULL;
	}
	p->owned = grown;
	p->owned[p->n_owned++] = copy;
	return copy;
}

static int load_line(struct fd_opt_parser *p, char *l, char *msg, size_t len)
{
	const struct fd_opt *o;
	char *eq = strchr(l, '=');
	const char *v;
	void *obj;

	if (!eq) {
		snprintf(msg, len, "expected 'key = value', got '%.60s'", l);
		return -EINVAL;
	}
	*eq = '\0';
	l = trim(l);
	v = trim(eq + 1);
	o = find_key(p, l, &obj);
	if (!o) {
		snprintf(msg, len, "unknown setting '%s'", l);
		return -ENOENT;
	}
	if (o->type == FD_OPT_STRING || o->type == FD_OPT_OUTPATH) {
		/* empty is "not given", as --show-config prints an unset string */
		if (!*v) {
			*(const char **)((char *)obj + o->off) = NULL;
			return 0;
		}
		v = keep(p, v);
		if (!v) {
			snprintf(msg, len, "out of memory");
			return -ENOMEM;
		}
	}
	return fd_opt_set(o, obj, v, msg, len);
}

/*
 * One file serves check and run, whose keys differ: "[check]" and "[run]" start the lines
 * of one command (docs/architecture.md, "Options"). Any other section is a typo, not a
 * silently skipped block.
 */
static const char *const sections[] = {"check", "run"};

static int section(const struct fd_opt_parser *p, char *l, int *mine, char *msg, size_t len)
{
	char *end = strchr(l, ']');

	if (!end || *trim(end + 1)) {
		snprintf(msg, len, "expected '[section]', got '%.60s'", l);
		return -EINVAL;
	}
	*end = '\0';
	l = trim(l + 1);
	for (size_t i = 0; i < FD_ARRAY_SIZE(sections); i++)
		if (!strcmp(l, sections[i])) {
			*mine = !strcmp(l, p->cmd);
			return 0;
		}
	snprintf(msg, len, "unknown section '[%.40s]' (sections: [check], [run])", l);
	return -EINVAL;
}

int fd_opt_load(struct fd_opt_parser *p, const char *path, char *err, size_t len)
{
	char *text = NULL, *next = NULL, *line;
	char msg[512];
	int lineno = 0, rc;

	int mine = 1; /* lines before any [section] are every command's */

	rc = fd_read_all(path, &text, NULL);
	if (rc) {
		snprintf(err, len, "--config %s: %s", path, strerror(-rc));
		return rc;
	}
	/* strtok_r would merge empty lines and break the line numbers: split by hand. */
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line);
		if (!*l)
			continue;
		if (*l == '[') {
			rc = section(p, l, &mine, msg, sizeof(msg));
			if (rc) {
				snprintf(err, len, "%s:%d: %s", path, lineno, msg);
				goto out;
			}
			continue;
		}
		if (!mine)
			continue; /* another command's key: that command checks it */
		rc = load_line(p, l, msg, sizeof(msg));
		if (rc) {
			snprintf(err, len, "%s:%d: %s", path, lineno, msg);
			goto out;
		}
	}
	rc = 0;
out:
	free(text);
	return rc;
}

/* --- argv ---------------------------------------------------------------------------- */

struct ref {
	const struct fd_opt *o;
	void *obj;
};

/* a flag seen on the command line, applied after the config file */
struct pending {
	const struct fd_opt *o;
	void *obj;
	const char *v;
};

static int takes_value(const struct fd_opt *o)
{
	return o->type != FD_OPT_FLAG && o->type != FD_OPT_SHOW && o->type != FD_OPT_HELP &&
	       o->type != FD_OPT_NOCONFIG;
}

int fd_opt_parse(struct fd_opt_parser *p, int argc, char **argv, char *err, size_t len)
{
	struct option *lo = NULL;
	struct ref *refs = NULL;
	struct pending *pend = NULL;
	char *shorts = NULL, msg[512];
	size_t nrows = 0, k = 0, npend = 0, ns = 0;
	int c, rc = -EINVAL, have_help = 0;

	p->help = p->show_config = p->no_config = 0;
	p->config = NULL;
	for (size_t t = 0; t < p->n_tables; t++)
		nrows += p->tables[t].n;
	lo = calloc(nrows + 2, sizeof(*lo));
	refs = calloc(nrows + 1, sizeof(*refs));
	pend = calloc((size_t)argc + 1, sizeof(*pend));
	shorts = calloc(2 * nrows + 8, 1);
	if (!lo || !refs || !pend || !shorts) {
		snprintf(err, len, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	/* '+': options end at the first word of the command, even without "--". */
	if (p->stop_at_word)
		shorts[ns++] = '+';
	shorts[ns++] = ':';
	for (size_t t = 0; t < p->n_tables; t++) {
		for (size_t i = 0; i < p->tables[t].n; i++, k++) {
			const struct fd_opt *o = &p->tables[t].rows[i];

			refs[k] = (struct ref){o, p->tables[t].obj};
			lo[k] = (struct option){o->name,
						takes_value(o) ? required_argument : no_argument,
						NULL, 256 + (int)k};
			have_help |= !strcmp(o->name, "help");
			if (o->short_name) {
				shorts[ns++] = (char)o->short_name;
				if (takes_value(o))
					shorts[ns++] = ':';
			}
		}
	}
	/* -h and --help work for every command, listed in its table or not */
	if (!have_help)
		lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
	if (!strchr(shorts + 1, 'h'))
		shorts[ns++] = 'h';

	opterr = 0;
	optind = 0; /* 0, not 1: glibc then forgets a previous scan's '+' */
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct ref *r = NULL;

		if (c == ':') {
			snprintf(err, len, "option '%s' needs a value", argv[optind - 1]);
			goto out;
		}
		if (c == '?') {
			const char *a = argv[optind - 1];

			if (optopt && optopt < 256 && strncmp(a, "--", 2))
				snprintf(err, len,
					 "unknown option '-%c' (see flightdeck %s --help)", optopt,
					 p->cmd);
			else
				snprintf(err, len, "unknown option '%s' (see flightdeck %s --help)",
					 a, p->cmd);
			goto out;
		}
		if (c >= 256) {
			r = &refs[c - 256];
		} else {
			for (size_t j = 0; j < nrows && !r; j++)
				if (refs[j].o->short_name == c)
					r = &refs[j];
		}
		if (!r || r->o->type == FD_OPT_HELP) {
			p->help = 1;
			rc = 0;
			goto out;
		}
		if (r->o->type == FD_OPT_CONFIG)
			p->config = optarg;
		else if (r->o->type == FD_OPT_SHOW)
			p->show_config = 1;
		else if (r->o->type == FD_OPT_NOCONFIG)
			p->no_config = 1;
		else
			pend[npend++] = (struct pending){r->o, r->obj, optarg};
	}
	p->optind = optind;
	if (!p->stop_at_word && optind < argc) {
		snprintf(err, len, "unexpected argument '%s' (see flightdeck %s --help)",
			 argv[optind], p->cmd);
		goto out;
	}
	if (!p->config && p->default_config && !p->no_config) {
		const char *env = getenv("FLIGHTDECK_CONFIG");
		const char *def = env && *env ? env : FD_OPT_DEFAULT_CONFIG;

		/* absent is the usual case, not an error; present but unreadable is */
		if (access(def, F_OK) == 0 || errno != ENOENT)
			p->config = def;
	}
	if (p->config) {
		rc = fd_opt_load(p, p->config, err, len);
		if (rc)
			goto out;
	}
	/* the flags after the file, whatever their order: a flag always wins */
	for (size_t j = 0; j < npend; j++) {
		rc = fd_opt_set(pend[j].o, pend[j].obj, pend[j].v, msg, sizeof(msg));
		if (rc) {
			snprintf(err, len, "--%s", msg);
			goto out;
		}
	}
	rc = 0;
out:
	free(lo);
	free(refs);
	free(pend);
	free(shorts);
	return rc;
}

void fd_opt_release(struct fd_opt_parser *p)
{
	for (size_t i = 0; i < p->n_owned; i++)
		free(p->owned[i]);
	free(p->owned);
	p->owned = NULL;
	p->n_owned = 0;
}

/* --- printing -------------------------------------------------------------------------- */

void fd_opt_format_ms(int64_t ms, char *out, size_t len)
{
	long long v = ms;

	if (v && v % 3600000 == 0)
		snprintf(out, len, "%lldh", v / 3600000);
	else if (v && v % 60000 == 0)
		snprintf(out, len, "%lldm", v / 60000);
	else if (v % 1000 == 0)
		snprintf(out, len, "%llds", v / 1000);
	else
		snprintf(out, len, "%lldms", v);
}

static void format_double(double v, char *out, size_t len)
{
	/* %g reads well; fall back to all digits when it would not read back the same */
	snprintf(out, len, "%g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, len, "%.17g", v);
}

void fd_opt_format(const struct fd_opt *o, const void *obj, char *out, size_t len)
{
	const char *p = (const char *)obj + o->off;
	double num = 0;

	if (o->fmt) {
		o->fmt(o, obj, out, len);
		return;
	}
	switch (o->type) {
	case FD_OPT_DURATION:
		num = (double)*(const int64_t *)p;
		break;
	case FD_OPT_SIZE:
	case FD_OPT_COUNT:
		num = *(const uint64_t *)p == UINT64_MAX ? 1.8446744073709552e19
							 : (double)*(const uint64_t *)p;
		break;
	case FD_OPT_UINT:
	case FD_OPT_FLAG:
		num = *(const int *)p;
		break;
	case FD_OPT_UINT64:
		num = (double)*(const int64_t *)p;
		break;
	case FD_OPT_DOUBLE:
	case FD_OPT_GBPS:
		num = *(const double *)p;
		break;
	default:
		break;
	}
	if (o->word && num == o->word_val) {
		snprintf(out, len, "%s", o->word);
		return;
	}
	switch (o->type) {
	case FD_OPT_DURATION:
		fd_opt_format_ms(*(const int64_t *)p, out, len);
		break;
	case FD_OPT_SIZE:
	case FD_OPT_COUNT:
		snprintf(out, len, "%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	case FD_OPT_UINT:
	case FD_OPT_FLAG:
		snprintf(out, len, "%d", *(const int *)p);
		break;
	case FD_OPT_UINT64:
		snprintf(out, len, "%lld", (long long)*(const int64_t *)p);
		break;
	case FD_OPT_DOUBLE:
	case FD_OPT_GBPS:
		format_double(*(const double *)p, out, len);
		break;
	case FD_OPT_STRING:
	case FD_OPT_OUTPATH:
		snprintf(out, len, "%s", *(const char *const *)p ? *(const char *const *)p : "");
		break;
	case FD_OPT_BUF:
		snprintf(out, len, "%s", p);
		break;
	case FD_OPT_ENUM: {
		int v = *(const int *)p - o->base, i;

		for (i = 0; o->words[i] && i != v; i++)
			;
		snprintf(out, len, "%s", o->words[i] ? o->words[i] : "?");
		break;
	}
	case FD_OPT_INTLIST: {
		const int *v = (const int *)p;
		size_t n = *(const size_t *)((const char *)obj + o->off_n), off = 0;

		out[0] = '\0';
		for (size_t k = 0; k < n && off < len; k++)
			off += (size_t)snprintf(out + off, len - off, "%s%d", k ? "," : "", v[k]);
		break;
	}
	default:
		out[0] = '\0';
		break;
	}
}

static void help_row(FILE *out, const struct fd_opt *o)
{
	char left[96];
	const char *h = o->help ? o->help : "", *nl;
	int n;

	if (o->short_name)
		n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->name);
	else
		n = snprintf(left, sizeof(left), "--%s", o->name);
	if (o->metavar && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->metavar);
	/* two blanks at least, so that a script can split "--name METAVAR" from the help */
	fprintf(out, "  %-*s  ", HELP_COL - 1, left);
	while ((nl = strchr(h, '\n'))) {
		fprintf(out, "%.*s\n%*s", (int)(nl - h), h, HELP_COL + 3, "");
		h = nl + 1;
	}
	fputs(h, out);
	if (o->def && *o->def && !(o->flags & FD_OPT_NODEF) && takes_value(o))
		fprintf(out, " [%s]", o->def);
	fputc('\n', out);
}

void fd_opt_help(FILE *out, const struct fd_opt_table *t, size_t n_tables)
{
	for (size_t k = 0; k < n_tables; k++) {
		if (t[k].heading)
			fprintf(out, "\n%s\n", t[k].heading);
		for (size_t i = 0; i < t[k].n; i++)
			help_row(out, &t[k].rows[i]);
	}
}

void fd_opt_show(FILE *out, const struct fd_opt_table *t, size_t n_tables)
{
	char v[1024];

	for (size_t k = 0; k < n_tables; k++)
		for (size_t i = 0; i < t[k].n; i++) {
			if (!fd_opt_is_key(&t[k], &t[k].rows[i]))
				continue;
			fd_opt_format(&t[k].rows[i], t[k].obj, v, sizeof(v));
			fprintf(out, "%s = %s\n", t[k].rows[i].name, v);
		}
}
