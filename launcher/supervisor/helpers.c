/*
 * helpers.c - the helper children that run between attempts: the preflight
 * (`flightdeck check`) and the GPU wait (`flightdeck gpu-wait`). Both are executions of
 * flightdeck itself, started through fd_spawn_start, so nothing in the supervisor can block
 * on a GPU and nothing but exec runs between fork and exec (docs/architecture.md,
 * "The supervisor"). These functions start a helper and report what it said; phase.c
 * decides what comes next.
 */
#include "spawn.h"
#include "sv.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reads what the quiet preflight printed (what does not fit is left out). */
static void text_read(struct fd_loop *l, int fd, uint32_t events, void *arg)
{
	struct sup_helper_text *t = arg;
	char junk[4096];

	for (;;) {
		size_t room = HELPER_TEXT_MAX - t->len;
		ssize_t n = room ? read(fd, t->buf + t->len, room) : read(fd, junk, sizeof(junk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			fd_loop_del(l, fd);
			close(fd);
			t->fd = -1;
			return;
		}
		if (room)
			t->len += (size_t)n;
	}
}

/*
 * An unfit node's findings for the coordinator's table, one "check code subject" line per
 * FAIL row of check's text table (CHECK SUBJECT VALUE EXPECTED CODE).
 */
static void unfit_detail(struct sv *s, int found, char *detail, size_t len)
{
	char *line, *save = NULL;
	size_t k = 0;

	*detail = '\0';
	for (line = strtok_r(s->helper_text.buf, "\n", &save); line && k + 80 < len;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tok[16], *tsave = NULL;
		int n = 0;

		if (strncmp(line, "FAIL ", 5))
			continue;
		for (char *w = strtok_r(line + 5, " ", &tsave); w && n < 16;
		     w = strtok_r(NULL, " ", &tsave))
			tok[n++] = w;
		if (n >= 3)
			k += (size_t)snprintf(detail + k, len - k, "%s %s %s\n", tok[0], tok[n - 1],
					      tok[1]);
	}
	if (!k)
		snprintf(detail, len, "preflight %s\n", found ? "found failures" : "could not run");
	s->helper_text.len = 0;
}

/* The unfit preflight's "CODE[,CODE] SUBJECT", from its --reason-file; "" without one. */
static void read_codes(struct sv *s)
{
	char path[PATH_MAX], line[sizeof(s->att.codes) + 16] = "";
	FILE *f;

	s->att.codes[0] = '\0';
	if (fd_pathf(path, sizeof(path), "%s/preflight.reason", s->beats.hb.dir))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		const char *p = strncmp(line, "flightdeck: ", 12) ? line : line + 12;

		fd_strlcpy(s->att.codes, p, sizeof(s->att.codes));
		s->att.codes[strcspn(s->att.codes, "\n")] = '\0';
	}
	fclose(f);
}

/* The helper is gone: the rest of its text, then shown (unfit) or forgotten (fit). */
static void text_done(struct sv *s, int show)
{
	struct sup_helper_text *t = &s->helper_text;

	if (t->fd >= 0) {
		text_read(&s->loop, t->fd, EPOLLIN, t);
		if (t->fd >= 0) { /* a grandchild still holds it: what came is enough */
			fd_loop_del(&s->loop, t->fd);
			close(t->fd);
			t->fd = -1;
		}
	}
	t->buf[t->len] = '\0';
	if (show && t->len)
		out_say(s, t->buf);
}

enum helper_start helper_start_preflight(struct sv *s)
{
	static const char *const levels[] = {"none", "quick", "standard"};
	char *argv[14];
	struct fd_spawn sp = {0};
	char err[PATH_MAX + 128];
	static char reason[PATH_MAX];
	int n = 0, eno;

	if (s->o->preflight == FD_PREFLIGHT_NONE)
		return HELPER_NOT_NEEDED;
	argv[n++] = s->self_exe;
	argv[n++] = "check";
	argv[n++] = "--level";
	argv[n++] = (char *)levels[s->o->preflight];
	argv[n++] = "-q";
	if (s->o->checkpoint_dir) {
		argv[n++] = "--checkpoint-dir";
		argv[n++] = (char *)s->o->checkpoint_dir;
	}
	if (s->o->check_config) {
		argv[n++] = "--config";
		argv[n++] = (char *)s->o->check_config;
	}
	/* the codes, for the events log and the termination message */
	if (s->beats.hb.dir[0] &&
	    !fd_pathf(reason, sizeof(reason), "%s/preflight.reason", s->beats.hb.dir)) {
		unlink(reason);
		argv[n++] = "--reason-file";
		argv[n++] = reason;
	}
	argv[n] = NULL;
	sp.argv = argv;
	/* the job's stdout stays the job's: the table goes to stderr, or with run -q is kept
	 * and shown only when the node is unfit; in a group it is kept either way, since its
	 * failures go to the coordinator's table */
	sp.stdout_to_stderr = !s->o->quiet && s->group.size < 2;
	sp.capture_stdout = s->o->quiet || s->group.size > 1;
	if (fd_spawn_start(&sp, &eno, err, sizeof(err))) {
		ev_say(s, "preflight: %s", err);
		return HELPER_FAILED;
	}
	s->helper_text.len = 0;
	s->helper_text.fd = sp.out_fd;
	if (sp.out_fd >= 0 &&
	    fd_loop_add(&s->loop, sp.out_fd, EPOLLIN, text_read, &s->helper_text)) {
		close(sp.out_fd); /* the table is lost; the verdict is not */
		s->helper_text.fd = -1;
	}
	s->procs.helper = sp.pid;
	s->procs.helper_done = 0;
	return HELPER_STARTED;
}

enum helper_start helper_start_gpu_wait(struct sv *s)
{
	char ms[32], err[PATH_MAX + 128];
	char *argv[] = {s->self_exe, "gpu-wait", "--timeout", ms, NULL};
	struct fd_spawn sp = {.argv = argv, .stdout_to_stderr = 1};
	int eno;

	snprintf(ms, sizeof(ms), "%lldms", (long long)s->o->gpu_release_ms);
	if (fd_spawn_start(&sp, &eno, err, sizeof(err)))
		return HELPER_FAILED; /* the preflight judges the GPUs anyway */
	s->procs.helper = sp.pid;
	s->procs.helper_done = 0;
	return HELPER_STARTED;
}

enum helper_result helper_exited(struct sv *s, char *detail, size_t len)
{
	pid_t h = s->procs.helper;
	int st = s->procs.helper_status;

	s->procs.helper = -1;
	text_done(s, s->phase == PH_PREFLIGHT && !s->stop_signal &&
			 (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) || !s->o->quiet));
	if (s->stop_signal)
		return HELPER_STOPPED;
	if (s->phase == PH_GPU_WAIT) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
			ev_say(s, "GPUs still hold compute processes after --gpu-release-timeout; "
				  "the preflight will judge");
		return HELPER_GPUS_FREE;
	}
	if (s->phase != PH_PREFLIGHT)
		return HELPER_NOTHING;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		ev_emit(s, "preflight", RANK_NONE, -1, NULL, 0, ev_fields("verdict", "fit"));
		return HELPER_FIT;
	}
	ev_say(s, "preflight: this node is unfit (flightdeck check %s, pid %d); not launching",
	       WIFEXITED(st) && WEXITSTATUS(st) == 1 ? "found failures" : "could not run", (int)h);
	read_codes(s);
	/* this node's view of the attempt that never launched (the exit event's reason) */
	s->att.fail = FD_FAIL_PREFLIGHT;
	snprintf(s->att.what, sizeof(s->att.what), "flightdeck check %s%s%s",
		 WIFEXITED(st) && WEXITSTATUS(st) == 1 ? "found failures" : "could not run",
		 s->att.codes[0] ? ": " : "", s->att.codes);
	cJSON *o = ev_fields("verdict", "unfit");
	if (o && s->att.codes[0])
		cJSON_AddStringToObject(o, "codes", s->att.codes);
	ev_emit(s, "preflight", RANK_NONE, -1, NULL, tree_status_code(st), o);
	unfit_detail(s, WIFEXITED(st) && WEXITSTATUS(st) == 1, detail, len);
	return HELPER_UNFIT;
}

/* NVML or a GPU test hung: never wedge on a helper. 1 when it was past the deadline. */
int helper_check_deadline(struct sv *s, int64_t now)
{
	if (!s->deadline || now < s->deadline || s->procs.helper <= 0)
		return 0;
	ev_say(s, "the %s helper (pid %d) is past its deadline: killing it",
	       sup_phase_name(s->phase), (int)s->procs.helper);
	tree_signal(-s->procs.helper, SIGKILL);
	return 1;
}
