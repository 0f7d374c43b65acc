/*
 * fake_nvml.c - a stand-in for libnvidia-ml.so.1 whose answers come from a fixture file, so
 * every GPU judgement is tested on machines without GPUs (DCGM's nvml-injection idea).
 * flightdeck loads it through FLIGHTDECK_NVML_LIB; the fixture is named by FAKE_NVML_FIXTURE.
 *
 * Fixture: "key = value" lines, '#' comments; a later line overrides an earlier one, so a
 * failure fixture is the healthy one followed by a few lines. Keys:
 *   init = N                 nvmlInit's return code (9: driver not loaded, 18: mismatch)
 *   driver = 550.54.15       cuda = 12040       count = 8
 *   gpu.I.KEY / gpu.*.KEY    per GPU I, or every GPU; KEY is one of
 *     busid name persistence ecc ecc_unc retired_pending remap_unc remap_pending
 *     remap_failure temp temp_slowdown reasons pcie_width pcie_max nvlinks nvlinks_active
 *     procs mig mem_total mem_used (bytes)
 *   A value "unsupported" makes that query return NOT_SUPPORTED.
 * Without FAKE_NVML_FIXTURE, nvmlInit fails as if the driver were not loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml.h" /* the layouts and return codes flightdeck expects */

#define OK	    FD_NVML_SUCCESS
#define UNSUPPORTED FD_NVML_ERROR_NOT_SUPPORTED
#define INVALID	    FD_NVML_ERROR_INVALID_ARGUMENT
#define SMALL	    FD_NVML_ERROR_INSUFFICIENT_SIZE

static struct kv {
	char key[64], val[128];
} kvs[512];
static int nkv, loaded;

static void load(void)
{
	const char *path = getenv("FAKE_NVML_FIXTURE");
	char line[256];
	FILE *f;

	if (loaded)
		return;
	loaded = 1;
	if (!path || !(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f) && nkv < 512) {
		char *h = strchr(line, '#'), *eq, *k, *v, *e;
		if (h)
			*h = '\0';
		if (!(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		for (e = k + strlen(k); e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			*(e - 1) = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t');
		     e--)
			*(e - 1) = '\0';
		snprintf(kvs[nkv].key, sizeof(kvs[0].key), "%s", k);
		snprintf(kvs[nkv].val, sizeof(kvs[0].val), "%s", v);
		nkv++;
	}
	fclose(f);
}

static const char *get(const char *key)
{
	load();
	for (int i = nkv - 1; i >= 0; i--)
		if (!strcmp(kvs[i].key, key))
			return kvs[i].val;
	return NULL;
}

/* gpu.I.KEY, then gpu.*.KEY, then the default */
static const char *gget(int idx, const char *key, const char *def)
{
	char k[96];
	const char *v;
	snprintf(k, sizeof(k), "gpu.%d.%s", idx, key);
	if ((v = get(k)))
		return v;
	snprintf(k, sizeof(k), "gpu.*.%s", key);
	return (v = get(k)) ? v : def;
}

/* Reads an unsigned GPU value; returns NOT_SUPPORTED for "unsupported". */
static int gnum(int idx, const char *key, const char *def, unsigned long long *out)
{
	const char *v = gget(idx, key, def);
	if (!strcmp(v, "unsupported"))
		return UNSUPPORTED;
	*out = strtoull(v, NULL, 0);
	return OK;
}

static int count(void)
{
	const char *v = get("count");
	return v ? atoi(v) : 0;
}

#define IDX(dev) ((int)(long)(dev)-1)
#define CHECKDEV(dev)                                                                              \
	if (!(dev) || IDX(dev) < 0 || IDX(dev) >= count())                                         \
	return INVALID

/* Calls of nvmlInit and nvmlShutdown, for tests that count sessions (dlsym these). */
int fake_nvml_inits, fake_nvml_shutdowns;

int nvmlInit_v2(void)
{
	const char *v;
	fake_nvml_inits++;
	if (!getenv("FAKE_NVML_FIXTURE"))
		return FD_NVML_ERROR_DRIVER_NOT_LOADED;
	return (v = get("init")) ? atoi(v) : OK;
}

int nvmlShutdown(void)
{
	fake_nvml_shutdowns++;
	return OK;
}

const char *nvmlErrorString(int r)
{
	switch (r) {
	case 0:
		return "Success";
	case 3:
		return "Not Supported";
	case 9:
		return "Driver Not Loaded";
	case 12:
		return "NVML Shared Library Not Found";
	case 15:
		return "GPU is lost";
	case 18:
		return "Driver/library version mismatch";
	default:
		return "Unknown Error";
	}
}

int nvmlSystemGetDriverVersion(char *buf, unsigned len)
{
	const char *v = get("driver");
	snprintf(buf, len, "%s", v ? v : "550.54.15");
	return OK;
}

int nvmlSystemGetCudaDriverVersion_v2(int *v)
{
	const char *s = get("cuda");
	*v = s ? atoi(s) : 12040;
	return OK;
}

int nvmlDeviceGetCount_v2(unsigned *n)
{
	*n = (unsigned)count();
	return OK;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **dev)
{
	if ((int)i >= count())
		return INVALID;
	*dev = (void *)(long)(i + 1);
	return OK;
}

int nvmlDeviceGetName(void *dev, char *buf, unsigned len)
{
	CHECKDEV(dev);
	snprintf(buf, len, "%s", gget(IDX(dev), "name", "NVIDIA H100 80GB HBM3"));
	return OK;
}

int nvmlDeviceGetPciInfo_v3(void *dev, struct fd_nvmlPciInfo *p)
{
	char def[32];
	CHECKDEV(dev);
	memset(p, 0, sizeof(*p));
	snprintf(def, sizeof(def), "00000000:%02X:00.0", 0x18 + IDX(dev));
	snprintf(p->busId, sizeof(p->busId), "%s", gget(IDX(dev), "busid", def));
	p->pciDeviceId = 0x233010de;
	return OK;
}

#define SIMPLE(fn, key, def, type)                                                                 \
	int fn(void *dev, type *out)                                                               \
	{                                                                                          \
		unsigned long long v;                                                              \
		CHECKDEV(dev);                                                                     \
		int r = gnum(IDX(dev), key, def, &v);                                              \
		if (r == OK)                                                                       \
			*out = (type)v;                                                            \
		return r;                                                                          \
	}

SIMPLE(nvmlDeviceGetPersistenceMode, "persistence", "1", int)
SIMPLE(nvmlDeviceGetRetiredPagesPendingStatus, "retired_pending", "0", int)
SIMPLE(nvmlDeviceGetCurrentClocksEventReasons, "reasons", "0x1", unsigned long long)
SIMPLE(nvmlDeviceGetCurrPcieLinkWidth, "pcie_width", "16", unsigned)
SIMPLE(nvmlDeviceGetMaxPcieLinkWidth, "pcie_max", "16", unsigned)

int nvmlDeviceGetEccMode(void *dev, int *cur, int *pend)
{
	unsigned long long v;
	CHECKDEV(dev);
	int r = gnum(IDX(dev), "ecc", "1", &v);
	if (r == OK)
		*cur = *pend = (int)v;
	return r;
}

int nvmlDeviceGetTotalEccErrors(void *dev, int type, int counter, unsigned long long *n)
{
	CHECKDEV(dev);
	if (type != 1 || counter != 0) /* only uncorrected, volatile is modelled */
		return UNSUPPORTED;
	return gnum(IDX(dev), "ecc_unc", "0", n);
}

int nvmlDeviceGetRemappedRows(void *dev, unsigned *corr, unsigned *unc, unsigned *pend,
			      unsigned *fail)
{
	unsigned long long a, b, c;
	CHECKDEV(dev);
	int r = gnum(IDX(dev), "remap_unc", "0", &a);
	if (r == OK)
		r = gnum(IDX(dev), "remap_pending", "0", &b);
	if (r == OK)
		r = gnum(IDX(dev), "remap_failure", "0", &c);
	if (r == OK) {
		*corr = 0;
		*unc = (unsigned)a;
		*pend = (unsigned)b;
		*fail = (unsigned)c;
	}
	return r;
}

int nvmlDeviceGetTemperature(void *dev, int sensor, unsigned *t)
{
	unsigned long long v;
	CHECKDEV(dev);
	if (sensor != 0)
		return INVALID;
	int r = gnum(IDX(dev), "temp", "35", &v);
	if (r == OK)
		*t = (unsigned)v;
	return r;
}

int nvmlDeviceGetTemperatureThreshold(void *dev, int which, unsigned *t)
{
	unsigned long long v;
	CHECKDEV(dev);
	if (which != 1) /* slowdown */
		return UNSUPPORTED;
	int r = gnum(IDX(dev), "temp_slowdown", "87", &v);
	if (r == OK)
		*t = (unsigned)v;
	return r;
}

int nvmlDeviceGetNvLinkState(void *dev, unsigned link, int *active)
{
	unsigned long long total, on = 0;
	CHECKDEV(dev);
	int r = gnum(IDX(dev), "nvlinks", "18", &total);
	if (r != OK)
		return r;
	if (link >= total)
		return UNSUPPORTED;
	r = gnum(IDX(dev), "nvlinks_active", gget(IDX(dev), "nvlinks", "18"), &on);
	*active = link < on;
	return r;
}

int nvmlDeviceGetComputeRunningProcesses_v3(void *dev, unsigned *n, void *infos)
{
	unsigned long long v;
	CHECKDEV(dev);
	int r = gnum(IDX(dev), "procs", "0", &v);
	if (r != OK)
		return r;
	if (v > *n || (v && !infos)) {
		*n = (unsigned)v;
		return SMALL;
	}
	*n = (unsigned)v;
	return OK; /* the fake never fills process records */
}

int nvmlDeviceGetMigMode(void *dev, unsigned *cur, unsigned *pend)
{
	unsigned long long v;
	CHECKDEV(dev);
	int r = gnum(IDX(dev), "mig", "0", &v);
	if (r == OK)
		*cur = *pend = (unsigned)v;
	return r;
}

int nvmlDeviceGetMemoryInfo(void *dev, struct fd_nvmlMemory *m)
{
	unsigned long long total, used;
	CHECKDEV(dev);
	int r = gnum(IDX(dev), "mem_total", "85520809984", &total);
	if (r == OK)
		r = gnum(IDX(dev), "mem_used", "553648128", &used);
	if (r == OK) {
		m->total = total;
		m->used = used;
		m->free = total - used;
	}
	return r;
}
