/*
 * sandbox.h - a seccomp filter for the PDF child.
 *
 * Once the child has read the PDF, it needs no network, no new
 * processes and no writable files: only memory, reading its input and
 * poppler's data files, and writing the answer to stdout.  The filter
 * allows that list and makes every other system call fail with EPERM.
 * It is a second wall behind the rlimits, not the only one.
 */
#ifndef MJ_SANDBOX_H
#define MJ_SANDBOX_H

enum sandbox_status {
	SANDBOX_OK = 0,
	SANDBOX_UNSUPPORTED,	/* not Linux/x86-64/aarch64, or a sanitizer */
	SANDBOX_ERR,		/* prctl refused the filter */
	SANDBOX__MAX
};

/* Install the filter on the calling process (irreversible). */
enum sandbox_status	sandbox_enter(void);

#endif /* MJ_SANDBOX_H */
