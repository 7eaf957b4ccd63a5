/*
 * chunkbench.c - time chunk_parse() on a realistic OpenAI delta chunk.
 *
 * Usage: chunkbench [N [THREADS]]
 *   N        calls per thread (default 1000000)
 *   THREADS  threads calling chunk_parse() at once (default 1), to show
 *            contention on process-wide locks
 * Prints ns per call (wall time / calls of one thread) and, with
 * several threads, the total calls per second.
 *
 * Build against the module (or any other chunk.c with the same API, e.g.
 * the json-c one, to compare):
 *   cc -std=c11 -O2 -I. -iquote src bench/chunkbench.c src/chunk.c \
 *       -o chunkbench -pthread
 *   cc -std=c11 -O2 -I. -iquote src $(pkg-config --cflags json-c) \
 *       bench/chunkbench.c old/chunk.c -o chunkbench-old -pthread \
 *       $(pkg-config --libs json-c)
 */
#include "config.h"

#include <err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chunk.h"

#define BENCH_N_DEFAULT		1000000L
#define BENCH_THREADS_MAX	256

/* One content token as api.openai.com streams it. */
static const char payload[] =
    "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":"
    "\"chat.completion.chunk\",\"created\":1741570283,\"model\":"
    "\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_06737a9306\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello\"},"
    "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}";

struct worker {
	pthread_t	 tid;
	long		 n;		/* calls to make */
	size_t		 bytes;		/* content bytes seen, a checksum */
	int		 failed;	/* a call did not give "hello" */
};

static void *
work(void *arg)
{
	struct worker	*w = arg;
	struct chunk	 c;
	long		 i;

	for (i = 0; i < w->n; i++) {
		if (chunk_parse(payload, sizeof(payload) - 1, &c) !=
		    CHUNK_OK || c.content_len != 5 ||
		    memcmp(c.content, "hello", 5) != 0)
			w->failed = 1;
		w->bytes += c.content_len;
		chunk_free(&c);
	}
	return NULL;
}

static long
arg_long(const char *s, long min, long max, const char *what)
{
	char	*end;
	long	 v;

	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < min || v > max)
		errx(2, "%s: want %ld to %ld, not \"%s\"", what, min, max, s);
	return v;
}

int
main(int argc, char *argv[])
{
	static struct worker	 w[BENCH_THREADS_MAX];
	struct timespec		 t0, t1;
	long			 n = BENCH_N_DEFAULT, i, threads = 1;
	double			 ns;
	size_t			 bytes = 0;

	if (argc > 3)
		errx(2, "usage: chunkbench [N [THREADS]]");
	if (argc > 1)
		n = arg_long(argv[1], 1, 1000000000L, "N");
	if (argc > 2)
		threads = arg_long(argv[2], 1, BENCH_THREADS_MAX, "THREADS");

	/* Warm up caches and the allocator. */
	w[0].n = n / 10 + 1;
	work(&w[0]);
	memset(&w[0], 0, sizeof(w[0]));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < threads; i++) {
		w[i].n = n;
		if (pthread_create(&w[i].tid, NULL, work, &w[i]) != 0)
			errx(1, "pthread_create failed");
	}
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].failed)
			errx(1, "chunk_parse gave a wrong result");
		bytes += w[i].bytes;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (bytes != (size_t)n * (size_t)threads * 5)
		errx(1, "checksum mismatch");

	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec);
	printf("chunk_parse: %zu-byte payload, %ld calls x %ld threads: "
	    "%.1f ns/call", sizeof(payload) - 1, n, threads, ns / (double)n);
	if (threads > 1)
		printf(", %.0f calls/s in all",
		    (double)n * (double)threads / (ns / 1e9));
	printf("\n");
	return 0;
}
