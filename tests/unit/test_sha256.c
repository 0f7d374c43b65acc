/*
 * test_sha256.c - SHA-256 against the FIPS 180-4 / NIST examples, HMAC-SHA256 against RFC
 * 4231, the two-piece HMAC against the one-piece one at every split, and the constant-time
 * compare. The transport's frames are only as authentic as these are right.
 */
#include "sha256.h"
#include "testhelp.h"
#include "util.h"

#include <stdlib.h>

/* The lowercase hex of a digest, into a static buffer. */
static const char *hex(const uint8_t d[FD_SHA256_LEN])
{
	static char s[2 * FD_SHA256_LEN + 1];

	for (int i = 0; i < FD_SHA256_LEN; i++)
		snprintf(s + 2 * i, 3, "%02x", d[i]);
	return s;
}

static const char *sha(const char *msg)
{
	uint8_t d[FD_SHA256_LEN];

	fd_sha256(msg, strlen(msg), d);
	return hex(d);
}

static void sha256_vectors(void)
{
	CHECK_STREQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STREQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* 448 bits: the padding's 1 bit and the length no longer fit the message's block */
	CHECK_STREQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CHECK_STREQ(
	    sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
		"nopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* One million 'a' fed in odd-sized pieces, so that every buffering path of update runs. */
static void sha256_million(void)
{
	static const size_t pieces[] = {1, 3, 63, 64, 65, 127, 1000, 7, 0, 4096};
	const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	size_t total = 1000000, done = 0, k = 0;
	char *a = malloc(total);
	uint8_t d[FD_SHA256_LEN];
	struct fd_sha256 c;

	CHECK(a != NULL);
	if (!a)
		return;
	memset(a, 'a', total);
	fd_sha256_init(&c);
	while (done < total) {
		size_t n = pieces[k++ % FD_ARRAY_SIZE(pieces)];

		if (n > total - done)
			n = total - done;
		fd_sha256_update(&c, a + done, n);
		done += n;
	}
	fd_sha256_final(&c, d);
	CHECK_STREQ(hex(d), want);
	/* and in one piece */
	fd_sha256(a, total, d);
	CHECK_STREQ(hex(d), want);
	free(a);
}

struct hmac_case {
	uint8_t key[131];
	size_t klen;
	const char *data; /* NULL: fill with dbyte */
	uint8_t dbyte;
	size_t dlen;
	const char *want;
};

/* RFC 4231 test cases 1-4, 6 and 7 (5 is a truncated output, which the transport never uses). */
static void hmac_rfc4231(void)
{
	static struct hmac_case t[] = {
	    {.klen = 20,
	     .data = "Hi There",
	     .want = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    {.key = "Jefe",
	     .klen = 4,
	     .data = "what do ya want for nothing?",
	     .want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	    {.klen = 20,
	     .dbyte = 0xdd,
	     .dlen = 50,
	     .want = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	    {.klen = 25,
	     .dbyte = 0xcd,
	     .dlen = 50,
	     .want = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	    {.klen = 131,
	     .data = "Test Using Larger Than Block-Size Key - Hash Key First",
	     .want = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	    {.klen = 131,
	     .data = "This is a test using a larger than block-size key and a larger than "
		     "block-size data. The key needs to be hashed before being used by the HMAC "
		     "algorithm.",
	     .want = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};
	uint8_t data[64], d[FD_SHA256_LEN];

	memset(t[0].key, 0x0b, 20);
	memset(t[2].key, 0xaa, 20);
	for (int i = 0; i < 25; i++)
		t[3].key[i] = i + 1;
	memset(t[4].key, 0xaa, 131);
	memset(t[5].key, 0xaa, 131);
	for (size_t i = 0; i < FD_ARRAY_SIZE(t); i++) {
		const void *msg = t[i].data;
		size_t n = t[i].data ? strlen(t[i].data) : t[i].dlen;

		if (!t[i].data) {
			memset(data, t[i].dbyte, t[i].dlen);
			msg = data;
		}
		fd_hmac_sha256(t[i].key, t[i].klen, msg, n, d);
		if (strcmp(hex(d), t[i].want))
			printf("    RFC 4231 case at index %zu\n", i);
		CHECK_STREQ(hex(d), t[i].want);
	}
}

/* A frame's header and payload, split anywhere, authenticate as the joined bytes do. */
static void hmac_two_pieces(void)
{
	static const char key[] = "per-job token, never on the wire";
	uint8_t msg[200], one[FD_SHA256_LEN], two[FD_SHA256_LEN];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 37 + 11);
	fd_hmac_sha256(key, strlen(key), msg, sizeof(msg), one);
	for (size_t at = 0; at <= sizeof(msg); at++) {
		fd_hmac_sha256_2(key, strlen(key), msg, at, msg + at, sizeof(msg) - at, two);
		if (memcmp(one, two, sizeof(one)))
			printf("    split at %zu\n", at);
		CHECK(!memcmp(one, two, sizeof(one)));
	}
	/* an empty message, as one piece or two empty ones; and a different key differs */
	fd_hmac_sha256(key, strlen(key), NULL, 0, one);
	fd_hmac_sha256_2(key, strlen(key), NULL, 0, NULL, 0, two);
	CHECK(!memcmp(one, two, sizeof(one)));
	fd_hmac_sha256("other", 5, NULL, 0, two);
	CHECK(memcmp(one, two, sizeof(one)) != 0);
}

static void ct_equal(void)
{
	uint8_t a[FD_SHA256_LEN], b[FD_SHA256_LEN];

	for (int i = 0; i < FD_SHA256_LEN; i++)
		a[i] = b[i] = (uint8_t)(i * 7);
	CHECK_EQ_INT(fd_ct_equal(a, b, sizeof(a)), 1);
	CHECK_EQ_INT(fd_ct_equal(a, b, 0), 1);
	/* one bit off anywhere, each bit of a byte, is a difference */
	for (int i = 0; i < FD_SHA256_LEN; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= 1u << bit;
			CHECK_EQ_INT(fd_ct_equal(a, b, sizeof(a)), 0);
			b[i] ^= 1u << bit;
		}
	}
	b[FD_SHA256_LEN - 1] ^= 0xff;
	CHECK_EQ_INT(fd_ct_equal(a, b, sizeof(a)), 0);
	CHECK_EQ_INT(fd_ct_equal(a, b, sizeof(a) - 1), 1); /* only n bytes are compared */
}

const struct unit_test sha256_tests[] = {
    {"sha256: FIPS 180-4 examples", sha256_vectors},
    {"sha256: one million 'a' in odd pieces", sha256_million},
    {"sha256: HMAC, RFC 4231 cases 1-4, 6, 7", hmac_rfc4231},
    {"sha256: HMAC over two pieces at every split", hmac_two_pieces},
    {"sha256: constant-time compare", ct_equal},
    {NULL, NULL},
};
