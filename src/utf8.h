/*
 * utf8.h - cutting UTF-8 text without splitting a character.
 */
#ifndef MJ_UTF8_H
#define MJ_UTF8_H

#include <stddef.h>

/*
 * The largest length <= n at which s can be cut without ending inside
 * a multi-byte UTF-8 sequence.  s must hold at least n bytes.
 */
static inline size_t
utf8_cut(const char *s, size_t n)
{
	size_t	 i, need;
	unsigned char c;

	/* Walk back over continuation bytes to the lead byte, if any. */
	i = n;
	while (i > 0 && n - i < 4 &&
	    ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n;
	c = (unsigned char)s[i - 1];
	if (c < 0x80)
		return n;
	if ((c & 0xe0) == 0xc0)
		need = 2;
	else if ((c & 0xf0) == 0xe0)
		need = 3;
	else if ((c & 0xf8) == 0xf0)
		need = 4;
	else
		return n;		/* not UTF-8; leave it */
	return n - (i - 1) >= need ? n : i - 1;
}

#endif /* MJ_UTF8_H */
