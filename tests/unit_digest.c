/*
 * unit_digest.c - SHA-256 and HMAC-SHA256 (src/digest.c): the FIPS
 * 180-4 example vectors (empty, "abc", the 448-bit message, a million
 * 'a'), the RFC 4231 HMAC cases 1, 2 and 6 (a key longer than the
 * block), empty inputs, and the argument checks.
 *
 * Every input is an exact-size heap copy, so a read past its end is an
 * ASan or valgrind error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "tap.h"

static void
hex(const unsigned char *d, char out[2 * DG_SHA256_LEN + 1])
{
	size_t	 i;

	for (i = 0; i < DG_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* An exact-size heap copy of p[0..n) (NULL when n is 0). */
static unsigned char *
copy(const void *p, size_t n)
{
	unsigned char	*c;

	if (n == 0)
		return NULL;
	if ((c = malloc(n)) == NULL)
		abort();
	memcpy(c, p, n);
	return c;
}

static int
sha_is(const void *p, size_t n, const char *want)
{
	unsigned char	 d[DG_SHA256_LEN], *c;
	char		 h[2 * DG_SHA256_LEN + 1];
	enum dg_status	 st;

	c = copy(p, n);
	st = dg_sha256(c, n, d);
	free(c);
	hex(d, h);
	return st == DG_OK && strcmp(h, want) == 0;
}

static int
hmac_is(const void *key, size_t klen, const void *msg, size_t n,
    const char *want)
{
	unsigned char	 d[DG_SHA256_LEN], *k, *m;
	char		 h[2 * DG_SHA256_LEN + 1];
	enum dg_status	 st;

	k = copy(key, klen);
	m = copy(msg, n);
	st = dg_hmac_sha256(k, klen, m, n, d);
	free(k);
	free(m);
	hex(d, h);
	return st == DG_OK && strcmp(h, want) == 0;
}

static void
test_sha256(void)
{
	static const char msg448[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	unsigned char	*a;

	ok(sha_is(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
	    "a495991b7852b855"), "SHA-256 of the empty message");
	ok(sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
	    "b410ff61f20015ad"), "SHA-256(\"abc\") (FIPS 180-4)");
	ok(sha_is(msg448, sizeof(msg448) - 1, "248d6a61d20638b8e5c026930c3e6"
	    "039a33ce45964ff2167f6ecedd419db06c1"),
	    "SHA-256 of the 448-bit message (two blocks)");
	if ((a = malloc(1000000)) == NULL)
		abort();
	memset(a, 'a', 1000000);
	ok(sha_is(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a4972"
	    "00e046d39ccc7112cd0"), "SHA-256 of a million 'a'");
	free(a);
	ok(sha_is("\0", 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768"
	    "511a30617afa01d"), "SHA-256 of one NUL byte (not a C string)");
}

static void
test_hmac(void)
{
	unsigned char	 k1[20], k6[131];

	memset(k1, 0x0b, sizeof(k1));
	memset(k6, 0xaa, sizeof(k6));
	ok(hmac_is(k1, sizeof(k1), "Hi There", 8, "b0344c61d8db38535ca8afcea"
	    "f0bf12b881dc200c9833da726e9376c2e32cff7"),
	    "HMAC-SHA256, RFC 4231 case 1");
	ok(hmac_is("Jefe", 4, "what do ya want for nothing?", 28, "5bdcc146bf"
	    "60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
	    "HMAC-SHA256, RFC 4231 case 2");
	ok(hmac_is(k6, sizeof(k6), "Test Using Larger Than Block-Size Key - "
	    "Hash Key First", 54, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213"
	    "728c5140546040f0ee37f54"),
	    "HMAC-SHA256, RFC 4231 case 6 (a 131-byte key is hashed first)");
	ok(hmac_is(NULL, 0, NULL, 0, "b613679a0814d9ec772f95d778c35fc5ff1697"
	    "c493715653c6c712144292c5ad"), "HMAC-SHA256 of nothing, no key");
}

static void
test_args(void)
{
	unsigned char	 d[DG_SHA256_LEN];
	size_t		 i;
	int		 zero;

	memset(d, 0xff, sizeof(d));
	ok(dg_sha256(NULL, 1, d) == DG_ERR_ARG, "dg_sha256: NULL data of "
	    "length 1 is refused");
	zero = 1;
	for (i = 0; i < sizeof(d); i++)
		zero &= d[i] == 0;
	ok(zero, "... and the digest is zeroed");
	ok(dg_hmac_sha256(NULL, 1, "x", 1, d) == DG_ERR_ARG &&
	    dg_hmac_sha256("k", 1, NULL, 1, d) == DG_ERR_ARG,
	    "dg_hmac_sha256: NULL key or message with a length is refused");
	ok(strcmp(dg_strerror(DG_ERR_CRYPTO), "libcrypto failed") == 0 &&
	    strcmp(dg_strerror(DG__MAX), "unknown digest status") == 0,
	    "dg_strerror");
}

int
main(void)
{
	test_sha256();
	test_hmac();
	test_args();
	return tap_done();
}
