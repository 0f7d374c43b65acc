/*
 * nvml.h - the slice of NVML that flightdeck uses, declared here and loaded with dlopen.
 *
 * NVML is never linked: on a node whose driver is broken or absent (the kernel-update
 * incident) the binary must still start and say why. FLIGHTDECK_NVML_LIB names another
 * library to load, which is how tests/helpers/fake_nvml.c answers from a fixture file.
 *
 * Only the entry points and layouts below are relied on; they are stable across NVML
 * releases (the _v2/_v3 names are the ABI-versioned symbols the header maps to).
 */
#ifndef FD_NVML_H
#define FD_NVML_H

#include <stddef.h>

typedef int fd_nvmlReturn_t;
typedef struct fd_nvmlDevice_st *fd_nvmlDevice_t;

/* nvmlReturn_t values used */
#define FD_NVML_SUCCESS			0
#define FD_NVML_ERROR_NOT_SUPPORTED	3
#define FD_NVML_ERROR_INSUFFICIENT_SIZE 7
#define FD_NVML_ERROR_DRIVER_NOT_LOADED 9

/* nvmlPciInfo_t (the layout of nvmlDeviceGetPciInfo_v3) */
struct fd_nvmlPciInfo {
	char busIdLegacy[16];
	unsigned int domain, bus, device;
	unsigned int pciDeviceId; /* device id << 16 | vendor id */
	unsigned int pciSubSystemId;
	char busId[32]; /* "00000000:18:00.0" */
};

/* clock event ("throttle") reasons: the bits that mean the hardware is holding clocks down */
#define FD_NVML_REASON_HW_SLOWDOWN    0x08ULL
#define FD_NVML_REASON_SW_THERMAL     0x20ULL
#define FD_NVML_REASON_HW_THERMAL     0x40ULL
#define FD_NVML_REASON_HW_POWER_BRAKE 0x80ULL
#define FD_NVML_NVLINK_MAX_LINKS      18

struct fd_nvmlMemory { /* nvmlMemory_t (v1) */
	unsigned long long total, free, used;
};

struct fd_nvml {
	void *lib;
	fd_nvmlReturn_t (*Init)(void);
	fd_nvmlReturn_t (*Shutdown)(void);
	const char *(*ErrorString)(fd_nvmlReturn_t);
	fd_nvmlReturn_t (*SystemGetDriverVersion)(char *, unsigned int);
	fd_nvmlReturn_t (*SystemGetCudaDriverVersion)(int *);
	fd_nvmlReturn_t (*DeviceGetCount)(unsigned int *);
	fd_nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned int, fd_nvmlDevice_t *);
	fd_nvmlReturn_t (*DeviceGetName)(fd_nvmlDevice_t, char *, unsigned int);
	fd_nvmlReturn_t (*DeviceGetPciInfo)(fd_nvmlDevice_t, struct fd_nvmlPciInfo *);
	fd_nvmlReturn_t (*DeviceGetPersistenceMode)(fd_nvmlDevice_t, int *);
	fd_nvmlReturn_t (*DeviceGetEccMode)(fd_nvmlDevice_t, int *, int *);
	fd_nvmlReturn_t (*DeviceGetTotalEccErrors)(fd_nvmlDevice_t, int, int, unsigned long long *);
	fd_nvmlReturn_t (*DeviceGetRetiredPagesPendingStatus)(fd_nvmlDevice_t, int *);
	fd_nvmlReturn_t (*DeviceGetRemappedRows)(fd_nvmlDevice_t, unsigned int *, unsigned int *,
						 unsigned int *, unsigned int *);
	fd_nvmlReturn_t (*DeviceGetTemperature)(fd_nvmlDevice_t, int, unsigned int *);
	fd_nvmlReturn_t (*DeviceGetTemperatureThreshold)(fd_nvmlDevice_t, int, unsigned int *);
	fd_nvmlReturn_t (*DeviceGetClocksEventReasons)(fd_nvmlDevice_t, unsigned long long *);
	fd_nvmlReturn_t (*DeviceGetCurrPcieLinkWidth)(fd_nvmlDevice_t, unsigned int *);
	fd_nvmlReturn_t (*DeviceGetMaxPcieLinkWidth)(fd_nvmlDevice_t, unsigned int *);
	fd_nvmlReturn_t (*DeviceGetNvLinkState)(fd_nvmlDevice_t, unsigned int, int *);
	/* called with a NULL array: only the count of compute processes is wanted */
	fd_nvmlReturn_t (*DeviceGetComputeRunningProcesses)(fd_nvmlDevice_t, unsigned int *,
							    void *);
	fd_nvmlReturn_t (*DeviceGetMigMode)(fd_nvmlDevice_t, unsigned int *, unsigned int *);
	fd_nvmlReturn_t (*DeviceGetMemoryInfo)(fd_nvmlDevice_t, struct fd_nvmlMemory *);
};

/*
 * Loads the library (FLIGHTDECK_NVML_LIB or libnvidia-ml.so.1), resolves the entry points and
 * calls nvmlInit. On failure returns -errno-like code and writes why into `why` (dlerror's
 * text, or NVML's own error string such as "Driver Not Loaded").
 */
int fd_nvml_open(struct fd_nvml *n, char *why, size_t len);
void fd_nvml_close(struct fd_nvml *n);

/*
 * The process's one NVML session, for every caller in the process (the GPU checks, memfit's
 * free-memory query): NVML is loaded and initialised by the first call only, and shut down
 * and unloaded at exit (or by fd_nvml_session_end). A failure is remembered as well, so every
 * caller gets the same answer and the same why, and a broken driver is not probed twice.
 * *out stays valid until fd_nvml_session_end; the caller never closes it. Not thread-safe:
 * call from the main thread, as flightdeck does.
 */
int fd_nvml_session(struct fd_nvml **out, char *why, size_t len);
void fd_nvml_session_end(void);
const char *fd_nvml_error(const struct fd_nvml *n, fd_nvmlReturn_t r);

#endif
