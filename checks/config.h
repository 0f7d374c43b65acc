/*
 * config.h - thresholds, expectations and fact roots, in one typed table.
 *
 * Every tunable has one name, used both as a long option (--shm-min 1GiB) and as a key in a
 * --config file (shm-min = 1GiB); the rows are launcher/core/opts.h's, so the parsing, the error
 * wording and the precedence (flags override the file) are the option layer's.
 */
#ifndef FD_CONFIG_H
#define FD_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "opts.h"

#define FD_MAX_XIDS	     64
#define FD_MEMLOCK_UNLIMITED UINT64_MAX
#define FD_DISK_MIN_AUTO     UINT64_MAX /* --disk-min-free auto: host.c's rule */

struct fd_config {
	/* Where facts come from: the test seams (docs/architecture.md, "Test seams"). */
	char sysfs_root[PATH_MAX];
	char proc_root[PATH_MAX];
	char kmsg[PATH_MAX];

	/* host */
	uint64_t shm_min;     /* /dev/shm smaller than this fails (SHM_TOO_SMALL) */
	uint64_t memlock_min; /* RLIMIT_MEMLOCK below this fails when RDMA exists */
	char checkpoint_dir[PATH_MAX];
	uint64_t disk_min_free; /* free space wanted under checkpoint_dir; FD_DISK_MIN_AUTO */

	/* ib */
	double expect_ib_rate;	   /* Gb/s; 0 = the best port of the same link layer */
	int64_t counter_window_ms; /* 0 = read counters once, do not judge growth */
	int ib_flap_max;	   /* link-down events in flap_window before failing */
	int64_t flap_window_ms;
	char ib_write_bw[PATH_MAX]; /* perftest's; a bare name is looked up in PATH */
	double ib_bw_min;	    /* % of the port's rate, RDMA write from host memory */
	double ib_bw_gpu_min;	    /* % of the port's rate, from GPU memory */
	int64_t ib_bw_duration_ms;  /* one loopback test (ib_write_bw -D, whole seconds) */
	int64_t ib_bw_timeout_ms;   /* kill one port's test (a hung HCA) after this long */

	/* bw */
	char gpubench[PATH_MAX]; /* "" = flightdeck-gpubench beside the flightdeck binary */
	int64_t gpubench_timeout_ms;
	double expect_hbm_bw;	   /* GB/s; 0 = the table for the GPU model */
	double expect_busbw;	   /* GB/s; 0 = the table (8 GPUs) */
	double expect_p2p_busbw;   /* GB/s; 0 = half the table's NCCL floor (8 GPUs) */
	double expect_world_busbw; /* GB/s, check --job across nodes; 0 = expect_busbw */

	/* gpu */
	int expect_gpus; /* -1 = however many NVIDIA PCI functions are present */
	int expect_mig;	 /* -1 any, 0 off, 1 on */
	int64_t xid_window_ms;
	int xid_fatal[FD_MAX_XIDS];
	size_t n_xid_fatal;
	int xid_app[FD_MAX_XIDS];
	size_t n_xid_app;

	/* memfit: the job, in `flightdeck memfit` options; "" = none described */
	char memfit[PATH_MAX];
};

/* Fills defaults, then applies the FLIGHTDECK_* environment seams. */
void fd_config_init(struct fd_config *cfg);

/*
 * Sets tunable `name` from text. On error returns -EINVAL (unknown name: -ENOENT) and
 * writes a message naming the value and what would be accepted into err.
 */
int fd_config_set(struct fd_config *cfg, const char *name, const char *value, char *err,
		  size_t errlen);

/* Reads a `key = value` file ('#' comments); err gets "FILE:LINE: ..." on failure. */
int fd_config_load(struct fd_config *cfg, const char *path, char *err, size_t errlen);

/*
 * The table itself, for the commands that parse these as options (check, bench) and for
 * --help and --show-config: rows of launcher/core/opts.h whose offsets point into struct fd_config.
 */
const struct fd_opt *fd_config_rows(size_t *n);

#endif
