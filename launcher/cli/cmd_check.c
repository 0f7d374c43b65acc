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
#include "group_cli.h"
#include "config.h"
#include "kmsg.h"
#include "report.h"
#include "termlog.h"
#include "util.h"
#include "world.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The options of `check` itself; the thresholds are config.c's rows. */
struct check_cli {
	int level; /* enum fd_level */
	int areas[FD_AREA_COUNT];
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
	memset(cli->areas, 0, sizeof(cli->areas));
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum fd_area a;
		if (fd_area_parse(t, &a)) {
			snprintf(err, len,
				 "only: unknown area '%s' (areas: host, ib, gpu, bw, memfit)", t);
			return -EINVAL;
		}
		cli->areas[a] = 1;
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
     .off = CLI(level),
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
     .type = FD_OPT_STRING,
     .off = CLI(prom)},
    {.name = "reason-file",
     .metavar = "F",
     .help = "write the verdict as one drain reason to F: 'flightdeck: CODE[,CODE]\n"
	     "SUBJECT' when unfit, an empty file when fit (for scontrol's reason=;\n"
	     "a regular file only: not a link, not a FIFO)",
     .type = FD_OPT_STRING,
     .off = CLI(reason)},
    {.name = "termination-log",
     .metavar = "F",
     .help = "at exit, the verdict, the node and the codes in at most 4096 bytes,\n"
	     "for Kubernetes' terminationMessagePath (an init container); none: off\n"
	     "[/dev/termination-log when it exists and is writable]",
     .type = FD_OPT_STRING,
     .off = CLI(termlog)},
    {.name = "config",
     .metavar = "FILE",
     .help = "read thresholds as 'name = value' lines (names as below)\n"
	     "[default: $FLIGHTDECK_CONFIG or /etc/flightdeck/flightdeck.conf,\n"
	     "when present]",
     .type = FD_OPT_CONFIG},
    {.name = "no-config", .help = "do not read the default config file", .type = FD_OPT_NOCONFIG},
    {.name = "node",
     .metavar = "NAME",
     .help = "node name in the report (default: $SLURMD_NODENAME, hostname)",
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
	     "with area bw, then the NCCL allreduce across the nodes (bw.world),\n"
	     "the slowest node named by re-testing halves",
     .type = FD_OPT_FLAG,
     .off = CLI(job)},
    {.name = "show-config",
     .help = "print the effective thresholds as a config file and exit",
     .type = FD_OPT_SHOW},
    {.name = "help", .short_name = 'h', .help = "this text", .type = FD_OPT_HELP},
};

static void usage(FILE *out, const struct fd_opt_table *t, size_t n)
{
	fprintf(
	    out,
	    "usage: flightdeck check [--level quick|standard|full] [--only AREA[,AREA]] [--json]\n"
	    "                        [--prom-file PATH] [--config FILE] [-q] [THRESHOLDS...]\n"
	    "\n"
	    "Proves this node fit to run a training job. Exit status: 0 fit (warnings allowed),\n"
	    "1 unfit (a check failed), 2 usage or configuration error, 3 could not run.\n"
	    "\n");
	fd_opt_help(out, t, n);
	fprintf(
	    out,
	    "\nenvironment: FLIGHTDECK_SYSFS_ROOT, FLIGHTDECK_PROC_ROOT, FLIGHTDECK_KMSG "
	    "and\nFLIGHTDECK_NVML_LIB (seams for tests), NCCL_SOCKET_IFNAME and NCCL_IB_HCA\n(checked when set), "
	    "NO_COLOR.\n");
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
 * A check that gave no verdict still rewrites --prom-file (NaN and the reason), so alerts see
 * a broken check instead of the last good result. Its own failure adds no second line: the
 * one that explains the exit is already on stderr.
 */
static void prom_no_verdict(const struct check_cli *cli, double t_wall, int ret)
{
	char host[256], err[1024];
	const char *reason = ret == FD_EXIT_USAGE      ? "usage"
			     : ret == FD_EXIT_CANT_RUN ? "could_not_run"
						       : "stopped";
	struct fd_report_meta meta = {
	    .node = host, .level = fd_level_name((enum fd_level)cli->level), .timestamp = t_wall};

	fd_node_name(host, sizeof(host), cli->node);
	fd_report_prom_error(cli->prom, &meta, reason, err, sizeof(err));
}

/*
 * --reason-file: the verdict in the one line a Slurm drain reason holds (scripts/slurm/ reads
 * it). Written in place, never through a link (the prolog runs as root in a directory others
 * may write) and never into a FIFO, which would block without a reader.
 */
static int write_reason(const char *path, const struct fd_report *rep)
{
	char line[200] = "";
	size_t n = 0;
	struct stat st;
	int fd, r = 0;

	if (fd_report_verdict(rep) == FD_FAIL) {
		n = (size_t)snprintf(line, sizeof(line), "flightdeck: ");
		n += fd_report_reason(rep, line + n, sizeof(line) - n - 1);
		line[n++] = '\n';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		fd_err("--reason-file %s: %s", path,
		       errno == ELOOP	? "a symbolic link (refused)"
		       : errno == ENXIO ? "a FIFO (refused)"
					: strerror(errno));
		return r;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fd_err("--reason-file %s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (ftruncate(fd, 0) || write(fd, line, n) != (ssize_t)n) { /* a regular file: whole */
		r = -errno;
		fd_err("--reason-file %s: %s", path, strerror(errno));
	}
	if (close(fd) && !r) {
		r = -errno;
		fd_err("--reason-file %s: %s", path, strerror(errno));
	}
	return r;
}

/* The termination message (--termination-log): the exit and what it means, the node, the
 * codes of an unfit node. Its own failure is one line on stderr; the exit code stays. */
static void termination_message(const struct check_cli *cli, const struct fd_report *rep, int ret)
{
	const char *path = fd_termlog_path(cli->termlog);
	const char *what = ret == FD_EXIT_FIT	     ? "fit"
			   : ret == FD_EXIT_UNFIT    ? "unfit"
			   : ret == FD_EXIT_USAGE    ? "usage or configuration error"
			   : ret == FD_EXIT_CANT_RUN ? "could not run"
			   : ret == 69 /* --job */   ? "a node of the job is unfit"
			   : ret == 75		     ? "a node of the job was lost"
						     : "stopped by a signal";
	char msg[FD_TERMLOG_MAX], host[256], codes[200], err[PATH_MAX + 128];
	int n;

	if (!path)
		return;
	fd_node_name(host, sizeof(host), cli->node);
	n = snprintf(msg, sizeof(msg), "flightdeck check: exit %d (%s)\nnode: %s\nlevel: %s\n", ret,
		     what, host, fd_level_name((enum fd_level)cli->level));
	if (fd_report_reason(rep, codes, sizeof(codes)) && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, "codes: %s\n", codes);
	if (fd_termlog_write(path, msg, err, sizeof(err)))
		fd_err("%s", err);
}

/*
 * --job: this node's failures, one "check code subject" line each, to the whole job; then, when
 * every node is fit and area bw runs at this level (node 0's say), the allreduce across the
 * nodes, whose bw.world finding joins this node's report before it is printed.
 */
static int job_verdict(const struct fd_group_conf *conf, struct fd_report *rep,
		       const struct fd_config *cfg, const struct check_cli *cli)
{
	char detail[FD_DETAIL_MAX] = "";
	size_t k = 0;
	const struct fd_check *world = NULL;
	struct fd_job_world jw = {.cfg = cfg, .full = cli->level == FD_LEVEL_FULL};
	struct fd_world_msg f;
	int ret;

	for (size_t i = 0; i < fd_check_count(); i++)
		if (!strcmp(fd_check_at(i)->id, "bw.world"))
			world = fd_check_at(i);
	jw.want = world && cli->areas[world->area] && cli->level >= (int)world->level;
	for (size_t i = 0; i < rep->n && k + 80 < sizeof(detail); i++)
		if (rep->v[i].status == FD_FAIL)
			k += (size_t)snprintf(
			    detail + k, sizeof(detail) - k, "%s %s %s\n", rep->v[i].check,
			    rep->v[i].code ? rep->v[i].code : "-", rep->v[i].subject);
	ret = fd_group_check_job(conf, fd_report_verdict(rep) == FD_FAIL, detail, &jw, &f);
	if (f.kind == FW_DONE) {
		/* the code's name from the code table: a finding keeps the pointer */
		const struct fd_code *c = f.code[0] ? fd_code_find(f.code) : NULL;

		fd_report_addv(rep, "bw.world", (enum fd_status)f.status, c ? c->code : NULL,
			       f.subject, f.value, f.expected, "%s", f.text);
	}
	return ret;
}

int cmd_check(int argc, char **argv)
{
	struct fd_config cfg;
	struct check_cli cli = {0};
	struct fd_report rep = {0};
	struct fd_probe_ctx ctx = {0};
	size_t ntun;
	const struct fd_opt *tun = fd_config_rows(&ntun);
	struct fd_group_flags gf = {0};
	struct fd_group_conf gconf = {0};
	struct fd_opt_table tables[] = {
	    {NULL, check_rows, FD_ARRAY_SIZE(check_rows), &cli},
	    {"thresholds and fact roots (also --config keys; durations take s/m/h, sizes K/M/G or\n"
	     "KiB/MiB/GiB):",
	     tun, ntun, &cfg},
	    {"the node group, with --job (one flightdeck per node; node 0 gathers the verdicts):",
	     fd_group_rows, fd_group_nrows, &gf},
	};
	struct fd_opt_parser p = {.cmd = "check",
				  .tables = tables,
				  .n_tables = FD_ARRAY_SIZE(tables),
				  .default_config = 1};
	enum fd_level level;
	int ret = FD_EXIT_USAGE, prom_tried = 0, job_ret = 0;
	char err[1024], host[256];
	double t_wall = fd_wall_s();

	for (int a = 0; a < FD_AREA_COUNT; a++)
		cli.areas[a] = 1;
	fd_opt_defaults(tables, 1);
	fd_opt_defaults(tables + 2, 1);
	fd_config_init(&cfg);
	ret = fd_opt_main(&p, argc, argv, usage);
	if (ret >= 0)
		goto out;
	ret = FD_EXIT_USAGE; /* what a failure below exits with, unless it says otherwise */
	level = (enum fd_level)cli.level;
	if (cli.list) {
		for (size_t i = 0; i < fd_check_count(); i++) {
			const struct fd_check *k = fd_check_at(i);
			printf("%-12s %-6s %-8s %s\n", k->id, fd_area_name(k->area),
			       fd_level_name(k->level), k->summary);
		}
		ret = 0;
		goto out;
	}
	if (p.show_config) {
		fd_opt_show(stdout, tables, FD_ARRAY_SIZE(tables));
		ret = 0;
		goto out;
	}
	if (cli.job || gf.print_group) {
		int r = fd_group_resolve(&gf, &gconf);

		if (r) {
			ret = r > 0 ? 0 : FD_EXIT_USAGE;
			goto out;
		}
	}
	if (check_dir("sysfs-root", cfg.sysfs_root) || check_dir("proc-root", cfg.proc_root))
		goto out;
	if (cfg.checkpoint_dir[0] && check_dir("checkpoint-dir", cfg.checkpoint_dir))
		goto out;
	if (cli.prom) {
		/* A textfile in a directory that is not there is a typo: say so before running. */
		char dir[PATH_MAX];
		fd_strlcpy(dir, cli.prom, sizeof(dir));
		if (check_dir("prom-file", dirname(dir)))
			goto out;
	}

	if (cli.reason) {
		/* the same typo rule, and a link or FIFO refused before the checks spend time */
		char dir[PATH_MAX];
		struct stat st;

		fd_strlcpy(dir, cli.reason, sizeof(dir));
		if (check_dir("reason-file", dirname(dir)))
			goto out;
		if (!lstat(cli.reason, &st) && !S_ISREG(st.st_mode)) {
			fd_err("--reason-file %s: not a regular file (%s)", cli.reason,
			       S_ISLNK(st.st_mode)    ? "a symbolic link"
			       : S_ISFIFO(st.st_mode) ? "a FIFO"
						      : "not a file");
			goto out;
		}
	}

	/* --- run -------------------------------------------------------------------- */
	int64_t t0 = fd_mono_ns();
	int ran[FD_AREA_COUNT] = {0};

	ctx.cfg = &cfg;
	ctx.level = level;
	for (size_t i = 0; i < fd_check_count(); i++) {
		const struct fd_check *k = fd_check_at(i);
		if (!cli.areas[k->area] || k->level > level)
			continue;
		ran[k->area] = 1;
		ctx.err[0] = '\0';
		int rc = fd_check_run(k, &ctx, &rep);
		if (rc == -ENOMEM || rep.oom) {
			fd_err("check %s: out of memory", k->id);
			ret = FD_EXIT_CANT_RUN;
			goto out;
		}
		if (rc) {
			fd_err("%s", ctx.err[0] ? ctx.err : strerror(-rc));
			if (rc == -EINTR && ctx.signo)
				ret = 128 + ctx.signo;
			goto out;
		}
	}
	for (int a = 0; a < FD_AREA_COUNT; a++) {
		if (cli.areas[a] && !ran[a])
			fd_report_add(&rep, fd_area_name((enum fd_area)a), FD_SKIP, NULL,
				      fd_area_name((enum fd_area)a),
				      "no %s checks at level %s in this version",
				      fd_area_name((enum fd_area)a), fd_level_name(level));
	}

	fd_node_name(host, sizeof(host), cli.node);
	struct fd_report_meta meta = {
	    .node = host,
	    .level = fd_level_name(level),
	    .duration_ms = (fd_mono_ns() - t0) / 1000000,
	    .timestamp = t_wall,
	};
	ret = fd_report_verdict(&rep) == FD_FAIL ? FD_EXIT_UNFIT : FD_EXIT_FIT;
	if (cli.job) /* the job's verdict, and the allreduce across nodes, before the report */
		job_ret = job_verdict(&gconf, &rep, &cfg, &cli);
	if (cli.json) {
		char *doc = fd_report_json(&rep, &meta);
		if (!doc) {
			fd_err("check: out of memory rendering JSON");
			ret = FD_EXIT_CANT_RUN;
			goto out;
		}
		printf("%s\n", doc);
		free(doc);
	} else {
		const char *nc = getenv("NO_COLOR");
		fd_report_text(stdout, &rep, &meta, isatty(STDOUT_FILENO) && !(nc && *nc),
			       cli.quiet);
	}
	fflush(stdout);
	prom_tried = 1; /* a failed write is not retried as an error file */
	if (cli.prom && fd_report_prom(cli.prom, &rep, &meta, err, sizeof(err))) {
		fd_err("%s", err);
		ret = FD_EXIT_CANT_RUN;
	}
	if (cli.reason && write_reason(cli.reason, &rep))
		ret = FD_EXIT_CANT_RUN;
	if (cli.job && ret != FD_EXIT_CANT_RUN)
		ret = job_ret;
out:
	termination_message(&cli, &rep, ret);
	if (cli.prom && !prom_tried &&
	    (ret == FD_EXIT_USAGE || ret == FD_EXIT_CANT_RUN || ret > 128))
		prom_no_verdict(&cli, t_wall, ret);
	fd_probe_ctx_release(&ctx);
	fd_report_free(&rep);
	fd_opt_release(&p);
	return ret;
}
