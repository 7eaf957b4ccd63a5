/*
 * pdf.c - resume text from PDF bytes with poppler-glib, in this
 * process; see pdf.h.  A leaf: the child process that runs it on
 * hostile input (spawn, zygote, protocol, sandbox) is pdfchild.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <poppler.h>

#include "buf.h"
#include "pdf.h"
#include "utf8.h"

static const char *const messages[PDF__MAX] = {
	/* PDF_OK */
	"ok",
	/* PDF_ERR_NOT_PDF */
	"The uploaded file is not a PDF.",
	/* PDF_ERR_CORRUPT */
	"The PDF could not be read; it may be damaged. Upload another copy "
	"or send the resume as text.",
	/* PDF_ERR_ENCRYPTED */
	"The PDF is password-protected. Upload an unprotected copy or send "
	"the resume as text.",
	/* PDF_ERR_NO_TEXT */
	"The PDF has no extractable text (is it a scanned image?). Upload a "
	"PDF with selectable text or send the resume as text.",
	/* PDF_ERR_TIMEOUT */
	"The PDF took too long to read. Upload a simpler copy or send the "
	"resume as text.",
	/* PDF_ERR_CRASH */
	"The PDF could not be read: the reader failed on it. Upload another "
	"copy or send the resume as text.",
	/* PDF_ERR_INTERNAL */
	"The PDF could not be read because of an internal error.",
	/* PDF_ERR_BUSY */
	"The server is reading too many PDFs right now. Try again shortly "
	"or send the resume as text.",
	/* PDF_ERR_SANDBOX */
	"PDF reading is unavailable on this server. Send the resume as "
	"text.",
};

const char *
pdf_strerror(enum pdf_status s)
{
	return (unsigned)s < PDF__MAX ? messages[s] : "unknown PDF error";
}

int
pdf_magic(const void *data, size_t len)
{
	const char	*p = data;
	size_t		 i, n;

	/* Readers accept the header anywhere in the first 1024 bytes. */
	n = len < 1024 ? len : 1024;
	for (i = 0; i + 5 <= n; i++)
		if (memcmp(p + i, "%PDF-", 5) == 0)
			return 1;
	return 0;
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr(" \t\r\n\f\v", s[i]))
			return 0;
	return 1;
}

enum pdf_status
pdf_text(const void *data, size_t len, const struct pdf_limits *lim,
    struct buf *out, int *pages)
{
	GBytes		*bytes;
	GError		*gerr = NULL;
	PopplerDocument	*doc;
	PopplerPage	*page;
	char		*t;
	int		 i, n;
	size_t		 room, tl, start;
	enum pdf_status	 rc;

	*pages = 0;
	if (!pdf_magic(data, len))
		return PDF_ERR_NOT_PDF;
	bytes = g_bytes_new_static(data, len);
	doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	g_bytes_unref(bytes);
	if (doc == NULL) {
		rc = PDF_ERR_CORRUPT;
		if (gerr != NULL && gerr->domain == POPPLER_ERROR &&
		    gerr->code == POPPLER_ERROR_ENCRYPTED)
			rc = PDF_ERR_ENCRYPTED;
		g_clear_error(&gerr);
		return rc;
	}
	n = poppler_document_get_n_pages(doc);
	*pages = n;
	start = out->len;
	rc = PDF_OK;
	for (i = 0; i < n && i < lim->pages_max; i++) {
		page = poppler_document_get_page(doc, i);
		if (page == NULL)
			continue;
		t = poppler_page_get_text(page);
		g_object_unref(page);
		if (t == NULL)
			continue;
		room = lim->text_max - (out->len - start);
		tl = strlen(t);
		if (tl > room)
			tl = utf8_cut(t, room);
		if (buf_add(out, t, tl) != BUF_OK ||
		    (out->len - start < lim->text_max &&
		    buf_add(out, "\n", 1) != BUF_OK)) {
			g_free(t);
			rc = PDF_ERR_INTERNAL;
			break;
		}
		g_free(t);
		if (out->len - start >= lim->text_max)
			break;
	}
	g_object_unref(doc);
	if (rc == PDF_OK && blank(out->data + start, out->len - start))
		rc = PDF_ERR_NO_TEXT;
	return rc;
}

