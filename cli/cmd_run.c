/*
 * cmd_run.c - `flightdeck run [OPTIONS] -- COMMAND...`: options, then the supervisor.
 *
 * Every option is one row below (name, type, default, bounds, help), also a --config key;
 * struct fd_run_opts (supervisor/run.h) is what the supervisor gets.
 */
#include "commands.h"
#include "frame.h"
#include "hostlist.h"
#include "ident.h"
#include "opts.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define RUN(f) offsetof(struct fd_run_opts, f)

/* Bounds shared by the rows below (durations become int64 ns in the supervisor). */
#define DUR_ZERO_OK .min = 0, .max = FD_OPT_MS_MAX
#define DUR_POS	    .min = 1, .max = FD_OPT_MS_MAX
#define UINT_ANY    .min = 0, .max = INT_MAX
#define KEY	    .flags = FD_OPT_KEY

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

static const struct fd_opt heartbeat_rows[] = {
    {.name = "progress-regex",
     .metavar = "RE",
     .help = "a line of output matching RE is a beat; its first group, if any,\n"
	     "is the step ('step (\\d+)')",
     .type = FD_OPT_STRING,
     .off = RUN(progress_regex),
     KEY},
    {.name = "heartbeat-file",
     .metavar = "PATH",
     .help = "its mtime changing is a beat",
     .type = FD_OPT_STRING,
     .off = RUN(heartbeat_file),
     KEY},
    {.name = "pty",
     .help = "run the command with a pseudo-terminal as its stdout and stderr (for\n"
	     "tools that buffer when they are not writing to a terminal); both come\n"
	     "out on flightdeck's stdout",
     .type = FD_OPT_FLAG,
     .off = RUN(pty),
     KEY},
    {.name = "heartbeat-uid",
     .metavar = "UID|user",
     .help = "a job that drops privileges (setpriv, gosu, su) to this user may\n"
	     "beat: the socket is given to it (needs root)",
     .type = FD_OPT_STRING,
     .def = "none",
     .set = set_hb_uid,
     .fmt = fmt_hb_uid,
     KEY},
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
     .fmt = fmt_stall,
     KEY},
    {.name = "stall-factor",
     .metavar = "X",
     .help = "auto: the deadline is X times the longest step interval",
     .type = FD_OPT_DOUBLE,
     .def = "5",
     .min = 1,
     .max = 1000,
     .off = RUN(stall_factor),
     KEY},
    {.name = "stall-floor",
     .metavar = "DUR",
     .help = "auto: never a deadline shorter than DUR",
     .type = FD_OPT_DURATION,
     .def = "60s",
     DUR_POS,
     .off = RUN(stall_floor_ms),
     KEY},
    {.name = "startup-timeout",
     .metavar = "DUR",
     .help = "launch to each rank's first beat (model load, compile)",
     .type = FD_OPT_DURATION,
     .def = "20m",
     DUR_POS,
     .off = RUN(startup_ms),
     KEY},
    {.name = "checkpoint-timeout",
     .metavar = "DUR",
     .help = "the deadline while a rank is in phase=checkpoint",
     .type = FD_OPT_DURATION,
     .def = "30m",
     DUR_POS,
     .off = RUN(checkpoint_ms),
     KEY},
    {.name = "timeout",
     .metavar = "DUR",
     .help = "the whole job's wall clock, restarts included; exit 124",
     .type = FD_OPT_DURATION,
     .def = "none",
     DUR_ZERO_OK,
     .off = RUN(timeout_ms),
     .word = "none",
     .word_val = 0,
     KEY},
    {.name = "ranks",
     .metavar = "N",
     .help = "local ranks expected to beat; 0: torchrun's --nproc-per-node, else learn",
     .type = FD_OPT_UINT,
     .def = "0",
     UINT_ANY,
     .off = RUN(ranks),
     KEY},
};

static const struct fd_opt restart_rows[] = {
    {.name = "grace",
     .metavar = "DUR",
     .help = "between SIGTERM and SIGKILL (under K8s' and Slurm's 30 s)",
     .type = FD_OPT_DURATION,
     .def = "25s",
     DUR_ZERO_OK,
     .off = RUN(grace_ms),
     KEY},
    {.name = "kill-wait",
     .metavar = "DUR",
     .help = "after SIGKILL, before survivors (state D) are named and left",
     .type = FD_OPT_DURATION,
     .def = "10s",
     DUR_POS,
     .off = RUN(kill_wait_ms),
     KEY},
    {.name = "max-restarts",
     .metavar = "N",
     .help = "relaunches before giving up",
     .type = FD_OPT_UINT,
     .def = "3",
     UINT_ANY,
     .off = RUN(max_restarts),
     KEY},
    {.name = "backoff",
     .metavar = "DUR",
     .help = "the wait before a relaunch, doubling each time",
     .type = FD_OPT_DURATION,
     .def = "10s",
     DUR_ZERO_OK,
     .off = RUN(backoff_ms),
     KEY},
    {.name = "backoff-max",
     .metavar = "DUR",
     .help = "the longest that wait gets",
     .type = FD_OPT_DURATION,
     .def = "5m",
     DUR_ZERO_OK,
     .off = RUN(backoff_max_ms),
     KEY},
    {.name = "no-progress-limit",
     .metavar = "N",
     .help = "give up after N restarts in a row that resumed from the same\n"
	     "checkpoint and got no further; 0 = never",
     .type = FD_OPT_UINT,
     .def = "2",
     UINT_ANY,
     .off = RUN(no_progress_limit),
     KEY},
    {.name = "gpu-release-timeout",
     .metavar = "DUR",
     .help = "wait for the GPUs to hold no process before relaunching",
     .type = FD_OPT_DURATION,
     .def = "60s",
     DUR_ZERO_OK,
     .off = RUN(gpu_release_ms),
     KEY},
    {.name = "stack-wait",
     .metavar = "DUR",
     .help = "how long stuck ranks get to dump their stacks",
     .type = FD_OPT_DURATION,
     .def = "5s",
     DUR_ZERO_OK,
     .off = RUN(stack_wait_ms),
     KEY},
    {.name = "preflight",
     .metavar = "none|quick|standard",
     .help = "`flightdeck check` before every launch",
     .type = FD_OPT_ENUM,
     .def = "quick",
     .off = RUN(preflight),
     .words = preflight_words,
     .base = FD_PREFLIGHT_NONE,
     .noun = "level",
     KEY},
    {.name = "check-config",
     .metavar = "FILE",
     .help = "a --config file for that preflight",
     .type = FD_OPT_STRING,
     .off = RUN(check_config),
     KEY},
    {.name = "checkpoint-dir",
     .metavar = "DIR",
     .help = "where checkpoints are; never modified [none]",
     .type = FD_OPT_STRING,
     .off = RUN(checkpoint_dir),
     KEY},
    {.name = "checkpoint-max-age",
     .metavar = "DUR",
     .help = "warn (stderr, event checkpoint_overdue) when the newest\n"
	     "complete checkpoint is older than DUR while the job runs",
     .type = FD_OPT_DURATION,
     .def = "off",
     DUR_ZERO_OK,
     .off = RUN(checkpoint_max_age_ms),
     .word = "off",
     .word_val = 0,
     KEY},
    {.name = "checkpoint-marker",
     .metavar = "NAME",
     .help = "a checkpoint directory is complete when it holds NAME\n"
	     "[framework markers: .metadata, trainer_state.json, DeepSpeed latest,\n"
	     "*.pt/*.pth/*.ckpt/*.safetensors files]",
     .type = FD_OPT_STRING,
     .off = RUN(checkpoint_marker),
     .set = set_marker,
     KEY},
};

static const struct fd_opt group_rows[] = {
    {.name = "node-rank",
     .metavar = "N",
     .help = "this node's place in the job, 0 = the coordinator [from Slurm,\n"
	     "JOB_COMPLETION_INDEX, NODE_RANK or Open MPI; else 0]",
     .type = FD_OPT_UINT,
     .def = "auto",
     .min = 0,
     .max = 65535,
     .off = RUN(node_rank),
     .word = "auto",
     .word_val = -1},
    {.name = "nnodes",
     .metavar = "N",
     .help = "nodes in the job [SLURM_NNODES, FLIGHTDECK_NNODES, NNODES, Open MPI; else 1]",
     .type = FD_OPT_UINT,
     .def = "auto",
     .min = 1,
     .max = 65536,
     .off = RUN(nnodes),
     .word = "auto",
     .word_val = -1},
    {.name = "coordinator",
     .metavar = "HOST[:PORT]",
     .help = "where node 0's flightdeck listens [first host of SLURM_JOB_NODELIST,\n"
	     "FLIGHTDECK_COORDINATOR, MASTER_ADDR; port 29471]",
     .type = FD_OPT_STRING,
     .off = RUN(coordinator),
     KEY},
    {.name = "bind",
     .metavar = "ADDR",
     .help = "node 0 listens on this address only [every address]",
     .type = FD_OPT_STRING,
     .off = RUN(bind),
     KEY},
    {.name = "token-file",
     .metavar = "FILE",
     .help = "the job's secret that signs every frame (or FLIGHTDECK_TOKEN); the same\n"
	     "on every node, e.g. a Kubernetes Secret or a file in the job's directory",
     .type = FD_OPT_STRING,
     .off = RUN(token_file),
     KEY},
    {.name = "token-from-job",
     .help = "derive the token from SLURM_JOB_ID, or POD_NAMESPACE and\n"
	     "FLIGHTDECK_JOB_NAME (guessable: anyone who can reach the port and\n"
	     "knows the job id can join; for trusted networks)",
     .type = FD_OPT_FLAG,
     .off = RUN(token_from_job),
     KEY},
    {.name = "peer-interval",
     .metavar = "DUR",
     .help = "how often the nodes beat to each other",
     .type = FD_OPT_DURATION,
     .def = "1s",
     .min = 10,
     .max = 3600000,
     .off = RUN(peer_interval_ms),
     KEY},
    {.name = "peer-timeout",
     .metavar = "DUR",
     .help = "a node silent this long, or whose connection closes, is lost: every\n"
	     "node stops and exits 75",
     .type = FD_OPT_DURATION,
     .def = "10s",
     .min = 100,
     .max = 86400000,
     .off = RUN(peer_timeout_ms),
     KEY},
    {.name = "join-timeout",
     .metavar = "DUR",
     .help = "every node must have joined this long after its start; the missing\n"
	     "are named and every node exits 75",
     .type = FD_OPT_DURATION,
     .def = "5m",
     DUR_POS,
     .off = RUN(join_timeout_ms),
     KEY},
    {.name = "exclude-file",
     .metavar = "FILE",
     .help = "node 0 writes the unfit nodes' hosts here in Slurm hostlist form,\n"
	     "for sbatch --exclude",
     .type = FD_OPT_STRING,
     .off = RUN(exclude_file),
     KEY},
    {.name = "print-group",
     .help = "print this node's place in the group, and where each value came\n"
	     "from, then exit",
     .type = FD_OPT_FLAG,
     .off = RUN(print_group)},
};

static const struct fd_opt telling_rows[] = {
    {.name = "events",
     .metavar = "FILE",
     .help = "append one JSON line per event (start, preflight, stall, timeout,\n"
	     "crash, kill, restart, stacks, signal, step_back, output_dropped,\n"
	     "checkpoint_overdue, exit)",
     .type = FD_OPT_STRING,
     .off = RUN(events),
     KEY},
    {.name = "quiet",
     .short_name = 'q',
     .help = "no status lines on stderr (errors still go there)",
     .type = FD_OPT_FLAG,
     .off = RUN(quiet),
     KEY},
};

static const struct fd_opt config_rows[] = {
    {.name = "config",
     .metavar = "FILE",
     .help = "read these options as 'name = value' lines (names as above);\n"
	     "flags override the file [default: $FLIGHTDECK_CONFIG or\n"
	     "/etc/flightdeck/flightdeck.conf, when present]",
     .type = FD_OPT_CONFIG},
    {.name = "no-config", .help = "do not read the default config file", .type = FD_OPT_NOCONFIG},
    {.name = "show-config",
     .help = "print the effective options as a config file and exit",
     .type = FD_OPT_SHOW},
    {.name = "help", .short_name = 'h', .help = "this text", .type = FD_OPT_HELP},
};

#define TABLE(heading, rows)                                                                       \
	{                                                                                          \
		heading, rows, FD_ARRAY_SIZE(rows), NULL                                           \
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
    TABLE("the node group (one flightdeck per node; node 0 decides for all):\n"
	  "  A failure on any node stops every node; they restart together from the newest\n"
	  "  checkpoint complete on every node, within one --max-restarts. With one node\n"
	  "  (the default) nothing is opened.",
	  group_rows),
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
	    "the checkpoint path, or is dropped with its flag when there is none yet.\n");
	fd_opt_help(out, t, n);
	fprintf(
	    out,
	    "\n"
	    "Signals: SIGTERM, SIGINT, SIGHUP, SIGQUIT are passed to the command's process group\n"
	    "with the same grace, each process getting one SIGTERM per stop; a repeat within 1 s\n"
	    "is the same request (Slurm and timeout(1) send two), a later one kills at once; a\n"
	    "signal ignored when flightdeck started (nohup) stays ignored. SIGUSR1/SIGUSR2\n"
	    "(Slurm's --signal) are passed on and supervision goes on; while no command runs they\n"
	    "are queued for the next launch. The command gets FLIGHTDECK_RESTART_COUNT and, when\n"
	    "resuming, FLIGHTDECK_RESUME_FROM; PYTHONUNBUFFERED=1 unless it is set.\n"
	    "\n"
	    "exit status: the command's own when it ends by itself (128+N for signal N), else\n"
	    "  2    usage error (bad flag or duration, unreadable --checkpoint-dir)\n"
	    "  69   preflight failed: this node is unfit (EX_UNAVAILABLE)\n"
	    "  75   a peer node was lost (EX_TEMPFAIL; multi-node groups)\n"
	    "  86   gave up: the job kept stalling (--max-restarts or --no-progress-limit)\n"
	    "       (after repeated crashes: the last crash's own status)\n"
	    "  124  --timeout reached          125  flightdeck itself failed\n"
	    "  126  COMMAND cannot be executed 127  COMMAND not found\n"
	    "  128+N  flightdeck was told to stop by signal N\n");
}

/* The job's token: a file (a Kubernetes Secret's mount is a symlink: followed), never a FIFO. */
static int read_token(const char *path, uint8_t *out, size_t *n)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	uint8_t b[FD_TOKEN_MAX + 1];
	struct stat st;
	ssize_t k;

	if (fd < 0) {
		fd_err("--token-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fd_err("--token-file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	k = read(fd, b, sizeof(b));
	close(fd);
	if (k < 0) {
		fd_err("--token-file %s: %s", path, strerror(errno));
		return -1;
	}
	while (k > 0 && (b[k - 1] == '\n' || b[k - 1] == '\r' || b[k - 1] == ' '))
		k--;
	if (k == 0 || k > FD_TOKEN_MAX) {
		fd_err("--token-file %s: %s", path,
		       k ? "longer than 256 bytes" : "empty (a token is 1 to 256 bytes)");
		return -1;
	}
	memcpy(out, b, (size_t)k);
	*n = (size_t)k;
	return 0;
}

static int job_token(const struct fd_run_opts *o, uint8_t *tok, size_t *n)
{
	const char *env = getenv("FLIGHTDECK_TOKEN"), *id, *ns, *name;
	char b[FD_TOKEN_MAX + 1];

	if (o->token_file)
		return read_token(o->token_file, tok, n);
	if (env && *env) {
		*n = strlen(env) > FD_TOKEN_MAX ? FD_TOKEN_MAX : strlen(env);
		memcpy(tok, env, *n);
		return 0;
	}
	if (!o->token_from_job) {
		fd_err("run: a group of several nodes needs a shared token: --token-file FILE, "
		       "FLIGHTDECK_TOKEN, or --token-from-job");
		return -1;
	}
	id = getenv("SLURM_JOB_ID");
	ns = getenv("POD_NAMESPACE");
	name = getenv("FLIGHTDECK_JOB_NAME");
	if (id && *id) {
		const char *cl = getenv("SLURM_CLUSTER_NAME");

		snprintf(b, sizeof(b), "flightdeck:slurm:%s:%s", cl ? cl : "", id);
	} else if (name && *name) {
		snprintf(b, sizeof(b), "flightdeck:k8s:%s:%s", ns ? ns : "", name);
	} else {
		fd_err(
		    "run: --token-from-job: neither SLURM_JOB_ID nor FLIGHTDECK_JOB_NAME is set");
		return -1;
	}
	*n = strlen(b);
	memcpy(tok, b, *n);
	return 0;
}

/*
 * Who this node is in the group, and how the group is reached: flags, then the scheduler's
 * environment (group/ident.c). 0, or -1 after saying why.
 */
static int resolve_group(struct fd_run_opts *o)
{
	static uint8_t token[FD_TOKEN_MAX];
	static char **hosts;
	struct fd_ident id;
	struct fd_ident_in in = {.node_rank = o->node_rank,
				 .nnodes = o->nnodes,
				 .coordinator = o->coordinator,
				 .envp = environ};
	char err[512], desc[2048];
	const char *nl = getenv("SLURM_JOB_NODELIST");
	size_t nh = 0;

	if (fd_ident_resolve(&in, &id, err, sizeof(err))) {
		fd_err("run: %s", err);
		return -1;
	}
	if (o->print_group) {
		fd_ident_describe(&id, desc, sizeof(desc));
		fputs(desc, stdout);
		return 0;
	}
	o->group.node = id.node_rank;
	o->group.nnodes = id.nnodes;
	if (id.nnodes < 2)
		return 0;
	if (job_token(o, token, &o->group.token_len))
		return -1;
	o->group.token = token;
	o->group.coord_host = strdup(id.coord_host);
	o->group.coord_port = id.coord_port;
	o->group.bind_host = o->bind;
	o->group.peer_interval_ms = o->peer_interval_ms;
	o->group.peer_timeout_ms = o->peer_timeout_ms;
	o->group.join_timeout_ms = o->join_timeout_ms;
	o->group.exclude_file = o->exclude_file;
	/* the job's hosts name the nodes that never joined */
	if (nl && !fd_hostlist_expand(nl, &hosts, &nh, 65536)) {
		o->group.hosts = hosts;
		o->group.nhosts = (int)nh;
	}
	if (o->peer_timeout_ms <= o->peer_interval_ms) {
		fd_err("run: --peer-timeout must be longer than --peer-interval");
		return -1;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct fd_run_opts o = {0};
	struct fd_opt_table tables[FD_ARRAY_SIZE(run_tables)];
	struct fd_opt_parser p = {.cmd = "run",
				  .default_config = 1,
				  .tables = tables,
				  .n_tables = FD_ARRAY_SIZE(tables),
				  /* options end at the first word of the command */
				  .stop_at_word = 1};
	int ret = FD_RUN_USAGE;

	memcpy(tables, run_tables, sizeof(tables));
	for (size_t i = 0; i < FD_ARRAY_SIZE(tables); i++)
		tables[i].obj = &o;
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
	if (resolve_group(&o))
		goto out;
	if (o.print_group) {
		ret = 0;
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
	if (o.backoff_max_ms < o.backoff_ms)
		o.backoff_max_ms = o.backoff_ms;
	o.argv = argv + p.optind;
	ret = fd_supervise(&o);
out:
	/* after fd_supervise: strings from a --config file live in the parser */
	fd_opt_release(&p);
	return ret;
}
