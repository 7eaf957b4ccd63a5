/*
 * log.c - stderr logging with levels; see log.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *const levels[LOG__MAX] = {
	"error",	/* LOG_ERROR */
	"warn",		/* LOG_WARN */
	"info",		/* LOG_INFO */
	"debug",	/* LOG_DEBUG */
};

/* Process configuration: set once at startup, read by every thread. */
static enum log_level max_level = LOG_INFO;

void
log_set_level(enum log_level l)
{
	max_level = l;
}

int
log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < LOG__MAX; i++)
		if (strcmp(s, levels[i]) == 0)
			return i;
	return -1;
}

void
log_msg(enum log_level l, const char *reqid, const char *fmt, ...)
{
	char	 line[1024];
	int	 n, m;
	va_list	 ap;

	if (l > max_level)
		return;
	n = snprintf(line, sizeof(line), "matchjobs[%d]: %s: %s%s%s",
	    (int)getpid(), levels[l], reqid ? "[" : "", reqid ? reqid : "",
	    reqid ? "] " : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines from threads don't interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

char *
log_escape(const char *src, size_t len, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 i, o;
	unsigned char	 c;

	o = 0;
	for (i = 0; i < len && o + 5 < outsz; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c != 0x7f && c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	if (outsz > 0)
		out[o < outsz ? o : outsz - 1] = '\0';
	return out;
}
