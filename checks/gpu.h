/*
 * gpu.h - GPU facts that need no driver: NVIDIA functions on the PCI bus, whether the
 * nvidia module is loaded and bound to them, and Xid errors in the kernel log.
 *
 * Presence comes from PCI sysfs (vendor 0x10de, class 0x0300xx VGA or 0x0302xx 3D), never
 * from the driver, so "GPUs present, driver gone" (the kernel-update incident) is told
 * apart from "no GPU here".
 */
#ifndef FD_GPU_H
#define FD_GPU_H

#include <stdint.h>

#include "check.h"
#include "nvml.h"

#define GPU_MAX_DEVS 64

struct gpu_pci_dev {
	char bdf[24];	 /* "0000:1b:00.0" */
	unsigned device; /* PCI device id: 0x2330 is H100 SXM5 80GB */
	unsigned class;	 /* 0x030200 */
	char driver[32]; /* the bound driver ("nvidia", "nouveau", "vfio-pci"); "" = none */
};

struct gpu_pci_facts {
	struct gpu_pci_dev dev[GPU_MAX_DEVS];
	size_t n;
	int module_loaded;	 /* PROC/driver/nvidia/version exists */
	char driver_version[96]; /* "550.54.15" */
	char kernel[96];	 /* PROC/sys/kernel/osrelease: the running kernel */
};

int gpu_probe_pci(struct fd_probe_ctx *ctx, void *facts);
void gpu_judge_pci(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
/* How many NVIDIA GPUs PCI sysfs shows (what NVML and gpubench should see); 0 or -errno. */
int gpu_pci_count(struct fd_probe_ctx *ctx, int *n);

struct xid_event {
	char pci[24]; /* as the driver prints it: "0000:3b:00" */
	int xid;
	int64_t age_ms; /* -1 = unknown (a log line without timestamp, or no uptime) */
	char text[160];
};

struct xid_facts {
	int log_rc; /* 0, or why the kernel log could not be read (skip) */
	struct xid_event *ev;
	size_t n;
};

int gpu_probe_xid(struct fd_probe_ctx *ctx, void *facts);
void gpu_judge_xid(const void *facts, const struct fd_config *cfg, struct fd_report *rep);
void gpu_release_xid(void *facts);

/* Parses "NVRM: Xid (PCI:0000:3b:00): 79, ..." ; 0 on a match (exposed for unit tests). */
int gpu_parse_xid(const char *text, char *pci, size_t pcilen, int *xid);

/*
 * The newest Xid in log at most within_ms old and not in app (the codes a job's own fault
 * raises): "Xid 79 (GPU has fallen off the bus) on 0000:3b:00, 2.0 s ago (since the job
 * started)" in out, and 1; 0 when there is none (a line without a timestamp is not known to
 * be that recent). For a stall's verdict on the machine (supervisor/stacks.c).
 */
struct fd_kmsg_log;
int gpu_xid_since(const struct fd_kmsg_log *log, const int *app, size_t napp, int64_t within_ms,
		  char *out, size_t len);

/* What NVIDIA's Xid catalogue calls the common ones; NULL when not in the short list. */
const char *gpu_xid_name(int xid);

/* ---- GPU health through NVML (checks/gpu_nvml.c) ------------------------------------ */

#define GPU_NVML_MAX 16

struct gpu_nvml_dev {
	char bus_id[32]; /* "0000:18:00.0", normalised to the sysfs form */
	char name[FD_NVML_DEVICE_NAME_V2_BUFFER_SIZE];
	int persistence;     /* 1 on, 0 off; -1 unknown (here and below: not supported) */
	int ecc;	     /* current ECC mode */
	long long ecc_unc;   /* volatile uncorrectable ECC errors */
	int retired_pending; /* retired pages waiting for a reset (pre-Ampere) */
	int remap_known;
	unsigned remap_pending, remap_failure, remap_unc;
	int temp, temp_slowdown; /* degrees C */
	long long reasons;	 /* clock event reasons bitmask */
	int pcie_width, pcie_max;
	int nvlink_total, nvlink_active; /* links that answered, and those active */
	int procs;			 /* compute processes holding the GPU */
	int mig;			 /* current MIG mode */
};

struct gpu_nvml_facts {
	int pci_gpus; /* NVIDIA GPUs in PCI sysfs: what NVML should see */
	int rc;	      /* 0 loaded; else why is set */
	char why[256];
	char driver[FD_NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
	int cuda; /* CUDA version the driver supports, 12040 = 12.4; 0 unknown */
	unsigned count;
	struct gpu_nvml_dev dev[GPU_NVML_MAX];
};

int gpu_probe_nvml(struct fd_probe_ctx *ctx, void *facts);
void gpu_judge_nvml(const void *facts, const struct fd_config *cfg, struct fd_report *rep);

#endif
