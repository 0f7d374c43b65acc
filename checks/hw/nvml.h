/*
 * nvml.h - the slice of NVML that flightdeck uses, declared here and loaded with dlopen.
 *
 * NVML is never linked: on a node whose driver is broken or absent (the kernel-update
 * incident) the binary must still start and say why. FLIGHTDECK_NVML_LIB names another
 * library to load, which is how tests/helpers/fake_nvml.c answers from a fixture file.
 *
 * Only the entry points and layouts below are relied on; they are stable across NVML
 * releases (the _v2/_v3 names are the ABI-versioned symbols the header maps to). Every struct,
 * constant and symbol name here is held to NVIDIA's Python bindings by
 * tests/integration/t0037-nvml-pynvml.sh: one added here needs its line in
 * tests/helpers/nvml_layout.c, or that test fails.
 */
#ifndef FD_NVML_H
#define FD_NVML_H

#include <stddef.h>

typedef int fd_nvmlReturn_t;
typedef struct fd_nvmlDevice_st *fd_nvmlDevice_t;

/* nvmlReturn_t values used (INVALID_ARGUMENT by the fake library only) */
#define FD_NVML_SUCCESS			0
#define FD_NVML_ERROR_INVALID_ARGUMENT	2
#define FD_NVML_ERROR_NOT_SUPPORTED	3
#define FD_NVML_ERROR_INSUFFICIENT_SIZE 7
#define FD_NVML_ERROR_DRIVER_NOT_LOADED 9

/* buffer sizes: NVML answers INSUFFICIENT_SIZE to a smaller buffer */
#define FD_NVML_DEVICE_NAME_V2_BUFFER_SIZE	  96
#define FD_NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define FD_NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE	  32
#define FD_NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE  16

/* enum values passed to NVML */
#define FD_NVML_TEMPERATURE_GPU		       0 /* nvmlTemperatureSensors_t */
#define FD_NVML_TEMPERATURE_THRESHOLD_SLOWDOWN 1 /* nvmlTemperatureThresholds_t */
#define FD_NVML_MEMORY_ERROR_TYPE_UNCORRECTED  1 /* nvmlMemoryErrorType_t */
#define FD_NVML_VOLATILE_ECC		       0 /* nvmlEccCounterType_t */

/* nvmlPciInfo_t (the layout of nvmlDeviceGetPciInfo_v3) */
struct fd_nvmlPciInfo {
	char busIdLegacy[FD_NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
	unsigned int domain, bus, device;
	unsigned int pciDeviceId; /* device id << 16 | vendor id */
	unsigned int pciSubSystemId;
	char busId[FD_NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE]; /* "00000000:18:00.0" */
};

/* clock event ("throttle") reasons: the bits that mean the hardware is holding clocks down */
#define FD_NVML_REASON_HW_SLOWDOWN    0x08ULL
#define FD_NVML_REASON_SW_THERMAL     0x20ULL
#define FD_NVML_REASON_HW_THERMAL     0x40ULL
#define FD_NVML_REASON_HW_POWER_BRAKE 0x80ULL
#define FD_NVML_NVLINK_MAX_LINKS      36 /* the links probed per GPU */

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
 * The entry points: X(field, required, names...), the symbol names newer first. Required ones
 * missing make the load fail; optional ones stay NULL. The names are the ABI-versioned symbols
 * NVML's own header maps the plain names to, then the older ones for older drivers.
 */
#define FD_NVML_SYMBOLS(X)                                                                         \
	X(Init, 1, "nvmlInit_v2", "nvmlInit")                                                      \
	X(Shutdown, 1, "nvmlShutdown")                                                             \
	X(ErrorString, 1, "nvmlErrorString")                                                       \
	X(SystemGetDriverVersion, 1, "nvmlSystemGetDriverVersion")                                 \
	X(SystemGetCudaDriverVersion, 0, "nvmlSystemGetCudaDriverVersion_v2",                      \
	  "nvmlSystemGetCudaDriverVersion")                                                        \
	X(DeviceGetCount, 1, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")                        \
	X(DeviceGetHandleByIndex, 1, "nvmlDeviceGetHandleByIndex_v2",                              \
	  "nvmlDeviceGetHandleByIndex")                                                            \
	X(DeviceGetName, 1, "nvmlDeviceGetName")                                                   \
	X(DeviceGetPciInfo, 1, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2")               \
	X(DeviceGetPersistenceMode, 0, "nvmlDeviceGetPersistenceMode")                             \
	X(DeviceGetEccMode, 0, "nvmlDeviceGetEccMode")                                             \
	X(DeviceGetTotalEccErrors, 0, "nvmlDeviceGetTotalEccErrors")                               \
	X(DeviceGetRetiredPagesPendingStatus, 0, "nvmlDeviceGetRetiredPagesPendingStatus")         \
	X(DeviceGetRemappedRows, 0, "nvmlDeviceGetRemappedRows")                                   \
	X(DeviceGetTemperature, 0, "nvmlDeviceGetTemperature")                                     \
	X(DeviceGetTemperatureThreshold, 0, "nvmlDeviceGetTemperatureThreshold")                   \
	X(DeviceGetClocksEventReasons, 0, "nvmlDeviceGetCurrentClocksEventReasons",                \
	  "nvmlDeviceGetCurrentClocksThrottleReasons")                                             \
	X(DeviceGetCurrPcieLinkWidth, 0, "nvmlDeviceGetCurrPcieLinkWidth")                         \
	X(DeviceGetMaxPcieLinkWidth, 0, "nvmlDeviceGetMaxPcieLinkWidth")                           \
	X(DeviceGetNvLinkState, 0, "nvmlDeviceGetNvLinkState")                                     \
	X(DeviceGetComputeRunningProcesses, 0, "nvmlDeviceGetComputeRunningProcesses_v3",          \
	  "nvmlDeviceGetComputeRunningProcesses_v2")                                               \
	X(DeviceGetMigMode, 0, "nvmlDeviceGetMigMode")                                             \
	X(DeviceGetMemoryInfo, 0, "nvmlDeviceGetMemoryInfo")

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
