/*
 * fcgi.c - FastCGI 1.0 record and name-value parser; see fcgi.h.
 *
 * Two nested machines.  The record machine reads the 8-byte header,
 * then contentLength content bytes, then paddingLength padding bytes;
 * what the content is for (disp) is decided from the header alone, so
 * content is never buffered, except the 8 bytes of FCGI_BEGIN_REQUEST.
 * The name-value machine reads a pair's two lengths (1 byte below 128,
 * else 4 bytes with the top bit set) and then its name and value; it
 * keeps its state across records, since a PARAMS stream may split a pair
 * anywhere.  Limits are checked as soon as a pair's lengths are known,
 * before a byte of it is stored, so no length can make the arena grow
 * past MJ_FCGI_PARAMS_MAX (lengths are at most 2^31-1, and the sum is
 * computed in unsigned long long).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi.h"

/* Record machine states. */
enum { R_HEADER = 0, R_CONTENT, R_PADDING };
/* What a record's content is for. */
enum { D_SKIP = 0, D_BEGIN, D_PARAMS, D_STDIN, D_GETVALUES, D_MGMT,
    D_ABORT };
/* Name-value machine states. */
enum { NV_NLEN = 0, NV_VLEN, NV_NAME, NV_VALUE };

/* Per-pair arena overhead: the two lengths before the bytes. */
#define PAIR_HEAD	8

static const char *const errs[FCGI__MAX] = {
	"success",
	"FastCGI record with a version other than 1",
	"FastCGI record out of place or malformed",
	"FastCGI management record too large",
	"FastCGI params larger than the limit",
	"FastCGI request has too many params",
	"FastCGI param name too long",
	"FastCGI name-value pair cut short",
	"FastCGI connection ended inside a record or request",
	"out of memory",
	"FastCGI parsing was stopped by its consumer",
};

/* The variables FCGI_GET_VALUES may ask for, in answer order. */
static const char *const known[3] = {
	"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"
};

const char *
fcgi_strerror(enum fcgi_status st)
{
	if ((unsigned)st >= FCGI__MAX)
		return "unknown FastCGI error";
	return errs[st];
}

void
fcgi_init(struct fcgi_parser *p, unsigned max_conns,
    const struct fcgi_callbacks *cb, void *arg)
{
	memset(p, 0, sizeof(*p));
	if (cb != NULL)
		p->cb = *cb;
	p->arg = arg;
	p->max_conns = max_conns;
	buf_init(&p->arena, MJ_FCGI_PARAMS_MAX);
}

void
fcgi_free(struct fcgi_parser *p)
{
	buf_free(&p->arena);
	p->nparams = 0;
}

void
fcgi_header(unsigned char *out, unsigned type, unsigned id, size_t clen,
    size_t plen)
{
	out[0] = 1;
	out[1] = (unsigned char)type;
	out[2] = (unsigned char)(id >> 8);
	out[3] = (unsigned char)id;
	out[4] = (unsigned char)(clen >> 8);
	out[5] = (unsigned char)clen;
	out[6] = (unsigned char)plen;
	out[7] = 0;
}

size_t
fcgi_padding(size_t clen)
{
	return (8 - clen % 8) % 8;
}

void
fcgi_end_request(unsigned char *out, unsigned id, unsigned long app_status,
    unsigned protocol_status)
{
	fcgi_header(out, FCGI_END_REQUEST, id, 8, 0);
	out[8] = (unsigned char)(app_status >> 24);
	out[9] = (unsigned char)(app_status >> 16);
	out[10] = (unsigned char)(app_status >> 8);
	out[11] = (unsigned char)app_status;
	out[12] = (unsigned char)protocol_status;
	memset(out + 13, 0, 3);
}

static enum fcgi_status
fail(struct fcgi_parser *p, enum fcgi_status st)
{
	if (p->err == FCGI_OK)
		p->err = st;
	return p->err;
}

static enum fcgi_status
reply(struct fcgi_parser *p, const unsigned char *r, size_t n)
{
	if (p->cb.reply != NULL && p->cb.reply(p->arg, r, n) != 0)
		return fail(p, FCGI_ERR_CALLBACK);
	return FCGI_OK;
}

/* Put a length in the arena (big-endian, so it reads back portably). */
static void
put32(unsigned char *o, size_t v)
{
	o[0] = (unsigned char)(v >> 24);
	o[1] = (unsigned char)(v >> 16);
	o[2] = (unsigned char)(v >> 8);
	o[3] = (unsigned char)v;
}

static size_t
get32(const unsigned char *s)
{
	return (size_t)s[0] << 24 | (size_t)s[1] << 16 | (size_t)s[2] << 8 |
	    (size_t)s[3];
}

/* A PARAMS pair's lengths are known: check the limits, open it. */
static enum fcgi_status
pair_open(struct fcgi_parser *p)
{
	unsigned char		 h[PAIR_HEAD];
	unsigned long long	 need;

	if (p->nv.nlen > MJ_FCGI_NAME_MAX)
		return fail(p, FCGI_ERR_NAME_TOO_LONG);
	if (p->nparams >= MJ_FCGI_PARAMS_COUNT_MAX)
		return fail(p, FCGI_ERR_TOO_MANY_PARAMS);
	need = (unsigned long long)PAIR_HEAD + p->nv.nlen + p->nv.vlen + 2;
	if (need > (unsigned long long)(MJ_FCGI_PARAMS_MAX - p->arena.len))
		return fail(p, FCGI_ERR_PARAMS_TOO_BIG);
	p->pair_at = p->arena.len;
	put32(h, p->nv.nlen);
	put32(h + 4, p->nv.vlen);
	if (buf_add(&p->arena, h, sizeof(h)) != BUF_OK)
		return fail(p, FCGI_ERR_NOMEM);
	return FCGI_OK;
}

static enum fcgi_status
arena_add(struct fcgi_parser *p, const void *s, size_t n)
{
	if (buf_add(&p->arena, s, n) != BUF_OK)
		return fail(p, FCGI_ERR_NOMEM);
	return FCGI_OK;
}

/* GET_VALUES: remember a name asked for if it is one we know. */
static void
gv_pair(struct fcgi_parser *p)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (p->gnlen == strlen(known[i]) &&
		    memcmp(p->gname, known[i], p->gnlen) == 0)
			p->gmask |= 1u << i;
}

/* Name or value bytes: PARAMS into the arena, GET_VALUES names kept. */
static enum fcgi_status
nv_bytes(struct fcgi_parser *p, int gv, int name, const unsigned char *s,
    size_t k)
{
	if (!gv)
		return arena_add(p, s, k);
	if (name) {
		if (p->gnlen + k <= sizeof(p->gname))
			memcpy(p->gname + p->gnlen, s, k);
		p->gnlen += k;
	}
	return FCGI_OK;
}

/* The name or value being read is complete (or empty): on to the next. */
static enum fcgi_status
nv_part_done(struct fcgi_parser *p, struct fcgi_nv *nv, int gv)
{
	for (;;) {
		if (!gv && arena_add(p, "", 1) != FCGI_OK)
			return p->err;
		if (nv->st == NV_NAME) {
			nv->st = NV_VALUE;
			nv->left = nv->vlen;
			if (nv->left > 0)
				return FCGI_OK;
			continue;
		}
		if (gv)
			gv_pair(p);
		else
			p->nparams++;
		nv->st = NV_NLEN;
		return FCGI_OK;
	}
}

/*
 * Feed name-value bytes to nv.  gv: GET_VALUES (names into gname,
 * values dropped), else PARAMS (pairs into the arena).
 */
static enum fcgi_status
nv_feed(struct fcgi_parser *p, struct fcgi_nv *nv, int gv,
    const unsigned char *s, size_t n)
{
	size_t	 k, len;
	int	 got;

	while (n > 0) {
		if (nv->st == NV_NAME || nv->st == NV_VALUE) {
			k = n < nv->left ? n : nv->left;
			if (nv_bytes(p, gv, nv->st == NV_NAME, s, k) != FCGI_OK)
				return p->err;
			s += k;
			n -= k;
			nv->left -= k;
			if (nv->left == 0 && nv_part_done(p, nv, gv) != FCGI_OK)
				return p->err;
			continue;
		}
		/* NV_NLEN, NV_VLEN: 1 byte below 128, else 4 */
		got = 0;
		len = 0;
		if (nv->lbn == 0 && *s < 0x80) {
			len = *s;
			got = 1;
		} else {
			nv->lb[nv->lbn++] = *s;
			if (nv->lbn == 4) {
				nv->lb[0] &= 0x7f;
				len = get32(nv->lb);
				nv->lbn = 0;
				got = 1;
			}
		}
		s++;
		n--;
		if (!got)
			continue;
		if (nv->st == NV_NLEN) {
			nv->nlen = len;
			nv->st = NV_VLEN;
			continue;
		}
		nv->vlen = len;
		if (gv)
			p->gnlen = 0;
		else if (pair_open(p) != FCGI_OK)
			return p->err;
		nv->st = NV_NAME;
		nv->left = nv->nlen;
		if (nv->left == 0 && nv_part_done(p, nv, gv) != FCGI_OK)
			return p->err;
	}
	return FCGI_OK;
}

static int
nv_between(const struct fcgi_nv *nv)
{
	return nv->st == NV_NLEN && nv->lbn == 0;
}

/* Answer FCGI_GET_VALUES: each known name asked for, once. */
static enum fcgi_status
gv_answer(struct fcgi_parser *p)
{
	unsigned char	 r[FCGI_REPLY_MAX];
	char		 v[3][24];
	size_t		 n, i, nl, vl, pad;

	snprintf(v[0], sizeof(v[0]), "%u", p->max_conns);
	snprintf(v[1], sizeof(v[1]), "%u", p->max_conns);
	snprintf(v[2], sizeof(v[2]), "0");
	n = FCGI_HEADER_LEN;
	for (i = 0; i < 3; i++) {
		if (!(p->gmask & (1u << i)))
			continue;
		nl = strlen(known[i]);
		vl = strlen(v[i]);
		r[n++] = (unsigned char)nl;
		r[n++] = (unsigned char)vl;
		memcpy(r + n, known[i], nl);
		n += nl;
		memcpy(r + n, v[i], vl);
		n += vl;
	}
	pad = fcgi_padding(n - FCGI_HEADER_LEN);
	memset(r + n, 0, pad);
	fcgi_header(r, FCGI_GET_VALUES_RESULT, 0, n - FCGI_HEADER_LEN, pad);
	return reply(p, r, n + pad);
}

/* The header is complete: decide what the content is for. */
static enum fcgi_status
record_begin(struct fcgi_parser *p)
{
	if (p->hdr[0] != 1)
		return fail(p, FCGI_ERR_VERSION);
	p->type = p->hdr[1];
	p->id = (unsigned)p->hdr[2] << 8 | p->hdr[3];
	p->clen = (size_t)p->hdr[4] << 8 | p->hdr[5];
	p->plen = p->hdr[6];
	p->disp = D_SKIP;
	if (p->id == 0) {
		if (p->type != FCGI_GET_VALUES) {
			p->disp = D_MGMT;
			return FCGI_OK;
		}
		if (p->clen > MJ_FCGI_MGMT_MAX)
			return fail(p, FCGI_ERR_TOO_BIG);
		memset(&p->gv, 0, sizeof(p->gv));
		p->gmask = 0;
		p->disp = D_GETVALUES;
		return FCGI_OK;
	}
	switch (p->type) {
	case FCGI_BEGIN_REQUEST:
		if (p->clen != 8)
			return fail(p, FCGI_ERR_PROTOCOL);
		p->blen = 0;
		p->disp = D_BEGIN;
		break;
	case FCGI_ABORT_REQUEST:
		if (p->id == p->req_id)
			p->disp = D_ABORT;
		break;
	case FCGI_PARAMS:
	case FCGI_STDIN:
		/* Streams of another request id: ignored. */
		if (p->id != p->req_id)
			break;
		if (p->phase != (p->type == FCGI_PARAMS ? FCGI_P_PARAMS :
		    FCGI_P_STDIN))
			return fail(p, FCGI_ERR_PROTOCOL);
		p->disp = p->type == FCGI_PARAMS ? D_PARAMS : D_STDIN;
		break;
	default:
		break;		/* FCGI_DATA and the rest: not ours */
	}
	return FCGI_OK;
}

static enum fcgi_status
record_content(struct fcgi_parser *p, const unsigned char *s, size_t n)
{
	switch (p->disp) {
	case D_BEGIN:
		memcpy(p->body + p->blen, s, n);	/* clen is 8 */
		p->blen += n;
		return FCGI_OK;
	case D_PARAMS:
		return nv_feed(p, &p->nv, 0, s, n);
	case D_GETVALUES:
		return nv_feed(p, &p->gv, 1, s, n);
	case D_STDIN:
		if (p->cb.in != NULL && p->cb.in(p->arg, (const char *)s, n))
			return fail(p, FCGI_ERR_CALLBACK);
		return FCGI_OK;
	default:
		return FCGI_OK;
	}
}

static enum fcgi_status
record_end(struct fcgi_parser *p)
{
	unsigned char	 r[16];
	unsigned	 role;

	switch (p->disp) {
	case D_BEGIN:
		role = (unsigned)p->body[0] << 8 | p->body[1];
		if (p->phase != FCGI_P_IDLE) {
			if (p->id == p->req_id)
				return fail(p, FCGI_ERR_PROTOCOL);
			fcgi_end_request(r, p->id, 0, FCGI_CANT_MPX_CONN);
			return reply(p, r, sizeof(r));
		}
		if (role != FCGI_RESPONDER) {
			fcgi_end_request(r, p->id, 0, FCGI_UNKNOWN_ROLE);
			return reply(p, r, sizeof(r));
		}
		p->req_id = p->id;
		p->flags = p->body[2];
		p->phase = FCGI_P_PARAMS;
		if (p->cb.begin != NULL &&
		    p->cb.begin(p->arg, p->id, p->flags) != 0)
			return fail(p, FCGI_ERR_CALLBACK);
		return FCGI_OK;
	case D_ABORT:
		if (p->aborted)
			return FCGI_OK;
		p->aborted = 1;
		if (p->cb.abort != NULL && p->cb.abort(p->arg) != 0)
			return fail(p, FCGI_ERR_CALLBACK);
		return FCGI_OK;
	case D_PARAMS:
		if (p->clen > 0)
			return FCGI_OK;
		if (!nv_between(&p->nv))
			return fail(p, FCGI_ERR_PAIR);
		p->phase = FCGI_P_STDIN;
		if (p->cb.params != NULL && p->cb.params(p->arg) != 0)
			return fail(p, FCGI_ERR_CALLBACK);
		return FCGI_OK;
	case D_STDIN:
		if (p->clen > 0)
			return FCGI_OK;
		p->phase = FCGI_P_DONE;
		if (p->cb.in_end != NULL && p->cb.in_end(p->arg) != 0)
			return fail(p, FCGI_ERR_CALLBACK);
		return FCGI_OK;
	case D_GETVALUES:
		if (!nv_between(&p->gv))
			return fail(p, FCGI_ERR_PAIR);
		return gv_answer(p);
	case D_MGMT:
		fcgi_header(r, FCGI_UNKNOWN_TYPE, 0, 8, 0);
		r[8] = (unsigned char)p->type;
		memset(r + 9, 0, 7);
		return reply(p, r, sizeof(r));
	default:
		return FCGI_OK;
	}
}

/* Content is over: padding next, or the next header. */
static enum fcgi_status
content_over(struct fcgi_parser *p)
{
	if (record_end(p) != FCGI_OK)
		return p->err;
	p->left = p->plen;
	p->rst = p->plen > 0 ? R_PADDING : R_HEADER;
	p->hlen = 0;
	return FCGI_OK;
}

enum fcgi_status
fcgi_feed(struct fcgi_parser *p, const void *buf, size_t len)
{
	const unsigned char	*s = buf;
	size_t			 k;

	while (p->err == FCGI_OK && len > 0) {
		switch (p->rst) {
		case R_HEADER:
			k = FCGI_HEADER_LEN - p->hlen;
			if (k > len)
				k = len;
			memcpy(p->hdr + p->hlen, s, k);
			p->hlen += k;
			s += k;
			len -= k;
			if (p->hlen < FCGI_HEADER_LEN)
				break;
			if (record_begin(p) != FCGI_OK)
				break;
			p->left = p->clen;
			if (p->clen > 0)
				p->rst = R_CONTENT;
			else
				(void)content_over(p);
			break;
		case R_CONTENT:
			k = len < p->left ? len : p->left;
			if (record_content(p, s, k) != FCGI_OK)
				break;
			s += k;
			len -= k;
			p->left -= k;
			if (p->left == 0)
				(void)content_over(p);
			break;
		case R_PADDING:
			k = len < p->left ? len : p->left;
			s += k;
			len -= k;
			p->left -= k;
			if (p->left == 0) {
				p->rst = R_HEADER;
				p->hlen = 0;
			}
			break;
		}
	}
	return p->err;
}

enum fcgi_status
fcgi_finish(struct fcgi_parser *p)
{
	if (p->err != FCGI_OK)
		return p->err;
	if (p->rst != R_HEADER || p->hlen != 0 ||
	    p->phase == FCGI_P_PARAMS || p->phase == FCGI_P_STDIN)
		return fail(p, FCGI_ERR_TRUNCATED);
	return FCGI_OK;
}

int
fcgi_param_at(const struct fcgi_parser *p, size_t i, const char **name,
    size_t *nlen, const char **value, size_t *vlen)
{
	const unsigned char	*a = (const unsigned char *)p->arena.data;
	size_t			 off, k, nl, vl;

	if (i >= p->nparams || a == NULL)
		return -1;
	off = 0;
	for (k = 0;; k++) {
		nl = get32(a + off);
		vl = get32(a + off + 4);
		if (k == i)
			break;
		off += PAIR_HEAD + nl + vl + 2;
	}
	*name = (const char *)a + off + PAIR_HEAD;
	*nlen = nl;
	*value = (const char *)a + off + PAIR_HEAD + nl + 1;
	*vlen = vl;
	return 0;
}

const char *
fcgi_param(const struct fcgi_parser *p, const char *name)
{
	const unsigned char	*a = (const unsigned char *)p->arena.data;
	size_t			 off, k, nl, vl, want;

	if (p->phase == FCGI_P_IDLE || p->phase == FCGI_P_PARAMS ||
	    a == NULL)
		return NULL;
	want = strlen(name);
	off = 0;
	for (k = 0; k < p->nparams; k++) {
		nl = get32(a + off);
		vl = get32(a + off + 4);
		if (nl == want && memcmp(a + off + PAIR_HEAD, name, nl) == 0)
			return (const char *)a + off + PAIR_HEAD + nl + 1;
		off += PAIR_HEAD + nl + vl + 2;
	}
	return NULL;
}
