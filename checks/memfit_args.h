/*
 * memfit_args.h - the options describing a training job to memfit (see memfit_args.c).
 */
#ifndef FD_MEMFIT_ARGS_H
#define FD_MEMFIT_ARGS_H

#include "memfit.h"

#include <stdint.h>
#include <stdio.h>

struct fd_memfit_args {
	struct fd_model model;
	struct fd_job job;
	uint64_t gpu_mem; /* --gpu-mem; 0 = ask NVML */
	int json, list, help;
};

void fd_memfit_args_init(struct fd_memfit_args *a);
/* Parses argv (argv[0] is the command); -EINVAL with err naming the option or field. */
int fd_memfit_args_parse(int argc, char **argv, struct fd_memfit_args *a, char *err, size_t len);
/* The option lines of `memfit --help`, from the table. */
void fd_memfit_args_help(FILE *out);
/* The same from one string of blank-separated options (the `memfit` tunable of check). */
int fd_memfit_args_parse_string(const char *s, struct fd_memfit_args *a, char *err, size_t len);

/* The least free memory of this node's GPUs, from NVML; 0 when unknown (why says why). */
double fd_memfit_gpu_free(int *ngpus, char *why, size_t len);

#endif
