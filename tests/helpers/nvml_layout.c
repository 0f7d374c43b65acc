/*
 * nvml_layout.c - prints what the compiler makes of checks/hw/nvml.h, one fact a line, for
 * tests/helpers/nvml_vs_pynvml.py to hold against NVIDIA's own Python bindings (pynvml):
 *
 *   type   C-NAME PYNVML-NAME SIZE
 *   struct C-NAME PYNVML-NAME SIZE
 *   field  PYNVML-STRUCT FIELD OFFSET SIZE ELEMENT-SIZE COUNT   (COUNT 0: not an array)
 *   const  C-NAME PYNVML-NAME VALUE
 *   symbol FIELD NAME                                          (each name an entry point has)
 *
 * Each line names the pynvml counterpart of a declaration; the checker also makes sure that
 * every struct and constant of the header has a line here.
 */
#include <stddef.h>
#include <stdio.h>

#include "nvml.h"

#define TYPE(c, py)   printf("type %s %s %zu\n", #c, #py, sizeof(c))
#define STRUCT(c, py) printf("struct %s %s %zu\n", #c, #py, sizeof(struct c))
#define FIELD(c, py, f)                                                                            \
	printf("field %s %s %zu %zu %zu 0\n", #py, #f, offsetof(struct c, f),                      \
	       sizeof(((struct c *)0)->f), sizeof(((struct c *)0)->f))
#define ARRAY(c, py, f)                                                                            \
	printf("field %s %s %zu %zu %zu %zu\n", #py, #f, offsetof(struct c, f),                    \
	       sizeof(((struct c *)0)->f), sizeof(((struct c *)0)->f[0]),                          \
	       sizeof(((struct c *)0)->f) / sizeof(((struct c *)0)->f[0]))
#define CONST(c, py) printf("const %s %s %llu\n", #c, #py, (unsigned long long)(c))

static void names(const char *field, const char *const *n)
{
	for (; *n; n++)
		printf("symbol %s %s\n", field, *n);
}

#define SYMBOL(field, req, ...) names(#field, (const char *const[]){__VA_ARGS__, NULL});

int main(void)
{
	TYPE(fd_nvmlReturn_t, _nvmlReturn_t);
	TYPE(fd_nvmlDevice_t, c_nvmlDevice_t);

	STRUCT(fd_nvmlPciInfo, nvmlPciInfo_t);
	ARRAY(fd_nvmlPciInfo, nvmlPciInfo_t, busIdLegacy);
	FIELD(fd_nvmlPciInfo, nvmlPciInfo_t, domain);
	FIELD(fd_nvmlPciInfo, nvmlPciInfo_t, bus);
	FIELD(fd_nvmlPciInfo, nvmlPciInfo_t, device);
	FIELD(fd_nvmlPciInfo, nvmlPciInfo_t, pciDeviceId);
	FIELD(fd_nvmlPciInfo, nvmlPciInfo_t, pciSubSystemId);
	ARRAY(fd_nvmlPciInfo, nvmlPciInfo_t, busId);

	STRUCT(fd_nvmlMemory, c_nvmlMemory_t);
	FIELD(fd_nvmlMemory, c_nvmlMemory_t, total);
	FIELD(fd_nvmlMemory, c_nvmlMemory_t, free);
	FIELD(fd_nvmlMemory, c_nvmlMemory_t, used);

	CONST(FD_NVML_SUCCESS, NVML_SUCCESS);
	CONST(FD_NVML_ERROR_INVALID_ARGUMENT, NVML_ERROR_INVALID_ARGUMENT);
	CONST(FD_NVML_ERROR_NOT_SUPPORTED, NVML_ERROR_NOT_SUPPORTED);
	CONST(FD_NVML_ERROR_INSUFFICIENT_SIZE, NVML_ERROR_INSUFFICIENT_SIZE);
	CONST(FD_NVML_ERROR_DRIVER_NOT_LOADED, NVML_ERROR_DRIVER_NOT_LOADED);
	CONST(FD_NVML_DEVICE_NAME_V2_BUFFER_SIZE, NVML_DEVICE_NAME_V2_BUFFER_SIZE);
	CONST(FD_NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE, NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE);
	CONST(FD_NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE, NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE);
	CONST(FD_NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE, NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE);
	CONST(FD_NVML_TEMPERATURE_GPU, NVML_TEMPERATURE_GPU);
	CONST(FD_NVML_TEMPERATURE_THRESHOLD_SLOWDOWN, NVML_TEMPERATURE_THRESHOLD_SLOWDOWN);
	CONST(FD_NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_MEMORY_ERROR_TYPE_UNCORRECTED);
	CONST(FD_NVML_VOLATILE_ECC, NVML_VOLATILE_ECC);
	CONST(FD_NVML_REASON_HW_SLOWDOWN, nvmlClocksEventReasonHwSlowdown);
	CONST(FD_NVML_REASON_SW_THERMAL, nvmlClocksEventReasonSwThermalSlowdown);
	CONST(FD_NVML_REASON_HW_THERMAL, nvmlClocksEventReasonHwThermalSlowdown);
	CONST(FD_NVML_REASON_HW_POWER_BRAKE, nvmlClocksEventReasonHwPowerBrakeSlowdown);
	CONST(FD_NVML_NVLINK_MAX_LINKS, NVML_NVLINK_MAX_LINKS);

	FD_NVML_SYMBOLS(SYMBOL)
	return fflush(stdout) ? 1 : 0;
}
