/*
 * pdf.c - resume text from PDF bytes with poppler-glib, in this
 * process; see pdf.h.  A leaf: the child process that runs it on
 * hostile input (spawn, zygote, protocol, sandbox) is pdfchild.c.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <poppler.h>

#include "bounds.h"
#include "buf.h"
#include "clock.h"
#include "hidden.h"
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

/* A page drawn on white, to see which characters left ink. */
struct ink {
	cairo_surface_t		*s;
	const unsigned char	*px;
	int			 w, h, stride;
	double			 scale;	/* pixels per point */
};

static void
ink_free(struct ink *k)
{
	if (k->s != NULL)
		cairo_surface_destroy(k->s);
	memset(k, 0, sizeof(*k));
}

/*
 * Draw page (pw x ph points) at 72 dpi, or less for a page past
 * MJ_HIDDEN_RENDER_PIXELS.  0, or -1 with nothing drawn.
 */
static int
ink_draw(PopplerPage *page, double pw, double ph, struct ink *k)
{
	cairo_t	*cr;
	int	 good;

	memset(k, 0, sizeof(*k));
	if (!(pw >= 1 && ph >= 1 && pw < 1e6 && ph < 1e6))
		return -1;
	k->scale = pw * ph > MJ_HIDDEN_RENDER_PIXELS ?
	    sqrt(MJ_HIDDEN_RENDER_PIXELS / (pw * ph)) : 1;
	k->w = (int)ceil(pw * k->scale);
	k->h = (int)ceil(ph * k->scale);
	k->s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, k->w, k->h);
	if (cairo_surface_status(k->s) != CAIRO_STATUS_SUCCESS) {
		ink_free(k);
		return -1;
	}
	cr = cairo_create(k->s);
	cairo_scale(cr, k->scale, k->scale);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	poppler_page_render(page, cr);
	good = cairo_status(cr) == CAIRO_STATUS_SUCCESS;
	cairo_destroy(cr);
	cairo_surface_flush(k->s);
	if (!good) {
		ink_free(k);
		return -1;
	}
	k->px = cairo_image_surface_get_data(k->s);
	k->stride = cairo_image_surface_get_stride(k->s);
	return 0;
}

/* Is a pixel darker than MJ_HIDDEN_INK_MAX in box r (points)? */
static int
ink_in(const struct ink *k, const PopplerRectangle *r)
{
	const unsigned char	*p;
	uint32_t		 v;
	int			 x, y, x1, x2, y1, y2;

	x1 = (int)floor(fmin(r->x1, r->x2) * k->scale);
	x2 = (int)ceil(fmax(r->x1, r->x2) * k->scale);
	y1 = (int)floor(fmin(r->y1, r->y2) * k->scale);
	y2 = (int)ceil(fmax(r->y1, r->y2) * k->scale);
	x1 = x1 < 0 ? 0 : x1;
	y1 = y1 < 0 ? 0 : y1;
	x2 = x2 > k->w ? k->w : x2;
	y2 = y2 > k->h ? k->h : y2;
	for (y = y1; y < y2; y++)
		for (x = x1; x < x2; x++) {
			p = k->px + (size_t)y * (size_t)k->stride +
			    (size_t)x * 4;
			memcpy(&v, p, sizeof(v));
			if (((v >> 16) & 0xff) < MJ_HIDDEN_INK_MAX ||
			    ((v >> 8) & 0xff) < MJ_HIDDEN_INK_MAX ||
			    (v & 0xff) < MJ_HIDDEN_INK_MAX)
				return 1;
		}
	return 0;
}

/* A one-page PDF in Helvetica, which no PDF embeds. */
static const char warm_pdf[] =
	"%PDF-1.4\n"
	"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
	"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
	"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 50] "
	"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>\n"
	"endobj\n"
	"4 0 obj\n<< /Length 34 >>\nstream\n"
	"BT /F1 12 Tf 10 20 Td (warm) Tj ET\nendstream\nendobj\n"
	"5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\n"
	"endobj\n"
	"xref\n0 6\n0000000000 65535 f \n0000000009 00000 n \n"
	"0000000058 00000 n \n0000000115 00000 n \n0000000240 00000 n \n"
	"0000000324 00000 n \n"
	"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n394\n%%EOF\n";

/*
 * Does drawing show text here?  Not where the fonts can't be opened
 * (the sandbox without Landlock opens nothing): then every character
 * would look hidden, and only the colour rule is used.
 */
static int
ink_works(void)
{
	GBytes			*bytes;
	PopplerDocument		*doc;
	PopplerPage		*page;
	PopplerRectangle	*rects;
	struct ink		 k;
	guint			 n;
	double			 w, h;
	int			 works;

	bytes = g_bytes_new_static(warm_pdf, sizeof(warm_pdf) - 1);
	doc = poppler_document_new_from_bytes(bytes, NULL, NULL);
	g_bytes_unref(bytes);
	if (doc == NULL)
		return 0;
	works = 0;
	if ((page = poppler_document_get_page(doc, 0)) != NULL) {
		poppler_page_get_size(page, &w, &h);
		rects = NULL;
		if (poppler_page_get_text_layout(page, &rects, &n) && n > 0 &&
		    ink_draw(page, w, h, &k) == 0) {
			works = ink_in(&k, &rects[0]);
			ink_free(&k);
		}
		g_free(rects);
		g_object_unref(page);
	}
	g_object_unref(doc);
	return works;
}

void
pdf_warm(void)
{
	(void)ink_works();
}

/*
 * Can't a reader see character c (not white space), drawn with
 * attributes a (or NULL) in box r (or NULL) on a page w x h points,
 * drawn in k (or NULL)?  Drawn, a character is hidden when its box has
 * no ink: nothing drawn (render mode 3), drawn in white on white, or
 * covered; white text on a dark band is seen.  Not drawn, white text is
 * taken to be hidden, the page to be white.
 */
static int
char_hidden(const PopplerTextAttributes *a, const PopplerRectangle *r,
    const struct ink *k, double w, double h)
{
	if (a != NULL) {
		if (a->font_size < MJ_HIDDEN_SIZE_MIN_PT)
			return 1;
		if (k == NULL && a->color.red >= MJ_HIDDEN_WHITE_MIN &&
		    a->color.green >= MJ_HIDDEN_WHITE_MIN &&
		    a->color.blue >= MJ_HIDDEN_WHITE_MIN)
			return 1;
	}
	if (r == NULL)
		return 0;
	if (fabs(r->x2 - r->x1) < MJ_HIDDEN_SIZE_MIN_PT &&
	    fabs(r->y2 - r->y1) < MJ_HIDDEN_SIZE_MIN_PT)
		return 1;
	/* Wholly outside the crop box (poppler drops most such text). */
	if (fmax(r->x1, r->x2) <= 0 || fmin(r->x1, r->x2) >= w ||
	    fmax(r->y1, r->y2) <= 0 || fmin(r->y1, r->y2) >= h)
		return 1;
	return k != NULL && !ink_in(k, r);
}

/*
 * Append page's visible text to out, at most room bytes (cut on a
 * character), counting what is hidden in hid; draw draws the page to
 * look for ink.  Returns PDF_OK, or PDF_ERR_INTERNAL when out can't
 * grow.
 */
static enum pdf_status
page_text(PopplerPage *page, int draw, struct buf *out, size_t room,
    struct hidden *hid)
{
	PopplerRectangle	*rects;
	GList			*attrs, *at;
	PopplerTextAttributes	*a;
	struct ink		 k;
	const char		*p, *next, *run;
	char			*t;
	guint			 nrects;
	gunichar		 c;
	double			 w, h;
	long			 i, nchars;
	size_t			 n;
	int			 full, hidden, inked;
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
	inked = draw && rects != NULL && ink_draw(page, w, h, &k) == 0;
	attrs = poppler_page_get_text_attributes(page);
	at = attrs;
	rc = PDF_OK;
	full = 0;
	hidden = 0;
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
		/*
		 * A line break only separates lines; other white space has
		 * no ink and goes with the character before it.
		 */
		if (c == '\n')
			hidden = 0;
		else if (!g_unichar_isspace(c))
			hidden = char_hidden(a, rects != NULL ? &rects[i] :
			    NULL, inked ? &k : NULL, w, h);
		if (!hidden) {
			hidden_gap(hid);
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
		hidden_add(hid, p, (size_t)(next - p));
		run = next;
	}
	if (inked)
		ink_free(&k);
	poppler_page_free_text_attributes(attrs);
	g_free(rects);
	g_free(t);
	return rc;
}

enum pdf_status
pdf_text(const void *data, size_t len, const struct pdf_limits *lim,
    struct buf *out, int *pages, struct hidden *hid)
{
	GBytes		*bytes;
	GError		*gerr = NULL;
	PopplerDocument	*doc;
	PopplerPage	*page;
	int		 i, n, draw;
	size_t		 start;
	long long	 t0;
	enum pdf_status	 rc;

	*pages = 0;
	hidden_init(hid);
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
	t0 = clock_ms();
	draw = ink_works();
	for (i = 0; i < n && i < lim->pages_max; i++) {
		page = poppler_document_get_page(doc, i);
		if (page == NULL)
			continue;
		/* Drawing costs far more than text: a budget for it. */
		rc = page_text(page, draw && i < MJ_HIDDEN_RENDER_PAGES &&
		    clock_ms() - t0 < MJ_HIDDEN_RENDER_MS, out,
		    lim->text_max - (out->len - start), hid);
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
