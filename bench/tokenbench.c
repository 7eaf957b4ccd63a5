/*
 * tokenbench.c - time the responder's own work per streamed token, with
 * thousands of streams open: everything between libcurl handing over the
 * bytes of one SSE event and the FastCGI record leaving for the client.
 *
 * Usage: tokenbench [STREAMS [TOKENS]]   (default 2000 streams, 50 each)
 *
 * Per stream: a socketpair stands for the web server's connection (the
 * FastCGI request is read from it as the responder does), a run log, an
 * SSE follower on a writer (writer.h) and an event stream parser.  Each
 * token is the chat.completion.chunk event fakeup sends (bench/fakeup.c),
 * fed to the stream's parser (sseparse.c), parsed (chunk.c), rendered as
 * the engine renders a token frame and appended to the run's log
 * (runlog.c); every 256 tokens (what one turn of the runner's pool reads
 * at most) the writer writes the streams that have new frames
 * (follow.c, output.c, sse.c, fconn.c: one sendmsg per stream).  Tokens
 * go to the streams round robin, so each one touches another stream's
 * memory, as 2000 streams of 10 tokens/s do.  The web server's ends are
 * read between turns; that time is left out.
 *
 * Prints the thread CPU time per token, split into parsing + appending
 * (the runner's on_write path) and writing (wr_turn, with its sendmsg).
 * libcurl, the upstream socket and the kernel's side of the client
 * socket are not in it: bench/run's streams scenario measures the whole.
 *
 * Build from a configured build directory (it links libmj.a):
 *   cc -std=c11 -O2 -I build -iquote src bench/tokenbench.c \
 *       build/libmj.a $(pkg-config --libs json-c) -pthread -o tokenbench
 */
#include "config.h"

#include <err.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "chunk.h"
#include "clock.h"
#include "fcgi.h"
#include "fconn.h"
#include "follow.h"
#include "output.h"
#include "runlog.h"
#include "sseparse.h"
#include "writer.h"

#define TB_TURN		256	/* tokens between writer turns */

struct stream {
	int		 peer;		/* the web server's end */
	struct fconn	*c;
	struct out	 o;
	struct runlog	*log;
	struct ssep	 sse;
	int		 ended;
};

static struct buf	 scratch;	/* one token frame, as the engine's */

static void	on_end(void *, enum fl_status);

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A stream's connection, its request read as the responder reads one. */
static void
stream_open(struct stream *s, const struct config *cfg, struct writer *w,
    size_t i)
{
	/* FCGI_BEGIN_REQUEST (responder), REQUEST_METHOD=POST, the end of
	 * the params and of stdin: what nginx sends, less its params. */
	static const unsigned char req[] = {
		1, FCGI_BEGIN_REQUEST, 0, 1, 0, 8, 0, 0,
		0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0,
		1, FCGI_PARAMS, 0, 1, 0, 20, 4, 0,
		14, 4, 'R', 'E', 'Q', 'U', 'E', 'S', 'T', '_',
		'M', 'E', 'T', 'H', 'O', 'D', 'P', 'O', 'S', 'T', 0, 0, 0, 0,
		1, FCGI_PARAMS, 0, 1, 0, 0, 0, 0,
		1, FCGI_STDIN, 0, 1, 0, 0, 0, 0,
	};
	char			 id[RL_ID_LEN + 1], tmp[16];
	struct fl		*f;
	size_t			 got;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		err(1, "socketpair (stream %zu)", i);
	if (write(sv[1], req, sizeof(req)) != (ssize_t)sizeof(req))
		err(1, "write");
	s->peer = sv[1];
	if (fcntl(s->peer, F_SETFL, O_NONBLOCK) != 0)
		err(1, "fcntl");
	if ((s->c = fconn_new(sv[0], 1)) == NULL ||
	    fconn_begin(s->c, clock_ms() + 5000) != FCONN_OK ||
	    fconn_read(s->c, tmp, sizeof(tmp), clock_ms() + 5000, &got) !=
	    FCONN_OK)
		errx(1, "stream %zu: the request did not read", i);
	out_init(&s->o, s->c, NULL, "tokenbench");
	if (out_sse_begin(&s->o, NULL) != OUT_OK)
		errx(1, "out_sse_begin");
	if (rl_new_id(id) != RL_OK || rl_new(id, &s->log) != RL_OK)
		errx(1, "rl_new");
	ssep_init(&s->sse, 256 * 1024);
	if ((f = fl_new(FL_SSE, &s->o, s->c, s->log, 0, NULL, cfg)) == NULL ||
	    fconn_nonblock(s->c) != FCONN_OK)
		errx(1, "fl_new");
	if (wr_add(w, f, fconn_fd(s->c), on_end, s) != WR_OK)
		errx(1, "wr_add");
}

/* The writer's end(): the stream was written through (or broke). */
static void
on_end(void *arg, enum fl_status st)
{
	struct stream *s = arg;

	if (st != FL_OK)
		errx(1, "a stream ended %s", fl_strerror(st));
	s->ended = 1;
}

/* The engine's token frame, appended (engine.c token_event). */
static int
on_event(void *arg, const char *event, const char *data, size_t len)
{
	struct stream	*s = arg;
	struct chunk	 c;
	int		 rc = 0;

	(void)event;
	memset(&c, 0, sizeof(c));
	if (chunk_parse(data, len, &c) != CHUNK_OK || c.content == NULL)
		errx(1, "chunk_parse");
	buf_reset(&scratch);
	if (buf_adds(&scratch, "{\"type\":\"token\",\"index\":0,"
	    "\"content\":\"") != BUF_OK ||
	    buf_add_json_str(&scratch, c.content, c.content_len) != BUF_OK ||
	    buf_adds(&scratch, "\"}") != BUF_OK ||
	    rl_append(s->log, "token", scratch.data, scratch.len, RL_RUNNING,
	    NULL) != RL_OK)
		rc = 1;
	chunk_free(&c);
	return rc;
}

/* Read what the web server's ends hold (time not counted). */
static void
drain(struct stream *st, size_t n)
{
	char	 b[16384];
	size_t	 i;

	for (i = 0; i < n; i++)
		while (read(st[i].peer, b, sizeof(b)) > 0)
			;
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	struct writer	*w;
	struct stream	*st;
	struct rlimit	 rl;
	char		 ev[512];
	double		 t, t_app = 0, t_wr = 0, t0;
	size_t		 n = 2000, tokens = 50, i, j, k, done;
	int		 len;

	if (argc > 1)
		n = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		tokens = strtoul(argv[2], NULL, 10);
	if (n == 0 || tokens == 0)
		errx(2, "usage: tokenbench [STREAMS [TOKENS]]");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.keepalive_ms = 600000;
	cfg.client_timeout_ms = 600000;
	buf_init(&scratch, 64u * 1024 * 1024);
	if (wr_new(&cfg, &w) != WR_OK)
		errx(1, "wr_new");
	wr_set_thread(w, pthread_self());
	if ((st = calloc(n, sizeof(*st))) == NULL)
		errx(1, "out of memory");
	for (i = 0; i < n; i++)
		stream_open(&st[i], &cfg, w, i);
	wr_turn(w, clock_ms());
	drain(st, n);

	for (k = 0; k < tokens; k++) {
		len = snprintf(ev, sizeof(ev), "data: {\"id\":\"chatcmpl-bench\","
		    "\"object\":\"chat.completion.chunk\",\"created\":1,"
		    "\"model\":\"bench\",\"choices\":[{\"index\":0,\"delta\":"
		    "{\"content\":\"t%zu \"},\"finish_reason\":null}]}\n\n",
		    1000000000000000000 + k);
		for (i = 0; i < n; i = j) {
			/* One turn: up to TB_TURN streams get a token. */
			t0 = cpu_ns();
			for (j = i; j < n && j - i < TB_TURN; j++)
				if (ssep_feed(&st[j].sse, ev, (size_t)len,
				    on_event, &st[j]) != SSEP_OK)
					errx(1, "ssep_feed");
			t = cpu_ns();
			wr_turn(w, clock_ms());
			t_wr += cpu_ns() - t;
			t_app += t - t0;
			drain(st + i, j - i);
		}
	}
	for (i = 0; i < n; i++)
		if (rl_append(st[i].log, "done", "{\"type\":\"done\"}", 15,
		    RL_DONE, NULL) != RL_OK)
			errx(1, "done");
	while (wr_count(w) > 0) {
		wr_turn(w, clock_ms());
		drain(st, n);
	}
	for (i = 0, done = 0; i < n; i++) {
		done += st[i].ended;
		ssep_free(&st[i].sse);
		out_free(&st[i].o);
		fconn_free(st[i].c);
		rl_unref(st[i].log);
		close(st[i].peer);
	}
	if (done != n)
		errx(1, "%zu of %zu streams ended", done, n);
	wr_free(w);
	free(st);
	buf_free(&scratch);
	printf("tokenbench: %zu streams x %zu tokens: %.0f ns/token "
	    "(parse + append %.0f, write %.0f)\n", n, tokens,
	    (t_app + t_wr) / (double)(n * tokens), t_app / (double)(n * tokens),
	    t_wr / (double)(n * tokens));
	return 0;
}
