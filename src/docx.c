/*
 * docx.c - resume text from a Word document (DOCX) with libzip and
 * libxml2; see docx.h.  A leaf like pdf.c: the child that runs it on
 * hostile input is pdfchild.c.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "bounds.h"
#include "buf.h"
#include "docx.h"
#include "hidden.h"
#include "utf8.h"

#define READ_CHUNK	65536

/* WordprocessingML, transitional and strict. */
static const char *const w_ns[] = {
	"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
	"http://purl.oclc.org/ooxml/wordprocessingml/main",
};
/* Markup compatibility: mc:Fallback repeats mc:Choice's text. */
#define MC_NS	"http://schemas.openxmlformats.org/markup-compatibility/2006"

int
docx_magic(const void *data, size_t len)
{
	return len >= 4 && memcmp(data, "PK\3\4", 4) == 0;
}

/* The text being written: out from start, at most max bytes. */
struct walk {
	struct buf	*out;
	size_t		 start, max;
	int		 full;		/* max reached: stop */
	int		 nomem;
	int		 cell;		/* w:tc depth */
	int		 ink;		/* some text other than spaces */
	struct hidden	*hid;
};

static void
emit(struct walk *w, const char *s, size_t n)
{
	size_t	 room;

	hidden_gap(w->hid);	/* seen text parts what is hidden */
	if (w->full || w->nomem)
		return;
	room = w->max - (w->out->len - w->start);
	if (n >= room) {
		n = utf8_cut(s, n > room ? room : n);
		w->full = 1;
	}
	if (n > 0 && buf_add(w->out, s, n) != BUF_OK)
		w->nomem = 1;
}

/* Drop one trailing c written since start. */
static void
trim(struct walk *w, char c)
{
	if (w->out->len > w->start && w->out->data[w->out->len - 1] == c)
		w->out->data[--w->out->len] = '\0';
}

/* Is n the WordprocessingML element name? */
static int
is_w(const xmlNode *n, const char *name)
{
	size_t	 i;

	if (n->type != XML_ELEMENT_NODE || n->ns == NULL ||
	    n->ns->href == NULL || strcmp((const char *)n->name, name) != 0)
		return 0;
	for (i = 0; i < sizeof(w_ns) / sizeof(w_ns[0]); i++)
		if (strcmp((const char *)n->ns->href, w_ns[i]) == 0)
			return 1;
	return 0;
}

/* The w:val of element n (not copied), or NULL. */
static const char *
w_val(const xmlNode *n)
{
	const xmlAttr	*a;
	size_t		 i;

	for (a = n->properties; a != NULL; a = a->next) {
		if (a->ns == NULL || a->ns->href == NULL ||
		    strcmp((const char *)a->name, "val") != 0)
			continue;
		for (i = 0; i < sizeof(w_ns) / sizeof(w_ns[0]); i++)
			if (strcmp((const char *)a->ns->href, w_ns[i]) == 0)
				return a->children != NULL &&
				    a->children->type == XML_TEXT_NODE ?
				    (const char *)a->children->content : "";
	}
	return NULL;
}

/* Is "RRGGBB" s a colour with every channel at least 0xf0? */
static int
whitish(const char *s)
{
	int	 i;

	if (s == NULL || strlen(s) != 6)
		return 0;
	for (i = 0; i < 6; i += 2)
		if (strchr("fF", s[i]) == NULL ||
		    strchr("0123456789abcdefABCDEF", s[i + 1]) == NULL)
			return 0;
	return 1;
}

/* Does run r's own w:rPr make it unseen (see docx.h)? */
static int
run_hidden(const xmlNode *r)
{
	const xmlNode	*p, *c;
	const char	*v;

	for (p = r->children; p != NULL && !is_w(p, "rPr"); p = p->next)
		;
	if (p == NULL)
		return 0;
	for (c = p->children; c != NULL; c = c->next) {
		v = w_val(c);
		if (is_w(c, "vanish") && (v == NULL || (strcmp(v, "0") != 0 &&
		    strcmp(v, "false") != 0 && strcmp(v, "off") != 0)))
			return 1;
		if (is_w(c, "color") && whitish(v))
			return 1;
		if (is_w(c, "sz") && v != NULL && v[0] >= '0' &&
		    v[0] <= '1' && v[1] == '\0')
			return 1;
	}
	return 0;
}

/* A hidden run: its text goes to w->hid, not out. */
static void
run_skip(struct walk *w, const xmlNode *r)
{
	const xmlNode	*t, *c;

	for (t = r->children; t != NULL; t = t->next) {
		if (!is_w(t, "t")) {
			hidden_gap(w->hid);
			continue;
		}
		for (c = t->children; c != NULL; c = c->next)
			if ((c->type == XML_TEXT_NODE ||
			    c->type == XML_CDATA_SECTION_NODE) &&
			    c->content != NULL)
				hidden_add(w->hid, (const char *)c->content,
				    strlen((const char *)c->content));
	}
	hidden_gap(w->hid);
}

/* Entering n: write what it starts with; 1 to read its children. */
static int
enter(struct walk *w, const xmlNode *n)
{
	const xmlNode	*c;
	size_t		 tl;

	if (n->type != XML_ELEMENT_NODE)
		return 0;
	if (is_w(n, "r") && run_hidden(n)) {
		run_skip(w, n);
		return 0;
	}
	if (is_w(n, "t")) {
		for (c = n->children; c != NULL; c = c->next)
			if ((c->type == XML_TEXT_NODE ||
			    c->type == XML_CDATA_SECTION_NODE) &&
			    c->content != NULL) {
				tl = strlen((const char *)c->content);
				if (strspn((const char *)c->content,
				    " \t\r\n\f\v") < tl)
					w->ink = 1;
				emit(w, (const char *)c->content, tl);
			}
		return 0;
	}
	if (is_w(n, "tab")) {
		emit(w, "\t", 1);
		return 0;
	}
	if (is_w(n, "br") || is_w(n, "cr")) {
		emit(w, "\n", 1);
		return 0;
	}
	if (is_w(n, "noBreakHyphen")) {
		emit(w, "-", 1);
		return 0;
	}
	/*
	 * Properties hold no text (w:pPr's w:tabs holds tab stops, not
	 * tabs); deleted text and field codes are not what a reader sees.
	 */
	if (is_w(n, "pPr") || is_w(n, "rPr") || is_w(n, "sectPr") ||
	    is_w(n, "tblPr") || is_w(n, "trPr") || is_w(n, "tcPr") ||
	    is_w(n, "tblGrid") || is_w(n, "delText") ||
	    is_w(n, "instrText"))
		return 0;
	if (n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, MC_NS) == 0 &&
	    strcmp((const char *)n->name, "Fallback") == 0)
		return 0;
	if (is_w(n, "tc"))
		w->cell++;
	return 1;
}

/* Leaving n (after its children): write what it ends with. */
static void
leave(struct walk *w, const xmlNode *n)
{
	if (is_w(n, "p"))
		emit(w, w->cell > 0 ? " " : "\n", 1);
	else if (is_w(n, "tc")) {
		w->cell--;
		trim(w, ' ');
		emit(w, "\t", 1);
	} else if (is_w(n, "tr")) {
		trim(w, '\t');
		emit(w, "\n", 1);
	}
}

enum docx_status
docx_xml_text(const char *xml, size_t len, size_t text_max, struct buf *out,
    struct hidden *hid)
{
	struct walk	 w;
	xmlDoc		*doc;
	xmlNode		*root, *n;

	if (len > INT_MAX)
		return DOCX_ERR_CORRUPT;
	/*
	 * Word writes no DTD.  Without one no entity but the five
	 * predefined and character references exists: nothing expands.
	 */
	if (memmem(xml, len, "<!DOCTYPE", 9) != NULL)
		return DOCX_ERR_DTD;
	/* No NOENT, DTDLOAD, XINCLUDE or HUGE: libxml2's default limits. */
	doc = xmlReadMemory(xml, (int)len, "document.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return DOCX_ERR_CORRUPT;
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return DOCX_ERR_DTD;
	}
	memset(&w, 0, sizeof(w));
	w.out = out;
	w.start = out->len;
	w.max = text_max;
	w.hid = hid;
	root = xmlDocGetRootElement(doc);
	/* Depth first without recursion: enter, children, leave, next. */
	n = root;
	while (n != NULL && !w.full && !w.nomem) {
		if (enter(&w, n) && n->children != NULL) {
			n = n->children;
			continue;
		}
		for (;;) {
			leave(&w, n);
			if (n == root) {
				n = NULL;
				break;
			}
			if (n->next != NULL) {
				n = n->next;
				break;
			}
			n = n->parent;
		}
	}
	xmlFreeDoc(doc);
	if (w.nomem)
		return DOCX_ERR_NOMEM;
	if (!w.ink)
		return DOCX_ERR_NO_TEXT;
	return DOCX_OK;
}

/* Read entry idx of za into xml, at most xml->max bytes. */
static enum docx_status
read_entry(zip_t *za, zip_int64_t idx, struct buf *xml)
{
	zip_file_t	*zf;
	char		 chunk[READ_CHUNK];
	zip_int64_t	 r;
	enum buf_status	 bs;
	enum docx_status rc;

	/* Sizes in the headers are claims: the cap is on what inflates. */
	if ((zf = zip_fopen_index(za, (zip_uint64_t)idx, 0)) == NULL)
		return DOCX_ERR_CORRUPT;
	rc = DOCX_OK;
	while ((r = zip_fread(zf, chunk, sizeof(chunk))) > 0)
		if ((bs = buf_add(xml, chunk, (size_t)r)) != BUF_OK) {
			rc = bs == BUF_TOO_BIG ? DOCX_ERR_TOO_BIG :
			    DOCX_ERR_NOMEM;
			break;
		}
	if (rc == DOCX_OK && r < 0)
		rc = DOCX_ERR_CORRUPT;	/* bad data or a CRC mismatch */
	zip_fclose(zf);
	return rc;
}

enum docx_status
docx_text(const void *data, size_t len, size_t text_max, struct buf *out,
    struct hidden *hid)
{
	zip_error_t	 ze;
	zip_source_t	*src;
	zip_t		*za;
	zip_int64_t	 n, idx;
	struct buf	 xml;
	enum docx_status rc;

	if (!docx_magic(data, len))
		return DOCX_ERR_NOT_DOCX;
	zip_error_init(&ze);
	src = zip_source_buffer_create(data, len, 0, &ze);
	if (src == NULL) {
		zip_error_fini(&ze);
		return DOCX_ERR_NOMEM;
	}
	za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	zip_error_fini(&ze);
	if (za == NULL) {
		zip_source_free(src);
		return DOCX_ERR_CORRUPT;
	}
	n = zip_get_num_entries(za, 0);
	idx = zip_name_locate(za, "word/document.xml", 0);
	if (n < 0)
		rc = DOCX_ERR_CORRUPT;
	else if (n > MJ_DOCX_ENTRIES_MAX)
		rc = DOCX_ERR_TOO_BIG;
	else if (idx < 0)
		rc = DOCX_ERR_NOT_DOCX;
	else {
		buf_init(&xml, MJ_DOCX_XML_MAX);
		rc = read_entry(za, idx, &xml);
		if (rc == DOCX_OK)
			rc = docx_xml_text(xml.data != NULL ? xml.data : "",
			    xml.len, text_max, out, hid);
		buf_free(&xml);
	}
	zip_discard(za);
	return rc;
}
