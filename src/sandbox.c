/*
 * sandbox.c - Landlock and a seccomp-BPF allow-list for the PDF child;
 * see sandbox.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#define HAVE_FILTER 1
#endif

#if defined(__linux__) && defined(SYS_landlock_create_ruleset)
#include <linux/landlock.h>
#define HAVE_LANDLOCK 1
#endif

/* Sanitizer runtimes need system calls of their own: no filter there. */
#if MJ_SANITIZER
#undef HAVE_FILTER
#include <sanitizer/lsan_interface.h>
#endif

/*
 * What the child may still read once confined: poppler's data (CMaps,
 * name-to-Unicode tables, from poppler-data) and fontconfig's fonts,
 * configuration and cache.  Text extraction of the usual PDF opens none
 * of these; a CID font with a predefined CMap opens the first.  A
 * directory that does not exist is skipped.
 */
static const char *const read_dirs[] = {
	"/usr/share/poppler",
	"/usr/share/fonts",
	"/usr/local/share/fonts",
	"/usr/share/fontconfig",
	"/etc/fonts",
	"/var/cache/fontconfig",
};

unsigned
sandbox_built(void)
{
	unsigned b = 0;

#ifdef HAVE_FILTER
	b |= SANDBOX_SECCOMP;
#endif
#ifdef HAVE_LANDLOCK
	b |= SANDBOX_LANDLOCK;
#endif
	return b;
}

#ifdef HAVE_LANDLOCK

/* Rights newer than the oldest header we build against (Linux 6.1). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)
#endif

/*
 * 1: in force; 0: this kernel has no Landlock (ENOSYS, or EOPNOTSUPP
 * when it is built but not enabled); -1: refused.
 */
static int
landlock(void)
{
	struct landlock_ruleset_attr	 ra;
	struct landlock_path_beneath_attr pb;
	uint64_t			 fs;
	size_t				 i;
	long				 abi;
	int				 rfd, dfd, ok;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -1;
	/* Handle every right this kernel knows: all are denied but reads. */
	fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */
	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	ra.handled_access_fs = fs;
	rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rfd < 0)
		return -1;
	ok = 1;
	for (i = 0; ok && i < sizeof(read_dirs) / sizeof(read_dirs[0]); i++) {
		dfd = open(read_dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;
		pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_READ_DIR;
		pb.parent_fd = dfd;
		if (syscall(SYS_landlock_add_rule, rfd,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
			ok = 0;
		close(dfd);
	}
	if (ok && syscall(SYS_landlock_restrict_self, rfd, 0) != 0)
		ok = 0;
	close(rfd);
	return ok ? 1 : -1;
}

#else

static int
landlock(void)
{
	return 0;
}

#endif /* HAVE_LANDLOCK */

#ifdef HAVE_FILTER

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the filter reads the low word of 64-bit arguments first"
#endif

#if defined(__x86_64__)
#define ARCH	AUDIT_ARCH_X86_64
#else
#define ARCH	AUDIT_ARCH_AARCH64
#endif

#define LOAD(f)		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
			    offsetof(struct seccomp_data, f))
/* The low and high 32 bits of argument i (little-endian). */
#define ARG_LO(i)	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
			    offsetof(struct seccomp_data, args[i]))
#define ARG_HI(i)	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
			    offsetof(struct seccomp_data, args[i]) + 4)
#define RET_ALLOW	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define RET_ERRNO(e)	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))
#define ALLOW(nr)	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
			RET_ALLOW
/* Allow system call nr only when its flags (args[i]) open read-only. */
#define ALLOW_RDONLY(nr, i)						\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4),		\
	ARG_LO(i),							\
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,				\
	    O_WRONLY | O_RDWR | O_CREAT | O_TRUNC, 1, 0),		\
	RET_ALLOW,							\
	RET_ERRNO(EPERM)
/* Refuse system call nr with errno e (no Landlock: open nothing). */
#define DENY(nr, e)	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
			RET_ERRNO(e)
/* Allow system call nr only on file descriptor v (args[0], an int). */
#define ALLOW_FD(nr, v)							\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4),		\
	ARG_LO(0),							\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), 0, 1),			\
	RET_ALLOW,							\
	RET_ERRNO(EPERM)
/*
 * prlimit64(pid, resource, new, old) only with pid 0 (the caller) and
 * new NULL: reading a limit (glibc's getrlimit) but never setting one,
 * on itself or on the server.
 */
#define ALLOW_GETRLIMIT(nr)						\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 8),		\
	ARG_LO(0),							\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),			\
	ARG_LO(2),							\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),			\
	ARG_HI(2),							\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),			\
	RET_ALLOW,							\
	RET_ERRNO(EPERM)

/* The list both variants share, after the open rules. */
#define COMMON_RULES							\
	ALLOW(SYS_read),						\
	ALLOW(SYS_pread64),						\
	ALLOW_FD(SYS_write, STDOUT_FILENO),				\
	ALLOW(SYS_close),						\
	ALLOW(SYS_fstat),						\
	ALLOW(SYS_newfstatat),						\
	ALLOW(SYS_lseek),						\
	ALLOW(SYS_statfs),						\
	ALLOW(SYS_fstatfs),						\
	ALLOW(SYS_faccessat),						\
	ALLOW(SYS_mmap),						\
	ALLOW(SYS_munmap),						\
	ALLOW(SYS_mremap),						\
	ALLOW(SYS_mprotect),						\
	ALLOW(SYS_madvise),						\
	ALLOW(SYS_brk),							\
	ALLOW(SYS_futex),						\
	ALLOW(SYS_getrandom),						\
	ALLOW(SYS_clock_gettime),					\
	ALLOW(SYS_gettid),						\
	ALLOW(SYS_getpid),						\
	ALLOW(SYS_rt_sigreturn),					\
	ALLOW(SYS_rt_sigprocmask),					\
	ALLOW_GETRLIMIT(SYS_prlimit64),					\
	ALLOW(SYS_exit),						\
	ALLOW(SYS_exit_group)

#define HEAD								\
	LOAD(arch),							\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),		\
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),		\
	LOAD(nr)

static int
seccomp(int confined)
{
	/* Landlock in force: read-only opens, Landlock says where. */
	static struct sock_filter with_landlock[] = {
		HEAD,
		ALLOW_RDONLY(SYS_openat, 2),
#ifdef SYS_open
		ALLOW_RDONLY(SYS_open, 1),
#endif
#ifdef SYS_access
		ALLOW(SYS_access),
#endif
#ifdef SYS_stat
		ALLOW(SYS_stat),
#endif
		COMMON_RULES,
		RET_ERRNO(EPERM),
	};
	/* No Landlock: no path is opened at all. */
	static struct sock_filter without[] = {
		HEAD,
		DENY(SYS_openat, EACCES),
#ifdef SYS_open
		DENY(SYS_open, EACCES),
#endif
		COMMON_RULES,
		RET_ERRNO(EPERM),
	};
	struct sock_fprog prog;

	if (confined) {
		prog.len = (unsigned short)(sizeof(with_landlock) /
		    sizeof(with_landlock[0]));
		prog.filter = with_landlock;
	} else {
		prog.len = (unsigned short)(sizeof(without) /
		    sizeof(without[0]));
		prog.filter = without;
	}
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

#endif /* HAVE_FILTER */

enum sandbox_status
sandbox_enter(unsigned want, unsigned *got)
{
	int	 ll;

	*got = 0;
#if MJ_SANITIZER
	/*
	 * The leak check reads /proc, which Landlock is about to close:
	 * run it now (once; it is then off at exit).
	 */
	__lsan_do_leak_check();
#endif
	/* Both layers need it; it also keeps setuid binaries powerless. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return SANDBOX_ERR;
	ll = 0;
	if (want & SANDBOX_LANDLOCK) {
		ll = landlock();
		if (ll < 0)
			return SANDBOX_ERR;
		if (ll > 0)
			*got |= SANDBOX_LANDLOCK;
	}
#ifdef HAVE_FILTER
	if (want & SANDBOX_SECCOMP) {
		if (seccomp(ll > 0) != 0)
			return SANDBOX_ERR;
		*got |= SANDBOX_SECCOMP;
	}
#endif
	return *got != 0 ? SANDBOX_OK : SANDBOX_UNSUPPORTED;
}
