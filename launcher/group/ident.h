/*
 * ident.h - who am I and who are we: this node's rank in the multi-node group, the node
 * count, and where the coordinator (node 0's agent) listens, each with the source it came
 * from, so that `flightdeck run --print-group` and every error can say why.
 *
 * Each of the three values takes the first source, in this order, that gives it:
 *
 *     rank                   node count             coordinator
 *     --node-rank            --nnodes               --coordinator HOST[:PORT]
 *     FLIGHTDECK_NODE_RANK   FLIGHTDECK_NNODES      FLIGHTDECK_COORDINATOR
 *     SLURM_NODEID           SLURM_NNODES           first host of SLURM_STEP_NODELIST, else
 *                                                   of SLURM_JOB_NODELIST
 *     JOB_COMPLETION_INDEX   (FLIGHTDECK_NNODES)    (FLIGHTDECK_COORDINATOR)
 *     NODE_RANK              NNODES                 MASTER_ADDR
 *     OMPI_COMM_WORLD_RANK   OMPI_COMM_WORLD_SIZE   -
 *     0 ("default")          1 ("default")          none: a group of 1 needs none
 *
 * Why this order: what the person launching says beats what the scheduler says, and a
 * scheduler's own variables beat generic ones that any wrapper may have left in the
 * environment (torchrun's NODE_RANK inherited into a Slurm step, an mpirun inside an
 * allocation). The FLIGHTDECK_ variables are the flags in environment form, for launchers
 * that template the environment rather than the command line; they are also how a
 * Kubernetes Indexed Job names its node count and the stable name of its index-0 pod
 * (FLIGHTDECK_COORDINATOR=train-0.train-svc through a headless Service), since Kubernetes
 * itself only gives the index (JOB_COMPLETION_INDEX).
 *
 * Slurm: SLURM_NODEID and SLURM_NNODES are relative to the srun step, so the coordinator is
 * the step's first node (SLURM_STEP_NODELIST); `srun -N2 -r2` in a 4-node job starts node 0
 * on the job's third node. SLURM_JOB_NODELIST serves when no step list is set.
 *
 * Open MPI gives ranks of processes, so flightdeck must be started one per node
 * (`mpirun --map-by ppr:1:node`), and no variable names where rank 0 runs: mpirun's own
 * address (OMPI_MCA_orte_hnp_uri, Open MPI 4) is the launching host, which need not run rank
 * 0, and lists every interface it has. The coordinator must then be given.
 *
 * The port is flightdeck's own (FD_GROUP_PORT unless HOST:PORT says otherwise), never
 * MASTER_PORT: that one is torch's store, which the training job opens itself. An IPv6
 * address with a port is written [ADDR]:PORT; an unbracketed one is taken whole as the host.
 * An empty variable counts as not set.
 */
#ifndef FD_IDENT_H
#define FD_IDENT_H

#include <stddef.h>

/* The coordinator's port when HOST has none. */
#define FD_GROUP_PORT 29471
/* The most nodes a group may have: far past any job, small enough to size a table by. */
#define FD_IDENT_MAX_NODES 65536

/* What the caller knows; NULL or -1 for not given. */
struct fd_ident_in {
	int node_rank, nnodes;	 /* --node-rank, --nnodes */
	const char *coordinator; /* --coordinator HOST[:PORT] */
	char *const *envp;	 /* the environment to read (environ in production); NULL: none */
};

struct fd_ident {
	int node_rank, nnodes;
	char coord_host[256]; /* without brackets; "" when none is needed */
	int coord_port;	      /* 0 when none is needed */
	/* "--node-rank", "SLURM_NODEID", "SLURM_JOB_NODELIST (first host)", "default", ... */
	char rank_src[48], size_src[48], coord_src[64];
};

/*
 * Resolves the three values from in. 0, or -EINVAL with one line in err naming the input
 * and its source: a rank that is not a whole number of 0 or more, a node count below 1 or
 * above FD_IDENT_MAX_NODES, a rank not below the node count, a port outside 1-65535, a
 * malformed host or Slurm node list, more than one node and no coordinator. out is only
 * meaningful on success.
 */
int fd_ident_resolve(const struct fd_ident_in *in, struct fd_ident *out, char *err, size_t errlen);

/* A few lines for `flightdeck run --print-group`: each value and where it came from. */
void fd_ident_describe(const struct fd_ident *id, char *buf, size_t len);

#endif
