/*
 * unit_route.c - http_route() over the CGI variables each server sends.
 */
#include "config.h"

#include <stddef.h>

#include "http.h"
#include "tap.h"

struct rcase {
	const char	*name;
	const char	*sn, *pi, *du, *ru;	/* SCRIPT_NAME, PATH_INFO, ... */
	enum route	 want;
};

static const struct rcase cases[] = {
	{ "nginx fastcgi_params", "/api/match-jobs/stream", NULL,
	    "/api/match-jobs/stream", "/api/match-jobs/stream",
	    ROUTE_STREAM },
	{ "nginx under a prefix", "/app/api/match-jobs", NULL,
	    "/app/api/match-jobs", "/app/api/match-jobs?x=1", ROUTE_MATCH },
	{ "mod_fcgid ScriptAlias", "/matchjobs", "/api/health", NULL,
	    "/matchjobs/api/health", ROUTE_HEALTH },
	{ "shared host", "/~alice/matchjobs.fcgi", "/api/match-jobs/stream",
	    NULL, "/~alice/matchjobs.fcgi/api/match-jobs/stream",
	    ROUTE_STREAM },
	{ "shared host, rewritten", "/~alice/matchjobs/matchjobs.fcgi",
	    "/api/match-jobs", NULL, "/~alice/matchjobs/api/match-jobs",
	    ROUTE_MATCH },
	{ "mod_proxy_fcgi", "/api/match-jobs", "/api/match-jobs", NULL,
	    "/api/match-jobs", ROUTE_MATCH },
	{ "REQUEST_URI only, query", NULL, NULL, NULL,
	    "/x/api/health?verbose=1", ROUTE_HEALTH },
	{ "REQUEST_URI only, fragment-ish", "", "", "", "/api/health#a",
	    ROUTE_HEALTH },
	{ "trailing slash", NULL, NULL, NULL, "/api/match-jobs/",
	    ROUTE_MATCH },
	{ "unknown", "/api/nope", NULL, "/api/nope", "/api/nope",
	    ROUTE_NONE },
	{ "root", "/", NULL, "/", "/", ROUTE_NONE },
	{ "suffix not at a segment", NULL, NULL, NULL, "/xapi/health",
	    ROUTE_NONE },
	{ "route followed by more", NULL, NULL, NULL,
	    "/api/match-jobs/streamx", ROUTE_NONE },
	{ "nothing at all", NULL, NULL, NULL, NULL, ROUTE_NONE },
};

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(http_route(cases[i].sn, cases[i].pi, cases[i].du,
		    cases[i].ru) == cases[i].want, "%s", cases[i].name);
	return tap_done();
}
