/*
 * multipart.h - a streaming multipart/form-data parser.
 *
 * Implements the body grammar of RFC 2046 §5.1.1 (multipart: preamble,
 * dash-boundary, transport padding, close-delimiter, epilogue) as used by
 * RFC 7578 (multipart/form-data: each part has a Content-Disposition of
 * type "form-data" with a "name" parameter, optionally "filename", and an
 * optional Content-Type).  mp_boundary() reads the boundary out of the
 * request's Content-Type header (RFC 2045 §5.1 parameter syntax).
 *
 * The parser is pure code over (buf, len): no I/O, no allocation.  The
 * state is a caller-owned struct mp_parser; bytes arrive in any split
 * through mp_feed() and leave through callbacks.  Part bodies are passed
 * through, never buffered: only the length of a partial delimiter match
 * is kept across feeds.  A part's header block is buffered, bounded by
 * MJ_MP_HEADER_MAX; parts are bounded by MJ_MP_PARTS_MAX (src/bounds.h).
 *
 * It does not decode Content-Transfer-Encoding (RFC 7578 §4.7 deprecates
 * it), does not read filename* (RFC 7578 §4.2 says not to use it), and
 * does not interpret part bodies (size limits per field are the caller's
 * concern).  See docs/internals/multipart.md for the contract.
 */
#ifndef MJ_MULTIPART_H
#define MJ_MULTIPART_H

#include <stddef.h>

#include "bounds.h"

enum mp_status {
	MP_OK = 0,
	MP_ERR_NOT_MULTIPART,	/* Content-Type is not multipart/form-data */
	MP_ERR_BOUNDARY,	/* boundary missing, empty, too long, bad */
	MP_ERR_SYNTAX,		/* bad delimiter line or part header */
	MP_ERR_HEADER_TOO_BIG,	/* part header block over MJ_MP_HEADER_MAX */
	MP_ERR_TOO_MANY_PARTS,	/* more than MJ_MP_PARTS_MAX parts */
	MP_ERR_NO_NAME,		/* no form-data Content-Disposition name */
	MP_ERR_TRUNCATED,	/* body ended before the close delimiter */
	MP_ERR_CALLBACK,	/* a callback asked to stop */
	MP__MAX
};

/* Where the parser is in the body; see docs/internals/multipart.md. */
enum mp_state {
	MP_S_PREAMBLE = 0,	/* before the first delimiter; discarded */
	MP_S_DELIM,		/* just after "--boundary" */
	MP_S_DASH,		/* after "--boundary-" */
	MP_S_PAD,		/* in transport padding after the boundary */
	MP_S_DELIM_CR,		/* after the CR that ends a delimiter line */
	MP_S_HEADERS,		/* in a part's header block */
	MP_S_DATA,		/* in a part's body */
	MP_S_EPILOGUE,		/* after the close delimiter; discarded */
	MP_S__MAX
};

/* "\r\n--" plus the boundary. */
#define MP_DELIM_MAX	(4 + MJ_MP_BOUNDARY_MAX)

/*
 * Callbacks; any pointer may be NULL.  Each returns 0 to go on, nonzero
 * to stop the parse: mp_feed() then returns MP_ERR_CALLBACK.
 */
struct mp_callbacks {
	/*
	 * A part begins.  The strings are NUL-terminated and valid only
	 * during the call; filename and content_type are NULL if absent.
	 */
	int	(*part_begin)(void *arg, const char *name,
		    const char *filename, const char *content_type);
	/* Body bytes of the current part, len > 0, in any split. */
	int	(*part_data)(void *arg, const char *data, size_t len);
	/* The current part ended at a valid delimiter line. */
	int	(*part_end)(void *arg);
};

/*
 * Parser state: public so the caller can own it (on the stack or in the
 * request struct), but set up only by mp_init() and changed only by
 * mp_feed() and mp_finish().  It holds no pointers to free.
 */
struct mp_parser {
	enum mp_state	 state;
	enum mp_status	 err;		/* sticky; MP_OK while healthy */
	struct mp_callbacks cb;		/* copied at mp_init() */
	void		*arg;		/* passed to the callbacks; borrowed */
	char		 delim[MP_DELIM_MAX + 1]; /* "\r\n--" boundary NUL */
	size_t		 dlen;		/* bytes in delim */
	size_t		 m;		/* delim bytes matched after its CR */
	int		 cr;		/* a CR is held before the match */
	int		 inpart;	/* a part is open (begun, not ended) */
	size_t		 nparts;	/* parts begun so far */
	size_t		 off;		/* body bytes consumed so far */
	size_t		 hlen;		/* bytes in hdr */
	size_t		 line;		/* offset in hdr of the current line */
	size_t		 cd_off;	/* Content-Disposition value in hdr */
	size_t		 cd_len;
	size_t		 ct_off;	/* Content-Type value in hdr */
	size_t		 ct_len;
	int		 has_cd;	/* Content-Disposition line seen */
	int		 has_ct;	/* Content-Type line seen */
	char		 hdr[MJ_MP_HEADER_MAX]; /* current header block */
	char		 val[MJ_MP_HEADER_MAX + 8]; /* decoded values, NULs */
};

/*
 * Read the boundary parameter of a Content-Type header value such as
 * "multipart/form-data; charset=utf-8; boundary=\"a b\"".  Type and
 * parameter names are case-insensitive; the value may be a token or a
 * quoted-string (backslash escapes honoured).  On MP_OK, out holds the
 * boundary NUL-terminated; on error out is "" (if outsz > 0).  Returns
 * MP_ERR_NOT_MULTIPART if content_type is NULL or another type,
 * MP_ERR_BOUNDARY if the parameters are malformed, or the boundary is
 * missing, repeated, empty, over MJ_MP_BOUNDARY_MAX bytes, made of
 * characters outside RFC 2046 bchars, ends in a space, or does not fit
 * in outsz bytes with its NUL.  Pure; thread-safe.
 */
enum mp_status	mp_boundary(const char *content_type, char *out,
		    size_t outsz)
	__attribute__((warn_unused_result));

/*
 * Set up p to parse a body delimited by boundary (as mp_boundary() gives
 * it; copied).  cb may be NULL; it is copied; arg is passed to every
 * callback.  An invalid boundary (NULL, empty, too long, bad characters)
 * makes every later mp_feed() and mp_finish() return MP_ERR_BOUNDARY.
 */
void		mp_init(struct mp_parser *p, const char *boundary,
		    const struct mp_callbacks *cb, void *arg);

/*
 * Parse the next len bytes of the body (buf may be NULL if len is 0).
 * Consumes all of them, calling the callbacks on the way, and returns
 * MP_OK, or stops at the first fault and returns its status.  Errors are
 * sticky: once one is returned, every later mp_feed() and mp_finish()
 * returns it too.  Bytes after the close delimiter are ignored.
 */
enum mp_status	mp_feed(struct mp_parser *p, const char *buf, size_t len)
	__attribute__((warn_unused_result));

/*
 * The body has ended.  Returns MP_OK if the close delimiter was seen,
 * else the sticky error, else MP_ERR_TRUNCATED (which then sticks).  It
 * never calls a callback: a part left open is not ended.
 */
enum mp_status	mp_finish(struct mp_parser *p)
	__attribute__((warn_unused_result));

/* A sentence for a person; never NULL, also for out-of-range values. */
const char	*mp_strerror(enum mp_status);

#endif /* MJ_MULTIPART_H */
