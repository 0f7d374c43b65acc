/*
 * ib.h - facts and judges of the InfiniBand/RDMA area, read from sysfs class/infiniband in
 * the kernel's formats:
 *   ports/N/state       "4: ACTIVE"            (1 DOWN, 2 INIT, 3 ARMED, 4 ACTIVE, 5 ACTIVE_DEFER)
 *   ports/N/phys_state  "5: LinkUp"            (2 Polling, 3 Disabled, ...)
 *   ports/N/rate        "400 Gb/sec (4X NDR)"
 *   ports/N/link_layer  "InfiniBand" | "Ethernet" (RoCE)
 *   ports/N/counters/NAME  decimal counters
 */
#ifndef FD_IB_H
#define FD_IB_H

#include <stdint.h>

#include "check.h"
#include "spawn.h"

#define IB_MAX_DEVS	32
#define IB_MAX_PORTS	64
#define IB_NCTR		12
#define IB_STATE_ACTIVE 4
#define IB_PHYS_LINKUP	5

/* The error counters judged for growth (port_xmit_wait is congestion, not an error). */
extern const char *const ib_counter_names[IB_NCTR];

struct ib_dev {
	char name[32];
	char pci[24];	     /* "0000:1b:00.0"; empty when the device link is absent */
	char netdevs[4][32]; /* IPoIB or RoCE netdevs of this HCA, for log attribution */
	int n_netdevs;
	int flaps;	     /* link-down events within flap_window */
	char last_flap[160]; /* the newest such line, for the report */
};

struct ib_port {
	int dev; /* index into ib_facts.devs */
	int port;
	int state;
	char state_text[32];
	int phys;
	char phys_text[32];
	double rate; /* Gb/s */
	char rate_text[48];
	char link_layer[16];
	int64_t ctr[2][IB_NCTR]; /* two reads; -1 = counter absent */
};

struct ib_facts {
	int present; /* SYSFS/class/infiniband exists */
	struct ib_dev devs[IB_MAX_DEVS];
	size_t n_devs;
	struct ib_port ports[IB_MAX_PORTS];
	size_t n;
	char hca_env[256]; /* NCCL_IB_HCA; empty when unset */
	int64_t window_ms; /* counters: time between the reads; 0 = read once */
	int log_rc;	   /* flaps: 0, or why the kernel log could not be read */
};

int ib_probe_ports(struct fd_probe_ctx *ctx, void *facts);
int ib_probe_counters(struct fd_probe_ctx *ctx, void *facts);
int ib_probe_flaps(struct fd_probe_ctx *ctx, void *facts);
void ib_judge_port(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
void ib_judge_rate(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
void ib_judge_hca_env(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
void ib_judge_counters(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
void ib_judge_flap(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

/* With NCCL_IB_HCA set, whether it selects the port (unset: every port). */
int ib_port_selected(const struct ib_facts *f, const struct ib_port *p);

/* Counts link-down events for each device in the log lines (exposed for unit tests). */
struct fd_kmsg_log;
void ib_count_flaps(struct ib_facts *f, const struct fd_kmsg_log *log, int64_t window_ms);

/* libibverbs cross-check (checks/ib_verbs.c); skipped with a reason where it cannot run. */
struct ib_verbs_facts {
	int ran;
	char reason[160]; /* why it did not run */
	size_t n;
	struct {
		char dev[32];
		int port;
		int verbs_state;
		int sysfs_state; /* -1 when sysfs lacks the port */
	} ports[IB_MAX_PORTS];
};
int ib_probe_verbs(struct fd_probe_ctx *ctx, void *facts);
void ib_judge_verbs(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

/*
 * RDMA write bandwidth in loopback per active port (checks/ib_bw.c): perftest's ib_write_bw
 * run as a server and a client on the same HCA port, host memory always, GPU memory too when
 * perftest was built with CUDA and a GPU is present; judged against the port's own rate.
 */
#define IB_BW_MAX_RUNS (IB_MAX_PORTS * 2)

enum {
	IBBW_MEASURED,	 /* gbps holds the client's average */
	IBBW_FAILED,	 /* it could not measure: why */
	IBBW_NOT_ACTIVE, /* the port is not ACTIVE with its link up: ib.port says why */
};

struct ib_bw_run {
	char dev[32];
	int port;
	double rate;	 /* the port's rate, Gb/s */
	int gpu;	 /* GPU memory (GPUDirect RDMA) rather than host memory */
	char gpu_id[32]; /* the GPU: its PCI address, or "0" (CUDA's numbering) */
	int state;
	double gbps;
	char why[256];
};

struct ib_bw_facts {
	int present;	 /* sysfs lists RDMA ports */
	int no_tool;	 /* ib_write_bw is not there: skip with why */
	char tool[4096]; /* the ib_write_bw that ran */
	char why[256];
	int cuda;     /* its --help lists --use_cuda */
	int cuda_bus; /* ...and --use_cuda_bus_id */
	size_t n;
	struct ib_bw_run runs[IB_BW_MAX_RUNS];
};
int ib_bw_probe(struct fd_probe_ctx *ctx, void *facts);
void ib_bw_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

/* ib.pairs: node 0's finding of the test between node pairs, as every node reports it. */
struct ib_pairs_facts {
	int given;
	struct fd_job_finding f;
};
int ib_pairs_probe(struct fd_probe_ctx *ctx, void *facts);
void ib_pairs_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

/*
 * One node's side of the RDMA write test between two nodes (check --job's ib.pairs, driven by
 * launcher/job/pairs_runner.c). Blocking: the job layer runs them in a worker process.
 */
#define IB_PAIR_RAILS 16

struct ib_rail {
	char dev[32];
	int port;
	double rate; /* the port's active rate, Gb/s */
};

/*
 * The rails of this node: the ACTIVE ports with link up that NCCL_IB_HCA selects, in sysfs
 * order, and the tool (--ib-write-bw). Returns how many (at most max), or 0 with why (no
 * RDMA port, none active, no perftest), or -ENOMEM.
 */
int ib_pair_rails(const struct fd_config *cfg, struct ib_rail *out, int max, char *tool,
		  size_t tlen, char *why, size_t wlen);

/* The servers of one node, one per rail, each on a TCP port free on every address. */
struct ib_pair_servers {
	int n;
	int tcp[IB_PAIR_RAILS];
	struct fd_spawn sp[IB_PAIR_RAILS];
	int reaped[IB_PAIR_RAILS];
	int started[IB_PAIR_RAILS];
};

/* Starts a server per rail (ib_write_bw -D dur_s ...). 0, or -1 with why (none started). */
int ib_pair_serve(const char *tool, const struct ib_rail *rails, int n, int dur_s,
		  struct ib_pair_servers *sv, char *why, size_t wlen);
/*
 * Waits until every server has ended or the deadline (CLOCK_MONOTONIC ns); those left are
 * killed. outcome[i]: 0 ended by itself, 2 killed; why: the first error a server printed.
 */
void ib_pair_serve_end(struct ib_pair_servers *sv, int64_t deadline, int *outcome, char *why,
		       size_t wlen);
/*
 * The client of one rail: connects to addr:tcp (retrying while refused, until the deadline)
 * and runs the test. 0 measured (*gbps), 1 failed (why), 2 killed at the deadline.
 */
int ib_pair_connect(const char *tool, const struct ib_rail *rail, const char *addr, int tcp,
		    int dur_s, int64_t deadline, double *gbps, char *why, size_t wlen);

#endif
