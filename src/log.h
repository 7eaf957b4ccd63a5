/*
 * log.h - one-line log messages on stderr (the web server's error log).
 *
 * Each line carries a level and, where there is one, the request id.
 * Callers pass only text they built; untrusted bytes go through
 * log_escape() first.  The API key is never passed here.
 */
#ifndef MJ_LOG_H
#define MJ_LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERROR = 0,		/* a request or the process failed */
	LOG_WARN,		/* something went wrong but was handled */
	LOG_INFO,		/* one line per request, startup, shutdown */
	LOG_DEBUG,		/* details for developers */
	LOG__MAX
};

/* Set the most verbose level printed; process configuration. */
void	log_set_level(enum log_level);
/* Parse "error", "warn", "info", "debug"; -1 if unknown. */
int	log_level_parse(const char *);
/* Print one line: level, request id (may be NULL), message. */
void	log_msg(enum log_level, const char *reqid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Copy src[0..len) into out (size outsz, always NUL-terminated) with
 * control bytes and backslashes escaped, cut to fit.  Returns out.
 */
char	*log_escape(const char *src, size_t len, char *out, size_t outsz);

#endif /* MJ_LOG_H */
