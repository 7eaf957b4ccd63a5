/*
 * unit_upstream.c - the answer cache's key (up_cache_key, upstream.c):
 * the same inputs give the same key; a change to any field that decides
 * the answer changes it; fields can't slide into each other; it sees the
 * job and the resume as they enter the prompt (a dropped control
 * character or a byte past the prompt's cut changes nothing); a job's
 * position and the other jobs never enter it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
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
	test_fields();
	test_splits();
	test_prompt_form();
	test_position();
	return tap_done();
}
