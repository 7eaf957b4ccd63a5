/*
 * request.c - parse and validate a match request's JSON; see request.h.
 *
 * Three passes over untrusted bytes, each bounded:
 *  1. lex(): RFC 8259's lexical rules, which json-c only partly checks;
 *  2. json-c's tokener, strict, UTF-8 validating, depth-capped, over the
 *     whole buffer, then an explicit end-of-input so a top-level scalar
 *     or a cut-off document is told apart from trailing bytes;
 *  3. walk(): the tree, for the exact nesting depth and non-finite
 *     numbers; then the fields themselves.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "request.h"
#include "utf8.h"

/* Room for a field's name, e.g. "jobs[18446744073709551615].jobtitle". */
#define NAME_MAX_LEN	64

static const char *const statuses[REQ__MAX] = {
	"success",				/* REQ_OK */
	"malformed JSON",			/* REQ_ERR_JSON */
	"JSON document too large",		/* REQ_ERR_TOO_BIG */
	"missing or invalid field",		/* REQ_ERR_FIELD */
	"too many jobs",			/* REQ_ERR_TOO_MANY_JOBS */
	"out of memory",			/* REQ_ERR_NOMEM */
};

const char *
req_strerror(enum req_status st)
{
	if ((int)st < 0 || st >= REQ__MAX)
		return "unknown request status";
	return statuses[st];
}

void
req_limits_default(struct req_limits *lim)
{
	lim->json_max = MJ_JSON_MAX;
	lim->depth_max = MJ_JSON_DEPTH_MAX;
	lim->jobs_max = MJ_JOBS_MAX_DEFAULT;
	lim->user_id_max = MJ_USER_ID_MAX;
	lim->field_max = MJ_MP_FIELD_MAX;
}

void
req_free(struct req *r)
{
	if (r == NULL)
		return;
	if (r->doc != NULL)
		json_object_put(r->doc);
	free(r->jobs);
	memset(r, 0, sizeof(*r));
}

__attribute__((format(printf, 3, 4)))
static void
seterr(char *errmsg, size_t errsz, const char *fmt, ...)
{
	va_list	ap;

	if (errmsg == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(errmsg, errsz, fmt, ap);
	va_end(ap);
}

static int
isdigitc(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Length of the RFC 8259 §6 number at p[0..n), or 0 if it is not one:
 *   [ "-" ] ( "0" / [1-9] *DIGIT ) [ "." 1*DIGIT ]
 *   [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
 * and no number character right after it.
 */
static size_t
numlen(const unsigned char *p, size_t n)
{
	size_t	i;

	i = 0;
	if (i < n && p[i] == '-')
		i++;
	if (i >= n || !isdigitc(p[i]))
		return 0;
	if (p[i] == '0')
		i++;
	else
		while (i < n && isdigitc(p[i]))
			i++;
	if (i < n && p[i] == '.') {
		i++;
		if (i >= n || !isdigitc(p[i]))
			return 0;
		while (i < n && isdigitc(p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || !isdigitc(p[i]))
			return 0;
		while (i < n && isdigitc(p[i]))
			i++;
	}
	if (i < n && (isdigitc(p[i]) || p[i] == '.' || p[i] == 'e' ||
	    p[i] == 'E' || p[i] == '+' || p[i] == '-'))
		return 0;
	return i;
}

/*
 * Where lex() is in the document, for naming the field that holds a bad
 * byte.  Only the first LEX_LEVELS levels are tracked: the known fields
 * are at most that deep (jobs[2].jobdata is at level 3).  Keys are
 * compared as raw bytes: a known key written with escapes ("user\u005fid")
 * is not recognised, and its bad bytes are reported as json_body's.
 */
#define LEX_LEVELS	3

enum lexkey {
	LK_NONE = 0,		/* a key we don't name */
	LK_USER_ID,
	LK_RESUME_TEXT,
	LK_JOBS,
	LK_JOBTITLE,
	LK_JOBDATA,
	LK_JOBLINK,
	LK__MAX
};

static const char *const lexkeys[LK__MAX] = {
	NULL,			/* LK_NONE */
	"user_id",		/* LK_USER_ID */
	"resume_text",		/* LK_RESUME_TEXT */
	"jobs",			/* LK_JOBS */
	"jobtitle",		/* LK_JOBTITLE */
	"jobdata",		/* LK_JOBDATA */
	"joblink",		/* LK_JOBLINK */
};

struct lexpath {
	size_t		 depth;		/* containers open; level 0: none */
	char		 kind[LEX_LEVELS + 1];	/* '{' or '[' per level */
	int		 inkey[LEX_LEVELS + 1];	/* object: next string is
						   a key */
	enum lexkey	 key[LEX_LEVELS + 1];	/* object: its last key */
	size_t		 index[LEX_LEVELS + 1];	/* array: element index */
	size_t		 keystart;	/* offset of the key being read */
	int		 readkey;	/* the open string is a key */
};

static enum lexkey
lexkey_of(const unsigned char *p, size_t n)
{
	int	i;

	for (i = LK_NONE + 1; i < LK__MAX; i++)
		if (strlen(lexkeys[i]) == n && memcmp(lexkeys[i], p, n) == 0)
			return (enum lexkey)i;
	return LK_NONE;
}

/* Account for the structural character c outside strings. */
static void
lexpath_char(struct lexpath *lp, unsigned char c)
{
	size_t	d = lp->depth;

	if (c == '{' || c == '[') {
		lp->depth++;
		if (lp->depth <= LEX_LEVELS) {
			lp->kind[lp->depth] = (char)c;
			lp->inkey[lp->depth] = c == '{';
			lp->key[lp->depth] = LK_NONE;
			lp->index[lp->depth] = 0;
		}
	} else if ((c == '}' || c == ']') && d > 0)
		lp->depth--;
	else if (d >= 1 && d <= LEX_LEVELS && c == ':' &&
	    lp->kind[d] == '{')
		lp->inkey[d] = 0;
	else if (d >= 1 && d <= LEX_LEVELS && c == ',') {
		if (lp->kind[d] == '{')
			lp->inkey[d] = 1;
		else
			lp->index[d]++;
	}
}

/*
 * The name of the field whose string value is open at *lp, as the user
 * knows it ("user_id", "jobs[2].jobdata"), written into name; "json_body"
 * for anything else (a key, a passthrough field, bytes outside strings).
 */
static const char *
lexpath_name(const struct lexpath *lp, int instr, char *name, size_t size)
{
	size_t	d = lp->depth;
	int	job;

	if (!instr || lp->readkey || d < 1 || d > LEX_LEVELS ||
	    lp->kind[d] != '{' || lp->kind[1] != '{')
		return "json_body";
	job = lp->key[d] == LK_JOBTITLE || lp->key[d] == LK_JOBDATA ||
	    lp->key[d] == LK_JOBLINK;
	if (d == 1 && (lp->key[1] == LK_USER_ID ||
	    lp->key[1] == LK_RESUME_TEXT))
		return lexkeys[lp->key[1]];
	if (d == 2 && lp->key[1] == LK_JOBS && job) {
		(void)snprintf(name, size, "jobs.%s", lexkeys[lp->key[2]]);
		return name;
	}
	if (d == 3 && lp->key[1] == LK_JOBS && lp->kind[2] == '[' && job) {
		(void)snprintf(name, size, "jobs[%zu].%s", lp->index[2],
		    lexkeys[lp->key[3]]);
		return name;
	}
	return "json_body";
}

/*
 * The lexical half of RFC 8259, for what json-c's strict tokener lets by
 * (0.16 takes 'single-quoted' keys, NaN, Infinity, 1., 00 and control
 * bytes in strings, and its UTF-8 check admits overlong forms and
 * surrogates): strings hold no control bytes and only well-formed
 * UTF-8; outside strings there are only JSON whitespace, structural
 * characters, the letters of true/false/null, and well-formed numbers.
 * The grammar itself is left to json-c.  Tracking strings is exact for
 * valid JSON; on invalid JSON either pass may be the one that rejects.
 * A byte that is not UTF-8 is reported with the field that holds it
 * (SPEC.md "Request formats"): "jobs[2].jobdata is not valid UTF-8".
 */
static enum req_status
lex(const char *buf, size_t len, size_t base, char *errmsg, size_t errsz)
{
	const unsigned char	*p = (const unsigned char *)buf;
	struct lexpath		 lp;
	char			 name[NAME_MAX_LEN];
	size_t			 i, n;
	int			 instr, esc;

	memset(&lp, 0, sizeof(lp));
	instr = esc = 0;
	i = 0;
	while (i < len) {
		if (p[i] == '\0') {
			seterr(errmsg, errsz,
			    "invalid JSON: NUL byte at byte %zu", base + i);
			return REQ_ERR_JSON;
		}
		if (p[i] >= 0x80 && utf8_len(p + i, len - i) == 0) {
			seterr(errmsg, errsz, "%s is not valid UTF-8 (byte "
			    "%zu of the JSON document)", lexpath_name(&lp,
			    instr, name, sizeof(name)), base + i);
			return REQ_ERR_JSON;
		}
		if (instr) {
			if (p[i] < 0x20) {
				seterr(errmsg, errsz, "invalid JSON: control "
				    "character in a string at byte %zu",
				    base + i);
				return REQ_ERR_JSON;
			}
			if (p[i] >= 0x80) {
				i += utf8_len(p + i, len - i);
				esc = 0;
				continue;
			}
			if (esc)
				esc = 0;
			else if (p[i] == '\\')
				esc = 1;
			else if (p[i] == '"') {
				instr = 0;
				if (lp.readkey && lp.depth <= LEX_LEVELS)
					lp.key[lp.depth] = lexkey_of(
					    p + lp.keystart,
					    i - lp.keystart);
				lp.readkey = 0;
			}
			i++;
			continue;
		}
		if (p[i] == '-' || isdigitc(p[i])) {
			n = numlen(p + i, len - i);
			if (n == 0) {
				seterr(errmsg, errsz, "invalid JSON: bad "
				    "number at byte %zu", base + i);
				return REQ_ERR_JSON;
			}
			i += n;
			continue;
		}
		if (p[i] == '"') {
			instr = 1;
			lp.readkey = lp.depth >= 1 &&
			    lp.depth <= LEX_LEVELS &&
			    lp.kind[lp.depth] == '{' && lp.inkey[lp.depth];
			lp.keystart = i + 1;
		} else if (p[i] >= 0x80 ||
		    strchr(" \t\n\r{}[]:,truefalsn", p[i]) == NULL) {
			seterr(errmsg, errsz, "invalid JSON: unexpected "
			    "character at byte %zu", base + i);
			return REQ_ERR_JSON;
		} else
			lexpath_char(&lp, p[i]);
		i++;
	}
	return REQ_OK;
}

/*
 * Check the tree: arrays and objects nested at most max deep (o is at
 * level depth), and every number finite.  Recursion is bounded by the
 * tokener's depth cap.
 */
static enum req_status
walk(struct json_object *o, int depth, int max, char *errmsg,
    size_t errsz)
{
	enum req_status	 rc;
	size_t		 i, n;
	double		 d;

	switch (json_object_get_type(o)) {
	case json_type_double:
		d = json_object_get_double(o);
		if (!isfinite(d)) {
			seterr(errmsg, errsz, "invalid JSON: numbers must be "
			    "finite (no NaN, Infinity or overflow)");
			return REQ_ERR_JSON;
		}
		return REQ_OK;
	case json_type_array:
	case json_type_object:
		break;
	default:
		return REQ_OK;
	}
	if (depth > max) {
		seterr(errmsg, errsz,
		    "invalid JSON: nested deeper than %d levels", max);
		return REQ_ERR_JSON;
	}
	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			rc = walk(json_object_array_get_idx(o, i), depth + 1,
			    max, errmsg, errsz);
			if (rc != REQ_OK)
				return rc;
		}
		return REQ_OK;
	}
	json_object_object_foreach(o, key, val) {
		(void)key;
		rc = walk(val, depth + 1, max, errmsg, errsz);
		if (rc != REQ_OK)
			return rc;
	}
	return REQ_OK;
}

/* Whether p[0..len) is only JSON whitespace (or empty). */
static int
allspace(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
		    p[i] != '\r')
			return 0;
	return 1;
}

/*
 * Tokenise json[0..len) (base bytes were skipped before it, for the
 * offsets in messages) into *docp, owned by the caller on REQ_OK.
 */
static enum req_status
tokenise(const char *json, size_t len, size_t base, int depth_max,
    struct json_object **docp, char *errmsg, size_t errsz)
{
	struct json_tokener	*tok;
	struct json_object	*doc;
	enum json_tokener_error	 jerr;
	enum req_status		 rc;
	size_t			 end;
	int			 tdepth;

	*docp = NULL;
	if (depth_max < 1) {
		seterr(errmsg, errsz,
		    "invalid JSON: nested deeper than %d levels", depth_max);
		return REQ_ERR_JSON;
	}
	/*
	 * json-c counts a scalar inside the deepest container as one more
	 * level; walk() checks the exact container depth.
	 */
	tdepth = depth_max < INT_MAX ? depth_max + 1 : INT_MAX;
	tok = json_tokener_new_ex(tdepth);
	if (tok == NULL) {
		seterr(errmsg, errsz, "out of memory");
		return REQ_ERR_NOMEM;
	}
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	doc = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (doc == NULL && jerr == json_tokener_continue) {
		/* All bytes used: a NUL marks the end of input. */
		doc = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	rc = REQ_OK;
	/* A NULL doc with success is the JSON null: the caller rejects it. */
	if (doc == NULL && jerr != json_tokener_success) {
		rc = REQ_ERR_JSON;
		if (jerr == json_tokener_error_depth)
			seterr(errmsg, errsz, "invalid JSON: nested deeper "
			    "than %d levels", depth_max);
		else if (jerr == json_tokener_error_parse_eof ||
		    jerr == json_tokener_continue) {
			if (allspace(json, len))
				seterr(errmsg, errsz,
				    "the JSON document is empty");
			else
				seterr(errmsg, errsz, "invalid JSON: the "
				    "document ends early at byte %zu",
				    base + len);
		} else
			seterr(errmsg, errsz, "invalid JSON at byte %zu: %s",
			    base + end, json_tokener_error_desc(jerr));
	} else if (end < len) {
		/* Strict mode rejects this itself; belt and braces. */
		rc = REQ_ERR_JSON;
		seterr(errmsg, errsz, "invalid JSON: unexpected bytes after "
		    "the document at byte %zu", base + end);
	}
	json_tokener_free(tok);
	if (rc != REQ_OK) {
		if (doc != NULL)
			json_object_put(doc);
		return rc;
	}
	*docp = doc;
	return REQ_OK;
}

/*
 * Get the string member key of o into *sp and *lenp.  name is the field
 * as the user knows it ("jobs[2].jobdata").  required: absent, null or
 * "" fails; otherwise absent or null leaves *sp NULL.  cstr: a \u0000
 * in the value fails.
 */
static enum req_status
getstr(struct json_object *o, const char *key, const char *name,
    int required, int cstr, size_t max, const char **sp, size_t *lenp,
    char *errmsg, size_t errsz)
{
	struct json_object	*v;
	const char		*s;
	size_t			 n;

	*sp = NULL;
	*lenp = 0;
	v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		if (!required)
			return REQ_OK;
		seterr(errmsg, errsz, "%s must be a non-empty string", name);
		return REQ_ERR_FIELD;
	}
	if (!json_object_is_type(v, json_type_string)) {
		seterr(errmsg, errsz, "%s must be a %sstring", name,
		    required ? "non-empty " : "");
		return REQ_ERR_FIELD;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (s == NULL) {
		seterr(errmsg, errsz, "out of memory");
		return REQ_ERR_NOMEM;
	}
	if (required && n == 0) {
		seterr(errmsg, errsz, "%s must be a non-empty string", name);
		return REQ_ERR_FIELD;
	}
	if (n > max) {
		seterr(errmsg, errsz, "%s is too long: %zu bytes, at most "
		    "%zu allowed", name, n, max);
		return REQ_ERR_FIELD;
	}
	if (cstr && memchr(s, '\0', n) != NULL) {
		seterr(errmsg, errsz, "%s must not contain \\u0000", name);
		return REQ_ERR_FIELD;
	}
	*sp = s;
	*lenp = n;
	return REQ_OK;
}

/* Validate the job object o, called prefix ("jobs" or "jobs[i]"). */
static enum req_status
getjob(struct json_object *o, const char *prefix,
    const struct req_limits *lim, struct req_job *job, char *errmsg,
    size_t errsz)
{
	enum req_status	 rc;
	char		 name[NAME_MAX_LEN];
	size_t		 n;

	if (!json_object_is_type(o, json_type_object)) {
		seterr(errmsg, errsz, "%s must be a job object with "
		    "jobtitle and jobdata", prefix);
		return REQ_ERR_FIELD;
	}
	job->obj = o;
	(void)snprintf(name, sizeof(name), "%s.jobtitle", prefix);
	rc = getstr(o, "jobtitle", name, 1, 1, lim->field_max, &job->title,
	    &n, errmsg, errsz);
	if (rc != REQ_OK)
		return rc;
	(void)snprintf(name, sizeof(name), "%s.jobdata", prefix);
	rc = getstr(o, "jobdata", name, 1, 0, lim->field_max, &job->data,
	    &job->data_len, errmsg, errsz);
	if (rc != REQ_OK)
		return rc;
	(void)snprintf(name, sizeof(name), "%s.joblink", prefix);
	rc = getstr(o, "joblink", name, 0, 1, lim->field_max, &job->link,
	    &n, errmsg, errsz);
	if (rc != REQ_OK)
		return rc;
	if (job->link == NULL)
		job->link = "";
	return REQ_OK;
}

/* Fill r->jobs from the "jobs" member of r->doc. */
static enum req_status
getjobs(struct req *r, const struct req_limits *lim, char *errmsg,
    size_t errsz)
{
	struct json_object	*v;
	enum req_status		 rc;
	char			 prefix[NAME_MAX_LEN];
	size_t			 i, n;

	v = NULL;
	if (!json_object_object_get_ex(r->doc, "jobs", &v) || v == NULL) {
		seterr(errmsg, errsz, "jobs is required: a job object or an "
		    "array of job objects");
		return REQ_ERR_FIELD;
	}
	if (json_object_is_type(v, json_type_object)) {
		if (lim->jobs_max < 1) {
			seterr(errmsg, errsz, "too many jobs: 1, at most %zu "
			    "allowed", lim->jobs_max);
			return REQ_ERR_TOO_MANY_JOBS;
		}
		r->jobs = calloc(1, sizeof(*r->jobs));
		if (r->jobs == NULL) {
			seterr(errmsg, errsz, "out of memory");
			return REQ_ERR_NOMEM;
		}
		r->njobs = 1;
		return getjob(v, "jobs", lim, &r->jobs[0], errmsg, errsz);
	}
	if (!json_object_is_type(v, json_type_array)) {
		seterr(errmsg, errsz, "jobs must be a job object or an array "
		    "of job objects");
		return REQ_ERR_FIELD;
	}
	n = json_object_array_length(v);
	if (n == 0) {
		seterr(errmsg, errsz, "jobs must not be empty");
		return REQ_ERR_FIELD;
	}
	if (n > lim->jobs_max) {
		seterr(errmsg, errsz, "too many jobs: %zu, at most %zu "
		    "allowed", n, lim->jobs_max);
		return REQ_ERR_TOO_MANY_JOBS;
	}
	r->jobs = calloc(n, sizeof(*r->jobs));
	if (r->jobs == NULL) {
		seterr(errmsg, errsz, "out of memory");
		return REQ_ERR_NOMEM;
	}
	r->njobs = n;
	for (i = 0; i < n; i++) {
		(void)snprintf(prefix, sizeof(prefix), "jobs[%zu]", i);
		rc = getjob(json_object_array_get_idx(v, i), prefix, lim,
		    &r->jobs[i], errmsg, errsz);
		if (rc != REQ_OK)
			return rc;
	}
	return REQ_OK;
}

enum req_status
req_parse(const char *json, size_t len, const struct req_limits *lim,
    struct req *out, char *errmsg, size_t errsz)
{
	struct req_limits	 deflim;
	enum req_status		 rc;
	size_t			 base, n;

	memset(out, 0, sizeof(*out));
	if (errmsg != NULL && errsz > 0)
		errmsg[0] = '\0';
	if (lim == NULL) {
		req_limits_default(&deflim);
		lim = &deflim;
	}
	if (len > lim->json_max || len > INT_MAX) {
		seterr(errmsg, errsz, "the JSON document is too large: %zu "
		    "bytes, at most %zu allowed", len, lim->json_max);
		return REQ_ERR_TOO_BIG;
	}
	if (json == NULL) {
		json = "";
		len = 0;
	}
	base = 0;
	if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0)
		base = 3;
	json += base;
	len -= base;

	rc = lex(json, len, base, errmsg, errsz);
	if (rc != REQ_OK)
		goto err;
	rc = tokenise(json, len, base, lim->depth_max, &out->doc, errmsg,
	    errsz);
	if (rc != REQ_OK)
		goto err;
	if (!json_object_is_type(out->doc, json_type_object)) {
		seterr(errmsg, errsz, "the JSON document must be an object "
		    "with user_id and jobs");
		rc = REQ_ERR_FIELD;
		goto err;
	}
	rc = walk(out->doc, 1, lim->depth_max, errmsg, errsz);
	if (rc != REQ_OK)
		goto err;

	rc = getstr(out->doc, "user_id", "user_id", 1, 1, lim->user_id_max,
	    &out->user_id, &n, errmsg, errsz);
	if (rc != REQ_OK)
		goto err;
	rc = getjobs(out, lim, errmsg, errsz);
	if (rc != REQ_OK)
		goto err;
	rc = getstr(out->doc, "resume_text", "resume_text", 0, 0,
	    lim->field_max, &out->resume_text, &out->resume_len, errmsg,
	    errsz);
	if (rc != REQ_OK)
		goto err;
	return REQ_OK;
err:
	req_free(out);
	return rc;
}
