/*
 * digest.c - SHA-256 and HMAC-SHA256 through libcrypto; see digest.h.
 *
 * EVP_Digest() and HMAC() are one-shot calls that OpenSSL 1.1 and 3
 * both have without deprecation; neither keeps state between calls, so
 * every thread may call them at once.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "digest.h"

/* An empty message still needs a valid pointer for libcrypto. */
static const unsigned char nothing[1];

enum dg_status
dg_sha256(const void *p, size_t n, unsigned char out[DG_SHA256_LEN])
{
	unsigned int	 len = 0;

	memset(out, 0, DG_SHA256_LEN);
	if (p == NULL && n > 0)
		return DG_ERR_ARG;
	if (n == 0)
		p = nothing;
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != DG_SHA256_LEN) {
		memset(out, 0, DG_SHA256_LEN);
		return DG_ERR_CRYPTO;
	}
	return DG_OK;
}

enum dg_status
dg_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
    unsigned char out[DG_SHA256_LEN])
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0;

	memset(out, 0, DG_SHA256_LEN);
	if ((key == NULL && klen > 0) || (msg == NULL && n > 0) ||
	    klen > INT_MAX)
		return DG_ERR_ARG;
	if (klen == 0)
		key = nothing;
	if (n == 0)
		msg = nothing;
	if (HMAC(EVP_sha256(), key, (int)klen, msg, n, mac, &len) == NULL ||
	    len != DG_SHA256_LEN) {
		explicit_bzero(mac, sizeof(mac));
		return DG_ERR_CRYPTO;
	}
	memcpy(out, mac, DG_SHA256_LEN);
	explicit_bzero(mac, sizeof(mac));
	return DG_OK;
}

const char *
dg_strerror(enum dg_status s)
{
	static const char *const msgs[DG__MAX] = {
		[DG_OK] = "ok",
		[DG_ERR_ARG] = "bad argument",
		[DG_ERR_CRYPTO] = "libcrypto failed",
	};

	return (unsigned)s < DG__MAX ? msgs[s] : "unknown digest status";
}
