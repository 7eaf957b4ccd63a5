/*
 * unit_route.c - http_route() over the CGI variables each server sends,
 * and the run routes' {id} over hostile paths.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

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

/* A run id's shape: 32 characters of base64url (24 before). */
#define ID	"-0Az_azAAbCdEfGhIjKlMnOpQrStUv-_"
#define ID33	ID "x"
#define ID_OLD	"AbCdEfGhIjKlMnOpQrStUv-_"

struct runcase {
	const char	*name;
	const char	*sn, *pi, *du, *ru;
	enum route	 want;
	const char	*id;		/* what run_id must hold */
};

static const struct runcase runcases[] = {
	{ "nginx: run", "/api/runs/" ID, NULL, "/api/runs/" ID,
	    "/api/runs/" ID, ROUTE_RUN, ID },
	{ "nginx: events with after=", "/api/runs/" ID "/events", NULL,
	    "/api/runs/" ID "/events", "/api/runs/" ID "/events?after=3",
	    ROUTE_RUN_EVENTS, ID },
	{ "nginx: cancel", "/api/runs/" ID "/cancel", NULL,
	    "/api/runs/" ID "/cancel", "/api/runs/" ID "/cancel",
	    ROUTE_RUN_CANCEL, ID },
	{ "mod_fcgid: PATH_INFO", "/matchjobs", "/api/runs/" ID "/events",
	    NULL, "/matchjobs/api/runs/" ID "/events", ROUTE_RUN_EVENTS, ID },
	{ "shared host prefix", "/~alice/matchjobs.fcgi", "/api/runs/" ID,
	    NULL, "/~alice/matchjobs.fcgi/api/runs/" ID, ROUTE_RUN, ID },
	{ "REQUEST_URI only, query", NULL, NULL, NULL,
	    "/x/api/runs/" ID "/events?after=5#f", ROUTE_RUN_EVENTS, ID },
	{ "trailing slash", NULL, NULL, NULL, "/api/runs/" ID "/cancel/",
	    ROUTE_RUN_CANCEL, ID },
	{ "a short id is routed (404 later)", NULL, NULL, NULL,
	    "/api/runs/abc", ROUTE_RUN, "abc" },
	{ "an id too long: routed, empty", NULL, NULL, NULL,
	    "/api/runs/" ID33 "/events", ROUTE_RUN_EVENTS, "" },
	{ "an id of before (24 characters)", NULL, NULL, NULL,
	    "/api/runs/" ID_OLD "/events", ROUTE_RUN_EVENTS, ID_OLD },
	{ "an id of dots", NULL, NULL, NULL, "/api/runs/../events",
	    ROUTE_RUN_EVENTS, ".." },
	{ "percent-encoded id kept as is", NULL, NULL, NULL,
	    "/api/runs/%2e%2e", ROUTE_RUN, "%2e%2e" },
	{ "the word events as the id", NULL, NULL, NULL, "/api/runs/events",
	    ROUTE_RUN, "events" },
	{ "the list", NULL, NULL, NULL, "/api/runs", ROUTE_RUNS,
	    "" },
	{ "the list, slash", NULL, NULL, NULL, "/api/runs/",
	    ROUTE_RUNS, "" },
	{ "empty id", NULL, NULL, NULL, "/api/runs//events", ROUTE_NONE, "" },
	{ "two slashes", NULL, NULL, NULL, "/api/runs//", ROUTE_NONE, "" },
	{ "unknown action", NULL, NULL, NULL, "/api/runs/" ID "/bogus",
	    ROUTE_NONE, "" },
	{ "more after events", NULL, NULL, NULL,
	    "/api/runs/" ID "/events/more", ROUTE_NONE, "" },
	{ "two ids", NULL, NULL, NULL, "/api/runs/" ID "/" ID, ROUTE_NONE,
	    "" },
	{ "not at a segment", NULL, NULL, NULL, "/xapi/runs/" ID, ROUTE_NONE,
	    "" },
	{ "runs not under api", NULL, NULL, NULL, "/runs/" ID, ROUTE_NONE,
	    "" },
	{ "eventsx", NULL, NULL, NULL, "/api/runs/" ID "/eventsx",
	    ROUTE_NONE, "" },
	{ "old route wins at the end", NULL, NULL, NULL,
	    "/api/runs/" ID "/api/health", ROUTE_HEALTH, "" },
	{ "run under the match route", NULL, NULL, NULL,
	    "/api/match-jobs/api/runs/" ID, ROUTE_RUN, ID },
	{ "just a slash and events", NULL, NULL, NULL, "/events", ROUTE_NONE,
	    "" },
	{ "no slash at all", NULL, "events", NULL, "cancel", ROUTE_NONE, "" },
};

int
main(void)
{
	char	 id[RL_ID_LEN + 1], big[8192];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(id, 'z', sizeof(id));
		ok(http_route(cases[i].sn, cases[i].pi, cases[i].du,
		    cases[i].ru, id) == cases[i].want && id[0] == '\0', "%s",
		    cases[i].name);
	}
	for (i = 0; i < sizeof(runcases) / sizeof(runcases[0]); i++) {
		memset(id, 'z', sizeof(id));
		ok(http_route(runcases[i].sn, runcases[i].pi, runcases[i].du,
		    runcases[i].ru, id) == runcases[i].want &&
		    strcmp(id, runcases[i].id) == 0, "run: %s (id \"%.25s\")",
		    runcases[i].name, id);
	}
	/* A path longer than any buffer: no overflow, the id kept. */
	memset(big, '/', sizeof(big));
	memcpy(big + sizeof(big) - 1 - strlen("/api/runs/" ID "/events"),
	    "/api/runs/" ID "/events", strlen("/api/runs/" ID "/events"));
	big[sizeof(big) - 1] = '\0';
	ok(http_route(big, big, big, big, id) == ROUTE_RUN_EVENTS &&
	    strcmp(id, ID) == 0, "run: an 8 KiB path");
	memset(big, 'a', sizeof(big));
	memcpy(big, "/api/runs/", 10);
	big[sizeof(big) - 1] = '\0';
	ok(http_route(NULL, NULL, NULL, big, id) == ROUTE_RUN && id[0] == '\0',
	    "run: an 8 KiB id is routed but empty");
	return tap_done();
}
