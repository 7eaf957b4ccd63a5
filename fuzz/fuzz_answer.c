/*
 * fuzz_answer.c - libFuzzer target for the lenient answer parser
 * (answer.c): ans_parse(), the same entry point as tests/unit_answer.c.
 *
 * The whole input is the model's output.  Checked: the status is in
 * range; on error *out is empty; on success the score is 0..100, the
 * summary is a NUL-terminated string of at most ANS_SUMMARY_MAX bytes,
 * both skill lists are arrays of at most ANS_SKILLS_MAX non-empty,
 * trimmed strings of at most ANS_SKILL_LEN_MAX bytes without NULs, and,
 * when the input is well-formed UTF-8, so are the summary and skills
 * (cuts fall on character boundaries).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "answer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* Is s[0..n) well-formed UTF-8 (RFC 3629)? */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t		 i, k, need;
	unsigned long	 cp, min;

	for (i = 0; i < n; i += need) {
		if (s[i] < 0x80) {
			need = 1;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 2;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 3;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 4;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n - i < need)
			return 0;
		for (k = 1; k < need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

static void
check_skills(struct json_object *arr, int utf8)
{
	struct json_object	*el;
	const char		*s;
	size_t			 i, n, len;

	CHECK(json_object_is_type(arr, json_type_array));
	n = json_object_array_length(arr);
	CHECK(n <= ANS_SKILLS_MAX);
	for (i = 0; i < n; i++) {
		el = json_object_array_get_idx(arr, i);
		CHECK(json_object_is_type(el, json_type_string));
		s = json_object_get_string(el);
		len = (size_t)json_object_get_string_len(el);
		CHECK(s != NULL && len > 0 && len <= ANS_SKILL_LEN_MAX);
		CHECK(strlen(s) == len);
		CHECK(!is_ws(s[0]) && !is_ws(s[len - 1]));
		CHECK(!utf8 || utf8_ok((const unsigned char *)s, len));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct answer	 a, zero;
	enum ans_status	 st;
	int		 utf8;

	memset(&zero, 0, sizeof(zero));
	memset(&a, 0xa5, sizeof(a));
	st = ans_parse((const char *)data, size, &a);
	CHECK(st < ANS__MAX && ans_strerror(st) != NULL);
	if (st != ANS_OK) {
		CHECK(memcmp(&a, &zero, sizeof(a)) == 0);
		answer_free(&a);
		return 0;
	}
	utf8 = utf8_ok(data, size);
	CHECK(a.score >= 0 && a.score <= 100);
	CHECK(a.summary != NULL);
	CHECK(strlen(a.summary) <= ANS_SUMMARY_MAX);
	CHECK(!utf8 || utf8_ok((const unsigned char *)a.summary,
	    strlen(a.summary)));
	check_skills(a.matched_skills, utf8);
	check_skills(a.missing_skills, utf8);
	answer_free(&a);
	CHECK(memcmp(&a, &zero, sizeof(a)) == 0);
	answer_free(&a);
	return 0;
}
