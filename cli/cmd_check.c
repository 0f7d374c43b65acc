/*
 * cmd_check.c - `flightdeck check`: run the checks of the chosen level and areas, print the
 * report, exit 0 fit / 1 unfit / 2 usage / 3 could not run.
 *
 * Options come from two places: the fixed ones below, and every tunable of config.c, which
 * becomes a long option of the same name. A --config file is applied first and the command
 * line after it, so a flag always wins over the file.
 */
#define _GNU_SOURCE
#include "check.h"
#include "commands.h"
#include "config.h"
#include "kmsg.h"
#include "report.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	OPT_LEVEL = 256,
	OPT_ONLY,
	OPT_JSON,
	OPT_PROM,
	OPT_CONFIG,
	OPT_NODE,
	OPT_LIST,
	OPT_SHOW_CONFIG,
	OPT_TUNABLE = 1000, /* + index into the tunables table */
};

static const struct option fixed_opts[] = {
    {"level", required_argument, NULL, OPT_LEVEL},
    {"only", required_argument, NULL, OPT_ONLY},
    {"json", no_argument, NULL, OPT_JSON},
    {"prom-file", required_argument, NULL, OPT_PROM},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"node", required_argument, NULL, OPT_NODE},
    {"list", no_argument, NULL, OPT_LIST},
    {"show-config", no_argument, NULL, OPT_SHOW_CONFIG},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: flightdeck check [--level quick|standard|full] [--only AREA[,AREA]] [--json]\n"
	    "                        [--prom-file PATH] [--config FILE] [-q] [THRESHOLDS...]\n"
	    "\n"
	    "Proves this node fit to run a training job. Exit status: 0 fit (warnings allowed),\n"
	    "1 unfit (a check failed), 2 usage or configuration error, 3 could not run.\n"
	    "\n"
	    "  --level L        quick (job start, ~1 s), standard (Slurm prolog; default),\n"
	    "                   full (returning a node to service)\n"
	    "  --only AREAS     run only these areas: host, ib, gpu, bw, memfit\n"
	    "  --json           print one JSON document on stdout instead of the table\n"
	    "  --prom-file P    also write a node_exporter textfile to P (atomically)\n"
	    "  --config FILE    read thresholds as 'name = value' lines (names as below)\n"
	    "  --node NAME      node name in the report (default: $SLURMD_NODENAME, hostname)\n"
	    "  -q, --quiet      show only warnings and failures in the table\n"
	    "  --list           list the checks and exit\n"
	    "  --show-config    print the effective thresholds as a config file and exit\n"
	    "\n"
	    "thresholds and fact roots (also --config keys; durations take s/m/h, sizes K/M/G or\n"
	    "KiB/MiB/GiB):\n");
	for (size_t i = 0; i < fd_config_count(); i++) {
		const struct fd_tunable_info *t = fd_config_info(i);
		char opt[48];
		snprintf(opt, sizeof(opt), "--%s %s", t->name, t->arg);
		fprintf(out, "  %-22s %s\n", opt, t->help);
	}
	fprintf(
	    out,
	    "\nenvironment: FLIGHTDECK_SYSFS_ROOT, FLIGHTDECK_PROC_ROOT, FLIGHTDECK_KMSG "
	    "and\nFLIGHTDECK_NVML_LIB (seams for tests), NCCL_SOCKET_IFNAME and NCCL_IB_HCA\n(checked when set), "
	    "NO_COLOR.\n");
}

static int parse_only(const char *s, int *areas)
{
	char buf[256], *save = NULL;

	if (fd_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -EINVAL;
	memset(areas, 0, sizeof(int) * FD_AREA_COUNT);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum fd_area a;
		if (fd_area_parse(t, &a)) {
			fd_err("--only: unknown area '%s' (areas: host, ib, gpu, bw, memfit)", t);
			return -EINVAL;
		}
		areas[a] = 1;
	}
	return 0;
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

static void node_name(char *out, size_t len, const char *given)
{
	const char *s = given ? given : getenv("SLURMD_NODENAME");

	if (s && *s) {
		fd_strlcpy(out, s, len);
		return;
	}
	if (gethostname(out, len))
		fd_strlcpy(out, "unknown", len);
	out[len - 1] = '\0';
}

struct pending {
	int idx;
	const char *value;
};

int cmd_check(int argc, char **argv)
{
	size_t nfixed = FD_ARRAY_SIZE(fixed_opts), ntun = fd_config_count();
	struct option *opts = calloc(nfixed + ntun + 1, sizeof(*opts));
	struct pending *pend = calloc((size_t)argc, sizeof(*pend));
	struct fd_config cfg;
	struct fd_report rep = {0};
	struct fd_probe_ctx ctx = {0};
	enum fd_level level = FD_LEVEL_STANDARD;
	int areas[FD_AREA_COUNT], json = 0, quiet = 0, list = 0, show = 0, c, ret = FD_EXIT_USAGE;
	const char *config = NULL, *prom = NULL, *node = NULL;
	size_t npend = 0;
	char err[1024], host[256];

	if (!opts || !pend) {
		fd_err("check: out of memory");
		ret = FD_EXIT_CANT_RUN;
		goto out;
	}
	for (int a = 0; a < FD_AREA_COUNT; a++)
		areas[a] = 1;
	memcpy(opts, fixed_opts, sizeof(fixed_opts));
	for (size_t i = 0; i < ntun; i++)
		opts[nfixed + i] = (struct option){fd_config_info(i)->name, required_argument, NULL,
						   OPT_TUNABLE + (int)i};
	fd_config_init(&cfg);

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LEVEL:
			if (fd_level_parse(optarg, &level)) {
				fd_err("--level: unknown level '%s' (quick, standard, full)",
				       optarg);
				goto out;
			}
			break;
		case OPT_ONLY:
			if (parse_only(optarg, areas))
				goto out;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_PROM:
			prom = optarg;
			break;
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_NODE:
			node = optarg;
			break;
		case OPT_LIST:
			list = 1;
			break;
		case OPT_SHOW_CONFIG:
			show = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		case ':':
			fd_err("check: option '%s' needs a value", argv[optind - 1]);
			goto out;
		case '?':
			if (optopt)
				fd_err("check: unknown option '-%c' (see flightdeck check --help)",
				       optopt);
			else
				fd_err("check: unknown option '%s' (see flightdeck check --help)",
				       argv[optind - 1]);
			goto out;
		default:
			pend[npend++] = (struct pending){c - OPT_TUNABLE, optarg};
			break;
		}
	}
	if (optind < argc) {
		fd_err("check: unexpected argument '%s' (see flightdeck check --help)",
		       argv[optind]);
		goto out;
	}
	if (config && fd_config_load(&cfg, config, err, sizeof(err))) {
		fd_err("%s", err);
		goto out;
	}
	for (size_t i = 0; i < npend; i++) {
		if (fd_config_set(&cfg, fd_config_info((size_t)pend[i].idx)->name, pend[i].value,
				  err, sizeof(err))) {
			fd_err("--%s", err);
			goto out;
		}
	}
	if (list) {
		for (size_t i = 0; i < fd_check_count(); i++) {
			const struct fd_check *k = fd_check_at(i);
			printf("%-12s %-6s %-8s %s\n", k->id, fd_area_name(k->area),
			       fd_level_name(k->level), k->summary);
		}
		ret = 0;
		goto out;
	}
	if (show) {
		for (size_t i = 0; i < ntun; i++) {
			fd_config_format(&cfg, i, err, sizeof(err));
			printf("%s = %s\n", fd_config_info(i)->name, err);
		}
		ret = 0;
		goto out;
	}
	if (check_dir("sysfs-root", cfg.sysfs_root) || check_dir("proc-root", cfg.proc_root))
		goto out;
	if (cfg.checkpoint_dir[0] && check_dir("checkpoint-dir", cfg.checkpoint_dir))
		goto out;
	if (prom) {
		/* A textfile in a directory that is not there is a typo: say so before running. */
		char dir[PATH_MAX];
		fd_strlcpy(dir, prom, sizeof(dir));
		if (check_dir("prom-file", dirname(dir)))
			goto out;
	}

	/* --- run -------------------------------------------------------------------- */
	double t_wall = fd_wall_s();
	int64_t t0 = fd_mono_ns();
	int ran[FD_AREA_COUNT] = {0};

	ctx.cfg = &cfg;
	ctx.level = level;
	for (size_t i = 0; i < fd_check_count(); i++) {
		const struct fd_check *k = fd_check_at(i);
		if (!areas[k->area] || k->level > level)
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
			goto out;
		}
	}
	for (int a = 0; a < FD_AREA_COUNT; a++) {
		if (areas[a] && !ran[a])
			fd_report_add(&rep, fd_area_name((enum fd_area)a), FD_SKIP, NULL,
				      fd_area_name((enum fd_area)a),
				      "no %s checks at level %s in this version",
				      fd_area_name((enum fd_area)a), fd_level_name(level));
	}

	node_name(host, sizeof(host), node);
	struct fd_report_meta meta = {
	    .node = host,
	    .level = fd_level_name(level),
	    .duration_ms = (fd_mono_ns() - t0) / 1000000,
	    .timestamp = t_wall,
	};
	ret = fd_report_verdict(&rep) == FD_FAIL ? FD_EXIT_UNFIT : FD_EXIT_FIT;
	if (json) {
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
		fd_report_text(stdout, &rep, &meta, isatty(STDOUT_FILENO) && !(nc && *nc), quiet);
	}
	fflush(stdout);
	if (prom && fd_report_prom(prom, &rep, &meta, err, sizeof(err))) {
		fd_err("%s", err);
		ret = FD_EXIT_CANT_RUN;
	}
out:
	fd_probe_ctx_release(&ctx);
	fd_report_free(&rep);
	free(opts);
	free(pend);
	return ret;
}
