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

static void
key_of(const struct config *c, const char *resume, size_t rlen,
    const struct req_job *j, unsigned char key[UP_KEY_LEN])
{
	if (up_cache_key(c, CFG_FMT_JSON_SCHEMA, resume, rlen, j, key) != 0)
		abort();
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
	struct req_job	 j;
	struct buf	 b;
	json_object	*o;

	j = mkjob("Developer", "", "Python and SQL.");
	buf_init(&b, 1 << 20);
	if (up_build_body(c, fmt, "Go dev", 6, &j, &b) != 0)
		abort();
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
	if (up_cache_key(&cfg, CFG_FMT_JSON_OBJECT, resume, strlen(resume),
	    &j, k2) != 0)
		abort();
	ok(memcmp(k, k2, UP_KEY_LEN) != 0,
	    "the format asked for is in the key (json_schema, json_object)");
	if (up_cache_key(&cfg, CFG_FMT_NONE, resume, strlen(resume), &j,
	    k2) != 0)
		abort();
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
	test_memory();
	return tap_done();
}
