/*
 * stacks.h - reading a stuck rank's Python stack dump (faulthandler's format), as pure
 * functions: the supervisor names where each stuck rank is in one line, the whole text goes
 * to the events log.
 */
#ifndef FD_STACKS_H
#define FD_STACKS_H

#include <stddef.h>

/* 'File "/a/b/train.py", line 81 in main' -> "train.py:81 in main"; else the line as is. */
void stacks_frame_short(const char *f, char *out, size_t len);

/*
 * Where the thread the dump calls current is (most recent call first): the innermost frame of
 * the job's own code, and the innermost frame of all when that is in a library
 * ("train.py:81 in main (in distributed_c10d.py:1541 in all_reduce)").
 */
void stacks_innermost(const char *text, char *out, size_t len);

#endif
