/*
 * ident.c - this node's rank, the node count and the coordinator, from the sources of
 * ident.h in their order. A pure function of the flags and an environment handed in, so the
 * tests give it fake environments and nothing reads the process's own.
 */
#include "ident.h"
#include "hostlist.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The environment sources of each number, after its flag (the table of ident.h). */
static const char *const rank_vars[] = {
    "FLIGHTDECK_NODE_RANK", "SLURM_NODEID", "JOB_COMPLETION_INDEX", "NODE_RANK",
    "OMPI_COMM_WORLD_RANK", NULL,
};
static const char *const size_vars[] = {
    "FLIGHTDECK_NNODES", "SLURM_NNODES", "NNODES", "OMPI_COMM_WORLD_SIZE", NULL,
};

/* name's value in envp, as getenv would find it; an empty value counts as not set. */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return (*envp)[n + 1] ? *envp + n + 1 : NULL;
	return NULL;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * How an input is named in an error: "SLURM_NNODES='x'" for a variable, "--coordinator 'x'"
 * for a flag. The value is cut at 80 bytes and its control bytes shown as '?', so that an
 * error stays one line whatever the environment holds.
 */
static void name_input(const char *src, int is_flag, const char *val, char *buf, size_t len)
{
	char v[84];
	size_t i;

	for (i = 0; val[i] && i < 80; i++)
		v[i] = (unsigned char)val[i] < ' ' || val[i] == 0x7f ? '?' : val[i];
	if (val[i]) {
		memcpy(v + i, "...", 3);
		i += 3;
	}
	v[i] = '\0';
	snprintf(buf, len, is_flag ? "%s '%s'" : "%s='%s'", src, v);
}

/* A number read from its first source. */
struct pick {
	int found;
	int v;
	char src[48];	 /* the flag or variable */
	char input[160]; /* the input as errors name it: "--nnodes 0", "SLURM_NNODES='x'" */
};

/*
 * The first source of a number: the flag (-1: not given), then vars. A value that is no whole
 * number of 0 or more, or past FD_IDENT_MAX_NODES (nodes, or ranks below it), is -EINVAL with
 * what it should be in err: it is not skipped for the next source, which would quietly put
 * the node in another group.
 */
static int pick_num(int flag, const char *flag_name, const char *const *vars, char *const *envp,
		    int is_rank, struct pick *p, char *err, size_t errlen)
{
	const char *what = is_rank ? "node rank" : "node count";
	int max = is_rank ? FD_IDENT_MAX_NODES - 1 : FD_IDENT_MAX_NODES;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (flag != -1) {
		p->found = 1;
		p->v = flag;
		fd_strlcpy(p->src, flag_name, sizeof(p->src));
		snprintf(p->input, sizeof(p->input), "%s %d", flag_name, flag);
		rc = flag < 0 ? -EINVAL : 0;
	} else {
		for (int i = 0; vars[i]; i++) {
			const char *s = env_get(envp, vars[i]);

			if (!s)
				continue;
			p->found = 1;
			fd_strlcpy(p->src, vars[i], sizeof(p->src));
			name_input(vars[i], 0, s, p->input, sizeof(p->input));
			rc = fd_parse_uint(s, &p->v);
			break;
		}
	}
	if (rc == -EINVAL) {
		set_err(err, errlen, "%s: not a %s (a whole number, %d or more)", p->input, what,
			is_rank ? 0 : 1);
		return -EINVAL;
	}
	if (rc == -ERANGE || (p->found && p->v > max)) {
		if (is_rank)
			set_err(err, errlen, "%s: past the last node rank of any group (%d)",
				p->input, max);
		else
			set_err(err, errlen, "%s: more than %d nodes", p->input, max);
		return -EINVAL;
	}
	return 0;
}

/* Hex digits, ':' and '.' (an embedded IPv4), then an optional %ZONE ("fe80::1%eth0"). */
static int is_ipv6(const char *s)
{
	for (; *s && *s != '%'; s++)
		if (!strchr("0123456789abcdefABCDEF:.", *s))
			return 0;
	return *s != '%' || s[1];
}

static int bad_host_byte(char c)
{
	return (unsigned char)c <= ' ' || c == 0x7f || c == '[' || c == ']';
}

/*
 * HOST, HOST:PORT, [V6ADDR], [V6ADDR]:PORT, or an unbracketed address with two colons or more
 * (IPv6, taken whole as the host). allow_port 0: a host alone (MASTER_ADDR, whose port would
 * be torch's). input names the source in errors.
 */
static int parse_hostport(const char *s, int allow_port, const char *input, struct fd_ident *out,
			  char *err, size_t errlen)
{
	const char *host = s, *port = NULL, *colon = strchr(s, ':');
	size_t hlen;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close) {
			set_err(err, errlen, "%s: '[' without ']' (write [IPV6]:PORT)", input);
			return -EINVAL;
		}
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':') {
			port = close + 2;
		} else if (close[1]) {
			set_err(err, errlen, "%s: junk after ']' (write [IPV6]:PORT)", input);
			return -EINVAL;
		}
	} else if (colon && !strchr(colon + 1, ':')) {
		hlen = (size_t)(colon - s);
		port = colon + 1;
	} else {
		hlen = strlen(s);
		if (colon && !is_ipv6(s)) {
			set_err(err, errlen,
				"%s: neither HOST:PORT nor an IPv6 address (write [IPV6]:PORT)",
				input);
			return -EINVAL;
		}
	}
	if (!hlen) {
		set_err(err, errlen, "%s: no host", input);
		return -EINVAL;
	}
	if (hlen >= sizeof(out->coord_host)) {
		set_err(err, errlen, "%s: a host name longer than %zu characters", input,
			sizeof(out->coord_host) - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < hlen; i++) {
		if (bad_host_byte(host[i])) {
			set_err(err, errlen,
				"%s: a blank, bracket or control character in the host", input);
			return -EINVAL;
		}
	}
	if (port && !allow_port) {
		set_err(err, errlen,
			"%s: a host without a port is expected here (flightdeck listens on its "
			"own port, %d, or the one --coordinator HOST:PORT names)",
			input, FD_GROUP_PORT);
		return -EINVAL;
	}
	out->coord_port = FD_GROUP_PORT;
	if (port) {
		int p, rc = fd_parse_uint(port, &p);

		if (rc == -EINVAL) {
			set_err(err, errlen, "%s: the port is not a number from 1 to 65535", input);
			return -EINVAL;
		}
		if (rc || p < 1 || p > 65535) {
			set_err(err, errlen, "%s: the port is outside 1-65535", input);
			return -EINVAL;
		}
		out->coord_port = p;
	}
	memcpy(out->coord_host, host, hlen);
	out->coord_host[hlen] = '\0';
	return 0;
}

/* The coordinator's first source; out->coord_src stays "" when there is none. */
static int pick_coord(const struct fd_ident_in *in, struct fd_ident *out, char *err, size_t errlen)
{
	static const char *const lists[] = {"SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", NULL};
	char input[160];
	const char *s;
	int rc;

	if (in->coordinator) {
		name_input("--coordinator", 1, in->coordinator, input, sizeof(input));
		fd_strlcpy(out->coord_src, "--coordinator", sizeof(out->coord_src));
		return parse_hostport(in->coordinator, 1, input, out, err, errlen);
	}
	if ((s = env_get(in->envp, "FLIGHTDECK_COORDINATOR"))) {
		name_input("FLIGHTDECK_COORDINATOR", 0, s, input, sizeof(input));
		fd_strlcpy(out->coord_src, "FLIGHTDECK_COORDINATOR", sizeof(out->coord_src));
		return parse_hostport(s, 1, input, out, err, errlen);
	}
	for (int i = 0; lists[i]; i++) {
		if (!(s = env_get(in->envp, lists[i])))
			continue;
		name_input(lists[i], 0, s, input, sizeof(input));
		rc = fd_hostlist_first(s, out->coord_host, sizeof(out->coord_host));
		if (rc == -ENAMETOOLONG) {
			set_err(err, errlen, "%s: a host name longer than %d characters", input,
				FD_HOSTLIST_NAME_MAX);
			return -EINVAL;
		}
		if (rc) {
			set_err(err, errlen, "%s: not a Slurm node list (e.g. gpu[01-04,07])",
				input);
			return -EINVAL;
		}
		out->coord_port = FD_GROUP_PORT;
		snprintf(out->coord_src, sizeof(out->coord_src), "%s (first host)", lists[i]);
		return 0;
	}
	if ((s = env_get(in->envp, "MASTER_ADDR"))) {
		name_input("MASTER_ADDR", 0, s, input, sizeof(input));
		fd_strlcpy(out->coord_src, "MASTER_ADDR", sizeof(out->coord_src));
		return parse_hostport(s, 0, input, out, err, errlen);
	}
	return 0;
}

int fd_ident_resolve(const struct fd_ident_in *in, struct fd_ident *out, char *err, size_t errlen)
{
	static const struct fd_ident_in nothing = {.node_rank = -1, .nnodes = -1};
	struct pick rank, size;
	int rc;

	if (!in)
		in = &nothing;
	memset(out, 0, sizeof(*out));
	set_err(err, errlen, "%s", "");
	rc = pick_num(in->node_rank, "--node-rank", rank_vars, in->envp, 1, &rank, err, errlen);
	if (rc)
		return rc;
	rc = pick_num(in->nnodes, "--nnodes", size_vars, in->envp, 0, &size, err, errlen);
	if (rc)
		return rc;
	if (size.found && size.v < 1) {
		set_err(err, errlen, "%s: not a node count (a whole number, 1 or more)",
			size.input);
		return -EINVAL;
	}
	out->node_rank = rank.found ? rank.v : 0;
	out->nnodes = size.found ? size.v : 1;
	fd_strlcpy(out->rank_src, rank.found ? rank.src : "default", sizeof(out->rank_src));
	fd_strlcpy(out->size_src, size.found ? size.src : "default", sizeof(out->size_src));
	if (rank.found && !size.found && rank.v >= 1) {
		set_err(err, errlen,
			"node rank %d (%s) but no node count: give --nnodes or FLIGHTDECK_NNODES",
			rank.v, rank.src);
		return -EINVAL;
	}
	if (out->node_rank >= out->nnodes) {
		set_err(err, errlen, "node rank %d (%s) is not below the node count %d (%s)",
			out->node_rank, out->rank_src, out->nnodes, out->size_src);
		return -EINVAL;
	}
	rc = pick_coord(in, out, err, errlen);
	if (rc)
		return rc;
	if (out->coord_src[0])
		return 0;
	if (out->nnodes > 1) {
		if (!strcmp(out->size_src, "OMPI_COMM_WORLD_SIZE"))
			set_err(err, errlen,
				"%d nodes (%s) and no coordinator: Open MPI does not say where "
				"rank 0 runs; give --coordinator HOST[:PORT] or "
				"FLIGHTDECK_COORDINATOR",
				out->nnodes, out->size_src);
		else
			set_err(err, errlen,
				"%d nodes (%s) and no coordinator: give --coordinator "
				"HOST[:PORT], FLIGHTDECK_COORDINATOR or MASTER_ADDR",
				out->nnodes, out->size_src);
		return -EINVAL;
	}
	/* A group of 1 is its own coordinator and listens for no one. */
	fd_strlcpy(out->coord_src, "default", sizeof(out->coord_src));
	return 0;
}

void fd_ident_describe(const struct fd_ident *id, char *buf, size_t len)
{
	char coord[300];

	if (!id->coord_host[0])
		snprintf(coord, sizeof(coord), "none (a group of 1 needs none)");
	else if (strchr(id->coord_host, ':'))
		snprintf(coord, sizeof(coord), "[%s]:%d (%s)", id->coord_host, id->coord_port,
			 id->coord_src);
	else
		snprintf(coord, sizeof(coord), "%s:%d (%s)", id->coord_host, id->coord_port,
			 id->coord_src);
	snprintf(buf, len,
		 "node rank:   %d (%s)\n"
		 "node count:  %d (%s)\n"
		 "coordinator: %s\n",
		 id->node_rank, id->rank_src, id->nnodes, id->size_src, coord);
}
