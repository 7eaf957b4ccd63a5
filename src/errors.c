/*
 * errors.c - the table of error codes and statuses; see errors.h.
 */
#include "config.h"

#include <string.h>

#include "errors.h"

static const struct {
	const char	*code;
	int		 status;
} table[] = {
	/* The request. */
	{ "bad_request",		400 },
	{ "unauthorized",		401 },
	{ "forbidden_origin",		403 },
	{ "not_found",			404 },
	{ "method_not_allowed",		405 },
	{ "timeout",			408 },	/* the body came too slowly */
	{ "cancelled",			409 },	/* its run was cancelled */
	{ "too_large",			413 },
	{ "unsupported_media_type",	415 },
	{ "unreadable_pdf",		422 },
	{ "rate_limited",		429 },
	{ "budget_exceeded",		429 },
	{ "internal",			500 },
	/* The model, when no job could be scored. */
	{ "upstream_failed",		502 },
	{ "upstream_auth",		502 },
	{ "upstream_rate_limited",	502 },
	{ "upstream_bad_request",	502 },
	{ "upstream_unavailable",	502 },
	{ "upstream_connect",		502 },
	{ "upstream_error",		502 },
	{ "upstream_protocol",		502 },
	{ "upstream_truncated",		502 },
	{ "answer_too_long",		502 },
	{ "bad_answer",			502 },
	{ "upstream_timeout",		504 },
	/* The server. */
	{ "overloaded",			503 },
	{ "pdf_unavailable",		503 },
	{ "shutdown",			503 },
	{ "stopping",			503 },
	{ "interrupted",		503 },
	{ "store_unavailable",		503 },
};

static int
find(const char *code)
{
	size_t	 i;

	if (code == NULL)
		return -1;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].code, code) == 0)
			return (int)i;
	return -1;
}

int
err_status(const char *code)
{
	int	 i = find(code);

	return i >= 0 ? table[i].status : 500;
}

int
err_known(const char *code)
{
	return find(code) >= 0;
}
