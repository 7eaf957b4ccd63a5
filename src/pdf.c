/*
 * pdf.c - PDF text extraction in a limited child process; see pdf.h.
 *
 * Child protocol: the parent writes the PDF to the child's stdin and
 * closes it; the child answers on stdout with one header line
 * "<status> <pages>\n" followed, on PDF_OK, by the text.  Anything else
 * (a signal, a short header, an exit without a header) is PDF_ERR_CRASH.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poppler.h>

#include "buf.h"
#include "clock.h"
#include "pdf.h"
#include "sandbox.h"
#include "utf8.h"

extern char **environ;

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

static const char *const messages[PDF__MAX] = {
	/* PDF_OK */
	"ok",
	/* PDF_ERR_NOT_PDF */
	"The uploaded file is not a PDF.",
	/* PDF_ERR_CORRUPT */
	"The PDF could not be read; it may be damaged. Upload another copy "
	"or send the resume as text.",
	/* PDF_ERR_ENCRYPTED */
	"The PDF is password-protected. Upload an unprotected copy or send "
	"the resume as text.",
	/* PDF_ERR_NO_TEXT */
	"The PDF has no extractable text (is it a scanned image?). Upload a "
	"PDF with selectable text or send the resume as text.",
	/* PDF_ERR_TIMEOUT */
	"The PDF took too long to read. Upload a simpler copy or send the "
	"resume as text.",
	/* PDF_ERR_CRASH */
	"The PDF could not be read: the reader failed on it. Upload another "
	"copy or send the resume as text.",
	/* PDF_ERR_INTERNAL */
	"The PDF could not be read because of an internal error.",
};

const char *
pdf_strerror(enum pdf_status s)
{
	return (unsigned)s < PDF__MAX ? messages[s] : "unknown PDF error";
}

static int
has_magic(const char *p, size_t len)
{
	size_t	 i, n;

	/* Readers accept the header anywhere in the first 1024 bytes. */
	n = len < 1024 ? len : 1024;
	for (i = 0; i + 5 <= n; i++)
		if (memcmp(p + i, "%PDF-", 5) == 0)
			return 1;
	return 0;
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr(" \t\r\n\f\v", s[i]))
			return 0;
	return 1;
}

enum pdf_status
pdf_text(const void *data, size_t len, const struct pdf_limits *lim,
    struct buf *out, int *pages)
{
	GBytes		*bytes;
	GError		*gerr = NULL;
	PopplerDocument	*doc;
	PopplerPage	*page;
	char		*t;
	int		 i, n;
	size_t		 room, tl, start;
	enum pdf_status	 rc;

	*pages = 0;
	if (!has_magic(data, len))
		return PDF_ERR_NOT_PDF;
	bytes = g_bytes_new_static(data, len);
	doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	g_bytes_unref(bytes);
	if (doc == NULL) {
		rc = PDF_ERR_CORRUPT;
		if (gerr != NULL && gerr->domain == POPPLER_ERROR &&
		    gerr->code == POPPLER_ERROR_ENCRYPTED)
			rc = PDF_ERR_ENCRYPTED;
		g_clear_error(&gerr);
		return rc;
	}
	n = poppler_document_get_n_pages(doc);
	*pages = n;
	start = out->len;
	rc = PDF_OK;
	for (i = 0; i < n && i < lim->pages_max; i++) {
		page = poppler_document_get_page(doc, i);
		if (page == NULL)
			continue;
		t = poppler_page_get_text(page);
		g_object_unref(page);
		if (t == NULL)
			continue;
		room = lim->text_max - (out->len - start);
		tl = strlen(t);
		if (tl > room)
			tl = utf8_cut(t, room);
		if (buf_add(out, t, tl) != BUF_OK ||
		    (out->len - start < lim->text_max &&
		    buf_add(out, "\n", 1) != BUF_OK)) {
			g_free(t);
			rc = PDF_ERR_INTERNAL;
			break;
		}
		g_free(t);
		if (out->len - start >= lim->text_max)
			break;
	}
	g_object_unref(doc);
	if (rc == PDF_OK && blank(out->data + start, out->len - start))
		rc = PDF_ERR_NO_TEXT;
	return rc;
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

int
pdf_child_main(int argc, char **argv)
{
	struct pdf_limits	 lim;
	struct buf		 in, out;
	struct rlimit		 rl;
	char			 chunk[IO_CHUNK], hdr[HEADER_MAX];
	ssize_t			 r;
	int			 pages, n;
	enum pdf_status		 rc;

	/* argv: --pdf-extract PAGES TEXT_MAX CPU_S AS_BYTES IN_MAX */
	if (argc < 7)
		return 2;
	memset(&lim, 0, sizeof(lim));
	lim.pages_max = atoi(argv[2]);
	lim.text_max = strtoul(argv[3], NULL, 10);
	lim.cpu_s = atoi(argv[4]);
	lim.as_bytes = strtoul(argv[5], NULL, 10);
	if (lim.pages_max <= 0 || lim.text_max == 0)
		return 2;

	rl.rlim_cur = rl.rlim_max = (rlim_t)lim.cpu_s;
	setrlimit(RLIMIT_CPU, &rl);
	if (STRICT_LIMITS) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)lim.as_bytes;
		setrlimit(RLIMIT_AS, &rl);
	}
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	if (STRICT_LIMITS)
		setrlimit(RLIMIT_NPROC, &rl);

	buf_init(&in, strtoul(argv[6], NULL, 10));
	buf_init(&out, lim.text_max + 1);
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
	/* Warm poppler's global state, then shut the doors. */
	if (getenv("MATCHJOBS_PDF_SANDBOX") == NULL ||
	    strcmp(getenv("MATCHJOBS_PDF_SANDBOX"), "0") != 0)
		(void)sandbox_enter();
	rc = pdf_text(in.data == NULL ? "" : in.data, in.len, &lim, &out,
	    &pages);
	n = snprintf(hdr, sizeof(hdr), "%d %d\n", (int)rc, pages);
	if (write_all(STDOUT_FILENO, hdr, (size_t)n) != 0)
		return 3;
	if (rc == PDF_OK && write_all(STDOUT_FILENO, out.data, out.len) != 0)
		return 3;
	buf_free(&in);
	buf_free(&out);
	return 0;
}

/* Parse the child's output: header line, then text. */
static enum pdf_status
parse_reply(struct buf *reply, struct buf *out, int *pages)
{
	char		*nl, *end;
	long		 st, pg;

	if (reply->data == NULL)
		return PDF_ERR_CRASH;
	nl = memchr(reply->data, '\n', reply->len < HEADER_MAX ?
	    reply->len : HEADER_MAX);
	if (nl == NULL)
		return PDF_ERR_CRASH;
	*nl = '\0';
	st = strtol(reply->data, &end, 10);
	if (*end != ' ' || st < 0 || st >= PDF__MAX)
		return PDF_ERR_CRASH;
	pg = strtol(end + 1, &end, 10);
	if (*end != '\0' || pg < 0 || pg > INT_MAX)
		return PDF_ERR_CRASH;
	*pages = (int)pg;
	if (st != PDF_OK)
		return (enum pdf_status)st;
	nl++;
	if (buf_add(out, nl, reply->len - (size_t)(nl - reply->data))
	    != BUF_OK)
		return PDF_ERR_INTERNAL;
	return PDF_OK;
}

/*
 * Feed the child and collect its answer until both pipes are done or
 * the deadline passes.  Returns 0, or -1 on timeout, -2 on other errors.
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
	int		 nfd;

	off = 0;
	while (rfd >= 0) {
		nfd = 0;
		pfd[0].fd = rfd;
		pfd[0].events = POLLIN;
		nfd = 1;
		if (wfd >= 0) {
			pfd[1].fd = wfd;
			pfd[1].events = POLLOUT;
			nfd = 2;
		}
		left = deadline - clock_ms();
		if (left <= 0)
			return -1;
		if (poll(pfd, (nfds_t)nfd, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -2;
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
			if (buf_add(reply, chunk, (size_t)n) != BUF_OK)
				return -2;
		}
	}
	if (wfd >= 0)
		close(wfd);
	return 0;
}

enum pdf_status
pdf_extract(const void *data, size_t len, const struct pdf_limits *lim,
    struct buf *out, int *pages)
{
	posix_spawn_file_actions_t	 fa;
	char				 a_pages[24], a_text[24], a_cpu[24];
	char				 a_as[24], a_in[24];
	char				*argv[8];
	int				 in[2] = { -1, -1 }, outp[2] = { -1, -1 };
	int				 status, r;
	pid_t				 pid;
	struct buf			 reply;
	enum pdf_status			 rc;

	*pages = 0;
	if (!has_magic(data, len))
		return PDF_ERR_NOT_PDF;
	if (pipe2(in, O_CLOEXEC) != 0)
		return PDF_ERR_INTERNAL;
	if (pipe2(outp, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
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

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	/* Nothing of the server's (client sockets, upstreams) leaks in. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	r = posix_spawn(&pid, lim->exe != NULL ? lim->exe : "/proc/self/exe",
	    &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(outp[1]);
	if (r != 0) {
		close(in[1]);
		close(outp[0]);
		return PDF_ERR_INTERNAL;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);

	buf_init(&reply, lim->text_max + HEADER_MAX);
	r = pump(in[1], outp[0], data, len, &reply, clock_ms() + lim->wall_ms);
	close(outp[0]);
	if (r != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == -1)
		rc = PDF_ERR_TIMEOUT;
	else if (r != 0)
		rc = PDF_ERR_INTERNAL;
	else if (WIFSIGNALED(status))
		rc = WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL
		    ? PDF_ERR_TIMEOUT : PDF_ERR_CRASH;
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = PDF_ERR_CRASH;
	else
		rc = parse_reply(&reply, out, pages);
	buf_free(&reply);
	return rc;
}
