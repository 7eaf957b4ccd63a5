/*
 * pdf.c - resume text from PDF bytes with poppler-glib, in this
 * process; see pdf.h.  A leaf: the child process that runs it on
 * hostile input (spawn, zygote, protocol, sandbox) is pdfchild.c.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <poppler.h>

#include "bounds.h"
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
	/* PDF_ERR_DOCX_NOT_WORD */
	"The uploaded file is a zip archive but not a Word document (it has "
	"no word/document.xml). Upload a .docx, a PDF or plain text.",
	/* PDF_ERR_DOCX_CORRUPT */
	"The Word document could not be read; it may be damaged. Upload "
	"another copy, a PDF or plain text.",
	/* PDF_ERR_DOCX_TOO_BIG */
	"The Word document unpacks to more than this server reads. Upload a "
	"smaller copy, a PDF or plain text.",
	/* PDF_ERR_DOCX_NO_TEXT */
	"The Word document has no text. Upload one with text, a PDF or "
	"plain text.",
};

const char *
pdf_strerror(enum pdf_status s)
{
	return (unsigned)s < PDF__MAX ? messages[s] : "unknown PDF error";
}

int
pdf_is_docx_error(enum pdf_status s)
{
	return s >= PDF_ERR_DOCX_NOT_WORD && s <= PDF_ERR_DOCX_NO_TEXT;
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

/*
 * Can't a reader see character c, drawn with attributes a (or NULL)
 * in box r (or NULL) on a page w x h points?  A line break is never
 * hidden: it only separates lines.
 */
static int
char_hidden(gunichar c, const PopplerTextAttributes *a,
    const PopplerRectangle *r, double w, double h)
{
	if (c == '\n')
		return 0;
	if (a != NULL) {
		if (a->color.red >= MJ_HIDDEN_WHITE_MIN &&
		    a->color.green >= MJ_HIDDEN_WHITE_MIN &&
		    a->color.blue >= MJ_HIDDEN_WHITE_MIN)
			return 1;
		if (a->font_size < MJ_HIDDEN_SIZE_MIN_PT)
			return 1;
	}
	/* A space's box says nothing: it has no ink. */
	if (r == NULL || g_unichar_isspace(c))
		return 0;
	if (fabs(r->x2 - r->x1) < MJ_HIDDEN_SIZE_MIN_PT &&
	    fabs(r->y2 - r->y1) < MJ_HIDDEN_SIZE_MIN_PT)
		return 1;
	/* Wholly outside the crop box (poppler drops most such text). */
	return fmax(r->x1, r->x2) <= 0 || fmin(r->x1, r->x2) >= w ||
	    fmax(r->y1, r->y2) <= 0 || fmin(r->y1, r->y2) >= h;
}

/* Count hidden character c (bytes p[0..n)) and quote it if there's room. */
static void
hidden_add(struct pdf_hidden *hid, gunichar c, const char *p, size_t n,
    int *gap)
{
	if (g_unichar_isspace(c)) {
		*gap = 1;
		return;
	}
	hid->chars++;
	if (*gap && hid->excerpt_len > 0 &&
	    hid->excerpt_len + 1 + n <= MJ_HIDDEN_EXCERPT_MAX)
		hid->excerpt[hid->excerpt_len++] = ' ';
	*gap = 0;
	if (hid->excerpt_len + n > MJ_HIDDEN_EXCERPT_MAX)
		return;
	memcpy(hid->excerpt + hid->excerpt_len, p, n);
	hid->excerpt_len += n;
	hid->excerpt[hid->excerpt_len] = '\0';
}

/*
 * Append page's visible text to out, at most room bytes (cut on a
 * character), counting what is hidden in hid.  Returns PDF_OK, or
 * PDF_ERR_INTERNAL when out can't grow.
 */
static enum pdf_status
page_text(PopplerPage *page, struct buf *out, size_t room,
    struct pdf_hidden *hid)
{
	PopplerRectangle	*rects;
	GList			*attrs, *at;
	PopplerTextAttributes	*a;
	const char		*p, *next, *run;
	char			*t;
	guint			 nrects;
	gunichar		 c;
	double			 w, h;
	long			 i, nchars;
	size_t			 n;
	int			 gap, full;
	enum pdf_status		 rc;

	t = poppler_page_get_text(page);
	if (t == NULL)
		return PDF_OK;
	rects = NULL;
	nrects = 0;
	if (!poppler_page_get_text_layout(page, &rects, &nrects))
		nrects = 0;
	nchars = g_utf8_strlen(t, -1);
	if ((long)nrects != nchars) {
		/* Boxes that don't match the text can't be used. */
		g_free(rects);
		rects = NULL;
	}
	poppler_page_get_size(page, &w, &h);
	attrs = poppler_page_get_text_attributes(page);
	at = attrs;
	rc = PDF_OK;
	gap = 1;
	full = 0;
	run = t;
	for (p = t, i = 0; *p != '\0' && !full; p = next, i++) {
		next = g_utf8_next_char(p);
		c = g_utf8_get_char(p);
		while (at != NULL &&
		    ((PopplerTextAttributes *)at->data)->end_index < i)
			at = at->next;
		a = at != NULL &&
		    ((PopplerTextAttributes *)at->data)->start_index <= i ?
		    at->data : NULL;
		if (!char_hidden(c, a, rects != NULL ? &rects[i] : NULL,
		    w, h)) {
			if (!g_unichar_isspace(c))
				gap = 1;
			if (*next != '\0')
				continue;
			p = next;	/* the last run ends with the text */
		}
		/* Flush the visible run [run, p). */
		n = (size_t)(p - run);
		if (n > room) {
			n = utf8_cut(run, room);
			full = 1;
		}
		if (buf_add(out, run, n) != BUF_OK) {
			rc = PDF_ERR_INTERNAL;
			break;
		}
		room -= n;
		if (*p == '\0')
			break;
		hidden_add(hid, c, p, (size_t)(next - p), &gap);
		run = next;
	}
	poppler_page_free_text_attributes(attrs);
	g_free(rects);
	g_free(t);
	return rc;
}

enum pdf_status
pdf_text(const void *data, size_t len, const struct pdf_limits *lim,
    struct buf *out, int *pages, struct pdf_hidden *hid)
{
	GBytes		*bytes;
	GError		*gerr = NULL;
	PopplerDocument	*doc;
	PopplerPage	*page;
	int		 i, n;
	size_t		 start;
	enum pdf_status	 rc;

	*pages = 0;
	memset(hid, 0, sizeof(*hid));
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
		rc = page_text(page, out, lim->text_max - (out->len - start),
		    hid);
		g_object_unref(page);
		if (rc == PDF_OK && out->len - start < lim->text_max &&
		    buf_add(out, "\n", 1) != BUF_OK)
			rc = PDF_ERR_INTERNAL;
		if (rc != PDF_OK || out->len - start >= lim->text_max)
			break;
	}
	g_object_unref(doc);
	if (rc == PDF_OK && blank(out->data + start, out->len - start))
		rc = PDF_ERR_NO_TEXT;
	return rc;
}
