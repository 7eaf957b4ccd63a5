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
#include "webhook.h"

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

/* MATCHJOBS_STREAM_REASONING: off by default, 0 or 1. */
static void
test_reasoning(void)
{
	static const char *const on[] = {
	    "MATCHJOBS_STREAM_REASONING=1", NULL };
	static const char *const off[] = {
	    "MATCHJOBS_STREAM_REASONING=0", NULL };
	static const char *const bad[] = {
	    "MATCHJOBS_STREAM_REASONING=yes", NULL };
	static const char *const two[] = {
	    "MATCHJOBS_STREAM_REASONING=2", NULL };
	char		 err[256];
	struct config	 c;

	ok(load(on + 1, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.stream_reasoning == 0, "reasoning events off by default");
	cfg_free(&c);
	ok(load(on, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.stream_reasoning == 1, "MATCHJOBS_STREAM_REASONING=1");
	cfg_free(&c);
	ok(load(off, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.stream_reasoning == 0, "MATCHJOBS_STREAM_REASONING=0");
	cfg_free(&c);
	ok(load(bad, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
	    strstr(err, "MATCHJOBS_STREAM_REASONING") != NULL,
	    "MATCHJOBS_STREAM_REASONING=yes is refused, naming it");
	ok(load(two, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE,
	    "MATCHJOBS_STREAM_REASONING=2 is refused");
}

/* MATCHJOBS_WEBHOOK_*: the URL, the secret, the test knobs. */
static void
test_webhook(void)
{
	static const char *const good[] = {
	    "MATCHJOBS_WEBHOOK_URL=https://hooks.example/in?t=1",
	    "MATCHJOBS_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "MATCHJOBS_WEBHOOK_TIMEOUT_MS=500",
	    "MATCHJOBS_WEBHOOK_RETRY_DIV=1000", NULL };
	static const char *const nosecret[] = {
	    "MATCHJOBS_WEBHOOK_URL=http://h/in", NULL };
	static const char *const secretonly[] = {
	    "MATCHJOBS_WEBHOOK_SECRET=whsec_AAAA", NULL };
	static const char *const badsecret[] = {
	    "MATCHJOBS_WEBHOOK_URL=http://h/in",
	    "MATCHJOBS_WEBHOOK_SECRET=whsec_Zm9v!SeCrEtPaRt", NULL };
	static const char *const noprefix[] = {
	    "MATCHJOBS_WEBHOOK_URL=http://h/in",
	    "MATCHJOBS_WEBHOOK_SECRET=SeCrEtPaRtWithoutPrefix", NULL };
	static const char *const longto[] = {
	    "MATCHJOBS_WEBHOOK_TIMEOUT_MS=15001", NULL };
	static const char *const urls[] = { "ftp://zq/in", "http://",
	    "https:///zq", "http://zq/a b", "zq/in", "http://zq/\tx",
	    "http://?zq", NULL };
	const char	*one[3];
	char		 err[256], u[128];
	struct config	 c;
	int		 i, refused;

	ok(load(nosecret + 1, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.webhook_url == NULL && c.webhook_key == NULL &&
	    c.webhook_timeout_ms == MJ_WH_TIMEOUT_MS &&
	    c.webhook_retry_div == 1,
	    "webhooks off by default; timeout %d ms, no divisor",
	    MJ_WH_TIMEOUT_MS);
	cfg_free(&c);
	ok(load(good, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.webhook_url != NULL &&
	    strcmp(c.webhook_url, "https://hooks.example/in?t=1") == 0 &&
	    c.webhook_key != NULL && c.webhook_key->len == 24 &&
	    c.webhook_timeout_ms == 500 && c.webhook_retry_div == 1000,
	    "a URL, a secret (24 key bytes), a timeout and a divisor");
	cfg_free(&c);
	ok(c.webhook_url == NULL && c.webhook_key == NULL,
	    "... cfg_free frees them");
	ok(load(nosecret, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
	    strstr(err, "MATCHJOBS_WEBHOOK_SECRET") != NULL,
	    "a URL without a secret is refused (%s)", err);
	ok(load(secretonly, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.webhook_url == NULL && c.webhook_key != NULL,
	    "a secret without a URL is checked and kept (webhooks stay off)");
	cfg_free(&c);
	ok(load(badsecret, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
	    strstr(err, "MATCHJOBS_WEBHOOK_SECRET") != NULL &&
	    strstr(err, "SeCrEt") == NULL && strstr(err, "Zm9v") == NULL,
	    "a secret that is not base64 is refused, not echoed (%s)", err);
	ok(load(noprefix, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
	    strstr(err, "whsec_") != NULL && strstr(err, "SeCrEt") == NULL,
	    "a secret without whsec_ is refused, not echoed (%s)", err);
	ok(load(longto, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
	    strstr(err, "MATCHJOBS_WEBHOOK_TIMEOUT_MS") != NULL,
	    "the timeout can't exceed the SPEC's 15 s");
	refused = 1;
	for (i = 0; urls[i] != NULL; i++) {
		snprintf(u, sizeof(u), "MATCHJOBS_WEBHOOK_URL=%s", urls[i]);
		one[0] = u;
		one[1] = secretonly[0];
		one[2] = NULL;
		if (load(one, NULL, &c, err, sizeof(err)) != CFG_ERR_VALUE ||
		    strstr(err, "MATCHJOBS_WEBHOOK_URL") == NULL ||
		    strstr(err, "zq") != NULL) {
			refused = 0;
			printf("# accepted or echoed: %s (%s)\n", urls[i], err);
		}
	}
	ok(refused, "URLs without http(s), a host, or with white space are "
	    "refused, not echoed");
}

/* MATCHJOBS_RESPONSE_FORMAT, _TEMPERATURE, _SEED, reasoning models. */
static void
test_form(void)
{
	static const char *const none[] = { NULL };
	static const char *const set[] = {
	    "MATCHJOBS_RESPONSE_FORMAT=json_object",
	    "MATCHJOBS_TEMPERATURE=0.7", "MATCHJOBS_SEED=-42", NULL };
	static const char *const notemp[] = { "MATCHJOBS_TEMPERATURE=none",
	    NULL };
	static const char *const o3[] = { "MATCHJOBS_MODEL=o3-mini",
	    "MATCHJOBS_TEMPERATURE=0.5", NULL };
	static const char *const forced[] = { "MATCHJOBS_MODEL=my-reasoner",
	    "MATCHJOBS_REASONING_MODEL=1", NULL };
	static const char *const bad[][2] = {
	    { "MATCHJOBS_RESPONSE_FORMAT=json", NULL },
	    { "MATCHJOBS_TEMPERATURE=2.5", NULL },
	    { "MATCHJOBS_TEMPERATURE=warm", NULL },
	    { "MATCHJOBS_SEED=1.5", NULL },
	    { "MATCHJOBS_REASONING_MODEL=yes", NULL },
	};
	static const char *const yes[] = { "o1", "o1-mini", "o3", "O3-mini",
	    "o4-mini-2025-04-16", "gpt-5", "gpt-5-mini", "GPT-5.1",
	    "openai/o3-mini", NULL };
	static const char *const no[] = { "gpt-4o", "gpt-4o-mini", "o10",
	    "o1x", "gpt-4.1", "oss-20b", "llama3/o2", "gpt-4", NULL };
	struct config	 c;
	char		 err[256];
	size_t		 i;
	int		 all;

	ok(load(none, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.response_format == CFG_FMT_AUTO && c.temperature_on &&
	    c.temperature == 0 && !c.seed_on && !c.reasoning,
	    "defaults: response format auto, temperature 0, no seed");
	cfg_free(&c);
	ok(load(set, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.response_format == CFG_FMT_JSON_OBJECT && c.temperature_on &&
	    c.temperature > 0.69 && c.temperature < 0.71 && c.seed_on &&
	    c.seed == -42, "json_object, temperature 0.7 and seed -42 read");
	cfg_free(&c);
	ok(load(notemp, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    !c.temperature_on, "MATCHJOBS_TEMPERATURE=none: no temperature");
	cfg_free(&c);
	ok(load(o3, NULL, &c, err, sizeof(err)) == CFG_OK && c.reasoning &&
	    !c.temperature_on, "o3-mini is a reasoning model: no temperature "
	    "even when one is set");
	cfg_free(&c);
	ok(load(forced, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.reasoning, "MATCHJOBS_REASONING_MODEL=1 makes any model one");
	cfg_free(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(load(bad[i], NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE,
		    "refused: %s (%s)", bad[i][0], err);
	all = 1;
	for (i = 0; yes[i] != NULL; i++)
		if (!cfg_reasoning_model(yes[i])) {
			all = 0;
			printf("# not a reasoning model: %s\n", yes[i]);
		}
	for (i = 0; no[i] != NULL; i++)
		if (cfg_reasoning_model(no[i])) {
			all = 0;
			printf("# a reasoning model: %s\n", no[i]);
		}
	ok(all, "reasoning models by name: o1, o3, o4 (alone or with -), "
	    "gpt-5*, after a provider/ prefix; not gpt-4o, o10, o1x");
}

/* Azure OpenAI: detection, the URL calls post to, the key's name. */
static void
test_azure(void)
{
	static const char *const plain[] = { "OPENAI_API_KEY=sk-x",
	    "OPENAI_BASE_URL=http://h:1/v1", NULL };
	static const char *const host[] = {
	    "AZURE_OPENAI_API_KEY=azkey",
	    "AZURE_OPENAI_ENDPOINT=https://res.openai.azure.com/",
	    "MATCHJOBS_MODEL=gpt-4o", NULL };
	static const char *const dep[] = { "OPENAI_API_KEY=k",
	    "OPENAI_BASE_URL=http://127.0.0.1:9/openai",
	    "MATCHJOBS_AZURE=1", "MATCHJOBS_AZURE_DEPLOYMENT=prod-4o",
	    "MATCHJOBS_API_VERSION=2025-01-01-preview", NULL };
	static const char *const full[] = { "OPENAI_API_KEY=k",
	    "OPENAI_BASE_URL=https://r.cognitiveservices.azure.com/openai/"
	    "deployments/d1", "AZURE_OPENAI_API_VERSION=2024-06-01", NULL };
	static const char *const v1[] = { "OPENAI_API_KEY=k",
	    "OPENAI_BASE_URL=https://r.openai.azure.com/openai/v1", NULL };
	static const char *const byver[] = { "OPENAI_API_KEY=k",
	    "OPENAI_BASE_URL=http://127.0.0.1:9",
	    "MATCHJOBS_API_VERSION=2024-10-21", NULL };
	static const char *const off[] = { "OPENAI_API_KEY=k",
	    "OPENAI_BASE_URL=https://r.openai.azure.com", "MATCHJOBS_AZURE=0",
	    NULL };
	static const char *const baddep[] = { "OPENAI_API_KEY=k",
	    "MATCHJOBS_AZURE=1", "MATCHJOBS_AZURE_DEPLOYMENT=a/b?c", NULL };
	static const char *const badver[] = { "OPENAI_API_KEY=k",
	    "MATCHJOBS_AZURE=1", "MATCHJOBS_API_VERSION=1&x=2", NULL };
	struct config	 c;
	char		 err[256];

	ok(load(plain, NULL, &c, err, sizeof(err)) == CFG_OK && !c.azure &&
	    strcmp(c.chat_url, "http://h:1/v1/chat/completions") == 0,
	    "not Azure: base URL + /chat/completions");
	cfg_free(&c);
	ok(load(host, NULL, &c, err, sizeof(err)) == CFG_OK && c.azure &&
	    c.api_key != NULL && strcmp(c.api_key, "azkey") == 0 &&
	    strcmp(c.chat_url, "https://res.openai.azure.com/openai/"
	    "deployments/gpt-4o/chat/completions?api-version="
	    MJ_AZURE_API_VERSION) == 0,
	    "an *.openai.azure.com endpoint (AZURE_OPENAI_ENDPOINT and _KEY) "
	    "is Azure: the model's deployment, the default api-version (%s)",
	    c.chat_url);
	cfg_free(&c);
	ok(load(dep, NULL, &c, err, sizeof(err)) == CFG_OK && c.azure &&
	    strcmp(c.chat_url, "http://127.0.0.1:9/openai/deployments/"
	    "prod-4o/chat/completions?api-version=2025-01-01-preview") == 0,
	    "MATCHJOBS_AZURE=1, a .../openai base, a deployment and version "
	    "(%s)", c.chat_url);
	cfg_free(&c);
	ok(load(full, NULL, &c, err, sizeof(err)) == CFG_OK && c.azure &&
	    strcmp(c.azure_deployment, "d1") == 0 &&
	    strcmp(c.chat_url, "https://r.cognitiveservices.azure.com/openai/"
	    "deployments/d1/chat/completions?api-version=2024-06-01") == 0,
	    "a deployment URL as the base, AZURE_OPENAI_API_VERSION (%s)",
	    c.chat_url);
	cfg_free(&c);
	ok(load(v1, NULL, &c, err, sizeof(err)) == CFG_OK && c.azure &&
	    c.api_version == NULL && strcmp(c.chat_url,
	    "https://r.openai.azure.com/openai/v1/chat/completions") == 0,
	    "Azure's v1 API: no api-version unless set (%s)", c.chat_url);
	cfg_free(&c);
	ok(load(byver, NULL, &c, err, sizeof(err)) == CFG_OK && c.azure,
	    "MATCHJOBS_API_VERSION alone means Azure");
	cfg_free(&c);
	ok(load(off, NULL, &c, err, sizeof(err)) == CFG_OK && !c.azure,
	    "MATCHJOBS_AZURE=0 turns it off for an Azure host");
	cfg_free(&c);
	ok(load(baddep, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
	    strstr(err, "a/b") == NULL, "a deployment name that is not "
	    "URL-safe is refused, not echoed");
	ok(load(badver, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE,
	    "an api-version that is not URL-safe is refused");
}

/* MATCHJOBS_PRICES: the model's entry, else "*", else nothing. */
static void
test_prices(void)
{
	static const char *const exact[] = { "MATCHJOBS_MODEL=m-1",
	    "MATCHJOBS_PRICES=*=9/9, m-1=0.15/0.6,m-10=5/5", NULL };
	static const char *const any[] = { "MATCHJOBS_MODEL=m-2",
	    "MATCHJOBS_PRICES=m-1=1/2,*=3/4", NULL };
	static const char *const none[] = { "MATCHJOBS_MODEL=m-2",
	    "MATCHJOBS_PRICES=m-1=1/2", NULL };
	static const char *const bad[] = { "m-1=1", "m-1=x/2", "=1/2",
	    "m-1=1/-2", "m-1=1/2e9", "m-1=1/2/3", "m-1=1/", NULL };
	const char	*one[3] = { "MATCHJOBS_MODEL=m-1", NULL, NULL };
	char		 err[256], v[64];
	struct config	 c;
	int		 i, refused = 1;

	ok(load(none + 2, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.price_in == 0 && c.price_out == 0, "no prices by default");
	cfg_free(&c);
	ok(load(exact, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.price_in == 0.15 && c.price_out == 0.6,
	    "the model's own entry wins over *, not a longer name's");
	cfg_free(&c);
	ok(load(any, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.price_in == 3 && c.price_out == 4, "* prices another model");
	cfg_free(&c);
	ok(load(none, NULL, &c, err, sizeof(err)) == CFG_OK &&
	    c.price_in == 0 && c.price_out == 0, "a model without a price: 0");
	cfg_free(&c);
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(v, sizeof(v), "MATCHJOBS_PRICES=%s", bad[i]);
		one[1] = v;
		if (load(one, NULL, &c, err, sizeof(err)) != CFG_ERR_VALUE ||
		    strstr(err, "MATCHJOBS_PRICES") == NULL) {
			refused = 0;
			printf("# accepted: %s\n", bad[i]);
		}
	}
	ok(refused, "malformed prices are refused, naming the variable");
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
	{
		static const char *const st[] = {
		    "MATCHJOBS_DB=/tmp/x.db", "MATCHJOBS_STORE=off",
		    "MATCHJOBS_CACHE_TTL_S=0", NULL };
		static const char *const badst[] = { "MATCHJOBS_STORE=no",
		    NULL };
		static const char *const badttl[] = {
		    "MATCHJOBS_CACHE_TTL_S=-1", NULL };

		ok(load(none, NULL, &c, err, sizeof(err)) == CFG_OK &&
		    c.store_on && c.cache_ttl_s == 604800 &&
		    strcmp(c.db, MJ_DB_DEFAULT) == 0,
		    "store on, cache a week, the db in the state directory by "
		    "default");
		cfg_free(&c);
		ok(load(st, NULL, &c, err, sizeof(err)) == CFG_OK &&
		    !c.store_on && c.cache_ttl_s == 0 &&
		    strcmp(c.db, "/tmp/x.db") == 0,
		    "MATCHJOBS_DB, MATCHJOBS_STORE=off, MATCHJOBS_CACHE_TTL_S=0");
		cfg_free(&c);
		ok(c.db == NULL, "cfg_free frees the db path");
		ok(load(badst, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
		    strstr(err, "MATCHJOBS_STORE") != NULL,
		    "MATCHJOBS_STORE is on or off (%s)", err);
		ok(load(badttl, NULL, &c, err, sizeof(err)) == CFG_ERR_VALUE &&
		    strstr(err, "MATCHJOBS_CACHE_TTL_S") != NULL,
		    "a negative MATCHJOBS_CACHE_TTL_S is refused (%s)", err);
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
	test_webhook();
	test_reasoning();
	test_form();
	test_azure();
	test_prices();
	return tap_done();
}
