/*
 * fakeup.c - a fast fake OpenAI-compatible upstream for benchmarks.
 *
 *   fakeup [--port N] [--portfile FILE] [--score N] [--statfile FILE]
 *
 * One thread, epoll, HTTP/1.1 keep-alive.  POST .../chat/completions
 * answers with a chunked text/event-stream of chat.completion.chunk
 * events: a role chunk, N content tokens, a finish chunk, a usage chunk
 * (choices []) and "data: [DONE]", one HTTP chunk (one write) per event.
 * The content, concatenated, is one JSON answer the responder accepts:
 *   {"score": S, "summary": "<tokens>", "matched_skills": [...], ...}
 *
 * Knobs, anywhere in the request body (the responder copies a job's
 * jobdata verbatim into the prompt), like tests/fake_openai.py:
 *   <<fake:tokens=N;delay=MS;delay_first=MS;stamp=1;score=S>>
 *   tokens       content tokens (default 20)
 *   delay        ms between content tokens (default 0: back to back)
 *   delay_first  ms before the role chunk and first token (default 0)
 *   stamp=1      each token's text is "t<CLOCK_REALTIME ns> ", taken just
 *                before its write, so the token itself carries its send
 *                time through the responder to the client
 *   tag=N        (N > 0) when the caller closes this stream before its
 *                end, print "fakeup: closed tag=N sent=K at_ms=<realtime
 *                ms>" to stderr: how the bench times a cancelled call
 * GET /health answers 200.  SIGUSR1 prints counters to stderr; on
 * SIGTERM/SIGINT it prints them and exits 0.  With --statfile FILE,
 * SIGUSR2 writes "requests N connections M streaming S" to FILE (replaced
 * atomically): what the bench polls to know that every call has arrived.
 *
 * Build: cc -O2 -Wall -Wextra -o fakeup fakeup.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX		(4u * 1024 * 1024)

struct conn {
	int		 fd;
	uint32_t	 gen;		/* bumped on close: stale timers */
	int		 open;
	int		 streaming;	/* a response is in progress */
	int		 want_out;	/* EPOLLOUT armed */
	char		*in;
	size_t		 inlen, incap;
	char		*out;
	size_t		 outlen, outoff, outcap;
	/* the stream */
	int		 ntok, sent, delay, delay_first, stamp, score, tag;
	int64_t		 next_due;
	struct conn	*free_next;
};

struct timer {
	int64_t		 due;
	struct conn	*c;
	uint32_t	 gen;
};

static int		 ep;
static struct conn	*free_conns;
static struct timer	*heap;
static size_t		 nheap, capheap;
static int		 default_score = 70;
static volatile sig_atomic_t stop_flag, usr1_flag, usr2_flag;
static unsigned long long n_requests, n_events, n_tokens, n_conns;
static long long	 n_streaming;
static const char	*statfile;

static int64_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t
now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fakeup: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		die("out of memory");
	return p;
}

/* ---- timer heap ---- */

static void
heap_push(int64_t due, struct conn *c)
{
	size_t	 i, p;
	struct timer t;

	if (nheap == capheap) {
		capheap = capheap ? capheap * 2 : 1024;
		heap = xrealloc(heap, capheap * sizeof(*heap));
	}
	t.due = due;
	t.c = c;
	t.gen = c->gen;
	i = nheap++;
	while (i > 0) {
		p = (i - 1) / 2;
		if (heap[p].due <= due)
			break;
		heap[i] = heap[p];
		i = p;
	}
	heap[i] = t;
}

static struct timer
heap_pop(void)
{
	struct timer	 top = heap[0], last;
	size_t		 i, l, r, m;

	last = heap[--nheap];
	i = 0;
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		if (l >= nheap)
			break;
		m = (r < nheap && heap[r].due < heap[l].due) ? r : l;
		if (heap[m].due >= last.due)
			break;
		heap[i] = heap[m];
		i = m;
	}
	if (nheap > 0)
		heap[i] = last;
	return top;
}

/* ---- connections ---- */

static void
conn_close(struct conn *c)
{
	if (!c->open)
		return;
	if (c->streaming) {
		n_streaming--;
		if (c->tag > 0)
			fprintf(stderr, "fakeup: closed tag=%d sent=%d "
			    "at_ms=%lld\n", c->tag, c->sent,
			    (long long)(now_real() / 1000000));
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->open = 0;
	c->gen++;
	c->streaming = 0;
	c->inlen = 0;
	c->outlen = c->outoff = 0;
	c->want_out = 0;
	c->free_next = free_conns;
	free_conns = c;
}

static void
arm(struct conn *c, int out)
{
	struct epoll_event ev;

	if (c->want_out == out)
		return;
	c->want_out = out;
	ev.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what is queued; then p/n.  Returns -1 if the conn was closed. */
static int
send_bytes(struct conn *c, const char *p, size_t n)
{
	ssize_t w;

	while (c->outoff < c->outlen) {
		w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			conn_close(c);
			return -1;
		}
		c->outoff += (size_t)w;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen == 0) {
		while (n > 0) {
			w = write(c->fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				break;
			if (w <= 0) {
				conn_close(c);
				return -1;
			}
			p += w;
			n -= (size_t)w;
		}
	}
	if (n > 0) {
		if (c->outlen + n > c->outcap) {
			c->outcap = (c->outlen + n) * 2;
			c->out = xrealloc(c->out, c->outcap);
		}
		memcpy(c->out + c->outlen, p, n);
		c->outlen += n;
	}
	arm(c, c->outlen > c->outoff);
	return 0;
}

/* Send one SSE event "data: <s>\n\n" as one HTTP chunk. */
static int
send_event(struct conn *c, const char *s, size_t n)
{
	char	 buf[4096];
	int	 h;

	if (n + 32 > sizeof(buf))
		return -1;
	h = snprintf(buf, sizeof(buf), "%zx\r\ndata: ", n + 8);
	memcpy(buf + h, s, n);
	memcpy(buf + h + n, "\n\n\r\n", 4);
	n_events++;
	return send_bytes(c, buf, (size_t)h + n + 4);
}

#define CHUNK_HEAD "{\"id\":\"chatcmpl-bench\",\"object\":" \
	"\"chat.completion.chunk\",\"created\":1732600000,\"model\":\"bench\","

static int
send_role(struct conn *c)
{
	static const char s[] = CHUNK_HEAD "\"choices\":[{\"index\":0,"
	    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
	    "\"finish_reason\":null}]}";

	return send_event(c, s, sizeof(s) - 1);
}

/* Content token i of the stream; the text is JSON-escaped in place. */
static int
send_token(struct conn *c, int i)
{
	char	 s[1024];
	int	 n;

	n = snprintf(s, sizeof(s), CHUNK_HEAD "\"choices\":[{\"index\":0,"
	    "\"delta\":{\"content\":\"");
	if (i == 0)
		n += snprintf(s + n, sizeof(s) - (size_t)n,
		    "{\\\"score\\\": %d, \\\"summary\\\": \\\"", c->score);
	if (c->stamp)
		n += snprintf(s + n, sizeof(s) - (size_t)n, "t%019lld ",
		    (long long)now_real());
	else
		n += snprintf(s + n, sizeof(s) - (size_t)n, "word%d ", i);
	if (i == c->ntok - 1)
		n += snprintf(s + n, sizeof(s) - (size_t)n,
		    "\\\", \\\"matched_skills\\\": [\\\"C\\\", "
		    "\\\"Linux\\\"], \\\"missing_skills\\\": [\\\"Go\\\"]}");
	n += snprintf(s + n, sizeof(s) - (size_t)n,
	    "\"},\"finish_reason\":null}]}");
	n_tokens++;
	return send_event(c, s, (size_t)n);
}

static int
send_tail(struct conn *c)
{
	char	 s[2048];
	int	 n, m;

	n = 0;
	{
		static const char fin[] = CHUNK_HEAD "\"choices\":[{\"index\":0,"
		    "\"delta\":{},\"finish_reason\":\"stop\"}]}";
		char usage[512];

		m = snprintf(usage, sizeof(usage), CHUNK_HEAD "\"choices\":[],"
		    "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":%d,"
		    "\"total_tokens\":%d}}", c->ntok, c->ntok + 100);
		n += snprintf(s + n, sizeof(s) - (size_t)n,
		    "%zx\r\ndata: %s\n\n\r\n", sizeof(fin) - 1 + 8, fin);
		n += snprintf(s + n, sizeof(s) - (size_t)n,
		    "%x\r\ndata: %s\n\n\r\n", (unsigned)m + 8, usage);
		n += snprintf(s + n, sizeof(s) - (size_t)n,
		    "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n");
	}
	n_events += 3;
	return send_bytes(c, s, (size_t)n);
}

static void process_input(struct conn *c);

/* Advance a stream: called when its timer is due (or at once). */
static void
stream_step(struct conn *c)
{
	if (c->sent == 0 && send_role(c) != 0)
		return;
	for (;;) {
		if (c->sent < c->ntok) {
			if (send_token(c, c->sent) != 0)
				return;
			c->sent++;
		}
		if (c->sent >= c->ntok) {
			if (send_tail(c) != 0)
				return;
			c->streaming = 0;
			n_streaming--;
			process_input(c);	/* a pipelined next request */
			return;
		}
		if (c->delay > 0) {
			c->next_due += (int64_t)c->delay * 1000000LL;
			heap_push(c->next_due, c);
			return;
		}
	}
}

static int
directive(const char *body, size_t len, const char *key, int def)
{
	const char	*p, *end, *q;
	size_t		 kl = strlen(key);
	int		 v = def;

	end = body + len;
	for (p = body; p < end; p++) {
		p = memmem(p, (size_t)(end - p), "<<fake:", 7);
		if (p == NULL)
			break;
		p += 7;
		q = p;
		while (q < end && !(q[0] == '>' && q + 1 < end && q[1] == '>')) {
			if ((q == p || q[-1] == ';') && (size_t)(end - q) > kl &&
			    memcmp(q, key, kl) == 0 && q[kl] == '=')
				v = atoi(q + kl + 1);
			q++;
		}
	}
	return v;
}

static void
simple(struct conn *c, int status, const char *reason, const char *body)
{
	char	 s[512];
	int	 n;

	n = snprintf(s, sizeof(s), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\n\r\n%s", status,
	    reason, strlen(body), body);
	send_bytes(c, s, (size_t)n);
}

/* Parse complete requests from c->in. */
static void
process_input(struct conn *c)
{
	char		*he, *p, *line_end;
	size_t		 hlen, clen, total;
	int		 is_post;
	static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/event-stream\r\nCache-Control: no-cache\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";

	while (c->open && !c->streaming && c->inlen > 0) {
		he = memmem(c->in, c->inlen, "\r\n\r\n", 4);
		if (he == NULL) {
			if (c->inlen > 65536)
				conn_close(c);
			return;
		}
		hlen = (size_t)(he - c->in) + 4;
		*he = '\0';
		clen = 0;
		for (p = c->in; (p = strchr(p, '\n')) != NULL; ) {
			p++;
			if (strncasecmp(p, "content-length:", 15) == 0)
				clen = strtoul(p + 15, NULL, 10);
		}
		*he = '\r';
		if (clen > REQ_MAX) {
			conn_close(c);
			return;
		}
		total = hlen + clen;
		if (c->inlen < total)
			return;
		n_requests++;
		is_post = strncmp(c->in, "POST ", 5) == 0;
		line_end = memchr(c->in, '\r', hlen);
		*line_end = '\0';
		if (is_post && strstr(c->in, "/chat/completions") != NULL) {
			c->ntok = directive(c->in + hlen, clen, "tokens", 20);
			if (c->ntok < 1)
				c->ntok = 1;
			c->delay = directive(c->in + hlen, clen, "delay", 0);
			c->delay_first = directive(c->in + hlen, clen,
			    "delay_first", 0);
			c->stamp = directive(c->in + hlen, clen, "stamp", 0);
			c->score = directive(c->in + hlen, clen, "score",
			    default_score);
			c->tag = directive(c->in + hlen, clen, "tag", 0);
			c->sent = 0;
			c->streaming = 1;
			n_streaming++;
		} else if (strncmp(c->in, "GET /health", 11) == 0) {
			simple(c, 200, "OK", "{\"status\":\"ok\"}");
		} else {
			simple(c, 404, "Not Found", "{\"error\":\"not found\"}");
		}
		if (!c->open)
			return;
		memmove(c->in, c->in + total, c->inlen - total);
		c->inlen -= total;
		if (c->streaming) {
			if (send_bytes(c, hdr, sizeof(hdr) - 1) != 0)
				return;
			c->next_due = now_mono();
			if (c->delay_first > 0) {
				c->next_due += (int64_t)c->delay_first *
				    1000000LL;
				heap_push(c->next_due, c);
			} else
				stream_step(c);
		}
	}
}

static void
on_readable(struct conn *c)
{
	ssize_t r;

	for (;;) {
		if (c->incap - c->inlen < 65536) {
			c->incap = c->incap ? c->incap * 2 : 131072;
			if (c->incap > REQ_MAX + 131072) {
				conn_close(c);
				return;
			}
			c->in = xrealloc(c->in, c->incap);
		}
		r = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			conn_close(c);
			return;
		}
		c->inlen += (size_t)r;
	}
	process_input(c);
}

static void
on_accept(int lfd)
{
	struct conn		*c;
	struct epoll_event	 ev;
	int			 fd, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (free_conns != NULL) {
			c = free_conns;
			free_conns = c->free_next;
		} else {
			c = calloc(1, sizeof(*c));
			if (c == NULL)
				die("out of memory");
		}
		c->fd = fd;
		c->open = 1;
		c->want_out = 0;
		n_conns++;
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			c->open = 0;
			c->free_next = free_conns;
			free_conns = c;
		}
	}
}

static void
on_signal(int s)
{
	if (s == SIGUSR1)
		usr1_flag = 1;
	else if (s == SIGUSR2)
		usr2_flag = 1;
	else
		stop_flag = 1;
}

static void
report(void)
{
	fprintf(stderr, "fakeup: requests %llu, connections %llu, events "
	    "%llu, tokens %llu\n", n_requests, n_conns, n_events, n_tokens);
}

static void
write_stats(void)
{
	char	 tmp[4096];
	FILE	*f;

	if (statfile == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", statfile);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f, "requests %llu connections %llu streaming %lld\n",
	    n_requests, n_conns, n_streaming);
	fclose(f);
	rename(tmp, statfile);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sa;
	socklen_t		 sl;
	struct epoll_event	 evs[256], ev;
	struct timespec		 ts;
	struct sigaction	 sact;
	const char		*portfile = NULL;
	int			 lfd, port = 0, i, n, one = 1;
	int64_t			 now, wait;
	FILE			*f;
	char			 tmp[4096];

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--portfile") == 0 && i + 1 < argc)
			portfile = argv[++i];
		else if (strcmp(argv[i], "--score") == 0 && i + 1 < argc)
			default_score = atoi(argv[++i]);
		else if (strcmp(argv[i], "--statfile") == 0 && i + 1 < argc)
			statfile = argv[++i];
		else
			die("usage: fakeup [--port N] [--portfile FILE] "
			    "[--score N] [--statfile FILE]");
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sact, 0, sizeof(sact));
	sact.sa_handler = on_signal;
	sigaction(SIGTERM, &sact, NULL);
	sigaction(SIGINT, &sact, NULL);
	sigaction(SIGUSR1, &sact, NULL);
	sigaction(SIGUSR2, &sact, NULL);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 65535) != 0)
		die("bind/listen: %s", strerror(errno));
	sl = sizeof(sa);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	if (portfile != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		f = fopen(tmp, "w");
		if (f == NULL)
			die("%s: %s", tmp, strerror(errno));
		fprintf(f, "%d\n", port);
		fclose(f);
		rename(tmp, portfile);
	} else
		printf("%d\n", port), fflush(stdout);

	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

	while (!stop_flag) {
		if (usr1_flag) {
			usr1_flag = 0;
			report();
		}
		if (usr2_flag) {
			usr2_flag = 0;
			write_stats();
		}
		/* Fire due timers. */
		now = now_mono();
		while (nheap > 0 && heap[0].due <= now) {
			struct timer t = heap_pop();

			if (t.c->open && t.c->gen == t.gen && t.c->streaming)
				stream_step(t.c);
		}
		wait = nheap > 0 ? heap[0].due - now_mono() : 1000000000LL;
		if (wait < 0)
			wait = 0;
		ts.tv_sec = wait / 1000000000LL;
		ts.tv_nsec = wait % 1000000000LL;
		n = epoll_pwait2(ep, evs, 256, &ts, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c == NULL) {
				on_accept(lfd);
				continue;
			}
			if (!c->open)
				continue;
			if (evs[i].events & EPOLLOUT) {
				if (send_bytes(c, NULL, 0) != 0)
					continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR))
				on_readable(c);
		}
	}
	report();
	return 0;
}
