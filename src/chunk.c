/*
 * chunk.c - one chat.completions stream payload; see chunk.h.
 *
 * A small JSON scanner (RFC 8259 grammar: objects, arrays, strings with
 * all escapes, numbers, true/false/null, whitespace) validates the whole
 * payload in one pass over (data, len) and notes where the few values
 * chunk.h asks for are: as spans into data, nothing is allocated then.
 * Only after the payload is known to be valid are the wanted strings
 * decoded into the owned output strings.  The scanner recurses, but at
 * most CHUNK_DEPTH_MAX levels; it does no I/O and has no globals.
 *
 * It replaces a json-c tree per chunk (json-c 0.16 takes a process-wide
 * locale lock on every parse) and keeps what json-c did where the
 * grammar leaves room:
 *   - a value may sit at most CHUNK_DEPTH_MAX levels deep, the outer
 *     object being level 1 (json_tokener_new_ex(CHUNK_DEPTH_MAX));
 *   - a lone UTF-16 surrogate in a \u escape becomes U+FFFD, and the
 *     escape after an unpaired high surrogate is read on its own;
 *   - bytes >= 0x80 are passed through, not checked as UTF-8;
 *   - duplicate keys: the last one wins;
 *   - keys, finish_reason and error texts are C strings, cut at the
 *     first NUL ("content\u0000x" names "content"); content keeps NULs;
 *   - counts: a number is truncated toward zero, negative gives 0, too
 *     large gives LONG_MAX; error.code may be an integer.
 * Across chunks (chunk_parse_next) a high surrogate escape that ends a
 * text is held in the caller's struct chunk_carry instead of becoming
 * U+FFFD at once: servers cut their text between UTF-16 code units.
 * It is stricter than json-c's JSON_TOKENER_STRICT in what RFC 8259
 * forbids and json-c let through: raw control characters (< 0x20) in
 * strings, numbers like "1.", "1.e3", "00", "-01", and NaN/Infinity.
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"

/*
 * The scan_*() functions below read containers at levels 1 to 4 (the
 * delta object) without checking the level; skip_value() checks it.
 */
_Static_assert(CHUNK_DEPTH_MAX >= 4, "chunk fields sit 4 levels deep");

/* Significant digits of a number kept for strtod(); see num_double(). */
#define NUM_DIGITS_MAX		120

static const char *const errs[CHUNK__MAX] = {
	"ok",					/* CHUNK_OK */
	"stream chunk is not a JSON object",	/* CHUNK_ERR_JSON */
	"out of memory",			/* CHUNK_ERR_NOMEM */
};

/* Bytes that end a run of plain string bytes: controls, '"' and '\\'. */
static const unsigned char str_stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Input still to scan. */
struct scan {
	const char	*p;		/* next byte */
	const char	*end;		/* one past the last byte */
};

enum jtype {
	JT_NONE = 0,			/* not seen */
	JT_NULL,
	JT_BOOL,
	JT_NUM,
	JT_STR,
	JT_OBJ,
	JT_ARR,
	JT__MAX
};

/* Where a scanned value is; points into the payload. */
struct jval {
	enum jtype	 type;
	const char	*s;		/* JT_STR: between the quotes, still
					 * escaped; JT_NUM: the token */
	size_t		 n;		/* bytes at s */
	int		 isint;		/* JT_NUM: no fraction, no exponent */
	int		 esc;		/* JT_STR: holds a backslash */
};

/* What one element of "choices" holds. */
struct choice {
	int		 has_index;	/* "index" present */
	struct jval	 index;
	struct jval	 finish;	/* "finish_reason" */
	struct jval	 content;	/* "delta"."content" */
	struct jval	 refusal;	/* "delta"."refusal" */
	struct jval	 reasoning;	/* "delta"."reasoning" (Ollama) */
	struct jval	 reasoning_c;	/* "delta"."reasoning_content"
					 * (DeepSeek, vLLM, llama.cpp) */
};

/* The spans chunk_parse() turns into a struct chunk. */
struct found {
	struct jval	 error;		/* "error", any type */
	struct jval	 emsg;		/* "error"."message" */
	struct jval	 ecode;		/* "error"."code" */
	struct jval	 etype;		/* "error"."type" */
	int		 has_choice;	/* pick is the choice to read */
	struct choice	 pick;
	int		 usage_obj;	/* "usage" is an object */
	struct jval	 prompt;	/* "usage"."prompt_tokens" */
	struct jval	 completion;	/* "usage"."completion_tokens" */
	struct jval	 object;	/* "object" */
	struct jval	 tmsg;		/* "message", "code", "type" beside */
	struct jval	 tcode;		/* "object": "error" (vLLM's */
	struct jval	 ttype;		/* ErrorResponse) */
	int		 gusage_obj;	/* "x_groq"."usage" is an object */
	struct jval	 gprompt;	/* its prompt_tokens */
	struct jval	 gcompletion;	/* its completion_tokens */
};

static int	skip_value(struct scan *, int, struct jval *);
static size_t	put_utf8(long, unsigned char[4]);

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline void
eat_ws(struct scan *s)
{
	while (s->p < s->end && is_ws(*s->p))
		s->p++;
}

/* Value of the hex digit c, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 4 hex digits at s as a number, or -1. */
static long
hex4(const char *s)
{
	long	 v;
	int	 i, d;

	v = 0;
	for (i = 0; i < 4; i++) {
		d = hexval(s[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * A string at s->p ('"'); *v gets the bytes between the quotes.  Every
 * escape must be one of RFC 8259 section 7; control characters must be
 * escaped.
 */
static int
scan_string(struct scan *s, struct jval *v)
{
	const char	*p, *start;
	unsigned char	 c;
	int		 esc = 0;

	p = start = s->p + 1;
	for (;;) {
		while (p < s->end && !str_stop[(unsigned char)*p])
			p++;
		if (p == s->end)
			return -1;
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c != '\\')
			return -1;	/* raw control character */
		if (s->end - p < 2)
			return -1;
		esc = 1;
		switch (p[1]) {
		case '"': case '\\': case '/': case 'b':
		case 'f': case 'n': case 'r': case 't':
			p += 2;
			break;
		case 'u':
			if (s->end - p < 6 || hex4(p + 2) < 0)
				return -1;
			p += 6;
			break;
		default:
			return -1;
		}
	}
	if (v != NULL) {
		v->type = JT_STR;
		v->s = start;
		v->n = (size_t)(p - start);
		v->esc = esc;
	}
	s->p = p + 1;
	return 0;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at s->p. */
static int
scan_number(struct scan *s, struct jval *v)
{
	const char	*p, *start;
	int		 isint = 1;

	p = start = s->p;
	if (p < s->end && *p == '-')
		p++;
	if (p == s->end || !is_digit(*p))
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < s->end && is_digit(*p))
			p++;
	if (p < s->end && *p == '.') {
		isint = 0;
		p++;
		if (p == s->end || !is_digit(*p))
			return -1;
		while (p < s->end && is_digit(*p))
			p++;
	}
	if (p < s->end && (*p == 'e' || *p == 'E')) {
		isint = 0;
		p++;
		if (p < s->end && (*p == '+' || *p == '-'))
			p++;
		if (p == s->end || !is_digit(*p))
			return -1;
		while (p < s->end && is_digit(*p))
			p++;
	}
	if (v != NULL) {
		v->type = JT_NUM;
		v->s = start;
		v->n = (size_t)(p - start);
		v->isint = isint;
	}
	s->p = p;
	return 0;
}

static int
scan_word(struct scan *s, const char *w, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

/*
 * Inside an object or array whose opening bracket is eaten, *n members
 * read so far: stop at the next member (1, s->p < s->end, *n counted)
 * or eat the closing bracket (0); -1 on bad input.
 */
static int
next_member(struct scan *s, size_t *n, char close)
{
	eat_ws(s);
	if (s->p == s->end)
		return -1;
	if (*s->p == close) {
		s->p++;
		return 0;
	}
	if (*n > 0) {
		if (*s->p != ',')
			return -1;
		s->p++;
		eat_ws(s);
		if (s->p == s->end)
			return -1;
	}
	(*n)++;
	return 1;
}

/*
 * Inside an object whose '{' is eaten: read the next key into *key and
 * eat the ':' and the whitespace after it (1: s->p is then at the
 * value), or eat the '}' (0); -1 if the input is not that.
 */
static int
obj_next(struct scan *s, size_t *n, struct jval *key)
{
	int r;

	r = next_member(s, n, '}');
	if (r <= 0)
		return r;
	if (*s->p != '"' || scan_string(s, key) != 0)
		return -1;
	eat_ws(s);
	if (s->p == s->end || *s->p != ':')
		return -1;
	s->p++;
	eat_ws(s);
	if (s->p == s->end)
		return -1;
	return 1;
}

/* Inside an array whose '[' is eaten: as next_member() with ']'. */
static int
arr_next(struct scan *s, size_t *n)
{
	return next_member(s, n, ']');
}

/*
 * Any value at s->p, which sits at nesting level `level' (the outer
 * object is 1); *v (if not NULL) gets its type and, for strings and
 * numbers, its bytes.  Recurses at most CHUNK_DEPTH_MAX deep.
 */
static int
skip_value(struct scan *s, int level, struct jval *v)
{
	struct jval	 key, tmp;
	size_t		 n;
	int		 r;

	if (v == NULL)
		v = &tmp;
	memset(v, 0, sizeof(*v));
	if (level > CHUNK_DEPTH_MAX || s->p == s->end)
		return -1;
	n = 0;
	switch (*s->p) {
	case '{':
		s->p++;
		v->type = JT_OBJ;
		for (;;) {
			r = obj_next(s, &n, &key);
			if (r <= 0)
				return r;
			if (skip_value(s, level + 1, NULL) != 0)
				return -1;
		}
	case '[':
		s->p++;
		v->type = JT_ARR;
		for (;;) {
			r = arr_next(s, &n);
			if (r <= 0)
				return r;
			if (skip_value(s, level + 1, NULL) != 0)
				return -1;
		}
	case '"':
		return scan_string(s, v);
	case 't':
		v->type = JT_BOOL;
		return scan_word(s, "true", 4);
	case 'f':
		v->type = JT_BOOL;
		return scan_word(s, "false", 5);
	case 'n':
		v->type = JT_NULL;
		return scan_word(s, "null", 4);
	default:
		return scan_number(s, v);
	}
}

/*
 * Decode one byte or escape of a scanned string at *sp into u[]; the
 * count of bytes written (1 to 4).  An unpaired surrogate gives U+FFFD;
 * the escape after an unpaired high surrogate is left for the next call.
 */
static size_t
dec1(const char **sp, const char *end, unsigned char u[4])
{
	const char	*p = *sp;
	long		 cp, lo;

	if (*p != '\\') {
		u[0] = (unsigned char)*p;
		*sp = p + 1;
		return 1;
	}
	if (p[1] != 'u') {
		switch (p[1]) {
		case 'b':
			u[0] = '\b';
			break;
		case 'f':
			u[0] = '\f';
			break;
		case 'n':
			u[0] = '\n';
			break;
		case 'r':
			u[0] = '\r';
			break;
		case 't':
			u[0] = '\t';
			break;
		default:		/* '"', '\\' or '/' */
			u[0] = (unsigned char)p[1];
			break;
		}
		*sp = p + 2;
		return 1;
	}
	cp = hex4(p + 2);
	p += 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		lo = -1;
		if (end - p >= 6 && p[0] == '\\' && p[1] == 'u')
			lo = hex4(p + 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		} else
			cp = 0xfffd;
	} else if (cp >= 0xdc00 && cp <= 0xdfff)
		cp = 0xfffd;
	*sp = p;
	return put_utf8(cp, u);
}

/* Code point cp (< 0x110000) as UTF-8 into u[]; the count of bytes. */
static size_t
put_utf8(long cp, unsigned char u[4])
{
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode all of v (JT_STR) into dst, which has room for v->n bytes (an
 * escape is never shorter than what it stands for); the decoded length.
 */
static size_t
decode(const struct jval *v, char *dst)
{
	const char	*p = v->s, *end = v->s + v->n, *bs;
	size_t		 len = 0, k;

	if (!v->esc) {
		memcpy(dst, v->s, v->n);
		return v->n;
	}
	while (p < end) {
		bs = memchr(p, '\\', (size_t)(end - p));
		if (bs == NULL)
			bs = end;
		memcpy(dst + len, p, (size_t)(bs - p));
		len += (size_t)(bs - p);
		p = bs;
		if (p < end) {
			k = dec1(&p, end, (unsigned char *)dst + len);
			len += k;
		}
	}
	return len;
}

/* The escape at p (end - p bytes left) is \\u of a high surrogate. */
static int
is_hi_esc(const char *p, const char *end)
{
	long	 cp;

	if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return 0;
	cp = hex4(p + 2);
	return cp >= 0xd800 && cp <= 0xdbff;
}

/*
 * decode() for a text of a stream with a pending high surrogate *hi (0:
 * none): a low surrogate escape at the start completes it, anything else
 * makes it U+FFFD; a high surrogate escape that ends v is left in *hi.
 * dst has room for v->n + 3 bytes.
 */
static size_t
decode_carry(const struct jval *v, char *dst, unsigned int *hi)
{
	const char	*p = v->s, *end = v->s + v->n, *bs;
	size_t		 len = 0;
	long		 lo;

	if (*hi != 0) {
		lo = -1;
		if (end - p >= 6 && p[0] == '\\' && p[1] == 'u')
			lo = hex4(p + 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			len = put_utf8(0x10000 + (((long)*hi - 0xd800) << 10) +
			    (lo - 0xdc00), (unsigned char *)dst);
			p += 6;
		} else
			len = put_utf8(0xfffd, (unsigned char *)dst);
		*hi = 0;
	}
	if (!v->esc) {
		memcpy(dst + len, p, (size_t)(end - p));
		return len + (size_t)(end - p);
	}
	while (p < end) {
		bs = memchr(p, '\\', (size_t)(end - p));
		if (bs == NULL)
			bs = end;
		memcpy(dst + len, p, (size_t)(bs - p));
		len += (size_t)(bs - p);
		p = bs;
		if (p == end)
			break;
		if (end - p == 6 && is_hi_esc(p, end)) {
			*hi = (unsigned int)hex4(p + 2);
			break;
		}
		len += dec1(&p, end, (unsigned char *)dst + len);
	}
	return len;
}

/*
 * Decode v (JT_STR) as a C string into dst[size]: up to the first NUL,
 * cut to size - 1 bytes, like snprintf("%s").
 */
static void
decode_cstr(const struct jval *v, char *dst, size_t size)
{
	const char	*p = v->s, *end = v->s + v->n;
	unsigned char	 u[4];
	size_t		 len = 0, k, i;

	while (p < end) {
		k = dec1(&p, end, u);
		for (i = 0; i < k; i++) {
			if (u[i] == '\0' || len + 1 >= size)
				goto out;
			dst[len++] = (char)u[i];
		}
	}
out:
	dst[len] = '\0';
}

/*
 * Key k (JT_STR, with escapes) names w (wn bytes), the key read as a C
 * string like json-c does.
 */
static int
key_is_esc(const struct jval *k, const char *w, size_t wn)
{
	const char	*p = k->s, *end = k->s + k->n;
	unsigned char	 u[4];
	size_t		 n, i, j;

	j = 0;
	while (p < end) {
		n = dec1(&p, end, u);
		for (i = 0; i < n; i++) {
			if (u[i] == '\0')
				return j == wn;
			if (j == wn || (unsigned char)w[j] != u[i])
				return 0;
			j++;
		}
	}
	return j == wn;
}

/* Key k (JT_STR) names the string literal lit. */
#define KEY_IS(k, lit)	((k)->esc ?					\
	key_is_esc((k), (lit), sizeof(lit) - 1) :			\
	((k)->n == sizeof(lit) - 1 && memcmp((k)->s, (lit), (k)->n) == 0))

/*
 * The object at s->p (a '{'), at level: the value of the key names[i]
 * goes to outs[i] (names NULL-terminated; a later duplicate wins), all
 * other values are checked and skipped.  Returns 0, or -1 on bad JSON.
 */
static int
scan_fields(struct scan *s, int level, const char *const *names,
    struct jval *const *outs)
{
	struct jval	 key;
	size_t		 n = 0, i;
	int		 r;

	s->p++;
	for (;;) {
		r = obj_next(s, &n, &key);
		if (r <= 0)
			break;
		for (i = 0; names[i] != NULL; i++)
			if (key.esc ? key_is_esc(&key, names[i],
			    strlen(names[i])) : (key.n == strlen(names[i]) &&
			    memcmp(key.s, names[i], key.n) == 0))
				break;
		if (skip_value(s, level + 1, outs[i]) != 0)
			return -1;
	}
	return r;
}

/* "delta": content, refusal, reasoning.  At s->p, level 3. */
static int
scan_delta(struct scan *s, int level, struct choice *c)
{
	static const char *const names[] = {
		"content", "refusal", "reasoning", "reasoning_content", NULL
	};
	struct jval *const outs[] = {
		&c->content, &c->refusal, &c->reasoning, &c->reasoning_c, NULL
	};

	memset(&c->content, 0, sizeof(c->content));
	memset(&c->refusal, 0, sizeof(c->refusal));
	memset(&c->reasoning, 0, sizeof(c->reasoning));
	memset(&c->reasoning_c, 0, sizeof(c->reasoning_c));
	if (*s->p != '{')
		return skip_value(s, level, NULL);
	return scan_fields(s, level, names, outs);
}

/* One element of "choices", an object at s->p (level 2). */
static int
scan_choice(struct scan *s, int level, struct choice *c)
{
	struct jval	 key;
	size_t		 n = 0;
	int		 r;

	memset(c, 0, sizeof(*c));
	s->p++;
	for (;;) {
		r = obj_next(s, &n, &key);
		if (r <= 0)
			break;
		if (KEY_IS(&key, "index")) {
			c->has_index = 1;
			r = skip_value(s, level + 1, &c->index);
		} else if (KEY_IS(&key, "finish_reason"))
			r = skip_value(s, level + 1, &c->finish);
		else if (KEY_IS(&key, "delta"))
			r = scan_delta(s, level + 1, c);
		else
			r = skip_value(s, level + 1, NULL);
		if (r != 0)
			return -1;
	}
	return r;
}

/* v is the integer 0 ("0" or "-0"; not 0.0 nor 0e0, as json-c). */
static int
is_int_zero(const struct jval *v)
{
	return v->type == JT_NUM && v->isint &&
	    ((v->n == 1 && v->s[0] == '0') ||
	    (v->n == 2 && v->s[0] == '-' && v->s[1] == '0'));
}

/*
 * "choices" at s->p (level 1 member): the element with "index" 0, else
 * the first element if it is an object without "index".
 */
static int
scan_choices(struct scan *s, int level, struct found *f)
{
	struct choice	 c;
	size_t		 n = 0;
	int		 r;

	f->has_choice = 0;
	memset(&f->pick, 0, sizeof(f->pick));
	if (*s->p != '[')
		return skip_value(s, level, NULL);
	s->p++;
	for (;;) {
		r = arr_next(s, &n);
		if (r <= 0)
			break;
		if (f->has_choice || *s->p != '{') {
			if (skip_value(s, level + 1, NULL) != 0)
				return -1;
			continue;
		}
		if (scan_choice(s, level + 1, &c) != 0)
			return -1;
		if (c.has_index ? is_int_zero(&c.index) : n == 1) {
			f->pick = c;
			f->has_choice = 1;
		}
	}
	return r;
}

/* A usage object at s->p: *obj, its two counts. */
static int
scan_usage(struct scan *s, int level, int *obj, struct jval *prompt,
    struct jval *completion)
{
	static const char *const names[] = {
		"prompt_tokens", "completion_tokens", NULL
	};
	struct jval *const outs[] = { prompt, completion, NULL };

	*obj = 0;
	memset(prompt, 0, sizeof(*prompt));
	memset(completion, 0, sizeof(*completion));
	if (*s->p != '{')
		return skip_value(s, level, NULL);
	*obj = 1;
	return scan_fields(s, level, names, outs);
}

/* Groq's "x_groq" at s->p: its "usage", if an object holds one. */
static int
scan_xgroq(struct scan *s, int level, struct found *f)
{
	struct jval	 key;
	size_t		 n = 0;
	int		 r;

	f->gusage_obj = 0;
	if (*s->p != '{')
		return skip_value(s, level, NULL);
	s->p++;
	for (;;) {
		r = obj_next(s, &n, &key);
		if (r <= 0)
			break;
		if (KEY_IS(&key, "usage"))
			r = scan_usage(s, level + 1, &f->gusage_obj,
			    &f->gprompt, &f->gcompletion);
		else
			r = skip_value(s, level + 1, NULL);
		if (r != 0)
			return -1;
	}
	return r;
}

/* "error" at s->p: any value; message, code and type if an object. */
static int
scan_error(struct scan *s, int level, struct found *f)
{
	static const char *const names[] = {
		"message", "code", "type", NULL
	};
	struct jval *const outs[] = { &f->emsg, &f->ecode, &f->etype, NULL };

	memset(&f->emsg, 0, sizeof(f->emsg));
	memset(&f->ecode, 0, sizeof(f->ecode));
	memset(&f->etype, 0, sizeof(f->etype));
	if (*s->p != '{')
		return skip_value(s, level, &f->error);
	memset(&f->error, 0, sizeof(f->error));
	f->error.type = JT_OBJ;
	return scan_fields(s, level, names, outs);
}

/* The whole payload: one object, then nothing. */
static int
scan_top(struct scan *s, struct found *f)
{
	struct jval	 key;
	size_t		 n = 0;
	int		 r;

	s->p++;				/* '{', checked by the caller */
	for (;;) {
		r = obj_next(s, &n, &key);
		if (r <= 0)
			break;
		if (KEY_IS(&key, "choices"))
			r = scan_choices(s, 2, f);
		else if (KEY_IS(&key, "usage"))
			r = scan_usage(s, 2, &f->usage_obj, &f->prompt,
			    &f->completion);
		else if (KEY_IS(&key, "x_groq"))
			r = scan_xgroq(s, 2, f);
		else if (KEY_IS(&key, "object"))
			r = skip_value(s, 2, &f->object);
		else if (KEY_IS(&key, "message"))
			r = skip_value(s, 2, &f->tmsg);
		else if (KEY_IS(&key, "code"))
			r = skip_value(s, 2, &f->tcode);
		else if (KEY_IS(&key, "type"))
			r = skip_value(s, 2, &f->ttype);
		else if (KEY_IS(&key, "error"))
			r = scan_error(s, 2, f);
		else
			r = skip_value(s, 2, NULL);
		if (r != 0)
			return -1;
	}
	if (r != 0)
		return -1;
	eat_ws(s);
	return s->p == s->end ? 0 : -1;
}

/*
 * A number token that is not an integer, as a double, like strtod() in
 * the "C" locale whatever the current one: the token is rebuilt as
 * <digits>e<exponent>, without a decimal point.  Past NUM_DIGITS_MAX
 * significant digits, a nonzero tail is kept as one final '1', which
 * rounds the same way at the magnitudes a count can have.
 */
static double
num_double(const struct jval *v)
{
	char		 buf[NUM_DIGITS_MAX + 32];
	const char	*p = v->s, *end = v->s + v->n;
	long long	 exp = 0, shift = 0;
	size_t		 nd = 0, len = 0;
	int		 neg = 0, eneg = 0, sticky = 0, frac = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; p < end && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			frac = 1;
			continue;
		}
		if (frac)
			shift--;
		if (nd == 0 && *p == '0')
			continue;
		if (nd < NUM_DIGITS_MAX) {
			buf[1 + nd++] = *p;
			continue;
		}
		shift++;
		if (*p != '0')
			sticky = 1;
	}
	if (p < end) {
		p++;
		if (*p == '+' || *p == '-') {
			eneg = *p == '-';
			p++;
		}
		for (; p < end; p++)
			if (exp < 1000000000000000000LL / 10)
				exp = exp * 10 + (*p - '0');
	}
	if (nd == 0)
		return neg ? -0.0 : 0.0;
	buf[0] = neg ? '-' : '+';
	len = 1 + nd;
	if (sticky) {
		buf[len++] = '1';
		shift--;
	}
	snprintf(buf + len, sizeof(buf) - len, "e%lld",
	    (eneg ? -exp : exp) + shift);
	return strtod(buf, NULL);
}

/*
 * usage.*_tokens as json-c's json_object_get_int64() gave it, clamped
 * to 0..LONG_MAX: integers saturate, doubles are truncated toward zero.
 */
static long
count(const struct jval *v)
{
	const char	*p;
	uint64_t	 n = 0;
	double		 d;

	if (v->type != JT_NUM || v->s[0] == '-')
		return 0;
	if (v->isint) {
		for (p = v->s; p < v->s + v->n; p++) {
			if (n > ((uint64_t)LONG_MAX - (uint64_t)(*p - '0')) /
			    10)
				return LONG_MAX;
			n = n * 10 + (uint64_t)(*p - '0');
		}
		return (long)n;
	}
	d = num_double(v);
	if (d >= (double)LONG_MAX)
		return LONG_MAX;
	if (d < 1.0)
		return 0;
	return (long)d;
}

/*
 * An integer token as json-c printed it: saturated to int64_t when
 * negative, to uint64_t otherwise.
 */
static void
int_text(const struct jval *v, char *dst, size_t size)
{
	const char	*p = v->s;
	uint64_t	 n = 0, max = UINT64_MAX;
	int		 neg = 0;

	if (*p == '-') {
		neg = 1;
		max = (uint64_t)INT64_MAX + 1;
		p++;
	}
	for (; p < v->s + v->n; p++) {
		if (n > (max - (uint64_t)(*p - '0')) / 10) {
			n = max;
			break;
		}
		n = n * 10 + (uint64_t)(*p - '0');
	}
	snprintf(dst, size, "%s%" PRIu64, neg && n > 0 ? "-" : "", n);
}

/* A decoded copy of v (JT_STR, non-empty) into *dst; its length. */
static enum chunk_status
take_str(const struct jval *v, char **dst, size_t *lenp)
{
	size_t	 n;

	*dst = malloc(v->n + 1);
	if (*dst == NULL)
		return CHUNK_ERR_NOMEM;
	n = decode(v, *dst);
	(*dst)[n] = '\0';
	if (lenp != NULL)
		*lenp = n;
	return CHUNK_OK;
}

/* s is one of the NULL-terminated names. */
static int
in_list(const char *s, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(s, *names) == 0)
			return 1;
	return 0;
}

/*
 * The kind of an in-band error from its code and type: the codes of
 * OpenAI (invalid_api_key, rate_limit_exceeded), OpenRouter (401, 429:
 * the HTTP status as a number), Anthropic-style types (authentication_
 * error, rate_limit_error) and OpenAI's 429 types (requests, tokens).
 */
static enum chunk_errkind
error_kind(const char *code, const char *type)
{
	static const char *const auth[] = {
		"401", "403", "invalid_api_key", "authentication_error",
		"permission_error", "invalid_authentication", "unauthorized",
		NULL
	};
	static const char *const rate[] = {
		"429", "rate_limit_exceeded", "rate_limit_error",
		"insufficient_quota", NULL
	};
	static const char *const rate_types[] = {
		"requests", "tokens", NULL
	};

	if (in_list(code, auth) || in_list(type, auth))
		return CHUNK_EK_AUTH;
	if (in_list(code, rate) || in_list(type, rate) ||
	    in_list(type, rate_types))
		return CHUNK_EK_RATE;
	return CHUNK_EK_OTHER;
}

/* The error fields: a message and a code, whatever the shape. */
static enum chunk_status
make_error(const struct found *f, struct chunk *out)
{
	const struct jval	*m = NULL, *code = NULL;
	char			 ctext[64];

	out->is_error = 1;
	if (f->error.type == JT_STR)
		m = &f->error;
	else if (f->error.type == JT_OBJ) {
		if (f->emsg.type == JT_STR)
			m = &f->emsg;
		if (f->ecode.type == JT_STR ||
		    (f->ecode.type == JT_NUM && f->ecode.isint))
			code = &f->ecode;
		else if (f->etype.type == JT_STR)
			code = &f->etype;
	}
	if (code != NULL && code->type == JT_NUM)
		int_text(code, out->error_code, sizeof(out->error_code));
	else if (code != NULL)
		decode_cstr(code, out->error_code, sizeof(out->error_code));
	ctext[0] = '\0';
	if (f->error.type == JT_OBJ) {
		if (f->etype.type == JT_STR)
			decode_cstr(&f->etype, out->error_type,
			    sizeof(out->error_type));
		if (f->ecode.type == JT_NUM && f->ecode.isint)
			int_text(&f->ecode, ctext, sizeof(ctext));
		else if (f->ecode.type == JT_STR)
			decode_cstr(&f->ecode, ctext, sizeof(ctext));
	}
	out->error_kind = error_kind(ctext, out->error_type);
	if (m != NULL) {
		/* Cut at the first NUL, as a C string. */
		out->error_message = malloc(m->n + 1);
		if (out->error_message == NULL)
			return CHUNK_ERR_NOMEM;
		decode_cstr(m, out->error_message, m->n + 1);
		if (out->error_message[0] != '\0')
			return CHUNK_OK;
		free(out->error_message);
	}
	out->error_message = strdup("unknown error");
	if (out->error_message == NULL)
		return CHUNK_ERR_NOMEM;
	return CHUNK_OK;
}

/*
 * The text of v (JT_STR, or anything else: none) into *dst, *lenp, with
 * the stream's pending surrogate *hi (NULL: no carrying); flush turns a
 * surrogate still pending at the end into U+FFFD.  *dst stays NULL when
 * nothing decodes (an empty text, a text that is only a carried half).
 */
static enum chunk_status
take_text(const struct jval *v, unsigned int *hi, int flush, char **dst,
    size_t *lenp)
{
	size_t	 n = 0;
	int	 has = v->type == JT_STR && v->n > 0;

	if (hi == NULL)
		return has ? take_str(v, dst, lenp) : CHUNK_OK;
	if (!has && !(flush && *hi != 0))
		return CHUNK_OK;
	/* 3 for a U+FFFD before the text, 3 after it. */
	*dst = malloc((has ? v->n : 0) + 7);
	if (*dst == NULL)
		return CHUNK_ERR_NOMEM;
	if (has)
		n = decode_carry(v, *dst, hi);
	if (flush && *hi != 0) {
		n += put_utf8(0xfffd, (unsigned char *)*dst + n);
		*hi = 0;
	}
	if (n == 0) {
		free(*dst);
		*dst = NULL;
		return CHUNK_OK;
	}
	(*dst)[n] = '\0';
	*lenp = n;
	return CHUNK_OK;
}

/* *out from what the scan found; *carry (if not NULL) is updated. */
static enum chunk_status
make_chunk(const struct found *f, struct chunk_carry *carry,
    struct chunk *out)
{
	const struct choice	*c = &f->pick;
	const struct jval	*rv;
	struct found		 verr;
	enum chunk_status	 rc;
	int			 flush;

	if (f->error.type != JT_NONE && f->error.type != JT_NULL) {
		rc = make_error(f, out);
		if (rc != CHUNK_OK)
			return rc;
	} else if (f->object.type == JT_STR && KEY_IS(&f->object, "error")) {
		/* vLLM: {"object":"error","message","type","code"}. */
		memset(&verr, 0, sizeof(verr));
		verr.error.type = JT_OBJ;
		verr.emsg = f->tmsg;
		verr.ecode = f->tcode;
		verr.etype = f->ttype;
		rc = make_error(&verr, out);
		if (rc != CHUNK_OK)
			return rc;
	}
	if (f->has_choice) {
		if (c->finish.type == JT_STR)
			decode_cstr(&c->finish, out->finish_reason,
			    sizeof(out->finish_reason));
		flush = out->finish_reason[0] != '\0';
		rc = take_text(&c->content, carry != NULL ? &carry->content_hi :
		    NULL, flush, &out->content, &out->content_len);
		if (rc != CHUNK_OK)
			return rc;
		/* Both names (newer vLLM): reasoning_content wins. */
		rv = c->reasoning_c.type == JT_STR && c->reasoning_c.n > 0 ?
		    &c->reasoning_c : &c->reasoning;
		rc = take_text(rv, carry != NULL ? &carry->reasoning_hi : NULL,
		    flush, &out->reasoning, &out->reasoning_len);
		if (rc != CHUNK_OK)
			return rc;
		if (c->refusal.type == JT_STR && c->refusal.n > 0) {
			rc = take_str(&c->refusal, &out->refusal, NULL);
			if (rc != CHUNK_OK)
				return rc;
		}
	}
	if (f->usage_obj) {
		out->has_usage = 1;
		out->prompt_tokens = count(&f->prompt);
		out->completion_tokens = count(&f->completion);
	} else if (f->gusage_obj) {
		out->has_usage = 1;
		out->prompt_tokens = count(&f->gprompt);
		out->completion_tokens = count(&f->gcompletion);
	}
	return CHUNK_OK;
}

enum chunk_status
chunk_parse(const char *data, size_t len, struct chunk *out)
{
	return chunk_parse_next(data, len, NULL, out);
}

enum chunk_status
chunk_parse_next(const char *data, size_t len, struct chunk_carry *carry,
    struct chunk *out)
{
	struct scan		 s;
	struct found		 f;
	struct chunk_carry	 next;
	struct jval		 none;
	enum chunk_status	 rc;

	memset(out, 0, sizeof(*out));
	while (len > 0 && is_ws(data[0])) {
		data++;
		len--;
	}
	while (len > 0 && is_ws(data[len - 1]))
		len--;
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		out->done = 1;
		if (carry == NULL)
			return CHUNK_OK;
		/* The halves still pending will never be completed. */
		memset(&none, 0, sizeof(none));
		next = *carry;
		rc = take_text(&none, &next.content_hi, 1, &out->content,
		    &out->content_len);
		if (rc == CHUNK_OK)
			rc = take_text(&none, &next.reasoning_hi, 1,
			    &out->reasoning, &out->reasoning_len);
		if (rc != CHUNK_OK) {
			chunk_free(out);
			return rc;
		}
		*carry = next;
		out->done = 1;
		return CHUNK_OK;
	}
	if (len == 0 || data[0] != '{' || len > (size_t)INT_MAX)
		return CHUNK_ERR_JSON;
	memset(&f, 0, sizeof(f));
	s.p = data;
	s.end = data + len;
	if (scan_top(&s, &f) != 0)
		return CHUNK_ERR_JSON;
	if (carry != NULL)
		next = *carry;
	rc = make_chunk(&f, carry != NULL ? &next : NULL, out);
	if (rc != CHUNK_OK)
		chunk_free(out);
	else if (carry != NULL)
		*carry = next;
	return rc;
}

void
chunk_free(struct chunk *c)
{
	free(c->content);
	free(c->refusal);
	free(c->reasoning);
	free(c->error_message);
	memset(c, 0, sizeof(*c));
}

const char *
chunk_strerror(enum chunk_status rc)
{
	if ((unsigned)rc >= CHUNK__MAX)
		return "unknown stream chunk error";
	return errs[rc];
}
