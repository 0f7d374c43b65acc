/*
 * misbehave.c - a training job that fails on purpose, for the `flightdeck run` tests.
 *
 *   misbehave MODE [STEPS [INTERVAL_MS]]
 *
 * It beats through scripts/flightdeck_heartbeat.h (so that header is tested too), one step
 * every INTERVAL_MS (default 20), and then, by MODE:
 *   ok            finishes STEPS steps and exits 0
 *   never         never beats; sleeps
 *   hang          beats STEPS steps, then sleeps silently
 *   spin          beats STEPS steps, then keeps beating the same step (a live thread, a
 *                 stuck training loop)
 *   crash         beats STEPS steps, then exits 3
 *   ignore-term   ignores SIGTERM, beats STEPS steps, then sleeps
 *   grandchild    forks a setsid grandchild listening on a TCP port (its pid and port in
 *                 $MISBEHAVE_PIDFILE), then like `hang`
 *   ckpt-die      checkpoints into $MISBEHAVE_CKPT every 5 steps (a directory step-N with a
 *                 .metadata marker written last); on its first launch it dies half-way
 *                 through the checkpoint at step STEPS; resumed, it finishes STEPS+10 steps
 *   flood         sends garbage datagrams (no rank, binary, oversized, bad step) between
 *                 beats, then finishes like `ok`
 *   stop-once     beats STEPS steps then SIGSTOPs itself, on the first launch only; resumed
 *                 it finishes like `ok`
 *   beat          one flightdeck_beat(STEPS) and exits 0 (STEPS -1: a beat without a step):
 *                 the header's datagram, compared with `flightdeck beat`'s (t0105)
 *   checkpoint    one flightdeck_checkpoint(STEPS) and exits 0
 *   beat-total    one flightdeck_beat_total(STEPS, INTERVAL) and exits 0 (t0105)
 * The signal and lifecycle modes, ARG is an optional fourth argument:
 *   save-term     beats STEPS steps, then sleeps silently; SIGTERM starts a save of ARG ms
 *                 (default 2000) that further SIGTERMs do not interrupt, then it prints
 *                 "sigterms=N saved" (N: SIGTERMs received) and exits 0
 *   stack-exit0   beats with stacks=1, STEPS steps, then sleeps silently; the stack signal
 *                 (FLIGHTDECK_STACK_SIGNAL) makes it exit 0 on its own, without a dump
 *   done-linger   beats STEPS steps, sends the done beat (flightdeck_done), lingers ARG ms
 *                 (default 3000) without beating, as a slow teardown would, and exits 0
 *   total-linger  beats steps 0..STEPS-1 with the total STEPS (flightdeck_beat_total), then
 *                 lingers ARG ms (default 3000) without beating, as a slow teardown after
 *                 the last step would, and exits 0 (no done beat)
 *   step-reset    beats steps 1..STEPS, then 1..STEPS again (a per-epoch counter), exits 0
 *   rank-hang     beats STEPS steps; then the rank flightdeck_rank() reads (mpirun's, srun's)
 *                 that equals ARG hangs silently, the others keep making progress (t0106)
 * Socket abuse:
 *   flood-forever a hostile local process: never beats, sends flood()'s garbage in a tight
 *                 loop until killed (STEPS 1: MSG_DONTWAIT, never waiting on a full queue)
 * It prints "resumed from PATH" when FLIGHTDECK_RESUME_FROM is set.
 */
#define _GNU_SOURCE
#include "flightdeck_heartbeat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static void grandchild(void)
{
	const char *pidfile = getenv("MISBEHAVE_PIDFILE");
	pid_t p = fork();

	if (p < 0)
		exit(5);
	if (p > 0)
		return;
	/* The child double-forks into a new session, as a daemon would. */
	setsid();
	if (fork() > 0)
		_exit(0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		_exit(6);
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (f) {
			fprintf(f, "%d %d\n", (int)getpid(), ntohs(sa.sin_port));
			fclose(f);
		}
	}
	signal(SIGTERM, SIG_IGN);
	sleep_forever();
}

static void write_ckpt(const char *dir, long step, int die_midway)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/step-%ld", dir, step);
	mkdir(dir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/step-%ld/weights.bin", dir, step);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%ld\n", step);
		fclose(f);
	}
	if (die_midway) {
		flightdeck_checkpoint(1);
		nap(50);
		_exit(9); /* no .metadata: this checkpoint is not complete */
	}
	snprintf(path, sizeof(path), "%s/step-%ld/.metadata", dir, step);
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

/* ---- the signal and lifecycle modes (see the top) ---- */
static volatile sig_atomic_t sigterms, stack_asked;

static void on_term(int sig)
{
	(void)sig;
	sigterms++;
}

static void on_stack(int sig)
{
	(void)sig;
	stack_asked = 1;
}

/* Saves for ms milliseconds whatever signals come, then says how many SIGTERMs came. */
static int save_after_term(int ms)
{
	while (!sigterms)
		pause();
	for (int t = 0; t < ms; t += 10)
		nap(10);
	printf("sigterms=%d saved\n", (int)sigterms);
	return 0;
}

/* A beat that says the sender registered a stack dump, as the Python client's does. */
static void beat_with_stacks(long step)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "rank=%d step=%ld stacks=1", flightdeck_rank(), step);

	if (flightdeck_hb_socket_() >= 0)
		sendto(flightdeck_hb_fd_, msg, (size_t)n, 0,
		       (struct sockaddr *)&flightdeck_hb_addr_, sizeof(flightdeck_hb_addr_));
}

/* The modes above; -1 when mode is not one of them. */
static int lifecycle(const char *mode, long steps, int interval, int arg)
{
	if (!strcmp(mode, "save-term")) {
		struct sigaction sa = {.sa_handler = on_term};

		sigaction(SIGTERM, &sa, NULL);
		for (long s = 1; s <= steps; s++) {
			nap(interval);
			flightdeck_beat(s);
		}
		printf("saving on SIGTERM\n");
		return save_after_term(arg > 0 ? arg : 2000);
	}
	if (!strcmp(mode, "stack-exit0")) {
		const char *sig = getenv("FLIGHTDECK_STACK_SIGNAL");
		struct sigaction sa = {.sa_handler = on_stack};

		if (!sig || sigaction(atoi(sig), &sa, NULL))
			return 4;
		for (long s = 1; s <= steps; s++) {
			nap(interval);
			beat_with_stacks(s);
		}
		while (!stack_asked)
			pause();
		nap(100);
		printf("asked for stacks: exiting 0\n");
		return 0;
	}
	if (!strcmp(mode, "done-linger")) {
		for (long s = 1; s <= steps; s++) {
			nap(interval);
			flightdeck_beat(s);
		}
		flightdeck_done();
		nap(arg > 0 ? arg : 3000);
		printf("done\n");
		return 0;
	}
	if (!strcmp(mode, "total-linger")) {
		for (long s = 0; s < steps; s++) {
			nap(interval);
			flightdeck_beat_total(s, steps);
		}
		nap(arg > 0 ? arg : 3000);
		printf("torn down\n");
		return 0;
	}
	if (!strcmp(mode, "step-reset")) {
		for (int round = 0; round < 2; round++)
			for (long s = 1; s <= steps; s++) {
				nap(interval);
				flightdeck_beat(s);
			}
		printf("done\n");
		return 0;
	}
	if (!strcmp(mode, "rank-hang")) {
		long s = 1;

		for (; s <= steps || flightdeck_rank() != arg; s++) {
			nap(interval);
			flightdeck_beat(s);
		}
		printf("rank %d hangs at step %ld\n", flightdeck_rank(), s - 1);
		sleep_forever();
	}
	return -1;
}

static void flood(void)
{
	static const char *const junk[] = {"step=5", "rank=x step=1",	   "rank=0 step=-3",
					   "hello",  "rank=0 phase=lunch", "\x01\x02\xff"};
	char big[2048];

	memset(big, 'A', sizeof(big));
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		sendto(flightdeck_hb_fd_, junk[i], strlen(junk[i]), 0,
		       (struct sockaddr *)&flightdeck_hb_addr_, sizeof(flightdeck_hb_addr_));
	sendto(flightdeck_hb_fd_, big, sizeof(big), 0, (struct sockaddr *)&flightdeck_hb_addr_,
	       sizeof(flightdeck_hb_addr_));
}

/* Issue 11's socket abuse: a process that only floods the heartbeat socket. */
static int abuse(const char *mode, long steps)
{
	static const char *const junk[] = {"hello", "rank=x step=1", "step=5", "\x01\x02\xff"};
	int flags = steps == 1 ? MSG_DONTWAIT : 0;

	if (strcmp(mode, "flood-forever"))
		return -1;
	if (flightdeck_hb_socket_() < 0)
		return 4;
	for (unsigned long i = 0;; i++) {
		const char *m = junk[i % (sizeof(junk) / sizeof(junk[0]))];

		if (sendto(flightdeck_hb_fd_, m, strlen(m), flags,
			   (struct sockaddr *)&flightdeck_hb_addr_,
			   sizeof(flightdeck_hb_addr_)) < 0 &&
		    errno == EAGAIN && flags)
			sched_yield();
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "ok";
	long steps = argc > 2 ? atol(argv[2]) : 10;
	int interval = argc > 3 ? atoi(argv[3]) : 20;
	const char *resume = getenv("FLIGHTDECK_RESUME_FROM");
	const char *restart = getenv("FLIGHTDECK_RESTART_COUNT");
	const char *ckpt = getenv("MISBEHAVE_CKPT");
	int first = !restart || !strcmp(restart, "0");
	long start = 0;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = lifecycle(mode, steps, interval, argc > 4 ? atoi(argv[4]) : 0);
	if (rc >= 0)
		return rc;
	rc = abuse(mode, steps);
	if (rc >= 0)
		return rc;
	if (!strcmp(mode, "beat")) {
		flightdeck_beat(steps);
		return 0;
	}
	if (!strcmp(mode, "checkpoint")) {
		flightdeck_checkpoint((int)steps);
		return 0;
	}
	if (!strcmp(mode, "beat-total")) {
		flightdeck_beat_total(steps, interval);
		return 0;
	}
	if (resume) {
		const char *dash = strrchr(resume, '-');

		printf("resumed from %s\n", resume);
		if (dash)
			start = atol(dash + 1);
	}
	if (!strcmp(mode, "never"))
		sleep_forever();
	if (!strcmp(mode, "ignore-term"))
		signal(SIGTERM, SIG_IGN);
	if (!strcmp(mode, "grandchild"))
		grandchild();
	if (!strcmp(mode, "ckpt-die") && !first)
		steps += 10;
	flightdeck_beat(start); /* opens the socket */
	for (long s = start + 1; s <= steps; s++) {
		nap(interval);
		if (!strcmp(mode, "flood"))
			flood();
		if (!strcmp(mode, "ckpt-die") && ckpt && s % 5 == 0)
			write_ckpt(ckpt, s, first && s == steps);
		flightdeck_beat(s);
		printf("step %ld\n", s);
	}
	if (!strcmp(mode, "crash"))
		return 3;
	if (!strcmp(mode, "spin"))
		for (;;) {
			nap(interval);
			flightdeck_beat(steps);
		}
	if (!strcmp(mode, "stop-once") && first)
		raise(SIGSTOP);
	if (!strcmp(mode, "hang") || !strcmp(mode, "ignore-term") || !strcmp(mode, "grandchild"))
		sleep_forever();
	printf("done\n");
	return 0;
}
