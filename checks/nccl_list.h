/*
 * nccl_list.h - NCCL's interface and HCA list syntax, as NCCL itself reads it.
 */
#ifndef FD_NCCL_LIST_H
#define FD_NCCL_LIST_H

#include <stddef.h>

/*
 * NCCL's interface and HCA list syntax: "a,b" selects names starting with a or b; a
 * leading '^' inverts the list; a leading '=' (after any '^') makes matches exact. A parse
 * is a few string copies: callers parse where they match.
 */
#define FD_NCCL_LIST_MAX 16
struct fd_nccl_list {
	int exclude, exact;
	size_t n;
	struct {
		char name[64];
		int port; /* NCCL_IB_HCA "mlx5_0:1"; 0 when absent */
	} e[FD_NCCL_LIST_MAX];
};
int fd_nccl_list_parse(const char *s, struct fd_nccl_list *out);
/* Index of the first entry that matches name (and port, when the entry has one), or -1. */
int fd_nccl_list_match(const struct fd_nccl_list *l, const char *name, int port);

#endif
