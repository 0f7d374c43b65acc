/*
 * culprit.c - the verdict on a stall: which ranks the others wait on (culprit.h).
 */
#define _GNU_SOURCE
#include "culprit.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PY_FRAME "File \""

/*
 * The frames a rank waiting for its peers sits in (torch 1.13 and 2.x alike): a collective is
 * entered through torch.distributed (torch 2.x wraps each in c10d_logger.py), a store's get
 * and a rendezvous too. A threading wait is not one of them: a data loader waits that way.
 */
static const char *const wait_marks[] = {
    "torch/distributed/",
    "distributed_c10d.py",
    "c10d_logger.py",
    "monitored_barrier",
};

int fd_stack_class(const char *text)
{
	const char *p = text ? strstr(text, "Current thread") : NULL, *f;
	int frames = 0;

	if (!text)
		return SC_NONE;
	if (!p)
		p = text;
	/* the innermost frames: a collective is entered a few calls below the job's own line */
	for (f = strstr(p, PY_FRAME); f && frames < 4; f = strstr(f + 6, PY_FRAME)) {
		size_t l = strcspn(f, "\n");

		frames++;
		for (size_t i = 0; i < sizeof(wait_marks) / sizeof(wait_marks[0]); i++) {
			if (memmem(f, l, wait_marks[i], strlen(wait_marks[i])))
				return SC_COLLECTIVE;
		}
		if (!strncmp(f + l, "\n\n", 2))
			break; /* the end of the current thread */
	}
	return frames ? SC_ELSEWHERE : SC_NONE;
}

const char *fd_rank_state_words(int state)
{
	switch (state) {
	case RS_RUNNING:
		return "running";
	case RS_STOPPED:
		return "stopped (state T)";
	case RS_DISK:
		return "in uninterruptible sleep (state D)";
	case RS_ZOMBIE:
		return "exited (a zombie)";
	case RS_GONE:
		return "gone";
	}
	return "of unknown state";
}

static int cannot_run(int state)
{
	return state == RS_STOPPED || state == RS_DISK || state == RS_ZOMBIE || state == RS_GONE;
}

/* "rank 1 (pid 42) stopped (state T) at train.py:88 in load_batch" */
static void describe(const struct fd_rank_evidence *e, char *out, size_t len)
{
	size_t k = 0;

	*out = '\0';
	fd_appendf(out, len, &k, "rank %d", e->rank);
	if (e->pid > 0)
		fd_appendf(out, len, &k, " (pid %d)", e->pid);
	if (cannot_run(e->state)) {
		fd_appendf(out, len, &k, " %s", fd_rank_state_words(e->state));
		if (e->state == RS_DISK && *e->wchan)
			fd_appendf(out, len, &k, " in %s", e->wchan);
	}
	if (e->stack != SC_NONE && *e->where)
		fd_appendf(out, len, &k, " at %s", e->where);
}

enum {
	BY_STATE = 1,
	BY_PROGRESS,
	BY_STACKS
};

static int is_culprit(const struct fd_rank_evidence *e, int by)
{
	if (by == BY_STATE)
		return cannot_run(e->state);
	if (by == BY_PROGRESS)
		return e->quiet == QUIET_YES;
	return e->stack == SC_ELSEWHERE;
}

int fd_fr_parse(const char *text, size_t len, struct fd_fr_summary *out, char *why, size_t whylen)
{
	cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
	const cJSON *ver, *entries, *e;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	*why = '\0';
	if (!root || !cJSON_IsObject(root)) {
		snprintf(why, whylen, "not JSON%s",
			 root ? " object" : " (cut short, or another format)");
		goto out;
	}
	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
	if (!cJSON_IsString(ver) || !cJSON_IsArray(entries)) {
		snprintf(why, whylen, "no version or entries: not a flight-recorder dump");
		goto out;
	}
	if (strncmp(ver->valuestring, "2.", 2)) {
		snprintf(why, whylen, "version %.16s, not 2.x", ver->valuestring);
		rc = -ENOTSUP;
		goto out;
	}
	cJSON_ArrayForEach(e, entries)
	{
		const cJSON *pg = cJSON_GetObjectItemCaseSensitive(e, "pg_id");
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(e, "collective_seq_id");
		const cJSON *p2p = cJSON_GetObjectItemCaseSensitive(e, "is_p2p");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "profiling_name");
		int i;

		if (!cJSON_IsNumber(pg) || !cJSON_IsNumber(seq) || pg->valuedouble < 0 ||
		    pg->valuedouble > 1e9 || seq->valuedouble < 0 || seq->valuedouble > 9e15) {
			snprintf(why, whylen, "an entry without a pg_id or collective_seq_id");
			goto out;
		}
		if (cJSON_IsTrue(p2p))
			continue; /* point-to-point: numbered apart, no wavefront of the group */
		for (i = 0; i < out->npg && out->pg[i].pg != (int)pg->valuedouble; i++)
			;
		if (i == out->npg) {
			if (out->npg == FR_PGS_MAX)
				continue; /* the first groups are enough to tell */
			out->npg++;
			out->pg[i].pg = (int)pg->valuedouble;
			out->pg[i].seq = -1;
		}
		if ((int64_t)seq->valuedouble > out->pg[i].seq) {
			out->pg[i].seq = (int64_t)seq->valuedouble;
			fd_strlcpy(out->pg[i].op, cJSON_IsString(name) ? name->valuestring : "?",
				   sizeof(out->pg[i].op));
		}
	}
	out->known = 1;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static const struct fd_fr_pg *fr_pg(const struct fd_rank_evidence *e, int pg)
{
	for (int i = 0; e->fr.known && i < e->fr.npg; i++)
		if (e->fr.pg[i].pg == pg)
			return &e->fr.pg[i];
	return NULL;
}

static void add_rank(int *v, int *n, int rank)
{
	for (int i = 0; i < *n; i++)
		if (v[i] == rank)
			return;
	if (*n < CULPRIT_RANKS_MAX)
		v[(*n)++] = rank;
}

static void rank_list(char *out, size_t len, size_t *k, const int *v, int n)
{
	fd_appendf(out, len, k, "rank%s", n > 1 ? "s" : "");
	for (int i = 0; i < n; i++)
		fd_appendf(out, len, k, "%s%d", i ? "," : " ", v[i]);
}

/*
 * At a desync (every rank of group pg at one number, in different collectives): the collective
 * most ranks are in, the job's; *tie when another has as many (the lowest rank's side is kept).
 */
static const struct fd_fr_pg *fr_reference(const struct fd_rank_evidence *ev, size_t n, int pg,
					   int *tie)
{
	const struct fd_fr_pg *best = NULL, *p, *q;
	int most = 0, low = 0;

	*tie = 0;
	for (size_t i = 0; i < n; i++) {
		int c = 0;

		if (!(p = fr_pg(&ev[i], pg)))
			continue;
		for (size_t j = 0; j < n; j++)
			c += (q = fr_pg(&ev[j], pg)) && !strcmp(q->op, p->op);
		if (best && !strcmp(best->op, p->op)) {
			low = ev[i].rank < low ? ev[i].rank : low;
			continue;
		}
		if (!best || c > most || (c == most && ev[i].rank < low)) {
			*tie = best && c == most;
			best = p, most = c, low = ev[i].rank;
		} else if (c == most) {
			*tie = 1;
		}
	}
	return best;
}

/*
 * The flight recorder's verdict, when two or more ranks dumped one: in a process group, the
 * ranks whose newest collective is older than the others' never entered the one the others
 * wait in (the wavefront); else, ranks of one group in different collectives at the same
 * number are a desync. 1 with out filled, 0 when the dumps tell nothing.
 */
static int fr_judge(const struct fd_rank_evidence *ev, size_t n, struct fd_culprit *out)
{
	size_t known = 0, k = 0;
	char d[512];
	int tie = 0;

	for (size_t i = 0; i < n; i++)
		known += ev[i].fr.known;
	if (known < 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		for (int g = 0; ev[i].fr.known && g < ev[i].fr.npg; g++) {
			const struct fd_fr_pg *top = &ev[i].fr.pg[g], *p;
			int pg = top->pg, behind[CULPRIT_RANKS_MAX], nb = 0, odd[CULPRIT_RANKS_MAX],
			    no = 0;

			for (size_t j = 0; j < n; j++) /* the furthest any rank got in this group */
				if ((p = fr_pg(&ev[j], pg)) && p->seq > top->seq)
					top = p;
			for (size_t j = 0; j < n; j++)
				if ((p = fr_pg(&ev[j], pg)) && p->seq < top->seq)
					add_rank(behind, &nb, ev[j].rank);
			if (!nb)
				top = fr_reference(ev, n, pg, &tie);
			for (size_t j = 0; !nb && j < n; j++)
				if ((p = fr_pg(&ev[j], pg)) && strcmp(p->op, top->op))
					add_rank(odd, &no, ev[j].rank);
			if (!nb && !no)
				continue;
			out->confidence = FC_CERTAIN;
			out->evidence = "flight-recorder";
			out->desync = !nb;
			for (size_t j = 0; j < n; j++) {
				int c = 0;
				if (!ev[j].fr.known)
					continue; /* no dump: the recorder says nothing of it */
				for (int x = 0; x < (nb ? nb : no); x++)
					c |= (nb ? behind : odd)[x] == ev[j].rank;
				if (c)
					add_rank(out->culprits, &out->nculprits, ev[j].rank);
				else
					add_rank(out->victims, &out->nvictims, ev[j].rank);
			}
			if (nb) {
				/* "rank 1 (pid 9) at train.py:5 in load never entered collective 12 of
				 * process group 0 (gloo:all_reduce; its newest: 11); rank 0 waits in it" */
				for (size_t j = 0; j < n; j++) {
					if (!(p = fr_pg(&ev[j], pg)) || p->seq >= top->seq)
						continue;
					describe(&ev[j], d, sizeof(d));
					fd_appendf(out->line, sizeof(out->line), &k,
						   "%s%s never entered collective %lld of process "
						   "group %d (%s; its newest: %lld)",
						   k ? "; " : "", d, (long long)top->seq, pg,
						   top->op, (long long)p->seq);
				}
				fd_appendf(out->line, sizeof(out->line), &k, "; ");
				rank_list(out->line, sizeof(out->line), &k, out->victims,
					  out->nvictims);
				fd_appendf(out->line, sizeof(out->line), &k, " %s in it",
					   out->nvictims > 1 ? "wait" : "waits");
			} else {
				fd_appendf(out->line, sizeof(out->line), &k,
					   "desync in process group %d at collective %lld: ", pg,
					   (long long)top->seq);
				rank_list(out->line, sizeof(out->line), &k, out->culprits,
					  out->nculprits);
				for (size_t j = 0; j < n; j++)
					if ((p = fr_pg(&ev[j], pg)) &&
					    ev[j].rank == out->culprits[0])
						fd_appendf(out->line, sizeof(out->line), &k,
							   " in %s, ", p->op);
				rank_list(out->line, sizeof(out->line), &k, out->victims,
					  out->nvictims);
				fd_appendf(
				    out->line, sizeof(out->line), &k, " in %s%s", top->op,
				    tie ? " (as many ranks on each side: the one with the lowest "
					  "rank is taken for the job's)"
					: "");
			}
			for (size_t j = 0; j < n; j++) /* ranks without a dump: neither side */
				if (!ev[j].fr.known)
					fd_appendf(out->line, sizeof(out->line), &k,
						   " (rank %d: no flight-recorder dump)",
						   ev[j].rank);
			return 1;
		}
	}
	return 0;
}

void fd_culprit_judge(const struct fd_rank_evidence *ev, size_t n, struct fd_culprit *out)
{
	size_t bad = 0, waiting = 0, elsewhere = 0, quiet = 0, moving = 0, k = 0;
	int by;
	char d[512];

	memset(out, 0, sizeof(*out));
	out->evidence = "none";
	if (fr_judge(ev, n, out))
		return;
	for (size_t i = 0; i < n; i++) {
		bad += cannot_run(ev[i].state);
		waiting += ev[i].stack == SC_COLLECTIVE;
		elsewhere += ev[i].stack == SC_ELSEWHERE;
		quiet += ev[i].quiet == QUIET_YES;
		moving += ev[i].quiet == QUIET_NO;
	}
	by = bad > 0 && bad < n	    ? BY_STATE
	     : quiet && moving	    ? BY_PROGRESS
	     : waiting && elsewhere ? BY_STACKS
				    : 0;
	if (!by) {
		snprintf(out->line, sizeof(out->line),
			 n < 2	    ? "culprit unknown: one rank, nothing to compare"
			 : bad == n ? "culprit unknown: every rank is stopped, in D state or gone"
			 : waiting == n
			     ? "culprit unknown: every rank waits in a collective (a desync, "
			       "or a peer on another node)"
			     : "culprit unknown: no state or stack tells the ranks apart");
		return;
	}
	out->confidence = FC_LIKELY;
	out->evidence = by == BY_STATE ? "state" : by == BY_PROGRESS ? "progress" : "stacks";
	for (size_t i = 0; i < n; i++) {
		int culprit = is_culprit(&ev[i], by);

		if (culprit && out->nculprits < CULPRIT_RANKS_MAX)
			out->culprits[out->nculprits++] = ev[i].rank;
		else if (!culprit && out->nvictims < CULPRIT_RANKS_MAX)
			out->victims[out->nvictims++] = ev[i].rank;
	}
	/* the culprits first, each described; then who waits, and where the first one waits */
	for (size_t i = 0; i < n; i++) {
		if (!is_culprit(&ev[i], by))
			continue;
		describe(&ev[i], d, sizeof(d));
		fd_appendf(out->line, sizeof(out->line), &k, "%s%s", k ? "; " : "", d);
	}
	if (out->nvictims)
		fd_appendf(out->line, sizeof(out->line), &k, "; rank%s",
			   out->nvictims > 1 ? "s" : "");
	for (int i = 0; i < out->nvictims; i++)
		fd_appendf(out->line, sizeof(out->line), &k, "%s%d", i ? "," : " ",
			   out->victims[i]);
	for (size_t i = 0; out->nvictims && i < n; i++) {
		if (ev[i].rank != out->victims[0])
			continue;
		if (by == BY_PROGRESS)
			fd_appendf(out->line, sizeof(out->line), &k, " kept making progress");
		else
			fd_appendf(out->line, sizeof(out->line), &k, " %s",
				   out->nvictims > 1 ? "wait for it" : "waits for it");
		if (ev[i].stack == SC_COLLECTIVE && *ev[i].where)
			fd_appendf(out->line, sizeof(out->line), &k, " at %s", ev[i].where);
		break;
	}
}

/* A kernel wait inside the NVIDIA driver (nv*, uvm*, os_* of its OS layer) or an RDMA one. */
static int driver_wchan(const char *w)
{
	static const char *const marks[] = {"nv", "_nv", "uvm", "os_", "mlx", "ib_", "rdma", "gdr"};

	for (size_t i = 0; i < FD_ARRAY_SIZE(marks); i++)
		if (!strncmp(w, marks[i], strlen(marks[i])))
			return 1;
	return 0;
}

int fd_culprit_machine(const struct fd_rank_evidence *ev, size_t n, const struct fd_culprit *v,
		       const char *xid, char *why, size_t len)
{
	*why = '\0';
	if (!v || v->confidence < FC_LIKELY || !v->nculprits)
		return 0;
	for (int c = 0; c < v->nculprits; c++)
		for (size_t i = 0; i < n; i++)
			if (ev[i].rank == v->culprits[c] && ev[i].state == RS_DISK &&
			    driver_wchan(ev[i].wchan)) {
				snprintf(why, len,
					 "rank %d is in uninterruptible sleep in a driver (%s)",
					 ev[i].rank, ev[i].wchan);
				return 1;
			}
	for (int c = 0; c < v->nculprits; c++)
		for (size_t i = 0; i < n; i++)
			if (ev[i].rank == v->culprits[c] && ev[i].python && !ev[i].oom &&
			    (ev[i].state == RS_GONE || ev[i].state == RS_ZOMBIE)) {
				snprintf(
				    why, len,
				    "rank %d is gone without its Python shutdown (no done beat: "
				    "killed by a signal, or crashed in native code)",
				    ev[i].rank);
				return 1;
			}
	if (xid && *xid) {
		snprintf(why, len, "%s, and rank %d here is the culprit", xid, v->culprits[0]);
		return 1;
	}
	return 0;
}
