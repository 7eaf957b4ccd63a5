/*
 * utf8.h - the one UTF-8 validator and cutter of the tree.
 *
 * Well-formed means RFC 3629 §4: no overlong forms, no encoded
 * surrogates, nothing above U+10FFFF.  Everything here is pure and
 * bounded by its length argument; nothing allocates.  It does not
 * decide what to do with bad text (refuse it or repair it): callers do
 * (request.c and http.c refuse text fields, http.c repairs PDF text).
 */
#ifndef MJ_UTF8_H
#define MJ_UTF8_H

#include <stddef.h>
#include <string.h>

/* U+FFFD REPLACEMENT CHARACTER, what a repair puts for a bad byte. */
#define UTF8_REPLACEMENT	"\xef\xbf\xbd"

/*
 * Length (1..4) of the well-formed UTF-8 sequence at p[0..n), or 0 if
 * p does not start one (a stray continuation byte, a bad lead byte, an
 * overlong form, a surrogate, a code point past U+10FFFF, or a sequence
 * cut short by n).  n must be at least 1.
 */
static inline size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char	 lo, hi;
	size_t		 need, i;

	if (p[0] < 0x80)
		return 1;
	lo = 0x80;
	hi = 0xbf;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

/*
 * The offset of the first byte of s[0..n) that does not start a
 * well-formed sequence, or n if all of it is well-formed UTF-8.
 */
static inline size_t
utf8_check(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, k;

	for (i = 0; i < n; i += k) {
		k = utf8_len(p + i, n - i);
		if (k == 0)
			return i;
	}
	return n;
}

/*
 * Copy s[0..n) to out with every byte that does not start a well-formed
 * sequence replaced by U+FFFD, and return the bytes written.  out must
 * hold 3 * n bytes (the worst case: every byte bad) and must not
 * overlap s.
 */
static inline size_t
utf8_repair(const char *s, size_t n, char *out)
{
	size_t	 i, k, o;

	for (i = o = 0; i < n; i += k) {
		k = utf8_len((const unsigned char *)s + i, n - i);
		if (k == 0) {
			k = 1;
			memcpy(out + o, UTF8_REPLACEMENT, 3);
			o += 3;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
		}
	}
	return o;
}

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
