/*
 * ib.c - InfiniBand/RoCE port checks from sysfs and the kernel log.
 *
 * The incident this exists for: one node's port went down, NCCL's allreduce waited for it
 * forever and a 4-node job hung silently. "Active but degraded" is the quieter twin: a port
 * that trained at a lower rate slows every collective. So every port is judged on state,
 * physical state, rate against its siblings, error counters that grow while we watch, and
 * link-down events in the kernel log that a point-in-time read would miss.
 */
#define _GNU_SOURCE
#include "ib.h"
#include "nccl_list.h"
#include "kmsg.h"
#include "sysfs.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const ib_counter_names[IB_NCTR] = {
    "symbol_error",
    "link_error_recovery",
    "link_downed",
    "port_rcv_errors",
    "port_rcv_remote_physical_errors",
    "port_rcv_switch_relay_errors",
    "port_xmit_discards",
    "port_xmit_constraint_errors",
    "port_rcv_constraint_errors",
    "local_link_integrity_errors",
    "excessive_buffer_overrun_errors",
    "VL15_dropped",
};

/* "4: ACTIVE" -> 4; the text is kept for the report. */
static int read_numbered(struct fd_probe_ctx *ctx, const char *rel, int *num, char *text,
			 size_t len)
{
	const char *root = ctx->cfg->sysfs_root;
	char buf[64], *end;

	if (fd_attr_read_required(ctx->err, root, rel, buf, sizeof(buf)) < 0)
		return -EINVAL;
	long v = strtol(buf, &end, 10);
	if (end == buf || *end != ':' || end[1] != ' ' || !isalpha((unsigned char)end[2]) ||
	    v < 0 || v > 16)
		return fd_attr_garbage(ctx->err, root, rel, buf, "'N: NAME' as in '4: ACTIVE'");
	*num = (int)v;
	fd_strlcpy(text, buf, len);
	return 0;
}

/* "400 Gb/sec (4X NDR)" -> 400.0 */
static int read_rate(struct fd_probe_ctx *ctx, const char *rel, double *rate, char *text,
		     size_t len)
{
	const char *root = ctx->cfg->sysfs_root;
	char buf[64], *end;

	if (fd_attr_read_required(ctx->err, root, rel, buf, sizeof(buf)) < 0)
		return -EINVAL;
	double v = isdigit((unsigned char)buf[0]) ? strtod(buf, &end) : -1;
	if (v < 0 || strncmp(end, " Gb/sec", 7) != 0 || !isfinite(v))
		return fd_attr_garbage(ctx->err, root, rel, buf, "'RATE Gb/sec (WIDTH SPEED)'");
	*rate = v;
	fd_strlcpy(text, buf, len);
	return 0;
}

static int read_device(struct fd_probe_ctx *ctx, struct ib_dev *d)
{
	const char *root = ctx->cfg->sysfs_root;
	char rel[512], **names;
	size_t n;

	/* class/infiniband/mlx5_0/device -> ../../../0000:1b:00.0 */
	snprintf(rel, sizeof(rel), "class/infiniband/%s/device", d->name);
	if (fd_link_base(root, rel, d->pci, sizeof(d->pci)))
		d->pci[0] = '\0';
	snprintf(rel, sizeof(rel), "class/infiniband/%s/device/net", d->name);
	if (fd_dir_list(root, rel, &names, &n) == 0) {
		for (size_t i = 0; i < n && d->n_netdevs < 4; i++)
			fd_strlcpy(d->netdevs[d->n_netdevs++], names[i], sizeof(d->netdevs[0]));
		free(names);
	}
	return 0;
}

static int read_port(struct fd_probe_ctx *ctx, const char *dev, struct ib_port *p)
{
	const char *root = ctx->cfg->sysfs_root;
	char rel[512];
	int rc;

#define PORT_REL(attr)                                                                             \
	snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/%s", dev, p->port, attr)
	PORT_REL("state");
	rc = read_numbered(ctx, rel, &p->state, p->state_text, sizeof(p->state_text));
	if (rc)
		return rc;
	PORT_REL("phys_state");
	rc = read_numbered(ctx, rel, &p->phys, p->phys_text, sizeof(p->phys_text));
	if (rc)
		return rc;
	PORT_REL("rate");
	rc = read_rate(ctx, rel, &p->rate, p->rate_text, sizeof(p->rate_text));
	if (rc)
		return rc;
	/* link_layer is absent on very old kernels, which only knew InfiniBand. */
	PORT_REL("link_layer");
	rc = fd_attr_read(ctx->err, root, rel, p->link_layer, sizeof(p->link_layer));
	if (rc == -ENOENT)
		fd_strlcpy(p->link_layer, "InfiniBand", sizeof(p->link_layer));
	else if (rc < 0)
		return -EINVAL;
	else if (strcmp(p->link_layer, "InfiniBand") && strcmp(p->link_layer, "Ethernet"))
		return fd_attr_garbage(ctx->err, root, rel, p->link_layer,
				       "InfiniBand or Ethernet");
#undef PORT_REL
	for (int k = 0; k < IB_NCTR; k++)
		p->ctr[0][k] = p->ctr[1][k] = -1;
	return 0;
}

int ib_probe_ports(struct fd_probe_ctx *ctx, void *facts)
{
	struct ib_facts *f = facts;
	const char *root = ctx->cfg->sysfs_root;
	const char *env = getenv("NCCL_IB_HCA");
	char **devs = NULL, **ports, rel[512];
	size_t ndev, nport;
	int rc;

	if (env)
		fd_strlcpy(f->hca_env, env, sizeof(f->hca_env));
	rc = fd_dir_list(root, "class/infiniband", &devs, &ndev);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(ctx->err, sizeof(ctx->err), "%s/class/infiniband: %s", root,
			 strerror(-rc));
		return -EINVAL;
	}
	f->present = 1;
	for (size_t i = 0; i < ndev && f->n_devs < IB_MAX_DEVS; i++) {
		struct ib_dev *d = &f->devs[f->n_devs];
		fd_strlcpy(d->name, devs[i], sizeof(d->name));
		read_device(ctx, d);
		snprintf(rel, sizeof(rel), "class/infiniband/%s/ports", d->name);
		rc = fd_dir_list(root, rel, &ports, &nport);
		if (rc) {
			snprintf(ctx->err, sizeof(ctx->err), "%s/%s: %s", root, rel, strerror(-rc));
			rc = -EINVAL;
			goto out;
		}
		for (size_t j = 0; j < nport && f->n < IB_MAX_PORTS; j++) {
			struct ib_port *p = &f->ports[f->n];
			if (fd_parse_uint(ports[j], &p->port)) {
				rc = fd_attr_garbage(ctx->err, root, rel, ports[j],
						     "numbered port directories");
				break;
			}
			p->dev = (int)f->n_devs;
			rc = read_port(ctx, d->name, p);
			if (rc)
				break;
			f->n++;
		}
		free(ports);
		if (rc)
			goto out;
		f->n_devs++;
	}
out:
	free(devs);
	return rc;
}

static int read_counters(struct fd_probe_ctx *ctx, struct ib_facts *f, int which)
{
	const char *root = ctx->cfg->sysfs_root;
	char rel[512], buf[32], *end;

	for (size_t i = 0; i < f->n; i++) {
		struct ib_port *p = &f->ports[i];
		for (int k = 0; k < IB_NCTR; k++) {
			snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/counters/%s",
				 f->devs[p->dev].name, p->port, ib_counter_names[k]);
			int rc = fd_attr_read(ctx->err, root, rel, buf, sizeof(buf));
			if (rc == -ENOENT)
				continue; /* RoCE ports and older HCAs lack some counters */
			if (rc < 0)
				return -EINVAL;
			errno = 0;
			unsigned long long v = strtoull(buf, &end, 10);
			if (!isdigit((unsigned char)buf[0]) || *end || errno)
				return fd_attr_garbage(ctx->err, root, rel, buf,
						       "a decimal counter");
			p->ctr[which][k] = (int64_t)(v > INT64_MAX ? INT64_MAX : v);
		}
	}
	return 0;
}

int ib_probe_counters(struct fd_probe_ctx *ctx, void *facts)
{
	struct ib_facts *f = facts;
	int rc = fd_probe_once(ctx, ib_probe_ports, sizeof(*f), f);

	if (rc || !f->n)
		return rc;
	rc = read_counters(ctx, f, 0);
	if (rc)
		return rc;
	f->window_ms = ctx->cfg->counter_window_ms;
	if (f->window_ms <= 0)
		return 0;
	struct timespec ts = {f->window_ms / 1000, (f->window_ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return read_counters(ctx, f, 1);
}

/* ---- judges --------------------------------------------------------------------------------- */

static void port_name(const struct ib_facts *f, const struct ib_port *p, char *out, size_t len)
{
	snprintf(out, len, "%s/%d", f->devs[p->dev].name, p->port);
}

static int no_rdma(const struct ib_facts *f, const char *check, struct fd_report *rep)
{
	if (f->n)
		return 0;
	fd_report_add(rep, check, FD_SKIP, NULL, "rdma", "%s",
		      f->present ? "class/infiniband has no ports"
				 : "no RDMA devices on this node (no class/infiniband)");
	return 1;
}

/*
 * With NCCL_IB_HCA set, ports it does not select are not the job's business: an unused
 * second port of a dual-port HCA is usually uncabled on purpose.
 */
int ib_port_selected(const struct ib_facts *f, const struct ib_port *p)
{
	struct fd_nccl_list l;

	if (!f->hca_env[0] || fd_nccl_list_parse(f->hca_env, &l))
		return 1;
	return (fd_nccl_list_match(&l, f->devs[p->dev].name, p->port) >= 0) != l.exclude;
}

void ib_judge_port(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ib_facts *f = facts;
	struct fd_finding *r;
	char name[64];

	if (no_rdma(f, "ib.port", rep))
		return;
	for (size_t i = 0; i < f->n; i++) {
		const struct ib_port *p = &f->ports[i];
		port_name(f, p, name, sizeof(name));
		if (!ib_port_selected(f, p)) {
			fd_report_add(rep, "ib.port", FD_SKIP, NULL, name,
				      "not selected by NCCL_IB_HCA=%s", f->hca_env);
			continue;
		}
		if (p->phys != IB_PHYS_LINKUP) {
			r = fd_report_add(rep, "ib.port", FD_FAIL, "IB_PHYS_DOWN", name,
					  "%s port has no physical link (%s)", p->link_layer,
					  p->phys_text);
			if (r) {
				fd_strlcpy(r->value, p->phys_text, sizeof(r->value));
				fd_strlcpy(r->expected, "5: LinkUp", sizeof(r->expected));
			}
		}
		if (p->state != IB_STATE_ACTIVE) {
			r = fd_report_add(rep, "ib.port", FD_FAIL, "IB_PORT_DOWN", name,
					  "%s port is %s, not ACTIVE: NCCL over it will hang or "
					  "fall back",
					  p->link_layer, p->state_text);
			if (r) {
				fd_strlcpy(r->value, p->state_text, sizeof(r->value));
				fd_strlcpy(r->expected, "4: ACTIVE", sizeof(r->expected));
			}
		}
		if (p->phys == IB_PHYS_LINKUP && p->state == IB_STATE_ACTIVE) {
			r = fd_report_add(rep, "ib.port", FD_PASS, NULL, name, "%s, %s, %s",
					  p->link_layer, p->state_text, p->rate_text);
			if (r) {
				fd_strlcpy(r->value, p->state_text, sizeof(r->value));
				fd_strlcpy(r->expected, "4: ACTIVE", sizeof(r->expected));
			}
		}
	}
}

void ib_judge_rate(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ib_facts *f = facts;
	struct fd_finding *r;
	char name[64];

	if (no_rdma(f, "ib.rate", rep))
		return;
	for (size_t i = 0; i < f->n; i++) {
		const struct ib_port *p = &f->ports[i];
		double want = cfg->expect_ib_rate;
		const char *why = "--expect-ib-rate";

		if (p->state != IB_STATE_ACTIVE || !ib_port_selected(f, p))
			continue; /* judged (or skipped) by ib.port */
		if (want <= 0) {
			/* The best active sibling of the same link layer sets the bar. */
			why =
			    p->link_layer[0] == 'E' ? "best Ethernet port" : "best InfiniBand port";
			for (size_t j = 0; j < f->n; j++) {
				const struct ib_port *q = &f->ports[j];
				if (q->state == IB_STATE_ACTIVE && ib_port_selected(f, q) &&
				    strcmp(q->link_layer, p->link_layer) == 0 && q->rate > want)
					want = q->rate;
			}
		}
		port_name(f, p, name, sizeof(name));
		if (p->rate + 1e-6 < want)
			r = fd_report_add(rep, "ib.rate", FD_FAIL, "IB_RATE_LOW", name,
					  "active at %s, below %g Gb/sec (%s): degraded link",
					  p->rate_text, want, why);
		else
			r = fd_report_add(rep, "ib.rate", FD_PASS, NULL, name, "%s", p->rate_text);
		if (r) {
			fd_strlcpy(r->value, p->rate_text, sizeof(r->value));
			snprintf(r->expected, sizeof(r->expected), ">= %g Gb/sec", want);
		}
	}
}

void ib_judge_hca_env(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ib_facts *f = facts;
	struct fd_nccl_list l;
	struct fd_finding *r;
	size_t selected = 0;

	if (!f->hca_env[0]) {
		fd_report_add(rep, "ib.hca_env", FD_SKIP, NULL, "NCCL_IB_HCA",
			      "not set: NCCL uses every RDMA device it finds");
		return;
	}
	if (fd_nccl_list_parse(f->hca_env, &l)) {
		r = fd_report_add(rep, "ib.hca_env", FD_FAIL, "NCCL_IB_HCA_MISSING", "NCCL_IB_HCA",
				  "cannot parse NCCL_IB_HCA='%s' (expected [^][=]dev[:port],...)",
				  f->hca_env);
		if (r)
			fd_strlcpy(r->value, f->hca_env, sizeof(r->value));
		return;
	}
	for (size_t i = 0; i < f->n; i++)
		selected += ib_port_selected(f, &f->ports[i]);
	if (!l.exclude) {
		/* Every entry must name something: NCCL silently drops ones that do not. */
		for (size_t e = 0; e < l.n; e++) {
			int found = 0;
			for (size_t i = 0; i < f->n && !found; i++) {
				struct fd_nccl_list one = l;
				one.n = 1;
				one.e[0] = l.e[e];
				found = fd_nccl_list_match(&one, f->devs[f->ports[i].dev].name,
							   f->ports[i].port) >= 0;
			}
			if (found)
				continue;
			char what[80];
			if (l.e[e].port)
				snprintf(what, sizeof(what), "%s:%d", l.e[e].name, l.e[e].port);
			else
				snprintf(what, sizeof(what), "%s", l.e[e].name);
			r = fd_report_add(rep, "ib.hca_env", FD_FAIL, "NCCL_IB_HCA_MISSING", what,
					  "NCCL_IB_HCA names %s, which is not on this node", what);
			if (r) {
				fd_strlcpy(r->value, "absent", sizeof(r->value));
				fd_strlcpy(r->expected, "an RDMA device/port", sizeof(r->expected));
			}
		}
	}
	if (selected == 0) {
		r = fd_report_add(rep, "ib.hca_env", FD_FAIL, "NCCL_IB_HCA_MISSING", "NCCL_IB_HCA",
				  "NCCL_IB_HCA='%s' selects no RDMA port on this node", f->hca_env);
		if (r) {
			fd_strlcpy(r->value, "0 ports", sizeof(r->value));
			fd_strlcpy(r->expected, ">= 1 port", sizeof(r->expected));
		}
		return;
	}
	r = fd_report_add(rep, "ib.hca_env", FD_PASS, NULL, "NCCL_IB_HCA",
			  "'%s' selects %zu of %zu ports", f->hca_env, selected, f->n);
	if (r)
		snprintf(r->value, sizeof(r->value), "%zu ports", selected);
}

void ib_judge_counters(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ib_facts *f = facts;
	struct fd_finding *r;
	char name[64], win[32];

	if (no_rdma(f, "ib.counters", rep))
		return;
	fd_fmt_duration(f->window_ms, win, sizeof(win));
	for (size_t i = 0; i < f->n; i++) {
		const struct ib_port *p = &f->ports[i];
		char grew[96] = "", total[96] = "";
		size_t goff = 0, toff = 0;

		port_name(f, p, name, sizeof(name));
		if (!ib_port_selected(f, p))
			continue;
		for (int k = 0; k < IB_NCTR; k++) {
			int64_t a = p->ctr[0][k], b = p->ctr[1][k];
			if (a > 0 && toff < sizeof(total))
				toff += (size_t)snprintf(total + toff, sizeof(total) - toff,
							 "%s%s=%lld", toff ? " " : "",
							 ib_counter_names[k], (long long)a);
			if (f->window_ms > 0 && a >= 0 && b > a && goff < sizeof(grew))
				goff += (size_t)snprintf(grew + goff, sizeof(grew) - goff,
							 "%s%s+%lld", goff ? " " : "",
							 ib_counter_names[k], (long long)(b - a));
		}
		if (grew[0]) {
			r = fd_report_add(rep, "ib.counters", FD_FAIL, "IB_ERRORS_RISING", name,
					  "error counters grew in %s: %s", win, grew);
			if (r) {
				fd_strlcpy(r->value, grew, sizeof(r->value));
				snprintf(r->expected, sizeof(r->expected), "no growth in %s", win);
			}
		} else if (f->window_ms <= 0) {
			fd_report_add(rep, "ib.counters", FD_SKIP, NULL, name,
				      "read once (--counter-window 0): growth not judged%s%s",
				      total[0] ? "; " : "", total);
		} else {
			r = fd_report_add(rep, "ib.counters", FD_PASS, NULL, name,
					  "no error counter grew in %s%s%s", win,
					  total[0] ? "; totals since reset: " : "", total);
			if (r)
				fd_strlcpy(r->value, "no growth", sizeof(r->value));
		}
	}
}

/* ---- link flaps in the kernel log --------------------------------------------------------- */

/*
 * What a link going down looks like in the kernel log, case-insensitively:
 *   mlx5_core 0000:1b:00.0 enp27s0np0: Link down               (RoCE / Ethernet netdev)
 *   mlx5_core 0000:1b:00.0: mlx5_port_module_event: ... Cable unplugged
 *   ib0: lost carrier                                          (IPoIB)
 * A line counts for a device when it names the device, its PCI address or one of its netdevs.
 */
static const char *const flap_patterns[] = {"link down", "lost carrier", "carrier lost",
					    "cable unplugged"};

static int mentions(const char *text, const char *word)
{
	size_t wl = strlen(word);

	if (!wl)
		return 0;
	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		char before = p == text ? ' ' : p[-1];
		char after = p[wl];
		/* whole names only: mlx5_1 must not match mlx5_10 */
		if (!isalnum((unsigned char)before) && before != '_' &&
		    !isalnum((unsigned char)after) && after != '_')
			return 1;
	}
	return 0;
}

void ib_count_flaps(struct ib_facts *f, const struct fd_kmsg_log *log, int64_t window_ms)
{
	for (size_t i = 0; i < log->n; i++) {
		const char *t = log->lines[i].text;
		int64_t age = fd_kmsg_age_ms(log, log->lines[i].ts_us);
		int hit = 0;

		for (size_t k = 0; k < FD_ARRAY_SIZE(flap_patterns) && !hit; k++)
			hit = strcasestr(t, flap_patterns[k]) != NULL;
		if (!hit || (age >= 0 && age > window_ms))
			continue;
		for (size_t d = 0; d < f->n_devs; d++) {
			struct ib_dev *dev = &f->devs[d];
			int named = mentions(t, dev->name) || mentions(t, dev->pci);
			for (int n = 0; n < dev->n_netdevs && !named; n++)
				named = mentions(t, dev->netdevs[n]);
			if (named) {
				dev->flaps++;
				fd_strlcpy(dev->last_flap, t, sizeof(dev->last_flap));
			}
		}
	}
}

int ib_probe_flaps(struct fd_probe_ctx *ctx, void *facts)
{
	struct ib_facts *f = facts;
	const struct fd_kmsg_log *log;
	int rc = fd_probe_once(ctx, ib_probe_ports, sizeof(*f), f);

	if (rc || !f->n_devs)
		return rc;
	rc = fd_probe_kmsg(ctx, &log);
	if (rc == -EINVAL)
		return rc;
	f->log_rc = rc;
	if (rc == 0)
		ib_count_flaps(f, log, ctx->cfg->flap_window_ms);
	return 0;
}

void ib_judge_flap(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ib_facts *f = facts;
	struct fd_finding *r;
	char win[32];

	if (no_rdma(f, "ib.flap", rep))
		return;
	if (f->log_rc) {
		fd_report_add(rep, "ib.flap", FD_SKIP, NULL, "kernel log",
			      "cannot read %s: %s (run as root, or give --kmsg FILE)", cfg->kmsg,
			      strerror(-f->log_rc));
		return;
	}
	fd_fmt_duration(cfg->flap_window_ms, win, sizeof(win));
	for (size_t d = 0; d < f->n_devs; d++) {
		const struct ib_dev *dev = &f->devs[d];
		if (dev->flaps > cfg->ib_flap_max)
			r = fd_report_add(rep, "ib.flap", FD_FAIL, "IB_LINK_FLAP", dev->name,
					  "%d link-down events in the last %s; last: %.120s",
					  dev->flaps, win, dev->last_flap);
		else
			r = fd_report_add(rep, "ib.flap", FD_PASS, NULL, dev->name,
					  "%d link-down events in the last %s", dev->flaps, win);
		if (r) {
			snprintf(r->value, sizeof(r->value), "%d in %s", dev->flaps, win);
			snprintf(r->expected, sizeof(r->expected), "<= %d", cfg->ib_flap_max);
		}
	}
}
