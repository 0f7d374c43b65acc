/*
 * star.c - the TCP star made: node 0 gets the coordinator's transport (coord.c), every other
 * node a member's (member.c), each with its own ops table. The role is chosen here, once;
 * nothing after asks which one this node plays (docs/architecture.md, "The node group").
 */
#define _GNU_SOURCE
#include "tcp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int fd_group_tcp(struct fd_group *g, struct fd_loop *loop, const struct fd_policy *pol,
		 const struct fd_group_conf *conf, const struct fd_group_callbacks *cb, void *ctx,
		 char *err, size_t errlen)
{
	int r;

	memset(g, 0, sizeof(*g));
	g->efd = -1;
	if (conf->nnodes < 2 || conf->node < 0 || conf->node >= conf->nnodes ||
	    conf->token_len > FD_TOKEN_MAX) {
		snprintf(err, errlen, "node group: node %d of %d, token of %zu bytes: invalid",
			 conf->node, conf->nnodes, conf->token_len);
		return -EINVAL;
	}
	if (conf->node == 0)
		r = coord_new(g, loop, pol, conf, cb, ctx, err, errlen);
	else
		r = member_new(g, loop, pol, conf, cb, ctx, err, errlen);
	if (r && !*err)
		snprintf(err, errlen, "node group: %s", strerror(-r));
	return r;
}
