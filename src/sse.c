/*
 * sse.c - Server-Sent Events frame writer; see sse.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "sse.h"

static const char *const errs[SSE__MAX] = {
	"ok",					/* SSE_OK */
	"bad SSE event type",			/* SSE_ERR_TYPE */
	"SSE comment holds a line break",	/* SSE_ERR_TEXT */
	"SSE frame too big",			/* SSE_ERR_TOO_BIG */
	"out of memory",			/* SSE_ERR_NOMEM */
};

static enum sse_status
from_buf(enum buf_status rc)
{
	if (rc == BUF_OK)
		return SSE_OK;
	if (rc == BUF_TOO_BIG)
		return SSE_ERR_TOO_BIG;
	return SSE_ERR_NOMEM;
}

/* Undo a partly written frame: out goes back to len bytes. */
static void
rollback(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
}

static enum sse_status
add(struct buf *out, const char *p, size_t n)
{
	return from_buf(buf_add(out, p, n));
}

/* The end of the line that starts at p (its first CR or LF), or e. */
static const char *
line_end(const char *p, const char *e)
{
	const char	*lf, *cr;

	lf = memchr(p, '\n', (size_t)(e - p));
	cr = memchr(p, '\r', (size_t)((lf != NULL ? lf : e) - p));
	return cr != NULL ? cr : lf != NULL ? lf : e;
}

enum sse_status
sse_frame(struct buf *out, uint64_t id, const char *type, const char *data,
    size_t len)
{
	char		 idl[32];
	enum sse_status	 rc = SSE_OK;
	const char	*p, *e, *eol;
	size_t		 mark, k;

	if (type == NULL || type[0] == '\0' || strpbrk(type, "\r\n:") != NULL)
		return SSE_ERR_TYPE;
	if (len == 0)
		data = "";
	mark = out->len;
	if (id != 0) {
		/* "id: <n>\n", written backwards from the end of idl. */
		k = sizeof(idl);
		idl[--k] = '\n';
		do
			idl[--k] = (char)('0' + id % 10);
		while ((id /= 10) > 0);
		k -= 4;
		memcpy(idl + k, "id: ", 4);
		rc = add(out, idl + k, sizeof(idl) - k);
	}
	if (rc == SSE_OK)
		rc = add(out, "event: ", 7);
	if (rc == SSE_OK)
		rc = add(out, type, strlen(type));
	if (rc == SSE_OK)
		rc = add(out, "\n", 1);
	/* One data: line per line of data (LF, CRLF or CR ends one). */
	p = data;
	e = data + len;
	while (rc == SSE_OK) {
		eol = line_end(p, e);
		rc = add(out, "data: ", 6);
		if (rc == SSE_OK)
			rc = add(out, p, (size_t)(eol - p));
		if (rc == SSE_OK)
			rc = add(out, "\n", 1);
		if (eol == e)
			break;
		if (*eol == '\r' && eol + 1 < e && eol[1] == '\n')
			eol++;
		p = eol + 1;
	}
	if (rc == SSE_OK)
		rc = add(out, "\n", 1);
	if (rc != SSE_OK)
		rollback(out, mark);
	return rc;
}

enum sse_status
sse_comment(struct buf *out, const char *text)
{
	enum sse_status	 rc;
	size_t		 mark;

	if (strpbrk(text, "\r\n") != NULL)
		return SSE_ERR_TEXT;
	mark = out->len;
	rc = add(out, ": ", 2);
	if (rc == SSE_OK)
		rc = add(out, text, strlen(text));
	if (rc == SSE_OK)
		rc = add(out, "\n\n", 2);
	if (rc != SSE_OK)
		rollback(out, mark);
	return rc;
}

const char *
sse_strerror(enum sse_status rc)
{
	if ((unsigned)rc >= SSE__MAX)
		return "unknown SSE error";
	return errs[rc];
}
