/*
 * checkpoint.c - the newest complete checkpoint, and {resume} in the command line. The
 * directory is the user's: see checkpoint.h for what is opened and followed (nothing blocks).
 */
#define _GNU_SOURCE
#include "checkpoint.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/*
 * A symlink entry: its target, if it is a sibling regular file of the directory (a name
 * without '/', or the directory's own path followed by one), into *st. 0 or -1.
 */
static int sibling_target(const struct fd_ckpt_walk *w, const char *name, struct stat *st)
{
	char t[PATH_MAX];
	const char *leaf = t;
	size_t dl = strlen(w->dir);
	ssize_t n = readlinkat(w->dfd, name, t, sizeof(t) - 1);

	if (n <= 0)
		return -1;
	t[n] = '\0';
	if (t[0] == '/' && !strncmp(t, w->dir, dl) && t[dl] == '/')
		leaf = t + dl + 1;
	if (strchr(leaf, '/') || !strcmp(leaf, ".") || !strcmp(leaf, "..") || !*leaf)
		return -1;
	if (fstatat(w->dfd, leaf, st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st->st_mode))
		return -1;
	return 0;
}

/* The completion time of entry `name`, or 0 when it is not complete; its own mtime in *own. */
static int64_t completed_at(const struct fd_ckpt_walk *w, const char *name, int64_t *own)
{
	static const char *const markers[] = {".metadata", "trainer_state.json"};
	const char *marker = w->marker;
	char path[PATH_MAX];
	struct stat st;

	*own = 0;
	if (fstatat(w->dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return 0;
	*own = mtime_ns(&st);
	if (S_ISLNK(st.st_mode)) {
		if (marker || !weight_file(name) || sibling_target(w, name, &st))
			return 0;
		return mtime_ns(&st);
	}
	if (S_ISREG(st.st_mode))
		return !marker && weight_file(name) ? mtime_ns(&st) : 0;
	if (!S_ISDIR(st.st_mode))
		return 0;
	for (size_t i = 0; i < (marker ? 1 : FD_ARRAY_SIZE(markers)); i++) {
		if (fd_pathf(path, sizeof(path), "%s/%s", name, marker ? marker : markers[i]))
			return 0;
		if (!fstatat(w->dfd, path, &st, AT_SYMLINK_NOFOLLOW))
			return mtime_ns(&st);
	}
	return 0;
}

/* The "newest" rule of checkpoint.h, the one definition the list and the newest share. */
static int newer(int64_t t, const char *name, int64_t best_t, const char *best)
{
	return !*best || t > best_t || (t == best_t && strverscmp(name, best) > 0);
}

static int listed(const struct fd_ckpt_walk *w, const char *name)
{
	for (int i = 0; i < w->out.nnames; i++)
		if (!strcmp(w->out.names[i], name))
			return 1;
	return 0;
}

/*
 * A complete entry into the list of the newest FD_CKPT_LIST, sorted newest first, when it is
 * among them: memory stays bounded however many entries the directory has, and moving up to
 * 4 KiB of names costs less than the fstatat that found the entry.
 */
static void keep(struct fd_ckpt_walk *w, const char *name, int64_t t)
{
	struct fd_ckpt_scan *o = &w->out;
	int i = o->nnames, n;

	while (i > 0 && newer(t, name, w->t[i - 1], o->names[i - 1]))
		i--;
	if (i == FD_CKPT_LIST)
		return;
	n = o->nnames < FD_CKPT_LIST ? o->nnames : FD_CKPT_LIST - 1; /* the last falls off */
	memmove(o->names[i + 1], o->names[i], (size_t)(n - i) * sizeof(o->names[0]));
	memmove(&w->t[i + 1], &w->t[i], (size_t)(n - i) * sizeof(w->t[0]));
	fd_strlcpy(o->names[i], name, sizeof(o->names[i]));
	w->t[i] = t;
	o->nnames = n + 1;
}

/* DeepSpeed: `latest` names the tag saved last; that tag is complete. Never blocks. */
static void deepspeed_latest(struct fd_ckpt_walk *w)
{
	char tag[NAME_MAX + 2];
	struct stat st, tst;
	ssize_t n;
	int fd = openat(w->dfd, "latest", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	n = read(fd, tag, sizeof(tag) - 1);
	close(fd);
	if (n <= 0)
		return;
	tag[n] = '\0';
	tag[strcspn(tag, "\r\n")] = '\0';
	if (!*tag || strchr(tag, '/') || tag[0] == '.' ||
	    fstatat(w->dfd, tag, &tst, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(tst.st_mode))
		return;
	fd_strlcpy(w->ds_tag, tag, sizeof(w->ds_tag));
	keep(w, tag, mtime_ns(&st));
	w->out.ncomplete++;
}

int fd_ckpt_walk_begin(struct fd_ckpt_walk *w, const char *dir, const char *marker)
{
	DIR *d;

	memset(w, 0, sizeof(*w));
	w->dfd = -1;
	w->marker = marker;
	if (fd_strlcpy(w->dir, dir, sizeof(w->dir)) >= sizeof(w->dir))
		return -ENAMETOOLONG;
	/* O_NONBLOCK: the directory itself may be a FIFO someone named like it */
	w->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (w->dfd < 0) {
		int e = errno;

		return e == ENOENT ? 0 : -e;
	}
	d = fdopendir(w->dfd);
	if (!d) {
		int e = errno;

		close(w->dfd);
		w->dfd = -1;
		return -e;
	}
	w->d = d;
	if (!marker)
		deepspeed_latest(w);
	return 0;
}

static int finish(struct fd_ckpt_walk *w)
{
	struct fd_ckpt_scan *out = &w->out;

	if (out->nnames) {
		/* a cut path would be a wrong one to resume from */
		if (fd_pathf(out->newest, sizeof(out->newest), "%s/%s", w->dir, out->names[0])) {
			out->newest[0] = '\0';
			return -ENAMETOOLONG;
		}
		out->newest_time = (double)w->t[0] / 1e9;
	}
	if (*w->skip && (!out->nnames || w->skip_t > w->t[0]))
		fd_pathf(out->skipped, sizeof(out->skipped), "%s/%s", w->dir, w->skip);
	return 0;
}

int fd_ckpt_walk_step(struct fd_ckpt_walk *w, int max)
{
	struct dirent *de;

	if (!w->d)
		return 0;
	for (int i = 0; i < max; i++) {
		int64_t t, own;

		errno = 0;
		de = readdir(w->d);
		if (!de) {
			int e = errno;

			fd_ckpt_walk_end(w);
			if (e)
				return -e;
			return finish(w);
		}
		/*
		 * DeepSpeed's tag was listed at its `latest` time, whatever it holds; a name
		 * already listed is one that readdir returned twice (the directory changed
		 * between slices) and is counted once.
		 */
		if (de->d_name[0] == '.' || has_suffix(de->d_name, ".tmp") ||
		    has_suffix(de->d_name, ".partial") || !strcmp(de->d_name, "latest") ||
		    !strcmp(de->d_name, w->ds_tag) || listed(w, de->d_name))
			continue;
		t = completed_at(w, de->d_name, &own);
		if (t) {
			w->out.ncomplete++;
			keep(w, de->d_name, t);
		} else if (own && newer(own, de->d_name, w->skip_t, w->skip)) {
			/* An incomplete entry: remember the newest by its own mtime. */
			w->skip_t = own;
			fd_strlcpy(w->skip, de->d_name, sizeof(w->skip));
		}
	}
	return 1;
}

void fd_ckpt_walk_end(struct fd_ckpt_walk *w)
{
	if (w->d)
		closedir(w->d); /* closes dfd too */
	w->d = NULL;
	w->dfd = -1;
}

int fd_ckpt_newest(const char *dir, const char *marker, struct fd_ckpt_scan *out)
{
	struct fd_ckpt_walk *w = malloc(sizeof(*w));
	int r;

	memset(out, 0, sizeof(*out));
	if (!w)
		return -ENOMEM;
	r = fd_ckpt_walk_begin(w, dir, marker);
	while (!r && (r = fd_ckpt_walk_step(w, INT_MAX)) > 0)
		;
	if (!r)
		*out = w->out;
	fd_ckpt_walk_end(w);
	free(w);
	return r;
}

/* A flag that a bare {resume} after it belongs to: --resume, --ckpt-path, --load_from... */
static int resume_flag(const char *a)
{
	static const char *const words[] = {"resume", "ckpt", "checkpoint", "load"};

	if (a[0] != '-' || strchr(a, '='))
		return 0;
	for (size_t i = 0; i < FD_ARRAY_SIZE(words); i++)
		if (strcasestr(a, words[i]))
			return 1;
	return 0;
}

/* arg with every "{resume}" replaced by ckpt. */
static char *subst(const char *arg, const char *ckpt)
{
	size_t n = 0, cl = strlen(ckpt), k = 0;
	const char *p;
	char *s;

	for (p = arg; (p = strstr(p, "{resume}")); p += 8)
		n++;
	s = malloc(strlen(arg) - n * 8 + n * cl + 1);
	if (!s)
		return NULL;
	for (p = arg; *p;) {
		if (!strncmp(p, "{resume}", 8)) {
			memcpy(s + k, ckpt, cl);
			k += cl;
			p += 8;
		} else {
			s[k++] = *p++;
		}
	}
	s[k] = '\0';
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
			if (!strcmp(a, "{resume}") && k > 0 && resume_flag(out[k - 1]) && i > 0 &&
			    !strcmp(argv[i - 1], out[k - 1])) {
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
