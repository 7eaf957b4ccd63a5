/*
 * unit_multipart.c - TAP unit test of the multipart/form-data parser.
 *
 * Every body is fed whole, byte by byte and split in two at every
 * position; all runs must agree on the status and on what the callbacks
 * saw.  Each piece is copied into a malloc'd buffer of exactly its size
 * so that an overread is caught by ASan or valgrind.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "multipart.h"
#include "tap.h"

/* curl's style of boundary: 24 dashes and 16 hex digits. */
#define CB	"------------------------d74496d66958873e"
#define NPART	24
#define STRMAX	512

struct rpart {
	char		 name[STRMAX];
	char		 file[STRMAX];
	char		 ct[STRMAX];
	int		 hasfile;
	int		 hasct;
	int		 ended;
	struct buf	 data;
};

struct rec {
	struct rpart	 part[NPART];
	size_t		 n;		/* parts begun */
	int		 bad;		/* callbacks out of order */
	int		 stop_begin;	/* stop at this part_begin (1-based) */
	int		 stop_data;	/* stop at the first part_data */
	int		 stop_end;	/* stop at this part_end (1-based) */
	int		 nend;
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

static void
rec_init(struct rec *r)
{
	size_t	 i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < NPART; i++)
		buf_init(&r->part[i].data, 1024 * 1024);
}

static void
rec_free(struct rec *r)
{
	size_t	 i;

	for (i = 0; i < NPART; i++)
		buf_free(&r->part[i].data);
}

static int
rec_eq(const struct rec *a, const struct rec *b)
{
	size_t			 i;
	const struct rpart	*x, *y;

	if (a->n != b->n || a->bad != b->bad || a->nend != b->nend)
		return 0;
	for (i = 0; i < a->n && i < NPART; i++) {
		x = &a->part[i];
		y = &b->part[i];
		if (strcmp(x->name, y->name) != 0 ||
		    strcmp(x->file, y->file) != 0 ||
		    strcmp(x->ct, y->ct) != 0 ||
		    x->hasfile != y->hasfile || x->hasct != y->hasct ||
		    x->ended != y->ended ||
		    x->data.len != y->data.len ||
		    (x->data.len > 0 &&
		    memcmp(x->data.data, y->data.data, x->data.len) != 0))
			return 0;
	}
	return 1;
}

static void
copystr(char *dst, const char *s)
{
	size_t	 n;

	n = strlen(s);
	if (n >= STRMAX)
		n = STRMAX - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int
cb_begin(void *arg, const char *name, const char *file, const char *ct)
{
	struct rec	*r = arg;
	struct rpart	*p;

	if (r->n > 0 && !r->part[r->n - 1].ended)
		r->bad++;
	if (name == NULL)
		r->bad++;
	if (r->n < NPART && name != NULL) {
		p = &r->part[r->n];
		copystr(p->name, name);
		if (file != NULL) {
			p->hasfile = 1;
			copystr(p->file, file);
		}
		if (ct != NULL) {
			p->hasct = 1;
			copystr(p->ct, ct);
		}
	}
	r->n++;
	return r->stop_begin > 0 && (size_t)r->stop_begin == r->n;
}

static int
cb_data(void *arg, const char *d, size_t len)
{
	struct rec	*r = arg;

	if (r->n == 0 || len == 0 || r->part[r->n - 1].ended)
		r->bad++;
	else if (r->n <= NPART)
		put(&r->part[r->n - 1].data, d, len);
	return r->stop_data;
}

static int
cb_end(void *arg)
{
	struct rec	*r = arg;

	if (r->n == 0 || r->part[r->n - 1].ended)
		r->bad++;
	else
		r->part[r->n - 1].ended = 1;
	r->nend++;
	return r->stop_end > 0 && r->stop_end == r->nend;
}

static const struct mp_callbacks cbs = { cb_begin, cb_data, cb_end };

/* Feed in[0..len) as a freshly allocated buffer of exactly len bytes. */
static enum mp_status
feed_flush(struct mp_parser *p, const char *in, size_t len)
{
	enum mp_status	 st;
	char		*b;

	if (len == 0)
		return mp_feed(p, NULL, 0);
	b = malloc(len);
	if (b == NULL)
		abort();
	memcpy(b, in, len);
	st = mp_feed(p, b, len);
	free(b);
	return st;
}

enum mode { WHOLE, BYTES, SPLIT };

/*
 * Parse in[0..len) in pieces (whole, bytes, or two pieces cut at `cut`),
 * recording into r.  Returns the status of mp_finish(); *sticky is set
 * to 0 if an error once returned was not returned again by every later
 * call.
 */
static enum mp_status
run(struct rec *r, const char *bnd, const char *in, size_t len,
    enum mode mode, size_t cut, int *sticky)
{
	struct mp_parser	*p;
	enum mp_status		 st, first, fin;
	size_t			 off, n;

	p = malloc(sizeof(*p));
	if (p == NULL)
		abort();
	mp_init(p, bnd, &cbs, r);
	first = MP_OK;
	*sticky = 1;
	st = feed_flush(p, NULL, 0);	/* an empty feed is harmless */
	if (st != MP_OK)
		first = st;
	off = 0;
	while (off < len) {
		if (mode == WHOLE)
			n = len;
		else if (mode == BYTES)
			n = 1;
		else
			n = off < cut ? cut - off : len - off;
		st = feed_flush(p, in + off, n);
		if (first != MP_OK && st != first)
			*sticky = 0;
		if (first == MP_OK)
			first = st;
		off += n;
	}
	fin = mp_finish(p);
	if (first != MP_OK && fin != first)
		*sticky = 0;
	if (mp_finish(p) != fin)
		*sticky = 0;
	if (fin != MP_OK && mp_feed(p, "--", 2) != fin)
		*sticky = 0;
	free(p);
	return fin;
}

static void
rec_setup(struct rec *r, const struct rec *proto)
{
	rec_init(r);
	if (proto != NULL) {
		r->stop_begin = proto->stop_begin;
		r->stop_data = proto->stop_data;
		r->stop_end = proto->stop_end;
	}
}

/*
 * Run a case whole, byte by byte and at every two-piece split; check the
 * status and that all runs agree.  The whole run is left in out (caller
 * frees) if out is not NULL.  If cmp_data is 0 only statuses are
 * compared (callbacks that stop on data see different splits).
 */
static void
check(const char *what, const char *bnd, const char *in, size_t len,
    enum mp_status want, struct rec *out, const struct rec *proto,
    int cmp_data)
{
	struct rec	 whole, other;
	enum mp_status	 st, st2;
	int		 sticky, sticky2, agree, allsticky;
	size_t		 k;

	rec_setup(&whole, proto);
	st = run(&whole, bnd, in, len, WHOLE, 0, &sticky);
	ok(st == want, "%s: whole gives %s (got %s)", what,
	    mp_strerror(want), mp_strerror(st));
	ok(whole.bad == 0, "%s: callbacks in order", what);

	rec_setup(&other, proto);
	st2 = run(&other, bnd, in, len, BYTES, 0, &sticky2);
	ok(st2 == st && (!cmp_data || rec_eq(&whole, &other)),
	    "%s: byte by byte agrees", what);
	rec_free(&other);
	allsticky = sticky && sticky2;

	agree = 1;
	for (k = 1; k < len; k++) {
		rec_setup(&other, proto);
		st2 = run(&other, bnd, in, len, SPLIT, k, &sticky2);
		if (st2 != st || (cmp_data && !rec_eq(&whole, &other))) {
			if (agree)
				printf("# %s: split at %zu differs\n", what,
				    k);
			agree = 0;
		}
		if (!sticky2)
			allsticky = 0;
		rec_free(&other);
	}
	ok(agree, "%s: all %zu two-piece splits agree", what,
	    len > 0 ? len - 1 : 0);
	ok(allsticky, "%s: errors are sticky", what);
	if (out != NULL)
		*out = whole;
	else
		rec_free(&whole);
}

/* Offset just past the close delimiter, or 0 if there is none. */
static size_t
close_end(const char *bnd, const char *in, size_t len)
{
	char	 pat[MP_DELIM_MAX + 8];
	size_t	 n, i;

	n = (size_t)snprintf(pat, sizeof(pat), "--%s--", bnd);
	if (len >= n && memcmp(in, pat, n) == 0)
		return n;
	for (i = 0; i + n < len; i++)
		if (in[i] == '\n' && memcmp(in + i + 1, pat, n) == 0)
			return i + 1 + n;
	return 0;
}

/* Every prefix before the close delimiter is TRUNCATED, later ones OK. */
static void
check_prefixes(const char *what, const char *bnd, const char *in,
    size_t len)
{
	struct rec		 r;
	struct mp_parser	*p;
	enum mp_status		 st, want;
	size_t			 k, ce;
	int			 good;

	ce = close_end(bnd, in, len);
	good = ce > 0;
	p = malloc(sizeof(*p));
	if (p == NULL)
		abort();
	for (k = 0; k <= len && good; k++) {
		rec_init(&r);
		mp_init(p, bnd, &cbs, &r);
		st = feed_flush(p, in, k);
		if (st == MP_OK)
			st = mp_finish(p);
		want = k < ce ? MP_ERR_TRUNCATED : MP_OK;
		if (st != want) {
			printf("# %s: prefix %zu gives %s\n", what, k,
			    mp_strerror(st));
			good = 0;
		}
		if (r.bad)
			good = 0;
		rec_free(&r);
	}
	free(p);
	ok(good, "%s: the %zu proper prefixes before the close delimiter "
	    "are truncated", what, ce);
}

static int
part_is(const struct rec *r, size_t i, const char *name, const char *file,
    const char *ct, const char *data, size_t dlen)
{
	const struct rpart	*p;

	if (i >= r->n)
		return 0;
	p = &r->part[i];
	if (strcmp(p->name, name) != 0 || !p->ended)
		return 0;
	if ((file == NULL) != !p->hasfile ||
	    (file != NULL && strcmp(p->file, file) != 0))
		return 0;
	if ((ct == NULL) != !p->hasct ||
	    (ct != NULL && strcmp(p->ct, ct) != 0))
		return 0;
	return p->data.len == dlen &&
	    (dlen == 0 || memcmp(p->data.data, data, dlen) == 0);
}

/* A valid case: full checks plus prefixes; r keeps the whole run. */
static void
valid(const char *what, const char *bnd, const struct buf *in,
    struct rec *r)
{
	check(what, bnd, in->data, in->len, MP_OK, r, NULL, 1);
	check_prefixes(what, bnd, in->data, in->len);
}

static void
invalid(const char *what, const char *bnd, const char *in, size_t len,
    enum mp_status want)
{
	check(what, bnd, in, len, want, NULL, NULL, 1);
}

static void
invalids(const char *what, const char *in, enum mp_status want)
{
	invalid(what, "B", in, strlen(in), want);
}

static void
test_boundary(void)
{
	static const struct {
		const char	*ct;
		enum mp_status	 want;
		const char	*b;
	} t[] = {
		{ "multipart/form-data; boundary=abc", MP_OK, "abc" },
		{ "multipart/form-data; boundary=" CB, MP_OK, CB },
		{ "multipart/form-data; boundary=\"a b:c?\"", MP_OK,
		    "a b:c?" },
		{ "Multipart/Form-Data; charset=utf-8; BOUNDARY=xyz",
		    MP_OK, "xyz" },
		{ "multipart/form-data;boundary=xyz;charset=utf-8",
		    MP_OK, "xyz" },
		{ "  multipart/form-data ;\tboundary = \"q\" ; a=b ",
		    MP_OK, "q" },
		{ "multipart/form-data; x=\"a;boundary=bad\"; boundary=ok",
		    MP_OK, "ok" },
		{ "multipart/form-data; boundary=\"a\\.b\"", MP_ERR_BOUNDARY,
		    "" },
		{ "multipart/form-data; boundary=\"a\\\"b\"",
		    MP_ERR_BOUNDARY, "" },
		{ "multipart/form-data", MP_ERR_BOUNDARY, "" },
		{ "multipart/form-data; charset=utf-8", MP_ERR_BOUNDARY, "" },
		{ "multipart/form-data; boundary=", MP_ERR_BOUNDARY, "" },
		{ "multipart/form-data; boundary=\"\"", MP_ERR_BOUNDARY, "" },
		{ "multipart/form-data; boundary=\"abc", MP_ERR_BOUNDARY,
		    "" },
		{ "multipart/form-data; boundary=a@b", MP_ERR_BOUNDARY, "" },
		{ "multipart/form-data; boundary=\"ab \"", MP_ERR_BOUNDARY,
		    "" },
		{ "multipart/form-data; boundary=a; boundary=b",
		    MP_ERR_BOUNDARY, "" },
		{ "multipart/form-data; garbage", MP_ERR_BOUNDARY, "" },
		{ "multipart/form-data boundary=a", MP_ERR_BOUNDARY, "" },
		{ "application/json", MP_ERR_NOT_MULTIPART, "" },
		{ "multipart/mixed; boundary=x", MP_ERR_NOT_MULTIPART, "" },
		{ "multipart/form-datax; boundary=x", MP_ERR_NOT_MULTIPART,
		    "" },
		{ "", MP_ERR_NOT_MULTIPART, "" },
	};
	char		 out[MJ_MP_BOUNDARY_MAX + 1], ct[200], b70[71];
	size_t		 i;
	enum mp_status	 st;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, 'x', sizeof(out));
		st = mp_boundary(t[i].ct, out, sizeof(out));
		ok(st == t[i].want && strcmp(out, t[i].b) == 0,
		    "mp_boundary(%s) = %s \"%s\"", t[i].ct,
		    mp_strerror(st), out);
	}
	ok(mp_boundary(NULL, out, sizeof(out)) == MP_ERR_NOT_MULTIPART,
	    "mp_boundary(NULL) is not multipart");

	memset(b70, 'a', 70);
	b70[70] = '\0';
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b70);
	st = mp_boundary(ct, out, sizeof(out));
	ok(st == MP_OK && strcmp(out, b70) == 0, "70-byte boundary is OK");
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%sa", b70);
	ok(mp_boundary(ct, out, sizeof(out)) == MP_ERR_BOUNDARY &&
	    out[0] == '\0', "71-byte boundary is refused");
	ok(mp_boundary("multipart/form-data; boundary=abcd", out, 4) ==
	    MP_ERR_BOUNDARY, "boundary not fitting outsz is refused");
	ok(mp_boundary("multipart/form-data; boundary=abc", out, 4) ==
	    MP_OK && strcmp(out, "abc") == 0, "boundary fitting exactly");
}

/* The PDF bytes: binary, NULs, lone CRs and boundary look-alikes. */
static void
make_pdf(struct buf *b)
{
	size_t	 i;
	char	 c;

	puts_(b, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
	put(b, "\0\0\0obj\0", 8);
	/* the whole delimiter minus its last byte, then another byte */
	puts_(b, "\r\n--");
	put(b, CB, strlen(CB) - 1);
	puts_(b, "Z\r\n");
	/* a dash-boundary not preceded by a line end */
	puts_(b, "x--" CB "\r\n");
	puts_(b, "\r--" CB "--\r\n");
	/* more dashes than the boundary starts with */
	puts_(b, "\r\n----------------------------------------x\n");
	puts_(b, "\r\r\n-\n-\n--\r\n--\r\r\r");
	for (i = 0; i < 256; i++) {
		c = (char)i;
		put(b, &c, 1);
	}
	puts_(b, "\nendstream\r\n%%EOF\r\n");
}

static void
test_curl(void)
{
	struct buf	 body, pdf;
	struct rec	 r;
	const char	*json;

	json = "{\"user_id\":\"u1\",\"jobs\":[{\"title\":\"C dev\","
	    "\"link\":\"https://example.com/1\"}]}";
	buf_init(&body, 1024 * 1024);
	buf_init(&pdf, 1024 * 1024);
	make_pdf(&pdf);
	puts_(&body, "--" CB "\r\n"
	    "Content-Disposition: form-data; name=\"json_body\"\r\n"
	    "\r\n");
	puts_(&body, json);
	puts_(&body, "\r\n--" CB "\r\n"
	    "Content-Disposition: form-data; name=\"pdf_file\"; "
	    "filename=\"resume.pdf\"\r\n"
	    "Content-Type: application/pdf\r\n"
	    "\r\n");
	put(&body, pdf.data, pdf.len);
	puts_(&body, "\r\n--" CB "--\r\n");

	valid("curl body", CB, &body, &r);
	ok(r.n == 2 && r.nend == 2, "curl body: two parts");
	ok(part_is(&r, 0, "json_body", NULL, NULL, json, strlen(json)),
	    "curl body: json_body field, no filename or type, exact bytes");
	ok(part_is(&r, 1, "pdf_file", "resume.pdf", "application/pdf",
	    pdf.data, pdf.len),
	    "curl body: pdf_file with filename, type and exact %zu bytes",
	    pdf.len);
	rec_free(&r);
	buf_free(&pdf);
	buf_free(&body);
}

static void
test_framing(void)
{
	static const char lookalike[] =
	    "x--B\r--B\r\n--C\r\n-B\r\n--\r\n--b\r";
	struct buf	 b;
	struct rec	 r;

	/* Preamble (with look-alikes mid-line) and epilogue. */
	buf_init(&b, 65536);
	puts_(&b, "This is the preamble --B with --B--\r\n"
	    "and lines\r\n\r\n"
	    "--B\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "one\r\n--B--\r\nepilogue\r\n--B\r\ngarbage --B-- \r\n");
	valid("preamble and epilogue", "B", &b, &r);
	ok(r.n == 1 && part_is(&r, 0, "a", NULL, NULL, "one", 3),
	    "preamble and epilogue: one part \"one\"");
	rec_free(&r);

	/* Transport padding after delimiters. */
	buf_reset(&b);
	puts_(&b, "--B \t \r\nContent-Disposition: form-data; name=a\r\n"
	    "\r\n1\r\n--B\t\r\nContent-Disposition: form-data; name=b\r\n"
	    "\r\n2\r\n--B-- \t\r\n");
	valid("transport padding", "B", &b, &r);
	ok(r.n == 2 && part_is(&r, 0, "a", NULL, NULL, "1", 1) &&
	    part_is(&r, 1, "b", NULL, NULL, "2", 1),
	    "transport padding: parts a=1, b=2");
	rec_free(&r);

	/* Bare LF everywhere. */
	buf_reset(&b);
	puts_(&b, "--B\nContent-Disposition: form-data; name=a\n\n"
	    "hello\r\n\n--B\ncontent-disposition: form-data; name=b\n\n"
	    "x\n--B--");
	valid("bare LF", "B", &b, &r);
	ok(r.n == 2 && part_is(&r, 0, "a", NULL, NULL, "hello\r\n", 7) &&
	    part_is(&r, 1, "b", NULL, NULL, "x", 1),
	    "bare LF: lines accepted, CR kept in data before a LF");
	rec_free(&r);

	/* Empty bodies and no parts at all. */
	buf_reset(&b);
	puts_(&b, "--B\r\nContent-Disposition: form-data; name=e\r\n\r\n"
	    "\r\n--B\r\nContent-Disposition: form-data; name=f\r\n\r\n"
	    "\r\n\r\n--B--");
	valid("empty parts", "B", &b, &r);
	ok(r.n == 2 && part_is(&r, 0, "e", NULL, NULL, "", 0) &&
	    part_is(&r, 1, "f", NULL, NULL, "\r\n", 2),
	    "empty parts: \"\" and CRLF");
	rec_free(&r);

	buf_reset(&b);
	puts_(&b, "--B--\r\n");
	valid("no parts", "B", &b, &r);
	ok(r.n == 0, "no parts: no callbacks");
	rec_free(&r);

	/* Boundary look-alikes in data. */
	buf_reset(&b);
	puts_(&b, "--B\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "x--B\r--B\r\n--C\r\n-B\r\n--\r\n--b\r\r\n--B--");
	valid("look-alikes", "B", &b, &r);
	ok(r.n == 1 && part_is(&r, 0, "a", NULL, NULL, lookalike,
	    strlen(lookalike)),
	    "look-alikes: passed through as data");
	rec_free(&r);

	/* Header variants. */
	buf_reset(&b);
	puts_(&b, "--B\r\n"
	    "CONTENT-DISPOSITION :FORM-DATA;FILENAME=\"C:\\dir\\a.txt\";"
	    "NAME=\"q\\\"x\\\\y\"\r\n"
	    "X-Other: ignored; name=\"no\"\r\n"
	    "Content-Transfer-Encoding: binary\r\n"
	    "content-type:   text/plain; charset=utf-8  \r\n\r\n"
	    "v\r\n--B\r\n"
	    "Content-Disposition: form-data; filename*=UTF-8''r%C3%A9.pdf;"
	    " name=\"f\"; filename=\"r\xc3\xa9sum\xc3\xa9 (1).pdf\"; x=y;"
	    "\r\n\r\n"
	    "w\r\n--B\r\n"
	    "Content-Disposition: form-data; name=\"\"; filename=\"\"\r\n"
	    "Content-Type:\r\n\r\n"
	    "z\r\n--B--\r\n");
	valid("header variants", "B", &b, &r);
	ok(r.n == 3 && part_is(&r, 0, "q\"x\\y", "C:\\dir\\a.txt",
	    "text/plain; charset=utf-8", "v", 1),
	    "header variants: case, order, escapes, Windows path, "
	    "trimmed type");
	ok(part_is(&r, 1, "f", "r\xc3\xa9sum\xc3\xa9 (1).pdf", NULL, "w", 1),
	    "header variants: filename* ignored, UTF-8 filename kept");
	ok(part_is(&r, 2, "", "", NULL, "z", 1),
	    "header variants: empty name and filename, empty type is NULL");
	rec_free(&r);
	buf_free(&b);
}

static void
test_errors(void)
{
	struct rec	 proto, r;
	struct buf	 b;
	size_t		 i, n;
	char		 big[MJ_MP_BOUNDARY_MAX + 2];
	const char	*cd = "Content-Disposition: form-data; name=a\r\n";
	static const char nulhdr[] = "--B\r\nContent-Disposition: "
	    "form-data; name=a\0\r\n\r\nx\r\n--B--";

	invalids("junk after boundary", "--Bx\r\n", MP_ERR_SYNTAX);
	invalids("junk after data delimiter",
	    "--B\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "data\r\n--Bjunk\r\n--B--", MP_ERR_SYNTAX);
	invalids("single dash after boundary", "--B-x\r\n", MP_ERR_SYNTAX);
	invalids("junk after padding", "--B \tx\r\n", MP_ERR_SYNTAX);
	invalids("CR without LF after boundary", "--B\rx", MP_ERR_SYNTAX);
	invalids("header without colon",
	    "--B\r\nContent-Disposition form-data\r\n\r\nx\r\n--B--",
	    MP_ERR_SYNTAX);
	invalids("no blank line after headers",
	    "--B\r\nContent-Disposition: form-data; name=a\r\nhello\r\n"
	    "--B--\r\n", MP_ERR_SYNTAX);
	invalids("folded header",
	    "--B\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\n"
	    "x\r\n--B--", MP_ERR_SYNTAX);
	invalid("NUL in header", "B", nulhdr, sizeof(nulhdr) - 1,
	    MP_ERR_SYNTAX);
	invalids("CR inside a header line",
	    "--B\r\nContent-Disposition: form-data;\r name=a\r\n\r\n"
	    "x\r\n--B--", MP_ERR_SYNTAX);
	invalids("unterminated quote",
	    "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"
	    "x\r\n--B--", MP_ERR_SYNTAX);
	invalids("junk after a parameter",
	    "--B\r\nContent-Disposition: form-data; name=\"a\" junk\r\n"
	    "\r\nx\r\n--B--", MP_ERR_SYNTAX);
	invalids("parameter without value",
	    "--B\r\nContent-Disposition: form-data; name\r\n\r\n"
	    "x\r\n--B--", MP_ERR_SYNTAX);
	invalids("repeated name",
	    "--B\r\nContent-Disposition: form-data; name=a; name=b\r\n"
	    "\r\nx\r\n--B--", MP_ERR_SYNTAX);
	invalids("repeated Content-Disposition",
	    "--B\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Disposition: form-data; name=b\r\n\r\nx\r\n--B--",
	    MP_ERR_SYNTAX);
	invalids("repeated Content-Type",
	    "--B\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Type: a/b\r\ncontent-type: c/d\r\n\r\nx\r\n--B--",
	    MP_ERR_SYNTAX);

	invalids("no Content-Disposition",
	    "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",
	    MP_ERR_NO_NAME);
	invalids("attachment disposition",
	    "--B\r\nContent-Disposition: attachment; name=a\r\n\r\n"
	    "x\r\n--B--", MP_ERR_NO_NAME);
	invalids("form-data without name",
	    "--B\r\nContent-Disposition: form-data; filename=a.pdf\r\n\r\n"
	    "x\r\n--B--", MP_ERR_NO_NAME);
	invalids("form-data-x type",
	    "--B\r\nContent-Disposition: form-data-x; name=a\r\n\r\n"
	    "x\r\n--B--", MP_ERR_NO_NAME);
	invalids("second part without name",
	    "--B\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "x\r\n--B\r\nContent-Disposition: form-data\r\n\r\ny\r\n--B--",
	    MP_ERR_NO_NAME);

	invalids("empty body", "", MP_ERR_TRUNCATED);
	invalids("preamble only", "no boundary here\r\n--C--\r\n",
	    MP_ERR_TRUNCATED);
	invalids("boundary is case-sensitive", "--b--\r\n",
	    MP_ERR_TRUNCATED);
	invalids("no close delimiter",
	    "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B",
	    MP_ERR_TRUNCATED);

	/* Bad boundaries given to mp_init. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	invalid("NULL boundary", NULL, "--B--", 5, MP_ERR_BOUNDARY);
	invalid("empty boundary", "", "----", 4, MP_ERR_BOUNDARY);
	invalid("71-byte boundary", big, "--B--", 5, MP_ERR_BOUNDARY);
	invalid("boundary with CRLF", "a\r\nb", "--a\r\nb--", 9,
	    MP_ERR_BOUNDARY);
	invalid("boundary ending in space", "ab ", "--ab --", 7,
	    MP_ERR_BOUNDARY);
	big[MJ_MP_BOUNDARY_MAX] = '\0';
	buf_init(&b, 65536);
	puts_(&b, "--");
	puts_(&b, big);
	puts_(&b, "--");
	valid("70-byte boundary", big, &b, &r);
	rec_free(&r);

	/* Part limit: MJ_MP_PARTS_MAX parts pass, one more fails. */
	buf_reset(&b);
	for (i = 0; i < MJ_MP_PARTS_MAX; i++) {
		puts_(&b, "--B\r\n");
		puts_(&b, cd);
		puts_(&b, "\r\nv\r\n");
	}
	n = b.len;
	puts_(&b, "--B--");
	valid("MJ_MP_PARTS_MAX parts", "B", &b, &r);
	ok(r.n == MJ_MP_PARTS_MAX, "%d parts delivered", MJ_MP_PARTS_MAX);
	rec_free(&r);
	b.len = n;
	puts_(&b, "--B\r\n");
	puts_(&b, cd);
	puts_(&b, "\r\nv\r\n--B--");
	check("one part too many", "B", b.data, b.len,
	    MP_ERR_TOO_MANY_PARTS, &r, NULL, 1);
	ok(r.n == MJ_MP_PARTS_MAX && r.nend == MJ_MP_PARTS_MAX,
	    "one part too many: the first %d parts were delivered whole",
	    MJ_MP_PARTS_MAX);
	rec_free(&r);

	/* Header block limit: exactly MJ_MP_HEADER_MAX passes. */
	buf_reset(&b);
	puts_(&b, "--B\r\n");
	puts_(&b, cd);
	puts_(&b, "X-Pad: ");
	/* 5 + 40 + 7 so far; the header block ends with "\r\n\r\n". */
	while (b.len < 5 + MJ_MP_HEADER_MAX - 4)
		puts_(&b, "p");
	puts_(&b, "\r\n\r\nv\r\n--B--");
	valid("header block at the limit", "B", &b, &r);
	ok(r.n == 1 && part_is(&r, 0, "a", NULL, NULL, "v", 1),
	    "header block at the limit: part delivered");
	rec_free(&r);
	buf_reset(&b);
	puts_(&b, "--B\r\n");
	puts_(&b, cd);
	puts_(&b, "X-Pad: ");
	while (b.len < 5 + MJ_MP_HEADER_MAX - 3)
		puts_(&b, "p");
	puts_(&b, "\r\n\r\nv\r\n--B--");
	invalid("header block one byte over", "B", b.data, b.len,
	    MP_ERR_HEADER_TOO_BIG);
	buf_reset(&b);
	puts_(&b, "--B\r\n");
	while (b.len < 3 * MJ_MP_HEADER_MAX)
		puts_(&b, "X-A: b\r\n");
	invalid("endless header block", "B", b.data, b.len,
	    MP_ERR_HEADER_TOO_BIG);

	/* Callbacks stopping the parse. */
	buf_reset(&b);
	puts_(&b, "--B\r\n");
	puts_(&b, cd);
	puts_(&b, "\r\none\r\n--B\r\n");
	puts_(&b, cd);
	puts_(&b, "\r\ntwo\r\n--B--");
	memset(&proto, 0, sizeof(proto));
	proto.stop_begin = 1;
	check("stop at first part_begin", "B", b.data, b.len,
	    MP_ERR_CALLBACK, &r, &proto, 1);
	ok(r.n == 1 && r.nend == 0 && r.part[0].data.len == 0,
	    "stop at first part_begin: nothing after it");
	rec_free(&r);
	proto.stop_begin = 2;
	check("stop at second part_begin", "B", b.data, b.len,
	    MP_ERR_CALLBACK, &r, &proto, 1);
	ok(r.n == 2 && r.nend == 1 && part_is(&r, 0, "a", NULL, NULL,
	    "one", 3), "stop at second part_begin: first part whole");
	rec_free(&r);
	proto.stop_begin = 0;
	proto.stop_data = 1;
	check("stop at part_data", "B", b.data, b.len, MP_ERR_CALLBACK,
	    &r, &proto, 0);
	ok(r.n == 1 && r.nend == 0 && r.part[0].data.len > 0,
	    "stop at part_data: no part_end, no second part");
	rec_free(&r);
	proto.stop_data = 0;
	proto.stop_end = 2;
	check("stop at last part_end", "B", b.data, b.len,
	    MP_ERR_CALLBACK, &r, &proto, 1);
	ok(r.n == 2 && r.nend == 2, "stop at last part_end: both parts");
	rec_free(&r);
	buf_free(&b);
}

/* Sticky errors and NULL callbacks, directly. */
static void
test_sticky(void)
{
	struct mp_parser	*p;
	const char		*good = "--B\r\nContent-Disposition: "
	    "form-data; name=a\r\n\r\nx\r\n--B--";

	p = malloc(sizeof(*p));
	if (p == NULL)
		abort();
	mp_init(p, "B", NULL, NULL);
	ok(mp_feed(p, good, strlen(good)) == MP_OK &&
	    mp_finish(p) == MP_OK, "NULL callbacks parse a valid body");
	ok(mp_feed(p, "\r\n--junk", 8) == MP_OK && mp_finish(p) == MP_OK,
	    "epilogue after mp_finish is still ignored");

	mp_init(p, "B", NULL, NULL);
	ok(mp_feed(p, "--Bx", 4) == MP_ERR_SYNTAX, "syntax error seen");
	ok(mp_feed(p, good, strlen(good)) == MP_ERR_SYNTAX &&
	    mp_feed(p, NULL, 0) == MP_ERR_SYNTAX &&
	    mp_finish(p) == MP_ERR_SYNTAX, "syntax error sticks");

	mp_init(p, "B", NULL, NULL);
	ok(mp_feed(p, good, 10) == MP_OK &&
	    mp_finish(p) == MP_ERR_TRUNCATED, "truncated at finish");
	ok(mp_feed(p, good + 10, strlen(good) - 10) == MP_ERR_TRUNCATED &&
	    mp_finish(p) == MP_ERR_TRUNCATED, "truncation sticks");
	free(p);
}

static void
test_strerror(void)
{
	int		 i, j, good;
	const char	*a;

	good = 1;
	for (i = 0; i < MP__MAX; i++) {
		a = mp_strerror((enum mp_status)i);
		if (a == NULL || a[0] == '\0')
			good = 0;
		for (j = 0; j < i && good; j++)
			if (strcmp(a, mp_strerror((enum mp_status)j)) == 0)
				good = 0;
	}
	ok(good, "mp_strerror: a distinct message for each status");
	ok(strstr(mp_strerror(MP_ERR_TRUNCATED), "closing boundary") != NULL,
	    "mp_strerror(MP_ERR_TRUNCATED) mentions the closing boundary");
	a = mp_strerror(MP__MAX);
	ok(a != NULL && a[0] != '\0', "mp_strerror(MP__MAX) is a message");
}

/*
 * Mutated bodies: whatever the bytes, whole and byte by byte agree and
 * nothing reads out of bounds.
 */
static void
test_mutations(void)
{
	static const char	 alpha[] = "\r\n-B \t\";=:\0x";
	struct buf		 base, b;
	struct rec		 r1, r2;
	enum mp_status		 s1, s2;
	unsigned long		 seed;
	size_t			 i, k, pos;
	int			 sticky, good, statuses[MP__MAX];

	buf_init(&base, 65536);
	buf_init(&b, 65536);
	puts_(&base, "pre\r\n--B \r\nContent-Disposition: form-data; "
	    "name=\"a\"; filename=\"f\"\r\nContent-Type: t/t\r\n\r\n"
	    "x\r\n--\r\n--B\r\ncontent-disposition: form-data;name=b\n\n"
	    "\r\n\r\n--B--\r\nepi");
	memset(statuses, 0, sizeof(statuses));
	seed = 12345;
	good = 1;
	for (i = 0; i < 3000; i++) {
		buf_reset(&b);
		put(&b, base.data, base.len);
		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			pos = (seed >> 8) % b.len;
			seed = seed * 1103515245 + 12345;
			b.data[pos] = alpha[(seed >> 8) % (sizeof(alpha) - 1)];
		}
		rec_init(&r1);
		rec_init(&r2);
		s1 = run(&r1, "B", b.data, b.len, WHOLE, 0, &sticky);
		if (!sticky)
			good = 0;
		s2 = run(&r2, "B", b.data, b.len, BYTES, 0, &sticky);
		if (!sticky || s1 != s2 || !rec_eq(&r1, &r2) || r1.bad)
			good = 0;
		statuses[s1]++;
		rec_free(&r1);
		rec_free(&r2);
	}
	ok(good, "3000 mutated bodies: whole and byte by byte agree");
	ok(statuses[MP_OK] > 0 && statuses[MP_ERR_SYNTAX] > 0 &&
	    statuses[MP_ERR_TRUNCATED] > 0,
	    "mutations reach OK (%d), SYNTAX (%d) and TRUNCATED (%d)",
	    statuses[MP_OK], statuses[MP_ERR_SYNTAX],
	    statuses[MP_ERR_TRUNCATED]);
	buf_free(&base);
	buf_free(&b);
}

int
main(void)
{
	test_boundary();
	test_curl();
	test_framing();
	test_errors();
	test_sticky();
	test_strerror();
	test_mutations();
	return tap_done();
}
