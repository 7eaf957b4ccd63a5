/*
 * request.h - parse and validate the JSON document of a match request.
 *
 * The document is the "json_body" field of a multipart form or the whole
 * application/json body (SPEC.md, "Request formats"):
 *   { "user_id": "abc",
 *     "jobs": {"jobtitle": "...", "joblink": "...", "jobdata": "..."}
 *             or [ <job>, ... ] (1..jobs_max of them),
 *     "resume_text": "..." }
 * req_parse() is a pure function over (json, len): no I/O, no globals.
 * It reads RFC 8259 JSON with json-c in strict mode and then checks the
 * shape above.  It is not the multipart parser and does not decide
 * whether resume_text or a PDF is used; the caller does.
 *
 * What is accepted, beyond plain RFC 8259:
 *  - a leading UTF-8 byte order mark is skipped (RFC 8259 §8.1 allows it);
 *  - a repeated key: the last one wins (json-c behaviour).
 *  - an escaped lone surrogate (\ud800) becomes U+FFFD (json-c).
 * What is rejected as REQ_ERR_JSON (json-c 0.16's strict mode lets some
 * of it by, so request.c checks the lexical rules itself):
 *  - UTF-8 that is not well-formed per RFC 3629 (overlong forms, encoded
 *    surrogates, above U+10FFFF): the response echoes fields back as
 *    JSON, so bad bytes are refused at the door, not passed through;
 *  - NUL or other control bytes outside strings (other than the four JSON
 *    whitespace bytes) and any raw control byte inside a string;
 *  - NaN, Infinity, 'single quotes', numbers such as 1. 00 -01 +1, and
 *    numbers too large for a double (1e999): json-c would write some of
 *    them back as invalid JSON in the passthrough fields;
 *  - trailing non-whitespace, an incomplete document, comments;
 *  - arrays and objects nested deeper than depth_max (the top-level
 *    object is level 1; {"jobs":[{...}]} is 3 levels).
 * Strings holding \u0000 are rejected in user_id, jobtitle and joblink,
 * which callers use as C strings; jobdata and resume_text keep their
 * length and may hold it.  A null joblink or resume_text is the same as
 * an absent one.
 */
#ifndef MJ_REQUEST_H
#define MJ_REQUEST_H

#include <stddef.h>

struct json_object;

enum req_status {
	REQ_OK = 0,
	REQ_ERR_JSON,		/* not valid JSON, too deep, trailing bytes */
	REQ_ERR_TOO_BIG,	/* document longer than json_max */
	REQ_ERR_FIELD,		/* a field is missing, mistyped or too long */
	REQ_ERR_TOO_MANY_JOBS,	/* more than jobs_max jobs */
	REQ_ERR_NOMEM,		/* allocation failed */
	REQ__MAX
};

struct req_job {
	const char		*title;	/* borrowed from doc, NUL-terminated */
	const char		*link;	/* borrowed from doc; "" if absent */
	const char		*data;	/* borrowed from doc, may hold NULs */
	size_t			 data_len; /* bytes at data */
	struct json_object	*obj;	/* borrowed: the job object itself,
					   for the passthrough fields */
};

struct req {
	struct json_object	*doc;	/* owned: the parsed document */
	const char		*user_id; /* borrowed from doc */
	struct req_job		*jobs;	/* owned array of njobs */
	size_t			 njobs;	/* 1..jobs_max once parsed */
	const char		*resume_text; /* borrowed; NULL if absent */
	size_t			 resume_len; /* bytes at resume_text */
};

struct req_limits {
	size_t	json_max;	/* document bytes (MJ_JSON_MAX) */
	int	depth_max;	/* array/object nesting (MJ_JSON_DEPTH_MAX) */
	size_t	jobs_max;	/* jobs per request (MJ_JOBS_MAX_DEFAULT) */
	size_t	user_id_max;	/* user_id bytes (MJ_USER_ID_MAX) */
	size_t	field_max;	/* bytes of jobtitle, jobdata, joblink and
				   resume_text each (MJ_MP_FIELD_MAX) */
};

/* Fill *lim with the defaults from bounds.h.  Never fails. */
void		 req_limits_default(struct req_limits *lim);

/*
 * Parse and validate json[0..len) against *lim (NULL: the defaults).
 * *out is overwritten (not freed) first.  On REQ_OK the caller owns *out
 * and releases it with req_free(); every pointer in it borrows from
 * out->doc and lives as long as it.  On any other status *out is left
 * zeroed and, if errsz > 0, errmsg holds a NUL-terminated message for a
 * person that names the field, e.g. "jobs[2].jobdata must be a non-empty
 * string" (truncated to errsz).  The message holds no request bytes
 * except numbers, so it is safe to log and echo.  Thread-safe: no shared
 * state; json-c objects of different requests are independent.
 */
enum req_status	 req_parse(const char *json, size_t len,
		    const struct req_limits *lim, struct req *out,
		    char *errmsg, size_t errsz)
		    __attribute__((warn_unused_result));

/* Release what *r owns; safe on a zeroed struct and twice. */
void		 req_free(struct req *r);

/* A short English message for a status; never NULL. */
const char	*req_strerror(enum req_status);

#endif /* MJ_REQUEST_H */
