/*
 * fuzz_fcgi.c - libFuzzer target for the FastCGI record parser (fcgi.c):
 * fcgi_init(), fcgi_feed(), fcgi_finish(), fcgi_param(), the same entry
 * points as tests/unit_fcgi.c and src/fconn.c.
 *
 * Input layout:
 *   byte 0   feed size for the chunked run (0: one byte at a time).
 *   rest     the bytes a peer sends on one FastCGI connection (the seeds
 *            in tests/corpus/fcgi/ were captured from nginx, Apache
 *            mod_fcgid and mod_proxy_fcgi, and lighttpd).
 * The stream is parsed twice, whole and in chunks, each chunk copied
 * into a malloc'd buffer of exactly its size so ASan sees an overread.
 * Both runs must give the same status, the same callback trace (hashed)
 * and the same params.  Invariants checked: the arena never passes
 * MJ_FCGI_PARAMS_MAX, nparams never passes MJ_FCGI_PARAMS_COUNT_MAX,
 * every reply is one well-formed record of at most FCGI_REPLY_MAX bytes
 * padded to 8, a GET_VALUES_RESULT names each variable at most once,
 * events come in order (begin, params, stdin, end), and fcgi_param()
 * finds each stored name's first value.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

struct trace {
	uint64_t	 h;
	int		 begun, params, ended;
};

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

static int
on_begin(void *arg, unsigned id, unsigned flags)
{
	struct trace *t = arg;

	CHECK(!t->begun && id != 0);
	t->begun = 1;
	mix(t, "B", 1);
	mix(t, &id, sizeof(id));
	mix(t, &flags, sizeof(flags));
	return 0;
}

static int
on_params(void *arg)
{
	struct trace *t = arg;

	CHECK(t->begun && !t->params);
	t->params = 1;
	mix(t, "P", 1);
	return 0;
}

static int
on_in(void *arg, const char *p, size_t n)
{
	struct trace *t = arg;

	CHECK(t->params && !t->ended && n > 0);
	mix(t, p, n);		/* the bytes, not the split */
	return 0;
}

static int
on_in_end(void *arg)
{
	struct trace *t = arg;

	CHECK(t->params && !t->ended);
	t->ended = 1;
	mix(t, "E", 1);
	return 0;
}

static int
on_abort(void *arg)
{
	struct trace *t = arg;

	CHECK(t->begun);
	mix(t, "A", 1);
	return 0;
}

static int
on_reply(void *arg, const unsigned char *p, size_t n)
{
	struct trace	*t = arg;
	size_t		 clen, off, nl, vl, i, seen[3] = { 0 };
	static const char *const names[3] = {
		"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"
	};

	CHECK(n >= FCGI_HEADER_LEN && n <= FCGI_REPLY_MAX && n % 8 == 0);
	CHECK(p[0] == 1);
	clen = (size_t)p[4] << 8 | p[5];
	CHECK(FCGI_HEADER_LEN + clen + p[6] == n);
	if (p[1] == FCGI_GET_VALUES_RESULT) {
		for (off = FCGI_HEADER_LEN; off < FCGI_HEADER_LEN + clen;) {
			nl = p[off];
			vl = p[off + 1];
			CHECK(nl < 128 && vl < 128);
			for (i = 0; i < 3; i++)
				if (nl == strlen(names[i]) &&
				    memcmp(p + off + 2, names[i], nl) == 0)
					seen[i]++;
			off += 2 + nl + vl;
		}
		for (i = 0; i < 3; i++)
			CHECK(seen[i] <= 1);
	} else
		CHECK(p[1] == FCGI_END_REQUEST || p[1] == FCGI_UNKNOWN_TYPE);
	mix(t, p, n);
	return 0;
}

static const struct fcgi_callbacks cbs = {
	on_begin, on_params, on_in, on_in_end, on_abort, on_reply
};

static enum fcgi_status
parse(const uint8_t *s, size_t n, size_t chunk, struct trace *t,
    struct fcgi_parser *p)
{
	enum fcgi_status	 st;
	size_t			 off, k;
	uint8_t			*piece;

	memset(t, 0, sizeof(*t));
	t->h = 0xcbf29ce484222325ULL;
	fcgi_init(p, 100, &cbs, t);
	st = FCGI_OK;
	for (off = 0; off < n; off += k) {
		k = chunk == 0 ? n : chunk;
		if (k > n - off)
			k = n - off;
		piece = malloc(k);
		CHECK(piece != NULL);
		memcpy(piece, s + off, k);
		st = fcgi_feed(p, piece, k);
		free(piece);
		CHECK(p->arena.len <= MJ_FCGI_PARAMS_MAX);
		CHECK(p->nparams <= MJ_FCGI_PARAMS_COUNT_MAX);
		if (st != FCGI_OK)
			break;
	}
	if (st == FCGI_OK)
		st = fcgi_finish(p);
	CHECK(fcgi_strerror(st) != NULL);
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcgi_parser	 a, b;
	struct trace		 ta, tb;
	enum fcgi_status	 sa, sb;
	const char		*n, *v, *w, *n2, *v2;
	size_t			 i, nl, vl, nl2, vl2;
	char			 name[64];

	if (size < 1)
		return 0;
	sa = parse(data + 1, size - 1, 0, &ta, &a);
	sb = parse(data + 1, size - 1, data[0] == 0 ? 1 : data[0], &tb, &b);
	CHECK(sa == sb && ta.h == tb.h && a.nparams == b.nparams);
	CHECK(a.arena.len == b.arena.len && (a.arena.len == 0 ||
	    memcmp(a.arena.data, b.arena.data, a.arena.len) == 0));
	for (i = 0; i < a.nparams && a.phase >= FCGI_P_STDIN; i++) {
		CHECK(fcgi_param_at(&a, i, &n, &nl, &v, &vl) == 0);
		CHECK(nl <= MJ_FCGI_NAME_MAX && n[nl] == '\0' &&
		    v[vl] == '\0');
		if (nl >= sizeof(name) || memchr(n, '\0', nl) != NULL)
			continue;
		memcpy(name, n, nl);
		name[nl] = '\0';
		w = fcgi_param(&a, name);
		CHECK(w != NULL);
		/* the first pair of that name answers */
		CHECK(fcgi_param_at(&a, 0, &n2, &nl2, &v2, &vl2) == 0);
		CHECK(w <= v);
	}
	fcgi_free(&a);
	fcgi_free(&b);
	return 0;
}
