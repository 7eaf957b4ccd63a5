/*
 * priv.c - privileges and secret hygiene at startup; see priv.h.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "priv.h"

extern char **environ;

void
priv_harden(void)
{
	struct rlimit	 rl = { 0, 0 };

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
}

void
priv_scrub_env(const char *name)
{
	char	**e, *hit[8];
	size_t	  k, i, n;

	/* Every "NAME=value" in the block, then out of environ, then wiped. */
	k = strlen(name);
	n = 0;
	for (e = environ; *e != NULL && n < sizeof(hit) / sizeof(hit[0]); e++)
		if (strncmp(*e, name, k) == 0 && (*e)[k] == '=')
			hit[n++] = *e;
	(void)unsetenv(name);
	for (i = 0; i < n; i++)
		explicit_bzero(hit[i], strlen(hit[i]));
}

/* A decimal id, or -1. */
static long
id_num(const char *s)
{
	char	*end;
	long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v >= INT_MAX)
		return -1;
	return v;
}

int
priv_user_parse(const char *spec, struct priv_user *out, char *err,
    size_t errsz)
{
	struct passwd	*pw;
	struct group	*gr;
	char		 user[64];
	const char	*colon;
	size_t		 n;
	long		 v;

	memset(out, 0, sizeof(*out));
	colon = strchr(spec, ':');
	n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	if (n == 0 || n >= sizeof(user)) {
		snprintf(err, errsz, "--user: expected USER[:GROUP]");
		return -1;
	}
	memcpy(user, spec, n);
	user[n] = '\0';
	pw = getpwnam(user);
	if (pw == NULL && (v = id_num(user)) >= 0)
		pw = getpwuid((uid_t)v);
	if (pw == NULL) {
		snprintf(err, errsz, "--user: no such user: %s", user);
		return -1;
	}
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	snprintf(out->name, sizeof(out->name), "%s", pw->pw_name);
	if (colon != NULL) {
		gr = getgrnam(colon + 1);
		if (gr == NULL && (v = id_num(colon + 1)) >= 0)
			gr = getgrgid((gid_t)v);
		if (gr == NULL) {
			snprintf(err, errsz, "--user: no such group: %.60s",
			    colon + 1);
			return -1;
		}
		out->gid = gr->gr_gid;
	}
	if (out->uid == 0) {
		snprintf(err, errsz, "--user: %s is root; use --allow-root "
		    "to run as root", user);
		return -1;
	}
	return 0;
}

int
priv_root_check(int have_user, int allow_root, char *err, size_t errsz)
{
	if (geteuid() != 0 || have_user || allow_root)
		return 0;
	snprintf(err, errsz, "refusing to run as root: give --user "
	    "USER[:GROUP] to drop to after binding the socket, or "
	    "--allow-root");
	return -1;
}

int
priv_drop(const struct priv_user *u, char *err, size_t errsz)
{
	if (geteuid() != 0) {
		if (getuid() == u->uid && geteuid() == u->uid &&
		    getgid() == u->gid && getegid() == u->gid)
			return 0;
		snprintf(err, errsz, "--user %s: only root can change user",
		    u->name);
		return -1;
	}
	if (setgroups(1, &u->gid) != 0 || setresgid(u->gid, u->gid, u->gid)
	    != 0 || setresuid(u->uid, u->uid, u->uid) != 0) {
		snprintf(err, errsz, "--user %s: cannot drop privileges: %s",
		    u->name, strerror(errno));
		return -1;
	}
	/* Verified: the ids took, and root can't be had back. */
	if (getuid() != u->uid || geteuid() != u->uid ||
	    getgid() != u->gid || getegid() != u->gid ||
	    setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errsz, "--user %s: privileges not dropped",
		    u->name);
		return -1;
	}
	/* A change of ids resets dumpable: set it again. */
	priv_harden();
	return 0;
}
