/*
 * answer.h - the scoring answer of one job, and the lenient parser that
 * reads it out of a model's free-form output.
 *
 * The model is asked for exactly one JSON object:
 *   {"score": 0-100, "summary": "...", "matched_skills": [...],
 *    "missing_skills": [...]}
 * ans_parse() tolerates code fences and prose around the object, clamps
 * the score to 0..100 and fails only when no usable object is found.
 * When the output holds several top-level objects with a score, the
 * last one is the answer: an object the model quoted from the input
 * before its own answer is never taken (AUDIT-0.1 M2).  Objects nested
 * inside another object are never candidates.
 * The local engine (local.c) produces the same struct, so both engines
 * feed one code path.
 */
#ifndef MJ_ANSWER_H
#define MJ_ANSWER_H

#include <stddef.h>

struct json_object;

struct answer {
	int			 score;		/* 0..100 */
	char			*summary;	/* owned, NUL-terminated */
	struct json_object	*matched_skills; /* owned array of strings */
	struct json_object	*missing_skills; /* owned array of strings */
};

enum ans_status {
	ANS_OK = 0,
	ANS_ERR_NO_JSON,	/* no JSON object in the text */
	ANS_ERR_NO_SCORE,	/* object found, "score" missing or not a number */
	ANS_ERR_NOMEM,
	ANS__MAX
};

/* Largest number of skills kept per list, and bytes per skill. */
#define ANS_SKILLS_MAX		50
#define ANS_SKILL_LEN_MAX	200
/* Largest summary kept, in bytes (cut at a UTF-8 boundary). */
#define ANS_SUMMARY_MAX		4000

/*
 * Parse the model output text[0..len) into *out (which must be zeroed or
 * freed).  On ANS_OK the caller owns *out and frees it with answer_free().
 * On error *out is left empty.  Pure: no I/O, thread-safe.
 */
enum ans_status ans_parse(const char *text, size_t len, struct answer *out)
	__attribute__((warn_unused_result));

/* A short English message for a status. */
const char	*ans_strerror(enum ans_status);

/* Release what *a owns; safe on a zeroed struct and twice. */
void		 answer_free(struct answer *a);

#endif /* MJ_ANSWER_H */
