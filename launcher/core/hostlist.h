/*
 * hostlist.h - Slurm hostlist expressions: "gpu[01-04,07]" is gpu01 gpu02 gpu03 gpu04 gpu07.
 *
 * The grammar is Slurm's (src/common/hostlist.c, `scontrol show hostnames`):
 *
 *     list    := name (',' name)*
 *     name    := (text | '[' ranges ']')+     text: any bytes but , [ ] blanks and controls
 *     ranges  := range (',' range)*
 *     range   := DIGITS | DIGITS '-' DIGITS   (low <= high)
 *
 * A number is printed zero-padded to the digit count of its range's low bound, as Slurm does:
 * "n[8-10]" is n8 n9 n10, "n[08-10]" is n08 n09 n10. Several brackets in one name expand to
 * their cartesian product, the last bracket varying fastest: "rack[1-2]-n[1-2]" is rack1-n1
 * rack1-n2 rack2-n1 rack2-n2. Text after the last bracket ("gpu[1-2]-ib") is read, as Slurm
 * reads it since 23.02.5. Duplicates are kept, in the order written.
 *
 * Stricter than Slurm, because a job's node list is machine-written and anything odd in it
 * is a sign of a wrong variable rather than something to guess at: only ',' separates names
 * (Slurm also takes blanks), an empty name (",a", "a,,b", "a,") is an error (Slurm skips
 * it), and so are "[1-]" and "[+1]" (Slurm reads both as 1) and a number past 2^64-1 (Slurm
 * saturates it).
 *
 * Every function checks the whole expression first, so a list malformed anywhere is refused
 * by all of them alike. Errors: -EINVAL for a malformed expression (an unbalanced bracket, an
 * empty name, range or bracket, a range going down, a number overflowing 64 bits),
 * -ENAMETOOLONG for a name longer than FD_HOSTLIST_NAME_MAX or an output buffer too small for
 * a name, -ENOSPC for an output buffer too small for a list, -E2BIG past the caller's count,
 * -ENOMEM.
 */
#ifndef FD_HOSTLIST_H
#define FD_HOSTLIST_H

#include <stddef.h>

/* The longest host name accepted or produced (a DNS name's limit, without the NUL). */
#define FD_HOSTLIST_NAME_MAX 255

/*
 * The first host of expr into out, without expanding the rest: a node list may describe
 * 10,000 nodes and the caller wants one (the coordinator). The whole of expr is checked.
 */
int fd_hostlist_first(const char *expr, char *out, size_t len);

/* The number of hosts expr names (duplicates counted), without expanding it; saturates. */
int fd_hostlist_count(const char *expr, size_t *n);

/*
 * Every host of expr, in order, as a malloc'd array of malloc'd names (fd_hostlist_free).
 * More than max hosts is -E2BIG before anything is allocated, so "n[0-999999999]" cannot
 * eat memory. On error *hosts is NULL and *n 0.
 */
int fd_hostlist_expand(const char *expr, char ***hosts, size_t *n, size_t max);

void fd_hostlist_free(char **hosts, size_t n);

/*
 * The compact form of a set of host names into out, ready for `sbatch --exclude`: names
 * grouped by the text before and after their last run of digits, each group sorted by
 * number, consecutive numbers folded into ranges when the range's zero padding prints each
 * name exactly as given: gpu03,gpu01,gpu02,gpu07 -> gpu[01-03,07]; n8,n9,n10 -> n[8-10]; a
 * group of one is written plain; names without digits are written as they are. Duplicates
 * are written once. n == 0 writes "". -EINVAL for a name that is empty or holds a separator,
 * a bracket, a blank or a control character (it could not be read back).
 *
 * Slurm before 23.02.5 cannot read text after a bracket: names such as gpu1-ib, gpu2-ib are
 * written gpu[1-2]-ib.
 */
int fd_hostlist_compress(char *const *hosts, size_t n, char *out, size_t len);

#endif
