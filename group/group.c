/*
 * group.c - the group decision, and the size-1 local transport.
 */
#include "group.h"
#include "util.h"

#include <string.h>

void fd_group_decide(const struct fd_node_state *nodes, int n, const struct fd_policy *pol,
		     struct fd_group_history *h, struct fd_decision *d)
{
	const struct fd_node_state *worst = NULL;
	int64_t max_step = -1;

	memset(d, 0, sizeof(*d));
	d->node = -1;
	/* The first node with the gravest failure: timeouts and unfit nodes end the job. */
	for (int i = 0; i < n; i++) {
		if (nodes[i].max_step > max_step)
			max_step = nodes[i].max_step;
		if (!nodes[i].failure)
			continue;
		if (!worst || nodes[i].failure > worst->failure)
			worst = &nodes[i];
	}
	if (!worst) {
		d->verdict = FD_CONTINUE;
		return;
	}
	d->failure = worst->failure;
	d->node = worst->node;
	if (worst->failure == FD_FAIL_TIMEOUT || worst->failure == FD_FAIL_PREFLIGHT) {
		d->verdict = FD_STOP;
		d->stop_why = FD_STOP_FAILURE;
		return;
	}
	/* Every node resumes from what node 0 sees (checkpoints live on a shared filesystem). */
	const char *ckpt = nodes[0].checkpoint;

	if (h->have_last && !strcmp(ckpt, h->last_resume) && max_step <= h->last_max_step)
		h->no_progress++;
	else
		h->no_progress = 0;
	if (h->restarts >= pol->max_restarts) {
		d->verdict = FD_STOP;
		d->stop_why = FD_STOP_BUDGET;
		return;
	}
	if (pol->no_progress_limit > 0 && h->no_progress >= pol->no_progress_limit) {
		d->verdict = FD_STOP;
		d->stop_why = FD_STOP_NO_PROGRESS;
		return;
	}
	d->verdict = FD_RESTART;
	fd_strlcpy(d->checkpoint, ckpt, sizeof(d->checkpoint));
	h->restarts++;
	h->have_last = 1;
	h->last_max_step = max_step;
	fd_strlcpy(h->last_resume, ckpt, sizeof(h->last_resume));
}

static int local_exchange(struct fd_group *g, const struct fd_node_state *mine,
			  struct fd_decision *d)
{
	fd_group_decide(mine, 1, &g->policy, &g->history, d);
	return 0;
}

static void local_close(struct fd_group *g)
{
	(void)g;
}

static const struct fd_group_ops local_ops = {
    .name = "local",
    .exchange = local_exchange,
    .close = local_close,
};

int fd_group_local(struct fd_group *g, const struct fd_policy *pol)
{
	memset(g, 0, sizeof(*g));
	g->ops = &local_ops;
	g->rank = 0;
	g->size = 1;
	g->policy = *pol;
	return 0;
}
