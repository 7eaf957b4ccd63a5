/*
 * buf.h - a growable byte buffer with a maximum size.
 *
 * Every buffer is created with the largest size it may reach; an append
 * past it fails with BUF_TOO_BIG and leaves the buffer unchanged.  The
 * data is always NUL-terminated (the NUL is not counted in len), so text
 * can be handed to C string functions, but the buffer may hold NULs.
 */
#ifndef MJ_BUF_H
#define MJ_BUF_H

#include <stddef.h>

enum buf_status {
	BUF_OK = 0,
	BUF_NOMEM,		/* allocation failed */
	BUF_TOO_BIG,		/* append would exceed max */
	BUF__MAX
};

struct buf {
	char	*data;		/* owned; NULL until the first append */
	size_t	 len;		/* bytes used, excluding the NUL */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* largest len allowed */
};

/* Set up an empty buffer that may grow to max bytes. Never fails. */
void	buf_init(struct buf *, size_t max);
/* Release the data; the buffer is empty again and may be reused. */
void	buf_free(struct buf *);
/* Forget the contents but keep the allocation. */
void	buf_reset(struct buf *);
/*
 * Make room for extra more bytes in one allocation (appends up to them
 * then don't reallocate); the contents don't change.  BUF_TOO_BIG past
 * the maximum.
 */
enum buf_status buf_reserve(struct buf *, size_t extra)
	__attribute__((warn_unused_result));
/* Append n bytes. */
enum buf_status buf_add(struct buf *, const void *, size_t)
	__attribute__((warn_unused_result));
/* Append a NUL-terminated string. */
enum buf_status buf_adds(struct buf *, const char *)
	__attribute__((warn_unused_result));
/* Append formatted text. */
enum buf_status buf_printf(struct buf *, const char *, ...)
	__attribute__((warn_unused_result, format(printf, 2, 3)));
/* Append s as the body of a JSON string (no quotes added). */
enum buf_status buf_add_json_str(struct buf *, const char *, size_t)
	__attribute__((warn_unused_result));
/*
 * Take the data out: *out gets a NUL-terminated heap string the caller
 * frees with free(), *lenp (if not NULL) its length; the buffer is left
 * empty.  An empty buffer gives a freshly allocated "".  Returns BUF_NOMEM
 * if that allocation fails.
 */
enum buf_status buf_take(struct buf *, char **out, size_t *lenp)
	__attribute__((warn_unused_result));

#endif /* MJ_BUF_H */
