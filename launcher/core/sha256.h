/*
 * sha256.h - SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and a constant-time compare.
 *
 * The multi-node group authenticates every frame of its TCP transport with HMAC-SHA256 under
 * a per-job token that never crosses the wire, so a stray or hostile connection to the
 * coordinator's port cannot submit a node state or a decision. That needs a hash and nothing
 * more, and flightdeck's only required dependency is cJSON, so this is written here rather
 * than linked from a crypto library that a login node or a bare container may lack.
 */
#ifndef FD_SHA256_H
#define FD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define FD_SHA256_LEN	32 /* bytes in a digest */
#define FD_SHA256_BLOCK 64 /* bytes in a block: HMAC pads its key to this */

/* The streaming state: init, update any number of times with any sizes, final once. */
struct fd_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[FD_SHA256_BLOCK];
	size_t nbuf; /* bytes waiting in buf for a whole block */
};

void fd_sha256_init(struct fd_sha256 *c);
void fd_sha256_update(struct fd_sha256 *c, const void *p, size_t n);
/* Writes the digest and wipes the state (it may have held key material): init again to reuse. */
void fd_sha256_final(struct fd_sha256 *c, uint8_t out[FD_SHA256_LEN]);
/* The digest of one buffer. */
void fd_sha256(const void *p, size_t n, uint8_t out[FD_SHA256_LEN]);

/* HMAC-SHA256 of msg under key; a key longer than a block is hashed first (RFC 2104). */
void fd_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		    uint8_t out[FD_SHA256_LEN]);
/*
 * HMAC-SHA256 of the concatenation a || b (a frame's header and its payload) without copying
 * them together: equal to fd_hmac_sha256 over the joined bytes.
 */
void fd_hmac_sha256_2(const void *key, size_t klen, const void *a, size_t an, const void *b,
		      size_t bn, uint8_t out[FD_SHA256_LEN]);

/*
 * 1 when the n bytes at a and b are equal, else 0, in a time that depends on n only, not on
 * where they differ: comparing a received MAC with memcmp would tell a forger, by its timing,
 * how many leading bytes of a guess were right.
 */
int fd_ct_equal(const void *a, const void *b, size_t n);

#endif
