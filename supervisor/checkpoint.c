/*
 * checkpoint.c - the newest complete checkpoint, and {resume} in the command line.
 */
#define _GNU_SOURCE
#include "checkpoint.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && !strcmp(s + n - m, suf);
}

static int weight_file(const char *name)
{
	static const char *const sufs[] = {".pt", ".pth", ".ckpt", ".safetensors"};

	for (size_t i = 0; i < FD_ARRAY_SIZE(sufs); i++)
		if (has_suffix(name, sufs[i]))
			return 1;
	return 0;
}

static int64_t mtime_ns(const struct stat *st)
{
	/* saturates: the mtime of a user's file past 2262 does not fit int64 ns */
	return fd_sat_add(fd_sat_mul(st->st_mtim.tv_sec, 1000000000), st->st_mtim.tv_nsec);
}

/* The completion time of entry `name` under dir, or 0 when it is not complete. */
static int64_t completed_at(const char *dir, const char *name, const char *marker)
{
	static const char *const markers[] = {".metadata", "trainer_state.json"};
	char path[PATH_MAX];
	struct stat st;

	if (fd_pathf(path, sizeof(path), "%s/%s", dir, name) || lstat(path, &st))
		return 0;
	if (S_ISREG(st.st_mode))
		return !marker && weight_file(name) ? mtime_ns(&st) : 0;
	if (!S_ISDIR(st.st_mode))
		return 0;
	for (size_t i = 0; i < (marker ? 1 : FD_ARRAY_SIZE(markers)); i++) {
		if (fd_pathf(path, sizeof(path), "%s/%s/%s", dir, name,
			     marker ? marker : markers[i]))
			return 0;
		if (!stat(path, &st))
			return mtime_ns(&st);
	}
	return 0;
}

static int newer(int64_t t, const char *name, int64_t best_t, const char *best)
{
	return !*best || t > best_t || (t == best_t && strverscmp(name, best) > 0);
}

int fd_ckpt_newest(const char *dir, const char *marker, struct fd_ckpt_scan *out)
{
	char latest[PATH_MAX], path[PATH_MAX], best[NAME_MAX + 1] = "", skip[NAME_MAX + 1] = "";
	int64_t best_t = 0, skip_t = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;

	memset(out, 0, sizeof(*out));
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;

	/* DeepSpeed: `latest` names the tag saved last; that tag is complete. */
	if (!marker && !fd_pathf(path, sizeof(path), "%s/latest", dir) &&
	    fd_read_small(path, latest, sizeof(latest)) > 0 && !strchr(latest, '/') &&
	    latest[0] != '.' && !fd_pathf(path, sizeof(path), "%s/%s", dir, latest) &&
	    !stat(path, &st) && S_ISDIR(st.st_mode)) {
		fd_pathf(path, sizeof(path), "%s/latest", dir);
		if (!stat(path, &st)) {
			fd_strlcpy(best, latest, sizeof(best));
			best_t = mtime_ns(&st);
			out->ncomplete++;
		}
	}

	while ((de = readdir(d))) {
		int64_t t;

		if (de->d_name[0] == '.' || has_suffix(de->d_name, ".tmp") ||
		    has_suffix(de->d_name, ".partial") || !strcmp(de->d_name, "latest") ||
		    !strcmp(de->d_name, best))
			continue;
		t = completed_at(dir, de->d_name, marker);
		if (t) {
			out->ncomplete++;
			if (newer(t, de->d_name, best_t, best)) {
				best_t = t;
				fd_strlcpy(best, de->d_name, sizeof(best));
			}
		} else {
			/* An incomplete entry: remember the newest by its own mtime. */
			if (fd_pathf(path, sizeof(path), "%s/%s", dir, de->d_name) ||
			    lstat(path, &st))
				continue;
			t = mtime_ns(&st);
			if (newer(t, de->d_name, skip_t, skip)) {
				skip_t = t;
				fd_strlcpy(skip, de->d_name, sizeof(skip));
			}
		}
	}
	closedir(d);
	if (*best) {
		fd_pathf(out->newest, sizeof(out->newest), "%s/%s", dir, best);
		out->newest_time = (double)best_t / 1e9;
	}
	if (*skip && (!*best || skip_t > best_t))
		fd_pathf(out->skipped, sizeof(out->skipped), "%s/%s", dir, skip);
	return 0;
}

static char *subst(const char *arg, const char *ckpt)
{
	const char *at = strstr(arg, "{resume}");
	size_t n = strlen(arg) - 8 + strlen(ckpt) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%.*s%s%s", (int)(at - arg), arg, ckpt, at + 8);
	return s;
}

char **fd_resume_argv(char *const *argv, const char *ckpt)
{
	size_t n = 0, k = 0;
	char **out;

	while (argv[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *a = argv[i];

		if (!strstr(a, "{resume}")) {
			out[k] = strdup(a);
		} else if (ckpt && *ckpt) {
			out[k] = subst(a, ckpt);
		} else {
			/* No checkpoint: drop it, and a bare placeholder's flag with it. */
			if (!strcmp(a, "{resume}") && k > 0 && out[k - 1][0] == '-' &&
			    !strchr(out[k - 1], '=') && i > 0 && !strcmp(argv[i - 1], out[k - 1])) {
				free(out[--k]);
				out[k] = NULL;
			}
			continue;
		}
		if (!out[k++]) {
			fd_argv_free(out);
			return NULL;
		}
	}
	return out;
}

void fd_argv_free(char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}
