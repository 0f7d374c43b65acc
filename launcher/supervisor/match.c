/*
 * match.c - finding the lines of the child's output and matching --progress-regex on them
 * (output.c passes the bytes through; this only looks at them). A line ends at '\n' or '\r'
 * (tqdm redraws with '\r'); a literal every match must contain is searched for first, so
 * most lines never reach regexec.
 */
#define _GNU_SOURCE
#include "sv.h"
#include "util.h"

#include <ctype.h>
#include <string.h>

static int is_eol(char c)
{
	return c == '\n' || c == '\r';
}

/*
 * A literal that every match of the ERE pattern contains (the longest run of plain characters
 * outside groups, brackets and alternations, less a character a quantifier makes optional);
 * 0 when there is none to be sure of. Conservative: a wrong answer would lose beats.
 */
size_t match_literal(const char *re, char *out, size_t cap)
{
	char cur[64];
	size_t cl = 0, bl = 0;
	int depth = 0;

	if (strchr(re, '|'))
		return 0;
#define FLUSH()                                                                                    \
	do {                                                                                       \
		if (cl > bl) {                                                                     \
			memcpy(out, cur, cl);                                                      \
			bl = cl;                                                                   \
		}                                                                                  \
		cl = 0;                                                                            \
	} while (0)
	for (size_t i = 0; re[i]; i++) {
		char c = re[i];

		if (c == '\\') {
			if (!re[i + 1])
				break;
			c = re[++i];
			if (isalnum((unsigned char)c)) { /* \d, \w, a back-reference... */
				FLUSH();
				continue;
			}
		} else if (c == '[') {
			FLUSH();
			i++;
			if (re[i] == '^')
				i++;
			if (re[i] == ']')
				i++;
			while (re[i] && re[i] != ']') {
				if (re[i] == '[' && re[i + 1] == ':') /* [:digit:] */
					while (re[i] && !(re[i] == ':' && re[i + 1] == ']'))
						i++;
				if (re[i])
					i++;
			}
			if (!re[i])
				break;
			continue;
		} else if (c == '(' || c == ')') {
			depth += c == '(' ? 1 : -1;
			FLUSH();
			continue;
		} else if (c == '.' || c == '^' || c == '$' || c == '+') {
			FLUSH();
			continue;
		} else if (c == '*' || c == '?' || c == '{') {
			if (cl)
				cl--; /* the character before is optional */
			FLUSH();
			if (c == '{')
				while (re[i] && re[i] != '}')
					i++;
			if (!re[i])
				break;
			continue;
		}
		if (depth) {
			FLUSH();
			continue;
		}
		/* a quantifier after an escaped character applies to it too */
		if (cl == sizeof(cur) - 1)
			FLUSH();
		cur[cl++] = c;
	}
	FLUSH();
#undef FLUSH
	if (bl >= cap)
		bl = cap - 1;
	out[bl] = '\0';
	return bl;
}

void match_line(struct sv *s, int rank, const char *p, size_t n)
{
	static char line[LINE_MAX_MATCH + 1];
	struct fd_beat b = {.rank = rank, .step = -1, .total = -1};
	int named;

	if (!n)
		return; /* the empty "line" between '\r' and '\n' */
	if (n > LINE_MAX_MATCH)
		n = LINE_MAX_MATCH; /* a longer line is matched on its first bytes */
	memcpy(line, p, n);
	line[n] = '\0';
	if (!fd_progress_match(&s->output.re, line, &b.step, &named, &b.total))
		return;
	/* a native rank's stream says whose line it is; otherwise the rank group does */
	if (rank == RANK_OUTPUT && named != -1) {
		if (named < 0) {
			s->output.no_rank++; /* a rank group that holds no rank: no one's beat */
			return;
		}
		b.rank = named;
	}
	ranks_beat(&s->ranks, &b, fd_mono_ns());
}

static void carry(struct sup_stream *st, const char *p, size_t n)
{
	size_t room = LINE_MAX_MATCH - st->len;

	if (n > room)
		n = room;
	memcpy(st->line + st->len, p, n);
	st->len += n;
}

/* Complete lines in [p, end), end being a line end itself. */
static void match_lines(struct sv *s, int rank, const char *p, const char *end)
{
	const struct sup_output *o = &s->output;

	while (p < end) {
		const char *ls = p, *le;

		if (o->litlen) {
			const char *h = memmem(p, (size_t)(end - p), o->lit, o->litlen);

			if (!h)
				return;
			ls = h;
			while (ls > p && !is_eol(ls[-1]))
				ls--;
			le = h;
		} else {
			le = p;
		}
		while (le < end && !is_eol(*le))
			le++;
		match_line(s, rank, ls, (size_t)(le - ls));
		p = le + 1;
	}
}

/* Finds the lines of a chunk: the carried start of one, complete ones, the start of the next. */
void match_scan(struct sup_stream *st, const char *p, size_t n)
{
	const char *end = p + n, *q = p, *last;

	while (q < end && !is_eol(*q))
		q++;
	carry(st, p, (size_t)(q - p));
	if (q == end)
		return;
	match_line(st->s, st->rank, st->line, st->len);
	st->len = 0;
	p = q + 1;
	for (last = end; last > p && !is_eol(last[-1]); last--)
		;
	if (last > p) {
		match_lines(st->s, st->rank, p, last - 1);
		p = last;
	}
	carry(st, p, (size_t)(end - p));
}
