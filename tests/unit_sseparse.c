/*
 * unit_sseparse.c - TAP tests for the event stream parser (sseparse.c).
 *
 * Each case is fed whole, byte by byte, and split in two at every
 * offset; all feeds must give the same event sequence.  Events are
 * logged as "type[data]" with CR, LF and NUL escaped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sseparse.h"
#include "tap.h"

#define LOGMAX	(64u * 1024)

struct rec {
	struct buf	 log;
	int		 calls;
	int		 stop_after;	/* stop after this many; 0 never */
};

static int
on_event(void *arg, const char *event, const char *data, size_t len)
{
	struct rec	*r = arg;
	size_t		 i;
	int		 bad = 0;

	r->calls++;
	if (data[len] != '\0')
		bad = 1;
	bad |= buf_adds(&r->log, event) != BUF_OK;
	bad |= buf_add(&r->log, "[", 1) != BUF_OK;
	for (i = 0; i < len; i++) {
		if (data[i] == '\n')
			bad |= buf_adds(&r->log, "\\n") != BUF_OK;
		else if (data[i] == '\r')
			bad |= buf_adds(&r->log, "\\r") != BUF_OK;
		else if (data[i] == '\0')
			bad |= buf_adds(&r->log, "\\0") != BUF_OK;
		else
			bad |= buf_add(&r->log, data + i, 1) != BUF_OK;
	}
	bad |= buf_add(&r->log, "]", 1) != BUF_OK;
	if (bad)
		bad |= buf_adds(&r->log, "<UNTERMINATED>") != BUF_OK;
	return r->stop_after > 0 && r->calls >= r->stop_after;
}

/*
 * Feed in[0..len) in pieces: split == 0 whole, split == (size_t)-1 byte
 * by byte, else two feeds at that offset.  Returns the status of the
 * last feed; the log goes to r.
 */
static enum ssep_status
run(const char *in, size_t len, size_t max, size_t split, struct rec *r,
    int *pending)
{
	struct ssep	 s;
	enum ssep_status rc = SSEP_OK;
	size_t		 i;

	buf_init(&r->log, LOGMAX);
	r->calls = 0;
	ssep_init(&s, max);
	if (split == 0) {
		rc = ssep_feed(&s, in, len, on_event, r);
	} else if (split == (size_t)-1) {
		for (i = 0; i < len; i++)
			rc = ssep_feed(&s, in + i, 1, on_event, r);
	} else {
		rc = ssep_feed(&s, in, split, on_event, r);
		rc = ssep_feed(&s, in + split, len - split, on_event, r);
	}
	if (pending != NULL)
		*pending = ssep_pending(&s);
	ssep_free(&s);
	ssep_free(&s);
	return rc;
}

static const char *
logstr(struct rec *r)
{
	return r->log.data != NULL ? r->log.data : "";
}

/* Check one case under every way of splitting it. */
static void
check(const char *name, const char *in, size_t len, size_t max,
    enum ssep_status want_rc, const char *want)
{
	struct rec	 r;
	enum ssep_status rc;
	size_t		 k;
	int		 good;

	memset(&r, 0, sizeof(r));
	rc = run(in, len, max, 0, &r, NULL);
	ok(rc == want_rc && strcmp(logstr(&r), want) == 0,
	    "%s: whole (rc %d, got \"%s\")", name, (int)rc, logstr(&r));
	buf_free(&r.log);

	rc = run(in, len, max, (size_t)-1, &r, NULL);
	ok(rc == want_rc && strcmp(logstr(&r), want) == 0,
	    "%s: byte by byte (rc %d, got \"%s\")", name, (int)rc,
	    logstr(&r));
	buf_free(&r.log);

	good = 1;
	for (k = 1; k < len; k++) {
		rc = run(in, len, max, k, &r, NULL);
		if (rc != want_rc || strcmp(logstr(&r), want) != 0) {
			if (good)
				printf("# split at %zu: rc %d \"%s\"\n", k,
				    (int)rc, logstr(&r));
			good = 0;
		}
		buf_free(&r.log);
	}
	ok(good, "%s: every two-way split", name);
}

#define CHECK(name, lit, max, rc, want) \
	check((name), (lit), sizeof(lit) - 1, (max), (rc), (want))

static void
test_grammar(void)
{
	CHECK("simple", "data: hello\n\n", 1024, SSEP_OK, "message[hello]");
	CHECK("event type", "event: token\ndata: x\n\ndata: y\n\n", 1024,
	    SSEP_OK, "token[x]message[y]");
	CHECK("multi-line data", "data: a\ndata: b\ndata:\n\n", 1024,
	    SSEP_OK, "message[a\\nb\\n]");
	CHECK("one space stripped", "data:x\n\ndata:  x\n\n", 1024,
	    SSEP_OK, "message[x]message[ x]");
	CHECK("colon in value", "data: a: b :c\n\n", 1024, SSEP_OK,
	    "message[a: b :c]");
	CHECK("comments", ": OPENROUTER PROCESSING\n\n"
	    "data: a\n: between\ndata: b\n\n:\n\n", 1024, SSEP_OK,
	    "message[a\\nb]");
	CHECK("CR LF CRLF mixes",
	    "data: a\r\rdata: b\r\n\r\ndata: c\n\ndata: d\r\n\n"
	    "data: e\n\r", 1024, SSEP_OK,
	    "message[a]message[b]message[c]message[d]message[e]");
	CHECK("CR CR is two line ends", "data: a\r\r\n", 1024, SSEP_OK,
	    "message[a]");
	CHECK("blank without data", "\n\n\r\n\nevent: x\n\ndata: y\n\n",
	    1024, SSEP_OK, "message[y]");
	CHECK("field without colon", "data\n\n", 1024, SSEP_OK,
	    "message[]");
	CHECK("unknown fields", "id: 5\nretry: 100\nfoo: bar\nDATA: no\n"
	    "dat: no\ndatas: no\ndata: z\n\n", 1024, SSEP_OK, "message[z]");
	CHECK("event field last wins", "event: a\nevent: b\ndata: 1\n\n",
	    1024, SSEP_OK, "b[1]");
	CHECK("empty event is message", "event:\ndata: 1\n\n", 1024,
	    SSEP_OK, "message[1]");
	CHECK("NUL in data", "data: a\0b\n\n", 1024, SSEP_OK,
	    "message[a\\0b]");
	CHECK("BOM skipped", "\xef\xbb\xbf" "data: a\n\n", 1024, SSEP_OK,
	    "message[a]");
	CHECK("BOM only once", "\xef\xbb\xbf" "data: a\n\n"
	    "\xef\xbb\xbf" "data: b\n\n", 1024, SSEP_OK, "message[a]");
	CHECK("partial BOM is data", "\xef\xbb" "data: a\n\ndata: b\n\n",
	    1024, SSEP_OK, "message[b]");
	CHECK("partial BOM then LF", "\xef\n\ndata: c\n\n", 1024, SSEP_OK,
	    "message[c]");
	CHECK("split UTF-8", "data: caf\xc3\xa9 \xe2\x82\xac "
	    "\xf0\x9f\x98\x80\n\n", 1024, SSEP_OK,
	    "message[caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80]");
	CHECK("no trailing blank line", "data: a\n\ndata: b\n", 1024,
	    SSEP_OK, "message[a]");
	CHECK("openai stream",
	    "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
	    ": OPENROUTER PROCESSING\n\n"
	    "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\r\n\r\n"
	    "data: [DONE]\n\n", 1024, SSEP_OK,
	    "message[{\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}]"
	    "message[{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}]"
	    "message[[DONE]]");
}

static void
test_cr_lf_across_feeds(void)
{
	struct ssep	 s;
	struct rec	 r;
	enum ssep_status rc;

	memset(&r, 0, sizeof(r));
	buf_init(&r.log, LOGMAX);
	ssep_init(&s, 1024);
	rc = ssep_feed(&s, "data: a\r", 8, on_event, &r);
	ok(rc == SSEP_OK && r.calls == 0, "CR at end of feed: no event yet");
	rc = ssep_feed(&s, "\ndata: b\r", 9, on_event, &r);
	ok(rc == SSEP_OK && r.calls == 0,
	    "LF after CR across feeds is one line end");
	rc = ssep_feed(&s, "\n\r\n", 3, on_event, &r);
	ok(rc == SSEP_OK && strcmp(logstr(&r), "message[a\\nb]") == 0,
	    "joined event a\\nb (got \"%s\")", logstr(&r));
	ok(!ssep_pending(&s), "nothing pending after dispatch");
	rc = ssep_feed(&s, "", 0, on_event, &r);
	ok(rc == SSEP_OK, "empty feed is fine");
	ssep_free(&s);
	buf_free(&r.log);
}

static void
test_pending(void)
{
	struct rec	 r;
	int		 pending;

	memset(&r, 0, sizeof(r));
	(void)run("data: x\n", 8, 64, 0, &r, &pending);
	ok(pending && r.calls == 0, "data without blank line is pending");
	buf_free(&r.log);
	(void)run("data: x", 7, 64, 0, &r, &pending);
	ok(pending && r.calls == 0, "unfinished line is pending");
	buf_free(&r.log);
	(void)run("data: x\n\n", 9, 64, 0, &r, &pending);
	ok(!pending && r.calls == 1, "dispatched event is not pending");
	buf_free(&r.log);
	(void)run(": c\n", 4, 64, 0, &r, &pending);
	ok(!pending, "a comment leaves nothing pending");
	buf_free(&r.log);
}

static void
test_limits(void)
{
	char		 in[256];
	struct rec	 r;
	struct ssep	 s;
	enum ssep_status rc;
	size_t		 n;

	/* Exactly max bytes of data in one line: fine. */
	n = (size_t)snprintf(in, sizeof(in), "data: %s\n\n",
	    "0123456789abcdef");
	check("data of exactly max", in, n, 16, SSEP_OK,
	    "message[0123456789abcdef]");
	/* One byte more: too big. */
	n = (size_t)snprintf(in, sizeof(in), "data: %s\n\n",
	    "0123456789abcdefg");
	check("data over max", in, n, 16, SSEP_ERR_TOO_BIG, "");
	/* Several lines that add up to more than max. */
	n = (size_t)snprintf(in, sizeof(in),
	    "data: 01234567\ndata: 01234567\n\n");
	check("joined data over max", in, n, 16, SSEP_ERR_TOO_BIG, "");
	/* The event before the big one is still delivered. */
	n = (size_t)snprintf(in, sizeof(in),
	    "data: ok\n\ndata: 0123456789abcdefg\n\ndata: late\n\n");
	check("error after a good event", in, n, 16, SSEP_ERR_TOO_BIG,
	    "message[ok]");
	/* A comment line longer than max + slack. */
	memset(in, 'x', sizeof(in));
	in[0] = ':';
	in[16 + SSEP_LINE_SLACK + 1] = '\n';
	check("line over max", in, 16 + SSEP_LINE_SLACK + 2, 16,
	    SSEP_ERR_TOO_BIG, "");
	in[16 + SSEP_LINE_SLACK] = '\n';
	check("line of exactly max", in, 16 + SSEP_LINE_SLACK + 1, 16,
	    SSEP_OK, "");

	/* Errors are sticky. */
	memset(&r, 0, sizeof(r));
	buf_init(&r.log, LOGMAX);
	ssep_init(&s, 4);
	rc = ssep_feed(&s, "data: 12345\n\n", 13, on_event, &r);
	ok(rc == SSEP_ERR_TOO_BIG, "too big: %s", ssep_strerror(rc));
	rc = ssep_feed(&s, "data: 1\n\n", 9, on_event, &r);
	ok(rc == SSEP_ERR_TOO_BIG && r.calls == 0,
	    "too big is sticky, no later events");
	ssep_free(&s);
	buf_free(&r.log);
}

static void
test_callback_stop(void)
{
	static const char in[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
	struct ssep	 s;
	struct rec	 r;
	enum ssep_status rc;
	size_t		 i;

	memset(&r, 0, sizeof(r));
	buf_init(&r.log, LOGMAX);
	r.stop_after = 1;
	ssep_init(&s, 64);
	rc = ssep_feed(&s, in, sizeof(in) - 1, on_event, &r);
	ok(rc == SSEP_ERR_CALLBACK && r.calls == 1 &&
	    strcmp(logstr(&r), "message[1]") == 0,
	    "callback stop: one event, rc %s", ssep_strerror(rc));
	rc = ssep_feed(&s, in, sizeof(in) - 1, on_event, &r);
	ok(rc == SSEP_ERR_CALLBACK && r.calls == 1,
	    "callback stop is sticky");
	ssep_free(&s);
	buf_free(&r.log);

	/* Byte by byte, stop after the second. */
	r.stop_after = 2;
	r.calls = 0;
	buf_init(&r.log, LOGMAX);
	ssep_init(&s, 64);
	rc = SSEP_OK;
	for (i = 0; i < sizeof(in) - 1 && rc == SSEP_OK; i++)
		rc = ssep_feed(&s, in + i, 1, on_event, &r);
	ok(rc == SSEP_ERR_CALLBACK &&
	    strcmp(logstr(&r), "message[1]message[2]") == 0,
	    "callback stop byte by byte after two events");
	ssep_free(&s);
	buf_free(&r.log);
}

static void
test_misc(void)
{
	struct ssep	 s;
	int		 i, distinct;
	enum ssep_status rc;

	memset(&s, 0, sizeof(s));
	ssep_free(&s);
	ssep_free(&s);
	ok(s.line.data == NULL && s.line.len == 0 && s.data.data == NULL &&
	    s.event.data == NULL && s.has_data == 0 && s.last_cr == 0,
	    "ssep_free on a zeroed struct, twice, leaves it empty");
	/* And on a used one: every buffer released, the flags cleared. */
	ssep_init(&s, 64);
	{
		static const char part[] = "event: x\ndata: partial";

		rc = ssep_feed(&s, part, sizeof(part) - 1, NULL, NULL);
		ok(rc == SSEP_OK && ssep_pending(&s),
		    "an unfinished event is pending");
	}
	ssep_free(&s);
	ok(s.line.data == NULL && s.data.data == NULL && s.event.data == NULL &&
	    s.has_data == 0, "ssep_free after use releases every buffer");
	ssep_free(&s);
	distinct = 1;
	for (i = 0; i < SSEP__MAX; i++)
		if (ssep_strerror((enum ssep_status)i) == NULL ||
		    (i > 0 && strcmp(ssep_strerror((enum ssep_status)i),
		    ssep_strerror((enum ssep_status)(i - 1))) == 0))
			distinct = 0;
	ok(distinct, "ssep_strerror gives a message per status");
	ok(ssep_strerror(SSEP__MAX) != NULL &&
	    strcmp(ssep_strerror(SSEP__MAX), ssep_strerror(SSEP_OK)) != 0,
	    "ssep_strerror out of range");
}

int
main(void)
{
	test_grammar();
	test_cr_lf_across_feeds();
	test_pending();
	test_limits();
	test_callback_stop();
	test_misc();
	return tap_done();
}
