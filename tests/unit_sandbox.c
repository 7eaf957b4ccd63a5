/*
 * unit_sandbox.c - the PDF child's sandbox (sandbox.c) denies what it
 * should and allows what poppler needs, and what the DOCX reader
 * (libzip, libxml2: docx.c) needs.  Each case enters the real
 * sandbox in a forked process, which reports what it could do through
 * a pipe on its stdout (the one descriptor it may write).
 *
 * A layer the kernel refuses (SANDBOX_ERR) is a failure.  A layer this
 * build or kernel lacks is a skip, except under CI=true, where it is a
 * failure too.  Sanitizer builds have no seccomp layer by design: that
 * is checked, and its cases are skipped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "buf.h"
#include "docx.h"
#include "hidden.h"
#include "pdf.h"
#include "sandbox.h"
#include "tap.h"

#ifndef MJ_TESTS_DIR
#define MJ_TESTS_DIR "tests"
#endif


/* A readable file outside the allowed directories, like a key file. */
#define SECRET	"/tmp/mj-sandbox-secret"

enum probe {
	P_STATUS, P_GOT,
	P_SOCKET,	/* socket() refused */
	P_CREATE,	/* open for writing refused */
	P_ENVIRON,	/* open /proc/self/environ refused */
	P_SECRET,	/* open SECRET read-only refused */
	P_PASSWD,	/* open /etc/passwd read-only refused */
	P_FONTS,	/* open /etc/fonts/fonts.conf: 1 opened, 0 refused */
	P_FORK,		/* fork() refused */
	P_STDERR,	/* write(2) refused */
	P_STDOUT,	/* write(1) works (the answer) */
	P_PRL_OTHER,	/* prlimit64(parent, NOFILE, new) refused */
	P_PRL_SET,	/* prlimit64(0, CPU, new) refused */
	P_PRL_GET,	/* prlimit64(0, NOFILE, NULL, old) works */
	P_GETDENTS,	/* getdents64 on an fd opened before refused */
	P_DOCX,		/* docx_text() reads a DOCX read before */
	P_WHITE,	/* hidden characters pdf_text() finds in white text */
	P_INK,		/* ... in render mode 3 text (drawn: no ink) */
	P__MAX
};

static int
refused(long r)
{
	return r < 0 && (errno == EPERM || errno == EACCES);
}

/* The bytes of tests/rel into b (empty if unreadable). */
static void
load(const char *rel, struct buf *b)
{
	char	 path[512], chunk[4096];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/%s", MJ_TESTS_DIR, rel);
	if ((f = fopen(path, "rb")) == NULL)
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(b, chunk, n) != BUF_OK)
			break;
	fclose(f);
}

/* Hidden characters pdf_text() counts in the PDF, or -1. */
static int
hidden_in(const struct buf *pdf)
{
	struct pdf_limits	 lim;
	struct hidden	 hid;
	struct buf		 t;
	int			 pages, rc;

	memset(&lim, 0, sizeof(lim));
	lim.pages_max = 10;
	lim.text_max = 1 << 20;
	buf_init(&t, lim.text_max);
	rc = pdf->len > 0 && pdf_text(pdf->data, pdf->len, &lim, &t, &pages,
	    &hid) == PDF_OK && t.data != NULL &&
	    strstr(t.data, "Northwind Analytics") != NULL ?
	    (int)hid.chars : -1;
	buf_free(&t);
	return rc;
}

/* In the forked child: fd 1 is the report pipe. */
static void
probe(unsigned want)
{
	int		 v[P__MAX], fd, dfd;
	unsigned	 got;
	char		 dents[4096];
	struct rlimit	 rl = { 1, 1 };
	pid_t		 parent = getppid();
	struct buf	 docx, text, white, ink;
	struct hidden	 hid;

	memset(v, 0, sizeof(v));
	dfd = open("/etc", O_RDONLY | O_DIRECTORY);
	/* What the PDF child has done by then: its input read, libxml2 up. */
	buf_init(&docx, 1 << 20);
	buf_init(&text, 4096);
	buf_init(&white, 1 << 20);
	buf_init(&ink, 1 << 20);
	load("corpus/docx/small.docx", &docx);
	load("pdf/hidden_white.pdf", &white);
	load("pdf/hidden_invisible.pdf", &ink);
	xmlInitParser();
	v[P_STATUS] = (int)sandbox_enter(want, &got);
	v[P_GOT] = (int)got;
	if (v[P_STATUS] == SANDBOX_OK) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		v[P_SOCKET] = refused(fd);
		fd = open("/tmp/mj-sandbox-probe", O_WRONLY | O_CREAT, 0600);
		v[P_CREATE] = refused(fd);
		fd = open("/proc/self/environ", O_RDONLY);
		v[P_ENVIRON] = refused(fd);
		fd = open(SECRET, O_RDONLY);
		v[P_SECRET] = refused(fd);
		fd = open("/etc/passwd", O_RDONLY);
		v[P_PASSWD] = refused(fd);
		fd = open("/etc/fonts/fonts.conf", O_RDONLY);
		v[P_FONTS] = fd >= 0;
		/*
		 * Only where they must fail: without seccomp they would
		 * succeed, and a stray process, or the parent's NOFILE
		 * limit at 1, breaks the test run.
		 */
		if (got & SANDBOX_SECCOMP) {
			v[P_FORK] = refused(fork());
			v[P_STDERR] = refused(write(STDERR_FILENO, "x", 1));
			v[P_PRL_OTHER] = refused(syscall(SYS_prlimit64, parent,
			    RLIMIT_NOFILE, &rl, NULL));
			v[P_PRL_SET] = refused(syscall(SYS_prlimit64, 0,
			    RLIMIT_CPU, &rl, NULL));
		}
		v[P_PRL_GET] = syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL,
		    &rl) == 0;
		v[P_GETDENTS] = dfd >= 0 && refused(syscall(SYS_getdents64,
		    dfd, dents, sizeof(dents)));
		hidden_init(&hid);
		v[P_DOCX] = docx.len > 0 && docx_text(docx.data, docx.len,
		    4096, &text, &hid) == DOCX_OK && text.data != NULL &&
		    strstr(text.data, "Python & SQL") != NULL;
		v[P_WHITE] = hidden_in(&white);
		v[P_INK] = hidden_in(&ink);
	}
	v[P_STDOUT] = 1;
	if (write(STDOUT_FILENO, v, sizeof(v)) != (ssize_t)sizeof(v))
		_exit(2);
	_exit(0);
}

/* Fork, enter the sandbox with want, collect the report; 0 or -1. */
static int
run(unsigned want, int v[P__MAX])
{
	int	 p[2], st;
	pid_t	 pid;
	ssize_t	 n;

	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(2);
		close(p[1]);
		probe(want);
	}
	close(p[1]);
	n = read(p[0], v, sizeof(int) * P__MAX);
	close(p[0]);
	waitpid(pid, &st, 0);
	return n == (ssize_t)(sizeof(int) * P__MAX) ? 0 : -1;
}

static int ci;

/* A layer that is missing: skip, or under CI=true fail. */
static void
missing(const char *what)
{
	if (ci)
		ok(0, "%s (CI=true: a missing layer is a failure)", what);
	else
		printf("ok %d # SKIP %s\n", ++tap_n, what);
}

static void
check_common(const int *v, const char *mode)
{
	int	 sec = (v[P_GOT] & SANDBOX_SECCOMP) != 0;

	ok(v[P_CREATE], "%s: can't create or write files", mode);
	ok(v[P_ENVIRON], "%s: can't open /proc/self/environ", mode);
	ok(v[P_SECRET], "%s: can't read a file outside the data dirs "
	    "(a key file)", mode);
	ok(v[P_PASSWD], "%s: ... nor /etc/passwd", mode);
	ok(v[P_STDOUT], "%s: can write its answer", mode);
	ok(v[P_DOCX], "%s: libzip and libxml2 read a DOCX", mode);
	ok(v[P_WHITE] == 45, "%s: poppler reads a PDF, its 45 characters of "
	    "white text hidden (%d)", mode, v[P_WHITE]);
	if (!sec) {
		printf("ok %d # SKIP %s: no seccomp layer (sanitizer build)\n",
		    ++tap_n, mode);
		return;
	}
	ok(v[P_SOCKET], "%s: can't open a network socket", mode);
	ok(v[P_FORK], "%s: can't start processes", mode);
	ok(v[P_STDERR], "%s: can't write to stderr (forged log lines)",
	    mode);
	ok(v[P_PRL_OTHER], "%s: can't prlimit64 another process", mode);
	ok(v[P_PRL_SET], "%s: can't set its own limits", mode);
	ok(v[P_PRL_GET], "%s: can read its own limits (getrlimit)", mode);
	ok(v[P_GETDENTS], "%s: can't list directories (getdents64)", mode);
}

int
main(void)
{
	int		 v[P__MAX], fd;
	unsigned	 built;
	const char	*e;

	e = getenv("CI");
	ci = e != NULL && strcmp(e, "true") == 0;
	/*
	 * Under valgrind the filter would also bind valgrind's own system
	 * calls (its log, syscalls it has no wrapper for, Landlock's among
	 * them): the plain and sanitizer runs test the sandbox.
	 */
	e = getenv("LD_PRELOAD");
	if (e != NULL && strstr(e, "vgpreload") != NULL) {
		printf("1..0 # SKIP under valgrind: the sandbox would bind "
		    "valgrind's own system calls\n");
		return 0;
	}
	built = sandbox_built();
	ok((built & SANDBOX_SECCOMP) != 0 || MJ_SANITIZER,
	    "the seccomp layer is built (left out only by sanitizers: %s)",
	    MJ_SANITIZER ? "this is one" : "this is not one");
	fd = open(SECRET, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		(void)!write(fd, "sk-secret\n", 10);
		close(fd);
	}

	/* Every layer this build and kernel have. */
	if (!ok(run(SANDBOX_ALL, v) == 0, "full sandbox: the child reports"))
		return tap_done();
	if (v[P_STATUS] == SANDBOX_ERR)
		ok(0, "full sandbox: the kernel refused a layer (SANDBOX_ERR)");
	else if (v[P_STATUS] == SANDBOX_UNSUPPORTED)
		missing("full sandbox: no layer available here");
	else {
		ok(1, "full sandbox: entered (layers %d)", v[P_GOT]);
		if (v[P_GOT] & SANDBOX_LANDLOCK) {
			if (access("/etc/fonts/fonts.conf", R_OK) == 0)
				ok(v[P_FONTS], "full sandbox: fontconfig's "
				    "files stay readable");
			ok(v[P_INK] == 45, "full sandbox: pages are drawn "
			    "with their fonts: 45 characters of invisible "
			    "text hidden (%d)", v[P_INK]);
		} else
			missing("full sandbox: no Landlock in this kernel");
		check_common(v, "full sandbox");
	}

	/* Seccomp alone, as on a kernel without Landlock: opens nothing. */
	if (!(built & SANDBOX_SECCOMP))
		printf("ok %d # SKIP seccomp alone: not in sanitizer builds\n",
		    ++tap_n);
	else if (ok(run(SANDBOX_SECCOMP, v) == 0, "seccomp alone: reports")) {
		ok(v[P_STATUS] == SANDBOX_OK && v[P_GOT] == SANDBOX_SECCOMP,
		    "seccomp alone: entered (status %d, layers %d)",
		    v[P_STATUS], v[P_GOT]);
		ok(!v[P_FONTS], "seccomp alone: no open at all, not even "
		    "fontconfig's");
		ok(v[P_INK] == 0, "seccomp alone: no font, so no drawing: "
		    "the text stays whole, invisible text unseen (%d)",
		    v[P_INK]);
		check_common(v, "seccomp alone");
	}
	unlink(SECRET);
	unlink("/tmp/mj-sandbox-probe");
	return tap_done();
}
