/*
 * sandbox.c - seccomp-BPF allow-list for the PDF child; see sandbox.h.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sandbox.h"

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#define HAVE_FILTER 1
#endif

/* Sanitizer runtimes need system calls of their own: no filter there. */
#if defined(__SANITIZE_ADDRESS__)
#undef HAVE_FILTER
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#undef HAVE_FILTER
#endif
#endif

#ifdef HAVE_FILTER

#if defined(__x86_64__)
#define ARCH	AUDIT_ARCH_X86_64
#else
#define ARCH	AUDIT_ARCH_AARCH64
#endif

#define LOAD(f)		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
			    offsetof(struct seccomp_data, f))
#define ALLOW(nr)	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
/* Allow system call nr only when its flags (args[i]) open read-only. */
#define ALLOW_RDONLY(nr, i)						\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4),		\
	LOAD(args[i]),							\
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,				\
	    O_WRONLY | O_RDWR | O_CREAT | O_TRUNC, 1, 0),		\
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),			\
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

enum sandbox_status
sandbox_enter(void)
{
	struct sock_filter filter[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		LOAD(nr),
		/* openat(dirfd, path, flags): read-only opens only. */
		ALLOW_RDONLY(SYS_openat, 2),
		ALLOW(SYS_read),
		ALLOW(SYS_pread64),
		ALLOW(SYS_write),
		ALLOW(SYS_close),
		ALLOW(SYS_fstat),
		ALLOW(SYS_newfstatat),
		ALLOW(SYS_lseek),
		ALLOW(SYS_getdents64),
		ALLOW(SYS_statfs),
		ALLOW(SYS_fstatfs),
		ALLOW(SYS_faccessat),
		ALLOW(SYS_mmap),
		ALLOW(SYS_munmap),
		ALLOW(SYS_mremap),
		ALLOW(SYS_mprotect),
		ALLOW(SYS_madvise),
		ALLOW(SYS_brk),
		ALLOW(SYS_futex),
		ALLOW(SYS_getrandom),
		ALLOW(SYS_clock_gettime),
		ALLOW(SYS_gettid),
		ALLOW(SYS_getpid),
		ALLOW(SYS_rt_sigreturn),
		ALLOW(SYS_rt_sigprocmask),
		ALLOW(SYS_prlimit64),
		ALLOW(SYS_exit),
		ALLOW(SYS_exit_group),
#ifdef SYS_access
		ALLOW(SYS_access),
#endif
#ifdef SYS_stat
		ALLOW(SYS_stat),
#endif
#ifdef SYS_open
		/* open(path, flags): read-only, as for openat. */
		ALLOW_RDONLY(SYS_open, 1),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {
		(unsigned short)(sizeof(filter) / sizeof(filter[0])), filter
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return SANDBOX_ERR;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return SANDBOX_ERR;
	return SANDBOX_OK;
}

#else

enum sandbox_status
sandbox_enter(void)
{
	return SANDBOX_UNSUPPORTED;
}

#endif
