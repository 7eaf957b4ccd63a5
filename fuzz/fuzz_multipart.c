/*
 * fuzz_multipart.c - libFuzzer target for the multipart/form-data parser
 * (multipart.c): mp_boundary() on a Content-Type value and mp_init(),
 * mp_feed(), mp_finish() on a body, the same entry points as
 * tests/unit_multipart.c.
 *
 * Input layout:
 *   byte 0   options: bits 0-1 pick the boundary, bit 2 reads a
 *            Content-Type line first (up to the first LF) and, if
 *            mp_boundary() accepts it, parses with its boundary;
 *            bits 3-7 pick the out buffer size for a second
 *            mp_boundary() call (a truncation check).
 *   byte 1   feed size for the chunked run (0: one byte at a time).
 *   rest     the body.
 * The body is parsed twice, whole and in chunks, each chunk copied into
 * a malloc'd buffer of exactly its size so ASan sees an overread.  Both
 * runs must give the same status and the same callback trace (hashed).
 * The callbacks check the event order: part_begin with a non-NULL name
 * and no part open, part_data and part_end only inside a part.  Any
 * broken invariant aborts, which libFuzzer reports as a crash.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Longest Content-Type line read from the input. */
#define CT_MAX		512

static const char *const bnds[4] = {
	"B",
	"------------------------d74496d66958873e",
	"a b'()+_,-./:=?",
	("0123456789012345678901234567890123456789"
	    "012345678901234567890123456789"),	/* 70, the maximum */
};

struct trace {
	uint64_t	 h;		/* FNV-1a of the callback trace */
	size_t		 nbegin;
	size_t		 nend;
	int		 open;		/* a part is begun, not ended */
};

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static void
mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		t->h ^= s[i];
		t->h *= 0x100000001b3ULL;
	}
}

static void
mixs(struct trace *t, const char *s)
{
	if (s == NULL) {
		mix(t, "\377", 1);
		return;
	}
	CHECK(strlen(s) < MJ_MP_HEADER_MAX);
	mix(t, s, strlen(s) + 1);
}

static int
on_begin(void *arg, const char *name, const char *file, const char *ct)
{
	struct trace	*t = arg;

	CHECK(name != NULL);
	CHECK(!t->open);
	CHECK(t->nbegin < MJ_MP_PARTS_MAX);
	t->open = 1;
	t->nbegin++;
	mix(t, "B", 1);
	mixs(t, name);
	mixs(t, file);
	mixs(t, ct);
	return 0;
}

static int
on_data(void *arg, const char *d, size_t len)
{
	struct trace	*t = arg;

	CHECK(t->open);
	CHECK(len > 0 && d != NULL);
	/* Data, not its split, goes into the hash. */
	mix(t, d, len);
	return 0;
}

static int
on_end(void *arg)
{
	struct trace	*t = arg;

	CHECK(t->open);
	t->open = 0;
	t->nend++;
	mix(t, "E", 1);
	return 0;
}

static const struct mp_callbacks cbs = { on_begin, on_data, on_end };

/* Feed body[0..len) in pieces of step bytes (0: whole). */
static enum mp_status
run(const char *bnd, const uint8_t *body, size_t len, size_t step,
    struct trace *t)
{
	struct mp_parser	*p;
	enum mp_status		 st, first, fin;
	size_t			 off, n;
	char			*piece;

	memset(t, 0, sizeof(*t));
	t->h = 0xcbf29ce484222325ULL;
	p = malloc(sizeof(*p));
	CHECK(p != NULL);
	mp_init(p, bnd, &cbs, t);
	first = mp_feed(p, NULL, 0);
	for (off = 0; off < len; off += n) {
		n = step == 0 || step > len - off ? len - off : step;
		piece = malloc(n);
		CHECK(piece != NULL);
		memcpy(piece, body + off, n);
		st = mp_feed(p, piece, n);
		free(piece);
		CHECK(st < MP__MAX);
		/* Errors are sticky. */
		if (first != MP_OK)
			CHECK(st == first);
		else
			first = st;
		CHECK(p->nparts <= MJ_MP_PARTS_MAX);
	}
	fin = mp_finish(p);
	if (first != MP_OK)
		CHECK(fin == first);
	CHECK(mp_finish(p) == fin);
	CHECK(fin != MP_OK || p->state == MP_S_EPILOGUE);
	CHECK(fin != MP_OK || !t->open);
	CHECK(t->nend == t->nbegin || t->nend + 1 == t->nbegin);
	CHECK(mp_strerror(fin) != NULL);
	free(p);
	return fin;
}

/* Check mp_boundary() on ct; returns its status, out as it left it. */
static enum mp_status
boundary(const char *ct, char *out, size_t outsz)
{
	enum mp_status	 st;
	size_t		 n, i;

	st = mp_boundary(ct, out, outsz);
	CHECK(st == MP_OK || st == MP_ERR_NOT_MULTIPART ||
	    st == MP_ERR_BOUNDARY);
	if (outsz == 0)
		return st;
	n = strnlen(out, outsz);
	CHECK(n < outsz);
	if (st != MP_OK) {
		CHECK(n == 0);
		return st;
	}
	CHECK(n > 0 && n <= MJ_MP_BOUNDARY_MAX && out[n - 1] != ' ');
	for (i = 0; i < n; i++)
		CHECK(out[i] != '\r' && out[i] != '\n' && out[i] != '"' &&
		    out[i] != ';' && out[i] != '\\');
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace	 t1, t2;
	enum mp_status	 s1, s2, sb;
	const uint8_t	*body, *nl;
	const char	*bnd;
	char		 ct[CT_MAX + 1], got[MJ_MP_BOUNDARY_MAX + 1];
	char		*small;
	size_t		 len, step, ctlen, smallsz;

	if (size < 2)
		return 0;
	bnd = bnds[data[0] & 3];
	step = data[1];
	smallsz = data[0] >> 3;
	body = data + 2;
	len = size - 2;

	if (data[0] & 4) {
		nl = memchr(body, '\n', len < CT_MAX ? len : CT_MAX);
		ctlen = nl == NULL ? (len < CT_MAX ? len : CT_MAX) :
		    (size_t)(nl - body);
		memcpy(ct, body, ctlen);
		ct[ctlen] = '\0';
		body += ctlen + (nl != NULL);
		len -= ctlen + (nl != NULL);
		sb = boundary(ct, got, sizeof(got));
		if (sb == MP_OK)
			bnd = got;
		/* A short out buffer: exact size, so ASan sees overflow. */
		small = malloc(smallsz > 0 ? smallsz : 1);
		CHECK(small != NULL);
		if (boundary(ct, small, smallsz) == MP_OK)
			CHECK(sb == MP_OK && strcmp(small, got) == 0);
		free(small);
		(void)boundary(ct, NULL, 0);
	}

	s1 = run(bnd, body, len, 0, &t1);
	s2 = run(bnd, body, len, step == 0 ? 1 : step, &t2);
	/* Any split gives the same status and the same trace. */
	CHECK(s1 == s2);
	CHECK(t1.h == t2.h && t1.nbegin == t2.nbegin && t1.nend == t2.nend);
	return 0;
}
