/*
 * upstream.h - one streamed chat-completions call to an OpenAI-compatible
 * server, as a libcurl easy handle in the runner's pool (below).
 *
 * A transfer owns its request body, its SSE parser and the answer text it
 * accumulates.  Each content delta is handed to the token callback as it
 * arrives.  up_pool_next() turns the transfer's end (curl's code, the HTTP
 * status, in-band errors, [DONE]) into one status and a message that is
 * safe to show a client: it never contains the API key.
 *
 * The pool (struct up_pool) is the only libcurl multi handle of the
 * process, driven by the runner thread alone (runner.c): one connection
 * cache, one DNS cache, one CA store (libcurl caches it in the multi
 * handle), TLS sessions shared, and HTTP/2 multiplexing: a new call waits
 * for a connection that can carry it (CURLOPT_PIPEWAIT) instead of
 * opening its own.  No other module includes <curl/curl.h>.
 */
#ifndef MJ_UPSTREAM_H
#define MJ_UPSTREAM_H

#include <stddef.h>

#include "bounds.h"
#include "cfg.h"

struct buf;
struct req_job;
struct up_pool;
struct up_transfer;

enum up_status {
	UP_OK = 0,
	UP_ERR_AUTH,		/* 401/403 */
	UP_ERR_RATE_LIMIT,	/* 429 */
	UP_ERR_BAD_REQUEST,	/* other 4xx */
	UP_ERR_UNAVAILABLE,	/* 5xx */
	UP_ERR_CONNECT,		/* could not connect or resolve */
	UP_ERR_TIMEOUT,		/* connect, first-token, idle or total */
	UP_ERR_STREAM,		/* an in-band {"error":...} event */
	UP_ERR_PROTOCOL,	/* not an OpenAI event stream */
	UP_ERR_TRUNCATED,	/* the stream ended before the answer */
	UP_ERR_TOO_BIG,		/* the answer outgrew MJ_ANSWER_MAX */
	UP_ERR_CANCELLED,	/* the token callback asked to stop */
	UP_ERR_NOMEM,
	UP__MAX
};

/* Called with each content delta; return nonzero to cancel the call. */
typedef int	(*up_token_fn)(void *arg, const char *s, size_t n);

struct up_result {
	enum up_status	 status;
	long		 http_status;	/* 0 if no response */
	const char	*code;		/* stable error code, "" on UP_OK */
	char		 message[MJ_ERRMSG_MAX]; /* safe to show */
	const char	*text;		/* answer text; borrowed from the
					   transfer, valid until up_free */
	size_t		 text_len;
	long		 prompt_tokens;	/* from the usage chunk, or 0;
					   estimated when usage_estimated */
	long		 completion_tokens;
	int		 usage_estimated; /* UP_OK without any usage from
					   the server: the counts are
					   estimated from byte counts
					   (MJ_BYTES_PER_TOKEN) */
	long		 retry_after_ms; /* from retry-after(-ms), or -1 */
	int		 retryable;	/* failed before any token, and a
					   retry may help (429 but not
					   insufficient_quota, 5xx, connect;
					   x-should-retry overrides) */
	int		 format_refused; /* a 400, 422 or 500 whose error
					   names response_format: the server
					   refused the format asked for */
};

/* libcurl's process-wide set-up, before any thread: 0 or -1. */
int		 up_global_init(void);

/*
 * The pool: one multi handle for a runner lane's thread, opening at most
 * conns connections to a host (0: no cap).  Returns 0, or -1 without
 * memory.  Not thread-safe but for up_pool_wakeup().
 */
int		 up_pool_new(long conns, struct up_pool **out);
/* Every transfer must be out of the pool (up_pool_abort or _next). */
void		 up_pool_free(struct up_pool *);
/* Start t in the pool; owner is handed back by up_pool_next. 0 or -1. */
int		 up_pool_add(struct up_pool *, struct up_transfer *t,
		    void *owner) __attribute__((warn_unused_result));
/* Take t out of the pool unfinished (cancel); the caller frees it. */
void		 up_pool_abort(struct up_pool *, struct up_transfer *t);
/*
 * Move the transfers on, waiting up to wait_ms for the network, a
 * timer of libcurl's or up_pool_wakeup().
 */
void		 up_pool_run(struct up_pool *, long wait_ms);
/* Wake up_pool_run() from any thread. */
void		 up_pool_wakeup(struct up_pool *);
/*
 * Also wake up_pool_run() while fd is readable (the writer's epoll set:
 * the caller handles it after the turn).  One fd; 0 or -1.
 */
int		 up_pool_watch(struct up_pool *, int fd);
/*
 * The next transfer that ended: out of the pool, its end interpreted
 * into *r (text borrowed from the transfer until up_free).  Returns its
 * owner and sets *t, or returns NULL when no transfer has ended.
 */
void		*up_pool_next(struct up_pool *, struct up_transfer **t,
		    struct up_result *r);
/* End t now as timed out (up_timeout's reason): out of the pool, *r. */
void		 up_pool_expire(struct up_pool *, struct up_transfer *t,
		    struct up_result *r);

/*
 * The request's parameters but its messages (model, stream, token cap,
 * sampling, response_format), serialized once per response format: what
 * every body starts with and every cache key hashes.  Borrows cfg, which
 * must outlive it.  One owner (the engine) frees it with
 * up_params_free(); read-only after up_params_new(), so thread-safe.
 */
struct up_params;

/* Make cfg's parameters into *out.  Returns 0, or -1 without memory. */
int		 up_params_new(const struct config *, struct up_params **out)
		    __attribute__((warn_unused_result));
/* Free p (NULL is fine). */
void		 up_params_free(struct up_params *p);
/*
 * The parameters of fmt as json-c serialized them (one JSON object,
 * NUL-terminated, *len its length; a format out of range is
 * CFG_FMT_NONE's).  Borrowed from p.
 */
const char	*up_params_text(const struct up_params *p, enum cfg_format,
		    size_t *len);

/*
 * Build the chat-completions request body for one job into out (appended;
 * on failure out is as it was), with the parameters of fmt from p.
 * The resume and job fields are cut at the MJ_PROMPT_* lengths, after
 * C0 controls (but tab, LF, CR) are dropped, and framed in tags that
 * carry a fresh random nonce (see upstream.c).  Returns 0, or -1
 * without memory or randomness.
 */
int		 up_build_body(const struct up_params *, enum cfg_format,
		    const char *resume, size_t resume_len,
		    const struct req_job *, struct buf *out)
		    __attribute__((warn_unused_result));

/* Bytes of a cache key (a SHA-256). */
#define UP_KEY_LEN	32

/*
 * The answer cache's key of one job (SPEC "Cache") into key, with p's
 * configuration and parameters: SHA-256 over the engine, the server
 * (the URL calls post to: the base URL, and on Azure the deployment and
 * api-version), the model, the prompt's
 * version and system text, the response format fmt (the one the call
 * asks for, never CFG_FMT_AUTO), the request's other parameters (max
 * tokens, temperature, seed, the response_format object, ...; those of
 * up_build_body() with fmt), then the job's title, link and
 * description and the resume exactly as up_build_body() puts them in
 * the prompt (cleaned and cut), each field length-prefixed.  Never the
 * nonce, the job's position or the other jobs.  Returns 0, or -1
 * without memory (key zeroed).  Thread-safe.  The key is no secret but
 * names a resume: never log it.
 */
int		 up_cache_key(const struct up_params *, enum cfg_format,
		    const char *resume, size_t resume_len,
		    const struct req_job *,
		    unsigned char key[UP_KEY_LEN])
		    __attribute__((warn_unused_result));

/*
 * Create a transfer posting body (copied) to cfg's base URL, for pool;
 * start it with up_pool_add().  Returns 0 or -1 (no memory).
 */
int		 up_new(struct up_transfer **out, const struct config *,
		    struct up_pool *, const char *body, size_t body_len,
		    up_token_fn, void *arg)
		    __attribute__((warn_unused_result));
/*
 * Hand t's reasoning text (delta.reasoning, delta.reasoning_content) to
 * fn with up_new's arg, as it arrives (NULL, the default: dropped).  It
 * is never part of the answer text.  Call before up_pool_add().
 */
void		 up_set_reasoning(struct up_transfer *, up_token_fn fn);
/* The HTTP status of t's answer so far: 0 before its status line. */
long		 up_http_status(const struct up_transfer *);
/* The answer text received so far (content deltas), borrowed. */
const char	*up_text(const struct up_transfer *, size_t *len);
/*
 * The time (clock_ms) by which the next byte must arrive: first-token
 * deadline before the first token, idle deadline after it.
 */
long long	 up_deadline(const struct up_transfer *);
/* Release the transfer; it must already be out of its pool. */
void		 up_free(struct up_transfer *);

/* ---- what each server accepts as response_format ---- */

/*
 * The process's memory of the response_format each server (the URL
 * calls post to, and the model) accepted (SPEC "Scoring" 0.2), shared
 * by every lane: with MATCHJOBS_RESPONSE_FORMAT=auto a server is asked
 * for json_schema first; one that refuses it (up_result.format_refused)
 * is asked for json_object, then for none.  So that only one call per
 * server is refused, the first call to a server not known yet probes
 * it, and the others wait (UP_PICK_WAIT) until its answer says
 * (up_format_learn) or it ends undecided (up_format_release), at most
 * MJ_FORMAT_PROBE_MS.  A fixed format is always picked as it is and
 * never learnt.  At most MJ_FORMAT_SERVERS servers are remembered (then
 * the oldest is forgotten).  Every function is thread-safe.
 */
struct up_formats;

enum up_pick {
	UP_PICK_GO = 0,		/* ask for *fmt */
	UP_PICK_PROBE,		/* ask for *fmt: the caller probes, and
				   must learn or release */
	UP_PICK_WAIT,		/* another call probes: ask again soon
				   (MJ_FORMAT_WAIT_MS) */
	UP_PICK__MAX
};

/* A new, empty memory: 0, or -1 without memory. */
int		 up_formats_new(struct up_formats **out)
		    __attribute__((warn_unused_result));
void		 up_formats_free(struct up_formats *);
/* The format a call to cfg's server would ask for now (no probe). */
enum cfg_format	 up_format_guess(struct up_formats *, const struct config *);
/* The format of the next call to cfg's server, at clock_ms() now. */
enum up_pick	 up_format_pick(struct up_formats *, const struct config *,
		    long long now, enum cfg_format *fmt);
/*
 * The server answered a call that asked for fmt: accepted it (a 2xx),
 * or refused it (format_refused: from now on the next format of the
 * chain is asked for).  Ends a probe.
 */
void		 up_format_learn(struct up_formats *, const struct config *,
		    enum cfg_format fmt, int accepted);
/* A probe ended without an answer on the format (5xx, timeout...). */
void		 up_format_release(struct up_formats *, const struct config *);
/* The name of fmt as the request carries it ("json_schema", ...). */
const char	*up_format_name(enum cfg_format);

/* ---- one blocking POST: webhook delivery (sender.c) ---- */

/* What up_post() sends; every pointer is borrowed for the call. */
struct up_post_req {
	const char	*url;		/* http:// or https:// */
	const char	*ca_file;	/* MATCHJOBS_CA_FILE, or NULL: the
					   platform's CA store */
	const char *const *headers;	/* "Name: value" lines, no CR/LF */
	size_t		 nheaders;
	const void	*body;		/* len bytes, sent as they are */
	size_t		 len;
	long		 timeout_ms;	/* the whole call, at least 1 */
	long		 connect_timeout_ms; /* 0: timeout_ms */
	int		 cancel_fd;	/* readable: stop now; -1: none */
};

/* What came back. */
struct up_post_res {
	int		 status;	/* the HTTP status; 0: no answer */
	char		 retry_after[MJ_WH_RETRY_AFTER_LEN + 1];
					/* its Retry-After value, trimmed, or
					   "" (none, or longer than that) */
	char		 error[MJ_ERRMSG_MAX]; /* why there is no answer, or
					   "" (never holds the URL) */
};

/*
 * POST req->body to req->url with req->headers (and no Expect), on an
 * easy handle of its own (never the pool's), waiting for the answer:
 * redirects are not followed (a 3xx is an answer like any other), only
 * http and https are spoken, the answer's body is read and dropped (at
 * most MJ_WH_ANSWER_MAX bytes: past that the call ends, its status
 * kept).  Returns UP_OK once a status line arrived and the answer ended
 * (res->status, res->retry_after); else res->status is 0 and
 * res->error says why: UP_ERR_TIMEOUT (req->timeout_ms passed),
 * UP_ERR_CONNECT (no connection, DNS, TLS), UP_ERR_CANCELLED
 * (req->cancel_fd became readable; it is not read), UP_ERR_BAD_REQUEST
 * (a header with a line break, a bad argument), UP_ERR_PROTOCOL (any
 * other failure of the transfer), UP_ERR_NOMEM.  Thread-safe once
 * up_global_init() has run.
 */
enum up_status	 up_post(const struct up_post_req *, struct up_post_res *)
		    __attribute__((warn_unused_result));

#endif /* MJ_UPSTREAM_H */
