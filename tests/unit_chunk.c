/*
 * unit_chunk.c - TAP tests for the stream payload reader (chunk.c).
 *
 * The payloads are shaped like what api.openai.com, OpenRouter and vLLM
 * send on a chat.completions stream.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "chunk.h"
#include "tap.h"

static enum chunk_status
parse(const char *s, struct chunk *c)
{
	return chunk_parse(s, strlen(s), c);
}

static int
is_zero(const struct chunk *c)
{
	struct chunk	 z;

	memset(&z, 0, sizeof(z));
	return memcmp(c, &z, sizeof(z)) == 0;
}

static void
test_done(void)
{
	struct chunk	 c;

	ok(parse("[DONE]", &c) == CHUNK_OK && c.done && c.content == NULL,
	    "[DONE]");
	chunk_free(&c);
	ok(parse("[DONE]  \r\n", &c) == CHUNK_OK && c.done,
	    "[DONE] with trailing whitespace");
	chunk_free(&c);
	ok(parse("[DONE]x", &c) == CHUNK_ERR_JSON && !c.done,
	    "[DONE]x is not done");
	chunk_free(&c);
	ok(parse("[DONE", &c) == CHUNK_ERR_JSON, "[DONE truncated");
	chunk_free(&c);
}

static void
test_openai(void)
{
	struct chunk	 c;
	enum chunk_status rc;

	rc = parse("{\"id\":\"chatcmpl-B9\",\"object\":\"chat.completion.chunk"
	    "\",\"created\":1727000000,\"model\":\"gpt-4o-mini-2024-07-18\","
	    "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_1\","
	    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
	    "\"content\":\"\",\"refusal\":null},\"logprobs\":null,"
	    "\"finish_reason\":null}],\"usage\":null,"
	    "\"obfuscation\":\"Xy7\"}", &c);
	ok(rc == CHUNK_OK && !c.done && c.content == NULL &&
	    c.content_len == 0 && c.refusal == NULL &&
	    c.finish_reason[0] == '\0' && !c.has_usage && !c.is_error,
	    "first chunk: role only, usage null");
	chunk_free(&c);

	rc = parse("{\"id\":\"chatcmpl-B9\",\"object\":\"chat.completion."
	    "chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"{\\\"score\\\": 8\"},\"logprobs\":null,\"finish_reason\":"
	    "null}],\"usage\":null,\"obfuscation\":\"ab\"}", &c);
	ok(rc == CHUNK_OK && c.content != NULL &&
	    strcmp(c.content, "{\"score\": 8") == 0 && c.content_len == 11,
	    "content delta with escaped quotes");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"caf\\u00e9\\n\\u2014 \\ud83d\\ude00\\t\\\"x\\\"\\r\"},"
	    "\"finish_reason\":null}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL &&
	    strcmp(c.content, "caf\xc3\xa9\n\xe2\x80\x94 \xf0\x9f\x98\x80"
	    "\t\"x\"\r") == 0 && c.content_len == strlen(c.content),
	    "content with unicode escapes, surrogates and newlines");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"a\\u0000b\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL && c.content_len == 3 &&
	    memcmp(c.content, "a\0b", 4) == 0,
	    "content with an escaped NUL keeps its length");
	chunk_free(&c);

	rc = parse("{\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},"
	    "\"logprobs\":null,\"finish_reason\":\"stop\"}],"
	    "\"usage\":null}", &c);
	ok(rc == CHUNK_OK && c.content == NULL &&
	    strcmp(c.finish_reason, "stop") == 0 && !c.has_usage,
	    "finish_reason chunk with empty delta");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{},"
	    "\"finish_reason\":\"length\"}]}", &c);
	ok(rc == CHUNK_OK && strcmp(c.finish_reason, "length") == 0,
	    "finish_reason length");
	chunk_free(&c);

	rc = parse("{\"id\":\"x\",\"object\":\"chat.completion.chunk\","
	    "\"choices\":[],\"usage\":{\"prompt_tokens\":1234,"
	    "\"completion_tokens\":56,\"total_tokens\":1290,"
	    "\"prompt_tokens_details\":{\"cached_tokens\":0,"
	    "\"audio_tokens\":0},\"completion_tokens_details\":"
	    "{\"reasoning_tokens\":0}}}", &c);
	ok(rc == CHUNK_OK && c.has_usage && c.prompt_tokens == 1234 &&
	    c.completion_tokens == 56 && c.content == NULL &&
	    c.finish_reason[0] == '\0',
	    "usage chunk with choices []");
	chunk_free(&c);

	rc = parse("{\"choices\":[],\"usage\":{}}", &c);
	ok(rc == CHUNK_OK && c.has_usage && c.prompt_tokens == 0 &&
	    c.completion_tokens == 0, "empty usage object");
	chunk_free(&c);

	rc = parse("{\"choices\":[],\"usage\":{\"prompt_tokens\":-3,"
	    "\"completion_tokens\":\"7\"}}", &c);
	ok(rc == CHUNK_OK && c.prompt_tokens == 0 &&
	    c.completion_tokens == 0, "bad usage counts read as 0");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"refusal\":"
	    "\"I can't help with that.\"},\"finish_reason\":null}]}", &c);
	ok(rc == CHUNK_OK && c.refusal != NULL &&
	    strcmp(c.refusal, "I can't help with that.") == 0 &&
	    c.content == NULL, "refusal delta");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"B\"}}"
	    ",{\"index\":0,\"delta\":{\"content\":\"A\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL &&
	    strcmp(c.content, "A") == 0, "choice with index 0 is used");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":1,\"delta\":{\"content\":"
	    "\"B\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content == NULL,
	    "only index 1: no content for choice 0");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"delta\":{\"content\":\"A\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL && strcmp(c.content, "A") == 0,
	    "choice without index: first one used");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "null},\"finish_reason\":\"a-very-long-finish-reason-that-does-"
	    "not-fit\"}]}", &c);
	ok(rc == CHUNK_OK && c.content == NULL &&
	    strlen(c.finish_reason) == sizeof(c.finish_reason) - 1,
	    "content null; long finish_reason cut to fit");
	chunk_free(&c);
}

static void
test_shapes(void)
{
	struct chunk	 c;
	enum chunk_status rc;

	rc = parse("{\"id\":\"x\",\"object\":\"chat.completion.chunk\"}", &c);
	ok(rc == CHUNK_OK && c.content == NULL && !c.has_usage &&
	    !c.is_error && !c.done, "missing choices");
	chunk_free(&c);

	rc = parse("{\"choices\":null}", &c);
	ok(rc == CHUNK_OK && c.content == NULL, "choices null");
	chunk_free(&c);

	rc = parse("{\"choices\":{\"delta\":{\"content\":\"x\"}}}", &c);
	ok(rc == CHUNK_OK && c.content == NULL, "choices not an array");
	chunk_free(&c);

	rc = parse("{\"choices\":[1,\"x\",null]}", &c);
	ok(rc == CHUNK_OK && c.content == NULL, "choices of non-objects");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":\"x\"}]}", &c);
	ok(rc == CHUNK_OK && c.content == NULL, "delta not an object");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":5}}]}",
	    &c);
	ok(rc == CHUNK_OK && c.content == NULL, "content not a string");
	chunk_free(&c);

	rc = parse("  {\"choices\":[]}\n", &c);
	ok(rc == CHUNK_OK, "whitespace around the object");
	chunk_free(&c);
}

static void
test_errors(void)
{
	struct chunk	 c;
	enum chunk_status rc;

	rc = parse("{\"error\":{\"message\":\"You exceeded your current "
	    "quota\",\"type\":\"insufficient_quota\",\"param\":null,"
	    "\"code\":\"insufficient_quota\"}}", &c);
	ok(rc == CHUNK_OK && c.is_error && c.error_message != NULL &&
	    strcmp(c.error_message, "You exceeded your current quota") == 0 &&
	    strcmp(c.error_code, "insufficient_quota") == 0,
	    "in-band error with code");
	chunk_free(&c);

	rc = parse("{\"error\":{\"message\":\"boom\",\"type\":"
	    "\"server_error\",\"code\":null}}", &c);
	ok(rc == CHUNK_OK && c.is_error &&
	    strcmp(c.error_code, "server_error") == 0 &&
	    strcmp(c.error_message, "boom") == 0,
	    "error code null falls back to type");
	chunk_free(&c);

	rc = parse("{\"error\":{\"message\":\"Rate limit\",\"code\":429},"
	    "\"user_id\":\"u\"}", &c);
	ok(rc == CHUNK_OK && c.is_error && strcmp(c.error_code, "429") == 0,
	    "numeric error code (OpenRouter)");
	chunk_free(&c);

	rc = parse("{\"error\":\"overloaded\"}", &c);
	ok(rc == CHUNK_OK && c.is_error &&
	    strcmp(c.error_message, "overloaded") == 0 &&
	    c.error_code[0] == '\0', "error as a plain string");
	chunk_free(&c);

	rc = parse("{\"error\":{}}", &c);
	ok(rc == CHUNK_OK && c.is_error && c.error_message != NULL &&
	    c.error_message[0] != '\0', "empty error gets a message");
	chunk_free(&c);

	rc = parse("{\"error\":null,\"choices\":[]}", &c);
	ok(rc == CHUNK_OK && !c.is_error && c.error_message == NULL,
	    "error null is no error");
	chunk_free(&c);
}

static void
test_garbage(void)
{
	static const char trail[] = "{\"choices\":[{\"index\":0,"
	    "\"delta\":{\"content\":\"abc\"}}]}XYZ";
	static const char *const bad[] = {
		"", "   ", "garbage", ": OPENROUTER PROCESSING",
		"{", "{\"choices\":[", "{\"a\":1}}", "{\"a\":1} {\"b\":2}",
		"[1,2]", "\"str\"", "42", "null",
		"{\"a\":1,}", "{\"a\":tru}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]}",
	};
	struct chunk	 c;
	size_t		 i;
	enum chunk_status rc;
	int		 good = 1;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0xa5, sizeof(c));
		rc = parse(bad[i], &c);
		if (rc != CHUNK_ERR_JSON || !is_zero(&c)) {
			printf("# \"%s\" gave %d\n", bad[i], (int)rc);
			good = 0;
		}
		chunk_free(&c);
	}
	ok(good, "garbage, non-objects, trailing data and deep nesting "
	    "are CHUNK_ERR_JSON with *out zeroed");

	rc = chunk_parse("{\"choices\":[]}\0junk", 19, &c);
	ok(rc == CHUNK_ERR_JSON, "bytes after a NUL are not ignored");
	chunk_free(&c);

	rc = chunk_parse(trail, strlen(trail) - 3, &c);
	ok(rc == CHUNK_OK && c.content != NULL &&
	    strcmp(c.content, "abc") == 0,
	    "len bounds the input (trailing bytes outside len ignored)");
	chunk_free(&c);
}

static void
test_misc(void)
{
	struct chunk	 c;
	int		 i, good = 1;

	memset(&c, 0, sizeof(c));
	chunk_free(&c);
	chunk_free(&c);
	ok(is_zero(&c), "chunk_free on a zeroed struct, twice");
	for (i = 0; i < CHUNK__MAX; i++)
		if (chunk_strerror((enum chunk_status)i) == NULL)
			good = 0;
	ok(good && strcmp(chunk_strerror(CHUNK_ERR_JSON),
	    chunk_strerror(CHUNK_ERR_NOMEM)) != 0 &&
	    chunk_strerror(CHUNK__MAX) != NULL, "chunk_strerror");
}

int
main(void)
{
	test_done();
	test_openai();
	test_shapes();
	test_errors();
	test_garbage();
	test_misc();
	return tap_done();
}
