/* test_ib.c - the InfiniBand judges and the link-flap attribution. */
#include "ib.h"
#include "kmsg.h"
#include "sysfs.h"
#include "testhelp.h"

#include <errno.h>
#include <stdlib.h>

static struct fd_config cfg;

/* n HCAs mlx5_0.., one port each, ACTIVE/LinkUp at 400 Gb/s InfiniBand. */
static struct ib_facts *node(int n)
{
	struct ib_facts *f = calloc(1, sizeof(*f));
	fd_config_init(&cfg);
	f->present = 1;
	for (int i = 0; i < n; i++) {
		snprintf(f->devs[i].name, sizeof(f->devs[i].name), "mlx5_%d", i);
		snprintf(f->devs[i].pci, sizeof(f->devs[i].pci), "0000:%02x:00.0", 0x10 + i);
		snprintf(f->devs[i].netdevs[0], sizeof(f->devs[i].netdevs[0]), "ib%d", i);
		f->devs[i].n_netdevs = 1;
		struct ib_port *p = &f->ports[i];
		p->dev = i;
		p->port = 1;
		p->state = 4;
		strcpy(p->state_text, "4: ACTIVE");
		p->phys = 5;
		strcpy(p->phys_text, "5: LinkUp");
		p->rate = 400;
		strcpy(p->rate_text, "400 Gb/sec (4X NDR)");
		strcpy(p->link_layer, "InfiniBand");
		for (int k = 0; k < IB_NCTR; k++)
			p->ctr[0][k] = p->ctr[1][k] = 0;
	}
	f->n_devs = f->n = (size_t)n;
	f->window_ms = 1000;
	return f;
}

static void ports(void)
{
	struct ib_facts *f = node(8);
	struct fd_report rep = {0};
	ib_judge_port(f, &cfg, &rep);
	CHECK_EQ_INT(count_status(&rep, "ib.port", FD_PASS), 8);
	CHECK(fd_report_verdict(&rep) == FD_PASS);
	fd_report_free(&rep);

	f->ports[3].state = 1;
	strcpy(f->ports[3].state_text, "1: DOWN");
	f->ports[3].phys = 2;
	strcpy(f->ports[3].phys_text, "2: Polling");
	ib_judge_port(f, &cfg, &rep);
	const struct fd_finding *x = find_code(&rep, "IB_PORT_DOWN");
	CHECK(x && !strcmp(x->subject, "mlx5_3/1") && !strcmp(x->value, "1: DOWN"));
	CHECK(x && !strcmp(x->expected, "4: ACTIVE"));
	x = find_code(&rep, "IB_PHYS_DOWN");
	CHECK(x && !strcmp(x->value, "2: Polling"));
	CHECK_EQ_INT(count_status(&rep, "ib.port", FD_PASS), 7);
	fd_report_free(&rep);

	/* INIT with the link up: the subnet manager has not configured it */
	f->ports[3].phys = 5;
	f->ports[3].state = 2;
	ib_judge_port(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "IB_PORT_DOWN"), 1);
	CHECK_EQ_INT(count_code(&rep, "IB_PHYS_DOWN"), 0);
	fd_report_free(&rep);

	strcpy(f->hca_env, "^mlx5_3");
	ib_judge_port(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "IB_PORT_DOWN"), 0);
	CHECK_EQ_INT(count_status(&rep, "ib.port", FD_SKIP), 1);
	fd_report_free(&rep);

	struct ib_facts none = {0};
	ib_judge_port(&none, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
	free(f);
}

static void rates(void)
{
	struct ib_facts *f = node(8);
	struct fd_report rep = {0};
	f->ports[5].rate = 200;
	strcpy(f->ports[5].rate_text, "200 Gb/sec (4X HDR)");
	ib_judge_rate(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "IB_RATE_LOW"), 1);
	const struct fd_finding *x = find_code(&rep, "IB_RATE_LOW");
	CHECK(x && !strcmp(x->subject, "mlx5_5/1") && !strcmp(x->expected, ">= 400 Gb/sec"));
	fd_report_free(&rep);

	for (int i = 0; i < 8; i++)
		f->ports[i].rate = 200;
	ib_judge_rate(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "IB_RATE_LOW"), 0); /* all equal: nothing to compare */
	fd_report_free(&rep);
	cfg.expect_ib_rate = 400;
	ib_judge_rate(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "IB_RATE_LOW"), 8);
	fd_report_free(&rep);
	free(f);

	/* Ethernet is compared with Ethernet only; inactive ports are not rate-judged. */
	f = node(4);
	f->ports[0].rate = 100;
	strcpy(f->ports[0].link_layer, "Ethernet");
	f->ports[1].state = 1;
	f->ports[1].rate = 10;
	ib_judge_rate(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "IB_RATE_LOW"), 0);
	CHECK_EQ_INT(count_status(&rep, "ib.rate", FD_PASS), 3);
	fd_report_free(&rep);
	free(f);
}

static void hca_env(void)
{
	struct ib_facts *f = node(8);
	struct fd_report rep = {0};
	ib_judge_hca_env(f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);

	strcpy(f->hca_env, "mlx5_0:1,mlx5_9:1");
	ib_judge_hca_env(f, &cfg, &rep);
	const struct fd_finding *x = find_code(&rep, "NCCL_IB_HCA_MISSING");
	CHECK(x && !strcmp(x->subject, "mlx5_9:1"));
	CHECK_EQ_INT(count_code(&rep, "NCCL_IB_HCA_MISSING"), 1);
	fd_report_free(&rep);

	strcpy(f->hca_env, "^mlx5");
	ib_judge_hca_env(f, &cfg, &rep);
	CHECK(find_code(&rep, "NCCL_IB_HCA_MISSING") != NULL);
	fd_report_free(&rep);

	strcpy(f->hca_env, "mlx5");
	ib_judge_hca_env(f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_PASS && !strcmp(rep.v[0].value, "8 ports"));
	fd_report_free(&rep);

	strcpy(f->hca_env, "mlx5_0:one");
	ib_judge_hca_env(f, &cfg, &rep);
	CHECK(find_code(&rep, "NCCL_IB_HCA_MISSING") != NULL);
	fd_report_free(&rep);
	free(f);
}

static void counters(void)
{
	struct ib_facts *f = node(8);
	struct fd_report rep = {0};
	ib_judge_counters(f, &cfg, &rep);
	CHECK_EQ_INT(count_status(&rep, "ib.counters", FD_PASS), 8);
	fd_report_free(&rep);

	f->ports[2].ctr[0][0] = 5;
	f->ports[2].ctr[1][0] = 9;
	f->ports[4].ctr[0][1] = -1; /* absent counter */
	f->ports[4].ctr[1][1] = -1;
	ib_judge_counters(f, &cfg, &rep);
	const struct fd_finding *x = find_code(&rep, "IB_ERRORS_RISING");
	CHECK(x && !strcmp(x->subject, "mlx5_2/1") && strstr(x->value, "symbol_error+4"));
	CHECK_EQ_INT(count_code(&rep, "IB_ERRORS_RISING"), 1);
	fd_report_free(&rep);

	f->ports[2].ctr[1][0] = 5; /* non-zero but still */
	ib_judge_counters(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "IB_ERRORS_RISING"), 0);
	x = find_check(&rep, "ib.counters", FD_PASS);
	CHECK(x != NULL);
	fd_report_free(&rep);

	f->window_ms = 0;
	ib_judge_counters(f, &cfg, &rep);
	CHECK_EQ_INT(count_status(&rep, "ib.counters", FD_SKIP), 8);
	fd_report_free(&rep);
	free(f);
}

static void flaps(void)
{
	struct ib_facts *f = node(11);
	struct fd_report rep = {0};
	struct fd_kmsg_line lines[] = {
	    {99000000000LL, "mlx5_core 0000:11:00.0 enp17s0: Link down"},
	    {99100000000LL, "ib1: lost carrier"},
	    {99200000000LL, "mlx5_core 0000:11:00.0: Port module event: module 0, Cable unplugged"},
	    {99300000000LL, "mlx5_10: link down on port 1"},
	    {1000000000LL, "mlx5_core 0000:12:00.0 ib2: Link down"}, /* 27 h old */
	    {99400000000LL, "mlx5_core 0000:11:00.0 ib1: Link up"},
	};
	struct fd_kmsg_log log = {.lines = lines, .n = 6, .uptime_ms = 100000000};
	ib_count_flaps(f, &log, cfg.flap_window_ms);
	CHECK_EQ_INT(f->devs[1].flaps, 3);  /* by PCI address, netdev, and PCI address */
	CHECK_EQ_INT(f->devs[10].flaps, 1); /* mlx5_10 by name ... */
	CHECK_EQ_INT(f->devs[2].flaps, 0);  /* too old */
	ib_judge_flap(f, &cfg, &rep);
	const struct fd_finding *x = find_code(&rep, "IB_LINK_FLAP");
	CHECK(x && !strcmp(x->subject, "mlx5_1"));
	CHECK_EQ_INT(count_code(&rep, "IB_LINK_FLAP"), 1);
	fd_report_free(&rep);

	struct ib_facts *g = node(2);
	ib_count_flaps(g, &log, cfg.flap_window_ms);
	CHECK_EQ_INT(g->devs[1].flaps,
		     3); /* ... and never as mlx5_1: "mlx5_10" is another device */
	free(g);

	f->log_rc = -EPERM;
	ib_judge_flap(f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
	free(f);
}

/* Issue 11, item 14: a malformed sysfs fact is a finding; checks sharing the probe skip. */
static int garbage_probe(struct fd_probe_ctx *ctx, void *facts)
{
	(void)facts;
	return fd_attr_garbage(ctx->err, "/sys", "class/infiniband/mlx5_0/ports/1/state", "garbage",
			       "'N: NAME'");
}

static void judge_never(const void *facts, const struct fd_config *c, struct fd_report *rep)
{
	(void)facts;
	(void)c;
	fd_report_add(rep, "test.never", FD_FAIL, "IB_PORT_DOWN", "x", "judged garbage");
}

static void malformed(void)
{
	const struct fd_check a = {.id = "test.a",
				   .area = FD_AREA_IB,
				   .facts_size = 8,
				   .probe = garbage_probe,
				   .judge = judge_never};
	const struct fd_check b = {.id = "test.b",
				   .area = FD_AREA_IB,
				   .facts_size = 8,
				   .probe = garbage_probe,
				   .judge = judge_never};
	struct fd_probe_ctx ctx = {.cfg = &cfg};
	struct fd_report rep = {0};
	const struct fd_finding *x;

	fd_config_init(&cfg);
	CHECK_EQ_INT(fd_check_run(&a, &ctx, &rep), 0);
	CHECK_EQ_INT(fd_check_run(&b, &ctx, &rep), 0);
	CHECK_EQ_INT((int)rep.n, 2);
	x = find_code(&rep, "HW_FACT_MALFORMED");
	CHECK(x && x->status == FD_FAIL && !strcmp(x->check, "test.a"));
	CHECK(x && !strcmp(x->value, "/sys/class/infiniband/mlx5_0/ports/1/state"));
	CHECK(x && strstr(x->message, "cannot parse 'garbage'"));
	CHECK(find_check(&rep, "test.b", FD_SKIP) != NULL);
	CHECK(!find_code(&rep, "IB_PORT_DOWN"));
	CHECK(fd_code_find("HW_FACT_MALFORMED") != NULL);
	fd_report_free(&rep);
	fd_probe_ctx_release(&ctx);
}

const struct unit_test ib_tests[] = {
    {"ib: port state and physical state", ports},
    {"ib: rate against siblings and expectation", rates},
    {"ib: NCCL_IB_HCA", hca_env},
    {"ib: error counters", counters},
    {"ib: link flaps", flaps},
    {"ib: a malformed sysfs fact is a finding", malformed},
    {NULL, NULL},
};
