/*
 * ib_verbs.c - the libibverbs cross-check: open every RDMA device, query every port and
 * compare the state with sysfs. Verbs is what NCCL uses, so a device that sysfs lists but
 * verbs cannot open (a wedged driver, a firmware fault) is caught here and not at NCCL init.
 *
 * Built only when libibverbs was found; it reads the real devices, so it is skipped when
 * --sysfs-root points at a fixture tree (the two would describe different machines).
 */
#include "ib.h"
#include "sysfs.h"
#include "util.h"
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#if FD_HAVE_IBVERBS
#include <infiniband/verbs.h>
#endif

int ib_probe_verbs(struct fd_probe_ctx *ctx, void *facts)
{
	struct ib_verbs_facts *f = facts;

#if !FD_HAVE_IBVERBS
	snprintf(f->reason, sizeof(f->reason), "built without libibverbs");
	return 0;
#else
	struct ibv_device **list;
	int ndev = 0;

	if (strcmp(ctx->cfg->sysfs_root, "/sys") != 0) {
		snprintf(f->reason, sizeof(f->reason),
			 "--sysfs-root is not /sys: verbs sees the real devices, not the fixture");
		return 0;
	}
	list = ibv_get_device_list(&ndev);
	if (!list || ndev == 0) {
		snprintf(f->reason, sizeof(f->reason), "libibverbs finds no RDMA device here");
		if (list)
			ibv_free_device_list(list);
		return 0;
	}
	f->ran = 1;
	for (int i = 0; i < ndev; i++) {
		struct ibv_device_attr da;
		const char *name = ibv_get_device_name(list[i]);
		struct ibv_context *c = ibv_open_device(list[i]);

		if (!c || ibv_query_device(c, &da)) {
			/* Recorded as a port 0 with no state: the judge reports it. */
			if (f->n < IB_MAX_PORTS) {
				fd_strlcpy(f->ports[f->n].dev, name, sizeof(f->ports[0].dev));
				f->ports[f->n].port = 0;
				f->ports[f->n].verbs_state = -1;
				f->ports[f->n++].sysfs_state = -1;
			}
			if (c)
				ibv_close_device(c);
			continue;
		}
		for (int p = 1; p <= da.phys_port_cnt && f->n < IB_MAX_PORTS; p++) {
			struct ibv_port_attr pa;
			char rel[256], buf[64];
			fd_strlcpy(f->ports[f->n].dev, name, sizeof(f->ports[0].dev));
			f->ports[f->n].port = p;
			f->ports[f->n].verbs_state =
			    ibv_query_port(c, (uint8_t)p, &pa) ? -1 : (int)pa.state;
			snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/state", name, p);
			f->ports[f->n].sysfs_state = -1;
			if (fd_attr_read(ctx->err, ctx->cfg->sysfs_root, rel, buf, sizeof(buf)) > 0)
				sscanf(buf, "%d", &f->ports[f->n].sysfs_state);
			ctx->err[0] = '\0';
			f->n++;
		}
		ibv_close_device(c);
	}
	ibv_free_device_list(list);
	return 0;
#endif
}

void ib_judge_verbs(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ib_verbs_facts *f = facts;
	struct fd_finding *r;
	char name[64];

	if (!f->ran) {
		fd_report_add(rep, "ib.verbs", FD_SKIP, NULL, "verbs", "%s", f->reason);
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		snprintf(name, sizeof(name), "%s/%d", f->ports[i].dev, f->ports[i].port);
		if (f->ports[i].verbs_state < 0) {
			r = fd_report_add(rep, "ib.verbs", FD_FAIL, "IB_VERBS_MISMATCH", name,
					  "libibverbs cannot open or query %s", f->ports[i].dev);
		} else if (f->ports[i].verbs_state != f->ports[i].sysfs_state) {
			r = fd_report_add(rep, "ib.verbs", FD_WARN, "IB_VERBS_MISMATCH", name,
					  "verbs says state %d, sysfs says %d",
					  f->ports[i].verbs_state, f->ports[i].sysfs_state);
		} else {
			r = fd_report_add(rep, "ib.verbs", FD_PASS, NULL, name,
					  "opened and queried; state %d agrees with sysfs",
					  f->ports[i].verbs_state);
		}
		if (r) {
			snprintf(r->value, sizeof(r->value), "verbs %d", f->ports[i].verbs_state);
			snprintf(r->expected, sizeof(r->expected), "sysfs %d",
				 f->ports[i].sysfs_state);
		}
	}
}
