/*
 * main.c - flightdeck's entry point: one static table of commands (git's commands[]).
 *
 * Adding a command: write cmd_NAME(argc, argv) in launcher/cli/cmd_NAME.c, declare it in
 * commands.h, add it to the cli layer's sources in CMakeLists.txt, add a row below, and give
 * its exit statuses rows in launcher/core/exits.c and its manual a page in docs/ (linked from the README).
 */
#include "commands.h"
#include "report.h"
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

/* The commands of the exit table in its order: the one after prev (NULL: the first). */
static const char *next_cmd(const char *prev)
{
	int past = prev == NULL;

	for (size_t i = 0; i < fd_exit_count(); i++) {
		const char *c = fd_exit_at(i)->cmd;
		int seen = 0;

		if (!past) {
			past = !strcmp(c, prev);
			continue;
		}
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(fd_exit_at(j)->cmd, c);
		if (!seen)
			return c;
	}
	return NULL;
}

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
	fputs("\nexit codes (`flightdeck explain CODE` says more):\n", out);
	for (const char *cmd = NULL, *prev = NULL; (cmd = next_cmd(prev)); prev = cmd) {
		char line[1024];
		size_t k = (size_t)snprintf(line, sizeof(line), "%s:", cmd);

		for (size_t i = 0; i < fd_exit_count() && k < sizeof(line); i++) {
			const struct fd_exit *e = fd_exit_at(i);

			if (strcmp(e->cmd, cmd))
				continue;
			if (e->code == FD_EXIT_SIGNAL_BASE)
				k += (size_t)snprintf(line + k, sizeof(line) - k, " 128+N %s;",
						      e->name);
			else
				k += (size_t)snprintf(line + k, sizeof(line) - k, " %d %s;",
						      e->code, e->name);
		}
		fd_wrap(out, line, 2, 90);
	}
	fputs("  run, when the command ends by itself: the command's own status (128+N for\n"
	      "  signal N)\n"
	      "\n"
	      "`flightdeck COMMAND --help` describes each command; docs/ has the manuals.\n",
	      out);
}

/* The command names, for the unknown-command line: from the table, never a copy of it. */
static void command_names(char *out, size_t len)
{
	size_t k = 0;

	*out = '\0';
	for (size_t i = 0; i < FD_ARRAY_SIZE(commands) && k < len; i++)
		if (commands[i].summary)
			k += (size_t)snprintf(out + k, len - k, "%s%s", k ? ", " : "",
					      commands[i].name);
}

int main(int argc, char **argv)
{
	char names[256];

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
	command_names(names, sizeof(names));
	fd_err("unknown command '%s' (commands: %s; see flightdeck --help)", argv[1], names);
	return FD_EXIT_USAGE;
}
