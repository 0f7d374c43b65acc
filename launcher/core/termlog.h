/*
 * termlog.h - the Kubernetes termination message: what a container says about why it ended,
 * read by the kubelet from terminationMessagePath (/dev/termination-log by default) into the
 * pod's status, at most 4096 bytes (docs/architecture.md, "Contracts").
 */
#ifndef FD_TERMLOG_H
#define FD_TERMLOG_H

#include <stddef.h>

#define FD_TERMLOG_MAX	   4096
#define FD_TERMLOG_DEFAULT "/dev/termination-log"

/*
 * The file to write for --termination-log opt: opt itself; "none" for none (NULL); with no
 * option (opt NULL or ""), /dev/termination-log when it exists and is writable (inside a
 * Kubernetes container), else none.
 */
const char *fd_termlog_path(const char *opt);

/*
 * Writes msg to path in place (the kubelet bind-mounts the file: it cannot be replaced),
 * cut to FD_TERMLOG_MAX bytes at a line end or, failing that, a UTF-8 character boundary.
 * Never follows a symbolic link nor blocks on a FIFO: only a regular file is written (one is
 * created when path does not exist). 0 or -errno with err holding one line.
 */
int fd_termlog_write(const char *path, const char *msg, char *err, size_t errlen);

#endif
