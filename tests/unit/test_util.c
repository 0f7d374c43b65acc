/* test_util.c - the unit parsers of the CLI contract and the formatters. */
#include "testhelp.h"
#include "termlog.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void durations(void)
{
	int64_t ms = -1;
	CHECK(fd_parse_duration_ms("90", &ms) == 0 && ms == 90000);
	CHECK(fd_parse_duration_ms("90s", &ms) == 0 && ms == 90000);
	CHECK(fd_parse_duration_ms("10m", &ms) == 0 && ms == 600000);
	CHECK(fd_parse_duration_ms("72h", &ms) == 0 && ms == 72LL * 3600000);
	CHECK(fd_parse_duration_ms("1.5s", &ms) == 0 && ms == 1500);
	CHECK(fd_parse_duration_ms("250ms", &ms) == 0 && ms == 250);
	CHECK(fd_parse_duration_ms("2d", &ms) == 0 && ms == 2 * 86400000LL);
	const char *bad[] = {"", "-5", "10x", "1e3", " 1", "inf", "s", "1.", ".5", "5 s", NULL};
	for (int i = 0; bad[i]; i++) {
		ms = 7;
		CHECK_EQ_INT(fd_parse_duration_ms(bad[i], &ms), -EINVAL);
		CHECK_EQ_INT(ms, 7);
	}
	CHECK(fd_parse_duration_ms(NULL, &ms) == -EINVAL);
}

static void sizes(void)
{
	uint64_t b = 0;
	CHECK(fd_parse_size("64M", &b) == 0 && b == 64000000);
	CHECK(fd_parse_size("64MiB", &b) == 0 && b == 67108864);
	CHECK(fd_parse_size("1GiB", &b) == 0 && b == 1073741824);
	CHECK(fd_parse_size("1.5G", &b) == 0 && b == 1500000000);
	CHECK(fd_parse_size("512", &b) == 0 && b == 512);
	CHECK(fd_parse_size("8gb", &b) == 0 && b == 8000000000ULL);
	CHECK(fd_parse_size("2TiB", &b) == 0 && b == 2199023255552ULL);
	const char *bad[] = {"", "-1", "1X", "GiB", "1 G", "1e3", NULL};
	for (int i = 0; bad[i]; i++)
		CHECK_EQ_INT(fd_parse_size(bad[i], &b), -EINVAL);
	CHECK_EQ_INT(fd_parse_size("99999999999T", &b), -ERANGE);
}

static void counts(void)
{
	uint64_t n = 0;
	CHECK(fd_parse_count("7B", &n) == 0 && n == 7000000000ULL);
	CHECK(fd_parse_count("7e9", &n) == 0 && n == 7000000000ULL);
	CHECK(fd_parse_count("70b", &n) == 0 && n == 70000000000ULL);
	CHECK(fd_parse_count("1.5k", &n) == 0 && n == 1500);
	CHECK(fd_parse_count("6.74e9", &n) == 0 && n == 6740000000ULL);
	CHECK_EQ_INT(fd_parse_count("7Q", &n), -EINVAL);
	CHECK_EQ_INT(fd_parse_count("-7B", &n), -EINVAL);
}

static void int_lists(void)
{
	int v[8];
	size_t n = 0;
	CHECK(fd_parse_int_list("48,63, 79", v, 8, &n) == 0);
	CHECK_EQ_INT(n, 3);
	CHECK(v[0] == 48 && v[1] == 63 && v[2] == 79);
	CHECK(fd_parse_int_list("48,,x", v, 8, &n) != 0);
	CHECK(fd_parse_int_list("1,2,3", v, 2, &n) == -ERANGE);
	int x;
	CHECK(fd_parse_uint("8", &x) == 0 && x == 8);
	CHECK(fd_parse_uint("-3", &x) == -EINVAL);
	CHECK(fd_parse_uint("99999999999", &x) == -ERANGE);
}

/* Above 2^63 a size or count used to wrap through llround: exact or -ERANGE. */
static void above_2_63(void)
{
	uint64_t v = 0;

	CHECK_EQ_INT(fd_parse_size("16000000000000000000", &v), 0);
	CHECK(v == 16000000000000000000ULL);
	CHECK_EQ_INT(fd_parse_size("18446744073709551615", &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_EQ_INT(fd_parse_size("18446744073709551616", &v), -ERANGE);
	CHECK_EQ_INT(fd_parse_size("17T", &v), 0);
	CHECK(v == 17000000000000ULL);
	CHECK_EQ_INT(fd_parse_size("20000000TiB", &v), -ERANGE);
	CHECK_EQ_INT(fd_parse_size("9223372036854775809", &v), 0);
	CHECK(v == 9223372036854775809ULL);
	CHECK_EQ_INT(fd_parse_count("1e19", &v), 0);
	CHECK(v == 10000000000000000000ULL);
	CHECK_EQ_INT(fd_parse_count("1.8e19", &v), 0);
	CHECK(v == 18000000000000000000ULL);
	CHECK_EQ_INT(fd_parse_count("2e19", &v), -ERANGE);
	CHECK_EQ_INT(fd_parse_count("18446744073709551616", &v), -ERANGE);
	CHECK_EQ_INT(fd_parse_count("99999999999999999999999", &v), -ERANGE);
	CHECK_EQ_INT(fd_parse_count("20000000T", &v), -ERANGE);
	CHECK_EQ_INT(fd_parse_count("12345678901234567890", &v), 0);
	CHECK(v == 12345678901234567890ULL);
}

/* Deadlines and products of durations saturate instead of wrapping. */
static void saturating(void)
{
	const int64_t max_ms = 2562047LL * 3600000; /* the option layer's largest duration */

	CHECK_EQ_INT(fd_ms_to_ns(1500), 1500000000LL);
	CHECK_EQ_INT(fd_ms_to_ns(max_ms), max_ms * 1000000);
	CHECK(fd_ms_to_ns(INT64_MAX / 1000) == INT64_MAX);
	CHECK(fd_ms_to_ns(-5) == 0); /* a negative duration is no time */
	/* a large uptime plus the largest duration: past INT64_MAX, saturates */
	CHECK(fd_deadline_ns(400LL * 86400 * 1000000000, max_ms) == INT64_MAX);
	CHECK_EQ_INT(fd_deadline_ns(1000, 2), 2001000);
	CHECK(fd_sat_add(INT64_MAX - 1, 5) == INT64_MAX);
	CHECK(fd_sat_add(INT64_MIN + 1, -5) == INT64_MIN);
	CHECK_EQ_INT(fd_sat_add(3, -5), -2);
	CHECK(fd_sat_mul(INT64_MAX / 2 + 1, 2) == INT64_MAX);
	CHECK(fd_sat_mul(-(INT64_MAX / 2 + 2), 2) == INT64_MIN);
	CHECK_EQ_INT(fd_sat_mul(-3, 4), -12);
	CHECK(fd_dbl_to_i64(1e30) == INT64_MAX);
	CHECK(fd_dbl_to_i64(-1e30) == INT64_MIN);
	CHECK(fd_dbl_to_i64(9223372036854775807.0) == INT64_MAX); /* 2^63 itself */
	CHECK_EQ_INT(fd_dbl_to_i64(NAN), 0);
	CHECK_EQ_INT(fd_dbl_to_i64(1234.7), 1234);
}

/* A config or config.json path naming /dev/zero: -EFBIG, not all of memory. */
static void read_all_bound(void)
{
	char *buf = NULL;
	size_t n = 0;

	CHECK_EQ_INT(fd_read_all("/dev/zero", &buf, &n), -EFBIG);
	CHECK(buf == NULL);
	CHECK_EQ_INT(fd_read_all("/dev/null", &buf, &n), 0);
	CHECK(buf && n == 0);
	free(buf);
}

static void formatting(void)
{
	char b[32];
	fd_fmt_bytes(65536ULL * 1024, b, sizeof(b));
	CHECK_STREQ(b, "64.0 MiB");
	fd_fmt_bytes(512, b, sizeof(b));
	CHECK_STREQ(b, "512 B");
	fd_fmt_duration(850, b, sizeof(b));
	CHECK_STREQ(b, "850 ms");
	fd_fmt_duration(24 * 3600000LL, b, sizeof(b));
	CHECK_STREQ(b, "24.0 h");
	fd_fmt_duration(10 * 60000LL, b, sizeof(b));
	CHECK_STREQ(b, "10.0 min");
	char bdf[32] = "00000000:1B:00.0";
	fd_pci_normalise(bdf);
	CHECK_STREQ(bdf, "0000:1b:00.0");
	strcpy(bdf, "0001:1a:00.0");
	fd_pci_normalise(bdf);
	CHECK_STREQ(bdf, "0001:1a:00.0");
	char small[4];
	CHECK_EQ_INT(fd_strlcpy(small, "abcdef", sizeof(small)), 6);
	CHECK_STREQ(small, "abc");
}

/* The termination message: at most 4096 bytes, cut at a line end or a whole character, the
 * file written in place; "none" and no default mean none. */
static void termlog(void)
{
	char path[] = "/tmp/fd-termlog-XXXXXX", err[256], *big = malloc(10000), back[8192];
	int fd = mkstemp(path);
	ssize_t n;

	CHECK(fd >= 0 && big);
	close(fd);
	CHECK(fd_termlog_path("none") == NULL);
	CHECK(fd_termlog_path("") == fd_termlog_path(NULL)); /* unset: the default, if any */
	CHECK_STREQ(fd_termlog_path("/x/y"), "/x/y");
	/* lines of 100 bytes: cut after the 40th line, 4000 bytes */
	for (int i = 0; i < 100; i++) {
		memset(big + i * 100, 'a' + i % 26, 99);
		big[i * 100 + 99] = '\n';
	}
	big[9999] = '\0';
	CHECK_EQ_INT(fd_termlog_write(path, big, err, sizeof(err)), 0);
	fd = open(path, O_RDONLY);
	n = read(fd, back, sizeof(back));
	close(fd);
	CHECK_EQ_INT((int)n, 4000);
	CHECK(back[3999] == '\n');
	/* one line of two-byte characters: cut between two characters, at most 4096 bytes */
	for (int i = 0; i + 1 < 9999; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9; /* e-acute */
	}
	big[9998] = '\0';
	CHECK_EQ_INT(fd_termlog_write(path, big, err, sizeof(err)), 0);
	fd = open(path, O_RDONLY);
	n = read(fd, back, sizeof(back));
	close(fd);
	CHECK(n > 4000 && n <= FD_TERMLOG_MAX);
	CHECK((n % 2) == 0);
	/* a shorter message replaces a longer one whole */
	CHECK_EQ_INT(fd_termlog_write(path, "short\n", err, sizeof(err)), 0);
	fd = open(path, O_RDONLY);
	n = read(fd, back, sizeof(back));
	close(fd);
	CHECK_EQ_INT((int)n, 6);
	unlink(path);
	/* a FIFO without a reader: refused at once, not waited on */
	CHECK_EQ_INT(mkfifo(path, 0600), 0);
	CHECK(fd_termlog_write(path, "x\n", err, sizeof(err)) < 0);
	CHECK(strstr(err, "FIFO") != NULL);
	unlink(path);
	free(big);
}

static void appendf(void)
{
	char b[8];
	size_t k = 0;

	fd_appendf(b, sizeof(b), &k, "%s", "abc");
	CHECK(k == 3 && !strcmp(b, "abc"));
	fd_appendf(b, sizeof(b), &k, "%d", 12345); /* cut: 7 characters and the NUL */
	CHECK(k == 7 && !strcmp(b, "abc1234"));
	fd_appendf(b, sizeof(b), &k, "more");
	CHECK(k == 7 && !strcmp(b, "abc1234"));
	k = 0;
	fd_appendf(b, 0, &k, "x"); /* no room at all: nothing written */
	CHECK(k == 0);
}

/* fd_send_now: what a non-blocking socket takes, short when it would block, -EPIPE closed. */
static void send_now(void)
{
	static char big[1 << 20];
	int sv[2], sz = 4096;
	long k;

	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	CHECK(fd_send_now(sv[0], "abc", 3) == 3);
	k = fd_send_now(sv[0], big, sizeof(big));
	CHECK(k > 0 && k < (long)sizeof(big)); /* the buffers filled: it stops, nothing lost */
	CHECK(fd_send_now(sv[0], big, sizeof(big)) == 0);
	close(sv[1]);
	CHECK(fd_send_now(sv[0], "x", 1) == -EPIPE);
	close(sv[0]);
}

const struct unit_test util_tests[] = {
    {"util: fd_appendf cuts what does not fit", appendf},
    {"util: fd_send_now sends what the socket takes now", send_now},
    {"util: the termination message", termlog},
    {"util: durations", durations},
    {"util: sizes", sizes},
    {"util: counts", counts},
    {"util: int lists", int_lists},
    {"util: formatting", formatting},
    {"util: sizes and counts above 2^63", above_2_63},
    {"util: saturating durations", saturating},
    {"util: fd_read_all is bounded", read_all_bound},
    {NULL, NULL},
};
