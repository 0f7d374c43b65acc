/*
 * fuzz.h - helpers shared by the libFuzzer harnesses of tests/fuzz/ (see tests/fuzz/run.sh): the input
 * as a NUL-terminated string, and as a file (a memfd named by its /proc/self/fd path, so a
 * parser that opens a path reads exactly these bytes and nothing touches the disk).
 */
#ifndef FD_FUZZ_H
#define FD_FUZZ_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create; CMake defines it for every harness */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of the input with a NUL after it (embedded NULs end the string early). */
static inline char *fz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input as a file: its fd (close it after), its path in path. */
static inline int fz_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
