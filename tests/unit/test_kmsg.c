/* test_kmsg.c - the two kernel-log formats. */
#include "gpu.h"
#include "kmsg.h"
#include "testhelp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void lines(void)
{
	struct fd_kmsg_line l;
	CHECK(fd_kmsg_parse_line("4,1234,5678901234,-;NVRM: Xid (PCI:0000:3b:00): 79, pid=1", &l) ==
	      0);
	CHECK_EQ_INT(l.ts_us, 5678901234LL);
	CHECK(!strncmp(l.text, "NVRM", 4));
	CHECK(fd_kmsg_parse_line("6,77,12,-,caller=T1;hello", &l) == 0 && l.ts_us == 12);
	CHECK_STREQ(l.text, "hello");
	CHECK(fd_kmsg_parse_line("[ 5678.901234] NVRM: Xid", &l) == 0);
	CHECK_EQ_INT(l.ts_us, 5678901234LL);
	CHECK_STREQ(l.text, "NVRM: Xid");
	CHECK(fd_kmsg_parse_line("[5678.9] x", &l) == 0 && l.ts_us == 5678900000LL);
	CHECK(fd_kmsg_parse_line("[12] y", &l) == 0 && l.ts_us == 12000000LL);
	CHECK_EQ_INT(fd_kmsg_parse_line(" SUBSYSTEM=pci", &l), -ENODATA);
	CHECK_EQ_INT(fd_kmsg_parse_line("", &l), -ENODATA);
	CHECK(fd_kmsg_parse_line("Nov 10 12:00:00 node kernel: NVRM: Xid", &l) == 0 &&
	      l.ts_us == -1);
	CHECK(fd_kmsg_parse_line("[abc] z", &l) == 0 && l.ts_us == -1);
}

static void load(void)
{
	char path[] = "/tmp/fd-kmsg-XXXXXX", err[256];
	const char text[] = "6,1,100,-;first\n SUBSYSTEM=pci\n[ 2.5] second\nplain third\n\n"
			    "4,2,3000000,-;fourth";
	int fd = mkstemp(path);
	CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
	close(fd);
	struct fd_kmsg_log *log = NULL;
	CHECK(fd_kmsg_load(path, &log, err, sizeof(err)) == 0);
	CHECK(log && log->n == 4);
	if (log && log->n == 4) {
		CHECK_STREQ(log->lines[1].text, "second");
		CHECK_EQ_INT(log->lines[3].ts_us, 3000000);
		log->uptime_ms = 10000;
		CHECK_EQ_INT(fd_kmsg_age_ms(log, 3000000), 7000);
		CHECK_EQ_INT(fd_kmsg_age_ms(log, -1), -1);
		log->uptime_ms = -1;
		CHECK_EQ_INT(fd_kmsg_age_ms(log, 3000000), -1);
	}
	fd_kmsg_free(log);
	unlink(path);
	CHECK(fd_kmsg_load(path, &log, err, sizeof(err)) == -ENOENT && strstr(err, path));
}

/* The newest Xid of a job's time, not an application's: the stall's evidence on the machine. */
static void xid_since(void)
{
	char text[] = "[ 10.0] NVRM: Xid (PCI:0000:3b:00): 48, pid=1, DBE\n"
		      "[ 990.0] NVRM: Xid (PCI:0000:3b:00): 79, pid=2, fell off the bus\n"
		      "[ 995.0] NVRM: Xid (PCI:0000:5e:00): 13, pid=3, Graphics Exception\n"
		      "NVRM: Xid (PCI:0000:86:00): 94, no timestamp\n";
	struct fd_kmsg_line lines[4];
	struct fd_kmsg_log log = {.lines = lines, .n = 0, .uptime_ms = 1000000};
	int app[] = {13, 31, 43};
	char out[256];

	for (char *l = strtok(text, "\n"); l && log.n < 4; l = strtok(NULL, "\n"))
		CHECK(fd_kmsg_parse_line(l, &lines[log.n++]) == 0);
	CHECK_EQ_INT(log.n, 4);
	/* the job started 60 s ago: 79 (10 s ago) counts; 13 is the job's own; 48 is older */
	CHECK_EQ_INT(gpu_xid_since(&log, app, 3, 60000, out, sizeof(out)), 1);
	CHECK_STREQ(out, "Xid 79 (GPU has fallen off the bus) on 0000:3b:00, 10.0 s ago (since the "
			 "job started)");
	/* started 5 s ago: only 13 is that recent, and it is an application's */
	CHECK_EQ_INT(gpu_xid_since(&log, app, 3, 5000, out, sizeof(out)), 0);
	CHECK_STREQ(out, "");
	/* no application list: 13 is the newest */
	CHECK_EQ_INT(gpu_xid_since(&log, NULL, 0, 5000, out, sizeof(out)), 1);
	CHECK(strstr(out, "Xid 13 (graphics engine exception) on 0000:5e:00, 5.0 s ago") == out);
	/* no uptime: no age, nothing known to be this job's */
	log.uptime_ms = -1;
	CHECK_EQ_INT(gpu_xid_since(&log, app, 3, 60000, out, sizeof(out)), 0);
	CHECK_EQ_INT(gpu_xid_since(NULL, app, 3, 60000, out, sizeof(out)), 0);
}

/* Timestamps and uptimes that do not fit int64 microseconds or milliseconds. */
/* The OOM killer's lines, as the kernel writes them (6.1, and a memory cgroup's). */
static void oom_killed(void)
{
	struct fd_kmsg_line v[] = {
	    {100, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
		  "global_oom,task_memcg=/user.slice,task=python3,pid=4242,uid=1000"},
	    {101, "Out of memory: Killed process 4242 (python3) total-vm:9043712kB, "
		  "anon-rss:8123456kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:16384kB "
		  "oom_score_adj:0"},
	    {102, "Memory cgroup out of memory: Killed process 777 (python3) total-vm:1000kB"},
	    {103, "python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, pid 31"},
	};
	struct fd_kmsg_log log = {.lines = v, .n = 1, .uptime_ms = -1};

	CHECK_EQ_INT(fd_kmsg_oom_killed(&log, 4242), 1); /* the oom-kill: summary alone */
	CHECK_EQ_INT(fd_kmsg_oom_killed(&log, 424), 0);	 /* not a prefix of another pid */
	log.lines = v + 1, log.n = 3;
	CHECK_EQ_INT(fd_kmsg_oom_killed(&log, 4242), 1);
	CHECK_EQ_INT(fd_kmsg_oom_killed(&log, 777), 1);
	CHECK_EQ_INT(fd_kmsg_oom_killed(&log, 31), 0); /* the invoking task is not the killed one */
	CHECK_EQ_INT(fd_kmsg_oom_killed(&log, 42), 0);
	CHECK_EQ_INT(fd_kmsg_oom_killed(NULL, 4242), 0);
	CHECK_EQ_INT(fd_kmsg_oom_killed(&log, 0), 0);
}

static void overflow(void)
{
	struct fd_kmsg_line l;
	char dir[] = "/tmp/fd-uptime-XXXXXX", path[512];
	const char *bad[] = {"inf", "nan", "1e19", "-5", "9223372036854775807", "-nan", NULL};

	CHECK(fd_kmsg_parse_line("[9223372036855] x", &l) == 0);
	CHECK_EQ_INT(l.ts_us, -1); /* kept as a message, without a timestamp */
	CHECK(fd_kmsg_parse_line("[9223372036854.775807] y", &l) == 0);
	CHECK_EQ_INT(l.ts_us, 9223372036854775807LL); /* the last one that fits */
	CHECK(fd_kmsg_parse_line("[9223372036854.775808] y", &l) == 0);
	CHECK_EQ_INT(l.ts_us, -1);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/uptime", dir);
	for (int i = 0; bad[i]; i++) {
		FILE *f = fopen(path, "w");
		CHECK(f != NULL);
		if (!f)
			break;
		fprintf(f, "%s 1.0\n", bad[i]);
		fclose(f);
		if (fd_kmsg_uptime_ms(dir) != -1)
			printf("    uptime '%s' was read as %lld\n", bad[i],
			       (long long)fd_kmsg_uptime_ms(dir));
		CHECK_EQ_INT(fd_kmsg_uptime_ms(dir), -1);
	}
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(f, "3047.94 6045.26\n");
		fclose(f);
	}
	CHECK_EQ_INT(fd_kmsg_uptime_ms(dir), 3047940);
	unlink(path);
	rmdir(dir);
}

const struct unit_test kmsg_tests[] = {
    {"kmsg: record and dmesg lines", lines},
    {"kmsg: load a file", load},
    {"kmsg: timestamps and uptimes past int64", overflow},
    {"kmsg: the newest Xid since the job started, not an application's", xid_since},
    {"kmsg: whom the OOM killer killed", oom_killed},
    {NULL, NULL},
};
