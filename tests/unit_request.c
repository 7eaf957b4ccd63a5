/*
 * unit_request.c - TAP unit tests for the request validator (request.c).
 *
 * Every input is copied flush against a PROT_NONE page, so a read one
 * byte past the buffer faults even without a sanitizer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "bounds.h"
#include "request.h"
#include "tap.h"

/* The SPEC's reference request, byte for byte. */
#define SPEC_DOC "{\"user_id\":\"test\",\"jobs\":{" \
	"\"jobtitle\":\"Developer\",\"joblink\":\"https://example.com\"," \
	"\"jobdata\":\"Job description...\"}}"

#define ARRAY_DOC "{\"user_id\":\"u1\",\"jobs\":[" \
	"{\"jobtitle\":\"A\",\"jobdata\":\"da\",\"jobid\":\"j-1\"}," \
	"{\"jobtitle\":\"B\",\"joblink\":null,\"jobdata\":\"db\"," \
	"\"jobid\":42," \
	"\"tags\":[\"x\",{\"y\":1.5}]}]," \
	"\"resume_text\":\"I write C.\"}"

struct guard {
	char	*map;		/* the mapping, data pages + guard page */
	size_t	 maplen;
	char	*p;		/* the copy, ending at the guard page */
};

static void
guard_make(struct guard *g, const char *s, size_t len)
{
	size_t	pg, data;

	pg = (size_t)sysconf(_SC_PAGESIZE);
	data = (len + pg - 1) / pg * pg;
	if (data == 0)
		data = pg;
	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	if (mprotect(g->map + data, pg, PROT_NONE) != 0) {
		perror("mprotect");
		exit(2);
	}
	g->p = g->map + data - len;
	if (len > 0)
		memcpy(g->p, s, len);
}

static void
guard_free(struct guard *g)
{
	munmap(g->map, g->maplen);
}

static char errmsg[512];

/* Parse s[0..len) from a guarded copy. */
static enum req_status
parsen(const char *s, size_t len, const struct req_limits *lim,
    struct req *r)
{
	struct guard	 g;
	enum req_status	 rc;

	memset(errmsg, 'X', sizeof(errmsg));
	errmsg[sizeof(errmsg) - 1] = '\0';
	if (s == NULL)
		return req_parse(NULL, len, lim, r, errmsg, sizeof(errmsg));
	guard_make(&g, s, len);
	rc = req_parse(g.p, len, lim, r, errmsg, sizeof(errmsg));
	guard_free(&g);
	return rc;
}

static enum req_status
parse(const char *s, const struct req_limits *lim, struct req *r)
{
	return parsen(s, strlen(s), lim, r);
}

static int
zeroed(const struct req *r)
{
	return r->doc == NULL && r->jobs == NULL && r->njobs == 0 &&
	    r->user_id == NULL && r->resume_text == NULL &&
	    r->resume_len == 0;
}

/*
 * Expect status want, a message containing each of need and need2 (NULL:
 * skip), and *out left empty.
 */
static void
expect(const char *label, const char *doc, size_t len,
    const struct req_limits *lim, enum req_status want, const char *need,
    const char *need2)
{
	struct req	 r;
	enum req_status	 rc;

	rc = parsen(doc, len, lim, &r);
	ok(rc == want, "%s: status %s (got %s: %s)", label,
	    req_strerror(want), req_strerror(rc), errmsg);
	if (want == REQ_OK) {
		req_free(&r);
		return;
	}
	ok(zeroed(&r), "%s: result left empty", label);
	ok(strlen(errmsg) > 0 && strchr(errmsg, 'X') == NULL,
	    "%s: message set: %s", label, errmsg);
	if (need != NULL)
		ok(strstr(errmsg, need) != NULL, "%s: message names \"%s\"",
		    label, need);
	if (need2 != NULL)
		ok(strstr(errmsg, need2) != NULL, "%s: message names \"%s\"",
		    label, need2);
	req_free(&r);
}

static void
expects(const char *label, const char *doc, const struct req_limits *lim,
    enum req_status want, const char *need, const char *need2)
{
	expect(label, doc, strlen(doc), lim, want, need, need2);
}

static void
must(enum buf_status st)
{
	if (st != BUF_OK) {
		fprintf(stderr, "buf: %d\n", (int)st);
		exit(2);
	}
}

/* A document with n jobs in an array. */
static void
ndocs(struct buf *b, size_t n)
{
	size_t	i;

	buf_reset(b);
	must(buf_adds(b, "{\"user_id\":\"u\",\"jobs\":["));
	for (i = 0; i < n; i++)
		must(buf_printf(b, "%s{\"jobtitle\":\"t%zu\",\"jobdata\":"
		    "\"d\",\"jobid\":%zu}", i ? "," : "", i, i));
	must(buf_adds(b, "]}"));
}

/* A one-job document whose field key has n bytes of 'a' as its value. */
static void
fielddoc(struct buf *b, const char *key, size_t n)
{
	size_t	i;

	buf_reset(b);
	must(buf_adds(b, "{\"user_id\":\"u\",\"jobs\":{"));
	if (strcmp(key, "jobtitle") != 0)
		must(buf_adds(b, "\"jobtitle\":\"t\","));
	if (strcmp(key, "jobdata") != 0)
		must(buf_adds(b, "\"jobdata\":\"d\","));
	must(buf_printf(b, "\"%s\":\"", key));
	for (i = 0; i < n; i++)
		must(buf_add(b, "a", 1));
	must(buf_adds(b, "\"}}"));
}

/* A document with a passthrough field nested n arrays deep in a job. */
static void
deepdoc(struct buf *b, size_t n, int scalar)
{
	size_t	i;

	buf_reset(b);
	must(buf_adds(b, "{\"user_id\":\"u\",\"jobs\":[{\"jobtitle\":\"t\","
	    "\"jobdata\":\"d\",\"x\":"));
	for (i = 0; i < n; i++)
		must(buf_add(b, "[", 1));
	if (scalar)
		must(buf_add(b, "1", 1));
	for (i = 0; i < n; i++)
		must(buf_add(b, "]", 1));
	must(buf_adds(b, "}]}"));
}

static void
test_spec(void)
{
	struct req	 r;
	enum req_status	 rc;

	rc = parse(SPEC_DOC, NULL, &r);
	ok(rc == REQ_OK, "spec example parses (%s)", errmsg);
	ok(errmsg[0] == '\0', "spec example: errmsg empty on success");
	ok(r.user_id != NULL && strcmp(r.user_id, "test") == 0,
	    "spec example: user_id");
	ok(r.njobs == 1 && r.jobs != NULL, "spec example: one job");
	if (r.njobs == 1 && r.jobs != NULL) {
		ok(strcmp(r.jobs[0].title, "Developer") == 0,
		    "spec example: jobtitle");
		ok(strcmp(r.jobs[0].link, "https://example.com") == 0,
		    "spec example: joblink");
		ok(r.jobs[0].data_len == strlen("Job description...") &&
		    memcmp(r.jobs[0].data, "Job description...",
		    r.jobs[0].data_len) == 0, "spec example: jobdata");
		ok(r.jobs[0].obj != NULL &&
		    json_object_is_type(r.jobs[0].obj, json_type_object) &&
		    json_object_object_get_ex(r.jobs[0].obj, "jobtitle",
		    NULL), "spec example: obj is the job object");
	}
	ok(r.resume_text == NULL && r.resume_len == 0,
	    "spec example: no resume_text");
	req_free(&r);
	ok(zeroed(&r), "req_free leaves a zeroed struct");
	req_free(&r);
	ok(zeroed(&r), "req_free twice is safe");
	req_free(NULL);	/* must return without touching anything */
	ok(zeroed(&r), "req_free(NULL) returns and leaves others alone");

	/* Default limits by hand equal lim == NULL. */
	{
		struct req_limits lim;

		req_limits_default(&lim);
		ok(lim.json_max == MJ_JSON_MAX &&
		    lim.depth_max == MJ_JSON_DEPTH_MAX &&
		    lim.jobs_max == MJ_JOBS_MAX_DEFAULT &&
		    lim.user_id_max == MJ_USER_ID_MAX &&
		    lim.field_max == MJ_MP_FIELD_MAX,
		    "req_limits_default uses limits.h");
		rc = parse(SPEC_DOC, &lim, &r);
		ok(rc == REQ_OK, "spec example with explicit defaults");
		req_free(&r);
	}
}

static void
test_array(void)
{
	struct req		 r;
	struct json_object	*v;
	enum req_status		 rc;

	rc = parse(ARRAY_DOC, NULL, &r);
	ok(rc == REQ_OK, "array form parses (%s)", errmsg);
	if (rc != REQ_OK)
		return;
	ok(r.njobs == 2, "array form: two jobs");
	ok(strcmp(r.jobs[0].title, "A") == 0 &&
	    strcmp(r.jobs[1].title, "B") == 0, "array form: titles in order");
	ok(strcmp(r.jobs[0].link, "") == 0, "absent joblink is \"\"");
	ok(strcmp(r.jobs[1].link, "") == 0, "null joblink is \"\"");
	ok(r.jobs[1].data_len == 2 && memcmp(r.jobs[1].data, "db", 2) == 0,
	    "array form: jobdata of job 1");
	v = NULL;
	ok(json_object_object_get_ex(r.jobs[0].obj, "jobid", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "j-1") == 0,
	    "passthrough jobid (string) reachable via obj");
	v = NULL;
	ok(json_object_object_get_ex(r.jobs[1].obj, "jobid", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int(v) == 42,
	    "passthrough jobid (number) reachable via obj");
	v = NULL;
	ok(json_object_object_get_ex(r.jobs[1].obj, "tags", &v) &&
	    json_object_array_length(v) == 2,
	    "passthrough nested field kept");
	ok(r.resume_text != NULL && r.resume_len == 10 &&
	    memcmp(r.resume_text, "I write C.", 10) == 0, "resume_text");
	req_free(&r);

	rc = parse("{\"user_id\":\"u\",\"jobs\":[{\"jobtitle\":\"t\","
	    "\"jobdata\":\"d\"}],\"resume_text\":\"\"}", NULL, &r);
	ok(rc == REQ_OK && r.resume_text != NULL && r.resume_len == 0,
	    "empty resume_text is kept as empty");
	req_free(&r);
	rc = parse("{\"user_id\":\"u\",\"jobs\":[{\"jobtitle\":\"t\","
	    "\"jobdata\":\"d\"}],\"resume_text\":null}", NULL, &r);
	ok(rc == REQ_OK && r.resume_text == NULL,
	    "null resume_text is absent");
	req_free(&r);
	rc = parse("{\"user_id\":\"u\",\"user_id\":\"v\",\"jobs\":"
	    "{\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL, &r);
	ok(rc == REQ_OK && strcmp(r.user_id, "v") == 0,
	    "repeated key: the last one wins");
	req_free(&r);
	rc = parse("\xef\xbb\xbf" SPEC_DOC " \r\n\t", NULL, &r);
	ok(rc == REQ_OK, "leading BOM and trailing whitespace accepted");
	req_free(&r);
}

static void
test_fields(void)
{
	/* user_id */
	expects("no user_id", "{\"jobs\":{\"jobtitle\":\"t\",\"jobdata\":"
	    "\"d\"}}", NULL, REQ_ERR_FIELD,
	    "user_id must be a non-empty string", NULL);
	expects("empty user_id", "{\"user_id\":\"\",\"jobs\":{\"jobtitle\":"
	    "\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_FIELD, "user_id",
	    NULL);
	expects("numeric user_id", "{\"user_id\":5,\"jobs\":{\"jobtitle\":"
	    "\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_FIELD, "user_id",
	    NULL);
	expects("null user_id", "{\"user_id\":null,\"jobs\":{\"jobtitle\":"
	    "\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_FIELD, "user_id",
	    NULL);
	expects("\\u0000 in user_id", "{\"user_id\":\"a\\u0000b\",\"jobs\":"
	    "{\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_FIELD,
	    "user_id", "\\u0000");

	/* jobs */
	expects("no jobs", "{\"user_id\":\"u\"}", NULL, REQ_ERR_FIELD,
	    "jobs", NULL);
	expects("null jobs", "{\"user_id\":\"u\",\"jobs\":null}", NULL,
	    REQ_ERR_FIELD, "jobs", NULL);
	expects("string jobs", "{\"user_id\":\"u\",\"jobs\":\"x\"}", NULL,
	    REQ_ERR_FIELD, "jobs must be", NULL);
	expects("empty jobs", "{\"user_id\":\"u\",\"jobs\":[]}", NULL,
	    REQ_ERR_FIELD, "jobs must not be empty", NULL);
	expects("job not an object", "{\"user_id\":\"u\",\"jobs\":[{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\"},7]}", NULL, REQ_ERR_FIELD,
	    "jobs[1] must be", NULL);
	expects("job is an array", "{\"user_id\":\"u\",\"jobs\":[[]]}",
	    NULL, REQ_ERR_FIELD, "jobs[0] must be", NULL);

	/* jobtitle */
	expects("no jobtitle (single)", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobdata\":\"d\"}}", NULL, REQ_ERR_FIELD,
	    "jobs.jobtitle must be a non-empty string", NULL);
	expects("empty jobtitle", "{\"user_id\":\"u\",\"jobs\":[{"
	    "\"jobtitle\":\"\",\"jobdata\":\"d\"}]}", NULL, REQ_ERR_FIELD,
	    "jobs[0].jobtitle", NULL);
	expects("numeric jobtitle", "{\"user_id\":\"u\",\"jobs\":[{"
	    "\"jobtitle\":1,\"jobdata\":\"d\"}]}", NULL, REQ_ERR_FIELD,
	    "jobs[0].jobtitle", NULL);
	expects("\\u0000 in jobtitle", "{\"user_id\":\"u\",\"jobs\":[{"
	    "\"jobtitle\":\"De\\u0000v\",\"jobdata\":\"d\"}]}", NULL,
	    REQ_ERR_FIELD, "jobs[0].jobtitle", "\\u0000");

	/* jobdata */
	expects("no jobdata in jobs[2]", "{\"user_id\":\"u\",\"jobs\":["
	    "{\"jobtitle\":\"t\",\"jobdata\":\"d\"},"
	    "{\"jobtitle\":\"t\",\"jobdata\":\"d\"},"
	    "{\"jobtitle\":\"t\"}]}", NULL, REQ_ERR_FIELD,
	    "jobs[2].jobdata must be a non-empty string", NULL);
	expects("empty jobdata", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"\"}}", NULL, REQ_ERR_FIELD,
	    "jobs.jobdata", NULL);
	expects("object jobdata", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":{}}}", NULL, REQ_ERR_FIELD,
	    "jobs.jobdata", NULL);

	/* joblink */
	expects("numeric joblink", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"joblink\":3}}", NULL,
	    REQ_ERR_FIELD, "jobs.joblink must be a string", NULL);
	expects("\\u0000 in joblink", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"joblink\":\"a\\u0000\"}}",
	    NULL, REQ_ERR_FIELD, "jobs.joblink", "\\u0000");

	/* resume_text */
	expects("numeric resume_text", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\"},\"resume_text\":[]}", NULL,
	    REQ_ERR_FIELD, "resume_text must be a string", NULL);

	/* Top level. */
	expects("top-level array", "[" SPEC_DOC "]", NULL, REQ_ERR_FIELD,
	    "must be an object", NULL);
	expects("top-level string", "\"x\"", NULL, REQ_ERR_FIELD,
	    "must be an object", NULL);
	expects("top-level number", "12", NULL, REQ_ERR_FIELD,
	    "must be an object", NULL);
	expects("top-level null", "null", NULL, REQ_ERR_FIELD,
	    "must be an object", NULL);
}

static void
test_nul_values(void)
{
	struct req	 r;
	enum req_status	 rc;

	rc = parse("{\"user_id\":\"u\",\"jobs\":{\"jobtitle\":\"t\","
	    "\"jobdata\":\"a\\u0000b\"},\"resume_text\":\"x\\u0000\"}", NULL,
	    &r);
	ok(rc == REQ_OK, "\\u0000 allowed in jobdata and resume_text");
	if (rc == REQ_OK) {
		ok(r.jobs[0].data_len == 3 &&
		    memcmp(r.jobs[0].data, "a\0b", 3) == 0,
		    "jobdata keeps its length past \\u0000");
		ok(r.resume_len == 2 && memcmp(r.resume_text, "x\0", 2) == 0,
		    "resume_text keeps its length past \\u0000");
	}
	req_free(&r);
}

static void
test_unicode(void)
{
	struct req	 r;
	enum req_status	 rc;
	const char	*want = "D\xc3\xa9veloppeur \xe6\x97\xa5\xe6\x9c\xac "
	    "\xf0\x9f\x98\x80";

	rc = parse("{\"user_id\":\"\xc3\xbc\",\"jobs\":{\"jobtitle\":"
	    "\"D\xc3\xa9veloppeur \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\","
	    "\"jobdata\":\"D\\u00e9veloppeur \\u65e5\\u672c \\ud83d\\ude00\","
	    "\"joblink\":\"\\ud800\"}}", NULL, &r);
	ok(rc == REQ_OK, "unicode fields parse (%s)", errmsg);
	if (rc == REQ_OK) {
		ok(strcmp(r.user_id, "\xc3\xbc") == 0, "raw UTF-8 user_id");
		ok(strcmp(r.jobs[0].title, want) == 0, "raw UTF-8 jobtitle");
		ok(r.jobs[0].data_len == strlen(want) &&
		    memcmp(r.jobs[0].data, want, strlen(want)) == 0,
		    "escaped jobdata, surrogate pair, decodes to UTF-8");
		ok(strcmp(r.jobs[0].link, "\xef\xbf\xbd") == 0,
		    "lone surrogate becomes U+FFFD");
	}
	req_free(&r);

	expects("invalid UTF-8", "{\"user_id\":\"\xff\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_JSON,
	    "UTF-8", NULL);
	expects("UTF-8 surrogate", "{\"user_id\":\"\xed\xa0\x80\",\"jobs\":"
	    "{\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_JSON,
	    "UTF-8", NULL);
	expects("UTF-8 above U+10FFFF", "{\"user_id\":\"\xf4\x90\x80\x80\","
	    "\"jobs\":{\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL,
	    REQ_ERR_JSON, "UTF-8", NULL);
	expects("lone continuation byte", "{\"user_id\":\"\x80\",\"jobs\":"
	    "{\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_JSON,
	    "UTF-8", NULL);
	expects("non-ASCII outside a string", "{\"user_id\":\"u\"\xc3\xa9}",
	    NULL, REQ_ERR_JSON, "unexpected", NULL);
	expects("overlong UTF-8", "{\"user_id\":\"\xc0\xaf\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_JSON,
	    NULL, NULL);
	expects("truncated UTF-8", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"\xe6\x97\",\"jobdata\":\"d\"}}", NULL,
	    REQ_ERR_JSON, NULL, NULL);

	/* A bad byte is reported with the field that holds it (SPEC). */
	expects("Latin-1 user_id names user_id", "{\"user_id\":\"Jos\xe9\","
	    "\"jobs\":{\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL,
	    REQ_ERR_JSON, "user_id is not valid UTF-8", NULL);
	expects("Latin-1 resume_text names resume_text", "{\"user_id\":\"u\","
	    "\"jobs\":{\"jobtitle\":\"t\",\"jobdata\":\"d\"},"
	    "\"resume_text\":\"caf\xe9\"}", NULL, REQ_ERR_JSON,
	    "resume_text is not valid UTF-8", NULL);
	expects("bad byte in a one-job object names jobs.jobdata",
	    "{\"user_id\":\"u\",\"jobs\":{\"jobtitle\":\"t\","
	    "\"jobdata\":\"d\xff\"}}", NULL, REQ_ERR_JSON,
	    "jobs.jobdata is not valid UTF-8", NULL);
	expects("bad byte in jobs[2].jobdata names it", "{\"user_id\":\"u\","
	    "\"jobs\":[{\"jobtitle\":\"a\",\"jobdata\":\"d\"},"
	    "{\"jobtitle\":\"b\",\"jobdata\":\"d\",\"x\":[1,{\"y\":2}]},"
	    "{\"jobdata\":\"\xc0\xaf\",\"jobtitle\":\"c\"}]}", NULL,
	    REQ_ERR_JSON, "jobs[2].jobdata is not valid UTF-8", NULL);
	expects("bad byte in jobs[1].joblink after a nested object",
	    "{\"user_id\":\"u\",\"jobs\":[{\"jobtitle\":\"a\","
	    "\"jobdata\":\"d\",\"o\":{\"jobdata\":\"k\"}},{\"jobtitle\":"
	    "\"t\",\"joblink\":\"\xfe\",\"jobdata\":\"d\"}]}", NULL,
	    REQ_ERR_JSON, "jobs[1].joblink is not valid UTF-8", NULL);
	expects("bad byte in a key names json_body", "{\"user_id\":\"u\","
	    "\"jobs\":{\"jobtitle\":\"t\",\"jobdata\":\"d\"},"
	    "\"k\xe9y\":1}", NULL, REQ_ERR_JSON,
	    "json_body is not valid UTF-8", NULL);
	expects("bad byte in a passthrough field names json_body",
	    "{\"user_id\":\"u\",\"jobs\":{\"jobtitle\":\"t\","
	    "\"jobdata\":\"d\",\"jobid\":\"\xe9\"}}", NULL, REQ_ERR_JSON,
	    "json_body is not valid UTF-8", NULL);
	expects("bad byte outside strings names json_body",
	    "{\"user_id\":\"u\"\xe9}", NULL, REQ_ERR_JSON,
	    "json_body is not valid UTF-8", NULL);
	expects("nested user_id is not the top-level one", "{\"jobs\":"
	    "{\"user_id\":\"\xe9\"}}", NULL, REQ_ERR_JSON,
	    "json_body is not valid UTF-8", NULL);
}

static void
test_syntax(void)
{
	struct buf	 b;
	size_t		 i;
	static const char nuldoc[] = "{\"user_id\":\"u\0\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\"}}";

	expects("empty buffer", "", NULL, REQ_ERR_JSON, "empty", NULL);
	expects("whitespace only", " \n ", NULL, REQ_ERR_JSON, "empty",
	    NULL);
	expect("NULL buffer", NULL, 0, NULL, REQ_ERR_JSON, "empty", NULL);
	expects("trailing garbage", SPEC_DOC "x", NULL, REQ_ERR_JSON,
	    "byte", NULL);
	expects("trailing garbage after space", SPEC_DOC " x", NULL,
	    REQ_ERR_JSON, NULL, NULL);
	expects("two documents", SPEC_DOC SPEC_DOC, NULL, REQ_ERR_JSON,
	    NULL, NULL);
	expect("raw NUL byte in the buffer", nuldoc, sizeof(nuldoc) - 1,
	    NULL, REQ_ERR_JSON, "NUL", NULL);
	expect("NUL after the document", SPEC_DOC "\0", sizeof(SPEC_DOC),
	    NULL, REQ_ERR_JSON, "NUL", NULL);
	expects("raw newline in a string", "{\"user_id\":\"a\nb\",\"jobs\":"
	    "{\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_JSON,
	    "control", NULL);
	expects("raw tab in a string", "{\"user_id\":\"a\tb\",\"jobs\":"
	    "{\"jobtitle\":\"t\",\"jobdata\":\"d\"}}", NULL, REQ_ERR_JSON,
	    "control", NULL);
	expects("form feed between tokens", "{\f\"user_id\":\"u\"}", NULL,
	    REQ_ERR_JSON, "unexpected", NULL);
	expects("trailing comma", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",}}", NULL, REQ_ERR_JSON,
	    "byte", NULL);
	expects("single quotes", "{'user_id':\"u\"}", NULL, REQ_ERR_JSON,
	    NULL, NULL);
	expects("comment", "{/* c */\"user_id\":\"u\"}", NULL, REQ_ERR_JSON,
	    NULL, NULL);
	expects("NaN passthrough", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"jobid\":NaN}}", NULL,
	    REQ_ERR_JSON, "byte", NULL);
	expects("-Infinity passthrough", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":[-Infinity]}}", NULL,
	    REQ_ERR_JSON, "number", NULL);
	expects("Infinity passthrough", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":Infinity}}", NULL,
	    REQ_ERR_JSON, NULL, NULL);
	expects("number 1.", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":1.}}", NULL,
	    REQ_ERR_JSON, "number", NULL);
	expects("number 00", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":00}}", NULL,
	    REQ_ERR_JSON, "number", NULL);
	expects("number -01", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":-01}}", NULL,
	    REQ_ERR_JSON, "number", NULL);
	expects("number +1", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":+1}}", NULL,
	    REQ_ERR_JSON, NULL, NULL);
	expects("number 1e", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":1e}}", NULL,
	    REQ_ERR_JSON, "number", NULL);
	expects("valid numbers", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":[0,-0,10,-1.5,"
	    "2e3,2E+3,2.5e-3,0.0,true,false,null]}}", NULL, REQ_OK, NULL,
	    NULL);
	expects("1e999 passthrough", "{\"user_id\":\"u\",\"jobs\":{"
	    "\"jobtitle\":\"t\",\"jobdata\":\"d\",\"x\":1e999}}", NULL,
	    REQ_ERR_JSON, "finite", NULL);
	expects("escaped quote and backslash in strings", "{\"user_id\":"
	    "\"a\\\"\\\\\",\"jobs\":{\"jobtitle\":\"t\\\"\",\"jobdata\":"
	    "\"\\\\\"}}", NULL, REQ_OK, NULL, NULL);

	/* Depth bombs: unclosed and closed. */
	buf_init(&b, 1u << 20);
	for (i = 0; i < 10000; i++)
		must(buf_add(&b, "[", 1));
	expect("depth bomb [[[[... 10000 deep", b.data, b.len, NULL,
	    REQ_ERR_JSON, "deeper than 32", NULL);
	for (i = 0; i < 10000; i++)
		must(buf_add(&b, "]", 1));
	expect("closed depth bomb 10000 deep", b.data, b.len, NULL,
	    REQ_ERR_JSON, "deeper", NULL);
	buf_reset(&b);
	must(buf_adds(&b, "{\"user_id\":\"u\",\"jobs\":{\"jobtitle\":\"t\","
	    "\"jobdata\":\"d\",\"x\":"));
	for (i = 0; i < 10000; i++)
		must(buf_add(&b, "{\"a\":", 5));
	expect("object depth bomb in a job", b.data, b.len, NULL,
	    REQ_ERR_JSON, "deeper", NULL);
	buf_free(&b);
}

/* Every proper prefix of doc fails cleanly. */
static void
prefixes(const char *label, const char *doc)
{
	struct req	 r;
	enum req_status	 rc;
	size_t		 i, len, bad;

	len = strlen(doc);
	bad = 0;
	for (i = 0; i < len; i++) {
		rc = parsen(doc, i, NULL, &r);
		if (rc == REQ_OK || !zeroed(&r) || errmsg[0] == '\0' ||
		    strchr(errmsg, 'X') != NULL) {
			if (bad == 0)
				printf("# %s: prefix %zu: %s (%s)\n", label,
				    i, req_strerror(rc), errmsg);
			bad++;
		}
		req_free(&r);
	}
	ok(bad == 0, "%s: all %zu proper prefixes fail cleanly", label, len);
	rc = parsen(doc, len, NULL, &r);
	ok(rc == REQ_OK, "%s: the whole document parses", label);
	req_free(&r);
}

static void
test_limits(void)
{
	struct req_limits	 lim;
	struct buf		 b;
	char			 num[32];
	size_t			 len;
	const char		*keys[] = { "jobtitle", "jobdata", "joblink",
	    "resume_text" };
	size_t			 k, i;

	buf_init(&b, 64u * 1024 * 1024);

	/* jobs_max, small and default. */
	req_limits_default(&lim);
	lim.jobs_max = 3;
	ndocs(&b, 3);
	expect("exactly jobs_max=3 jobs", b.data, b.len, &lim, REQ_OK,
	    NULL, NULL);
	ndocs(&b, 4);
	expect("jobs_max+1 jobs", b.data, b.len, &lim, REQ_ERR_TOO_MANY_JOBS,
	    "at most 3", "jobs");
	lim.jobs_max = 0;
	expects("jobs_max 0, single job", SPEC_DOC, &lim,
	    REQ_ERR_TOO_MANY_JOBS, "at most 0", NULL);
	ndocs(&b, MJ_JOBS_MAX_DEFAULT);
	expect("exactly the default jobs_max", b.data, b.len, NULL, REQ_OK,
	    NULL, NULL);
	{
		struct req	 r;
		enum req_status	 rc;

		rc = parsen(b.data, b.len, NULL, &r);
		ok(rc == REQ_OK && r.njobs == MJ_JOBS_MAX_DEFAULT &&
		    strcmp(r.jobs[MJ_JOBS_MAX_DEFAULT - 1].title, "t49") == 0,
		    "all %d jobs in order", MJ_JOBS_MAX_DEFAULT);
		req_free(&r);
	}
	ndocs(&b, MJ_JOBS_MAX_DEFAULT + 1);
	(void)snprintf(num, sizeof(num), "at most %d", MJ_JOBS_MAX_DEFAULT);
	expect("default jobs_max+1", b.data, b.len, NULL,
	    REQ_ERR_TOO_MANY_JOBS, num, NULL);

	/* json_max. */
	req_limits_default(&lim);
	len = strlen(SPEC_DOC);
	lim.json_max = len;
	expects("document of exactly json_max bytes", SPEC_DOC, &lim,
	    REQ_OK, NULL, NULL);
	lim.json_max = len - 1;
	(void)snprintf(num, sizeof(num), "at most %zu", len - 1);
	expects("document json_max+1 bytes", SPEC_DOC, &lim,
	    REQ_ERR_TOO_BIG, num, NULL);
	fielddoc(&b, "jobdata", MJ_JSON_MAX);
	expect("default json_max exceeded", b.data, b.len, NULL,
	    REQ_ERR_TOO_BIG, "too large", NULL);

	/* depth_max: container nesting, empty and non-empty innermost. */
	req_limits_default(&lim);
	lim.depth_max = 3;
	expects("depth_max 3: ARRAY_DOC has 5 levels", ARRAY_DOC, &lim,
	    REQ_ERR_JSON, "deeper than 3", NULL);
	ndocs(&b, 2);
	expect("depth_max 3: plain array form", b.data, b.len, &lim, REQ_OK,
	    NULL, NULL);
	lim.depth_max = 2;
	expect("depth_max 2: plain array form", b.data, b.len, &lim,
	    REQ_ERR_JSON, "deeper than 2", NULL);
	expects("depth_max 2: single object form", SPEC_DOC, &lim, REQ_OK,
	    NULL, NULL);
	lim.depth_max = 1;
	expects("depth_max 1: single object form", SPEC_DOC, &lim,
	    REQ_ERR_JSON, "deeper than 1", NULL);
	lim.depth_max = 0;
	expects("depth_max 0", SPEC_DOC, &lim, REQ_ERR_JSON, "deeper",
	    NULL);
	for (i = 0; i < 2; i++) {
		req_limits_default(&lim);
		/* document 1 + jobs 1 + job 1 + n arrays */
		deepdoc(&b, MJ_JSON_DEPTH_MAX - 3, (int)i);
		expect(i ? "default depth exactly, scalar innermost" :
		    "default depth exactly, empty innermost", b.data, b.len,
		    NULL, REQ_OK, NULL, NULL);
		deepdoc(&b, MJ_JSON_DEPTH_MAX - 2, (int)i);
		expect(i ? "default depth + 1, scalar innermost" :
		    "default depth + 1, empty innermost", b.data, b.len,
		    NULL, REQ_ERR_JSON, "deeper than 32", NULL);
		lim.depth_max = 5;
		deepdoc(&b, 2, (int)i);
		expect("depth_max 5, exactly", b.data, b.len, &lim, REQ_OK,
		    NULL, NULL);
		deepdoc(&b, 3, (int)i);
		expect("depth_max 5, one over", b.data, b.len, &lim,
		    REQ_ERR_JSON, "deeper than 5", NULL);
	}

	/* user_id_max. */
	buf_reset(&b);
	must(buf_adds(&b, "{\"jobs\":{\"jobtitle\":\"t\",\"jobdata\":\"d\"},"
	    "\"user_id\":\""));
	for (i = 0; i < MJ_USER_ID_MAX; i++)
		must(buf_add(&b, "u", 1));
	must(buf_adds(&b, "\"}"));
	expect("user_id of exactly MJ_USER_ID_MAX bytes", b.data, b.len,
	    NULL, REQ_OK, NULL, NULL);
	b.len -= 2;
	must(buf_adds(&b, "u\"}"));
	(void)snprintf(num, sizeof(num), "at most %d", MJ_USER_ID_MAX);
	expect("user_id one byte over", b.data, b.len, NULL, REQ_ERR_FIELD,
	    "user_id", num);
	/* A multi-byte character counts in bytes. */
	req_limits_default(&lim);
	lim.user_id_max = 4;
	expects("user_id 4 bytes in 2 characters", "{\"user_id\":"
	    "\"\xc3\xbc\xc3\xbc\",\"jobs\":{\"jobtitle\":\"t\",\"jobdata\":"
	    "\"d\"}}", &lim, REQ_OK, NULL, NULL);
	expects("user_id 5 bytes in 3 characters", "{\"user_id\":"
	    "\"\xc3\xbc\xc3\xbc\x61\",\"jobs\":{\"jobtitle\":\"t\","
	    "\"jobdata\":\"d\"}}", &lim, REQ_ERR_FIELD, "user_id",
	    "at most 4");

	/* field_max on each capped field, small and default. */
	req_limits_default(&lim);
	lim.field_max = 10;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char label[80], name[40];

		if (strcmp(keys[k], "resume_text") == 0) {
			buf_reset(&b);
			must(buf_adds(&b, "{\"user_id\":\"u\",\"jobs\":{"
			    "\"jobtitle\":\"t\",\"jobdata\":\"d\"},"
			    "\"resume_text\":\"0123456789\"}"));
			(void)snprintf(name, sizeof(name), "resume_text");
		} else {
			fielddoc(&b, keys[k], 10);
			(void)snprintf(name, sizeof(name), "jobs.%s",
			    keys[k]);
		}
		(void)snprintf(label, sizeof(label), "%s at field_max",
		    keys[k]);
		expect(label, b.data, b.len, &lim, REQ_OK, NULL, NULL);
		/* Insert one more byte before the closing quote. */
		if (strcmp(keys[k], "resume_text") == 0) {
			b.len -= 2;
			must(buf_adds(&b, "a\"}"));
		} else {
			b.len -= 3;
			must(buf_adds(&b, "a\"}}"));
		}
		(void)snprintf(label, sizeof(label), "%s field_max+1",
		    keys[k]);
		expect(label, b.data, b.len, &lim, REQ_ERR_FIELD, name,
		    "at most 10");
	}
	lim.json_max = 64u * 1024 * 1024;
	fielddoc(&b, "jobdata", MJ_MP_FIELD_MAX);
	lim.field_max = MJ_MP_FIELD_MAX;
	expect("jobdata of exactly MJ_MP_FIELD_MAX", b.data, b.len, &lim,
	    REQ_OK, NULL, NULL);
	fielddoc(&b, "jobdata", MJ_MP_FIELD_MAX + 1);
	expect("jobdata MJ_MP_FIELD_MAX+1", b.data, b.len, &lim,
	    REQ_ERR_FIELD, "jobs.jobdata", "at most");
	buf_free(&b);
}

static void
test_errmsg(void)
{
	struct req	 r;
	enum req_status	 rc;
	char		 small[8];
	int		 i, distinct;

	memset(small, 'X', sizeof(small));
	rc = req_parse("{}", 2, NULL, &r, small, sizeof(small));
	ok(rc == REQ_ERR_FIELD && strlen(small) == sizeof(small) - 1,
	    "errmsg truncated and NUL-terminated: \"%s\"", small);
	rc = req_parse("{}", 2, NULL, &r, NULL, 0);
	ok(rc == REQ_ERR_FIELD && zeroed(&r), "errmsg NULL, errsz 0");
	rc = req_parse("{", 1, NULL, &r, small, 1);
	ok(rc == REQ_ERR_JSON && small[0] == '\0', "errsz 1 gives \"\"");

	distinct = 1;
	for (i = 0; i < REQ__MAX; i++) {
		if (req_strerror((enum req_status)i) == NULL ||
		    (i > 0 && strcmp(req_strerror((enum req_status)i),
		    req_strerror((enum req_status)(i - 1))) == 0))
			distinct = 0;
	}
	ok(distinct, "req_strerror: a distinct string for each status");
	ok(req_strerror(REQ__MAX) != NULL &&
	    req_strerror((enum req_status)-1) != NULL,
	    "req_strerror: out of range is not NULL");
}

int
main(void)
{
	test_spec();
	test_array();
	test_fields();
	test_nul_values();
	test_unicode();
	test_syntax();
	prefixes("spec example", SPEC_DOC);
	prefixes("array form", ARRAY_DOC);
	test_limits();
	test_errmsg();
	return tap_done();
}
