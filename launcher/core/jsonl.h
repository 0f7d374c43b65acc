/*
 * jsonl.h - JSON Lines output: one object per line, written with a single write().
 *
 * O_APPEND and one write() per line is what lets several writers (and a `tail -f`) share a
 * file without torn lines; the caller decides the object's fields.
 */
#ifndef FD_JSONL_H
#define FD_JSONL_H

#include <cjson/cJSON.h>

/* Writes o and a newline to fd, then frees o (also on failure). 0 or -errno. */
int fd_jsonl_write(int fd, cJSON *o);

#endif
