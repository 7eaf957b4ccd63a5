/*
 * pdf.h - resume text from PDF bytes, with poppler-glib, in a child.
 *
 * poppler parses hostile input and has a history of crashes and hangs,
 * so the responder never runs it in a worker thread: pdf_extract()
 * (pdfchild.c) has a child process read the PDF from a pipe, under CPU,
 * memory and wall-clock limits and the sandbox (sandbox.h), and reads
 * back a framed result.  The child is forked by the zygote (a process
 * started with the server, poppler already loaded), or failing that is
 * this binary exec'd as "matchjobs-fcgi --pdf-extract".  A PDF that
 * crashes, loops or balloons costs one 422.  At most lim->children_max
 * children run at once, process-wide; a few more requests wait a short
 * time for a slot, the rest get PDF_ERR_BUSY (a 503).
 * pdf_text() (pdf.c) is the in-process extraction the child runs (and
 * the unit tests call); no temp files are written by either.
 *
 * Text a reader of the PDF can't see is left out and counted (struct
 * hidden, hidden.h): text under MJ_HIDDEN_SIZE_MIN_PT, text outside the
 * page's crop box, and text that leaves no ink.  For the last, the
 * first MJ_HIDDEN_RENDER_PAGES pages are drawn, within
 * MJ_HIDDEN_RENDER_MS (poppler-glib gives no render mode, and its text
 * keeps render mode 3): a character whose box has no pixel darker than
 * MJ_HIDDEN_INK_MAX is hidden, be it invisible (3 Tr), white on white
 * or covered by a white shape; OCR text over a scan lies on the scan's
 * ink and stays.  Where drawing shows no text (no fonts can be opened),
 * and past those pages, white text is taken to be hidden (the page to
 * be white).
 */
#ifndef MJ_PDF_H
#define MJ_PDF_H

#include <stddef.h>

struct buf;
struct hidden;
struct pdf_zygote;

enum pdf_status {
	PDF_OK = 0,
	PDF_ERR_NOT_PDF,	/* no %PDF- header */
	PDF_ERR_CORRUPT,	/* poppler could not open it */
	PDF_ERR_ENCRYPTED,	/* needs a password */
	PDF_ERR_NO_TEXT,	/* opened, but no extractable text */
	PDF_ERR_TIMEOUT,	/* the child ran out of time */
	PDF_ERR_CRASH,		/* the child died or broke the protocol */
	PDF_ERR_INTERNAL,	/* could not start the child, or no memory */
	PDF_ERR_BUSY,		/* every child slot taken and the queue full,
				   or no slot came free in time */
	PDF_ERR_SANDBOX,	/* the kernel refused the child's sandbox */
	/* A DOCX (docx.h), read by the same child. */
	PDF_ERR_DOCX_NOT_WORD,	/* a zip without word/document.xml */
	PDF_ERR_DOCX_CORRUPT,	/* a broken zip or XML, or a DTD */
	PDF_ERR_DOCX_TOO_BIG,	/* past the DOCX bounds (a zip bomb) */
	PDF_ERR_DOCX_NO_TEXT,	/* read, but no text */
	PDF__MAX
};

struct pdf_limits {
	int	 pages_max;	/* pages read; later pages are ignored */
	size_t	 text_max;	/* text bytes kept; the rest is cut */
	long	 wall_ms;	/* child wall clock */
	int	 cpu_s;		/* child CPU seconds */
	size_t	 as_bytes;	/* child address space */
	int	 children_max;	/* children at once, process-wide; the
				   queue is MJ_PDF_QUEUE_PER_CHILD times
				   this, waiting MJ_PDF_QUEUE_WAIT_MS */
	const char *exe;	/* this program, run as the child; NULL:
				   /proc/self/exe */
	struct pdf_zygote *zygote; /* fork children from it, or NULL */
};

/* A message a person understands, for the 422 body. */
const char	*pdf_strerror(enum pdf_status);
/*
 * Load what reading a PDF needs (poppler's state, fontconfig's) into
 * this process, as the zygote does before it forks children.
 */
void		 pdf_warm(void);
/* Does data start like a PDF ("%PDF-" in the first 1024 bytes)? */
int		 pdf_magic(const void *data, size_t len);
/* Is that one of the DOCX statuses? */
int		 pdf_is_docx_error(enum pdf_status);

/*
 * Extract text in this process.  Appends to out (text cut at
 * lim->text_max on a UTF-8 boundary) and sets *pages to the page count
 * and adds what was hidden to *hid (emptied first).
 * Returns PDF_OK or PDF_ERR_NOT_PDF/CORRUPT/ENCRYPTED/NO_TEXT/INTERNAL.
 */
enum pdf_status	 pdf_text(const void *data, size_t len,
		    const struct pdf_limits *lim, struct buf *out, int *pages,
		    struct hidden *hid)
		    __attribute__((warn_unused_result));

/*
 * Extract text in a limited child process (see above), from a PDF or,
 * when data starts like a zip, a DOCX (docx_text(), *pages 0, nothing
 * hidden).  Same contract as pdf_text(), plus PDF_ERR_TIMEOUT,
 * PDF_ERR_CRASH, PDF_ERR_BUSY, PDF_ERR_SANDBOX (logged here) and the
 * PDF_ERR_DOCX_ statuses.  Thread-safe.
 */
enum pdf_status	 pdf_extract(const void *data, size_t len,
		    const struct pdf_limits *lim, struct buf *out, int *pages,
		    struct hidden *hid)
		    __attribute__((warn_unused_result));

/*
 * Start the zygote: this program (exe, or /proc/self/exe if NULL) run
 * as "--pdf-zygote", which keeps poppler loaded and forks one limited
 * child per PDF (far cheaper than exec'ing this binary each time).
 * Thread-safe.  Returns PDF_OK or PDF_ERR_INTERNAL (then pdf_extract()
 * execs children instead).  pdf_zygote_free() stops it; it also dies
 * with this process.
 */
enum pdf_status	 pdf_zygote_start(struct pdf_zygote **out, const char *exe)
		    __attribute__((warn_unused_result));
void		 pdf_zygote_free(struct pdf_zygote *);
/* The zygote's main (argv: --pdf-zygote PARENT_PID, socket on fd 3). */
int		 pdf_zygote_main(int argc, char **argv);

/*
 * The child's main: reads the PDF from stdin, applies the limits passed
 * in argv by pdf_extract(), writes the framed result to stdout.
 * Ends the process with _exit(); returns 2 only on bad arguments.
 */
int		 pdf_child_main(int argc, char **argv);

#endif /* MJ_PDF_H */
