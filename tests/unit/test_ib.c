/* test_ib.c - the InfiniBand judges and the link-flap attribution. */
#include "ib.h"
#include "kmsg.h"
#include "perftest.h"
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

/* A fixture of tests/fixtures/perftest/ parsed; its kind returned, r filled. */
static enum pt_kind parse_fixture(const char *name, struct pt_result *r)
{
	char path[512], buf[8192];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/perftest/%s", FD_TEST_FIXTURES, name);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	return pt_parse(buf, n, r);
}

static void perftest_outputs(void)
{
	struct pt_result r;

	CHECK_EQ_INT(parse_fixture("client-gbits.txt", &r), PT_REPORT);
	CHECK(r.bytes == 1048576 && r.iters == 93630 && r.gbps > 392.70 && r.gbps < 392.72);
	CHECK(r.peak_gbps == 0 && !r.mbs);
	CHECK_EQ_INT(parse_fixture("server-gbits.txt", &r), PT_REPORT);
	CHECK(r.gbps > 392.70 && r.gbps < 392.72);
	CHECK_EQ_INT(parse_fixture("client-gbits-slow.txt", &r), PT_REPORT);
	CHECK(r.gbps > 176.01 && r.gbps < 176.03);
	/* MiB/s: 46698.02 * 2^20 * 8 / 1e9 */
	CHECK_EQ_INT(parse_fixture("client-mbs.txt", &r), PT_REPORT);
	CHECK(r.mbs && r.bytes == 65536 && r.gbps > 391.73 && r.gbps < 391.75);
	CHECK_EQ_INT(parse_fixture("client-roce-cpu-util.txt", &r), PT_REPORT);
	CHECK(r.gbps > 96.44 && r.gbps < 96.46);
	CHECK_EQ_INT(parse_fixture("client-all-sizes.txt", &r), PT_REPORT);
	CHECK(r.bytes == 8388608 && r.gbps > 392.97 && r.gbps < 392.99);

	/* the real binary's own words, captured on this machine, and the source's */
	CHECK_EQ_INT(parse_fixture("no-device.txt", &r), PT_NO_DEVICE);
	CHECK(!strcmp(r.line, "Did not detect devices"));
	CHECK_EQ_INT(parse_fixture("no-device-client.txt", &r), PT_NO_DEVICE);
	CHECK_EQ_INT(parse_fixture("device-not-found.txt", &r), PT_DEVICE_NOT_FOUND);
	CHECK(!strcmp(r.line, "IB device mlx5_9 not found"));
	CHECK_EQ_INT(parse_fixture("refused.txt", &r), PT_REFUSED);
	CHECK(!strcmp(r.line, "Couldn't connect to 127.0.0.1:18515"));
	CHECK_EQ_INT(parse_fixture("port-busy.txt", &r), PT_PORT_BUSY);
	CHECK_EQ_INT(parse_fixture("truncated.txt", &r), PT_NO_REPORT);
	CHECK(strstr(r.line, "not numbers") != NULL);
	CHECK(parse_fixture("help.txt", &r) != PT_REPORT); /* a help is no report */
}

static void perftest_hostile(void)
{
	static const char hdr[] = " #bytes     #iterations    BW peak[Gb/sec]    BW average[Gb/sec]"
				  "   MsgRate[Mpps]\n";
	struct pt_result r;
	char buf[1024];

	CHECK_EQ_INT(pt_parse(NULL, 10, &r), PT_NO_REPORT);
	CHECK_EQ_INT(pt_parse("", 0, &r), PT_NO_REPORT);
	CHECK(!strcmp(r.line, "no output at all"));
	CHECK_EQ_INT(pt_parse("hello\nworld\n", 12, &r), PT_NO_REPORT);
	/* inf, nan, signs, exponents and hex are not perftest's numbers */
	static const char *const bad[] = {"inf",  "nan",    "-1.0", "1e3",
					  "0x10", "12.3.4", "",	    "392.7x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s 1048576    100   0.00   %s   0.04\n", hdr, bad[i]);
		CHECK(pt_parse(buf, strlen(buf), &r) == PT_NO_REPORT);
	}
	/* past any port's rate: refused, with the row named */
	snprintf(buf, sizeof(buf), "%s 1048576    100   0.00   9000.00   0.04\n", hdr);
	CHECK_EQ_INT(pt_parse(buf, strlen(buf), &r), PT_NO_REPORT);
	CHECK(strstr(r.line, "past any port") != NULL);
	/* a NUL byte and control characters never reach the report's text */
	static const char ctl[] = "Couldn't\0 connect to \x1b[31mx:1\n";
	CHECK_EQ_INT(pt_parse(ctl, sizeof(ctl) - 1, &r), PT_ERROR);
	CHECK(!strchr(r.line, 0x1b));
	/* units it does not know */
	snprintf(buf, sizeof(buf), " #bytes  BW average[TB/sec]\n 1 1 1 1 1\n");
	CHECK_EQ_INT(pt_parse(buf, strlen(buf), &r), PT_NO_REPORT);
	/* an error line wins over a half-written table */
	snprintf(buf, sizeof(buf),
		 "%s 10485\n Failed to complete run_iter_bw function successfully\n", hdr);
	CHECK_EQ_INT(pt_parse(buf, strlen(buf), &r), PT_ERROR);
	CHECK(strstr(r.line, "run_iter_bw") != NULL);
	CHECK(pt_help_has_cuda("--use_cuda=<id>", 15) && !pt_help_has_cuda("--use_cud", 9));
}

static void bw_judged(void)
{
	struct ib_bw_facts *f = calloc(1, sizeof(*f));
	struct fd_report rep = {0};
	const struct fd_finding *x;

	fd_config_init(&cfg);
	ib_bw_judge(f, &cfg, &rep);
	CHECK(find_check(&rep, "ib.bw", FD_SKIP) != NULL);
	fd_report_free(&rep);

	f->present = 1;
	f->n = 4;
	for (int i = 0; i < 4; i++) {
		snprintf(f->runs[i].dev, sizeof(f->runs[i].dev), "mlx5_%d", i);
		f->runs[i].port = 1;
		f->runs[i].rate = 400;
		f->runs[i].state = IBBW_MEASURED;
		f->runs[i].gbps = 392.7;
	}
	f->runs[1].gbps = 359.9; /* just below 90 % */
	f->runs[2].state = IBBW_FAILED;
	strcpy(f->runs[2].why, "ib_write_bw did not finish");
	f->runs[3].gpu = 1;
	f->runs[3].gbps = 321; /* GPU memory: 80 % */
	ib_bw_judge(f, &cfg, &rep);
	x = find_code(&rep, "IB_BW_LOW");
	CHECK(x && !strcmp(x->subject, "mlx5_1/1") && !strcmp(x->value, "359.9 Gb/s"));
	CHECK(x && !strcmp(x->expected, ">= 360.0 Gb/s"));
	x = find_code(&rep, "IB_BW_FAILED");
	CHECK(x && !strcmp(x->subject, "mlx5_2/1") && strstr(x->message, "did not finish"));
	CHECK_EQ_INT(count_status(&rep, "ib.bw", FD_PASS), 2);
	CHECK(fd_code_find("IB_BW_LOW") && fd_code_find("IB_BW_FAILED"));
	fd_report_free(&rep);

	cfg.ib_bw_gpu_min = 90;
	ib_bw_judge(f, &cfg, &rep);
	x = find_code(&rep, "IB_BW_LOW");
	CHECK_EQ_INT(count_status(&rep, "ib.bw", FD_FAIL), 3);
	fd_report_free(&rep);
	free(f);
}

const struct unit_test ib_tests[] = {
    {"ib: perftest's outputs", perftest_outputs},
    {"ib: perftest output that is not perftest's", perftest_hostile},
    {"ib: RDMA write bandwidth judged against the port's rate", bw_judged},
    {"ib: port state and physical state", ports},
    {"ib: rate against siblings and expectation", rates},
    {"ib: NCCL_IB_HCA", hca_env},
    {"ib: error counters", counters},
    {"ib: link flaps", flaps},
    {"ib: a malformed sysfs fact is a finding", malformed},
    {NULL, NULL},
};
