/*
 * xid.c - Xid errors in the kernel log, classified and aged.
 *
 * An Xid is the NVIDIA driver's report of a GPU fault: "NVRM: Xid (PCI:0000:3b:00): 48, ...".
 * Xid 48 firing for a week unnoticed meant a week of training on corrupted results, so a
 * fatal Xid fails the node. But operators disagree on some codes (63, 68, 92), and an old
 * Xid must not keep a repaired node failing until its next reboot: both lists and the age
 * window are tunables (--xid-fatal, --xid-app, --xid-window).
 */
#include "gpu.h"
#include "kmsg.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	int xid;
	const char *name;
} xid_names[] = {
    {13, "graphics engine exception"},
    {31, "GPU memory page fault"},
    {43, "GPU stopped processing"},
    {45, "preemptive cleanup after earlier errors"},
    {48, "double-bit ECC error"},
    {61, "internal micro-controller breakpoint"},
    {62, "internal micro-controller halt"},
    {63, "row remapping / page retirement event"},
    {64, "row remapping / page retirement failure"},
    {68, "video processor exception"},
    {74, "NVLink error"},
    {79, "GPU has fallen off the bus"},
    {92, "high single-bit ECC error rate"},
    {94, "contained ECC error"},
    {95, "uncontained ECC error"},
    {119, "GSP RPC timeout"},
    {120, "GSP error"},
};

const char *gpu_xid_name(int xid)
{
	for (size_t i = 0; i < FD_ARRAY_SIZE(xid_names); i++)
		if (xid_names[i].xid == xid)
			return xid_names[i].name;
	return NULL;
}

int gpu_parse_xid(const char *text, char *pci, size_t pcilen, int *xid)
{
	const char *p = strstr(text, "NVRM: Xid (");
	const char *close;
	size_t len;

	if (!p)
		return -ENOENT;
	p += strlen("NVRM: Xid (");
	if (strncmp(p, "PCI:", 4) == 0)
		p += 4;
	close = strchr(p, ')');
	if (!close || close[1] != ':')
		return -EINVAL;
	len = (size_t)(close - p);
	if (len == 0 || len >= pcilen)
		return -EINVAL;
	memcpy(pci, p, len);
	pci[len] = '\0';
	p = close + 2;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	long v = 0;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > 100000)
			return -EINVAL;
	}
	*xid = (int)v;
	return 0;
}

int gpu_probe_xid(struct fd_probe_ctx *ctx, void *facts)
{
	struct xid_facts *f = facts;
	const struct fd_kmsg_log *log;
	size_t cap = 0;
	int rc = fd_probe_kmsg(ctx, &log);

	if (rc == -EINVAL)
		return rc;
	f->log_rc = rc;
	if (rc)
		return 0;
	for (size_t i = 0; i < log->n; i++) {
		struct xid_event e;
		if (gpu_parse_xid(log->lines[i].text, e.pci, sizeof(e.pci), &e.xid))
			continue;
		e.age_ms = fd_kmsg_age_ms(log, log->lines[i].ts_us);
		fd_strlcpy(e.text, log->lines[i].text, sizeof(e.text));
		if (f->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct xid_event *nv = realloc(f->ev, nc * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			f->ev = nv;
			cap = nc;
		}
		f->ev[f->n++] = e;
	}
	return 0;
}

void gpu_release_xid(void *facts)
{
	free(((struct xid_facts *)facts)->ev);
}

static int in_list(const int *v, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

void gpu_judge_xid(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct xid_facts *f = facts;
	char win[32];

	if (f->log_rc) {
		fd_report_add(rep, "gpu.xid", FD_SKIP, NULL, "kernel log",
			      "cannot read %s: %s (run as root, or give --kmsg FILE)", cfg->kmsg,
			      strerror(-f->log_rc));
		return;
	}
	if (f->n == 0) {
		fd_report_add(rep, "gpu.xid", FD_PASS, NULL, "kernel log",
			      "no Xid in the kernel log");
		return;
	}
	fd_fmt_duration(cfg->xid_window_ms, win, sizeof(win));
	/* One finding per (GPU, Xid): a storm of the same Xid is one problem, with a count. */
	for (size_t i = 0; i < f->n; i++) {
		const struct xid_event *e = &f->ev[i];
		int seen = 0, count = 0;
		int64_t newest = -2; /* -1 = unknown age, which counts as recent */

		for (size_t j = 0; j < i && !seen; j++)
			seen = f->ev[j].xid == e->xid && strcmp(f->ev[j].pci, e->pci) == 0;
		if (seen)
			continue;
		for (size_t j = i; j < f->n; j++) {
			if (f->ev[j].xid != e->xid || strcmp(f->ev[j].pci, e->pci) != 0)
				continue;
			count++;
			int64_t a = f->ev[j].age_ms;
			if (newest == -2 || a < 0 || (newest >= 0 && a < newest))
				newest = a;
		}
		int recent = newest < 0 || newest <= cfg->xid_window_ms;
		enum fd_status st;
		const char *code;
		if (in_list(cfg->xid_fatal, cfg->n_xid_fatal, e->xid)) {
			code = "GPU_XID_FATAL";
			st = recent ? FD_FAIL : FD_WARN;
		} else if (in_list(cfg->xid_app, cfg->n_xid_app, e->xid)) {
			code = "GPU_XID_APP";
			st = FD_WARN;
		} else {
			code = "GPU_XID_OTHER";
			st = FD_WARN;
		}
		char when[48], age[32];
		if (newest < 0) {
			snprintf(when, sizeof(when), "time unknown");
		} else {
			fd_fmt_duration(newest, age, sizeof(age));
			snprintf(when, sizeof(when), "last %s ago", age);
		}
		const char *name = gpu_xid_name(e->xid);
		struct fd_finding *r = fd_report_add(
		    rep, "gpu.xid", st, code, e->pci, "Xid %d (%s) x%d, %s%s", e->xid,
		    name ? name : "see NVIDIA's Xid catalogue", count, when,
		    st == FD_WARN && !strcmp(code, "GPU_XID_FATAL") ? ", outside --xid-window"
								    : "");
		if (r) {
			if (newest < 0)
				snprintf(r->value, sizeof(r->value), "Xid %d x%d, time unknown",
					 e->xid, count);
			else
				snprintf(r->value, sizeof(r->value), "Xid %d x%d, %s ago", e->xid,
					 count, age);
			if (!strcmp(code, "GPU_XID_FATAL"))
				snprintf(r->expected, sizeof(r->expected), "none in %s", win);
			else
				snprintf(r->expected, sizeof(r->expected), "none");
		}
	}
}

int gpu_xid_since(const struct fd_kmsg_log *log, const int *app, size_t napp, int64_t within_ms,
		  char *out, size_t len)
{
	int64_t best = -1;
	int xid = 0;
	char pci[24] = "";

	*out = '\0';
	for (size_t i = 0; log && i < log->n; i++) {
		char p[24];
		int x;
		int64_t age;

		if (gpu_parse_xid(log->lines[i].text, p, sizeof(p), &x) || in_list(app, napp, x))
			continue;
		age = fd_kmsg_age_ms(log, log->lines[i].ts_us);
		if (age < 0 || age > within_ms || (best >= 0 && age > best))
			continue; /* no age: not known to be this job's; older: not the newest */
		best = age;
		xid = x;
		fd_strlcpy(pci, p, sizeof(pci));
	}
	if (best < 0)
		return 0;
	snprintf(out, len, "Xid %d%s%s%s on %s, %.1f s ago (since the job started)", xid,
		 gpu_xid_name(xid) ? " (" : "", gpu_xid_name(xid) ? gpu_xid_name(xid) : "",
		 gpu_xid_name(xid) ? ")" : "", pci, (double)best / 1000.0);
	return 1;
}
