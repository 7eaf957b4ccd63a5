/*
 * sseparse.c - incremental text/event-stream parser; see sseparse.h.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "sseparse.h"

static const char *const errs[SSEP__MAX] = {
	"ok",					/* SSEP_OK */
	"event stream line or event too big",	/* SSEP_ERR_TOO_BIG */
	"out of memory",			/* SSEP_ERR_NOMEM */
	"event stream stopped by callback",	/* SSEP_ERR_CALLBACK */
};

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

void
ssep_init(struct ssep *s, size_t max_event)
{
	size_t	 linemax;

	linemax = max_event + SSEP_LINE_SLACK;
	if (linemax < max_event)
		linemax = max_event;
	buf_init(&s->line, linemax);
	buf_init(&s->data, max_event);
	buf_init(&s->event, linemax);
	s->has_data = 0;
	s->last_cr = 0;
	s->bom = 0;
	s->err = SSEP_OK;
}

void
ssep_free(struct ssep *s)
{
	buf_free(&s->line);
	buf_free(&s->data);
	buf_free(&s->event);
	s->has_data = 0;
	s->last_cr = 0;
}

static enum ssep_status
from_buf(enum buf_status rc)
{
	if (rc == BUF_OK)
		return SSEP_OK;
	if (rc == BUF_TOO_BIG)
		return SSEP_ERR_TOO_BIG;
	return SSEP_ERR_NOMEM;
}

/* §9.2.6 "dispatch the event". */
static enum ssep_status
dispatch(struct ssep *s, ssep_event_fn fn, void *arg)
{
	const char	*type, *data;
	int		 stop;

	if (!s->has_data) {
		buf_reset(&s->event);
		return SSEP_OK;
	}
	type = s->event.len > 0 ? s->event.data : "message";
	data = s->data.data != NULL ? s->data.data : "";
	stop = fn(arg, type, data, s->data.len);
	buf_reset(&s->data);
	buf_reset(&s->event);
	s->has_data = 0;
	return stop ? SSEP_ERR_CALLBACK : SSEP_OK;
}

/* §9.2.6 "process the field". */
static enum ssep_status
field(struct ssep *s, const char *name, size_t nlen, const char *val,
    size_t vlen)
{
	enum buf_status	 rc;

	if (nlen == 4 && memcmp(name, "data", 4) == 0) {
		if (s->has_data) {
			rc = buf_add(&s->data, "\n", 1);
			if (rc != BUF_OK)
				return from_buf(rc);
		}
		s->has_data = 1;
		return from_buf(buf_add(&s->data, val, vlen));
	}
	if (nlen == 5 && memcmp(name, "event", 5) == 0) {
		buf_reset(&s->event);
		return from_buf(buf_add(&s->event, val, vlen));
	}
	/* "id", "retry" and unknown fields: ignored. */
	return SSEP_OK;
}

/* One complete line p[0..n), without its line end. */
static enum ssep_status
line(struct ssep *s, const char *p, size_t n, ssep_event_fn fn, void *arg)
{
	const char	*colon, *val;
	size_t		 nlen, vlen;

	if (n == 0)
		return dispatch(s, fn, arg);
	if (p[0] == ':')
		return SSEP_OK;
	colon = memchr(p, ':', n);
	if (colon == NULL)
		return field(s, p, n, "", 0);
	nlen = (size_t)(colon - p);
	val = colon + 1;
	vlen = n - nlen - 1;
	if (vlen > 0 && val[0] == ' ') {
		val++;
		vlen--;
	}
	return field(s, p, nlen, val, vlen);
}

/*
 * Consume bytes that may be a leading BOM.  Returns how many bytes of p
 * were eaten.  A partial match that fails gives its bytes back to the
 * line, since they were data after all.
 */
static size_t
skip_bom(struct ssep *s, const char *p, size_t n, enum ssep_status *rc)
{
	size_t	 i;

	*rc = SSEP_OK;
	for (i = 0; i < n && s->bom < 3; i++) {
		if ((unsigned char)p[i] != bom[s->bom]) {
			*rc = from_buf(buf_add(&s->line, bom, (size_t)s->bom));
			s->bom = 3;
			return i;
		}
		s->bom++;
	}
	return i;
}

enum ssep_status
ssep_feed(struct ssep *s, const char *p, size_t n, ssep_event_fn fn,
    void *arg)
{
	enum ssep_status rc;
	size_t		 i, start;
	char		 c;

	if (s->err != SSEP_OK)
		return s->err;
	i = 0;
	if (s->bom < 3) {
		i = skip_bom(s, p, n, &rc);
		if (rc != SSEP_OK)
			goto err;
	}
	while (i < n) {
		if (s->last_cr) {
			s->last_cr = 0;
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		start = i;
		while (i < n && p[i] != '\n' && p[i] != '\r')
			i++;
		if (i == n) {
			/* Unfinished line: keep it for the next feed. */
			rc = from_buf(buf_add(&s->line, p + start, i - start));
			if (rc != SSEP_OK)
				goto err;
			break;
		}
		c = p[i++];
		if (c == '\r')
			s->last_cr = 1;
		if (s->line.len == 0) {
			/* Whole line in this feed: no copy. */
			if (i - 1 - start > s->line.max) {
				rc = SSEP_ERR_TOO_BIG;
				goto err;
			}
			rc = line(s, p + start, i - 1 - start, fn, arg);
		} else {
			rc = from_buf(buf_add(&s->line, p + start,
			    i - 1 - start));
			if (rc != SSEP_OK)
				goto err;
			rc = line(s, s->line.data, s->line.len, fn, arg);
			buf_reset(&s->line);
		}
		if (rc != SSEP_OK)
			goto err;
	}
	return SSEP_OK;
err:
	s->err = rc;
	return rc;
}

int
ssep_pending(const struct ssep *s)
{
	return s->line.len > 0 || s->has_data ||
	    (s->bom > 0 && s->bom < 3);
}

const char *
ssep_strerror(enum ssep_status rc)
{
	if ((unsigned)rc >= SSEP__MAX)
		return "unknown event stream error";
	return errs[rc];
}
