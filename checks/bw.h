/*
 * bw.h - the bandwidth area: flightdeck-gpubench run as a supervised child, its JSON parsed
 * into facts, and judged against a table of expectations keyed by GPU model.
 *
 * gpubench's output contract (one JSON document on stdout, exit 0):
 *   {"version": 1,
 *    "gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "bus_id": "00000000:18:00.0",
 *              "hbm_gbps": 2950.2, "hbm_ok": true, "h2d_gbps": 53.1, "d2h_gbps": 52.8}],
 *    "p2p":  {same shape as nccl: the custom CUDA allreduce over peer access},
 *    "nccl": {"ran": true, "ngpus": 8, "reason": "...",
 *             "results": [{"bytes": 1073741824, "time_us": 4200.5, "algbw": 255.6,
 *                          "busbw": 447.3, "ok": true}]}}
 * GB/s are 1e9 bytes per second; busbw = algbw * 2(n-1)/n as nccl-tests computes it.
 *
 * Across nodes (flightdeck-gpubench --mpi under mpirun or srun, more than one rank; one GPU per
 * rank) rank 0 alone prints a document of the same version whose nccl section says so:
 *   {"version": 1, "gpus": [],
 *    "p2p":  {"ran": false, "ngpus": 0, "reason": "--mpi measures only ...", "results": []},
 *    "nccl": {"ran": true, "scope": "world", "ngpus": 16, "nranks": 16, "nodes": 2,
 *             "reason": "", "results": [same shape as above]}}
 *   "scope": "world" marks the one communicator over every rank of the job; a document without
 *   "scope" is the single-node sweep of one process. "nranks" = "ngpus" = n of the busbw factor;
 *   "nodes" counts the distinct hosts (MPI_Get_processor_name). A size's "time_us" is its
 *   slowest rank's, and "ok" is false if any rank's sum had a wrong element. The per-GPU and
 *   P2P measurements belong to each node's own single-process run. bw_parse() reads the nccl
 *   section as usual and ignores "scope", "nranks" and "nodes" for now: flightdeck itself runs
 *   gpubench without --mpi, and nothing judges a world document yet.
 */
#ifndef FD_BW_H
#define FD_BW_H

#include <stddef.h>

#include "check.h"

#define BW_MAX_GPUS  16
#define BW_MAX_SIZES 32

struct bw_gpu {
	int index;
	char name[96];
	char bus_id[32];
	double hbm_gbps; /* < 0: not measured */
	int hbm_ok;	 /* the kernel's result verified */
	double h2d_gbps, d2h_gbps;
};

struct bw_result {
	double bytes, time_us, algbw, busbw;
	int ok;
};

struct bw_facts {
	int pci_gpus;	 /* NVIDIA GPUs on the bus: none means nothing to run */
	int state;	 /* BW_RAN, or why it did not */
	char why[256];	 /* for every state but BW_RAN */
	char path[4096]; /* the gpubench that ran */
	size_t n_gpus;
	struct bw_gpu gpus[BW_MAX_GPUS];
	struct bw_collective {
		int ran, ngpus;
		char reason[160];
		size_t n_results;
		struct bw_result results[BW_MAX_SIZES];
	} nccl, p2p; /* NCCL's allreduce, and the custom one over peer-to-peer access */
};

enum {
	BW_RAN,
	BW_NOT_BUILT, /* no gpubench next to flightdeck: skip */
	BW_FAILED,    /* it hung, crashed, exited non-zero or printed garbage: fail */
};

/*
 * The custom P2P allreduce is judged against this fraction of the model's 8-GPU NCCL floor
 * (--expect-p2p-busbw overrides): one-shot/two-shot kernels over NVLink reach roughly half of
 * NCCL's bus bandwidth or more at large messages; far below that, peer traffic is going over
 * PCIe or a link is down. A heuristic until the GPU-truth run measures it.
 */
#define BW_P2P_FRACTION 0.5

/* One row of the expectation table (checks/bw.c). */
struct bw_expect {
	const char *match; /* substring of the NVML/CUDA device name */
	double hbm_min;	   /* GB/s a healthy GPU reaches with a Triad-like kernel, less margin */
	double busbw8_min; /* 8-GPU NCCL allreduce bus bandwidth at >= 1 GB, GB/s; 0 = none */
};
const struct bw_expect *bw_expect_for(const char *name);

/* Busbw from algbw for n ranks, the nccl-tests formula for allreduce: 2(n-1)/n. */
double bw_busbw(double algbw, int n);

/* Parses gpubench's document into f; -EINVAL with why filled when it is not the contract. */
int bw_parse(const char *json, struct bw_facts *f);

/*
 * Runs argv with stdout captured, in its own process group, for at most timeout_ms; on the
 * deadline the whole group is killed (a hung CUDA call never hangs the checker). Returns 0
 * with *out (malloc'd) when it exited 0, else -ETIMEDOUT / -ECHILD (crash or non-zero exit)
 * / -errno, with why filled.
 */
int bw_run_child(char *const argv[], long timeout_ms, char **out, char *why, size_t len);
/*
 * bw_run_child, and a SIGTERM or SIGINT that comes while the child runs (and is not ignored)
 * kills the child's tree and returns -EINTR with *sig set to the signal (0 otherwise).
 */
int bw_run_child_sig(char *const argv[], long timeout_ms, char **out, char *why, size_t len,
		     int *sig);

int bw_probe(struct fd_probe_ctx *ctx, void *facts);
void bw_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

#endif
