/*
 * unit_upstream.c - the answer cache's key (up_cache_key, upstream.c):
 * the same inputs give the same key; a change to any field that decides
 * the answer changes it; fields can't slide into each other; it sees the
 * job and the resume as they enter the prompt (a dropped control
 * character or a byte past the prompt's cut changes nothing); a job's
 * position and the other jobs never enter it.  The request body
 * (up_build_body): the strict json_schema, the fallback bodies, the
 * sampling settings, a reasoning model's parameters; and the memory of
 * what each server accepted (up_formats).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "buf.h"
#include "cfg.h"
#include "request.h"
#include "tap.h"
#include "upstream.h"

static struct config	 cfg;

/* The key of a job asking for fmt, with c's parameters. */
static void
key_fmt(const struct config *c, enum cfg_format fmt, const char *resume,
    size_t rlen, const struct req_job *j, unsigned char key[UP_KEY_LEN])
{
	struct up_params	*p;

	if (up_params_new(c, &p) != 0 ||
	    up_cache_key(p, fmt, resume, rlen, j, key) != 0)
		abort();
	up_params_free(p);
}

static void
key_of(const struct config *c, const char *resume, size_t rlen,
    const struct req_job *j, unsigned char key[UP_KEY_LEN])
{
	key_fmt(c, CFG_FMT_JSON_SCHEMA, resume, rlen, j, key);
}

/* Does changing one thing change the key? */
static int
differs(const struct config *c, const char *resume,
    const struct req_job *j, const unsigned char base[UP_KEY_LEN])
{
	unsigned char	 k[UP_KEY_LEN];

	key_of(c, resume, strlen(resume), j, k);
	return memcmp(k, base, UP_KEY_LEN) != 0;
}

static void
hex_of(const unsigned char k[UP_KEY_LEN], char hex[2 * UP_KEY_LEN + 1])
{
	size_t	 i;

	for (i = 0; i < UP_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
}

static struct req_job
mkjob(const char *title, const char *link, const char *data)
{
	struct req_job	 j;

	memset(&j, 0, sizeof(j));
	j.title = title;
	j.link = link;
	j.data = data;
	j.data_len = strlen(data);
	return j;
}

static void
test_fields(void)
{
	static const char	 resume[] = "Go developer, SQL, Docker.";
	struct req_job		 j, o;
	struct config		 c;
	unsigned char		 k1[UP_KEY_LEN], k2[UP_KEY_LEN];
	char			 model[] = "gpt-other";
	char			 url[] = "http://other:1/v1";

	j = mkjob("Developer", "https://example.com/j", "Python and SQL.");
	key_of(&cfg, resume, strlen(resume), &j, k1);
	key_of(&cfg, resume, strlen(resume), &j, k2);
	ok(memcmp(k1, k2, UP_KEY_LEN) == 0,
	    "the same inputs give the same key (no nonce in it)");

	c = cfg;
	c.model = model;
	ok(differs(&c, resume, &j, k1), "another model, another key");
	c = cfg;
	c.base_url = url;
	ok(differs(&c, resume, &j, k1), "another server, another key");
	c = cfg;
	c.local = 1;
	ok(differs(&c, resume, &j, k1), "another engine, another key");
	c = cfg;
	c.max_tokens = 500;
	ok(differs(&c, resume, &j, k1),
	    "another parameter (max tokens), another key");
	ok(differs(&cfg, "Go developer, SQL, Docker!", &j, k1),
	    "another resume, another key");
	o = mkjob("Developer!", j.link, j.data);
	ok(differs(&cfg, resume, &o, k1), "another title, another key");
	o = mkjob(j.title, "https://example.com/k", j.data);
	ok(differs(&cfg, resume, &o, k1), "another link, another key");
	o = mkjob(j.title, "", j.data);
	ok(differs(&cfg, resume, &o, k1), "no link, another key");
	o = mkjob(j.title, j.link, "Python and SQL!");
	ok(differs(&cfg, resume, &o, k1), "another description, another key");
}

static void
test_splits(void)
{
	struct req_job	 a, b;
	unsigned char	 ka[UP_KEY_LEN];

	a = mkjob("ab", "c", "d");
	b = mkjob("a", "bc", "d");
	key_of(&cfg, "r", 1, &a, ka);
	ok(differs(&cfg, "r", &b, ka),
	    "title \"ab\" + link \"c\" is not title \"a\" + link \"bc\"");
	a = mkjob("t", "", "xr");
	b = mkjob("t", "", "x");
	key_of(&cfg, "", 0, &a, ka);
	ok(differs(&cfg, "r", &b, ka),
	    "description \"xr\" + resume \"\" is not \"x\" + \"r\"");
}

static void
test_prompt_form(void)
{
	struct req_job	 j, o;
	unsigned char	 k[UP_KEY_LEN], k2[UP_KEY_LEN];
	char		*big;
	size_t		 n;

	j = mkjob("Dev", "", "Python");
	key_of(&cfg, "Go dev", 6, &j, k);
	ok(!differs(&cfg, "Go\001 dev\177", &j, k),
	    "control characters the prompt drops don't change the key");
	o = mkjob("Dev", "", "Py\002thon");
	ok(!differs(&cfg, "Go dev", &o, k),
	    "... in the description neither");
	/* Past the prompt's cut nothing counts. */
	n = MJ_PROMPT_RESUME_MAX + 100;
	if ((big = malloc(n)) == NULL)
		abort();
	memset(big, 'a', n);
	key_of(&cfg, big, MJ_PROMPT_RESUME_MAX + 10, &j, k);
	big[MJ_PROMPT_RESUME_MAX + 5] = 'b';
	key_of(&cfg, big, n, &j, k2);
	ok(memcmp(k, k2, UP_KEY_LEN) == 0,
	    "resume bytes past MJ_PROMPT_RESUME_MAX don't change the key");
	big[MJ_PROMPT_RESUME_MAX - 1] = 'b';
	key_of(&cfg, big, n, &j, k2);
	ok(memcmp(k, k2, UP_KEY_LEN) != 0,
	    "... its last byte inside the cut does");
	free(big);
}

static void
test_position(void)
{
	struct req_job	 first[2], second[3];
	unsigned char	 k0[UP_KEY_LEN], k2[UP_KEY_LEN];

	/* The same job first of two, and last of three other jobs. */
	first[0] = mkjob("Same", "l", "d");
	first[1] = mkjob("Other", "", "x");
	second[0] = mkjob("Third", "", "y");
	second[1] = mkjob("Other", "", "x");
	second[2] = mkjob("Same", "l", "d");
	key_of(&cfg, "r", 1, &first[0], k0);
	key_of(&cfg, "r", 1, &second[2], k2);
	ok(memcmp(k0, k2, UP_KEY_LEN) == 0,
	    "a job's key is the same at index 0 of 2 and index 2 of 3");
	key_of(&cfg, "r", 1, &first[1], k2);
	ok(memcmp(k0, k2, UP_KEY_LEN) != 0,
	    "... and not its neighbour's");
}

/* The body up_build_body() makes for c and fmt, parsed (owned). */
static json_object *
body_of(const struct config *c, enum cfg_format fmt)
{
	struct up_params	*p;
	struct req_job		 j;
	struct buf		 b;
	json_object		*o;

	j = mkjob("Developer", "", "Python and SQL.");
	buf_init(&b, 1 << 20);
	if (up_params_new(c, &p) != 0 ||
	    up_build_body(p, fmt, "Go dev", 6, &j, &b) != 0)
		abort();
	up_params_free(p);
	o = json_tokener_parse(b.data);
	buf_free(&b);
	if (o == NULL)
		abort();
	return o;
}

/* o's member at a dotted path ("response_format.json_schema"), or NULL. */
static json_object *
at(json_object *o, const char *path)
{
	char	 name[64];
	size_t	 n;

	while (o != NULL && *path != '\0') {
		n = strcspn(path, ".");
		snprintf(name, sizeof(name), "%.*s", (int)n, path);
		if (!json_object_object_get_ex(o, name, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

static const char *
str_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);

	return v != NULL && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

static void
test_body_formats(void)
{
	json_object	*o, *props, *req, *v;
	size_t		 i, n;
	int		 all;

	o = body_of(&cfg, CFG_FMT_JSON_SCHEMA);
	ok(strcmp(str_at(o, "response_format.type"), "json_schema") == 0 &&
	    *str_at(o, "response_format.json_schema.name") != '\0' &&
	    (v = at(o, "response_format.json_schema.strict")) != NULL &&
	    json_object_get_boolean(v),
	    "json_schema: a named, strict schema");
	props = at(o, "response_format.json_schema.schema.properties");
	req = at(o, "response_format.json_schema.schema.required");
	v = at(o, "response_format.json_schema.schema.additionalProperties");
	ok(v != NULL && json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v) && strcmp(str_at(o,
	    "response_format.json_schema.schema.type"), "object") == 0,
	    "... of an object with additionalProperties false");
	n = req != NULL ? json_object_array_length(req) : 0;
	all = props != NULL && n == 4 &&
	    (size_t)json_object_object_length(props) == n;
	for (i = 0; all && i < n; i++)
		all = json_object_object_get_ex(props, json_object_get_string(
		    json_object_array_get_idx(req, i)), NULL);
	ok(all, "... every property required (score, summary, "
	    "matched_skills, missing_skills)");
	ok(strcmp(str_at(props, "score.type"), "integer") == 0 &&
	    strcmp(str_at(props, "summary.type"), "string") == 0 &&
	    strcmp(str_at(props, "matched_skills.type"), "array") == 0 &&
	    strcmp(str_at(props, "matched_skills.items.type"), "string") == 0 &&
	    strcmp(str_at(props, "missing_skills.items.type"), "string") == 0,
	    "... score an integer, summary a string, the skills string arrays");
	json_object_put(o);
	o = body_of(&cfg, CFG_FMT_JSON_OBJECT);
	v = at(o, "response_format");
	ok(v != NULL && json_object_object_length(v) == 1 &&
	    strcmp(str_at(o, "response_format.type"), "json_object") == 0,
	    "json_object: {\"type\": \"json_object\"} alone");
	json_object_put(o);
	o = body_of(&cfg, CFG_FMT_NONE);
	ok(at(o, "response_format") == NULL && at(o, "messages") != NULL,
	    "none: no response_format");
	json_object_put(o);
}

static void
test_body_sampling(void)
{
	struct config	 c;
	json_object	*o, *v;
	char		 mtf[] = "max_tokens";
	char		 o3[] = "o3-mini";

	o = body_of(&cfg, CFG_FMT_NONE);
	v = at(o, "temperature");
	ok(v != NULL && json_object_get_double(v) == 0 && at(o, "seed") ==
	    NULL, "temperature 0 by default, no seed");
	ok(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "\"temperature\":0,") != NULL, "... written as 0");
	json_object_put(o);
	c = cfg;
	c.temperature = 0.7;
	c.seed_on = 1;
	c.seed = 1234567890123LL;
	o = body_of(&c, CFG_FMT_NONE);
	ok(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "\"temperature\":0.7,") != NULL,
	    "MATCHJOBS_TEMPERATURE=0.7 is sent as 0.7");
	v = at(o, "seed");
	ok(v != NULL && json_object_get_int64(v) == 1234567890123LL,
	    "MATCHJOBS_SEED is sent as seed");
	json_object_put(o);
	c = cfg;
	c.temperature_on = 0;
	o = body_of(&c, CFG_FMT_NONE);
	ok(at(o, "temperature") == NULL, "temperature none: not sent");
	json_object_put(o);
	c = cfg;
	c.max_tokens = 700;
	c.max_tokens_field = mtf;
	o = body_of(&c, CFG_FMT_NONE);
	v = at(o, "max_tokens");
	ok(v != NULL && json_object_get_int(v) == 700 &&
	    at(o, "max_completion_tokens") == NULL,
	    "MATCHJOBS_MAX_TOKENS_FIELD=max_tokens: max_tokens");
	json_object_put(o);
	c.model = o3;
	c.reasoning = 1;
	o = body_of(&c, CFG_FMT_JSON_SCHEMA);
	v = at(o, "max_completion_tokens");
	ok(v != NULL && json_object_get_int(v) == 700 &&
	    at(o, "max_tokens") == NULL && at(o, "temperature") == NULL,
	    "a reasoning model: max_completion_tokens, no temperature");
	ok(strcmp(str_at(o, "response_format.type"), "json_schema") == 0,
	    "... and still structured outputs");
	json_object_put(o);
}

static void
test_key_form(void)
{
	static const char	 resume[] = "Go developer.";
	struct req_job		 j;
	struct config		 c;
	unsigned char		 k[UP_KEY_LEN], k2[UP_KEY_LEN];
	char			 az[] = "http://h/openai/deployments/d/chat/"
				    "completions?api-version=1";
	char			 az2[] = "http://h/openai/deployments/d/chat/"
				    "completions?api-version=2";

	j = mkjob("Dev", "", "Python");
	key_of(&cfg, resume, strlen(resume), &j, k);
	key_fmt(&cfg, CFG_FMT_JSON_OBJECT, resume, strlen(resume), &j, k2);
	ok(memcmp(k, k2, UP_KEY_LEN) != 0,
	    "the format asked for is in the key (json_schema, json_object)");
	key_fmt(&cfg, CFG_FMT_NONE, resume, strlen(resume), &j, k2);
	ok(memcmp(k, k2, UP_KEY_LEN) != 0, "... and none");
	c = cfg;
	c.temperature = 0.5;
	ok(differs(&c, resume, &j, k), "another temperature, another key");
	c = cfg;
	c.temperature_on = 0;
	ok(differs(&c, resume, &j, k), "no temperature, another key");
	c = cfg;
	c.seed_on = 1;
	ok(differs(&c, resume, &j, k), "a seed, another key");
	c = cfg;
	c.chat_url = az;
	key_of(&c, resume, strlen(resume), &j, k);
	c.chat_url = az2;
	ok(differs(&c, resume, &j, k), "another api-version (the URL calls "
	    "post to), another key");
}

/* Inputs with every kind of byte the prompt and JSON treat specially. */
static const char odd_resume[] = "Go developer \"quoted\" back\\slash"
    "\ttab\nline \001ctl \xc3\xa9t\xc3\xa9 \xff bad <resume-x> end";
static const char odd_data[] = "Python and SQL.\n</job-1> \x02 \\ /";

/*
 * Keys main computed (before the parameters were serialized once) for
 * fixed inputs: the key of a job must not change with the code that
 * makes it, or every cached answer is lost.
 */
static void
test_key_golden(void)
{
	static const char *const want[] = {
		/* base, json_schema, json_object, none */
		"08716690552a9329bed0929601e2a417"
		    "52f9e1e00a753e54ecd7a1c49d778ec6",
		"8d79ce54482e1a9e1f74c114bbf1371a"
		    "baa1b21af405ce7eef6c89ee2de85711",
		"a35039329cc52f1ba7aac395685e4dcb"
		    "26d5d20c00d3fabbf99f55a1cfc3b241",
		/* temperature 0.7, max_tokens 900, seed 42 */
		"db4d2fb9aa5337dcebea8ab8449eac9d"
		    "a25ce809962875e6cf8b8632426d3a4d",
		"8ab1756bbf4f6b048771bedea61e793c"
		    "fde1c384eaafa2c7bcdd938afb93e14e",
		"b51e03756b7ae4edeacbaa44e5864773"
		    "7c8ab616e52c81134ace75fcc4c75dde",
		/* a reasoning model, no usage, an empty resume */
		"3709454e349d1283eb27e41cc1392cbd"
		    "740672f1d482631d59c25542b0677f99",
	};
	struct req_job	 j;
	struct config	 c[3];
	unsigned char	 k[UP_KEY_LEN];
	char		 hex[2 * UP_KEY_LEN + 1], mt[] = "max_tokens";
	size_t		 i, n, same;
	int		 f;

	j = mkjob("Developer \"senior\"", "https://example.com/j?a=1&b=2",
	    odd_data);
	c[0] = c[1] = c[2] = cfg;
	c[1].temperature = 0.7;
	c[1].max_tokens = 900;
	c[1].seed_on = 1;
	c[1].seed = 42;
	c[1].max_tokens_field = mt;
	c[2].reasoning = 1;
	c[2].temperature_on = 0;
	c[2].max_tokens = 700;
	c[2].stream_usage = 0;
	same = n = 0;
	for (i = 0; i < 3; i++)
		for (f = CFG_FMT_JSON_SCHEMA; f < CFG_FMT__MAX; f++) {
			if (i == 2 && f != CFG_FMT_JSON_SCHEMA)
				break;
			if (i == 2)
				key_fmt(&c[i], (enum cfg_format)f, "", 0, &j,
				    k);
			else
				key_fmt(&c[i], (enum cfg_format)f, odd_resume,
				    sizeof(odd_resume) - 1, &j, k);
			hex_of(k, hex);
			same += strcmp(hex, want[n++]) == 0;
		}
	ok(n == sizeof(want) / sizeof(want[0]) && same == n,
	    "the keys of fixed inputs are the ones main made (%zu of %zu)",
	    same, n);
}

/* A strict parse of all of s[0..n), or NULL. */
static json_object *
parse_strict(const char *s, size_t n)
{
	struct json_tokener	*tok;
	json_object		*o;

	if ((tok = json_tokener_new()) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success
	    || json_tokener_get_parse_end(tok) != n)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The content of message i of a parsed body, or NULL. */
static json_object *
content_of(json_object *body, size_t i)
{
	json_object	*m, *v;

	if (!json_object_object_get_ex(body, "messages", &m) ||
	    (m = json_object_array_get_idx(m, i)) == NULL ||
	    !json_object_object_get_ex(m, "content", &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return v;
}

/*
 * The body as the code before up_params made it: json-c's object of the
 * parameters with the messages (these contents) added, serialized.
 */
static char *
old_body(const struct up_params *p, enum cfg_format fmt, json_object *sys,
    json_object *user)
{
	json_object	*root, *msgs, *m;
	const char	*ps;
	char		*s;
	size_t		 plen;

	ps = up_params_text(p, fmt, &plen);
	if ((root = json_tokener_parse(ps)) == NULL)
		abort();
	msgs = json_object_new_array();
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("system"));
	json_object_object_add(m, "content", json_object_new_string_len(
	    json_object_get_string(sys), json_object_get_string_len(sys)));
	json_object_array_add(msgs, m);
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("user"));
	json_object_object_add(m, "content", json_object_new_string_len(
	    json_object_get_string(user), json_object_get_string_len(user)));
	json_object_array_add(msgs, m);
	json_object_object_add(root, "messages", msgs);
	s = strdup(json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	if (s == NULL)
		abort();
	return s;
}

/*
 * The body written straight into the buffer is valid JSON, byte for
 * byte what json-c made of the same parameters and messages, for text
 * with quotes, backslashes, controls, UTF-8, a bad byte and an empty
 * resume; and a body over its buffer fails and leaves it as it was.
 */
static void
test_body_direct(void)
{
	/* What add_data makes of them in the prompt. */
	static const char	 want_resume[] = "\"quoted\" back\\slash\t"
				    "tab\nline ctl \xc3\xa9t\xc3\xa9 "
				    "\xef\xbf\xbd bad \xe2\x80\xb9resume-x> "
				    "end";
	static const char	 want_title[] = "Dev \"a\\b\"\n";
	static const char	 want_data[] = "SQL.\n\xe2\x80\xb9/job-1>  "
				    "\\ /";
	struct up_params	*p;
	struct req_job		 j;
	struct config		 c[2];
	struct buf		 b;
	json_object		*o, *sys, *user;
	const char		*u;
	char			*old;
	size_t			 i, k, n, valid, same, kept;
	int			 f;

	c[0] = c[1] = cfg;
	c[1].temperature = 0.7;
	c[1].max_tokens = 900;
	c[1].seed_on = 1;
	c[1].seed = 42;
	j = mkjob("Dev \"a\\b\"\x01", "https://x/?a=1&b=\"2\"", odd_data);
	n = valid = same = kept = 0;
	for (i = 0; i < 2; i++) {
		if (up_params_new(&c[i], &p) != 0)
			abort();
		for (f = 0; f < CFG_FMT__MAX; f++)
			for (k = 0; k < 2; k++) {
				n++;
				buf_init(&b, 1 << 20);
				if (up_build_body(p, (enum cfg_format)f,
				    k == 0 ? odd_resume : "", k == 0 ?
				    sizeof(odd_resume) - 1 : 0, &j, &b) != 0)
					abort();
				o = parse_strict(b.data, b.len);
				sys = content_of(o, 0);
				user = content_of(o, 1);
				if (o == NULL || sys == NULL || user == NULL) {
					json_object_put(o);
					buf_free(&b);
					continue;
				}
				valid++;
				old = old_body(p, (enum cfg_format)f, sys,
				    user);
				same += strcmp(old, b.data) == 0 &&
				    strlen(old) == b.len;
				free(old);
				u = json_object_get_string(user);
				kept += k == 0 ? strstr(u, want_resume) !=
				    NULL && strstr(u, want_title) != NULL &&
				    strstr(u, want_data) != NULL :
				    strstr(u, ">\n\n</resume-") != NULL;
				json_object_put(o);
				buf_free(&b);
			}
		up_params_free(p);
	}
	ok(valid == n, "direct bodies are valid JSON (%zu of %zu)", valid, n);
	ok(same == n, "... byte for byte json-c's of the same parameters "
	    "and messages (%zu of %zu)", same, n);
	ok(kept == n, "... the text as add_data put it: quotes, "
	    "backslashes, tab and LF kept, controls dropped, UTF-8 as is, a "
	    "bad byte U+FFFD, our tags defused, an empty resume empty "
	    "(%zu of %zu)", kept, n);

	if (up_params_new(&cfg, &p) != 0)
		abort();
	buf_init(&b, 600);
	if (buf_adds(&b, "x") != BUF_OK)
		abort();
	ok(up_build_body(p, CFG_FMT_JSON_SCHEMA, odd_resume,
	    sizeof(odd_resume) - 1, &j, &b) != 0 && b.len == 1 &&
	    strcmp(b.data, "x") == 0,
	    "a body over its buffer's maximum fails, the buffer as it was");
	buf_free(&b);
	up_params_free(p);
}

static void
test_memory(void)
{
	struct up_formats	*f;
	struct config		 c, other;
	enum cfg_format		 fmt, fmt2;
	char			 model[] = "other-model";

	if (up_formats_new(&f) != 0)
		abort();
	c = cfg;
	c.response_format = CFG_FMT_AUTO;
	other = c;
	other.model = model;
	ok(up_format_guess(f, &c) == CFG_FMT_JSON_SCHEMA,
	    "a new server is guessed to take json_schema");
	ok(up_format_pick(f, &c, 1000, &fmt) == UP_PICK_PROBE &&
	    fmt == CFG_FMT_JSON_SCHEMA, "the first call probes it");
	ok(up_format_pick(f, &c, 1001, &fmt2) == UP_PICK_WAIT,
	    "a second call waits for the probe");
	ok(up_format_pick(f, &other, 1001, &fmt2) == UP_PICK_PROBE,
	    "another model is another server");
	up_format_learn(f, &c, CFG_FMT_JSON_SCHEMA, 0);
	ok(up_format_guess(f, &c) == CFG_FMT_JSON_OBJECT &&
	    up_format_pick(f, &c, 1002, &fmt) == UP_PICK_PROBE &&
	    fmt == CFG_FMT_JSON_OBJECT,
	    "refused: the next call probes json_object");
	up_format_learn(f, &c, CFG_FMT_JSON_SCHEMA, 0);
	ok(up_format_guess(f, &c) == CFG_FMT_JSON_OBJECT,
	    "a late refusal of json_schema changes nothing (no skipping)");
	up_format_learn(f, &c, CFG_FMT_JSON_OBJECT, 1);
	ok(up_format_pick(f, &c, 1003, &fmt) == UP_PICK_GO &&
	    fmt == CFG_FMT_JSON_OBJECT &&
	    up_format_pick(f, &c, 1004, &fmt2) == UP_PICK_GO,
	    "accepted: every call asks for json_object, nobody waits");
	ok(up_format_pick(f, &other, 1002, &fmt) == UP_PICK_WAIT,
	    "the other server still probes");
	up_format_release(f, &other);
	ok(up_format_pick(f, &other, 1003, &fmt) == UP_PICK_PROBE,
	    "a probe released undecided: the next call probes");
	ok(up_format_pick(f, &other, 1003 + MJ_FORMAT_PROBE_MS, &fmt) ==
	    UP_PICK_PROBE, "a probe older than MJ_FORMAT_PROBE_MS is not "
	    "waited for");
	up_format_learn(f, &other, CFG_FMT_JSON_SCHEMA, 0);
	up_format_learn(f, &other, CFG_FMT_JSON_OBJECT, 0);
	ok(up_format_pick(f, &other, 9000, &fmt) == UP_PICK_GO &&
	    fmt == CFG_FMT_NONE, "both refused: none, known");
	c.response_format = CFG_FMT_JSON_SCHEMA;
	up_format_learn(f, &c, CFG_FMT_JSON_SCHEMA, 0);
	ok(up_format_pick(f, &c, 9001, &fmt) == UP_PICK_GO &&
	    fmt == CFG_FMT_JSON_SCHEMA && up_format_guess(f, &c) ==
	    CFG_FMT_JSON_SCHEMA, "a fixed format is always asked for, "
	    "never learnt");
	up_formats_free(f);
}

int
main(void)
{
	char	 model[] = "gpt-4o-mini";
	char	 url[] = "https://api.openai.com/v1";
	char	 field[] = "max_completion_tokens";

	memset(&cfg, 0, sizeof(cfg));
	cfg.model = model;
	cfg.base_url = url;
	cfg.max_tokens_field = field;
	cfg.stream_usage = 1;
	cfg.temperature_on = 1;
	test_fields();
	test_splits();
	test_prompt_form();
	test_position();
	test_body_formats();
	test_body_sampling();
	test_key_form();
	test_key_golden();
	test_body_direct();
	test_memory();
	return tap_done();
}
