/*
 * fuzz_request.c - libFuzzer target for the request document parser
 * (request.c): req_parse(), the same entry point as
 * tests/unit_request.c.
 *
 * Input layout: byte 0 chooses the limits.  If its bit 0 is clear the
 * rest is parsed with the defaults (lim NULL); if it is set, with small
 * limits taken from bytes 0 and 1 (depth, jobs, user_id and field
 * lengths, document size), so every limit can be hit by short input.
 * Bits 4-7 of byte 0 also pick the errmsg buffer size (exact-size heap
 * buffer, so a write past errsz shows under ASan).
 *
 * Checked: the status is in range; on error *out is zeroed and errmsg a
 * NUL-terminated, non-empty line of printable ASCII; on success every
 * field is within its limit, and (with the defaults) the document
 * written back by json-c parses again to the same shape.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "request.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static const size_t errszs[16] = {
	0, 1, 2, 3, 8, 16, 31, 32, 33, 64, 100, 128, 200, 256, 512, 1024
};

static int
is_zero(const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++)
		if (s[i] != 0)
			return 0;
	return 1;
}

static void
check_ok(const struct req *r, const struct req_limits *lim, size_t len)
{
	const struct req_job	*j;
	size_t			 i;

	CHECK(len <= lim->json_max);
	CHECK(json_object_is_type(r->doc, json_type_object));
	CHECK(r->user_id != NULL && r->user_id[0] != '\0');
	CHECK(strlen(r->user_id) <= lim->user_id_max);
	CHECK(r->njobs >= 1 && r->njobs <= lim->jobs_max);
	CHECK(r->jobs != NULL);
	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		CHECK(j->title != NULL && j->title[0] != '\0');
		CHECK(strlen(j->title) <= lim->field_max);
		CHECK(j->link != NULL && strlen(j->link) <= lim->field_max);
		CHECK(j->data != NULL && j->data_len > 0);
		CHECK(j->data_len <= lim->field_max);
		CHECK(j->data[j->data_len] == '\0');
		CHECK(json_object_is_type(j->obj, json_type_object));
	}
	CHECK(r->resume_text != NULL || r->resume_len == 0);
	CHECK(r->resume_len <= lim->field_max);
	CHECK(r->resume_text == NULL ||
	    r->resume_text[r->resume_len] == '\0');
}

/* Write r->doc back out and parse that again: same shape. */
static void
round_trip(const struct req *r)
{
	struct req	 r2;
	const char	*s;
	size_t		 i, n;
	char		 msg[256];

	n = 0;
	s = json_object_to_json_string_length(r->doc, JSON_C_TO_STRING_PLAIN,
	    &n);
	CHECK(s != NULL);
	CHECK(req_parse(s, n, NULL, &r2, msg, sizeof(msg)) == REQ_OK);
	CHECK(strcmp(r2.user_id, r->user_id) == 0);
	CHECK(r2.njobs == r->njobs && r2.resume_len == r->resume_len);
	for (i = 0; i < r->njobs; i++) {
		CHECK(strcmp(r2.jobs[i].title, r->jobs[i].title) == 0);
		CHECK(strcmp(r2.jobs[i].link, r->jobs[i].link) == 0);
		CHECK(r2.jobs[i].data_len == r->jobs[i].data_len);
		CHECK(memcmp(r2.jobs[i].data, r->jobs[i].data,
		    r->jobs[i].data_len) == 0);
	}
	CHECK(r->resume_len == 0 ||
	    memcmp(r2.resume_text, r->resume_text, r->resume_len) == 0);
	req_free(&r2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req_limits	 lim, *lp;
	struct req		 r;
	enum req_status		 st;
	char			*msg, *json;
	size_t			 errsz, len, i, n;
	unsigned		 b1;

	if (size < 1)
		return 0;
	errsz = errszs[data[0] >> 4];
	req_limits_default(&lim);
	lp = NULL;
	data++;
	size--;
	if (data[-1] & 1) {
		if (size < 1)
			return 0;
		b1 = data[0];
		data++;
		size--;
		lim.depth_max = (data[-2] >> 1) & 7;
		lim.jobs_max = b1 & 3;
		lim.user_id_max = (b1 >> 2) & 7;
		lim.field_max = (b1 >> 5) & 7;
		lim.json_max = (size_t)((data[-2] >> 1) & 7) * 64 + 32;
		lp = &lim;
	}
	/* Exact-size copies: the parser must not read past len. */
	len = size;
	json = malloc(len > 0 ? len : 1);
	msg = malloc(errsz > 0 ? errsz : 1);
	CHECK(json != NULL && msg != NULL);
	memcpy(json, data, len);
	memset(&r, 0xa5, sizeof(r));	/* *out is overwritten */
	st = req_parse(json, len, lp, &r, msg, errsz);
	CHECK(st < REQ__MAX && req_strerror(st) != NULL);
	if (st == REQ_OK) {
		check_ok(&r, &lim, len);
		if (lp == NULL)
			round_trip(&r);
	} else {
		CHECK(is_zero(&r, sizeof(r)));
		if (errsz > 0) {
			n = strnlen(msg, errsz);
			CHECK(n < errsz);
			CHECK(n > 0 || errsz == 1);
			for (i = 0; i < n; i++)
				CHECK(msg[i] >= 0x20 && msg[i] < 0x7f);
		}
	}
	req_free(&r);
	CHECK(is_zero(&r, sizeof(r)));
	req_free(&r);
	free(msg);
	free(json);
	return 0;
}
