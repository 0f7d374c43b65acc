/*
 * config.c - the tunables of `check`: rows of the option layer (launcher/core/opts.h) over struct
 * fd_config, with their types, defaults and bounds.
 *
 * Modelled on redis' config.c: one static table drives the command line, the config file,
 * --help and the printed configuration, so a new threshold is one row, not four edits.
 */
#include "config.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFF(f) offsetof(struct fd_config, f)

/* Bounds shared by the rows below: the type's whole range unless a row says otherwise. */
#define DUR_ANY	     .min = 0, .max = FD_OPT_MS_MAX
#define SIZE_ANY     .min = 0, .max = 1.8446744073709552e19
#define UINT_ANY     .min = 0, .max = INT_MAX
#define GBPS_ANY     .min = 0, .max = 1e6
#define DUR_MAX_ONLY .max = FD_OPT_MS_MAX

/* Default Xid classes (docs/architecture.md, "Reference numbers"). Operators disagree on
 * 63/68/92: tunable. */
#define XID_FATAL_DEFAULT "48,63,64,74,79,92,94,95,119,120"
#define XID_APP_DEFAULT	  "13,31,43,45,68"

static const char *const mig_words[] = {"any", "off", "on", NULL};

static const struct fd_opt tunables[] = {
    {.name = "sysfs-root",
     .metavar = "DIR",
     .help = "read class/infiniband, class/net, bus/pci from DIR (test seam)",
     .type = FD_OPT_BUF,
     .def = "/sys",
     .off = OFF(sysfs_root),
     .cap = PATH_MAX},
    {.name = "proc-root",
     .metavar = "DIR",
     .help = "read driver/nvidia, mounts, self/limits, uptime from DIR",
     .type = FD_OPT_BUF,
     .def = "/proc",
     .off = OFF(proc_root),
     .cap = PATH_MAX},
    {.name = "kmsg",
     .metavar = "FILE",
     .help = "scan FILE (kmsg records or dmesg text) instead of /dev/kmsg",
     .type = FD_OPT_BUF,
     .def = "/dev/kmsg",
     .off = OFF(kmsg),
     .cap = PATH_MAX},
    {.name = "shm-min",
     .metavar = "SIZE",
     .help = "fail when /dev/shm is smaller (DataLoader workers use it)",
     .type = FD_OPT_SIZE,
     .def = "1GiB",
     SIZE_ANY,
     .off = OFF(shm_min)},
    {.name = "memlock-min",
     .metavar = "SIZE",
     .help = "fail when the locked-memory limit is lower, on RDMA nodes",
     .type = FD_OPT_SIZE,
     .def = "unlimited",
     SIZE_ANY,
     .off = OFF(memlock_min),
     .word = "unlimited",
     .word_val = 1.8446744073709552e19, /* FD_MEMLOCK_UNLIMITED */
     .flags = FD_OPT_ICASE},
    {.name = "checkpoint-dir",
     .metavar = "DIR",
     .help = "prove DIR writable (write, fsync, unlink) with free space",
     .type = FD_OPT_BUF,
     .def = "",
     .off = OFF(checkpoint_dir),
     .cap = PATH_MAX},
    {
	.name = "disk-min-free",
	.metavar = "SIZE",
	.help = "fail when the checkpoint directory has less free space (a warning\n"
		"on a shared filesystem); auto: min(20 GiB, 5 % of its size)",
	.type = FD_OPT_SIZE,
	.def = "auto",
	SIZE_ANY,
	.off = OFF(disk_min_free),
	.word = "auto",
	.word_val = 18446744073709551616.0, /* stored as FD_DISK_MIN_AUTO */
    },
    {.name = "expect-ib-rate",
     .metavar = "GBPS",
     .help = "expected IB port rate in Gb/s; 0 = best port of its kind",
     .type = FD_OPT_GBPS,
     .def = "0",
     GBPS_ANY,
     .off = OFF(expect_ib_rate)},
    {.name = "counter-window",
     .metavar = "DUR",
     .help = "read IB error counters twice this far apart; 0 = once",
     .type = FD_OPT_DURATION,
     .def = "1s",
     DUR_ANY,
     .off = OFF(counter_window_ms)},
    {.name = "ib-flap-max",
     .metavar = "N",
     .help = "link-down events per RDMA device in --flap-window before failing",
     .type = FD_OPT_UINT,
     .def = "2",
     UINT_ANY,
     .off = OFF(ib_flap_max)},
    {.name = "flap-window",
     .metavar = "DUR",
     .help = "how far back the kernel log is searched for link flaps",
     .type = FD_OPT_DURATION,
     .def = "24h",
     DUR_ANY,
     .off = OFF(flap_window_ms)},
    {.name = "ib-write-bw",
     .metavar = "PATH",
     .help = "perftest's ib_write_bw for the RDMA bandwidth test (ib.bw, level\n"
	     "standard); a name without '/' is looked up in PATH",
     .type = FD_OPT_BUF,
     .def = "ib_write_bw",
     .off = OFF(ib_write_bw),
     .cap = PATH_MAX},
    {.name = "ib-bw-min",
     .metavar = "PCT",
     .help = "RDMA write in loopback from host memory below this % of the port's\n"
	     "rate fails (IB_BW_LOW)",
     .type = FD_OPT_DOUBLE,
     .def = "90",
     .min = 0,
     .max = 100,
     .off = OFF(ib_bw_min)},
    {.name = "ib-bw-gpu-min",
     .metavar = "PCT",
     .help = "the same from GPU memory (GPUDirect RDMA, a perftest built with CUDA)",
     .type = FD_OPT_DOUBLE,
     .def = "80",
     .min = 0,
     .max = 100,
     .off = OFF(ib_bw_gpu_min)},
    {.name = "ib-bw-duration",
     .metavar = "DUR",
     .help = "how long each port's RDMA write test runs (whole seconds)",
     .type = FD_OPT_DURATION,
     .def = "2s",
     .min = 1000,
     .max = 3600000,
     .off = OFF(ib_bw_duration_ms)},
    {.name = "ib-bw-timeout",
     .metavar = "DUR",
     .help = "kill one port's RDMA write test (a hung HCA) after this long",
     .type = FD_OPT_DURATION,
     .def = "20s",
     .min = 1000,
     DUR_MAX_ONLY,
     .off = OFF(ib_bw_timeout_ms)},
    {.name = "expect-gpus",
     .metavar = "N",
     .help = "expected GPU count; auto = the NVIDIA PCI functions found",
     .type = FD_OPT_UINT,
     .def = "auto",
     UINT_ANY,
     .off = OFF(expect_gpus),
     .word = "auto",
     .word_val = -1,
     .flags = FD_OPT_ICASE},
    {.name = "expect-mig",
     .metavar = "MODE",
     .help = "MIG mode every GPU must be in: on, off or any",
     .type = FD_OPT_ENUM,
     .def = "any",
     .off = OFF(expect_mig),
     .words = mig_words,
     .base = -1,
     .flags = FD_OPT_ICASE},
    {.name = "gpubench",
     .metavar = "PATH",
     .help = "the flightdeck-gpubench to run (default: beside flightdeck)",
     .type = FD_OPT_BUF,
     .def = "",
     .off = OFF(gpubench),
     .cap = PATH_MAX},
    {.name = "gpubench-timeout",
     .metavar = "DUR",
     .help = "kill gpubench (a hung GPU or NCCL) after this long",
     .type = FD_OPT_DURATION,
     .def = "120s",
     DUR_ANY,
     .off = OFF(gpubench_timeout_ms)},
    {.name = "expect-hbm-bw",
     .metavar = "GBPS",
     .help = "HBM bandwidth floor in GB/s; 0 = the table for the model",
     .type = FD_OPT_GBPS,
     .def = "0",
     GBPS_ANY,
     .off = OFF(expect_hbm_bw)},
    {.name = "expect-busbw",
     .metavar = "GBPS",
     .help = "NCCL allreduce busbw floor in GB/s; 0 = the table (8 GPUs)",
     .type = FD_OPT_GBPS,
     .def = "0",
     GBPS_ANY,
     .off = OFF(expect_busbw)},
    {.name = "expect-p2p-busbw",
     .metavar = "GBPS",
     .help = "custom P2P allreduce busbw floor (0: half the model's NCCL floor)",
     .type = FD_OPT_GBPS,
     .def = "0",
     GBPS_ANY,
     .off = OFF(expect_p2p_busbw)},
    {.name = "expect-world-busbw",
     .metavar = "GBPS",
     .help = "check --job: the allreduce across every node's GPUs, busbw floor in\n"
	     "GB/s (0: --expect-busbw; no model table holds a floor across nodes)",
     .type = FD_OPT_GBPS,
     .def = "0",
     GBPS_ANY,
     .off = OFF(expect_world_busbw)},
    {.name = "xid-window",
     .metavar = "DUR",
     .help = "Xids older than this warn instead of failing",
     .type = FD_OPT_DURATION,
     .def = "24h",
     DUR_ANY,
     .off = OFF(xid_window_ms)},
    {.name = "xid-fatal",
     .metavar = "LIST",
     .help = "Xids that make the node unfit (comma-separated)",
     .type = FD_OPT_INTLIST,
     .def = XID_FATAL_DEFAULT,
     .off = OFF(xid_fatal),
     .off_n = OFF(n_xid_fatal),
     .cap = FD_MAX_XIDS},
    {.name = "xid-app",
     .metavar = "LIST",
     .help = "Xids that are usually the application's fault (warn)",
     .type = FD_OPT_INTLIST,
     .def = XID_APP_DEFAULT,
     .off = OFF(xid_app),
     .off_n = OFF(n_xid_app),
     .cap = FD_MAX_XIDS},
    {.name = "memfit",
     .metavar = "OPTIONS",
     .help = "the job as `flightdeck memfit` options; fail MEMFIT_OOM if it cannot fit",
     .type = FD_OPT_BUF,
     .def = "",
     .off = OFF(memfit),
     .cap = PATH_MAX},
};

const struct fd_opt *fd_config_rows(size_t *n)
{
	*n = FD_ARRAY_SIZE(tunables);
	return tunables;
}

static struct fd_opt_table table_of(struct fd_config *cfg)
{
	return (struct fd_opt_table){
	    .heading = NULL, .rows = tunables, .n = FD_ARRAY_SIZE(tunables), .obj = cfg};
}

void fd_config_init(struct fd_config *cfg)
{
	static const struct {
		const char *env, *name;
	} envs[] = {
	    {"FLIGHTDECK_SYSFS_ROOT", "sysfs-root"},
	    {"FLIGHTDECK_PROC_ROOT", "proc-root"},
	    {"FLIGHTDECK_KMSG", "kmsg"},
	};
	struct fd_opt_table t = table_of(cfg);
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	fd_opt_defaults(&t, 1);
	for (size_t i = 0; i < FD_ARRAY_SIZE(envs); i++) {
		const char *v = getenv(envs[i].env);
		if (v && *v)
			fd_opt_set(fd_opt_find(&t, 1, envs[i].name, NULL), cfg, v, err,
				   sizeof(err));
	}
}

int fd_config_set(struct fd_config *cfg, const char *name, const char *value, char *err,
		  size_t errlen)
{
	struct fd_opt_table t = table_of(cfg);
	const struct fd_opt *o = fd_opt_find(&t, 1, name, NULL);

	if (!o) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return -ENOENT;
	}
	return fd_opt_set(o, cfg, value, err, errlen) ? -EINVAL : 0;
}

int fd_config_load(struct fd_config *cfg, const char *path, char *err, size_t errlen)
{
	struct fd_opt_table t = table_of(cfg);
	struct fd_opt_parser p = {.cmd = "check", .tables = &t, .n_tables = 1};
	int rc = fd_opt_load(&p, path, err, errlen);

	fd_opt_release(&p);
	return rc;
}
