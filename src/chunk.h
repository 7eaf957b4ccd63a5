/*
 * chunk.h - interpret one data payload of an OpenAI chat.completions
 * stream.
 *
 * sseparse.c splits the upstream body into events; each event's data is
 * one of:
 *   - "[DONE]", the end of the stream;
 *   - a chat.completion.chunk object: {"choices":[{"index":0,
 *     "delta":{"role"?,"content"?,"refusal"?},"finish_reason":...}],
 *     "usage":null|{"prompt_tokens","completion_tokens",...}, ...};
 *     with stream_options.include_usage the last chunk has "choices": []
 *     and the totals in "usage";
 *   - an in-band error after a 200: {"error":{"message","type","code"}}.
 * chunk_parse() pulls out the few fields the engine needs and ignores
 * the rest (e.g. "obfuscation" padding).  It does not keep state across
 * chunks: concatenating the content is the caller's job.  Pure: no I/O,
 * no globals, thread-safe.
 */
#ifndef MJ_CHUNK_H
#define MJ_CHUNK_H

#include <stddef.h>

/* JSON nesting allowed in a chunk; real chunks use 4 levels. */
#define CHUNK_DEPTH_MAX		16

enum chunk_status {
	CHUNK_OK = 0,
	CHUNK_ERR_JSON,		/* not [DONE], not one valid JSON object */
	CHUNK_ERR_NOMEM,	/* allocation failed */
	CHUNK__MAX
};

struct chunk {
	int	 done;		/* payload was [DONE] */
	char	*content;	/* choices[0].delta.content, owned, NUL-
				 * terminated; NULL if absent, null or "" */
	size_t	 content_len;	/* bytes in content (may hold NULs) */
	char	*refusal;	/* choices[0].delta.refusal, owned; NULL if
				 * absent, null or "" */
	char	 finish_reason[32]; /* "" if null or absent; cut to fit */
	int	 has_usage;	/* "usage" is a non-null object */
	long	 prompt_tokens;	/* usage.prompt_tokens, 0 if absent */
	long	 completion_tokens; /* usage.completion_tokens, 0 if absent */
	int	 is_error;	/* payload is {"error": ...} (non-null) */
	char	*error_message;	/* owned; NULL unless is_error, then never
				 * NULL ("unknown error" if none given) */
	char	 error_code[64]; /* error.code, else error.type; "" if none */
};

/*
 * Parse data[0..len) into *out, which is overwritten: free an earlier
 * result with chunk_free() first.  "[DONE]" with surrounding whitespace
 * sets done.  Otherwise the payload must be exactly one JSON object
 * (RFC 8259, strictly; whitespace around it allowed, a value at most
 * CHUNK_DEPTH_MAX levels deep, the object being level 1).
 * "choices" may be missing or empty; the choice with "index" 0 (else the
 * first) is read.  Returns CHUNK_OK, CHUNK_ERR_JSON or CHUNK_ERR_NOMEM;
 * on error *out is left zeroed.  The caller frees *out with chunk_free().
 */
enum chunk_status chunk_parse(const char *data, size_t len,
    struct chunk *out)
	__attribute__((warn_unused_result));

/* Release what *c owns and zero it; safe on a zeroed struct and twice. */
void		 chunk_free(struct chunk *c);

/* A short English message for a status. */
const char	*chunk_strerror(enum chunk_status);

#endif /* MJ_CHUNK_H */
