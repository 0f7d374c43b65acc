/*
 * nvml.c - dlopen()ing NVML and resolving the entry points flightdeck uses.
 *
 * Required entry points missing from the library make the load fail with the symbol named;
 * optional ones (row remapping, clock event reasons, NVLink, MIG) stay NULL and the checks
 * that need them skip, since older drivers and non-datacenter GPUs lack them.
 */
#include "nvml.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIB "libnvidia-ml.so.1"

struct sym {
	size_t off;
	const char *names[2]; /* newer name first */
	int required;
};

#define S(field, req, ...) {offsetof(struct fd_nvml, field), {__VA_ARGS__}, req},

static const struct sym syms[] = {FD_NVML_SYMBOLS(S)};

int fd_nvml_open(struct fd_nvml *n, char *why, size_t len)
{
	const char *path = getenv("FLIGHTDECK_NVML_LIB");
	fd_nvmlReturn_t r;

	memset(n, 0, sizeof(*n));
	if (!path || !*path)
		path = DEFAULT_LIB;
	n->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!n->lib) {
		snprintf(why, len, "cannot load %s: %s", path, dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < FD_ARRAY_SIZE(syms); i++) {
		void *f = NULL;
		for (int k = 0; k < 2 && !f && syms[i].names[k]; k++)
			f = dlsym(n->lib, syms[i].names[k]);
		if (!f && syms[i].required) {
			snprintf(why, len, "%s lacks %s (driver too old?)", path, syms[i].names[0]);
			dlclose(n->lib);
			n->lib = NULL;
			return -ENOSYS;
		}
		memcpy((char *)n + syms[i].off, &f, sizeof(f));
	}
	r = n->Init();
	if (r != FD_NVML_SUCCESS) {
		snprintf(why, len, "nvmlInit: %s (NVML error %d)", n->ErrorString(r), r);
		dlclose(n->lib);
		n->lib = NULL;
		return r == FD_NVML_ERROR_DRIVER_NOT_LOADED ? -ENODEV : -EIO;
	}
	return 0;
}

void fd_nvml_close(struct fd_nvml *n)
{
	if (!n->lib)
		return;
	n->Shutdown();
	dlclose(n->lib);
	n->lib = NULL;
}

/* The session: state 0 not opened yet, 1 open, -errno the remembered failure. */
static struct {
	int state;
	int at_exit; /* fd_nvml_session_end is registered */
	struct fd_nvml n;
	char why[256];
} session;

void fd_nvml_session_end(void)
{
	if (session.state == 1)
		fd_nvml_close(&session.n);
	session.state = 0;
}

int fd_nvml_session(struct fd_nvml **out, char *why, size_t len)
{
	*out = NULL;
	if (!session.state) {
		int rc = fd_nvml_open(&session.n, session.why, sizeof(session.why));

		session.state = rc ? rc : 1;
		/* nvmlShutdown at exit, as each caller's own close did before; a failed
		 * registration leaves only that undone (the driver cleans up after a process) */
		if (!rc && !session.at_exit && !atexit(fd_nvml_session_end))
			session.at_exit = 1;
	}
	if (session.state < 0) {
		snprintf(why, len, "%s", session.why);
		return session.state;
	}
	*out = &session.n;
	return 0;
}

const char *fd_nvml_error(const struct fd_nvml *n, fd_nvmlReturn_t r)
{
	return n->lib ? n->ErrorString(r) : "NVML not loaded";
}
