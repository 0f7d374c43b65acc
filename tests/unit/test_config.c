/* test_config.c - the tunables table: defaults, setting, the config file. */
#include "config.h"
#include "testhelp.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int has(const int *v, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static void defaults(void)
{
	struct fd_config c;
	unsetenv("FLIGHTDECK_SYSFS_ROOT");
	fd_config_init(&c);
	CHECK_EQ_INT(c.shm_min, 1073741824ULL);
	CHECK_EQ_INT(c.counter_window_ms, 1000);
	CHECK_EQ_INT(c.expect_gpus, -1);
	CHECK(c.memlock_min == FD_MEMLOCK_UNLIMITED);
	CHECK(has(c.xid_fatal, c.n_xid_fatal, 48) && has(c.xid_fatal, c.n_xid_fatal, 79));
	CHECK(!has(c.xid_fatal, c.n_xid_fatal, 13) && has(c.xid_app, c.n_xid_app, 13));
	CHECK_STREQ(c.sysfs_root, "/sys");
	CHECK_STREQ(c.kmsg, "/dev/kmsg");
	setenv("FLIGHTDECK_SYSFS_ROOT", "/tmp/fixture-sys", 1);
	fd_config_init(&c);
	CHECK_STREQ(c.sysfs_root, "/tmp/fixture-sys");
	unsetenv("FLIGHTDECK_SYSFS_ROOT");
}

static void setting(void)
{
	struct fd_config c;
	char err[256];
	fd_config_init(&c);
	CHECK(fd_config_set(&c, "xid-window", "12h", err, sizeof(err)) == 0);
	CHECK_EQ_INT(c.xid_window_ms, 12 * 3600000LL);
	CHECK(fd_config_set(&c, "expect-gpus", "auto", err, sizeof(err)) == 0 &&
	      c.expect_gpus == -1);
	CHECK(fd_config_set(&c, "expect-gpus", "8", err, sizeof(err)) == 0 && c.expect_gpus == 8);
	CHECK(fd_config_set(&c, "expect-ib-rate", "400 Gb/sec", err, sizeof(err)) == 0);
	CHECK(c.expect_ib_rate == 400.0);
	CHECK(fd_config_set(&c, "memlock-min", "64GiB", err, sizeof(err)) == 0);
	CHECK_EQ_INT(c.memlock_min, 64ULL << 30);
	CHECK(fd_config_set(&c, "shm-min", "lots", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "shm-min") && strstr(err, "'lots'"));
	CHECK(fd_config_set(&c, "no-such", "1", err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "no-such") != NULL);
	char out[64];
	size_t n;
	const struct fd_opt *rows = fd_config_rows(&n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, "xid-window")) {
			fd_opt_format(&rows[i], &c, out, sizeof(out));
			CHECK_STREQ(out, "12h");
		}
}

static void file(void)
{
	struct fd_config c;
	char path[] = "/tmp/fd-config-XXXXXX", err[512];
	int fd = mkstemp(path);
	const char text[] = "# thresholds\n\nshm-min = 2GiB  # inline comment\n"
			    "  counter-window=250ms\nxid-fatal = 48,79\n";
	CHECK(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
	close(fd);
	fd_config_init(&c);
	CHECK(fd_config_load(&c, path, err, sizeof(err)) == 0);
	CHECK_EQ_INT(c.shm_min, 2ULL << 30);
	CHECK_EQ_INT(c.counter_window_ms, 250);
	CHECK_EQ_INT(c.n_xid_fatal, 2);

	FILE *f = fopen(path, "w");
	fputs("shm-min = 1G\n\nthis has no equals\n", f);
	fclose(f);
	CHECK(fd_config_load(&c, path, err, sizeof(err)) != 0);
	char want[600];
	snprintf(want, sizeof(want), "%s:3:", path);
	CHECK(strstr(err, want) != NULL);
	unlink(path);
	CHECK(fd_config_load(&c, path, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, path) != NULL);
}

const struct unit_test config_tests[] = {
    {"config: defaults and env seams", defaults},
    {"config: set, errors, format", setting},
    {"config: file", file},
    {NULL, NULL},
};
