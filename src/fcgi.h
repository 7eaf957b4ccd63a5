/*
 * fcgi.h - the FastCGI 1.0 record layer, as a pure push parser.
 *
 * Reads what a web server sends on one FastCGI connection: records
 * (version 1, type, requestId, contentLength, paddingLength, FastCGI
 * 1.0 §3.3) and the name-value pairs of FCGI_PARAMS and FCGI_GET_VALUES
 * (§3.4: 1- or 4-byte lengths; a pair may be split across records and
 * across feeds).  The state is a caller-owned struct fcgi_parser; bytes
 * arrive in any split through fcgi_feed(), which consumes all of them or
 * fails with a sticky error, and leave through callbacks.
 *
 * The parser answers the protocol itself, through the reply callback
 * (bytes to send back, one whole record per call, at most
 * FCGI_REPLY_MAX bytes):
 *   - FCGI_GET_VALUES: FCGI_GET_VALUES_RESULT naming each known variable
 *     asked for at most once (FCGI_MAX_CONNS, FCGI_MAX_REQS,
 *     FCGI_MPXS_CONNS=0), whatever the query repeats;
 *   - another management record (requestId 0): FCGI_UNKNOWN_TYPE;
 *   - FCGI_BEGIN_REQUEST with a role other than RESPONDER:
 *     FCGI_END_REQUEST with FCGI_UNKNOWN_ROLE;
 *   - a second FCGI_BEGIN_REQUEST while a request is open (another
 *     requestId: multiplexing): FCGI_END_REQUEST with
 *     FCGI_CANT_MPX_CONN.  Records of other request ids are ignored.
 * One connection carries one request: the caller closes it after the
 * answer whatever FCGI_KEEP_CONN says (see docs/internals/fastcgi.md).
 *
 * Bounds (src/bounds.h): the params of a request are kept in an arena
 * of at most MJ_FCGI_PARAMS_MAX bytes (the only allocation, grown as
 * they come), at most MJ_FCGI_PARAMS_COUNT_MAX pairs, names of at most
 * MJ_FCGI_NAME_MAX bytes; a GET_VALUES record has at most
 * MJ_FCGI_MGMT_MAX content bytes.  Stdin is passed through, never
 * buffered.  The record encoders at the end serve the output side.
 */
#ifndef MJ_FCGI_H
#define MJ_FCGI_H

#include <stddef.h>

#include "bounds.h"
#include "buf.h"

/* Record types (FastCGI 1.0 §8). */
#define FCGI_BEGIN_REQUEST	1
#define FCGI_ABORT_REQUEST	2
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_STDERR		7
#define FCGI_DATA		8
#define FCGI_GET_VALUES		9
#define FCGI_GET_VALUES_RESULT	10
#define FCGI_UNKNOWN_TYPE	11
/* Roles, flags and protocol statuses. */
#define FCGI_RESPONDER		1
#define FCGI_KEEP_CONN		1
#define FCGI_REQUEST_COMPLETE	0
#define FCGI_CANT_MPX_CONN	1
#define FCGI_OVERLOADED		2
#define FCGI_UNKNOWN_ROLE	3

#define FCGI_HEADER_LEN		8
/* The largest record content (contentLength is 16 bits). */
#define FCGI_CONTENT_MAX	65535
/* The largest reply record: GET_VALUES_RESULT with all three names. */
#define FCGI_REPLY_MAX		96

enum fcgi_status {
	FCGI_OK = 0,
	FCGI_ERR_VERSION,	/* a record's version is not 1 */
	FCGI_ERR_PROTOCOL,	/* record out of place or malformed */
	FCGI_ERR_TOO_BIG,	/* GET_VALUES over MJ_FCGI_MGMT_MAX */
	FCGI_ERR_PARAMS_TOO_BIG, /* params over MJ_FCGI_PARAMS_MAX */
	FCGI_ERR_TOO_MANY_PARAMS, /* over MJ_FCGI_PARAMS_COUNT_MAX */
	FCGI_ERR_NAME_TOO_LONG,	/* a name over MJ_FCGI_NAME_MAX */
	FCGI_ERR_PAIR,		/* a name-value pair cut by the end */
	FCGI_ERR_TRUNCATED,	/* input ended inside a record/request */
	FCGI_ERR_NOMEM,
	FCGI_ERR_CALLBACK,	/* a callback asked to stop */
	FCGI__MAX
};

/* Where the request of the connection is. */
enum fcgi_phase {
	FCGI_P_IDLE = 0,	/* no FCGI_BEGIN_REQUEST accepted yet */
	FCGI_P_PARAMS,		/* begun; reading FCGI_PARAMS */
	FCGI_P_STDIN,		/* params complete; reading FCGI_STDIN */
	FCGI_P_DONE,		/* stdin ended (empty FCGI_STDIN) */
	FCGI_P__MAX
};

/*
 * Callbacks; any pointer may be NULL.  Each returns 0 to go on, nonzero
 * to stop: fcgi_feed() then returns FCGI_ERR_CALLBACK.
 */
struct fcgi_callbacks {
	/* A responder request begins (flags: FCGI_KEEP_CONN). */
	int	(*begin)(void *arg, unsigned id, unsigned flags);
	/* Its params are complete: fcgi_param() answers from now on. */
	int	(*params)(void *arg);
	/* Stdin bytes, n > 0, in any split. */
	int	(*in)(void *arg, const char *p, size_t n);
	/* Stdin ended. */
	int	(*in_end)(void *arg);
	/* The web server gave the request up (FCGI_ABORT_REQUEST). */
	int	(*abort)(void *arg);
	/* Send these bytes back: one whole record, n <= FCGI_REPLY_MAX. */
	int	(*reply)(void *arg, const unsigned char *p, size_t n);
};

/* Name-value pair decoding state (shared by PARAMS and GET_VALUES). */
struct fcgi_nv {
	int		 st;		/* NV_* in fcgi.c */
	unsigned char	 lb[4];		/* a 4-byte length being read */
	size_t		 lbn;		/* bytes of it read */
	size_t		 nlen, vlen;	/* the pair's lengths */
	size_t		 left;		/* name or value bytes still to come */
};

/*
 * Parser state: public so the caller can own it, but set up only by
 * fcgi_init() and changed only by fcgi_feed() and fcgi_finish().
 * Release with fcgi_free().
 */
struct fcgi_parser {
	enum fcgi_status err;		/* sticky; FCGI_OK while healthy */
	struct fcgi_callbacks cb;	/* copied at fcgi_init() */
	void		*arg;		/* passed to the callbacks */
	unsigned	 max_conns;	/* FCGI_MAX_CONNS/_REQS answered */
	/* the record being read */
	int		 rst;		/* R_* in fcgi.c */
	unsigned char	 hdr[FCGI_HEADER_LEN];
	size_t		 hlen;
	unsigned	 type, id;
	size_t		 clen, plen;	/* of the current record */
	size_t		 left;		/* content or padding bytes to come */
	int		 disp;		/* what the content is for: D_* */
	unsigned char	 body[8];	/* FCGI_BEGIN_REQUEST content */
	size_t		 blen;
	/* the request */
	enum fcgi_phase	 phase;
	unsigned	 req_id;	/* 0 until a request begins */
	unsigned	 flags;
	int		 aborted;
	/* params: [nlen u32][vlen u32] name NUL value NUL, repeated */
	struct fcgi_nv	 nv;
	struct buf	 arena;		/* max MJ_FCGI_PARAMS_MAX */
	size_t		 nparams;
	size_t		 pair_at;	/* arena offset of the open pair */
	/* GET_VALUES: the name being read, and the names asked for */
	struct fcgi_nv	 gv;
	char		 gname[32];
	size_t		 gnlen;
	unsigned	 gmask;
};

/*
 * Set up p.  max_conns is what FCGI_MAX_CONNS and FCGI_MAX_REQS answer.
 * cb may be NULL; it is copied; arg is passed to every callback.
 */
void		fcgi_init(struct fcgi_parser *p, unsigned max_conns,
		    const struct fcgi_callbacks *cb, void *arg);
/* Release the params arena; p may be set up again with fcgi_init(). */
void		fcgi_free(struct fcgi_parser *p);

/*
 * Parse the next len bytes of the connection (buf may be NULL if len is
 * 0).  Consumes all of them, calling the callbacks on the way, and
 * returns FCGI_OK, or stops at the first fault and returns its status.
 * Errors are sticky.
 */
enum fcgi_status fcgi_feed(struct fcgi_parser *p, const void *buf,
		    size_t len) __attribute__((warn_unused_result));

/*
 * The connection ended (EOF).  FCGI_OK if it ended between records and
 * no request was left half-read (none begun, or its stdin ended); else
 * the sticky error, else FCGI_ERR_TRUNCATED (which then sticks).
 */
enum fcgi_status fcgi_finish(struct fcgi_parser *p)
		    __attribute__((warn_unused_result));

/*
 * The value of the first param called name, NUL-terminated (cut at an
 * embedded NUL), or NULL if there is none or the params are incomplete.
 * Valid until fcgi_free().
 */
const char	*fcgi_param(const struct fcgi_parser *p, const char *name);
/* The i-th param (0-based, i < p->nparams of complete pairs). */
int		 fcgi_param_at(const struct fcgi_parser *p, size_t i,
		    const char **name, size_t *nlen, const char **value,
		    size_t *vlen);

/* Write a record header (8 bytes) into out. */
void		fcgi_header(unsigned char *out, unsigned type, unsigned id,
		    size_t clen, size_t plen);
/* Padding that brings clen to a multiple of 8. */
size_t		fcgi_padding(size_t clen);
/* Write FCGI_END_REQUEST (16 bytes) into out. */
void		fcgi_end_request(unsigned char *out, unsigned id,
		    unsigned long app_status, unsigned protocol_status);

/* A sentence for a person; never NULL. */
const char	*fcgi_strerror(enum fcgi_status);

#endif /* MJ_FCGI_H */
