/*
 * main.c - flightdeck's entry point: one static table of commands (git's commands[]).
 *
 * Adding a command: write cmd_NAME(argc, argv) in launcher/cli/cmd_NAME.c, declare it in
 * commands.h, add it to the flightdeck target in CMakeLists.txt, add a row below and a paragraph
 * to the usage text, and a manual in docs/ (linked from the README).
 */
#include "commands.h"
#include "util.h"
#include "build_config.h"

#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary; /* NULL: internal, left out of the usage text */
} commands[] = {
    {"check", cmd_check, "prove this node fit to train (IB, GPUs, host); exit 0 fit, 1 unfit"},
    {"run", cmd_run, "run a training command under supervision: preflight, stalls, restarts"},
    {"beat", cmd_beat, "send one heartbeat to the supervising `flightdeck run` (for shell)"},
    {"memfit", cmd_memfit, "will a training job fit in GPU memory; if not, what would"},
    {"bench", cmd_bench, "measure the GPUs: HBM, host links, P2P and NCCL allreduce"},
    {"explain", cmd_explain, "what a reason code means and what to do about it"},
    {"version", cmd_version, "version and the optional parts this build has"},
    {"gpu-wait", cmd_gpu_wait, NULL}, /* run's GPU wait, exec()ed by the supervisor */
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: flightdeck COMMAND [OPTIONS]\n"
	    "\n"
	    "flightdeck proves a GPU training node fit before a job starts: InfiniBand ports,\n"
	    "GPUs (driver, NVML health, Xid errors), /dev/shm, memlock, the checkpoint directory.\n"
	    "Run it as a Slurm Prolog/HealthCheckProgram or a Kubernetes init container, or put\n"
	    "`flightdeck run --` in front of the training command to supervise it: stalls,\n"
	    "crashes and timeouts kill the whole tree and restart from the newest checkpoint.\n"
	    "\n"
	    "commands:\n");
	for (size_t i = 0; i < FD_ARRAY_SIZE(commands); i++)
		if (commands[i].summary)
			fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(
	    out,
	    "\n"
	    "exit codes of `check`:\n"
	    "  0  fit (warnings allowed)         2  usage or configuration error\n"
	    "  1  unfit: a check failed          3  could not run\n"
	    "  128+N  stopped by signal N (its gpubench is taken down with it)\n"
	    "\n"
	    "exit codes of `run`: the command's own status when it ends by itself (128+N for\n"
	    "signal N), else 2 usage, 69 preflight failed, 75 peer node lost, 86 gave up after\n"
	    "stalls, 124 --timeout, 125 flightdeck failed, 126/127 command not executable/found.\n"
	    "\n"
	    "exit codes of `memfit`: 0 fits, 1 does not fit, 2 usage error, 3 cannot judge.\n"
	    "exit codes of `bench`: 0 measured and within expectations, 1 a result wrong or\n"
	    "below its floor, 2 usage error, 3 nothing to measure.\n"
	    "\n"
	    "`flightdeck COMMAND --help` describes each command; README.md has the details.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return FD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < FD_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fd_err(
	    "unknown command '%s' (commands: check, run, beat, memfit, bench, explain, version; see flightdeck --help)",
	    argv[1]);
	return FD_EXIT_USAGE;
}
