/*
 * unit_buf.c - struct buf: limits, JSON escaping, take.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "utf8.h"

int
main(void)
{
	struct buf	 b;
	char		*s;
	size_t		 n;

	buf_init(&b, 8);
	ok(buf_add(&b, "12345678", 8) == BUF_OK, "fill to max");
	ok(buf_add(&b, "9", 1) == BUF_TOO_BIG, "one past max fails");
	ok(b.len == 8 && strcmp(b.data, "12345678") == 0,
	    "failed append leaves the buffer unchanged");
	ok(buf_printf(&b, "%d", 1) == BUF_TOO_BIG, "printf past max fails");
	buf_reset(&b);
	ok(b.len == 0 && b.data[0] == '\0', "reset empties");
	buf_free(&b);
	buf_free(&b);
	ok(b.data == NULL, "free twice is safe");

	buf_init(&b, 1024);
	ok(buf_add_json_str(&b, "a\"b\\c\nd\re\tf\001g", 13) == BUF_OK,
	    "json escape");
	ok(strcmp(b.data, "a\\\"b\\\\c\\nd\\re\\tf\\u0001g") == 0,
	    "json escape output: %s", b.data);
	ok(buf_take(&b, &s, &n) == BUF_OK && n == 23 && b.data == NULL,
	    "take moves ownership");
	free(s);
	ok(buf_take(&b, &s, &n) == BUF_OK && n == 0 && strcmp(s, "") == 0,
	    "take of empty gives \"\"");
	free(s);
	buf_free(&b);

	ok(utf8_cut("ab\xc3\xa9", 3) == 2, "cut inside a 2-byte char");
	ok(utf8_cut("ab\xc3\xa9", 4) == 4, "cut after a 2-byte char");
	ok(utf8_cut("a\xe2\x82\xac", 3) == 1, "cut inside a 3-byte char");
	ok(utf8_cut("abc", 2) == 2, "ascii cut");

	/* The one validator (utf8.h), and the repair of PDF text. */
	ok(utf8_check("ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 11) == 11,
	    "well-formed 1-4 byte sequences pass");
	ok(utf8_check("ab\xe9" "cd", 5) == 2, "a Latin-1 byte is found");
	ok(utf8_check("\xc0\xaf", 2) == 0, "overlong form refused");
	ok(utf8_check("\xed\xa0\x80", 3) == 0, "encoded surrogate refused");
	ok(utf8_check("\xf4\x90\x80\x80", 4) == 0, "above U+10FFFF refused");
	ok(utf8_check("a\xe2\x82", 3) == 1, "sequence cut short refused");
	ok(utf8_check("\x80", 1) == 0, "lone continuation byte refused");
	{
		char	out[64];
		size_t	k;

		k = utf8_repair("J\xff\xfe \xc0\xaf\xc3\xa9", 8, out);
		ok(k == 16 && memcmp(out, "J\xef\xbf\xbd\xef\xbf\xbd \xef\xbf"
		    "\xbd\xef\xbf\xbd\xc3\xa9", 16) == 0 &&
		    utf8_check(out, k) == k,
		    "repair: each bad byte becomes U+FFFD, good text kept");
	}
	return tap_done();
}
