/*
 * bisect.c - the bisection that names the node slowing the job-wide allreduce (see bisect.h).
 *
 * Why halves, and why a known good partner for the last two: an allreduce is as fast as its
 * slowest member, so of two disjoint halves of a slow set the slow node's half is the slow
 * one, and both can run at the same time. Two nodes cannot be told apart by testing them
 * together, nor alone (a world of one node never touches the network), so each is tested with
 * a node that already passed.
 */
#include "bisect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	KIND_FULL,   /* round 0: the whole job */
	KIND_HALVES, /* sets[0] = half A, sets[1] = half B (+ a good partner when B is one node) */
	KIND_PAIR2,  /* two suspects, each with its own good partner */
	KIND_PAIR1,  /* two suspects, one good node: the first suspect with it */
};

int fd_bisect_init(struct fd_bisect *b, int n)
{
	int log2n = 0;

	memset(b, 0, sizeof(*b));
	if (n < 1 || n > 1 << 20)
		return -EINVAL;
	while ((1 << log2n) < n)
		log2n++;
	b->n = n;
	b->max_rounds = 1 + (log2n > 1 ? log2n : 1);
	b->buf = calloc((size_t)n + FD_BISECT_SETS, sizeof(*b->buf));
	b->suspects = calloc((size_t)n, sizeof(*b->suspects));
	b->good = calloc((size_t)n, 1);
	if (!b->buf || !b->suspects || !b->good) {
		fd_bisect_free(b);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		b->buf[i] = i;
	b->kind = KIND_FULL;
	b->nsets = 1;
	b->sets[0] = (struct fd_bisect_set){.nodes = b->buf, .n = n};
	b->culprit[0] = b->culprit[1] = -1;
	return 0;
}

void fd_bisect_free(struct fd_bisect *b)
{
	free(b->buf);
	free(b->suspects);
	free(b->good);
	b->buf = b->suspects = NULL;
	b->good = NULL;
}

/* The k-th node proven good (k = 0, 1), or -1. */
static int good_node(const struct fd_bisect *b, int k)
{
	for (int i = 0; i < b->n; i++)
		if (b->good[i] && k-- == 0)
			return i;
	return -1;
}

static void mark_good(struct fd_bisect *b, const struct fd_bisect_set *s)
{
	for (int i = 0; i < s->n; i++)
		b->good[s->nodes[i]] = 1;
}

/* The suspects become the nodes of set s less any node already proven good (a partner). */
static void suspect(struct fd_bisect *b, const struct fd_bisect_set *s)
{
	int k = 0;

	for (int i = 0; i < s->n; i++)
		if (!b->good[s->nodes[i]])
			b->suspects[k++] = s->nodes[i];
	b->nsus = k;
}

/* Plans the round that narrows b->suspects, or says the outcome. */
static int plan(struct fd_bisect *b)
{
	int *p = b->buf, g0 = good_node(b, 0), g1 = good_node(b, 1);

	b->b_alone = 0;
	if (b->nsus == 1) {
		b->culprit[0] = b->suspects[0];
		return BWW_CULPRIT;
	}
	if (b->nsus == 0)
		return BWW_NONE;
	if (b->nsus == 2 && g0 < 0) { /* no node proven good to test either with */
		b->culprit[0] = b->suspects[0];
		b->culprit[1] = b->suspects[1];
		return BWW_PAIR;
	}
	if (b->round + 1 >= b->max_rounds)
		return BWW_ROUNDS;
	b->round++; /* counts the rounds that run: an outcome found here needs none */
	if (b->nsus == 2) {
		int a = b->suspects[0], c = b->suspects[1];

		b->culprit[0] = a;
		b->culprit[1] = c;
		p[0] = a;
		p[1] = g0;
		b->sets[0] = (struct fd_bisect_set){.nodes = p, .n = 2};
		b->nsets = 1;
		b->kind = KIND_PAIR1;
		if (g1 >= 0) {
			p[2] = c;
			p[3] = g1;
			b->sets[1] = (struct fd_bisect_set){.nodes = p + 2, .n = 2};
			b->nsets = 2;
			b->kind = KIND_PAIR2;
		}
		return FD_BISECT_MORE;
	}
	/* halves: A the first ceil(n/2) suspects, B the rest (>= 1) */
	int h = (b->nsus + 1) / 2, nb = b->nsus - h;

	memcpy(p, b->suspects, (size_t)b->nsus * sizeof(*p));
	b->sets[0] = (struct fd_bisect_set){.nodes = p, .n = h};
	b->sets[1] = (struct fd_bisect_set){.nodes = p + h, .n = nb};
	b->nsets = 2;
	b->kind = KIND_HALVES;
	if (nb == 1) {
		if (g0 >= 0) {
			p[h + 1] = g0;
			b->sets[1].n = 2;
		} else {
			b->nsets = 1; /* B alone is no world: it is what is left if A passes */
			b->b_alone = 1;
		}
	}
	return FD_BISECT_MORE;
}

int fd_bisect_next(struct fd_bisect *b, const struct fd_bisect_result *res)
{
	struct fd_bisect_set *A = &b->sets[0], *B = &b->sets[1];

	switch (b->kind) {
	case KIND_FULL:
		if (res[0].pass)
			return BWW_PASS;
		suspect(b, A);
		return plan(b);
	case KIND_HALVES:
		if (b->b_alone) {
			if (res[0].pass) {
				mark_good(b, A);
				b->suspects[0] = B->nodes[0];
				b->nsus = 1;
			} else {
				suspect(b, A); /* B's one node is not proven good: not marked */
			}
			return plan(b);
		}
		if (res[0].pass && res[1].pass)
			return BWW_NONE;
		if (!res[0].pass && !res[1].pass) {
			/* both slow: the slower half is recursed into, and the outcome says so */
			b->also_slow = 1;
			suspect(b, res[1].busbw < res[0].busbw ? B : A);
			return plan(b);
		}
		mark_good(b, res[0].pass ? A : B);
		suspect(b, res[0].pass ? B : A);
		return plan(b);
	case KIND_PAIR1:
		/* the first suspect with a good node: slow, it is the culprit; else the other */
		b->culprit[0] = res[0].pass ? b->culprit[1] : b->culprit[0];
		b->culprit[1] = -1;
		return BWW_CULPRIT;
	case KIND_PAIR2:
		if (res[0].pass && res[1].pass)
			return BWW_NONE; /* each is fine with a good node: only the two together */
		if (!res[0].pass && !res[1].pass) {
			b->also_slow = 1;
			b->culprit[0] = res[1].busbw < res[0].busbw ? b->culprit[1] : b->culprit[0];
		} else {
			b->culprit[0] = res[0].pass ? b->culprit[1] : b->culprit[0];
		}
		b->culprit[1] = -1;
		return BWW_CULPRIT;
	}
	return -EINVAL;
}
