/*
 * server.c - listening socket, worker pool and signals; see server.h.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "clock.h"
#include "bounds.h"
#include "log.h"
#include "server.h"

struct pool {
	const struct srv_opts	*opts;
	int			 fd;		/* listening socket */
	pthread_mutex_t		 mu;
	pthread_cond_t		 idle_cv;	/* busy dropped */
	int			 total;		/* threads alive */
	int			 idle;		/* blocked in accept */
	int			 busy;		/* serving a request */
	int			 max_threads;
	int			 stopping;
};

static int
listen_unix(const char *path, int mode, char *err, size_t errsz)
{
	struct sockaddr_un	 sa;
	struct stat		 st;
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errsz, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	/* Replace a stale socket, never a regular file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errsz, "%s exists and is not a socket",
			    path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, (mode_t)mode) != 0 ||
	    listen(fd, MJ_LISTEN_BACKLOG) != 0) {
		snprintf(err, errsz, "listen on %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
listen_tcp(const char *spec, char *err, size_t errsz)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[256];
	const char	*colon, *port;
	size_t		 hl;
	int		 fd, one, gai;

	colon = strrchr(spec, ':');
	if (colon == NULL) {
		snprintf(err, errsz, "--listen wants unix:/path or "
		    "HOST:PORT, not %s", spec);
		return -1;
	}
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host)) {
		snprintf(err, errsz, "host name too long");
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	port = colon + 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	gai = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (gai != 0) {
		snprintf(err, errsz, "--listen %s: %s", spec,
		    gai_strerror(gai));
		return -1;
	}
	fd = -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, MJ_LISTEN_BACKLOG) == 0)
			break;
		snprintf(err, errsz, "listen on %s: %s", spec,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Is fd a listening stream socket? */
static int
is_listener(int fd)
{
	int		 v;
	socklen_t	 l;

	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) != 0 ||
	    v != SOCK_STREAM)
		return 0;
	l = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v;
}

enum srv_status
srv_listen(const struct srv_opts *o, int *fdp, char *err, size_t errsz)
{
	const char	*s;
	char		*end;
	long		 n;

	*fdp = -1;
	if (o->listen != NULL) {
		if (strncmp(o->listen, "unix:", 5) == 0)
			*fdp = listen_unix(o->listen + 5, o->socket_mode, err,
			    errsz);
		else
			*fdp = listen_tcp(o->listen, err, errsz);
		return *fdp < 0 ? SRV_ERR_LISTEN : SRV_OK;
	}
	/* systemd socket activation: the first passed fd. */
	s = getenv("LISTEN_PID");
	if (s != NULL && strtol(s, &end, 10) == (long)getpid() &&
	    *end == '\0') {
		s = getenv("LISTEN_FDS");
		n = s != NULL ? strtol(s, &end, 10) : 0;
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		if (n >= 1 && is_listener(3)) {
			*fdp = 3;
			return SRV_OK;
		}
		if (n >= 1) {
			snprintf(err, errsz, "LISTEN_FDS: fd 3 is not a "
			    "listening socket");
			return SRV_ERR_NOT_FCGI;
		}
	}
	/* Spawned by a web server: the listening socket is fd 0. */
	if (is_listener(0)) {
		*fdp = 0;
		return SRV_OK;
	}
	snprintf(err, errsz, "standard input is not a FastCGI socket: start "
	    "me from a web server (mod_fcgid, spawn-fcgi) or use --listen");
	return SRV_ERR_NOT_FCGI;
}

static void	*worker(void *);

/* Start one more worker; the caller counted it in total. */
static int
spawn(struct pool *p)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 rc;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, MJ_THREAD_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, worker, p);
	pthread_attr_destroy(&attr);
	return rc;
}

static void *
worker(void *arg)
{
	struct pool	*p = arg;
	FCGX_Request	 r;
	void		*w;
	int		 grow, leave;

	w = p->opts->worker_new != NULL ? p->opts->worker_new(p->opts->ctx) :
	    NULL;
	if (FCGX_InitRequest(&r, p->fd, 0) != 0)
		goto gone;
	for (;;) {
		if (FCGX_Accept_r(&r) < 0)
			break;
		pthread_mutex_lock(&p->mu);
		p->idle--;
		p->busy++;
		grow = !p->stopping && p->idle < MJ_SPARE_THREADS_MIN &&
		    p->total < p->max_threads;
		if (grow) {
			p->total++;
			p->idle++;
		}
		pthread_mutex_unlock(&p->mu);
		if (grow && spawn(p) != 0) {
			log_msg(LOG_WARN, NULL, "cannot start a worker "
			    "thread: %s", strerror(errno));
			pthread_mutex_lock(&p->mu);
			p->total--;
			p->idle--;
			pthread_mutex_unlock(&p->mu);
		}

		p->opts->handle(p->opts->ctx, w, &r);
		FCGX_Finish_r(&r);

		pthread_mutex_lock(&p->mu);
		p->busy--;
		leave = p->stopping || p->idle >= MJ_SPARE_THREADS_MAX;
		if (!leave)
			p->idle++;
		else
			p->total--;
		pthread_cond_broadcast(&p->idle_cv);
		pthread_mutex_unlock(&p->mu);
		if (leave) {
			FCGX_Free(&r, 1);
			if (p->opts->worker_free != NULL)
				p->opts->worker_free(w);
			return NULL;
		}
	}
	FCGX_Free(&r, 1);
gone:
	if (p->opts->worker_free != NULL)
		p->opts->worker_free(w);
	pthread_mutex_lock(&p->mu);
	p->idle--;
	p->total--;
	pthread_cond_broadcast(&p->idle_cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Wait, with pp->mu held, until no worker is busy or the deadline. */
static void
wait_idle(struct pool *pp, long long deadline)
{
	struct timespec	 ts;

	while (pp->busy > 0 && clock_ms() < deadline) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&pp->idle_cv, &pp->mu, &ts);
	}
}

/* Many long streams need many descriptors: take what we may. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

enum srv_status
srv_run(const struct srv_opts *o, int fd)
{
	struct pool	*pp;
	sigset_t	 set;
	long long	 deadline;
	int		 sig, i, n;

	/* Before FCGX_Init, so libfcgi leaves our dispositions alone. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	raise_nofile();
	if (FCGX_Init() != 0)
		return SRV_ERR_THREAD;

	/* Workers may outlive this call (blocked in accept): heap. */
	pp = calloc(1, sizeof(*pp));
	if (pp == NULL)
		return SRV_ERR_THREAD;
	pp->opts = o;
	pp->fd = fd;
	pp->max_threads = o->max_busy + MJ_SPARE_THREADS_MIN;
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->idle_cv, NULL);
	n = o->workers > 0 ? o->workers : MJ_SPARE_THREADS_MIN;
	if (n > pp->max_threads)
		n = pp->max_threads;
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&pp->mu);
		pp->total++;
		pp->idle++;
		pthread_mutex_unlock(&pp->mu);
		if (spawn(pp) != 0) {
			pthread_mutex_lock(&pp->mu);
			pp->total--;
			pp->idle--;
			pthread_mutex_unlock(&pp->mu);
			if (i == 0) {
				free(pp);
				return SRV_ERR_THREAD;
			}
			break;
		}
	}
	log_msg(LOG_INFO, NULL, "ready: %d workers, up to %d requests", n,
	    o->max_busy);
	if (o->ready != NULL)
		o->ready(o->ctx);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_msg(LOG_INFO, NULL, "signal %d: no new requests; waiting up to "
	    "%ld ms for %d in flight", sig, o->grace_ms, pp->busy);
	pthread_mutex_lock(&pp->mu);
	pp->stopping = 1;
	pthread_mutex_unlock(&pp->mu);
	/* Wake the acceptors and refuse new connections. */
	shutdown(fd, SHUT_RDWR);
	deadline = clock_ms() + o->grace_ms;
	pthread_mutex_lock(&pp->mu);
	wait_idle(pp, deadline);
	if (pp->busy > 0 && o->cut != NULL) {
		/* Tell the streams still open why they end, then end them. */
		log_msg(LOG_WARN, NULL, "grace period over; cutting %d "
		    "requests", pp->busy);
		pthread_mutex_unlock(&pp->mu);
		o->cut(o->ctx);
		pthread_mutex_lock(&pp->mu);
		wait_idle(pp, clock_ms() + MJ_CUT_MS);
	}
	n = pp->busy;
	/* Acceptors woken by the shutdown() leave; give them a moment. */
	deadline = clock_ms() + MJ_EXIT_WAIT_MS;
	while (pp->total > 0 && clock_ms() < deadline) {
		pthread_mutex_unlock(&pp->mu);
		usleep(10000);
		pthread_mutex_lock(&pp->mu);
	}
	i = pp->total;
	pthread_mutex_unlock(&pp->mu);
	if (i == 0)
		free(pp);	/* else workers still hold it */
	if (n > 0)
		log_msg(LOG_WARN, NULL, "grace period over; %d requests cut",
		    n);
	else
		log_msg(LOG_INFO, NULL, "stopped cleanly");
	return SRV_OK;
}
