/*
 * exits.h - every exit status a flightdeck command gives, in one table (docs/architecture.md,
 * "Contracts"). The usage text, `flightdeck explain CODE` and the termination message print
 * it; tests/integration/t0005-exit-codes.sh holds docs/run.md and docs/check.md to it.
 *
 * The codes follow sysexits(3) where a scheduler acts on them (69 EX_UNAVAILABLE: drain,
 * 75 EX_TEMPFAIL: requeue) and timeout(1) for a time limit and flightdeck's own failure.
 * No code means two things for one command.
 */
#ifndef FD_EXITS_H
#define FD_EXITS_H

#include <stddef.h>
#include <stdio.h>

enum fd_exit_code {
	FD_EXIT_FIT = 0,
	FD_EXIT_UNFIT = 1,
	FD_EXIT_USAGE = 2,
	FD_EXIT_CANT_RUN = 3,
	FD_EXIT_JOB_UNFIT = 69,	   /* EX_UNAVAILABLE: a node is unfit; drain it */
	FD_EXIT_PEER_LOST = 75,	   /* EX_TEMPFAIL: a node of the group was lost; requeue */
	FD_EXIT_STALLED = 86,	   /* gave up: the job kept stalling */
	FD_EXIT_TIMEOUT = 124,	   /* --timeout reached, as timeout(1) */
	FD_EXIT_INTERNAL = 125,	   /* flightdeck itself failed, as timeout(1) */
	FD_EXIT_NOEXEC = 126,	   /* the command cannot be executed */
	FD_EXIT_NOTFOUND = 127,	   /* the command was not found */
	FD_EXIT_SIGNAL_BASE = 128, /* 128+N: stopped by signal N */
};

struct fd_exit {
	const char *cmd;  /* "check", "run", "memfit", "bench" */
	int code;	  /* FD_EXIT_SIGNAL_BASE: the 128+N row */
	const char *name; /* a few words: the termination message's */
	const char *meaning;
	const char *scheduler; /* what a scheduler or operator does with it; NULL: nothing */
};

size_t fd_exit_count(void);
const struct fd_exit *fd_exit_at(size_t i);
/* The row of cmd's code (a code above 128 finds the 128+N row); NULL when there is none. */
const struct fd_exit *fd_exit_find(const char *cmd, int code);
/* cmd's rows for a --help text: "  CODE   words", one a line. */
void fd_exit_print(FILE *out, const char *cmd);
/* Its few words; for run, a code without a row is "the command's own exit status". */
const char *fd_exit_name(const char *cmd, int code);

#endif
