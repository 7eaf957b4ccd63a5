/*
 * fuzz_docx.c - libFuzzer target for the DOCX reader (docx.c):
 * docx_xml_text(), the XML-to-text step, and, for an input that starts
 * like a zip, docx_text() on the whole file (libzip, then the same).
 *
 * Checked: the status is in range; the text appended never passes
 * text_max (a small one, so the cut is reached) nor touches the bytes
 * before it; on DOCX_OK it holds something other than white space; when
 * the input is one XML document (libxml2 hands out UTF-8), the text is
 * well-formed UTF-8 (cuts fall on character boundaries); the hidden
 * runs' excerpt is bounded, well-formed, and empty only when nothing
 * was hidden.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "docx.h"
#include "hidden.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)
#define TEXT_MAX	4096
#define PREFIX		"prefix:"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf		 out;
	struct hidden		 hid;
	enum docx_status	 rc;
	size_t			 start, i;
	int			 ink;

	buf_init(&out, TEXT_MAX + sizeof(PREFIX));
	CHECK(buf_add(&out, PREFIX, sizeof(PREFIX) - 1) == BUF_OK);
	start = out.len;
	hidden_init(&hid);
	if (docx_magic(data, size))
		rc = docx_text(data, size, TEXT_MAX, &out, &hid);
	else
		rc = docx_xml_text((const char *)data, size, TEXT_MAX, &out,
		    &hid);
	CHECK((unsigned)rc < DOCX__MAX);
	CHECK(memcmp(out.data, PREFIX, start) == 0);
	CHECK(out.len - start <= TEXT_MAX);
	CHECK(utf8_check(out.data + start, out.len - start) ==
	    out.len - start);
	/* The excerpt: bounded, NUL-ended, UTF-8, empty iff nothing hid. */
	CHECK(hid.excerpt_len <= MJ_HIDDEN_EXCERPT_MAX);
	CHECK(strlen(hid.excerpt) == hid.excerpt_len);
	CHECK(utf8_check(hid.excerpt, hid.excerpt_len) == hid.excerpt_len);
	CHECK((hid.chars == 0) == (hid.excerpt_len == 0));
	if (rc == DOCX_OK) {
		ink = 0;
		for (i = start; i < out.len; i++)
			if (!strchr(" \t\r\n\f\v", out.data[i]))
				ink = 1;
		CHECK(ink);
	}
	buf_free(&out);
	return 0;
}
