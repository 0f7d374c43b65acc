/*
 * gpu_nvml.c - GPU health through NVML: count, ECC, row remapping, temperature against the
 * GPU's own slowdown threshold, clock event reasons, PCIe width, NVLink, leftover compute
 * processes, MIG mode, persistence.
 *
 * The probe asks the process's NVML session (checks/hw/nvml.c) and copies every answer into plain facts; a
 * query the GPU does not support leaves -1 and the judge skips that part. The judge never
 * touches NVML, so tests build the facts by hand or through the fake library.
 */
#include "build_config.h"
#include "gpu.h"
#include "nvml.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void probe_device(struct fd_nvml *n, fd_nvmlDevice_t h, struct gpu_nvml_dev *d)
{
	struct fd_nvmlPciInfo pci;
	unsigned int u1, u2, u3, u4;
	unsigned long long ull;
	int i1, i2;

	memset(d, 0, sizeof(*d));
	d->persistence = d->ecc = d->retired_pending = d->temp = d->temp_slowdown = -1;
	d->pcie_width = d->pcie_max = d->procs = d->mig = -1;
	d->ecc_unc = d->reasons = -1;
	if (n->DeviceGetPciInfo(h, &pci) == FD_NVML_SUCCESS) {
		fd_strlcpy(d->bus_id, pci.busId, sizeof(d->bus_id));
		fd_pci_normalise(d->bus_id);
	}
	if (n->DeviceGetName(h, d->name, sizeof(d->name)) != FD_NVML_SUCCESS)
		fd_strlcpy(d->name, "unknown GPU", sizeof(d->name));
	if (n->DeviceGetPersistenceMode && n->DeviceGetPersistenceMode(h, &i1) == FD_NVML_SUCCESS)
		d->persistence = i1;
	if (n->DeviceGetEccMode && n->DeviceGetEccMode(h, &i1, &i2) == FD_NVML_SUCCESS)
		d->ecc = i1;
	if (n->DeviceGetTotalEccErrors &&
	    n->DeviceGetTotalEccErrors(h, FD_NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
				       FD_NVML_VOLATILE_ECC, &ull) == FD_NVML_SUCCESS)
		d->ecc_unc = (long long)ull;
	if (n->DeviceGetRetiredPagesPendingStatus &&
	    n->DeviceGetRetiredPagesPendingStatus(h, &i1) == FD_NVML_SUCCESS)
		d->retired_pending = i1;
	if (n->DeviceGetRemappedRows &&
	    n->DeviceGetRemappedRows(h, &u1, &u2, &u3, &u4) == FD_NVML_SUCCESS) {
		d->remap_known = 1;
		d->remap_unc = u2;
		d->remap_pending = u3;
		d->remap_failure = u4;
	}
	if (n->DeviceGetTemperature &&
	    n->DeviceGetTemperature(h, FD_NVML_TEMPERATURE_GPU, &u1) == FD_NVML_SUCCESS)
		d->temp = (int)u1;
	if (n->DeviceGetTemperatureThreshold &&
	    n->DeviceGetTemperatureThreshold(h, FD_NVML_TEMPERATURE_THRESHOLD_SLOWDOWN, &u1) ==
		FD_NVML_SUCCESS)
		d->temp_slowdown = (int)u1;
	if (n->DeviceGetClocksEventReasons &&
	    n->DeviceGetClocksEventReasons(h, &ull) == FD_NVML_SUCCESS)
		d->reasons = (long long)ull;
	if (n->DeviceGetCurrPcieLinkWidth &&
	    n->DeviceGetCurrPcieLinkWidth(h, &u1) == FD_NVML_SUCCESS)
		d->pcie_width = (int)u1;
	if (n->DeviceGetMaxPcieLinkWidth && n->DeviceGetMaxPcieLinkWidth(h, &u1) == FD_NVML_SUCCESS)
		d->pcie_max = (int)u1;
	for (unsigned l = 0; n->DeviceGetNvLinkState && l < FD_NVML_NVLINK_MAX_LINKS; l++) {
		if (n->DeviceGetNvLinkState(h, l, &i1) != FD_NVML_SUCCESS)
			continue; /* links the GPU does not have answer NOT_SUPPORTED */
		d->nvlink_total++;
		d->nvlink_active += i1 != 0;
	}
	if (n->DeviceGetComputeRunningProcesses) {
		/* Count only: with room for none, NVML answers SUCCESS (0) or INSUFFICIENT_SIZE. */
		u1 = 0;
		int r = n->DeviceGetComputeRunningProcesses(h, &u1, NULL);
		if (r == FD_NVML_SUCCESS)
			d->procs = 0;
		else if (r == FD_NVML_ERROR_INSUFFICIENT_SIZE)
			d->procs = (int)u1;
	}
	if (n->DeviceGetMigMode && n->DeviceGetMigMode(h, &u1, &u2) == FD_NVML_SUCCESS)
		d->mig = (int)u1;
}

int gpu_probe_nvml(struct fd_probe_ctx *ctx, void *facts)
{
	struct gpu_nvml_facts *f = facts;
	struct fd_nvml *n;
	int rc;

	rc = gpu_pci_count(ctx, &f->pci_gpus);
	if (rc)
		return rc;
	f->rc = fd_nvml_session(&n, f->why, sizeof(f->why));
	if (f->rc)
		return 0;
	if (n->SystemGetDriverVersion(f->driver, sizeof(f->driver)) != FD_NVML_SUCCESS)
		fd_strlcpy(f->driver, "unknown", sizeof(f->driver));
	if (n->SystemGetCudaDriverVersion &&
	    n->SystemGetCudaDriverVersion(&f->cuda) != FD_NVML_SUCCESS)
		f->cuda = 0;
	fd_nvmlReturn_t r = n->DeviceGetCount(&f->count);
	if (r != FD_NVML_SUCCESS) {
		snprintf(f->why, sizeof(f->why), "nvmlDeviceGetCount: %s", fd_nvml_error(n, r));
		f->rc = -EIO;
		return 0;
	}
	for (unsigned i = 0; i < f->count && i < GPU_NVML_MAX; i++) {
		fd_nvmlDevice_t h;
		if (n->DeviceGetHandleByIndex(i, &h) == FD_NVML_SUCCESS)
			probe_device(n, h, &f->dev[i]);
		else
			snprintf(f->dev[i].bus_id, sizeof(f->dev[i].bus_id), "index %u: no handle",
				 i);
	}
	return 0;
}

/* ---- the judge ----------------------------------------------------------------------- */

static void judge_device(const struct gpu_nvml_dev *d, const struct fd_config *cfg,
			 struct fd_report *rep)
{
	const char *s = d->bus_id;
	char v[96], e[96], m[256];

	if (d->ecc_unc > 0) {
		snprintf(v, sizeof(v), "%lld uncorrectable", d->ecc_unc);
		fd_report_addv(rep, "gpu.ecc", FD_FAIL, "GPU_ECC_UNCORRECTABLE", s, v, "0",
			       "volatile uncorrectable ECC errors since the last reset");
	} else if (d->ecc == 0) {
		fd_report_addv(rep, "gpu.ecc", FD_WARN, "GPU_ECC_DISABLED", s, "disabled",
			       "enabled", "ECC is off: memory errors go undetected");
	} else if (d->ecc_unc == 0) {
		fd_report_addv(rep, "gpu.ecc", FD_PASS, NULL, s, "0 uncorrectable", "0",
			       "ECC on, clean");
	}
	if (d->remap_known) {
		if (d->remap_failure)
			fd_report_addv(rep, "gpu.remap", FD_FAIL, "GPU_ROW_REMAP_FAILED", s,
				       "remap failed", "none",
				       "row remapping failed: no spare rows left");
		else if (d->remap_pending)
			fd_report_addv(rep, "gpu.remap", FD_FAIL, "GPU_ROW_REMAP_PENDING", s,
				       "pending", "none", "a row remap is pending a GPU reset");
		else
			fd_report_addv(rep, "gpu.remap", FD_PASS, NULL, s, "none pending", "none",
				       "row remapping clean");
	} else if (d->retired_pending == 1) {
		fd_report_addv(rep, "gpu.remap", FD_FAIL, "GPU_ROW_REMAP_PENDING", s,
			       "pages pending", "none", "retired pages are pending a GPU reset");
	}
	if (d->temp >= 0 && d->temp_slowdown > 0) {
		snprintf(v, sizeof(v), "%d C", d->temp);
		snprintf(e, sizeof(e), "< %d C (slowdown)", d->temp_slowdown);
		if (d->temp >= d->temp_slowdown)
			fd_report_addv(rep, "gpu.thermal", FD_FAIL, "GPU_THERMAL", s, v, e,
				       "at or above its slowdown temperature");
		else
			fd_report_addv(rep, "gpu.thermal", FD_PASS, NULL, s, v, e,
				       "below slowdown");
	}
	if (d->reasons >= 0) {
		static const struct {
			long long bit;
			const char *name;
		} bad[] = {
		    {FD_NVML_REASON_HW_SLOWDOWN, "hardware slowdown"},
		    {FD_NVML_REASON_HW_THERMAL, "hardware thermal"},
		    {FD_NVML_REASON_SW_THERMAL, "software thermal"},
		    {FD_NVML_REASON_HW_POWER_BRAKE, "power brake"},
		};
		size_t off = 0;
		v[0] = '\0';
		/* idle, application clocks and power capping are normal: not judged */
		for (size_t i = 0; i < FD_ARRAY_SIZE(bad); i++)
			if ((d->reasons & bad[i].bit) && off < sizeof(v))
				off += (size_t)snprintf(v + off, sizeof(v) - off, "%s%s",
							off ? ", " : "", bad[i].name);
		if (off) {
			snprintf(m, sizeof(m), "clocks held down: %s (reasons 0x%llx)", v,
				 (unsigned long long)d->reasons);
			fd_report_addv(rep, "gpu.clocks", FD_FAIL, "GPU_CLOCKS_THROTTLED", s, v,
				       "none", "%s", m);
		} else {
			fd_report_addv(rep, "gpu.clocks", FD_PASS, NULL, s, "not throttled", "none",
				       "no hardware, thermal or power-brake slowdown");
		}
	}
	if (d->pcie_width > 0 && d->pcie_max > 0) {
		snprintf(v, sizeof(v), "x%d", d->pcie_width);
		snprintf(e, sizeof(e), "x%d", d->pcie_max);
		if (d->pcie_width < d->pcie_max)
			fd_report_addv(rep, "gpu.pcie", FD_FAIL, "GPU_PCIE_DEGRADED", s, v, e,
				       "PCIe link narrower than the GPU's maximum");
		else
			fd_report_addv(rep, "gpu.pcie", FD_PASS, NULL, s, v, e, "full PCIe width");
	}
	if (d->nvlink_total > 0) {
		snprintf(v, sizeof(v), "%d/%d active", d->nvlink_active, d->nvlink_total);
		snprintf(e, sizeof(e), "%d/%d active", d->nvlink_total, d->nvlink_total);
		if (d->nvlink_active < d->nvlink_total)
			fd_report_addv(rep, "gpu.nvlink", FD_FAIL, "GPU_NVLINK_DOWN", s, v, e,
				       "NVLinks down");
		else
			fd_report_addv(rep, "gpu.nvlink", FD_PASS, NULL, s, v, e,
				       "all NVLinks active");
	}
	if (d->procs >= 0) {
		snprintf(v, sizeof(v), "%d processes", d->procs);
		if (d->procs > 0)
			fd_report_addv(
			    rep, "gpu.busy", FD_FAIL, "GPU_BUSY", s, v, "0 processes",
			    "compute processes already hold this GPU (a leftover of a killed job?)");
		else
			fd_report_addv(rep, "gpu.busy", FD_PASS, NULL, s, v, "0 processes",
				       "no compute process");
	}
	if (d->mig >= 0 && cfg->expect_mig >= 0 && d->mig != cfg->expect_mig)
		fd_report_addv(rep, "gpu.mig", FD_FAIL, "GPU_MIG_MODE", s, d->mig ? "on" : "off",
			       cfg->expect_mig ? "on" : "off",
			       "MIG mode differs from --expect-mig");
	if (d->persistence == 0)
		fd_report_addv(rep, "gpu.persist", FD_WARN, "GPU_PERSISTENCE_OFF", s, "off", "on",
			       "persistence mode off");
}

void gpu_judge_nvml(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct gpu_nvml_facts *f = facts;
	char v[96], e[96], m[256];

	if (f->rc) {
		if (f->pci_gpus == 0) {
			fd_report_add(rep, "gpu.nvml", FD_SKIP, NULL, "nvml",
				      "no NVIDIA GPU on the PCI bus; NVML: %s", f->why);
			return;
		}
		snprintf(m, sizeof(m), "%d NVIDIA GPUs on the PCI bus but NVML is unusable: %s",
			 f->pci_gpus, f->why);
		fd_report_addv(rep, "gpu.nvml", FD_FAIL, "GPU_DRIVER_NOT_LOADED", "nvml", f->why,
			       "NVML loads", "%s", m);
		return;
	}
	/* NVML against the bus; the bus against --expect-gpus is gpu.count's job. */
	int want = f->pci_gpus;
	snprintf(v, sizeof(v), "%u", f->count);
	snprintf(e, sizeof(e), "%d", want);
	if ((int)f->count != want) {
		snprintf(m, sizeof(m), "NVML sees %u GPUs, the PCI bus has %d", f->count, want);
		fd_report_addv(rep, "gpu.nvml", FD_FAIL, "GPU_COUNT", "nvml", v, e, "%s", m);
	} else {
		snprintf(m, sizeof(m), "driver %s, CUDA %d.%d, %u GPUs", f->driver, f->cuda / 1000,
			 f->cuda % 1000 / 10, f->count);
		fd_report_addv(rep, "gpu.nvml", FD_PASS, NULL, "nvml", v, e, "%s", m);
	}
	/* The CUDA the driver supports against what flightdeck-gpubench was built with: a CUDA
	 * runtime runs on drivers of its own major version or later (minor compatibility). */
	if (FD_CUDA_BUILD_VERSION && f->cuda > 0) {
		int want_major = FD_CUDA_BUILD_VERSION / 1000;

		snprintf(v, sizeof(v), "CUDA %d.%d", f->cuda / 1000, f->cuda % 1000 / 10);
		snprintf(e, sizeof(e), ">= CUDA %d.0", want_major);
		if (f->cuda / 1000 < want_major)
			fd_report_addv(rep, "gpu.cuda", FD_WARN, "GPU_CUDA_DRIVER_OLD", "driver", v,
				       e,
				       "driver %s supports %s; flightdeck-gpubench was built with "
				       "CUDA %d.%d and cannot run on it",
				       f->driver, v, want_major, FD_CUDA_BUILD_VERSION % 1000 / 10);
		else
			fd_report_addv(
			    rep, "gpu.cuda", FD_PASS, NULL, "driver", v, e,
			    "driver %s supports %s; the kernels were built with CUDA %d.%d",
			    f->driver, v, want_major, FD_CUDA_BUILD_VERSION % 1000 / 10);
	}
	for (unsigned i = 0; i < f->count && i < GPU_NVML_MAX; i++)
		judge_device(&f->dev[i], cfg, rep);
}
