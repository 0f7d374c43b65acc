/*
 * fuzz_resume_argv.c - the {resume} substitution of a launch's command (fd_resume_argv): the
 * first line is the checkpoint path (empty: none), each further line one argument.
 */
#include "checkpoint.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size), *argv[33], *ckpt = s, *p;
	int argc = 0;
	char **out;

	p = strchr(s, '\n');
	if (p)
		*p++ = '\0';
	while (p && argc < 32) {
		argv[argc++] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	argv[argc] = NULL;
	out = fd_resume_argv(argv, *ckpt ? ckpt : NULL);
	fd_argv_free(out);
	free(s);
	return 0;
}
