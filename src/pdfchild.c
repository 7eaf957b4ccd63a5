/*
 * pdfchild.c - PDF text extraction in a limited child process; see
 * pdf.h.  The slots (how many children run at once), the zygote, the
 * exec fallback, and the child itself with its limits and sandbox.
 *
 * Child protocol: the parent writes the PDF to the child's stdin and
 * closes it; the child answers on stdout with one header line
 * "<status> <pages> <hidden chars> <excerpt length>\n" followed, on
 * PDF_OK, by the hidden text's excerpt and then the text.  Anything else
 * (a signal, a short header, an exit without a header) is PDF_ERR_CRASH.
 *
 * Nothing secret reaches a child: the zygote and exec'd children get
 * child_env() (no OPENAI_API_KEY, nothing of the server's environment
 * but a few locale and sanitizer variables), an empty signal mask, and
 * only descriptors 0-2 (plus the zygote's socket).  Every process here
 * is non-dumpable, so no other process of the same uid can read its
 * memory, environment or descriptors through /proc.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "bounds.h"
#include "buf.h"
#include "clock.h"
#include "docx.h"
#include "hidden.h"
#include "log.h"
#include "pdf.h"
#include "sandbox.h"

#if MJ_SANITIZER
#include <sanitizer/lsan_interface.h>
#endif

/*
 * AddressSanitizer reserves terabytes of address space, and its leak
 * checker needs a helper thread at exit, so RLIMIT_AS and RLIMIT_NPROC
 * can't apply to a sanitizer build; the other limits still do.
 */
#if defined(__SANITIZE_ADDRESS__)
#define STRICT_LIMITS	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRICT_LIMITS	0
#endif
#endif
#ifndef STRICT_LIMITS
#define STRICT_LIMITS	1
#endif

#define HEADER_MAX	64	/* the child's status line */
#define IO_CHUNK	65536
#define ENV_MAX		16	/* child_env() entries, NULL included */

extern char **environ;

/* Exit status of a child whose sandbox the kernel refused. */
#define EXIT_SANDBOX	4

/*
 * The child's environment: a fixed PATH and the few variables that
 * change how it runs but hold nothing secret (locale, sanitizer
 * options).  The server's own environment (OPENAI_API_KEY if it came
 * that way, other credentials a web server passes) stays out.
 */
static const char *const env_pass[] = {
	"LANG", "LC_ALL", "LC_CTYPE", "TZ",
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
};

static void
child_env(char *envp[ENV_MAX])
{
	char	**e;
	size_t	  i, n, k;

	n = 0;
	envp[n++] = (char *)"PATH=/usr/bin:/bin";
	for (e = environ; *e != NULL && n < ENV_MAX - 1; e++)
		for (i = 0; i < sizeof(env_pass) / sizeof(env_pass[0]); i++) {
			k = strlen(env_pass[i]);
			if (strncmp(*e, env_pass[i], k) == 0 &&
			    (*e)[k] == '=') {
				envp[n++] = *e;
				break;
			}
		}
	envp[n] = NULL;
}

/* Spawn attributes: every signal unblocked and at its default. */
static int
spawn_attr(posix_spawnattr_t *sa)
{
	sigset_t	 set;

	if (posix_spawnattr_init(sa) != 0)
		return -1;
	sigemptyset(&set);
	posix_spawnattr_setsigmask(sa, &set);
	sigfillset(&set);
	posix_spawnattr_setsigdefault(sa, &set);
	posix_spawnattr_setflags(sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	return 0;
}

/*
 * Child slots: a counting semaphore over the whole process, with a
 * short queue in front.  A slot is held from before the child starts
 * until it is gone.
 */
static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;	/* a slot came free */
	pthread_once_t	 once;
	int		 running, waiting;
} slots = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	PTHREAD_ONCE_INIT, 0, 0 };

static void
slots_init(void)
{
	pthread_condattr_t	 ca;

	/* Wait on the monotonic clock: no jumps with the wall clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&slots.cv);
	pthread_cond_init(&slots.cv, &ca);
	pthread_condattr_destroy(&ca);
}

/* Take a slot, waiting in the queue if there is room; 0 or -1 (busy). */
static int
slot_take(int max)
{
	struct timespec	 ts;
	int		 rc;

	pthread_once(&slots.once, slots_init);
	if (max < 1)
		max = 1;
	pthread_mutex_lock(&slots.mu);
	if (slots.running >= max) {
		if (slots.waiting >= max * MJ_PDF_QUEUE_PER_CHILD) {
			pthread_mutex_unlock(&slots.mu);
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += MJ_PDF_QUEUE_WAIT_MS / 1000;
		ts.tv_nsec += (long)(MJ_PDF_QUEUE_WAIT_MS % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		slots.waiting++;
		rc = 0;
		while (slots.running >= max && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&slots.cv, &slots.mu, &ts);
		slots.waiting--;
		if (slots.running >= max) {
			pthread_mutex_unlock(&slots.mu);
			return -1;
		}
	}
	slots.running++;
	pthread_mutex_unlock(&slots.mu);
	return 0;
}

static void
slot_give(void)
{
	pthread_mutex_lock(&slots.mu);
	slots.running--;
	pthread_cond_signal(&slots.cv);
	pthread_mutex_unlock(&slots.mu);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Set once the child starts its answer: SIGXCPU then stays quiet. */
static volatile sig_atomic_t answering;

/*
 * The CPU soft limit passed: say so (the header the parent maps to
 * "took too long"), unless the answer is already on its way; the hard
 * limit a second later kills the child either way.
 */
static void
on_xcpu(int sig)
{
	static const char hdr[] = { '0' + PDF_ERR_TIMEOUT, ' ', '0', ' ', '0',
		' ', '0', '\n' };

	(void)sig;
	if (answering)
		return;
	(void)!write(STDOUT_FILENO, hdr, sizeof(hdr));
	_exit(0);
}

/* A DOCX's text (docx.h), in pdf_text()'s terms. */
static enum pdf_status
docx_run(const void *data, size_t len, const struct pdf_limits *lim,
    struct buf *out, struct hidden *hid)
{
	switch (docx_text(data, len, lim->text_max, out, hid)) {
	case DOCX_OK:
		return PDF_OK;
	case DOCX_ERR_NOT_DOCX:
		return PDF_ERR_DOCX_NOT_WORD;
	case DOCX_ERR_NO_TEXT:
		return PDF_ERR_DOCX_NO_TEXT;
	case DOCX_ERR_TOO_BIG:
	case DOCX_ERR_NOMEM:	/* under RLIMIT_AS: the file's size */
		return PDF_ERR_DOCX_TOO_BIG;
	default:
		return PDF_ERR_DOCX_CORRUPT;
	}
}

/*
 * The child's work once its limits are known: limits on itself, read
 * the PDF from stdin, the sandbox, extract, answer on stdout.
 * Returns the exit status.
 */
static int
child_run(const struct pdf_limits *lim, size_t in_max)
{
	struct buf		 in, out;
	struct rlimit		 rl;
	struct sigaction	 sa;
	char			 chunk[IO_CHUNK], hdr[HEADER_MAX];
	ssize_t			 r;
	unsigned		 got;
	struct hidden	 hid;
	int			 pages, n;
	enum pdf_status		 rc;
	enum sandbox_status	 ss;

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Below the server: a busy child must not slow /api/health. */
	(void)setpriority(PRIO_PROCESS, 0, MJ_PDF_NICE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_xcpu;
	sigaction(SIGXCPU, &sa, NULL);
	rl.rlim_cur = (rlim_t)lim->cpu_s;
	rl.rlim_max = (rlim_t)lim->cpu_s + 1;
	setrlimit(RLIMIT_CPU, &rl);
	if (STRICT_LIMITS) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)lim->as_bytes;
		setrlimit(RLIMIT_AS, &rl);
	}
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	if (STRICT_LIMITS)
		setrlimit(RLIMIT_NPROC, &rl);

	buf_init(&in, in_max);
	buf_init(&out, lim->text_max + 1);
	for (;;) {
		r = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 3;
		if (r == 0)
			break;
		if (buf_add(&in, chunk, (size_t)r) != BUF_OK)
			return 3;
	}
	/* libxml2's tables, while it may still look for them. */
	xmlInitParser();
	/* Everything is read: from here on, no network, no new files. */
	ss = sandbox_enter(SANDBOX_ALL, &got);
	if (ss == SANDBOX_ERR) {
		/* Fail closed: poppler never runs unconfined. */
		n = snprintf(hdr, sizeof(hdr), "%d 0 0 0\n",
		    (int)PDF_ERR_SANDBOX);
		(void)write_all(STDOUT_FILENO, hdr, (size_t)n);
		return EXIT_SANDBOX;
	}
	if (ss == SANDBOX_UNSUPPORTED)
		log_msg(LOG_DEBUG, NULL, "PDF child: no sandbox in this "
		    "build and kernel");
	hidden_init(&hid);
	pages = 0;
	if (docx_magic(in.data == NULL ? "" : in.data, in.len))
		rc = docx_run(in.data, in.len, lim, &out, &hid);
	else
		rc = pdf_text(in.data == NULL ? "" : in.data, in.len, lim,
		    &out, &pages, &hid);
	answering = 1;
	if (rc != PDF_OK)
		hid.chars = hid.excerpt_len = 0;
	n = snprintf(hdr, sizeof(hdr), "%d %d %zu %zu\n", (int)rc, pages,
	    hid.chars, hid.excerpt_len);
	if (write_all(STDOUT_FILENO, hdr, (size_t)n) != 0)
		return 3;
	if (rc == PDF_OK && (write_all(STDOUT_FILENO, hid.excerpt,
	    hid.excerpt_len) != 0 ||
	    write_all(STDOUT_FILENO, out.data, out.len) != 0))
		return 3;
	buf_free(&in);
	buf_free(&out);
	return 0;
}

/* A decimal argument from 1 to max, or -1. */
static long long
arg_num(const char *s, long long max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	return v;
}

int
pdf_child_main(int argc, char **argv)
{
	struct pdf_limits	 lim;
	long long		 pages, text, cpu, as, in;

	/* argv: --pdf-extract PAGES TEXT_MAX CPU_S AS_BYTES IN_MAX */
	if (argc != 7)
		return 2;
	pages = arg_num(argv[2], INT_MAX);
	text = arg_num(argv[3], (long long)MJ_RESUME_TEXT_MAX);
	cpu = arg_num(argv[4], INT_MAX);
	as = arg_num(argv[5], LLONG_MAX);
	in = arg_num(argv[6], (long long)MJ_BODY_MAX_CEILING);
	if (pages < 0 || text < 0 || cpu < 0 || as < 0 || in < 0)
		return 2;
	memset(&lim, 0, sizeof(lim));
	lim.pages_max = (int)pages;
	lim.text_max = (size_t)text;
	lim.cpu_s = (int)cpu;
	lim.as_bytes = (size_t)as;
	/*
	 * _exit, as the zygote's children do: nothing is left to flush,
	 * and a sanitizer's leak check at exit needs /proc, which the
	 * sandbox has closed.
	 */
	_exit(child_run(&lim, (size_t)in));
}

/*
 * The zygote: a process started with the server (this binary with
 * --pdf-zygote), with poppler loaded and warmed.  For each PDF the parent sends
 * it the limits and two pipe ends; it forks a child that runs
 * child_run() on them and answers with the child's pid.  A fork of a
 * small single-threaded process costs well under a millisecond, where
 * exec'ing this binary and loading its ~80 libraries costs 10 or more.
 */
struct pdf_zygote {
	int		 sock;	/* SOCK_SEQPACKET to the zygote */
	pid_t		 pid;
	pthread_mutex_t	 mu;	/* one request/answer at a time */
};

/* What the parent sends with the two descriptors. */
struct zreq {
	struct pdf_limits	 lim;	/* exe unused */
	size_t			 in_max;
};

/* One request on the wire: the limits, plus two fds as SCM_RIGHTS. */
struct zmsg {
	struct zreq	 zr;
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		char		 buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr	 align;
	}		 cbuf;
};

/* Point m's header at its own request and control buffers. */
static void
zmsg_init(struct zmsg *m)
{
	memset(m, 0, sizeof(*m));
	m->iov.iov_base = &m->zr;
	m->iov.iov_len = sizeof(m->zr);
	m->mh.msg_iov = &m->iov;
	m->mh.msg_iovlen = 1;
	m->mh.msg_control = m->cbuf.buf;
	m->mh.msg_controllen = sizeof(m->cbuf.buf);
}

static void
zygote_loop(int sock, pid_t parent)
{
	struct zmsg		 m;
	struct cmsghdr		*cm;
	int			 fds[2];
	ssize_t			 n;
	pid_t			 pid;

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGCHLD, SIG_IGN);	/* children reap themselves */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);	/* the parent decides when to stop */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);	/* it died before the line above */
	/*
	 * Loaded now, not in each child after its sandbox is up: the time
	 * zone, poppler's state, fontconfig's.
	 */
	tzset();
#if MJ_SANITIZER
	/*
	 * fontconfig's caches look leaked to LeakSanitizer, whose check
	 * each child runs before its sandbox: they live as long as we do.
	 */
	__lsan_disable();
#endif
	pdf_warm();
#if MJ_SANITIZER
	__lsan_enable();
#endif
	for (;;) {
		zmsg_init(&m);
		n = recvmsg(sock, &m.mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);	/* the parent is gone */
		cm = CMSG_FIRSTHDR(&m.mh);
		if (n != (ssize_t)sizeof(m.zr) || cm == NULL ||
		    cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len != CMSG_LEN(2 * sizeof(int)))
			_exit(1);
		memcpy(fds, CMSG_DATA(cm), sizeof(fds));
		pid = fork();
		if (pid == 0) {
			close(sock);
			if (dup2(fds[0], STDIN_FILENO) < 0 ||
			    dup2(fds[1], STDOUT_FILENO) < 0)
				_exit(3);
			close(fds[0]);
			close(fds[1]);
			signal(SIGCHLD, SIG_DFL);
			/* A backstop if the parent can't kill us. */
			alarm((unsigned)(m.zr.lim.wall_ms / 1000 + 2));
			_exit(child_run(&m.zr.lim, m.zr.in_max));
		}
		close(fds[0]);
		close(fds[1]);
		if (send(sock, &pid, sizeof(pid), 0) != (ssize_t)sizeof(pid))
			_exit(0);
	}
}

enum pdf_status
pdf_zygote_start(struct pdf_zygote **out, const char *exe)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	struct pdf_zygote		*z;
	char				 ppid[24];
	char				*argv[4], *envp[ENV_MAX];
	int				 sv[2], r;
	pid_t				 pid;

	*out = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return PDF_ERR_INTERNAL;
	z = calloc(1, sizeof(*z));
	if (z == NULL || spawn_attr(&sa) != 0) {
		free(z);
		close(sv[0]);
		close(sv[1]);
		return PDF_ERR_INTERNAL;
	}
	snprintf(ppid, sizeof(ppid), "%ld", (long)getpid());
	argv[0] = (char *)"matchjobs-fcgi";
	argv[1] = (char *)"--pdf-zygote";
	argv[2] = ppid;
	argv[3] = NULL;
	child_env(envp);
	/*
	 * Exec'd, not forked: the zygote loads its libraries on the other
	 * core while we go on, and shares no dirty pages with us.  Its
	 * stdin and stdout are /dev/null, stderr our log, fd 3 the socket.
	 */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDWR, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	r = posix_spawn(&pid, exe != NULL ? exe : "/proc/self/exe", &fa,
	    &sa, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(sv[1]);
	if (r != 0) {
		close(sv[0]);
		free(z);
		return PDF_ERR_INTERNAL;
	}
	z->sock = sv[0];
	z->pid = pid;
	pthread_mutex_init(&z->mu, NULL);
	*out = z;
	return PDF_OK;
}

int
pdf_zygote_main(int argc, char **argv)
{
	long long	 ppid;

	/* argv: --pdf-zygote PARENT_PID; the socket is fd 3. */
	if (argc != 3 || (ppid = arg_num(argv[2], INT_MAX)) < 0)
		return 2;
	zygote_loop(3, (pid_t)ppid);
	return 0;
}

void
pdf_zygote_free(struct pdf_zygote *z)
{
	if (z == NULL)
		return;
	close(z->sock);
	kill(z->pid, SIGKILL);
	while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_destroy(&z->mu);
	free(z);
}

/*
 * Have the zygote fork a child on these pipe ends; its pid, or -1.
 * On -1 the zygote may still have received the ends (and a child of it
 * may hold them): the caller must not reuse those pipes.
 */
static pid_t
zygote_fork(struct pdf_zygote *z, const struct pdf_limits *lim,
    size_t in_max, int in_fd, int out_fd)
{
	struct zmsg	 m;
	struct cmsghdr	*cm;
	int		 fds[2] = { in_fd, out_fd };
	pid_t		 pid;
	ssize_t		 n;

	/* Field by field: no uninitialised padding goes over the wire. */
	zmsg_init(&m);
	m.zr.lim.pages_max = lim->pages_max;
	m.zr.lim.text_max = lim->text_max;
	m.zr.lim.wall_ms = lim->wall_ms;
	m.zr.lim.cpu_s = lim->cpu_s;
	m.zr.lim.as_bytes = lim->as_bytes;
	m.zr.in_max = in_max;
	cm = CMSG_FIRSTHDR(&m.mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	pid = -1;
	pthread_mutex_lock(&z->mu);
	if (sendmsg(z->sock, &m.mh, MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(m.zr)) {
		do
			n = recv(z->sock, &pid, sizeof(pid), 0);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(pid))
			pid = -1;
	}
	if (pid <= 0)
		(void)waitpid(z->pid, NULL, WNOHANG);	/* reap a dead one */
	pthread_mutex_unlock(&z->mu);
	return pid;
}

/* A count in the header: digits, then sep; -1 if not. */
static long long
hdr_num(char **p, char sep, long long max)
{
	char		*end;
	long long	 v;

	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	v = strtoll(*p, &end, 10);
	if (errno != 0 || *end != sep || v > max)
		return -1;
	*p = end + 1;
	return v;
}

/*
 * Parse the child's output: header line, then the hidden text's
 * excerpt, then the text.
 */
static enum pdf_status
parse_reply(struct buf *reply, struct buf *out, int *pages,
    struct hidden *hid)
{
	char		*nl, *end, *p;
	long		 st;
	long long	 pg, hc, hl;
	size_t		 left;

	if (reply->data == NULL)
		return PDF_ERR_CRASH;
	nl = memchr(reply->data, '\n', reply->len < HEADER_MAX ?
	    reply->len : HEADER_MAX);
	if (nl == NULL)
		return PDF_ERR_CRASH;
	*nl = '\0';
	st = strtol(reply->data, &end, 10);
	/* Only what the child itself can answer. */
	if (*end != ' ' || st < 0 || st >= PDF__MAX ||
	    (st > PDF_ERR_TIMEOUT && st != PDF_ERR_SANDBOX &&
	    !pdf_is_docx_error((enum pdf_status)st)))
		return PDF_ERR_CRASH;
	p = end + 1;
	if ((pg = hdr_num(&p, ' ', INT_MAX)) < 0 ||
	    (hc = hdr_num(&p, ' ', LLONG_MAX)) < 0 ||
	    (hl = hdr_num(&p, '\0', MJ_HIDDEN_EXCERPT_MAX)) < 0)
		return PDF_ERR_CRASH;
	*pages = (int)pg;
	if (st != PDF_OK)
		return (enum pdf_status)st;
	nl++;
	left = reply->len - (size_t)(nl - reply->data);
	if ((size_t)hl > left)
		return PDF_ERR_CRASH;
	hid->chars = (size_t)hc;
	hid->excerpt_len = (size_t)hl;
	memcpy(hid->excerpt, nl, (size_t)hl);
	hid->excerpt[hl] = '\0';
	if (buf_add(out, nl + hl, left - (size_t)hl) != BUF_OK)
		return PDF_ERR_INTERNAL;
	return PDF_OK;
}

/*
 * Feed the child and collect its answer until both pipes are done or
 * the deadline passes.  Closes wfd on every path (rfd is the caller's).
 * Returns 0, or -1 on timeout, -2 on other errors.
 */
static int
pump(int wfd, int rfd, const char *data, size_t len, struct buf *reply,
    long long deadline)
{
	struct pollfd	 pfd[2];
	char		 chunk[IO_CHUNK];
	size_t		 off;
	ssize_t		 n;
	long long	 left;
	int		 nfd, rc;

	off = 0;
	rc = 0;
	while (rfd >= 0) {
		pfd[0].fd = rfd;
		pfd[0].events = POLLIN;
		nfd = 1;
		if (wfd >= 0) {
			pfd[1].fd = wfd;
			pfd[1].events = POLLOUT;
			nfd = 2;
		}
		left = deadline - clock_ms();
		if (left <= 0) {
			rc = -1;
			break;
		}
		if (poll(pfd, (nfds_t)nfd, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			rc = -2;
			break;
		}
		if (nfd == 2 && pfd[1].revents != 0) {
			n = write(wfd, data + off, len - off < IO_CHUNK ?
			    len - off : IO_CHUNK);
			if (n > 0)
				off += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				off = len;	/* child went away */
			if (off == len) {
				close(wfd);
				wfd = -1;
			}
		}
		if (pfd[0].revents != 0) {
			n = read(rfd, chunk, sizeof(chunk));
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0)
				break;
			if (buf_add(reply, chunk, (size_t)n) != BUF_OK) {
				rc = -2;
				break;
			}
		}
	}
	if (wfd >= 0)
		close(wfd);
	return rc;
}

/*
 * Feed the child its PDF, read its answer, and end it.  waitable: the
 * child is ours (exec path) and its exit status tells crash from
 * timeout; else the zygote reaps it and only the answer counts.
 * Closes wfd and rfd.
 */
static enum pdf_status
collect(const struct pdf_limits *lim, pid_t pid, int waitable, int wfd,
    int rfd, const void *data, size_t len, struct buf *out, int *pages,
    struct hidden *hid)
{
	struct buf	 reply;
	enum pdf_status	 rc;
	int		 r, status;

	fcntl(wfd, F_SETFL, O_NONBLOCK);
	fcntl(rfd, F_SETFL, O_NONBLOCK);
	buf_init(&reply, lim->text_max + HEADER_MAX + MJ_HIDDEN_EXCERPT_MAX);
	r = pump(wfd, rfd, data, len, &reply, clock_ms() + lim->wall_ms);
	close(rfd);
	if (r != 0)
		kill(pid, SIGKILL);
	status = 0;
	if (waitable)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (r == -1)
		rc = PDF_ERR_TIMEOUT;
	else if (r != 0)
		rc = PDF_ERR_INTERNAL;
	else if (waitable && WIFSIGNALED(status))
		rc = WTERMSIG(status) == SIGXCPU ||
		    WTERMSIG(status) == SIGKILL ? PDF_ERR_TIMEOUT :
		    PDF_ERR_CRASH;
	else if (waitable && WIFEXITED(status) &&
	    WEXITSTATUS(status) == EXIT_SANDBOX)
		rc = PDF_ERR_SANDBOX;
	else if (waitable && (!WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0))
		rc = PDF_ERR_CRASH;
	else
		rc = parse_reply(&reply, out, pages, hid);
	buf_free(&reply);
	return rc;
}

static void
close4(int in[2], int out[2])
{
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

/* The child's input and output pipes (close-on-exec), or -1 and none. */
static int
child_pipes(int in[2], int out[2])
{
	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	return 0;
}

/* Run one child for the PDF: the zygote's, or failing that exec'd. */
static enum pdf_status
run_child(const void *data, size_t len, const struct pdf_limits *lim,
    struct buf *out, int *pages, struct hidden *hid)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	char				 a_pages[24], a_text[24], a_cpu[24];
	char				 a_as[24], a_in[24];
	char				*argv[8], *envp[ENV_MAX];
	int				 in[2], outp[2];
	int				 r;
	pid_t				 pid;

	if (child_pipes(in, outp) != 0)
		return PDF_ERR_INTERNAL;
	if (lim->zygote != NULL) {
		pid = zygote_fork(lim->zygote, lim, len, in[0], outp[1]);
		close(in[0]);
		close(outp[1]);
		if (pid > 0)
			return collect(lim, pid, 0, in[1], outp[0], data, len,
			    out, pages, hid);
		/*
		 * The zygote is gone, maybe after it forked a child that
		 * holds these pipes: new ones for the exec'd child.
		 */
		close(in[1]);
		close(outp[0]);
		if (child_pipes(in, outp) != 0)
			return PDF_ERR_INTERNAL;
	}
	snprintf(a_pages, sizeof(a_pages), "%d", lim->pages_max);
	snprintf(a_text, sizeof(a_text), "%zu", lim->text_max);
	snprintf(a_cpu, sizeof(a_cpu), "%d", lim->cpu_s);
	snprintf(a_as, sizeof(a_as), "%zu", lim->as_bytes);
	snprintf(a_in, sizeof(a_in), "%zu", len);
	argv[0] = (char *)"matchjobs-fcgi";
	argv[1] = (char *)"--pdf-extract";
	argv[2] = a_pages;
	argv[3] = a_text;
	argv[4] = a_cpu;
	argv[5] = a_as;
	argv[6] = a_in;
	argv[7] = NULL;
	child_env(envp);

	if (spawn_attr(&sa) != 0) {
		close4(in, outp);
		return PDF_ERR_INTERNAL;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	/* Nothing of the server's (client sockets, upstreams) leaks in. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	r = posix_spawn(&pid, lim->exe != NULL ? lim->exe : "/proc/self/exe",
	    &fa, &sa, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(in[0]);
	close(outp[1]);
	if (r != 0) {
		close(in[1]);
		close(outp[0]);
		return PDF_ERR_INTERNAL;
	}
	return collect(lim, pid, 1, in[1], outp[0], data, len, out, pages,
	    hid);
}

enum pdf_status
pdf_extract(const void *data, size_t len, const struct pdf_limits *lim,
    struct buf *out, int *pages, struct hidden *hid)
{
	enum pdf_status	 rc;

	*pages = 0;
	hidden_init(hid);
	if (!pdf_magic(data, len) && !docx_magic(data, len))
		return PDF_ERR_NOT_PDF;
	if (slot_take(lim->children_max) != 0)
		return PDF_ERR_BUSY;
	rc = run_child(data, len, lim, out, pages, hid);
	slot_give();
	if (rc == PDF_ERR_SANDBOX)
		log_msg(LOG_ERROR, NULL, "PDF child: the kernel refused its "
		    "sandbox; PDFs are refused until that is fixed");
	return rc;
}
