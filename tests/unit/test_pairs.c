/*
 * test_pairs.c - the rounds of the RDMA test between node pairs (launcher/job/pairs.c), pure:
 * a model fabric of bad nodes and bad links answers each pair, and the planner must name
 * exactly what the model broke, within its round bound.
 */
#include "testhelp.h"
#include "pairs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A fabric of n nodes: bad[i], a node slow with every peer; the link a-b slow (one link). */
struct fabric {
	int n;
	const int *bad;
	int nbad;
	int link_a, link_b; /* -1: none */
	int skip;	    /* this node cannot test: -1 none */
};

static int is_bad(const struct fabric *f, int i)
{
	for (int k = 0; k < f->nbad; k++)
		if (f->bad[k] == i)
			return 1;
	return 0;
}

static int answer(const struct fabric *f, int a, int b)
{
	if (a == f->skip || b == f->skip)
		return FDP_SKIP;
	if (is_bad(f, a) || is_bad(f, b))
		return FDP_SLOW;
	if ((a == f->link_a && b == f->link_b) || (a == f->link_b && b == f->link_a))
		return FDP_FAILED;
	return FDP_OK;
}

/* Runs every round against the fabric; returns the rounds run, each node tested once a round. */
static int run(struct fd_pairs *s, const struct fabric *f)
{
	int rounds = 0, k;

	CHECK_EQ_INT(fd_pairs_init(s, f->n), 0);
	while ((k = fd_pairs_next(s)) > 0) {
		unsigned char *seen = calloc((size_t)f->n, 1);

		rounds++;
		for (int i = s->first; i < s->np; i++) {
			struct fd_pair *p = &s->p[i];

			CHECK(p->a != p->b && !seen[p->a] && !seen[p->b]); /* one pair per node */
			seen[p->a] = seen[p->b] = 1;
			p->verdict = answer(f, p->a, p->b);
			if (p->verdict == FDP_SKIP)
				p->skipper = p->a == f->skip ? p->a : p->b;
		}
		free(seen);
	}
	CHECK_EQ_INT(k, 0);
	return rounds;
}

static void named_exactly(const struct fd_pairs *s, const int *want, int nwant)
{
	for (int i = 0; i < s->n; i++) {
		int w = 0;

		for (int k = 0; k < nwant; k++)
			w |= want[k] == i;
		if (fd_pairs_named(s, i) != w)
			printf("    node %d: named %d, expected %d\n", i, fd_pairs_named(s, i), w);
		CHECK_EQ_INT(fd_pairs_named(s, i), w);
	}
}

static void healthy_fabric_is_one_round(void)
{
	struct fd_pairs s;
	struct fd_pairs_verdict v;
	struct fabric f = {.n = 8, .link_a = -1, .link_b = -1, .skip = -1};

	CHECK_EQ_INT(run(&s, &f), 1); /* a perfect matching: every node in one round */
	fd_pairs_verdict(&s, &v);
	CHECK_EQ_INT(v.ran, 4);
	CHECK_EQ_INT(v.ok, 4);
	CHECK_EQ_INT(v.nbad + v.nlinks, 0);
	named_exactly(&s, NULL, 0);
	fd_pairs_free(&s);

	f.n = 5; /* odd: the last node meets a proven-good one in round 1 */
	CHECK_EQ_INT(run(&s, &f), 2);
	fd_pairs_verdict(&s, &v);
	CHECK_EQ_INT(v.ran, 3);
	CHECK_EQ_INT(v.ok, 3);
	CHECK(s.p[2].b == 4 && s.state[4] == FDPN_GOOD);
	fd_pairs_free(&s);

	CHECK_EQ_INT(fd_pairs_init(&s, 1), -EINVAL);
}

static void slow_node_is_named_alone(void)
{
	static const int bad3[] = {3}, bad4[] = {4}, bad16[] = {1, 6}, bad1k[] = {777};
	struct fd_pairs s;
	struct fd_pairs_verdict v;
	struct fabric f = {.n = 4, .bad = bad3, .nbad = 1, .link_a = -1, .link_b = -1, .skip = -1};

	CHECK_EQ_INT(run(&s, &f), 2); /* (2,3) slow; then 2 and 3 each against a good node */
	fd_pairs_verdict(&s, &v);
	CHECK_EQ_INT(v.nbad, 1);
	CHECK_EQ_INT(v.nlinks, 0);
	CHECK_EQ_INT(s.state[3], FDPN_BAD);
	CHECK_EQ_INT(s.state[2], FDPN_GOOD);
	named_exactly(&s, bad3, 1);
	fd_pairs_free(&s);

	f = (struct fabric){.n = 5, .bad = bad4, .nbad = 1, .link_a = -1, .link_b = -1, .skip = -1};
	run(&s, &f); /* the odd node: slow with two good nodes before it is named */
	named_exactly(&s, bad4, 1);
	fd_pairs_free(&s);

	f = (struct fabric){
	    .n = 16, .bad = bad16, .nbad = 2, .link_a = -1, .link_b = -1, .skip = -1};
	CHECK_EQ_INT(run(&s, &f), 2);
	named_exactly(&s, bad16, 2);
	fd_pairs_free(&s);

	f = (struct fabric){
	    .n = 1024, .bad = bad1k, .nbad = 1, .link_a = -1, .link_b = -1, .skip = -1};
	CHECK_EQ_INT(run(&s, &f), 2);
	named_exactly(&s, bad1k, 1);
	CHECK_EQ_INT(s.np, 512 + 2);
	fd_pairs_free(&s);
}

static void slow_link_names_both_ends(void)
{
	static const int ends[] = {2, 3}, two[] = {0, 1};
	struct fd_pairs s;
	struct fd_pairs_verdict v;
	struct fabric f = {.n = 6, .link_a = 2, .link_b = 3, .skip = -1};

	CHECK_EQ_INT(run(&s, &f), 2); /* both ends fast with good nodes: the link */
	fd_pairs_verdict(&s, &v);
	CHECK_EQ_INT(v.nbad, 0);
	CHECK_EQ_INT(v.nlinks, 1);
	CHECK(v.link[0] == 2 && v.link[1] == 3);
	named_exactly(&s, ends, 2);
	fd_pairs_free(&s);

	/* two nodes: nobody proves either end good; the link is named, both ends */
	f = (struct fabric){.n = 2, .link_a = 0, .link_b = 1, .skip = -1};
	CHECK_EQ_INT(run(&s, &f), 1);
	fd_pairs_verdict(&s, &v);
	CHECK_EQ_INT(v.nlinks, 1);
	named_exactly(&s, two, 2);
	fd_pairs_free(&s);
}

static void hostile_fabrics_end(void)
{
	static const int most[] = {0, 1, 2}, all[] = {0, 1, 2, 3, 4, 5, 6};
	struct fd_pairs s;
	struct fd_pairs_verdict v;
	struct fabric f = {.n = 4, .bad = most, .nbad = 3, .link_a = -1, .link_b = -1, .skip = -1};
	int r = run(&s, &f);

	/* every pair slow: no good node; it ends within its bound, and names every node */
	CHECK(r >= 1 && r <= FD_PAIRS_MAX_ROUNDS);
	fd_pairs_verdict(&s, &v);
	CHECK_EQ_INT(v.ok, 0);
	CHECK(fd_pairs_named(&s, 0) && fd_pairs_named(&s, 1) && fd_pairs_named(&s, 2));
	fd_pairs_free(&s);

	f = (struct fabric){.n = 7, .bad = all, .nbad = 7, .link_a = -1, .link_b = -1, .skip = -1};
	r = run(&s, &f);
	CHECK(r >= 1 && r <= FD_PAIRS_MAX_ROUNDS);
	named_exactly(&s, all, 7);
	fd_pairs_free(&s);

	/* a node that cannot test: its pair is a skip, nobody named for it; its peer is tested
	 * against a good node instead */
	f = (struct fabric){.n = 4, .link_a = -1, .link_b = -1, .skip = 1};
	CHECK_EQ_INT(run(&s, &f), 2);
	fd_pairs_verdict(&s, &v);
	CHECK_EQ_INT(v.skipped, 1);
	CHECK_EQ_INT(v.ok, 2);
	CHECK_EQ_INT(s.state[0], FDPN_GOOD);
	CHECK_EQ_INT(s.state[1], FDPN_SKIPPED);
	named_exactly(&s, NULL, 0);
	CHECK(fd_pairs_named(&s, -1) == 0 && fd_pairs_named(&s, 99) == 0);
	fd_pairs_free(&s);
}

const struct unit_test pairs_tests[] = {
    {"pairs: a healthy fabric is one round, an odd node one more", healthy_fabric_is_one_round},
    {"pairs: a node slow with every peer is named alone, at 4, 5, 16 and 1024 nodes",
     slow_node_is_named_alone},
    {"pairs: a slow link between two good nodes names both ends", slow_link_names_both_ends},
    {"pairs: every pair slow, or a node that cannot test: it ends, within its bound",
     hostile_fabrics_end},
    {NULL, NULL},
};
