/*
 * frame.c - the group's frame codec and its payloads (see frame.h). Nothing here reads a
 * socket or a clock.
 */
#include "frame.h"
#include "sha256.h"
#include "util.h"

#include <errno.h>
#include <string.h>

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void mac(const struct fd_token *tok, const uint8_t *hdr, const void *payload, size_t len,
		uint8_t out[FD_FRAME_MAC])
{
	uint8_t full[32];

	fd_hmac_sha256_2(tok->b, tok->n, hdr, 24, payload, len, full);
	memcpy(out, full, FD_FRAME_MAC);
}

long fd_frame_build(uint8_t *out, size_t cap, int type, uint32_t node, uint32_t gen, uint32_t round,
		    const void *payload, size_t len, const struct fd_token *tok)
{
	if (len > FD_FRAME_MAX || cap < FD_FRAME_HDR + len)
		return -EMSGSIZE;
	be32(out, FD_FRAME_MAGIC);
	out[4] = FD_FRAME_VERSION;
	out[5] = (uint8_t)type;
	out[6] = out[7] = 0;
	be32(out + 8, node);
	be32(out + 12, gen);
	be32(out + 16, round);
	be32(out + 20, (uint32_t)len);
	if (len)
		memmove(out + FD_FRAME_HDR, payload, len);
	mac(tok, out, out + FD_FRAME_HDR, len, out + 24);
	return (long)(FD_FRAME_HDR + len);
}

long fd_frame_parse(const uint8_t *buf, size_t n, const struct fd_token *tok, struct fd_frame *f)
{
	uint8_t want[FD_FRAME_MAC];
	uint32_t len;

	/* What can be judged from a partial header is judged at once: a stray client (an HTTP
	 * probe, a port scanner) is dropped on its first bytes. */
	if (n >= 4 && get32(buf) != FD_FRAME_MAGIC)
		return -EPROTO;
	if (n >= 5 && buf[4] != FD_FRAME_VERSION)
		return -EPROTO;
	if (n < FD_FRAME_HDR)
		return 0;
	if (buf[6] || buf[7] || buf[5] == 0 || buf[5] >= FR_TYPE_MAX)
		return -EPROTO;
	len = get32(buf + 20);
	if (len > FD_FRAME_MAX)
		return -EMSGSIZE;
	if (n < FD_FRAME_HDR + (size_t)len)
		return 0;
	f->type = buf[5];
	f->node = get32(buf + 8);
	f->gen = get32(buf + 12);
	f->round = get32(buf + 16);
	f->len = len;
	f->payload = buf + FD_FRAME_HDR;
	mac(tok, buf, buf + FD_FRAME_HDR, len, want);
	if (!fd_ct_equal(want, buf + 24, FD_FRAME_MAC))
		return -EBADMSG;
	return (long)(FD_FRAME_HDR + len);
}

const char *fd_frame_type_name(int type)
{
	static const char *const names[] = {
	    [FR_HELLO] = "HELLO",	[FR_WELCOME] = "WELCOME", [FR_BEAT] = "BEAT",
	    [FR_STATE] = "STATE",	[FR_HALT] = "HALT",	  [FR_STOP] = "STOP",
	    [FR_DECISION] = "DECISION", [FR_WORLD] = "WORLD",	  [FR_REFUSE] = "REFUSE",
	};

	return type > 0 && type < FR_TYPE_MAX ? names[type] : "?";
}

int fd_payload_version(int type)
{
	switch (type) {
	case FR_HELLO:
	case FR_WELCOME:
		return FD_HELLO_VERSION;
	case FR_STATE:
	case FR_HALT:
		return FD_STATE_VERSION;
	case FR_STOP:
	case FR_DECISION:
		return FD_DECISION_VERSION;
	case FR_WORLD:
		return FD_WORLD_VERSION;
	case FR_REFUSE:
		return FD_REFUSE_VERSION;
	}
	return 0;
}

/* ---- fields ------------------------------------------------------------------------------ */

static uint8_t *room(struct fd_wire *w, size_t k)
{
	uint8_t *p;

	if (w->err || w->cap - w->n < k) {
		w->err = 1;
		return NULL;
	}
	p = w->p + w->n;
	w->n += k;
	return p;
}

static const uint8_t *take(struct fd_wire *w, size_t k)
{
	const uint8_t *p;

	if (w->err || w->cap - w->n < k) {
		w->err = 1;
		return NULL;
	}
	p = w->rp + w->n;
	w->n += k;
	return p;
}

void wire_u8(struct fd_wire *w, uint8_t v)
{
	uint8_t *p = room(w, 1);

	if (p)
		*p = v;
}

void wire_u16(struct fd_wire *w, uint16_t v)
{
	uint8_t *p = room(w, 2);

	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void wire_u32(struct fd_wire *w, uint32_t v)
{
	uint8_t *p = room(w, 4);

	if (p)
		be32(p, v);
}

void wire_u64(struct fd_wire *w, uint64_t v)
{
	wire_u32(w, (uint32_t)(v >> 32));
	wire_u32(w, (uint32_t)v);
}

void wire_str(struct fd_wire *w, const char *s)
{
	size_t k = strlen(s);
	uint8_t *p;

	if (k > UINT16_MAX) {
		w->err = 1;
		return;
	}
	wire_u16(w, (uint16_t)k);
	p = room(w, k);
	if (p)
		memcpy(p, s, k);
}

uint8_t wire_get_u8(struct fd_wire *w)
{
	const uint8_t *p = take(w, 1);

	return p ? *p : 0;
}

uint16_t wire_get_u16(struct fd_wire *w)
{
	const uint8_t *p = take(w, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t wire_get_u32(struct fd_wire *w)
{
	const uint8_t *p = take(w, 4);

	return p ? get32(p) : 0;
}

uint64_t wire_get_u64(struct fd_wire *w)
{
	uint64_t hi = wire_get_u32(w);

	return hi << 32 | wire_get_u32(w);
}

void wire_get_str(struct fd_wire *w, char *out, size_t len)
{
	size_t k = wire_get_u16(w);
	const uint8_t *p = take(w, k);

	*out = '\0';
	if (!p)
		return;
	if (k >= len || memchr(p, '\0', k)) {
		w->err = 1;
		return;
	}
	memcpy(out, p, k);
	out[k] = '\0';
}

static struct fd_wire writer(uint8_t *out, size_t cap)
{
	return (struct fd_wire){.p = out, .cap = cap};
}

static struct fd_wire reader(const uint8_t *p, size_t n)
{
	return (struct fd_wire){.rp = p, .cap = n};
}

/*
 * A reader that found every field it knows: 0, else -EBADMSG. Bytes past them are fields a
 * later writer added at the end of the same version, which this reader has no use for.
 */
static int done(const struct fd_wire *w)
{
	return w->err ? -EBADMSG : 0;
}

/*
 * The payload's leading version byte: 0 when it is want, -EBADMSG when there is none,
 * -EPROTONOSUPPORT for another. Nothing after it is read then: another version may lay out
 * every byte differently.
 */
static int version(struct fd_wire *w, uint8_t want)
{
	uint8_t v = wire_get_u8(w);

	if (w->err)
		return -EBADMSG;
	return v == want ? 0 : -EPROTONOSUPPORT;
}

/* ---- payloads ---------------------------------------------------------------------------- */

size_t fd_hello_put(uint8_t *out, size_t cap, const struct fd_hello *h)
{
	struct fd_wire w = writer(out, cap);

	wire_u8(&w, FD_HELLO_VERSION);
	wire_u32(&w, h->nnodes);
	wire_u32(&w, h->pid);
	wire_str(&w, h->host);
	wire_u32(&w, h->spares); /* appended: an older reader stops before it */
	return w.err ? 0 : w.n;
}

int fd_hello_get(const uint8_t *p, size_t n, struct fd_hello *h)
{
	struct fd_wire w = reader(p, n);
	int r = version(&w, FD_HELLO_VERSION);

	if (r)
		return r;
	h->nnodes = wire_get_u32(&w);
	h->pid = wire_get_u32(&w);
	wire_get_str(&w, h->host, sizeof(h->host));
	h->spares = 0;
	if (!w.err && w.n < w.cap) {
		h->spares = wire_get_u32(&w);
		if (h->spares > FD_SPARES_MAX)
			return -EBADMSG;
	}
	return done(&w);
}

size_t fd_state_put(uint8_t *out, size_t cap, const struct fd_node_state *s)
{
	struct fd_wire w = writer(out, cap);
	int k = s->nckpts < 0 ? 0 : s->nckpts > FD_GROUP_CKPTS ? FD_GROUP_CKPTS : s->nckpts;

	wire_u8(&w, FD_STATE_VERSION);
	wire_u32(&w, (uint32_t)s->failure);
	wire_u32(&w, (uint32_t)s->status);
	wire_u8(&w, (uint8_t) !!s->ended);
	wire_u32(&w, (uint32_t)s->stop_signal);
	wire_u64(&w, (uint64_t)s->max_step);
	wire_u8(&w, (uint8_t)k);
	for (int i = 0; i < k; i++)
		wire_str(&w, s->ckpts[i]);
	wire_str(&w, s->detail);
	/* added in version 1: absent reads as 0 (fd_state_get) */
	wire_u8(&w, (uint8_t) !!s->no_ckpt_dir);
	wire_u8(&w, (uint8_t) !!s->opts_known);
	wire_u32(&w, (uint32_t)s->max_restarts);
	wire_u32(&w, (uint32_t)s->no_progress_limit);
	wire_u64(&w, (uint64_t)s->stall_timeout_ms);
	wire_u8(&w, (uint8_t) !!s->culprit_likely);
	wire_u32(&w, (uint32_t)s->culprit_rank);
	wire_str(&w, s->culprit);
	wire_str(&w, s->drain); /* added after the culprit: absent reads as "" */
	k = s->nfr < 0 ? 0 : s->nfr > FD_FR_PGS ? FD_FR_PGS : s->nfr; /* added after drain */
	wire_u8(&w, (uint8_t)k);
	for (int i = 0; i < k; i++) {
		wire_u32(&w, (uint32_t)s->fr[i].pg);
		wire_u64(&w, (uint64_t)s->fr[i].lo);
		wire_u32(&w, (uint32_t)s->fr[i].lo_rank);
		wire_u64(&w, (uint64_t)s->fr[i].hi);
		wire_str(&w, s->fr[i].op);
	}
	return w.err ? 0 : w.n;
}

int fd_state_get(const uint8_t *p, size_t n, struct fd_node_state *s)
{
	struct fd_wire w = reader(p, n);
	int r = version(&w, FD_STATE_VERSION);

	if (r)
		return r;
	s->failure = (int)wire_get_u32(&w);
	s->status = (int)wire_get_u32(&w);
	s->ended = wire_get_u8(&w);
	s->stop_signal = (int)wire_get_u32(&w);
	s->max_step = (int64_t)wire_get_u64(&w);
	s->nckpts = wire_get_u8(&w);
	if (s->nckpts > FD_GROUP_CKPTS)
		return -EBADMSG;
	for (int i = 0; i < s->nckpts; i++)
		wire_get_str(&w, s->ckpts[i], sizeof(s->ckpts[i]));
	wire_get_str(&w, s->detail, sizeof(s->detail));
	/* Fields added in version 1 (docs/protocol.md, "Changing the protocol"): a payload that
	 * ends before them reads as 0, "has a directory" and "options not sent". */
	s->no_ckpt_dir = s->opts_known = s->max_restarts = s->no_progress_limit = 0;
	s->stall_timeout_ms = 0;
	if (!w.err && w.n < w.cap) {
		s->no_ckpt_dir = wire_get_u8(&w);
		s->opts_known = wire_get_u8(&w);
		s->max_restarts = (int)wire_get_u32(&w);
		s->no_progress_limit = (int)wire_get_u32(&w);
		s->stall_timeout_ms = (int64_t)wire_get_u64(&w);
	}
	/* and after them, the culprit: absent reads as none */
	s->culprit_likely = s->culprit_rank = 0;
	s->culprit[0] = '\0';
	if (!w.err && w.n < w.cap) {
		s->culprit_likely = wire_get_u8(&w);
		s->culprit_rank = (int)wire_get_u32(&w);
		wire_get_str(&w, s->culprit, sizeof(s->culprit));
		if (s->culprit_likely > 1 || s->culprit_rank < 0)
			return -EBADMSG;
	}
	/* and the node to drain: absent reads as none */
	s->drain[0] = '\0';
	if (!w.err && w.n < w.cap)
		wire_get_str(&w, s->drain, sizeof(s->drain));
	/* and the flight recorder's wavefront: absent reads as none */
	s->nfr = 0;
	if (!w.err && w.n < w.cap) {
		s->nfr = wire_get_u8(&w);
		if (s->nfr > FD_FR_PGS)
			return -EBADMSG;
		for (int i = 0; i < s->nfr; i++) {
			struct fd_fr_wave *f = &s->fr[i];

			f->pg = (int)wire_get_u32(&w);
			f->lo = (int64_t)wire_get_u64(&w);
			f->lo_rank = (int)wire_get_u32(&w);
			f->hi = (int64_t)wire_get_u64(&w);
			wire_get_str(&w, f->op, sizeof(f->op));
			if (!w.err && (f->pg < 0 || f->lo < 0 || f->hi < f->lo || f->lo_rank < 0))
				return -EBADMSG;
		}
	}
	if (!w.err) {
		if (s->no_ckpt_dir > 1 || s->opts_known > 1 || s->max_restarts < 0 ||
		    s->no_progress_limit < 0 || s->stall_timeout_ms < 0)
			return -EBADMSG;
	}
	/* values a peer could not have meant are refused, not clamped */
	if (s->failure < FD_FAIL_NONE || s->failure > FD_FAIL_LAUNCH || s->status < 0 ||
	    s->status > 255 || s->stop_signal < 0 || s->stop_signal > 64 || s->ended > 1)
		return -EBADMSG;
	return done(&w);
}

size_t fd_decision_put(uint8_t *out, size_t cap, const struct fd_decision *d)
{
	struct fd_wire w = writer(out, cap);

	wire_u8(&w, FD_DECISION_VERSION);
	wire_u8(&w, (uint8_t)d->verdict);
	wire_u8(&w, (uint8_t)d->stop_why);
	wire_u8(&w, (uint8_t)d->failure);
	wire_u32(&w, (uint32_t)d->node);
	wire_u32(&w, (uint32_t)d->status);
	wire_u32(&w, (uint32_t)d->stop_signal);
	wire_u32(&w, (uint32_t)d->restarts);
	wire_u32(&w, (uint32_t)d->no_progress);
	wire_u64(&w, (uint64_t)d->last_max_step);
	wire_str(&w, d->checkpoint);
	wire_u32(&w, d->gen);
	wire_str(&w, d->why);
	wire_u16(&w, (uint16_t)d->master_port);
	wire_u32(&w, (uint32_t)d->max_restarts);
	wire_u32(&w, (uint32_t)d->no_progress_limit);
	/* appended: the training set (hot spares); absent reads as "every node in its place" */
	wire_u32(&w, (uint32_t)d->nactive);
	wire_u8(&w, (uint8_t)d->nmoved);
	for (int i = 0; i < d->nmoved && i < FD_SPARES_MAX; i++) {
		wire_u32(&w, (uint32_t)d->moved[i].slot);
		wire_u32(&w, (uint32_t)d->moved[i].node);
	}
	return w.err ? 0 : w.n;
}

/* A training set a peer could have meant: slots in range, each slot and node moved once. */
static int moved_ok(const struct fd_decision *d)
{
	if (d->nactive < 0 || d->nactive > 65536 || d->nmoved > FD_SPARES_MAX ||
	    (d->nmoved && !d->nactive))
		return 0;
	for (int i = 0; i < d->nmoved; i++) {
		if (d->moved[i].slot < 0 || d->moved[i].slot >= d->nactive ||
		    d->moved[i].node < 0 || d->moved[i].node > 65535 ||
		    d->moved[i].node == d->moved[i].slot)
			return 0;
		for (int j = 0; j < i; j++)
			if (d->moved[j].slot == d->moved[i].slot ||
			    d->moved[j].node == d->moved[i].node)
				return 0;
	}
	return 1;
}

int fd_decision_get(const uint8_t *p, size_t n, struct fd_decision *d)
{
	struct fd_wire w = reader(p, n);
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = version(&w, FD_DECISION_VERSION)))
		return r;
	d->verdict = wire_get_u8(&w);
	d->stop_why = wire_get_u8(&w);
	d->failure = wire_get_u8(&w);
	d->node = (int)wire_get_u32(&w);
	d->status = (int)wire_get_u32(&w);
	d->stop_signal = (int)wire_get_u32(&w);
	d->restarts = (int)wire_get_u32(&w);
	d->no_progress = (int)wire_get_u32(&w);
	d->last_max_step = (int64_t)wire_get_u64(&w);
	wire_get_str(&w, d->checkpoint, sizeof(d->checkpoint));
	d->gen = wire_get_u32(&w);
	wire_get_str(&w, d->why, sizeof(d->why));
	d->master_port = wire_get_u16(&w);
	d->max_restarts = (int)wire_get_u32(&w);
	d->no_progress_limit = (int)wire_get_u32(&w);
	if (!w.err && w.n < w.cap) {
		d->nactive = (int)wire_get_u32(&w);
		d->nmoved = wire_get_u8(&w);
		if (d->nmoved > FD_SPARES_MAX)
			return -EBADMSG;
		for (int i = 0; i < d->nmoved; i++) {
			d->moved[i].slot = (int)wire_get_u32(&w);
			d->moved[i].node = (int)wire_get_u32(&w);
		}
		if (!w.err && !moved_ok(d))
			return -EBADMSG;
	}
	if (d->verdict > FD_STOP || d->stop_why > FD_STOP_CONFIG || d->max_restarts < 0 ||
	    d->no_progress_limit < 0 || d->failure > FD_FAIL_LOST || d->node < -1 ||
	    d->status < 0 || d->status > 255 || d->stop_signal < 0 || d->stop_signal > 64 ||
	    d->restarts < 0 || d->no_progress < 0 || strchr(d->checkpoint, '/') ||
	    !strcmp(d->checkpoint, "..") || !strcmp(d->checkpoint, "."))
		return -EBADMSG;
	return done(&w);
}

size_t fd_refuse_put(uint8_t *out, size_t cap, const struct fd_refuse *r)
{
	struct fd_wire w = writer(out, cap);

	wire_u8(&w, FD_REFUSE_VERSION);
	wire_u8(&w, (uint8_t)r->code);
	wire_u32(&w, r->nnodes);
	wire_str(&w, r->why);
	return w.err ? 0 : w.n;
}

int fd_refuse_get(const uint8_t *p, size_t n, struct fd_refuse *r)
{
	struct fd_wire w = reader(p, n);
	int v = version(&w, FD_REFUSE_VERSION);

	memset(r, 0, sizeof(*r));
	if (v)
		return v;
	r->code = wire_get_u8(&w);
	r->nnodes = wire_get_u32(&w);
	wire_get_str(&w, r->why, sizeof(r->why));
	if (r->code < FD_REFUSE_TOKEN || r->code > FD_REFUSE_CODE_MAX)
		return -EBADMSG;
	return done(&w);
}

int fd_refuse_is_config(int code)
{
	return code == FD_REFUSE_TOKEN || code == FD_REFUSE_NNODES || code == FD_REFUSE_NODE ||
	       code == FD_REFUSE_DUPLICATE || code == FD_REFUSE_PROTOCOL;
}

/* GB/s and bytes travel as whole thousandths and whole bytes: no float on the wire. */
#define WORLD_MILLI_MAX 1e15 /* 1e12 GB/s: past any link */

static uint64_t milli(double v)
{
	return v > 0 && v < WORLD_MILLI_MAX / 1000 ? (uint64_t)(v * 1000.0 + 0.5) : 0;
}

size_t fd_world_put(uint8_t *out, size_t cap, const struct fd_world_msg *m)
{
	struct fd_wire w = writer(out, cap);

	wire_u8(&w, FD_WORLD_VERSION);
	wire_u8(&w, (uint8_t)m->kind);
	wire_u32(&w, m->set);
	wire_u32(&w, (uint32_t)m->rank);
	wire_u32(&w, (uint32_t)m->size);
	wire_u32(&w, m->timeout_ms);
	wire_u8(&w, (uint8_t) !!m->full);
	wire_str(&w, m->id);
	wire_u8(&w, (uint8_t)m->outcome);
	wire_u8(&w, (uint8_t) !!m->ok);
	wire_u32(&w, (uint32_t)m->nranks);
	wire_u32(&w, (uint32_t)m->nodes);
	wire_u64(&w, m->bytes > 0 && m->bytes < 1e18 ? (uint64_t)m->bytes : 0);
	wire_u64(&w, milli(m->busbw));
	wire_u64(&w, milli(m->algbw));
	wire_u8(&w, (uint8_t)m->status);
	wire_u8(&w, (uint8_t) !!m->unfit);
	wire_str(&w, m->code);
	wire_str(&w, m->subject);
	wire_str(&w, m->value);
	wire_str(&w, m->expected);
	wire_str(&w, m->text);
	/* version 2: the pairs */
	wire_u8(&w, (uint8_t)m->role);
	wire_u32(&w, (uint32_t)m->peer);
	wire_u32(&w, m->duration_ms);
	wire_u8(&w, (uint8_t) !!m->skip);
	wire_str(&w, m->addr);
	wire_u8(&w, (uint8_t)(m->nrails > 0 && m->nrails <= FD_WORLD_RAILS ? m->nrails : 0));
	for (int i = 0; i < m->nrails && i < FD_WORLD_RAILS; i++) {
		const struct fd_world_rail *r = &m->rails[i];

		wire_str(&w, r->dev);
		wire_u8(&w, (uint8_t)r->ib_port);
		wire_u16(&w, (uint16_t)r->tcp_port);
		wire_u64(&w, milli(r->rate));
		wire_u64(&w, milli(r->gbps));
		wire_u8(&w, (uint8_t)r->outcome);
	}
	return w.err ? 0 : w.n;
}

int fd_world_get(const uint8_t *p, size_t n, struct fd_world_msg *m)
{
	struct fd_wire w = reader(p, n);
	uint64_t busbw, algbw;
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = version(&w, FD_WORLD_VERSION)))
		return r;
	m->kind = wire_get_u8(&w);
	m->set = wire_get_u32(&w);
	m->rank = (int)wire_get_u32(&w);
	m->size = (int)wire_get_u32(&w);
	m->timeout_ms = wire_get_u32(&w);
	m->full = wire_get_u8(&w);
	wire_get_str(&w, m->id, sizeof(m->id));
	m->outcome = wire_get_u8(&w);
	m->ok = wire_get_u8(&w);
	m->nranks = (int)wire_get_u32(&w);
	m->nodes = (int)wire_get_u32(&w);
	m->bytes = (double)wire_get_u64(&w);
	busbw = wire_get_u64(&w);
	algbw = wire_get_u64(&w);
	m->status = wire_get_u8(&w);
	m->unfit = wire_get_u8(&w);
	wire_get_str(&w, m->code, sizeof(m->code));
	wire_get_str(&w, m->subject, sizeof(m->subject));
	wire_get_str(&w, m->value, sizeof(m->value));
	wire_get_str(&w, m->expected, sizeof(m->expected));
	wire_get_str(&w, m->text, sizeof(m->text));
	m->role = wire_get_u8(&w);
	m->peer = (int)wire_get_u32(&w);
	m->duration_ms = wire_get_u32(&w);
	m->skip = wire_get_u8(&w);
	wire_get_str(&w, m->addr, sizeof(m->addr));
	m->nrails = wire_get_u8(&w);
	if (m->nrails > FD_WORLD_RAILS)
		return -EBADMSG;
	for (int i = 0; i < m->nrails; i++) {
		struct fd_world_rail *rl = &m->rails[i];
		uint64_t rate, gbps;

		wire_get_str(&w, rl->dev, sizeof(rl->dev));
		rl->ib_port = wire_get_u8(&w);
		rl->tcp_port = wire_get_u16(&w);
		rate = wire_get_u64(&w);
		gbps = wire_get_u64(&w);
		rl->outcome = wire_get_u8(&w);
		if (rate >= WORLD_MILLI_MAX || gbps >= WORLD_MILLI_MAX || rl->outcome >= FRO_MAX)
			return -EBADMSG;
		rl->rate = (double)rate / 1000.0;
		rl->gbps = (double)gbps / 1000.0;
	}
	if (m->role >= FWR_MAX || m->peer < -1 || m->skip > 1 ||
	    strspn(m->addr, "0123456789.") != strlen(m->addr))
		return -EBADMSG;
	if (m->kind < FW_START || m->kind >= FW_KIND_MAX || m->rank < 0 || m->size < 0 ||
	    m->size > 65536 || (m->size && m->rank >= m->size) || m->full > 1 ||
	    m->outcome >= FWO_MAX || m->ok > 1 || m->nranks < 0 || m->nodes < 0 ||
	    m->bytes >= 1e18 || busbw >= WORLD_MILLI_MAX || algbw >= WORLD_MILLI_MAX ||
	    m->status > 3 || m->unfit > 1 || strspn(m->id, "0123456789abcdef") != strlen(m->id))
		return -EBADMSG;
	m->busbw = (double)busbw / 1000.0;
	m->algbw = (double)algbw / 1000.0;
	return done(&w);
}
