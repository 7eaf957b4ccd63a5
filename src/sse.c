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

enum sse_status
sse_frame(struct buf *out, uint64_t id, const char *type, const char *data,
    size_t len)
{
	char		 idl[32];
	enum sse_status	 rc = SSE_OK;
	size_t		 mark, i, start;
	int		 n;

	if (type == NULL || type[0] == '\0' || strpbrk(type, "\r\n:") != NULL)
		return SSE_ERR_TYPE;
	if (len == 0)
		data = "";
	mark = out->len;
	if (id != 0) {
		n = snprintf(idl, sizeof(idl), "id: %" PRIu64 "\n", id);
		rc = add(out, idl, (size_t)n);
	}
	if (rc == SSE_OK)
		rc = add(out, "event: ", 7);
	if (rc == SSE_OK)
		rc = add(out, type, strlen(type));
	if (rc == SSE_OK)
		rc = add(out, "\n", 1);
	start = 0;
	for (i = 0; rc == SSE_OK && i <= len; i++) {
		if (i < len && data[i] != '\n' && data[i] != '\r')
			continue;
		rc = add(out, "data: ", 6);
		if (rc == SSE_OK)
			rc = add(out, data + start, i - start);
		if (rc == SSE_OK)
			rc = add(out, "\n", 1);
		if (i + 1 < len && data[i] == '\r' && data[i + 1] == '\n')
			i++;
		start = i + 1;
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
