/*
 * cmd_run.c - `flightdeck run [OPTIONS] -- COMMAND...`: options, then the supervisor.
 */
#include "commands.h"
#include "run.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
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
	    "the checkpoint path, or is dropped with its flag when there is none yet.\n"
	    "\n"
	    "heartbeats (any combination):\n"
	    "  the socket       the command sees FLIGHTDECK_HEARTBEAT; a datagram 'rank=R step=N' is a\n"
	    "                   beat (scripts/flightdeck_heartbeat.py, scripts/flightdeck_heartbeat.h,\n"
	    "                   `flightdeck beat --step N`); 'phase=checkpoint' extends the deadline\n"
	    "  --progress-regex RE   a line of output matching RE is a beat; its first group, if any,\n"
	    "                   is the step ('step (\\d+)')\n"
	    "  --heartbeat-file PATH its mtime changing is a beat\n"
	    "  Stall detection starts once a source is known: one of these flags, --ranks, or the\n"
	    "  first datagram. A command that never beats is supervised for crashes and --timeout.\n"
	    "\n"
	    "detection:\n"
	    "  --stall-timeout DUR|auto  a rank that has beaten and then makes no progress (its step\n"
	    "                   stops advancing, or it stops beating) for DUR is stalled [5m]; auto:\n"
	    "                   --stall-factor x the longest step interval seen, at least --stall-floor\n"
	    "  --stall-factor X [5]   --stall-floor DUR [60s]\n"
	    "  --startup-timeout DUR  launch to each rank's first beat (model load, compile) [20m]\n"
	    "  --checkpoint-timeout DUR  the deadline while a rank is in phase=checkpoint [30m]\n"
	    "  --timeout DUR    the whole job's wall clock, restarts included; exit 124 [none]\n"
	    "  --ranks N        local ranks expected to beat [torchrun's --nproc-per-node, else learn]\n"
	    "\n"
	    "kill and restart:\n"
	    "  --grace DUR      between SIGTERM and SIGKILL [25s: under K8s and Slurm's 30 s]\n"
	    "  --kill-wait DUR  after SIGKILL, before survivors (state D) are named and left [10s]\n"
	    "  --max-restarts N [3]   --backoff DUR [10s, doubling]   --backoff-max DUR [5m]\n"
	    "  --no-progress-limit N  give up after N restarts in a row that resumed from the same\n"
	    "                   checkpoint and got no further [2; 0 = never]\n"
	    "  --gpu-release-timeout DUR  wait for the GPUs to hold no process before relaunching [60s]\n"
	    "  --stack-wait DUR how long stuck ranks get to dump their stacks [5s]\n"
	    "  --preflight none|quick|standard  `flightdeck check` before every launch [quick]\n"
	    "  --check-config FILE  a --config file for that preflight\n"
	    "  --checkpoint-dir DIR  where checkpoints are; never modified [none]\n"
	    "  --checkpoint-max-age DUR  warn (stderr, event checkpoint_overdue) when the newest\n"
	    "                   complete checkpoint is older than DUR while the job runs [off]\n"
	    "  --checkpoint-marker NAME  a checkpoint directory is complete when it holds NAME\n"
	    "                   [framework markers: .metadata, trainer_state.json, DeepSpeed latest,\n"
	    "                   *.pt/*.pth/*.ckpt/*.safetensors files]\n"
	    "\n"
	    "telling people:\n"
	    "  --events FILE    append one JSON line per event (start, preflight, stall, timeout,\n"
	    "                   crash, kill, restart, stacks, signal, exit)\n"
	    "  -q, --quiet      no status lines on stderr (errors still go there)\n"
	    "\n"
	    "Signals: SIGTERM, SIGINT, SIGHUP, SIGQUIT are passed to the command's process group\n"
	    "with the same grace; SIGUSR1/SIGUSR2 (Slurm's --signal) are passed on and supervision\n"
	    "goes on. The command gets FLIGHTDECK_RESTART_COUNT and, when resuming,\n"
	    "FLIGHTDECK_RESUME_FROM.\n"
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

enum {
	O_STALL = 256,
	O_FACTOR,
	O_FLOOR,
	O_STARTUP,
	O_CKPT_TIMEOUT,
	O_TIMEOUT,
	O_RANKS,
	O_REGEX,
	O_HBFILE,
	O_GRACE,
	O_KILL_WAIT,
	O_MAX_RESTARTS,
	O_NO_PROGRESS,
	O_BACKOFF,
	O_BACKOFF_MAX,
	O_GPU_RELEASE,
	O_STACK_WAIT,
	O_PREFLIGHT,
	O_CHECK_CONFIG,
	O_CKPT_DIR,
	O_CKPT_MARKER,
	O_CKPT_MAX_AGE,
	O_EVENTS,
};

static const struct option opts[] = {
    {"stall-timeout", required_argument, NULL, O_STALL},
    {"stall-factor", required_argument, NULL, O_FACTOR},
    {"stall-floor", required_argument, NULL, O_FLOOR},
    {"startup-timeout", required_argument, NULL, O_STARTUP},
    {"checkpoint-timeout", required_argument, NULL, O_CKPT_TIMEOUT},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"ranks", required_argument, NULL, O_RANKS},
    {"progress-regex", required_argument, NULL, O_REGEX},
    {"heartbeat-file", required_argument, NULL, O_HBFILE},
    {"grace", required_argument, NULL, O_GRACE},
    {"kill-wait", required_argument, NULL, O_KILL_WAIT},
    {"max-restarts", required_argument, NULL, O_MAX_RESTARTS},
    {"no-progress-limit", required_argument, NULL, O_NO_PROGRESS},
    {"backoff", required_argument, NULL, O_BACKOFF},
    {"backoff-max", required_argument, NULL, O_BACKOFF_MAX},
    {"gpu-release-timeout", required_argument, NULL, O_GPU_RELEASE},
    {"stack-wait", required_argument, NULL, O_STACK_WAIT},
    {"preflight", required_argument, NULL, O_PREFLIGHT},
    {"check-config", required_argument, NULL, O_CHECK_CONFIG},
    {"checkpoint-dir", required_argument, NULL, O_CKPT_DIR},
    {"checkpoint-marker", required_argument, NULL, O_CKPT_MARKER},
    {"checkpoint-max-age", required_argument, NULL, O_CKPT_MAX_AGE},
    {"events", required_argument, NULL, O_EVENTS},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int duration(const char *flag, const char *v, int64_t *ms, int zero_ok)
{
	if (fd_parse_duration_ms(v, ms) || (!zero_ok && *ms == 0)) {
		fd_err("run: --%s: '%s' is not a %sduration (90, 90s, 10m, 72h)", flag, v,
		       zero_ok ? "" : "positive ");
		return -1;
	}
	return 0;
}

static int count(const char *flag, const char *v, int *n)
{
	if (fd_parse_uint(v, n)) {
		fd_err("run: --%s: '%s' is not a whole number", flag, v);
		return -1;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct fd_run_opts o = {
	    .stall_ms = 5 * 60000,
	    .stall_factor = 5.0,
	    .stall_floor_ms = 60000,
	    .startup_ms = 20 * 60000,
	    .checkpoint_ms = 30 * 60000,
	    .grace_ms = 25000, /* under Kubernetes' and Slurm's 30 s default kill windows */
	    .kill_wait_ms = 10000,
	    .max_restarts = 3,
	    .no_progress_limit = 2,
	    .backoff_ms = 10000,
	    .backoff_max_ms = 5 * 60000,
	    .gpu_release_ms = 60000,
	    .stack_wait_ms = 5000,
	    .preflight = FD_PREFLIGHT_QUICK,
	};
	char *end;
	int c, bad = 0;

	opterr = 0;
	optind = 1;
	/* '+': options end at the first word of the command, even without "--". */
	while (!bad && (c = getopt_long(argc, argv, "+:qh", opts, NULL)) != -1) {
		switch (c) {
		case O_STALL:
			if (!strcmp(optarg, "auto"))
				o.stall_auto = 1;
			else
				bad = duration("stall-timeout", optarg, &o.stall_ms, 0);
			break;
		case O_FACTOR:
			o.stall_factor = strtod(optarg, &end);
			if (end == optarg || *end ||
			    !(o.stall_factor >= 1.0 && o.stall_factor <= 1000)) {
				fd_err("run: --stall-factor: '%s' is not a number from 1 to 1000",
				       optarg);
				bad = 1;
			}
			break;
		case O_FLOOR:
			bad = duration("stall-floor", optarg, &o.stall_floor_ms, 0);
			break;
		case O_STARTUP:
			bad = duration("startup-timeout", optarg, &o.startup_ms, 0);
			break;
		case O_CKPT_TIMEOUT:
			bad = duration("checkpoint-timeout", optarg, &o.checkpoint_ms, 0);
			break;
		case O_TIMEOUT:
			if (strcmp(optarg, "none"))
				bad = duration("timeout", optarg, &o.timeout_ms, 1);
			break;
		case O_RANKS:
			bad = count("ranks", optarg, &o.ranks);
			break;
		case O_REGEX:
			o.progress_regex = optarg;
			break;
		case O_HBFILE:
			o.heartbeat_file = optarg;
			break;
		case O_GRACE:
			bad = duration("grace", optarg, &o.grace_ms, 1);
			break;
		case O_KILL_WAIT:
			bad = duration("kill-wait", optarg, &o.kill_wait_ms, 0);
			break;
		case O_MAX_RESTARTS:
			bad = count("max-restarts", optarg, &o.max_restarts);
			break;
		case O_NO_PROGRESS:
			bad = count("no-progress-limit", optarg, &o.no_progress_limit);
			break;
		case O_BACKOFF:
			bad = duration("backoff", optarg, &o.backoff_ms, 1);
			break;
		case O_BACKOFF_MAX:
			bad = duration("backoff-max", optarg, &o.backoff_max_ms, 1);
			break;
		case O_GPU_RELEASE:
			bad = duration("gpu-release-timeout", optarg, &o.gpu_release_ms, 1);
			break;
		case O_STACK_WAIT:
			bad = duration("stack-wait", optarg, &o.stack_wait_ms, 1);
			break;
		case O_PREFLIGHT:
			if (!strcmp(optarg, "none"))
				o.preflight = FD_PREFLIGHT_NONE;
			else if (!strcmp(optarg, "quick"))
				o.preflight = FD_PREFLIGHT_QUICK;
			else if (!strcmp(optarg, "standard"))
				o.preflight = FD_PREFLIGHT_STANDARD;
			else {
				fd_err(
				    "run: --preflight: unknown level '%s' (none, quick, standard)",
				    optarg);
				bad = 1;
			}
			break;
		case O_CHECK_CONFIG:
			o.check_config = optarg;
			break;
		case O_CKPT_DIR:
			o.checkpoint_dir = optarg;
			break;
		case O_CKPT_MARKER:
			if (!*optarg || strchr(optarg, '/')) {
				fd_err(
				    "run: --checkpoint-marker: '%s' must be a file name, not a path",
				    optarg);
				bad = 1;
			}
			o.checkpoint_marker = optarg;
			break;
		case O_CKPT_MAX_AGE:
			bad = duration("checkpoint-max-age", optarg, &o.checkpoint_max_age_ms, 1);
			break;
		case O_EVENTS:
			o.events = optarg;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fd_err("run: %s needs a value", argv[optind - 1]);
			bad = 1;
			break;
		default:
			fd_err("run: unknown option '%s' (see flightdeck run --help)",
			       argv[optind - 1]);
			bad = 1;
			break;
		}
	}
	if (bad)
		return FD_RUN_USAGE;
	if (optind >= argc) {
		fd_err("run: no command given (flightdeck run [OPTIONS] -- COMMAND [ARG...])");
		return FD_RUN_USAGE;
	}
	if (o.checkpoint_max_age_ms && !o.checkpoint_dir) {
		fd_err("run: --checkpoint-max-age needs --checkpoint-dir");
		return FD_RUN_USAGE;
	}
	if (o.backoff_max_ms < o.backoff_ms)
		o.backoff_max_ms = o.backoff_ms;
	o.argv = argv + optind;
	return fd_supervise(&o);
}
