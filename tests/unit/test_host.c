/* test_host.c - the host judges, called with facts built by hand. */
#include "host.h"
#include "nccl_list.h"
#include "testhelp.h"

#include <errno.h>
#include <sys/timex.h>

static struct fd_config cfg;

static void setup(void)
{
	fd_config_init(&cfg);
}

static void shm(void)
{
	struct shm_facts f = {
	    .mounted = 1, .fstype = "tmpfs", .size = 65536ULL * 1024, .source = "size=65536k"};
	struct fd_report rep = {0};
	setup();
	host_judge_shm(&f, &cfg, &rep);
	const struct fd_finding *x = find_code(&rep, "SHM_TOO_SMALL");
	CHECK(x && x->status == FD_FAIL);
	CHECK(x && !strcmp(x->value, "64.0 MiB"));
	fd_report_free(&rep);

	f.size = 16ULL << 30;
	host_judge_shm(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_PASS);
	fd_report_free(&rep);

	f.mounted = 0;
	host_judge_shm(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_WARN);
	fd_report_free(&rep);

	f.mounted = 1;
	f.size = 0;
	host_judge_shm(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
}

static void memlock(void)
{
	struct memlock_facts f = {0};
	struct fd_report rep = {0};
	setup();
	host_judge_memlock(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);

	f = (struct memlock_facts){.rdma = 1, .known = 1, .soft = 8 << 20};
	host_judge_memlock(&f, &cfg, &rep);
	CHECK(find_code(&rep, "MEMLOCK_LIMITED") && rep.v[0].status == FD_FAIL);
	fd_report_free(&rep);

	f.unlimited = 1;
	host_judge_memlock(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_PASS);
	fd_report_free(&rep);

	f.unlimited = 0;
	f.soft = 2ULL << 30;
	cfg.memlock_min = 1ULL << 30;
	host_judge_memlock(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_PASS);
	fd_report_free(&rep);
}

static void ckpt(void)
{
	struct ckpt_facts f = {0};
	struct fd_report rep = {0};
	setup();
	host_judge_ckpt(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);

	f = (struct ckpt_facts){.configured = 1,
				.dir = "/ckpt",
				.write_rc = -EROFS,
				.write_step = "open",
				.free_bytes = 1ULL << 40};
	host_judge_ckpt(&f, &cfg, &rep);
	const struct fd_finding *x = find_code(&rep, "CKPT_DIR_UNWRITABLE");
	CHECK(x && x->status == FD_FAIL && strstr(x->value, "open: "));
	CHECK(find_check(&rep, "host.disk", FD_PASS) != NULL);
	fd_report_free(&rep);

	f.write_rc = 0;
	f.free_bytes = 1ULL << 30;
	host_judge_ckpt(&f, &cfg, &rep);
	CHECK(find_check(&rep, "host.ckpt", FD_PASS) != NULL);
	x = find_code(&rep, "DISK_LOW");
	CHECK(x && !strcmp(x->check, "host.disk") && x->status == FD_FAIL);
	fd_report_free(&rep);
}

static void nccl_lists(void)
{
	struct fd_nccl_list l;
	CHECK(fd_nccl_list_parse("eth", &l) == 0);
	CHECK(fd_nccl_list_match(&l, "eth0", 0) == 0 && fd_nccl_list_match(&l, "eth10", 0) == 0);
	CHECK(fd_nccl_list_match(&l, "ib0", 0) == -1);
	CHECK(fd_nccl_list_parse("=eth0", &l) == 0 && l.exact);
	CHECK(fd_nccl_list_match(&l, "eth01", 0) == -1 && fd_nccl_list_match(&l, "eth0", 0) == 0);
	CHECK(fd_nccl_list_parse("^docker,lo", &l) == 0 && l.exclude && l.n == 2);
	CHECK(fd_nccl_list_parse("mlx5_0:1,mlx5_1:1", &l) == 0 && l.e[1].port == 1);
	CHECK(fd_nccl_list_match(&l, "mlx5_1", 1) == 1 &&
	      fd_nccl_list_match(&l, "mlx5_1", 2) == -1);
	CHECK(fd_nccl_list_parse("", &l) != 0);
	CHECK(fd_nccl_list_parse(",", &l) != 0);
	CHECK(fd_nccl_list_parse("mlx5_0:x", &l) != 0);
}

static enum fd_status ifname(const char *value, const char **code)
{
	struct ifname_facts f = {.set = 1, .n = 3};
	struct fd_report rep = {0};
	strcpy(f.value, value);
	strcpy(f.ifs[0].name, "lo");
	f.ifs[0].up = 1;
	strcpy(f.ifs[1].name, "eth0");
	f.ifs[1].up = 1;
	strcpy(f.ifs[2].name, "ib0");
	host_judge_ifname(&f, &cfg, &rep);
	enum fd_status st = rep.n == 1 ? rep.v[0].status : FD_SKIP;
	*code = rep.n == 1 ? rep.v[0].code : "?";
	fd_report_free(&rep);
	return st;
}

static void ifnames(void)
{
	const char *code;
	struct ifname_facts unset = {0};
	struct fd_report rep = {0};
	setup();
	host_judge_ifname(&unset, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
	CHECK(ifname("eth", &code) == FD_PASS);
	CHECK(ifname("=ens1", &code) == FD_FAIL && !strcmp(code, "NCCL_IFNAME_MISSING"));
	CHECK(ifname("ib", &code) == FD_FAIL);
	CHECK(ifname("^eth,lo", &code) == FD_FAIL);
	CHECK(ifname("^lo", &code) == FD_PASS);
	CHECK(ifname("^", &code) == FD_FAIL);
}

static void clock_sync(void)
{
	struct clock_facts f = {.rc = TIME_ERROR, .unsync = 1};
	struct fd_report rep = {0};
	setup();
	host_judge_clock(&f, &cfg, &rep);
	CHECK(find_code(&rep, "CLOCK_UNSYNCED") && rep.v[0].status == FD_WARN);
	fd_report_free(&rep);
	f = (struct clock_facts){.rc = TIME_OK, .esterror_us = 12};
	host_judge_clock(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_PASS && strstr(rep.v[0].value, "12 us"));
	fd_report_free(&rep);
	f.rc = -EPERM;
	host_judge_clock(&f, &cfg, &rep);
	CHECK(rep.n == 1 && rep.v[0].status == FD_SKIP);
	fd_report_free(&rep);
}

/* Issue 11, item 9: a shared checkpoint filesystem low on space warns; auto scales. */
static void ckpt_shared(void)
{
	struct ckpt_facts f = {
	    .configured = 1, .dir = "/ckpt", .free_bytes = 1ULL << 30, .total_bytes = 1ULL << 40};
	struct fd_report rep = {0};
	const struct fd_finding *x;

	setup();
	CHECK(cfg.disk_min_free == FD_DISK_MIN_AUTO);
	/* auto: min(20 GiB, 5 % of the size) */
	CHECK(host_ckpt_min_free(&f, &cfg) == 20ULL << 30);
	f.total_bytes = 10ULL << 30;
	CHECK(host_ckpt_min_free(&f, &cfg) == (10ULL << 30) / 20);
	f.total_bytes = 0; /* unknown size: the cap */
	CHECK(host_ckpt_min_free(&f, &cfg) == 20ULL << 30);
	f.total_bytes = UINT64_MAX; /* no overflow */
	CHECK(host_ckpt_min_free(&f, &cfg) == 20ULL << 30);
	cfg.disk_min_free = 1ULL << 40; /* the operator's: as given */
	CHECK(host_ckpt_min_free(&f, &cfg) == 1ULL << 40);
	cfg.disk_min_free = 0;
	CHECK(host_ckpt_min_free(&f, &cfg) == 0);

	/* 1 GiB free of 10 GiB under auto: 512 MiB wanted, pass */
	setup();
	f.total_bytes = 10ULL << 30;
	host_judge_ckpt(&f, &cfg, &rep);
	x = find_check(&rep, "host.disk", FD_PASS);
	CHECK(x && !strcmp(x->expected, ">= 512.0 MiB"));
	fd_report_free(&rep);

	/* low on local storage: DISK_LOW; on shared storage: CKPT_FS_LOW, a warning */
	cfg.disk_min_free = 2ULL << 30;
	strcpy(f.fstype, "xfs");
	host_judge_ckpt(&f, &cfg, &rep);
	CHECK(find_code(&rep, "DISK_LOW") && !find_code(&rep, "CKPT_FS_LOW"));
	fd_report_free(&rep);
	strcpy(f.fstype, "lustre");
	f.shared = 1;
	host_judge_ckpt(&f, &cfg, &rep);
	x = find_code(&rep, "CKPT_FS_LOW");
	CHECK(x && x->status == FD_WARN && !strcmp(x->check, "host.disk") &&
	      strstr(x->message, "lustre"));
	CHECK(!find_code(&rep, "DISK_LOW"));
	CHECK(fd_report_verdict(&rep) == FD_WARN);
	fd_report_free(&rep);

	/* the write test: ENOSPC/EDQUOT on shared storage warns, other errors still fail */
	f.write_rc = -EDQUOT;
	f.write_step = "write";
	host_judge_ckpt(&f, &cfg, &rep);
	x = find_code(&rep, "CKPT_FS_LOW");
	CHECK(x && !strcmp(x->check, "host.ckpt") && x->status == FD_WARN);
	CHECK(!find_code(&rep, "CKPT_DIR_UNWRITABLE"));
	fd_report_free(&rep);
	f.write_rc = -EROFS;
	host_judge_ckpt(&f, &cfg, &rep);
	CHECK(find_code(&rep, "CKPT_DIR_UNWRITABLE"));
	fd_report_free(&rep);
	f.write_rc = -ENOSPC;
	f.shared = 0;
	host_judge_ckpt(&f, &cfg, &rep);
	CHECK(find_code(&rep, "CKPT_DIR_UNWRITABLE"));
	fd_report_free(&rep);

	CHECK(host_fstype_shared("nfs4") && host_fstype_shared("fuse.sshfs") &&
	      host_fstype_shared("gpfs") && host_fstype_shared("beegfs"));
	CHECK(!host_fstype_shared("xfs") && !host_fstype_shared("ext4") &&
	      !host_fstype_shared("tmpfs") && !host_fstype_shared("fuseblk"));
}

const struct unit_test host_tests[] = {
    {"host: /dev/shm", shm},
    {"host: memlock", memlock},
    {"host: checkpoint dir", ckpt},
    {"host: checkpoint dir on shared storage", ckpt_shared},
    {"host: NCCL list syntax", nccl_lists},
    {"host: NCCL_SOCKET_IFNAME", ifnames},
    {"host: clock", clock_sync},
    {NULL, NULL},
};
