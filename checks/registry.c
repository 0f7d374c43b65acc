/*
 * registry.c - the one static table of checks, areas and levels by name, and the probe
 * context the checks share (the kernel log is loaded once per run).
 *
 * Order matters only for reading: checks run in table order and the text report sorts by
 * status, so the table is grouped by area, cheapest first. The slow IB counter window runs
 * last in its area so the quick facts are on screen before it.
 */
#include "bw.h"
#include "check.h"
#include "gpu.h"
#include "host.h"
#include "ib.h"
#include "kmsg.h"
#include "memfit_check.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK(id_, area_, level_, type_, probe_, judge_, release_, summary_)                       \
	{                                                                                          \
		.id = id_, .area = area_, .level = level_, .facts_size = sizeof(type_),            \
		.probe = probe_, .judge = judge_, .release = release_, .summary = summary_,        \
	}
/* A check judged on what the whole job found (check --job), after the job's verdict. */
#define JOB_CHECK(id_, area_, level_, type_, probe_, judge_, summary_)                             \
	{                                                                                          \
		.id = id_, .area = area_, .level = level_, .facts_size = sizeof(type_),            \
		.probe = probe_, .judge = judge_, .summary = summary_, .job = 1,                   \
	}

static const struct fd_check checks[] = {
    CHECK("host.shm", FD_AREA_HOST, FD_LEVEL_QUICK, struct shm_facts, host_probe_shm,
	  host_judge_shm, NULL, "/dev/shm size (the 64 MB container default fails)"),
    CHECK("host.memlock", FD_AREA_HOST, FD_LEVEL_QUICK, struct memlock_facts, host_probe_memlock,
	  host_judge_memlock, NULL, "locked-memory limit, on nodes with RDMA devices"),
    CHECK("host.ckpt", FD_AREA_HOST, FD_LEVEL_QUICK, struct ckpt_facts, host_probe_ckpt,
	  host_judge_ckpt, NULL, "checkpoint directory: real write+fsync+unlink, free space"),
    CHECK("host.ifname", FD_AREA_HOST, FD_LEVEL_QUICK, struct ifname_facts, host_probe_ifname,
	  host_judge_ifname, NULL, "NCCL_SOCKET_IFNAME selects an interface that is up"),
    CHECK("host.clock", FD_AREA_HOST, FD_LEVEL_QUICK, struct clock_facts, host_probe_clock,
	  host_judge_clock, NULL, "system clock synchronised (adjtimex)"),

    CHECK("ib.port", FD_AREA_IB, FD_LEVEL_QUICK, struct ib_facts, ib_probe_ports, ib_judge_port,
	  NULL, "every RDMA port ACTIVE with physical link up"),
    CHECK("ib.rate", FD_AREA_IB, FD_LEVEL_QUICK, struct ib_facts, ib_probe_ports, ib_judge_rate,
	  NULL, "active ports at the expected (or the best sibling's) rate"),
    CHECK("ib.hca_env", FD_AREA_IB, FD_LEVEL_QUICK, struct ib_facts, ib_probe_ports,
	  ib_judge_hca_env, NULL, "NCCL_IB_HCA names devices and ports that exist"),
    CHECK("ib.flap", FD_AREA_IB, FD_LEVEL_QUICK, struct ib_facts, ib_probe_flaps, ib_judge_flap,
	  NULL, "link-down events in the kernel log"),
    CHECK("ib.verbs", FD_AREA_IB, FD_LEVEL_STANDARD, struct ib_verbs_facts, ib_probe_verbs,
	  ib_judge_verbs, NULL, "libibverbs opens each device and agrees with sysfs"),
    CHECK("ib.bw", FD_AREA_IB, FD_LEVEL_STANDARD, struct ib_bw_facts, ib_bw_probe, ib_bw_judge,
	  NULL, "RDMA write bandwidth in loopback per port (perftest's ib_write_bw)"),
    JOB_CHECK("ib.pairs", FD_AREA_IB, FD_LEVEL_STANDARD, struct ib_pairs_facts, ib_pairs_probe,
	      ib_pairs_judge,
	      "check --job: RDMA write between node pairs, a slow node or link named"),
    CHECK("ib.counters", FD_AREA_IB, FD_LEVEL_QUICK, struct ib_facts, ib_probe_counters,
	  ib_judge_counters, NULL, "port error counters do not grow across --counter-window"),

    CHECK("gpu.pci", FD_AREA_GPU, FD_LEVEL_QUICK, struct gpu_pci_facts, gpu_probe_pci,
	  gpu_judge_pci, NULL, "NVIDIA GPUs on the PCI bus, driver loaded and bound"),
    CHECK("gpu.nvml", FD_AREA_GPU, FD_LEVEL_QUICK, struct gpu_nvml_facts, gpu_probe_nvml,
	  gpu_judge_nvml, NULL, "NVML: count, ECC, remap, thermal, clocks, PCIe, NVLink, busy"),
    CHECK("gpu.xid", FD_AREA_GPU, FD_LEVEL_QUICK, struct xid_facts, gpu_probe_xid, gpu_judge_xid,
	  gpu_release_xid, "Xid errors in the kernel log, by class and age"),
    CHECK("bw.gpubench", FD_AREA_BW, FD_LEVEL_STANDARD, struct bw_facts, bw_probe, bw_judge, NULL,
	  "flightdeck-gpubench: HBM bandwidth, NCCL allreduce correctness and busbw"),
    JOB_CHECK("bw.world", FD_AREA_BW, FD_LEVEL_STANDARD, struct bw_world_facts, bw_world_probe,
	      bw_world_judge,
	      "check --job: NCCL allreduce across the nodes, the slowest node named by bisection"),

    CHECK("memfit.fit", FD_AREA_MEMFIT, FD_LEVEL_QUICK, struct memfit_facts, memfit_probe,
	  memfit_judge, NULL, "the job (--memfit) fits in the least free GPU's memory"),
};

size_t fd_check_count(void)
{
	return FD_ARRAY_SIZE(checks);
}

const struct fd_check *fd_check_at(size_t i)
{
	return i < FD_ARRAY_SIZE(checks) ? &checks[i] : NULL;
}

static const char *const area_names[FD_AREA_COUNT] = {"host", "ib", "gpu", "bw", "memfit"};
static const char *const level_names[] = {"quick", "standard", "full"};

const char *fd_area_name(enum fd_area a)
{
	return a < FD_AREA_COUNT ? area_names[a] : "?";
}

int fd_area_parse(const char *name, enum fd_area *out)
{
	for (int i = 0; i < FD_AREA_COUNT; i++) {
		if (strcasecmp(name, area_names[i]) == 0) {
			*out = (enum fd_area)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fd_level_name(enum fd_level l)
{
	return (size_t)l < FD_ARRAY_SIZE(level_names) ? level_names[l] : "?";
}

int fd_level_parse(const char *name, enum fd_level *out)
{
	for (size_t i = 0; i < FD_ARRAY_SIZE(level_names); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum fd_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * A probe read a hardware fact the kernel should never write (checks/hw/sysfs.h, fd_attr_garbage):
 * that is a finding about this node, not the operator's error, and the other checks still
 * run (docs/architecture.md, Contracts). ctx->err is "PATH: cannot parse 'TEXT' (...)".
 * Checks sharing one probe's facts (fd_probe_once) see the same failure: the first is the
 * failure, the others say they could not judge, so the report counts the fault once.
 */
static int malformed_fact(const struct fd_check *c, struct fd_probe_ctx *ctx, struct fd_report *rep)
{
	const char *sep = strstr(ctx->err, ": cannot parse '");
	char path[sizeof(((struct fd_finding *)0)->value)];
	struct fd_finding *r;

	fd_strlcpy(path, ctx->err,
		   sep && (size_t)(sep - ctx->err) < sizeof(path) ? (size_t)(sep - ctx->err) + 1
								  : sizeof(path));
	for (size_t i = 0; i < rep->n; i++) {
		const struct fd_finding *f = &rep->v[i];

		if (f->code && !strcmp(f->code, "HW_FACT_MALFORMED") && !strcmp(f->value, path)) {
			fd_report_add(rep, c->id, FD_SKIP, NULL, fd_area_name(c->area),
				      "not judged: %s is malformed (HW_FACT_MALFORMED, %s)", path,
				      f->check);
			return rep->oom ? -ENOMEM : 0;
		}
	}
	r = fd_report_add(rep, c->id, FD_FAIL, "HW_FACT_MALFORMED", fd_area_name(c->area), "%s",
			  ctx->err);
	if (r) {
		fd_strlcpy(r->value, path, sizeof(r->value));
		snprintf(r->expected, sizeof(r->expected), "a value the kernel writes");
	}
	return rep->oom ? -ENOMEM : 0;
}

int fd_check_run(const struct fd_check *c, struct fd_probe_ctx *ctx, struct fd_report *rep)
{
	void *facts = calloc(1, c->facts_size);
	int rc;

	if (!facts)
		return -ENOMEM;
	/*
	 * A probe whose facts own nothing is shared: ib.port, ib.rate and ib.hca_env scan once.
	 * A job check's facts are the job's, which change once the job has answered: never kept.
	 */
	rc = c->release || c->job ? c->probe(ctx, facts)
				  : fd_probe_once(ctx, c->probe, c->facts_size, facts);
	if (rc == 0)
		c->judge(facts, ctx->cfg, rep);
	else if (rc == -EBADMSG)
		rc = malformed_fact(c, ctx, rep);
	if (c->release)
		c->release(facts);
	free(facts);
	return rc;
}

static int selected(const struct fd_check *k, const struct fd_check_sel *sel)
{
	return sel->areas[k->area] && k->level <= sel->level;
}

int fd_checks_run(struct fd_probe_ctx *ctx, const struct fd_check_sel *sel, int job,
		  struct fd_report *rep)
{
	int ran[FD_AREA_COUNT] = {0};

	for (size_t i = 0; i < FD_ARRAY_SIZE(checks); i++) {
		const struct fd_check *k = &checks[i];
		int rc;

		if (!selected(k, sel))
			continue;
		ran[k->area] = 1;
		if (k->job != job)
			continue;
		ctx->err[0] = '\0';
		rc = fd_check_run(k, ctx, rep);
		if (rc == -ENOMEM || rep->oom) {
			snprintf(ctx->err, sizeof(ctx->err), "check %s: out of memory", k->id);
			return -ENOMEM;
		}
		if (rc) {
			if (!ctx->err[0])
				snprintf(ctx->err, sizeof(ctx->err), "%s", strerror(-rc));
			return rc;
		}
	}
	for (int a = 0; !job && a < FD_AREA_COUNT; a++)
		if (sel->areas[a] && !ran[a])
			fd_report_add(rep, fd_area_name((enum fd_area)a), FD_SKIP, NULL,
				      fd_area_name((enum fd_area)a),
				      "no %s checks at level %s in this version",
				      fd_area_name((enum fd_area)a), fd_level_name(sel->level));
	return 0;
}

int fd_checks_want_job(const struct fd_check_sel *sel, const char *id)
{
	for (size_t i = 0; i < FD_ARRAY_SIZE(checks); i++)
		if (checks[i].job && selected(&checks[i], sel) && !strcmp(checks[i].id, id))
			return 1;
	return 0;
}

int fd_probe_once(struct fd_probe_ctx *ctx, int (*probe)(struct fd_probe_ctx *ctx, void *facts),
		  size_t size, void *facts)
{
	struct fd_probe_memo *m = NULL;

	for (size_t i = 0; i < ctx->n_memo; i++)
		if (ctx->memo[i].probe == probe)
			m = &ctx->memo[i];
	if (!m) {
		void *block;

		if (ctx->n_memo == FD_ARRAY_SIZE(ctx->memo))
			return probe(ctx, facts);
		block = calloc(1, size);
		if (!block)
			return -ENOMEM;
		m = &ctx->memo[ctx->n_memo++];
		m->probe = probe;
		m->facts = block;
		m->rc = probe(ctx, block);
		fd_strlcpy(m->err, ctx->err, sizeof(m->err));
	}
	memcpy(facts, m->facts, size);
	if (m->rc)
		fd_strlcpy(ctx->err, m->err, sizeof(ctx->err));
	return m->rc;
}

void fd_probe_ctx_release(struct fd_probe_ctx *ctx)
{
	fd_kmsg_free(ctx->kmsg);
	ctx->kmsg = NULL;
	ctx->kmsg_loaded = 0;
	for (size_t i = 0; i < ctx->n_memo; i++)
		free(ctx->memo[i].facts);
	ctx->n_memo = 0;
}

int fd_probe_kmsg(struct fd_probe_ctx *ctx, const struct fd_kmsg_log **out)
{
	const char *path = ctx->cfg->kmsg;
	char err[512];

	if (!ctx->kmsg_loaded) {
		ctx->kmsg_loaded = 1;
		ctx->kmsg_rc = fd_kmsg_load(path, &ctx->kmsg, err, sizeof(err));
		if (ctx->kmsg_rc == 0)
			ctx->kmsg->uptime_ms = fd_kmsg_uptime_ms(ctx->cfg->proc_root);
		else if (strcmp(path, FD_KMSG_DEFAULT) != 0)
			/* A log the user named must be readable: that is a usage error. */
			snprintf(ctx->err, sizeof(ctx->err), "--kmsg %s", err);
	}
	if (ctx->kmsg_rc) {
		if (strcmp(path, FD_KMSG_DEFAULT) != 0)
			return -EINVAL;
		/* -EINVAL is reserved for "ctx->err is set"; the device's own errors skip. */
		return ctx->kmsg_rc == -EINVAL ? -EIO : ctx->kmsg_rc;
	}
	*out = ctx->kmsg;
	return 0;
}
