/*
 * fcgiping.c - startup time and idle memory of a fresh responder.
 *
 *   fcgiping --bin PATH --sock PATH [--runs N] [--settle MS]
 *
 * Each run: fork/exec `PATH --listen unix:SOCK`, then try to connect to
 * the socket every 100 us and send a FastCGI GET /api/health; the time
 * from just before fork() to the end of a 200 answer whose body says
 * "ok" is the startup time.  After --settle ms (default 300) it reads
 * Private_Dirty and Rss from /proc/PID/smaps_rollup and Threads from
 * /proc/PID/status, sends SIGTERM and waits.  The environment is passed
 * through.  Prints one JSON object (times in ms, sizes in kB); the
 * memory figures are those of the last run.
 *
 * Build: cc -O2 -Wall -Wextra -o fcgiping fcgiping.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static size_t
rec(unsigned char *b, int type, const unsigned char *c, size_t n)
{
	b[0] = 1;
	b[1] = (unsigned char)type;
	b[2] = 0;
	b[3] = 1;		/* request id 1 */
	b[4] = (unsigned char)(n >> 8);
	b[5] = (unsigned char)n;
	b[6] = 0;
	b[7] = 0;
	if (n > 0)
		memcpy(b + 8, c, n);
	return 8 + n;
}

static size_t
param(unsigned char *b, const char *k, const char *v)
{
	size_t kl = strlen(k), vl = strlen(v);

	b[0] = (unsigned char)kl;
	b[1] = (unsigned char)vl;
	memcpy(b + 2, k, kl);
	memcpy(b + 2 + kl, v, vl);
	return 2 + kl + vl;
}

/* One health request; 0 if answered 200 with "ok" in the body. */
static int
health(const char *sock)
{
	struct sockaddr_un	 sa;
	unsigned char		 out[2048], p[1024], in[8192];
	static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t			 n = 0, pl = 0, got = 0;
	ssize_t			 r;
	int			 fd, ended = 0;
	char			*body;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	pl += param(p + pl, "REQUEST_METHOD", "GET");
	pl += param(p + pl, "SCRIPT_NAME", "/api/health");
	pl += param(p + pl, "REQUEST_URI", "/api/health");
	pl += param(p + pl, "DOCUMENT_URI", "/api/health");
	pl += param(p + pl, "SERVER_PROTOCOL", "HTTP/1.1");
	pl += param(p + pl, "GATEWAY_INTERFACE", "CGI/1.1");
	pl += param(p + pl, "CONTENT_LENGTH", "0");
	pl += param(p + pl, "SERVER_NAME", "localhost");
	pl += param(p + pl, "REMOTE_ADDR", "127.0.0.1");
	n += rec(out + n, 1, begin, 8);
	n += rec(out + n, 4, p, pl);
	n += rec(out + n, 4, NULL, 0);
	n += rec(out + n, 5, NULL, 0);
	if (write(fd, out, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	while (got < sizeof(in) - 1 && !ended) {
		r = read(fd, in + got, sizeof(in) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		/* Walk the records; stop at END_REQUEST (type 3). */
		{
			size_t off = 0;

			while (off + 8 <= got) {
				size_t cl = (size_t)in[off + 4] << 8 |
				    in[off + 5];
				size_t rl = 8 + cl + in[off + 6];

				if (off + rl > got)
					break;
				if (in[off + 1] == 3)
					ended = 1;
				off += rl;
			}
		}
	}
	close(fd);
	in[got] = '\0';
	/* Records are small: search the raw bytes. */
	body = memmem(in, got, "\"status\":\"ok\"", 13);
	if (!ended || body == NULL ||
	    (memmem(in, got, "Status: 200", 11) == NULL &&
	    memmem(in, got, "Status:", 7) != NULL))
		return -1;
	return 0;
}

static long
field(const char *path, const char *name)
{
	FILE	*f = fopen(path, "r");
	char	 line[256];
	long	 v = -1;
	size_t	 l = strlen(name);

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, l) == 0 && line[l] == ':')
			v = strtol(line + l + 1, NULL, 10);
	fclose(f);
	return v;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char	*bin = NULL, *sock = NULL;
	char		 listen[200], path[64];
	int		 runs = 5, settle = 300, i, k, status;
	double		 t[100];
	long		 pd = -1, rss = -1, thr = -1, pd0 = -1;
	pid_t		 pid;
	int64_t		 t0, limit;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bin") == 0 && i + 1 < argc)
			bin = argv[++i];
		else if (strcmp(argv[i], "--sock") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--settle") == 0 && i + 1 < argc)
			settle = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: fcgiping --bin PATH --sock "
			    "PATH [--runs N] [--settle MS]\n");
			return 2;
		}
	}
	if (bin == NULL || sock == NULL || runs < 1 || runs > 100)
		return 2;
	snprintf(listen, sizeof(listen), "unix:%s", sock);
	for (k = 0; k < runs; k++) {
		unlink(sock);
		t0 = mono();
		pid = fork();
		if (pid == 0) {
			/* As root, the responder refuses to run without
			 * --allow-root (or --user). */
			if (geteuid() == 0)
				execl(bin, bin, "--allow-root", "--listen", listen,
				    (char *)NULL);
			else
				execl(bin, bin, "--listen", listen, (char *)NULL);
			_exit(127);
		}
		if (pid < 0)
			return 1;
		limit = t0 + 5000000000LL;
		while (health(sock) != 0) {
			if (mono() > limit ||
			    waitpid(pid, &status, WNOHANG) == pid) {
				fprintf(stderr, "fcgiping: no answer\n");
				kill(pid, SIGKILL);
				return 1;
			}
			usleep(100);
		}
		t[k] = (double)(mono() - t0) / 1e6;
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
		pd0 = field(path, "Private_Dirty");
		usleep((useconds_t)settle * 1000);
		pd = field(path, "Private_Dirty");
		rss = field(path, "Rss");
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		thr = field(path, "Threads");
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	printf("{\"runs\":%d,\"startup_ms\":[", runs);
	for (k = 0; k < runs; k++)
		printf("%s%.3f", k ? "," : "", t[k]);
	qsort(t, (size_t)runs, sizeof(t[0]), cmpd);
	printf("],\"startup_ms_median\":%.3f,\"startup_ms_max\":%.3f,"
	    "\"private_dirty_kb_at_first_answer\":%ld,"
	    "\"private_dirty_kb\":%ld,\"rss_kb\":%ld,\"threads\":%ld}\n",
	    t[runs / 2], t[runs - 1], pd0, pd, rss, thr);
	unlink(sock);
	return 0;
}
