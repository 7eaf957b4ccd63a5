/*
 * docx.h - resume text from a Word document (DOCX), with libzip and
 * libxml2.
 *
 * A DOCX is a zip of XML; the text is in word/document.xml.  It is
 * hostile input like a PDF and is read in the same limited child
 * (pdfchild.c), with its own bounds: at most MJ_DOCX_ENTRIES_MAX zip
 * entries, document.xml read through a cap of MJ_DOCX_XML_MAX bytes
 * whatever its header claims (a zip bomb stops there), and XML parsed
 * with no DTD at all (a document with a DOCTYPE is refused: no entity
 * can expand), no network, libxml2's default size limits (no
 * XML_PARSE_HUGE).  docx_xml_text() is the pure XML-to-text step (fuzzed
 * by fuzz/fuzz_docx.c).
 *
 * A run a reader can't see is left out and added to a struct hidden
 * (hidden.h): w:vanish (hidden text), a colour with every channel at
 * least 0xf0 (white, on the page taken to be white), a size under 1 pt
 * (w:sz under 2 half-points).  Only the run's own properties count:
 * styles (styles.xml) and themes are not read.
 */
#ifndef MJ_DOCX_H
#define MJ_DOCX_H

#include <stddef.h>

struct buf;
struct hidden;

enum docx_status {
	DOCX_OK = 0,
	DOCX_ERR_NOT_DOCX,	/* not a zip, or no word/document.xml */
	DOCX_ERR_CORRUPT,	/* the zip or the XML is broken */
	DOCX_ERR_TOO_BIG,	/* too many entries, or document.xml
				   unpacks past MJ_DOCX_XML_MAX */
	DOCX_ERR_DTD,		/* document.xml has a DOCTYPE */
	DOCX_ERR_NO_TEXT,	/* read, but no text */
	DOCX_ERR_NOMEM,
	DOCX__MAX
};

/* Does data start like a zip ("PK\3\4")? */
int		 docx_magic(const void *data, size_t len);

/*
 * The text of a WordprocessingML document.xml: paragraphs and table rows
 * end in newlines, table cells in tabs, w:tab is a tab, w:br a newline.
 * Appends to out at most text_max bytes (cut on a UTF-8 boundary), and
 * hidden runs to hid.  Returns DOCX_OK, DOCX_ERR_CORRUPT, DOCX_ERR_DTD,
 * DOCX_ERR_NO_TEXT or DOCX_ERR_NOMEM.
 */
enum docx_status docx_xml_text(const char *xml, size_t len, size_t text_max,
		    struct buf *out, struct hidden *hid)
		    __attribute__((warn_unused_result));

/*
 * The text of a DOCX file (the zip): its word/document.xml through
 * docx_xml_text().  Any docx_status.
 */
enum docx_status docx_text(const void *data, size_t len, size_t text_max,
		    struct buf *out, struct hidden *hid)
		    __attribute__((warn_unused_result));

#endif /* MJ_DOCX_H */
