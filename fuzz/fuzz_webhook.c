/*
 * fuzz_webhook.c - libFuzzer target for the parsers of webhook.c, the
 * same entry points as tests/unit_webhook.c: wh_retry_after() (a
 * receiver's Retry-After header), wh_key_parse() (the configured
 * secret) and wh_body() (a run's response text embedded in the body).
 *
 * Input: a mode byte (mod 3), then
 *   0: 4 bytes of "now" (unix seconds, big-endian), the header value;
 *   1: the secret (cut at its first NUL);
 *   2: the response text.
 * Checked: the status is one the header allows for the function; on
 * error the outputs are empty (-1, len 0, NULL).  Retry-After: a wait
 * is 0..MJ_WH_RETRY_AFTER_MAX_MS, white space around the value changes
 * nothing, and an all-digit value waits min(value, max) seconds.
 * Secret: a key has 1..MJ_WH_KEY_MAX bytes, and its base64, unpadded
 * and padded, parses back to the same bytes.  Body: it is one line of
 * JSON of at most MJ_WH_BODY_MAX bytes, signs, and its data.response
 * equals the input parsed by json-c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "webhook.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static void
retry_after(const uint8_t *data, size_t size)
{
	const int64_t	 max_s = MJ_WH_RETRY_AFTER_MAX_MS / 1000;
	int64_t		 now, ms, ms2, want = 0;
	enum wh_status	 st, st2;
	char		*padded;
	size_t		 i;
	int		 digits;

	if (size < 4)
		return;
	now = (int64_t)data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3];
	data += 4;
	size -= 4;
	digits = size > 0;
	st = wh_retry_after((const char *)data, size, now, &ms);
	CHECK(st == WH_OK || st == WH_ERR_SYNTAX);
	CHECK(st == WH_OK ? ms >= 0 && ms <= MJ_WH_RETRY_AFTER_MAX_MS :
	    ms == -1);
	/* The same value between white space. */
	if ((padded = malloc(size + 4)) == NULL)
		return;
	memcpy(padded, " \t", 2);
	memcpy(padded + 2, data, size);
	memcpy(padded + 2 + size, "\r\n", 2);
	st2 = wh_retry_after(padded, size + 4, now, &ms2);
	free(padded);
	CHECK(st2 == st && ms2 == ms);
	for (i = 0; i < size; i++) {
		if (data[i] < '0' || data[i] > '9') {
			digits = 0;
			break;
		}
		if (want <= max_s)
			want = want * 10 + (data[i] - '0');
	}
	if (digits)
		CHECK(st == WH_OK &&
		    ms == (want < max_s ? want : max_s) * 1000);
}

static void
secret(const uint8_t *data, size_t size)
{
	/* 6 + 4 * ceil(MJ_WH_KEY_MAX / 3) + 1 */
	char		 again[6 + 4 * ((MJ_WH_KEY_MAX + 2) / 3) + 1];
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct wh_key	 k, k2;
	enum wh_status	 st;
	char		*s;
	size_t		 i, o;
	unsigned	 v;
	int		 pad;

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&k, 0xa5, sizeof(k));
	st = wh_key_parse(s, &k);
	free(s);
	CHECK(st == WH_OK || st == WH_ERR_PREFIX || st == WH_ERR_BASE64 ||
	    st == WH_ERR_KEY_EMPTY || st == WH_ERR_KEY_LONG);
	if (st != WH_OK) {
		CHECK(k.len == 0);
		return;
	}
	CHECK(k.len >= 1 && k.len <= MJ_WH_KEY_MAX);
	for (pad = 0; pad < 2; pad++) {
		memcpy(again, "whsec_", 6);
		o = 6;
		for (i = 0; i < k.len; i += 3) {
			v = (unsigned)k.bytes[i] << 16;
			if (i + 1 < k.len)
				v |= (unsigned)k.bytes[i + 1] << 8;
			if (i + 2 < k.len)
				v |= k.bytes[i + 2];
			again[o++] = abc[v >> 18 & 63];
			again[o++] = abc[v >> 12 & 63];
			if (i + 1 < k.len)
				again[o++] = abc[v >> 6 & 63];
			else if (pad)
				again[o++] = '=';
			if (i + 2 < k.len)
				again[o++] = abc[v & 63];
			else if (pad)
				again[o++] = '=';
		}
		again[o] = '\0';
		CHECK(wh_key_parse(again, &k2) == WH_OK && k2.len == k.len &&
		    memcmp(k2.bytes, k.bytes, k.len) == 0);
	}
	wh_key_clear(&k);
	wh_key_clear(&k2);
}

static void
body(const uint8_t *data, size_t size)
{
	struct wh_event		 ev = { "done", 1614265330123LL, "run", "u",
	    (const char *)data, size };
	struct json_tokener	*tok;
	struct wh_key		 k = { { 1, 2, 3 }, 3 };
	char			 sig[WH_SIG_LEN + 1];
	json_object		*o, *data_o, *resp, *in;
	enum wh_status		 st;
	char			*out = (char *)1;
	size_t			 len = 1;

	st = wh_body(&ev, &out, &len);
	CHECK(st == WH_OK || st == WH_ERR_JSON || st == WH_ERR_NOMEM);
	if (st != WH_OK) {
		CHECK(out == NULL && len == 0);
		return;
	}
	CHECK(out != NULL && strlen(out) == len && len <= MJ_WH_BODY_MAX &&
	    memchr(out, '\n', len) == NULL);
	CHECK(wh_sign(&k, "msg_x", 1, out, len, sig) == WH_OK &&
	    strlen(sig) == WH_SIG_LEN);
	tok = json_tokener_new_ex(MJ_JSON_DEPTH_MAX + 3);
	CHECK(tok != NULL);
	o = json_tokener_parse_ex(tok, out, (int)len + 1);
	json_tokener_free(tok);
	CHECK(o != NULL && json_object_object_get_ex(o, "data", &data_o) &&
	    json_object_object_get_ex(data_o, "response", &resp));
	/* What json-c itself reads from the input (lenient, NUL-ended). */
	tok = json_tokener_new_ex(MJ_JSON_DEPTH_MAX + 1);
	CHECK(tok != NULL);
	in = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (in == NULL && json_tokener_get_error(tok) ==
	    json_tokener_continue)
		in = json_tokener_parse_ex(tok, "", 1);
	json_tokener_free(tok);
	CHECK(json_object_equal(in, resp));
	json_object_put(in);
	json_object_put(o);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		retry_after(data + 1, size - 1);
		break;
	case 1:
		secret(data + 1, size - 1);
		break;
	default:
		body(data + 1, size - 1);
		break;
	}
	return 0;
}
