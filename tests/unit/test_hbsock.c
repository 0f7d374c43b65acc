/*
 * test_hbsock.c - the heartbeat socket itself (launcher/supervisor/heartbeat.c): the per-sender rate
 * limit and its newest-beat rule, driven by real datagrams from this
 * process.
 */
#include "heartbeat.h"
#include "testhelp.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int client(const struct fd_hb_socket *s, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	strcpy(sa->sun_path, s->path);
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void send_str(int fd, const struct sockaddr_un *sa, const char *m)
{
	CHECK(sendto(fd, m, strlen(m), 0, (const struct sockaddr *)sa, sizeof(*sa)) ==
	      (ssize_t)strlen(m));
}

static void rate_limit(void)
{
	struct fd_hb_socket *s = calloc(1, sizeof(*s));
	struct fd_beat b[64];
	struct sockaddr_un sa;
	char err[256], m[64];
	int fd, got = 0, step = 0;

	CHECK_EQ_INT(fd_hb_open(s, err, sizeof(err)), 0);
	fd = client(s, &sa);
	CHECK(fd >= 0);
	/* 40 beats of one sender in one period, 5 at a time (the kernel queues 10) */
	fd_hb_period(s);
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 5; i++) {
			snprintf(m, sizeof(m), "rank=0 step=%d", ++step);
			send_str(fd, &sa, m);
		}
		int n = fd_hb_recv(s, b, 64);
		CHECK(n >= 0);
		got += n;
	}
	CHECK_EQ_INT(got, FD_HB_PER_PID);
	CHECK_EQ_INT((int)s->dropped, 40 - FD_HB_PER_PID);
	/* the newest of the dropped ones is kept, once */
	CHECK_EQ_INT(fd_hb_flush(s, b, 64), 1);
	CHECK(b[0].rank == 0 && b[0].step == 40 && b[0].pid == getpid());
	CHECK_EQ_INT(fd_hb_flush(s, b, 64), 0);
	/* a new period: the sender may beat again */
	fd_hb_period(s);
	send_str(fd, &sa, "rank=0 step=41");
	CHECK_EQ_INT(fd_hb_recv(s, b, 64), 1);
	CHECK(b[0].step == 41);
	CHECK_EQ_INT(fd_hb_flush(s, b, 64), 0);
	/* garbage past the limit is dropped, not parsed into a beat */
	fd_hb_period(s);
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 5; i++)
			send_str(fd, &sa, "hello");
		CHECK_EQ_INT(fd_hb_recv(s, b, 64), 0);
	}
	CHECK_EQ_INT(fd_hb_flush(s, b, 64), 0);
	CHECK_EQ_INT((int)s->dropped, 2 * (40 - FD_HB_PER_PID));
	close(fd);
	fd_hb_close(s);
	free(s);
}

const struct unit_test hbsock_tests[] = {
    {"heartbeat socket: per-sender rate limit keeps the newest beat", rate_limit},
    {NULL, NULL},
};
