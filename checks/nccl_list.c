/*
 * nccl_list.c - NCCL's name-list syntax (NCCL_SOCKET_IFNAME, NCCL_IB_HCA), shared by the
 * host and ib areas.
 */
#include "nccl_list.h"
#include "util.h"

#include <errno.h>
#include <string.h>

int fd_nccl_list_parse(const char *s, struct fd_nccl_list *out)
{
	char buf[512], *save = NULL;

	memset(out, 0, sizeof(*out));
	if (*s == '^') {
		out->exclude = 1;
		s++;
	}
	if (*s == '=') {
		out->exact = 1;
		s++;
	}
	if (fd_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -ERANGE;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (out->n == FD_NCCL_LIST_MAX)
			return -ERANGE;
		char *colon = strchr(tok, ':');
		if (colon) {
			*colon = '\0';
			if (fd_parse_uint(colon + 1, &out->e[out->n].port))
				return -EINVAL;
		}
		if (!*tok)
			return -EINVAL;
		fd_strlcpy(out->e[out->n].name, tok, sizeof(out->e[out->n].name));
		out->n++;
	}
	return out->n ? 0 : -EINVAL;
}

int fd_nccl_list_match(const struct fd_nccl_list *l, const char *name, int port)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *e = l->e[i].name;
		int hit = l->exact ? strcmp(name, e) == 0 : strncmp(name, e, strlen(e)) == 0;
		if (hit && (!l->e[i].port || !port || l->e[i].port == port))
			return (int)i;
	}
	return -1;
}
