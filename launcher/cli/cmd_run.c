/*
 * cmd_run.c - `flightdeck run [OPTIONS] -- COMMAND...`: options, then the supervisor.
 *
 * Every option is one row below (name, type, default, bounds, help), also a --config key;
 * struct fd_run_opts (launcher/supervisor/run.h) is what the supervisor gets.
 */
#include "commands.h"
#include "config.h"
#include "gpu.h"
#include "job.h"
#include "kmsg.h"
#include "opts.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN(f) offsetof(struct fd_run_opts, f)

/* Bounds shared by the rows below (durations become int64 ns in the supervisor). */
#define DUR_ZERO_OK .min = 0, .max = FD_OPT_MS_MAX
#define DUR_POS	    .min = 1, .max = FD_OPT_MS_MAX
#define UINT_ANY    .min = 0, .max = INT_MAX

/* "auto" is a mode of its own (stall_auto), not a duration: a number turns it off again. */
static int set_stall(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len)
{
	struct fd_run_opts *ro = obj;

	if (!strcmp(v, "auto")) {
		ro->stall_auto = 1;
		return 0;
	}
	ro->stall_auto = 0;
	return fd_opt_store(o, obj, v, err, len);
}

static void fmt_stall(const struct fd_opt *o, const void *obj, char *out, size_t len)
{
	const struct fd_run_opts *ro = obj;

	if (ro->stall_auto)
		snprintf(out, len, "auto");
	else
		fd_opt_format_ms(ro->stall_ms, out, len);
}

static int set_marker(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len)
{
	if (!*v || strchr(v, '/')) {
		snprintf(err, len, "%s: '%s' must be a file name, not a path", o->name, v);
		return -EINVAL;
	}
	return fd_opt_store(o, obj, v, err, len);
}

/* --heartbeat-uid UID|user|none: a name is looked up now, so a typo is exit 2 at once. */
static int set_hb_uid(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len)
{
	struct fd_run_opts *ro = obj;
	struct passwd *pw;
	char *end;
	unsigned long long n;

	if (!strcmp(v, "none")) {
		ro->heartbeat_uid = -1;
		return 0;
	}
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (!*end && !errno && n < (uid_t)-1) {
			ro->heartbeat_uid = (long long)n;
			return 0;
		}
	} else if ((pw = getpwnam(v))) {
		ro->heartbeat_uid = pw->pw_uid;
		return 0;
	}
	snprintf(err, len, "%s: '%s' is neither a user of this machine nor a uid", o->name, v);
	return -EINVAL;
}

static void fmt_hb_uid(const struct fd_opt *o, const void *obj, char *out, size_t len)
{
	const struct fd_run_opts *ro = obj;

	if (ro->heartbeat_uid < 0)
		snprintf(out, len, "none");
	else
		snprintf(out, len, "%lld", ro->heartbeat_uid);
}

static const char *const preflight_words[] = {"none", "quick", "standard", NULL};
static const char *const forwards_words[] = {"auto", "yes", "no", NULL};

static const struct fd_opt heartbeat_rows[] = {
    {.name = "progress-regex",
     .metavar = "RE",
     .help = "a line of output matching RE is a beat; its first group, if any,\n"
	     "is the step ('step (\\d+)'); a group (?<rank>\\d+) says whose line\n"
	     "it is, (?<step>...) names the step ('rank (?<rank>\\d+) step (\\d+)')",
     .type = FD_OPT_STRING,
     .off = RUN(progress_regex)},
    {.name = "heartbeat-file",
     .metavar = "PATH",
     .help = "its mtime changing is a beat",
     .type = FD_OPT_STRING,
     .off = RUN(heartbeat_file)},
    {.name = "pty",
     .help = "run the command with a pseudo-terminal as its stdout and stderr (for\n"
	     "tools that buffer when they are not writing to a terminal); both come\n"
	     "out on flightdeck's stdout",
     .type = FD_OPT_FLAG,
     .off = RUN(pty)},
    {.name = "heartbeat-uid",
     .metavar = "UID|user",
     .help = "a job that drops privileges (setpriv, gosu, su) to this user may\n"
	     "beat: the socket is given to it (needs root)",
     .type = FD_OPT_STRING,
     .def = "none",
     .set = set_hb_uid,
     .fmt = fmt_hb_uid},
};

static const struct fd_opt detection_rows[] = {
    {.name = "stall-timeout",
     .metavar = "DUR|auto",
     .help = "a rank that has beaten and then makes no progress (its step stops\n"
	     "advancing, or it stops beating) for DUR is stalled; auto:\n"
	     "--stall-factor x the longest step interval seen, at least --stall-floor",
     .type = FD_OPT_DURATION,
     .def = "5m",
     DUR_POS,
     .off = RUN(stall_ms),
     .set = set_stall,
     .fmt = fmt_stall},
    {.name = "stall-factor",
     .metavar = "X",
     .help = "auto: the deadline is X times the longest step interval",
     .type = FD_OPT_DOUBLE,
     .def = "5",
     .min = 1,
     .max = 1000,
     .off = RUN(stall_factor)},
    {.name = "stall-floor",
     .metavar = "DUR",
     .help = "auto: never a deadline shorter than DUR",
     .type = FD_OPT_DURATION,
     .def = "60s",
     DUR_POS,
     .off = RUN(stall_floor_ms)},
    {.name = "startup-timeout",
     .metavar = "DUR",
     .help = "launch to each rank's first beat (model load, compile)",
     .type = FD_OPT_DURATION,
     .def = "20m",
     DUR_POS,
     .off = RUN(startup_ms)},
    {.name = "checkpoint-timeout",
     .metavar = "DUR",
     .help = "the deadline while a rank is in phase=checkpoint",
     .type = FD_OPT_DURATION,
     .def = "30m",
     DUR_POS,
     .off = RUN(checkpoint_ms)},
    {.name = "teardown-timeout",
     .metavar = "DUR",
     .help = "the deadline of a rank past its last step (a beat's total=N, the\n"
	     "regex's (?<total>...)): process-group teardown, the final save",
     .type = FD_OPT_DURATION,
     .def = "10m",
     DUR_POS,
     .off = RUN(teardown_ms)},
    {.name = "timeout",
     .metavar = "DUR",
     .help = "the whole job's wall clock, restarts included; exit 124",
     .type = FD_OPT_DURATION,
     .def = "none",
     DUR_ZERO_OK,
     .off = RUN(timeout_ms),
     .word = "none",
     .word_val = 0},
    {.name = "ranks",
     .metavar = "N",
     .help = "local ranks expected to beat; 0: torchrun's --nproc-per-node, else learn",
     .type = FD_OPT_UINT,
     .def = "0",
     UINT_ANY,
     .off = RUN(ranks)},
};

static const struct fd_opt restart_rows[] = {
    {.name = "grace",
     .metavar = "DUR",
     .help = "between SIGTERM and SIGKILL (under K8s' and Slurm's 30 s)",
     .type = FD_OPT_DURATION,
     .def = "25s",
     DUR_ZERO_OK,
     .off = RUN(grace_ms)},
    {.name = "forwarding-launcher",
     .metavar = "WHEN",
     .help = "the command passes a stop signal on to its own workers: it gets\n"
	     "the signal alone, so each worker hears it once (yes), or the whole\n"
	     "process group gets it (no); auto: yes for torchrun, mpirun, mpiexec,\n"
	     "srun, deepspeed, accelerate, python -m torch.distributed.run",
     .type = FD_OPT_ENUM,
     .def = "auto",
     .off = RUN(forwarding_launcher),
     .words = forwards_words,
     .noun = "choice"},
    {.name = "kill-wait",
     .metavar = "DUR",
     .help = "after SIGKILL, before survivors (state D) are named and left",
     .type = FD_OPT_DURATION,
     .def = "10s",
     DUR_POS,
     .off = RUN(kill_wait_ms)},
    {.name = "signal-dedupe",
     .metavar = "DUR",
     .help = "a SIGTERM/SIGINT/SIGHUP/SIGQUIT again within DUR of the first is the\n"
	     "same request (Slurm's time limit sends two); a later one kills at\n"
	     "once; 0: every repeat kills at once",
     .type = FD_OPT_DURATION,
     .def = "2s",
     DUR_ZERO_OK,
     .off = RUN(signal_dedupe_ms)},
    {.name = "max-restarts",
     .metavar = "N",
     .help = "relaunches before giving up",
     .type = FD_OPT_UINT,
     .def = "3",
     UINT_ANY,
     .off = RUN(max_restarts)},
    {.name = "backoff",
     .metavar = "DUR",
     .help = "the wait before a relaunch, doubling each time",
     .type = FD_OPT_DURATION,
     .def = "10s",
     DUR_ZERO_OK,
     .off = RUN(backoff_ms)},
    {.name = "backoff-max",
     .metavar = "DUR",
     .help = "the longest that wait gets",
     .type = FD_OPT_DURATION,
     .def = "5m",
     DUR_ZERO_OK,
     .off = RUN(backoff_max_ms)},
    {.name = "no-progress-limit",
     .metavar = "N",
     .help = "give up after N restarts in a row that resumed from the same\n"
	     "checkpoint and got no further; 0 = never",
     .type = FD_OPT_UINT,
     .def = "2",
     UINT_ANY,
     .off = RUN(no_progress_limit)},
    {.name = "gpu-release-timeout",
     .metavar = "DUR",
     .help = "wait for the GPUs to hold no process before relaunching",
     .type = FD_OPT_DURATION,
     .def = "60s",
     DUR_ZERO_OK,
     .off = RUN(gpu_release_ms)},
    {.name = "stack-wait",
     .metavar = "DUR",
     .help = "how long stuck ranks get to dump their stacks",
     .type = FD_OPT_DURATION,
     .def = "5s",
     DUR_ZERO_OK,
     .off = RUN(stack_wait_ms)},
    {.name = "preflight",
     .metavar = "none|quick|standard",
     .help = "`flightdeck check` before every launch",
     .type = FD_OPT_ENUM,
     .def = "quick",
     .off = RUN(preflight),
     .words = preflight_words,
     .base = FD_PREFLIGHT_NONE,
     .noun = "level"},
    {.name = "check-config",
     .metavar = "FILE",
     .help = "a --config file for that preflight",
     .type = FD_OPT_STRING,
     .off = RUN(check_config)},
    {.name = "checkpoint-dir",
     .metavar = "DIR",
     .help = "where checkpoints are; never modified [none]",
     .type = FD_OPT_STRING,
     .off = RUN(checkpoint_dir)},
    {.name = "checkpoint-max-age",
     .metavar = "DUR",
     .help = "warn (stderr, event checkpoint_overdue) when the newest\n"
	     "complete checkpoint is older than DUR while the job runs",
     .type = FD_OPT_DURATION,
     .def = "off",
     DUR_ZERO_OK,
     .off = RUN(checkpoint_max_age_ms),
     .word = "off",
     .word_val = 0},
    {.name = "checkpoint-marker",
     .metavar = "NAME",
     .help = "a checkpoint directory is complete when it holds NAME\n"
	     "[framework markers: .metadata, trainer_state.json, DeepSpeed latest,\n"
	     "*.pt/*.pth/*.ckpt/*.safetensors files]",
     .type = FD_OPT_STRING,
     .off = RUN(checkpoint_marker),
     .set = set_marker},
};

static const struct fd_opt native_rows[] = {
    {.name = "nproc-per-node",
     .metavar = "N",
     .help = "start N copies of the command as the node's ranks, each with torchrun's\n"
	     "environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, a fresh\n"
	     "MASTER_PORT per launch, ...): no torchrun needed; any rank failing\n"
	     "stops the others; 0: the command is one process, as given",
     .type = FD_OPT_UINT,
     .def = "0",
     .min = 0,
     .max = 1024,
     .off = RUN(nproc_per_node)},
    {.name = "prefix-output",
     .help = "with --nproc-per-node: '[rankN]: ' before every line of each rank",
     .type = FD_OPT_FLAG,
     .off = RUN(prefix_output)},
};

static const struct fd_opt telling_rows[] = {
    {.name = "events",
     .metavar = "FILE",
     .help = "append one JSON line per event (start, preflight, stall, timeout,\n"
	     "crash, kill, restart, stacks, signal, step_back, output_dropped,\n"
	     "checkpoint_overdue, exit)",
     .type = FD_OPT_STRING,
     .off = RUN(events)},
    {.name = "prom-file",
     .metavar = "PATH",
     .help = "a node_exporter textfile, rewritten atomically on every event and\n"
	     "every 5 s: up, each rank's last step and beat, launches, restarts,\n"
	     "stalls, the checkpoint's age; the exit code at the end",
     .type = FD_OPT_OUTPATH,
     .off = RUN(prom_file)},
    {.name = "termination-log",
     .metavar = "PATH",
     .help = "at exit, why (exit code, failure, node, codes, checkpoint) in at most\n"
	     "4096 bytes, for Kubernetes' terminationMessagePath; none: off\n"
	     "[/dev/termination-log when it exists and is writable]",
     .type = FD_OPT_STRING,
     .off = RUN(termination_log)},
    {.name = "drain-replaced",
     .help = "node 0 drains each node a spare replaces (Slurm: scontrol update\n"
	     "nodename=HOST state=drain reason=\"flightdeck: NODE_REPLACED ...\"), HOST\n"
	     "as the node said it in its HELLO (its host name)",
     .type = FD_OPT_FLAG,
     .off = RUN(drain_replaced)},
    {.name = "quiet",
     .short_name = 'q',
     .help = "no status lines on stderr (errors still go there)",
     .type = FD_OPT_FLAG,
     .off = RUN(quiet)},
};

static const struct fd_opt config_rows[] = {
    FD_OPT_CONFIG_ROW("these options", "above"),
    FD_OPT_NOCONFIG_ROW,
    FD_OPT_SHOW_ROW("options"),
    FD_OPT_HELP_ROW,
};

#define TABLE(heading_, rows_)                                                                     \
	{                                                                                          \
		.heading = heading_, .rows = rows_, .n = FD_ARRAY_SIZE(rows_)                      \
	}

/* The sections of `run --help`, in order; obj is filled in by cmd_run. */
static const struct fd_opt_table run_tables[] = {
    TABLE(
	"heartbeats (any combination):\n"
	"  the socket                 the command sees FLIGHTDECK_HEARTBEAT; a datagram\n"
	"                             'rank=R step=N' is a beat (scripts/flightdeck_heartbeat.py,\n"
	"                             scripts/flightdeck_heartbeat.h, `flightdeck beat --step N`);\n"
	"                             'phase=checkpoint' extends the deadline\n"
	"  Stall detection starts once a source is known: one of the flags below, --ranks, or\n"
	"  the first datagram. A command that never beats is supervised for crashes and\n"
	"  --timeout.",
	heartbeat_rows),
    TABLE("detection:", detection_rows),
    TABLE("kill and restart:", restart_rows),
    TABLE("native ranks (instead of torchrun; the command is the training script):", native_rows),
    TABLE("telling people:", telling_rows),
    TABLE("configuration:", config_rows),
};

static void usage(FILE *out, const struct fd_opt_table *t, size_t n)
{
	fprintf(
	    out,
	    "usage: flightdeck run [OPTIONS] -- COMMAND [ARG...]\n"
	    "\n"
	    "Runs COMMAND (torchrun, mpirun, srun, python, ...) after a preflight of this node and\n"
	    "supervises it: a rank that stops making progress, a crash or --timeout stops the whole\n"
	    "process tree (SIGTERM to its process group, --grace, then SIGKILL to every descendant)\n"
	    "and relaunches it from the newest complete checkpoint, up to --max-restarts.\n"
	    "Output passes through unchanged. An argument {resume} (or --resume={resume}) becomes\n"
	    "the checkpoint path, or is dropped with its flag when there is none yet. In a node\n"
	    "group, {node_rank}, {nnodes}, {master_addr} and {master_port} become this node's\n"
	    "training slot, the number of training nodes, node 0's address and the port node 0\n"
	    "picked for this launch: torchrun's static rendezvous then follows a spare that takes\n"
	    "a lost node's place (--spares).\n");
	fd_opt_help(out, t, n);
	fprintf(
	    out,
	    "\n"
	    "Signals: SIGTERM, SIGINT, SIGHUP, SIGQUIT are passed to the command's process group\n"
	    "with the same grace, each process getting one SIGTERM per stop; one again within\n"
	    "--signal-dedupe (2 s) of the first is the same request (Slurm's time limit sends\n"
	    "SIGTERM twice, tens of ms apart; scancel and timeout(1) may repeat it), a later one\n"
	    "kills at once; a signal ignored when flightdeck started (nohup) stays ignored.\n"
	    "SIGUSR1/SIGUSR2 (Slurm's --signal) are passed on and supervision goes on; while no\n"
	    "command runs they are queued for the next launch. The command gets\n"
	    "FLIGHTDECK_RESTART_COUNT and, when resuming, FLIGHTDECK_RESUME_FROM;\n"
	    "PYTHONUNBUFFERED=1 unless it is set.\n"
	    "\n"
	    "exit status: the command's own when it ends by itself (128+N for signal N; after\n"
	    "repeated crashes, the last crash's), else (flightdeck explain N says more):\n");
	fd_exit_print(out, "run");
}

/*
 * run's xid_since (run.h): the kernel log the preflight reads (--check-config's kmsg and
 * proc-root, else the default config's, else /dev/kmsg), loaded now, at a stall. A log that
 * cannot be read is no evidence: nothing is said of the machine.
 */
/* The check configuration's kernel log (--check-config, FLIGHTDECK_CONFIG, the default
 * config), for a stall's evidence against the machine; NULL when it cannot be read. */
static struct fd_kmsg_log *run_kmsg(const struct fd_run_opts *o, struct fd_config *cfg)
{
	const char *env = getenv("FLIGHTDECK_CONFIG");
	const char *conf = o->check_config ? o->check_config : env && *env ? env : NULL;
	struct fd_kmsg_log *log = NULL;
	char err[PATH_MAX + 128];

	fd_config_init(cfg);
	if (!conf && access(FD_OPT_DEFAULT_CONFIG, R_OK) == 0)
		conf = FD_OPT_DEFAULT_CONFIG;
	if (conf && fd_config_load(cfg, conf, err, sizeof(err)))
		return NULL;
	if (fd_kmsg_load(cfg->kmsg, &log, err, sizeof(err)))
		return NULL;
	log->uptime_ms = fd_kmsg_uptime_ms(cfg->proc_root);
	return log;
}

static int run_xid_since(const struct fd_run_opts *o, int64_t within_ms, char *out, size_t len)
{
	static struct fd_config cfg; /* ~70 KB of paths: not on the stack */
	struct fd_kmsg_log *log = run_kmsg(o, &cfg);
	int found;

	*out = '\0';
	if (!log)
		return 0;
	found = gpu_xid_since(log, cfg.xid_app, cfg.n_xid_app, within_ms, out, len);
	fd_kmsg_free(log);
	return found;
}

static int run_oom_killed(const struct fd_run_opts *o, int pid)
{
	static struct fd_config cfg;
	struct fd_kmsg_log *log = run_kmsg(o, &cfg);
	int found = fd_kmsg_oom_killed(log, pid);

	fd_kmsg_free(log);
	return found;
}

int cmd_run(int argc, char **argv)
{
	struct fd_run_opts o = {0};
	struct fd_group_flags gf = {0};
	/* the run tables with the group's section, which has its own struct, before "telling" */
	struct fd_opt_table tables[FD_ARRAY_SIZE(run_tables) + 1];
	struct fd_opt_parser p = {.cmd = "run",
				  .default_config = 1,
				  .tables = tables,
				  .n_tables = FD_ARRAY_SIZE(tables),
				  /* options end at the first word of the command */
				  .stop_at_word = 1};
	int ret = FD_RUN_USAGE, r;

	for (size_t i = 0, k = 0; i < FD_ARRAY_SIZE(run_tables); i++) {
		if (run_tables[i].rows == telling_rows)
			tables[k++] = (struct fd_opt_table){.heading = FD_GROUP_HEADING,
							    .rows = fd_group_rows,
							    .n = fd_group_nrows,
							    .obj = &gf};
		tables[k] = run_tables[i];
		tables[k++].obj = &o;
	}
	fd_opt_defaults(tables, FD_ARRAY_SIZE(tables));
	ret = fd_opt_main(&p, argc, argv, usage);
	if (ret >= 0)
		goto out;
	ret = FD_RUN_USAGE; /* what a failure below exits with, unless it says otherwise */
	if (p.show_config) {
		fd_opt_show(stdout, tables, FD_ARRAY_SIZE(tables));
		ret = 0;
		goto out;
	}
	r = fd_group_resolve(&gf, &o.group);
	if (r) {
		ret = r > 0 ? 0 : FD_RUN_USAGE; /* printed (--print-group), or said why */
		goto out;
	}
	if (p.optind >= argc) {
		fd_err("run: no command given (flightdeck run [OPTIONS] -- COMMAND [ARG...])");
		goto out;
	}
	if (o.checkpoint_max_age_ms && !o.checkpoint_dir) {
		fd_err("run: --checkpoint-max-age needs --checkpoint-dir");
		goto out;
	}
	if (o.nproc_per_node > 1 && o.pty) {
		fd_err("run: --pty gives the command one terminal: not with --nproc-per-node %d",
		       o.nproc_per_node);
		goto out;
	}
	if (o.prefix_output && !o.nproc_per_node) {
		fd_err("run: --prefix-output needs --nproc-per-node");
		goto out;
	}
	if (o.backoff_max_ms < o.backoff_ms)
		o.backoff_max_ms = o.backoff_ms;
	o.argv = argv + p.optind;
	o.xid_since = run_xid_since;
	o.oom_killed = run_oom_killed;
	ret = fd_supervise(&o);
out:
	/* after fd_supervise: strings from a --config file live in the parser */
	fd_opt_release(&p);
	return ret;
}
