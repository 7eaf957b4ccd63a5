/*
 * fconn.h - one accepted FastCGI connection and the request it carries.
 *
 * The I/O around the pure parser of fcgi.c: fconn_begin() reads the
 * FCGI_BEGIN_REQUEST and every FCGI_PARAMS record under a deadline;
 * then the request's params are looked up with fconn_param(), its stdin
 * read with fconn_read() (each call returns after at most one socket
 * read that produced stdin bytes, and never waits past its deadline or
 * the connection's read timeout), its stdout written with
 * fconn_write()/fconn_flush() as STDOUT records (at most 65535 content
 * bytes, padded to 8; every send is bounded by SO_SNDTIMEO), and it ends
 * with fconn_end() (empty STDOUT, FCGI_END_REQUEST).  Management records
 * are answered as they are read.  fconn_free() closes the connection:
 * one connection carries one request (FCGI_KEEP_CONN is not honoured,
 * so an idle kept connection never holds a thread).
 *
 * Once the request is read, fconn_nonblock() makes the socket
 * non-blocking for a writer that serves many connections from one
 * thread (writer.h): what a send can't take now is kept in a backlog
 * (fconn_pending(), bounded by MJ_FCONN_BACKLOG_MAX) and sent by
 * fconn_drain() when the socket is writable again; later writes queue
 * behind it, so bytes keep their order.
 *
 * Not thread-safe: a connection belongs to one thread at a time.
 */
#ifndef MJ_FCONN_H
#define MJ_FCONN_H

#include <stddef.h>

#include "buf.h"
#include "fcgi.h"

enum fconn_status {
	FCONN_OK = 0,
	FCONN_TIMEOUT,		/* the caller's deadline passed */
	FCONN_STALLED,		/* one wait for bytes passed the read timeout */
	FCONN_GONE,		/* EOF, a socket error, or ABORT_REQUEST */
	FCONN_PROTOCOL,		/* the peer broke the protocol or a limit */
	FCONN_NOMEM,
	FCONN__MAX
};

/* Stdin bytes held between fconn_read() calls; also the read size. */
#define FCONN_IN_MAX	8192
/* Stdout bytes gathered into one record before it is sent. */
#define FCONN_OUT_MAX	8192
/*
 * The record buffer grows as writes need it, up to FCONN_OUT_MAX; past
 * this much it is given back after each send.  A stream's frames are a
 * few hundred bytes a flush: thousands of open streams each holding
 * the largest record they ever gathered would be most of their memory.
 */
#define FCONN_OUT_KEEP	1024

struct fconn {
	int		 fd;		/* owned; closed by fconn_free() */
	struct fcgi_parser p;
	long		 read_ms;	/* longest wait for bytes */
	enum fcgi_status perr;		/* why the parser stopped */
	int		 params_done;
	int		 in_done;	/* stdin ended */
	int		 gone;		/* EOF, error or ABORT_REQUEST */
	int		 wfail;		/* a write failed */
	int		 nb;		/* non-blocking (fconn_nonblock) */
	struct buf	 backlog;	/* bytes a send could not take yet */
	size_t		 bpos;		/* of them, sent already */
	size_t		 ipos, ilen;	/* stdin bytes in in[] */
	size_t		 olen;		/* stdout bytes in out[] */
	size_t		 ocap;		/* content room of out[] */
	char		*in;		/* FCONN_IN_MAX bytes, from the
					   first read to fconn_nonblock() */
	unsigned char	*out;		/* header, ocap bytes, padding room;
					   NULL until a write needs it */
};

/*
 * Take over the accepted socket fd (closed on failure too).  max_conns
 * is what FCGI_GET_VALUES answers.  NULL without memory.
 */
struct fconn	*fconn_new(int fd, unsigned max_conns);
/* Close the connection and free everything.  c may be NULL. */
void		 fconn_free(struct fconn *c);

/*
 * Read until the request's params are complete; give up at deadline
 * (clock_ms()).  FCONN_OK, or why not.
 */
enum fconn_status fconn_begin(struct fconn *c, long long deadline)
		    __attribute__((warn_unused_result));

/* A param's value (NUL-terminated), NULL if absent; see fcgi_param(). */
const char	*fconn_param(const struct fconn *c, const char *name);
/* The socket, for poll() (the engine watches it for the client leaving). */
int		 fconn_fd(const struct fconn *c);
/*
 * Bound every later wait for stdin to ms, and every blocked send to ms
 * (SO_SNDTIMEO).
 */
void		 fconn_timeouts(struct fconn *c, long ms);

/*
 * Read stdin into buf (size len > 0): *got gets the count, 0 at the end
 * of stdin (FCONN_OK).  Returns after the first socket read that gave
 * stdin bytes, at the deadline (FCONN_TIMEOUT), or after a wait longer
 * than the read timeout (FCONN_STALLED).
 */
enum fconn_status fconn_read(struct fconn *c, char *buf, size_t len,
		    long long deadline, size_t *got)
		    __attribute__((warn_unused_result));
/*
 * Did the web server give the request up?  Reads nothing; says whether
 * an FCGI_ABORT_REQUEST, EOF or error was seen already, the peer hung
 * up, or bytes are waiting after the request's stdin ended (only an
 * abort can follow, since no web server multiplexes).
 */
int		 fconn_gone(const struct fconn *c);

/* Queue stdout bytes (sent in records as the buffer fills). */
enum fconn_status fconn_write(struct fconn *c, const void *p, size_t n)
		    __attribute__((warn_unused_result));
/* Send what is queued now. */
enum fconn_status fconn_flush(struct fconn *c)
		    __attribute__((warn_unused_result));
/* Flush, then end stdout and the request (FCGI_END_REQUEST). */
enum fconn_status fconn_end(struct fconn *c, unsigned long app_status);

/*
 * Make the socket non-blocking (a writer on its own thread takes the
 * connection over); the stdin buffer goes (fconn_read() may still be
 * called, and allocates it again).  FCONN_OK or FCONN_GONE.
 */
enum fconn_status fconn_nonblock(struct fconn *c)
		    __attribute__((warn_unused_result));
/* Bytes waiting in the backlog (0 when blocking). */
size_t		 fconn_pending(const struct fconn *c);
/*
 * Send what the backlog holds until the socket would block.  FCONN_OK
 * (fconn_pending() may still be > 0), or FCONN_GONE.
 */
enum fconn_status fconn_drain(struct fconn *c)
		    __attribute__((warn_unused_result));

const char	*fconn_strerror(enum fconn_status);

#endif /* MJ_FCONN_H */
