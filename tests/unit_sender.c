/*
 * unit_sender.c - webhook delivery (src/sender.c, up_post) against a real
 * receiver, tests/webhook_receiver.py in its standalone mode (it checks
 * every signature and misbehaves on demand through its control routes),
 * and a real SQLite store file in a fresh directory, where the test adds
 * the outbox messages itself.
 *
 * Cases: delivered once, signed, the exact body bytes, on a kick and
 * without one; 500 twice then retried with the same id and body and a
 * fresh timestamp each time; a Retry-After honoured; a hanging receiver
 * timed out and retried; the schedule's end (dead); two senders on one
 * file (every message once, none sent by both); a stop that cuts an
 * attempt and a new sender that delivers it (restart); and the log
 * (an attempt a line; no secret, body or URL).  Times are waited for,
 * with bounds scaled under valgrind (MJ_SLOW).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bounds.h"
#include "cfg.h"
#include "clock.h"
#include "sender.h"
#include "store.h"
#include "tap.h"
#include "upstream.h"
#include "webhook.h"

#ifndef MJ_TESTS_DIR
#define MJ_TESTS_DIR "tests"
#endif

/* Run a case and say how long it took, as a TAP comment. */
#define T(x) do {							\
	long long t0_ = clock_ms();					\
	x;								\
	printf("# %s: %lld ms\n", #x, clock_ms() - t0_);		\
} while (0)

#define SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SECRET_B64 "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

extern char	**environ;

static char	 dir[64];
static char	 db[128];
static int	 port;
static pid_t	 receiver = -1;
static double	 slow = 1;
static struct store *st;		/* the test's own connection */
static char	 logp[128];		/* where stderr goes */

/* ---- time ---- */

static int64_t
now_ms(void)
{
	return (int64_t)clock_wall_ms();
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- the receiver ---- */

/* One HTTP/1.1 exchange with the receiver; the body into *out (or NULL). */
static int
http(const char *method, const char *path, const char *body, char **out)
{
	struct sockaddr_in	 a;
	char			 head[512], *buf, *p;
	size_t			 len, cap, blen;
	ssize_t			 n;
	int			 fd, status;

	if (out != NULL)
		*out = NULL;
	blen = body != NULL ? strlen(body) : 0;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", method, path, blen);
	if (write(fd, head, strlen(head)) < 0 ||
	    (blen > 0 && write(fd, body, blen) < 0)) {
		close(fd);
		return -1;
	}
	cap = 65536;
	len = 0;
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		return -1;
	}
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			if ((p = realloc(buf, cap)) == NULL)
				break;
			buf = p;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	status = -1;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	if (out != NULL && (p = strstr(buf, "\r\n\r\n")) != NULL &&
	    (*out = strdup(p + 4)) == NULL)
		status = -1;
	free(buf);
	return status;
}

static void
control(const char *json)
{
	if (http("POST", "/_control", json, NULL) != 200) {
		printf("Bail out! the receiver refused %s\n", json);
		exit(1);
	}
}

/* Every attempt so far (a new object), or NULL. */
static json_object *
attempts(void)
{
	json_object	*root;
	char		*body;

	if (http("GET", "/_attempts", NULL, &body) != 200 || body == NULL) {
		free(body);
		return NULL;
	}
	root = json_tokener_parse(body);
	free(body);
	return root;
}

/* Attempt i of message id in root (in order of arrival), or NULL. */
static json_object *
nth(json_object *root, const char *id, size_t i)
{
	json_object	*arr, *a, *v;
	size_t		 k, n;

	if (root == NULL || !json_object_object_get_ex(root, "attempts", &arr))
		return NULL;
	n = json_object_array_length(arr);
	for (k = 0; k < n; k++) {
		a = json_object_array_get_idx(arr, k);
		if (json_object_object_get_ex(a, "id", &v) &&
		    strcmp(json_object_get_string(v), id) == 0 && i-- == 0)
			return a;
	}
	return NULL;
}

static size_t
count(json_object *root, const char *id)
{
	size_t n;

	for (n = 0; nth(root, id, n) != NULL; n++)
		;
	return n;
}

/* Field f of attempt a: as a boolean, an int (-1: null), a double. */
static int
fbool(json_object *a, const char *f)
{
	json_object *v;

	return a != NULL && json_object_object_get_ex(a, f, &v) &&
	    json_object_get_boolean(v);
}

static int
fint(json_object *a, const char *f)
{
	json_object *v;

	if (a == NULL || !json_object_object_get_ex(a, f, &v) || v == NULL)
		return -1;
	return json_object_get_int(v);
}

static double
fnum(json_object *a, const char *f)
{
	json_object *v;

	if (a == NULL || !json_object_object_get_ex(a, f, &v) || v == NULL)
		return -1;
	return json_object_get_double(v);
}

static const char *
fstr(json_object *a, const char *f)
{
	json_object *v;

	if (a == NULL || !json_object_object_get_ex(a, f, &v) || v == NULL)
		return "";
	return json_object_get_string(v);
}

/* Has attempt a been answered (or did the client leave)? */
static int
done(json_object *a)
{
	json_object *v;

	return a != NULL && ((json_object_object_get_ex(a, "answered", &v) &&
	    v != NULL) || fbool(a, "client_closed"));
}

/*
 * Wait until message id has n attempts (all of them answered, or left by
 * the client, if answered), for up to secs (scaled); the attempts then
 * (a new object), or NULL.
 */
static json_object *
wait_attempts(const char *id, size_t n, int answered, double secs)
{
	json_object	*root;
	long long	 end = clock_ms() + (long long)(secs * slow * 1000);
	size_t		 i;
	int		 all;

	for (;;) {
		root = attempts();
		for (all = 1, i = 0; answered && i < n; i++)
			all &= done(nth(root, id, i));
		if (count(root, id) >= n && all)
			return root;
		json_object_put(root);
		if (clock_ms() > end)
			return NULL;
		nap_ms(10);
	}
}

/*
 * Start tests/webhook_receiver.py as name (its files are dir/name.*),
 * serving https with a CA made in tls if that is not NULL.  Returns its
 * port once it listens, with *pid; -1 if it did not start.
 */
static int
receiver_start(const char *name, const char *tls, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	char		 pf[128], log[128], script[512], buf[32];
	const char	*py, *tests;
	char		*argv[12];
	long long	 end;
	FILE		*f;
	int		 n, p;

	py = getenv("PYTHON3");
	if (py == NULL || *py == '\0')
		py = "python3";
	tests = getenv("MJ_TESTS");
	if (tests == NULL || *tests == '\0')
		tests = MJ_TESTS_DIR;
	snprintf(script, sizeof(script), "%s/webhook_receiver.py", tests);
	snprintf(pf, sizeof(pf), "%s/%s.port", dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", dir, name);
	n = 0;
	argv[n++] = (char *)py;
	argv[n++] = script;
	argv[n++] = (char *)"--secret";
	argv[n++] = (char *)SECRET;
	argv[n++] = (char *)"--port";
	argv[n++] = (char *)"0";
	argv[n++] = (char *)"--portfile";
	argv[n++] = pf;
	if (tls != NULL) {
		argv[n++] = (char *)"--tls";
		argv[n++] = (char *)tls;
	}
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log,
	    O_WRONLY | O_CREAT | O_TRUNC, 0644);
	n = posix_spawnp(pid, py, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (n != 0) {
		*pid = -1;
		return -1;
	}
	p = 0;
	end = clock_ms() + 20000 * (long long)slow;
	while (p == 0 && clock_ms() < end &&
	    waitpid(*pid, &n, WNOHANG) == 0) {
		if ((f = fopen(pf, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), f) != NULL)
				p = atoi(buf);
			fclose(f);
		}
		if (p == 0)
			nap_ms(20);
	}
	if (p <= 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, &n, 0);
		*pid = -1;
		return -1;
	}
	return p;
}

static void
receiver_stop(pid_t *pid)
{
	int status;

	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, &status, 0);
		*pid = -1;
	}
}

/* ---- the store ---- */

static void
new_run(const char *id)
{
	struct store_run_new n = { .id = id, .user_id = "alice",
	    .total_jobs = 1 };

	if (store_run_create(st, &n, now_ms()) != STORE_OK) {
		printf("Bail out! run %s: %s\n", id, store_errmsg(st));
		exit(1);
	}
}

static void
add_msg(const char *id, const char *run, const char *body, size_t len)
{
	struct store_msg m = { .id = id, .run_id = run, .body = body,
	    .len = len, .next_ms = now_ms() };

	if (store_outbox_add(st, &m, now_ms()) != STORE_OK) {
		printf("Bail out! message %s: %s\n", id, store_errmsg(st));
		exit(1);
	}
}

/* Wait (up to secs, scaled) until message id is in state want; *m gets it. */
static int
wait_state(const char *id, enum store_msg_state want, double secs,
    struct store_outmsg *m)
{
	long long end = clock_ms() + (long long)(secs * slow * 1000);

	for (;;) {
		if (store_outbox_get(st, id, m) == STORE_OK && m->state == want)
			return 1;
		if (clock_ms() > end)
			return 0;
		nap_ms(10);
	}
}

/* ---- senders ---- */

/* A configuration: the receiver, a timeout, a schedule divisor. */
static void
config(struct config *c, long timeout_ms, long div)
{
	char url[128];

	memset(c, 0, sizeof(*c));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	c->webhook_url = strdup(url);
	c->webhook_key = calloc(1, sizeof(*c->webhook_key));
	if (c->webhook_url == NULL || c->webhook_key == NULL ||
	    wh_key_parse(SECRET, c->webhook_key) != WH_OK) {
		printf("Bail out! config\n");
		exit(1);
	}
	c->webhook_timeout_ms = timeout_ms;
	c->webhook_retry_div = div;
	c->connect_timeout_ms = MJ_CONNECT_TIMEOUT_MS;
}

static struct sender *
start(const struct config *c, const char *holder)
{
	struct sender	*s;
	enum snd_status	 rc;

	rc = snd_new(c, db, holder, &s);
	if (rc != SND_OK) {
		printf("Bail out! snd_new: %s\n", snd_strerror(rc));
		exit(1);
	}
	return s;
}

/* snd_free(s); how long it took, in ms. */
static long long
stop(struct sender *s)
{
	long long t = clock_ms();

	snd_free(s);
	return clock_ms() - t;
}

/* Is the attempt's webhook-timestamp its own time (within 2 s)? */
static int
fresh(json_object *a)
{
	double d = atof(fstr(a, "timestamp")) - fnum(a, "received");

	return fnum(a, "received") > 0 && d > -2 && d < 2;
}

/* Signed, timed, typed, and exactly these body bytes? */
static int
good(json_object *a, const char *body, size_t len)
{
	const char *b = fstr(a, "body");

	return a != NULL && fbool(a, "signature_ok") &&
	    fbool(a, "timestamp_ok") && fbool(a, "content_type_ok") &&
	    fbool(a, "ok") && strlen(b) == len && memcmp(b, body, len) == 0 &&
	    strcmp(fstr(a, "path"), "/hook") == 0 &&
	    strcmp(fstr(a, "method"), "POST") == 0;
}

/* ---- the cases ---- */

static char	*body1;			/* wh_body()'s, for the log check */
static size_t	 body1_len;

static void
test_delivered(const struct config *c)
{
	static const char resp[] = "{\"jobs\":[{\"score\":87,\"summary\":"
	    "\"caf\xc3\xa9 \xe2\x9c\x93 fits\"}],\"errors\":[]}";
	struct wh_event	 ev = { .state = "done", .time_ms = now_ms(),
			    .run_id = "run-1", .user_id = "alice",
			    .response = resp, .response_len = sizeof(resp) - 1 };
	struct store_outmsg m;
	struct sender	*s;
	json_object	*root, *a;
	long long	 t, lat[3];
	char		 id[32];
	int		 i, quick, r;

	memset(&m, 0, sizeof(m));
	if (wh_body(&ev, &body1, &body1_len) != WH_OK) {
		printf("Bail out! wh_body\n");
		exit(1);
	}
	new_run("run-1");
	/* One there from the start: once it is delivered, the sender has
	 * nothing left and sleeps. */
	add_msg("msg_0", "run-1", body1, body1_len);
	s = start(c, "snd-1");
	ok(wait_state("msg_0", STORE_MSG_DELIVERED, 10, &m),
	    "a message there before the sender started is delivered");
	/* Added while it sleeps, no kick: found by its next look (1 s). */
	add_msg("msg_1", "run-1", body1, body1_len);
	t = clock_ms();
	r = wait_state("msg_1", STORE_MSG_DELIVERED, 10, &m) &&
	    m.attempts == 0 && m.last_status == 200;
	t = clock_ms() - t;
	ok(r, "a message added while the sender idles is delivered (HTTP "
	    "200, first attempt) without a kick, in %lld ms", t);
	ok(t < MJ_WH_IDLE_MS + 500 * slow,
	    "... within the sender's idle look (%d ms) and a margin",
	    MJ_WH_IDLE_MS);
	root = wait_attempts("msg_1", 1, 1, 5);
	a = nth(root, "msg_1", 0);
	ok(count(root, "msg_1") == 1, "... sent once");
	ok(good(a, body1, body1_len), "... signed (v1, the secret's key), "
	    "application/json, POST /hook, the exact body bytes (%zu)",
	    body1_len);
	ok(fresh(a), "... webhook-timestamp %s is the attempt's time",
	    fstr(a, "timestamp"));
	ok(fint(a, "status") == 200, "... answered 200");
	json_object_put(root);
	/* With a kick: at once, three times over (each under 1/4 of the
	 * idle look the sender began when it had delivered the last). */
	quick = 1;
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "msg_1k%d", i);
		add_msg(id, "run-1", body1, body1_len);
		t = clock_ms();
		snd_kick(s);
		if (!wait_state(id, STORE_MSG_DELIVERED, 10, &m))
			quick = 0;
		lat[i] = clock_ms() - t;
		if (lat[i] > (MJ_WH_IDLE_MS / 4) * slow)
			quick = 0;
	}
	ok(quick, "a kicked message is delivered at once (%lld, %lld, "
	    "%lld ms)", lat[0], lat[1], lat[2]);
	t = stop(s);
	ok(t < 1000 * slow, "an idle sender stops in %lld ms", t);
	store_outmsg_clear(&m);
}

static void
test_retried(const struct config *c)
{
	static const char body[] = "{\"type\":\"match.failed\",\"n\":2}";
	struct store_outmsg m;
	struct sender	*s;
	json_object	*root, *a;
	int		 i, same, sig, fr, r;

	memset(&m, 0, sizeof(m));
	new_run("run-2");
	control("{\"fail\": 2, \"status\": 500}");
	s = start(c, "snd-2");
	add_msg("msg_2", "run-2", body, sizeof(body) - 1);
	snd_kick(s);
	r = wait_state("msg_2", STORE_MSG_DELIVERED, 10, &m) &&
	    m.attempts == 2 && m.last_status == 200;
	ok(r, "500, 500, then delivered (store: %d failed attempts, last "
	    "%d)", m.attempts, m.last_status);
	root = wait_attempts("msg_2", 3, 1, 5);
	same = sig = fr = 1;
	for (i = 0; i < 3; i++) {
		a = nth(root, "msg_2", (size_t)i);
		same &= good(a, body, sizeof(body) - 1);
		sig &= fbool(a, "signature_ok");
		fr &= fresh(a);
	}
	ok(count(root, "msg_2") == 3 &&
	    fint(nth(root, "msg_2", 0), "status") == 500 &&
	    fint(nth(root, "msg_2", 1), "status") == 500 &&
	    fint(nth(root, "msg_2", 2), "status") == 200,
	    "... three attempts, answered 500, 500, 200");
	ok(same && sig, "... the same webhook-id and body bytes each time, "
	    "each validly signed");
	ok(fr, "... each with a webhook-timestamp of its own time");
	json_object_put(root);
	stop(s);
	store_outmsg_clear(&m);
}

static void
test_retry_after(const struct config *c)
{
	static const char body[] = "{\"type\":\"match.done\",\"n\":3}";
	struct store_outmsg m;
	struct sender	*s;
	json_object	*root;
	double		 gap;

	memset(&m, 0, sizeof(m));
	new_run("run-3");
	/* The schedule (divided by 1000) would wait 2.5 to 7.5 ms. */
	control("{\"fail\": 1, \"status\": 503, \"retry_after\": \"2\"}");
	s = start(c, "snd-3");
	add_msg("msg_3", "run-3", body, sizeof(body) - 1);
	snd_kick(s);
	ok(wait_state("msg_3", STORE_MSG_DELIVERED, 15, &m) &&
	    m.attempts == 1, "503 with Retry-After: 2, then delivered");
	root = wait_attempts("msg_3", 2, 1, 5);
	gap = fnum(nth(root, "msg_3", 1), "received") -
	    fnum(nth(root, "msg_3", 0), "answered");
	ok(count(root, "msg_3") == 2 && gap >= 1.95 && gap < 2 + 1.5 * slow,
	    "... the retry waited the 2 s asked for (%.3f s)", gap);
	ok(good(nth(root, "msg_3", 1), body, sizeof(body) - 1),
	    "... and was signed, with the same body");
	json_object_put(root);
	stop(s);
	store_outmsg_clear(&m);
}

static void
test_timeout(const struct config *c, long timeout_ms)
{
	static const char body[] = "{\"type\":\"match.done\",\"n\":4}";
	struct store_outmsg m;
	struct sender	*s;
	json_object	*root, *a;
	double		 took;

	memset(&m, 0, sizeof(m));
	new_run("run-4");
	control("{\"hang\": 1}");
	s = start(c, "snd-4");
	add_msg("msg_4", "run-4", body, sizeof(body) - 1);
	snd_kick(s);
	ok(wait_state("msg_4", STORE_MSG_DELIVERED, 10, &m) &&
	    m.attempts == 1 && m.last_status == 200,
	    "a receiver that hangs: timed out, retried, delivered");
	root = wait_attempts("msg_4", 2, 1, 5);
	a = nth(root, "msg_4", 0);
	took = fnum(a, "answered") - fnum(a, "received");
	ok(fbool(a, "hung") && fbool(a, "client_closed") &&
	    fint(a, "status") == -1,
	    "... the first attempt got no answer, the sender left");
	ok(took >= timeout_ms / 1000.0 - 0.1 &&
	    took < timeout_ms / 1000.0 + 1.0 * slow,
	    "... after the %ld ms timeout (%.3f s)", timeout_ms, took);
	ok(count(root, "msg_4") == 2 &&
	    good(nth(root, "msg_4", 1), body, sizeof(body) - 1) &&
	    fint(nth(root, "msg_4", 1), "status") == 200,
	    "... the second attempt, signed, the same body, got 200");
	json_object_put(root);
	stop(s);
	store_outmsg_clear(&m);
}

static void
test_dead(void)
{
	static const char body[] = "{\"type\":\"match.done\",\"n\":5}";
	struct store_outmsg m;
	struct config	 c;
	struct sender	*s;
	json_object	*root;
	int		 all500, r;
	size_t		 i;

	memset(&m, 0, sizeof(m));
	/* The whole schedule (41.6 h) in about 150 ms. */
	config(&c, 2000 * (long)slow, 1000000);
	new_run("run-5");
	control("{\"fail\": 8, \"status\": 500}");
	s = start(&c, "snd-5");
	add_msg("msg_5", "run-5", body, sizeof(body) - 1);
	snd_kick(s);
	r = wait_state("msg_5", STORE_MSG_DEAD, 20, &m) &&
	    m.attempts == WH_ATTEMPTS && m.last_status == 500;
	ok(r, "8 answers of 500: the schedule ends, the message is dead "
	    "(%d attempts)", m.attempts);
	/* A message after it goes through: the sender is sequential, so
	 * a 9th attempt at msg_5 would have come first. */
	add_msg("msg_5b", "run-5", body, sizeof(body) - 1);
	snd_kick(s);
	ok(wait_state("msg_5b", STORE_MSG_DELIVERED, 10, &m),
	    "... the next message is delivered");
	root = wait_attempts("msg_5", WH_ATTEMPTS, 1, 5);
	all500 = 1;
	for (i = 0; i < WH_ATTEMPTS; i++)
		all500 &= fint(nth(root, "msg_5", i), "status") == 500 &&
		    fbool(nth(root, "msg_5", i), "signature_ok");
	ok(count(root, "msg_5") == WH_ATTEMPTS && all500,
	    "... after exactly %d signed attempts, no more", WH_ATTEMPTS);
	json_object_put(root);
	stop(s);
	cfg_free(&c);
	store_outmsg_clear(&m);
}

/* Two senders, two connections, one file. */
static void
test_two(const struct config *c)
{
	enum { N = 12 };
	static const char body[] = "{\"type\":\"match.done\",\"n\":7}";
	struct store_outmsg m;
	struct sender	*s1, *s2;
	json_object	*root, *arr, *a, *b;
	char		 id[32];
	size_t		 i, j, n;
	int		 once, all, overlap, same;
	double		 ar, aa, br, ba;

	memset(&m, 0, sizeof(m));
	new_run("run-7");
	/* Each attempt answered after 0.2 s: both senders busy at once. */
	control("{\"hang\": 12, \"hang_s\": 0.2}");
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "msg_7_%02zu", i);
		add_msg(id, "run-7", body, sizeof(body) - 1);
	}
	s1 = start(c, "snd-7a");
	s2 = start(c, "snd-7b");
	snd_kick(s1);
	snd_kick(s2);
	all = 1;
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "msg_7_%02zu", i);
		all &= wait_state(id, STORE_MSG_DELIVERED, 30, &m) &&
		    m.attempts == 0;
	}
	ok(all, "two senders on one file: all %d messages delivered, each "
	    "at its first attempt", N);
	root = attempts();
	once = 1;
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "msg_7_%02zu", i);
		once &= count(root, id) == 1 &&
		    good(nth(root, id, 0), body, sizeof(body) - 1);
	}
	ok(once, "... each sent once (signed), none by both");
	/* Overlapping attempts: of one id, never; of two, some (both
	 * senders were at work, or this test proves nothing). */
	overlap = 0;
	same = 0;
	arr = NULL;
	if (root != NULL)
		json_object_object_get_ex(root, "attempts", &arr);
	n = arr != NULL ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			a = json_object_array_get_idx(arr, i);
			b = json_object_array_get_idx(arr, j);
			if (strncmp(fstr(a, "id"), "msg_7_", 6) != 0 ||
			    strncmp(fstr(b, "id"), "msg_7_", 6) != 0)
				continue;
			ar = fnum(a, "received");
			aa = fnum(a, "answered");
			br = fnum(b, "received");
			ba = fnum(b, "answered");
			if (ar < ba && br < aa) {
				if (strcmp(fstr(a, "id"), fstr(b, "id")) == 0)
					same++;
				else
					overlap++;
			}
		}
	ok(same == 0 && overlap > 0, "... no two attempts at one message "
	    "overlapped; %d pairs of different messages did", overlap);
	json_object_put(root);
	stop(s1);
	stop(s2);
	store_outmsg_clear(&m);
}

/* A stop cuts an attempt; a new sender (restart) delivers it. */
static void
test_restart(const struct config *c)
{
	static const char body[] = "{\"type\":\"match.cancelled\",\"n\":6}";
	struct store_outmsg m;
	struct sender	*s;
	json_object	*root;
	long long	 t;
	int64_t		 before;

	memset(&m, 0, sizeof(m));
	new_run("run-6");
	control("{\"hang\": 1}");	/* until the sender leaves */
	s = start(c, "snd-6a");
	add_msg("msg_6", "run-6", body, sizeof(body) - 1);
	snd_kick(s);
	root = wait_attempts("msg_6", 1, 0, 10);
	ok(root != NULL && !done(nth(root, "msg_6", 0)),
	    "an attempt hangs at the receiver");
	json_object_put(root);
	before = now_ms();
	t = stop(s);
	ok(t < 1000 * slow, "snd_free cuts it and returns in %lld ms", t);
	ok(store_outbox_get(st, "msg_6", &m) == STORE_OK &&
	    m.state == STORE_MSG_PENDING && m.attempts == 1 &&
	    m.lease_until_ms == 0 && m.next_ms <= now_ms() &&
	    m.next_ms >= before - 1000,
	    "... recorded as a failed attempt, unclaimed, due at once");
	/* Pending while no sender runs. */
	add_msg("msg_6b", "run-6", body, sizeof(body) - 1);
	s = start(c, "snd-6b");
	ok(wait_state("msg_6", STORE_MSG_DELIVERED, 10, &m) &&
	    m.attempts == 1 && wait_state("msg_6b", STORE_MSG_DELIVERED, 10,
	    &m) && m.attempts == 0,
	    "a new sender delivers the cut message and the one added while "
	    "none ran");
	root = wait_attempts("msg_6", 2, 1, 5);
	ok(count(root, "msg_6") == 2 && count(root, "msg_6b") == 1 &&
	    good(nth(root, "msg_6", 1), body, sizeof(body) - 1) &&
	    strcmp(fstr(nth(root, "msg_6", 0), "body"),
	    fstr(nth(root, "msg_6", 1), "body")) == 0,
	    "... with the same id and body as the cut attempt");
	json_object_put(root);
	stop(s);
	store_outmsg_clear(&m);
}

static void
test_args(const struct config *c)
{
	struct config	 off;
	struct sender	*s;

	memset(&off, 0, sizeof(off));
	s = (struct sender *)&s;	/* not NULL: snd_new must clear it */
	ok(snd_new(&off, db, "h", &s) == SND_ERR_ARG && s == NULL,
	    "snd_new refuses a config without webhooks");
	ok(snd_new(c, "", "h", &s) == SND_ERR_ARG &&
	    snd_new(c, db, "", &s) == SND_ERR_ARG,
	    "... and an empty db path or holder");
	snd_kick(NULL);
	snd_free(NULL);
}

/* up_post on its own: a bad header, a refused connection, cancel. */
static void
test_post(void)
{
	const char		*bad[] = { "x-a: 1\r\nx-b: 2" };
	struct up_post_req	 r;
	struct up_post_res	 res;
	char			 url[128];
	int			 fds[2];
	long long		 t;
	enum up_status		 us;

	memset(&r, 0, sizeof(r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	r.url = url;
	r.body = "{}";
	r.len = 2;
	r.timeout_ms = 2000;
	r.cancel_fd = -1;
	r.headers = bad;
	r.nheaders = 1;
	ok(up_post(&r, &res) == UP_ERR_BAD_REQUEST && res.status == 0,
	    "up_post refuses a header with a line break (%s)", res.error);
	r.nheaders = 0;
	ok(up_post(&r, &res) == UP_OK && res.status == 401,
	    "... an unsigned POST is answered (401 from the receiver)");
	r.url = "http://127.0.0.1:1/";
	ok(up_post(&r, &res) == UP_ERR_CONNECT && res.status == 0 &&
	    strstr(res.error, "127.0.0.1") == NULL,
	    "... a refused connection: no answer (%s)", res.error);
	r.url = "ftp://127.0.0.1:1/";
	ok(up_post(&r, &res) != UP_OK && res.status == 0,
	    "... speaks only http and https (%s)", res.error);
	control("{\"hang\": 1}");
	r.url = url;
	r.timeout_ms = 10000;
	if (pipe(fds) != 0)
		return;
	r.cancel_fd = fds[0];
	(void)!write(fds[1], "x", 1);
	t = clock_ms();
	us = up_post(&r, &res);
	t = clock_ms() - t;
	ok(us == UP_ERR_CANCELLED && res.status == 0 && t < 1000 * slow,
	    "... a readable cancel fd stops it (%d, %s, %lld ms)", (int)us,
	    res.error, t);
	close(fds[0]);
	close(fds[1]);
	http("POST", "/_reset", NULL, NULL);
}

/* ---- the log ---- */

static char *
slurp(const char *p)
{
	FILE	*f;
	char	*s;
	long	 n;

	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	if (s != NULL) {
		n = (long)fread(s, 1, (size_t)n, f);
		s[n] = '\0';
	}
	fclose(f);
	return s;
}

/* A store that can't be opened: logged once, tried again, then used. */
static void
test_store_down(const struct config *c)
{
	static const char body[] = "{\"type\":\"match.done\",\"n\":8}";
	struct store_outmsg m;
	struct store	*st2, *keep;
	struct sender	*s;
	enum snd_status	 rc;
	char		 sub[128], path[160], err[256], *log, *p;
	long long	 end;
	int		 seen, lines;

	memset(&m, 0, sizeof(m));
	snprintf(sub, sizeof(sub), "%s/later", dir);
	snprintf(path, sizeof(path), "%s/store.db", sub);
	rc = snd_new(c, path, "snd-8", &s);
	ok(rc == SND_OK, "a sender starts on a store it can't open yet");
	if (rc != SND_OK)
		return;
	seen = 0;
	end = clock_ms() + 10000 * (long long)slow;
	while (!seen && clock_ms() < end) {
		log = slurp(logp);
		seen = log != NULL &&
		    strstr(log, "the store failed (open)") != NULL;
		free(log);
		if (!seen)
			nap_ms(10);
	}
	ok(seen, "... says so in the log");
	mkdir(sub, 0700);
	if (store_open(path, "test2", &st2, err, sizeof(err)) != STORE_OK) {
		printf("Bail out! store_open %s: %s\n", path, err);
		exit(1);
	}
	keep = st;
	st = st2;
	new_run("run-8");
	add_msg("msg_8", "run-8", body, sizeof(body) - 1);
	ok(wait_state("msg_8", STORE_MSG_DELIVERED, 10, &m),
	    "... opens it once it can, and delivers");
	stop(s);
	st = keep;
	store_close(st2);
	log = slurp(logp);
	lines = 0;
	for (p = log; p != NULL && (p = strstr(p, "the store failed")) != NULL;
	    p++)
		lines++;
	ok(lines == 1, "... one log line for its failures (%d)", lines);
	free(log);
	store_outmsg_clear(&m);
}

/* https: MATCHJOBS_CA_FILE's CAs, for up_post and for a sender. */
static void
test_tls(void)
{
	static const char body[] = "{\"type\":\"match.done\",\"n\":9}";
	struct store_outmsg	 m;
	struct up_post_req	 r;
	struct up_post_res	 res;
	struct config		 c;
	struct sender		*s;
	enum up_status		 us;
	char			 tls[128], ca[160], url[128];
	pid_t			 pid;
	int			 p;

	memset(&m, 0, sizeof(m));
	snprintf(tls, sizeof(tls), "%s/tls", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", tls);
	mkdir(tls, 0700);
	p = receiver_start("tls", tls, &pid);
	if (!ok(p > 0, "an https receiver (a CA of the test's) starts"))
		return;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/hook", p);
	memset(&r, 0, sizeof(r));
	r.url = url;
	r.body = "{}";
	r.len = 2;
	r.timeout_ms = 5000 * (long)slow;
	r.cancel_fd = -1;
	us = up_post(&r, &res);
	ok(us == UP_ERR_CONNECT && res.status == 0,
	    "up_post over https without the CA: refused (%s)", res.error);
	r.ca_file = ca;
	us = up_post(&r, &res);
	ok(us == UP_OK && res.status == 401,
	    "... with it as ca_file: answered (401, unsigned)");
	config(&c, 5000 * (long)slow, 1000);
	free(c.webhook_url);
	c.webhook_url = strdup(url);
	c.ca_file = strdup(ca);
	if (c.webhook_url == NULL || c.ca_file == NULL) {
		printf("Bail out! strdup\n");
		exit(1);
	}
	new_run("run-9");
	add_msg("msg_9", "run-9", body, sizeof(body) - 1);
	s = start(&c, "snd-9");
	ok(wait_state("msg_9", STORE_MSG_DELIVERED, 10, &m) &&
	    m.attempts == 0 && m.last_status == 200,
	    "a sender whose config names the CA file delivers over https "
	    "(the receiver checked the signature)");
	stop(s);
	cfg_free(&c);
	receiver_stop(&pid);
	store_outmsg_clear(&m);
}

int
main(void)
{
	struct config	 c;
	const char	*e;
	char		 err[256], url[64], *log;
	long		 timeout_ms;
	int		 saved, fd;
	char		*rm[] = { (char *)"rm", (char *)"-rf", dir, NULL };

	e = getenv("MJ_SLOW");
	if (e != NULL && atof(e) >= 1)
		slow = atof(e);
	else if ((e = getenv("LD_PRELOAD")) != NULL &&
	    strstr(e, "vgpreload") != NULL)
		slow = 5;
	snprintf(dir, sizeof(dir), "/tmp/mj-unit-sender-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/store.db", dir);
	if (up_global_init() != 0) {
		printf("Bail out! up_global_init\n");
		return 1;
	}
	port = receiver_start("receiver", NULL, &receiver);
	if (port <= 0) {
		printf("Bail out! the receiver did not start (see %s)\n", dir);
		return 1;
	}
	if (store_open(db, "test", &st, err, sizeof(err)) != STORE_OK) {
		printf("Bail out! store_open: %s\n", err);
		receiver_stop(&receiver);
		return 1;
	}
	/* The senders' log lines, to check what they say. */
	snprintf(logp, sizeof(logp), "%s/stderr.log", dir);
	saved = dup(2);
	fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved < 0 || fd < 0 || dup2(fd, 2) < 0) {
		printf("Bail out! stderr\n");
		receiver_stop(&receiver);
		return 1;
	}
	close(fd);

	timeout_ms = 1000 * (long)slow;
	config(&c, timeout_ms, 1000);
	T(test_args(&c));
	T(test_post());
	T(test_delivered(&c));
	T(test_retried(&c));
	T(test_retry_after(&c));
	T(test_timeout(&c, timeout_ms));
	T(test_dead());
	T(test_two(&c));
	cfg_free(&c);
	/* Cutting needs an attempt that outlives the stop: the SPEC's 15 s. */
	config(&c, MJ_WH_TIMEOUT_MS, 1000);
	T(test_restart(&c));
	T(test_store_down(&c));
	cfg_free(&c);
	T(test_tls());

	dup2(saved, 2);
	close(saved);
	log = slurp(logp);
	snprintf(url, sizeof(url), "127.0.0.1:%d", port);
	ok(log != NULL && strstr(log, "webhook msg_1 (run run-1): HTTP 200, "
	    "delivered (attempt 1)") != NULL &&
	    strstr(log, "webhook msg_2 (run run-2): HTTP 500 (attempt 1), "
	    "again in") != NULL &&
	    strstr(log, "webhook msg_5 (run run-5): HTTP 500 (attempt 8), "
	    "given up") != NULL,
	    "each attempt is logged: id, run, status");
	ok(log != NULL && strstr(log, SECRET_B64) == NULL &&
	    strstr(log, "caf\xc3\xa9") == NULL && strstr(log, url) == NULL &&
	    strstr(log, "match.") == NULL,
	    "... never the secret, the body or the URL");
	if (log != NULL && tap_failed > 0)
		fprintf(stderr, "%s", log);
	free(log);
	free(body1);
	store_close(st);
	receiver_stop(&receiver);
	if (tap_failed == 0 && posix_spawnp(&receiver, "rm", NULL, NULL,
	    rm, environ) == 0)
		waitpid(receiver, &saved, 0);
	return tap_done();
}
