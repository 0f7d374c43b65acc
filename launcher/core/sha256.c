/*
 * sha256.c - SHA-256 from FIPS 180-4 (sections 4.1.2, 4.2.2, 5.1.1, 5.3.3, 6.2) and HMAC from
 * RFC 2104, for authenticating the group transport's frames (see sha256.h for why it is here).
 * Written for clarity over speed: the transport's frames are small and few.
 */
#define _GNU_SOURCE
#include "sha256.h"

#include <string.h>

/* The first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t x)
{
	p[0] = x >> 24;
	p[1] = x >> 16;
	p[2] = x >> 8;
	p[3] = x;
}

/* One 64-byte block into the state H (FIPS 180-4, 6.2.2; a..h its working variables). */
static void compress(uint32_t H[8], const uint8_t *blk)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(blk + 4 * i);
	for (; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
	for (i = 0; i < 64; i++) {
		uint32_t S1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t S0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t1 = h + S1 + ch + K[i] + w[i], t2 = S0 + maj;

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	H[0] += a, H[1] += b, H[2] += c, H[3] += d, H[4] += e, H[5] += f, H[6] += g, H[7] += h;
	/* the schedule is derived from the message, which may be the HMAC's padded key */
	explicit_bzero(w, sizeof(w));
}

void fd_sha256_init(struct fd_sha256 *c)
{
	/* the first 32 bits of the fractional parts of the square roots of the first 8 primes */
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, h0, sizeof(h0));
	c->len = 0;
	c->nbuf = 0;
}

void fd_sha256_update(struct fd_sha256 *c, const void *p, size_t n)
{
	const uint8_t *s = p;

	if (!n)
		return; /* p may be NULL then (the HMAC's absent second piece): no memcpy from it */
	c->len += n;
	if (c->nbuf) {
		size_t take = FD_SHA256_BLOCK - c->nbuf;

		if (take > n)
			take = n;
		memcpy(c->buf + c->nbuf, s, take);
		c->nbuf += take;
		s += take;
		n -= take;
		if (c->nbuf < FD_SHA256_BLOCK)
			return;
		compress(c->h, c->buf);
		c->nbuf = 0;
	}
	for (; n >= FD_SHA256_BLOCK; s += FD_SHA256_BLOCK, n -= FD_SHA256_BLOCK)
		compress(c->h, s);
	memcpy(c->buf, s, n);
	c->nbuf = n;
}

void fd_sha256_final(struct fd_sha256 *c, uint8_t out[FD_SHA256_LEN])
{
	/* FIPS 180-4, 5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, the length in bits, big-endian */
	uint64_t bits = c->len * 8;
	uint8_t pad[FD_SHA256_BLOCK + 8] = {0x80};
	size_t npad = (c->nbuf < 56 ? 56 : 56 + FD_SHA256_BLOCK) - c->nbuf;

	for (int i = 0; i < 8; i++)
		pad[npad + i] = bits >> (56 - 8 * i);
	fd_sha256_update(c, pad, npad + 8);
	for (int i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	explicit_bzero(c, sizeof(*c));
}

void fd_sha256(const void *p, size_t n, uint8_t out[FD_SHA256_LEN])
{
	struct fd_sha256 c;

	fd_sha256_init(&c);
	fd_sha256_update(&c, p, n);
	fd_sha256_final(&c, out);
}

/*
 * RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)), K the key zero-padded to a block (hashed
 * first when longer). The text comes in two pieces so that a frame's header and payload need
 * not be copied into one buffer.
 */
void fd_hmac_sha256_2(const void *key, size_t klen, const void *a, size_t an, const void *b,
		      size_t bn, uint8_t out[FD_SHA256_LEN])
{
	uint8_t k[FD_SHA256_BLOCK] = {0}, inner[FD_SHA256_LEN];
	struct fd_sha256 c;

	if (klen > FD_SHA256_BLOCK)
		fd_sha256(key, klen, k);
	else if (klen)
		memcpy(k, key, klen);
	for (int i = 0; i < FD_SHA256_BLOCK; i++)
		k[i] ^= 0x36;
	fd_sha256_init(&c);
	fd_sha256_update(&c, k, sizeof(k));
	fd_sha256_update(&c, a, an);
	fd_sha256_update(&c, b, bn);
	fd_sha256_final(&c, inner);
	for (int i = 0; i < FD_SHA256_BLOCK; i++)
		k[i] ^= 0x36 ^ 0x5c; /* from K ^ ipad to K ^ opad */
	fd_sha256_init(&c);
	fd_sha256_update(&c, k, sizeof(k));
	fd_sha256_update(&c, inner, sizeof(inner));
	fd_sha256_final(&c, out);
	/* the padded key is the job's token: leave no copy of it on the stack */
	explicit_bzero(k, sizeof(k));
	explicit_bzero(inner, sizeof(inner));
}

void fd_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		    uint8_t out[FD_SHA256_LEN])
{
	fd_hmac_sha256_2(key, klen, msg, n, NULL, 0, out);
}

int fd_ct_equal(const void *a, const void *b, size_t n)
{
	/*
	 * volatile: every byte is read and folded in, so the compiler cannot turn the loop into
	 * one that stops at the first difference, and there is no branch on the data.
	 */
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	/* d - 1 wraps to all ones only when d == 0 */
	return (int)((((uint32_t)d - 1) >> 8) & 1);
}
