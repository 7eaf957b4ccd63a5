/*
 * priv.h - the process's privileges and secrets at startup.
 *
 * Started as root, the responder binds its socket and then runs as the
 * --user it was given (priv_drop, between listen and serve, so the PDF
 * zygote and every worker run unprivileged); without --user it refuses
 * root unless --allow-root.  Every process is non-dumpable with core
 * dumps off (priv_harden), so neither a crash nor a same-uid process
 * can read the key out of memory or /proc, and the key's bytes are
 * wiped from the environment block once copied (priv_scrub_env).
 */
#ifndef MJ_PRIV_H
#define MJ_PRIV_H

#include <stddef.h>
#include <sys/types.h>

struct priv_user {
	uid_t	 uid;
	gid_t	 gid;
	char	 name[64];
};

/* Non-dumpable, RLIMIT_CORE 0.  Call first thing; priv_drop repeats it. */
void	priv_harden(void);
/*
 * Wipe the value of environment variable name in place (the block
 * /proc/PID/environ shows), then unsetenv() it.  Startup only: not
 * thread-safe.
 */
void	priv_scrub_env(const char *name);
/* Resolve "USER[:GROUP]" (names or numbers).  0, or -1 with err set. */
int	priv_user_parse(const char *spec, struct priv_user *out, char *err,
	    size_t errsz) __attribute__((warn_unused_result));
/*
 * 0 if this process may go on: not root, or root with a user to drop
 * to, or root allowed.  -1 with err set otherwise.
 */
int	priv_root_check(int have_user, int allow_root, char *err,
	    size_t errsz) __attribute__((warn_unused_result));
/*
 * Become u: setgroups, setgid, setuid, then check that root can't be
 * regained.  Not root: only u == the current ids is accepted.  0, or -1
 * with err set.
 */
int	priv_drop(const struct priv_user *u, char *err, size_t errsz)
	    __attribute__((warn_unused_result));

#endif /* MJ_PRIV_H */
