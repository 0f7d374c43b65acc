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
 *   P2P measurements belong to each node's own single-process run.
 *
 * The world mode without MPI (flightdeck-gpubench --world R/N, one process per node with all
 * its GPUs, driven by `check --job` through the node group) prints the same document on every
 * process, "rank" added: each one's own view (its time of a size, its own sums checked), and
 * flightdeck takes the slowest. Before the document, on stdout, one line each: rank 0 prints
 * "nccl-id HEX" as soon as the id is made; a process without a GPU prints "no-gpu REASON" and
 * exits 3. bw_parse() reads "scope", "nranks" and "nodes" into the nccl section.
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
		int world;	   /* "scope": "world": one communicator over the whole job */
		int nranks, nodes; /* with world: its ranks and distinct hosts (0: not said) */
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

/*
 * For a tool whose failures are told in its output (perftest's ib_write_bw): stdout and
 * stderr through one pipe, and the output kept whatever the exit status. Returns 0 when the
 * tool exited, with *out (malloc'd, NUL-terminated, *outlen bytes before the NUL: it may hold
 * NULs) and *status as waitpid gives it; otherwise as bw_run_child_sig (-ETIMEDOUT, -EINTR
 * with *sig, -ECHILD when it could not be executed), nothing kept.
 */
int bw_run_tool(char *const argv[], long timeout_ms, char **out, size_t *outlen, int *status,
		char *why, size_t len, int *sig);

int bw_probe(struct fd_probe_ctx *ctx, void *facts);
void bw_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

/* The gpubench to run: --gpubench, else flightdeck-gpubench beside this flightdeck. */
void bw_gpubench_path(const struct fd_config *cfg, char *out, size_t len);
/* The nccl section's largest message (NULL: none); *ok 0 when any size summed wrong. */
const struct bw_result *bw_largest(const struct bw_collective *c, int *ok);

/* ---- bw.world: the allreduce across the job's nodes (check --job) ------------------------
 *
 * Gathered by the node group (launcher/job/world_cli.c drives it from node 0: a set of nodes runs one
 * gpubench each as one NCCL world, halves of a slow set are tested again until one node is
 * named); judged here, a pure function of what the group found. Node 0 judges those facts and
 * sends the finding to every node; each node's bw.world row reads it from the probe context's
 * job facts (state BWW_GIVEN). In a plain `check` there is no job: the row gives no finding.
 */
enum {
	BWW_NOT_JOB = 0, /* a plain check: nothing to say */
	BWW_SKIP,	 /* could not run (no GPU, no gpubench on a node): why */
	BWW_NODE_FAILED, /* a node's gpubench hung, never gave the id, failed: culprit[0] */
	BWW_RAN,	 /* the whole job's set ran: outcome says what the bisection found */
	BWW_GIVEN,	 /* node 0's finding, as every node's bw.world reads it: given */
};

/* What the allreduce across the job found; launcher/job/bisect.c answers with these too. */
enum bw_world_outcome {
	BWW_PASS = 0, /* met the floor (or there is none) */
	BWW_CULPRIT,  /* below: culprit[0] named by re-testing halves */
	BWW_PAIR,     /* below: one of culprit[0], [1], no node proven good to tell them apart */
	BWW_NONE,     /* below, but every half meets the floor: no single node */
	BWW_ROUNDS,   /* below, and the round bound came before a node was named */
};

struct bw_world_facts {
	int state, outcome;
	int nnodes;	   /* the job's nodes */
	int nranks, nodes; /* the whole job's world document */
	double bytes, busbw, algbw;
	int ok;		/* every size's sums verified, on every rank */
	int culprit[2]; /* -1: none */
	char host[2][64];
	double culprit_busbw; /* the named node's test (a set with it) */
	int rounds, max_rounds;
	int also_slow;		     /* another half (or pair test) was below the floor too */
	char why[256];		     /* SKIP and NODE_FAILED: whose gpubench and what happened */
	struct fd_job_finding given; /* GIVEN */
};

/* The floor a set's allreduce is judged by: --expect-world-busbw, else --expect-busbw; 0 none. */
double bw_world_floor(const struct fd_config *cfg);
/* A set's result passes: its sums verified and its busbw (its slowest rank's) at the floor. */
int bw_world_passes(const struct fd_config *cfg, double busbw, int ok);
int bw_world_probe(struct fd_probe_ctx *ctx, void *facts);
void bw_world_judge(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

#endif
