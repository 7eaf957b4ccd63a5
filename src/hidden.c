/*
 * hidden.c - text a reader can't see, counted and quoted; see hidden.h.
 */
#include "config.h"

#include <string.h>

#include "hidden.h"
#include "utf8.h"

void
hidden_init(struct hidden *h)
{
	memset(h, 0, sizeof(*h));
}

void
hidden_gap(struct hidden *h)
{
	h->gap = 1;
}

void
hidden_add(struct hidden *h, const char *s, size_t n)
{
	size_t	 i, k, sp;

	for (i = 0; i < n; i += k) {
		if ((k = utf8_len((const unsigned char *)s + i, n - i)) == 0)
			k = 1;
		if (strchr(" \t\r\n\f\v", s[i]) != NULL || s[i] == '\0') {
			h->gap = 1;
			continue;
		}
		h->chars++;
		sp = h->gap && h->excerpt_len > 0;
		h->gap = 0;
		/* The first characters only, each with the space before it. */
		if (h->cut || h->excerpt_len + sp + k > MJ_HIDDEN_EXCERPT_MAX) {
			h->cut = 1;
			continue;
		}
		if (sp)
			h->excerpt[h->excerpt_len++] = ' ';
		memcpy(h->excerpt + h->excerpt_len, s + i, k);
		h->excerpt_len += k;
		h->excerpt[h->excerpt_len] = '\0';
	}
}
