/*
 * testhelp.h - a small unit-test harness (in the spirit of redis' testhelp.h).
 *
 * Each test is a void function; the CHECK macros report file:line and the expression and
 * mark the test failed without stopping it, so one run shows every broken assertion.
 * runner.c runs each test in its own child process with a timeout.
 */
#ifndef FD_TESTHELP_H
#define FD_TESTHELP_H

#include <stdio.h>
#include <string.h>

#include "check.h"

struct unit_test {
	const char *name;
	void (*fn)(void);
};

extern int unit_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);        \
			unit_failed = 1;                                                           \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			printf("    %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
			       #a, a_, #b, b_);                                                    \
			unit_failed = 1;                                                           \
		}                                                                                  \
	} while (0)

#define CHECK_STREQ(a, b)                                                                          \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                           \
			printf("    %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__,   \
			       #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                        \
			unit_failed = 1;                                                           \
		}                                                                                  \
	} while (0)

/* Helpers over a report (runner.c). */
const struct fd_finding *find_code(const struct fd_report *rep, const char *code);
const struct fd_finding *find_check(const struct fd_report *rep, const char *check,
				    enum fd_status st);
size_t count_code(const struct fd_report *rep, const char *code);
size_t count_status(const struct fd_report *rep, const char *check, enum fd_status st);

#endif
