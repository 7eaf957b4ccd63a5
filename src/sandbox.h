/*
 * sandbox.h - the PDF child's walls: Landlock and a seccomp filter.
 *
 * Once the child has read the PDF, it needs no network, no new
 * processes, no writable files and no file outside poppler's and
 * fontconfig's data: only memory, reading its input and writing the
 * answer to stdout.  Two layers, each enough on its own for what it
 * covers:
 *  - Landlock (Linux >= 5.13; Debian 12's 6.1 has ABI 2) confines
 *    every later open to read-only access beneath a few data
 *    directories (SANDBOX_READ_DIRS in sandbox.c): not /proc, not the
 *    key file, not the config, not other users' files.
 *  - A seccomp-BPF allow-list: every other system call fails with
 *    EPERM; write() only on fd 1, prlimit64() only on the caller and
 *    only to read a limit.  Without Landlock (an older kernel, or
 *    Landlock left out of the LSM list) the filter refuses every open
 *    instead, so the child opens nothing at all.
 * Sanitizer builds leave the seccomp layer out (their runtimes make
 * system calls of their own); Landlock still applies there.  It is a
 * second wall behind the rlimits, not the only one.
 */
#ifndef MJ_SANDBOX_H
#define MJ_SANDBOX_H

/* 1 in an ASan build (gcc's or clang's spelling), else 0. */
#if defined(__SANITIZE_ADDRESS__)
#define MJ_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MJ_SANITIZER 1
#endif
#endif
#ifndef MJ_SANITIZER
#define MJ_SANITIZER 0
#endif

enum sandbox_status {
	SANDBOX_OK = 0,
	SANDBOX_UNSUPPORTED,	/* nothing could apply: no seccomp in this
				   build (a sanitizer, another arch) and no
				   Landlock in this kernel */
	SANDBOX_ERR,		/* the kernel refused a layer: fail closed */
	SANDBOX__MAX
};

/* Layers, for sandbox_enter()'s want and *got. */
#define SANDBOX_SECCOMP		1u
#define SANDBOX_LANDLOCK	2u
#define SANDBOX_ALL		(SANDBOX_SECCOMP | SANDBOX_LANDLOCK)

/*
 * Confine the calling process (irreversible; single-threaded callers
 * only, or the other threads stay free).  want: the layers to try (the
 * child passes SANDBOX_ALL; tests pass SANDBOX_SECCOMP to check the
 * no-Landlock fallback).  *got: the layers now in force.  Returns
 * SANDBOX_OK when at least one layer is in force and none was refused.
 */
enum sandbox_status	sandbox_enter(unsigned want, unsigned *got)
			    __attribute__((warn_unused_result));
/* The layers this build can apply at all (a sanitizer: no seccomp). */
unsigned		sandbox_built(void);

#endif /* MJ_SANDBOX_H */
