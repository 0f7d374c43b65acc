/* test_report.c - the code table, the check table, and the three renderings. */
#include "report.h"
#include "testhelp.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static void codes(void)
{
	static const char *const required[] = {"IB_PORT_DOWN",
					       "IB_PHYS_DOWN",
					       "IB_RATE_LOW",
					       "IB_ERRORS_RISING",
					       "IB_LINK_FLAP",
					       "GPU_DRIVER_NOT_LOADED",
					       "GPU_COUNT",
					       "GPU_XID_FATAL",
					       "GPU_XID_APP",
					       "GPU_ECC_UNCORRECTABLE",
					       "GPU_ROW_REMAP_PENDING",
					       "GPU_ROW_REMAP_FAILED",
					       "GPU_THERMAL",
					       "GPU_CLOCKS_THROTTLED",
					       "GPU_PCIE_DEGRADED",
					       "GPU_NVLINK_DOWN",
					       "GPU_BUSY",
					       "HBM_BW_LOW",
					       "ALLREDUCE_BW_LOW",
					       "ALLREDUCE_WRONG",
					       "SHM_TOO_SMALL",
					       "MEMLOCK_LIMITED",
					       "DISK_LOW",
					       "CKPT_DIR_UNWRITABLE",
					       "NCCL_IFNAME_MISSING",
					       "MEMFIT_OOM",
					       "NCCL_IB_HCA_MISSING",
					       "GPU_XID_OTHER",
					       "CLOCK_UNSYNCED",
					       "IB_VERBS_MISMATCH"};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!fd_code_find(required[i])) {
			printf("    missing code %s\n", required[i]);
			unit_failed = 1;
		}
	}
	for (size_t i = 0; i < fd_code_count(); i++) {
		const struct fd_code *c = fd_code_at(i);
		for (const char *p = c->code; *p; p++)
			CHECK(isupper((unsigned char)*p) || *p == '_' ||
			      isdigit((unsigned char)*p));
		CHECK(c->title[0] && c->why[0] && c->remedy[0]);
		CHECK(c->severity == FD_FAIL || c->severity == FD_WARN);
		for (size_t j = i + 1; j < fd_code_count(); j++)
			CHECK(strcmp(c->code, fd_code_at(j)->code) != 0);
	}
	CHECK(fd_code_find("NOPE") == NULL);
}

static void registry(void)
{
	for (size_t i = 0; i < fd_check_count(); i++) {
		const struct fd_check *c = fd_check_at(i);
		CHECK(c->probe && c->judge && c->facts_size && c->summary);
		for (size_t j = i + 1; j < fd_check_count(); j++)
			CHECK(strcmp(c->id, fd_check_at(j)->id) != 0);
	}
	enum fd_area a;
	CHECK(fd_area_parse("IB", &a) == 0 && a == FD_AREA_IB);
	CHECK(fd_area_parse("toaster", &a) != 0);
	enum fd_level l;
	CHECK(fd_level_parse("quick", &l) == 0 && l == FD_LEVEL_QUICK);

	struct fd_report rep = {0};
	CHECK(fd_report_verdict(&rep) == FD_PASS);
	fd_report_add(&rep, "a", FD_SKIP, NULL, "s", "x");
	CHECK(fd_report_verdict(&rep) == FD_PASS);
	fd_report_add(&rep, "a", FD_WARN, "CLOCK_UNSYNCED", "s", "x");
	CHECK(fd_report_verdict(&rep) == FD_WARN);
	fd_report_add(&rep, "a", FD_FAIL, "DISK_LOW", "s", "x");
	fd_report_add(&rep, "a", FD_PASS, NULL, "s", "x");
	CHECK(fd_report_verdict(&rep) == FD_FAIL);
	fd_report_free(&rep);
}

static void sample(struct fd_report *rep)
{
	struct fd_finding *f;
	fd_report_add(rep, "host.shm", FD_PASS, NULL, "/dev/shm", "fine");
	f = fd_report_add(rep, "ib.port", FD_FAIL, "IB_PORT_DOWN", "mlx5_\"3\"/1",
			  "quote \" and backslash \\ survive");
	strcpy(f->value, "1: DOWN");
	strcpy(f->expected, "4: ACTIVE");
	fd_report_add(rep, "host.clock", FD_WARN, "CLOCK_UNSYNCED", "clock", "unsynced");
}

static struct fd_report_meta meta = {"node-1", "standard", 12, 1700000000.5};

static void json(void)
{
	struct fd_report rep = {0};
	sample(&rep);
	char *doc = fd_report_json(&rep, &meta);
	cJSON *root = cJSON_Parse(doc);
	CHECK(root != NULL);
	CHECK_STREQ(cJSON_GetObjectItem(root, "node")->valuestring, "node-1");
	CHECK_STREQ(cJSON_GetObjectItem(root, "verdict")->valuestring, "fail");
	cJSON *arr = cJSON_GetObjectItem(root, "findings");
	CHECK_EQ_INT(cJSON_GetArraySize(arr), 3);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "code")));
	cJSON *f = cJSON_GetArrayItem(arr, 1);
	CHECK_STREQ(cJSON_GetObjectItem(f, "message")->valuestring,
		    "quote \" and backslash \\ survive");
	CHECK_STREQ(cJSON_GetObjectItem(f, "subject")->valuestring, "mlx5_\"3\"/1");
	CHECK(strstr(cJSON_GetObjectItem(f, "remedy")->valuestring, "ibstat") != NULL);
	CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "summary"), "fail")->valueint,
		     1);
	cJSON_Delete(root);
	free(doc);
	fd_report_free(&rep);
}

static void prom(void)
{
	char dir[] = "/tmp/fd-prom-XXXXXX", path[64], err[256], *text = NULL;
	struct fd_report rep = {0};
	sample(&rep);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/fd.prom", dir);
	CHECK(fd_report_prom(path, &rep, &meta, err, sizeof(err)) == 0);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		text = calloc(1, 8192);
		fread(text, 1, 8191, f);
		fclose(f);
		CHECK(strstr(text, "flightdeck_check_fit{node=\"node-1\",level=\"standard\"} 0\n"));
		CHECK(strstr(text, "subject=\"mlx5_\\\"3\\\"/1\",code=\"IB_PORT_DOWN\""));
		CHECK(strstr(text, "code=\"CLOCK_UNSYNCED\",status=\"warn\"} 1"));
		free(text);
	}
	DIR *d = opendir(dir);
	int entries = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		entries += e->d_name[0] != '.' || strncmp(e->d_name, ".flightdeck", 11) == 0;
	closedir(d);
	CHECK_EQ_INT(entries, 1);
	unlink(path);
	rmdir(dir);
	CHECK(fd_report_prom("/nonexistent-dir/fd.prom", &rep, &meta, err, sizeof(err)) != 0);
	CHECK(strstr(err, "/nonexistent-dir/fd.prom") != NULL);
	fd_report_free(&rep);
}

static void text(void)
{
	struct fd_report rep = {0};
	char line[512];
	int n = 0, fail_at = 0, pass_at = 0, remedy_at = 0;
	sample(&rep);
	FILE *f = tmpfile();
	fd_report_text(f, &rep, &meta, 0, 0);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		n++;
		CHECK(strlen(line) <= 101); /* 100 columns and the newline */
		CHECK(strchr(line, '\033') == NULL);
		if (!fail_at && !strncmp(line, "FAIL", 4))
			fail_at = n;
		if (!pass_at && !strncmp(line, "PASS", 4))
			pass_at = n;
		if (!remedy_at && strstr(line, "remedy: "))
			remedy_at = n;
	}
	fclose(f);
	CHECK(fail_at && pass_at && fail_at < pass_at);
	CHECK(remedy_at > fail_at && remedy_at < pass_at);

	f = tmpfile();
	fd_report_text(f, &rep, &meta, 1, 1);
	rewind(f);
	int esc = 0, passes = 0;
	while (fgets(line, sizeof(line), f)) {
		esc |= strchr(line, '\033') != NULL;
		passes += strstr(line, "PASS") != NULL;
	}
	fclose(f);
	CHECK(esc);
	CHECK_EQ_INT(passes, 0);
	fd_report_free(&rep);
}

static int probe_calls;

static int counting_probe(struct fd_probe_ctx *ctx, void *facts)
{
	int *v = facts;

	probe_calls++;
	v[0] = 42;
	v[1] = probe_calls;
	return 0;
}

static int failing_probe(struct fd_probe_ctx *ctx, void *facts)
{
	probe_calls++;
	snprintf(ctx->err, sizeof(ctx->err), "sys/x: cannot parse");
	return -EINVAL;
}

/* Facts once per run: the second asker gets a copy of the first probe, and its failure too. */
static void probe_once(void)
{
	struct fd_probe_ctx ctx = {0};
	int a[2] = {0}, b[2] = {0};

	probe_calls = 0;
	CHECK_EQ_INT(fd_probe_once(&ctx, counting_probe, sizeof(a), a), 0);
	CHECK_EQ_INT(fd_probe_once(&ctx, counting_probe, sizeof(b), b), 0);
	CHECK_EQ_INT(probe_calls, 1);
	CHECK(a[0] == 42 && b[0] == 42 && a[1] == 1 && b[1] == 1);

	CHECK_EQ_INT(fd_probe_once(&ctx, failing_probe, sizeof(a), a), -EINVAL);
	ctx.err[0] = '\0';
	CHECK_EQ_INT(fd_probe_once(&ctx, failing_probe, sizeof(a), a), -EINVAL);
	CHECK_STREQ(ctx.err, "sys/x: cannot parse");
	CHECK_EQ_INT(probe_calls, 2);
	/* Room for every row of the check table, and the two probes the tests add. */
	CHECK(fd_check_count() + 2 <= FD_ARRAY_SIZE(ctx.memo));
	/* After a release, a new run probes afresh. */
	fd_probe_ctx_release(&ctx);
	CHECK_EQ_INT(ctx.n_memo, 0);
	CHECK_EQ_INT(fd_probe_once(&ctx, counting_probe, sizeof(a), a), 0);
	CHECK_EQ_INT(probe_calls, 3);
	fd_probe_ctx_release(&ctx);
}

/* The drain reason: failing codes once each, warnings left out, the overflow counted. */
static void reason(void)
{
	struct fd_report rep = {0};
	char buf[64];

	sample(&rep);
	fd_report_add(&rep, "ib.port", FD_FAIL, "IB_PHYS_DOWN", "mlx5_3/1", "no link");
	fd_report_add(&rep, "ib.port", FD_FAIL, "IB_PORT_DOWN", "mlx5_4/1", "down too");
	CHECK_EQ_INT((int)fd_report_reason(&rep, buf, sizeof(buf)),
		     (int)strlen("IB_PORT_DOWN,IB_PHYS_DOWN mlx5_\"3\"/1"));
	CHECK_STREQ(buf, "IB_PORT_DOWN,IB_PHYS_DOWN mlx5_\"3\"/1");
	/* room for one code only: the other is "+1" */
	fd_report_reason(&rep, buf, 40);
	CHECK_STREQ(buf, "IB_PORT_DOWN,+1 mlx5_\"3\"/1");
	/* room for none */
	fd_report_reason(&rep, buf, 20);
	CHECK(!strncmp(buf, "+2 ", 3));
	CHECK(strlen(buf) < 20);
	fd_report_free(&rep);
	fd_report_add(&rep, "host.clock", FD_WARN, "CLOCK_UNSYNCED", "clock", "unsynced");
	CHECK_EQ_INT((int)fd_report_reason(&rep, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "");
	fd_report_free(&rep);
}

const struct unit_test report_tests[] = {
    {"codes: the table is complete and well formed", codes},
    {"registry: checks, areas, levels, verdicts", registry},
    {"registry: facts probed once per run", probe_once},
    {"report: JSON round trip", json},
    {"report: Prometheus textfile", prom},
    {"report: text table", text},
    {"report: the drain reason line", reason},
    {NULL, NULL},
};
