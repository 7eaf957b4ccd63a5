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
 * the rest (e.g. "obfuscation" padding).  Concatenating the content is
 * the caller's job.  Pure: no I/O, no globals, thread-safe.
 *
 * The accents of servers that are not OpenAI (docs/vendors.md):
 *   - Azure OpenAI: a first chunk with "choices": [] and
 *     "prompt_filter_results", choices with "content_filter_results" and
 *     no "delta": no content, nothing to do;
 *   - OpenRouter: errors mid-stream as {"error":{"code":502,...}} beside
 *     a choice whose finish_reason is "error";
 *   - Groq: the usage in "x_groq"."usage" of the last chunk;
 *   - Ollama and DeepSeek (and vLLM, llama.cpp with a reasoning model):
 *     the thinking text in "delta"."reasoning" or
 *     "delta"."reasoning_content", kept apart from the content;
 *   - llama.cpp: "timings" (ignored);
 *   - vLLM: errors also as {"object":"error","message","type","code"}.
 * chunk_parse_next() keeps one piece of state across the chunks of one
 * stream (struct chunk_carry): a UTF-16 high surrogate that ended one
 * chunk's text waits for the low surrogate that may start the next.
 */
#ifndef MJ_CHUNK_H
#define MJ_CHUNK_H

#include <stddef.h>

/* JSON nesting allowed in a chunk; real chunks use 4 levels. */
#define CHUNK_DEPTH_MAX		16

/* What kind of in-band error a chunk carries (error.code, error.type). */
enum chunk_errkind {
	CHUNK_EK_OTHER = 0,	/* any other, or none */
	CHUNK_EK_AUTH,		/* 401, 403, invalid_api_key, ... */
	CHUNK_EK_RATE,		/* 429, rate_limit_exceeded, ... */
	CHUNK_EK__MAX
};

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
	char	*reasoning;	/* choices[0].delta.reasoning_content, else
				 * .reasoning: owned, NUL-terminated; NULL
				 * if both are absent, null or "" */
	size_t	 reasoning_len;	/* bytes in reasoning */
	char	 finish_reason[32]; /* "" if null or absent; cut to fit */
	int	 has_usage;	/* "usage" is a non-null object, or else
				 * "x_groq"."usage" is (then the counts
				 * are that one's) */
	long	 prompt_tokens;	/* usage.prompt_tokens, 0 if absent */
	long	 completion_tokens; /* usage.completion_tokens, 0 if absent */
	int	 is_error;	/* payload is {"error": ...} (non-null), or
				 * {"object": "error", "message", ...} */
	char	*error_message;	/* owned; NULL unless is_error, then never
				 * NULL ("unknown error" if none given) */
	char	 error_code[64]; /* error.code, else error.type; "" if none */
	char	 error_type[64]; /* error.type; "" if none */
	enum chunk_errkind error_kind; /* from error.code and error.type */
};

/*
 * What a stream's text left pending between two chunks: a high surrogate
 * (0xd800-0xdbff) that ended the last content or reasoning, or 0.  Zero
 * it before the stream's first chunk.
 */
struct chunk_carry {
	unsigned int	 content_hi;
	unsigned int	 reasoning_hi;
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

/*
 * chunk_parse() for the next chunk of a stream whose state is *carry:
 * a content (or reasoning) text that ends in a lone high surrogate keeps
 * it in *carry, and the next chunk's text that starts with its low
 * surrogate gets the character they make together; a pending surrogate
 * that meets anything else, a finish_reason or [DONE] becomes U+FFFD
 * (then [DONE] has content).  carry NULL is chunk_parse().  On an error
 * *carry is unchanged.
 */
enum chunk_status chunk_parse_next(const char *data, size_t len,
    struct chunk_carry *carry, struct chunk *out)
	__attribute__((warn_unused_result));

/* Release what *c owns and zero it; safe on a zeroed struct and twice. */
void		 chunk_free(struct chunk *c);

/* A short English message for a status. */
const char	*chunk_strerror(enum chunk_status);

#endif /* MJ_CHUNK_H */
