/*
 * unit_sse.c - TAP tests for the SSE frame writer (sse.c).
 *
 * Frames are read back with the event stream parser (sseparse.c): the
 * data must come back as written, with each line break ("\n", "\r\n"
 * or "\r") as "\n", since that is all an event stream can carry.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "sse.h"
#include "sseparse.h"
#include "tap.h"

#define MAXEV	(64u * 1024)
/* How a frame with id 42 and type token begins. */
#define IDHEAD	"id: 42\nevent: token\n"

struct got {
	int		 n;		/* events seen */
	char		 type[64];	/* type of the last one */
	struct buf	 data;		/* data of the last one */
};

static int
on_event(void *arg, const char *event, const char *data, size_t len)
{
	struct got	*g = arg;

	g->n++;
	snprintf(g->type, sizeof(g->type), "%s", event);
	buf_reset(&g->data);
	return buf_add(&g->data, data, len) != BUF_OK;
}

/* What a reader must get back: line breaks become "\n". */
static void
normalize(const char *in, size_t len, struct buf *out)
{
	size_t	 i;
	int	 bad = 0;

	buf_reset(out);
	for (i = 0; i < len; i++) {
		if (in[i] == '\r') {
			if (i + 1 < len && in[i + 1] == '\n')
				i++;
			bad |= buf_add(out, "\n", 1) != BUF_OK;
		} else
			bad |= buf_add(out, in + i, 1) != BUF_OK;
	}
	if (bad)
		buf_reset(out);
}

/* Parse the whole of in, whole or byte by byte, into g. */
static enum ssep_status
readback(const struct buf *in, int bytewise, struct got *g)
{
	struct ssep	 s;
	enum ssep_status rc = SSEP_OK;
	size_t		 i;

	g->n = 0;
	g->type[0] = '\0';
	buf_reset(&g->data);
	ssep_init(&s, MAXEV);
	if (!bytewise)
		rc = ssep_feed(&s, in->data, in->len, on_event, g);
	else
		for (i = 0; i < in->len && rc == SSEP_OK; i++)
			rc = ssep_feed(&s, in->data + i, 1, on_event, g);
	if (ssep_pending(&s))
		rc = SSEP__MAX;		/* a frame was not terminated */
	ssep_free(&s);
	return rc;
}

static int
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void
roundtrip(const char *name, const char *data, size_t len)
{
	struct buf	 out, want;
	struct got	 g;
	enum sse_status	 rc;
	enum ssep_status prc;

	buf_init(&out, MAXEV);
	buf_init(&want, MAXEV);
	buf_init(&g.data, MAXEV);
	normalize(data, len, &want);
	rc = sse_frame(&out, 0, "token", data, len);
	prc = readback(&out, 0, &g);
	ok(rc == SSE_OK && prc == SSEP_OK && g.n == 1 &&
	    strcmp(g.type, "token") == 0 && same(&g.data, &want),
	    "round trip: %s", name);
	prc = readback(&out, 1, &g);
	ok(prc == SSEP_OK && g.n == 1 && same(&g.data, &want),
	    "round trip byte by byte: %s", name);
	/* With an id line first: the type and data are unchanged. */
	buf_reset(&out);
	rc = sse_frame(&out, 42, "token", data, len);
	prc = readback(&out, 1, &g);
	ok(rc == SSE_OK && prc == SSEP_OK && g.n == 1 &&
	    strncmp(out.data, IDHEAD, sizeof(IDHEAD) - 1) == 0 &&
	    strcmp(g.type, "token") == 0 && same(&g.data, &want),
	    "round trip with id: %s", name);
	buf_free(&out);
	buf_free(&want);
	buf_free(&g.data);
}

#define RT(name, lit)	roundtrip((name), (lit), sizeof(lit) - 1)

static void
test_roundtrip(void)
{
	RT("plain", "hello");
	RT("empty", "");
	RT("LF", "a\nb");
	RT("CR", "a\rb");
	RT("CRLF", "a\r\nb");
	RT("LF LF", "a\n\nb");
	RT("CR CR", "a\r\rb");
	RT("LF CR", "a\n\rb");
	RT("CR LF LF", "a\r\n\nb");
	RT("only a LF", "\n");
	RT("only LF LF", "\n\n");
	RT("trailing CRLF", "x\r\n");
	RT("trailing CR", "x\r");
	RT("leading spaces", " a\n  b\n\t c");
	RT("a lone space", " ");
	RT("colons at line starts", ":a\n: b\n::\ndata: x\nevent: y");
	RT("field-like lines", "data:\n\nid: 1\nretry: 5\n\n\n");
	RT("NUL byte", "a\0b");
	RT("UTF-8 and BOM", "\xef\xbb\xbf" "caf\xc3\xa9\n\xf0\x9f\x98\x80");
}

static void
test_random(void)
{
	struct buf	 out, want;
	struct got	 g;
	char		 data[300];
	unsigned long	 seed = 12345;
	size_t		 n, i;
	int		 iter, good = 1;

	buf_init(&out, MAXEV);
	buf_init(&want, MAXEV);
	buf_init(&g.data, MAXEV);
	for (iter = 0; iter < 2000 && good; iter++) {
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof(data);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			/* Favour the bytes that matter to the framing. */
			switch ((seed >> 16) % 8) {
			case 0:
				data[i] = '\r';
				break;
			case 1:
				data[i] = '\n';
				break;
			case 2:
				data[i] = ':';
				break;
			case 3:
				data[i] = ' ';
				break;
			default:
				data[i] = (char)(seed >> 20);
				break;
			}
		}
		buf_reset(&out);
		normalize(data, n, &want);
		if (sse_frame(&out, 0, "t", data, n) != SSE_OK ||
		    readback(&out, 0, &g) != SSEP_OK || g.n != 1 ||
		    !same(&g.data, &want))
			good = 0;
	}
	ok(good, "2000 random payloads round-trip (stopped at %d)", iter);
	buf_free(&out);
	buf_free(&want);
	buf_free(&g.data);
}

static void
test_bytes(void)
{
	struct buf	 out;
	enum sse_status	 rc;

	buf_init(&out, MAXEV);
	rc = sse_frame(&out, 0, "token", "a\r\nb\rc\n", 7);
	ok(rc == SSE_OK && strcmp(out.data, "event: token\ndata: a\n"
	    "data: b\ndata: c\ndata: \n\n") == 0,
	    "frame bytes for a\\r\\nb\\rc\\n");
	buf_reset(&out);
	rc = sse_frame(&out, 0, "done", "", 0);
	ok(rc == SSE_OK && strcmp(out.data, "event: done\ndata: \n\n") == 0,
	    "empty data: one empty data line");
	buf_reset(&out);
	rc = sse_frame(&out, 0, "done", NULL, 0);
	ok(rc == SSE_OK && strcmp(out.data, "event: done\ndata: \n\n") == 0,
	    "NULL data with length 0");
	buf_reset(&out);
	rc = sse_comment(&out, "keepalive");
	ok(rc == SSE_OK && strcmp(out.data, ": keepalive\n\n") == 0,
	    "comment bytes");
	buf_reset(&out);
	rc = sse_frame(&out, 1, "status", "{\"type\":\"status\"}", 17);
	ok(rc == SSE_OK && strcmp(out.data, "id: 1\nevent: status\n"
	    "data: {\"type\":\"status\"}\n\n") == 0, "frame bytes with id 1");
	buf_reset(&out);
	rc = sse_frame(&out, UINT64_MAX, "done", "{}", 2);
	ok(rc == SSE_OK && strcmp(out.data, "id: 18446744073709551615\n"
	    "event: done\ndata: {}\n\n") == 0, "the largest id");
	buf_reset(&out);
	rc = sse_frame(&out, 7, "token", "a\nb", 3);
	ok(rc == SSE_OK && strcmp(out.data, "id: 7\nevent: token\n"
	    "data: a\ndata: b\n\n") == 0, "one id line for a split data");
	buf_free(&out);
}

static void
test_json_token(void)
{
	struct json_object	*o, *back, *c;
	struct buf		 out;
	struct got		 g;
	const char		*js, *p;
	int			 lines = 0;

	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("token"));
	json_object_object_add(o, "index", json_object_new_int(0));
	json_object_object_add(o, "content",
	    json_object_new_string("a\nb\r"));
	js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_init(&out, MAXEV);
	buf_init(&g.data, MAXEV);
	ok(sse_frame(&out, 0, "token", js, strlen(js)) == SSE_OK,
	    "JSON token frame written");
	for (p = out.data; p != NULL; p = strstr(p + 1, "data:"))
		if (strncmp(p, "data:", 5) == 0)
			lines++;
	ok(lines == 1, "JSON token is one data line (%d)", lines);
	ok(readback(&out, 1, &g) == SSEP_OK && g.n == 1 &&
	    g.data.len == strlen(js) && strcmp(g.data.data, js) == 0,
	    "JSON token comes back byte for byte");
	back = json_tokener_parse(g.data.data != NULL ? g.data.data : "");
	ok(back != NULL && json_object_object_get_ex(back, "content", &c) &&
	    strcmp(json_object_get_string(c), "a\nb\r") == 0,
	    "content \"a\\nb\\r\" survives");
	json_object_put(back);
	json_object_put(o);
	buf_free(&out);
	buf_free(&g.data);
}

static void
test_stream(void)
{
	struct buf	 out;
	struct got	 g;
	enum sse_status	 rc;

	/* Frames and comments back to back: the last event wins in g. */
	buf_init(&out, MAXEV);
	buf_init(&g.data, MAXEV);
	rc = sse_comment(&out, "keepalive");
	if (rc == SSE_OK)
		rc = sse_frame(&out, 0, "status", "{\"x\":1}", 7);
	if (rc == SSE_OK)
		rc = sse_comment(&out, "");
	if (rc == SSE_OK)
		rc = sse_frame(&out, 0, "done", "\n", 1);
	ok(rc == SSE_OK && readback(&out, 1, &g) == SSEP_OK && g.n == 2 &&
	    strcmp(g.type, "done") == 0 && g.data.len == 1 &&
	    g.data.data[0] == '\n', "stream of frames and comments");
	buf_free(&out);
	buf_free(&g.data);
}

static void
test_errors(void)
{
	static const char *const badtypes[] = {
		"", "a:b", ":", "a\nb", "a\r", "\n",
	};
	struct buf	 out;
	size_t		 i, len;
	int		 good = 1;
	enum sse_status	 rc;

	buf_init(&out, 64);
	if (sse_comment(&out, "before") != SSE_OK)
		good = 0;
	len = out.len;
	for (i = 0; i < sizeof(badtypes) / sizeof(badtypes[0]); i++)
		if (sse_frame(&out, 0, badtypes[i], "x", 1) != SSE_ERR_TYPE)
			good = 0;
	ok(good && out.len == len, "bad types are SSE_ERR_TYPE, out kept");
	ok(sse_frame(&out, 0, NULL, "x", 1) == SSE_ERR_TYPE, "NULL type");
	ok(sse_comment(&out, "a\nb") == SSE_ERR_TEXT &&
	    sse_comment(&out, "a\r") == SSE_ERR_TEXT && out.len == len,
	    "comment with a line break is SSE_ERR_TEXT");

	/* 64-byte buffer: a frame that does not fit is rolled back. */
	rc = sse_frame(&out, 0, "token", "0123456789\n0123456789\n0123456789",
	    32);
	ok(rc == SSE_ERR_TOO_BIG && out.len == len &&
	    strcmp(out.data, ": before\n\n") == 0,
	    "too big: SSE_ERR_TOO_BIG, buffer unchanged (%s)",
	    sse_strerror(rc));
	rc = sse_frame(&out, 123456789, "token", "0123456789012345678901",
	    22);
	ok(rc == SSE_ERR_TOO_BIG && out.len == len &&
	    strcmp(out.data, ": before\n\n") == 0,
	    "too big with its id line: rolled back");
	ok(sse_frame(&out, 5, "a:b", "x", 1) == SSE_ERR_TYPE && out.len == len,
	    "bad type with an id: nothing written");
	rc = sse_frame(&out, 0, "token", "fits", 4);
	ok(rc == SSE_OK && out.len > len, "a small frame still fits");
	buf_reset(&out);
	rc = sse_comment(&out, "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789");
	ok(rc == SSE_ERR_TOO_BIG && out.len == 0, "comment too big");
	buf_free(&out);

	good = 1;
	for (i = 0; i < SSE__MAX; i++)
		if (sse_strerror((enum sse_status)i) == NULL)
			good = 0;
	ok(good && sse_strerror(SSE__MAX) != NULL &&
	    strcmp(sse_strerror(SSE_ERR_TYPE), sse_strerror(SSE_ERR_TEXT)),
	    "sse_strerror");
}

int
main(void)
{
	test_roundtrip();
	test_random();
	test_bytes();
	test_json_token();
	test_stream();
	test_errors();
	return tap_done();
}
