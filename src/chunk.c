/*
 * chunk.c - one chat.completions stream payload; see chunk.h.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chunk.h"

static const char *const errs[CHUNK__MAX] = {
	"ok",					/* CHUNK_OK */
	"stream chunk is not a JSON object",	/* CHUNK_ERR_JSON */
	"out of memory",			/* CHUNK_ERR_NOMEM */
};

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char *
dupn(const char *s, size_t n)
{
	char	*p;

	p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* A string member of o, or NULL (also when it is not a string). */
static struct json_object *
get_str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return v;
}

/* Copy a non-empty JSON string into *dst (owned); NULL if empty. */
static enum chunk_status
take_str(struct json_object *v, char **dst, size_t *lenp)
{
	size_t	 n;

	*dst = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (v == NULL)
		return CHUNK_OK;
	n = (size_t)json_object_get_string_len(v);
	if (n == 0)
		return CHUNK_OK;
	*dst = dupn(json_object_get_string(v), n);
	if (*dst == NULL)
		return CHUNK_ERR_NOMEM;
	if (lenp != NULL)
		*lenp = n;
	return CHUNK_OK;
}

static long
get_count(struct json_object *o, const char *key)
{
	struct json_object	*v;
	int64_t			 n;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return 0;
	n = json_object_get_int64(v);
	if (n < 0)
		return 0;
	if (n > LONG_MAX)
		return LONG_MAX;
	return (long)n;
}

/* {"error": ...}: a message and a code, whatever the shape. */
static enum chunk_status
parse_error(struct json_object *e, struct chunk *out)
{
	struct json_object	*m, *code;
	const char		*msg;

	out->is_error = 1;
	msg = NULL;
	if (json_object_is_type(e, json_type_string)) {
		msg = json_object_get_string(e);
	} else if (json_object_is_type(e, json_type_object)) {
		m = get_str(e, "message");
		if (m != NULL)
			msg = json_object_get_string(m);
		if (!json_object_object_get_ex(e, "code", &code) ||
		    (!json_object_is_type(code, json_type_string) &&
		    !json_object_is_type(code, json_type_int)))
			code = get_str(e, "type");
		if (code != NULL)
			snprintf(out->error_code, sizeof(out->error_code),
			    "%s", json_object_get_string(code));
	}
	if (msg == NULL || msg[0] == '\0')
		msg = "unknown error";
	out->error_message = strdup(msg);
	if (out->error_message == NULL)
		return CHUNK_ERR_NOMEM;
	return CHUNK_OK;
}

/* The choice with "index" 0, or the first one if it has no index. */
static struct json_object *
first_choice(struct json_object *obj)
{
	struct json_object	*a, *el, *idx;
	size_t			 i, n;

	if (!json_object_object_get_ex(obj, "choices", &a) ||
	    !json_object_is_type(a, json_type_array))
		return NULL;
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		el = json_object_array_get_idx(a, i);
		if (!json_object_is_type(el, json_type_object))
			continue;
		if (!json_object_object_get_ex(el, "index", &idx)) {
			if (i == 0)
				return el;
			continue;
		}
		if (json_object_is_type(idx, json_type_int) &&
		    json_object_get_int64(idx) == 0)
			return el;
	}
	return NULL;
}

static enum chunk_status
parse_choice(struct json_object *ch, struct chunk *out)
{
	struct json_object	*delta, *fr;
	enum chunk_status	 rc;

	fr = get_str(ch, "finish_reason");
	if (fr != NULL)
		snprintf(out->finish_reason, sizeof(out->finish_reason),
		    "%s", json_object_get_string(fr));
	if (!json_object_object_get_ex(ch, "delta", &delta) ||
	    !json_object_is_type(delta, json_type_object))
		return CHUNK_OK;
	rc = take_str(get_str(delta, "content"), &out->content,
	    &out->content_len);
	if (rc != CHUNK_OK)
		return rc;
	return take_str(get_str(delta, "refusal"), &out->refusal, NULL);
}

static enum chunk_status
parse_object(struct json_object *obj, struct chunk *out)
{
	struct json_object	*v, *ch;
	enum chunk_status	 rc;

	if (json_object_object_get_ex(obj, "error", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		rc = parse_error(v, out);
		if (rc != CHUNK_OK)
			return rc;
	}
	ch = first_choice(obj);
	if (ch != NULL) {
		rc = parse_choice(ch, out);
		if (rc != CHUNK_OK)
			return rc;
	}
	if (json_object_object_get_ex(obj, "usage", &v) &&
	    json_object_is_type(v, json_type_object)) {
		out->has_usage = 1;
		out->prompt_tokens = get_count(v, "prompt_tokens");
		out->completion_tokens = get_count(v, "completion_tokens");
	}
	return CHUNK_OK;
}

enum chunk_status
chunk_parse(const char *data, size_t len, struct chunk *out)
{
	struct json_tokener	*tok = NULL;
	struct json_object	*obj = NULL;
	enum chunk_status	 rc;

	memset(out, 0, sizeof(*out));
	while (len > 0 && is_ws(data[0])) {
		data++;
		len--;
	}
	while (len > 0 && is_ws(data[len - 1]))
		len--;
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		out->done = 1;
		return CHUNK_OK;
	}
	if (len == 0 || data[0] != '{' || len > (size_t)INT_MAX)
		return CHUNK_ERR_JSON;
	tok = json_tokener_new_ex(CHUNK_DEPTH_MAX);
	if (tok == NULL)
		return CHUNK_ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, data, (int)len);
	if (obj == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(obj, json_type_object)) {
		rc = CHUNK_ERR_JSON;
		goto out;
	}
	rc = parse_object(obj, out);
out:
	if (obj != NULL)
		json_object_put(obj);
	json_tokener_free(tok);
	if (rc != CHUNK_OK)
		chunk_free(out);
	return rc;
}

void
chunk_free(struct chunk *c)
{
	free(c->content);
	free(c->refusal);
	free(c->error_message);
	memset(c, 0, sizeof(*c));
}

const char *
chunk_strerror(enum chunk_status rc)
{
	if ((unsigned)rc >= CHUNK__MAX)
		return "unknown stream chunk error";
	return errs[rc];
}
