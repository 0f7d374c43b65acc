/*
 * perftest.h - what perftest's ib_write_bw prints, read into one result.
 *
 * The format is the one perftest 4.5 (Debian 12's perftest 4.5+0.17, "Version: 6.06") prints;
 * tests/fixtures/perftest/ holds real outputs and outputs in its exact format (README there).
 * The client prints the report table; the server only its header:
 *
 *   ---------------------------------------------------------------------------------------
 *    #bytes     #iterations    BW peak[Gb/sec]    BW average[Gb/sec]   MsgRate[Mpps]
 *    1048576    46824            0.00               392.71   		   0.046815
 *   ---------------------------------------------------------------------------------------
 *
 * "[MB/sec]" without --report_gbits (MiB/s: 2^20 bytes); a CPU_Util[%] column with
 * --cpu_util; one row per message size with -a (the last, largest, is taken). The peak is 0.00
 * in duration mode (-D): the average is what is judged. Its errors go to stderr, one line each;
 * the ones that matter are told apart (enum pt_kind), any other error line is kept as it is.
 *
 * Pure: no I/O, no allocation; any bytes at all give a kind and never a crash (the fuzz target
 * tests/fuzz/fuzz_perftest.c). Text copied into the result is made printable.
 */
#ifndef FD_PERFTEST_H
#define FD_PERFTEST_H

#include <stddef.h>
#include <stdint.h>

enum pt_kind {
	PT_REPORT,	     /* a report row: bytes, iters, gbps */
	PT_NO_DEVICE,	     /* "Did not detect devices": libibverbs lists no device at all */
	PT_DEVICE_NOT_FOUND, /* "IB device mlx5_9 not found": not this device */
	PT_REFUSED,	     /* client: "Couldn't connect to HOST:PORT" (no server there yet) */
	PT_PORT_BUSY,	     /* server: "Couldn't listen to port PORT" */
	PT_USAGE,	     /* it refused its arguments (another perftest version) */
	PT_ERROR,	     /* another error line: line */
	PT_NO_REPORT,	     /* nothing perftest would print: empty, truncated, garbage */
};

/* The largest report value believed: ports run at 800 Gb/s today; ten times that is garbage. */
#define PT_GBPS_MAX 8000.0

struct pt_result {
	enum pt_kind kind;
	uint64_t bytes, iters;	/* PT_REPORT */
	double peak_gbps, gbps; /* PT_REPORT: Gb/s (1e9 bit/s), converted from MB/sec if so */
	int mbs;		/* the table was in MB/sec */
	char line[160];		/* the error line, the report row, or what was wrong with it */
};

/* Reads ib_write_bw's output (stdout and stderr together), len bytes; returns r->kind. */
enum pt_kind pt_parse(const char *text, size_t len, struct pt_result *r);

/* One word for a kind, for messages and tests: "report", "no-device", ... */
const char *pt_kind_name(enum pt_kind k);

/* Whether its --help lists --use_cuda: perftest was built with CUDA (GPU memory tests). */
int pt_help_has_cuda(const char *text, size_t len);

#endif
