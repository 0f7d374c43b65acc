/*
 * report.h - rendering a check report: a text table for people, one JSON document for
 * programs, and a Prometheus node_exporter textfile for dashboards and alerts.
 */
#ifndef FD_REPORT_H
#define FD_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"

struct fd_report_meta {
	const char *node;
	const char *level;
	int64_t duration_ms;
	double timestamp; /* Unix seconds when the check started */
};

/* The text table, failures first, at most 100 columns. quiet: only warn and fail lines. */
void fd_report_text(FILE *out, const struct fd_report *rep, const struct fd_report_meta *m,
		    int color, int quiet);

/* The JSON findings document of the output contract (docs/architecture.md, "Contracts"),
 * malloc'd; NULL when out of memory. */
char *fd_report_json(const struct fd_report *rep, const struct fd_report_meta *m);

/*
 * Writes the textfile atomically: a temporary file in the same directory, fsync, rename,
 * so node_exporter never scrapes half a file. Returns 0 or -errno with err filled.
 */
int fd_report_prom(const char *path, const struct fd_report *rep, const struct fd_report_meta *m,
		   char *err, size_t errlen);
/*
 * The same file for a check that gave no verdict (reason "usage", "could_not_run",
 * "stopped"): flightdeck_check_fit NaN, flightdeck_check_error{reason} 1 and m's timestamp,
 * so the last good result never stays and looks current. m->duration_ms is not used.
 */
int fd_report_prom_error(const char *path, const struct fd_report_meta *m, const char *reason,
			 char *err, size_t errlen);

/*
 * --reason-file: the verdict as the one line a Slurm drain reason holds ('flightdeck:
 * CODE[,CODE] SUBJECT' when unfit, an empty file when fit; scripts/slurm/ reads it). The
 * path check refuses a link or a FIFO before the checks spend time. 0 or -errno, err filled.
 */
int fd_reason_path_check(const char *path, char *err, size_t errlen);
int fd_report_reason_file(const char *path, const struct fd_report *rep, char *err, size_t errlen);

/*
 * The termination message (--termination-log) of a check that ended with status: the exit
 * and what it means, the node, the level, the codes of an unfit node. 0 or -errno, err filled.
 */
int fd_report_termination(const char *path, const struct fd_report *rep,
			  const struct fd_report_meta *m, int status, char *err, size_t errlen);

/* Writes text word-wrapped to `width` columns, each line indented by `indent` spaces. */
void fd_wrap(FILE *out, const char *text, int indent, int width);

#endif
