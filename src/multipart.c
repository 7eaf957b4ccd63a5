/*
 * multipart.c - streaming multipart/form-data parser; see multipart.h.
 *
 * Grammar (RFC 2046 §5.1.1, with RFC 7578 on top):
 *
 *   multipart-body := [preamble CRLF] dash-boundary transport-padding
 *                     CRLF body-part *encapsulation close-delimiter
 *                     transport-padding [CRLF epilogue]
 *   dash-boundary  := "--" boundary
 *   delimiter      := CRLF dash-boundary
 *   encapsulation  := delimiter transport-padding CRLF body-part
 *   close-delimiter := delimiter "--"
 *   transport-padding := *LWSP-char
 *   body-part      := MIME-part-headers [CRLF *OCTET]
 *
 * The body is scanned for "\n--boundary"; a CR just before it belongs to
 * the delimiter too, so CRLF and bare LF are both accepted.  The body is
 * treated as if it began after a LF, so a dash-boundary at offset 0
 * opens the first part.  Since a boundary never contains a LF, a failed
 * match can restart only at the byte that broke it; the bytes held back
 * are then exactly "\r" (if cr) and delim[1..m], so nothing is copied.
 */
#include "config.h"

#include <string.h>

#include "multipart.h"

static const char *const errs[MP__MAX] = {
	/* MP_OK */
	"success",
	/* MP_ERR_NOT_MULTIPART */
	"request body is not multipart/form-data",
	/* MP_ERR_BOUNDARY */
	"multipart boundary is missing, empty, too long or invalid",
	/* MP_ERR_SYNTAX */
	"malformed multipart body (bad boundary line or part header)",
	/* MP_ERR_HEADER_TOO_BIG */
	"multipart part headers are too large",
	/* MP_ERR_TOO_MANY_PARTS */
	"multipart body has too many parts",
	/* MP_ERR_NO_NAME */
	"multipart part has no form-data Content-Disposition with a name",
	/* MP_ERR_TRUNCATED */
	"multipart body ended before the closing boundary",
	/* MP_ERR_CALLBACK */
	"multipart parsing was stopped by its consumer",
};

const char *
mp_strerror(enum mp_status st)
{
	if ((unsigned)st >= MP__MAX)
		return "unknown multipart error";
	return errs[st];
}

static int
lower(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

/* Does s[0..n) equal the lowercase word w, ignoring ASCII case? */
static int
ieq(const char *s, size_t n, const char *w)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (w[i] == '\0' || lower((unsigned char)s[i]) != w[i])
			return 0;
	return w[n] == '\0';
}

static int
isows(int c)
{
	return c == ' ' || c == '\t';
}

/* RFC 7230 tchar. */
static int
istchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars. */
static int
isbchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

static int
boundary_ok(const char *b, size_t n)
{
	size_t	 i;

	if (n == 0 || n > MJ_MP_BOUNDARY_MAX || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (!isbchar((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * Read a parameter value at s[*i..n): a quoted-string or a run of bytes
 * up to ';' or whitespace.  Decoded into out (outsz bytes, NUL added) if
 * out is not NULL.  In a quoted-string a backslash escapes '"' and '\';
 * before any other byte it is kept, as browsers send Windows paths
 * unescaped.  Returns 0 on success, -1 if malformed or too long.
 */
static int
param_value(const char *s, size_t n, size_t *i, char *out, size_t outsz,
    size_t *outlen)
{
	size_t	 j, k;

	if (out != NULL && outsz == 0)
		return -1;
	j = *i;
	k = 0;
	if (j < n && s[j] == '"') {
		for (j++; j < n && s[j] != '"'; j++) {
			if (s[j] == '\\' && j + 1 < n &&
			    (s[j + 1] == '"' || s[j + 1] == '\\'))
				j++;
			if (out != NULL) {
				if (k + 1 >= outsz)
					return -1;
				out[k] = s[j];
			}
			k++;
		}
		if (j == n)
			return -1;
		j++;
	} else {
		for (; j < n && s[j] != ';' && !isows(s[j]); j++) {
			if (out != NULL) {
				if (k + 1 >= outsz)
					return -1;
				out[k] = s[j];
			}
			k++;
		}
		if (k == 0)
			return -1;
	}
	if (out != NULL)
		out[k] = '\0';
	*i = j;
	if (outlen != NULL)
		*outlen = k;
	return 0;
}

/*
 * Step to the next parameter of a "; name=value" list in s[*i..n).
 * Returns 1 with the name at s[*nm..*nm+*nmlen) and *i at its value, 0
 * at the end of the list, -1 if malformed.  Empty parameters are
 * skipped.  Shared by mp_boundary() and Content-Disposition.
 */
static int
param_next(const char *s, size_t n, size_t *i, size_t *nm, size_t *nmlen)
{
	size_t	 j;

	j = *i;
	for (;;) {
		while (j < n && isows(s[j]))
			j++;
		if (j == n) {
			*i = j;
			return 0;		/* no more */
		}
		if (s[j] != ';')
			return -1;
		j++;
		while (j < n && isows(s[j]))
			j++;
		if (j < n && s[j] != ';')
			break;
		/* empty parameter (";;" or trailing ";"): skip */
	}
	if (j == n) {
		*i = j;
		return 0;
	}
	*nm = j;
	while (j < n && istchar((unsigned char)s[j]))
		j++;
	*nmlen = j - *nm;
	while (j < n && isows(s[j]))
		j++;
	if (*nmlen == 0 || j == n || s[j] != '=')
		return -1;
	j++;
	while (j < n && isows(s[j]))
		j++;
	*i = j;
	return 1;
}

enum mp_status
mp_boundary(const char *ct, char *out, size_t outsz)
{
	size_t	 n, i, t, nm, nmlen, blen;
	int	 rc, seen;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	if (ct == NULL)
		return MP_ERR_NOT_MULTIPART;
	n = strlen(ct);
	i = 0;
	while (i < n && isows(ct[i]))
		i++;
	t = i;
	while (i < n && ct[i] != ';' && !isows(ct[i]))
		i++;
	if (!ieq(ct + t, i - t, "multipart/form-data"))
		return MP_ERR_NOT_MULTIPART;
	if (out == NULL || outsz == 0)
		return MP_ERR_BOUNDARY;
	seen = 0;
	for (;;) {
		rc = param_next(ct, n, &i, &nm, &nmlen);
		if (rc < 0)
			goto bad;
		if (rc == 0)
			break;
		if (!ieq(ct + nm, nmlen, "boundary")) {
			if (param_value(ct, n, &i, NULL, 0, NULL) < 0)
				goto bad;
			continue;
		}
		if (seen)
			goto bad;
		seen = 1;
		if (param_value(ct, n, &i, out, outsz, &blen) < 0)
			goto bad;
		if (!boundary_ok(out, blen))
			goto bad;
	}
	if (!seen)
		goto bad;
	return MP_OK;
bad:
	out[0] = '\0';
	return MP_ERR_BOUNDARY;
}

void
mp_init(struct mp_parser *p, const char *boundary,
    const struct mp_callbacks *cb, void *arg)
{
	size_t	 n;

	memset(p, 0, sizeof(*p));
	p->state = MP_S_PREAMBLE;
	p->err = MP_OK;
	if (cb != NULL)
		p->cb = *cb;
	p->arg = arg;
	n = 0;
	while (boundary != NULL && n <= MJ_MP_BOUNDARY_MAX &&
	    boundary[n] != '\0')
		n++;
	if (!boundary_ok(boundary, n)) {
		p->err = MP_ERR_BOUNDARY;
		return;
	}
	memcpy(p->delim, "\r\n--", 4);
	memcpy(p->delim + 4, boundary, n);
	p->dlen = 4 + n;
	p->delim[p->dlen] = '\0';
	/* The body starts as if after a LF: "--boundary" may come first. */
	p->m = 1;
}

static enum mp_status
fail(struct mp_parser *p, enum mp_status st)
{
	p->err = st;
	return st;
}

/* Pass part bytes on; the preamble is dropped. */
static enum mp_status
emit(struct mp_parser *p, const char *d, size_t n)
{
	if (n == 0 || p->state != MP_S_DATA || p->cb.part_data == NULL)
		return MP_OK;
	if (p->cb.part_data(p->arg, d, n) != 0)
		return fail(p, MP_ERR_CALLBACK);
	return MP_OK;
}

/* The held partial match was not a delimiter: it is data after all. */
static enum mp_status
release(struct mp_parser *p)
{
	enum mp_status	 rc;

	if (p->cr)
		rc = emit(p, p->delim, p->m + 1);
	else
		rc = emit(p, p->delim + 1, p->m);
	p->cr = 0;
	p->m = 0;
	return rc;
}

/* Copy s[0..n) NUL-terminated into the value arena. */
static const char *
save(struct mp_parser *p, size_t *vlen, const char *s, size_t n)
{
	char	*d;

	if (n + 1 > sizeof(p->val) - *vlen)
		return NULL;
	d = p->val + *vlen;
	memcpy(d, s, n);
	d[n] = '\0';
	*vlen += n + 1;
	return d;
}

/* The blank line ended the header block: check it, start the part. */
static enum mp_status
headers_done(struct mp_parser *p)
{
	const char	*s, *name, *filename, *ctype, **dst;
	size_t		 n, i, t, nm, nmlen, vlen, dlen;
	int		 rc;

	if (!p->has_cd)
		return fail(p, MP_ERR_NO_NAME);
	s = p->hdr + p->cd_off;
	n = p->cd_len;
	i = 0;
	while (i < n && istchar((unsigned char)s[i]))
		i++;
	if (!ieq(s, i, "form-data"))
		return fail(p, MP_ERR_NO_NAME);
	name = filename = ctype = NULL;
	vlen = 0;
	for (;;) {
		rc = param_next(s, n, &i, &nm, &nmlen);
		if (rc < 0)
			return fail(p, MP_ERR_SYNTAX);
		if (rc == 0)
			break;
		if (ieq(s + nm, nmlen, "name"))
			dst = &name;
		else if (ieq(s + nm, nmlen, "filename"))
			dst = &filename;
		else
			dst = NULL;
		if (dst == NULL) {
			if (param_value(s, n, &i, NULL, 0, NULL) < 0)
				return fail(p, MP_ERR_SYNTAX);
			continue;
		}
		if (*dst != NULL)
			return fail(p, MP_ERR_SYNTAX);
		t = vlen;
		if (param_value(s, n, &i, p->val + t, sizeof(p->val) - t,
		    &dlen) < 0)
			return fail(p, MP_ERR_SYNTAX);
		*dst = p->val + t;
		vlen = t + dlen + 1;
	}
	if (name == NULL)
		return fail(p, MP_ERR_NO_NAME);
	if (p->has_ct && p->ct_len > 0) {
		ctype = save(p, &vlen, p->hdr + p->ct_off, p->ct_len);
		if (ctype == NULL)
			return fail(p, MP_ERR_HEADER_TOO_BIG);
	}
	p->nparts++;
	p->inpart = 1;
	p->state = MP_S_DATA;
	p->m = 0;
	p->cr = 0;
	if (p->cb.part_begin != NULL &&
	    p->cb.part_begin(p->arg, name, filename, ctype) != 0)
		return fail(p, MP_ERR_CALLBACK);
	return MP_OK;
}

/*
 * A header line hdr[p->line..end) is complete (terminator stripped).
 * Check it and remember where the two headers we read are.
 */
static enum mp_status
header_line(struct mp_parser *p, size_t end)
{
	const char	*s;
	size_t		 n, i, v, e;
	unsigned char	 c;

	s = p->hdr + p->line;
	n = end - p->line;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, MP_ERR_SYNTAX);
	}
	/* Folded lines (obsolete, RFC 7230 §3.2.4) are refused. */
	i = 0;
	while (i < n && istchar((unsigned char)s[i]))
		i++;
	v = i;
	while (v < n && isows(s[v]))
		v++;
	if (i == 0 || v == n || s[v] != ':')
		return fail(p, MP_ERR_SYNTAX);
	e = n;
	for (v++; v < e && isows(s[v]); v++)
		continue;
	while (e > v && isows(s[e - 1]))
		e--;
	if (ieq(s, i, "content-disposition")) {
		if (p->has_cd)
			return fail(p, MP_ERR_SYNTAX);
		p->has_cd = 1;
		p->cd_off = p->line + v;
		p->cd_len = e - v;
	} else if (ieq(s, i, "content-type")) {
		if (p->has_ct)
			return fail(p, MP_ERR_SYNTAX);
		p->has_ct = 1;
		p->ct_off = p->line + v;
		p->ct_len = e - v;
	}
	return MP_OK;
}

static enum mp_status
header_byte(struct mp_parser *p, char c)
{
	size_t	 end;

	if (p->hlen == sizeof(p->hdr))
		return fail(p, MP_ERR_HEADER_TOO_BIG);
	p->hdr[p->hlen++] = c;
	if (c != '\n')
		return MP_OK;
	end = p->hlen - 1;
	if (end > p->line && p->hdr[end - 1] == '\r')
		end--;
	if (end == p->line)
		return headers_done(p);
	if (header_line(p, end) != MP_OK)
		return p->err;
	p->line = p->hlen;
	return MP_OK;
}

/* A delimiter line ended: close the open part, expect headers. */
static enum mp_status
delim_line(struct mp_parser *p)
{
	if (p->inpart) {
		p->inpart = 0;
		if (p->cb.part_end != NULL && p->cb.part_end(p->arg) != 0)
			return fail(p, MP_ERR_CALLBACK);
	}
	if (p->nparts >= MJ_MP_PARTS_MAX)
		return fail(p, MP_ERR_TOO_MANY_PARTS);
	p->state = MP_S_HEADERS;
	p->hlen = 0;
	p->line = 0;
	p->has_cd = 0;
	p->has_ct = 0;
	return MP_OK;
}

/* The close delimiter: end the open part; the rest is epilogue. */
static enum mp_status
close_delim(struct mp_parser *p)
{
	p->state = MP_S_EPILOGUE;
	if (p->inpart) {
		p->inpart = 0;
		if (p->cb.part_end != NULL && p->cb.part_end(p->arg) != 0)
			return fail(p, MP_ERR_CALLBACK);
	}
	return MP_OK;
}

/*
 * Scan preamble or part data at buf[*i..len) for the delimiter.  Returns
 * with *i advanced past what it consumed (at least one byte).
 */
static enum mp_status
scan(struct mp_parser *p, const char *buf, size_t len, size_t *ip)
{
	const char	*nl;
	size_t		 i, j, n;
	char		 c;

	i = *ip;
	if (!p->cr && p->m == 0) {
		/* Nothing held: pass on everything up to the next LF. */
		nl = memchr(buf + i, '\n', len - i);
		j = nl == NULL ? len : (size_t)(nl - buf);
		n = j - i;
		if (n > 0 && buf[j - 1] == '\r') {
			n--;
			p->cr = 1;
		}
		if (nl != NULL) {
			p->m = 1;
			j++;
		}
		*ip = j;
		return emit(p, buf + i, n);
	}
	c = buf[i];
	if (p->m == 0) {
		/* Only a CR is held. */
		if (c == '\n') {
			p->m = 1;
			*ip = i + 1;
			return MP_OK;
		}
		p->cr = 0;
		if (emit(p, "\r", 1) != MP_OK)
			return p->err;
		if (c == '\r') {
			p->cr = 1;
			*ip = i + 1;
		}
		return MP_OK;
	}
	if (c != p->delim[p->m + 1])
		return release(p);	/* c is looked at again */
	p->m++;
	*ip = i + 1;
	if (p->m + 1 == p->dlen) {
		p->m = 0;
		p->cr = 0;
		p->state = MP_S_DELIM;
	}
	return MP_OK;
}

enum mp_status
mp_feed(struct mp_parser *p, const char *buf, size_t len)
{
	size_t	 i;
	char	 c;

	if (p->err != MP_OK)
		return p->err;
	i = 0;
	while (i < len) {
		switch (p->state) {
		case MP_S_PREAMBLE:
		case MP_S_DATA:
			if (scan(p, buf, len, &i) != MP_OK)
				goto out;
			continue;
		case MP_S_EPILOGUE:
			i = len;
			continue;
		case MP_S_HEADERS:
			if (header_byte(p, buf[i++]) != MP_OK)
				goto out;
			continue;
		default:
			break;
		}
		c = buf[i++];
		switch (p->state) {
		case MP_S_DELIM:
			if (c == '-') {
				p->state = MP_S_DASH;
				break;
			}
			/* FALLTHROUGH */
		case MP_S_PAD:
			if (isows(c))
				p->state = MP_S_PAD;
			else if (c == '\r')
				p->state = MP_S_DELIM_CR;
			else if (c == '\n')
				(void)delim_line(p);
			else
				(void)fail(p, MP_ERR_SYNTAX);
			break;
		case MP_S_DELIM_CR:
			if (c == '\n')
				(void)delim_line(p);
			else
				(void)fail(p, MP_ERR_SYNTAX);
			break;
		case MP_S_DASH:
			if (c == '-')
				(void)close_delim(p);
			else
				(void)fail(p, MP_ERR_SYNTAX);
			break;
		default:
			(void)fail(p, MP_ERR_SYNTAX);	/* not reached */
			break;
		}
		if (p->err != MP_OK)
			goto out;
	}
	p->off += len;
	return MP_OK;
out:
	p->off += i;
	return p->err;
}

enum mp_status
mp_finish(struct mp_parser *p)
{
	if (p->err != MP_OK)
		return p->err;
	if (p->state != MP_S_EPILOGUE)
		return fail(p, MP_ERR_TRUNCATED);
	return MP_OK;
}
