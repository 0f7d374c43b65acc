/*
 * host.c - host checks: the things outside the GPU and the fabric that still kill jobs.
 *
 * /dev/shm at the 64 MB container default (DataLoader "Bus error"), a memlock limit that
 * stops RDMA registration, a checkpoint directory that cannot be written (found out after
 * 68 hours), an NCCL_SOCKET_IFNAME with a typo (bootstrap hang) and an unsynchronised clock.
 */
#define _GNU_SOURCE
#include "host.h"
#include "nccl_list.h"
#include "sysfs.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/timex.h>
#include <unistd.h>

/* ---- /dev/shm ----------------------------------------------------------------------- */

/* MemTotal from PROC/meminfo, in bytes; 0 when unknown. */
static uint64_t mem_total(const char *proc_root)
{
	char path[PATH_MAX], *text = NULL;
	unsigned long long kb = 0;

	if (fd_pathf(path, sizeof(path), "%s/meminfo", proc_root) || fd_read_all(path, &text, NULL))
		return 0;
	char *p = strstr(text, "MemTotal:");
	if (!p || sscanf(p, "MemTotal: %llu kB", &kb) != 1)
		kb = 0;
	free(text);
	return (uint64_t)kb * 1024;
}

int host_probe_shm(struct fd_probe_ctx *ctx, void *facts)
{
	struct shm_facts *f = facts;
	const char *root = ctx->cfg->proc_root;
	char path[PATH_MAX], *text = NULL, *save = NULL;
	int rc;

	rc = fd_pathf(path, sizeof(path), "%s/mounts", root);
	if (rc == 0)
		rc = fd_read_all(path, &text, NULL);
	if (rc) {
		snprintf(ctx->err, sizeof(ctx->err), "%s: %s", path, strerror(-rc));
		return -EINVAL;
	}
	/* "tmpfs /dev/shm tmpfs rw,nosuid,nodev,size=65536k 0 0"; the last mount wins. */
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dev[256], mnt[256], type[32], opts[512];
		if (sscanf(line, "%255s %255s %31s %511s", dev, mnt, type, opts) != 4) {
			rc = fd_attr_garbage(ctx->err, root, "mounts", line,
					     "'DEV MOUNTPOINT TYPE OPTS'");
			goto out;
		}
		if (strcmp(mnt, "/dev/shm") != 0)
			continue;
		f->mounted = 1;
		f->size = 0;
		fd_strlcpy(f->fstype, type, sizeof(f->fstype));
		f->source[0] = '\0';
		char *o = strstr(opts, "size=");
		if (o && (o == opts || o[-1] == ',')) {
			unsigned long long kb;
			char unit = 0;
			if (sscanf(o, "size=%llu%c", &kb, &unit) >= 1 && (unit == 'k' || !unit)) {
				f->size = (uint64_t)kb * 1024;
				snprintf(f->source, sizeof(f->source), "size=%lluk", kb);
			}
		} else if (strcmp(type, "tmpfs") == 0) {
			/* tmpfs omits size= when it has the default: half of RAM. */
			f->size = mem_total(root) / 2;
			if (f->size)
				snprintf(f->source, sizeof(f->source),
					 "tmpfs default (half of RAM)");
		}
	}
out:
	free(text);
	return rc;
}

void host_judge_shm(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct shm_facts *f = facts;
	struct fd_finding *r;
	char have[32], want[32];

	fd_fmt_bytes(cfg->shm_min, want, sizeof(want));
	if (!f->mounted) {
		r = fd_report_add(rep, "host.shm", FD_WARN, "SHM_TOO_SMALL", "/dev/shm",
				  "/dev/shm is not a mount of its own: its size is unknown");
		if (r)
			snprintf(r->expected, sizeof(r->expected), "tmpfs >= %s", want);
		return;
	}
	if (!f->size) {
		fd_report_add(rep, "host.shm", FD_SKIP, NULL, "/dev/shm",
			      "%s mount without a size this check can read", f->fstype);
		return;
	}
	fd_fmt_bytes(f->size, have, sizeof(have));
	if (f->size < cfg->shm_min)
		r = fd_report_add(rep, "host.shm", FD_FAIL, "SHM_TOO_SMALL", "/dev/shm",
				  "/dev/shm is %s (%s); DataLoader workers will die with Bus error",
				  have, f->source);
	else
		r = fd_report_add(rep, "host.shm", FD_PASS, NULL, "/dev/shm", "%s %s (%s)",
				  f->fstype, have, f->source);
	if (r) {
		fd_strlcpy(r->value, have, sizeof(r->value));
		snprintf(r->expected, sizeof(r->expected), ">= %s", want);
	}
}

/* ---- locked memory -------------------------------------------------------------------- */

/* 1 with RDMA devices, 0 without (no class/infiniband at all included), or -errno. */
static int rdma_present(struct fd_probe_ctx *ctx)
{
	char **names;
	size_t n;
	int rc = fd_dir_list(ctx->cfg->sysfs_root, "class/infiniband", &names, &n);

	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(ctx->err, sizeof(ctx->err), "%s/class/infiniband: %s",
			 ctx->cfg->sysfs_root, strerror(-rc));
		return rc;
	}
	free(names);
	return n > 0;
}

int host_probe_memlock(struct fd_probe_ctx *ctx, void *facts)
{
	struct memlock_facts *f = facts;
	const char *root = ctx->cfg->proc_root;
	char path[PATH_MAX], *text = NULL;
	int rc;

	rc = rdma_present(ctx);
	if (rc < 0)
		return rc;
	f->rdma = rc;
	if (!f->rdma)
		return 0;
	rc = fd_pathf(path, sizeof(path), "%s/self/limits", root);
	if (rc == 0)
		rc = fd_read_all(path, &text, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(ctx->err, sizeof(ctx->err), "%s: %s", path, strerror(-rc));
		return -EINVAL;
	}
	/* "Max locked memory         8388608              8388608              bytes" */
	char *p = strstr(text, "Max locked memory");
	if (p) {
		char soft[32];
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (sscanf(p + strlen("Max locked memory"), "%31s", soft) != 1) {
			rc = fd_attr_garbage(ctx->err, root, "self/limits", p,
					     "'Max locked memory SOFT HARD bytes'");
		} else if (strcmp(soft, "unlimited") == 0) {
			f->known = f->unlimited = 1;
		} else {
			char *end;
			errno = 0;
			f->soft = strtoull(soft, &end, 10);
			if (*end || errno)
				rc = fd_attr_garbage(ctx->err, root, "self/limits", soft,
						     "a number or 'unlimited'");
			else
				f->known = 1;
		}
	}
	free(text);
	return rc;
}

void host_judge_memlock(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct memlock_facts *f = facts;
	struct fd_finding *r;
	char have[32], want[32];

	if (!f->rdma) {
		fd_report_add(rep, "host.memlock", FD_SKIP, NULL, "memlock",
			      "no RDMA devices: the locked-memory limit does not matter here");
		return;
	}
	if (!f->known) {
		fd_report_add(rep, "host.memlock", FD_SKIP, NULL, "memlock",
			      "the locked-memory limit is not readable (self/limits)");
		return;
	}
	if (cfg->memlock_min == FD_MEMLOCK_UNLIMITED)
		snprintf(want, sizeof(want), "unlimited");
	else
		fd_fmt_bytes(cfg->memlock_min, want, sizeof(want));
	if (f->unlimited)
		snprintf(have, sizeof(have), "unlimited");
	else
		fd_fmt_bytes(f->soft, have, sizeof(have));
	int ok = f->unlimited ||
		 (cfg->memlock_min != FD_MEMLOCK_UNLIMITED && f->soft >= cfg->memlock_min);
	if (ok)
		r = fd_report_add(rep, "host.memlock", FD_PASS, NULL, "memlock",
				  "locked-memory limit %s", have);
	else
		r = fd_report_add(rep, "host.memlock", FD_FAIL, "MEMLOCK_LIMITED", "memlock",
				  "locked-memory limit is %s: RDMA memory registration will fail",
				  have);
	if (r) {
		fd_strlcpy(r->value, have, sizeof(r->value));
		fd_strlcpy(r->expected, want, sizeof(r->expected));
	}
}

/* ---- checkpoint directory ----------------------------------------------------------- */

/*
 * Network and cluster filesystems: the checkpoint directory is shared by the job's nodes, so
 * a full one is the job's (or its storage's) problem, and draining this node would not help.
 */
int host_fstype_shared(const char *fstype)
{
	static const char *const shared[] = {
	    "nfs",    "nfs4", "lustre", "gpfs",	     "beegfs",	 "cifs",  "smb3",  "smbfs",
	    "cephfs", "ceph", "afs",	"glusterfs", "orangefs", "pvfs2", "panfs", "wekafs",
	    "ocfs2",  "gfs2", "davfs",	"ncpfs",     "coda",	 "dcache"};

	/* fuse.sshfs, fuse.s3fs, fuse.juicefs...; fuseblk (ntfs-3g on a local disk) is not */
	if (!strncmp(fstype, "fuse.", 5))
		return 1;
	for (size_t i = 0; i < FD_ARRAY_SIZE(shared); i++)
		if (!strcmp(fstype, shared[i]))
			return 1;
	return 0;
}

/* /proc/mounts escapes space, tab, newline and backslash as \ooo; decode in place. */
static void unescape_mount(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The type of the mount that holds dir: the longest mount point in PROC/mounts that is dir
 * or a parent of it (the last such line wins: a later mount hides an earlier one). A mounts
 * file that cannot be read leaves the type unknown; host.shm reports a malformed one.
 */
static void ckpt_fstype(const char *proc_root, const char *dir, char *out, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX], *text = NULL, *save = NULL;
	size_t best = 0;

	out[0] = '\0';
	if (!realpath(dir, real) || fd_pathf(path, sizeof(path), "%s/mounts", proc_root) ||
	    fd_read_all(path, &text, NULL))
		goto out;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dev[256], mnt[PATH_MAX], type[32];
		size_t n;

		if (sscanf(line, "%255s %4095s %31s", dev, mnt, type) != 3)
			continue;
		unescape_mount(mnt);
		n = strlen(mnt);
		while (n > 1 && mnt[n - 1] == '/')
			mnt[--n] = '\0';
		if (strncmp(real, mnt, n) || (n > 1 && real[n] != '/' && real[n] != '\0') ||
		    n < best)
			continue;
		best = n;
		fd_strlcpy(out, type, len);
	}
out:
	free(text);
}

uint64_t host_ckpt_min_free(const struct ckpt_facts *f, const struct fd_config *cfg)
{
	uint64_t pct;

	if (cfg->disk_min_free != FD_DISK_MIN_AUTO)
		return cfg->disk_min_free;
	if (!f->total_bytes)
		return CKPT_MIN_FREE_MAX;
	pct = f->total_bytes / 100 * CKPT_MIN_FREE_PERCENT +
	      f->total_bytes % 100 * CKPT_MIN_FREE_PERCENT / 100;
	return pct < CKPT_MIN_FREE_MAX ? pct : CKPT_MIN_FREE_MAX;
}

int host_probe_ckpt(struct fd_probe_ctx *ctx, void *facts)
{
	struct ckpt_facts *f = facts;
	char path[PATH_MAX + 64], block[4096];
	struct statvfs sv;
	int fd;

	if (!ctx->cfg->checkpoint_dir[0])
		return 0;
	f->configured = 1;
	fd_strlcpy(f->dir, ctx->cfg->checkpoint_dir, sizeof(f->dir));
	if (statvfs(f->dir, &sv) == 0) {
		f->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
		f->total_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
	} else {
		f->statvfs_rc = -errno;
	}
	ckpt_fstype(ctx->cfg->proc_root, f->dir, f->fstype, sizeof(f->fstype));
	f->shared = f->fstype[0] && host_fstype_shared(f->fstype);

	/*
	 * A real write: access(W_OK) says yes on a read-only NFS export with root squash
	 * and on a full disk. Write a block, fsync it (where a dead NFS server shows), unlink.
	 */
	snprintf(path, sizeof(path), "%s/.flightdeck-write-test.%ld", f->dir, (long)getpid());
	memset(block, 0x5a, sizeof(block));
	f->write_step = "open";
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		f->write_rc = -errno;
		return 0;
	}
	f->write_step = "write";
	errno = 0; /* a short write sets no errno: report it as a full disk */
	if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
		f->write_rc = errno ? -errno : -ENOSPC;
	if (!f->write_rc) {
		f->write_step = "fsync";
		if (fsync(fd))
			f->write_rc = -errno;
	}
	/* NFS reports a failed write back at close: a close error is the write's error */
	if (close(fd) && !f->write_rc) {
		f->write_step = "close";
		f->write_rc = -errno;
	}
	if (unlink(path) && !f->write_rc) {
		f->write_step = "unlink";
		f->write_rc = -errno;
	}
	return 0;
}

void host_judge_ckpt(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ckpt_facts *f = facts;
	uint64_t min_free = host_ckpt_min_free(f, cfg);
	struct fd_finding *r;
	char have[32], want[32];

	if (!f->configured) {
		fd_report_add(rep, "host.ckpt", FD_SKIP, NULL, "checkpoint-dir",
			      "no --checkpoint-dir given");
		return;
	}
	if ((f->write_rc == -ENOSPC || f->write_rc == -EDQUOT) && f->shared) {
		/* full, or over quota, on storage the job's nodes share: not this node's fault */
		r = fd_report_add(rep, "host.ckpt", FD_WARN, "CKPT_FS_LOW", f->dir,
				  "%s failed in %s (%s, shared): %s", f->write_step, f->dir,
				  f->fstype, strerror(-f->write_rc));
		if (r) {
			snprintf(r->value, sizeof(r->value), "%s: %s", f->write_step,
				 strerror(-f->write_rc));
			snprintf(r->expected, sizeof(r->expected), "write+fsync+unlink");
		}
	} else if (f->write_rc) {
		r = fd_report_add(rep, "host.ckpt", FD_FAIL, "CKPT_DIR_UNWRITABLE", f->dir,
				  "%s failed in %s: %s", f->write_step, f->dir,
				  strerror(-f->write_rc));
		if (r) {
			snprintf(r->value, sizeof(r->value), "%s: %s", f->write_step,
				 strerror(-f->write_rc));
			snprintf(r->expected, sizeof(r->expected), "write+fsync+unlink");
		}
	} else {
		fd_report_add(rep, "host.ckpt", FD_PASS, NULL, f->dir,
			      "write, fsync and unlink succeeded");
	}
	if (f->statvfs_rc) {
		fd_report_add(rep, "host.disk", FD_SKIP, NULL, f->dir, "statvfs: %s",
			      strerror(-f->statvfs_rc));
		return;
	}
	fd_fmt_bytes(f->free_bytes, have, sizeof(have));
	fd_fmt_bytes(min_free, want, sizeof(want));
	if (f->free_bytes < min_free && f->shared)
		r = fd_report_add(rep, "host.disk", FD_WARN, "CKPT_FS_LOW", f->dir,
				  "only %s free for checkpoints on shared %s storage: the job's "
				  "problem, not this node's",
				  have, f->fstype);
	else if (f->free_bytes < min_free)
		r = fd_report_add(rep, "host.disk", FD_FAIL, "DISK_LOW", f->dir,
				  "only %s free for checkpoints", have);
	else
		r = fd_report_add(rep, "host.disk", FD_PASS, NULL, f->dir, "%s free", have);
	if (r) {
		fd_strlcpy(r->value, have, sizeof(r->value));
		snprintf(r->expected, sizeof(r->expected), ">= %s", want);
	}
}

/* ---- NCCL_SOCKET_IFNAME --------------------------------------------------------------- */

int host_probe_ifname(struct fd_probe_ctx *ctx, void *facts)
{
	struct ifname_facts *f = facts;
	const char *root = ctx->cfg->sysfs_root;
	const char *env = getenv("NCCL_SOCKET_IFNAME");
	char **names, rel[PATH_MAX], buf[64];
	size_t n;
	int rc = 0;

	if (!env || !*env)
		return 0;
	f->set = 1;
	fd_strlcpy(f->value, env, sizeof(f->value));
	rc = fd_dir_list(root, "class/net", &names, &n);
	if (rc == -ENOENT)
		return 0; /* no sysfs view of the interfaces: nothing to compare with */
	if (rc) {
		snprintf(ctx->err, sizeof(ctx->err), "%s/class/net: %s", root, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < n && f->n < FD_MAX_IFACES; i++) {
		/*
		 * operstate is "up" for a running link; virtual links (lo, some bonds) say
		 * "unknown" and are up when IFF_UP (0x1) is in flags.
		 */
		unsigned long flags = 0;
		int up = 0;
		fd_strlcpy(f->ifs[f->n].name, names[i], sizeof(f->ifs[f->n].name));
		if (fd_pathf(rel, sizeof(rel), "class/net/%s/operstate", names[i]) == 0 &&
		    fd_attr_read(ctx->err, root, rel, buf, sizeof(buf)) >= 0) {
			up = strcmp(buf, "up") == 0;
			if (strcmp(buf, "unknown") == 0 &&
			    fd_pathf(rel, sizeof(rel), "class/net/%s/flags", names[i]) == 0 &&
			    fd_attr_read(ctx->err, root, rel, buf, sizeof(buf)) >= 0) {
				char *end;
				flags = strtoul(buf, &end, 16);
				if (*end || end == buf) {
					rc = fd_attr_garbage(ctx->err, root, rel, buf,
							     "hex flags like 0x1003");
					break;
				}
				up = (flags & 1) != 0;
			}
		} else if (ctx->err[0]) {
			rc = -EINVAL;
			break;
		}
		f->ifs[f->n++].up = up;
	}
	free(names);
	return rc;
}

void host_judge_ifname(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct ifname_facts *f = facts;
	struct fd_nccl_list l;
	struct fd_finding *r;
	char chosen[96] = "";
	size_t off = 0, nup = 0, nsel = 0;

	if (!f->set) {
		fd_report_add(rep, "host.ifname", FD_SKIP, NULL, "NCCL_SOCKET_IFNAME",
			      "not set: NCCL picks an interface itself");
		return;
	}
	if (fd_nccl_list_parse(f->value, &l)) {
		r = fd_report_add(rep, "host.ifname", FD_FAIL, "NCCL_IFNAME_MISSING",
				  "NCCL_SOCKET_IFNAME", "cannot parse NCCL_SOCKET_IFNAME='%s'",
				  f->value);
		if (r)
			fd_strlcpy(r->value, f->value, sizeof(r->value));
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		int hit = fd_nccl_list_match(&l, f->ifs[i].name, 0) >= 0;
		if (hit == l.exclude)
			continue;
		nsel++;
		if (!f->ifs[i].up)
			continue;
		nup++;
		if (off < sizeof(chosen))
			off += (size_t)snprintf(chosen + off, sizeof(chosen) - off, "%s%s",
						off ? "," : "", f->ifs[i].name);
	}
	if (nup == 0) {
		r = fd_report_add(
		    rep, "host.ifname", FD_FAIL, "NCCL_IFNAME_MISSING", "NCCL_SOCKET_IFNAME",
		    nsel ? "NCCL_SOCKET_IFNAME='%s' selects only interfaces that are down"
			 : "NCCL_SOCKET_IFNAME='%s' matches no interface on this node",
		    f->value);
		if (r) {
			snprintf(r->value, sizeof(r->value), "%zu selected, 0 up", nsel);
			snprintf(r->expected, sizeof(r->expected), ">= 1 selected and up");
		}
		return;
	}
	r = fd_report_add(rep, "host.ifname", FD_PASS, NULL, "NCCL_SOCKET_IFNAME",
			  "'%s' selects %s", f->value, chosen);
	if (r)
		fd_strlcpy(r->value, chosen, sizeof(r->value));
}

/* ---- clock ----------------------------------------------------------------------------- */

int host_probe_clock(struct fd_probe_ctx *ctx, void *facts)
{
	struct clock_facts *f = facts;
	struct timex tx;

	memset(&tx, 0, sizeof(tx)); /* modes = 0: read only, no privilege needed */
	f->rc = adjtimex(&tx);
	if (f->rc < 0) {
		f->rc = -errno;
		return 0;
	}
	f->unsync = (tx.status & STA_UNSYNC) != 0;
	f->esterror_us = tx.esterror;
	f->maxerror_us = tx.maxerror;
	return 0;
}

void host_judge_clock(const void *facts, const struct fd_config *cfg, struct fd_report *rep)
{
	const struct clock_facts *f = facts;
	struct fd_finding *r;

	if (f->rc < 0) {
		fd_report_add(rep, "host.clock", FD_SKIP, NULL, "clock", "adjtimex: %s",
			      strerror(-f->rc));
		return;
	}
	if (f->rc == TIME_ERROR || f->unsync)
		r = fd_report_add(
		    rep, "host.clock", FD_WARN, "CLOCK_UNSYNCED", "clock",
		    "the kernel reports the clock unsynchronised (no NTP/PTP discipline)");
	else
		r = fd_report_add(rep, "host.clock", FD_PASS, NULL, "clock",
				  "synchronised, estimated error %ld us", f->esterror_us);
	if (r) {
		if (f->rc == TIME_ERROR || f->unsync)
			snprintf(r->value, sizeof(r->value), "unsynchronised");
		else
			snprintf(r->value, sizeof(r->value), "+/- %ld us", f->esterror_us);
		snprintf(r->expected, sizeof(r->expected), "synchronised");
	}
}
