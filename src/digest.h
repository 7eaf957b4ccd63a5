/*
 * digest.h - SHA-256 and HMAC-SHA256 over the caller's bytes.
 *
 * The one module that knows OpenSSL (libcrypto): the webhook signature
 * (webhook.c) and the answer cache's key (upstream.c's up_cache_key)
 * both hash through it, so a change of crypto library is one file.
 * One-shot functions only: no state, no allocation by the caller, every
 * function thread-safe.  Not here: encodings (hex, base64) and what is
 * hashed; the callers decide both.
 */
#ifndef MJ_DIGEST_H
#define MJ_DIGEST_H

#include <stddef.h>

/* Bytes of a SHA-256 digest (and of an HMAC-SHA256). */
#define DG_SHA256_LEN	32

enum dg_status {
	DG_OK = 0,
	DG_ERR_ARG,		/* NULL data with a length, or a length
				   libcrypto can't take */
	DG_ERR_CRYPTO,		/* libcrypto failed */
	DG__MAX
};

/*
 * out = SHA-256(p[0..n)) (FIPS 180-4).  p may be NULL when n is 0.
 * On an error out is zeroed.
 */
enum dg_status	 dg_sha256(const void *p, size_t n,
		    unsigned char out[DG_SHA256_LEN])
		    __attribute__((warn_unused_result));
/*
 * out = HMAC-SHA256(key[0..klen), msg[0..n)) (RFC 2104, FIPS 198-1).
 * key may be NULL when klen is 0 and msg when n is 0.  On an error out
 * is zeroed.
 */
enum dg_status	 dg_hmac_sha256(const void *key, size_t klen,
		    const void *msg, size_t n,
		    unsigned char out[DG_SHA256_LEN])
		    __attribute__((warn_unused_result));
const char	*dg_strerror(enum dg_status);

#endif /* MJ_DIGEST_H */
