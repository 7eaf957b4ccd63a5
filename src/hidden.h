/*
 * hidden.h - text a reader can't see, counted and quoted.
 *
 * The PDF and DOCX readers (pdf.c, docx.c) leave such text out of the
 * prompt (SPEC "Scoring") and add it here; the responder reports the
 * count and the first MJ_HIDDEN_EXCERPT_MAX bytes in a hidden_text
 * warning.  Pure and allocation-free.
 */
#ifndef MJ_HIDDEN_H
#define MJ_HIDDEN_H

#include <stddef.h>

#include "bounds.h"

struct hidden {
	size_t	 chars;		/* hidden characters, not counting spaces */
	size_t	 excerpt_len;
	char	 excerpt[MJ_HIDDEN_EXCERPT_MAX + 1]; /* the first of them,
				   each run of white space or visible text
				   between them one space, NUL-ended */
	int	 gap;		/* such a run since the last one quoted */
	int	 cut;		/* the excerpt is full: no more quoted */
};

/* Empty h. */
void	 hidden_init(struct hidden *h);
/*
 * Add s[0..n), text left out: its characters other than ASCII white
 * space are counted, and quoted while there is room (whole UTF-8
 * sequences only; a byte that starts none counts as one character).
 */
void	 hidden_add(struct hidden *h, const char *s, size_t n);
/* Visible text came between what was hidden. */
void	 hidden_gap(struct hidden *h);

#endif /* MJ_HIDDEN_H */
