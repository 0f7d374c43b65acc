/*
 * cmd_check.c - `flightdeck check`: run the checks of the chosen level and areas, print the
 * report, exit 0 fit / 1 unfit / 2 usage / 3 could not run.
 *
 * Options come from two tables of the option layer (launcher/core/opts.h): check's own below, and
 * every tunable of config.c, which is a long option and a --config key of the same name. The
 * layer applies a --config file first and the command line after it, so a flag always wins.
 */
#define _GNU_SOURCE
#include "check.h"
#include "commands.h"
#include "config.h"
#include "job.h"
#include "report.h"
#include "termlog.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The options of `check` itself; the thresholds are config.c's rows. */
struct check_cli {
	struct fd_check_sel sel;
	int json, list, quiet, job;
	const char *prom, *node, *reason, *termlog;
};

static int set_only(const struct fd_opt *o, void *obj, const char *s, char *err, size_t len)
{
	struct check_cli *cli = obj;
	char buf[256], *save = NULL;

	if (fd_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, len, "only: invalid value '%.40s...' (too long)", s);
		return -EINVAL;
	}
	memset(cli->sel.areas, 0, sizeof(cli->sel.areas));
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum fd_area a;
		if (fd_area_parse(t, &a)) {
			snprintf(err, len,
				 "only: unknown area '%s' (areas: host, ib, gpu, bw, memfit)", t);
			return -EINVAL;
		}
		cli->sel.areas[a] = 1;
	}
	return 0;
}

static const char *const level_words[] = {"quick", "standard", "full", NULL};

#define CLI(f) offsetof(struct check_cli, f)

static const struct fd_opt check_rows[] = {
    {.name = "level",
     .metavar = "L",
     .help = "quick (every job start, a Slurm prolog or health check; ~1 s),\n"
	     "standard (adds gpubench: a node returning to service),\n"
	     "full (longer gpubench sweeps)",
     .type = FD_OPT_ENUM,
     .def = "standard",
     .off = CLI(sel.level),
     .words = level_words,
     .noun = "level",
     .flags = FD_OPT_ICASE},
    {.name = "only",
     .metavar = "AREAS",
     .help = "run only these areas: host, ib, gpu, bw, memfit",
     .type = FD_OPT_STRING,
     .set = set_only},
    {.name = "json",
     .help = "print one JSON document on stdout instead of the table",
     .type = FD_OPT_FLAG,
     .off = CLI(json)},
    {.name = "prom-file",
     .metavar = "P",
     .help = "also write a node_exporter textfile to P (atomically)",
     .type = FD_OPT_OUTPATH,
     .off = CLI(prom)},
    {.name = "reason-file",
     .metavar = "F",
     .help = "write the verdict as one drain reason to F: 'flightdeck: CODE[,CODE]\n"
	     "SUBJECT' when unfit, an empty file when fit (for scontrol's reason=;\n"
	     "a regular file only: not a link, not a FIFO; - or /dev/stdout: stdout)",
     .type = FD_OPT_OUTPATH,
     .off = CLI(reason)},
    {.name = "termination-log",
     .metavar = "F",
     .help = "at exit, the verdict, the node and the codes in at most 4096 bytes,\n"
	     "for Kubernetes' terminationMessagePath (an init container); none: off\n"
	     "[/dev/termination-log when it exists and is writable]",
     .type = FD_OPT_STRING,
     .off = CLI(termlog)},
    FD_OPT_CONFIG_ROW("thresholds", "below"),
    FD_OPT_NOCONFIG_ROW,
    {.name = "node",
     .metavar = "NAME",
     .help = "node name in the report (default: $FLIGHTDECK_NODE, $SLURMD_NODENAME, hostname)",
     .type = FD_OPT_STRING,
     .off = CLI(node)},
    {.name = "quiet",
     .short_name = 'q',
     .help = "show only warnings and failures in the table",
     .type = FD_OPT_FLAG,
     .off = CLI(quiet)},
    {.name = "list", .help = "list the checks and exit", .type = FD_OPT_FLAG, .off = CLI(list)},
    {.name = "job",
     .help = "judge the whole job, one check per node (srun --ntasks-per-node=1):\n"
	     "the verdicts go to node 0, which prints one table of every unfit\n"
	     "node and writes --exclude-file; every node exits 0 when all are fit,\n"
	     "69 when any is not, 75 when a node is lost (the group's flags below);\n"
	     "with area ib, then RDMA write between node pairs (ib.pairs), a slow\n"
	     "node or link named; with area bw, the NCCL allreduce across the nodes\n"
	     "(bw.world), the slowest node named by re-testing halves",
     .type = FD_OPT_FLAG,
     .off = CLI(job)},
    FD_OPT_SHOW_ROW("thresholds"),
    FD_OPT_HELP_ROW,
};

static void usage(FILE *out, const struct fd_opt_table *t, size_t n)
{
	fprintf(
	    out,
	    "usage: flightdeck check [--level quick|standard|full] [--only AREA[,AREA]] [--json]\n"
	    "                        [--prom-file PATH] [--config FILE] [-q] [THRESHOLDS...]\n"
	    "\n"
	    "Proves this node fit to run a training job.\n"
	    "\n");
	fd_opt_help(out, t, n);
	fprintf(
	    out,
	    "\nenvironment: FLIGHTDECK_SYSFS_ROOT, FLIGHTDECK_PROC_ROOT, FLIGHTDECK_KMSG "
	    "and\nFLIGHTDECK_NVML_LIB (seams for tests), NCCL_SOCKET_IFNAME and NCCL_IB_HCA\n(checked when set), "
	    "NO_COLOR.\n"
	    "\nexit status (flightdeck explain N says more):\n");
	fd_exit_print(out, "check");
}

static int check_dir(const char *flag, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		fd_err("--%s %s: %s", flag, path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		fd_err("--%s %s: not a directory", flag, path);
		return -ENOTDIR;
	}
	return 0;
}

/*
 * What is said besides the report, whatever the exit: the termination message, and for a
 * check that gave no verdict a --prom-file with NaN and the reason, so alerts see a broken
 * check instead of the last good result. Their own failure is one line on stderr; the exit
 * status stays.
 */
/*
 * A flag's value on the command line as given, for a parse that stopped before it (an unknown
 * flag or a bad value first): a usage error still reaches --prom-file and --termination-log.
 */
static const char *given(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, name, n))
			continue;
		if (argv[i][2 + n] == '=')
			return argv[i] + 3 + n;
		if (!argv[i][2 + n] && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

static void say_exit(struct check_cli *cli, const struct fd_report *rep, int ret, double t_wall,
		     int prom_tried, int argc, char **argv)
{
	const char *tl = fd_termlog_path(cli->termlog);
	char host[256], err[PATH_MAX + 128];
	struct fd_report_meta meta = {
	    .node = host, .level = fd_level_name(cli->sel.level), .timestamp = t_wall};

	if (ret == FD_EXIT_USAGE) {
		cli->prom = cli->prom ? cli->prom : given(argc, argv, "prom-file");
		cli->node = cli->node ? cli->node : given(argc, argv, "node");
		if (!cli->termlog && given(argc, argv, "termination-log"))
			tl = fd_termlog_path(given(argc, argv, "termination-log"));
	}
	fd_node_name(host, sizeof(host), cli->node);
	if (tl && fd_report_termination(tl, rep, &meta, ret, err, sizeof(err)))
		fd_err("%s", err);
	if (cli->prom && !prom_tried &&
	    (ret == FD_EXIT_USAGE || ret == FD_EXIT_CANT_RUN || ret > 128))
		fd_report_prom_error(cli->prom, &meta,
				     ret == FD_EXIT_USAGE      ? "usage"
				     : ret == FD_EXIT_CANT_RUN ? "could_not_run"
							       : "stopped",
				     err, sizeof(err));
}

/* The report on stdout and into the files asked for: 0, or FD_EXIT_CANT_RUN. */
static int render(const struct check_cli *cli, const struct fd_report *rep,
		  const struct fd_report_meta *meta)
{
	char err[PATH_MAX + 128];
	const char *nc = getenv("NO_COLOR");
	int ret = 0;

	if (cli->json) {
		char *doc = fd_report_json(rep, meta);

		if (!doc) {
			fd_err("check: out of memory rendering JSON");
			return FD_EXIT_CANT_RUN;
		}
		printf("%s\n", doc);
		free(doc);
	} else {
		fd_report_text(stdout, rep, meta, isatty(STDOUT_FILENO) && !(nc && *nc),
			       cli->quiet);
	}
	fflush(stdout);
	if (cli->prom && fd_report_prom(cli->prom, rep, meta, err, sizeof(err))) {
		fd_err("%s", err);
		ret = FD_EXIT_CANT_RUN;
	}
	if (cli->reason && fd_report_reason_file(cli->reason, rep, err, sizeof(err))) {
		fd_err("%s", err);
		ret = FD_EXIT_CANT_RUN;
	}
	return ret;
}

/* Before anything runs: the fact roots are directories, a --reason-file is no link or FIFO. */
static int inputs_ok(const struct check_cli *cli, const struct fd_config *cfg)
{
	char err[PATH_MAX + 128];

	if (check_dir("sysfs-root", cfg->sysfs_root) || check_dir("proc-root", cfg->proc_root))
		return 0;
	if (cfg->checkpoint_dir[0] && check_dir("checkpoint-dir", cfg->checkpoint_dir))
		return 0;
	if (cli->reason && fd_reason_path_check(cli->reason, err, sizeof(err))) {
		fd_err("%s", err);
		return 0;
	}
	return 1;
}

/* A probe's error as the exit status: out of memory 3, a signal 128+N, else the operator's. */
static int probe_failed(const struct fd_probe_ctx *ctx, int rc)
{
	fd_err("%s", ctx->err);
	if (rc == -ENOMEM)
		return FD_EXIT_CANT_RUN;
	return rc == -EINTR && ctx->signo ? FD_EXIT_SIGNAL_BASE + ctx->signo : FD_EXIT_USAGE;
}

/*
 * This node's checks, then with --job the job's verdict (the allreduce across nodes too) and
 * the checks judged on it: 0, or the exit status of a probe that failed. *job_ret: the job's.
 */
static int judge(const struct check_cli *cli, const struct fd_group_conf *gconf,
		 struct fd_probe_ctx *ctx, struct fd_job_facts *job, struct fd_report *rep,
		 int *job_ret)
{
	int rc;

	ctx->level = cli->sel.level;
	if ((rc = fd_checks_run(ctx, &cli->sel, 0, rep)))
		return probe_failed(ctx, rc);
	if (cli->job) {
		struct fd_job_world jw = {.cfg = ctx->cfg,
					  .want = fd_checks_want_job(&cli->sel, "bw.world"),
					  .want_pairs = fd_checks_want_job(&cli->sel, "ib.pairs"),
					  .full = cli->sel.level == FD_LEVEL_FULL};

		*job_ret = fd_job_check(gconf, rep, &jw, job);
		ctx->job = job;
	}
	if ((rc = fd_checks_run(ctx, &cli->sel, 1, rep)))
		return probe_failed(ctx, rc);
	return 0;
}

static void list_checks(void)
{
	for (size_t i = 0; i < fd_check_count(); i++) {
		const struct fd_check *k = fd_check_at(i);

		printf("%-12s %-6s %-8s %s\n", k->id, fd_area_name(k->area),
		       fd_level_name(k->level), k->summary);
	}
}

int cmd_check(int argc, char **argv)
{
	struct fd_config cfg;
	struct check_cli cli = {0};
	struct fd_report rep = {0};
	struct fd_probe_ctx ctx = {.cfg = &cfg};
	struct fd_job_facts job = {0};
	size_t ntun;
	const struct fd_opt *tun = fd_config_rows(&ntun);
	struct fd_group_flags gf = {0};
	struct fd_group_conf gconf = {0};
	struct fd_opt_table tables[] = {
	    {.rows = check_rows, .n = FD_ARRAY_SIZE(check_rows), .obj = &cli, .args_only = 1},
	    {.heading = "thresholds and fact roots (also --config keys; durations take s/m/h, "
			"sizes K/M/G or\nKiB/MiB/GiB):",
	     .rows = tun,
	     .n = ntun,
	     .obj = &cfg},
	    {.heading = "the node group, with --job (one flightdeck per node; node 0 gathers the "
			"verdicts):",
	     .rows = fd_group_rows,
	     .n = fd_group_nrows,
	     .obj = &gf},
	};
	struct fd_opt_parser p = {.cmd = "check",
				  .tables = tables,
				  .n_tables = FD_ARRAY_SIZE(tables),
				  .default_config = 1};
	int ret, rc, prom_tried = 0, job_ret = 0;
	char host[256];
	double t_wall = fd_wall_s();
	int64_t t0;

	for (int a = 0; a < FD_AREA_COUNT; a++)
		cli.sel.areas[a] = 1;
	fd_opt_defaults(tables, 1);
	fd_opt_defaults(tables + 2, 1);
	fd_config_init(&cfg);
	ret = fd_opt_main(&p, argc, argv, usage);
	if (ret >= 0)
		goto out;
	ret = FD_EXIT_USAGE; /* what a failure below exits with, unless it says otherwise */
	if (cli.list || p.show_config) {
		if (cli.list)
			list_checks();
		else
			fd_opt_show(stdout, tables, FD_ARRAY_SIZE(tables));
		ret = 0;
		goto out;
	}
	if ((cli.job || gf.print_group) && (rc = fd_group_resolve(&gf, &gconf))) {
		ret = rc > 0 ? 0 : FD_EXIT_USAGE;
		goto out;
	}
	gconf.spares = 0; /* check --job judges every agent: a spare must be fit too */
	if (!inputs_ok(&cli, &cfg))
		goto out;
	t0 = fd_mono_ns();
	if ((ret = judge(&cli, &gconf, &ctx, &job, &rep, &job_ret)))
		goto out;
	fd_node_name(host, sizeof(host), cli.node);
	struct fd_report_meta meta = {.node = host,
				      .level = fd_level_name(cli.sel.level),
				      .duration_ms = (fd_mono_ns() - t0) / 1000000,
				      .timestamp = t_wall};
	prom_tried = 1; /* a failed write is not retried as an error file */
	ret = render(&cli, &rep, &meta);
	if (!ret)
		ret = cli.job ? job_ret : fd_report_verdict(&rep) == FD_FAIL ? FD_EXIT_UNFIT : 0;
out:
	say_exit(&cli, &rep, ret, t_wall, prom_tried, argc, argv);
	fd_probe_ctx_release(&ctx);
	fd_report_free(&rep);
	fd_opt_release(&p);
	return ret;
}
