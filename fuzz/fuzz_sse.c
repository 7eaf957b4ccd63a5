/*
 * fuzz_sse.c - libFuzzer target for the upstream stream path: the event
 * stream parser (sseparse.c) and, on each event's data, the chunk
 * parser (chunk.c), as upstream.c chains them.  Same entry points as
 * tests/unit_sseparse.c and tests/unit_chunk.c.
 *
 * Input layout:
 *   byte 0     bits 0-1 pick max_event (16, 256, 4096 or the real
 *              MJ_SSE_EVENT_MAX), so SSEP_ERR_TOO_BIG is reachable.
 *   bytes 1-2  the split point, modulo the stream length + 1.
 *   rest       the stream.
 * The stream is fed whole and split in two (each piece in a malloc'd
 * buffer of exactly its size); both must give the same status, the
 * same pending flag and the same events (hashed).  Every event of the
 * whole run goes through chunk_parse_next() with one carry for the run,
 * as upstream.c does, and its result is checked against the contract in
 * chunk.h.  Any broken invariant aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "chunk.h"
#include "sseparse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static const size_t maxes[4] = { 16, 256, 4096, MJ_SSE_EVENT_MAX };

struct trace {
	uint64_t	 h;		/* FNV-1a of the events */
	size_t		 n;		/* events */
	size_t		 max;		/* max_event of the parser */
	int		 chunks;	/* run chunk_parse_next() on each event */
	struct chunk_carry carry;	/* its state across the events */
};

static void
mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		t->h ^= s[i];
		t->h *= 0x100000001b3ULL;
	}
}

static int
is_zero(const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++)
		if (s[i] != 0)
			return 0;
	return 1;
}

/* A carried half is none or a high surrogate. */
static int
carry_ok(const struct chunk_carry *k)
{
	return (k->content_hi == 0 || (k->content_hi >= 0xd800 &&
	    k->content_hi <= 0xdbff)) && (k->reasoning_hi == 0 ||
	    (k->reasoning_hi >= 0xd800 && k->reasoning_hi <= 0xdbff));
}

/* chunk_parse_next() on one event's data, checked against chunk.h. */
static void
check_chunk(const char *data, size_t len, struct chunk_carry *carry)
{
	struct chunk		 c;
	struct chunk_carry	 before = *carry;
	enum chunk_status	 st;
	char			*copy;

	/* An exact-size copy without the NUL, so an overread shows. */
	copy = malloc(len > 0 ? len : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, len);
	memset(&c, 0xa5, sizeof(c));	/* *out is overwritten */
	st = chunk_parse_next(copy, len, carry, &c);
	free(copy);
	CHECK(st < CHUNK__MAX && chunk_strerror(st) != NULL);
	CHECK(carry_ok(carry));
	if (st != CHUNK_OK) {
		CHECK(is_zero(&c, sizeof(c)));
		CHECK(memcmp(carry, &before, sizeof(before)) == 0);
		chunk_free(&c);
		return;
	}
	/* [DONE] has text only for a half that was pending. */
	if (c.done)
		CHECK((c.content == NULL || before.content_hi != 0) &&
		    (c.reasoning == NULL || before.reasoning_hi != 0) &&
		    c.refusal == NULL && !c.is_error && !c.has_usage &&
		    carry->content_hi == 0 && carry->reasoning_hi == 0);
	CHECK((c.reasoning == NULL) == (c.reasoning_len == 0));
	CHECK(c.reasoning == NULL || c.reasoning[c.reasoning_len] == '\0');
	CHECK(c.reasoning_len <= len);
	CHECK(memchr(c.error_type, '\0', sizeof(c.error_type)) != NULL);
	CHECK((unsigned)c.error_kind < CHUNK_EK__MAX);
	CHECK(c.is_error || c.error_kind == CHUNK_EK_OTHER);
	CHECK((c.content == NULL) == (c.content_len == 0));
	CHECK(c.content == NULL || c.content[c.content_len] == '\0');
	CHECK(c.content_len <= len);
	/* refusal has no length: "\u0000x" gives a non-NULL "" here. */
	CHECK(memchr(c.finish_reason, '\0', sizeof(c.finish_reason)) !=
	    NULL);
	CHECK(memchr(c.error_code, '\0', sizeof(c.error_code)) != NULL);
	CHECK(c.is_error == (c.error_message != NULL));
	CHECK(c.prompt_tokens >= 0 && c.completion_tokens >= 0);
	CHECK(c.has_usage || (c.prompt_tokens == 0 &&
	    c.completion_tokens == 0));
	chunk_free(&c);
	CHECK(is_zero(&c, sizeof(c)));
	chunk_free(&c);
}

static int
on_event(void *arg, const char *event, const char *data, size_t len)
{
	struct trace	*t = arg;

	CHECK(event != NULL && data != NULL);
	CHECK(strlen(event) <= t->max + SSEP_LINE_SLACK);
	CHECK(len <= t->max && data[len] == '\0');
	mix(t, event, strlen(event) + 1);
	mix(t, &len, sizeof(len));
	mix(t, data, len);
	t->n++;
	if (t->chunks)
		check_chunk(data, len, &t->carry);
	return 0;
}

/* Feed s[0..len) into a fresh parser as s[0..cut) and s[cut..len). */
static enum ssep_status
run(const uint8_t *s, size_t len, size_t cut, size_t max, int chunks,
    struct trace *t, int *pending)
{
	struct ssep	 p;
	enum ssep_status st, st2;
	const size_t	 off[3] = { 0, cut, len };
	size_t		 i, n;
	char		*piece;

	memset(t, 0, sizeof(*t));
	t->h = 0xcbf29ce484222325ULL;
	t->max = max;
	t->chunks = chunks;
	ssep_init(&p, max);
	st = SSEP_OK;
	for (i = 0; i < 2; i++) {
		n = off[i + 1] - off[i];
		piece = malloc(n > 0 ? n : 1);
		CHECK(piece != NULL);
		memcpy(piece, s + off[i], n);
		st2 = ssep_feed(&p, piece, n, on_event, t);
		free(piece);
		CHECK(st2 < SSEP__MAX && ssep_strerror(st2) != NULL);
		if (st != SSEP_OK)
			CHECK(st2 == st);	/* sticky */
		st = st2;
	}
	CHECK(p.line.len <= max + SSEP_LINE_SLACK && p.data.len <= max);
	*pending = ssep_pending(&p);
	ssep_free(&p);
	ssep_free(&p);
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace	 t1, t2;
	enum ssep_status s1, s2;
	size_t		 max, cut, len;
	int		 pend1, pend2;

	if (size < 3)
		return 0;
	max = maxes[data[0] & 3];
	len = size - 3;
	cut = (((size_t)data[1] << 8) | data[2]) % (len + 1);
	s1 = run(data + 3, len, len, max, 1, &t1, &pend1);
	s2 = run(data + 3, len, cut, max, 0, &t2, &pend2);
	CHECK(s1 == s2);
	CHECK(t1.n == t2.n && t1.h == t2.h);
	if (s1 == SSEP_OK)
		CHECK(pend1 == pend2);
	return 0;
}
