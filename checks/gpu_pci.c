/*
 * gpu_pci.c - GPU presence from PCI sysfs, and whether the nvidia driver serves it.
 *
 * The kernel-update incident: all GPU jobs failed over a weekend because a new kernel booted
 * without a matching nvidia module. nvidia-smi then only says it "couldn't communicate with
 * the NVIDIA driver". Reading PCI sysfs and /proc/driver/nvidia directly tells that case
 * apart from a node without GPUs, and names the running kernel in the finding.
 */
#include "gpu.h"
#include "sysfs.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCI_VENDOR_NVIDIA 0x10de

static int read_hex(struct fd_probe_ctx *ctx, const char *rel, unsigned *out)
{
	const char *root = ctx->cfg->sysfs_root;
	char buf[32], *end;

	if (fd_attr_read_required(ctx->err, root, rel, buf, sizeof(buf)) < 0)
		return -EINVAL;
	unsigned long v = strtoul(buf, &end, 16);
	if (strncmp(buf, "0x", 2) != 0 || *end || end == buf + 2 || v > 0xffffff)
		return fd_attr_garbage(ctx->err, root, rel, buf, "a hex id like 0x10de");
	*out = (unsigned)v;
	return 0;
}

int gpu_probe_pci(struct fd_probe_ctx *ctx, void *facts)
{
	struct gpu_pci_facts *f = facts;
	const struct fd_config *cfg = ctx->cfg;
	char **names, rel[512], buf[512];
	size_t n;
	int rc = fd_dir_list(cfg->sysfs_root, "bus/pci/devices", &names, &n);

	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(ctx->err, sizeof(ctx->err), "%s/bus/pci/devices: %s", cfg->sysfs_root,
			 strerror(-rc));
		return -EINVAL;
	}
	for (size_t i = 0; i < n && f->n < GPU_MAX_DEVS; i++) {
		struct gpu_pci_dev *d = &f->dev[f->n];
		unsigned vendor;

		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", names[i]);
		if ((rc = read_hex(ctx, rel, &vendor)))
			break;
		if (vendor != PCI_VENDOR_NVIDIA)
			continue;
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", names[i]);
		if ((rc = read_hex(ctx, rel, &d->class)))
			break;
		/* 0x0300 VGA, 0x0302 3D controller; NVSwitches (0x0680) are not GPUs. */
		if ((d->class >> 8) != 0x0300 && (d->class >> 8) != 0x0302)
			continue;
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", names[i]);
		if ((rc = read_hex(ctx, rel, &d->device)))
			break;
		fd_strlcpy(d->bdf, names[i], sizeof(d->bdf));
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", names[i]);
		if (fd_link_base(cfg->sysfs_root, rel, d->driver, sizeof(d->driver)))
			d->driver[0] = '\0';
		f->n++;
	}
	free(names);
	if (rc)
		return rc;

	/* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 ..." */
	rc = fd_attr_read(ctx->err, cfg->proc_root, "driver/nvidia/version", buf, sizeof(buf));
	if (rc >= 0) {
		char *p = strstr(buf, "Kernel Module");
		f->module_loaded = 1;
		if (p && sscanf(p + strlen("Kernel Module"), " %95s", f->driver_version) == 1)
			;
		else
			fd_strlcpy(f->driver_version, "unknown version", sizeof(f->driver_version));
	} else if (rc != -ENOENT) {
		return -EINVAL;
	}
	rc = fd_attr_read(ctx->err, cfg->proc_root, "sys/kernel/osrelease", f->kernel,
			  sizeof(f->kernel));
	if (rc < 0 && rc != -ENOENT)
		return -EINVAL;
	if (rc < 0)
		fd_strlcpy(f->kernel, "unknown", sizeof(f->kernel));
	ctx->err[0] = '\0';
	return 0;
}

int gpu_pci_count(struct fd_probe_ctx *ctx, int *n)
{
	struct gpu_pci_facts *pci = calloc(1, sizeof(*pci));
	int rc;

	if (!pci)
		return -ENOMEM;
	rc = fd_probe_once(ctx, gpu_probe_pci, sizeof(*pci), pci);
	*n = (int)pci->n;
	free(pci);
	return rc;
}

void gpu_judge_pci(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct gpu_pci_facts *f = facts;
	struct fd_finding *r;

	if (f->n == 0) {
		if (cfg->expect_gpus > 0) {
			r = fd_report_add(rep, "gpu.count", FD_FAIL, "GPU_COUNT", "gpus",
					  "no NVIDIA GPU on the PCI bus, %d expected",
					  cfg->expect_gpus);
			if (r) {
				fd_strlcpy(r->value, "0", sizeof(r->value));
				snprintf(r->expected, sizeof(r->expected), "%d", cfg->expect_gpus);
			}
			return;
		}
		fd_report_add(rep, "gpu.pci", FD_SKIP, NULL, "gpus",
			      "no NVIDIA GPU on the PCI bus: GPU checks do not apply");
		return;
	}
	if (!f->module_loaded) {
		r = fd_report_add(rep, "gpu.pci", FD_FAIL, "GPU_DRIVER_NOT_LOADED", "nvidia",
				  "%zu NVIDIA GPU%s on the PCI bus but the nvidia module is not "
				  "loaded under kernel %s",
				  f->n, f->n == 1 ? "" : "s", f->kernel);
		if (r) {
			snprintf(r->value, sizeof(r->value), "not loaded (kernel %s)", f->kernel);
			fd_strlcpy(r->expected, "nvidia module loaded", sizeof(r->expected));
		}
	} else {
		r = fd_report_add(rep, "gpu.pci", FD_PASS, NULL, "nvidia",
				  "driver %s loaded, kernel %s", f->driver_version, f->kernel);
		if (r) {
			fd_strlcpy(r->value, f->driver_version, sizeof(r->value));
			fd_strlcpy(r->expected, "loaded", sizeof(r->expected));
		}
		for (size_t i = 0; i < f->n; i++) {
			const struct gpu_pci_dev *d = &f->dev[i];
			if (strcmp(d->driver, "nvidia") == 0)
				continue;
			r = fd_report_add(rep, "gpu.pci", FD_FAIL, "GPU_DRIVER_NOT_LOADED", d->bdf,
					  d->driver[0] ? "GPU %04x is bound to %s, not nvidia"
						       : "GPU %04x has no driver bound",
					  d->device, d->driver);
			if (r) {
				fd_strlcpy(r->value, d->driver[0] ? d->driver : "none",
					   sizeof(r->value));
				fd_strlcpy(r->expected, "nvidia", sizeof(r->expected));
			}
		}
	}
	if (cfg->expect_gpus >= 0 && (size_t)cfg->expect_gpus != f->n)
		r = fd_report_add(rep, "gpu.count", FD_FAIL, "GPU_COUNT", "gpus",
				  "%zu NVIDIA GPUs on the PCI bus, %d expected", f->n,
				  cfg->expect_gpus);
	else
		r = fd_report_add(rep, "gpu.count", FD_PASS, NULL, "gpus",
				  "%zu NVIDIA GPU%s on the PCI bus", f->n, f->n == 1 ? "" : "s");
	if (r) {
		snprintf(r->value, sizeof(r->value), "%zu", f->n);
		if (cfg->expect_gpus >= 0)
			snprintf(r->expected, sizeof(r->expected), "%d", cfg->expect_gpus);
		else
			fd_strlcpy(r->expected, "auto", sizeof(r->expected));
	}
}
