/*
 * local.h - the local scoring engine: a deterministic lexical scorer used
 * when no OPENAI_API_KEY is configured ("engine": "local").
 *
 * It is a genuine fallback, not an LLM imitation: it reads the resume and
 * one job posting as plain text and answers with the same struct answer
 * the model path produces, so both engines feed one code path.  It is not
 * a language model and makes no network calls.  Method (details and the
 * reasoning in docs/local-engine.md):
 *
 *  1. Tokenize.  ASCII is lowercased; a word is a run of [a-z0-9] and bytes
 *     >= 0x80 (a few UTF-8 punctuation marks - bullet, dashes, curly
 *     quotes, no-break space, ellipsis - count as spaces).  A '.' between
 *     word characters stays in the word (node.js, asp.net), a word may
 *     begin with '.' before a letter (.net), and a run of '+' or '#' ends a
 *     word (c++, c#).  '/' and '-' separate words (ci/cd -> ci cd).  A
 *     sentence ends at . ! ? ; or a blank line.
 *  2. Skills.  A static dictionary of about 260 skills (languages,
 *     frameworks, databases, cloud, devops, data/ML, testing, methods,
 *     design, business, healthcare and soft skills), each with a display
 *     name and aliases matched as whole token sequences, longest first
 *     (k8s -> Kubernetes; javascript never yields Java).  Aliases that are
 *     also ordinary words (go, r, c, react, swift, spring, excel, ...)
 *     count only in a skill context: another unambiguous skill, or a word
 *     such as "developer", "programming", "languages", "stack" or
 *     "skills", at most 3 words away in the same sentence.
 *     Job skills are those found in title + jobdata; matched_skills are
 *     job skills also found in the resume, missing_skills the others, both
 *     in order of first appearance in the posting.
 *  3. Similarity.  Cosine of log-scaled term frequency vectors
 *     (1 + ln tf) of the two texts over non-stopword words.
 *  4. Score.  round(100 * (0.65 * coverage + 0.35 * text)), where
 *     coverage is the weighted share of job skills found (soft skills
 *     weigh half) and text = 1 - exp(-cosine / 0.2); with no known skill
 *     in the posting, round(100 * text); an empty resume scores 0.
 *  5. Summary.  One English paragraph naming the counts, up to six skills
 *     per list ("and N more"), the similarity and a fit word by band.
 */
#ifndef MJ_LOCAL_H
#define MJ_LOCAL_H

#include <stddef.h>

struct answer;

enum loc_status {
	LOC_OK = 0,
	LOC_ERR_NOMEM,		/* an allocation failed */
	LOC_ERR_DICT,		/* built-in skill dictionary malformed */
	LOC__MAX
};

/* Input bytes read per text; the rest is ignored (the caller cuts first). */
#define LOC_TEXT_MAX		(16u * 1024 * 1024)
/* Tokens in one alias ("google cloud platform" is 3). */
#define LOC_ALIAS_TOKENS_MAX	4
/* Words allowed between an ambiguous alias and its context. */
#define LOC_CTX_WINDOW		3
/* Skill names listed per list in the summary before "and N more". */
#define LOC_SUMMARY_SKILLS	6
/* Largest summary in bytes; the format keeps it under 600 in practice. */
#define LOC_SUMMARY_MAX		1024

/*
 * Score resume[0..resume_len) against one job: jobtitle (NUL-terminated,
 * NULL means "") and jobdata[0..jobdata_len).  Any bytes are accepted,
 * NULs included; resume or jobdata may be NULL when its length is 0.
 * *out must be zeroed (or freed); on LOC_OK the caller owns it and frees
 * it with answer_free(): score 0..100, a non-empty summary, and two JSON
 * arrays of skill display names (at most ANS_SKILLS_MAX each).  On error
 * *out is left empty.  Returns LOC_OK or LOC_ERR_NOMEM.
 * Pure: no I/O, no mutable globals, thread-safe; the same input always
 * gives byte-identical output.  Time and memory are linear in the input.
 */
enum loc_status	 loc_score(const char *resume, size_t resume_len,
		    const char *jobtitle, const char *jobdata,
		    size_t jobdata_len, struct answer *out)
		    __attribute__((warn_unused_result));

/*
 * Check the built-in tables: stopword and context lists sorted and
 * unique, every alias 1..LOC_ALIAS_TOKENS_MAX tokens and claimed by one
 * skill only.  Returns LOC_OK or LOC_ERR_DICT.  For the unit test.
 */
enum loc_status	 loc_selfcheck(void)
		    __attribute__((warn_unused_result));

/* A short English message for a status; never NULL. */
const char	*loc_strerror(enum loc_status);

#endif /* MJ_LOCAL_H */
