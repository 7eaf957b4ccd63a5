/*
 * main.c - matchjobs-fcgi: command line, configuration, and the serve
 * loop.  Only startup may be fatal; see server.c for the process model
 * and http.c for what happens to each request.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>


#include "bounds.h"
#include "cfg.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "pdf.h"
#include "priv.h"
#include "runlog.h"
#include "runner.h"
#include "keeper.h"
#include "sender.h"
#include "server.h"
#include "upstream.h"

/* A run's webhook message is in the outbox: send it now. */
static void
kick(void *sender)
{
	snd_kick(sender);
}

/*
 * This process's id in the store (a run's lease holder): host, pid, and
 * random bits, so a restarted process with the same pid is another one.
 */
static void
make_holder(char *out, size_t sz)
{
	char	 host[32], id[RL_ID_LEN + 1];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	/* 12 of the id's random characters (72 bits), not its time. */
	if (rl_new_id(id) == RL_OK)
		snprintf(out, sz, "%s:%ld:%.12s", host, (long)getpid(),
		    id + RL_ID_TIME);
	else
		snprintf(out, sz, "%s:%ld:%lld", host, (long)getpid(),
		    clock_ms());
}

/*
 * Where the store goes when MATCHJOBS_DB is not set: the state directory
 * of the install if it can be used, else beside the binary (a shared
 * host: its .htaccess denies the file).
 */
static void
store_place(struct config *c)
{
	char	*dir, *slash, *p;
	int	 ok;

	if (!c->store_on || getenv("MATCHJOBS_DB") != NULL ||
	    strcmp(c->db, MJ_DB_DEFAULT) != 0 || c->self_exe == NULL ||
	    (dir = strdup(c->db)) == NULL)
		return;
	ok = 0;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		ok = (mkdir(dir, 0750) == 0 || errno == EEXIST) &&
		    access(dir, W_OK | X_OK) == 0;
	}
	free(dir);
	if (ok || (dir = strdup(c->self_exe)) == NULL)
		return;
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (asprintf(&p, "%s/matchjobs.db", dir) > 0) {
		free(c->db);
		c->db = p;
	}
	free(dir);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: matchjobs-fcgi [--listen unix:/path | HOST:PORT] "
	    "[--socket-mode MODE]\n"
	    "                      [--socket-owner USER[:GROUP]] "
	    "[--listen-public]\n"
	    "                      [--user USER[:GROUP]] [--allow-root]\n"
	    "                      [--workers N] [--config FILE] "
	    "[--check-config] [--version]\n"
	    "Serves the FastCGI socket on standard input when spawned by a "
	    "web server,\nor the socket given with --listen. Configuration "
	    "comes from the environment\nand an optional config file "
	    "(--config, $MATCHJOBS_CONFIG, or matchjobs.conf\nbeside the "
	    "executable); see matchjobs-fcgi(8).\n");
}

static const char *
env(const char *name)
{
	return getenv(name);
}

/*
 * matchjobs.conf beside the executable, if there is one: on a shared
 * host the binary is ~/public_html/.../matchjobs.fcgi and its settings
 * can't come from the web server's environment.
 */
static int
default_config(char *path, size_t sz)
{
	ssize_t	 n;
	char	*slash;

	n = readlink("/proc/self/exe", path, sz - 1);
	if (n <= 0 || (size_t)n >= sz - 16)
		return 0;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL)
		return 0;
	strcpy(slash + 1, "matchjobs.conf");
	return access(path, R_OK) == 0;
}

static long
num(const char *opt, const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "matchjobs-fcgi: %s must be a number from %ld "
		    "to %ld\n", opt, min, max);
		exit(2);
	}
	return v;
}

/* A user or group name, or a number; -1 if neither. */
static long
id_of(const char *s, int group)
{
	struct passwd	*pw;
	struct group	*gr;
	char		*end;
	long		 v;

	if (group && (gr = getgrnam(s)) != NULL)
		return (long)gr->gr_gid;
	if (!group && (pw = getpwnam(s)) != NULL)
		return (long)pw->pw_uid;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno == 0 && *s != '\0' && *end == '\0' && v >= 0 ? v : -1;
}

/* --socket-owner USER[:GROUP], USER: (USER's group) or :GROUP. */
static void
socket_owner(const char *spec, struct srv_opts *so)
{
	struct passwd	*pw;
	const char	*colon;
	char		 user[256];
	size_t		 n;

	colon = strchr(spec, ':');
	n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	if (n >= sizeof(user))
		goto bad;
	memcpy(user, spec, n);
	user[n] = '\0';
	if (n > 0 && (so->socket_uid = id_of(user, 0)) < 0)
		goto bad;
	if (colon != NULL && colon[1] != '\0' &&
	    (so->socket_gid = id_of(colon + 1, 1)) < 0)
		goto bad;
	if (colon != NULL && colon[1] == '\0') {
		pw = n > 0 ? getpwnam(user) : NULL;
		if (pw == NULL)
			goto bad;
		so->socket_gid = (long)pw->pw_gid;
	}
	if (so->socket_uid < 0 && so->socket_gid < 0)
		goto bad;
	return;
bad:
	fprintf(stderr, "matchjobs-fcgi: --socket-owner wants USER[:GROUP] "
	    "naming an existing user and group, not %s\n", spec);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "socket-owner", required_argument, NULL, 'o' },
		{ "listen-public", no_argument, NULL, 'P' },
		{ "workers", required_argument, NULL, 'w' },
		{ "check-config", no_argument, NULL, 'c' },
		{ "config", required_argument, NULL, 'f' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "user", required_argument, NULL, 'u' },
		{ "allow-root", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	 cfg;
	struct cfg_file	 file;
	const char	*cfgpath;
	char		 defpath[PATH_MAX];
	struct app	 app;
	struct srv_opts	 so;
	struct rl_runs	*runs;
	enum rn_status	 rn;
	char		 err[512];
	struct priv_user user;
	const char	*userspec;
	int		 ch, fd, check, allow_root;
	enum srv_status	 ss;

	/* Before the key is read: no core dump, no /proc peeking. */
	priv_harden();
	/* The PDF child: nothing else of the server runs in it. */
	if (argc > 1 && strcmp(argv[1], "--pdf-extract") == 0)
		return pdf_child_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "--pdf-zygote") == 0)
		return pdf_zygote_main(argc, argv);

	memset(&so, 0, sizeof(so));
	so.socket_mode = 0660;
	so.socket_uid = so.socket_gid = -1;
	check = 0;
	cfgpath = NULL;
	userspec = NULL;
	allow_root = 0;
	while ((ch = getopt_long(argc, argv, "l:m:o:Pw:cf:Vhu:R", longopts,
	    NULL))
	    != -1) {
		switch (ch) {
		case 'l':
			so.listen = optarg;
			break;
		case 'm':
			so.socket_mode = (int)num("--socket-mode", optarg, 0,
			    0777);
			break;
		case 'o':
			socket_owner(optarg, &so);
			break;
		case 'P':
			so.listen_public = 1;
			break;
		case 'w':
			so.workers = (int)num("--workers", optarg, 1, 100000);
			break;
		case 'c':
			check = 1;
			break;
		case 'f':
			cfgpath = optarg;
			break;
		case 'V':
			printf("matchjobs-fcgi %s\n", VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'u':
			userspec = optarg;
			break;
		case 'R':
			allow_root = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	if (cfgpath == NULL)
		cfgpath = getenv("MATCHJOBS_CONFIG");
	if (cfgpath == NULL && default_config(defpath, sizeof(defpath)))
		cfgpath = defpath;
	memset(&file, 0, sizeof(file));
	if (cfgpath != NULL &&
	    cfg_file_load(&file, cfgpath, err, sizeof(err)) != CFG_OK) {
		fprintf(stderr, "matchjobs-fcgi: %s\n", err);
		return 1;
	}
	if (cfg_load(&cfg, env, &file, err, sizeof(err)) != CFG_OK) {
		fprintf(stderr, "matchjobs-fcgi: %s%s%s\n", err,
		    cfgpath != NULL ? " (config file " : "",
		    cfgpath != NULL ? cfgpath : "");
		cfg_file_free(&file);
		return 1;
	}
	cfg_file_free(&file);
	/* cfg holds the key now: none of it stays in /proc/PID/environ. */
	priv_scrub_env("OPENAI_API_KEY");
	priv_scrub_env("AZURE_OPENAI_API_KEY");
	log_set_level((enum log_level)cfg.log_level);
	/*
	 * The PDF child is this program.  Resolve the path now: the binary
	 * may be replaced on disk later (an upgrade), and under valgrind
	 * /proc/self/exe is the tool, not us.
	 */
	if (realpath("/proc/self/exe", defpath) != NULL)
		cfg.self_exe = strdup(defpath);
	store_place(&cfg);
	if (check) {
		printf("configuration ok: engine %s, model %s, concurrency %d\n",
		    cfg.local ? "local" : "openai", cfg.model,
		    cfg.concurrency);
		cfg_free(&cfg);
		return 0;
	}
	if ((userspec != NULL &&
	    priv_user_parse(userspec, &user, err, sizeof(err)) != 0) ||
	    priv_root_check(userspec != NULL, allow_root, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "matchjobs-fcgi: %s\n", err);
		cfg_free(&cfg);
		return 2;
	}
	if (up_global_init() != 0) {
		fprintf(stderr, "matchjobs-fcgi: cannot initialise libcurl\n");
		cfg_free(&cfg);
		return 1;
	}

	memset(&app, 0, sizeof(app));
	app.cfg = &cfg;
	app.started_ms = clock_ms();
	so.max_busy = cfg.requests_max;
	so.grace_ms = cfg.grace_ms;
	so.worker_new = (void *(*)(void *))http_worker_new;
	so.worker_free = (void (*)(void *))http_worker_free;
	so.handle = (int (*)(void *, void *, struct fconn *))http_handle;
	so.held = (int (*)(void *))http_held;
	so.cut = (void (*)(void *))http_cut;
	so.ready = (void (*)(void *))http_ready;
	so.ctx = &app;

	ss = srv_listen(&so, &fd, err, sizeof(err));
	if (ss != SRV_OK) {
		fprintf(stderr, "matchjobs-fcgi: %s\n", err);
		usage(stderr);
		cfg_free(&cfg);
		return 1;
	}
	/* Bound: the rest, the PDF zygote included, runs as --user. */
	if (userspec != NULL && priv_drop(&user, err, sizeof(err)) != 0) {
		fprintf(stderr, "matchjobs-fcgi: %s\n", err);
		cfg_free(&cfg);
		return 1;
	}
	/* After the drop: the runner's thread and its connections too. */
	if (rl_runs_new(cfg.run_keep_ms, &runs) != RL_OK) {
		fprintf(stderr, "matchjobs-fcgi: out of memory\n");
		cfg_free(&cfg);
		return 1;
	}
	app.runs = runs;
	if (cfg.store_on)
		make_holder(app.holder, sizeof(app.holder));
	rn = runner_new(&cfg, &app.cut, cfg.store_on ? app.holder : NULL,
	    &app.runner);
	if (rn != RN_OK) {
		fprintf(stderr, "matchjobs-fcgi: %s\n", runner_strerror(rn));
		rl_runs_free(runs);
		cfg_free(&cfg);
		return 1;
	}
	/* The store: after the drop (its files are --user's), before
	 * requests.  Its thread opens the file; a failure only degrades. */
	if (cfg.store_on) {
		/* Webhooks go out from the store's outbox (sender.h). */
		if (cfg.webhook_url != NULL && snd_new(&cfg, cfg.db, app.holder,
		    &app.sender) != SND_OK) {
			fprintf(stderr, "matchjobs-fcgi: cannot start the "
			    "webhook sender\n");
			cfg_free(&cfg);
			return 1;
		}
		if (kp_new(&cfg, app.holder, runner_gate(app.runner), runs,
		    app.sender != NULL ? kick : NULL, app.sender,
		    &app.keeper) != KP_OK) {
			fprintf(stderr, "matchjobs-fcgi: cannot start the "
			    "store's thread\n");
			cfg_free(&cfg);
			return 1;
		}
	}
	log_msg(LOG_INFO, NULL, "matchjobs-fcgi %s: engine %s%s%s", VERSION,
	    cfg.local ? "local" : "openai", cfg.local ? "" : ", model ",
	    cfg.local ? "" : cfg.model);
	ss = srv_run(&so, fd);
	if (so.listen != NULL && strncmp(so.listen, "unix:", 5) == 0)
		unlink(so.listen + 5);
	/*
	 * What the runs appended since the keeper's last flush (their ends,
	 * the cut streams' error frames) goes to the store before we go: a
	 * run answered is never left running there, to be called
	 * interrupted by the next process.
	 */
	kp_stop(app.keeper);
	/*
	 * Idle workers may still sit in accept(); exit without tearing
	 * down what they could touch (the runner, the config).
	 */
	fflush(NULL);
	_exit(ss == SRV_OK ? 0 : 1);
}
