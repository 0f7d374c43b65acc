/*
 * exits.c - the table of exit statuses (see exits.h).
 */
#include "exits.h"

#include <stdio.h>
#include <string.h>

static const struct fd_exit exits[] = {
    {"run", FD_EXIT_FIT, "the command finished",
     "the command finished with status 0 (under --nproc-per-node: every rank exited 0)", NULL},
    {"run", FD_EXIT_USAGE, "usage error",
     "usage error: a bad flag or duration, an unreadable --checkpoint-dir, an --events file "
     "that cannot be opened; in a group, nodes whose flags do not make one job (another "
     "--nnodes, one --node-rank twice, another token or build), a coordinator port taken, an "
     "open-file hard limit too small for the group (ulimit -n)",
     "fix the job"},
    {"run", FD_EXIT_JOB_UNFIT, "the preflight failed: a node is unfit",
     "the preflight failed: this node, or in a group any node, is unfit (EX_UNAVAILABLE)",
     "drain the node; Kubernetes podFailurePolicy onExitCodes: [69] -> Ignore or FailJob"},
    {"run", FD_EXIT_PEER_LOST, "a node of the group was lost",
     "a node of the group was lost (connection closed, silent past --peer-timeout) or never "
     "joined (--join-timeout), and no spare could take its place (node 0's loss, none left, "
     "--max-restarts spent on losses); every node of the job exits 75 and names it "
     "(EX_TEMPFAIL)",
     "requeue (Slurm RequeueExit=75)"},
    {"run", FD_EXIT_STALLED, "gave up: the job kept stalling",
     "gave up: the job kept stalling (--max-restarts spent, or --no-progress-limit)",
     "look at the events log; do not requeue blindly"},
    {"run", FD_EXIT_TIMEOUT, "--timeout reached", "--timeout reached (as timeout(1))", NULL},
    {"run", FD_EXIT_INTERNAL, "flightdeck itself failed",
     "flightdeck itself failed (as timeout(1))", NULL},
    {"run", FD_EXIT_NOEXEC, "the command cannot be executed",
     "the command cannot be executed; the reason is on stderr", "fix the job"},
    {"run", FD_EXIT_NOTFOUND, "the command was not found",
     "the command was not found; the reason is on stderr", "fix the job"},
    {"run", FD_EXIT_SIGNAL_BASE, "stopped by a signal", "flightdeck was told to stop by signal N",
     NULL},
    {"check", FD_EXIT_FIT, "fit", "fit: no check failed (warnings allowed)", NULL},
    {"check", FD_EXIT_UNFIT, "unfit",
     "unfit: at least one finding failed (a sysfs/proc value the kernel should never write, "
     "such as an empty port state or a garbage rate, is a HW_FACT_MALFORMED failure naming the "
     "file; the other checks still run)",
     "drain the node (the Slurm Prolog and HealthCheckProgram do)"},
    {"check", FD_EXIT_USAGE, "usage or configuration error",
     "usage or configuration error, i.e. what the operator gave: an unknown flag, a malformed "
     "value, an unreadable config file or root (one line on stderr names it)",
     "fix the flags or the config file"},
    {"check", FD_EXIT_CANT_RUN, "could not run",
     "could not run (out of memory, the --prom-file write failed)", NULL},
    {"check", FD_EXIT_JOB_UNFIT, "a node of the job is unfit",
     "with --job: a node of the job is unfit (node 0 prints the table and writes "
     "--exclude-file)",
     "drain the named nodes; resubmit with sbatch --exclude"},
    {"check", FD_EXIT_PEER_LOST, "a node of the job was lost",
     "with --job: a node of the job was lost or never joined (--join-timeout)", "requeue"},
    {"check", FD_EXIT_SIGNAL_BASE, "stopped by a signal",
     "stopped by signal N (SIGTERM 143, SIGINT 130) while gpubench ran: gpubench and its "
     "children were killed first",
     NULL},
    {"memfit", FD_EXIT_FIT, "fits", "the job fits", NULL},
    {"memfit", FD_EXIT_UNFIT, "does not fit", "the job does not fit", NULL},
    {"memfit", FD_EXIT_USAGE, "usage error", "usage error", NULL},
    {"memfit", FD_EXIT_CANT_RUN, "cannot judge", "cannot judge", NULL},
    {"bench", FD_EXIT_FIT, "as expected", "measured and within expectations", NULL},
    {"bench", FD_EXIT_UNFIT, "wrong or slow", "a result wrong or below its floor", NULL},
    {"bench", FD_EXIT_USAGE, "usage error", "usage error", NULL},
    {"bench", FD_EXIT_CANT_RUN, "nothing to measure", "nothing to measure", NULL},
};

size_t fd_exit_count(void)
{
	return sizeof(exits) / sizeof(exits[0]);
}

const struct fd_exit *fd_exit_at(size_t i)
{
	return i < fd_exit_count() ? &exits[i] : NULL;
}

const struct fd_exit *fd_exit_find(const char *cmd, int code)
{
	if (code > FD_EXIT_SIGNAL_BASE && code < FD_EXIT_SIGNAL_BASE + 65)
		code = FD_EXIT_SIGNAL_BASE;
	for (size_t i = 0; i < fd_exit_count(); i++)
		if (exits[i].code == code && !strcmp(exits[i].cmd, cmd))
			return &exits[i];
	return NULL;
}

const char *fd_exit_name(const char *cmd, int code)
{
	const struct fd_exit *e = fd_exit_find(cmd, code);

	if (e)
		return e->name;
	return !strcmp(cmd, "run") ? "the command's own exit status" : "exit status";
}

void fd_exit_print(FILE *out, const char *cmd)
{
	for (size_t i = 0; i < fd_exit_count(); i++) {
		const struct fd_exit *e = &exits[i];

		if (strcmp(e->cmd, cmd))
			continue;
		if (e->code == FD_EXIT_SIGNAL_BASE)
			fprintf(out, "  128+N  %s\n", e->name);
		else
			fprintf(out, "  %-6d %s\n", e->code, e->name);
	}
}
