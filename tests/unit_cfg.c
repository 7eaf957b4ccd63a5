/*
 * unit_cfg.c - configuration from a variable table and a config file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "cfg.h"
#include "tap.h"

/* The "environment" of one case: NAME=value strings, NULL-terminated. */
static const char *const *vars;

static const char *
get(const char *name)
{
	size_t	 n;
	int	 i;

	n = strlen(name);
	for (i = 0; vars != NULL && vars[i] != NULL; i++)
		if (strncmp(vars[i], name, n) == 0 && vars[i][n] == '=')
			return vars[i] + n + 1;
	return NULL;
}

static int
load(const char *const *v, const struct cfg_file *f, struct config *c,
    char *err, size_t errsz)
{
	vars = v;
	return cfg_load(c, get, f, err, errsz);
}

int
main(void)
{
	static const char *const none[] = { NULL };
	static const char *const key[] = { "OPENAI_API_KEY=sk-x",
	    "OPENAI_BASE_URL=http://h:1/v1//", "MATCHJOBS_CONCURRENCY=9",
	    NULL };
	static const char *const bad[] = { "MATCHJOBS_CONCURRENCY=0", NULL };
	static const char *const junk[] = { "MATCHJOBS_MAX_BODY=12abc", NULL };
	static const char *const url[] = { "OPENAI_BASE_URL=ftp://x", NULL };
	static const char *const forced[] = { "MATCHJOBS_ENGINE=openai",
	    NULL };
	static const char *const cors[] = {
	    "MATCHJOBS_CORS_ORIGINS=https://a.example, https://b.example",
	    NULL };
	struct config	 c;
	struct cfg_file	 f;
	char		 err[256], path[] = "/tmp/mj-unit-cfg-XXXXXX";
	FILE		*fp;
	int		 fd;

	ok(load(none, NULL, &c, err, sizeof(err)) == CFG_OK && c.local &&
	    c.concurrency == MJ_CONCURRENCY_DEFAULT &&
	    c.body_max == MJ_BODY_MAX_DEFAULT, "defaults: local engine");
	cfg_free(&c);
	ok(load(key, NULL, &c, err, sizeof(err)) == CFG_OK && !c.local &&
	    c.concurrency == 9 && strcmp(c.base_url, "http://h:1/v1") == 0,
	    "a key selects openai; trailing slashes cut");
	cfg_free(&c);
	cfg_free(&c);
	ok(c.api_key == NULL, "cfg_free twice is safe");
	ok(load(bad, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
	    strstr(err, "MATCHJOBS_CONCURRENCY") != NULL,
	    "out of range: error names the variable (%s)", err);
	ok(load(junk, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE,
	    "trailing junk in a number is refused");
	{
		static const char *const kids[] = {
		    "MATCHJOBS_PDF_MAX_CHILDREN=3", NULL };
		static const char *const nokids[] = {
		    "MATCHJOBS_PDF_MAX_CHILDREN=0", NULL };
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		ok(load(none, NULL, &c, err, sizeof(err)) == CFG_OK &&
		    c.pdf_children_max == (cpus < 1 ? 1 : cpus >
		    MJ_PDF_CHILDREN_MAX ? MJ_PDF_CHILDREN_MAX : (int)cpus),
		    "PDF children: one per online CPU by default (%d)",
		    c.pdf_children_max);
		cfg_free(&c);
		ok(load(kids, NULL, &c, err, sizeof(err)) == CFG_OK &&
		    c.pdf_children_max == 3, "MATCHJOBS_PDF_MAX_CHILDREN=3");
		cfg_free(&c);
		ok(load(nokids, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE,
		    "MATCHJOBS_PDF_MAX_CHILDREN=0 is refused");
		ok(load(none, NULL, &c, err, sizeof(err)) == CFG_OK &&
		    c.pdf_timeout_ms == MJ_PDF_WALL_MS && MJ_PDF_CPU_S <= 3,
		    "PDF budget: %d ms wall, %d CPU-seconds by default",
		    (int)c.pdf_timeout_ms, MJ_PDF_CPU_S);
		cfg_free(&c);
	}
	ok(load(url, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE,
	    "a base URL that is not http(s) is refused");
	ok(load(forced, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE,
	    "MATCHJOBS_ENGINE=openai without a key is refused");
	ok(load(cors, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    cfg_cors_allows(&c, "https://b.example") &&
	    !cfg_cors_allows(&c, "https://c.example") &&
	    !cfg_cors_allows(&c, "https://a.exampl"),
	    "CORS origins match exactly");
	cfg_free(&c);

	fd = mkstemp(path);
	fp = fdopen(fd, "w");
	fprintf(fp, "# comment\n\n  MATCHJOBS_CONCURRENCY = 7\n"
	    "OPENAI_API_KEY=\"sk-from-file\"\nMATCHJOBS_MODEL=m1\n"
	    "MATCHJOBS_MODEL=m2\n");
	fclose(fp);
	ok(cfg_file_load(&f, path, err, sizeof(err)) == CFG_OK,
	    "config file loads");
	ok(load(none, &f, &c, err, sizeof(err)) == CFG_OK &&
	    c.concurrency == 7 && !c.local &&
	    strcmp(c.api_key, "sk-from-file") == 0 &&
	    strcmp(c.model, "m2") == 0,
	    "file values apply (quotes cut, last one wins)");
	cfg_free(&c);
	ok(load(key, &f, &c, err, sizeof(err)) == CFG_OK &&
	    c.concurrency == 9 && strcmp(c.api_key, "sk-x") == 0,
	    "the environment wins over the file");
	cfg_free(&c);
	cfg_file_free(&f);
	cfg_file_free(&f);

	fp = fopen(path, "w");
	fprintf(fp, "OK=1\nthis line has no equals sign\n");
	fclose(fp);
	ok(cfg_file_load(&f, path, err, sizeof(err)) == CFG_ERR_VALUE &&
	    strstr(err, ":2:") != NULL, "bad line reported with its "
	    "number (%s)", err);
	unlink(path);
	ok(cfg_file_load(&f, path, err, sizeof(err)) == CFG_ERR_VALUE,
	    "missing file reported");
	return tap_done();
}
