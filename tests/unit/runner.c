/*
 * runner.c - runs every unit test in its own process with a 10 s timeout (libuv's way: a
 * crash or a hang in one test cannot take the suite down), prints ok / not ok per test and
 * "N passed, N failed" at the end. An optional argument filters tests by substring.
 */
#include "testhelp.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int unit_failed;

extern const struct unit_test util_tests[], config_tests[], host_tests[], ib_tests[], gpu_tests[],
    kmsg_tests[], report_tests[], bw_tests[], run_tests[], memfit_tests[], opts_tests[],
    loop_tests[], group_tests[], supervisor_tests[], proctree_tests[], nvml_tests[], hbsock_tests[],
    duration_tests[], sha256_tests[], hostlist_tests[], frame_tests[], ident_tests[], world_tests[],
    round_tests[], pairs_tests[];

const struct fd_finding *find_code(const struct fd_report *rep, const char *code)
{
	for (size_t i = 0; i < rep->n; i++)
		if (rep->v[i].code && !strcmp(rep->v[i].code, code))
			return &rep->v[i];
	return NULL;
}

const struct fd_finding *find_check(const struct fd_report *rep, const char *check,
				    enum fd_status st)
{
	for (size_t i = 0; i < rep->n; i++)
		if (!strcmp(rep->v[i].check, check) && rep->v[i].status == st)
			return &rep->v[i];
	return NULL;
}

size_t count_code(const struct fd_report *rep, const char *code)
{
	size_t n = 0;
	for (size_t i = 0; i < rep->n; i++)
		n += rep->v[i].code && !strcmp(rep->v[i].code, code);
	return n;
}

size_t count_status(const struct fd_report *rep, const char *check, enum fd_status st)
{
	size_t n = 0;
	for (size_t i = 0; i < rep->n; i++)
		n += !strcmp(rep->v[i].check, check) && rep->v[i].status == st;
	return n;
}

int main(int argc, char **argv)
{
	const struct unit_test *suites[] = {
	    util_tests,	 config_tests, host_tests,     ib_tests,	 gpu_tests,
	    kmsg_tests,	 report_tests, bw_tests,       run_tests,	 memfit_tests,
	    opts_tests,	 loop_tests,   group_tests,    supervisor_tests, proctree_tests,
	    nvml_tests,	 hbsock_tests, duration_tests, sha256_tests,	 hostlist_tests,
	    frame_tests, ident_tests,  world_tests,    round_tests,	 pairs_tests};
	int passed = 0, failed = 0, n = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (const struct unit_test *t = suites[s]; t->name; t++) {
			int status;
			if (argc > 1 && !strstr(t->name, argv[1]))
				continue;
			n++;
			pid_t pid = fork();
			if (pid < 0) {
				perror("fork");
				return 2;
			}
			if (pid == 0) {
				alarm(10);
				unit_failed = 0;
				t->fn();
				_exit(unit_failed ? 1 : 0);
			}
			while (waitpid(pid, &status, 0) < 0)
				;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				printf("ok %d - %s\n", n, t->name);
				passed++;
			} else {
				if (WIFSIGNALED(status))
					printf("not ok %d - %s (%s)\n", n, t->name,
					       WTERMSIG(status) == SIGALRM
						   ? "timeout"
						   : strsignal(WTERMSIG(status)));
				else
					printf("not ok %d - %s (exit %d)\n", n, t->name,
					       WEXITSTATUS(status));
				failed++;
			}
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
