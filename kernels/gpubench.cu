/*
 * gpubench.cu - flightdeck-gpubench: what the node's GPUs can do, as one JSON document.
 *
 *   HBM bandwidth per GPU: a Triad-like kernel (a = b + s*c, 16-byte vectors, grid-stride),
 *     best of several timed runs after warm-up; the result is verified on the device.
 *   Host<->device bandwidth per GPU: pinned memory, cudaMemcpyAsync, best of several.
 *   A custom allreduce over peer-to-peer access (one-shot small, two-shot large), verified.
 *   NCCL allreduce across all the node's GPUs in this one process (ncclCommInitAll), message
 *     sizes swept like all_reduce_perf, every element of the result checked, algbw and busbw
 *     by the nccl-tests formulas. Every wait is bounded by --timeout-ms: on the deadline the
 *     communicators are aborted (ncclCommAbort) instead of hanging, and the exit is non-zero.
 *   With --mpi under mpirun or srun, across nodes: one rank per GPU, one NCCL communicator over
 *     the whole job (ncclCommInitRank, the id sent by MPI), the same allreduce sweep; rank 0
 *     prints the job's document. With --world R/N (flightdeck check --job, no MPI): one
 *     process per node driving all its GPUs, the id made by rank 0 and relayed by whoever
 *     started the processes (--nccl-id); every process prints its view (see "across nodes").
 *
 * The output contract is documented in checks/bw.h. flightdeck runs this program as a child
 * with its own deadline, so CUDA never runs inside flightdeck. Exit status: 0 measured;
 * 2 usage; 3 no CUDA device ("no GPU") or a CUDA error; 4 timeout.
 */
#include <ctype.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if FD_HAVE_NCCL
#include <nccl.h>
#endif
#ifndef FD_HAVE_MPI
#define FD_HAVE_MPI 0
#endif
#if FD_HAVE_MPI
#include "gpubench_mpi.h"
#endif

#define MAX_GPUS 16

/*
 * Under --mpi with more than one rank, who says which rank speaks ("rank 3 on gpu07: ") and a
 * failure ends every rank of the job (MPI_Abort), so that no rank waits forever in MPI or NCCL
 * for one that left. Alone, who is empty and a failure is exit().
 */
static char who[320];
#if FD_HAVE_MPI
static int world_job;
#endif

static void die(int code)
{
#if FD_HAVE_MPI
	if (world_job)
		gb_mpi_abort(code);
#endif
	exit(code);
}

/* Reports host:file:line and leaves with status 3, as nccl-tests' CUDACHECK does. */
#define CUDACHECK(cmd)                                                                             \
	do {                                                                                       \
		cudaError_t e_ = (cmd);                                                            \
		if (e_ != cudaSuccess) {                                                           \
			fprintf(stderr, "flightdeck-gpubench: %s%s:%d: %s: %s\n", who, __FILE__,   \
				__LINE__, #cmd, cudaGetErrorString(e_));                           \
			die(3);                                                                    \
		}                                                                                  \
	} while (0)

static long timeout_ms = 60000;
static int full;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__global__ void init_kernel(float4 *b, float4 *c, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float v = 1.0f + (float)(i % 7);
		b[i] = make_float4(v, v, v, v);
		c[i] = make_float4(2.0f, 2.0f, 2.0f, 2.0f);
	}
}

__global__ void triad_kernel(float4 *__restrict__ a, const float4 *__restrict__ b,
			     const float4 *__restrict__ c, float s, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float4 x = b[i], y = c[i];
		a[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
	}
}

/* Counts elements that differ from the exact expectation (all values are small integers). */
__global__ void verify_triad(const float4 *a, size_t n, float s, unsigned long long *bad)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float want = 1.0f + (float)(i % 7) + s * 2.0f;
		float4 v = a[i];
		if (v.x != want || v.y != want || v.z != want || v.w != want)
			atomicAdd(bad, 1ULL);
	}
}

__global__ void fill_kernel(float *x, size_t n, float v)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		x[i] = v;
}

__global__ void verify_equal(const float *x, size_t n, float want, unsigned long long *bad)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		if (x[i] != want)
			atomicAdd(bad, 1ULL);
}

struct gpu_result {
	char name[256];
	char bus_id[32];
	double hbm, h2d, d2h;
	int hbm_ok;
};

static int grid_for(int dev)
{
	int sms = 0;
	CUDACHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
	return sms * 8;
}

static void bench_gpu(int dev, struct gpu_result *r)
{
	cudaDeviceProp p;
	size_t bytes = (size_t)(full ? 2048 : 512) << 20; /* per array */
	size_t n = bytes / sizeof(float4);
	float4 *a, *b, *c;
	unsigned long long *bad, hbad = 0;
	cudaEvent_t e0, e1;
	const float s = 3.0f;
	int reps = full ? 20 : 8, grid = grid_for(dev);

	CUDACHECK(cudaSetDevice(dev));
	CUDACHECK(cudaGetDeviceProperties(&p, dev));
	snprintf(r->name, sizeof(r->name), "%s", p.name);
	snprintf(r->bus_id, sizeof(r->bus_id), "%04x:%02x:%02x.0", p.pciDomainID, p.pciBusID,
		 p.pciDeviceID);
	CUDACHECK(cudaMalloc(&a, bytes));
	CUDACHECK(cudaMalloc(&b, bytes));
	CUDACHECK(cudaMalloc(&c, bytes));
	CUDACHECK(cudaMalloc(&bad, sizeof(*bad)));
	CUDACHECK(cudaMemset(bad, 0, sizeof(*bad)));
	CUDACHECK(cudaEventCreate(&e0));
	CUDACHECK(cudaEventCreate(&e1));
	init_kernel<<<grid, 256>>>(b, c, n);
	for (int i = 0; i < 3; i++) /* warm-up: clocks up, TLBs filled */
		triad_kernel<<<grid, 256>>>(a, b, c, s, n);
	float best = 1e30f;
	for (int i = 0; i < reps; i++) {
		float ms;
		CUDACHECK(cudaEventRecord(e0));
		triad_kernel<<<grid, 256>>>(a, b, c, s, n);
		CUDACHECK(cudaEventRecord(e1));
		CUDACHECK(cudaEventSynchronize(e1));
		CUDACHECK(cudaEventElapsedTime(&ms, e0, e1));
		if (ms < best)
			best = ms;
	}
	r->hbm = 3.0 * (double)bytes / (best / 1e3) / 1e9; /* two reads, one write */
	verify_triad<<<grid, 256>>>(a, n, s, bad);
	CUDACHECK(cudaMemcpy(&hbad, bad, sizeof(hbad), cudaMemcpyDeviceToHost));
	r->hbm_ok = hbad == 0;

	/* host <-> device, pinned */
	size_t hb = (size_t)256 << 20;
	void *host;
	CUDACHECK(cudaMallocHost(&host, hb));
	memset(host, 1, hb);
	for (int dir = 0; dir < 2; dir++) {
		float bt = 1e30f;
		for (int i = 0; i < 6; i++) {
			float ms;
			CUDACHECK(cudaEventRecord(e0));
			if (dir == 0)
				CUDACHECK(cudaMemcpyAsync(a, host, hb, cudaMemcpyHostToDevice));
			else
				CUDACHECK(cudaMemcpyAsync(host, a, hb, cudaMemcpyDeviceToHost));
			CUDACHECK(cudaEventRecord(e1));
			CUDACHECK(cudaEventSynchronize(e1));
			CUDACHECK(cudaEventElapsedTime(&ms, e0, e1));
			if (i > 0 && ms < bt) /* the first is a warm-up */
				bt = ms;
		}
		(dir == 0 ? r->h2d : r->d2h) = (double)hb / (bt / 1e3) / 1e9;
	}
	CUDACHECK(cudaFreeHost(host));
	CUDACHECK(cudaFree(a));
	CUDACHECK(cudaFree(b));
	CUDACHECK(cudaFree(c));
	CUDACHECK(cudaFree(bad));
	CUDACHECK(cudaEventDestroy(e0));
	CUDACHECK(cudaEventDestroy(e1));
}

/* ---- custom allreduce over peer-to-peer access --------------------------------------------
 *
 * Each GPU holds `count` floats (rank+1 everywhere). Phases are separated by host barriers
 * (every device synchronised), which costs a few microseconds per phase but needs no flags
 * in peer memory:
 *   one-shot (small messages): every GPU reads all peers' inputs and writes the full sum;
 *   two-shot (large): reduce-scatter (GPU g sums slice g from every peer into its output),
 *     then all-gather (GPU g copies slice k from GPU k's output).
 * The result is checked exactly; algbw and busbw use the nccl-tests formulas.
 */
#define P2P_MAX 8

__global__ void sum_peers(float *out, const float *const *in, int n, size_t lo, size_t hi)
{
	for (size_t i = lo + blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < hi;
	     i += (size_t)gridDim.x * blockDim.x) {
		float acc = 0.0f;
		for (int r = 0; r < n; r++)
			acc += in[r][i];
		out[i] = acc;
	}
}

__global__ void copy_slice(float *dst, const float *src, size_t lo, size_t hi)
{
	for (size_t i = lo + blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < hi;
	     i += (size_t)gridDim.x * blockDim.x)
		dst[i] = src[i];
}

static char p2p_json[4096];

static void sync_all(int n)
{
	for (int d = 0; d < n; d++) {
		CUDACHECK(cudaSetDevice(d));
		CUDACHECK(cudaDeviceSynchronize());
	}
}

static void p2p_allreduce_once(int n, float **out, float ***peer_in, size_t count, int two_shot)
{
	if (!two_shot) {
		for (int d = 0; d < n; d++) {
			CUDACHECK(cudaSetDevice(d));
			sum_peers<<<grid_for(d), 256>>>(out[d], peer_in[d], n, 0, count);
		}
		sync_all(n);
		return;
	}
	size_t slice = (count + n - 1) / n;
	for (int d = 0; d < n; d++) { /* reduce-scatter */
		size_t lo = slice * d, hi = lo + slice < count ? lo + slice : count;
		CUDACHECK(cudaSetDevice(d));
		sum_peers<<<grid_for(d), 256>>>(out[d], peer_in[d], n, lo, hi);
	}
	sync_all(n);
	for (int d = 0; d < n; d++) { /* all-gather */
		CUDACHECK(cudaSetDevice(d));
		for (int k = 0; k < n; k++) {
			size_t lo = slice * k, hi = lo + slice < count ? lo + slice : count;
			if (k != d && lo < hi)
				copy_slice<<<grid_for(d), 256>>>(out[d], out[k], lo, hi);
		}
	}
	sync_all(n);
}

static void bench_p2p(int n)
{
	float *in[P2P_MAX], *out[P2P_MAX];
	float **peer_in[P2P_MAX]; /* per GPU: a device array of every GPU's input pointer */
	unsigned long long *bad[P2P_MAX];
	size_t max_bytes = (size_t)(full ? 1024 : 256) << 20, off = 0;
	const char *why = NULL;

	if (n > P2P_MAX)
		n = P2P_MAX;
	for (int a = 0; a < n && !why; a++)
		for (int b = 0; b < n && !why; b++) {
			int ok = 1;
			if (a != b)
				CUDACHECK(cudaDeviceCanAccessPeer(&ok, a, b));
			if (!ok)
				why = "GPUs without peer access to each other";
		}
	if (why) {
		snprintf(p2p_json, sizeof(p2p_json),
			 "{\"ran\": false, \"ngpus\": %d, \"reason\": \"%s\", \"results\": []}", n, why);
		return;
	}
	for (int d = 0; d < n; d++) {
		CUDACHECK(cudaSetDevice(d));
		for (int k = 0; k < n; k++) {
			if (k == d)
				continue;
			cudaError_t e = cudaDeviceEnablePeerAccess(k, 0);
			if (e == cudaErrorPeerAccessAlreadyEnabled)
				cudaGetLastError();
			else
				CUDACHECK(e);
		}
		CUDACHECK(cudaMalloc(&in[d], max_bytes));
		CUDACHECK(cudaMalloc(&out[d], max_bytes));
		CUDACHECK(cudaMalloc(&bad[d], sizeof(unsigned long long)));
		CUDACHECK(cudaMalloc(&peer_in[d], n * sizeof(float *)));
	}
	for (int d = 0; d < n; d++) {
		CUDACHECK(cudaSetDevice(d));
		CUDACHECK(cudaMemcpy(peer_in[d], in, n * sizeof(float *), cudaMemcpyHostToDevice));
	}
	off += (size_t)snprintf(p2p_json + off, sizeof(p2p_json) - off,
				"{\"ran\": true, \"ngpus\": %d, \"reason\": \"%s\", \"results\": [", n,
				n == 1 ? "one GPU: the sum is a copy, bandwidth is local" : "");
	int first = 1;
	for (size_t bytes = 64 << 10; bytes <= max_bytes; bytes *= 8) {
		size_t count = bytes / sizeof(float);
		int two_shot = bytes >= ((size_t)1 << 20);
		float want = (float)(n * (n + 1) / 2);
		for (int d = 0; d < n; d++) {
			CUDACHECK(cudaSetDevice(d));
			fill_kernel<<<grid_for(d), 256>>>(in[d], count, (float)(d + 1));
			fill_kernel<<<grid_for(d), 256>>>(out[d], count, -1.0f);
		}
		sync_all(n);
		p2p_allreduce_once(n, out, peer_in, count, two_shot);
		unsigned long long wrong = 0;
		for (int d = 0; d < n; d++) {
			unsigned long long h = 0;
			CUDACHECK(cudaSetDevice(d));
			CUDACHECK(cudaMemset(bad[d], 0, sizeof(h)));
			verify_equal<<<grid_for(d), 256>>>(out[d], count, want, bad[d]);
			CUDACHECK(cudaMemcpy(&h, bad[d], sizeof(h), cudaMemcpyDeviceToHost));
			wrong += h;
		}
		double best = 1e30;
		for (int it = 0; it < 6; it++) {
			double t0 = now_s();
			p2p_allreduce_once(n, out, peer_in, count, two_shot);
			double t = now_s() - t0;
			if (it > 0 && t < best) /* the first is a warm-up */
				best = t;
		}
		double algbw = (double)bytes / best / 1e9;
		off += (size_t)snprintf(p2p_json + off, sizeof(p2p_json) - off,
					"%s{\"bytes\": %zu, \"algorithm\": \"%s\", \"time_us\": %.1f, "
					"\"algbw\": %.2f, \"busbw\": %.2f, \"ok\": %s}",
					first ? "" : ", ", bytes, two_shot ? "two-shot" : "one-shot",
					best * 1e6, algbw, n > 1 ? algbw * 2.0 * (n - 1) / n : 0.0,
					wrong ? "false" : "true");
		first = 0;
	}
	snprintf(p2p_json + off, sizeof(p2p_json) - off, "]}");
	for (int d = 0; d < n; d++) {
		CUDACHECK(cudaSetDevice(d));
		CUDACHECK(cudaFree(in[d]));
		CUDACHECK(cudaFree(out[d]));
		CUDACHECK(cudaFree(bad[d]));
		CUDACHECK(cudaFree(peer_in[d]));
	}
}

/* ---- NCCL -------------------------------------------------------------------------------- */

static char nccl_json[8192];

#if FD_HAVE_NCCL
static ncclComm_t comms[MAX_GPUS];
static cudaStream_t streams[MAX_GPUS];

/* Waits for every stream until the deadline; on timeout aborts the communicators. */
static int wait_all(int n, double deadline)
{
	for (;;) {
		int done = 1;
		for (int d = 0; d < n; d++) {
			cudaError_t e = cudaStreamQuery(streams[d]);
			if (e == cudaErrorNotReady) {
				done = 0;
			} else if (e != cudaSuccess) {
				fprintf(stderr, "flightdeck-gpubench: GPU %d: %s\n", d, cudaGetErrorString(e));
				die(3);
			}
			ncclResult_t async;
			if (ncclCommGetAsyncError(comms[d], &async) == ncclSuccess && async != ncclSuccess) {
				fprintf(stderr, "flightdeck-gpubench: NCCL on GPU %d: %s\n", d,
					ncclGetErrorString(async));
				die(3);
			}
		}
		if (done)
			return 0;
		if (now_s() > deadline) {
			for (int d = 0; d < n; d++)
				ncclCommAbort(comms[d]);
			fprintf(stderr, "flightdeck-gpubench: NCCL allreduce did not finish by the "
					"deadline: communicators aborted\n");
			die(4);
		}
	}
}

static void bench_nccl(int n, double deadline)
{
	int devs[MAX_GPUS];
	float *buf[MAX_GPUS];
	unsigned long long *bad[MAX_GPUS];
	size_t max_bytes = (size_t)(full ? 4096 : 1024) << 20, off = 0;

	for (int d = 0; d < n; d++)
		devs[d] = d;
	ncclResult_t nr = ncclCommInitAll(comms, n, devs);
	if (nr != ncclSuccess) {
		snprintf(nccl_json, sizeof(nccl_json),
			 "{\"ran\": false, \"ngpus\": %d, \"reason\": \"ncclCommInitAll: %s\", "
			 "\"results\": []}",
			 n, ncclGetErrorString(nr));
		return;
	}
	for (int d = 0; d < n; d++) {
		CUDACHECK(cudaSetDevice(d));
		CUDACHECK(cudaStreamCreateWithFlags(&streams[d], cudaStreamNonBlocking));
		CUDACHECK(cudaMalloc(&buf[d], max_bytes));
		CUDACHECK(cudaMalloc(&bad[d], sizeof(unsigned long long)));
	}
	off += (size_t)snprintf(nccl_json + off, sizeof(nccl_json) - off,
				"{\"ran\": true, \"ngpus\": %d, \"reason\": \"\", \"results\": [", n);
	int first = 1;
	for (size_t bytes = 8 << 20; bytes <= max_bytes; bytes *= 4) {
		size_t count = bytes / sizeof(float);
		int iters = 10;
		/* each rank contributes rank+1: the sum is exact in float for any n here */
		float want = (float)(n * (n + 1) / 2);
		for (int d = 0; d < n; d++) {
			CUDACHECK(cudaSetDevice(d));
			fill_kernel<<<grid_for(d), 256, 0, streams[d]>>>(buf[d], count, (float)(d + 1));
		}
		wait_all(n, deadline);
		/* one in-place allreduce, checked exactly */
		ncclGroupStart();
		for (int d = 0; d < n; d++)
			ncclAllReduce(buf[d], buf[d], count, ncclFloat, ncclSum, comms[d], streams[d]);
		ncclGroupEnd();
		wait_all(n, deadline);
		unsigned long long wrong = 0;
		for (int d = 0; d < n; d++) {
			unsigned long long h = 0;
			CUDACHECK(cudaSetDevice(d));
			CUDACHECK(cudaMemsetAsync(bad[d], 0, sizeof(h), streams[d]));
			verify_equal<<<grid_for(d), 256, 0, streams[d]>>>(buf[d], count, want, bad[d]);
			CUDACHECK(cudaMemcpyAsync(&h, bad[d], sizeof(h), cudaMemcpyDeviceToHost, streams[d]));
			CUDACHECK(cudaStreamSynchronize(streams[d]));
			wrong += h;
		}
		/* timed: warm-up, then iters back to back (values grow; only time matters now) */
		for (int w = 0; w < 2; w++) {
			ncclGroupStart();
			for (int d = 0; d < n; d++)
				ncclAllReduce(buf[d], buf[d], count, ncclFloat, ncclSum, comms[d], streams[d]);
			ncclGroupEnd();
		}
		wait_all(n, deadline);
		double t0 = now_s();
		for (int it = 0; it < iters; it++) {
			ncclGroupStart();
			for (int d = 0; d < n; d++)
				ncclAllReduce(buf[d], buf[d], count, ncclFloat, ncclSum, comms[d], streams[d]);
			ncclGroupEnd();
		}
		wait_all(n, deadline);
		double t = (now_s() - t0) / iters;
		double algbw = (double)bytes / t / 1e9;
		double busbw = n > 1 ? algbw * 2.0 * (n - 1) / n : 0.0;
		off += (size_t)snprintf(nccl_json + off, sizeof(nccl_json) - off,
					"%s{\"bytes\": %zu, \"time_us\": %.1f, \"algbw\": %.2f, "
					"\"busbw\": %.2f, \"ok\": %s}",
					first ? "" : ", ", bytes, t * 1e6, algbw, busbw,
					wrong ? "false" : "true");
		first = 0;
	}
	snprintf(nccl_json + off, sizeof(nccl_json) - off, "]}");
	for (int d = 0; d < n; d++) {
		CUDACHECK(cudaSetDevice(d));
		CUDACHECK(cudaFree(buf[d]));
		CUDACHECK(cudaFree(bad[d]));
		ncclCommDestroy(comms[d]);
		CUDACHECK(cudaStreamDestroy(streams[d]));
	}
}
#endif

/* ---- across nodes: one NCCL world over the job -----------------------------------------------
 *
 * Two ways in, one measurement (bench_nccl_world):
 *   --mpi: mpirun or srun starts one process per GPU and each takes the GPU of its local rank;
 *     rank 0 makes the NCCL id and MPI carries it to every rank; a size's time for the job is
 *     its slowest rank's and its wrong elements every rank's, both reduced on rank 0, which
 *     alone prints.
 *   --world R/N (no MPI; flightdeck check --job starts it, one process per node): this
 *     process drives every GPU of its node, world ranks R*G .. R*G+G-1 of N*G (G GPUs per
 *     node, the same on every node: a node with another count never completes the
 *     communicator and the deadline ends it). Rank 0 makes the id and prints "nccl-id HEX" at
 *     once, then joins; the others are started with --nccl-id HEX once someone has relayed
 *     it. Nothing carries results between processes, so every process prints the document
 *     with its own view (its time of each size, its own sums checked): an allreduce ends
 *     together on every rank, so each time already holds the slowest rank's pace, and
 *     flightdeck takes the slowest document.
 * Every rank joins one communicator over the whole job (ncclCommInitRankConfig, one per GPU
 * inside a NCCL group) and runs bench_nccl's sweep: the same sizes, every element checked,
 * the nccl-tests formulas with n = the number of ranks. The communicators are nonblocking, so
 * that their creation is bounded by the deadline like every wait after it, and end in
 * ncclCommAbort; a nonblocking call may return ncclInProgress before it has enqueued anything,
 * so each is settled before the next. Past the device check, any failure ends the process
 * (under --mpi the whole job: die(), MPI_Abort).
 */
struct gb_run {
	int rank, size;		/* processes in the world, this one's place */
	int nodes;		/* for the document */
	int ndev, devs[MAX_GPUS]; /* the GPUs this process drives */
	int mpi;		/* results reduced over MPI, printed by rank 0 alone */
};

#if FD_HAVE_NCCL
#define FD_NCCL_NONBLOCKING (NCCL_VERSION_CODE >= NCCL_VERSION(2, 14, 0))

/*
 * Until every communicator has done what it was given (and, with streams, they have
 * drained): a NCCL or CUDA error ends with 3, the deadline aborts the communicators and ends
 * with 4.
 */
static void world_wait(ncclComm_t *comms, cudaStream_t *streams, int n, double deadline,
		       const char *what)
{
	for (int d = 0; d < n;) {
		ncclResult_t async = ncclSuccess, r = ncclCommGetAsyncError(comms[d], &async);
		if (r != ncclSuccess || (async != ncclSuccess && async != ncclInProgress)) {
			fprintf(stderr, "flightdeck-gpubench: %sNCCL, %s: %s\n", who, what,
				ncclGetErrorString(r != ncclSuccess ? r : async));
			die(3);
		}
		if (async == ncclSuccess) {
			cudaError_t e = streams ? cudaStreamQuery(streams[d]) : cudaSuccess;
			if (e == cudaSuccess) {
				d++; /* this one is done: the next */
				continue;
			}
			if (e != cudaErrorNotReady) {
				fprintf(stderr, "flightdeck-gpubench: %s%s: %s\n", who, what,
					cudaGetErrorString(e));
				die(3);
			}
		}
		if (now_s() > deadline) {
			for (int k = 0; k < n; k++)
				ncclCommAbort(comms[k]);
			fprintf(stderr,
				"flightdeck-gpubench: %sNCCL, %s: not finished by the deadline: "
				"communicators aborted\n",
				who, what);
			die(4);
		}
	}
}

/* One in-place allreduce of count floats on every GPU of this process, settled. */
static void world_allreduce(ncclComm_t *comms, cudaStream_t *streams, float **bufs, int n,
			    size_t count, double deadline)
{
	ncclResult_t r = ncclGroupStart();
	for (int d = 0; d < n && r == ncclSuccess; d++) {
		r = ncclAllReduce(bufs[d], bufs[d], count, ncclFloat, ncclSum, comms[d], streams[d]);
		if (r == ncclInProgress)
			r = ncclSuccess; /* enqueued at the group's end */
	}
	ncclResult_t e = ncclGroupEnd();
	if (r == ncclSuccess)
		r = e;
	if (r != ncclSuccess && r != ncclInProgress) {
		fprintf(stderr, "flightdeck-gpubench: %sncclAllReduce: %s\n", who,
			ncclGetErrorString(r));
		die(3);
	}
	if (r == ncclInProgress)
		world_wait(comms, NULL, n, deadline, "enqueuing the allreduce");
}

/* id as hex (what rank 0 prints) and back: exactly 2 * NCCL_UNIQUE_ID_BYTES hex digits. */
static void id_to_hex(const ncclUniqueId *id, char *out)
{
	const unsigned char *b = (const unsigned char *)id;
	for (size_t i = 0; i < sizeof(*id); i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int id_from_hex(const char *s, ncclUniqueId *id)
{
	unsigned char *b = (unsigned char *)id;
	if (strlen(s) != 2 * sizeof(*id))
		return -1;
	for (size_t i = 0; i < sizeof(*id); i++) {
		unsigned v;
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		b[i] = (unsigned char)v;
	}
	return 0;
}

/* The sweep over the world; the nccl section left in nccl_json (rank 0's under --mpi). */
static void bench_nccl_world(const struct gb_run *w, const ncclUniqueId *id, double deadline)
{
	ncclComm_t comms[MAX_GPUS];
	cudaStream_t streams[MAX_GPUS];
	float *bufs[MAX_GPUS];
	unsigned long long *bad[MAX_GPUS];
	size_t max_bytes = (size_t)(full ? 4096 : 1024) << 20, off = 0;
	int g = w->ndev, n = w->size * g, speaks = !w->mpi || w->rank == 0;
	ncclResult_t r;

	for (int d = 0; d < g; d++) {
		CUDACHECK(cudaSetDevice(w->devs[d]));
		CUDACHECK(cudaStreamCreateWithFlags(&streams[d], cudaStreamNonBlocking));
		CUDACHECK(cudaMalloc(&bufs[d], max_bytes));
		CUDACHECK(cudaMalloc(&bad[d], sizeof(unsigned long long)));
	}
#if FD_NCCL_NONBLOCKING
	ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
	config.blocking = 0;
#endif
	r = ncclGroupStart();
	for (int d = 0; d < g && r == ncclSuccess; d++) {
		CUDACHECK(cudaSetDevice(w->devs[d]));
#if FD_NCCL_NONBLOCKING
		r = ncclCommInitRankConfig(&comms[d], n, *id, w->rank * g + d, &config);
#else
		r = ncclCommInitRank(&comms[d], n, *id, w->rank * g + d); /* before 2.14: unbounded */
#endif
		if (r == ncclInProgress)
			r = ncclSuccess;
	}
	ncclResult_t e = ncclGroupEnd();
	if (r == ncclSuccess)
		r = e;
	if (r != ncclSuccess && r != ncclInProgress) {
		fprintf(stderr, "flightdeck-gpubench: %sncclCommInitRank: %s\n", who,
			ncclGetErrorString(r));
		die(3);
	}
	world_wait(comms, NULL, g, deadline, "creating the communicator");
	if (speaks) {
		off += (size_t)snprintf(nccl_json + off, sizeof(nccl_json) - off,
					"{\"ran\": true, \"scope\": \"world\", ");
		if (!w->mpi)
			off += (size_t)snprintf(nccl_json + off, sizeof(nccl_json) - off,
						"\"rank\": %d, ", w->rank);
		off += (size_t)snprintf(nccl_json + off, sizeof(nccl_json) - off,
					"\"ngpus\": %d, \"nranks\": %d, \"nodes\": %d, "
					"\"reason\": \"\", \"results\": [",
					n, n, w->nodes);
	}
	int first = 1;
	for (size_t bytes = 8 << 20; bytes <= max_bytes; bytes *= 4) {
		size_t count = bytes / sizeof(float);
		int iters = 10;
		/* each rank contributes rank+1: n(n+1)/2 is exact in float up to 5792 ranks */
		float want = (float)((double)n * (n + 1) / 2);
		unsigned long long wrong = 0, wrong_all = 0;
		double slowest = 0, t;

		for (int d = 0; d < g; d++) {
			CUDACHECK(cudaSetDevice(w->devs[d]));
			fill_kernel<<<grid_for(w->devs[d]), 256, 0, streams[d]>>>(
			    bufs[d], count, (float)(w->rank * g + d + 1));
		}
		world_wait(comms, streams, g, deadline, "filling the buffer");
		/* one in-place allreduce, checked exactly */
		world_allreduce(comms, streams, bufs, g, count, deadline);
		world_wait(comms, streams, g, deadline, "allreduce");
		for (int d = 0; d < g; d++) {
			unsigned long long h = 0;
			CUDACHECK(cudaSetDevice(w->devs[d]));
			CUDACHECK(cudaMemsetAsync(bad[d], 0, sizeof(h), streams[d]));
			verify_equal<<<grid_for(w->devs[d]), 256, 0, streams[d]>>>(bufs[d], count,
										     want, bad[d]);
			CUDACHECK(cudaMemcpyAsync(&h, bad[d], sizeof(h), cudaMemcpyDeviceToHost,
						  streams[d]));
			world_wait(comms + d, streams + d, 1, deadline, "checking the sum");
			wrong += h;
		}
		/* timed: warm-up, then iters back to back (values grow; only time matters now) */
		for (int warm = 0; warm < 2; warm++)
			world_allreduce(comms, streams, bufs, g, count, deadline);
		world_wait(comms, streams, g, deadline, "allreduce");
		double t0 = now_s();
		for (int it = 0; it < iters; it++)
			world_allreduce(comms, streams, bufs, g, count, deadline);
		world_wait(comms, streams, g, deadline, "allreduce");
		t = (now_s() - t0) / iters;
		slowest = t;
		wrong_all = wrong;
#if FD_HAVE_MPI
		if (w->mpi)
			gb_mpi_job_result(t, wrong, &slowest, &wrong_all);
#endif
		if (!speaks)
			continue;
		double algbw = (double)bytes / slowest / 1e9;
		double busbw = algbw * 2.0 * (n - 1) / n;
		off += (size_t)snprintf(nccl_json + off, sizeof(nccl_json) - off,
					"%s{\"bytes\": %zu, \"time_us\": %.1f, \"algbw\": %.2f, "
					"\"busbw\": %.2f, \"ok\": %s}",
					first ? "" : ", ", bytes, slowest * 1e6, algbw, busbw,
					wrong_all ? "false" : "true");
		first = 0;
	}
	if (speaks)
		snprintf(nccl_json + off, sizeof(nccl_json) - off, "]}");
#if FD_NCCL_NONBLOCKING
	for (int d = 0; d < g; d++) {
		r = ncclCommFinalize(comms[d]); /* flushes what is in flight, bounded */
		if (r != ncclSuccess && r != ncclInProgress) {
			fprintf(stderr, "flightdeck-gpubench: %sncclCommFinalize: %s\n", who,
				ncclGetErrorString(r));
			die(3);
		}
	}
	world_wait(comms, NULL, g, deadline, "finalizing the communicator");
#endif
	for (int d = 0; d < g; d++) {
		ncclCommDestroy(comms[d]);
		CUDACHECK(cudaSetDevice(w->devs[d]));
		CUDACHECK(cudaFree(bufs[d]));
		CUDACHECK(cudaFree(bad[d]));
		CUDACHECK(cudaStreamDestroy(streams[d]));
	}
}
#endif

/* The document of a world: the nccl section only (per-GPU numbers are each node's own run). */
static void print_world(const char *what)
{
	printf("{\"version\": 1, \"gpus\": [], \"p2p\": {\"ran\": false, \"ngpus\": 0, "
	       "\"reason\": \"%s measures only NCCL's allreduce across the job\", "
	       "\"results\": []}, \"nccl\": %s}\n",
	       what, nccl_json);
}

#if FD_HAVE_MPI
/*
 * The job under --mpi with more than one rank; returns main's exit status. Every rank first
 * says whether it has a GPU and all learn how many have none, so that each rank without one
 * names itself on stderr and the whole job then exits 3 (no rank left waiting for the others).
 */
static int run_mpi_world(const struct gb_world *w, double deadline)
{
	int n = 0, dev = -1;
	char why[160] = "";
	cudaError_t e;

	snprintf(who, sizeof(who), "rank %d on %s: ", w->rank, w->host);
	if (!FD_HAVE_NCCL) {
		if (w->rank == 0)
			fprintf(stderr,
				"flightdeck-gpubench: --mpi across %d ranks measures NCCL's "
				"allreduce, and this build has no NCCL\n",
				w->size);
		return 2;
	}
	e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n == 0)
		snprintf(why, sizeof(why), "no CUDA device: %s",
			 e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0");
	else if (w->local_rank < n)
		dev = w->local_rank;
	else if (n == 1)
		dev = 0; /* the launcher gave each rank its own (srun --gpus-per-task=1); if
			  * the ranks share one GPU instead, NCCL refuses it (duplicate GPU) */
	else
		snprintf(why, sizeof(why), "no CUDA device for local rank %d: %d visible",
			 w->local_rank, n);
	if (dev < 0)
		fprintf(stderr, "flightdeck-gpubench: %s%s\n", who, why);
	int missing = gb_mpi_sum(dev < 0);
	if (missing) {
		if (w->rank == 0)
			fprintf(stderr,
				"flightdeck-gpubench: %d of %d ranks have no CUDA device: "
				"nothing measured\n",
				missing, w->size);
		return 3;
	}
#if FD_HAVE_NCCL
	struct {
		int ok;
		char why[128];
		ncclUniqueId id;
	} hello;
	struct gb_run run = {w->rank, w->size, w->nodes, 1, {dev}, 1};

	world_job = 1;
	memset(&hello, 0, sizeof(hello));
	if (w->rank == 0) {
		ncclResult_t r = ncclGetUniqueId(&hello.id);
		hello.ok = r == ncclSuccess;
		snprintf(hello.why, sizeof(hello.why), "ncclGetUniqueId: %s",
			 ncclGetErrorString(r));
	}
	gb_mpi_bcast(&hello, sizeof(hello)); /* every rank learns the outcome: none waits */
	if (!hello.ok) {
		if (w->rank == 0)
			fprintf(stderr, "flightdeck-gpubench: %s%s\n", who, hello.why);
		die(3);
	}
	bench_nccl_world(&run, &hello.id, deadline);
	world_job = 0;
	if (w->rank == 0)
		print_world("--mpi");
#else
	(void)deadline;
#endif
	return 0;
}
#endif

/*
 * --world R/N without MPI; returns main's exit status. Without a GPU: "no-gpu REASON" on
 * stdout (before any id, so rank 0 hands its peers nothing to wait on) and exit 3.
 */
static int run_world(int rank, int size, const char *idhex, double deadline)
{
	char host[256] = "?";
	int n = 0;
	cudaError_t e;

	gethostname(host, sizeof(host) - 1);
	snprintf(who, sizeof(who), "rank %d of %d on %s: ", rank, size, host);
	e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n == 0) {
		const char *why = e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0";
		printf("no-gpu no CUDA device: %s\n", why);
		fflush(stdout);
		fprintf(stderr, "flightdeck-gpubench: %sno GPU: no CUDA device: %s\n", who, why);
		return 3;
	}
#if FD_HAVE_NCCL
	struct gb_run run = {rank, size, size, n > MAX_GPUS ? MAX_GPUS : n, {0}, 0};
	ncclUniqueId id;
	char hex[2 * sizeof(ncclUniqueId) + 1];

	for (int d = 0; d < run.ndev; d++)
		run.devs[d] = d;
	if (idhex) {
		if (id_from_hex(idhex, &id)) {
			fprintf(stderr,
				"flightdeck-gpubench: --nccl-id: not %zu hex digits (an "
				"ncclUniqueId as rank 0 prints it)\n",
				2 * sizeof(ncclUniqueId));
			return 2;
		}
	} else {
		ncclResult_t r = ncclGetUniqueId(&id);
		if (r != ncclSuccess) {
			fprintf(stderr, "flightdeck-gpubench: %sncclGetUniqueId: %s\n", who,
				ncclGetErrorString(r));
			return 3;
		}
		id_to_hex(&id, hex);
		printf("nccl-id %s\n", hex); /* at once: the peers start only when it is relayed */
		fflush(stdout);
	}
	bench_nccl_world(&run, &id, deadline);
	print_world("--world");
	return 0;
#else
	(void)idhex;
	(void)deadline;
	fprintf(stderr, "flightdeck-gpubench: --world measures NCCL's allreduce, and this build "
			"has no NCCL\n");
	return 2;
#endif
}

static void usage(FILE *out)
{
	fputs("usage: flightdeck-gpubench [--json] [--quick|--full] [--timeout-ms N]\n"
	      "                           [--mpi | --world R/N [--nccl-id HEX]]\n"
	      "Measures HBM and host<->device bandwidth of every GPU and NCCL allreduce\n"
	      "across them; prints one JSON document (see checks/bw.h). Exit: 0 measured,\n"
	      "2 usage, 3 no CUDA device or a CUDA/NCCL error, 4 timeout.\n"
	      "\n"
	      "  --quick         HBM buffers of 512 MiB, allreduce of 8 to 512 MiB (the default)\n"
	      "  --full          HBM buffers of 2 GiB, allreduce of 8 MiB to 2 GiB\n"
	      "  --timeout-ms N  NCCL's waits end N ms after the start (default 60000): on the\n"
	      "                  deadline the communicators are aborted and the exit is 4\n"
	      "  --mpi           across nodes, one rank per GPU, as nccl-tests runs:\n"
	      "      mpirun -np 16 --map-by ppr:8:node flightdeck-gpubench --mpi\n"
	      "      srun --mpi=pmix -N2 --ntasks-per-node=8 flightdeck-gpubench --mpi\n"
	      "                  each rank takes the GPU of its local rank, one NCCL communicator\n"
	      "                  spans the job, the allreduce sweep runs on it and rank 0 alone\n"
	      "                  prints the document (\"nccl\": {\"scope\": \"world\", ...}); the\n"
	      "                  time of a size is the slowest rank's. A rank without a GPU says\n"
	      "                  so and the job exits 3; a failure or the deadline on any rank\n"
	      "                  ends every rank (MPI_Abort). With one rank, the same as without\n"
	      "                  --mpi. Without --mpi, MPI is never started, even under mpirun.\n"
	      "  --world R/N     across nodes without MPI (flightdeck check --job drives it): this\n"
	      "                  process is rank R of N processes, one per node, and drives every\n"
	      "                  GPU of its node (world ranks R*G..R*G+G-1; every node must have\n"
	      "                  the same G). Rank 0 without --nccl-id makes the NCCL id and prints\n"
	      "                  \"nccl-id HEX\" on the first line at once, then joins; the others\n"
	      "                  need it relayed: --nccl-id HEX. Every process prints the document\n"
	      "                  with its own view. Without a GPU: \"no-gpu REASON\" and exit 3.\n"
	      "  --nccl-id HEX   the id rank 0 printed (256 hex digits)\n"
	      "\n",
	      out);
	fprintf(out, "This build: MPI %s, NCCL %s.\n",
		FD_HAVE_MPI ? "yes" : "no (--mpi is refused)", FD_HAVE_NCCL ? "yes" : "no");
}

int main(int argc, char **argv)
{
	struct gpu_result r[MAX_GPUS];
	int n = 0, mpi = 0, wrank = -1, wsize = 0;
	const char *idhex = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--quick"))
			continue;
		if (!strcmp(argv[i], "--full")) {
			full = 1;
		} else if (!strcmp(argv[i], "--mpi")) {
			mpi = 1;
		} else if (!strcmp(argv[i], "--world") && i + 1 < argc) {
			char *end;
			long r = strtol(argv[++i], &end, 10), sz = 0;
			if (*end == '/')
				sz = strtol(end + 1, &end, 10);
			if (*end || r < 0 || sz < 1 || sz > 65536 || r >= sz) {
				fprintf(stderr,
					"flightdeck-gpubench: --world: invalid value '%s' (R/N: rank R "
					"of N processes, 0 <= R < N)\n",
					argv[i]);
				return 2;
			}
			wrank = (int)r;
			wsize = (int)sz;
		} else if (!strcmp(argv[i], "--nccl-id") && i + 1 < argc) {
			idhex = argv[++i];
		} else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) {
			char *end;
			timeout_ms = strtol(argv[++i], &end, 10);
			if (*end || timeout_ms <= 0) {
				fprintf(stderr, "flightdeck-gpubench: --timeout-ms: invalid value '%s'\n",
					argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "flightdeck-gpubench: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if ((wsize || idhex) && (mpi || !wsize || (wrank > 0 && !idhex))) {
		fprintf(stderr, "flightdeck-gpubench: %s\n",
			mpi     ? "--world and --mpi: one or the other"
			: !wsize ? "--nccl-id goes with --world"
				 : "--world R/N with R > 0 needs --nccl-id HEX, rank 0's id");
		return 2;
	}
	if (mpi && !FD_HAVE_MPI) {
		fprintf(stderr, "flightdeck-gpubench: --mpi: this build has no MPI (none was found "
				"when it was built)\n");
		return 2;
	}
	double deadline = now_s() + (double)timeout_ms / 1e3;
	if (wsize)
		return run_world(wrank, wsize, idhex, deadline);
#if FD_HAVE_MPI
	if (mpi) {
		struct gb_world w;
		gb_mpi_init(&argc, &argv, &w);
		if (w.size > 1) {
			int rc = run_mpi_world(&w, deadline);
			gb_mpi_finalize();
			return rc;
		}
		/* one rank: the whole node, as without --mpi, MPI finalized at once */
		gb_mpi_finalize();
	}
#endif
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n == 0) {
		fprintf(stderr, "flightdeck-gpubench: no CUDA device: %s\n",
			e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0");
		return 3;
	}
	if (n > MAX_GPUS)
		n = MAX_GPUS;
	for (int d = 0; d < n; d++)
		bench_gpu(d, &r[d]);
	bench_p2p(n);
#if FD_HAVE_NCCL
	bench_nccl(n, deadline);
#else
	(void)deadline;
	snprintf(nccl_json, sizeof(nccl_json),
		 "{\"ran\": false, \"ngpus\": %d, \"reason\": \"built without NCCL\", \"results\": []}",
		 n);
#endif
	printf("{\"version\": 1, \"gpus\": [");
	for (int d = 0; d < n; d++)
		printf("%s{\"index\": %d, \"name\": \"%s\", \"bus_id\": \"%s\", \"hbm_gbps\": %.1f, "
		       "\"hbm_ok\": %s, \"h2d_gbps\": %.1f, \"d2h_gbps\": %.1f}",
		       d ? ", " : "", d, r[d].name, r[d].bus_id, r[d].hbm, r[d].hbm_ok ? "true" : "false",
		       r[d].h2d, r[d].d2h);
	printf("], \"p2p\": %s, \"nccl\": %s}\n", p2p_json, nccl_json);
	return 0;
}
