/*
 * unit_local.c - TAP unit test of the local scoring engine (src/local.c):
 * ranking, exact skill lists, aliases, ambiguous words, empty input,
 * determinism, random bytes and a 1 MB resume.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "answer.h"
#include "local.h"
#include "tap.h"

static const char py_resume[] =
    "Jane Doe - Senior Python Developer\n"
    "\n"
    "Summary: backend engineer with eight years building web services "
    "and data pipelines in Python. I design REST APIs with Django and "
    "FastAPI, model data in PostgreSQL and Redis, and ship with Docker "
    "and GitHub Actions to AWS.\n"
    "\n"
    "Skills: Python, Django, FastAPI, Flask, SQL, PostgreSQL, Redis, "
    "Docker, Git, Linux, pytest, Celery, AWS (EC2, S3, Lambda).\n"
    "\n"
    "Experience\n"
    "Acme Corp, Senior Backend Developer, 2019-2024. Built a Django "
    "billing platform serving two million users; cut API latency by 40% "
    "with query tuning in PostgreSQL and caching in Redis. Wrote unit "
    "tests with pytest and led code reviews. Mentoring junior "
    "developers.\n"
    "Widget Ltd, Python Developer, 2016-2019. Data pipelines (ETL) in "
    "Python and Pandas; REST APIs in Flask; deployment with Docker.\n";

static const char py_job[] =
    "We are hiring a backend Python developer to build the REST APIs of "
    "our billing platform. You will design services in Django, store data "
    "in PostgreSQL, cache with Redis and deploy with Docker and "
    "Kubernetes on AWS. Requirements: 4+ years of Python, strong SQL, "
    "experience with CI/CD and unit testing. Nice to have: Go, Terraform.";

static const char nurse_job[] =
    "Registered Nurse, Medical-Surgical Unit. Provide direct patient care "
    "for adult patients, assess vital signs, perform medication "
    "administration and IV therapy, and document in the EHR (Epic). "
    "Maintain infection control standards and collaborate with "
    "physicians on care plans. Requirements: active RN license, BLS and "
    "ACLS certification, 2 years of acute care nursing experience.";

/* Serialise *a as one JSON object, for comparisons; caller frees. */
static char *
answer_json(const struct answer *a)
{
	struct json_object	*o;
	char			*s;

	o = json_object_new_object();
	json_object_object_add(o, "score", json_object_new_int(a->score));
	json_object_object_add(o, "summary",
	    json_object_new_string(a->summary ? a->summary : "(null)"));
	json_object_object_add(o, "matched_skills",
	    json_object_get(a->matched_skills));
	json_object_object_add(o, "missing_skills",
	    json_object_get(a->missing_skills));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* A skill array as compact JSON text, e.g. ["Python","SQL"]. */
static const char *
arr(const struct json_object *a)
{

	return json_object_to_json_string_ext((struct json_object *)a,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static enum loc_status
score(const char *resume, const char *title, const char *data,
    struct answer *a)
{

	memset(a, 0, sizeof(*a));
	return loc_score(resume, resume ? strlen(resume) : 0, title, data,
	    data ? strlen(data) : 0, a);
}

/* The summary for a message, never NULL. */
static const char *
S(const struct answer *a)
{

	return a->summary != NULL ? a->summary : "(null)";
}

/* Whether the answer is well formed: score range, summary, arrays. */
static int
sane(const struct answer *a)
{

	return a->score >= 0 && a->score <= 100 && a->summary != NULL &&
	    a->summary[0] != '\0' && strlen(a->summary) < 600 &&
	    json_object_is_type(a->matched_skills, json_type_array) &&
	    json_object_is_type(a->missing_skills, json_type_array);
}

/* Whether the array holds the string s. */
static int
has(const struct json_object *arr_, const char *s)
{
	size_t	 i, n;

	n = json_object_array_length(arr_);
	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(
		    json_object_array_get_idx(arr_, i)), s) == 0)
			return 1;
	return 0;
}

/* The job's skills as one list: matched then missing, job order kept. */
static int
jobskills_are(const char *title, const char *data, const char *want)
{
	struct answer	 a = { 0 };
	int		 r;

	/* An empty resume puts every job skill in missing_skills. */
	if (score("", title, data, &a) != LOC_OK)
		return 0;
	r = strcmp(arr(a.missing_skills), want) == 0;
	if (!r)
		printf("# got %s, want %s\n", arr(a.missing_skills), want);
	answer_free(&a);
	return r;
}

static uint32_t
rnd(uint64_t *s)
{

	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static void
test_ranking(void)
{
	struct answer	 good = { 0 }, bad = { 0 };

	ok(score(py_resume, "Backend Python Developer", py_job, &good) ==
	    LOC_OK && sane(&good), "python job scores");
	ok(score(py_resume, "Registered Nurse", nurse_job, &bad) == LOC_OK &&
	    sane(&bad), "nurse job scores");
	printf("# python job %d: %s\n", good.score, S(&good));
	printf("# nurse job %d: %s\n", bad.score, S(&bad));
	ok(good.score > bad.score, "python resume: python job (%d) > "
	    "nurse job (%d)", good.score, bad.score);
	ok(good.score >= 60 && good.score <= 95,
	    "good match lands in 60..95 (%d)", good.score);
	ok(bad.score <= 20, "unrelated job scores low (%d)", bad.score);
	ok(has(good.matched_skills, "Python") &&
	    has(good.matched_skills, "Django") &&
	    has(good.missing_skills, "Kubernetes") &&
	    has(good.missing_skills, "Terraform") &&
	    !has(good.missing_skills, "Python"),
	    "python job: matched and missing as expected");
	ok(json_object_array_length(bad.matched_skills) == 0 &&
	    has(bad.missing_skills, "Patient Care") &&
	    has(bad.missing_skills, "ACLS"),
	    "nurse job: nothing matched, clinical skills missing");
	ok(strstr(S(&good), "Local lexical match (no LLM)") != NULL &&
	    strstr(S(&good), "Kubernetes") != NULL,
	    "summary names the engine and a missing skill");
	answer_free(&good);
	answer_free(&bad);
	answer_free(&bad);
	ok(bad.summary == NULL && bad.matched_skills == NULL,
	    "answer_free twice leaves a zeroed answer");
}

static void
test_exact_lists(void)
{
	struct answer	 a = { 0 };
	const char	*job = "We need Python, PostgreSQL, Docker and "
	    "Kubernetes. Experience with Terraform and AWS is a plus.";
	const char	*res = "Python developer. Worked with Postgres, "
	    "Docker and AWS.";

	ok(score(res, "Backend Engineer", job, &a) == LOC_OK, "crafted case");
	ok(strcmp(arr(a.matched_skills),
	    "[\"Python\",\"PostgreSQL\",\"Docker\",\"AWS\"]") == 0,
	    "matched in job order: %s", arr(a.matched_skills));
	ok(strcmp(arr(a.missing_skills),
	    "[\"Kubernetes\",\"Terraform\"]") == 0,
	    "missing in job order: %s", arr(a.missing_skills));
	ok(strstr(S(&a), "covers 4 of 6 skills") != NULL &&
	    strstr(S(&a), "missing: Kubernetes, Terraform") != NULL,
	    "summary counts: %s", S(&a));
	answer_free(&a);
}

static void
test_aliases(void)
{
	struct answer	 a = { 0 };
	enum loc_status	 rc;

	rc = score("Ran clusters on k8s and Postgres; JS and golang.",
	    "Platform Engineer", "Kubernetes, PostgreSQL, JavaScript, Go "
	    "developer.", &a);
	ok(rc == LOC_OK && strcmp(arr(a.matched_skills), "[\"Kubernetes\","
	    "\"PostgreSQL\",\"JavaScript\",\"Go\"]") == 0 &&
	    json_object_array_length(a.missing_skills) == 0,
	    "aliases k8s, postgres, js, golang: %s", arr(a.matched_skills));
	answer_free(&a);
	ok(jobskills_are("", "javascript and typescript",
	    "[\"JavaScript\",\"TypeScript\"]"), "javascript is not Java");
	rc = score("JavaScript, TypeScript, Node.js", "Java Developer",
	    "Java 17, Spring Boot", &a);
	ok(rc == LOC_OK &&
	    strcmp(arr(a.missing_skills), "[\"Java\",\"Spring\"]") == 0 &&
	    json_object_array_length(a.matched_skills) == 0,
	    "a JavaScript resume lacks Java: %s", arr(a.missing_skills));
	answer_free(&a);
	ok(jobskills_are("", "C++, C#, .NET, Node.js, CI/CD, ASP.NET Core",
	    "[\"C++\",\"C#\",\".NET\",\"Node.js\",\"CI/CD\",\"ASP.NET\"]"),
	    "tech tokens c++ c# .net node.js ci/cd asp.net");
	ok(jobskills_are("", "ci-cd, scikit-learn, A/B testing, machine "
	    "learning", "[\"CI/CD\",\"scikit-learn\",\"A/B Testing\","
	    "\"Machine Learning\"]"), "multi-word aliases across - and /");
	ok(jobskills_are("", "React Native apps; Spark SQL; SQL Server",
	    "[\"React Native\",\"Apache Spark\",\"SQL Server\"]"),
	    "longest alias wins");
	ok(jobskills_are("", "We value machine. Learning is fun.", "[]"),
	    "multi-word alias does not cross a sentence");
	ok(jobskills_are("", "\xe2\x80\xa2Python\xe2\x80\x94"
	    "Docker\xc2\xa0Redis\xef\x82\xb7Kafka",
	    "[\"Python\",\"Docker\",\"Redis\",\"Kafka\"]"),
	    "UTF-8 bullets, dashes and no-break space separate words");
}

static void
test_ambiguous(void)
{

	ok(jobskills_are("", "We go the extra mile and react quickly to "
	    "customers.", "[]"), "plain 'go' and 'react' are no skills");
	ok(jobskills_are("Go Developer", "Build services.", "[\"Go\"]"),
	    "'Go Developer' names Go");
	ok(jobskills_are("", "Languages: Go, Rust, C.",
	    "[\"Go\",\"Rust\",\"C\"]"), "skill list names Go and C");
	ok(jobskills_are("", "Python, R and SQL for analysis.",
	    "[\"Python\",\"R\",\"SQL\"]"), "R next to other skills");
	ok(jobskills_are("", "Take vitamin C daily. Go home early.", "[]"),
	    "vitamin C and go home are no skills");
	ok(jobskills_are("", "Excel at customer work. Go. Python.",
	    "[\"Python\"]"), "context does not cross sentences");
}

static void
test_empty(void)
{
	struct answer	 a = { 0 };
	size_t		 i;
	enum loc_status	 rc;
	const char	*empties[] = { "", "   \n\t  ", "... -- !!", NULL };

	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		rc = score(empties[i], "Backend Engineer", py_job, &a);
		ok(rc == LOC_OK && sane(&a) && a.score == 0 &&
		    strstr(a.summary, "resume is empty") != NULL &&
		    json_object_array_length(a.matched_skills) == 0 &&
		    has(a.missing_skills, "Python"),
		    "empty resume %zu: score 0, says so: %s", i, S(&a));
		answer_free(&a);
	}
	rc = score(py_resume, NULL, NULL, &a);
	ok(rc == LOC_OK && sane(&a) && a.score == 0 &&
	    strstr(a.summary, "no skill") != NULL,
	    "empty job: score 0: %s", S(&a));
	answer_free(&a);
	rc = score("I enjoy gardening, cooking and hiking on weekends.",
	    "Gardener", "Gardening, hiking trails upkeep, weekends.", &a);
	ok(rc == LOC_OK && sane(&a) && a.score > 0 &&
	    json_object_array_length(a.missing_skills) == 0 &&
	    strstr(a.summary, "text similarity alone") != NULL,
	    "no known skills: similarity only (%d): %s", a.score, S(&a));
	answer_free(&a);
}

static void
test_weights(void)
{
	struct answer	 a = { 0 }, b = { 0 }, c = { 0 };
	const char	*job = "Python developer with good communication.";
	int		 good;

	good = score("Python scripts.", "Engineer", job, &a) == LOC_OK &&
	    score("Communication.", "Engineer", job, &b) == LOC_OK;
	ok(good && a.score > b.score,
	    "a hard skill outweighs a soft one (%d > %d)", a.score, b.score);
	good = score("Python scripts and communication.", "Engineer", job,
	    &c) == LOC_OK;
	ok(good && c.score > a.score,
	    "covering more skills scores higher (%d > %d)", c.score, a.score);
	answer_free(&a);
	answer_free(&b);
	answer_free(&c);
}

static void
test_determinism(void)
{
	struct answer	 a = { 0 }, b = { 0 }, c = { 0 };
	char		*ja, *jb;

	ok(score(py_resume, "Backend Python Developer", py_job, &a) ==
	    LOC_OK, "first call");
	ok(score(py_resume, "Registered Nurse", nurse_job, &c) == LOC_OK,
	    "an unrelated call between");
	ok(score(py_resume, "Backend Python Developer", py_job, &b) ==
	    LOC_OK, "second call");
	ja = answer_json(&a);
	jb = answer_json(&b);
	ok(ja != NULL && jb != NULL && strcmp(ja, jb) == 0,
	    "identical JSON: %s", ja);
	free(ja);
	free(jb);
	answer_free(&a);
	answer_free(&b);
	answer_free(&c);
}

static void
test_long_summary(void)
{
	struct answer	 a = { 0 };
	enum loc_status	 rc;

	rc = score("Site Reliability Engineering, Medication Administration, "
	    "Stakeholder Management, Infrastructure as Code, Functional "
	    "Programming, Apache HTTP Server, Attention to Detail.",
	    "Engineer",
	    "Site Reliability Engineering, Medication Administration, "
	    "Stakeholder Management, Infrastructure as Code, Functional "
	    "Programming, Apache HTTP Server, Attention to Detail, "
	    "Presentation Skills, Data Visualization, Financial Analysis, "
	    "Distributed Systems, Entity Framework, Google Analytics, "
	    "Digital Marketing, "
	    "Infection Control, Technical Writing, Product Management, "
	    "Time Management, Customer Service.", &a);
	ok(rc == LOC_OK && sane(&a) &&
	    strstr(a.summary, "and 1 more") != NULL &&
	    strstr(a.summary, "and 6 more") != NULL,
	    "long lists cut with 'and N more' (%zu bytes): %s",
	    strlen(S(&a)), S(&a));
	answer_free(&a);
}

static void
test_random(void)
{
	static const char *const words[] = {
		"python", "go", "c", "c++", "k8s", ".net", "ci/cd", "node.js",
		"machine", "learning", "the", "and", "react", "native", "r",
		"\xe2\x80\xa2", "\xc3\xa9t\xc3\xa9", ".", ";", "\n\n", "-",
		"/", "#", "+", "sql", "server", "excel", "skills", "developer",
	};
	const size_t	 NWORDS = sizeof(words) / sizeof(words[0]);
	struct answer	 a = { 0 };
	uint64_t	 seed = 42;
	const char	*w;
	char		*r, *j;
	size_t		 rl, jl, i, k;
	int		 iter, good = 1;

	r = malloc(8192);
	j = malloc(8192);
	for (iter = 0; iter < 600 && good; iter++) {
		rl = rnd(&seed) % 8192;
		jl = rnd(&seed) % 4096;
		if (iter % 2 == 0) {
			for (i = 0; i < rl; i++)
				r[i] = (char)(rnd(&seed) & 0xff);
			for (i = 0; i < jl; i++)
				j[i] = (char)(rnd(&seed) & 0xff);
		} else {
			/* Random dictionary words and separators. */
			for (i = 0; i < rl; i += k) {
				w = words[rnd(&seed) % NWORDS];
				k = strlen(w);
				if (i + k + 1 > rl)
					break;
				memcpy(r + i, w, k);
				r[i + k] = " ,\0"[rnd(&seed) % 3];
				k++;
			}
			rl = i;
			for (i = 0; i < jl; i += k) {
				w = words[rnd(&seed) % NWORDS];
				k = strlen(w);
				if (i + k + 1 > jl)
					break;
				memcpy(j + i, w, k);
				j[i + k] = " ,\n"[rnd(&seed) % 3];
				k++;
			}
			jl = i;
		}
		memset(&a, 0, sizeof(a));
		good = loc_score(r, rl, "Title \xff\xfe", j, jl, &a) ==
		    LOC_OK && sane(&a);
		if (!good)
			printf("# iteration %d: score %d summary %s\n", iter,
			    a.score, a.summary ? a.summary : "(null)");
		answer_free(&a);
	}
	ok(good, "600 random inputs (NULs, high bytes): score 0..100, "
	    "summary 1..599 bytes");
	free(r);
	free(j);
}

static void
test_big(void)
{
	struct answer	 a = { 0 };
	struct timespec	 t0, t1;
	char		*big;
	size_t		 n = 1024 * 1024, i, k;
	double		 ms;
	uint64_t	 seed = 7;

	big = malloc(n);
	for (i = 0; i < n; i += k) {
		k = sizeof(py_resume) - 1;
		if (k > n - i)
			k = n - i;
		memcpy(big + i, py_resume, k);
	}
	/* Sprinkle unique words so the term table grows large. */
	for (i = 0; i + 12 < n; i += 97)
		snprintf(big + i, 12, " w%08x ", (unsigned)rnd(&seed));
	memset(&a, 0, sizeof(a));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(loc_score(big, n, "Backend Python Developer", py_job,
	    sizeof(py_job) - 1, &a) == LOC_OK && sane(&a),
	    "1 MB resume scores");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("# 1 MB resume: %.1f ms, score %d\n", ms, a.score);
	answer_free(&a);
	free(big);
}

int
main(void)
{
	int	 i;

	ok(loc_selfcheck() == LOC_OK, "dictionary and word lists are sane");
	for (i = 0; i <= LOC__MAX; i++)
		ok(loc_strerror((enum loc_status)i) != NULL &&
		    loc_strerror((enum loc_status)i)[0] != '\0',
		    "loc_strerror(%d)", i);
	test_ranking();
	test_exact_lists();
	test_aliases();
	test_ambiguous();
	test_empty();
	test_weights();
	test_determinism();
	test_long_summary();
	test_random();
	test_big();
	return tap_done();
}
