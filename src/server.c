/*
 * server.c - listening socket, worker pool and signals; see server.h.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "bounds.h"
#include "fconn.h"
#include "log.h"
#include "server.h"

struct pool {
	const struct srv_opts	*opts;
	int			 fd;		/* listening socket */
	int			 wakefd;	/* eventfd: readable once stopping */
	pthread_t		 main;		/* told when no worker is left */
	pthread_mutex_t		 accept_mu;	/* one thread in poll+accept */
	pthread_mutex_t		 mu;
	pthread_cond_t		 idle_cv;	/* busy dropped */
	int			 total;		/* threads alive */
	int			 idle;		/* waiting to accept */
	int			 busy;		/* serving a request */
	int			 max_threads;
	int			 stopping;
};

static int
listen_unix(const char *path, const struct srv_opts *o, char *err,
    size_t errsz)
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
	/* Owner and mode are set before listen(): no window for others. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    ((o->socket_uid >= 0 || o->socket_gid >= 0) &&
	    chown(path, (uid_t)o->socket_uid, (gid_t)o->socket_gid) != 0) ||
	    chmod(path, (mode_t)o->socket_mode) != 0 ||
	    listen(fd, MJ_LISTEN_BACKLOG) != 0) {
		snprintf(err, errsz, "listen on %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Is the address one only this host can reach? */
static int
is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;
	const unsigned char		*b;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return 1;
		b = s6->sin6_addr.s6_addr;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
	}
	return 0;
}

static int
listen_tcp(const char *spec, int public, char *err, size_t errsz)
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
	for (ai = res; !public && ai != NULL; ai = ai->ai_next)
		if (!is_loopback(ai->ai_addr)) {
			snprintf(err, errsz, "--listen %s: not a loopback "
			    "address; whoever reaches the FastCGI socket can "
			    "run requests on the operator's quota, so it must "
			    "be reachable by the web server only.  Use "
			    "127.0.0.1:PORT or a unix socket, or add "
			    "--listen-public to listen there anyway", spec);
			freeaddrinfo(res);
			return -1;
		}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Wake us only once a peer has sent something. */
		one = MJ_FCGI_HANDSHAKE_MS / 1000;
		setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one,
		    sizeof(one));
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
			*fdp = listen_unix(o->listen + 5, o, err, errsz);
		else if (o->socket_uid >= 0 || o->socket_gid >= 0) {
			snprintf(err, errsz, "--socket-owner applies to "
			    "--listen unix:PATH only");
			return SRV_ERR_LISTEN;
		} else
			*fdp = listen_tcp(o->listen, o->listen_public, err,
			    errsz);
		return *fdp < 0 ? SRV_ERR_LISTEN : SRV_OK;
	}
	if (o->socket_uid >= 0 || o->socket_gid >= 0) {
		snprintf(err, errsz, "--socket-owner applies to --listen "
		    "unix:PATH only (an inherited socket's owner is set by "
		    "whoever made it: SocketUser= in systemd)");
		return SRV_ERR_LISTEN;
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

/* Has stop been asked (the eventfd is readable)?  Waits up to ms. */
static int
stop_wait(struct pool *p, int ms)
{
	struct pollfd pf;

	pf.fd = p->wakefd;
	pf.events = POLLIN;
	pf.revents = 0;
	return poll(&pf, 1, ms) > 0;
}

/* accept4() errors that say nothing about the listening socket. */
static int
transient(int e)
{
	switch (e) {
	case EINTR: case EAGAIN: case ECONNABORTED: case EPROTO:
	case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN: case ENONET:
	case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH: case EPERM:
	case ETIMEDOUT:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return 1;
	default:
		return 0;
	}
}

/*
 * The next connection: -1 when stopping, -2 when the listening socket is
 * unusable.  One worker at a time polls the listening socket and the
 * eventfd, so the wake-up never depends on shutdown().
 */
static int
accept_one(struct pool *p)
{
	struct pollfd	 pf[2];
	int		 fd, e, rc, logged;

	logged = 0;
	for (;;) {
		pthread_mutex_lock(&p->accept_mu);
		pf[0].fd = p->fd;
		pf[0].events = POLLIN;
		pf[1].fd = p->wakefd;
		pf[1].events = POLLIN;
		do {
			pf[0].revents = pf[1].revents = 0;
			rc = poll(pf, 2, -1);
		} while (rc < 0 && errno == EINTR);
		if (rc < 0 || pf[1].revents != 0) {
			pthread_mutex_unlock(&p->accept_mu);
			return -1;
		}
		fd = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);
		e = errno;
		pthread_mutex_unlock(&p->accept_mu);
		if (fd >= 0)
			return fd;
		if (transient(e))
			continue;
		if (e == EMFILE || e == ENFILE || e == ENOBUFS ||
		    e == ENOMEM) {
			/* Connections end and free descriptors: wait. */
			if (!logged)
				log_msg(LOG_WARN, NULL, "accept: %s; retrying "
				    "every %d ms", strerror(e),
				    MJ_ACCEPT_BACKOFF_MS);
			logged = 1;
			if (stop_wait(p, MJ_ACCEPT_BACKOFF_MS))
				return -1;
			continue;
		}
		log_msg(LOG_ERROR, NULL, "accept: %s; worker leaves",
		    strerror(e));
		return -2;
	}
}

/* One connection, one request: handshake under a deadline, serve, end. */
static void
serve(struct pool *p, void *w, int fd)
{
	struct fconn		*c;
	enum fconn_status	 st;

	c = fconn_new(fd, (unsigned)p->max_threads);
	if (c == NULL)
		return;
	st = fconn_begin(c, clock_ms() + MJ_FCGI_HANDSHAKE_MS);
	if (st == FCONN_OK) {
		if (p->opts->handle(p->opts->ctx, w, c) != 0)
			return;		/* the handler's now */
		(void)fconn_end(c, 0);
	} else if (st == FCONN_PROTOCOL || st == FCONN_NOMEM)
		log_msg(LOG_WARN, NULL, "FastCGI connection dropped: %s",
		    fcgi_strerror(c->perr));
	else
		log_msg(LOG_DEBUG, NULL, "FastCGI connection dropped before "
		    "its request: %s", fconn_strerror(st));
	fconn_free(c);
}

static void *
worker(void *arg)
{
	struct pool	*p = arg;
	pthread_t	 main_thread;
	void		*w;
	/*
	 * Kept here: once a worker has left the count (total--) and
	 * unlocked, the main thread may free p at once.  (Reading
	 * p->opts after that made a stopping responder crash, rarely.)
	 */
	void		(*wfree)(void *) = p->opts->worker_free;
	int		 fd, grow, leave, last;

	w = p->opts->worker_new != NULL ? p->opts->worker_new(p->opts->ctx) :
	    NULL;
	for (;;) {
		fd = accept_one(p);
		if (fd < 0)
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

		serve(p, w, fd);

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
			if (wfree != NULL)
				wfree(w);
			return NULL;
		}
	}
	if (wfree != NULL)
		wfree(w);
	pthread_mutex_lock(&p->mu);
	p->idle--;
	p->total--;
	last = p->total == 0 && !p->stopping;
	main_thread = p->main;
	pthread_cond_broadcast(&p->idle_cv);
	pthread_mutex_unlock(&p->mu);
	/* Nobody accepts any more: tell the main thread, which exits (and
	 * may free p at once: don't touch it after the unlock). */
	if (last)
		pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

/* Requests in flight: on workers and kept by the handler. */
static int
in_flight(struct pool *pp)
{
	return pp->busy + (pp->opts->held != NULL ?
	    pp->opts->held(pp->opts->ctx) : 0);
}

/* Wait, with pp->mu held, until no request is in flight or the deadline. */
static void
wait_idle(struct pool *pp, long long deadline)
{
	struct timespec	 ts;

	while (in_flight(pp) > 0 && clock_ms() < deadline) {
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

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	raise_nofile();

	/* Workers may outlive this call (blocked in accept): heap. */
	pp = calloc(1, sizeof(*pp));
	if (pp == NULL)
		return SRV_ERR_THREAD;
	pp->opts = o;
	pp->fd = fd;
	pp->main = pthread_self();
	pp->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pp->wakefd < 0) {
		free(pp);
		return SRV_ERR_THREAD;
	}
	pthread_mutex_init(&pp->accept_mu, NULL);
	pp->max_threads = o->max_busy + MJ_SPARE_THREADS_MIN;
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->idle_cv, NULL);
	/*
	 * The socket listens already (connections wait in its backlog):
	 * start what requests use (the PDF zygote) before the first is
	 * accepted, so the first answer finds it there.
	 */
	if (o->ready != NULL)
		o->ready(o->ctx);
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
				close(pp->wakefd);
				free(pp);
				return SRV_ERR_THREAD;
			}
			break;
		}
	}
	log_msg(LOG_INFO, NULL, "ready: %d workers, up to %d requests", n,
	    o->max_busy);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
		pthread_mutex_lock(&pp->mu);
		n = pp->total;
		pthread_mutex_unlock(&pp->mu);
		if (n == 0) {
			log_msg(LOG_ERROR, NULL, "no worker left to accept "
			    "connections; exiting");
			close(pp->wakefd);
			free(pp);	/* no thread holds it any more */
			return SRV_ERR_NO_WORKERS;
		}
	}
	pthread_mutex_lock(&pp->mu);
	n = in_flight(pp);
	pthread_mutex_unlock(&pp->mu);
	log_msg(LOG_INFO, NULL, "signal %d: no new requests; waiting up to "
	    "%ld ms for %d in flight", sig, o->grace_ms, n);
	pthread_mutex_lock(&pp->mu);
	pp->stopping = 1;
	pthread_mutex_unlock(&pp->mu);
	/*
	 * Wake the acceptors.  Never shutdown(): an inherited socket
	 * (LISTEN_FDS, fd 0) is shared with systemd or the web server, and
	 * shutting it would refuse the next instance's connections too.
	 * Connections that arrive now wait in the backlog for it.
	 */
	if (eventfd_write(pp->wakefd, 1) != 0)
		log_msg(LOG_WARN, NULL, "cannot wake the acceptors: %s",
		    strerror(errno));
	/* A socket of our own: refuse new connections once nobody accepts. */
	if (o->listen != NULL) {
		deadline = clock_ms() + MJ_EXIT_WAIT_MS;
		pthread_mutex_lock(&pp->mu);
		while (pp->idle > 0 && clock_ms() < deadline) {
			pthread_mutex_unlock(&pp->mu);
			usleep(5000);
			pthread_mutex_lock(&pp->mu);
		}
		if (pp->idle == 0)
			close(fd);
		pthread_mutex_unlock(&pp->mu);
	}
	deadline = clock_ms() + o->grace_ms;
	pthread_mutex_lock(&pp->mu);
	wait_idle(pp, deadline);
	if (in_flight(pp) > 0 && o->cut != NULL) {
		/* Tell the streams still open why they end, then end them. */
		log_msg(LOG_WARN, NULL, "grace period over; cutting %d "
		    "requests", in_flight(pp));
		pthread_mutex_unlock(&pp->mu);
		o->cut(o->ctx);
		pthread_mutex_lock(&pp->mu);
		wait_idle(pp, clock_ms() + MJ_CUT_MS);
	}
	n = in_flight(pp);
	/* Acceptors woken by the eventfd leave; give them a moment. */
	deadline = clock_ms() + MJ_EXIT_WAIT_MS;
	while (pp->total > 0 && clock_ms() < deadline) {
		pthread_mutex_unlock(&pp->mu);
		usleep(10000);
		pthread_mutex_lock(&pp->mu);
	}
	i = pp->total;
	pthread_mutex_unlock(&pp->mu);
	if (i == 0) {
		close(pp->wakefd);
		free(pp);	/* else workers still hold it */
	}
	if (n > 0)
		log_msg(LOG_WARN, NULL, "grace period over; %d requests cut",
		    n);
	else
		log_msg(LOG_INFO, NULL, "stopped cleanly");
	return SRV_OK;
}
