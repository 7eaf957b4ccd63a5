/*
 * server.h - the FastCGI listening socket and the pool of worker threads.
 *
 * The socket comes from --listen (unix:/path or HOST:PORT), from systemd
 * socket activation (LISTEN_FDS), or is the one a web server passed on
 * fd 0 (mod_fcgid, spawn-fcgi).  Workers take turns in accept4() and
 * serve one connection (one request) at a time, counted busy from the
 * moment it is accepted; a connection that hasn't sent its
 * FCGI_BEGIN_REQUEST and params within MJ_FCGI_HANDSHAKE_MS is dropped.
 * The pool keeps a few idle workers ready and grows on demand up to the
 * request limit (plus a few to answer 503), so a thousand long streams
 * hold a thousand small threads.  Out of descriptors, accept backs off
 * and retries; if every worker is gone the process exits non-zero.
 * SIGTERM/SIGINT stop accepting (an eventfd wakes the acceptors: a
 * socket we didn't create is never shut down, so the next instance can
 * take it over) and give in-flight requests a grace period.
 */
#ifndef MJ_SERVER_H
#define MJ_SERVER_H

struct fconn;

enum srv_status {
	SRV_OK = 0,
	SRV_ERR_LISTEN,		/* bad --listen value, or bind/listen failed */
	SRV_ERR_NOT_FCGI,	/* no --listen and fd 0 is no socket */
	SRV_ERR_THREAD,		/* could not start workers */
	SRV_ERR_NO_WORKERS,	/* every worker left (accept kept failing) */
	SRV__MAX
};

struct srv_opts {
	const char	*listen;	/* NULL: fd 0 or LISTEN_FDS */
	int		 socket_mode;	/* unix socket permissions */
	long		 socket_uid;	/* unix socket owner, or -1 */
	long		 socket_gid;	/* unix socket group, or -1 */
	int		 listen_public;	/* allow non-loopback TCP addresses */
	int		 workers;	/* threads started at once */
	int		 max_busy;	/* requests served at once */
	long		 grace_ms;	/* shutdown grace period */
	/* Per-thread state: made when a worker starts, freed when it ends. */
	void		*(*worker_new)(void *ctx);
	void		(*worker_free)(void *worker);
	/*
	 * Serve the connection's request: 0 when it is over (the server
	 * ends the connection), 1 when the handler kept the connection (it
	 * ends and frees it later; count it in held()).
	 */
	int		(*handle)(void *ctx, void *worker, struct fconn *);
	/* Requests kept by handle(): shutdown waits for them too. */
	int		(*held)(void *ctx);
	/*
	 * The socket listens; called once, from the main thread, just
	 * before the workers start accepting.
	 */
	void		(*ready)(void *ctx);
	/* Grace period over: end the requests in flight now. */
	void		(*cut)(void *ctx);
	void		*ctx;
};

/*
 * Open the socket as opts says.  *fd gets it; *unlink_path (static
 * storage in opts->listen, or NULL) is the unix path to remove at exit.
 * On error, err (size errsz) says why.  Call before srv_run().
 */
enum srv_status	 srv_listen(const struct srv_opts *, int *fd, char *err,
		    size_t errsz) __attribute__((warn_unused_result));

/*
 * Serve on fd until SIGTERM or SIGINT, then stop accepting, wait up to
 * grace_ms for busy workers, then call opts->cut and wait up to
 * MJ_CUT_MS more for them to close their streams, and return SRV_OK.
 * Returns SRV_ERR_NO_WORKERS if every worker left first.  Blocks those
 * signals in every thread.
 */
enum srv_status	 srv_run(const struct srv_opts *, int fd);

#endif /* MJ_SERVER_H */
