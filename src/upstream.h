/*
 * upstream.h - one streamed chat-completions call to an OpenAI-compatible
 * server, as a libcurl easy handle the engine drives in its multi handle.
 *
 * A transfer owns its request body, its SSE parser and the answer text it
 * accumulates.  Each content delta is handed to the token callback as it
 * arrives.  up_finish() turns the transfer's end (curl's code, the HTTP
 * status, in-band errors, [DONE]) into one status and a message that is
 * safe to show a client: it never contains the API key.
 *
 * The share (struct up_share) holds the DNS cache and TLS sessions used
 * by every transfer of the process.  Connections are cached per worker
 * thread, in the multi handle it keeps across requests (http.c): libcurl
 * doesn't support one connection cache used by threads at once.  So a
 * job reuses a warm connection (and a new one resumes a TLS session)
 * instead of paying a full handshake.
 */
#ifndef MJ_UPSTREAM_H
#define MJ_UPSTREAM_H

#include <stddef.h>

#include <curl/curl.h>

#include "bounds.h"

struct buf;
struct config;
struct req_job;
struct up_share;
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
	long		 prompt_tokens;	/* from the usage chunk, or 0 */
	long		 completion_tokens;
	long		 retry_after_ms; /* from retry-after(-ms), or -1 */
	int		 retryable;	/* failed before any token, and a
					   retry may help (429 but not
					   insufficient_quota, 5xx, connect;
					   x-should-retry overrides) */
};

/* Create the process-wide share. Returns 0, or -1 without memory. */
int		 up_share_new(struct up_share **out);
void		 up_share_free(struct up_share *);

/*
 * Build the chat-completions request body for one job into out.
 * The resume and job fields are cut at the MJ_PROMPT_* lengths, after
 * C0 controls (but tab, LF, CR) are dropped, and framed in tags that
 * carry a fresh random nonce (see upstream.c).  Returns 0, or -1
 * without memory or randomness.
 */
int		 up_build_body(const struct config *, const char *resume,
		    size_t resume_len, const struct req_job *, struct buf *out)
		    __attribute__((warn_unused_result));

/*
 * Create a transfer posting body (copied) to cfg's base URL.  The
 * transfer's easy handle (up_easy) is ready to add to a multi handle;
 * CURLOPT_PRIVATE is left to the caller.  Returns 0 or -1 (no memory).
 */
int		 up_new(struct up_transfer **out, const struct config *,
		    struct up_share *, const char *body, size_t body_len,
		    up_token_fn, void *arg)
		    __attribute__((warn_unused_result));
CURL		*up_easy(struct up_transfer *);
/*
 * The time (clock_ms) by which the next byte must arrive: first-token
 * deadline before the first token, idle deadline after it.
 */
long long	 up_deadline(const struct up_transfer *);
/* Mark the transfer as timed out (the engine saw the deadline pass). */
void		 up_timeout(struct up_transfer *);
/* Interpret the end of the transfer; curl's code from CURLMSG_DONE. */
void		 up_finish(struct up_transfer *, CURLcode, struct up_result *);
/* Release the transfer; it must already be out of its multi handle. */
void		 up_free(struct up_transfer *);

#endif /* MJ_UPSTREAM_H */
