/*
 * webhook.c - the pure parts of webhook delivery; see webhook.h.
 *
 * Grammars: the secret is "whsec_" and RFC 4648 §4 base64; the signature
 * is the Standard Webhooks "v1" scheme (HMAC-SHA256 over
 * "msg_id.timestamp.payload", base64); Retry-After is RFC 9110 §10.2.3,
 * "HTTP-date / delta-seconds", with HTTP-date's three forms of §5.6.7
 * (IMF-fixdate, and the obsolete rfc850-date and asctime-date a recipient
 * must still accept).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <json-c/json.h>

#include "bounds.h"
#include "digest.h"
#include "webhook.h"

/* SPEC "Webhooks": the waits after the 1st, 2nd, ... failed attempt. */
static const int64_t schedule_ms[] = {
	5LL * 1000,			/* 5 s */
	5LL * 60 * 1000,		/* 5 min */
	30LL * 60 * 1000,		/* 30 min */
	2LL * 60 * 60 * 1000,		/* 2 h */
	5LL * 60 * 60 * 1000,		/* 5 h */
	10LL * 60 * 60 * 1000,		/* 10 h */
	24LL * 60 * 60 * 1000,		/* 24 h */
};
_Static_assert(sizeof(schedule_ms) / sizeof(schedule_ms[0]) ==
    WH_ATTEMPTS - 1, "one wait between each two attempts");

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define SECRET_PREFIX	"whsec_"

const char *
wh_strerror(enum wh_status s)
{
	static const char *const msgs[WH__MAX] = {
		[WH_OK] = "ok",
		[WH_ERR_PREFIX] = "the webhook secret lacks whsec_",
		[WH_ERR_BASE64] = "the webhook secret is not base64",
		[WH_ERR_KEY_EMPTY] = "the webhook secret has no key bytes",
		[WH_ERR_KEY_LONG] = "the webhook key is over 64 bytes",
		[WH_ERR_ARG] = "bad argument",
		[WH_ERR_JSON] = "the response is not one JSON value",
		[WH_ERR_TOO_BIG] = "the webhook body is too large",
		[WH_ERR_NOMEM] = "out of memory",
		[WH_ERR_RANDOM] = "getrandom failed",
		[WH_ERR_CRYPTO] = "HMAC-SHA256 failed",
		[WH_ERR_SYNTAX] = "Retry-After is not seconds nor a date",
		[WH_NO_MORE] = "the last attempt has been made",
	};

	return (unsigned)s < WH__MAX ? msgs[s] : "unknown error";
}

/*
 * n bytes of in as base64 with alphabet abc, '=' padded if pad, and a
 * NUL, in out (room for 4 * ceil(n / 3) + 1).  Returns the length.
 */
static size_t
b64_encode(const unsigned char *in, size_t n, const char *abc, int pad,
    char *out)
{
	size_t		 i, o = 0;
	unsigned	 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	if (i < n) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = abc[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* The 6-bit value of a standard base64 character, or -1. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

enum wh_status
wh_key_parse(const char *secret, struct wh_key *key)
{
	const char	*s;
	size_t		 n, pads = 0, len, i, o = 0;
	unsigned	 acc = 0;
	int		 bits = 0, v;

	key->len = 0;
	if (secret == NULL || strncmp(secret, SECRET_PREFIX,
	    sizeof(SECRET_PREFIX) - 1) != 0)
		return WH_ERR_PREFIX;
	s = secret + sizeof(SECRET_PREFIX) - 1;
	n = strlen(s);
	if (n == 0)
		return WH_ERR_KEY_EMPTY;
	/* At most two '=', only at the end, and only to fill a quad. */
	while (pads < 2 && n > 0 && s[n - 1] == '=') {
		n--;
		pads++;
	}
	if (n % 4 == 1 || (pads > 0 && (n + pads) % 4 != 0))
		return WH_ERR_BASE64;
	for (i = 0; i < n; i++)
		if (b64_value((unsigned char)s[i]) < 0)
			return WH_ERR_BASE64;
	len = n / 4 * 3 + (n % 4 != 0 ? n % 4 - 1 : 0);
	if (len > sizeof(key->bytes))
		return WH_ERR_KEY_LONG;
	/* Leftover bits of a short last quad are dropped, as decoders do. */
	for (i = 0; i < n; i++) {
		v = b64_value((unsigned char)s[i]);
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			key->bytes[o++] = (unsigned char)(acc >> bits);
		}
	}
	explicit_bzero(&acc, sizeof(acc));
	key->len = o;
	return WH_OK;
}

void
wh_key_clear(struct wh_key *key)
{
	if (key == NULL)
		return;
	explicit_bzero(key->bytes, sizeof(key->bytes));
	key->len = 0;
}

/* Is id a usable webhook-id: 1..MJ_WH_ID_MAX visible ASCII characters? */
static int
id_ok(const char *id, size_t *lenp)
{
	size_t	 i;

	if (id == NULL)
		return 0;
	for (i = 0; id[i] != '\0'; i++)
		if (i >= MJ_WH_ID_MAX || id[i] <= ' ' || id[i] > '~')
			return 0;
	*lenp = i;
	return i > 0;
}

enum wh_status
wh_sign(const struct wh_key *key, const char *id, int64_t ts,
    const void *body, size_t len, char out[WH_SIG_LEN + 1])
{
	unsigned char	 mac[DG_SHA256_LEN];
	unsigned char	*msg;
	size_t		 idlen, head;
	char		 tsbuf[24];
	int		 k;

	out[0] = '\0';
	if (key == NULL || key->len == 0 || key->len > sizeof(key->bytes) ||
	    !id_ok(id, &idlen) || ts < 0 || (body == NULL && len > 0))
		return WH_ERR_ARG;
	if (len > MJ_WH_BODY_MAX)
		return WH_ERR_TOO_BIG;
	k = snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
	if (k < 0 || (size_t)k >= sizeof(tsbuf))
		return WH_ERR_ARG;
	/* "<id>.<ts>." then the body: bounded above, so no overflow. */
	head = idlen + 1 + (size_t)k + 1;
	if ((msg = malloc(head + len + 1)) == NULL)
		return WH_ERR_NOMEM;
	memcpy(msg, id, idlen);
	msg[idlen] = '.';
	memcpy(msg + idlen + 1, tsbuf, (size_t)k);
	msg[head - 1] = '.';
	if (len > 0)
		memcpy(msg + head, body, len);
	if (dg_hmac_sha256(key->bytes, key->len, msg, head + len, mac) !=
	    DG_OK) {
		free(msg);
		return WH_ERR_CRYPTO;
	}
	free(msg);
	memcpy(out, "v1,", 3);
	(void)b64_encode(mac, DG_SHA256_LEN, b64std, 1, out + 3);
	explicit_bzero(mac, sizeof(mac));
	return WH_OK;
}

enum wh_status
wh_new_id(char out[WH_ID_LEN + 1])
{
	unsigned char	 r[WH_ID_BYTES];
	size_t		 got = 0;
	ssize_t		 k;

	_Static_assert(4 + WH_ID_BYTES / 3 * 4 == WH_ID_LEN &&
	    WH_ID_BYTES % 3 == 0, "WH_ID_LEN fits WH_ID_BYTES unpadded");
	out[0] = '\0';
	while (got < sizeof(r)) {
		k = getrandom(r + got, sizeof(r) - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return WH_ERR_RANDOM;
		}
		got += (size_t)k;
	}
	memcpy(out, "msg_", 4);
	(void)b64_encode(r, sizeof(r), b64url, 0, out + 4);
	return WH_OK;
}

const char *
wh_event_type(const char *state)
{
	static const struct {
		const char	*state;
		const char	*type;
	} types[] = {
		/* done: ended with complete; failed: with an error. */
		{ "done",	 "match.done" },
		{ "failed",	 "match.failed" },
		{ "cancelled",	 "match.cancelled" },
		{ "interrupted", "match.interrupted" },
	};
	size_t	 i;

	if (state == NULL)
		return NULL;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(state, types[i].state) == 0)
			return types[i].type;
	return NULL;
}

enum wh_status
wh_time(int64_t ms, char out[WH_TIME_LEN + 1])
{
	struct tm	 tm;
	time_t		 t;
	int		 k;

	out[0] = '\0';
	if (ms < 0)
		return WH_ERR_ARG;
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return WH_ERR_ARG;
	k = snprintf(out, WH_TIME_LEN + 1,
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(ms % 1000));
	if (k != WH_TIME_LEN) {
		out[0] = '\0';
		return WH_ERR_ARG;
	}
	return WH_OK;
}

/* Is s a number as RFC 8259 §6 writes it? */
static int
number_ok(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/*
 * Nonzero if the tree v (inside depth containers) is fit to send: no
 * container deeper than MJ_JSON_DEPTH_MAX, and every fraction finite and
 * written as RFC 8259 allows (json-c keeps a fraction's text, and takes
 * "1.", "NaN" and "Infinity" even in strict mode).  The recursion is as
 * deep as the tokener let the tree be.
 */
static int
sendable(json_object *v, int depth)
{
	const char	*num;
	size_t		 i, n;

	switch (json_object_get_type(v)) {
	case json_type_double:
		num = json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN);
		return isfinite(json_object_get_double(v)) && num != NULL &&
		    number_ok(num);
	case json_type_array:
		if (depth >= MJ_JSON_DEPTH_MAX)
			return 0;
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			if (!sendable(json_object_array_get_idx(v, i),
			    depth + 1))
				return 0;
		return 1;
	case json_type_object:
		if (depth >= MJ_JSON_DEPTH_MAX)
			return 0;
		{
			json_object_object_foreach(v, key, val) {
				(void)key;
				if (!sendable(val, depth + 1))
					return 0;
			}
		}
		return 1;
	default:
		return 1;
	}
}

/*
 * Parse len bytes of s as exactly one JSON value into *vp (NULL for
 * null), in json-c's strict mode, valid UTF-8, and sendable().
 */
static enum wh_status
parse_response(const char *s, size_t len, json_object **vp)
{
	struct json_tokener	*tok;
	enum json_tokener_error	 jerr;
	json_object		*v;
	size_t			 end;

	*vp = NULL;
	if (len > MJ_WH_BODY_MAX)
		return WH_ERR_TOO_BIG;
	/* json-c counts a scalar in the deepest container as a level. */
	if ((tok = json_tokener_new_ex(MJ_JSON_DEPTH_MAX + 1)) == NULL)
		return WH_ERR_NOMEM;
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	v = json_tokener_parse_ex(tok, s, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (v == NULL && jerr == json_tokener_continue) {
		/* All bytes used (a number may still be open): end it. */
		v = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	/* A NULL v with success is the JSON null. */
	if (jerr != json_tokener_success || !sendable(v, 0))
		goto bad;
	for (; end < len; end++)
		if (strchr(" \t\r\n", s[end]) == NULL || s[end] == '\0')
			goto bad;
	*vp = v;
	return WH_OK;
bad:
	json_object_put(v);
	return WH_ERR_JSON;
}

/* Add a new string member; nonzero on failure. */
static int
add_str(json_object *o, const char *k, const char *s)
{
	json_object	*v;

	if ((v = json_object_new_string(s)) == NULL)
		return -1;
	if (json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

enum wh_status
wh_body(const struct wh_event *ev, char **out, size_t *lenp)
{
	json_object	*root = NULL, *data = NULL, *resp = NULL;
	const char	*type, *s;
	char		 when[WH_TIME_LEN + 1];
	size_t		 n;
	enum wh_status	 rc;

	*out = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (ev == NULL)
		return WH_ERR_ARG;
	type = wh_event_type(ev->state);
	if (type == NULL || ev->run_id == NULL || ev->run_id[0] == '\0' ||
	    (ev->response == NULL && ev->response_len > 0))
		return WH_ERR_ARG;
	rc = wh_time(ev->time_ms, when);
	if (rc != WH_OK)
		return rc;
	if (ev->response != NULL) {
		rc = parse_response(ev->response, ev->response_len, &resp);
		if (rc != WH_OK)
			return rc;
	}
	rc = WH_ERR_NOMEM;
	if ((root = json_object_new_object()) == NULL ||
	    (data = json_object_new_object()) == NULL)
		goto out;
	if (add_str(root, "type", type) != 0 ||
	    add_str(root, "timestamp", when) != 0 ||
	    add_str(data, "run_id", ev->run_id) != 0)
		goto out;
	if (ev->user_id != NULL && ev->user_id[0] != '\0') {
		if (add_str(data, "user_id", ev->user_id) != 0)
			goto out;
	} else if (json_object_object_add(data, "user_id", NULL) != 0)
		goto out;
	if (add_str(data, "state", ev->state) != 0)
		goto out;
	/* An add steals its value only when it succeeds. */
	if (json_object_object_add(data, "response", resp) != 0)
		goto out;
	resp = NULL;
	if (json_object_object_add(root, "data", data) != 0)
		goto out;
	data = NULL;
	s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL)
		goto out;
	if (n > MJ_WH_BODY_MAX) {
		rc = WH_ERR_TOO_BIG;
		goto out;
	}
	if ((*out = malloc(n + 1)) == NULL)
		goto out;
	memcpy(*out, s, n + 1);
	if (lenp != NULL)
		*lenp = n;
	rc = WH_OK;
out:
	json_object_put(resp);
	json_object_put(data);
	json_object_put(root);
	return rc;
}

enum wh_status
wh_retry_delay(unsigned attempts, uint32_t rnd, int64_t *ms)
{
	int64_t	 base;

	*ms = -1;
	if (attempts == 0)
		return WH_ERR_ARG;
	if (attempts >= WH_ATTEMPTS)
		return WH_NO_MORE;
	base = schedule_ms[attempts - 1];
	/* base / 2 + base * rnd / 2^32: from 0.5 base to just under 1.5. */
	*ms = base / 2 + (int64_t)(((uint64_t)base * rnd) >> 32);
	return WH_OK;
}

/* A cursor over the bytes of a Retry-After value. */
struct cur {
	const char	*p;
	const char	*end;
};

/* Take the literal s (case-sensitive, as RFC 9110 §5.6.7 says). */
static int
lit(struct cur *c, const char *s)
{
	size_t	 n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

/* Take exactly n digits into *v. */
static int
digits(struct cur *c, int n, int *v)
{
	int	 i, x = 0;

	if (c->end - c->p < n)
		return 0;
	for (i = 0; i < n; i++) {
		if (c->p[i] < '0' || c->p[i] > '9')
			return 0;
		x = x * 10 + (c->p[i] - '0');
	}
	c->p += n;
	*v = x;
	return 1;
}

/* Take one of the n names of tab; its index in *idx. */
static int
name(struct cur *c, const char *const *tab, int n, int *idx)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (lit(c, tab[i])) {
			*idx = i;
			return 1;
		}
	return 0;
}

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* time-of-day = hour ":" minute ":" second (leap second 60 allowed). */
static int
time_of_day(struct cur *c, int *h, int *mi, int *s)
{
	return digits(c, 2, h) && lit(c, ":") && digits(c, 2, mi) &&
	    lit(c, ":") && digits(c, 2, s) && *h <= 23 && *mi <= 59 &&
	    *s <= 60;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1..12). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
month_days(int y, int m)
{
	static const int mdays[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return mdays[m - 1];
}

/*
 * An HTTP-date (all of c) as unix seconds in *t.  now_s places
 * rfc850-date's two-digit year: a year more than 50 in the future is in
 * the past century (§5.6.7).
 */
static int
http_date(struct cur *c, int64_t now_s, int64_t *t)
{
	static const char *const days[7] =
	    { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const days_l[7] = { "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
	struct cur	 save = *c;
	struct tm	 tm;
	time_t		 now;
	int		 wd, d, mo, y, h, mi, s, nowy;

	if (name(c, days_l, 7, &wd) && lit(c, ", ")) {
		/* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT */
		if (!(digits(c, 2, &d) && lit(c, "-") &&
		    name(c, months, 12, &mo) && lit(c, "-") &&
		    digits(c, 2, &y) && lit(c, " ") &&
		    time_of_day(c, &h, &mi, &s) && lit(c, " GMT")))
			return 0;
		now = (time_t)now_s;
		if (gmtime_r(&now, &tm) == NULL)
			return 0;
		nowy = tm.tm_year + 1900;
		y += nowy - nowy % 100;
		if (y > nowy + 50)
			y -= 100;
		else if (y < nowy - 50)
			y += 100;
	} else {
		*c = save;
		if (!name(c, days, 7, &wd))
			return 0;
		if (lit(c, ", ")) {
			/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
			if (!(digits(c, 2, &d) && lit(c, " ") &&
			    name(c, months, 12, &mo) && lit(c, " ") &&
			    digits(c, 4, &y) && lit(c, " ") &&
			    time_of_day(c, &h, &mi, &s) && lit(c, " GMT")))
				return 0;
		} else {
			/* asctime-date: Sun Nov  6 08:49:37 1994 */
			if (!(lit(c, " ") && name(c, months, 12, &mo) &&
			    lit(c, " ") &&
			    (lit(c, " ") ? digits(c, 1, &d) :
			    digits(c, 2, &d)) && lit(c, " ") &&
			    time_of_day(c, &h, &mi, &s) && lit(c, " ") &&
			    digits(c, 4, &y)))
				return 0;
		}
	}
	if (c->p != c->end || d < 1 || d > month_days(y, mo + 1))
		return 0;
	*t = days_from_civil(y, mo + 1, d) * 86400 + h * 3600 + mi * 60 + s;
	return 1;
}

static int
is_ows(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

enum wh_status
wh_retry_after(const char *value, size_t len, int64_t now_s, int64_t *ms)
{
	const int64_t	 max_s = MJ_WH_RETRY_AFTER_MAX_MS / 1000;
	struct cur	 c;
	int64_t		 secs = 0, t;
	const char	*p;

	*ms = -1;
	if (value == NULL)
		return WH_ERR_SYNTAX;
	c.p = value;
	c.end = value + len;
	while (c.p < c.end && is_ows(*c.p))
		c.p++;
	while (c.end > c.p && is_ows(c.end[-1]))
		c.end--;
	if (c.p == c.end)
		return WH_ERR_SYNTAX;
	if (*c.p >= '0' && *c.p <= '9') {
		/* delta-seconds = 1*DIGIT; a huge one is cut, not wrapped. */
		for (p = c.p; p < c.end; p++) {
			if (*p < '0' || *p > '9')
				return WH_ERR_SYNTAX;
			if (secs <= max_s)
				secs = secs * 10 + (*p - '0');
		}
	} else {
		if (!http_date(&c, now_s, &t))
			return WH_ERR_SYNTAX;
		secs = t > now_s ? t - now_s : 0;
	}
	*ms = secs < max_s ? secs * 1000 : MJ_WH_RETRY_AFTER_MAX_MS;
	return WH_OK;
}

enum wh_status
wh_next_delay(unsigned attempts, uint32_t rnd, const char *retry_after,
    size_t len, int64_t now_s, int64_t *ms)
{
	enum wh_status	 rc;

	rc = wh_retry_delay(attempts, rnd, ms);
	if (rc != WH_OK || retry_after == NULL)
		return rc;
	if (wh_retry_after(retry_after, len, now_s, ms) != WH_OK)
		return wh_retry_delay(attempts, rnd, ms);
	return WH_OK;
}

enum wh_outcome
wh_outcome(int status)
{
	return status >= 200 && status <= 299 ? WH_DELIVERED : WH_RETRY;
}
