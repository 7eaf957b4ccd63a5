/*
 * unit_chunk.c - TAP tests for the stream payload reader (chunk.c).
 *
 * The payloads are shaped like what api.openai.com, OpenRouter and vLLM
 * send on a chat.completions stream; the accents of Azure, OpenRouter,
 * Groq, vLLM, Ollama, DeepSeek and llama.cpp are quoted from captured
 * streams (docs/vendors.md).
 */
#include "config.h"

#include <limits.h>
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

/*
 * Tests below pin what the JSON scanner that replaced json-c decides
 * where json-c's behaviour was not already pinned above.
 */

/* {"choices":[{"index":0,"delta":{"content":<v>}}]} */
static enum chunk_status
parse_content(const char *v, struct chunk *c)
{
	char	 buf[512];

	snprintf(buf, sizeof(buf), "{\"choices\":[{\"index\":0,\"delta\":"
	    "{\"content\":%s}}]}", v);
	return parse(buf, c);
}

/* Content of <v> is exactly want[0..n). */
static int
content_is(const char *v, const char *want, size_t n)
{
	struct chunk	 c;
	int		 good;

	good = parse_content(v, &c) == CHUNK_OK && c.content != NULL &&
	    c.content_len == n && memcmp(c.content, want, n) == 0 &&
	    c.content[n] == '\0';
	if (!good)
		printf("# content %s\n", v);
	chunk_free(&c);
	return good;
}

/* {"usage":{"prompt_tokens":<v>}} gives want (or fails with -1). */
static int
prompt_is(const char *v, long want)
{
	struct chunk	 c;
	char		 buf[256];
	enum chunk_status rc;
	int		 good;

	snprintf(buf, sizeof(buf), "{\"usage\":{\"prompt_tokens\":%s}}", v);
	memset(&c, 0xa5, sizeof(c));
	rc = parse(buf, &c);
	if (want < 0)
		good = rc == CHUNK_ERR_JSON && is_zero(&c);
	else
		good = rc == CHUNK_OK && c.has_usage &&
		    c.prompt_tokens == want && c.completion_tokens == 0;
	if (!good)
		printf("# usage %s gave %d, %ld\n", v, (int)rc,
		    c.prompt_tokens);
	chunk_free(&c);
	return good;
}

static void
test_strings(void)
{
	static const char *const bad[] = {
		"\"\\x\"", "\"\\'\"", "\"\\u00\"", "\"\\u00g0\"",
		"\"\\U0041\"", "\"\\", "\"abc", "'a'", "\"a\x01" "b\"",
		"\"a\x1f" "b\"", "\"a\tb\"", "\"a\nb\"",
	};
	struct chunk	 c;
	size_t		 i;
	int		 good = 1;

	ok(content_is("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t",
	    8), "all two-character escapes");
	ok(content_is("\"\\u0041\\u00E9\\u20aC\\uFFFF\"",
	    "A\xc3\xa9\xe2\x82\xac\xef\xbf\xbf", 9),
	    "\\u escapes to 1, 2 and 3 UTF-8 bytes, either case of hex");
	ok(content_is("\"\\uDBFF\\uDFFF\\ud800\\udc00\"",
	    "\xf4\x8f\xbf\xbf\xf0\x90\x80\x80", 8),
	    "surrogate pairs to 4 UTF-8 bytes");
	ok(content_is("\"\\ud800\"", "\xef\xbf\xbd", 3) &&
	    content_is("\"\\udc00x\"", "\xef\xbf\xbdx", 4) &&
	    content_is("\"\\ud800x\"", "\xef\xbf\xbdx", 4) &&
	    content_is("\"\\ud800\\n\"", "\xef\xbf\xbd\n", 4),
	    "a lone surrogate becomes U+FFFD (as json-c did)");
	ok(content_is("\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A", 4) &&
	    content_is("\"\\ud800\\ud800\\udc00\"",
	    "\xef\xbf\xbd\xf0\x90\x80\x80", 7),
	    "the escape after an unpaired high surrogate is read alone");
	ok(content_is("\"\\u0000\"", "\0", 1) &&
	    content_is("\"\\u0000\\u0000x\\u0000\"", "\0\0x\0", 4),
	    "escaped NULs count in content_len");
	ok(content_is("\"\xc3\xa9\xff\x7f\"", "\xc3\xa9\xff\x7f", 4),
	    "bytes >= 0x7f pass through unchecked");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0xa5, sizeof(c));
		if (parse_content(bad[i], &c) != CHUNK_ERR_JSON ||
		    !is_zero(&c)) {
			printf("# content %s accepted\n", bad[i]);
			good = 0;
		}
		chunk_free(&c);
	}
	ok(good, "bad escapes, unterminated strings, single quotes and raw "
	    "control characters (json-c took those) are rejected");

	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"refusal\":"
	    "\"\\u0000x\"},\"finish_reason\":\"st\\u0000op\"}]}", &c) ==
	    CHUNK_OK && c.refusal != NULL && c.refusal[0] == '\0' &&
	    strcmp(c.finish_reason, "st") == 0,
	    "refusal \"\\u0000x\" is non-NULL; finish_reason cut at a NUL");
	chunk_free(&c);

	ok(parse("{\"error\":{\"message\":\"\\u0000x\",\"code\":\"c\\u0000d"
	    "\"}}", &c) == CHUNK_OK && c.is_error &&
	    strcmp(c.error_message, "unknown error") == 0 &&
	    strcmp(c.error_code, "c") == 0,
	    "error texts are C strings: cut at a NUL");
	chunk_free(&c);

	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\","
	    "\"refusal\":\"y\"},\"finish_reason\":\"a-very-long-finish-"
	    "reason-\\u00e9\\u00e9\\u00e9\\u00e9\"}]}", &c) == CHUNK_OK &&
	    strlen(c.finish_reason) == sizeof(c.finish_reason) - 1 &&
	    memcmp(c.finish_reason, "a-very-long-finish-reason-\xc3\xa9"
	    "\xc3\xa9\xc3", 31) == 0,
	    "finish_reason cut to fit after decoding, byte-wise");
	chunk_free(&c);
}

static void
test_numbers(void)
{
	static const char *const bad[] = {
		"01", "00", "-01", "1.", "1.e3", ".5", "-", "-.0", "+1",
		"1e", "1e+", "1E-", "0x10", "NaN", "Infinity", "-Infinity",
		"1.5.2", "--1", "1ee2", "tru", "nul", "True", "nulll",
	};
	size_t		 i;
	int		 good = 1;

	ok(prompt_is("1e5", 100000) && prompt_is("1E+2", 100) &&
	    prompt_is("25E-1", 2) && prompt_is("0.5e1", 5),
	    "usage counts with exponents");
	ok(prompt_is("12.7", 12) && prompt_is("0.9", 0) &&
	    prompt_is("-0.5", 0) && prompt_is("1e-999", 0),
	    "fractional counts are truncated toward zero");
	ok(prompt_is("2.9999999999999999999", 3) &&
	    prompt_is("0.99999999999999999999", 1) &&
	    prompt_is("1234.0000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000001", 1234),
	    "doubles round like strtod() before truncation");
	ok(prompt_is("9223372036854775807", LONG_MAX) &&
	    prompt_is("9223372036854775808", LONG_MAX) &&
	    prompt_is("99999999999999999999999", LONG_MAX) &&
	    prompt_is("1e999", LONG_MAX) && prompt_is("1E400", LONG_MAX),
	    "counts too large saturate at LONG_MAX");
	ok(prompt_is("-0", 0) && prompt_is("-7", 0) &&
	    prompt_is("-99999999999999999999", 0) && prompt_is("-1e999", 0) &&
	    prompt_is("0", 0) && prompt_is("true", 0) &&
	    prompt_is("null", 0) && prompt_is("[1]", 0) &&
	    prompt_is("{\"a\":1}", 0),
	    "negative and non-number counts read as 0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!prompt_is(bad[i], -1))
			good = 0;
	ok(good, "numbers and literals outside RFC 8259 are rejected "
	    "(json-c took 00, -01, 1., -.0 and NaN)");
}

/* {"a":<levels-1 '['>x<levels-1 ']'>}: x sits at level `levels'+1. */
static enum chunk_status
parse_deep(int levels, const char *x)
{
	struct chunk	 c;
	char		 buf[256];
	size_t		 n = 0;
	int		 i;
	enum chunk_status rc;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"a\":");
	for (i = 1; i < levels; i++)
		buf[n++] = '[';
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", x);
	for (i = 1; i < levels; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	buf[n] = '\0';
	memset(&c, 0xa5, sizeof(c));
	rc = parse(buf, &c);
	if (rc != CHUNK_OK && !is_zero(&c))
		rc = CHUNK__MAX;
	chunk_free(&c);
	return rc;
}

static void
test_depth(void)
{
	ok(parse_deep(CHUNK_DEPTH_MAX - 1, "1") == CHUNK_OK &&
	    parse_deep(CHUNK_DEPTH_MAX - 1, "\"s\"") == CHUNK_OK &&
	    parse_deep(CHUNK_DEPTH_MAX - 1, "{}") == CHUNK_OK &&
	    parse_deep(CHUNK_DEPTH_MAX - 1, "[]") == CHUNK_OK &&
	    parse_deep(CHUNK_DEPTH_MAX - 2, "{\"k\":1}") == CHUNK_OK,
	    "a value at level CHUNK_DEPTH_MAX is accepted");
	ok(parse_deep(CHUNK_DEPTH_MAX, "1") == CHUNK_ERR_JSON &&
	    parse_deep(CHUNK_DEPTH_MAX, "\"s\"") == CHUNK_ERR_JSON &&
	    parse_deep(CHUNK_DEPTH_MAX, "{}") == CHUNK_ERR_JSON &&
	    parse_deep(CHUNK_DEPTH_MAX, "[]") == CHUNK_ERR_JSON &&
	    parse_deep(CHUNK_DEPTH_MAX - 1, "{\"k\":1}") == CHUNK_ERR_JSON &&
	    parse_deep(100, "1") == CHUNK_ERR_JSON,
	    "a value at level CHUNK_DEPTH_MAX + 1 is CHUNK_ERR_JSON");
}

static void
test_keys(void)
{
	static const char *const bad[] = {
		"{\"a\":1 \"b\":2}", "{1:1}", "{\"a\" 1}", "{\"a\":}",
		"{\"a\":[1,]}", "{\"a\":[,1]}", "{,}", "{\"a\":1,}",
		"{'a':1}", "{\"a\":1}\x0b", "\x0b{\"a\":1}", "{\f\"a\":1}",
		"{\"a\":{\"b\":1}", "{\"a\":[1}", "{\"a\":{]}", "{\"a\"}",
		"{\"a\":1}}", "{\"a\":1}]",
	};
	struct chunk	 c;
	size_t		 i;
	int		 good = 1;
	enum chunk_status rc;

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\","
	    "\"content\":\"y\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL &&
	    strcmp(c.content, "y") == 0, "duplicate key: the last one wins");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\""
	    "}}],\"usage\":{\"prompt_tokens\":3},\"error\":\"e\",\"choices\":"
	    "[],\"usage\":null,\"error\":null}", &c);
	ok(rc == CHUNK_OK && c.content == NULL && !c.has_usage &&
	    c.prompt_tokens == 0 && !c.is_error && c.error_message == NULL,
	    "a later choices, usage or error replaces the earlier one");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},"
	    "\"delta\":{\"refusal\":\"r\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content == NULL && c.refusal != NULL &&
	    strcmp(c.refusal, "r") == 0, "a later delta replaces all of it");
	chunk_free(&c);

	rc = parse("{\"ch\\u006fices\":[{\"index\":0,\"delta\":{\"con\\u0074"
	    "ent\":\"x\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL && strcmp(c.content, "x") == 0,
	    "keys are compared after decoding escapes");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\\u0000"
	    "zz\":\"x\",\"contents\":\"y\",\"conten\":\"z\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL && strcmp(c.content, "x") == 0,
	    "keys are C strings, as in json-c: content\\u0000zz is content");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":-0,\"delta\":{\"content\":\"a\""
	    "}}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL, "index -0 is index 0");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"index\":0.0,\"delta\":{\"content\":\"a\""
	    "}},{\"index\":0e0,\"delta\":{\"content\":\"b\"}},{\"index\":null,"
	    "\"delta\":{\"content\":\"c\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content == NULL,
	    "index 0.0, 0e0 or null is not an integer 0");
	chunk_free(&c);

	rc = parse("{\"choices\":[{\"delta\":{\"content\":\"a\"},\"index\":1},"
	    "{\"delta\":{\"content\":\"b\"}},{\"delta\":{\"content\":\"c\"},"
	    "\"index\":0},{\"index\":0,\"delta\":{\"content\":\"d\"}}]}", &c);
	ok(rc == CHUNK_OK && c.content != NULL && strcmp(c.content, "c") == 0,
	    "index read after delta; only the first choice may lack it; "
	    "the first index 0 wins");
	chunk_free(&c);

	rc = parse("{\"error\":{\"code\":99999999999999999999999}}", &c);
	ok(rc == CHUNK_OK && strcmp(c.error_code, "18446744073709551615") ==
	    0 && strcmp(c.error_message, "unknown error") == 0,
	    "huge error code saturates like json-c's uint64");
	chunk_free(&c);

	rc = parse("{\"error\":{\"code\":-99999999999999999999999}}", &c);
	ok(rc == CHUNK_OK && strcmp(c.error_code, "-9223372036854775808") ==
	    0, "huge negative error code saturates at INT64_MIN");
	chunk_free(&c);

	rc = parse("{\"error\":{\"code\":-0,\"type\":\"t\"}}", &c);
	ok(rc == CHUNK_OK && strcmp(c.error_code, "0") == 0,
	    "error code -0 is 0");
	chunk_free(&c);

	rc = parse("{\"error\":{\"message\":\"m\",\"code\":1.5,\"type\":"
	    "\"t\"}}", &c);
	ok(rc == CHUNK_OK && strcmp(c.error_code, "t") == 0 &&
	    strcmp(c.error_message, "m") == 0,
	    "a non-integer error code falls back to type");
	chunk_free(&c);

	rc = parse("{\"error\":{\"message\":\"m\",\"code\":\"\",\"type\":"
	    "\"t\"}}", &c);
	ok(rc == CHUNK_OK && c.error_code[0] == '\0',
	    "an empty string code does not fall back to type");
	chunk_free(&c);

	rc = parse("{\"error\":[\"x\"]}", &c);
	ok(rc == CHUNK_OK && c.is_error &&
	    strcmp(c.error_message, "unknown error") == 0 &&
	    c.error_code[0] == '\0', "error as an array");
	chunk_free(&c);

	rc = parse("\r\n\t {\r\n\t\"choices\" \t:\r\n[ { \"index\" : 0 , "
	    "\"delta\" : { \"content\" : \"w\" } } ] , \"x\" : [ ] , \"y\" "
	    ": { } }\r\n", &c);
	ok(rc == CHUNK_OK && c.content != NULL && strcmp(c.content, "w") == 0,
	    "whitespace between all tokens");
	chunk_free(&c);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0xa5, sizeof(c));
		rc = parse(bad[i], &c);
		if (rc != CHUNK_ERR_JSON || !is_zero(&c)) {
			printf("# \"%s\" gave %d\n", bad[i], (int)rc);
			good = 0;
		}
		chunk_free(&c);
	}
	ok(good, "bad structure, single-quoted keys (json-c took those) "
	    "and whitespace other than RFC 8259's are rejected");
}

static void
test_prefixes(void)
{
	static const char full[] = "{\"id\":\"c\",\"choices\":[{\"index\":0,"
	    "\"delta\":{\"content\":\"h\\u00e9\\ud83d\\ude00\"},\"logprobs\":"
	    "null,\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":1.5e1,"
	    "\"x\":[true,false,-1.25E-3]}}";
	struct chunk	 c;
	size_t		 n;
	int		 good = 1;

	/* Exact-size copies would show an overread under ASan. */
	for (n = 0; n < sizeof(full) - 1; n++) {
		memset(&c, 0xa5, sizeof(c));
		if (chunk_parse(full, n, &c) != CHUNK_ERR_JSON ||
		    !is_zero(&c)) {
			printf("# prefix of %zu bytes accepted\n", n);
			good = 0;
		}
		chunk_free(&c);
	}
	ok(good, "every proper prefix of a chunk is CHUNK_ERR_JSON");
	ok(chunk_parse(full, sizeof(full) - 1, &c) == CHUNK_OK &&
	    c.content_len == 7 && c.prompt_tokens == 15,
	    "the whole chunk parses");
	chunk_free(&c);
}


/* ---- the accents of other servers (docs/vendors.md) ---- */

/* chunk_parse_next() on a C string. */
static enum chunk_status
next(const char *s, struct chunk_carry *k, struct chunk *c)
{
	return chunk_parse_next(s, strlen(s), k, c);
}

/* The text p[0..n) is want (NULL: none, p NULL and n 0). */
static int
same_text(const char *p, size_t n, const char *want)
{
	if (want == NULL)
		return p == NULL && n == 0;
	return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

#define text_is(c, want)	same_text((c)->content, (c)->content_len, (want))
#define reasoning_is(c, want)	same_text((c)->reasoning, (c)->reasoning_len, \
	(want))

static void
test_azure(void)
{
	struct chunk	 c;

	ok(parse("{\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
	    "\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,"
	    "\"content_filter_results\":{\"hate\":{\"filtered\":false,"
	    "\"severity\":\"safe\"},\"self_harm\":{\"filtered\":false,"
	    "\"severity\":\"safe\"}}}]}", &c) == CHUNK_OK && !c.done &&
	    text_is(&c, NULL) && c.refusal == NULL && !c.is_error &&
	    !c.has_usage && c.finish_reason[0] == '\0',
	    "azure: prompt_filter_results chunk with empty choices is nothing");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"content_filter_results\":{\"hate\":{"
	    "\"filtered\":false,\"severity\":\"safe\"}},\"delta\":{\"content\":"
	    "\" have\"},\"finish_reason\":null,\"index\":0,\"logprobs\":null}],"
	    "\"created\":1701059531,\"id\":\"chatcmpl-8P\",\"model\":"
	    "\"gpt-35-turbo-16k\",\"object\":\"chat.completion.chunk\"}", &c) ==
	    CHUNK_OK && text_is(&c, " have"),
	    "azure: content beside content_filter_results");
	chunk_free(&c);
	ok(parse("{\"id\":\"\",\"object\":\"\",\"created\":0,\"model\":\"\","
	    "\"choices\":[{\"index\":0,\"finish_reason\":null,"
	    "\"content_filter_results\":{\"violence\":{\"filtered\":false,"
	    "\"severity\":\"safe\"}},\"content_filter_offsets\":{"
	    "\"check_offset\":44,\"start_offset\":44,\"end_offset\":198}}],"
	    "\"usage\":null}", &c) == CHUNK_OK && text_is(&c, NULL) &&
	    c.finish_reason[0] == '\0' && !c.is_error && !c.has_usage,
	    "azure: a content-filter chunk without delta is nothing");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"content_filter_results\":{},\"delta\":{},"
	    "\"finish_reason\":\"stop\",\"index\":0,\"logprobs\":null}],"
	    "\"created\":1,\"id\":\"x\",\"model\":\"gpt-4o\",\"object\":"
	    "\"chat.completion.chunk\",\"usage\":null}", &c) == CHUNK_OK &&
	    strcmp(c.finish_reason, "stop") == 0 && text_is(&c, NULL),
	    "azure: the finish chunk (delta {}, content_filter_results {})");
	chunk_free(&c);
}

static void
test_openrouter(void)
{
	struct chunk	 c;

	ok(parse("{\"id\":\"cmpl-abc123\",\"object\":\"chat.completion.chunk\","
	    "\"created\":1234567890,\"model\":\"gpt-3.5-turbo\",\"provider\":"
	    "\"openai\",\"error\":{\"code\":\"server_error\",\"message\":"
	    "\"Provider disconnected unexpectedly\"},\"choices\":[{\"index\":0,"
	    "\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}", &c)
	    == CHUNK_OK && c.is_error && text_is(&c, NULL) &&
	    strcmp(c.error_code, "server_error") == 0 &&
	    strcmp(c.error_message, "Provider disconnected unexpectedly") == 0 &&
	    strcmp(c.finish_reason, "error") == 0 &&
	    c.error_kind == CHUNK_EK_OTHER,
	    "openrouter: a mid-stream error beside finish_reason error");
	chunk_free(&c);
	ok(parse("{\"error\":{\"code\":502,\"message\":\"Provider returned "
	    "error\",\"metadata\":{\"raw\":\"x\",\"provider_name\":\"y\"}},"
	    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},"
	    "\"finish_reason\":\"error\"}]}", &c) == CHUNK_OK && c.is_error &&
	    strcmp(c.error_code, "502") == 0 && c.error_type[0] == '\0' &&
	    c.error_kind == CHUNK_EK_OTHER,
	    "openrouter: a numeric 502 with metadata");
	chunk_free(&c);
	ok(parse("{\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
	    "\"completion_tokens\":3,\"total_tokens\":15,\"cost\":0.00042}}",
	    &c) == CHUNK_OK && c.has_usage && c.prompt_tokens == 12 &&
	    c.completion_tokens == 3, "openrouter: usage with cost");
	chunk_free(&c);
}

static void
test_error_kinds(void)
{
	static const struct {
		const char		*json;
		enum chunk_errkind	 kind;
		const char		*what;
	} t[] = {
		{ "{\"error\":{\"code\":401,\"message\":\"User not found.\"}}",
		    CHUNK_EK_AUTH, "code 401 (OpenRouter)" },
		{ "{\"error\":{\"message\":\"Incorrect API key provided\","
		    "\"type\":\"invalid_request_error\",\"param\":null,"
		    "\"code\":\"invalid_api_key\"}}",
		    CHUNK_EK_AUTH, "code invalid_api_key (OpenAI)" },
		{ "{\"error\":{\"code\":403,\"message\":\"no\"}}",
		    CHUNK_EK_AUTH, "code 403" },
		{ "{\"error\":{\"type\":\"authentication_error\",\"code\":null,"
		    "\"message\":\"bad key\"}}",
		    CHUNK_EK_AUTH, "type authentication_error" },
		{ "{\"error\":{\"code\":429,\"message\":\"slow down\"}}",
		    CHUNK_EK_RATE, "code 429" },
		{ "{\"error\":{\"code\":\"rate_limit_exceeded\","
		    "\"type\":\"requests\",\"message\":\"m\"}}",
		    CHUNK_EK_RATE, "code rate_limit_exceeded" },
		{ "{\"error\":{\"code\":\"insufficient_quota\",\"message\":"
		    "\"m\"}}", CHUNK_EK_RATE, "code insufficient_quota" },
		{ "{\"error\":{\"code\":\"server_error\",\"message\":\"m\"}}",
		    CHUNK_EK_OTHER, "code server_error" },
		{ "{\"error\":{\"code\":\"4010\",\"message\":\"m\"}}",
		    CHUNK_EK_OTHER, "code 4010 is not 401" },
		{ "{\"error\":\"401\"}", CHUNK_EK_OTHER,
		    "an error string is no code" },
		{ "{\"error\":{\"code\":401.0,\"message\":\"m\"}}",
		    CHUNK_EK_OTHER, "code 401.0 is not an integer" },
	};
	struct chunk	 c;
	size_t		 i;
	char		 what[96];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(what, sizeof(what), "error kind: %s", t[i].what);
		ok(parse(t[i].json, &c) == CHUNK_OK && c.is_error &&
		    c.error_kind == t[i].kind, "%s", what);
		chunk_free(&c);
	}
	ok(parse("{\"error\":{\"message\":\"m\",\"type\":\"invalid_request_"
	    "error\",\"code\":\"invalid_api_key\"}}", &c) == CHUNK_OK &&
	    strcmp(c.error_type, "invalid_request_error") == 0 &&
	    strcmp(c.error_code, "invalid_api_key") == 0,
	    "error_type is kept beside error_code");
	chunk_free(&c);
}

static void
test_groq(void)
{
	struct chunk	 c;

	ok(parse("{\"id\":\"chatcmpl-e7\",\"object\":\"chat.completion.chunk\","
	    "\"created\":1745935006,\"model\":\"llama-3.3-70b-versatile\","
	    "\"system_fingerprint\":\"fp_3f\",\"choices\":[{\"index\":0,"
	    "\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
	    "\"x_groq\":{\"id\":\"req_01jt\",\"usage\":{\"queue_time\":0.05,"
	    "\"prompt_tokens\":48,\"prompt_time\":0.002,\"completion_tokens\":"
	    "51,\"completion_time\":0.18,\"total_tokens\":99,\"total_time\":"
	    "0.19}}}", &c) == CHUNK_OK && c.has_usage &&
	    c.prompt_tokens == 48 && c.completion_tokens == 51 &&
	    strcmp(c.finish_reason, "stop") == 0,
	    "groq: usage in x_groq.usage of the finish chunk");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
	    "\"content\":\"\"}}],\"x_groq\":{\"id\":\"req_01jt\"}}", &c) ==
	    CHUNK_OK && !c.has_usage, "groq: x_groq without usage");
	chunk_free(&c);
	ok(parse("{\"choices\":[],\"usage\":{\"prompt_tokens\":1,"
	    "\"completion_tokens\":2},\"x_groq\":{\"usage\":{\"prompt_tokens\":"
	    "7,\"completion_tokens\":8}}}", &c) == CHUNK_OK && c.has_usage &&
	    c.prompt_tokens == 1 && c.completion_tokens == 2,
	    "groq: a top-level usage wins over x_groq.usage");
	chunk_free(&c);
	ok(parse("{\"usage\":null,\"x_groq\":{\"usage\":{\"prompt_tokens\":"
	    "7,\"completion_tokens\":8}}}", &c) == CHUNK_OK && c.has_usage &&
	    c.prompt_tokens == 7 && c.completion_tokens == 8,
	    "groq: usage null, x_groq.usage counts");
	chunk_free(&c);
	ok(parse("{\"x_groq\":{\"usage\":null}}", &c) == CHUNK_OK &&
	    !c.has_usage, "groq: x_groq.usage null is no usage");
	chunk_free(&c);
	ok(parse("{\"x_groq\":[1,{\"usage\":{}}]}", &c) == CHUNK_OK &&
	    !c.has_usage, "groq: x_groq not an object is skipped");
	chunk_free(&c);
}

static void
test_local_servers(void)
{
	struct chunk	 c;

	ok(parse("{\"id\":\"chat-2487\",\"object\":\"chat.completion.chunk\","
	    "\"created\":1723032007,\"model\":\"meta-llama/Meta-Llama-3-8B\","
	    "\"choices\":[],\"usage\":{\"prompt_tokens\":16,\"total_tokens\":"
	    "26,\"completion_tokens\":10}}", &c) == CHUNK_OK && c.has_usage &&
	    c.prompt_tokens == 16 && c.completion_tokens == 10 &&
	    text_is(&c, NULL), "vllm: usage chunk with choices []");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},"
	    "\"logprobs\":null,\"finish_reason\":\"stop\",\"stop_reason\":"
	    "null}]}", &c) == CHUNK_OK && strcmp(c.finish_reason, "stop") == 0,
	    "vllm: finish chunk with stop_reason");
	chunk_free(&c);
	ok(parse("{\"object\":\"error\",\"message\":\"The model `x` does "
	    "not exist.\",\"type\":\"NotFoundError\",\"param\":null,"
	    "\"code\":404}", &c) == CHUNK_OK && c.is_error &&
	    strcmp(c.error_message, "The model `x` does not exist.") == 0 &&
	    strcmp(c.error_code, "404") == 0 &&
	    strcmp(c.error_type, "NotFoundError") == 0,
	    "vllm: {\"object\":\"error\"} is an in-band error");
	chunk_free(&c);
	ok(parse("{\"object\":\"error\",\"message\":\"slow\",\"code\":429}",
	    &c) == CHUNK_OK && c.is_error && c.error_kind == CHUNK_EK_RATE,
	    "vllm: an object error 429 is a rate limit");
	chunk_free(&c);
	ok(parse("{\"object\":\"chat.completion.chunk\",\"message\":\"x\","
	    "\"choices\":[]}", &c) == CHUNK_OK && !c.is_error,
	    "a top-level message without object error is no error");
	chunk_free(&c);
	ok(parse("{\"object\":\"error\"}", &c) == CHUNK_OK && c.is_error &&
	    strcmp(c.error_message, "unknown error") == 0,
	    "vllm: an object error without message");
	chunk_free(&c);
	ok(parse("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
	    "\"created\":1,\"model\":\"qwen3\",\"system_fingerprint\":"
	    "\"fp_ollama\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
	    "\"assistant\",\"content\":\"\",\"reasoning\":\"We need\"},"
	    "\"finish_reason\":null}]}", &c) == CHUNK_OK &&
	    text_is(&c, NULL) && reasoning_is(&c, "We need"),
	    "ollama: delta.reasoning is reasoning, not content");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
	    "\"content\":null,\"reasoning_content\":\"9.11 < 9.8\"},"
	    "\"logprobs\":null,\"finish_reason\":null}]}", &c) == CHUNK_OK &&
	    text_is(&c, NULL) && reasoning_is(&c, "9.11 < 9.8"),
	    "deepseek: delta.reasoning_content is reasoning");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\","
	    "\"reasoning_content\":null}}]}", &c) == CHUNK_OK &&
	    text_is(&c, "{") && reasoning_is(&c, NULL),
	    "deepseek: content with reasoning_content null");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"a\","
	    "\"reasoning_content\":\"a\"}}]}", &c) == CHUNK_OK &&
	    reasoning_is(&c, "a"),
	    "both reasoning names (vLLM): one text, not twice");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"r\","
	    "\"reasoning_content\":\"\"}}]}", &c) == CHUNK_OK &&
	    reasoning_is(&c, "r"), "an empty reasoning_content yields to "
	    "reasoning");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":"
	    "\"caf\\u00e9\\n\"}}]}", &c) == CHUNK_OK &&
	    reasoning_is(&c, "caf\xc3\xa9\n"), "reasoning escapes decoded");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":"
	    "{\"content\":\" it\"}}],\"created\":1781492230,\"id\":\"chatcmpl-q\","
	    "\"model\":\"gemma.gguf\",\"system_fingerprint\":\"b9554-d40\","
	    "\"object\":\"chat.completion.chunk\",\"timings\":{\"cache_n\":7,"
	    "\"prompt_n\":10,\"prompt_ms\":251.51,\"predicted_n\":28,"
	    "\"predicted_per_second\":68.69}}", &c) == CHUNK_OK &&
	    text_is(&c, " it") && !c.has_usage,
	    "llama.cpp: timings are ignored, no usage");
	chunk_free(&c);
	ok(parse("{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,"
	    "\"delta\":{}}],\"usage\":{\"completion_tokens\":28,"
	    "\"prompt_tokens\":10,\"total_tokens\":38},\"timings\":{"
	    "\"prompt_n\":10}}", &c) == CHUNK_OK && c.has_usage &&
	    c.completion_tokens == 28 && strcmp(c.finish_reason, "stop") == 0,
	    "llama.cpp: usage and timings on the finish chunk");
	chunk_free(&c);
}

static void
test_carry(void)
{
	struct chunk_carry	 k;
	struct chunk		 c;

	memset(&k, 0, sizeof(k));
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"ab\\ud83d\"}}]}", &k, &c) == CHUNK_OK && text_is(&c, "ab") &&
	    k.content_hi == 0xd83d, "carry: a trailing high surrogate waits");
	chunk_free(&c);
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"\\ude00cd\"}}]}", &k, &c) == CHUNK_OK &&
	    text_is(&c, "\xf0\x9f\x98\x80" "cd") && k.content_hi == 0,
	    "carry: the low surrogate in the next chunk makes U+1F600");
	chunk_free(&c);

	memset(&k, 0, sizeof(k));
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"\\uD83D\"}}]}", &k, &c) == CHUNK_OK && text_is(&c, NULL) &&
	    k.content_hi == 0xd83d, "carry: a chunk of only the high half has "
	    "no content");
	chunk_free(&c);
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\""
	    "}}],\"usage\":null}", &k, &c) == CHUNK_OK && text_is(&c, NULL) &&
	    k.content_hi == 0xd83d, "carry: a chunk without content keeps it");
	chunk_free(&c);
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"\\uDE00\"}}]}", &k, &c) == CHUNK_OK &&
	    text_is(&c, "\xf0\x9f\x98\x80"), "carry: then the low half "
	    "alone completes it (upper-case hex)");
	chunk_free(&c);

	memset(&k, 0, sizeof(k));
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"a\\ud83d\"}}]}", &k, &c) == CHUNK_OK, "carry: pending again");
	chunk_free(&c);
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}",
	    &k, &c) == CHUNK_OK && text_is(&c, "\xef\xbf\xbd" "b") &&
	    k.content_hi == 0, "carry: a pending half before plain text is "
	    "U+FFFD");
	chunk_free(&c);

	memset(&k, 0, sizeof(k));
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"\\ud83d\"}}]}", &k, &c) == CHUNK_OK, "carry: pending before "
	    "the finish");
	chunk_free(&c);
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
	    "\"stop\"}]}", &k, &c) == CHUNK_OK &&
	    text_is(&c, "\xef\xbf\xbd") && k.content_hi == 0,
	    "carry: a finish_reason flushes a pending half as U+FFFD");
	chunk_free(&c);

	memset(&k, 0, sizeof(k));
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"x\\ud83d\"}}]}", &k, &c) == CHUNK_OK, "carry: pending before "
	    "[DONE]");
	chunk_free(&c);
	ok(next("[DONE]", &k, &c) == CHUNK_OK && c.done &&
	    text_is(&c, "\xef\xbf\xbd") && k.content_hi == 0,
	    "carry: [DONE] flushes a pending half as U+FFFD");
	chunk_free(&c);
	ok(next("[DONE]", &k, &c) == CHUNK_OK && c.done &&
	    text_is(&c, NULL), "carry: [DONE] with nothing pending has no "
	    "content");
	chunk_free(&c);

	memset(&k, 0, sizeof(k));
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"\\ud83d\\ud83d\"}}]}", &k, &c) == CHUNK_OK &&
	    text_is(&c, "\xef\xbf\xbd") && k.content_hi == 0xd83d,
	    "carry: two high halves: the first is U+FFFD, the second waits");
	chunk_free(&c);
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"\\ude00\\ude00\"}}]}", &k, &c) == CHUNK_OK &&
	    text_is(&c, "\xf0\x9f\x98\x80\xef\xbf\xbd"),
	    "carry: a second low half is U+FFFD");
	chunk_free(&c);

	memset(&k, 0, sizeof(k));
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":"
	    "\"r\\ud83d\",\"content\":\"c\\ud83d\"}}]}", &k, &c) == CHUNK_OK &&
	    reasoning_is(&c, "r") && text_is(&c, "c") &&
	    k.reasoning_hi == 0xd83d && k.content_hi == 0xd83d,
	    "carry: reasoning and content carry apart");
	chunk_free(&c);
	ok(next("{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":"
	    "\"\\ude00\"}}]}", &k, &c) == CHUNK_OK &&
	    reasoning_is(&c, "\xf0\x9f\x98\x80") && text_is(&c, NULL) &&
	    k.content_hi == 0xd83d, "carry: the reasoning half completes, "
	    "the content half still waits");
	chunk_free(&c);

	memset(&k, 0, sizeof(k));
	k.content_hi = 0xd83d;
	ok(next("{\"choices\":[", &k, &c) == CHUNK_ERR_JSON &&
	    k.content_hi == 0xd83d && is_zero(&c),
	    "carry: a bad chunk leaves the carry alone");
	chunk_free(&c);

	ok(parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
	    "\"a\\ud83d\"}}]}", &c) == CHUNK_OK &&
	    text_is(&c, "a\xef\xbf\xbd"),
	    "chunk_parse (no carry): a trailing half is U+FFFD as before");
	chunk_free(&c);
	ok(parse("[DONE]", &c) == CHUNK_OK && text_is(&c, NULL),
	    "chunk_parse: [DONE] has no content");
	chunk_free(&c);
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
	test_strings();
	test_numbers();
	test_depth();
	test_keys();
	test_prefixes();
	test_azure();
	test_openrouter();
	test_error_kinds();
	test_groq();
	test_local_servers();
	test_carry();
	return tap_done();
}
