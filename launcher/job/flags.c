/*
 * flags.c - the node group's flags and what they resolve to (see job.h).
 */
#include "job.h"
#include "frame.h"
#include "hostlist.h"
#include "ident.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define GF(f)	offsetof(struct fd_group_flags, f)
#define DUR_POS .min = 1, .max = FD_OPT_MS_MAX

const struct fd_opt fd_group_rows[] = {
    {.name = "node-rank",
     .metavar = "N",
     .help = "this node's place in the job, 0 = the coordinator [from Slurm,\n"
	     "JOB_COMPLETION_INDEX, NODE_RANK or Open MPI; else 0]",
     .type = FD_OPT_UINT,
     .def = "auto",
     .min = 0,
     .max = 65535,
     .off = GF(node_rank),
     .word = "auto",
     .word_val = -1,
     .flags = FD_OPT_NOKEY}, /* differs per node: never a shared file's */
    {.name = "nnodes",
     .metavar = "N|MIN:MAX",
     .help = "training nodes in the job; MIN:MAX (as torchrun and ft_launcher take\n"
	     "it) means MIN train and MAX-MIN are spares (--spares) [auto: every\n"
	     "agent of SLURM_NNODES, FLIGHTDECK_NNODES, NNODES, Open MPI, spares\n"
	     "included; else 1]",
     .type = FD_OPT_STRING,
     .off = GF(nnodes_arg),
     .flags = FD_OPT_NOKEY},
    {.name = "spares",
     .metavar = "K",
     .help = "of the job's agents, the last K hold their place as spares: each\n"
	     "passes the preflight, runs nothing, and takes the place of a\n"
	     "training node that is lost, or unfit at a restart's gate, so that\n"
	     "the job restarts from its checkpoint instead of ending with 75\n"
	     "(node 0 always trains: its loss still ends the job)",
     .type = FD_OPT_UINT,
     .def = "0",
     .min = 0,
     .max = FD_SPARES_MAX,
     .off = GF(spares)},
    {.name = "coordinator",
     .metavar = "HOST[:PORT]",
     .help = "where node 0's flightdeck listens [FLIGHTDECK_COORDINATOR, the\n"
	     "step's first host, MASTER_ADDR; port 29471]",
     .type = FD_OPT_STRING,
     .off = GF(coordinator)},
    {.name = "bind",
     .metavar = "ADDR",
     .help = "node 0 listens on this address only [every address]",
     .type = FD_OPT_STRING,
     .off = GF(bind)},
    {.name = "token-file",
     .metavar = "FILE",
     .help = "the job's secret that signs every frame (or FLIGHTDECK_TOKEN);\n"
	     "the same on every node: a Kubernetes Secret, a file in the job's\n"
	     "directory",
     .type = FD_OPT_STRING,
     .off = GF(token_file)},
    {.name = "token-from-job",
     .help = "derive the token from SLURM_JOB_ID, or POD_NAMESPACE and\n"
	     "FLIGHTDECK_JOB_NAME (guessable: anyone who can reach the port and\n"
	     "knows the job id can join; for trusted networks)",
     .type = FD_OPT_FLAG,
     .off = GF(token_from_job)},
    {.name = "peer-interval",
     .metavar = "DUR",
     .help = "how often the nodes beat to each other",
     .type = FD_OPT_DURATION,
     .def = "1s",
     .min = 10,
     .max = 3600000,
     .off = GF(peer_interval_ms)},
    {.name = "peer-timeout",
     .metavar = "DUR",
     .help = "a node silent this long, or whose connection closes, is lost: every\n"
	     "node stops and exits 75",
     .type = FD_OPT_DURATION,
     .def = "10s",
     .min = 100,
     .max = 86400000,
     .off = GF(peer_timeout_ms)},
    {.name = "join-timeout",
     .metavar = "DUR",
     .help = "every node must have joined this long after its start; the missing\n"
	     "are named and every node exits 75",
     .type = FD_OPT_DURATION,
     .def = "5m",
     DUR_POS,
     .off = GF(join_timeout_ms)},
    {.name = "send-threads",
     .metavar = "N",
     .help = "node 0: the threads that hand each decision to the other nodes; auto:\n"
	     "one per 1,024 nodes, at most the CPUs it may use, at most 8",
     .type = FD_OPT_UINT,
     .def = "auto",
     .min = 1,
     .max = 16,
     .off = GF(send_threads),
     .word = "auto",
     .word_val = 0},
    {.name = "exclude-file",
     .metavar = "FILE",
     .help = "node 0 writes the unfit nodes' hosts here in Slurm hostlist form,\n"
	     "for sbatch --exclude",
     .type = FD_OPT_STRING,
     .off = GF(exclude_file)},
    {.name = "print-group",
     .help = "print this node's place in the group, and where each value came\n"
	     "from, then exit",
     .type = FD_OPT_FLAG,
     .off = GF(print_group),
     .flags = FD_OPT_NOKEY},
};

const size_t fd_group_nrows = FD_ARRAY_SIZE(fd_group_rows);

/* The job's token: a file (a Kubernetes Secret's mount is a symlink: followed), never a FIFO. */
static int read_token(const char *path, uint8_t *out, size_t *n)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	uint8_t b[FD_TOKEN_MAX + 1];
	struct stat st;
	ssize_t k;

	if (fd < 0) {
		fd_err("--token-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fd_err("--token-file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	k = read(fd, b, sizeof(b));
	close(fd);
	if (k < 0) {
		fd_err("--token-file %s: %s", path, strerror(errno));
		return -1;
	}
	while (k > 0 && (b[k - 1] == '\n' || b[k - 1] == '\r' || b[k - 1] == ' '))
		k--;
	if (k == 0 || k > FD_TOKEN_MAX) {
		fd_err("--token-file %s: %s", path,
		       k ? "longer than 256 bytes" : "empty (a token is 1 to 256 bytes)");
		return -1;
	}
	memcpy(out, b, (size_t)k);
	*n = (size_t)k;
	return 0;
}

static int job_token(const struct fd_group_flags *o, uint8_t *tok, size_t *n)
{
	const char *env = getenv("FLIGHTDECK_TOKEN"), *id, *ns, *name;
	char b[FD_TOKEN_MAX + 1];

	if (o->token_file)
		return read_token(o->token_file, tok, n);
	if (env && *env) {
		*n = strlen(env) > FD_TOKEN_MAX ? FD_TOKEN_MAX : strlen(env);
		memcpy(tok, env, *n);
		return 0;
	}
	if (!o->token_from_job) {
		fd_err("a group of several nodes needs a shared token: --token-file FILE, "
		       "FLIGHTDECK_TOKEN, or --token-from-job");
		return -1;
	}
	id = getenv("SLURM_JOB_ID");
	ns = getenv("POD_NAMESPACE");
	name = getenv("FLIGHTDECK_JOB_NAME");
	if (id && *id) {
		const char *cl = getenv("SLURM_CLUSTER_NAME");

		snprintf(b, sizeof(b), "flightdeck:slurm:%s:%s", cl ? cl : "", id);
	} else if (name && *name) {
		snprintf(b, sizeof(b), "flightdeck:k8s:%s:%s", ns ? ns : "", name);
	} else {
		fd_err(
		    "run: --token-from-job: neither SLURM_JOB_ID nor FLIGHTDECK_JOB_NAME is set");
		return -1;
	}
	*n = strlen(b);
	memcpy(tok, b, *n);
	return 0;
}

/*
 * --nnodes: "auto" (or not given: -1), N training nodes, or MIN:MAX (MIN train, MAX-MIN are
 * spares). *total is every agent's count (spares included, -1: from the environment), *spares
 * the spares it implies (-1: none said). 0, or -1 after saying why.
 */
static int parse_nnodes(const char *a, int *total, int *spares)
{
	int lo, hi;
	char x;

	*total = *spares = -1;
	if (!a || !strcmp(a, "auto"))
		return 0;
	if (sscanf(a, "%d%c", &lo, &x) == 1 && strspn(a, "0123456789") == strlen(a) && lo >= 1 &&
	    lo <= 65536) {
		*total = lo;
		return 0;
	}
	if (sscanf(a, "%d:%d%c", &lo, &hi, &x) == 2 && strspn(a, "0123456789:") == strlen(a) &&
	    lo >= 1 && hi >= lo && hi <= 65536) {
		if (hi - lo > FD_SPARES_MAX) {
			fd_err("--nnodes %s: at most %d spares (MAX-MIN)", a, FD_SPARES_MAX);
			return -1;
		}
		*total = hi;
		*spares = hi - lo;
		return 0;
	}
	fd_err("--nnodes %s: not a node count (N, or MIN:MAX with 1 <= MIN <= MAX <= 65536)", a);
	return -1;
}

int fd_group_resolve(const struct fd_group_flags *o, struct fd_group_conf *conf)
{
	static uint8_t token[FD_TOKEN_MAX];
	static char **hosts;
	static char coord[sizeof(((struct fd_ident *)0)->coord_host)];
	struct fd_ident id;
	struct fd_ident_in in = {
	    .node_rank = o->node_rank, .coordinator = o->coordinator, .envp = environ};
	char err[512], desc[2048];
	const char *nl = getenv("SLURM_STEP_NODELIST"); /* the step's nodes, in node order */
	size_t nh = 0;
	int total, spares;

	if (parse_nnodes(o->nnodes_arg, &total, &spares))
		return -1;
	if (spares >= 0 && o->spares && o->spares != spares) {
		fd_err("--nnodes %s means %d spare(s), --spares says %d: give one of them",
		       o->nnodes_arg, spares, o->spares);
		return -1;
	}
	if (spares < 0) {
		spares = o->spares;
		if (total > 0) /* --nnodes N counts the training nodes: the spares come on top */
			total += spares;
	}
	if (total > 65536) {
		fd_err("--nnodes %s with --spares %d: past 65536 nodes", o->nnodes_arg, spares);
		return -1;
	}
	in.nnodes = total;

	if (!nl || !*nl)
		nl = getenv("SLURM_JOB_NODELIST");
	if (fd_ident_resolve(&in, &id, err, sizeof(err))) {
		fd_err("%s", err);
		return -1;
	}
	if (o->print_group) {
		fd_ident_describe(&id, desc, sizeof(desc));
		fputs(desc, stdout);
		if (spares > 0)
			printf("training nodes: %d (0-%d), spares: %d (%d-%d); this node: %s\n",
			       id.nnodes - spares, id.nnodes - spares - 1, spares,
			       id.nnodes - spares, id.nnodes - 1,
			       id.node_rank < id.nnodes - spares ? "trains (until a change)"
								 : "a spare (until promoted)");
		return 1;
	}
	/* sbatch's script runs on the first node only: its SLURM_NNODES counts nodes that no
	 * flightdeck of this job will ever run on */
	if (id.nnodes > 1 && !strcmp(id.size_src, "SLURM_NNODES") && !getenv("SLURM_STEP_ID"))
		fd_err("warning: SLURM_NNODES=%d outside an srun step: every node needs its own "
		       "flightdeck (srun --ntasks-per-node=1 flightdeck run ...), or node 0 waits "
		       "--join-timeout for the others",
		       id.nnodes);
	/* srun --ntasks-per-node=8 starts eight agents per node, all with one SLURM_NODEID */
	if (id.nnodes > 1 && !strcmp(id.rank_src, "SLURM_NODEID") && getenv("SLURM_STEP_ID")) {
		const char *t = getenv("SLURM_NTASKS"), *n = getenv("SLURM_NNODES");
		int tasks = 0, nodes = 0;

		if (t && n && !fd_parse_uint(t, &tasks) && !fd_parse_uint(n, &nodes) && nodes > 0 &&
		    tasks > nodes)
			fd_err(
			    "warning: SLURM_NTASKS=%d exceeds SLURM_NNODES=%d: this step starts "
			    "more than one flightdeck per node, and all but one of each node's are "
			    "refused (srun --ntasks-per-node=1 flightdeck run ...; flightdeck or "
			    "torchrun starts the ranks)",
			    tasks, nodes);
	}
	conf->node = id.node_rank;
	conf->nnodes = id.nnodes;
	conf->spares = spares;
	if (spares && id.nnodes - spares < 1) {
		fd_err("--spares %d leaves no training node in a job of %d (%s)", spares, id.nnodes,
		       id.size_src);
		return -1;
	}
	if (id.nnodes < 2)
		return 0;
	if (job_token(o, token, &conf->token_len))
		return -1;
	conf->token = token;
	fd_strlcpy(coord, id.coord_host, sizeof(coord));
	conf->coord_host = coord;
	conf->coord_port = id.coord_port;
	conf->bind_host = o->bind;
	conf->peer_interval_ms = o->peer_interval_ms;
	conf->peer_timeout_ms = o->peer_timeout_ms;
	conf->join_timeout_ms = o->join_timeout_ms;
	conf->exclude_file = o->exclude_file;
	conf->send_threads = o->send_threads;
	/* the job's hosts name the nodes that never joined */
	if (nl && !fd_hostlist_expand(nl, &hosts, &nh, 65536)) {
		conf->hosts = hosts;
		conf->nhosts = (int)nh;
	}
	if (o->peer_timeout_ms <= o->peer_interval_ms) {
		fd_err("--peer-timeout must be longer than --peer-interval");
		return -1;
	}
	return 0;
}
