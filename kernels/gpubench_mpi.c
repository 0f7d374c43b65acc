/*
 * gpubench_mpi.c - the MPI side of flightdeck-gpubench --mpi (see gpubench_mpi.h): MPI only
 * carries the NCCL id and the per-size results; the allreduce itself is NCCL's.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubench_mpi.h"

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * How many distinct hosts the job spans, on rank 0: every rank's processor name gathered
 * there and counted once each. Ranks of one host give the same name (MPI_Get_processor_name
 * is the host name in Open MPI, MPICH and Slurm's PMIx).
 */
static int count_nodes(const struct gb_world *w)
{
	char *all = NULL;
	int nodes = 0;

	if (w->rank == 0) {
		all = calloc((size_t)w->size, GB_HOST_MAX);
		if (!all) {
			fprintf(stderr, "flightdeck-gpubench: out of memory for %d host names\n",
				w->size);
			gb_mpi_abort(3);
		}
	}
	MPI_Gather(w->host, GB_HOST_MAX, MPI_CHAR, all, GB_HOST_MAX, MPI_CHAR, 0, MPI_COMM_WORLD);
	if (w->rank != 0)
		return 0;
	qsort(all, (size_t)w->size, GB_HOST_MAX, cmp_name);
	for (int i = 0; i < w->size; i++) {
		const char *name = all + (size_t)i * GB_HOST_MAX;
		if (i == 0 || strcmp(name, name - GB_HOST_MAX))
			nodes++;
	}
	free(all);
	return nodes;
}

void gb_mpi_init(int *argc, char ***argv, struct gb_world *w)
{
	MPI_Comm node;
	int len = 0;
	char name[MPI_MAX_PROCESSOR_NAME];

	memset(w, 0, sizeof(*w));
	MPI_Init(argc, argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &w->size);
	/*
	 * The local rank picks the GPU. MPI-3's shared-memory split gives it under every launcher
	 * (mpirun, srun --mpi=pmix, hydra), where OMPI_COMM_WORLD_LOCAL_RANK is Open MPI's alone.
	 */
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w->rank, MPI_INFO_NULL, &node);
	MPI_Comm_rank(node, &w->local_rank);
	MPI_Comm_size(node, &w->local_size);
	MPI_Comm_free(&node);
	MPI_Get_processor_name(name, &len);
	snprintf(w->host, sizeof(w->host), "%.*s", len, name);
	w->nodes = count_nodes(w);
}

void gb_mpi_finalize(void)
{
	MPI_Finalize();
}

void gb_mpi_abort(int code)
{
	fflush(stdout);
	fflush(stderr);
	MPI_Abort(MPI_COMM_WORLD, code);
	exit(code); /* MPI_Abort does not return; this is for the compiler */
}

void gb_mpi_bcast(void *buf, size_t len)
{
	MPI_Bcast(buf, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
}

int gb_mpi_sum(int v)
{
	int sum = 0;

	MPI_Allreduce(&v, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	return sum;
}

void gb_mpi_job_result(double seconds, unsigned long long wrong, double *slowest,
		       unsigned long long *wrong_all)
{
	*slowest = seconds;
	*wrong_all = wrong;
	MPI_Reduce(&seconds, slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
	MPI_Reduce(&wrong, wrong_all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
}
