/*
 * streamc.c - concurrent SSE stream client for benchmarks.
 *
 *   streamc --port P [options]
 *     -n N              concurrent streams (default 1)
 *     --ramp MS         spread the N starts over MS ms (default 0)
 *     --path P          request path (default /api/match-jobs/stream)
 *     --jobs J          jobs per request (default 1)
 *     --directives D    fake-upstream knobs put in each job's jobdata,
 *                       e.g. "tokens=50;delay=100;stamp=1"
 *     --resume-bytes B  resume_text length (default 2048)
 *     --direct          talk to the fake upstream itself
 *                       (POST /v1/chat/completions), the baseline
 *     --timeout S       give up after S seconds (default 60)
 *     --label L         name in the JSON summary
 *     --samples FILE    write every stamp latency (ns), one per line,
 *                       in the order they arrived
 *
 * Each stream is one HTTP/1.1 POST on its own connection.  Through the
 * responder, each stream's resume_text starts with "u<8 digits> " (the
 * stream's number, then "p<pid> "), so no two requests are the same, in
 * one run or across runs: the responder makes
 * one model call for identical jobs in flight (SPEC "Cache"), and a bench
 * of identical requests would measure that instead of N calls.  The response
 * is decoded (chunked or not), split into SSE frames, and per stream it
 * records the time to the first token event, the token count, whether
 * `done` (or, direct, `[DONE]`) arrived, and errors.  Tokens whose text
 * carries a send stamp "t<19 digits>" (fakeup's stamp=1) give a latency
 * sample: CLOCK_REALTIME at the read() that brought it minus the stamp.
 * Prints one JSON object (times in ms, stamp latencies in us).
 *
 * Build: cc -O2 -Wall -Wextra -o streamc streamc.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum st { S_IDLE, S_CONNECT, S_SEND, S_HEAD, S_BODY, S_END };
enum ck { CK_SIZE, CK_DATA, CK_DATA_CRLF, CK_TRAILER, CK_DONE };

struct stream {
	int		 fd;
	enum st		 st;
	char		*req;		/* this stream's request */
	int64_t		 t_start, t_first, t_end;
	size_t		 sent;
	char		*hbuf;
	size_t		 hlen;
	int		 status;
	int		 chunked;
	long long	 remain;	/* content-length left; -1 none */
	enum ck		 ck;
	size_t		 ckleft;
	char		*line;
	size_t		 llen, lcap;
	char		 evtype[32];
	char		*data;
	size_t		 dlen, dcap;
	int		 ntok;
	int		 done, error_event, complete;
	int		 failed;	/* connection/HTTP error */
};

static int		 direct;
static char		*req;
static size_t		 reqlen;
static size_t		 uoff;		/* of the digits after "u"; 0: none */
static int64_t		*samples;
static size_t		 nsamples, capsamples;
static int64_t		 arrival_real;	/* of the current read */
static int64_t		 arrival_mono;
static int		 n_ended;

static int64_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t
real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fprintf(stderr, "streamc: out of memory\n");
		exit(1);
	}
	return p;
}

static void
add_sample(int64_t v)
{
	if (nsamples == capsamples) {
		capsamples = capsamples ? capsamples * 2 : 65536;
		samples = xrealloc(samples, capsamples * sizeof(*samples));
	}
	samples[nsamples++] = v;
}

/* Stamps "t" + 19 digits anywhere in the frame's data. */
static void
scan_stamps(const char *d, size_t n)
{
	size_t	 i, k;
	int64_t	 v;

	for (i = 0; i + 20 <= n; i++) {
		if (d[i] != 't')
			continue;
		v = 0;
		for (k = 1; k <= 19; k++) {
			if (d[i + k] < '0' || d[i + k] > '9')
				break;
			v = v * 10 + (d[i + k] - '0');
		}
		if (k == 20 && (i + 20 == n || d[i + 20] < '0' ||
		    d[i + 20] > '9')) {
			add_sample(arrival_real - v);
			i += 19;
		}
	}
}

static void
token_seen(struct stream *s)
{
	if (s->ntok++ == 0)
		s->t_first = arrival_mono;
}

static void
dispatch(struct stream *s)
{
	const char *p;

	if (s->data == NULL)
		s->data = xrealloc(NULL, 1);
	s->data[s->dlen] = '\0';
	if (direct) {
		if (strcmp(s->data, "[DONE]") == 0) {
			s->done = 1;
		} else if ((p = strstr(s->data, "\"content\":\"")) != NULL &&
		    p[11] != '"') {
			token_seen(s);
			scan_stamps(s->data, s->dlen);
		} else if (strstr(s->data, "\"error\"") != NULL)
			s->error_event = 1;
	} else if (strcmp(s->evtype, "token") == 0) {
		token_seen(s);
		scan_stamps(s->data, s->dlen);
	} else if (strcmp(s->evtype, "done") == 0)
		s->done = 1;
	else if (strcmp(s->evtype, "error") == 0)
		s->error_event = 1;
	else if (strcmp(s->evtype, "complete") == 0)
		s->complete = 1;
	s->dlen = 0;
	s->evtype[0] = '\0';
}

static void
sse_line(struct stream *s, char *l, size_t n)
{
	if (n > 0 && l[n - 1] == '\r')
		n--;
	if (n == 0) {
		if (s->dlen > 0 || s->evtype[0] != '\0')
			dispatch(s);
		return;
	}
	if (l[0] == ':')
		return;
	if (n >= 6 && memcmp(l, "event:", 6) == 0) {
		l += 6;
		n -= 6;
		if (n > 0 && *l == ' ')
			l++, n--;
		if (n >= sizeof(s->evtype))
			n = sizeof(s->evtype) - 1;
		memcpy(s->evtype, l, n);
		s->evtype[n] = '\0';
	} else if (n >= 5 && memcmp(l, "data:", 5) == 0) {
		l += 5;
		n -= 5;
		if (n > 0 && *l == ' ')
			l++, n--;
		if (s->dlen + n + 2 > s->dcap) {
			s->dcap = (s->dlen + n + 2) * 2;
			s->data = xrealloc(s->data, s->dcap);
		}
		if (s->dlen > 0)
			s->data[s->dlen++] = '\n';
		memcpy(s->data + s->dlen, l, n);
		s->dlen += n;
	}
}

/* Body bytes, after transfer decoding. */
static void
sse_feed(struct stream *s, const char *p, size_t n)
{
	const char	*nl;
	size_t		 k;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) : n;
		if (s->llen + k + 1 > s->lcap) {
			s->lcap = (s->llen + k + 1) * 2;
			s->line = xrealloc(s->line, s->lcap);
		}
		memcpy(s->line + s->llen, p, k);
		s->llen += k;
		if (nl == NULL)
			return;
		sse_line(s, s->line, s->llen);
		s->llen = 0;
		p += k + 1;
		n -= k + 1;
	}
}

/* Chunked decoding; returns 1 at the end of the body. */
static int
chunk_feed(struct stream *s, const char *p, size_t n)
{
	size_t k;

	while (n > 0) {
		switch (s->ck) {
		case CK_SIZE:
			if (*p == '\n') {
				s->ck = s->ckleft == 0 ? CK_TRAILER : CK_DATA;
			} else if (*p >= '0' && *p <= '9')
				s->ckleft = s->ckleft * 16 + (size_t)(*p - '0');
			else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
				s->ckleft = s->ckleft * 16 +
				    (size_t)((*p | 0x20) - 'a' + 10);
			p++, n--;
			break;
		case CK_DATA:
			k = n < s->ckleft ? n : s->ckleft;
			sse_feed(s, p, k);
			p += k, n -= k;
			s->ckleft -= k;
			if (s->ckleft == 0)
				s->ck = CK_DATA_CRLF;
			break;
		case CK_DATA_CRLF:
			if (*p == '\n')
				s->ck = CK_SIZE;
			p++, n--;
			break;
		case CK_TRAILER:
			/* "0\r\n" then "\r\n": end at the empty line. */
			if (*p == '\n') {
				s->ck = CK_DONE;
				return 1;
			}
			p++, n--;
			break;
		case CK_DONE:
			return 1;
		}
	}
	return s->ck == CK_DONE;
}

static void
finish(struct stream *s, int ep)
{
	if (s->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		s->fd = -1;
	}
	if (s->req != NULL && s->req != req)
		free(s->req);
	s->req = NULL;
	if (s->st != S_END)
		n_ended++;
	s->st = S_END;
	s->t_end = arrival_mono ? arrival_mono : mono();
}

static void
head_done(struct stream *s, int ep, char *he)
{
	char		*p;
	size_t		 hl = (size_t)(he - s->hbuf) + 4;
	size_t		 rest = s->hlen - hl;

	*he = '\0';
	s->status = 0;
	if (strncmp(s->hbuf, "HTTP/1.", 7) == 0)
		s->status = atoi(s->hbuf + 9);
	s->remain = -1;
	for (p = s->hbuf; (p = strchr(p, '\n')) != NULL; ) {
		p++;
		if (strncasecmp(p, "transfer-encoding:", 18) == 0 &&
		    strstr(p, "chunked") != NULL)
			s->chunked = 1;
		else if (strncasecmp(p, "content-length:", 15) == 0)
			s->remain = atoll(p + 15);
	}
	if (s->status != 200)
		s->failed = 1;
	s->st = S_BODY;
	if (rest > 0) {
		if (s->chunked) {
			if (chunk_feed(s, he + 4, rest))
				finish(s, ep);
		} else {
			sse_feed(s, he + 4, rest);
			if (s->remain >= 0 && (s->remain -= (long long)rest) <= 0)
				finish(s, ep);
		}
	}
}

static void
on_read(struct stream *s, int ep)
{
	char		 buf[65536];
	ssize_t		 r;
	char		*he;

	for (;;) {
		r = read(s->fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		arrival_real = real();
		arrival_mono = mono();
		if (r <= 0) {
			if (s->llen > 0)
				sse_line(s, s->line, s->llen);
			sse_line(s, (char *)"", 0);
			if (!s->done)
				s->failed = 1;
			finish(s, ep);
			return;
		}
		if (s->st == S_HEAD) {
			s->hbuf = xrealloc(s->hbuf, s->hlen + (size_t)r + 1);
			memcpy(s->hbuf + s->hlen, buf, (size_t)r);
			s->hlen += (size_t)r;
			s->hbuf[s->hlen] = '\0';
			he = memmem(s->hbuf, s->hlen, "\r\n\r\n", 4);
			if (he != NULL)
				head_done(s, ep, he);
			else if (s->hlen > 65536) {
				s->failed = 1;
				finish(s, ep);
			}
		} else if (s->st == S_BODY) {
			if (s->chunked) {
				if (chunk_feed(s, buf, (size_t)r))
					finish(s, ep);
			} else {
				sse_feed(s, buf, (size_t)r);
				if (s->remain >= 0 &&
				    (s->remain -= (long long)r) <= 0)
					finish(s, ep);
			}
		}
		if (s->st == S_END)
			return;
	}
}

static void
on_write(struct stream *s, int ep)
{
	struct epoll_event	 ev;
	ssize_t			 w;
	int			 err = 0;
	socklen_t		 l = sizeof(err);

	if (s->st == S_CONNECT) {
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err != 0) {
			s->failed = 1;
			finish(s, ep);
			return;
		}
		s->st = S_SEND;
	}
	while (s->sent < reqlen) {
		w = write(s->fd, s->req + s->sent, reqlen - s->sent);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			s->failed = 1;
			finish(s, ep);
			return;
		}
		s->sent += (size_t)w;
	}
	if (s->req != req)
		free(s->req);
	s->req = NULL;
	s->st = S_HEAD;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = s;
	epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

static void
start(struct stream *s, int ep, struct sockaddr_in *sa, int idx)
{
	struct epoll_event	 ev;
	int			 one = 1;
	char			 d[16];

	s->req = req;
	if (uoff > 0) {
		s->req = xrealloc(NULL, reqlen);
		memcpy(s->req, req, reqlen);
		snprintf(d, sizeof(d), "%08d", idx % 100000000);
		memcpy(s->req + uoff, d, 8);
	}
	s->t_start = mono();
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (s->fd < 0) {
		s->failed = 1;
		s->st = S_END;
		s->t_end = s->t_start;
		n_ended++;
		return;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->st = S_CONNECT;
	if (connect(s->fd, (struct sockaddr *)sa, sizeof(*sa)) != 0 &&
	    errno != EINPROGRESS) {
		s->failed = 1;
		finish(s, ep);
		return;
	}
	ev.events = EPOLLOUT;
	ev.data.ptr = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static int64_t
pct(const int64_t *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void
build_request(const char *host, const char *path, int jobs,
    const char *dirs, int resume_bytes)
{
	char	*body, *p;
	size_t	 cap;
	int	 i, n;
	static const char words[] = "Python SQL Docker Linux C Kubernetes "
	    "PostgreSQL REST Git AWS developer engineer systems backend ";

	cap = (size_t)resume_bytes + (size_t)jobs * (strlen(dirs) + 256) +
	    1024;
	body = xrealloc(NULL, cap);
	p = body;
	if (direct) {
		p += sprintf(p, "{\"model\":\"bench\",\"stream\":true,"
		    "\"messages\":[{\"role\":\"user\",\"content\":\""
		    "Job description: Python SQL <<fake:%s>>\"}]}", dirs);
	} else {
		p += sprintf(p, "{\"user_id\":\"bench\",\"resume_text\":\"");
		uoff = (size_t)(p - body) + 1;	/* in the body, for now */
		p += sprintf(p, "u00000000 ");
		/* And this run of streamc's: another run's stream 0 is not the
		 * same request either (the store's cache would answer it). */
		p += sprintf(p, "p%ld ", (long)getpid());
		for (i = 10; i < resume_bytes; i++)
			*p++ = words[i % (sizeof(words) - 1)];
		p += sprintf(p, "\",\"jobs\":[");
		for (i = 0; i < jobs; i++)
			p += sprintf(p, "%s{\"jobtitle\":\"Engineer %d\","
			    "\"joblink\":\"https://example.com/%d\","
			    "\"jobdata\":\"Python SQL Docker Linux "
			    "<<fake:%s>>\",\"jobid\":%d}", i ? "," : "", i, i,
			    dirs, i);
		p += sprintf(p, "]}");
	}
	n = (int)(p - body);
	req = xrealloc(NULL, (size_t)n + 512 + strlen(path));
	reqlen = (size_t)sprintf(req, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n", path, host, n);
	if (uoff > 0)
		uoff += reqlen;
	memcpy(req + reqlen, body, (size_t)n);
	reqlen += (size_t)n;
	free(body);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sa;
	struct epoll_event	 evs[512];
	struct stream		*ss;
	const char		*path = NULL, *dirs = "tokens=20",
				*label = "streams", *samplefile = NULL,
				*firstfile = NULL;
	int			 port = 0, n = 1, ramp = 0, jobs = 1;
	int			 rbytes = 2048, timeout = 60, i, k, ne;
	int			 started = 0, ended = 0, ep;
	int64_t			 t0, deadline, now, next, wall;
	int64_t			*ft, *dt;
	size_t			 nft = 0, ndt = 0;
	long long		 tokens = 0;
	int			 completed = 0, failed = 0, errev = 0;
	int			 timeouts = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ramp") == 0 && i + 1 < argc)
			ramp = atoi(argv[++i]);
		else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
			jobs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--directives") == 0 && i + 1 < argc)
			dirs = argv[++i];
		else if (strcmp(argv[i], "--resume-bytes") == 0 &&
		    i + 1 < argc)
			rbytes = atoi(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
			label = argv[++i];
		else if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc)
			samplefile = argv[++i];
		else if (strcmp(argv[i], "--firstfile") == 0 && i + 1 < argc)
			firstfile = argv[++i];
		else if (strcmp(argv[i], "--direct") == 0)
			direct = 1;
		else {
			fprintf(stderr, "usage: streamc --port P [-n N] "
			    "[--ramp MS] [--path P] [--jobs J] "
			    "[--directives D] [--resume-bytes B] [--direct] "
			    "[--timeout S] [--label L] [--samples FILE] "
			    "[--firstfile FILE]\n");
			return 2;
		}
	}
	if (port <= 0 || n < 1 || jobs < 1)
		return 2;
	if (path == NULL)
		path = direct ? "/v1/chat/completions" :
		    "/api/match-jobs/stream";
	build_request("127.0.0.1", path, jobs, dirs, rbytes);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);

	ss = calloc((size_t)n, sizeof(*ss));
	if (ss == NULL)
		return 1;
	for (i = 0; i < n; i++)
		ss[i].fd = -1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	t0 = mono();
	deadline = t0 + (int64_t)timeout * 1000000000LL;
	while (ended < n) {
		now = mono();
		if (now >= deadline)
			break;
		while (started < n) {
			next = t0 + (ramp > 0 ? (int64_t)ramp * 1000000LL *
			    started / n : 0);
			if (next > now)
				break;
			start(&ss[started], ep, &sa, started);
			started++;
		}
		k = started < n ? 1 : 100;
		arrival_mono = 0;
		ne = epoll_wait(ep, evs, 512, k);
		for (i = 0; i < ne; i++) {
			struct stream *s = evs[i].data.ptr;

			if (s->st == S_END)
				continue;
			if (evs[i].events & EPOLLOUT)
				on_write(s, ep);
			else if (evs[i].events & (EPOLLIN | EPOLLHUP |
			    EPOLLERR | EPOLLRDHUP))
				on_read(s, ep);
		}
		ended = n_ended;
	}
	wall = 0;
	ft = calloc((size_t)n, sizeof(*ft));
	dt = calloc((size_t)n, sizeof(*dt));
	for (i = 0; i < n; i++) {
		struct stream *s = &ss[i];

		if (s->st != S_END) {
			timeouts++;
			failed++;
			continue;
		}
		tokens += s->ntok;
		if (s->ntok > 0)
			ft[nft++] = s->t_first - s->t_start;
		if (s->error_event)
			errev++;
		if (s->done && !s->failed && !s->error_event) {
			completed++;
			dt[ndt++] = s->t_end - s->t_start;
		} else if (s->failed)
			failed++;
		if (s->t_end - t0 > wall)
			wall = s->t_end - t0;
	}
	if (timeouts > 0)
		wall = mono() - t0;
	/* In the order they arrived, before the sort below. */
	if (samplefile != NULL) {
		FILE *f = fopen(samplefile, "w");
		size_t j;

		if (f != NULL) {
			for (j = 0; j < nsamples; j++)
				fprintf(f, "%lld\n", (long long)samples[j]);
			fclose(f);
		}
	}
	qsort(ft, nft, sizeof(*ft), cmp64);
	qsort(dt, ndt, sizeof(*dt), cmp64);
	qsort(samples, nsamples, sizeof(*samples), cmp64);
	{
		double mean = 0;
		size_t j;

		for (j = 0; j < nsamples; j++)
			mean += (double)samples[j];
		if (nsamples > 0)
			mean /= (double)nsamples;
		printf("{\"label\":\"%s\",\"mode\":\"%s\",\"streams\":%d,"
		    "\"jobs\":%d,\"directives\":\"%s\",\"completed\":%d,"
		    "\"errors\":%d,\"failed\":%d,\"error_events\":%d,"
		    "\"timeouts\":%d,\"tokens\":%lld,", label,
		    direct ? "direct" : "nginx", n, jobs, dirs, completed,
		    failed + errev, failed, errev, timeouts, tokens);
		printf("\"first_token_ms\":{\"p50\":%.3f,\"p99\":%.3f,"
		    "\"max\":%.3f},", pct(ft, nft, 50) / 1e6,
		    pct(ft, nft, 99) / 1e6, pct(ft, nft, 100) / 1e6);
		printf("\"done_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},",
		    pct(dt, ndt, 50) / 1e6, pct(dt, ndt, 99) / 1e6,
		    pct(dt, ndt, 100) / 1e6);
		printf("\"stamp_us\":{\"n\":%zu,\"mean\":%.1f,\"p50\":%.1f,"
		    "\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},",
		    nsamples, mean / 1e3, pct(samples, nsamples, 50) / 1e3,
		    pct(samples, nsamples, 90) / 1e3,
		    pct(samples, nsamples, 99) / 1e3,
		    pct(samples, nsamples, 99.9) / 1e3,
		    pct(samples, nsamples, 100) / 1e3);
		printf("\"wall_ms\":%.3f,\"tokens_per_s\":%.0f}\n", wall / 1e6,
		    wall > 0 ? (double)tokens * 1e9 / (double)wall : 0.0);
	}
	if (firstfile != NULL) {
		/* Per stream: start (ms after the first), first token (ms). */
		FILE *f = fopen(firstfile, "w");

		if (f != NULL) {
			for (i = 0; i < n; i++)
				if (ss[i].ntok > 0)
					fprintf(f, "%.3f %.3f\n",
					    (double)(ss[i].t_start - t0) / 1e6,
					    (double)(ss[i].t_first -
					    ss[i].t_start) / 1e6);
			fclose(f);
		}
	}
	return 0;
}
