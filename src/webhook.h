/*
 * webhook.h - the pure parts of webhook delivery (SPEC 0.2 "Webhooks"),
 * after the Standard Webhooks specification (standardwebhooks.com).
 *
 * Here: the secret MATCHJOBS_WEBHOOK_SECRET (whsec_<base64>) turned into
 * key bytes; the webhook-signature value (v1,<base64 HMAC-SHA256 over
 * "id.timestamp.body">); fresh webhook-id values; the JSON body of the
 * event a run's end sends; the retry schedule and the Retry-After header;
 * what an answer's status means.  Every function works over the caller's
 * buffers and is thread-safe; the only I/O is getrandom(2) for ids.
 *
 * Not here: sending (the HTTP client), storing messages, deciding which
 * process sends: the delivery module calls these.  The HMAC is
 * digest.c's (the one module that includes OpenSSL's headers).
 */
#ifndef MJ_WEBHOOK_H
#define MJ_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/* "v1," and the 44 base64 characters of a 32-byte HMAC-SHA256. */
#define WH_SIG_LEN	47
/* "msg_" and 18 random bytes in base64url (144 bits, no padding). */
#define WH_ID_BYTES	18
#define WH_ID_LEN	28
/* "YYYY-MM-DDTHH:MM:SS.mmmZ", RFC 3339 UTC with milliseconds. */
#define WH_TIME_LEN	24
/* Attempts in all: the first and the SPEC's seven retries. */
#define WH_ATTEMPTS	8

enum wh_status {
	WH_OK = 0,
	WH_ERR_PREFIX,		/* a secret without "whsec_" */
	WH_ERR_BASE64,		/* a secret whose rest is not base64 */
	WH_ERR_KEY_EMPTY,	/* a secret of no key bytes */
	WH_ERR_KEY_LONG,	/* a key over MJ_WH_KEY_MAX bytes */
	WH_ERR_ARG,		/* a bad argument (see each function) */
	WH_ERR_JSON,		/* the response is not one JSON value */
	WH_ERR_TOO_BIG,		/* a body over MJ_WH_BODY_MAX */
	WH_ERR_NOMEM,
	WH_ERR_RANDOM,		/* getrandom() failed */
	WH_ERR_CRYPTO,		/* the HMAC failed (digest.h) */
	WH_ERR_SYNTAX,		/* a bad Retry-After */
	WH_NO_MORE,		/* the last attempt has been made */
	WH__MAX
};

/* What an attempt's answer means (SPEC: 2xx delivers, all else retries). */
enum wh_outcome {
	WH_DELIVERED = 0,	/* 2xx */
	WH_RETRY,		/* anything else, or no answer */
	WH_OUTCOME__MAX
};

/* The key of a secret; the caller owns it and clears it with wh_key_clear. */
struct wh_key {
	unsigned char	 bytes[MJ_WH_KEY_MAX];
	size_t		 len;		/* 1..MJ_WH_KEY_MAX */
};

/* What wh_body() writes; every pointer is borrowed for the call. */
struct wh_event {
	const char	*state;		/* "done", "failed", ... */
	int64_t		 time_ms;	/* the run's end (ms, epoch) */
	const char	*run_id;	/* non-empty */
	const char	*user_id;	/* NULL or "" for JSON null */
	const char	*response;	/* JSON text; NULL: null */
	size_t		 response_len;	/* bytes of response */
};

/* A short English message for s; never NULL. */
const char	*wh_strerror(enum wh_status s);

/*
 * Parse secret (NUL-terminated): "whsec_" then standard base64 (RFC 4648
 * §4; the padding may be left out, nothing else may be added) of 1 to
 * MJ_WH_KEY_MAX bytes into *key.  WH_ERR_PREFIX, WH_ERR_KEY_EMPTY,
 * WH_ERR_BASE64 or WH_ERR_KEY_LONG (checked in that order) leave *key
 * empty (len 0).  NULL secret: WH_ERR_PREFIX.
 */
enum wh_status	 wh_key_parse(const char *secret, struct wh_key *key)
	__attribute__((warn_unused_result));
/* Wipe the key bytes (explicit_bzero); len becomes 0.  NULL is fine. */
void		 wh_key_clear(struct wh_key *key);

/*
 * The webhook-signature value for message id, timestamp ts (unix
 * seconds, the attempt's webhook-timestamp) and the body bytes: "v1,"
 * and the base64 of HMAC-SHA256(key, "<id>.<ts>.<body>"), NUL-terminated
 * in out.  WH_ERR_ARG: an empty key, an id that is empty, longer than
 * MJ_WH_ID_MAX or not printable ASCII without spaces (it is a header
 * value), or ts < 0.  WH_ERR_TOO_BIG: len over MJ_WH_BODY_MAX.
 * WH_ERR_NOMEM, WH_ERR_CRYPTO.  On error out is "".
 */
enum wh_status	 wh_sign(const struct wh_key *key, const char *id,
		    int64_t ts, const void *body, size_t len,
		    char out[WH_SIG_LEN + 1])
	__attribute__((warn_unused_result));

/*
 * A fresh webhook-id: "msg_" and WH_ID_BYTES random bytes in base64url
 * (RFC 4648 §5, URL-safe, no padding), WH_ID_LEN characters and a NUL.
 * WH_ERR_RANDOM if getrandom() fails (out is then "").
 */
enum wh_status	 wh_new_id(char out[WH_ID_LEN + 1])
	__attribute__((warn_unused_result));

/*
 * The event type for a run's final state name (SPEC "Runs"): "done" is
 * "match.done", "failed" "match.failed", "cancelled" "match.cancelled",
 * "interrupted" "match.interrupted".  NULL for "running", any other name
 * and NULL: a run that has not ended sends nothing.
 */
const char	*wh_event_type(const char *state);

/*
 * ms since the epoch as RFC 3339 UTC with milliseconds
 * ("2021-02-21T19:42:10.123Z") in out.  WH_ERR_ARG for ms < 0 or a year
 * past 9999 (out is then "").
 */
enum wh_status	 wh_time(int64_t ms, char out[WH_TIME_LEN + 1])
	__attribute__((warn_unused_result));

/*
 * The JSON body of ev: {"type", "timestamp", "data": {"run_id",
 * "user_id", "state", "response"}}, on one line, type from
 * wh_event_type(ev->state) and timestamp from wh_time(ev->time_ms); the
 * response is embedded as the JSON value it holds, not as a string.  *out
 * gets a NUL-terminated heap string the caller frees with free(), *lenp
 * (if not NULL) its length: these are the bytes to sign and send, every
 * attempt the same.  WH_ERR_ARG: no ev, a state without a type, an empty
 * run_id, a bad time.  WH_ERR_JSON: response is not exactly one JSON
 * value as json-c's strict mode reads it (white space around it is
 * fine), is not valid UTF-8, nests containers deeper than
 * MJ_JSON_DEPTH_MAX, or has a fraction that is not finite or not written
 * as RFC 8259 says (a fraction is sent as written; an integer as json-c
 * reads it, so "-01" is sent as -1).  WH_ERR_TOO_BIG: response_len or
 * the body over MJ_WH_BODY_MAX.  WH_ERR_NOMEM.  On error *out is NULL.
 */
enum wh_status	 wh_body(const struct wh_event *ev, char **out,
		    size_t *lenp)
	__attribute__((warn_unused_result));

/*
 * The wait before the next attempt once attempts (1..) have failed: the
 * SPEC's 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h, each scaled by a
 * factor from 0.5 (rnd 0) to just under 1.5 (rnd UINT32_MAX), rnd being
 * a random value the caller draws.  WH_NO_MORE once WH_ATTEMPTS have
 * failed (*ms is then -1); WH_ERR_ARG for attempts 0 (the first attempt
 * does not wait here).
 */
enum wh_status	 wh_retry_delay(unsigned attempts, uint32_t rnd,
		    int64_t *ms)
	__attribute__((warn_unused_result));

/*
 * A Retry-After value (RFC 9110 §10.2.3: delta-seconds, or an HTTP-date
 * in any of the three forms of §5.6.7), len bytes without the field
 * name, as a wait in ms from now_s (unix seconds, the caller's clock).
 * White space around it is ignored.  A date in the past waits 0; any
 * wait is cut to MJ_WH_RETRY_AFTER_MAX_MS.  WH_ERR_SYNTAX for anything
 * else (*ms is then -1).
 */
enum wh_status	 wh_retry_after(const char *value, size_t len,
		    int64_t now_s, int64_t *ms)
	__attribute__((warn_unused_result));

/*
 * The wait before the next attempt, all rules at once: WH_NO_MORE after
 * the last attempt; else the answer's Retry-After (value, len; NULL for
 * none) if wh_retry_after() takes it, without jitter; else
 * wh_retry_delay(attempts, rnd).  WH_ERR_ARG for attempts 0.
 */
enum wh_status	 wh_next_delay(unsigned attempts, uint32_t rnd,
		    const char *retry_after, size_t len, int64_t now_s,
		    int64_t *ms)
	__attribute__((warn_unused_result));

/* What an answer with HTTP status means; status 0 is "no answer". */
enum wh_outcome	 wh_outcome(int status);

#endif /* MJ_WEBHOOK_H */
