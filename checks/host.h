/*
 * host.h - facts and judges of the host area: /dev/shm, the locked-memory limit, the
 * checkpoint directory, NCCL_SOCKET_IFNAME and clock synchronisation.
 */
#ifndef FD_HOST_H
#define FD_HOST_H

#include <limits.h>
#include <stdint.h>

#include "check.h"

struct shm_facts {
	int mounted; /* /dev/shm appears in PROC/mounts */
	char fstype[32];
	uint64_t size;	 /* bytes; 0 = unknown */
	char source[48]; /* where size came from: "size=65536k" or "tmpfs default (half of RAM)" */
};

struct memlock_facts {
	int rdma;  /* RDMA devices exist (class/infiniband has entries) */
	int known; /* PROC/self/limits had the line */
	int unlimited;
	uint64_t soft; /* bytes */
};

struct ckpt_facts {
	int configured;
	char dir[PATH_MAX];
	int write_rc;		/* 0, or -errno of the step below */
	const char *write_step; /* "open", "write", "fsync", "unlink" */
	int statvfs_rc;
	uint64_t free_bytes;
	uint64_t total_bytes; /* the filesystem's size, for --disk-min-free auto */
	char fstype[32];      /* of the mount holding dir, from PROC/mounts; "" unknown */
	int shared;	      /* a network or cluster filesystem: space is the job's concern */
};

/* --disk-min-free auto: min(20 GiB, 5 % of the checkpoint filesystem's size). */
#define CKPT_MIN_FREE_MAX     (20ULL << 30)
#define CKPT_MIN_FREE_PERCENT 5

/* The free space host.disk wants: the operator's --disk-min-free, or the auto rule. */
uint64_t host_ckpt_min_free(const struct ckpt_facts *f, const struct fd_config *cfg);
/* fstype is a network or cluster filesystem (nfs, lustre, gpfs, cifs, fuse.*, ...). */
int host_fstype_shared(const char *fstype);

#define FD_MAX_IFACES 64

struct ifname_facts {
	int set; /* NCCL_SOCKET_IFNAME is set and not empty */
	char value[256];
	struct {
		char name[32];
		int up;
	} ifs[FD_MAX_IFACES];
	size_t n;
};

struct clock_facts {
	int rc;	    /* adjtimex result: TIME_OK.. TIME_ERROR, or -errno */
	int unsync; /* STA_UNSYNC is set */
	long esterror_us;
	long maxerror_us;
};

int host_probe_shm(struct fd_probe_ctx *ctx, void *facts);
void host_judge_shm(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
int host_probe_memlock(struct fd_probe_ctx *ctx, void *facts);
void host_judge_memlock(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
int host_probe_ckpt(struct fd_probe_ctx *ctx, void *facts);
void host_judge_ckpt(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
int host_probe_ifname(struct fd_probe_ctx *ctx, void *facts);
void host_judge_ifname(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
int host_probe_clock(struct fd_probe_ctx *ctx, void *facts);
void host_judge_clock(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

#endif
