/*
 * gpubench_mpi.h - what flightdeck-gpubench --mpi asks of MPI, and nothing more: who this
 * rank is, the NCCL id from rank 0, a few reductions, and an abort that ends every rank.
 *
 * The implementation (gpubench_mpi.c) is C compiled by the C compiler, so that mpi.h and
 * MPI's compile flags never reach nvcc; gpubench.cu sees only these declarations. MPI's
 * default error handler on MPI_COMM_WORLD is MPI_ERRORS_ARE_FATAL: an MPI call that fails
 * ends the job inside MPI, so none of these returns an MPI error.
 */
#ifndef FD_GPUBENCH_MPI_H
#define FD_GPUBENCH_MPI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GB_HOST_MAX 256

struct gb_world {
	int rank, size;		    /* in MPI_COMM_WORLD */
	int local_rank, local_size; /* among the ranks sharing this node's memory */
	int nodes;		    /* distinct MPI_Get_processor_name()s: on rank 0 only, else 0 */
	char host[GB_HOST_MAX];	    /* this rank's MPI_Get_processor_name() */
};

/* MPI_Init, then fills w. Every rank of the job must call it. */
void gb_mpi_init(int *argc, char ***argv, struct gb_world *w);
/* MPI_Finalize: every rank, on every way out but gb_mpi_abort. */
void gb_mpi_finalize(void);
/* MPI_Abort(MPI_COMM_WORLD, code): every rank ends, mpirun returns code. */
void gb_mpi_abort(int code) __attribute__((noreturn));

/* Copies len bytes at buf from rank 0 to every rank. */
void gb_mpi_bcast(void *buf, size_t len);
/* The sum of v over every rank, on every rank. */
int gb_mpi_sum(int v);
/*
 * One message size's result for the job, on rank 0: *slowest the largest of every rank's
 * seconds (the job waits for its slowest rank), *wrong the elements wrong on all ranks.
 */
void gb_mpi_job_result(double seconds, unsigned long long wrong, double *slowest,
		       unsigned long long *wrong_all);

#ifdef __cplusplus
}
#endif

#endif
