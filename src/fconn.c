/*
 * fconn.c - a FastCGI connection's I/O over fcgi.c; see fconn.h.
 *
 * Every byte read is fed to the parser at once; the parser's stdin
 * callback appends to in[], and a socket read never asks for more than
 * in[] has room for, so stdin is never dropped nor grown without bound.
 * in[] exists while the request is read (fconn_nonblock() frees it),
 * and out[], the record being gathered, only as large as the writes
 * since the last send needed: a connection that streams for minutes
 * holds a few hundred bytes, not two 8 KiB buffers.
 * Reads wait in poll() with a timeout (the smaller of the caller's
 * deadline and the read timeout), so no read blocks past either; the
 * socket itself stays blocking for writes, which SO_SNDTIMEO bounds,
 * until fconn_nonblock(): then a send that would block keeps the rest
 * in the backlog, and every later send queues behind it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bounds.h"
#include "clock.h"
#include "fconn.h"

static const char *const errs[FCONN__MAX] = {
	"success",
	"deadline passed",
	"no bytes within the read timeout",
	"connection closed or request aborted",
	"FastCGI protocol error",
	"out of memory",
};

const char *
fconn_strerror(enum fconn_status st)
{
	if ((unsigned)st >= FCONN__MAX)
		return "unknown connection error";
	return errs[st];
}

/* Keep iov[0..n) in the backlog; -1 once it would pass its bound. */
static int
keep(struct fconn *c, const struct iovec *iov, int n)
{
	for (; n > 0; iov++, n--)
		if (buf_add(&c->backlog, iov->iov_base, iov->iov_len) !=
		    BUF_OK) {
			c->wfail = 1;
			return -1;
		}
	return 0;
}

/*
 * Send all of iov, bounded by SO_SNDTIMEO; non-blocking, what the socket
 * can't take now goes to the backlog.  -1 once a send fails.
 */
static int
send_all(struct fconn *c, struct iovec *iov, int n)
{
	struct msghdr	 m;
	ssize_t		 w;

	if (c->wfail)
		return -1;
	if (c->nb && c->bpos < c->backlog.len)
		return keep(c, iov, n);
	while (n > 0) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)n;
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (c->nb && (errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				return keep(c, iov, n);
			c->wfail = 1;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int
on_params(void *arg)
{
	struct fconn *c = arg;

	c->params_done = 1;
	return 0;
}

static int
on_in(void *arg, const char *p, size_t n)
{
	struct fconn *c = arg;

	/* The read that fed p asked for no more than in[] had room for. */
	if (n > FCONN_IN_MAX - c->ilen)
		return 1;
	memcpy(c->in + c->ilen, p, n);
	c->ilen += n;
	return 0;
}

static int
on_in_end(void *arg)
{
	struct fconn *c = arg;

	c->in_done = 1;
	return 0;
}

static int
on_abort(void *arg)
{
	struct fconn *c = arg;

	c->gone = 1;
	return 0;
}

static int
on_reply(void *arg, const unsigned char *p, size_t n)
{
	struct fconn	*c = arg;
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = n;
	/* A peer that doesn't read its answers loses the connection. */
	return send_all(c, &iov, 1) == 0 ? 0 : 1;
}

static void
set_sndtimeo(int fd, long ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

struct fconn *
fconn_new(int fd, unsigned max_conns)
{
	static const struct fcgi_callbacks cb = {
		NULL, on_params, on_in, on_in_end, on_abort, on_reply
	};
	struct fconn *c;

	c = malloc(sizeof(*c));
	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->read_ms = MJ_FCGI_HANDSHAKE_MS;
	c->perr = FCGI_OK;
	c->params_done = c->in_done = c->gone = c->wfail = 0;
	c->ipos = c->ilen = c->olen = c->ocap = 0;
	c->in = NULL;
	c->out = NULL;
	c->nb = 0;
	c->bpos = 0;
	buf_init(&c->backlog, MJ_FCONN_BACKLOG_MAX);
	fcgi_init(&c->p, max_conns, &cb, c);
	set_sndtimeo(fd, MJ_FCGI_HANDSHAKE_MS);
	return c;
}

void
fconn_free(struct fconn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	fcgi_free(&c->p);
	buf_free(&c->backlog);
	free(c->in);
	free(c->out);
	free(c);
}

int
fconn_fd(const struct fconn *c)
{
	return c->fd;
}

const char *
fconn_param(const struct fconn *c, const char *name)
{
	return fcgi_param(&c->p, name);
}

void
fconn_timeouts(struct fconn *c, long ms)
{
	c->read_ms = ms;
	set_sndtimeo(c->fd, ms);
}

/*
 * Wait for bytes (at most until deadline and read_ms), read once, feed
 * the parser.  FCONN_OK when bytes were fed.
 */
static enum fconn_status
fill(struct fconn *c, long long deadline)
{
	unsigned char	 raw[FCONN_IN_MAX];
	struct pollfd	 pf;
	long long	 now, wait;
	size_t		 room;
	ssize_t		 n;
	int		 rc;

	if (c->gone)
		return FCONN_GONE;
	if (c->perr != FCGI_OK)
		return c->perr == FCGI_ERR_NOMEM ? FCONN_NOMEM : FCONN_PROTOCOL;
	if (c->ipos == c->ilen)
		c->ipos = c->ilen = 0;
	if (c->in == NULL && (c->in = malloc(FCONN_IN_MAX)) == NULL)
		return FCONN_NOMEM;
	room = FCONN_IN_MAX - c->ilen;
	if (room == 0)
		return FCONN_OK;	/* the caller drains in[] first */
	for (;;) {
		now = clock_ms();
		if (now >= deadline)
			return FCONN_TIMEOUT;
		wait = deadline - now;
		if (wait > c->read_ms)
			wait = c->read_ms;
		pf.fd = c->fd;
		pf.events = POLLIN;
		pf.revents = 0;
		rc = poll(&pf, 1, (int)wait);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			c->gone = 1;
			return FCONN_GONE;
		}
		if (rc == 0) {
			if (clock_ms() >= deadline)
				return FCONN_TIMEOUT;
			if (wait >= c->read_ms)
				return FCONN_STALLED;
			continue;
		}
		n = recv(c->fd, raw, room, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			c->gone = 1;
			return FCONN_GONE;
		}
		c->perr = fcgi_feed(&c->p, raw, (size_t)n);
		if (c->perr != FCGI_OK)
			return c->perr == FCGI_ERR_NOMEM ? FCONN_NOMEM :
			    c->gone ? FCONN_GONE : FCONN_PROTOCOL;
		return c->gone ? FCONN_GONE : FCONN_OK;
	}
}

enum fconn_status
fconn_begin(struct fconn *c, long long deadline)
{
	enum fconn_status st;

	while (!c->params_done) {
		st = fill(c, deadline);
		if (st != FCONN_OK)
			return st;
	}
	return FCONN_OK;
}

enum fconn_status
fconn_read(struct fconn *c, char *buf, size_t len, long long deadline,
    size_t *got)
{
	enum fconn_status	 st;
	size_t			 k;

	*got = 0;
	for (;;) {
		if (c->ipos < c->ilen) {
			k = c->ilen - c->ipos;
			if (k > len)
				k = len;
			memcpy(buf, c->in + c->ipos, k);
			c->ipos += k;
			*got = k;
			return FCONN_OK;
		}
		if (c->gone)
			return FCONN_GONE;
		if (c->in_done)
			return FCONN_OK;
		st = fill(c, deadline);
		if (st != FCONN_OK)
			return st;
	}
}

int
fconn_gone(const struct fconn *c)
{
	struct pollfd	 pf;

	if (c->gone || c->wfail)
		return 1;
	pf.fd = c->fd;
	pf.events = POLLIN | POLLRDHUP;
	pf.revents = 0;
	if (poll(&pf, 1, 0) <= 0)
		return 0;
	/* Before stdin ended, bytes waiting are more of it. */
	return c->in_done ||
	    (pf.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Send out[] as one STDOUT record. */
static enum fconn_status
send_out(struct fconn *c)
{
	struct iovec	 iov;
	size_t		 pad;
	int		 rc;

	if (c->olen == 0)
		return c->wfail ? FCONN_GONE : FCONN_OK;
	pad = fcgi_padding(c->olen);
	fcgi_header(c->out, FCGI_STDOUT, c->p.req_id, c->olen, pad);
	memset(c->out + FCGI_HEADER_LEN + c->olen, 0, pad);
	iov.iov_base = c->out;
	iov.iov_len = FCGI_HEADER_LEN + c->olen + pad;
	c->olen = 0;
	/* A backlog copies what it keeps: out[] is free again now. */
	rc = send_all(c, &iov, 1);
	if (c->ocap > FCONN_OUT_KEEP) {
		free(c->out);
		c->out = NULL;
		c->ocap = 0;
	}
	return rc == 0 ? FCONN_OK : FCONN_GONE;
}

/*
 * Room in out[] for n more content bytes (olen + n <= FCONN_OUT_MAX):
 * grown by doubling from 256.  0, or -1 without memory (out[] as it
 * was).
 */
static int
out_room(struct fconn *c, size_t n)
{
	unsigned char	*p;
	size_t		 cap;

	if (c->olen + n <= c->ocap)
		return 0;
	for (cap = c->ocap ? c->ocap : 256; cap < c->olen + n; cap *= 2)
		;
	if (cap > FCONN_OUT_MAX)
		cap = FCONN_OUT_MAX;
	if ((p = realloc(c->out, FCGI_HEADER_LEN + cap + 8)) == NULL)
		return -1;
	c->out = p;
	c->ocap = cap;
	return 0;
}

enum fconn_status
fconn_write(struct fconn *c, const void *p, size_t n)
{
	static const unsigned char zeros[8];
	const unsigned char	*s = p;
	unsigned char		 h[FCGI_HEADER_LEN];
	struct iovec		 iov[3];
	size_t			 k, pad;

	if (c->wfail)
		return FCONN_GONE;
	if (n <= FCONN_OUT_MAX - c->olen && out_room(c, n) == 0) {
		memcpy(c->out + FCGI_HEADER_LEN + c->olen, s, n);
		c->olen += n;
		return FCONN_OK;
	}
	if (send_out(c) != FCONN_OK)
		return FCONN_GONE;
	/* Large (or no memory to gather it): straight out, in records of
	 * at most 65528 bytes. */
	while (n > 0) {
		k = n < FCGI_CONTENT_MAX - 7 ? n : FCGI_CONTENT_MAX - 7;
		pad = fcgi_padding(k);
		fcgi_header(h, FCGI_STDOUT, c->p.req_id, k, pad);
		iov[0].iov_base = h;
		iov[0].iov_len = sizeof(h);
		iov[1].iov_base = (void *)(uintptr_t)s;
		iov[1].iov_len = k;
		iov[2].iov_base = (void *)(uintptr_t)zeros;
		iov[2].iov_len = pad;
		if (send_all(c, iov, pad > 0 ? 3 : 2) != 0)
			return FCONN_GONE;
		s += k;
		n -= k;
	}
	return FCONN_OK;
}

enum fconn_status
fconn_flush(struct fconn *c)
{
	return send_out(c);
}

enum fconn_status
fconn_end(struct fconn *c, unsigned long app_status)
{
	unsigned char	 r[FCGI_HEADER_LEN + 16];
	struct iovec	 iov;

	if (send_out(c) != FCONN_OK)
		return FCONN_GONE;
	fcgi_header(r, FCGI_STDOUT, c->p.req_id, 0, 0);
	fcgi_end_request(r + FCGI_HEADER_LEN, c->p.req_id, app_status,
	    FCGI_REQUEST_COMPLETE);
	iov.iov_base = r;
	iov.iov_len = sizeof(r);
	return send_all(c, &iov, 1) == 0 ? FCONN_OK : FCONN_GONE;
}

enum fconn_status
fconn_nonblock(struct fconn *c)
{
	int fl;

	if ((fl = fcntl(c->fd, F_GETFL)) < 0 ||
	    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		c->wfail = 1;
		return FCONN_GONE;
	}
	c->nb = 1;
	/* No more reads: the stdin buffer goes unless bytes wait in it. */
	if (c->ipos == c->ilen) {
		free(c->in);
		c->in = NULL;
		c->ipos = c->ilen = 0;
	}
	return FCONN_OK;
}

size_t
fconn_pending(const struct fconn *c)
{
	return c->backlog.len - c->bpos;
}

enum fconn_status
fconn_drain(struct fconn *c)
{
	ssize_t w;

	while (c->bpos < c->backlog.len) {
		if (c->wfail)
			return FCONN_GONE;
		w = send(c->fd, c->backlog.data + c->bpos,
		    c->backlog.len - c->bpos, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return FCONN_OK;
		if (w <= 0) {
			c->wfail = 1;
			return FCONN_GONE;
		}
		c->bpos += (size_t)w;
	}
	/* Sent: give the memory back (a slow moment is no reason to
	 * hold it for the rest of a long stream). */
	buf_free(&c->backlog);
	c->bpos = 0;
	return c->wfail ? FCONN_GONE : FCONN_OK;
}
