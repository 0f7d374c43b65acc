/*
 * opts.h - one typed option table for every command: the command line, the --config file,
 * --help and --show-config all read the same rows (docs/architecture.md, "Options").
 *
 * Modelled on redis' config.c: a row says the option's name, its type, its default as text,
 * its bounds and where its value lives (an offset into the command's options struct, or a
 * setter hook), so adding an option is one row, not four edits that drift apart.
 */
#ifndef FD_OPTS_H
#define FD_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fd_opt_type {
	FD_OPT_FLAG,	 /* no value: int set to 1 */
	FD_OPT_DURATION, /* int64_t milliseconds (fd_parse_duration_ms) */
	FD_OPT_SIZE,	 /* uint64_t bytes (fd_parse_size) */
	FD_OPT_COUNT,	 /* uint64_t (fd_parse_count: 7e9, 7B) */
	FD_OPT_UINT,	 /* int, a plain non-negative decimal */
	FD_OPT_UINT64,	 /* int64_t, a plain non-negative decimal */
	FD_OPT_DOUBLE,	 /* double, a plain decimal number */
	FD_OPT_GBPS,	 /* double, "400", "200G", "100 Gb/s" */
	FD_OPT_STRING,	 /* const char *; NULL = not given */
	FD_OPT_OUTPATH,	 /* const char *, a file to write: its directory must exist */
	FD_OPT_BUF,	 /* char[cap], copied */
	FD_OPT_ENUM,	 /* int: words[i] stands for base + i */
	FD_OPT_INTLIST,	 /* int[cap] with a size_t count at off_n: "48,63,79" */
	FD_OPT_CONFIG,	 /* --config FILE: read by the parser itself (no off) */
	FD_OPT_SHOW,	 /* --show-config: sets fd_opt_parser.show_config */
	FD_OPT_NOCONFIG, /* --no-config: the default config file is not read */
	FD_OPT_HELP,	 /* -h, --help: sets fd_opt_parser.help (accepted even without a row) */
};

/* fd_opt.flags */
#define FD_OPT_NOKEY 0x1 /* the command line only: not a key of the --config file */
#define FD_OPT_ICASE 0x2 /* words (enum words, the special word) match in any case */
#define FD_OPT_NODEF 0x4 /* --help shows no [default]: the help line says it */

/*
 * The longest duration any option takes, in ms: the supervisor multiplies ms by 1e6 into
 * int64 nanoseconds (at most 9.2e18), and a whole number of hours reads better in an error.
 */
#define FD_OPT_MS_MAX (2562047.0 * 3600000.0)

struct fd_opt;
typedef int (*fd_opt_set_fn)(const struct fd_opt *o, void *obj, const char *v, char *err,
			     size_t len);
typedef void (*fd_opt_fmt_fn)(const struct fd_opt *o, const void *obj, char *out, size_t len);

struct fd_opt {
	const char *name;    /* the long option and the config key */
	int short_name;	     /* 'q', or 0 */
	const char *metavar; /* --help: DUR, SIZE, N; NULL for flags */
	const char *help;    /* --help: one line; '\n' continues it, indented */
	enum fd_opt_type type;
	const char *def;  /* the default as text, applied by fd_opt_defaults; NULL: none */
	double min, max;  /* numeric types: accepted range, in the type's unit (ms, bytes) */
	size_t off;	  /* offsetof the value in the table's struct */
	size_t off_n;	  /* FD_OPT_INTLIST: offsetof its size_t count */
	size_t cap;	  /* FD_OPT_BUF: bytes; FD_OPT_INTLIST: entries */
	const char *word; /* a word a numeric option takes besides numbers: none, auto */
	double word_val;  /* ...and the value it stands for */
	const char *const *words; /* FD_OPT_ENUM: NULL-terminated */
	int base;		  /* FD_OPT_ENUM: the value of words[0] */
	const char *noun;	  /* FD_OPT_ENUM errors: "unknown NOUN 'x'"; NULL: "value" */
	fd_opt_set_fn set;	  /* special cases: replaces the type's store */
	fd_opt_fmt_fn fmt;	  /* special cases: replaces the type's printer */
	unsigned flags;		  /* FD_OPT_NOKEY, FD_OPT_ICASE, FD_OPT_NODEF */
};

/* Rows that store into one struct, and the --help section they form. */
struct fd_opt_table {
	const char *heading; /* printed before the rows ("detection:"); may hold prose lines */
	const struct fd_opt *rows;
	size_t n;
	void *obj;     /* the struct the rows' offsets point into */
	int args_only; /* the command's own flags: no row is a --config key */
};

/*
 * A row is a key of the --config file, under its flag's name, unless its table is args_only,
 * the row is FD_OPT_NOKEY, or it is one of the parser's own (--config, --show-config,
 * --no-config, --help).
 */
int fd_opt_is_key(const struct fd_opt_table *t, const struct fd_opt *o);

/*
 * The rows every command with a config file shares. WHAT is what the file holds ("options",
 * "thresholds"), WHERE where --help lists their names ("above", "below").
 */
#define FD_OPT_CONFIG_ROW(what, where)                                                             \
	{                                                                                          \
		.name = "config", .metavar = "FILE",                                               \
		.help = "read " what " as 'name = value' lines (names as " where ");\n"            \
			"flags override the file [default: $FLIGHTDECK_CONFIG or\n"                \
			"/etc/flightdeck/flightdeck.conf, when present]",                          \
		.type = FD_OPT_CONFIG                                                              \
	}
#define FD_OPT_NOCONFIG_ROW                                                                        \
	{                                                                                          \
		.name = "no-config", .help = "do not read the default config file",                \
		.type = FD_OPT_NOCONFIG                                                            \
	}
#define FD_OPT_SHOW_ROW(what)                                                                      \
	{                                                                                          \
		.name = "show-config",                                                             \
		.help = "print the effective " what " as a config file and exit",                  \
		.type = FD_OPT_SHOW                                                                \
	}
#define FD_OPT_HELP_ROW                                                                            \
	{                                                                                          \
		.name = "help", .short_name = 'h', .help = "this text", .type = FD_OPT_HELP        \
	}

struct fd_opt_parser {
	const char *cmd; /* "run": names the command in "see flightdeck run --help" */
	const struct fd_opt_table *tables;
	size_t n_tables;
	int stop_at_word; /* options end at the first non-option (run's COMMAND) */
	/*
	 * 1: without --config, the default file is read when it exists: $FLIGHTDECK_CONFIG, else
	 * FD_OPT_DEFAULT_CONFIG; --no-config skips it. A missing default is no error; one that
	 * exists but cannot be read or parsed is (as an explicit --config).
	 */
	int default_config;

	/* results */
	int help, show_config;
	const char *config; /* --config FILE (or the default file read), already applied */
	int no_config;	    /* --no-config */
	int optind;	    /* the first argument that is not an option */

	/* private: strings of a config file that STRING rows point into */
	char **owned;
	size_t n_owned;
};

/* Where admins look; FLIGHTDECK_CONFIG overrides it (tests, other layouts). */
#define FD_OPT_DEFAULT_CONFIG "/etc/flightdeck/flightdeck.conf"

/* Sets every row that has a default; the rest of the struct is the caller's. */
void fd_opt_defaults(const struct fd_opt_table *t, size_t n_tables);

/*
 * Parses argv (argv[0] is the command). The --config file, when a FD_OPT_CONFIG row gave
 * one, is applied first and the flags after it, so a flag wins whatever the order. Stops
 * early with p->help set on -h/--help. Returns 0, or -EINVAL with one line in err that
 * names the option or FILE:LINE (without the command's name: the caller prefixes it).
 */
int fd_opt_parse(struct fd_opt_parser *p, int argc, char **argv, char *err, size_t len);

/* A command's usage text: its own paragraphs, then fd_opt_help over its tables. */
typedef void (*fd_opt_usage_fn)(FILE *out, const struct fd_opt_table *t, size_t n_tables);

/*
 * The start every command shares: fd_opt_parse; a bad option is said as "CMD: ..." on stderr
 * and gives 2 (usage); --help prints usage on stdout and gives 0; -1 means go on. The caller
 * still owes fd_opt_release.
 */
int fd_opt_main(struct fd_opt_parser *p, int argc, char **argv, fd_opt_usage_fn usage);

/* Frees what a parse kept (config-file strings): after the last use of the struct. */
void fd_opt_release(struct fd_opt_parser *p);

/* Reads `key = value` lines ('#' comments) into the rows that are keys (fd_opt_is_key); "FILE:LINE: ..." errors,
 * -ENOENT "unknown setting 'k'" for a key no row has. */
int fd_opt_load(struct fd_opt_parser *p, const char *path, char *err, size_t len);

/* Sets one row from text, bounds included; err names --NAME (or NAME for a file key). */
int fd_opt_set(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len);

/* The type's own store, for a setter hook that handles a special word and then delegates. */
int fd_opt_store(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len);

/* The row named name and, in *obj, its table's struct; NULL if none. */
const struct fd_opt *fd_opt_find(const struct fd_opt_table *t, size_t n_tables, const char *name,
				 void **obj);

/* A row's current value as text, as a config file would hold it. */
void fd_opt_format(const struct fd_opt *o, const void *obj, char *out, size_t len);

/* "12h", "10m", "90s", "250ms": the largest unit that is exact. */
void fd_opt_format_ms(int64_t ms, char *out, size_t len);

/* --help: each table's heading, then one line per row: option, metavar, help, [default]. */
void fd_opt_help(FILE *out, const struct fd_opt_table *t, size_t n_tables);

/* --show-config: "name = value" for every key row (fd_opt_is_key), readable back by --config. */
void fd_opt_show(FILE *out, const struct fd_opt_table *t, size_t n_tables);

#endif
