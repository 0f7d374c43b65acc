/*
 * check.h - the health-check framework: findings, reason codes and the check table.
 *
 * A check is two functions. probe() reads facts (sysfs, proc, the kernel log, NVML) into a
 * facts struct of the check's own type and judges nothing. judge() is a pure function of
 * those facts and the thresholds in struct fd_config that appends findings to a report.
 * Unit tests build facts by hand and call judge(); integration tests point probe() at
 * fixture trees through the roots in fd_config (LBNL NHC's split, DCGM's error table).
 *
 * Adding a check: a probe/judge pair in checks/AREA.c, a row in checks/registry.c, reason
 * codes in checks/codes.c, a fixture and a test.
 */
#ifndef FD_CHECK_H
#define FD_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

enum fd_status {
	FD_PASS,
	FD_WARN,
	FD_FAIL,
	FD_SKIP,
};

enum fd_area {
	FD_AREA_HOST,
	FD_AREA_IB,
	FD_AREA_GPU,
	FD_AREA_BW,
	FD_AREA_MEMFIT,
	FD_AREA_COUNT,
};

/* quick: seconds, for every job start; standard: the prolog; full: a node being returned. */
enum fd_level {
	FD_LEVEL_QUICK,
	FD_LEVEL_STANDARD,
	FD_LEVEL_FULL,
};

/* One row of the reason-code table (checks/codes.c). */
struct fd_code {
	const char *code;	 /* stable UPPER_SNAKE name */
	enum fd_status severity; /* what a finding with this code is, unless judge decides */
	const char *title;	 /* one line: what was found */
	const char *why;	 /* why it matters for a training job */
	const char *remedy;	 /* what to do, concretely */
};

const struct fd_code *fd_code_find(const char *code);
size_t fd_code_count(void);
const struct fd_code *fd_code_at(size_t i);

struct fd_finding {
	const char *check; /* "ib.port": static */
	const char *code;  /* NULL for pass and skip */
	enum fd_status status;
	char subject[64]; /* "mlx5_0/1", "0000:3b:00.0", "/dev/shm" */
	char value[96];
	char expected[96];
	char message[256];
};

struct fd_report {
	struct fd_finding *v;
	size_t n, cap;
	int oom; /* an append failed: the report is incomplete, exit "could not run" */
};

/*
 * Appends a finding. code may be NULL for a pass or a skip; for warn and fail it must name a
 * row of the code table. The message is printf-formatted. Returns the finding (so value and
 * expected can be filled), or NULL when out of memory (recorded in rep->oom).
 */
struct fd_finding *fd_report_add(struct fd_report *rep, const char *check, enum fd_status status,
				 const char *code, const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The same, with value and expected filled (either may be NULL). */
struct fd_finding *fd_report_addv(struct fd_report *rep, const char *check, enum fd_status status,
				  const char *code, const char *subject, const char *value,
				  const char *expected, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
void fd_report_free(struct fd_report *rep);
/* Worst status over all findings: fail > warn > pass; a report of only skips is pass. */
enum fd_status fd_report_verdict(const struct fd_report *rep);
/*
 * The failures in one line for a scheduler's drain reason: each failing code once, in report
 * order, then the first failure's subject ("IB_PORT_DOWN,GPU_XID_FATAL mlx5_3/1"); codes that
 * do not fit in len end as "+N". "" when nothing failed. Returns the length written.
 */
size_t fd_report_reason(const struct fd_report *rep, char *buf, size_t len);
const char *fd_status_name(enum fd_status s);

/*
 * What probes may use: the configuration (roots, thresholds) and a place for a one-line error.
 * A probe returns 0 when it gathered facts (even "there is nothing here"), or a negative
 * errno with err filled when it cannot: -EBADMSG for a malformed hardware fact
 * (fd_attr_garbage), which fd_check_run turns into a HW_FACT_MALFORMED finding; anything else
 * (a root or a --kmsg the operator named that cannot be read) `flightdeck check` prints and
 * exits 2.
 */
/*
 * What `check --job` learned from the whole job, for the checks judged on it (fd_check.job).
 * Node 0 judges the allreduce across nodes and sends every node the same finding; each node's
 * bw.world check reads it here.
 */
struct fd_job_finding {
	int status; /* enum fd_status */
	char code[32], subject[64], value[96], expected[96], text[512];
};

struct fd_job_facts {
	int have_world; /* the allreduce across nodes ran and gave world */
	struct fd_job_finding world;
	int have_pairs; /* the RDMA test between node pairs ran and gave pairs (ib.pairs) */
	struct fd_job_finding pairs;
};

struct fd_probe_ctx {
	const struct fd_config *cfg;
	const struct fd_job_facts *job; /* NULL: a plain check, no job */
	enum fd_level level;
	char err[FD_ERR_MAX];
	struct fd_kmsg_log *kmsg; /* loaded once on first use, shared by the log checks */
	int kmsg_rc;		  /* the load's result: 0, or -errno (unreadable: checks skip) */
	int kmsg_loaded;
	/* SIGTERM or SIGINT that stopped a probe's child (-EINTR): check exits 128+signo */
	int signo;
	/* Facts probed once per run and shared by the checks that judge them (fd_probe_once). */
	struct fd_probe_memo {
		int (*probe)(struct fd_probe_ctx *ctx, void *facts);
		void *facts;
		int rc;
		char err[FD_ERR_MAX];
	} memo[32]; /* more than the check table has rows, so every probe can be kept */
	size_t n_memo;
};

struct fd_check {
	const char *id; /* "ib.port" */
	enum fd_area area;
	enum fd_level level; /* the lowest level that runs it */
	size_t facts_size;
	int (*probe)(struct fd_probe_ctx *ctx, void *facts);
	void (*judge)(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
	void (*release)(void *facts); /* may be NULL */
	const char *summary;	      /* one line, for `flightdeck check --list` */
	int job; /* judged on the job's facts (ctx->job): runs after the job's verdict */
};

/* Which checks a run takes: those of the areas marked, at or below the level. */
struct fd_check_sel {
	enum fd_level level;
	int areas[FD_AREA_COUNT];
};

/*
 * Runs every check of the selection whose job flag equals job, in table order. The node's own
 * pass (job 0) also adds a skip finding for each selected area with no check at the level.
 * Returns 0, or the first probe's error with ctx->err saying it (-ENOMEM: out of memory;
 * -EINTR with ctx->signo: a signal stopped a probe's child; else an operator's error).
 */
int fd_checks_run(struct fd_probe_ctx *ctx, const struct fd_check_sel *sel, int job,
		  struct fd_report *rep);
/* Whether the selection takes the check judged on the job's facts named id ("bw.world"). */
int fd_checks_want_job(const struct fd_check_sel *sel, const char *id);

size_t fd_check_count(void);
const struct fd_check *fd_check_at(size_t i);
const char *fd_area_name(enum fd_area a);
int fd_area_parse(const char *name, enum fd_area *out);
const char *fd_level_name(enum fd_level l);
int fd_level_parse(const char *name, enum fd_level *out);

/* Runs one check: probe, judge, release. Returns the probe's result. */
int fd_check_run(const struct fd_check *c, struct fd_probe_ctx *ctx, struct fd_report *rep);
/*
 * The probe context's kernel log, loaded on first use. Returns 0 with *out set; -EACCES /
 * -EPERM / -ENOENT for the default /dev/kmsg not readable here (the caller skips, saying why);
 * any error for an explicitly named --kmsg file fills ctx->err (usage error, exit 2).
 */
struct fd_kmsg_log;
int fd_probe_kmsg(struct fd_probe_ctx *ctx, const struct fd_kmsg_log **out);

/*
 * Facts gathered once per area per run: the first call runs probe into a block the context
 * keeps; every call copies that block (size bytes) into facts and returns the first call's
 * result and err line. For probes whose facts own no memory (no release): the IB port scan
 * behind five checks, the PCI walk behind three. A full memo table just probes again.
 */
int fd_probe_once(struct fd_probe_ctx *ctx, int (*probe)(struct fd_probe_ctx *ctx, void *facts),
		  size_t size, void *facts);

/* Frees what the probe context loaded (the kernel log, the shared facts). */
void fd_probe_ctx_release(struct fd_probe_ctx *ctx);

#endif
