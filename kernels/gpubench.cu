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
 *
 * The output contract is documented in checks/bw.h. flightdeck runs this program as a child
 * with its own deadline, so CUDA never runs inside flightdeck. Exit status: 0 measured;
 * 2 usage; 3 no CUDA device or a CUDA error; 4 timeout.
 */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if FD_HAVE_NCCL
#include <nccl.h>
#endif

#define MAX_GPUS 16

/* Reports host:file:line and leaves with status 3, as nccl-tests' CUDACHECK does. */
#define CUDACHECK(cmd)                                                                           \
	do {                                                                                     \
		cudaError_t e_ = (cmd);                                                          \
		if (e_ != cudaSuccess) {                                                         \
			fprintf(stderr, "flightdeck-gpubench: %s:%d: %s: %s\n", __FILE__, __LINE__, \
				#cmd, cudaGetErrorString(e_));                                   \
			exit(3);                                                                 \
		}                                                                                \
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

static void p2p_allreduce_once(int n, float **in, float **out, float ***peer_in,
			       size_t count, int two_shot)
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
		p2p_allreduce_once(n, in, out, peer_in, count, two_shot);
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
			p2p_allreduce_once(n, in, out, peer_in, count, two_shot);
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
				exit(3);
			}
			ncclResult_t async;
			if (ncclCommGetAsyncError(comms[d], &async) == ncclSuccess && async != ncclSuccess) {
				fprintf(stderr, "flightdeck-gpubench: NCCL on GPU %d: %s\n", d,
					ncclGetErrorString(async));
				exit(3);
			}
		}
		if (done)
			return 0;
		if (now_s() > deadline) {
			for (int d = 0; d < n; d++)
				ncclCommAbort(comms[d]);
			fprintf(stderr, "flightdeck-gpubench: NCCL allreduce did not finish by the "
					"deadline: communicators aborted\n");
			exit(4);
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

static void usage(FILE *out)
{
	fprintf(out, "usage: flightdeck-gpubench [--json] [--quick|--full] [--timeout-ms N]\n"
		     "Measures HBM and host<->device bandwidth of every GPU and NCCL allreduce\n"
		     "across them; prints one JSON document (see checks/bw.h). Exit: 0 measured,\n"
		     "2 usage, 3 no CUDA device or a CUDA/NCCL error, 4 timeout.\n");
}

int main(int argc, char **argv)
{
	struct gpu_result r[MAX_GPUS];
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--quick"))
			continue;
		if (!strcmp(argv[i], "--full")) {
			full = 1;
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
	double deadline = now_s() + (double)timeout_ms / 1e3;
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
