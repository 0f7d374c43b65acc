/* test_gpu.c - GPU presence/driver and Xid judges. */
#include "gpu.h"
#include "testhelp.h"
#include "build_config.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

static struct fd_config cfg;

static struct gpu_pci_facts *gpus(int n, int loaded)
{
	struct gpu_pci_facts *f = calloc(1, sizeof(*f));
	fd_config_init(&cfg);
	for (int i = 0; i < n; i++) {
		snprintf(f->dev[i].bdf, sizeof(f->dev[i].bdf), "0000:%02x:00.0", 0x18 + i);
		f->dev[i].device = 0x2330;
		f->dev[i].class = 0x030200;
		strcpy(f->dev[i].driver, "nvidia");
	}
	f->n = (size_t)n;
	f->module_loaded = loaded;
	strcpy(f->driver_version, "550.54.15");
	strcpy(f->kernel, "6.8.0-49-generic");
	return f;
}

static void pci(void)
{
	struct fd_report rep = {0};
	struct gpu_pci_facts *f = gpus(0, 0);
	gpu_judge_pci(f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
	cfg.expect_gpus = 8;
	gpu_judge_pci(f, &cfg, &rep);
	CHECK(find_code(&rep, "GPU_COUNT") && !strcmp(find_code(&rep, "GPU_COUNT")->value, "0"));
	fd_report_free(&rep);
	free(f);

	f = gpus(8, 1);
	gpu_judge_pci(f, &cfg, &rep);
	CHECK(fd_report_verdict(&rep) == FD_PASS);
	const struct fd_finding *x = find_check(&rep, "gpu.count", FD_PASS);
	CHECK(x && !strcmp(x->value, "8"));
	fd_report_free(&rep);

	f->module_loaded = 0;
	gpu_judge_pci(f, &cfg, &rep);
	x = find_code(&rep, "GPU_DRIVER_NOT_LOADED");
	CHECK(x && strstr(x->value, "6.8.0-49-generic") && x->status == FD_FAIL);
	CHECK_EQ_INT(count_code(&rep, "GPU_DRIVER_NOT_LOADED"), 1); /* once, not per GPU */
	fd_report_free(&rep);

	f->module_loaded = 1;
	strcpy(f->dev[4].driver, "nouveau");
	f->dev[5].driver[0] = '\0';
	gpu_judge_pci(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "GPU_DRIVER_NOT_LOADED"), 2);
	x = find_code(&rep, "GPU_DRIVER_NOT_LOADED");
	CHECK(x && !strcmp(x->subject, "0000:1c:00.0") && !strcmp(x->value, "nouveau"));
	fd_report_free(&rep);

	f->n = 7;
	cfg.expect_gpus = 8;
	gpu_judge_pci(f, &cfg, &rep);
	x = find_code(&rep, "GPU_COUNT");
	CHECK(x && !strcmp(x->value, "7") && !strcmp(x->expected, "8"));
	fd_report_free(&rep);
	free(f);
}

static void parse(void)
{
	char pci[24];
	int xid = 0;
	CHECK(gpu_parse_xid("NVRM: Xid (PCI:0000:3b:00): 79, pid=1, GPU has fallen off the bus.",
			    pci, sizeof(pci), &xid) == 0);
	CHECK_STREQ(pci, "0000:3b:00");
	CHECK_EQ_INT(xid, 79);
	CHECK(gpu_parse_xid("NVRM: Xid (0000:3b:00): 48, pid='<unknown>'", pci, sizeof(pci),
			    &xid) == 0);
	CHECK_EQ_INT(xid, 48);
	CHECK(gpu_parse_xid("NVRM: Xid (PCI:0000:3b:00", pci, sizeof(pci), &xid) != 0);
	CHECK(gpu_parse_xid("NVRM: Xid (PCI:0000:3b:00): x", pci, sizeof(pci), &xid) != 0);
	CHECK(gpu_parse_xid("NVRM: loading NVIDIA UNIX", pci, sizeof(pci), &xid) == -ENOENT);
	CHECK_STREQ(gpu_xid_name(79), "GPU has fallen off the bus");
	CHECK(gpu_xid_name(999) == NULL);
}

static struct fd_report judge(struct xid_event *ev, size_t n)
{
	struct xid_facts f = {.ev = ev, .n = n};
	struct fd_report rep = {0};
	gpu_judge_xid(&f, &cfg, &rep);
	return rep;
}

static void xids(void)
{
	struct xid_event ev[6] = {0};
	struct fd_report rep;
	fd_config_init(&cfg);
	ev[0] = (struct xid_event){"0000:3a:00", 79, 60000, ""};
	rep = judge(ev, 1);
	CHECK(find_code(&rep, "GPU_XID_FATAL") && rep.v[0].status == FD_FAIL);
	fd_report_free(&rep);

	ev[0].xid = 48;
	ev[0].age_ms = 48 * 3600000LL;
	rep = judge(ev, 1);
	CHECK(find_code(&rep, "GPU_XID_FATAL") && rep.v[0].status == FD_WARN);
	fd_report_free(&rep);

	ev[0].age_ms = -1; /* unknown age counts as recent */
	rep = judge(ev, 1);
	CHECK(rep.v[0].status == FD_FAIL && strstr(rep.v[0].value, "time unknown"));
	fd_report_free(&rep);

	ev[0].xid = 13;
	rep = judge(ev, 1);
	CHECK(find_code(&rep, "GPU_XID_APP") && rep.v[0].status == FD_WARN);
	fd_report_free(&rep);
	ev[0].xid = 999;
	rep = judge(ev, 1);
	CHECK(find_code(&rep, "GPU_XID_OTHER") && rep.v[0].status == FD_WARN);
	fd_report_free(&rep);

	for (int i = 0; i < 5; i++)
		ev[i] = (struct xid_event){"0000:3a:00", 79, 1000 * (10 - i), ""};
	ev[5] = (struct xid_event){"0000:ab:00", 79, 5000, ""};
	rep = judge(ev, 6);
	CHECK_EQ_INT(count_code(&rep, "GPU_XID_FATAL"), 2);
	CHECK(strstr(rep.v[0].value, "x5") && strstr(rep.v[0].value, "6 s ago"));
	fd_report_free(&rep);

	size_t n = 0;
	fd_parse_int_list("48", cfg.xid_fatal, FD_MAX_XIDS, &n);
	cfg.n_xid_fatal = n;
	rep = judge(ev, 1);
	CHECK(find_code(&rep, "GPU_XID_OTHER") != NULL);
	fd_report_free(&rep);

	rep = judge(ev, 0);
	CHECK(rep.n == 1 && rep.v[0].status == FD_PASS);
	fd_report_free(&rep);
	struct xid_facts bad = {.log_rc = -EPERM};
	gpu_judge_xid(&bad, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
}

static struct gpu_nvml_facts *healthy_nvml(void)
{
	struct gpu_nvml_facts *f = calloc(1, sizeof(*f));
	fd_config_init(&cfg);
	f->pci_gpus = 2;
	f->count = 2;
	strcpy(f->driver, "580.65.06");
	/* a driver for the CUDA the kernels were built with: no GPU_CUDA_DRIVER_OLD */
	f->cuda = FD_CUDA_BUILD_VERSION ? FD_CUDA_BUILD_VERSION : 13000;
	for (int i = 0; i < 2; i++) {
		struct gpu_nvml_dev *d = &f->dev[i];
		snprintf(d->bus_id, sizeof(d->bus_id), "00000000:%02X:00.0", 0x18 + i);
		d->persistence = d->ecc = 1;
		d->ecc_unc = 0;
		d->retired_pending = 0;
		d->remap_known = 1;
		d->temp = 40;
		d->temp_slowdown = 87;
		d->reasons = 0x1;
		d->pcie_width = d->pcie_max = 16;
		d->nvlink_total = d->nvlink_active = 18;
		d->procs = 0;
		d->mig = 0;
	}
	return f;
}

static void nvml(void)
{
	struct fd_report rep = {0};
	struct gpu_nvml_facts *f = healthy_nvml();
	gpu_judge_nvml(f, &cfg, &rep);
	CHECK(fd_report_verdict(&rep) == FD_PASS);
	CHECK_EQ_INT(count_status(&rep, "gpu.ecc", FD_PASS), 2);
	CHECK_EQ_INT(count_status(&rep, "gpu.nvlink", FD_PASS), 2);
	fd_report_free(&rep);
#if FD_CUDA_BUILD_VERSION >= 2000
	/* a driver one CUDA major version behind the kernels' toolkit */
	f->cuda = (FD_CUDA_BUILD_VERSION / 1000 - 1) * 1000 + 40;
	gpu_judge_nvml(f, &cfg, &rep);
	CHECK(find_code(&rep, "GPU_CUDA_DRIVER_OLD") != NULL);
	CHECK(fd_report_verdict(&rep) == FD_WARN);
	fd_report_free(&rep);
	f->cuda = FD_CUDA_BUILD_VERSION;
#endif

	f->dev[1].ecc_unc = 4;
	f->dev[0].temp = 87;
	f->dev[0].reasons = 0x1 | 0x4; /* idle + software power cap: normal */
	f->dev[1].reasons = 0x80;      /* power brake */
	f->dev[1].pcie_width = 4;
	f->dev[0].nvlink_active = 17;
	f->dev[1].procs = 1;
	f->dev[0].remap_pending = 1;
	gpu_judge_nvml(f, &cfg, &rep);
	CHECK(find_code(&rep, "GPU_ECC_UNCORRECTABLE") &&
	      !strcmp(find_code(&rep, "GPU_ECC_UNCORRECTABLE")->subject, "00000000:19:00.0"));
	CHECK(find_code(&rep, "GPU_THERMAL") != NULL);
	CHECK_EQ_INT(count_code(&rep, "GPU_CLOCKS_THROTTLED"), 1);
	CHECK(find_code(&rep, "GPU_CLOCKS_THROTTLED") &&
	      !strcmp(find_code(&rep, "GPU_CLOCKS_THROTTLED")->value, "power brake"));
	CHECK(find_code(&rep, "GPU_PCIE_DEGRADED") != NULL);
	CHECK(find_code(&rep, "GPU_NVLINK_DOWN") &&
	      !strcmp(find_code(&rep, "GPU_NVLINK_DOWN")->value, "17/18 active"));
	CHECK(find_code(&rep, "GPU_BUSY") != NULL);
	CHECK(find_code(&rep, "GPU_ROW_REMAP_PENDING") != NULL);
	fd_report_free(&rep);

	/* unknown (unsupported) values are not judged */
	free(f);
	f = healthy_nvml();
	f->dev[0].temp = -1;
	f->dev[0].reasons = -1;
	f->dev[0].pcie_width = -1;
	f->dev[0].nvlink_total = 0;
	gpu_judge_nvml(f, &cfg, &rep);
	CHECK_EQ_INT(count_status(&rep, "gpu.thermal", FD_PASS), 1);
	CHECK_EQ_INT(count_status(&rep, "gpu.clocks", FD_PASS), 1);
	CHECK_EQ_INT(count_status(&rep, "gpu.nvlink", FD_PASS), 1);
	fd_report_free(&rep);

	cfg.expect_mig = 1;
	cfg.expect_gpus = 5; /* gpu.count's business, not NVML's */
	gpu_judge_nvml(f, &cfg, &rep);
	CHECK_EQ_INT(count_code(&rep, "GPU_MIG_MODE"), 2);
	CHECK_EQ_INT(count_code(&rep, "GPU_COUNT"), 0);
	fd_report_free(&rep);

	f->count = 1; /* one GPU on the bus that NVML does not see */
	gpu_judge_nvml(f, &cfg, &rep);
	CHECK(find_code(&rep, "GPU_COUNT") && !strcmp(find_code(&rep, "GPU_COUNT")->value, "1"));
	fd_report_free(&rep);

	f->rc = -ENODEV;
	strcpy(f->why, "nvmlInit: Driver Not Loaded");
	gpu_judge_nvml(f, &cfg, &rep);
	CHECK(rep.n == 1 && find_code(&rep, "GPU_DRIVER_NOT_LOADED"));
	fd_report_free(&rep);
	f->pci_gpus = 0;
	gpu_judge_nvml(f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
	free(f);
}

const struct unit_test gpu_tests[] = {
    {"gpu: PCI presence, driver, count", pci},
    {"gpu: Xid line parsing", parse},
    {"gpu: Xid classes, ages, grouping", xids},
    {"gpu: NVML judgements", nvml},
    {NULL, NULL},
};
