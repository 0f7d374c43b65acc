/*
 * sysfs.h - reading kernel attribute files under a movable root (the --sysfs-root and
 * --proc-root seams), with errors that name the file.
 */
#ifndef FD_SYSFS_H
#define FD_SYSFS_H

#include <stddef.h>

#include "util.h"

/* err: a buffer of FD_ERR_MAX bytes (a probe context's err) that gets the failure's line. */

/*
 * Reads ROOT/REL into buf. Returns the length, or -errno. A missing file is -ENOENT and no
 * message; an unreadable or oversized one fills err with the path and the reason.
 */
int fd_attr_read(char *err, const char *root, const char *rel, char *buf, size_t len);

/* As fd_attr_read, but a missing file is an error too: "ROOT/REL: missing" in err. */
int fd_attr_read_required(char *err, const char *root, const char *rel, char *buf, size_t len);

/*
 * Lists the names in directory ROOT/REL (no dot entries), sorted in version order so that
 * mlx5_2 comes before mlx5_10. *names is one malloc'd block; free it with free(). A missing
 * directory is -ENOENT with *n = 0.
 */
int fd_dir_list(const char *root, const char *rel, char ***names, size_t *n);

/*
 * Sets err to "PATH: cannot parse 'TEXT' (expected WHAT)" and returns -EBADMSG: a value the
 * kernel should never write is a fact about the machine, not the operator's mistake, so its
 * own errno lets the check runner make it a finding instead of a usage error.
 */
int fd_attr_garbage(char *err, const char *root, const char *rel, const char *text,
		    const char *what);

/* The basename of the symlink ROOT/REL's target ("nvidia" for a PCI driver link). */
int fd_link_base(const char *root, const char *rel, char *out, size_t len);

#endif
