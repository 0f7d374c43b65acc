/*
 * pairs.c - the rounds of the RDMA write test between node pairs (see pairs.h).
 */
#include "pairs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int fd_pairs_init(struct fd_pairs *s, int n)
{
	memset(s, 0, sizeof(*s));
	if (n < 2 || n > 65536)
		return -EINVAL;
	s->n = n;
	s->round = -1;
	s->state = calloc((size_t)n, sizeof(*s->state));
	s->met = calloc((size_t)n * (size_t)n, 1);
	s->cap = n;
	s->p = calloc((size_t)s->cap, sizeof(*s->p));
	if (!s->state || !s->met || !s->p) {
		fd_pairs_free(s);
		return -ENOMEM;
	}
	return 0;
}

void fd_pairs_free(struct fd_pairs *s)
{
	free(s->state);
	free(s->met);
	free(s->p);
	memset(s, 0, sizeof(*s));
}

static int met(const struct fd_pairs *s, int a, int b)
{
	return s->met[(size_t)a * (size_t)s->n + (size_t)b];
}

static int add(struct fd_pairs *s, int a, int b)
{
	if (s->np == s->cap) {
		struct fd_pair *p = realloc(s->p, (size_t)s->cap * 2 * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->p = p;
		s->cap *= 2;
	}
	s->p[s->np++] = (struct fd_pair){.a = a, .b = b, .round = s->round, .skipper = -1};
	s->met[(size_t)a * (size_t)s->n + (size_t)b] = 1;
	s->met[(size_t)b * (size_t)s->n + (size_t)a] = 1;
	return 0;
}

/* One end x of a slow or failed pair whose other end was in state peer before the round. */
static int struck(int x, int peer)
{
	if (x == FDPN_GOOD || x == FDPN_BAD)
		return x; /* proven with another peer: this pair says nothing new about it */
	if (peer == FDPN_GOOD && x == FDPN_SUSPECT)
		return FDPN_BAD; /* slow before, and slow with a node proven good */
	return FDPN_SUSPECT;
}

/* This round's verdicts into the nodes' states. */
static void take(struct fd_pairs *s)
{
	for (int i = s->first; i < s->np; i++) {
		const struct fd_pair *p = &s->p[i];
		int sa = s->state[p->a], sb = s->state[p->b];

		switch (p->verdict) {
		case FDP_OK:
			s->state[p->a] = s->state[p->b] = FDPN_GOOD;
			break;
		case FDP_SLOW:
		case FDP_FAILED:
			s->state[p->a] = struck(sa, sb);
			s->state[p->b] = struck(sb, sa);
			break;
		case FDP_SKIP:
		default: /* a pair that never reported is treated as one that could not test */
			/* the side that can test is tried again with another peer */
			if (sa == FDPN_UNTESTED && p->skipper != p->b)
				s->state[p->a] = FDPN_SKIPPED;
			if (sb == FDPN_UNTESTED && p->skipper != p->a)
				s->state[p->b] = FDPN_SKIPPED;
			break;
		}
	}
}

static int needy(int st)
{
	return st == FDPN_SUSPECT || st == FDPN_UNTESTED;
}

int fd_pairs_next(struct fd_pairs *s)
{
	unsigned char *used;
	int ngood = 0, r = 0;

	if (s->round >= 0)
		take(s);
	if (s->round + 1 >= FD_PAIRS_MAX_ROUNDS)
		return 0;
	used = calloc((size_t)s->n, 1);
	if (!used)
		return -ENOMEM;
	s->round++;
	s->first = s->np;
	if (s->round == 0) {
		for (int i = 0; i + 1 < s->n && !r; i += 2)
			r = add(s, i, i + 1);
		goto out;
	}
	for (int i = 0; i < s->n; i++)
		ngood += s->state[i] == FDPN_GOOD;
	for (int x = 0; x < s->n && !r; x++) {
		if (!needy(s->state[x]) || used[x])
			continue;
		for (int y = 0; y < s->n; y++) {
			/* a good node when there is one; else another suspect, in a pair not tried */
			int fit = ngood ? s->state[y] == FDPN_GOOD : needy(s->state[y]) && y != x;

			if (!fit || used[y] || met(s, x, y))
				continue;
			used[x] = used[y] = 1;
			r = ngood ? add(s, y, x) : add(s, x, y);
			break;
		}
	}
out:
	free(used);
	return r ? r : s->np - s->first;
}

static int unexplained(const struct fd_pairs *s, const struct fd_pair *p)
{
	return (p->verdict == FDP_SLOW || p->verdict == FDP_FAILED) && s->state[p->a] != FDPN_BAD &&
	       s->state[p->b] != FDPN_BAD;
}

void fd_pairs_verdict(const struct fd_pairs *s, struct fd_pairs_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->link[0] = v->link[1] = -1;
	for (int i = 0; i < s->np; i++) {
		const struct fd_pair *p = &s->p[i];

		v->ran++;
		v->ok += p->verdict == FDP_OK;
		v->slow += p->verdict == FDP_SLOW;
		v->failed += p->verdict == FDP_FAILED;
		v->skipped += p->verdict == FDP_SKIP || p->verdict == FDP_PENDING;
		if (unexplained(s, p) && v->nlinks++ == 0) {
			v->link[0] = p->a;
			v->link[1] = p->b;
		}
	}
	for (int i = 0; i < s->n; i++)
		v->nbad += s->state[i] == FDPN_BAD;
}

int fd_pairs_named(const struct fd_pairs *s, int i)
{
	if (i < 0 || i >= s->n)
		return 0;
	if (s->state[i] == FDPN_BAD)
		return 1;
	for (int k = 0; k < s->np; k++) {
		const struct fd_pair *p = &s->p[k];
		int other;

		if ((p->a != i && p->b != i) || !unexplained(s, p))
			continue;
		other = p->a == i ? p->b : p->a;
		/* a proven-good end is named only when its peer proved good too: the link */
		if (s->state[i] != FDPN_GOOD || s->state[other] == FDPN_GOOD)
			return 1;
	}
	return 0;
}
