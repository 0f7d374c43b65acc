/*
 * test_nvml.c - the process's one NVML session (checks/hw/nvml.c), against the fake library
 * (tests/helpers/fake_nvml.c): opened once for every caller, a failure remembered, shut down
 * once at the end.
 */
#define _GNU_SOURCE
#include "testhelp.h"

#include "memfit_args.h"
#include "nvml.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

static void session_once(void)
{
	struct fd_nvml *a = NULL, *b = NULL;
	char why[256] = "", fixture[512];
	int ngpus = 0, *inits, *shutdowns;
	double free_b;
	void *lib;

	snprintf(fixture, sizeof(fixture), "%s/nvml/healthy-h100x8.conf", FD_TEST_FIXTURES);
	setenv("FLIGHTDECK_NVML_LIB", FD_TEST_FAKE_NVML, 1);
	setenv("FAKE_NVML_FIXTURE", fixture, 1);
	CHECK_EQ_INT(fd_nvml_session(&a, why, sizeof(why)), 0);
	CHECK(a != NULL);
	free_b = fd_memfit_gpu_free(&ngpus, why, sizeof(why)); /* a second user, same session */
	CHECK_EQ_INT(ngpus, 8);
	CHECK(free_b > 0);
	CHECK_EQ_INT(fd_nvml_session(&b, why, sizeof(why)), 0);
	CHECK(a == b);
	/* our own reference keeps the counters mapped after the session unloads the library */
	lib = dlopen(FD_TEST_FAKE_NVML, RTLD_NOW | RTLD_NOLOAD);
	inits = lib ? dlsym(lib, "fake_nvml_inits") : NULL;
	shutdowns = lib ? dlsym(lib, "fake_nvml_shutdowns") : NULL;
	CHECK(inits && shutdowns);
	if (inits && shutdowns) {
		CHECK_EQ_INT(*inits, 1);
		CHECK_EQ_INT(*shutdowns, 0);
		fd_nvml_session_end();
		CHECK_EQ_INT(*shutdowns, 1);
	}
	if (lib)
		dlclose(lib);
}

static void session_failure(void)
{
	struct fd_nvml *n = (struct fd_nvml *)1;
	char why[256] = "", again[256] = "";

	setenv("FLIGHTDECK_NVML_LIB", FD_TEST_FAKE_NVML, 1);
	unsetenv("FAKE_NVML_FIXTURE"); /* the fake's nvmlInit: driver not loaded */
	CHECK_EQ_INT(fd_nvml_session(&n, why, sizeof(why)), -ENODEV);
	CHECK(n == NULL);
	CHECK(strstr(why, "nvmlInit") != NULL);
	CHECK_EQ_INT(fd_nvml_session(&n, again, sizeof(again)), -ENODEV);
	CHECK_STREQ(again, why); /* remembered, not probed again */
	fd_nvml_session_end();
	setenv("FLIGHTDECK_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
	CHECK_EQ_INT(fd_nvml_session(&n, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "cannot load /nonexistent/libnvidia-ml.so.1") != NULL);
}

const struct unit_test nvml_tests[] = {
    {"nvml: one session for every caller", session_once},
    {"nvml: a failed session is remembered", session_failure},
    {NULL, NULL},
};
