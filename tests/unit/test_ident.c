/*
 * test_ident.c - the node's identity in the group from fake environments: each source, the
 * order between them, values mixed from several, the size-1 default, and every error.
 */
#include "testhelp.h"
#include "ident.h"

#include <errno.h>

#define NOTHING                                                                                    \
	{                                                                                          \
		.node_rank = -1, .nnodes = -1                                                      \
	}

static char err[512];

static int resolve(const struct fd_ident_in *in, struct fd_ident *id)
{
	err[0] = 'x';
	return fd_ident_resolve(in, id, err, sizeof(err));
}

/* The error of envp alone (with no flags), and a check that it names what it must. */
static void check_err(char *const *envp, const char *want)
{
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	in.envp = envp;
	CHECK_EQ_INT(resolve(&in, &id), -EINVAL);
	if (!strstr(err, want))
		printf("    error \"%s\" does not hold \"%s\"\n", err, want);
	CHECK(strstr(err, want) != NULL);
	CHECK(strchr(err, '\n') == NULL);
}

static void nothing_given(void)
{
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;
	char *empty[] = {"HOME=/root", "PATH=/bin", NULL};

	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(err, "");
	CHECK_EQ_INT(id.node_rank, 0);
	CHECK_EQ_INT(id.nnodes, 1);
	CHECK_STREQ(id.coord_host, "");
	CHECK_EQ_INT(id.coord_port, 0);
	CHECK_STREQ(id.rank_src, "default");
	CHECK_STREQ(id.size_src, "default");
	CHECK_STREQ(id.coord_src, "default");
	in.envp = empty;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.nnodes, 1);
	CHECK_EQ_INT(fd_ident_resolve(NULL, &id, NULL, 0), 0);
	CHECK_EQ_INT(id.nnodes, 1);
}

static void flags(void)
{
	struct fd_ident_in in = {.node_rank = 2, .nnodes = 4, .coordinator = "head:1234"};
	struct fd_ident id;

	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 2);
	CHECK_EQ_INT(id.nnodes, 4);
	CHECK_STREQ(id.coord_host, "head");
	CHECK_EQ_INT(id.coord_port, 1234);
	CHECK_STREQ(id.rank_src, "--node-rank");
	CHECK_STREQ(id.size_src, "--nnodes");
	CHECK_STREQ(id.coord_src, "--coordinator");
	in.coordinator = "head";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.coord_port, FD_GROUP_PORT);
	in.coordinator = "[fd00::2]:29500";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(id.coord_host, "fd00::2");
	CHECK_EQ_INT(id.coord_port, 29500);
	in.coordinator = "[fd00::2]";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(id.coord_host, "fd00::2");
	CHECK_EQ_INT(id.coord_port, FD_GROUP_PORT);
	in.coordinator = "fe80::1%eth0";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(id.coord_host, "fe80::1%eth0");
	CHECK_EQ_INT(id.coord_port, FD_GROUP_PORT);
	in.coordinator = "10.0.0.1:65535";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.coord_port, 65535);
}

/* FLIGHTDECK_* are the flags in environment form, right after them. */
static void env_form(void)
{
	char *env[] = {"FLIGHTDECK_NODE_RANK=3",
		       "FLIGHTDECK_NNODES=8",
		       "FLIGHTDECK_COORDINATOR=train-0.train-svc",
		       "SLURM_NODEID=1",
		       "SLURM_NNODES=2",
		       "SLURM_JOB_NODELIST=gpu[01-02]",
		       NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	in.envp = env;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 3);
	CHECK_EQ_INT(id.nnodes, 8);
	CHECK_STREQ(id.coord_host, "train-0.train-svc");
	CHECK_EQ_INT(id.coord_port, FD_GROUP_PORT);
	CHECK_STREQ(id.rank_src, "FLIGHTDECK_NODE_RANK");
	CHECK_STREQ(id.size_src, "FLIGHTDECK_NNODES");
	CHECK_STREQ(id.coord_src, "FLIGHTDECK_COORDINATOR");
	/* and the flags beat them */
	in.node_rank = 0;
	in.nnodes = 2;
	in.coordinator = "head:1";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 0);
	CHECK_EQ_INT(id.nnodes, 2);
	CHECK_STREQ(id.coord_host, "head");
	CHECK_STREQ(id.rank_src, "--node-rank");
}

static void slurm(void)
{
	char *env[] = {"SLURM_NODEID=2", "SLURM_NNODES=4", "SLURM_JOB_NODELIST=gpu[01-04]", NULL};
	char *step[] = {"SLURM_NODEID=0", "SLURM_NNODES=2", "SLURM_JOB_NODELIST=dev[7-10]",
			"SLURM_STEP_NODELIST=dev[9-10]", NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	in.envp = env;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 2);
	CHECK_EQ_INT(id.nnodes, 4);
	CHECK_STREQ(id.coord_host, "gpu01");
	CHECK_EQ_INT(id.coord_port, FD_GROUP_PORT);
	CHECK_STREQ(id.rank_src, "SLURM_NODEID");
	CHECK_STREQ(id.size_src, "SLURM_NNODES");
	CHECK_STREQ(id.coord_src, "SLURM_JOB_NODELIST (first host)");
	/* an srun step on part of the job: node 0 is the step's first node */
	in.envp = step;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(id.coord_host, "dev9");
	CHECK_STREQ(id.coord_src, "SLURM_STEP_NODELIST (first host)");
}

static void kubernetes(void)
{
	char *env[] = {"JOB_COMPLETION_INDEX=5", "FLIGHTDECK_NNODES=8",
		       "FLIGHTDECK_COORDINATOR=train-0.train-svc:29500", NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	in.envp = env;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 5);
	CHECK_EQ_INT(id.nnodes, 8);
	CHECK_STREQ(id.coord_host, "train-0.train-svc");
	CHECK_EQ_INT(id.coord_port, 29500);
	CHECK_STREQ(id.rank_src, "JOB_COMPLETION_INDEX");
}

static void torchrun(void)
{
	char *env[] = {"NODE_RANK=1", "NNODES=2", "MASTER_ADDR=10.1.2.3", "MASTER_PORT=29500",
		       NULL};
	char *v6[] = {"NODE_RANK=1", "NNODES=2", "MASTER_ADDR=fd00::7", NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	in.envp = env;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 1);
	CHECK_EQ_INT(id.nnodes, 2);
	CHECK_STREQ(id.coord_host, "10.1.2.3");
	/* MASTER_PORT is torch's store: ours is our own */
	CHECK_EQ_INT(id.coord_port, FD_GROUP_PORT);
	CHECK_STREQ(id.rank_src, "NODE_RANK");
	CHECK_STREQ(id.size_src, "NNODES");
	CHECK_STREQ(id.coord_src, "MASTER_ADDR");
	in.envp = v6;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(id.coord_host, "fd00::7");
}

static void open_mpi(void)
{
	char *env[] = {"OMPI_COMM_WORLD_RANK=1", "OMPI_COMM_WORLD_SIZE=2",
		       "OMPI_COMM_WORLD_LOCAL_RANK=0",
		       "OMPI_MCA_orte_hnp_uri=266338304.0;tcp://192.0.2.2:38727", NULL};
	char *with[] = {"OMPI_COMM_WORLD_RANK=1", "OMPI_COMM_WORLD_SIZE=2",
			"FLIGHTDECK_COORDINATOR=node-a", NULL};
	char *one[] = {"OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=1", NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	/* no coordinator can be learnt from Open MPI: the error says what to give */
	check_err(env, "Open MPI does not say where rank 0 runs");
	check_err(env, "2 nodes (OMPI_COMM_WORLD_SIZE)");
	check_err(env, "FLIGHTDECK_COORDINATOR");
	in.envp = with;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 1);
	CHECK_EQ_INT(id.nnodes, 2);
	CHECK_STREQ(id.rank_src, "OMPI_COMM_WORLD_RANK");
	CHECK_STREQ(id.size_src, "OMPI_COMM_WORLD_SIZE");
	CHECK_STREQ(id.coord_host, "node-a");
	in.envp = one;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(id.coord_src, "default");
}

/* Slurm beats Kubernetes beats torchrun beats Open MPI, value by value. */
static void precedence(void)
{
	char *all[] = {"OMPI_COMM_WORLD_RANK=6",
		       "OMPI_COMM_WORLD_SIZE=7",
		       "NODE_RANK=4",
		       "NNODES=5",
		       "MASTER_ADDR=torch-head",
		       "JOB_COMPLETION_INDEX=3",
		       "SLURM_NODEID=1",
		       "SLURM_NNODES=2",
		       "SLURM_JOB_NODELIST=slurm[1-2]",
		       NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	in.envp = all;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 1);
	CHECK_EQ_INT(id.nnodes, 2);
	CHECK_STREQ(id.coord_host, "slurm1");
	/* without Slurm: the index, torchrun's count and address */
	all[6] = NULL;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 3);
	CHECK_EQ_INT(id.nnodes, 5);
	CHECK_STREQ(id.coord_host, "torch-head");
	CHECK_STREQ(id.rank_src, "JOB_COMPLETION_INDEX");
	/* without the index either: torchrun */
	all[5] = NULL;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 4);
	CHECK_STREQ(id.rank_src, "NODE_RANK");
	/* and Open MPI last, which names no coordinator */
	all[2] = NULL;
	check_err(all, "Open MPI does not say where rank 0 runs");
	in.coordinator = "c";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 6);
	CHECK_EQ_INT(id.nnodes, 7);
	CHECK_STREQ(id.rank_src, "OMPI_COMM_WORLD_RANK");
	CHECK_STREQ(id.size_src, "OMPI_COMM_WORLD_SIZE");
}

/* Each value from its own first source; a source not read is not checked. */
static void mixing(void)
{
	char *env[] = {"SLURM_NODEID=3", "SLURM_NNODES=4", "SLURM_JOB_NODELIST=bad[", NULL};
	char *env2[] = {"NODE_RANK=1", "SLURM_NNODES=2", "MASTER_ADDR=head", NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	in.envp = env;
	in.coordinator = "head:4000";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 3);
	CHECK_STREQ(id.rank_src, "SLURM_NODEID");
	CHECK_STREQ(id.coord_host, "head");
	CHECK_STREQ(id.coord_src, "--coordinator");
	/* the rank from the flag, the count from Slurm */
	in.node_rank = 0;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_EQ_INT(id.node_rank, 0);
	CHECK_EQ_INT(id.nnodes, 4);
	CHECK_STREQ(id.size_src, "SLURM_NNODES");
	in = (struct fd_ident_in)NOTHING;
	in.envp = env2;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(id.rank_src, "NODE_RANK");
	CHECK_STREQ(id.size_src, "SLURM_NNODES");
	CHECK_STREQ(id.coord_src, "MASTER_ADDR");
	/* an empty variable is not set */
	char *empty[] = {"SLURM_NODEID=", "NODE_RANK=1", "NNODES=2", "MASTER_ADDR=h", NULL};
	in.envp = empty;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	CHECK_STREQ(id.rank_src, "NODE_RANK");
}

static void errors_numbers(void)
{
	char *e1[] = {"SLURM_NODEID=abc", NULL};
	char *e2[] = {"NODE_RANK=-1", "NNODES=2", "MASTER_ADDR=h", NULL};
	char *e3[] = {"SLURM_NNODES=0", NULL};
	char *e4[] = {"NNODES=70000", "MASTER_ADDR=h", NULL};
	char *e5[] = {"NNODES=99999999999", NULL};
	char *e6[] = {"SLURM_NODEID=4", "SLURM_NNODES=4", "SLURM_JOB_NODELIST=n[1-4]", NULL};
	char *e7[] = {"JOB_COMPLETION_INDEX=2", NULL};
	char *e8[] = {"FLIGHTDECK_NNODES=2x", NULL};
	char *e9[] = {"NODE_RANK=1 ", "NNODES=2", NULL};
	char *e10[] = {"NODE_RANK=70000", "NNODES=2", NULL};
	char *e11[] = {"NODE_RANK=1\nX", "NNODES=2", NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;

	check_err(e1, "SLURM_NODEID='abc': not a node rank");
	check_err(e2, "NODE_RANK='-1': not a node rank");
	check_err(e3, "SLURM_NNODES='0': not a node count");
	check_err(e4, "NNODES='70000': more than 65536 nodes");
	check_err(e5, "NNODES='99999999999': more than 65536 nodes");
	check_err(e6, "node rank 4 (SLURM_NODEID) is not below the node count 4 (SLURM_NNODES)");
	check_err(e7, "node rank 2 (JOB_COMPLETION_INDEX) but no node count");
	check_err(e8, "FLIGHTDECK_NNODES='2x'");
	check_err(e9, "NODE_RANK='1 '");
	check_err(e10, "NODE_RANK='70000': past the last node rank");
	check_err(e11, "NODE_RANK='1?X'");
	in.node_rank = -2;
	CHECK_EQ_INT(resolve(&in, &id), -EINVAL);
	CHECK_STREQ(err, "--node-rank -2: not a node rank (a whole number, 0 or more)");
	in.node_rank = -1;
	in.nnodes = 0;
	CHECK_EQ_INT(resolve(&in, &id), -EINVAL);
	CHECK_STREQ(err, "--nnodes 0: not a node count (a whole number, 1 or more)");
	in.nnodes = 65537;
	CHECK_EQ_INT(resolve(&in, &id), -EINVAL);
	CHECK_STREQ(err, "--nnodes 65537: more than 65536 nodes");
	in.nnodes = 65536;
	in.coordinator = "h";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	in.node_rank = 65536;
	CHECK_EQ_INT(resolve(&in, &id), -EINVAL);
	in.node_rank = 65535;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	in.node_rank = 2;
	in.nnodes = 2;
	CHECK_EQ_INT(resolve(&in, &id), -EINVAL);
	CHECK_STREQ(err, "node rank 2 (--node-rank) is not below the node count 2 (--nnodes)");
	/* a small err buffer is cut, not overrun */
	in.node_rank = -5;
	char small[8];
	CHECK_EQ_INT(fd_ident_resolve(&in, &id, small, sizeof(small)), -EINVAL);
	CHECK_EQ_INT(strlen(small), 7);
}

static void errors_coordinator(void)
{
	static const struct {
		const char *coord, *want;
	} bad[] = {
	    {"h:0", "--coordinator 'h:0': the port is outside 1-65535"},
	    {"h:65536", "the port is outside 1-65535"},
	    {"h:99999999999", "the port is outside 1-65535"},
	    {"h:-1", "the port is not a number"},
	    {"h:", "the port is not a number"},
	    {"h:x", "the port is not a number"},
	    {":29471", "--coordinator ':29471': no host"},
	    {"", "no host"},
	    {"[fd00::2", "'[' without ']'"},
	    {"[fd00::2]x", "junk after ']'"},
	    {"[]:80", "no host"},
	    {"[fd00::2]:0", "the port is outside 1-65535"},
	    {"host:1:2", "neither HOST:PORT nor an IPv6 address"},
	    {"fe80::1%", "neither HOST:PORT nor an IPv6 address"},
	    {"my host", "a blank, bracket or control character"},
	    {"ho]st", "a blank, bracket or control character"},
	    {NULL, NULL},
	};
	struct fd_ident_in in = {.node_rank = 0, .nnodes = 2};
	struct fd_ident id;
	char longhost[300];

	for (int i = 0; bad[i].coord; i++) {
		in.coordinator = bad[i].coord;
		CHECK_EQ_INT(resolve(&in, &id), -EINVAL);
		if (!strstr(err, bad[i].want))
			printf("    %s: \"%s\" does not hold \"%s\"\n", bad[i].coord, err,
			       bad[i].want);
		CHECK(strstr(err, bad[i].want) != NULL);
	}
	memset(longhost, 'a', 256);
	longhost[256] = '\0';
	in.coordinator = longhost;
	CHECK_EQ_INT(resolve(&in, &id), -EINVAL);
	CHECK(strstr(err, "longer than 255") != NULL);
	CHECK(strstr(err, "...") != NULL); /* the value is cut in the message */
	longhost[255] = '\0';
	CHECK_EQ_INT(resolve(&in, &id), 0);
	/* a bad coordinator is an error even in a group of 1 */
	in.nnodes = 1;
	in.coordinator = "h:0";
	CHECK_EQ_INT(resolve(&in, &id), -EINVAL);

	char *env1[] = {"FLIGHTDECK_COORDINATOR=h:70000", NULL};
	char *env2[] = {"SLURM_NODEID=0", "SLURM_NNODES=2", "SLURM_JOB_NODELIST=gpu[01-", NULL};
	char *env3[] = {"SLURM_NODEID=0", "SLURM_NNODES=2", "SLURM_STEP_NODELIST=a,", NULL};
	char *env4[] = {"NODE_RANK=0", "NNODES=2", "MASTER_ADDR=head:29500", NULL};
	char *env5[] = {"NODE_RANK=0", "NNODES=2", NULL};
	char *env6[] = {"SLURM_NODEID=0", "SLURM_NNODES=2", NULL};
	char *env7[] = {"FLIGHTDECK_NNODES=2", NULL};

	check_err(env1, "FLIGHTDECK_COORDINATOR='h:70000': the port is outside 1-65535");
	check_err(env2, "SLURM_JOB_NODELIST='gpu[01-': not a Slurm node list");
	check_err(env3, "SLURM_STEP_NODELIST='a,': not a Slurm node list");
	check_err(env4, "MASTER_ADDR='head:29500': a host without a port is expected here");
	check_err(env5, "2 nodes (NNODES) and no coordinator: give --coordinator HOST[:PORT]");
	check_err(env6, "2 nodes (SLURM_NNODES) and no coordinator");
	check_err(env7, "2 nodes (FLIGHTDECK_NNODES) and no coordinator");
}

static void describe(void)
{
	char *env[] = {"SLURM_NODEID=1", "SLURM_NNODES=4", "SLURM_JOB_NODELIST=gpu[01-04]", NULL};
	struct fd_ident_in in = NOTHING;
	struct fd_ident id;
	char buf[512];

	in.envp = env;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	fd_ident_describe(&id, buf, sizeof(buf));
	CHECK_STREQ(buf, "node rank:   1 (SLURM_NODEID)\n"
			 "node count:  4 (SLURM_NNODES)\n"
			 "coordinator: gpu01:29471 (SLURM_JOB_NODELIST (first host))\n");
	in.envp = NULL;
	in.node_rank = 0;
	in.nnodes = 2;
	in.coordinator = "[fd00::2]:5000";
	CHECK_EQ_INT(resolve(&in, &id), 0);
	fd_ident_describe(&id, buf, sizeof(buf));
	CHECK(strstr(buf, "coordinator: [fd00::2]:5000 (--coordinator)\n") != NULL);
	in = (struct fd_ident_in)NOTHING;
	CHECK_EQ_INT(resolve(&in, &id), 0);
	fd_ident_describe(&id, buf, sizeof(buf));
	CHECK_STREQ(buf, "node rank:   0 (default)\n"
			 "node count:  1 (default)\n"
			 "coordinator: none (a group of 1 needs none)\n");
	fd_ident_describe(&id, buf, 10);
	CHECK_EQ_INT(strlen(buf), 9);
}

const struct unit_test ident_tests[] = {
    {"ident: nothing given is a group of 1", nothing_given},
    {"ident: flags", flags},
    {"ident: FLIGHTDECK_ variables", env_form},
    {"ident: Slurm", slurm},
    {"ident: Kubernetes indexed job", kubernetes},
    {"ident: torchrun", torchrun},
    {"ident: Open MPI", open_mpi},
    {"ident: precedence", precedence},
    {"ident: mixed sources", mixing},
    {"ident: bad ranks and counts", errors_numbers},
    {"ident: bad coordinators", errors_coordinator},
    {"ident: describe", describe},
    {NULL, NULL},
};
