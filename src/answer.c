/*
 * answer.c - lenient parser for the model's scoring answer; see answer.h.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "answer.h"
#include "utf8.h"

void
answer_free(struct answer *a)
{
	free(a->summary);
	a->summary = NULL;
	if (a->matched_skills != NULL)
		json_object_put(a->matched_skills);
	if (a->missing_skills != NULL)
		json_object_put(a->missing_skills);
	a->matched_skills = NULL;
	a->missing_skills = NULL;
	a->score = 0;
}

/* HELPER: ans_parse and ans_strerror go below. */

/* JSON nesting allowed in an answer; the expected object has 2 levels. */
#define ANS_DEPTH_MAX		16
/*
 * Each '{' is tried as the start of the object, and a try may scan to
 * the end of the text.  Bound the bytes tokenized by all tries together
 * to ANS_WORK_FACTOR times the text length plus ANS_WORK_MIN, so hostile
 * output cannot make the search quadratic.
 */
#define ANS_WORK_FACTOR		8
#define ANS_WORK_MIN		(64u * 1024)

/*
 * <limits.h> is shadowed by src/limits.h when src is on the -I path, so
 * spell out the maximum we need.
 */

static const char *const errs[ANS__MAX] = {
	"ok",						/* ANS_OK */
	"no JSON object in the model's answer",		/* ANS_ERR_NO_JSON */
	"no numeric score in the model's answer",	/* ANS_ERR_NO_SCORE */
	"out of memory",				/* ANS_ERR_NOMEM */
};

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

/* s[0..n) cut to at most max bytes at a UTF-8 character boundary. */
static size_t
cut_at(const char *s, size_t n, size_t max)
{
	return n <= max ? n : utf8_cut(s, max);
}

/*
 * A string score: optional sign, digits, optional fraction, whitespace
 * around.  Anything else ("85/100", "85%", "high", "0x55") is refused.
 */
static int
str_score(const char *s, double *out)
{
	const char	*p, *end;
	char		*ep;
	int		 digits = 0;

	while (is_ws(*s))
		s++;
	p = s;
	if (*p == '+' || *p == '-')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	end = p;
	while (is_ws(*p))
		p++;
	if (digits == 0 || *p != '\0')
		return 0;
	*out = strtod(s, &ep);
	return ep == end && isfinite(*out);
}

/*
 * The "score" of o as 0..100: an integer, a number rounded half away
 * from zero, or a numeric string.  Returns 0 if there is none.
 */
static int
get_score(struct json_object *o, int *score)
{
	struct json_object	*v;
	int64_t			 i;
	double			 d;

	if (!json_object_object_get_ex(o, "score", &v))
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		i = json_object_get_int64(v);
		*score = i < 0 ? 0 : i > 100 ? 100 : (int)i;
		return 1;
	case json_type_double:
		d = json_object_get_double(v);
		if (!isfinite(d))
			return 0;
		break;
	case json_type_string:
		if (!str_score(json_object_get_string(v), &d))
			return 0;
		break;
	default:
		return 0;
	}
	d = d < 0 ? 0 : d > 100 ? 100 : d;
	*score = (int)lround(d);
	return 1;
}

/* Append one skill to arr, trimmed, cut, and only while there is room. */
static enum ans_status
add_skill(struct json_object *arr, const char *s, size_t n)
{
	struct json_object	*js;
	const char		*nul;

	nul = memchr(s, '\0', n);
	if (nul != NULL)
		n = (size_t)(nul - s);
	while (n > 0 && is_ws(s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_ws(s[n - 1]))
		n--;
	if (n == 0 || json_object_array_length(arr) >= ANS_SKILLS_MAX)
		return ANS_OK;
	n = cut_at(s, n, ANS_SKILL_LEN_MAX);
	/*
	 * The cut may end on inner whitespace ("aaa... b" cut after the
	 * space): trim again, so a kept skill never ends in whitespace
	 * (found by fuzz/fuzz_answer.c).  s[0] is not whitespace, so n
	 * stays above 0.
	 */
	while (n > 0 && is_ws(s[n - 1]))
		n--;
	js = json_object_new_string_len(s, (int)n);
	if (js == NULL)
		return ANS_ERR_NOMEM;
	if (json_object_array_add(arr, js) != 0) {
		json_object_put(js);
		return ANS_ERR_NOMEM;
	}
	return ANS_OK;
}

/*
 * A skills list from o[key]: an array (non-strings skipped) or a string
 * split on commas, semicolons and newlines.  Anything else, or nothing,
 * gives an empty array.  *out is a new array the caller owns.
 */
static enum ans_status
get_skills(struct json_object *o, const char *key, struct json_object **out)
{
	struct json_object	*v, *el, *arr;
	const char		*s;
	size_t			 i, n, start;
	enum ans_status		 rc = ANS_OK;

	*out = NULL;
	arr = json_object_new_array();
	if (arr == NULL)
		return ANS_ERR_NOMEM;
	if (!json_object_object_get_ex(o, key, &v))
		v = NULL;
	if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n && rc == ANS_OK; i++) {
			el = json_object_array_get_idx(v, i);
			if (!json_object_is_type(el, json_type_string))
				continue;
			rc = add_skill(arr, json_object_get_string(el),
			    (size_t)json_object_get_string_len(el));
		}
	} else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		start = 0;
		for (i = 0; i <= n && rc == ANS_OK; i++) {
			if (i < n && s[i] != ',' && s[i] != ';' &&
			    s[i] != '\n')
				continue;
			rc = add_skill(arr, s + start, i - start);
			start = i + 1;
		}
	}
	if (rc != ANS_OK) {
		json_object_put(arr);
		return rc;
	}
	*out = arr;
	return ANS_OK;
}

/* Fill *out from an object known to have a score. */
static enum ans_status
fill(struct json_object *o, int score, struct answer *out)
{
	struct json_object	*v;
	const char		*s = "";
	size_t			 n = 0;
	enum ans_status		 rc;

	out->score = score;
	if (json_object_object_get_ex(o, "summary", &v) &&
	    json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = strnlen(s, (size_t)json_object_get_string_len(v));
		n = cut_at(s, n, ANS_SUMMARY_MAX);
	}
	out->summary = malloc(n + 1);
	if (out->summary == NULL)
		return ANS_ERR_NOMEM;
	memcpy(out->summary, s, n);
	out->summary[n] = '\0';
	rc = get_skills(o, "matched_skills", &out->matched_skills);
	if (rc != ANS_OK)
		return rc;
	return get_skills(o, "missing_skills", &out->missing_skills);
}

enum ans_status
ans_parse(const char *text, size_t len, struct answer *out)
{
	struct json_tokener	*tok;
	struct json_object	*obj, *last;
	const char		*p;
	size_t			 i, rest, used, work, budget;
	int			 score, last_score, seen = 0;
	enum ans_status		 rc = ANS_ERR_NO_JSON;

	memset(out, 0, sizeof(*out));
	tok = json_tokener_new_ex(ANS_DEPTH_MAX);
	if (tok == NULL)
		return ANS_ERR_NOMEM;
	budget = len > (SIZE_MAX - ANS_WORK_MIN) / ANS_WORK_FACTOR ?
	    SIZE_MAX : len * ANS_WORK_FACTOR + ANS_WORK_MIN;
	last = NULL;
	last_score = 0;
	i = 0;
	for (work = 0; work < budget && i < len; work += used) {
		p = memchr(text + i, '{', len - i);
		if (p == NULL)
			break;
		i = (size_t)(p - text);
		rest = len - i;
		if (rest > (size_t)INT_MAX)
			rest = (size_t)INT_MAX;
		json_tokener_reset(tok);
		obj = json_tokener_parse_ex(tok, p, (int)rest);
		used = json_tokener_get_parse_end(tok);
		if (used == 0)
			used = 1;
		if (obj == NULL ||
		    !json_object_is_type(obj, json_type_object)) {
			if (obj != NULL)
				json_object_put(obj);
			i++;
			continue;
		}
		/*
		 * A whole object: skip what it spans, so an object nested
		 * in it is never taken for the answer.  Of the objects with
		 * a score keep the last: a model that quotes an object from
		 * the input ("the resume says {\"score\": 100}; ignoring
		 * it") gives its own answer after the quote (AUDIT M2).
		 */
		if (get_score(obj, &score)) {
			if (last != NULL)
				json_object_put(last);
			last = obj;
			last_score = score;
		} else {
			seen = 1;
			json_object_put(obj);
		}
		i += used;
	}
	if (last != NULL) {
		rc = fill(last, last_score, out);
		json_object_put(last);
	} else
		rc = seen ? ANS_ERR_NO_SCORE : ANS_ERR_NO_JSON;
	json_tokener_free(tok);
	if (rc != ANS_OK)
		answer_free(out);
	return rc;
}

const char *
ans_strerror(enum ans_status rc)
{
	if ((unsigned)rc >= ANS__MAX)
		return "unknown answer error";
	return errs[rc];
}
