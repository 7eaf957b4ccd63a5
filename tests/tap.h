/*
 * tap.h - a minimal Test Anything Protocol emitter for the unit tests.
 *
 * ok(cond, fmt, ...) prints "ok N - msg" or "not ok N - msg"; tap_done()
 * prints the plan and returns the exit status for main().  Header-only so
 * each unit test is one file.
 */
#ifndef MJ_TAP_H
#define MJ_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n;
static int tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

__attribute__((unused))
static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* MJ_TAP_H */
