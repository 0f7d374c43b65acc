/*
 * promfile.h - the Prometheus text format and node_exporter's textfile collector, as `check`
 * and `run` both write them: label values escaped, and the file replaced whole so that a
 * scrape never reads half of it (docs/architecture.md, "Contracts").
 */
#ifndef FD_PROMFILE_H
#define FD_PROMFILE_H

#include <stddef.h>
#include <stdio.h>

/* Writes v as a quoted label value: backslash, double quote and newline escaped. */
void fd_prom_label(FILE *f, const char *v);

/*
 * Replaces path with len bytes of text: a temporary file beside it (".flightdeck-prom.XXXXXX":
 * the collector reads only *.prom), mode 0644 (node_exporter may run as another user), fsync
 * when sync is set, then rename. 0 or -errno; on failure nothing is left beside path, and
 * *beside (when given) says whether the temporary file could not even be made.
 */
int fd_prom_replace(const char *path, const char *text, size_t len, int sync, int *beside);

#endif
