/*
 * test_world.c - the bisection that names the slowest node (launcher/job/bisect.c) as a pure
 * function: sets in, next sets out, driven by a simulated job whose allreduce runs at its
 * slowest member's speed; and the FR_WORLD payload's codec.
 */
#include "testhelp.h"
#include "frame.h"
#include "bisect.h"

#include <errno.h>
#include <stdlib.h>

#define FLOOR 100.0

/*
 * Runs the bisection over a job of n nodes with these speeds. A set's busbw is its slowest
 * member's; it passes at FLOOR. Checks every round's sets are disjoint, of two nodes or
 * more, and within the job. Returns the outcome; *rounds the rounds run.
 */
static int simulate(int n, const double *speed, struct fd_bisect *b, int *rounds)
{
	int st = fd_bisect_init(b, n);

	*rounds = 0;
	if (st)
		return st;
	for (;;) {
		struct fd_bisect_result res[FD_BISECT_SETS];
		unsigned char *seen = calloc((size_t)n, 1);

		(*rounds)++;
		CHECK(b->nsets >= 1 && b->nsets <= FD_BISECT_SETS);
		for (int s = 0; s < b->nsets; s++) {
			double lo = 1e30;

			CHECK(b->sets[s].n >= 2 || n == 1);
			for (int i = 0; i < b->sets[s].n; i++) {
				int k = b->sets[s].nodes[i];

				CHECK(k >= 0 && k < n);
				if (k < 0 || k >= n)
					continue;
				CHECK(!seen[k]); /* disjoint: they run at the same time */
				seen[k] = 1;
				if (speed[k] < lo)
					lo = speed[k];
			}
			res[s].busbw = lo;
			res[s].pass = lo >= FLOOR;
		}
		free(seen);
		st = fd_bisect_next(b, res);
		if (st != FD_BISECT_MORE) {
			CHECK_EQ_INT(b->round + 1, *rounds); /* the rounds it says ran did */
			return st;
		}
		if (*rounds > 64) {
			CHECK(!"the bisection does not end");
			return -1;
		}
	}
}

/* One slow node anywhere in jobs of 3 to 64 nodes: named, within 1 + ceil(log2 n) rounds. */
static void one_slow_named(void)
{
	for (int n = 3; n <= 64; n++) {
		double *speed = malloc((size_t)n * sizeof(*speed));

		for (int slow = 0; slow < n; slow++) {
			struct fd_bisect b;
			int rounds, st, log2n = 0;

			while ((1 << log2n) < n)
				log2n++;
			for (int i = 0; i < n; i++)
				speed[i] = i == slow ? 10.0 : 200.0;
			st = simulate(n, speed, &b, &rounds);
			if (n == 3 && slow < 2) {
				/* {0,1} is slow and no node is proven good: the pair is named */
				CHECK_EQ_INT(st, BWW_PAIR);
				CHECK(b.culprit[0] == slow || b.culprit[1] == slow);
			} else {
				CHECK_EQ_INT(st, BWW_CULPRIT);
				CHECK_EQ_INT(b.culprit[0], slow);
			}
			CHECK(rounds <= 1 + log2n);
			CHECK(rounds <= b.max_rounds);
			CHECK(!b.also_slow);
			fd_bisect_free(&b);
		}
		free(speed);
	}
}

/* The four-node job of t0165: node 2 slow takes three rounds, the last pair against good ones. */
static void four_nodes_node2(void)
{
	double speed[4] = {200, 200, 10, 200};
	struct fd_bisect b;
	struct fd_bisect_result r[2];

	CHECK_EQ_INT(fd_bisect_init(&b, 4), 0);
	CHECK_EQ_INT(b.nsets, 1);
	CHECK_EQ_INT(b.sets[0].n, 4);
	r[0] = (struct fd_bisect_result){.pass = 0, .busbw = 10};
	CHECK_EQ_INT(fd_bisect_next(&b, r), FD_BISECT_MORE);
	CHECK_EQ_INT(b.nsets, 2); /* {0,1} and {2,3} at once */
	CHECK_EQ_INT(b.sets[0].nodes[0], 0);
	CHECK_EQ_INT(b.sets[0].nodes[1], 1);
	CHECK_EQ_INT(b.sets[1].nodes[0], 2);
	CHECK_EQ_INT(b.sets[1].nodes[1], 3);
	r[0] = (struct fd_bisect_result){.pass = 1, .busbw = 200};
	r[1] = (struct fd_bisect_result){.pass = 0, .busbw = 10};
	CHECK_EQ_INT(fd_bisect_next(&b, r), FD_BISECT_MORE);
	/* the last pair: 2 with good node 0, 3 with good node 1 */
	CHECK_EQ_INT(b.nsets, 2);
	CHECK_EQ_INT(b.sets[0].nodes[0], 2);
	CHECK_EQ_INT(b.sets[0].nodes[1], 0);
	CHECK_EQ_INT(b.sets[1].nodes[0], 3);
	CHECK_EQ_INT(b.sets[1].nodes[1], 1);
	r[0] = (struct fd_bisect_result){.pass = 0, .busbw = speed[2]};
	r[1] = (struct fd_bisect_result){.pass = 1, .busbw = speed[3]};
	CHECK_EQ_INT(fd_bisect_next(&b, r), BWW_CULPRIT);
	CHECK_EQ_INT(b.culprit[0], 2);
	fd_bisect_free(&b);
}

/* Nobody slow: one round, a pass. Two nodes: a slow pair cannot be told apart. */
static void pass_and_pair(void)
{
	double fast[8] = {200, 200, 200, 200, 200, 200, 200, 200}, two[2] = {200, 10};
	struct fd_bisect b;
	int rounds;

	CHECK_EQ_INT(simulate(8, fast, &b, &rounds), BWW_PASS);
	CHECK_EQ_INT(rounds, 1);
	fd_bisect_free(&b);
	CHECK_EQ_INT(simulate(2, two, &b, &rounds), BWW_PAIR);
	CHECK_EQ_INT(rounds, 1);
	CHECK(b.culprit[0] == 1 || b.culprit[1] == 1);
	fd_bisect_free(&b);
	CHECK_EQ_INT(fd_bisect_init(&b, 0), -EINVAL);
}

/* Two slow nodes in different halves: the slower one is named, and the outcome says so. */
static void two_slow(void)
{
	double speed[8] = {200, 50, 200, 200, 200, 200, 20, 200};
	struct fd_bisect b;
	int rounds;

	CHECK_EQ_INT(simulate(8, speed, &b, &rounds), BWW_CULPRIT);
	CHECK_EQ_INT(b.culprit[0], 6);
	CHECK(b.also_slow);
	CHECK(rounds <= b.max_rounds);
	fd_bisect_free(&b);
}

/* Every half passes though the whole job did not (the fabric at full scale): no node named. */
static void halves_pass(void)
{
	struct fd_bisect b;
	struct fd_bisect_result r[2] = {{.pass = 0, .busbw = 40}};

	CHECK_EQ_INT(fd_bisect_init(&b, 6), 0);
	CHECK_EQ_INT(fd_bisect_next(&b, r), FD_BISECT_MORE);
	r[0] = r[1] = (struct fd_bisect_result){.pass = 1, .busbw = 150};
	CHECK_EQ_INT(fd_bisect_next(&b, r), BWW_NONE);
	fd_bisect_free(&b);
}

static void world_payload(void)
{
	struct fd_world_msg m = {.kind = FW_RESULT,
				 .set = 7,
				 .rank = 2,
				 .size = 4,
				 .timeout_ms = 30000,
				 .full = 1,
				 .outcome = FWO_RAN,
				 .ok = 1,
				 .nranks = 32,
				 .nodes = 4,
				 .bytes = 1073741824,
				 .busbw = 365.25,
				 .algbw = 208.7,
				 .status = 2,
				 .unfit = 1},
			    g;
	uint8_t buf[2048];
	size_t n;

	strcpy(m.id, "00ff3a");
	strcpy(m.code, "BW_WORLD_LOW");
	strcpy(m.text, "node 2 (gpu07) is the slowest");
	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK(n > 0);
	CHECK_EQ_INT(fd_world_get(buf, n, &g), 0);
	CHECK_EQ_INT(g.kind, FW_RESULT);
	CHECK_EQ_INT(g.set, 7);
	CHECK_EQ_INT(g.rank, 2);
	CHECK_EQ_INT(g.size, 4);
	CHECK_EQ_INT(g.nranks, 32);
	CHECK(g.busbw == 365.25);
	CHECK(g.bytes == 1073741824);
	CHECK_STREQ(g.id, "00ff3a");
	CHECK_STREQ(g.code, "BW_WORLD_LOW");
	CHECK_STREQ(g.text, m.text);
	CHECK_EQ_INT(g.unfit, 1);
	/* truncated at every length: refused, never read past the end */
	for (size_t k = 0; k < n; k++)
		CHECK_EQ_INT(fd_world_get(buf, k, &g), -EBADMSG);
	/* another payload version: refused as one this build does not read */
	buf[0] = FD_WORLD_VERSION + 1;
	CHECK_EQ_INT(fd_world_get(buf, n, &g), -EPROTONOSUPPORT);
	buf[0] = FD_WORLD_VERSION;
	/* an id that is not lowercase hex: it becomes a command-line argument and a path */
	strcpy(m.id, "../x");
	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(fd_world_get(buf, n, &g), -EBADMSG);
	strcpy(m.id, "ab");
	m.rank = 4; /* past the size */
	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(fd_world_get(buf, n, &g), -EBADMSG);
	m.rank = 0;
	m.kind = FW_KIND_MAX;
	n = fd_world_put(buf, sizeof(buf), &m);
	CHECK_EQ_INT(fd_world_get(buf, n, &g), -EBADMSG);
}

const struct unit_test world_tests[] = {
    {"bisect: one slow node in 3..64 nodes is named within 1 + log2 n rounds", one_slow_named},
    {"bisect: four nodes, node 2 slow: halves, then each of the pair with a good node",
     four_nodes_node2},
    {"bisect: all fast is one round; a slow pair of two cannot be told apart", pass_and_pair},
    {"bisect: two slow nodes: the slower named, said", two_slow},
    {"bisect: every half passes: no node named", halves_pass},
    {"world payload: round trip; truncated, other version, odd values refused", world_payload},
    {NULL, NULL},
};
