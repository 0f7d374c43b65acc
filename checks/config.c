/*
 * config.c - the tunables table: names, types, defaults, bounds, parsing and printing.
 *
 * Modelled on redis' config.c: one static table drives the command line, the config file,
 * --help and the printed configuration, so a new threshold is one row, not four edits.
 */
#include "config.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ttype {
	T_PATH,
	T_DURATION,
	T_SIZE,
	T_MEMLOCK, /* a size or "unlimited" */
	T_GBPS,
	T_UINT,
	T_GPUS, /* a count or "auto" */
	T_MIG,	/* "any", "on", "off" */
	T_XIDS,
};

struct tunable {
	struct fd_tunable_info info;
	enum ttype type;
	size_t off;   /* offsetof the value in struct fd_config */
	size_t n_off; /* T_XIDS: offsetof the element count */
	const char *def;
};

#define OFF(f) offsetof(struct fd_config, f)

/* Default Xid classes (docs/architecture.md, "Reference numbers"). Operators disagree on
 * 63/68/92: tunable. */
#define XID_FATAL_DEFAULT "48,63,64,74,79,92,94,95,119,120"
#define XID_APP_DEFAULT	  "13,31,43,45,68"

static const struct tunable tunables[] = {
    {{"sysfs-root", "DIR", "read class/infiniband, class/net, bus/pci from DIR (test seam)"},
     T_PATH,
     OFF(sysfs_root),
     0,
     "/sys"},
    {{"proc-root", "DIR", "read driver/nvidia, mounts, self/limits, uptime from DIR"},
     T_PATH,
     OFF(proc_root),
     0,
     "/proc"},
    {{"kmsg", "FILE", "scan FILE (kmsg records or dmesg text) instead of /dev/kmsg"},
     T_PATH,
     OFF(kmsg),
     0,
     "/dev/kmsg"},
    {{"shm-min", "SIZE", "fail when /dev/shm is smaller (DataLoader workers use it)"},
     T_SIZE,
     OFF(shm_min),
     0,
     "1GiB"},
    {{"memlock-min", "SIZE", "fail when the locked-memory limit is lower, on RDMA nodes"},
     T_MEMLOCK,
     OFF(memlock_min),
     0,
     "unlimited"},
    {{"checkpoint-dir", "DIR", "prove DIR writable (write, fsync, unlink) with free space"},
     T_PATH,
     OFF(checkpoint_dir),
     0,
     ""},
    {{"disk-min-free", "SIZE", "fail when the checkpoint directory has less free space"},
     T_SIZE,
     OFF(disk_min_free),
     0,
     "20GiB"},
    {{"expect-ib-rate", "GBPS", "expected IB port rate in Gb/s; 0 = best port of its kind"},
     T_GBPS,
     OFF(expect_ib_rate),
     0,
     "0"},
    {{"counter-window", "DUR", "read IB error counters twice this far apart; 0 = once"},
     T_DURATION,
     OFF(counter_window_ms),
     0,
     "1s"},
    {{"ib-flap-max", "N", "link-down events per RDMA device in --flap-window before failing"},
     T_UINT,
     OFF(ib_flap_max),
     0,
     "2"},
    {{"flap-window", "DUR", "how far back the kernel log is searched for link flaps"},
     T_DURATION,
     OFF(flap_window_ms),
     0,
     "24h"},
    {{"expect-gpus", "N", "expected GPU count; auto = the NVIDIA PCI functions found"},
     T_GPUS,
     OFF(expect_gpus),
     0,
     "auto"},
    {{"expect-mig", "MODE", "MIG mode every GPU must be in: on, off or any"},
     T_MIG,
     OFF(expect_mig),
     0,
     "any"},
    {{"gpubench", "PATH", "the flightdeck-gpubench to run (default: beside flightdeck)"},
     T_PATH,
     OFF(gpubench),
     0,
     ""},
    {{"gpubench-timeout", "DUR", "kill gpubench (a hung GPU or NCCL) after this long"},
     T_DURATION,
     OFF(gpubench_timeout_ms),
     0,
     "120s"},
    {{"expect-hbm-bw", "GBPS", "HBM bandwidth floor in GB/s; 0 = the table for the model"},
     T_GBPS,
     OFF(expect_hbm_bw),
     0,
     "0"},
    {{"expect-busbw", "GBPS", "NCCL allreduce busbw floor in GB/s; 0 = the table (8 GPUs)"},
     T_GBPS,
     OFF(expect_busbw),
     0,
     "0"},
    {{"expect-p2p-busbw", "GBPS",
      "custom P2P allreduce busbw floor (0: half the model's NCCL floor)"},
     T_GBPS,
     OFF(expect_p2p_busbw),
     0,
     "0"},
    {{"xid-window", "DUR", "Xids older than this warn instead of failing"},
     T_DURATION,
     OFF(xid_window_ms),
     0,
     "24h"},
    {{"xid-fatal", "LIST", "Xids that make the node unfit (comma-separated)"},
     T_XIDS,
     OFF(xid_fatal),
     OFF(n_xid_fatal),
     XID_FATAL_DEFAULT},
    {{"xid-app", "LIST", "Xids that are usually the application's fault (warn)"},
     T_XIDS,
     OFF(xid_app),
     OFF(n_xid_app),
     XID_APP_DEFAULT},
    {{"memfit", "OPTIONS",
      "the job as `flightdeck memfit` options; fail MEMFIT_OOM if it cannot fit"},
     T_PATH,
     OFF(memfit),
     0,
     ""},
};

static const struct tunable *lookup(const char *name)
{
	for (size_t i = 0; i < FD_ARRAY_SIZE(tunables); i++)
		if (strcmp(tunables[i].info.name, name) == 0)
			return &tunables[i];
	return NULL;
}

static int parse_gbps(const char *s, double *out)
{
	/* "400", "400G", "400Gb/s", "400 Gb/sec" (as sysfs prints it) */
	char *end;
	double v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	v = strtod(s, &end);
	while (*end == ' ')
		end++;
	if (*end && strcasecmp(end, "g") && strcasecmp(end, "gb/s") && strcasecmp(end, "gbps") &&
	    strcasecmp(end, "gb/sec"))
		return -EINVAL;
	if (!(v >= 0 && v < 1e6))
		return -ERANGE;
	*out = v;
	return 0;
}

static int set_one(struct fd_config *cfg, const struct tunable *t, const char *v, char *err,
		   size_t errlen)
{
	char *base = (char *)cfg;
	const char *want = "";
	int rc = 0;

	switch (t->type) {
	case T_PATH:
		if (fd_strlcpy(base + t->off, v, PATH_MAX) >= PATH_MAX) {
			rc = -ENAMETOOLONG;
			want = " (path too long)";
		}
		break;
	case T_DURATION:
		rc = fd_parse_duration_ms(v, (int64_t *)(base + t->off));
		want = " (use seconds or a suffix: 90, 90s, 10m, 72h)";
		break;
	case T_SIZE:
		rc = fd_parse_size(v, (uint64_t *)(base + t->off));
		want = " (use bytes or a suffix: 512M, 8G, 64MiB, 1GiB)";
		break;
	case T_MEMLOCK:
		if (strcasecmp(v, "unlimited") == 0)
			*(uint64_t *)(base + t->off) = FD_MEMLOCK_UNLIMITED;
		else
			rc = fd_parse_size(v, (uint64_t *)(base + t->off));
		want = " (use 'unlimited' or a size: 64GiB)";
		break;
	case T_GBPS:
		rc = parse_gbps(v, (double *)(base + t->off));
		want = " (use Gb/s: 400, 200G, 100Gb/s)";
		break;
	case T_UINT:
		rc = fd_parse_uint(v, (int *)(base + t->off));
		want = " (use a whole number: 0, 2, 8)";
		break;
	case T_GPUS:
		if (strcasecmp(v, "auto") == 0)
			*(int *)(base + t->off) = -1;
		else
			rc = fd_parse_uint(v, (int *)(base + t->off));
		want = " (use a whole number or 'auto')";
		break;
	case T_MIG:
		if (strcasecmp(v, "any") == 0)
			*(int *)(base + t->off) = -1;
		else if (strcasecmp(v, "off") == 0)
			*(int *)(base + t->off) = 0;
		else if (strcasecmp(v, "on") == 0)
			*(int *)(base + t->off) = 1;
		else
			rc = -EINVAL;
		want = " (use on, off or any)";
		break;
	case T_XIDS:
		rc = fd_parse_int_list(v, (int *)(base + t->off), FD_MAX_XIDS,
				       (size_t *)(base + t->n_off));
		want = " (use numbers separated by commas: 48,79,94)";
		break;
	}
	if (rc)
		snprintf(err, errlen, "%s: invalid value '%s'%s", t->info.name, v, want);
	return rc ? -EINVAL : 0;
}

void fd_config_init(struct fd_config *cfg)
{
	static const struct {
		const char *env, *name;
	} envs[] = {
	    {"FLIGHTDECK_SYSFS_ROOT", "sysfs-root"},
	    {"FLIGHTDECK_PROC_ROOT", "proc-root"},
	    {"FLIGHTDECK_KMSG", "kmsg"},
	};
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < FD_ARRAY_SIZE(tunables); i++)
		set_one(cfg, &tunables[i], tunables[i].def, err, sizeof(err));
	for (size_t i = 0; i < FD_ARRAY_SIZE(envs); i++) {
		const char *v = getenv(envs[i].env);
		if (v && *v)
			set_one(cfg, lookup(envs[i].name), v, err, sizeof(err));
	}
}

int fd_config_set(struct fd_config *cfg, const char *name, const char *value, char *err,
		  size_t errlen)
{
	const struct tunable *t = lookup(name);

	if (!t) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return -ENOENT;
	}
	return set_one(cfg, t, value, err, errlen);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int fd_config_load(struct fd_config *cfg, const char *path, char *err, size_t errlen)
{
	char *text = NULL, *save = NULL, *line;
	char msg[512];
	int lineno = 0, rc;

	rc = fd_read_all(path, &text, NULL);
	if (rc) {
		snprintf(err, errlen, "--config %s: %s", path, strerror(-rc));
		return rc;
	}
	/* strtok_r would merge empty lines and break the line numbers: split by hand. */
	for (line = text; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value', got '%.60s'", path,
				 lineno, l);
			rc = -EINVAL;
			goto out;
		}
		*eq = '\0';
		rc = fd_config_set(cfg, trim(l), trim(eq + 1), msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			goto out;
		}
	}
	rc = 0;
out:
	free(text);
	return rc;
}

size_t fd_config_count(void)
{
	return FD_ARRAY_SIZE(tunables);
}

const struct fd_tunable_info *fd_config_info(size_t i)
{
	return i < FD_ARRAY_SIZE(tunables) ? &tunables[i].info : NULL;
}

void fd_config_format(const struct fd_config *cfg, size_t i, char *out, size_t len)
{
	const struct tunable *t = &tunables[i];
	const char *base = (const char *)cfg;
	size_t off = 0;

	switch (t->type) {
	case T_PATH:
		snprintf(out, len, "%s", base + t->off);
		break;
	case T_DURATION: {
		/* the largest unit that is exact: 12h, 10m, 90s, 250ms */
		long long ms = *(const int64_t *)(base + t->off);
		if (ms && ms % 3600000 == 0)
			snprintf(out, len, "%lldh", ms / 3600000);
		else if (ms && ms % 60000 == 0)
			snprintf(out, len, "%lldm", ms / 60000);
		else if (ms % 1000 == 0)
			snprintf(out, len, "%llds", ms / 1000);
		else
			snprintf(out, len, "%lldms", ms);
		break;
	}
	case T_SIZE:
	case T_MEMLOCK: {
		uint64_t v = *(const uint64_t *)(base + t->off);
		if (v == FD_MEMLOCK_UNLIMITED && t->type == T_MEMLOCK)
			snprintf(out, len, "unlimited");
		else
			snprintf(out, len, "%llu", (unsigned long long)v);
		break;
	}
	case T_GBPS:
		snprintf(out, len, "%g", *(const double *)(base + t->off));
		break;
	case T_UINT:
		snprintf(out, len, "%d", *(const int *)(base + t->off));
		break;
	case T_GPUS: {
		int v = *(const int *)(base + t->off);
		if (v < 0)
			snprintf(out, len, "auto");
		else
			snprintf(out, len, "%d", v);
		break;
	}
	case T_MIG: {
		int v = *(const int *)(base + t->off);
		snprintf(out, len, "%s", v < 0 ? "any" : v ? "on" : "off");
		break;
	}
	case T_XIDS: {
		const int *v = (const int *)(base + t->off);
		size_t n = *(const size_t *)(base + t->n_off);
		out[0] = '\0';
		for (size_t k = 0; k < n && off < len; k++)
			off += (size_t)snprintf(out + off, len - off, "%s%d", k ? "," : "", v[k]);
		break;
	}
	}
}
