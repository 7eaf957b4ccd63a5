/*
 * unit_fcgi.c - TAP unit test of the FastCGI record parser (fcgi.c).
 *
 * Every input is fed whole, byte by byte and split in two at every
 * position; all runs must agree on the status and on the trace of
 * callbacks (stdin bytes, params, replies).  Each piece is copied into a
 * malloc'd buffer of exactly its size so an overread is caught by ASan
 * or valgrind.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fcgi.h"
#include "tap.h"

struct rec {
	struct buf	 trace;		/* events, in order */
	struct buf	 in;		/* stdin bytes */
	int		 stop_in;	/* stop at the first stdin bytes */
};

static void
put(struct buf *b, const void *s, size_t n)
{
	if (buf_add(b, s, n) != BUF_OK)
		abort();
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static int
on_begin(void *arg, unsigned id, unsigned flags)
{
	struct rec	*r = arg;
	char		 s[64];

	snprintf(s, sizeof(s), "begin %u %u;", id, flags);
	puts_(&r->trace, s);
	return 0;
}

static int
on_params(void *arg)
{
	puts_(&((struct rec *)arg)->trace, "params;");
	return 0;
}

static int
on_in(void *arg, const char *p, size_t n)
{
	struct rec *r = arg;

	put(&r->in, p, n);
	return r->stop_in;
}

static int
on_in_end(void *arg)
{
	puts_(&((struct rec *)arg)->trace, "in_end;");
	return 0;
}

static int
on_abort(void *arg)
{
	puts_(&((struct rec *)arg)->trace, "abort;");
	return 0;
}

static int
on_reply(void *arg, const unsigned char *p, size_t n)
{
	struct rec	*r = arg;
	char		 s[16];
	size_t		 i;

	if (n > FCGI_REPLY_MAX || n % 8 != 0)
		puts_(&r->trace, "BADREPLY");
	puts_(&r->trace, "reply ");
	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "%02x", p[i]);
		puts_(&r->trace, s);
	}
	puts_(&r->trace, ";");
	return 0;
}

static const struct fcgi_callbacks cbs = {
	on_begin, on_params, on_in, on_in_end, on_abort, on_reply
};

/* 0 whole, 1 byte by byte, 2 two pieces cut at `cut`. */
static enum fcgi_status
run(const unsigned char *in, size_t len, int how, size_t cut,
    struct rec *r, struct fcgi_parser *p, int finish)
{
	enum fcgi_status	 st;
	size_t			 off, n;
	unsigned char		*piece;

	buf_init(&r->trace, 1u << 20);
	buf_init(&r->in, 1u << 20);
	fcgi_init(p, 7, &cbs, r);
	st = FCGI_OK;
	for (off = 0; off < len || (off == 0 && len == 0); off += n) {
		n = how == 0 || len == 0 ? len : how == 1 ? 1 :
		    off < cut ? cut - off : len - off;
		piece = malloc(n ? n : 1);
		if (n > 0)
			memcpy(piece, in + off, n);
		st = fcgi_feed(p, piece, n);
		free(piece);
		if (len == 0)
			break;
	}
	if (finish)
		st = fcgi_finish(p);
	return st;
}

static void
rec_free(struct rec *r)
{
	buf_free(&r->trace);
	buf_free(&r->in);
}

/* Feed in whole, keeping only the parser (p->err tells). */
static void
run1(const unsigned char *in, size_t len, int finish, struct fcgi_parser *p)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	(void)run(in, len, 0, 0, &r, p, finish);
	rec_free(&r);
}

/*
 * Run a case whole, byte by byte and at every split; check they agree,
 * and that the whole run gives want, trace and stdin.  Returns the
 * parser of the whole run (free it).
 */
static void
check(const char *what, const unsigned char *in, size_t len, int finish,
    enum fcgi_status want, const char *trace, const char *stdin_,
    struct fcgi_parser *pw)
{
	struct rec		 r0, r;
	struct fcgi_parser	 p;
	enum fcgi_status	 st0, st;
	size_t			 cut;
	int			 agree;

	memset(&r0, 0, sizeof(r0));
	memset(&r, 0, sizeof(r));
	st0 = run(in, len, 0, 0, &r0, pw, finish);
	ok(st0 == want, "%s: status %d (want %d)", what, st0, want);
	if (trace != NULL)
		ok(r0.trace.data != NULL ? strcmp(r0.trace.data, trace) == 0 :
		    *trace == '\0', "%s: trace %s", what,
		    r0.trace.data != NULL ? r0.trace.data : "");
	if (stdin_ != NULL)
		ok(r0.in.len == strlen(stdin_) &&
		    memcmp(r0.in.data != NULL ? r0.in.data : "", stdin_,
		    r0.in.len) == 0, "%s: stdin bytes", what);
	agree = 1;
	for (cut = 0; cut <= len; cut++) {
		st = run(in, len, cut == 0 ? 1 : 2, cut, &r, &p, finish);
		if (st != st0 || r.trace.len != r0.trace.len ||
		    (r.trace.len > 0 && memcmp(r.trace.data, r0.trace.data,
		    r.trace.len) != 0) || r.in.len != r0.in.len ||
		    (r.in.len > 0 && memcmp(r.in.data, r0.in.data, r.in.len))) {
			if (agree)
				printf("# %s: %s %zu differs: %d %s\n", what,
				    cut == 0 ? "byte by byte" : "split", cut,
				    st, r.trace.data ? r.trace.data : "");
			agree = 0;
		}
		rec_free(&r);
		fcgi_free(&p);
	}
	ok(agree, "%s: byte by byte and all %zu splits agree", what, len);
	rec_free(&r0);
}

/* Building inputs. */
static void
rec_hdr(struct buf *b, unsigned type, unsigned id, size_t clen, size_t plen)
{
	unsigned char h[8];

	fcgi_header(h, type, id, clen, plen);
	put(b, h, 8);
}

static void
record(struct buf *b, unsigned type, unsigned id, const void *c, size_t n)
{
	static const unsigned char zero[8];

	rec_hdr(b, type, id, n, fcgi_padding(n));
	put(b, c, n);
	put(b, zero, fcgi_padding(n));
}

static void
begin(struct buf *b, unsigned id, unsigned role, unsigned flags)
{
	unsigned char c[8] = { 0 };

	c[0] = (unsigned char)(role >> 8);
	c[1] = (unsigned char)role;
	c[2] = (unsigned char)flags;
	record(b, FCGI_BEGIN_REQUEST, id, c, 8);
}

static void
nvlen(struct buf *b, size_t n, int four)
{
	unsigned char c[4];

	if (n < 128 && !four) {
		c[0] = (unsigned char)n;
		put(b, c, 1);
		return;
	}
	c[0] = (unsigned char)(n >> 24 | 0x80);
	c[1] = (unsigned char)(n >> 16);
	c[2] = (unsigned char)(n >> 8);
	c[3] = (unsigned char)n;
	put(b, c, 4);
}

static void
pair(struct buf *b, const char *n, const char *v, int four)
{
	nvlen(b, strlen(n), four);
	nvlen(b, strlen(v), four);
	puts_(b, n);
	puts_(b, v);
}

#define U(b)	((const unsigned char *)(b).data)

static void
test_request(void)
{
	struct buf		 b, pv;
	struct fcgi_parser	 p;
	const char		*n, *v;
	size_t			 nl, vl;
	char			 big[300];

	buf_init(&b, 1u << 20);
	buf_init(&pv, 1u << 20);
	begin(&b, 1, FCGI_RESPONDER, 0);
	pair(&pv, "REQUEST_METHOD", "POST", 0);
	pair(&pv, "EMPTY", "", 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pair(&pv, "BIG", big, 0);		/* 4-byte value length */
	pair(&pv, "FOUR", "four-byte lengths", 1);
	pair(&pv, "REQUEST_METHOD", "GET", 0);	/* duplicate: first wins */
	/* the pairs split over three PARAMS records, mid-length */
	record(&b, FCGI_PARAMS, 1, pv.data, 3);
	record(&b, FCGI_PARAMS, 1, pv.data + 3, 20);
	record(&b, FCGI_PARAMS, 1, pv.data + 23, pv.len - 23);
	record(&b, FCGI_PARAMS, 1, NULL, 0);
	record(&b, FCGI_STDIN, 1, "hello ", 6);
	record(&b, FCGI_DATA, 1, "ignored", 7);
	record(&b, FCGI_STDIN, 2, "other id", 8);
	record(&b, FCGI_STDIN, 1, "world", 5);
	record(&b, FCGI_STDIN, 1, NULL, 0);
	check("responder request", U(b), b.len, 1, FCGI_OK,
	    "begin 1 0;params;in_end;", "hello world", &p);
	ok(p.nparams == 5, "five params (%zu)", p.nparams);
	v = fcgi_param(&p, "REQUEST_METHOD");
	ok(v != NULL && strcmp(v, "POST") == 0, "REQUEST_METHOD: the first");
	v = fcgi_param(&p, "EMPTY");
	ok(v != NULL && *v == '\0', "an empty value is \"\", not NULL");
	v = fcgi_param(&p, "BIG");
	ok(v != NULL && strcmp(v, big) == 0, "299-byte value");
	v = fcgi_param(&p, "FOUR");
	ok(v != NULL && strcmp(v, "four-byte lengths") == 0,
	    "4-byte name and value lengths");
	ok(fcgi_param(&p, "MISSING") == NULL &&
	    fcgi_param(&p, "REQUEST_") == NULL, "absent and prefix: NULL");
	ok(fcgi_param_at(&p, 3, &n, &nl, &v, &vl) == 0 && nl == 4 &&
	    memcmp(n, "FOUR", 4) == 0 && vl == 17 &&
	    fcgi_param_at(&p, 5, &n, &nl, &v, &vl) == -1, "fcgi_param_at");
	fcgi_free(&p);

	/* the same, padding 0 and a big padding, keep-conn flag */
	buf_reset(&b);
	begin(&b, 9, FCGI_RESPONDER, FCGI_KEEP_CONN);
	rec_hdr(&b, FCGI_PARAMS, 9, 6, 255);
	put(&b, "\x01\x03" "AXYZ", 6);
	{
		unsigned char pad[255] = { 0 };

		put(&b, pad, sizeof(pad));
	}
	rec_hdr(&b, FCGI_PARAMS, 9, 0, 0);
	rec_hdr(&b, FCGI_STDIN, 9, 0, 0);
	check("keep-conn flag, 255 padding bytes", U(b), b.len, 1, FCGI_OK,
	    "begin 9 1;params;in_end;", "", &p);
	v = fcgi_param(&p, "A");
	ok(v != NULL && strcmp(v, "XYZ") == 0, "A=XYZ after big padding");
	fcgi_free(&p);

	/* params are not visible before their end */
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_PARAMS, 1, "\x01\x01" "AB", 4);
	check("params not ended", U(b), b.len, 0, FCGI_OK, "begin 1 0;", "",
	    &p);
	ok(fcgi_param(&p, "A") == NULL, "no param before the empty PARAMS");
	ok(fcgi_finish(&p) == FCGI_ERR_TRUNCATED, "finish: truncated");
	fcgi_free(&p);
	buf_free(&b);
	buf_free(&pv);
}

static void
test_management(void)
{
	struct buf		 b, q;
	struct fcgi_parser	 p;
	int			 i;

	buf_init(&b, 1u << 20);
	buf_init(&q, 4096);
	/* AUDIT H4: 5 x FCGI_MPXS_CONNS; the answer names it once */
	for (i = 0; i < 5; i++)
		pair(&q, "FCGI_MPXS_CONNS", "", 0);
	record(&b, FCGI_GET_VALUES, 0, q.data, q.len);
	check("H4 GET_VALUES 5 x FCGI_MPXS_CONNS", U(b), b.len, 1, FCGI_OK,
	    "reply 010a0000001206000f01"
	    "464347495f4d5058535f434f4e4e5330" "000000000000;", "", &p);
	fcgi_free(&p);
	/* all three, each four times, and unknown names; an answer each */
	buf_reset(&b);
	buf_reset(&q);
	for (i = 0; i < 4; i++) {
		pair(&q, "FCGI_MAX_CONNS", "", 0);
		pair(&q, "FCGI_MAX_REQS", "", i & 1);
		pair(&q, "FCGI_MPXS_CONNS", "", 0);
		pair(&q, "FCGI_MAX_CONNSX", "", 0);
		pair(&q, "FCGI_MAX_CONN", "", 0);
		pair(&q, "A_NAME_LONGER_THAN_THE_32_BYTE_BUFFER", "val", 0);
	}
	record(&b, FCGI_GET_VALUES, 0, q.data, q.len);
	record(&b, FCGI_GET_VALUES, 0, NULL, 0);
	check("GET_VALUES, every name 4 times, and an empty query", U(b),
	    b.len, 1, FCGI_OK,
	    "reply 010a000000330500"
	    "0e01" "464347495f4d41585f434f4e4e53" "37"
	    "0d01" "464347495f4d41585f52455153" "37"
	    "0f01" "464347495f4d5058535f434f4e4e53" "30" "0000000000;"
	    "reply 010a000000000000;", "", &p);
	fcgi_free(&p);
	/* a GET_VALUES pair cut by the record's end */
	buf_reset(&b);
	record(&b, FCGI_GET_VALUES, 0, "\x0f\x00" "FCGI", 6);
	check("GET_VALUES pair cut short", U(b), b.len, 0, FCGI_ERR_PAIR, "",
	    "", &p);
	fcgi_free(&p);
	/* over MJ_FCGI_MGMT_MAX */
	buf_reset(&b);
	rec_hdr(&b, FCGI_GET_VALUES, 0, MJ_FCGI_MGMT_MAX + 1, 0);
	check("GET_VALUES over the cap", U(b), b.len, 0, FCGI_ERR_TOO_BIG,
	    "", "", &p);
	fcgi_free(&p);
	/* unknown management types, before and during a request */
	buf_reset(&b);
	record(&b, 0x42, 0, "abc", 3);
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_BEGIN_REQUEST, 0, "\0\1\0\0\0\0\0\0", 8);
	check("unknown management types", U(b), b.len, 1, FCGI_ERR_TRUNCATED,
	    "reply 010b000000080000" "4200000000000000;begin 1 0;"
	    "reply 010b000000080000" "0100000000000000;", "", &p);
	fcgi_free(&p);
	buf_free(&b);
	buf_free(&q);
}

static void
test_refusals(void)
{
	struct buf		 b;
	struct fcgi_parser	 p;

	buf_init(&b, 1u << 20);
	/* AUTHORIZER: UNKNOWN_ROLE; its records are ignored after */
	begin(&b, 3, 2, 0);
	record(&b, FCGI_PARAMS, 3, "\x01\x01" "AB", 4);
	record(&b, FCGI_STDIN, 3, "x", 1);
	begin(&b, 4, FCGI_RESPONDER, 0);
	check("role 2 refused, then a responder", U(b), b.len, 0, FCGI_OK,
	    "reply 0103000300080000" "0000000003000000;begin 4 0;", "", &p);
	fcgi_free(&p);
	/* a second id while one is open: CANT_MPX_CONN; same id: error */
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_PARAMS, 1, NULL, 0);
	begin(&b, 2, FCGI_RESPONDER, 0);
	record(&b, FCGI_STDIN, 1, "ab", 2);
	record(&b, FCGI_STDIN, 1, NULL, 0);
	begin(&b, 5, 9, 0);
	record(&b, FCGI_ABORT_REQUEST, 2, NULL, 0);
	record(&b, FCGI_ABORT_REQUEST, 1, NULL, 0);
	record(&b, FCGI_ABORT_REQUEST, 1, NULL, 0);
	check("multiplexing refused, abort after stdin", U(b), b.len, 1,
	    FCGI_OK, "begin 1 0;params;"
	    "reply 0103000200080000" "0000000001000000;in_end;"
	    "reply 0103000500080000" "0000000001000000;abort;", "ab", &p);
	ok(p.aborted, "aborted");
	fcgi_free(&p);
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	begin(&b, 1, FCGI_RESPONDER, 0);
	check("BEGIN twice for one id", U(b), b.len, 0, FCGI_ERR_PROTOCOL,
	    "begin 1 0;", "", &p);
	fcgi_free(&p);
	/* abort in the middle of stdin */
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_PARAMS, 1, NULL, 0);
	record(&b, FCGI_STDIN, 1, "abc", 3);
	record(&b, FCGI_ABORT_REQUEST, 1, NULL, 0);
	check("abort mid-stdin", U(b), b.len, 0, FCGI_OK,
	    "begin 1 0;params;abort;", "abc", &p);
	fcgi_free(&p);
	buf_free(&b);
}

static void
test_errors(void)
{
	static const unsigned char cve[] = {
		/* AUDIT H3, CVE-2025-23016 */
		0x01, 0x01, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00,
		0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x00, 0x01, 0x00, 0x28, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x01,
		'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
		'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
		'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
		'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
	};
	struct buf		 b, pv;
	struct fcgi_parser	 p;
	size_t			 i, n;
	char			 name[32];

	buf_init(&b, 4u << 20);
	buf_init(&pv, 4u << 20);
	check("H3 CVE-2025-23016 packet", cve, sizeof(cve), 0,
	    FCGI_ERR_NAME_TOO_LONG, "begin 1 0;", "", &p);
	ok(p.arena.len == 0, "nothing stored for it");
	fcgi_free(&p);
	/* a value of 2^31-1: over the params cap before a byte is kept */
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_PARAMS, 1, "\x01\xff\xff\xff\xff" "A", 6);
	check("value length 2^31-1", U(b), b.len, 0, FCGI_ERR_PARAMS_TOO_BIG,
	    "begin 1 0;", "", &p);
	ok(p.arena.len == 0, "nothing stored for it");
	fcgi_free(&p);
	/* exactly at the cap passes, one more byte fails */
	for (n = 0; n < 2; n++) {
		buf_reset(&b);
		buf_reset(&pv);
		begin(&b, 1, FCGI_RESPONDER, 0);
		/* one pair of MJ_FCGI_PARAMS_MAX - 10 + n bytes: 8+1+1 kept */
		nvlen(&pv, 1, 0);
		nvlen(&pv, MJ_FCGI_PARAMS_MAX - 10 - 1 + n, 1);
		puts_(&pv, "V");
		for (i = 0; i < MJ_FCGI_PARAMS_MAX - 10 - 1 + n; i++)
			put(&pv, "v", 1);
		for (i = 0; i < pv.len; i += 65535)
			record(&b, FCGI_PARAMS, 1, pv.data + i,
			    pv.len - i < 65535 ? pv.len - i : 65535);
		record(&b, FCGI_PARAMS, 1, NULL, 0);
		run1(U(b), b.len, 0, &p);
		ok(n == 0 ? p.err == FCGI_OK && p.arena.len ==
		    MJ_FCGI_PARAMS_MAX : p.err == FCGI_ERR_PARAMS_TOO_BIG &&
		    p.arena.len == 0, "a pair of exactly the cap %s",
		    n == 0 ? "passes" : "plus one byte fails");
		fcgi_free(&p);
	}
	/* the count cap */
	buf_reset(&b);
	buf_reset(&pv);
	begin(&b, 1, FCGI_RESPONDER, 0);
	for (i = 0; i <= MJ_FCGI_PARAMS_COUNT_MAX; i++) {
		snprintf(name, sizeof(name), "N%zu", i);
		pair(&pv, name, "", 0);
	}
	record(&b, FCGI_PARAMS, 1, pv.data, pv.len);
	run1(U(b), b.len, 0, &p);
	ok(p.err == FCGI_ERR_TOO_MANY_PARAMS &&
	    p.nparams == MJ_FCGI_PARAMS_COUNT_MAX, "param %d is refused",
	    MJ_FCGI_PARAMS_COUNT_MAX + 1);
	fcgi_free(&p);
	/* a name over MJ_FCGI_NAME_MAX */
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	buf_reset(&pv);
	nvlen(&pv, MJ_FCGI_NAME_MAX + 1, 0);
	nvlen(&pv, 0, 0);
	record(&b, FCGI_PARAMS, 1, pv.data, pv.len);
	check("name over the cap", U(b), b.len, 0, FCGI_ERR_NAME_TOO_LONG,
	    "begin 1 0;", "", &p);
	fcgi_free(&p);
	/* wrong version, bad BEGIN length, out of order */
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	b.data[8] = 2;
	b.data[0] = 2;
	check("version 2", U(b), b.len, 0, FCGI_ERR_VERSION, "", "", &p);
	fcgi_free(&p);
	buf_reset(&b);
	record(&b, FCGI_BEGIN_REQUEST, 1, "\0\1\0\0\0\0\0\0\0", 9);
	check("BEGIN of 9 bytes", U(b), b.len, 0, FCGI_ERR_PROTOCOL, "", "",
	    &p);
	fcgi_free(&p);
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_STDIN, 1, "x", 1);
	check("STDIN before the params end", U(b), b.len, 0,
	    FCGI_ERR_PROTOCOL, "begin 1 0;", "", &p);
	fcgi_free(&p);
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_PARAMS, 1, "\x05\x00" "AB", 4);
	record(&b, FCGI_PARAMS, 1, NULL, 0);
	check("pair cut by the params end", U(b), b.len, 0, FCGI_ERR_PAIR,
	    "begin 1 0;", "", &p);
	fcgi_free(&p);
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_PARAMS, 1, NULL, 0);
	record(&b, FCGI_PARAMS, 1, NULL, 0);
	check("PARAMS after their end", U(b), b.len, 0, FCGI_ERR_PROTOCOL,
	    "begin 1 0;params;", "", &p);
	fcgi_free(&p);
	/* truncation: inside a header, content, padding; mid-request */
	buf_reset(&b);
	begin(&b, 1, FCGI_RESPONDER, 0);
	record(&b, FCGI_PARAMS, 1, NULL, 0);
	record(&b, FCGI_STDIN, 1, "abc", 3);
	for (n = 1; n < b.len; n++) {
		run1(U(b), n, 1, &p);
		if (p.err != FCGI_ERR_TRUNCATED)
			break;
		fcgi_free(&p);
	}
	ok(n == b.len, "every prefix of a request is truncated (%zu)", n);
	fcgi_free(&p);
	check("empty input", NULL, 0, 1, FCGI_OK, "", "", &p);
	fcgi_free(&p);
	/* a callback stops the parse; the error sticks */
	{
		struct rec r;

		buf_reset(&b);
		begin(&b, 1, FCGI_RESPONDER, 0);
		record(&b, FCGI_PARAMS, 1, NULL, 0);
		record(&b, FCGI_STDIN, 1, "abc", 3);
		memset(&r, 0, sizeof(r));
		buf_init(&r.trace, 4096);
		buf_init(&r.in, 4096);
		r.stop_in = 1;
		fcgi_init(&p, 1, &cbs, &r);
		ok(fcgi_feed(&p, b.data, b.len) == FCGI_ERR_CALLBACK &&
		    fcgi_feed(&p, "x", 1) == FCGI_ERR_CALLBACK &&
		    fcgi_finish(&p) == FCGI_ERR_CALLBACK,
		    "a callback's stop is sticky");
		fcgi_free(&p);
		rec_free(&r);
	}
	buf_free(&b);
	buf_free(&pv);
}

static void
test_encoders(void)
{
	unsigned char	 h[16];
	size_t		 i;
	int		 good;

	fcgi_header(h, FCGI_STDOUT, 0x1234, 65535, 1);
	ok(memcmp(h, "\x01\x06\x12\x34\xff\xff\x01\x00", 8) == 0,
	    "header bytes");
	fcgi_end_request(h, 7, 0x01020304ul, FCGI_REQUEST_COMPLETE);
	ok(memcmp(h, "\x01\x03\x00\x07\x00\x08\x00\x00"
	    "\x01\x02\x03\x04\x00\x00\x00\x00", 16) == 0,
	    "END_REQUEST bytes");
	good = 1;
	for (i = 0; i < 100; i++)
		if ((i + fcgi_padding(i)) % 8 != 0 || fcgi_padding(i) > 7)
			good = 0;
	ok(good, "padding brings any length to a multiple of 8");
	for (i = 0; i <= FCGI__MAX; i++)
		if (fcgi_strerror((enum fcgi_status)i) == NULL)
			good = 0;
	ok(good, "fcgi_strerror never NULL");
}

int
main(void)
{
	test_request();
	test_management();
	test_refusals();
	test_errors();
	test_encoders();
	return tap_done();
}
