/*
 * unit_webhook.c - the pure parts of webhook delivery (src/webhook.c):
 * secrets, the Standard Webhooks signature (its reference vector and
 * vectors made with Python's hmac), message ids, the event body parsed
 * back with json-c, the retry schedule at its jitter extremes,
 * Retry-After in all its forms, and what a status means.
 *
 * Each Retry-After value is parsed from an exact-size heap copy without
 * a NUL, so a read past its end is an ASan or valgrind error.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "tap.h"
#include "webhook.h"

/* The Standard Webhooks reference vector (its libraries' tests). */
#define REF_SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define REF_ID		"msg_p5jXN8AQM9LWM0D4loKWxJek"
#define REF_TS		1614265330
#define REF_BODY	"{\"test\": 2432232314}"
#define REF_SIG		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

/* 64 and 65 bytes 0, 1, 2, ... in base64. */
#define KEY64_B64	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp" \
			"KissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
#define KEY65_B64	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp" \
			"KissLS4vMDEyMzQ1Njc4OTo7PD0+P0A="

static void
test_secrets(void)
{
	static const unsigned char ref[24] = {
		0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a, 0xab, 0x4f,
		0x08, 0xd4, 0x3c, 0x3f, 0x08, 0x2c, 0xf6, 0x48, 0xa3, 0x62,
		0xda, 0x2d, 0xa4, 0xb0,
	};
	static const struct {
		const char	*secret;
		enum wh_status	 want;
		const char	*what;
	} bad[] = {
		{ NULL, WH_ERR_PREFIX, "NULL" },
		{ "", WH_ERR_PREFIX, "empty" },
		{ "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WH_ERR_PREFIX,
		    "no prefix" },
		{ "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WH_ERR_PREFIX,
		    "prefix in capitals" },
		{ "whsec", WH_ERR_PREFIX, "prefix without _" },
		{ "whsec_", WH_ERR_KEY_EMPTY, "prefix only" },
		{ "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", WH_ERR_BASE64,
		    "a '!'" },
		{ "whsec_MfKQ 9r8G", WH_ERR_BASE64, "a space" },
		{ "whsec_MfKQ9r8G\n", WH_ERR_BASE64, "a newline" },
		{ "whsec_MfKQ-r8_", WH_ERR_BASE64, "the base64url alphabet" },
		{ "whsec_A", WH_ERR_BASE64, "one character (6 bits)" },
		{ "whsec_AAAAA", WH_ERR_BASE64, "five characters" },
		{ "whsec_=", WH_ERR_BASE64, "padding only" },
		{ "whsec_==", WH_ERR_BASE64, "two paddings only" },
		{ "whsec_AA=A", WH_ERR_BASE64, "padding inside" },
		{ "whsec_AA=", WH_ERR_BASE64, "half the padding" },
		{ "whsec_AAA==", WH_ERR_BASE64, "too much padding" },
		{ "whsec_AA===", WH_ERR_BASE64, "three '='" },
		{ "whsec_AAAA====", WH_ERR_BASE64, "a quad of '='" },
		{ "whsec_" KEY65_B64, WH_ERR_KEY_LONG, "65 key bytes" },
	};
	struct wh_key	 k;
	size_t		 i;
	int		 zero;

	ok(wh_key_parse(REF_SECRET, &k) == WH_OK && k.len == 24 &&
	    memcmp(k.bytes, ref, 24) == 0,
	    "the reference secret decodes to its 24 bytes");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k.len = 99;
		ok(wh_key_parse(bad[i].secret, &k) == bad[i].want &&
		    k.len == 0, "secret refused (%s): %s", bad[i].what,
		    wh_strerror(bad[i].want));
	}
	ok(wh_key_parse("whsec_" KEY64_B64, &k) == WH_OK && k.len == 64 &&
	    k.bytes[0] == 0 && k.bytes[63] == 63,
	    "a key of MJ_WH_KEY_MAX (64) bytes is taken");
	ok(wh_key_parse("whsec_AAE", &k) == WH_OK && k.len == 2 &&
	    k.bytes[0] == 0 && k.bytes[1] == 1 &&
	    wh_key_parse("whsec_AAE=", &k) == WH_OK && k.len == 2 &&
	    k.bytes[1] == 1, "padding may be left out (AAE and AAE=)");
	ok(wh_key_parse("whsec_AA", &k) == WH_OK && k.len == 1 &&
	    k.bytes[0] == 0, "a one-byte key");
	wh_key_clear(&k);
	zero = 1;
	for (i = 0; i < sizeof(k.bytes); i++)
		if (k.bytes[i] != 0)
			zero = 0;
	ok(zero && k.len == 0, "wh_key_clear wipes the bytes");
	wh_key_clear(NULL);
	ok(1, "wh_key_clear(NULL) is harmless");
}

static void
test_sign(void)
{
	struct wh_key	 k, k64, empty = { { 0 }, 0 };
	char		 sig[WH_SIG_LEN + 1], sig2[WH_SIG_LEN + 1];
	char		 longid[MJ_WH_ID_MAX + 2];

	if (wh_key_parse(REF_SECRET, &k) != WH_OK ||
	    wh_key_parse("whsec_" KEY64_B64, &k64) != WH_OK)
		abort();
	ok(wh_sign(&k, REF_ID, REF_TS, REF_BODY, strlen(REF_BODY), sig) ==
	    WH_OK && strcmp(sig, REF_SIG) == 0 && strlen(sig) == WH_SIG_LEN,
	    "the Standard Webhooks reference vector: %s", sig);
	/* The next two were made with Python's hmac and base64. */
	ok(wh_sign(&k, REF_ID, REF_TS, NULL, 0, sig) == WH_OK &&
	    strcmp(sig, "v1,v48jdbgvh29KJz2Qc+ghw8G6vG3nAKnujWBg8oM/62A=") == 0,
	    "an empty body signs \"id.ts.\"");
	ok(wh_sign(&k64, "msg_x", 0, "{}", 2, sig) == WH_OK &&
	    strcmp(sig, "v1,TAouhS+ApRd8qgviDnKK0eoJIJt1WZBevUt7hhpJo3o=") == 0,
	    "a 64-byte key, timestamp 0");
	ok(wh_sign(&k, REF_ID, REF_TS + 1, REF_BODY, strlen(REF_BODY),
	    sig2) == WH_OK && strcmp(sig, sig2) != 0 &&
	    wh_sign(&k, REF_ID, REF_TS, REF_BODY, strlen(REF_BODY) - 1,
	    sig) == WH_OK && strcmp(sig, REF_SIG) != 0,
	    "another timestamp or body signs differently");
	ok(wh_sign(&empty, REF_ID, REF_TS, "x", 1, sig) == WH_ERR_ARG &&
	    sig[0] == '\0', "an empty key is refused");
	ok(wh_sign(&k, "", REF_TS, "x", 1, sig) == WH_ERR_ARG &&
	    wh_sign(&k, NULL, REF_TS, "x", 1, sig) == WH_ERR_ARG &&
	    wh_sign(&k, "msg x", REF_TS, "x", 1, sig) == WH_ERR_ARG &&
	    wh_sign(&k, "msg\r\nx", REF_TS, "x", 1, sig) == WH_ERR_ARG,
	    "an empty, NULL, spaced or CRLF id is refused");
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ok(wh_sign(&k, longid, REF_TS, "x", 1, sig) == WH_ERR_ARG,
	    "an id over MJ_WH_ID_MAX is refused");
	longid[MJ_WH_ID_MAX] = '\0';
	ok(wh_sign(&k, longid, REF_TS, "x", 1, sig) == WH_OK,
	    "an id of MJ_WH_ID_MAX is signed");
	ok(wh_sign(&k, REF_ID, -1, "x", 1, sig) == WH_ERR_ARG,
	    "a negative timestamp is refused");
	ok(wh_sign(&k, REF_ID, REF_TS, "x", (size_t)MJ_WH_BODY_MAX + 1,
	    sig) == WH_ERR_TOO_BIG && sig[0] == '\0',
	    "a body over MJ_WH_BODY_MAX is refused before it is read");
	wh_key_clear(&k);
	wh_key_clear(&k64);
}

static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_ids(void)
{
	enum { N = 2000 };
	static char	 ids[N][WH_ID_LEN + 1];
	int		 i, good = 1, distinct = 1;

	for (i = 0; i < N; i++)
		if (wh_new_id(ids[i]) != WH_OK ||
		    strlen(ids[i]) != WH_ID_LEN ||
		    strncmp(ids[i], "msg_", 4) != 0 ||
		    strspn(ids[i] + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
		    WH_ID_LEN - 4)
			good = 0;
	ok(good, "%d ids: msg_ and %d base64url characters (%s)", N,
	    WH_ID_LEN - 4, ids[0]);
	qsort(ids, N, sizeof(ids[0]), cmp_ids);
	for (i = 1; i < N; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			distinct = 0;
	ok(distinct, "... all distinct");
	ok(WH_ID_BYTES * 8 >= 128, "ids carry %d random bits",
	    WH_ID_BYTES * 8);
}

static void
test_types_and_time(void)
{
	char	 t[WH_TIME_LEN + 1];

	ok(strcmp(wh_event_type("done"), "match.done") == 0 &&
	    strcmp(wh_event_type("failed"), "match.failed") == 0 &&
	    strcmp(wh_event_type("cancelled"), "match.cancelled") == 0 &&
	    strcmp(wh_event_type("interrupted"), "match.interrupted") == 0,
	    "each final state has its event type");
	ok(wh_event_type("running") == NULL && wh_event_type("") == NULL &&
	    wh_event_type("DONE") == NULL && wh_event_type(NULL) == NULL,
	    "running, unknown and NULL states have none");
	ok(wh_time(0, t) == WH_OK &&
	    strcmp(t, "1970-01-01T00:00:00.000Z") == 0, "time 0: %s", t);
	ok(wh_time(1614265330123LL, t) == WH_OK &&
	    strcmp(t, "2021-02-25T15:02:10.123Z") == 0, "a time with ms: %s",
	    t);
	ok(wh_time(253402300799999LL, t) == WH_OK &&
	    strcmp(t, "9999-12-31T23:59:59.999Z") == 0, "the last ms of 9999");
	ok(wh_time(253402300800000LL, t) == WH_ERR_ARG && t[0] == '\0' &&
	    wh_time(-1, t) == WH_ERR_ARG, "year 10000 and ms < 0 refused");
}

/* What member() gives for a missing member (a string "missing"). */
static json_object *missing;

/*
 * ev's body parsed back, or NULL with the status in *rcp (WH__MAX if an
 * error left *out or *lenp set).  *rawp, if not NULL, gets the bytes.
 */
static json_object *
body_of(const struct wh_event *ev, enum wh_status *rcp, char **rawp)
{
	struct json_tokener	*tok;
	json_object		*o;
	char			*s = NULL;
	size_t			 n = 0;

	if (rawp != NULL)
		*rawp = NULL;
	*rcp = wh_body(ev, &s, &n);
	if (*rcp != WH_OK) {
		if (s != NULL || n != 0)
			*rcp = WH__MAX;
		free(s);
		return NULL;
	}
	/* The envelope adds two levels to the response's. */
	tok = json_tokener_new_ex(MJ_JSON_DEPTH_MAX + 3);
	if (tok == NULL)
		abort();
	o = json_tokener_parse_ex(tok, s, (int)n + 1);
	json_tokener_free(tok);
	if (o == NULL || strlen(s) != n || strchr(s, '\n') != NULL) {
		free(s);
		json_object_put(o);
		return NULL;
	}
	if (rawp != NULL)
		*rawp = s;
	else
		free(s);
	return o;
}

static json_object *
member(json_object *o, const char *k)
{
	json_object	*v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, k, &v))
		return missing;
	return v;
}

static const char *
str_member(json_object *o, const char *k)
{
	json_object	*v = member(o, k);

	if (!json_object_is_type(v, json_type_string) || v == missing)
		return "(not a string)";
	return json_object_get_string(v);
}

/*
 * Does a response of n nested arrays around inner (json text) give a
 * body?  WH_ERR_JSON is the only other answer expected.
 */
static int
deep_ok(struct wh_event *ev, size_t n, const char *inner)
{
	size_t		 m = strlen(inner), i;
	char		*s;
	json_object	*o;
	enum wh_status	 rc;

	if ((s = malloc(2 * n + m + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		s[i] = '[';
		s[n + m + i] = ']';
	}
	memcpy(s + n, inner, m);
	s[2 * n + m] = '\0';
	ev->response = s;
	ev->response_len = 2 * n + m;
	o = body_of(ev, &rc, NULL);
	json_object_put(o);
	free(s);
	if (o == NULL && rc != WH_ERR_JSON)
		return -1;
	return o != NULL;
}

/* s for a TAP line: bytes outside printable ASCII shown as '?'. */
static const char *
shown(const char *s)
{
	static char	 b[128];
	size_t		 i;

	for (i = 0; s[i] != '\0' && i < sizeof(b) - 1; i++)
		b[i] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
	b[i] = '\0';
	return b;
}

static void
test_body(void)
{
	const char	*resp = "{\"results\":[{\"score\":87,\"summary\":"
	    "\"a/b \\u00e9\"}],\"usage\":{\"total_tokens\":12}}";
	struct wh_event	 ev = { "done", 1614265330123LL, "RUN-id_1",
	    "alice", resp, strlen(resp) };
	enum wh_status	 rc;
	json_object	*o, *data, *want;
	char		*raw = NULL, *raw2 = NULL;
	size_t		 i;
	static const char *const states[] = {
		"done", "failed", "cancelled", "interrupted",
	};
	static const char *const bad_json[] = {
		"", " ", "{", "{} x", "{}{}", "'a'", "[1,]", "{\"a\":1,}",
		"\"\xff\"", "nul", "01", "NaN", "-Infinity", "[1.]", "1.e3",
		"1e400", "{\"a\":[-1e999]}",
	};

	o = body_of(&ev, &rc, &raw);
	ok(rc == WH_OK && o != NULL, "a body: %s", raw != NULL ? raw : "-");
	ok(o != NULL && json_object_object_length(o) == 3 &&
	    strcmp(str_member(o, "type"), "match.done") == 0 &&
	    strcmp(str_member(o, "timestamp"),
	    "2021-02-25T15:02:10.123Z") == 0,
	    "... type and timestamp, and nothing else at the top");
	data = member(o, "data");
	ok(json_object_is_type(data, json_type_object) &&
	    json_object_object_length(data) == 4 &&
	    strcmp(str_member(data, "run_id"), "RUN-id_1") == 0 &&
	    strcmp(str_member(data, "user_id"), "alice") == 0 &&
	    strcmp(str_member(data, "state"), "done") == 0,
	    "... data: run_id, user_id, state (and response)");
	want = json_tokener_parse(resp);
	ok(want != NULL &&
	    json_object_is_type(member(data, "response"), json_type_object) &&
	    json_object_equal(member(data, "response"), want),
	    "... response embedded as the JSON value, not a string");
	json_object_put(want);
	ok(raw != NULL && strstr(raw, "a/b") != NULL,
	    "... '/' is not escaped");
	json_object_put(o);
	o = body_of(&ev, &rc, &raw2);
	ok(raw != NULL && raw2 != NULL && strcmp(raw, raw2) == 0,
	    "the same event gives the same bytes");
	json_object_put(o);
	free(raw);
	free(raw2);

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		ev.state = states[i];
		o = body_of(&ev, &rc, NULL);
		ok(o != NULL && strcmp(str_member(o, "type"),
		    wh_event_type(states[i])) == 0 &&
		    strcmp(str_member(member(o, "data"), "state"),
		    states[i]) == 0, "state %s: type %s", states[i],
		    wh_event_type(states[i]));
		json_object_put(o);
	}

	ev.state = "failed";
	for (i = 0; i < 2; i++) {
		/* No user_id and no response; then "" and the text null. */
		ev.user_id = i == 0 ? NULL : "";
		ev.response = i == 0 ? NULL : " null\n";
		ev.response_len = i == 0 ? 0 : strlen(ev.response);
		o = body_of(&ev, &rc, NULL);
		data = member(o, "data");
		ok(o != NULL && member(data, "user_id") == NULL &&
		    member(data, "response") == NULL,
		    "user_id %s and response %s: both null (present)",
		    i == 0 ? "NULL" : "\"\"", i == 0 ? "NULL" : "text null");
		json_object_put(o);
	}
	ev.response = "\t[1, 2.50, \"x\"] \r\n";
	ev.response_len = strlen(ev.response);
	o = body_of(&ev, &rc, &raw);
	data = member(member(o, "data"), "response");
	ok(json_object_is_type(data, json_type_array) &&
	    json_object_array_length(data) == 3 && raw != NULL &&
	    strstr(raw, "2.50") != NULL,
	    "an array with white space around it (2.50 kept as written)");
	json_object_put(o);
	free(raw);
	ev.response = "42";
	ev.response_len = 2;
	o = body_of(&ev, &rc, NULL);
	ok(o != NULL && json_object_get_int(member(member(o, "data"),
	    "response")) == 42, "a bare number ends at the end of the text");
	json_object_put(o);
	ev.response = "[1]xyz";
	ev.response_len = 3;
	o = body_of(&ev, &rc, NULL);
	ok(o != NULL, "response_len bounds the text (no NUL needed)");
	json_object_put(o);

	for (i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		ev.response = bad_json[i];
		ev.response_len = strlen(bad_json[i]);
		o = body_of(&ev, &rc, NULL);
		ok(o == NULL && rc == WH_ERR_JSON,
		    "response '%s' refused: %s", shown(bad_json[i]),
		    wh_strerror(rc));
	}
	ok(deep_ok(&ev, MJ_JSON_DEPTH_MAX, "") == 1 &&
	    deep_ok(&ev, MJ_JSON_DEPTH_MAX, "1") == 1 &&
	    deep_ok(&ev, MJ_JSON_DEPTH_MAX - 1, "{\"a\":2.5e-3}") == 1,
	    "containers MJ_JSON_DEPTH_MAX deep are taken (empty or not)");
	ok(deep_ok(&ev, MJ_JSON_DEPTH_MAX + 1, "") == 0 &&
	    deep_ok(&ev, MJ_JSON_DEPTH_MAX + 1, "1") == 0 &&
	    deep_ok(&ev, MJ_JSON_DEPTH_MAX, "{}") == 0,
	    "... one deeper is refused (empty or not)");

	ev.response = "{}";
	ev.response_len = (size_t)MJ_WH_BODY_MAX + 1;
	o = body_of(&ev, &rc, NULL);
	ok(o == NULL && rc == WH_ERR_TOO_BIG,
	    "a response over MJ_WH_BODY_MAX is refused before it is read");
	ev.response_len = 2;
	ev.state = "running";
	o = body_of(&ev, &rc, NULL);
	ok(o == NULL && rc == WH_ERR_ARG, "a running run has no body");
	ev.state = "done";
	ev.run_id = "";
	o = body_of(&ev, &rc, NULL);
	ok(o == NULL && rc == WH_ERR_ARG, "an empty run_id is refused");
	ev.run_id = "r";
	ev.time_ms = -5;
	o = body_of(&ev, &rc, NULL);
	ok(o == NULL && rc == WH_ERR_ARG, "a negative time is refused");
	ev.time_ms = 0;
	ev.response = NULL;
	o = body_of(&ev, &rc, NULL);
	ok(o == NULL && rc == WH_ERR_ARG,
	    "response NULL with a length is refused");
	o = body_of(NULL, &rc, NULL);
	ok(o == NULL && rc == WH_ERR_ARG, "no event is refused");
}

static void
test_schedule(void)
{
	static const int64_t base[] = {
		5000, 300000, 1800000, 7200000, 18000000, 36000000, 86400000,
	};
	int64_t		 lo, mid, hi, prev = 0;
	unsigned	 a;
	int		 good = 1, grows = 1;

	for (a = 1; a < WH_ATTEMPTS; a++) {
		if (wh_retry_delay(a, 0, &lo) != WH_OK ||
		    wh_retry_delay(a, UINT32_C(1) << 31, &mid) != WH_OK ||
		    wh_retry_delay(a, UINT32_MAX, &hi) != WH_OK)
			good = 0;
		if (lo != base[a - 1] / 2 || mid != base[a - 1] ||
		    hi >= base[a - 1] * 3 / 2 || hi < base[a - 1] * 3 / 2 - 1)
			good = 0;
		if (mid <= prev)
			grows = 0;
		prev = mid;
		ok(good, "after %u failed: %lld ms at rnd 0, %lld mid, %lld at "
		    "UINT32_MAX", a, (long long)lo, (long long)mid,
		    (long long)hi);
	}
	ok(grows, "the waits grow");
	ok(wh_retry_delay(WH_ATTEMPTS, 7, &lo) == WH_NO_MORE && lo == -1 &&
	    wh_retry_delay(1000, 7, &lo) == WH_NO_MORE,
	    "after %d attempts: no more", WH_ATTEMPTS);
	ok(wh_retry_delay(0, 7, &lo) == WH_ERR_ARG && lo == -1,
	    "attempts 0 is an error (the first attempt does not wait)");
}

/* Retry-After s from an exact-size copy without a NUL. */
static enum wh_status
ra(const char *s, int64_t now, int64_t *ms)
{
	size_t		 n = strlen(s);
	char		*p;
	enum wh_status	 rc;

	if ((p = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	memcpy(p, s, n);
	rc = wh_retry_after(p, n, now, ms);
	free(p);
	return rc;
}

static void
test_retry_after(void)
{
	/* 1994-11-06T08:49:37Z, RFC 9110's example date. */
	const int64_t	 d94 = 784111777, y2025 = 1748736000;
	static const struct {
		const char	*v;
		int64_t		 now;
		int64_t		 want;
	} good[] = {
		{ "120", 0, 120000 },
		{ "0", 0, 0 },
		{ " \t5 \r\n", 0, 5000 },
		{ "00017", 0, 17000 },
		{ "86399", 0, 86399000 },
		{ "86400", 0, MJ_WH_RETRY_AFTER_MAX_MS },
		{ "86401", 0, MJ_WH_RETRY_AFTER_MAX_MS },
		{ "999999999999999999999999999999", 0,
		    MJ_WH_RETRY_AFTER_MAX_MS },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", d94 - 10, 10000 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", d94, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", d94 + 3600, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", d94 - 100000,
		    MJ_WH_RETRY_AFTER_MAX_MS },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", d94 - 10, 10000 },
		{ "Sun Nov  6 08:49:37 1994", d94 - 10, 10000 },
		{ "Sun Nov 06 08:49:37 1994", d94 - 10, 10000 },
		{ "Wed Nov 16 08:49:37 1994", d94 + 10 * 86400 - 10, 10000 },
		{ "Thu, 29 Feb 1996 00:00:00 GMT", 825552000 - 1, 1000 },
		{ "Tue, 29 Feb 2000 12:00:00 GMT", 951825600 - 2, 2000 },
		{ "Sun, 01 Jun 2025 00:00:60 GMT", y2025, 60000 },
		/* rfc850's 94 seen from 2025: 1994, in the past. */
		{ "Sunday, 06-Nov-94 08:49:37 GMT", y2025, 0 },
		/* ... and 25 from 2025 is 2025, not 1925. */
		{ "Sunday, 01-Jun-25 00:00:07 GMT", y2025, 7000 },
	};
	static const char *const bad[] = {
		"", "   ", "-1", "+5", "1.5", "5s", "5 6", "0x10", "abc",
		"Sun, 06 Nov 1994 08:49:37",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37 GMT x",
		"sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 nov 1994 08:49:37 GMT",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun,06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sun, 31 Feb 1994 08:49:37 GMT",
		"Mon, 29 Feb 1900 00:00:00 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 1994 8:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT",
		"Sunday, 06 Nov 1994 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994",
		"Sun Nov  6 08:49:37 94",
		"Sun Nov  6 08:49:37 1994 GMT",
		"Xyz, 06 Nov 1994 08:49:37 GMT",
	};
	static const char *const whole[] = {
		"Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994",
	};
	char		 buf[64];
	enum wh_status	 rc;
	int64_t		 ms;
	size_t		 i, j;
	int		 all;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -2;
		rc = ra(good[i].v, good[i].now, &ms);
		ok(rc == WH_OK && ms == good[i].want,
		    "Retry-After '%s': %lld ms", shown(good[i].v),
		    (long long)ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = -2;
		ok(ra(bad[i], d94, &ms) == WH_ERR_SYNTAX && ms == -1,
		    "Retry-After '%s' refused", bad[i]);
	}
	for (i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		all = 1;
		for (j = 1; j < strlen(whole[i]); j++) {
			memcpy(buf, whole[i], j);
			buf[j] = '\0';
			if (ra(buf, d94, &ms) != WH_ERR_SYNTAX)
				all = 0;
		}
		ok(all, "every proper prefix of '%s' is refused", whole[i]);
	}
	ok(wh_retry_after(NULL, 0, 0, &ms) == WH_ERR_SYNTAX && ms == -1,
	    "NULL is refused");
}

static void
test_next_delay(void)
{
	enum wh_status	 rc;
	int64_t		 ms;

	rc = wh_next_delay(1, 0, NULL, 0, 0, &ms);
	ok(rc == WH_OK && ms == 2500, "no Retry-After: the schedule (%lld)",
	    (long long)ms);
	ok(wh_next_delay(1, 0, "30", 2, 0, &ms) == WH_OK && ms == 30000,
	    "Retry-After 30 is honoured without jitter");
	ok(wh_next_delay(3, UINT32_C(1) << 31, "1", 1, 0, &ms) == WH_OK &&
	    ms == 1000, "... even when shorter than the schedule's 30 min");
	ok(wh_next_delay(1, 0, "soon", 4, 0, &ms) == WH_OK && ms == 2500,
	    "a bad Retry-After: the schedule");
	ok(wh_next_delay(WH_ATTEMPTS, 0, "30", 2, 0, &ms) == WH_NO_MORE &&
	    ms == -1, "after the last attempt Retry-After changes nothing");
	ok(wh_next_delay(0, 0, "30", 2, 0, &ms) == WH_ERR_ARG,
	    "attempts 0 is an error");
}

static void
test_outcome_and_errors(void)
{
	static const int delivered[] = { 200, 201, 202, 204, 299 };
	static const int retry[] = {
		0, 100, 199, 300, 301, 304, 400, 404, 410, 413, 429, 500,
		502, 503, 504, 600, -1,
	};
	size_t	 i;
	int	 good = 1;

	for (i = 0; i < sizeof(delivered) / sizeof(delivered[0]); i++)
		if (wh_outcome(delivered[i]) != WH_DELIVERED)
			good = 0;
	ok(good, "2xx delivers");
	good = 1;
	for (i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		if (wh_outcome(retry[i]) != WH_RETRY)
			good = 0;
	ok(good, "1xx, 3xx, 4xx, 5xx and no answer retry");
	good = 1;
	for (i = 0; i < WH__MAX; i++)
		if (wh_strerror((enum wh_status)i) == NULL ||
		    wh_strerror((enum wh_status)i)[0] == '\0')
			good = 0;
	ok(good && strcmp(wh_strerror(WH__MAX), "unknown error") == 0,
	    "every status has a message");
}

int
main(void)
{
	if ((missing = json_object_new_string("missing")) == NULL)
		abort();
	test_secrets();
	test_sign();
	test_ids();
	test_types_and_time();
	test_body();
	test_schedule();
	test_retry_after();
	test_next_delay();
	test_outcome_and_errors();
	json_object_put(missing);
	return tap_done();
}
