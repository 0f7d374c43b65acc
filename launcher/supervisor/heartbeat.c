/*
 * heartbeat.c - the heartbeat datagram and the socket (the progress regex: progress.c).
 */
#define _GNU_SOURCE
#include "heartbeat.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int fd_parse_digits(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (!n || n > 18)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int fd_beat_parse(const char *buf, size_t len, struct fd_beat *b)
{
	int64_t v;
	int have_rank = 0;
	size_t i = 0;

	memset(b, 0, sizeof(*b));
	b->step = b->total = -1;
	if (len > FD_HB_MAX_DATAGRAM)
		return -EINVAL;
	while (i < len) {
		size_t start, eq = 0, end;

		while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n'))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n') {
			if (buf[i] == '=' && !eq)
				eq = i;
			if (!buf[i] || (unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
				return -EINVAL;
			i++;
		}
		end = i;
		if (!eq)
			return -EINVAL;
		const char *k = buf + start, *val = buf + eq + 1;
		size_t kl = eq - start, vl = end - eq - 1;

		if (kl == 4 && !memcmp(k, "rank", 4)) {
			if (fd_parse_digits(val, vl, &v) || v > 1 << 24)
				return -EINVAL;
			b->rank = (int)v;
			have_rank = 1;
		} else if (kl == 4 && !memcmp(k, "step", 4)) {
			if (fd_parse_digits(val, vl, &b->step))
				return -EINVAL;
		} else if (kl == 5 && !memcmp(k, "total", 5)) {
			if (fd_parse_digits(val, vl, &b->total) || !b->total)
				return -EINVAL;
		} else if (kl == 5 && !memcmp(k, "phase", 5)) {
			if (vl == 10 && !memcmp(val, "checkpoint", 10))
				b->phase = FD_PHASE_CHECKPOINT;
			else if (vl == 5 && !memcmp(val, "train", 5))
				b->phase = FD_PHASE_TRAIN;
			else
				return -EINVAL;
		} else if (kl == 6 && !memcmp(k, "stacks", 6)) {
			b->stacks = vl == 1 && val[0] == '1';
		} else if (kl == 2 && !memcmp(k, "fr", 2)) {
			b->fr = vl == 1 && val[0] == '1';
		} else if (kl == 4 && !memcmp(k, "done", 4)) {
			b->done = vl == 1 && val[0] == '1';
		}
	}
	return have_rank ? 0 : -EINVAL;
}

/* A new socket bound at s->path, given to the extra uid if there is one. */
static int hb_bind(struct fd_hb_socket *s, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int one = 1, e;

	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    bind(s->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = errno;
		snprintf(err, errlen, "heartbeat socket %s: %s", s->path, strerror(e));
		goto fail;
	}
	if (s->have_extra_uid && s->extra_uid != s->uid &&
	    (lchown(s->path, s->extra_uid, (gid_t)-1) || chmod(s->path, 0600))) {
		e = errno;
		snprintf(err, errlen,
			 "--heartbeat-uid %u: cannot give the heartbeat socket %s to it: %s%s",
			 (unsigned)s->extra_uid, s->path, strerror(e),
			 e == EPERM ? " (only root can)" : "");
		goto fail;
	}
	if (lstat(s->path, &st)) {
		e = errno;
		snprintf(err, errlen, "heartbeat socket %s: %s", s->path, strerror(e));
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return -e;
}

int fd_hb_open(struct fd_hb_socket *s, char *err, size_t errlen)
{
	return fd_hb_open_for(s, -1, err, errlen);
}

int fd_hb_open_for(struct fd_hb_socket *s, long long extra_uid, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un sa;
	int r;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->uid = geteuid();
	s->have_extra_uid = extra_uid >= 0;
	s->extra_uid = extra_uid >= 0 ? (uid_t)extra_uid : 0;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (fd_pathf(s->dir, sizeof(s->dir), "%s/flightdeck.XXXXXX", tmp)) {
		snprintf(err, errlen, "TMPDIR %s is too long for the heartbeat directory", tmp);
		s->dir[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(s->dir)) {
		int e = errno;

		snprintf(err, errlen, "cannot create a directory under %s: %s", tmp, strerror(e));
		s->dir[0] = '\0';
		return -e;
	}
	/* mkdtemp creates it 0700 (POSIX): only our uid can reach the socket inside. */
	if (fd_pathf(s->path, sizeof(s->path), "%s/hb.sock", s->dir) ||
	    strlen(s->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path under %s is too long for AF_UNIX", s->dir);
		fd_hb_close(s);
		return -ENAMETOOLONG;
	}
	r = hb_bind(s, err, errlen);
	/*
	 * --heartbeat-uid: the directory stays ours (the job cannot rename it, plant links in it
	 * or fill it); 0711 lets the job's uid cross it to the socket, which is its own, 0600.
	 */
	if (!r && s->have_extra_uid && s->extra_uid != s->uid && chmod(s->dir, 0711)) {
		r = -errno;
		snprintf(err, errlen, "heartbeat directory %s: %s", s->dir, strerror(-r));
	}
	if (r)
		fd_hb_close(s);
	return r;
}

int fd_hb_check(const struct fd_hb_socket *s)
{
	struct stat st;

	if (lstat(s->path, &st))
		return -errno;
	return st.st_dev == s->dev && st.st_ino == s->ino ? 0 : -ENOENT;
}

int fd_hb_rebind(struct fd_hb_socket *s, char *err, size_t errlen)
{
	struct stat st;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	/* Only a file where ours was (the job replaced it) is removed; the directory is ours. */
	if (!lstat(s->path, &st) && unlink(s->path)) {
		int e = errno;

		snprintf(err, errlen, "cannot remove %s: %s", s->path, strerror(e));
		return -e;
	}
	return hb_bind(s, err, errlen);
}

#define HB_BATCH 64

void fd_hb_period(struct fd_hb_socket *s)
{
	s->gen++;
	if (!s->gen) { /* wrapped: entries of period 0 would look current */
		memset(s->senders, 0, sizeof(s->senders));
		s->gen = 1;
	}
}

/*
 * The entry of pid this period, counting one more datagram; NULL when more than
 * FD_HB_SENDERS pids sent in one period (nobody new is limited then: the table bounds the
 * cost of a flood, it is not a list of who may beat).
 */
static struct fd_hb_sender *sender_count(struct fd_hb_socket *s, pid_t pid)
{
	unsigned h = (unsigned)pid * 2654435761u % FD_HB_SENDERS;

	if (!s->gen)
		fd_hb_period(s);
	for (unsigned i = 0; i < FD_HB_SENDERS; i++) {
		struct fd_hb_sender *e = &s->senders[(h + i) % FD_HB_SENDERS];

		if (e->gen != s->gen)
			*e = (struct fd_hb_sender){.gen = s->gen, .pid = pid};
		if (e->pid == pid) {
			e->n++;
			return e;
		}
	}
	return NULL;
}

int fd_hb_flush(struct fd_hb_socket *s, struct fd_beat *b, int max)
{
	int got = 0;

	for (unsigned i = 0; i < FD_HB_SENDERS && got < max; i++) {
		struct fd_hb_sender *e = &s->senders[i];

		if (e->gen == s->gen && e->has_last) {
			b[got++] = e->last;
			e->has_last = 0;
		}
	}
	return got;
}

int fd_hb_recv(struct fd_hb_socket *s, struct fd_beat *b, int max)
{
	static char bufs[HB_BATCH][FD_HB_MAX_DATAGRAM + 1];
	static union {
		char raw[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl[HB_BATCH];
	static struct iovec iov[HB_BATCH];
	static struct mmsghdr mm[HB_BATCH];
	int got = 0;

	s->read = 0;
	while (got < max) {
		int want = max - got < HB_BATCH ? max - got : HB_BATCH, n;

		for (int i = 0; i < want; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof(bufs[i])};
			mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
							.msg_iovlen = 1,
							.msg_control = ctl[i].raw,
							.msg_controllen = sizeof(ctl[i].raw)};
		}
		n = recvmmsg(s->fd, mm, (unsigned int)want, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? got : -errno;
		}
		s->read += (unsigned)n;
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &mm[i].msg_hdr;
			const struct ucred *cred = NULL;
			struct fd_hb_sender *snd;

			for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
					cred = (const struct ucred *)CMSG_DATA(c);
			if (!cred || (cred->uid != s->uid && cred->uid != 0 &&
				      !(s->have_extra_uid && cred->uid == s->extra_uid))) {
				s->foreign++;
				if (cred)
					s->last_foreign_uid = cred->uid;
				continue;
			}
			snd = sender_count(s, cred->pid);
			if (snd && snd->n > FD_HB_PER_PID) {
				/* past the limit: counted, and only the newest beat is kept */
				struct fd_beat nb;

				s->dropped++;
				if (!(mh->msg_flags & MSG_TRUNC) &&
				    !fd_beat_parse(bufs[i], mm[i].msg_len, &nb)) {
					nb.pid = cred->pid;
					snd->last = nb;
					snd->has_last = 1;
				}
				continue;
			}
			if ((mh->msg_flags & MSG_TRUNC) ||
			    fd_beat_parse(bufs[i], mm[i].msg_len, &b[got])) {
				s->malformed++;
				continue;
			}
			b[got++].pid = cred->pid;
		}
		if (n < want)
			break; /* the queue is empty */
	}
	return got;
}

void fd_hb_close(struct fd_hb_socket *s)
{
	DIR *d;
	struct dirent *de;
	char p[PATH_MAX];

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (!s->dir[0])
		return;
	/* Only what flightdeck and its clients put here: the socket, stacks-*.txt, the flight
	 * recorder's request and dumps (fr-*), and the preflight's reason file. */
	d = opendir(s->dir);
	while (d && (de = readdir(d)))
		if ((!strcmp(de->d_name, "hb.sock") || !strncmp(de->d_name, "stacks-", 7) ||
		     !strncmp(de->d_name, "fr-", 3) || !strcmp(de->d_name, "preflight.reason")) &&
		    !fd_pathf(p, sizeof(p), "%s/%s", s->dir, de->d_name))
			unlink(p);
	if (d)
		closedir(d);
	rmdir(s->dir);
	s->dir[0] = '\0';
}
