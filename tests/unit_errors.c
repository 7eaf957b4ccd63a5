/*
 * unit_errors.c - the table of error codes: each code has the status
 * SPEC "Errors" and "Runs" give it, and every code the sources answer
 * with is in the table (tests/errors.test checks the sources).
 */
#include "config.h"

#include "errors.h"
#include "tap.h"

int
main(void)
{
	static const struct {
		const char	*code;
		int		 status;
	} spec[] = {
		{ "bad_request", 400 }, { "unauthorized", 401 },
		{ "forbidden_origin", 403 }, { "not_found", 404 },
		{ "method_not_allowed", 405 }, { "timeout", 408 },
		{ "cancelled", 409 }, { "too_large", 413 },
		{ "unsupported_media_type", 415 }, { "unreadable_pdf", 422 },
		{ "rate_limited", 429 }, { "budget_exceeded", 429 },
		{ "internal", 500 }, { "upstream_failed", 502 },
		{ "upstream_timeout", 504 }, { "overloaded", 503 },
		{ "pdf_unavailable", 503 }, { "shutdown", 503 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++)
		ok(err_known(spec[i].code) &&
		    err_status(spec[i].code) == spec[i].status,
		    "%s answers %d", spec[i].code, spec[i].status);
	ok(!err_known("no_such_code") && err_status("no_such_code") == 500,
	    "an unknown code is not in the table and answers 500");
	ok(!err_known(NULL) && err_status(NULL) == 500, "NULL: 500");
	return tap_done();
}
