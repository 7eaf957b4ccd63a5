/*
 * writer.h - the writer: every follower's client, on one thread.
 *
 * A worker thread that has read a request and started (or found) its run
 * hands the connection over with wr_add() and goes back to accepting: no
 * thread waits for a run's frames.  The writer lives on the runner's
 * thread (runner.h): the runner appends a token, the log tells the
 * writer (an rl_watch hook: a stream put on a list, no wake-up, no
 * syscall), and after the runner's turn wr_turn() writes every stream
 * that has new frames, each with one send.  Client sockets are
 * non-blocking and watched with epoll for EOF or FCGI_ABORT_REQUEST
 * (the client left) and, while a client reads slower than its run
 * writes, for room to write again.
 *
 * When a stream ends (written through, the client gone or stalled),
 * the writer frees its follower and calls the owner's end(arg, status),
 * on the writer's thread: the owner ends the request and frees it.
 *
 * wr_fd() is an epoll descriptor, readable when the writer has work
 * that no append announced (sockets, a stream added from another
 * thread): the runner waits on it along with libcurl's sockets.
 */
#ifndef MJ_WRITER_H
#define MJ_WRITER_H

#include <pthread.h>
#include <stddef.h>

#include "follow.h"

struct config;
struct writer;

enum wr_status {
	WR_OK = 0,
	WR_ERR_NOMEM,
	WR_ERR_SYS,		/* epoll or eventfd failed */
	WR__MAX
};

typedef void	(*wr_end_fn)(void *arg, enum fl_status);

enum wr_status	 wr_new(const struct config *, struct writer **out)
		    __attribute__((warn_unused_result));
/*
 * End every stream still open (their owners' end(arg, FL_ERR_GONE)),
 * then free.  w may be NULL.
 */
void		 wr_free(struct writer *w);
/* The thread that calls wr_turn(): appends there need no wake-up. */
void		 wr_set_thread(struct writer *w, pthread_t);
int		 wr_fd(const struct writer *w);

/*
 * Take over follower f writing to the non-blocking socket fd: from any
 * thread.  On WR_OK the writer owns f and calls end(arg, ...) exactly
 * once; on an error nothing was taken.
 */
enum wr_status	 wr_add(struct writer *w, struct fl *f, int fd,
		    wr_end_fn end, void *arg)
		    __attribute__((warn_unused_result));

/* Do what there is to do now; on the writer's thread. */
void		 wr_turn(struct writer *w, long long now);

/* Streams held, for health and shutdown. */
size_t		 wr_count(struct writer *w);

const char	*wr_strerror(enum wr_status);

#endif /* MJ_WRITER_H */
