/*
 * cfg.h - the process configuration, read once at startup from the
 * environment (and OPENAI_API_KEY_FILE).  After cfg_load() the struct is
 * read-only and shared by every thread.  A config file (--config, or
 * matchjobs.conf beside the executable, for shared hosts) may supply
 * the same names; the environment wins.  Variables and defaults are
 * listed in README.md and matchjobs-fcgi(8).
 */
#ifndef MJ_CFG_H
#define MJ_CFG_H

#include <stddef.h>

struct wh_key;

/*
 * The response_format a call asks for (MATCHJOBS_RESPONSE_FORMAT).  The
 * order of the last three is the fallback chain of CFG_FMT_AUTO.
 */
enum cfg_format {
	CFG_FMT_AUTO = 0,	/* json_schema, then json_object, then none,
				   as the server accepts (upstream.c) */
	CFG_FMT_JSON_SCHEMA,	/* structured outputs, strict */
	CFG_FMT_JSON_OBJECT,	/* JSON mode */
	CFG_FMT_NONE,		/* no response_format */
	CFG_FMT__MAX
};

enum cfg_status {
	CFG_OK = 0,
	CFG_ERR_VALUE,		/* a variable has a bad value */
	CFG_ERR_KEYFILE,	/* OPENAI_API_KEY_FILE unreadable */
	CFG_ERR_NOMEM,
	CFG__MAX
};

struct config {
	char	*api_key;	/* owned; NULL: local engine */
	char	*base_url;	/* owned; no trailing slash */
	char	*model;		/* owned */
	int	 local;		/* 1: local engine (no key or forced) */
	size_t	 body_max;	/* request body bytes */
	size_t	 jobs_max;	/* jobs per request */
	int	 concurrency;	/* jobs in flight per request */
	int	 requests_max;	/* requests at once before 503 */
	long	 connect_timeout_ms;
	long	 first_token_timeout_ms;
	long	 idle_timeout_ms;	/* gap between upstream bytes */
	long	 total_timeout_ms;	/* one upstream call, whole */
	long	 keepalive_ms;		/* SSE comment interval */
	long	 client_timeout_ms;	/* one blocked client read/write */
	long	 body_deadline_ms;	/* whole request body */
	long	 grace_ms;		/* shutdown grace period */
	long	 detach_ms;		/* a run without followers goes on
					   this long (MATCHJOBS_DETACH_MS) */
	long	 run_keep_ms;		/* an ended run stays readable this
					   long (MATCHJOBS_RUN_KEEP_MS) */
	long	 pdf_timeout_ms;
	int	 pdf_pages_max;
	int	 pdf_zygote;	/* 1: fork PDF children from a zygote */
	int	 pdf_children_max; /* PDF children at once (default: one
				   per online CPU) */
	int	 stream_reasoning; /* send a reasoning model's thinking as
				   `reasoning` events (default 0) */
	int	 stream_usage;	/* send stream_options.include_usage */
	long	 max_tokens;	/* 0: not sent */
	char	*max_tokens_field; /* owned: "max_completion_tokens" */
	char	*cors_origins;	/* owned; NULL: no CORS; "*" or a list */
	char	*ca_file;	/* owned; NULL: the platform's CA store */
	long	 upstream_conns;	/* connections to the model server at
				   most (0: no limit); see cfg.c */
	long	 runners;	/* runner lanes: threads that make the
				   model calls and write the streams */
	char	*db;		/* owned: the store (MATCHJOBS_DB) */
	int	 store_on;	/* MATCHJOBS_STORE: 0 keeps nothing */
	long	 cache_ttl_s;	/* MATCHJOBS_CACHE_TTL_S: an answer is
				   cached this long; 0: no cache */
	long	 retention_days;	/* runs older are erased (0: never) */
	double	 price_in;	/* USD per million prompt tokens of the
				   model (MATCHJOBS_PRICES; 0: none) */
	double	 price_out;	/* ... per million completion tokens */
	int	 log_level;
	char	*webhook_url;	/* owned; NULL: no webhooks */
	struct wh_key *webhook_key; /* owned (cfg_free wipes it): the key of
				   MATCHJOBS_WEBHOOK_SECRET, or NULL */
	long	 webhook_timeout_ms;	/* one delivery attempt, whole */
	long	 webhook_retry_div;	/* tests: the retry schedule's steps
				   are divided by this (default 1) */
	char	*self_exe;	/* owned: path of this program, for the
				   PDF child (set by main, not the env) */
	/* ---- the request's form (SPEC "Scoring" 0.2) ---- */
	enum cfg_format response_format; /* MATCHJOBS_RESPONSE_FORMAT */
	int	 temperature_on; /* 0: no temperature (MATCHJOBS_TEMPERATURE
				   =none, or a reasoning model) */
	double	 temperature;	/* 0..2, default 0 */
	int	 seed_on;	/* MATCHJOBS_SEED was set */
	long long seed;
	int	 reasoning;	/* 1: a reasoning model (cfg_reasoning_model
				   or MATCHJOBS_REASONING_MODEL): sends
				   max_completion_tokens, no temperature */
	int	 azure;		/* 1: Azure OpenAI (api-key header,
				   api-version, deployment URL) */
	char	*azure_deployment; /* owned; Azure: the deployment name */
	char	*api_version;	/* owned; Azure: api-version, or NULL
				   for a v1 base URL without one */
	char	*chat_url;	/* owned: the URL every call posts to */
};

/*
 * A config file: lines NAME=value (value optionally quoted), blank lines
 * and # comments, with the same names as the environment variables.
 */
struct cfg_file {
	char	**lines;	/* owned; each "NAME\0value" */
	size_t	  n;
};

/*
 * Read a config file.  On error, err says which line and why, and *f is
 * empty.  The caller frees *f with cfg_file_free() (it may hold the key).
 */
enum cfg_status cfg_file_load(struct cfg_file *f, const char *path,
	    char *err, size_t errsz) __attribute__((warn_unused_result));
void	cfg_file_free(struct cfg_file *f);
/* The value of name in f, or NULL. */
const char *cfg_file_get(const struct cfg_file *f, const char *name);

/*
 * Fill *c from the variables env(name) returns (getenv in the program,
 * a table in tests), falling back to file (may be NULL) for names the
 * environment lacks.  On error, err (size errsz) names the variable and
 * the accepted range, and *c is freed.  The caller frees a loaded config
 * with cfg_free().
 */
enum cfg_status cfg_load(struct config *c, const char *(*env)(const char *),
	    const struct cfg_file *file, char *err, size_t errsz)
	__attribute__((warn_unused_result));
void	cfg_free(struct config *c);
/*
 * Is model a reasoning model by its name: o1, o3 or o4 (alone or
 * followed by '-'), or gpt-5 and anything after, ASCII-case-blind,
 * after any "provider/" prefix (OpenRouter's "openai/o3-mini")?
 */
int	cfg_reasoning_model(const char *model);
/* Is origin one of the configured CORS origins? */
int	cfg_cors_allows(const struct config *c, const char *origin);

#endif /* MJ_CFG_H */
