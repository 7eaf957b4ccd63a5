/*
 * cfg.c - process configuration from the environment; see cfg.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"
#include "bounds.h"
#include "log.h"
#include "webhook.h"

#define KEYFILE_MAX	4096
/* A config file: at most this many lines of at most this length. */
#define FILE_LINES_MAX	256
#define FILE_LINE_MAX	4096

/* Where values come from: the environment first, then the file. */
struct src {
	const char		*(*env)(const char *);
	const struct cfg_file	*file;		/* may be NULL */
};

static const char *
lookup(const struct src *src, const char *name)
{
	const char *v;

	v = src->env(name);
	if (v == NULL && src->file != NULL)
		v = cfg_file_get(src->file, name);
	return v;
}

static int
parse_long(const struct src *src, const char *name, long min,
    long max, long *out, char *err, size_t errsz)
{
	const char	*s;
	char		*end;
	long		 v;

	s = lookup(src, name);
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		snprintf(err, errsz, "%s must be an integer from %ld to %ld",
		    name, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static char *
dup_or(const struct src *src, const char *name, const char *def)
{
	const char *s;

	s = lookup(src, name);
	if (s == NULL || *s == '\0')
		s = def;
	return s == NULL ? NULL : strdup(s);
}

/* A price per million tokens from s[0..n): 0 or -1. */
static int
price_of(const char *s, size_t n, double *out)
{
	char	 num[32], *end;
	double	 v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	errno = 0;
	v = strtod(num, &end);
	if (errno != 0 || *end != '\0' || !(v >= 0 && v <= MJ_PRICE_MAX))
		return -1;
	*out = v;
	return 0;
}

/*
 * The model's prices from MATCHJOBS_PRICES: comma-separated
 * MODEL=IN/OUT, USD per million prompt (IN) and completion (OUT) tokens,
 * as vendors quote them; MODEL "*" prices every model without its own
 * entry.  A model without a price costs 0.
 */
static enum cfg_status
prices_load(const struct src *src, struct config *c, char *err,
    size_t errsz)
{
	const char	*s, *e, *eq, *sl, *end;
	double		 in, out;
	size_t		 ml = strlen(c->model);
	int		 exact = 0;

	c->price_in = c->price_out = 0;
	if ((s = lookup(src, "MATCHJOBS_PRICES")) == NULL)
		return CFG_OK;
	for (end = s + strlen(s); s < end; s = e + 1) {
		if ((e = memchr(s, ',', (size_t)(end - s))) == NULL)
			e = end;
		while (s < e && *s == ' ')
			s++;
		if (s == e)
			continue;
		eq = memchr(s, '=', (size_t)(e - s));
		sl = eq != NULL ? memchr(eq, '/', (size_t)(e - eq)) : NULL;
		if (eq == NULL || eq == s || sl == NULL ||
		    price_of(eq + 1, (size_t)(sl - eq - 1), &in) != 0 ||
		    price_of(sl + 1, (size_t)(e - sl - 1), &out) != 0) {
			snprintf(err, errsz, "MATCHJOBS_PRICES must be "
			    "MODEL=IN/OUT[,...]: USD per million prompt and "
			    "completion tokens, each from 0 to %g",
			    MJ_PRICE_MAX);
			return CFG_ERR_VALUE;
		}
		if ((size_t)(eq - s) == ml && memcmp(s, c->model, ml) == 0) {
			c->price_in = in;
			c->price_out = out;
			exact = 1;
		} else if (eq - s == 1 && *s == '*' && !exact) {
			c->price_in = in;
			c->price_out = out;
		}
	}
	return CFG_OK;
}

/* Read the key from a file: first line, surrounding whitespace cut. */
static enum cfg_status
read_keyfile(const char *path, char **out, char *err, size_t errsz)
{
	FILE	*f;
	char	 line[KEYFILE_MAX];
	size_t	 n;
	char	*p;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errsz, "OPENAI_API_KEY_FILE: cannot open %s: %s",
		    path, strerror(errno));
		return CFG_ERR_KEYFILE;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strlen(line);
	while (n > 0 && strchr(" \t\r\n", line[n - 1]) != NULL)
		line[--n] = '\0';
	p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		snprintf(err, errsz, "OPENAI_API_KEY_FILE: %s is empty", path);
		return CFG_ERR_KEYFILE;
	}
	*out = strdup(p);
	explicit_bzero(line, sizeof(line));
	return *out == NULL ? CFG_ERR_NOMEM : CFG_OK;
}

/*
 * MATCHJOBS_WEBHOOK_URL: http:// or https://, a host, no white space or
 * control bytes (libcurl parses the rest when it sends).  The secret is
 * checked whenever it is set, and needed with a URL; neither message
 * echoes a value (the URL may hold credentials).
 */
static enum cfg_status
webhook_load(const struct src *src, struct config *c, char *err,
    size_t errsz)
{
	const char	*s, *host;
	enum wh_status	 ws;
	size_t		 i;

	s = lookup(src, "MATCHJOBS_WEBHOOK_URL");
	if (s != NULL && *s != '\0') {
		host = strncasecmp(s, "http://", 7) == 0 ? s + 7 :
		    strncasecmp(s, "https://", 8) == 0 ? s + 8 : NULL;
		for (i = 0; host != NULL && s[i] != '\0'; i++)
			if ((unsigned char)s[i] <= 0x20 ||
			    (unsigned char)s[i] == 0x7f)
				host = NULL;
		if (host == NULL || *host == '\0' || *host == '/' ||
		    *host == '?' || *host == '#') {
			snprintf(err, errsz, "MATCHJOBS_WEBHOOK_URL must be an "
			    "http:// or https:// URL with a host");
			return CFG_ERR_VALUE;
		}
		if ((c->webhook_url = strdup(s)) == NULL)
			goto nomem;
	}
	s = lookup(src, "MATCHJOBS_WEBHOOK_SECRET");
	if (s != NULL && *s != '\0') {
		if ((c->webhook_key = calloc(1, sizeof(*c->webhook_key))) ==
		    NULL)
			goto nomem;
		ws = wh_key_parse(s, c->webhook_key);
		if (ws != WH_OK) {
			snprintf(err, errsz, "MATCHJOBS_WEBHOOK_SECRET must be "
			    "whsec_ and the base64 of 1 to %d key bytes: %s",
			    MJ_WH_KEY_MAX, wh_strerror(ws));
			return CFG_ERR_VALUE;
		}
	} else if (c->webhook_url != NULL) {
		snprintf(err, errsz, "MATCHJOBS_WEBHOOK_URL needs "
		    "MATCHJOBS_WEBHOOK_SECRET (whsec_...)");
		return CFG_ERR_VALUE;
	}
	return CFG_OK;
nomem:
	snprintf(err, errsz, "out of memory");
	return CFG_ERR_NOMEM;
}

int
cfg_reasoning_model(const char *model)
{
	const char	*m;

	m = strrchr(model, '/');
	m = m != NULL ? m + 1 : model;
	if ((m[0] == 'o' || m[0] == 'O') && (m[1] == '1' || m[1] == '3' ||
	    m[1] == '4') && (m[2] == '\0' || m[2] == '-'))
		return 1;
	return strncasecmp(m, "gpt-5", 5) == 0;
}

/*
 * The request's form (SPEC "Scoring" 0.2): MATCHJOBS_RESPONSE_FORMAT,
 * MATCHJOBS_TEMPERATURE (0..2, or none), MATCHJOBS_SEED (an integer),
 * MATCHJOBS_REASONING_MODEL (auto: cfg_reasoning_model(), 1, 0).  A
 * reasoning model gets no temperature whatever was set.
 */
static enum cfg_status
form_load(const struct src *src, struct config *c, char *err,
    size_t errsz)
{
	static const char *const fmts[CFG_FMT__MAX] = {
		"auto",			/* CFG_FMT_AUTO */
		"json_schema",		/* CFG_FMT_JSON_SCHEMA */
		"json_object",		/* CFG_FMT_JSON_OBJECT */
		"none",			/* CFG_FMT_NONE */
	};
	const char	*s;
	char		*end;
	double		 d;
	long long	 v;
	int		 i;

	c->response_format = CFG_FMT_AUTO;
	s = lookup(src, "MATCHJOBS_RESPONSE_FORMAT");
	if (s != NULL && *s != '\0') {
		for (i = 0; i < CFG_FMT__MAX; i++)
			if (strcmp(s, fmts[i]) == 0)
				break;
		if (i == CFG_FMT__MAX) {
			snprintf(err, errsz, "MATCHJOBS_RESPONSE_FORMAT must "
			    "be auto, json_schema, json_object or none");
			return CFG_ERR_VALUE;
		}
		c->response_format = (enum cfg_format)i;
	}
	c->temperature_on = 1;
	c->temperature = 0;
	s = lookup(src, "MATCHJOBS_TEMPERATURE");
	if (s != NULL && strcmp(s, "none") == 0)
		c->temperature_on = 0;
	else if (s != NULL && *s != '\0') {
		errno = 0;
		d = strtod(s, &end);
		if (errno != 0 || *end != '\0' || !(d >= 0 && d <= 2)) {
			snprintf(err, errsz, "MATCHJOBS_TEMPERATURE must be a "
			    "number from 0 to 2, or none");
			return CFG_ERR_VALUE;
		}
		c->temperature = d;
	}
	s = lookup(src, "MATCHJOBS_SEED");
	if (s != NULL && *s != '\0') {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0' || end == s) {
			snprintf(err, errsz, "MATCHJOBS_SEED must be an "
			    "integer");
			return CFG_ERR_VALUE;
		}
		c->seed_on = 1;
		c->seed = v;
	}
	s = lookup(src, "MATCHJOBS_REASONING_MODEL");
	if (s == NULL || *s == '\0' || strcmp(s, "auto") == 0)
		c->reasoning = cfg_reasoning_model(c->model);
	else if (strcmp(s, "1") == 0 || strcmp(s, "0") == 0)
		c->reasoning = *s == '1';
	else {
		snprintf(err, errsz, "MATCHJOBS_REASONING_MODEL must be auto, "
		    "1 or 0");
		return CFG_ERR_VALUE;
	}
	if (c->reasoning)
		c->temperature_on = 0;
	return CFG_OK;
}

/* Is s non-empty and made of URL-safe name characters only? */
static int
url_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("-_.", *s) == NULL)
			return 0;
	return 1;
}

/* Does the base URL's host end in one of Azure OpenAI's domains? */
static int
azure_host(const char *url)
{
	static const char *const dom[] = {
		".openai.azure.com", ".cognitiveservices.azure.com",
	};
	const char	*h, *e;
	size_t		 i, n, k;

	h = strstr(url, "://");
	h = h != NULL ? h + 3 : url;
	if ((e = strchr(h, '@')) != NULL && e < h + strcspn(h, "/"))
		h = e + 1;
	n = strcspn(h, ":/?#");
	for (i = 0; i < sizeof(dom) / sizeof(dom[0]); i++) {
		k = strlen(dom[i]);
		if (n > k && strncasecmp(h + n - k, dom[i], k) == 0)
			return 1;
	}
	return 0;
}

/* Does the base URL's path end in suffix (e.g. "/openai/v1")? */
static int
path_ends(const char *url, const char *suffix)
{
	size_t n = strlen(url), k = strlen(suffix);

	return n >= k && strcasecmp(url + n - k, suffix) == 0;
}

/*
 * Azure OpenAI (docs/matchjobs-fcgi.8, README "Azure OpenAI"): on when
 * MATCHJOBS_AZURE=1, or (unset or auto) when the base URL's host is
 * Azure's or an api-version is set; 0 turns it off.  Then cfg->chat_url
 * is, from the base URL (no trailing slash):
 *  - .../openai/deployments/NAME: that, /chat/completions?api-version=V;
 *  - .../openai/v1 (Azure's v1 API): that, /chat/completions (with
 *    ?api-version=V only when one was set);
 *  - else (the resource, https://R.openai.azure.com, or R/openai):
 *    R/openai/deployments/D/chat/completions?api-version=V, where D is
 *    MATCHJOBS_AZURE_DEPLOYMENT (else AZURE_OPENAI_DEPLOYMENT, else the
 *    model).
 * V: MATCHJOBS_API_VERSION, else AZURE_OPENAI_API_VERSION, else
 * OPENAI_API_VERSION (the SDKs' name), else MJ_AZURE_API_VERSION.
 * Without Azure, chat_url is the base URL and /chat/completions.
 */
static enum cfg_status
azure_load(const struct src *src, struct config *c, char *err,
    size_t errsz)
{
	static const char *const vnames[] = {
		"MATCHJOBS_API_VERSION", "AZURE_OPENAI_API_VERSION",
		"OPENAI_API_VERSION",
	};
	const char	*s, *ver, *dep, *sep;
	size_t		 i, n, len;
	int		 implied, v1, deployed;

	ver = NULL;
	implied = 0;
	for (i = 0; i < sizeof(vnames) / sizeof(vnames[0]) && ver == NULL;
	    i++) {
		s = lookup(src, vnames[i]);
		if (s != NULL && *s != '\0') {
			ver = s;
			implied = i < 2;
		}
	}
	s = lookup(src, "MATCHJOBS_AZURE");
	if (s == NULL || *s == '\0' || strcmp(s, "auto") == 0)
		c->azure = implied || azure_host(c->base_url);
	else if (strcmp(s, "1") == 0 || strcmp(s, "0") == 0)
		c->azure = *s == '1';
	else {
		snprintf(err, errsz, "MATCHJOBS_AZURE must be auto, 1 or 0");
		return CFG_ERR_VALUE;
	}
	if (!c->azure) {
		len = strlen(c->base_url) + sizeof("/chat/completions");
		if ((c->chat_url = malloc(len)) == NULL)
			goto nomem;
		snprintf(c->chat_url, len, "%s/chat/completions", c->base_url);
		return CFG_OK;
	}
	v1 = path_ends(c->base_url, "/openai/v1");
	if (ver == NULL && !v1)
		ver = MJ_AZURE_API_VERSION;
	if (ver != NULL && !url_name(ver)) {
		snprintf(err, errsz, "the api-version (MATCHJOBS_API_VERSION) "
		    "may hold only letters, digits, '-', '_' and '.'");
		return CFG_ERR_VALUE;
	}
	if (ver != NULL && (c->api_version = strdup(ver)) == NULL)
		goto nomem;
	s = strstr(c->base_url, "/openai/deployments/");
	deployed = s != NULL && strchr(s + 20, '/') == NULL && s[20] != '\0';
	dep = lookup(src, "MATCHJOBS_AZURE_DEPLOYMENT");
	if (dep == NULL || *dep == '\0')
		dep = lookup(src, "AZURE_OPENAI_DEPLOYMENT");
	if (deployed)
		dep = s + 20;
	else if (dep == NULL || *dep == '\0')
		dep = c->model;
	if (!url_name(dep)) {
		snprintf(err, errsz, "the Azure deployment name "
		    "(MATCHJOBS_AZURE_DEPLOYMENT, else the model) may hold "
		    "only letters, digits, '-', '_' and '.'");
		return CFG_ERR_VALUE;
	}
	if ((c->azure_deployment = strdup(dep)) == NULL)
		goto nomem;
	/* The resource's root: the base URL without a trailing /openai. */
	n = strlen(c->base_url);
	if (!deployed && !v1 && path_ends(c->base_url, "/openai"))
		n -= 7;
	len = n + strlen(dep) + (ver != NULL ? strlen(ver) : 0) + 64;
	if ((c->chat_url = malloc(len)) == NULL)
		goto nomem;
	sep = ver != NULL ? "?api-version=" : "";
	if (deployed || v1)
		snprintf(c->chat_url, len, "%s/chat/completions%s%s",
		    c->base_url, sep, ver != NULL ? ver : "");
	else
		snprintf(c->chat_url, len, "%.*s/openai/deployments/%s/chat/"
		    "completions%s%s", (int)n, c->base_url, dep, sep,
		    ver != NULL ? ver : "");
	return CFG_OK;
nomem:
	snprintf(err, errsz, "out of memory");
	return CFG_ERR_NOMEM;
}

/* One PDF child per core by default (bounds.h). */
static int
online_cpus(void)
{
	long n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > MJ_PDF_CHILDREN_MAX ? MJ_PDF_CHILDREN_MAX : (int)n;
}

enum cfg_status
cfg_load(struct config *c, const char *(*env)(const char *),
    const struct cfg_file *file, char *err, size_t errsz)
{
	struct src	 srcv = { env, file };
	const struct src *src = &srcv;
	const char	*s, *engine;
	long		 v;
	size_t		 n;
	enum cfg_status	 rc;

	memset(c, 0, sizeof(*c));
	c->body_max = MJ_BODY_MAX_DEFAULT;
	c->jobs_max = MJ_JOBS_MAX_DEFAULT;
	c->concurrency = MJ_CONCURRENCY_DEFAULT;
	c->requests_max = MJ_REQUESTS_MAX_DEFAULT;
	c->connect_timeout_ms = MJ_CONNECT_TIMEOUT_MS;
	c->first_token_timeout_ms = MJ_FIRST_TOKEN_TIMEOUT_MS;
	c->idle_timeout_ms = MJ_IDLE_TIMEOUT_MS;
	c->total_timeout_ms = MJ_TOTAL_TIMEOUT_MS;
	c->keepalive_ms = MJ_KEEPALIVE_MS;
	c->client_timeout_ms = MJ_CLIENT_TIMEOUT_MS;
	c->body_deadline_ms = MJ_BODY_DEADLINE_MS;
	c->grace_ms = MJ_GRACE_MS;
	c->detach_ms = MJ_DETACH_MS;
	c->run_keep_ms = MJ_RUN_KEEP_MS;
	c->retention_days = MJ_RETENTION_DAYS;
	c->cache_ttl_s = MJ_CACHE_TTL_S;
	c->pdf_timeout_ms = MJ_PDF_WALL_MS;
	c->pdf_pages_max = MJ_PDF_PAGES_MAX;
	c->pdf_zygote = 1;
	c->pdf_children_max = online_cpus();
	c->stream_usage = 1;
	c->log_level = LOG_INFO;
	c->webhook_timeout_ms = MJ_WH_TIMEOUT_MS;
	c->webhook_retry_div = 1;
	rc = CFG_ERR_VALUE;

	s = lookup(src, "OPENAI_API_KEY_FILE");
	if (s != NULL && *s != '\0') {
		rc = read_keyfile(s, &c->api_key, err, errsz);
		if (rc != CFG_OK)
			goto err;
		rc = CFG_ERR_VALUE;
	} else {
		s = lookup(src, "OPENAI_API_KEY");
		/* Azure's SDKs' name for it, when OpenAI's is unset. */
		if (s == NULL || *s == '\0')
			s = lookup(src, "AZURE_OPENAI_API_KEY");
		if (s != NULL && *s != '\0') {
			c->api_key = strdup(s);
			if (c->api_key == NULL)
				goto nomem;
		}
	}
	/* Azure's SDKs' endpoint variable, when OpenAI's is unset. */
	s = lookup(src, "OPENAI_BASE_URL");
	c->base_url = dup_or(src, s != NULL && *s != '\0' ?
	    "OPENAI_BASE_URL" : "AZURE_OPENAI_ENDPOINT",
	    "https://api.openai.com/v1");
	c->model = dup_or(src, "MATCHJOBS_MODEL", "gpt-4o-mini");
	c->max_tokens_field = dup_or(src, "MATCHJOBS_MAX_TOKENS_FIELD",
	    "max_completion_tokens");
	c->cors_origins = dup_or(src, "MATCHJOBS_CORS_ORIGINS", NULL);
	c->ca_file = dup_or(src, "MATCHJOBS_CA_FILE", NULL);
	if (c->base_url == NULL || c->model == NULL ||
	    c->max_tokens_field == NULL)
		goto nomem;
	/* A private CA (self-hosted model server, corporate proxy): said
	 * wrong at start, not as a TLS failure on every job. */
	if (c->ca_file != NULL && (*c->ca_file == '\0' ||
	    access(c->ca_file, R_OK) != 0)) {
		snprintf(err, errsz, "MATCHJOBS_CA_FILE: cannot read %s",
		    c->ca_file);
		goto err;
	}
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = '\0';
	if (strncmp(c->base_url, "http://", 7) != 0 &&
	    strncmp(c->base_url, "https://", 8) != 0) {
		snprintf(err, errsz, "OPENAI_BASE_URL must start with "
		    "http:// or https://");
		goto err;
	}

	engine = lookup(src, "MATCHJOBS_ENGINE");
	if (engine == NULL || *engine == '\0' || strcmp(engine, "auto") == 0)
		c->local = c->api_key == NULL;
	else if (strcmp(engine, "local") == 0)
		c->local = 1;
	else if (strcmp(engine, "openai") == 0) {
		if (c->api_key == NULL) {
			snprintf(err, errsz, "MATCHJOBS_ENGINE=openai needs "
			    "OPENAI_API_KEY or OPENAI_API_KEY_FILE");
			goto err;
		}
		c->local = 0;
	} else {
		snprintf(err, errsz, "MATCHJOBS_ENGINE must be auto, local "
		    "or openai");
		goto err;
	}

	s = lookup(src, "MATCHJOBS_LOG_LEVEL");
	if (s != NULL && *s != '\0') {
		c->log_level = log_level_parse(s);
		if (c->log_level < 0) {
			snprintf(err, errsz, "MATCHJOBS_LOG_LEVEL must be "
			    "error, warn, info or debug");
			goto err;
		}
	}

#define LNUM(name, min, max, field) do {				\
	v = (long)(field);						\
	if (parse_long(src, name, min, max, &v, err, errsz) != 0)	\
		goto err;						\
	(field) = v;							\
} while (0)
	LNUM("MATCHJOBS_MAX_BODY", 1024, (long)MJ_BODY_MAX_CEILING,
	    c->body_max);
	LNUM("MATCHJOBS_MAX_JOBS", 1, MJ_JOBS_MAX_CEILING, c->jobs_max);
	LNUM("MATCHJOBS_CONCURRENCY", 1, MJ_CONCURRENCY_MAX, c->concurrency);
	LNUM("MATCHJOBS_MAX_REQUESTS", 1, 100000, c->requests_max);
	/*
	 * Over TLS the calls multiplex (HTTP/2, MJ_UPSTREAM_STREAMS each):
	 * a cap keeps a burst from opening a connection per call before the
	 * first ones are known to multiplex.  Over plain HTTP (1.1) every
	 * call in flight needs its own connection: no cap by default.
	 */
	c->upstream_conns = strncasecmp(c->base_url, "https:", 6) == 0 ?
	    MJ_UPSTREAM_H2_CONNS : 0;
	LNUM("MATCHJOBS_UPSTREAM_CONNS", 0, 100000, c->upstream_conns);
	/* One lane per core: a burst of streams uses them all. */
	c->runners = sysconf(_SC_NPROCESSORS_ONLN);
	if (c->runners < 1)
		c->runners = 1;
	if (c->runners > MJ_RUNNERS_DEFAULT_MAX)
		c->runners = MJ_RUNNERS_DEFAULT_MAX;
	LNUM("MATCHJOBS_RUNNERS", 1, MJ_RUNNERS_MAX, c->runners);
	LNUM("MATCHJOBS_CONNECT_TIMEOUT_MS", 100, 600000,
	    c->connect_timeout_ms);
	LNUM("MATCHJOBS_FIRST_TOKEN_TIMEOUT_MS", 100, 3600000,
	    c->first_token_timeout_ms);
	LNUM("MATCHJOBS_IDLE_TIMEOUT_MS", 100, 3600000, c->idle_timeout_ms);
	LNUM("MATCHJOBS_TOTAL_TIMEOUT_MS", 100, 3600000,
	    c->total_timeout_ms);
	LNUM("MATCHJOBS_KEEPALIVE_MS", 100, 3600000, c->keepalive_ms);
	LNUM("MATCHJOBS_CLIENT_TIMEOUT_MS", 100, 3600000,
	    c->client_timeout_ms);
	LNUM("MATCHJOBS_BODY_TIMEOUT_MS", 100, 3600000, c->body_deadline_ms);
	LNUM("MATCHJOBS_GRACE_MS", 0, 3600000, c->grace_ms);
	LNUM("MATCHJOBS_DETACH_MS", 0, 3600000, c->detach_ms);
	LNUM("MATCHJOBS_RUN_KEEP_MS", 1000, 86400000, c->run_keep_ms);
	LNUM("MATCHJOBS_STREAM_REASONING", 0, 1, c->stream_reasoning);
	LNUM("MATCHJOBS_PDF_TIMEOUT_MS", 100, 600000, c->pdf_timeout_ms);
	LNUM("MATCHJOBS_PDF_MAX_PAGES", 1, 10000, c->pdf_pages_max);
	LNUM("MATCHJOBS_PDF_ZYGOTE", 0, 1, c->pdf_zygote);
	LNUM("MATCHJOBS_PDF_MAX_CHILDREN", 1, MJ_PDF_CHILDREN_MAX,
	    c->pdf_children_max);
	LNUM("MATCHJOBS_STREAM_USAGE", 0, 1, c->stream_usage);
	LNUM("MATCHJOBS_MAX_TOKENS", 0, 1000000, c->max_tokens);
	LNUM("MATCHJOBS_RETENTION_DAYS", 0, 36500, c->retention_days);
	LNUM("MATCHJOBS_WEBHOOK_TIMEOUT_MS", 100, MJ_WH_TIMEOUT_MS,
	    c->webhook_timeout_ms);
	LNUM("MATCHJOBS_WEBHOOK_RETRY_DIV", 1, 1000000, c->webhook_retry_div);
	LNUM("MATCHJOBS_CACHE_TTL_S", 0, MJ_CACHE_TTL_MAX_S, c->cache_ttl_s);
#undef LNUM

	/* The store (SPEC "Store"): on by default, in the state directory. */
	s = lookup(src, "MATCHJOBS_STORE");
	c->store_on = 1;
	if (s != NULL && (strcmp(s, "off") == 0 || strcmp(s, "0") == 0))
		c->store_on = 0;
	else if (s != NULL && *s != '\0' && strcmp(s, "on") != 0 &&
	    strcmp(s, "1") != 0) {
		snprintf(err, errsz, "MATCHJOBS_STORE must be on or off");
		goto err;
	}
	if ((c->db = dup_or(src, "MATCHJOBS_DB", MJ_DB_DEFAULT)) == NULL)
		goto nomem;
	if (*c->db == '\0') {
		snprintf(err, errsz, "MATCHJOBS_DB is empty");
		goto err;
	}
	if (strncmp(c->db, "postgresql://", 13) == 0 ||
	    strncmp(c->db, "postgres://", 11) == 0) {
		snprintf(err, errsz, "MATCHJOBS_DB: PostgreSQL is not "
		    "supported yet; use a SQLite file path");
		goto err;
	}
	rc = webhook_load(src, c, err, errsz);
	if (rc == CFG_OK)
		rc = prices_load(src, c, err, errsz);
	if (rc != CFG_OK)
		goto err;
	rc = form_load(src, c, err, errsz);
	if (rc != CFG_OK)
		goto err;
	rc = azure_load(src, c, err, errsz);
	if (rc != CFG_OK)
		goto err;
	return CFG_OK;

nomem:
	rc = CFG_ERR_NOMEM;
	snprintf(err, errsz, "out of memory");
err:
	cfg_free(c);
	return rc;
}

void
cfg_free(struct config *c)
{
	if (c->api_key != NULL)
		explicit_bzero(c->api_key, strlen(c->api_key));
	free(c->api_key);
	free(c->base_url);
	free(c->model);
	free(c->max_tokens_field);
	free(c->cors_origins);
	free(c->ca_file);
	c->ca_file = NULL;
	free(c->self_exe);
	c->self_exe = NULL;
	free(c->db);
	c->db = NULL;
	free(c->webhook_url);
	c->webhook_url = NULL;
	free(c->azure_deployment);
	free(c->api_version);
	free(c->chat_url);
	c->azure_deployment = c->api_version = c->chat_url = NULL;
	wh_key_clear(c->webhook_key);
	free(c->webhook_key);
	c->webhook_key = NULL;
	c->api_key = c->base_url = c->model = NULL;
	c->max_tokens_field = c->cors_origins = NULL;
}

int
cfg_cors_allows(const struct config *c, const char *origin)
{
	const char	*p, *e;
	size_t		 n;

	if (c->cors_origins == NULL || origin == NULL || *origin == '\0')
		return 0;
	if (strcmp(c->cors_origins, "*") == 0)
		return 1;
	n = strlen(origin);
	for (p = c->cors_origins; *p != '\0'; p = e) {
		while (*p == ' ' || *p == ',')
			p++;
		e = p;
		while (*e != '\0' && *e != ',' && *e != ' ')
			e++;
		if ((size_t)(e - p) == n && strncmp(p, origin, n) == 0)
			return 1;
	}
	return 0;
}

void
cfg_file_free(struct cfg_file *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		explicit_bzero(f->lines[i], strlen(f->lines[i]));
		free(f->lines[i]);
	}
	free(f->lines);
	f->lines = NULL;
	f->n = 0;
}

enum cfg_status
cfg_file_load(struct cfg_file *f, const char *path, char *err, size_t errsz)
{
	FILE		*fp;
	char		 line[FILE_LINE_MAX];
	char		*p, *eq, *e;
	size_t		 lineno, n;
	enum cfg_status	 rc;

	memset(f, 0, sizeof(*f));
	fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(err, errsz, "config file %s: %s", path,
		    strerror(errno));
		return CFG_ERR_VALUE;
	}
	f->lines = calloc(FILE_LINES_MAX, sizeof(*f->lines));
	rc = CFG_ERR_NOMEM;
	if (f->lines == NULL)
		goto out;
	rc = CFG_ERR_VALUE;
	lineno = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			snprintf(err, errsz, "config file %s:%zu: line too "
			    "long", path, lineno);
			goto out;
		}
		while (n > 0 && strchr(" \t\r\n", line[n - 1]) != NULL)
			line[--n] = '\0';
		p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (eq == NULL || eq == p) {
			snprintf(err, errsz, "config file %s:%zu: expected "
			    "NAME=value", path, lineno);
			goto out;
		}
		for (e = eq; e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		eq++;
		while (*eq == ' ' || *eq == '\t')
			eq++;
		n = strlen(eq);
		if (n >= 2 && (eq[0] == '"' || eq[0] == '\'') &&
		    eq[n - 1] == eq[0]) {
			eq[n - 1] = '\0';
			eq++;
		}
		if (f->n == FILE_LINES_MAX) {
			snprintf(err, errsz, "config file %s: more than %d "
			    "settings", path, FILE_LINES_MAX);
			goto out;
		}
		/* Stored as "NAME\0value". */
		n = strlen(p);
		f->lines[f->n] = malloc(n + 1 + strlen(eq) + 1);
		if (f->lines[f->n] == NULL) {
			rc = CFG_ERR_NOMEM;
			goto out;
		}
		memcpy(f->lines[f->n], p, n + 1);
		strcpy(f->lines[f->n] + n + 1, eq);
		f->n++;
	}
	rc = CFG_OK;
out:
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	if (rc != CFG_OK)
		cfg_file_free(f);
	return rc;
}

const char *
cfg_file_get(const struct cfg_file *f, const char *name)
{
	size_t i;

	/* The last setting of a name wins. */
	for (i = f->n; i > 0; i--)
		if (strcmp(f->lines[i - 1], name) == 0)
			return f->lines[i - 1] + strlen(name) + 1;
	return NULL;
}
