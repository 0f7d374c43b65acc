/*
 * sysfs.c - attribute reads and directory listings under the fact roots.
 *
 * sysfs attributes are small and have fixed formats, so a read is one open/read/close and a
 * parse; anything unexpected is an error that names the file, because a probe that guessed
 * would turn a driver bug or a broken fixture into a wrong verdict.
 */
#define _GNU_SOURCE
#include "sysfs.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fd_attr_read(char *err, const char *root, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	int rc = fd_pathf(path, sizeof(path), "%s/%s", root, rel);

	if (rc == 0)
		rc = fd_read_small(path, buf, len);
	if (rc < 0 && rc != -ENOENT)
		snprintf(err, FD_ERR_MAX, "%.400s: %s", path,
			 rc == -EFBIG ? "unexpectedly large for a kernel attribute"
				      : strerror(-rc));
	return rc;
}

int fd_attr_read_required(char *err, const char *root, const char *rel, char *buf, size_t len)
{
	int rc = fd_attr_read(err, root, rel, buf, len);

	if (rc == -ENOENT)
		snprintf(err, FD_ERR_MAX, "%s/%s: missing", root, rel);
	return rc;
}

int fd_attr_garbage(char *err, const char *root, const char *rel, const char *text,
		    const char *what)
{
	snprintf(err, FD_ERR_MAX, "%s/%s: cannot parse '%.40s' (expected %s)", root, rel, text,
		 what);
	return -EBADMSG;
}

static int version_cmp(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int fd_dir_list(const char *root, const char *rel, char ***names, size_t *n)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t count = 0, bytes = 0;
	char **v, *p;
	DIR *d;
	int rc = fd_pathf(path, sizeof(path), "%s/%s", root, rel);

	*names = NULL;
	*n = 0;
	if (rc)
		return rc;
	d = opendir(path);
	if (!d)
		return -errno;
	/* Two passes over one DIR: count, then copy into a single block freed with free().
	 * readdir's NULL is the end or an error; only errno tells which. */
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (de->d_name[0] == '.')
			continue;
		count++;
		bytes += strlen(de->d_name) + 1;
	}
	if (errno) {
		rc = -errno;
		closedir(d);
		return rc;
	}
	v = malloc(count * sizeof(char *) + bytes + 1);
	if (!v) {
		closedir(d);
		return -ENOMEM;
	}
	p = (char *)(v + count);
	rewinddir(d);
	size_t i = 0;
	for (errno = 0; i < count && (de = readdir(d)); errno = 0) {
		size_t l = strlen(de->d_name) + 1;
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)(p - (char *)(v + count)) + l > bytes)
			break; /* the directory grew between passes: keep what fits */
		memcpy(p, de->d_name, l);
		v[i++] = p;
		p += l;
	}
	if (errno) {
		rc = -errno;
		closedir(d);
		free(v);
		return rc;
	}
	closedir(d);
	qsort(v, i, sizeof(char *), version_cmp);
	*names = v;
	*n = i;
	return 0;
}

int fd_link_base(const char *root, const char *rel, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t got;
	int rc = fd_pathf(path, sizeof(path), "%s/%s", root, rel);

	if (rc)
		return rc;
	got = readlink(path, target, sizeof(target) - 1);
	if (got < 0)
		return -errno;
	target[got] = '\0';
	const char *slash = strrchr(target, '/');
	fd_strlcpy(out, slash ? slash + 1 : target, len);
	return 0;
}
