/*
 * store.c - the store over one SQLite file; see store.h for the contract
 * and docs/internals/store.md for the schema and the transactions.
 *
 * The only module that includes <sqlite3.h>.  One struct store is one
 * connection: WAL journal (readers never block the writer), synchronous
 * NORMAL (a commit is durable once the WAL is synced at checkpoint; a
 * power cut may lose the last commits, never corrupt), foreign keys on
 * (erasing a run cascades to its frames, messages and claims), a busy
 * timeout.  Every write is one BEGIN IMMEDIATE transaction: it takes the
 * write lock first, so it never fails half-way on a lock, and anything
 * that fails inside it is rolled back.  Reads are single statements,
 * each its own snapshot.  Statements are prepared once, on first use,
 * and kept in the struct.
 *
 * Migrations are a table of SQL steps; the file's version is its
 * `PRAGMA user_version`.  Opening reads it without a lock, and only when
 * it is behind takes BEGIN IMMEDIATE, reads it again and applies the
 * steps still missing, each recorded in schema_log, so that of many
 * processes opening a fresh file at once one migrates and the others
 * find the work done.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bounds.h"
#include "clock.h"
#include "runlog.h"
#include "store.h"

/*
 * The schema, one step per version: step i brings the file from
 * version i to version i + 1.  Never edit a shipped step; add one.
 * States are rl_state_name() strings.
 */
static const char *const steps[] = {
	/* 1: runs and their frames. */
	"CREATE TABLE schema_log ("
	"  step INTEGER NOT NULL,"
	"  applied_ms INTEGER NOT NULL,"
	"  holder TEXT NOT NULL);"
	"CREATE TABLE runs ("
	"  id TEXT PRIMARY KEY,"
	"  owner TEXT NOT NULL,"
	"  user_id TEXT NOT NULL,"
	"  total_jobs INTEGER NOT NULL,"
	"  done_jobs INTEGER NOT NULL DEFAULT 0,"
	"  created_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER NOT NULL,"
	"  last_id INTEGER NOT NULL DEFAULT 0,"
	"  result_id INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'running' CHECK (state IN"
	"    ('running', 'done', 'failed', 'cancelled', 'interrupted')),"
	"  stop INTEGER NOT NULL DEFAULT 0,"
	"  holder TEXT NOT NULL,"
	"  lease_until_ms INTEGER NOT NULL,"
	"  response TEXT,"
	"  resume TEXT,"
	"  request TEXT);"
	"CREATE INDEX runs_owner ON runs (owner, created_ms, id);"
	"CREATE INDEX runs_lease ON runs (state, lease_until_ms);"
	"CREATE INDEX runs_holder ON runs (holder) WHERE state = 'running';"
	"CREATE INDEX runs_created ON runs (created_ms);"
	/*
	 * A row holds the frames first_id..last_id of one append (a run's
	 * frames of one flush), as chunk_put() writes them.
	 */
	"CREATE TABLE frames ("
	"  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	"  first_id INTEGER NOT NULL,"
	"  last_id INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY (run_id, first_id));",

	/* 2: the cache, in-flight claims, the webhook outbox. */
	"CREATE TABLE cache ("
	"  key BLOB PRIMARY KEY,"
	"  answer TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL);"
	"CREATE INDEX cache_expires ON cache (expires_ms);"
	"CREATE TABLE inflight ("
	"  key BLOB PRIMARY KEY,"
	"  run_id TEXT NOT NULL,"
	"  job INTEGER NOT NULL,"
	"  holder TEXT NOT NULL,"
	"  lease_until_ms INTEGER NOT NULL);"
	"CREATE INDEX inflight_run ON inflight (run_id);"
	"CREATE INDEX inflight_holder ON inflight (holder);"
	"CREATE TABLE outbox ("
	"  id TEXT PRIMARY KEY,"
	"  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	"  body BLOB NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
	"    ('pending', 'delivered', 'dead')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_status INTEGER NOT NULL DEFAULT 0,"
	"  next_ms INTEGER NOT NULL,"
	"  holder TEXT NOT NULL DEFAULT '',"
	"  lease_until_ms INTEGER NOT NULL DEFAULT 0,"
	"  created_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE INDEX outbox_due ON outbox (state, next_ms);"
	"CREATE INDEX outbox_run ON outbox (run_id);",

	/*
	 * 3: no index of claims by holder.  Every claim and release wrote
	 * it; only the renewal every MJ_STORE_RENEW_MS read it, over a table
	 * that holds the jobs in flight.  The plain route with the store on
	 * took 675 us of CPU a request with it, 615-650 without.
	 * (inflight_run stays: every run's end reads it.)
	 */
	"DROP INDEX inflight_holder;",

	/*
	 * 4: the lease index over running runs only.  Only the reaper reads
	 * it (Q_EXPIRED, running runs), and every final row went into it:
	 * a plain run's row cost the keeper 3.5 us more with it
	 * (bench/storebench).
	 */
	"DROP INDEX runs_lease;"
	"CREATE INDEX runs_lease ON runs (lease_until_ms, id) "
	"WHERE state = 'running';",
};
#define LATEST	((int)(sizeof(steps) / sizeof(steps[0])))

/* Message states as stored, indexed by enum store_msg_state. */
static const char *const msg_states[STORE_MSG__MAX] = {
	"pending",		/* STORE_MSG_PENDING */
	"delivered",		/* STORE_MSG_DELIVERED */
	"dead",			/* STORE_MSG_DEAD */
};

/* The frames a reaped run ends with. */
static const char reap_error[] = "{\"type\":\"error\",\"code\":\"interrupted\","
    "\"message\":\"the responder running this run stopped (its lease "
    "expired)\"}";
static const char reap_done[] = "{\"type\":\"done\"}";

/* Every statement, prepared on first use. */
enum query {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_VERSION,
	Q_STEPS,
	Q_RUN_INSERT,
	Q_RUN_HEAD,
	Q_FRAME_INSERT,
	Q_RUN_UPDATE,
	Q_CLAIMS_DROP_RUN,
	Q_FRAMES,
	Q_RUN_EXISTS,
	Q_RUN_GET,
	Q_RUN_LIST,
	Q_RUN_DELETE,
	Q_RUN_STOP,
	Q_RUN_STOPPED,
	Q_RENEW_RUNS,
	Q_RENEW_CLAIMS,
	Q_EXPIRED,
	Q_RUN_HOLD,
	Q_RUN_INTERRUPT,
	Q_PURGE_RUNS,
	Q_PURGE_CACHE,
	Q_PURGE_CLAIMS,
	Q_CACHE_GET,
	Q_CACHE_PUT,
	Q_CLAIM_GET,
	Q_CLAIM_PUT,
	Q_RELEASE,
	Q_OUTBOX_INSERT,
	Q_OUTBOX_DUE,
	Q_OUTBOX_HOLD,
	Q_OUTBOX_GET,
	Q_OUTBOX_END,
	Q_OUTBOX_EXISTS,
	Q_INTEGRITY,
	Q_STOPS,
	Q_HOLDERS,
	Q_HOLDER_EXPIRE,
	Q_RUN_ADVANCE,
	Q__MAX
};

/*
 * A run's last frame id: its row's, or its last chunk's when frames were
 * added since (an append of frames alone leaves the row as it is: the
 * keeper rewrites a running run's row only when more than its frames
 * changed, or every MJ_STORE_ROW_MS).  Chunks follow one another, so the
 * one that starts last ends last; the primary key finds it.
 */
#define LAST_ID "max(runs.last_id, coalesce((SELECT f.last_id FROM " \
	"frames f WHERE f.run_id = runs.id ORDER BY f.first_id DESC " \
	"LIMIT 1), 0))"

#define RUN_COLS "id, owner, user_id, total_jobs, done_jobs, created_ms, " \
	"updated_ms, " LAST_ID ", result_id, state, stop, holder, " \
	"lease_until_ms"

static const char *const sql[Q__MAX] = {
	/* Q_BEGIN */		"BEGIN IMMEDIATE",
	/* Q_COMMIT */		"COMMIT",
	/* Q_ROLLBACK */	"ROLLBACK",
	/* Q_VERSION */		"PRAGMA user_version",
	/* Q_STEPS */		"SELECT count(*) FROM schema_log",
	/* Q_RUN_INSERT */	"INSERT INTO runs (id, owner, user_id, "
				"total_jobs, created_ms, updated_ms, holder, "
				"lease_until_ms, resume, request, last_id, "
				"done_jobs, result_id, state, response) VALUES "
				"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
				"?12, ?13, ?14, ?15)",
	/* Q_RUN_HEAD */	"SELECT " LAST_ID ", state, holder FROM runs "
				"WHERE id = ?1",
	/* Q_FRAME_INSERT */	"INSERT INTO frames (run_id, first_id, "
				"last_id, data) VALUES (?1, ?2, ?3, ?4)",
	/* Q_RUN_UPDATE */	"UPDATE runs SET last_id = ?2, updated_ms = ?3, "
				"lease_until_ms = ?4, "
				"done_jobs = coalesce(?5, done_jobs), "
				"result_id = CASE WHEN ?6 > 0 THEN ?6 "
				"ELSE result_id END, "
				"state = coalesce(?7, state), "
				"response = coalesce(?8, response), "
				"resume = CASE WHEN ?9 THEN NULL ELSE resume END, "
				"request = CASE WHEN ?9 THEN NULL "
				"ELSE request END WHERE id = ?1",
	/* Q_CLAIMS_DROP_RUN */	"DELETE FROM inflight WHERE run_id = ?1",
	/* Q_FRAMES */		"SELECT first_id, last_id, data FROM frames "
				"WHERE run_id = ?1 AND last_id > ?2 "
				"ORDER BY first_id LIMIT ?3",
	/* Q_RUN_EXISTS */	"SELECT 1 FROM runs WHERE id = ?1",
	/* Q_RUN_GET */		"SELECT " RUN_COLS ", response, "
				"CASE WHEN ?2 THEN resume END, "
				"CASE WHEN ?2 THEN request END "
				"FROM runs WHERE id = ?1",
	/* Q_RUN_LIST */	"SELECT " RUN_COLS ", NULL, NULL, NULL "
				"FROM runs WHERE owner = ?1 AND "
				"(created_ms, id) < (?2, ?3) "
				"ORDER BY created_ms DESC, id DESC LIMIT ?4",
	/* Q_RUN_DELETE */	"DELETE FROM runs WHERE id = ?1",
	/* Q_RUN_STOP */	"UPDATE runs SET stop = 1 "
				"WHERE id = ?1 AND state = 'running'",
	/* Q_RUN_STOPPED */	"SELECT stop FROM runs WHERE id = ?1",
	/* Q_RENEW_RUNS */	"UPDATE runs SET lease_until_ms = ?2 "
				"WHERE holder = ?1 AND state = 'running'",
	/* Q_RENEW_CLAIMS */	"UPDATE inflight SET lease_until_ms = ?2 "
				"WHERE holder = ?1",
	/* Q_EXPIRED */		"SELECT id FROM runs WHERE state = 'running' "
				"AND lease_until_ms <= ?1 "
				"ORDER BY lease_until_ms, id LIMIT 1",
	/* Q_RUN_HOLD */	"UPDATE runs SET holder = ?2, "
				"lease_until_ms = ?3 WHERE id = ?1",
	/* Q_RUN_INTERRUPT */	"UPDATE runs SET state = 'interrupted', "
				"last_id = ?2, result_id = ?3, "
				"updated_ms = ?4, resume = NULL, "
				"request = NULL WHERE id = ?1",
	/* Q_PURGE_RUNS */	"DELETE FROM runs WHERE state <> 'running' "
				"AND created_ms < ?1",
	/* Q_PURGE_CACHE */	"DELETE FROM cache WHERE expires_ms <= ?1",
	/* Q_PURGE_CLAIMS */	"DELETE FROM inflight WHERE lease_until_ms <= ?1",
	/* Q_CACHE_GET */	"SELECT answer FROM cache "
				"WHERE key = ?1 AND expires_ms > ?2",
	/* Q_CACHE_PUT */	"INSERT INTO cache (key, answer, created_ms, "
				"expires_ms) VALUES (?1, ?2, ?3, ?4) "
				"ON CONFLICT (key) DO UPDATE SET "
				"answer = excluded.answer, "
				"created_ms = excluded.created_ms, "
				"expires_ms = excluded.expires_ms",
	/* Q_CLAIM_GET */	"SELECT run_id, job, holder, lease_until_ms "
				"FROM inflight WHERE key = ?1",
	/* Q_CLAIM_PUT */	"INSERT OR REPLACE INTO inflight (key, run_id, "
				"job, holder, lease_until_ms) "
				"VALUES (?1, ?2, ?3, ?4, ?5)",
	/* Q_RELEASE */		"DELETE FROM inflight "
				"WHERE key = ?1 AND holder = ?2",
	/* Q_OUTBOX_INSERT */	"INSERT INTO outbox (id, run_id, body, "
				"next_ms, created_ms, updated_ms) "
				"VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	/* Q_OUTBOX_DUE */	"SELECT id FROM outbox WHERE state = 'pending' "
				"AND next_ms <= ?1 AND lease_until_ms <= ?1 "
				"ORDER BY next_ms, id LIMIT 1",
	/* Q_OUTBOX_HOLD */	"UPDATE outbox SET holder = ?2, "
				"lease_until_ms = ?3 WHERE id = ?1",
	/* Q_OUTBOX_GET */	"SELECT id, run_id, body, state, attempts, "
				"last_status, next_ms, lease_until_ms "
				"FROM outbox WHERE id = ?1",
	/* Q_OUTBOX_END */	"UPDATE outbox SET state = ?3, "
				"attempts = attempts + ?4, last_status = ?5, "
				"next_ms = coalesce(?6, next_ms), holder = '', "
				"lease_until_ms = 0, updated_ms = ?7 "
				"WHERE id = ?1 AND holder = ?2 "
				"AND state = 'pending'",
	/* Q_OUTBOX_EXISTS */	"SELECT 1 FROM outbox WHERE id = ?1",
	/* Q_INTEGRITY */	"PRAGMA integrity_check",
	/* Q_STOPS */		"SELECT id FROM runs WHERE holder = ?1 AND "
				"state = 'running' AND stop = 1",
	/* Q_HOLDERS */		"SELECT DISTINCT holder FROM runs "
				"WHERE state = 'running' AND holder <> ?1",
	/* Q_HOLDER_EXPIRE */	"UPDATE runs SET lease_until_ms = 0 "
				"WHERE holder = ?1 AND state = 'running'",
	/*
	 * Not the lease: store_renew() renews it every MJ_STORE_RENEW_MS,
	 * and a lease changed here would move the row in runs_lease on
	 * every flush of every running run.
	 */
	/* Q_RUN_ADVANCE */	"UPDATE runs SET last_id = ?2, updated_ms = ?3, "
				"done_jobs = coalesce(?4, done_jobs), "
				"result_id = CASE WHEN ?5 > 0 THEN ?5 "
				"ELSE result_id END, "
				"state = coalesce(?6, state), "
				"response = coalesce(?7, response), "
				"resume = CASE WHEN ?8 THEN NULL ELSE resume END, "
				"request = CASE WHEN ?8 THEN NULL "
				"ELSE request END WHERE id = ?1 AND "
				"state = 'running' AND holder = ?9 AND "
				LAST_ID " = ?10",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[Q__MAX];	/* prepared on first use */
	char		*holder;	/* owned */
	pid_t		 pid;		/* the opener */
	int		 version;	/* the file's schema version */
	int		 readonly;
	int		 batch;		/* in store_batch_begin()'s transaction */
	int		 lost;		/* ... which was rolled back whole */
	int		 wrote;		/* writes of the call in the batch */
	struct store_gate *gate;	/* borrowed, or NULL */
	int		 waiting;	/* counted in gate->want */
	int		 busy_ms;	/* how long a write waits for the lock */
	char		*chunk;		/* chunk_put()'s buffer, owned */
	size_t		 chunksz;
	char		 msg[256];	/* the last failure */
};

/*
 * SQLite's busy handler: try again every MJ_STORE_BUSY_NAP_US for
 * st->busy_ms.  (sqlite3_busy_timeout's handler sleeps 1, 2, 5, 10 ... up
 * to 100 ms between tries: against the lanes' short, frequent
 * transactions the keeper backed off for a hundred milliseconds at a
 * time while the lock was free most of it.)
 */
static int
busy_nap(void *arg, int tries)
{
	const struct timespec	 nap = { 0, MJ_STORE_BUSY_NAP_US * 1000L };
	const struct store	*st = arg;

	if ((long long)tries * MJ_STORE_BUSY_NAP_US >= st->busy_ms * 1000LL)
		return 0;
	nanosleep(&nap, NULL);
	return 1;
}

/* Count st in its gate's waiters while it waits for the lock, or not. */
static void
gate_wait(struct store *st, int waiting)
{
	if (st->gate == NULL || st->waiting == waiting)
		return;
	st->waiting = waiting;
	if (waiting)
		atomic_fetch_add(&st->gate->want, 1);
	else
		atomic_fetch_sub(&st->gate->want, 1);
}

/* ---- errors ---- */

/*
 * After a failed write: is the file system, or the file size limit
 * (RLIMIT_FSIZE), all but full?  SQLite reports a write past the limit
 * (EFBIG, with SIGXFSZ ignored) as SQLITE_IOERR_WRITE, and its
 * sqlite3_system_errno() is the errno of whatever ran last, so look:
 * less than two of the largest WAL frames (a 64 KiB page and its header)
 * left on the disk or below the limit for the database or its WAL.
 */
static int
no_room(struct store *st)
{
	const off_t	 frame = 65536 + 24;
	const char	*db;
	struct statvfs	 vfs;
	struct rlimit	 rl;
	struct stat	 sb;
	char		 wal[4096];
	int		 i;

	db = st != NULL && st->db != NULL ?
	    sqlite3_db_filename(st->db, "main") : NULL;
	if (db == NULL || db[0] == '\0')
		return 0;
	if (statvfs(db, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < 2 * (uint64_t)frame)
		return 1;
	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", db) >= sizeof(wal))
		return 0;
	for (i = 0; i < 2; i++)
		if (stat(i == 0 ? db : wal, &sb) == 0 &&
		    (uint64_t)sb.st_size + 2 * (uint64_t)frame >
		    (uint64_t)rl.rlim_cur)
			return 1;
	return 0;
}

/* Map a SQLite result code (extended codes on) to ours. */
static enum store_status
map(struct store *st, int rc)
{
	int	 se;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_ERR_BUSY;
	case SQLITE_FULL:
		return STORE_ERR_FULL;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return STORE_ERR_READONLY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_ERR_CORRUPT;
	case SQLITE_NOMEM:
		return STORE_ERR_NOMEM;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		return STORE_ERR_ARG;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
		    rc == SQLITE_CONSTRAINT_UNIQUE)
			return STORE_ERR_EXISTS;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return STORE_ERR_NOTFOUND;
		return STORE_ERR_ARG;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		if (rc == SQLITE_IOERR_NOMEM)
			return STORE_ERR_NOMEM;
		/*
		 * A write past RLIMIT_FSIZE or a quota is an I/O error to
		 * SQLite (ENOSPC alone is SQLITE_FULL): a full store too.
		 */
		se = st != NULL && st->db != NULL ?
		    sqlite3_system_errno(st->db) : 0;
		if (se == ENOSPC || se == EFBIG || se == EDQUOT)
			return STORE_ERR_FULL;
		if ((rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_TRUNCATE ||
		    rc == SQLITE_IOERR_SHMSIZE) && no_room(st))
			return STORE_ERR_FULL;
		if (se == EROFS || se == EACCES || se == EPERM)
			return STORE_ERR_READONLY;
		return STORE_ERR_IO;
	default:
		return STORE_ERR_IO;
	}
}

__attribute__((format(printf, 2, 3)))
static void
note(struct store *st, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
}

/* Record what failed (with SQLite's message) and return our code. */
static enum store_status
fail(struct store *st, int rc, const char *what)
{
	enum store_status s = map(st, rc);
	const char	*m;

	m = st->db != NULL && sqlite3_errcode(st->db) == rc ?
	    sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
	note(st, "%s: %s (%s)", what, m, store_strerror(s));
	return s;
}

/* Every call starts here: the connection is the opener's only. */
static enum store_status
enter(struct store *st)
{
	if (st->pid != getpid()) {
		note(st, "the store was opened by process %ld",
		    (long)st->pid);
		return STORE_ERR_FORK;
	}
	st->msg[0] = '\0';
	return STORE_OK;
}

static int
id_ok(const char *s)
{
	size_t	 n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	return n > 0 && n <= MJ_STORE_ID_MAX;
}

static int
key_ok(const void *key, size_t klen)
{
	return key != NULL && klen > 0 && klen <= MJ_STORE_KEY_MAX;
}

static enum store_status
bad_arg(struct store *st, const char *what)
{
	note(st, "%s", what);
	return STORE_ERR_ARG;
}

/* ---- statements ---- */

/* Statement k, prepared if need be, reset and with no bindings. */
static enum store_status
q(struct store *st, enum query k, sqlite3_stmt **out)
{
	int	 rc;

	*out = NULL;
	if (st->stmt[k] == NULL) {
		rc = sqlite3_prepare_v2(st->db, sql[k], -1, &st->stmt[k],
		    NULL);
		if (rc != SQLITE_OK)
			return fail(st, rc, "prepare");
	} else {
		sqlite3_reset(st->stmt[k]);
		sqlite3_clear_bindings(st->stmt[k]);
	}
	*out = st->stmt[k];
	return STORE_OK;
}

/*
 * One parameter of a statement: built by txt(), txtn(), blob(), i64(),
 * null(), whose prototypes type-check every argument, and bound by
 * bindv() through ARGS(...).  The values are not copied: they must
 * outlive the statement's use (until its reset).
 */
struct arg {
	int		 type;		/* 't' text, 'b' blob, 'i', 'n' NULL */
	const void	*p;
	size_t		 n;		/* bytes of p */
	int64_t		 i;
};

/* A string, NUL-terminated; NULL binds NULL. */
static struct arg
txt(const char *p)
{
	struct arg a = { p != NULL ? 't' : 'n', p, p != NULL ? strlen(p) : 0,
	    0 };

	return a;
}

static struct arg
txtn(const char *p, size_t n)
{
	struct arg a = { 't', p != NULL ? p : "", n, 0 };

	return a;
}

static struct arg
blob(const void *p, size_t n)
{
	struct arg a = { 'b', p != NULL ? p : "", n, 0 };

	return a;
}

static struct arg
i64(int64_t v)
{
	struct arg a = { 'i', NULL, 0, v };

	return a;
}

static struct arg
null(void)
{
	struct arg a = { 'n', NULL, 0, 0 };

	return a;
}

#define ARGS(...) (const struct arg[]){ __VA_ARGS__ }, \
	sizeof((const struct arg[]){ __VA_ARGS__ }) / sizeof(struct arg)

/* Bind a[0..n) to parameters 1..n of s, which must take exactly n. */
static enum store_status
bindv(struct store *st, sqlite3_stmt *s, const struct arg *a, size_t n)
{
	size_t	 i;
	int	 rc = SQLITE_OK;

	if ((size_t)sqlite3_bind_parameter_count(s) != n) {
		note(st, "internal: %zu values for \"%s\"", n, sqlite3_sql(s));
		return STORE_ERR_ARG;
	}
	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		switch (a[i].type) {
		case 't':
			rc = sqlite3_bind_text64(s, (int)i + 1, a[i].p, a[i].n,
			    SQLITE_STATIC, SQLITE_UTF8);
			break;
		case 'b':
			rc = sqlite3_bind_blob64(s, (int)i + 1, a[i].p, a[i].n,
			    SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int64(s, (int)i + 1, a[i].i);
			break;
		default:
			rc = sqlite3_bind_null(s, (int)i + 1);
			break;
		}
	}
	return rc == SQLITE_OK ? STORE_OK : fail(st, rc, "bind");
}

/*
 * Step s once: STORE_OK with *row set if it gave a row, else reset (a
 * statement left stepping would pin its snapshot).
 */
static enum store_status
step(struct store *st, sqlite3_stmt *s, int *row)
{
	int	 rc;

	rc = sqlite3_step(s);
	if (row != NULL)
		*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW && row != NULL)
		return STORE_OK;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		st->wrote += !sqlite3_stmt_readonly(s);
		return STORE_OK;
	}
	return fail(st, rc, "step");
}

/* Run statement k with a[0..n) bound to its end: a write. */
static enum store_status
run(struct store *st, enum query k, const struct arg *a, size_t n)
{
	sqlite3_stmt	*s;
	enum store_status rc;

	rc = q(st, k, &s);
	if (rc == STORE_OK && n > 0)
		rc = bindv(st, s, a, n);
	if (rc == STORE_OK)
		rc = step(st, s, NULL);
	return rc;
}

/*
 * A writing transaction; inside a batch (store_batch_begin), the batch's.
 * There is no savepoint per call (one cost the keeper 11 of the 35 us of
 * a plain run's final row, bench/storebench): a statement that fails is
 * undone by SQLite, alone or with the whole transaction, so a call that
 * fails before its first write leaves the batch as it was, and one that
 * fails after it rolls the whole batch back (rollback()).
 */
static enum store_status
begin(struct store *st)
{
	if (st->lost) {
		note(st, "the batch was rolled back");
		return STORE_ERR_IO;
	}
	st->wrote = 0;
	return st->batch ? STORE_OK : run(st, Q_BEGIN, NULL, 0);
}

/* A public call that writes starts here: enter(), then begin(). */
static enum store_status
start(struct store *st)
{
	enum store_status rc;

	rc = enter(st);
	return rc == STORE_OK ? begin(st) : rc;
}

static void
rollback(struct store *st)
{
	sqlite3_stmt	*s;
	char		 keep[sizeof(st->msg)];

	if (sqlite3_get_autocommit(st->db)) {
		/* SQLite rolled it back already (a full disk, say). */
		st->lost = st->batch;
		st->batch = 0;
		return;
	}
	/* The call wrote nothing, or SQLite undid it: the batch goes on. */
	if (st->batch && st->wrote == 0)
		return;
	memcpy(keep, st->msg, sizeof(keep));
	if (q(st, Q_ROLLBACK, &s) == STORE_OK)
		(void)step(st, s, NULL);
	memcpy(st->msg, keep, sizeof(keep));
	/* The rest of the batch fails until store_batch_end() says so. */
	st->lost = st->batch;
	st->batch = 0;
}

static enum store_status
commit(struct store *st)
{
	enum store_status rc;

	if (st->batch)
		return STORE_OK;	/* store_batch_end() commits */
	rc = run(st, Q_COMMIT, NULL, 0);
	if (rc != STORE_OK)
		rollback(st);
	return rc;
}

/*
 * End the transaction begin() started (or failed to): commit if rc is
 * STORE_OK, else roll back.  What it returns is the caller's result.
 */
static enum store_status
end(struct store *st, enum store_status rc)
{
	if (rc == STORE_OK)
		return commit(st);
	rollback(st);
	return rc;
}

/* A copy of text column i (NULL stays NULL); nullable or not. */
static enum store_status
col_dup(struct store *st, sqlite3_stmt *s, int i, char **out)
{
	const unsigned char *p;
	size_t		 n;

	*out = NULL;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return STORE_OK;
	p = sqlite3_column_text(s, i);
	n = (size_t)sqlite3_column_bytes(s, i);
	if (p == NULL || (*out = malloc(n + 1)) == NULL) {
		note(st, "out of memory");
		return STORE_ERR_NOMEM;
	}
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return STORE_OK;
}

static int
state_parse(const unsigned char *p, enum rl_state *out)
{
	int	 i;

	for (i = 0; p != NULL && i < RL_STATE__MAX; i++)
		if (strcmp((const char *)p, rl_state_name(i)) == 0) {
			*out = i;
			return 1;
		}
	return 0;
}

/* The run in the current row of s (RUN_COLS, response, resume, request). */
static enum store_status
col_run(struct store *st, sqlite3_stmt *s, struct store_run *r)
{
	static const int	 cols[] = { 0, 1, 2, 11, 13, 14, 15 };
	char			**to[] = { &r->id, &r->owner, &r->user_id,
				    &r->holder, &r->response, &r->resume,
				    &r->request };
	enum store_status	 rc = STORE_OK;
	size_t			 i;

	store_run_clear(r);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]) && rc == STORE_OK; i++)
		rc = col_dup(st, s, cols[i], to[i]);
	if (rc != STORE_OK)
		goto err;
	r->total_jobs = (size_t)sqlite3_column_int64(s, 3);
	r->done_jobs = (size_t)sqlite3_column_int64(s, 4);
	r->created_ms = sqlite3_column_int64(s, 5);
	r->updated_ms = sqlite3_column_int64(s, 6);
	r->last_id = (uint64_t)sqlite3_column_int64(s, 7);
	r->result_id = (uint64_t)sqlite3_column_int64(s, 8);
	r->stop = sqlite3_column_int(s, 10) != 0;
	r->lease_until_ms = sqlite3_column_int64(s, 12);
	if (!state_parse(sqlite3_column_text(s, 9), &r->state)) {
		note(st, "run %s: unknown state", r->id);
		rc = STORE_ERR_CORRUPT;
		goto err;
	}
	return STORE_OK;
err:
	store_run_clear(r);
	return rc;
}

/* ---- opening ---- */

/*
 * Query k, with a[0..n) bound, for one integer: *found (may be NULL)
 * says whether it gave a row, *v (may be NULL) gets its first column, 0
 * without a row.
 */
static enum store_status
get_int(struct store *st, enum query k, const struct arg *a, size_t n,
    int *found, int64_t *v)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	int		 row = 0;

	rc = q(st, k, &s);
	if (rc == STORE_OK && n > 0)
		rc = bindv(st, s, a, n);
	if (rc == STORE_OK)
		rc = step(st, s, &row);
	if (found != NULL)
		*found = rc == STORE_OK && row;
	if (v != NULL)
		*v = rc == STORE_OK && row ? sqlite3_column_int64(s, 0) : 0;
	if (rc == STORE_OK && row)
		sqlite3_reset(s);
	return rc;
}

/*
 * Query k, with a[0..n) bound, for the row of what (a run, a message)
 * id: STORE_OK with *out on the row (the caller resets it), or
 * STORE_ERR_NOTFOUND.
 */
static enum store_status
row_of(struct store *st, enum query k, const struct arg *a, size_t n,
    const char *what, const char *id, sqlite3_stmt **out)
{
	enum store_status rc;
	int		 row;

	rc = q(st, k, out);
	if (rc == STORE_OK)
		rc = bindv(st, *out, a, n);
	if (rc == STORE_OK)
		rc = step(st, *out, &row);
	if (rc == STORE_OK && !row) {
		note(st, "%s %s: not found", what, id);
		rc = STORE_ERR_NOTFOUND;
	}
	return rc;
}

/* The file's user_version into *v. */
static enum store_status
read_version(struct store *st, int *v)
{
	enum store_status rc;
	int64_t		 x;

	rc = get_int(st, Q_VERSION, NULL, 0, NULL, &x);
	*v = x < 0 || x > INT_MAX ? INT_MAX : (int)x;
	return rc;
}

static enum store_status
pragma(struct store *st, const char *text)
{
	char	*m = NULL;
	int	 rc;

	rc = sqlite3_exec(st->db, text, NULL, NULL, &m);
	if (rc != SQLITE_OK) {
		note(st, "%s: %s", text, m != NULL ? m : sqlite3_errstr(rc));
		sqlite3_free(m);
		return map(st, rc);
	}
	return STORE_OK;
}

/* Bring the file from its version to target, once across processes. */
static enum store_status
migrate(struct store *st, int target, int64_t now_ms)
{
	enum store_status rc;
	sqlite3_stmt	*log = NULL;
	char		 text[64], *m = NULL;
	int		 v, r;

	rc = begin(st);
	if (rc != STORE_OK)
		return rc;
	/* Read again under the write lock: another process may have. */
	rc = read_version(st, &v);
	if (rc != STORE_OK)
		goto err;
	if (v > LATEST) {
		note(st, "schema version %d is newer than this build's %d",
		    v, LATEST);
		rc = STORE_ERR_SCHEMA;
		goto err;
	}
	for (; v < target; v++) {
		r = sqlite3_exec(st->db, steps[v], NULL, NULL, &m);
		if (r != SQLITE_OK) {
			note(st, "migration to version %d: %s", v + 1,
			    m != NULL ? m : sqlite3_errstr(r));
			sqlite3_free(m);
			rc = map(st, r);
			goto err;
		}
		r = sqlite3_prepare_v2(st->db, "INSERT INTO schema_log "
		    "(step, applied_ms, holder) VALUES (?1, ?2, ?3)", -1,
		    &log, NULL);
		if (r == SQLITE_OK)
			r = sqlite3_bind_int(log, 1, v + 1);
		if (r == SQLITE_OK)
			r = sqlite3_bind_int64(log, 2, now_ms);
		if (r == SQLITE_OK)
			r = sqlite3_bind_text(log, 3, st->holder, -1,
			    SQLITE_STATIC);
		if (r == SQLITE_OK)
			r = sqlite3_step(log);
		if (r == SQLITE_DONE)
			r = SQLITE_OK;
		sqlite3_finalize(log);
		log = NULL;
		if (r != SQLITE_OK) {
			rc = fail(st, r, "schema_log");
			goto err;
		}
		snprintf(text, sizeof(text), "PRAGMA user_version = %d", v + 1);
		rc = pragma(st, text);
		if (rc != STORE_OK)
			goto err;
	}
	rc = commit(st);
	if (rc != STORE_OK)
		return rc;
	st->version = v;
	return STORE_OK;
err:
	rollback(st);
	return rc;
}

/*
 * Put the file in WAL mode (a no-op once it is).  The switch needs an
 * exclusive lock, and SQLite answers SQLITE_BUSY at once, without its
 * busy handler, while another connection holds any lock (as when many
 * processes open a fresh file together): retry for up to busy_ms.
 */
static enum store_status
wal_mode(struct store *st, int busy_ms)
{
	const struct timespec pause = { 0, 5 * 1000 * 1000 };
	const unsigned char *t;
	sqlite3_stmt	*s;
	enum store_status rc = STORE_OK;
	long long	 deadline = clock_ms() + busy_ms;
	int		 r;

	r = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
	    NULL);
	if (r != SQLITE_OK)
		return fail(st, r, "journal_mode");
	for (;;) {
		r = sqlite3_step(s);
		if (((r & 0xff) != SQLITE_BUSY && (r & 0xff) != SQLITE_LOCKED) ||
		    clock_ms() >= deadline)
			break;
		sqlite3_reset(s);
		nanosleep(&pause, NULL);
	}
	t = r == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
	if (r != SQLITE_ROW)
		rc = fail(st, r, "journal_mode");
	else if (t == NULL || strcmp((const char *)t, "wal") != 0) {
		note(st, "the WAL journal mode is not available");
		rc = STORE_ERR_IO;
	}
	sqlite3_finalize(s);
	return rc;
}

enum store_status
store_open_opts(const char *path, const char *holder,
    const struct store_opts *o, struct store **out, char *err, size_t errsz)
{
	static const struct store_opts none;
	struct store	*st;
	enum store_status rc;
	int		 v, r, target, flags, busy;

	*out = NULL;
	if (o == NULL)
		o = &none;
	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (path == NULL || !id_ok(holder) || o->max_version < 0 ||
	    o->max_version > LATEST || o->busy_ms < 0) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "store_open: bad arguments");
		return STORE_ERR_ARG;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->holder = strdup(holder)) == NULL) {
		free(st);
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "store_open: out of memory");
		return STORE_ERR_NOMEM;
	}
	st->pid = getpid();
	st->readonly = o->readonly != 0;
	st->gate = o->gate;
	target = o->max_version > 0 ? o->max_version : LATEST;
	flags = st->readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	/* One thread at a time per connection (store.h). */
	r = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (st->db == NULL) {
		note(st, "%s: out of memory", path);
		rc = STORE_ERR_NOMEM;
		goto err;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (r != SQLITE_OK) {
		rc = fail(st, r, path);
		goto err;
	}
	busy = o->busy_ms > 0 ? (o->busy_ms > INT_MAX ? INT_MAX :
	    (int)o->busy_ms) : MJ_STORE_BUSY_MS;
	st->busy_ms = o->no_wait ? 0 : busy;
	sqlite3_busy_handler(st->db, busy_nap, st);
	/* Connection settings: they write nothing to the file. */
	rc = pragma(st, "PRAGMA foreign_keys = ON");
	if (rc == STORE_OK)
		rc = pragma(st, "PRAGMA synchronous = NORMAL");
	/*
	 * No commit checkpoints the WAL on its own (it would copy megabytes
	 * and fsync on whichever thread committed: a runner lane, say); the
	 * keeper calls store_checkpoint() on its thread instead.
	 */
	if (rc == STORE_OK)
		rc = pragma(st, "PRAGMA wal_autocheckpoint = 0");
	/* A WAL that grew in a burst is cut back once it is reset. */
	if (rc == STORE_OK)
		rc = pragma(st, "PRAGMA journal_size_limit = 67108864");
	/*
	 * A statement that may fail half-way (a cascade, an upsert) copies
	 * the pages it changes to a statement journal, a temporary file
	 * unless it is kept in memory (when each run of a batch had a
	 * savepoint, the keeper's flushes under 1000 running streams took
	 * 3.97 s of CPU with a file, 3.36 s in memory).  The page cache: see
	 * MJ_STORE_CACHE_KIB.
	 */
	if (rc == STORE_OK)
		rc = pragma(st, "PRAGMA temp_store = MEMORY");
	if (rc == STORE_OK)
		rc = pragma(st, "PRAGMA cache_size = " MJ_STORE_CACHE_KIB);
	if (rc != STORE_OK)
		goto err;
	/* Before anything writes: refuse a newer file untouched. */
	rc = read_version(st, &v);
	if (rc != STORE_OK)
		goto err;
	if (v > LATEST) {
		note(st, "%s: schema version %d is newer than this build's %d",
		    path, v, LATEST);
		rc = STORE_ERR_SCHEMA;
		goto err;
	}
	if (st->readonly) {
		if (v != target) {
			note(st, "%s: schema version %d, not %d, and the "
			    "store is read-only", path, v, target);
			rc = STORE_ERR_SCHEMA;
			goto err;
		}
		st->version = v;
		*out = st;
		return STORE_OK;
	}
	rc = wal_mode(st, busy);
	if (rc != STORE_OK)
		goto err;
	st->version = v;
	if (v < target) {
		rc = migrate(st, target, clock_wall_ms());
		if (rc != STORE_OK)
			goto err;
	}
	*out = st;
	return STORE_OK;
err:
	if (err != NULL && errsz > 0)
		snprintf(err, errsz, "%s", st->msg);
	store_close(st);
	return rc;
}

enum store_status
store_open(const char *path, const char *holder, struct store **out,
    char *err, size_t errsz)
{
	return store_open_opts(path, holder, NULL, out, err, errsz);
}

void
store_close(struct store *st)
{
	size_t	 i;

	if (st == NULL || st->pid != getpid())
		return;
	gate_wait(st, 0);
	for (i = 0; i < Q__MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		(void)sqlite3_close_v2(st->db);
	free(st->holder);
	free(st->chunk);
	free(st);
}

int
store_latest_version(void)
{
	return LATEST;
}

enum store_status
store_version(struct store *st, int *version, int *nsteps)
{
	enum store_status rc;
	int64_t		 x = 0;

	*version = *nsteps = 0;
	rc = enter(st);
	if (rc == STORE_OK)
		rc = read_version(st, version);
	/* Version 0 has no schema_log. */
	if (rc == STORE_OK && *version > 0)
		rc = get_int(st, Q_STEPS, NULL, 0, NULL, &x);
	*nsteps = (int)x;
	return rc;
}

enum store_status
store_check(struct store *st, char *msg, size_t msgsz)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	const unsigned char *t;
	int		 row;

	if (msg != NULL && msgsz > 0)
		msg[0] = '\0';
	rc = enter(st);
	if (rc == STORE_OK)
		rc = q(st, Q_INTEGRITY, &s);
	if (rc == STORE_OK)
		rc = step(st, s, &row);
	if (rc != STORE_OK)
		return rc;
	t = row ? sqlite3_column_text(s, 0) : NULL;
	if (t != NULL && strcmp((const char *)t, "ok") == 0) {
		sqlite3_reset(s);
		return STORE_OK;
	}
	note(st, "integrity_check: %s", t != NULL ? (const char *)t : "?");
	if (msg != NULL && msgsz > 0)
		snprintf(msg, msgsz, "%s", st->msg);
	sqlite3_reset(s);
	return STORE_ERR_CORRUPT;
}

const char *
store_errmsg(const struct store *st)
{
	return st != NULL ? st->msg : "";
}

const char *
store_strerror(enum store_status s)
{
	static const char *const msgs[STORE__MAX] = {
		"ok",					/* STORE_OK */
		"not found",				/* NOTFOUND */
		"already exists",			/* EXISTS */
		"not held by this process",		/* LEASE */
		"bad argument",				/* ARG */
		"store busy",				/* BUSY */
		"store full",				/* FULL */
		"store read-only",			/* READONLY */
		"store corrupt",			/* CORRUPT */
		"schema version not supported",		/* SCHEMA */
		"out of memory",			/* NOMEM */
		"store used after fork",		/* FORK */
		"store I/O error",			/* IO */
	};

	return (unsigned)s < STORE__MAX ? msgs[s] : "unknown store error";
}

/* ---- runs ---- */

void
store_run_clear(struct store_run *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->owner);
	free(r->user_id);
	free(r->holder);
	free(r->response);
	free(r->resume);
	free(r->request);
	memset(r, 0, sizeof(*r));
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* Frames f[0..n) numbered first, first + 1, ..., each with a type. */
static int
frames_ok(const struct rl_frame *f, size_t n, uint64_t first)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (first == 0 || f[i].id != first + i || f[i].type == NULL ||
		    f[i].type[0] == '\0' || f[i].data == NULL)
			return 0;
	return 1;
}

static enum store_status chunk_put(struct store *, const char *,
		    const struct rl_frame *, size_t);
static enum store_status outbox_in(struct store *, const struct store_msg *,
		    int64_t);

enum store_status
store_run_create(struct store *st, const struct store_run_new *n,
    int64_t now_ms)
{
	const struct store_update *u;
	enum store_status rc;
	sqlite3_stmt	*s;
	int64_t		 upd_ms;
	int		 final;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (n == NULL || !id_ok(n->id))
		return bad_arg(st, "store_run_create: bad run id");
	if ((n->frames == NULL && n->nframes > 0) || (n->upd != NULL &&
	    (unsigned)n->upd->state >= RL_STATE__MAX))
		return bad_arg(st, "store_run_create: bad arguments");
	if (!frames_ok(n->frames, n->nframes, 1))
		return bad_arg(st, "store_run_create: frames must be "
		    "numbered from 1, with a type");
	u = n->upd;
	final = u != NULL && u->state != RL_RUNNING;
	upd_ms = n->updated_ms > now_ms ? n->updated_ms : now_ms;
	rc = begin(st);
	if (rc == STORE_OK)
		rc = q(st, Q_RUN_INSERT, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(txt(n->id), txt(nz(n->owner)),
		    txt(nz(n->user_id)), i64((int64_t)n->total_jobs),
		    i64(now_ms), i64(upd_ms), txt(st->holder),
		    i64(now_ms + MJ_STORE_LEASE_MS),
		    txt(final ? NULL : n->resume),
		    txt(final ? NULL : n->request),
		    i64((int64_t)n->nframes),
		    i64(u != NULL ? (int64_t)u->done_jobs : 0),
		    i64(u != NULL && u->result_id <= n->nframes ?
		    (int64_t)u->result_id : 0),
		    txt(rl_state_name(u != NULL ? u->state : RL_RUNNING)),
		    txt(u != NULL ? u->response : NULL)));
	if (rc == STORE_OK)
		rc = step(st, s, NULL);
	if (rc == STORE_OK && n->nframes > 0)
		rc = chunk_put(st, n->id, n->frames, n->nframes);
	/* Claims a lane made for it before its row was (no foreign key). */
	if (rc == STORE_OK && final && !n->unclaimed && st->version >= 2)
		rc = run(st, Q_CLAIMS_DROP_RUN, ARGS(txt(n->id)));
	if (rc == STORE_OK && u != NULL && u->msg != NULL)
		rc = outbox_in(st, u->msg, upd_ms);
	return end(st, rc);
}

/*
 * Insert frames f[0..n) (numbered without gaps) as one row, inside the
 * caller's transaction.  The row's data is each frame's type, a NUL, its
 * data, a NUL: neither holds a NUL (a type is a name, data one line of
 * JSON), and chunk_get() hands both out in place.
 */
static enum store_status
chunk_put(struct store *st, const char *run_id, const struct rl_frame *f,
    size_t n)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	size_t		 i, need = 0, at = 0, tl;
	char		*p;

	for (i = 0; i < n; i++) {
		if (memchr(f[i].data, '\0', f[i].len) != NULL)
			return bad_arg(st, "store_append: a NUL in a frame");
		need += strlen(f[i].type) + f[i].len + 2;
	}
	if (need > st->chunksz) {
		if ((p = realloc(st->chunk, need)) == NULL) {
			note(st, "out of memory");
			return STORE_ERR_NOMEM;
		}
		st->chunk = p;
		st->chunksz = need;
	}
	for (i = 0; i < n; i++) {
		tl = strlen(f[i].type) + 1;
		memcpy(st->chunk + at, f[i].type, tl);
		at += tl;
		memcpy(st->chunk + at, f[i].data, f[i].len);
		at += f[i].len;
		st->chunk[at++] = '\0';
	}
	rc = q(st, Q_FRAME_INSERT, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(txt(run_id), i64((int64_t)f[0].id),
		    i64((int64_t)f[n - 1].id), blob(st->chunk, at)));
	if (rc == STORE_OK)
		rc = step(st, s, NULL);
	return rc;
}

/*
 * The next frame of a row's data[*at..len) into *f (pointers into data),
 * numbered id: 0, or -1 if the row is damaged (no NUL where one must be).
 */
static int
chunk_get(const char *data, size_t len, size_t *at, uint64_t id,
    struct rl_frame *f)
{
	const char	*t, *d, *e;

	t = data + *at;
	if (*at >= len || (d = memchr(t, '\0', len - *at)) == NULL ||
	    d == t)
		return -1;
	d++;
	if ((e = memchr(d, '\0', (size_t)(data + len - d))) == NULL)
		return -1;
	f->id = id;
	f->type = t;
	f->data = d;
	f->len = (size_t)(e - d);
	*at = (size_t)(e + 1 - data);
	return 0;
}

/*
 * Frames and the update, inside the caller's transaction.  With frames
 * and an update, the run's row moves first, on condition that it is
 * running, ours and at the frame before the first (one statement: the
 * keeper appends to thousands of runs a second); only when it doesn't is
 * the row read to say why.  Frames alone leave the row as it is: it is
 * read (the same conditions), not written, and the frames go in.
 */
static enum store_status
append_in(struct store *st, const char *id, const struct rl_frame *f,
    size_t n, const struct store_update *u, int64_t now_ms)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	uint64_t	 last;
	int		 final, mine;
	enum rl_state	 state;

	if (n > 0 && !frames_ok(f, n, f[0].id))
		return bad_arg(st, "store_append: frames must be "
		    "numbered from last_id + 1, with a type");
	final = u != NULL && u->state != RL_RUNNING;
	if (n > 0 && u != NULL) {
		last = f[0].id - 1;
		rc = q(st, Q_RUN_ADVANCE, &s);
		if (rc == STORE_OK)
			rc = bindv(st, s, ARGS(txt(id), i64((int64_t)(last + n)),
			    i64(now_ms), i64((int64_t)u->done_jobs),
			    i64((int64_t)u->result_id),
			    txt(rl_state_name(u->state)), txt(u->response),
			    i64(final), txt(st->holder), i64((int64_t)last)));
		if (rc == STORE_OK)
			rc = step(st, s, NULL);
		if (rc != STORE_OK)
			return rc;
		if (sqlite3_changes(st->db) == 1) {
			rc = chunk_put(st, id, f, n);
			if (rc != STORE_OK)
				return rc;
			goto claims;
		}
	}
	/* Frames alone, no frames, or the row didn't move: read it. */
	rc = row_of(st, Q_RUN_HEAD, ARGS(txt(id)), "run", id, &s);
	if (rc != STORE_OK)
		return rc;
	last = (uint64_t)sqlite3_column_int64(s, 0);
	mine = state_parse(sqlite3_column_text(s, 1), &state) &&
	    state == RL_RUNNING && sqlite3_column_text(s, 2) != NULL &&
	    strcmp((const char *)sqlite3_column_text(s, 2), st->holder) == 0;
	sqlite3_reset(s);
	if (!mine) {
		note(st, "run %s: ended, or held by another process", id);
		return STORE_ERR_LEASE;
	}
	if (n > 0 && (u != NULL || f[0].id != last + 1))
		return bad_arg(st, "store_append: frames must be numbered "
		    "from last_id + 1, with a type");
	if (n > 0)
		return chunk_put(st, id, f, n);
	rc = q(st, Q_RUN_UPDATE, &s);
	if (rc != STORE_OK)
		return rc;
	if (u != NULL)
		rc = bindv(st, s, ARGS(txt(id), i64((int64_t)last),
		    i64(now_ms), i64(now_ms + MJ_STORE_LEASE_MS),
		    i64((int64_t)u->done_jobs), i64((int64_t)u->result_id),
		    txt(rl_state_name(u->state)), txt(u->response),
		    i64(final)));
	else
		rc = bindv(st, s, ARGS(txt(id), i64((int64_t)last),
		    i64(now_ms), i64(now_ms + MJ_STORE_LEASE_MS), null(),
		    i64(0), null(), null(), i64(0)));
	if (rc == STORE_OK)
		rc = step(st, s, NULL);
	if (rc != STORE_OK)
		return rc;
claims:
	if (final && st->version >= 2) {
		rc = run(st, Q_CLAIMS_DROP_RUN, ARGS(txt(id)));
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static enum store_status
outbox_in(struct store *st, const struct store_msg *m, int64_t now_ms)
{
	sqlite3_stmt	*s;
	enum store_status rc;

	if (!id_ok(m->id) || !id_ok(m->run_id) ||
	    (m->body == NULL && m->len > 0))
		return bad_arg(st, "outbox: bad message id, run id or body");
	rc = q(st, Q_OUTBOX_INSERT, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(txt(m->id), txt(m->run_id),
		    blob(m->body, m->len), i64(m->next_ms), i64(now_ms)));
	if (rc == STORE_OK)
		rc = step(st, s, NULL);
	return rc;
}

enum store_status
store_append(struct store *st, const char *id, const struct rl_frame *f,
    size_t n, const struct store_update *u, int64_t now_ms)
{
	enum store_status rc;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(id) || (f == NULL && n > 0) ||
	    (u != NULL && (unsigned)u->state >= RL_STATE__MAX))
		return bad_arg(st, "store_append: bad arguments");
	rc = begin(st);
	if (rc != STORE_OK)
		return rc;
	rc = append_in(st, id, f, n, u, now_ms);
	if (rc == STORE_OK && u != NULL && u->msg != NULL)
		rc = outbox_in(st, u->msg, now_ms);
	return end(st, rc);
}

/* fn(arg, text) for the first column of each row query k gives. */
static enum store_status
each_text(struct store *st, enum query k, void (*fn)(void *, const char *),
    void *arg)
{
	sqlite3_stmt	*s = NULL;
	enum store_status rc;
	int		 row;

	rc = enter(st);
	if (rc == STORE_OK)
		rc = q(st, k, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(txt(st->holder)));
	while (rc == STORE_OK) {
		rc = step(st, s, &row);
		if (rc != STORE_OK || !row)
			break;
		if (sqlite3_column_text(s, 0) != NULL)
			fn(arg, (const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_reset(s);
	return rc;
}

enum store_status
store_holders(struct store *st, void (*fn)(void *, const char *), void *arg)
{
	return each_text(st, Q_HOLDERS, fn, arg);
}

enum store_status
store_holder_gone(struct store *st, const char *holder)
{
	enum store_status rc;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(holder))
		return bad_arg(st, "store_holder_gone: bad holder");
	rc = begin(st);
	if (rc == STORE_OK)
		rc = run(st, Q_HOLDER_EXPIRE, ARGS(txt(holder)));
	return end(st, rc);
}

void
store_wait(struct store *st, long ms)
{
	if (st != NULL && st->db != NULL)
		sqlite3_busy_timeout(st->db, ms > INT_MAX ? INT_MAX :
		    (int)ms);
}

enum store_status
store_checkpoint(struct store *st, long wait_ms)
{
	enum store_status rc;
	int		 busy, r;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	/*
	 * RESTART waits through the busy handler (busy_nap, which reads
	 * busy_ms): for the write lock, then for the readers of older
	 * snapshots.  Given up, it has copied what PASSIVE would have.
	 */
	busy = st->busy_ms;
	st->busy_ms = wait_ms > INT_MAX ? INT_MAX : (int)wait_ms;
	r = sqlite3_wal_checkpoint_v2(st->db, NULL, wait_ms > 0 ?
	    SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	st->busy_ms = busy;
	return r == SQLITE_OK || r == SQLITE_BUSY ? STORE_OK :
	    fail(st, r, "checkpoint");
}

enum store_status
store_batch_begin(struct store *st)
{
	enum store_status rc;

	if (st->batch)
		return bad_arg(st, "store_batch_begin: a batch is open");
	rc = enter(st);
	st->lost = 0;
	if (rc == STORE_OK)
		rc = run(st, Q_BEGIN, NULL, 0);
	if (rc == STORE_OK)
		st->batch = 1;
	gate_wait(st, rc == STORE_ERR_BUSY);
	return rc;
}

void
store_gate_leave(struct store *st)
{
	gate_wait(st, 0);
}

int
store_gate_wanted(const struct store *st)
{
	return st->gate != NULL && atomic_load(&st->gate->want) > 0;
}

void
store_gate_yield(const struct store *st, long max_ms)
{
	const struct timespec	 nap = { 0, MJ_STORE_GATE_NAP_US * 1000L };
	long long		 until = clock_ms() + max_ms;

	while (store_gate_wanted(st) && clock_ms() < until)
		nanosleep(&nap, NULL);
}

enum store_status
store_batch_end(struct store *st)
{
	enum store_status rc;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!st->batch) {
		/* Rolled back (a full disk, say), or none was begun. */
		note(st, st->lost ? "the batch was rolled back" :
		    "no batch is open");
		st->lost = 0;
		return STORE_ERR_IO;
	}
	st->batch = 0;
	return commit(st);
}

enum store_status
store_stops(struct store *st, void (*fn)(void *, const char *), void *arg)
{
	return each_text(st, Q_STOPS, fn, arg);
}

/* Whether run id exists into *found. */
static enum store_status
run_exists(struct store *st, const char *id, int *found)
{
	return get_int(st, Q_RUN_EXISTS, ARGS(txt(id)), found, NULL);
}

enum store_status
store_frames(struct store *st, const char *id, uint64_t after, size_t max,
    int (*fn)(void *, const struct rl_frame *), void *arg, size_t *n)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	struct rl_frame	 f;
	const char	*data;
	uint64_t	 fid, lid, k;
	size_t		 got = 0, len, at;
	int		 row, found;

	if (n != NULL)
		*n = 0;
	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(id) || fn == NULL || after > INT64_MAX)
		return bad_arg(st, "store_frames: bad arguments");
	if (max > MJ_STORE_READ_MAX)
		max = MJ_STORE_READ_MAX;
	rc = q(st, Q_FRAMES, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(txt(id), i64((int64_t)after),
		    i64((int64_t)max)));
	if (rc != STORE_OK)
		return rc;
	while (got < max) {
		rc = step(st, s, &row);
		if (rc != STORE_OK || !row)
			break;
		fid = (uint64_t)sqlite3_column_int64(s, 0);
		lid = (uint64_t)sqlite3_column_int64(s, 1);
		data = (const char *)sqlite3_column_blob(s, 2);
		len = (size_t)sqlite3_column_bytes(s, 2);
		if (data == NULL && len > 0) {
			sqlite3_reset(s);
			note(st, "out of memory");
			return STORE_ERR_NOMEM;
		}
		for (at = 0, k = fid; k <= lid && got < max; k++) {
			if (lid < fid || lid - fid >= len ||
			    chunk_get(data, len, &at, k, &f) != 0) {
				sqlite3_reset(s);
				note(st, "run %s: frames %llu..%llu are "
				    "damaged", id, (unsigned long long)fid,
				    (unsigned long long)lid);
				return STORE_ERR_CORRUPT;
			}
			if (k <= after)
				continue;
			got++;
			if (fn(arg, &f) != 0)
				goto stop;
		}
	}
stop:
	sqlite3_reset(s);
	if (n != NULL)
		*n = got;
	if (rc != STORE_OK || got > 0)
		return rc;
	rc = run_exists(st, id, &found);
	if (rc == STORE_OK && !found) {
		note(st, "run %s: not found", id);
		rc = STORE_ERR_NOTFOUND;
	}
	return rc;
}

/* One run by id, read with statement k bound (id, with_input). */
static enum store_status
get_run(struct store *st, const char *id, int with_input,
    struct store_run *out)
{
	sqlite3_stmt	*s;
	enum store_status rc;

	rc = row_of(st, Q_RUN_GET, ARGS(txt(id), i64(with_input != 0)),
	    "run", id, &s);
	if (rc != STORE_OK)
		return rc;
	rc = col_run(st, s, out);
	sqlite3_reset(s);
	return rc;
}

enum store_status
store_run_get(struct store *st, const char *id, int with_input,
    struct store_run *out)
{
	enum store_status rc;

	store_run_clear(out);
	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(id))
		return bad_arg(st, "store_run_get: bad run id");
	return get_run(st, id, with_input, out);
}

void
store_run_list_clear(struct store_run_list *l)
{
	size_t	 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		store_run_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* "<created_ms>.<id>": the digits, at most 19 of them, then the id. */
static int
cursor_parse(const char *c, int64_t *ms, const char **id)
{
	int64_t	 v = 0;
	size_t	 i;

	for (i = 0; c[i] >= '0' && c[i] <= '9'; i++) {
		if (i >= 19 || v > (INT64_MAX - (c[i] - '0')) / 10)
			return 0;
		v = v * 10 + (c[i] - '0');
	}
	if (i == 0 || c[i] != '.' || !id_ok(c + i + 1))
		return 0;
	*ms = v;
	*id = c + i + 1;
	return 1;
}

enum store_status
store_run_list(struct store *st, const char *owner, const char *before,
    size_t limit, struct store_run_list *out)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	const char	*bid = "";
	int64_t		 bms = INT64_MAX;
	struct store_run *r;
	int		 row;

	store_run_list_clear(out);
	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (limit == 0)
		limit = MJ_STORE_LIST_DEFAULT;
	if (limit > MJ_STORE_LIST_MAX)
		limit = MJ_STORE_LIST_MAX;
	if (owner == NULL)
		return bad_arg(st, "store_run_list: no owner");
	if (before != NULL && before[0] != '\0' &&
	    !cursor_parse(before, &bms, &bid))
		return bad_arg(st, "store_run_list: bad cursor");
	/* One more than asked: whether a next page exists. */
	if ((out->v = calloc(limit + 1, sizeof(*out->v))) == NULL) {
		note(st, "out of memory");
		return STORE_ERR_NOMEM;
	}
	rc = q(st, Q_RUN_LIST, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(txt(owner), i64(bms), txt(bid),
		    i64((int64_t)(limit + 1))));
	while (rc == STORE_OK) {
		rc = step(st, s, &row);
		if (rc != STORE_OK || !row)
			break;
		rc = col_run(st, s, &out->v[out->n]);
		if (rc == STORE_OK && ++out->n > limit)
			break;
	}
	sqlite3_reset(s);
	if (rc != STORE_OK) {
		store_run_list_clear(out);
		return rc;
	}
	if (out->n > limit) {
		store_run_clear(&out->v[limit]);
		out->n = limit;
		r = &out->v[limit - 1];
		snprintf(out->next, sizeof(out->next), "%lld.%s",
		    (long long)r->created_ms, r->id);
	}
	return STORE_OK;
}

enum store_status
store_run_delete(struct store *st, const char *id)
{
	enum store_status rc;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(id))
		return bad_arg(st, "store_run_delete: bad run id");
	rc = begin(st);
	if (rc == STORE_OK)
		rc = run(st, Q_RUN_DELETE, ARGS(txt(id)));
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0) {
		note(st, "run %s: not found", id);
		rc = STORE_ERR_NOTFOUND;
	}
	/* Claims may come before their run's row: no cascade for them. */
	if (rc == STORE_OK && st->version >= 2)
		rc = run(st, Q_CLAIMS_DROP_RUN, ARGS(txt(id)));
	return end(st, rc);
}

enum store_status
store_run_stop(struct store *st, const char *id)
{
	enum store_status rc;
	int		 found = 1;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(id))
		return bad_arg(st, "store_run_stop: bad run id");
	rc = begin(st);
	if (rc == STORE_OK)
		rc = run(st, Q_RUN_STOP, ARGS(txt(id)));
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		rc = run_exists(st, id, &found);
	if (rc == STORE_OK && !found) {
		note(st, "run %s: not found", id);
		rc = STORE_ERR_NOTFOUND;
	}
	return end(st, rc);
}

enum store_status
store_run_stopped(struct store *st, const char *id, int *stop)
{
	enum store_status rc;
	int64_t		 v;
	int		 found;

	*stop = 0;
	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(id))
		return bad_arg(st, "store_run_stopped: bad run id");
	rc = get_int(st, Q_RUN_STOPPED, ARGS(txt(id)), &found, &v);
	if (rc == STORE_OK && !found) {
		note(st, "run %s: not found", id);
		rc = STORE_ERR_NOTFOUND;
	}
	*stop = v != 0;
	return rc;
}

enum store_status
store_renew(struct store *st, int64_t now_ms, size_t *n)
{
	enum store_status rc;
	size_t		 runs = 0;

	if (n != NULL)
		*n = 0;
	rc = start(st);
	if (rc != STORE_OK)
		return rc;
	rc = run(st, Q_RENEW_RUNS, ARGS(txt(st->holder),
	    i64(now_ms + MJ_STORE_LEASE_MS)));
	if (rc == STORE_OK)
		runs = (size_t)sqlite3_changes(st->db);
	if (rc == STORE_OK && st->version >= 2)
		rc = run(st, Q_RENEW_CLAIMS, ARGS(txt(st->holder),
		    i64(now_ms + MJ_STORE_LEASE_MS)));
	rc = end(st, rc);
	if (rc == STORE_OK && n != NULL)
		*n = runs;
	return rc;
}

/* The id of a running run whose lease expired by now_ms, or "". */
static enum store_status
expired(struct store *st, int64_t now_ms, char id[MJ_STORE_ID_MAX + 1])
{
	sqlite3_stmt	*s;
	enum store_status rc;
	const unsigned char *t;
	int		 row;

	id[0] = '\0';
	rc = q(st, Q_EXPIRED, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(i64(now_ms)));
	if (rc == STORE_OK)
		rc = step(st, s, &row);
	if (rc != STORE_OK || !row)
		return rc;
	t = sqlite3_column_text(s, 0);
	snprintf(id, MJ_STORE_ID_MAX + 1, "%s", t != NULL ?
	    (const char *)t : "");
	sqlite3_reset(s);
	if (id[0] == '\0') {
		note(st, "out of memory");
		return STORE_ERR_NOMEM;
	}
	return STORE_OK;
}

enum store_status
store_run_take(struct store *st, int64_t now_ms, struct store_run *out)
{
	enum store_status rc;
	char		 id[MJ_STORE_ID_MAX + 1];

	store_run_clear(out);
	rc = start(st);
	if (rc != STORE_OK)
		return rc;
	rc = expired(st, now_ms, id);
	if (rc == STORE_OK && id[0] == '\0') {
		note(st, "no run to take over");
		rc = STORE_ERR_NOTFOUND;
	}
	if (rc == STORE_OK)
		rc = run(st, Q_RUN_HOLD, ARGS(txt(id), txt(st->holder),
		    i64(now_ms + MJ_STORE_LEASE_MS)));
	if (rc == STORE_OK)
		rc = get_run(st, id, 1, out);
	rc = end(st, rc);
	if (rc != STORE_OK)
		store_run_clear(out);
	return rc;
}

/* End run id as interrupted, inside the caller's transaction. */
static enum store_status
interrupt(struct store *st, const char *id, int64_t now_ms,
    struct store_run *r)
{
	enum store_status rc;
	uint64_t	 last;
	struct rl_frame	 f[2] = {
		{ 0, "error", reap_error, sizeof(reap_error) - 1 },
		{ 0, "done", reap_done, sizeof(reap_done) - 1 },
	};

	rc = get_run(st, id, 0, r);
	if (rc != STORE_OK)
		return rc;
	last = r->last_id;
	f[0].id = last + 1;
	f[1].id = last + 2;
	rc = chunk_put(st, id, f, 2);
	if (rc != STORE_OK)
		return rc;
	rc = run(st, Q_RUN_INTERRUPT, ARGS(txt(id), i64((int64_t)(last + 2)),
	    i64((int64_t)(last + 1)), i64(now_ms)));
	if (rc == STORE_OK && st->version >= 2)
		rc = run(st, Q_CLAIMS_DROP_RUN, ARGS(txt(id)));
	if (rc != STORE_OK)
		return rc;
	r->state = RL_INTERRUPTED;
	r->last_id = last + 2;
	r->result_id = last + 1;
	r->updated_ms = now_ms;
	return STORE_OK;
}

enum store_status
store_reap(struct store *st, int64_t now_ms,
    int (*msg)(void *, const struct store_run *, struct store_msg *),
    void *arg, size_t *n)
{
	enum store_status rc;
	struct store_run r;
	struct store_msg m;
	char		 id[MJ_STORE_ID_MAX + 1];
	size_t		 ended = 0;
	int		 k;

	if (n != NULL)
		*n = 0;
	memset(&r, 0, sizeof(r));
	rc = start(st);
	if (rc != STORE_OK)
		return rc;
	/* Each pass ends one run, so the loop ends. */
	for (;;) {
		rc = expired(st, now_ms, id);
		if (rc != STORE_OK || id[0] == '\0')
			break;
		rc = interrupt(st, id, now_ms, &r);
		if (rc != STORE_OK)
			break;
		if (msg != NULL) {
			memset(&m, 0, sizeof(m));
			k = msg(arg, &r, &m);
			if (k < 0) {
				rc = bad_arg(st, "store_reap: the message "
				    "callback gave up");
				break;
			}
			if (k > 0)
				rc = outbox_in(st, &m, now_ms);
			if (rc != STORE_OK)
				break;
		}
		store_run_clear(&r);
		ended++;
	}
	store_run_clear(&r);
	rc = end(st, rc);
	if (rc == STORE_OK && n != NULL)
		*n = ended;
	return rc;
}

enum store_status
store_purge(struct store *st, int64_t before_ms, int64_t now_ms, size_t *n)
{
	enum store_status rc;
	size_t		 runs = 0;

	if (n != NULL)
		*n = 0;
	rc = start(st);
	if (rc != STORE_OK)
		return rc;
	rc = run(st, Q_PURGE_RUNS, ARGS(i64(before_ms)));
	if (rc == STORE_OK)
		runs = (size_t)sqlite3_changes(st->db);
	if (rc == STORE_OK && st->version >= 2)
		rc = run(st, Q_PURGE_CACHE, ARGS(i64(now_ms)));
	if (rc == STORE_OK && st->version >= 2)
		rc = run(st, Q_PURGE_CLAIMS, ARGS(i64(now_ms)));
	rc = end(st, rc);
	if (rc == STORE_OK && n != NULL)
		*n = runs;
	return rc;
}

/* ---- the cache ---- */

enum store_status
store_cache_get(struct store *st, const void *key, size_t klen,
    int64_t now_ms, char **answer, size_t *len)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	int		 row;

	*answer = NULL;
	*len = 0;
	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!key_ok(key, klen))
		return bad_arg(st, "store_cache_get: bad key");
	rc = q(st, Q_CACHE_GET, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(blob(key, klen), i64(now_ms)));
	if (rc == STORE_OK)
		rc = step(st, s, &row);
	if (rc != STORE_OK)
		return rc;
	if (!row) {
		note(st, "not cached");
		return STORE_ERR_NOTFOUND;
	}
	rc = col_dup(st, s, 0, answer);
	if (rc == STORE_OK && *answer != NULL)
		*len = (size_t)sqlite3_column_bytes(s, 0);
	sqlite3_reset(s);
	return rc;
}

enum store_status
store_cache_put(struct store *st, const void *key, size_t klen,
    const char *answer, size_t len, long ttl_s, int64_t now_ms)
{
	sqlite3_stmt	*s;
	enum store_status rc;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!key_ok(key, klen) || answer == NULL || ttl_s <= 0 ||
	    ttl_s > INT64_MAX / 1000 - now_ms / 1000 - 1)
		return bad_arg(st, "store_cache_put: bad key, answer or ttl");
	rc = begin(st);
	if (rc == STORE_OK)
		rc = q(st, Q_CACHE_PUT, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(blob(key, klen), txtn(answer, len),
		    i64(now_ms), i64(now_ms + (int64_t)ttl_s * 1000)));
	if (rc == STORE_OK)
		rc = step(st, s, NULL);
	return end(st, rc);
}

/* ---- in-flight claims ---- */

/*
 * Whether another holder's live claim is on key (inside the caller's
 * transaction, or none): *held, and *out names its run and job.  One of
 * ours is stale (its release failed, or its run's end is not stored
 * yet): this process knows its own calls in flight without the store.
 */
static enum store_status
claim_held(struct store *st, const void *key, size_t klen, int64_t now_ms,
    struct store_claim *out, int *held)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	const char	*orun, *oholder;
	int		 row;

	*held = 0;
	rc = q(st, Q_CLAIM_GET, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(blob(key, klen)));
	if (rc == STORE_OK)
		rc = step(st, s, &row);
	if (rc != STORE_OK || !row)
		return rc;
	orun = (const char *)sqlite3_column_text(s, 0);
	oholder = (const char *)sqlite3_column_text(s, 2);
	*held = sqlite3_column_int64(s, 3) > now_ms && orun != NULL &&
	    oholder != NULL && strcmp(oholder, st->holder) != 0;
	if (*held) {
		snprintf(out->run_id, sizeof(out->run_id), "%s", orun);
		out->job = (size_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return STORE_OK;
}

enum store_status
store_claim_peek(struct store *st, const void *key, size_t klen,
    int64_t now_ms, struct store_claim *out)
{
	enum store_status rc;
	int		 held;

	memset(out, 0, sizeof(*out));
	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!key_ok(key, klen))
		return bad_arg(st, "store_claim_peek: bad key");
	rc = claim_held(st, key, klen, now_ms, out, &held);
	if (rc == STORE_OK && !held)
		rc = STORE_ERR_NOTFOUND;
	if (rc != STORE_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

enum store_status
store_claim(struct store *st, const void *key, size_t klen,
    const char *run_id, size_t job, int64_t now_ms, struct store_claim *out)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	int		 held = 0;

	memset(out, 0, sizeof(*out));
	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!key_ok(key, klen) || !id_ok(run_id) || job > INT64_MAX)
		return bad_arg(st, "store_claim: bad key or run id");
	rc = begin(st);
	if (rc == STORE_OK)
		rc = claim_held(st, key, klen, now_ms, out, &held);
	if (rc != STORE_OK)
		goto out;
	if (!held) {
		rc = q(st, Q_CLAIM_PUT, &s);
		if (rc == STORE_OK)
			rc = bindv(st, s, ARGS(blob(key, klen), txt(run_id),
			    i64((int64_t)job), txt(st->holder),
			    i64(now_ms + MJ_STORE_LEASE_MS)));
		if (rc == STORE_OK)
			rc = step(st, s, NULL);
		if (rc != STORE_OK)
			goto out;
		out->ours = 1;
		snprintf(out->run_id, sizeof(out->run_id), "%s", run_id);
		out->job = job;
	}
out:
	rc = end(st, rc);
	if (rc != STORE_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

enum store_status
store_release(struct store *st, const void *key, size_t klen)
{
	sqlite3_stmt	*s;
	enum store_status rc;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!key_ok(key, klen))
		return bad_arg(st, "store_release: bad key");
	rc = begin(st);
	if (rc == STORE_OK)
		rc = q(st, Q_RELEASE, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(blob(key, klen), txt(st->holder)));
	if (rc == STORE_OK)
		rc = step(st, s, NULL);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0) {
		note(st, "no claim of ours for this key");
		rc = STORE_ERR_NOTFOUND;
	}
	return end(st, rc);
}

/* ---- the outbox ---- */

void
store_outmsg_clear(struct store_outmsg *m)
{
	if (m == NULL)
		return;
	free(m->id);
	free(m->run_id);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

enum store_status
store_outbox_add(struct store *st, const struct store_msg *m, int64_t now_ms)
{
	enum store_status rc;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (m == NULL)
		return bad_arg(st, "store_outbox_add: no message");
	rc = begin(st);
	if (rc == STORE_OK)
		rc = outbox_in(st, m, now_ms);
	return end(st, rc);
}

static enum store_status
get_msg(struct store *st, const char *id, struct store_outmsg *m)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	const void	*b;
	const unsigned char *t;
	int		 i;

	rc = row_of(st, Q_OUTBOX_GET, ARGS(txt(id)), "message", id, &s);
	if (rc != STORE_OK)
		return rc;
	rc = col_dup(st, s, 0, &m->id);
	if (rc == STORE_OK)
		rc = col_dup(st, s, 1, &m->run_id);
	if (rc != STORE_OK)
		goto err;
	b = sqlite3_column_blob(s, 2);
	m->len = (size_t)sqlite3_column_bytes(s, 2);
	if ((b == NULL && m->len > 0) || (m->body = malloc(m->len + 1)) ==
	    NULL) {
		note(st, "out of memory");
		rc = STORE_ERR_NOMEM;
		goto err;
	}
	if (m->len > 0)
		memcpy(m->body, b, m->len);
	((char *)m->body)[m->len] = '\0';
	t = sqlite3_column_text(s, 3);
	m->state = STORE_MSG__MAX;
	for (i = 0; t != NULL && i < STORE_MSG__MAX; i++)
		if (strcmp((const char *)t, msg_states[i]) == 0)
			m->state = i;
	if (m->state == STORE_MSG__MAX) {
		note(st, "message %s: unknown state", id);
		rc = STORE_ERR_CORRUPT;
		goto err;
	}
	m->attempts = sqlite3_column_int(s, 4);
	m->last_status = sqlite3_column_int(s, 5);
	m->next_ms = sqlite3_column_int64(s, 6);
	m->lease_until_ms = sqlite3_column_int64(s, 7);
	sqlite3_reset(s);
	return STORE_OK;
err:
	sqlite3_reset(s);
	store_outmsg_clear(m);
	return rc;
}

enum store_status
store_outbox_get(struct store *st, const char *id, struct store_outmsg *out)
{
	enum store_status rc;

	store_outmsg_clear(out);
	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(id))
		return bad_arg(st, "store_outbox_get: bad id");
	return get_msg(st, id, out);
}

enum store_status
store_outbox_claim(struct store *st, int64_t now_ms, struct store_outmsg *out)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	const unsigned char *t;
	char		 id[MJ_STORE_ID_MAX + 1];
	int		 row;

	store_outmsg_clear(out);
	rc = start(st);
	if (rc == STORE_OK)
		rc = q(st, Q_OUTBOX_DUE, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(i64(now_ms)));
	if (rc == STORE_OK)
		rc = step(st, s, &row);
	if (rc == STORE_OK && !row) {
		note(st, "no message due");
		rc = STORE_ERR_NOTFOUND;
	}
	if (rc != STORE_OK)
		goto out;
	t = sqlite3_column_text(s, 0);
	snprintf(id, sizeof(id), "%s", t != NULL ? (const char *)t : "");
	sqlite3_reset(s);
	rc = run(st, Q_OUTBOX_HOLD, ARGS(txt(id), txt(st->holder),
	    i64(now_ms + MJ_STORE_OUTBOX_LEASE_MS)));
	if (rc == STORE_OK)
		rc = get_msg(st, id, out);
out:
	rc = end(st, rc);
	if (rc != STORE_OK)
		store_outmsg_clear(out);
	return rc;
}

/* Record an attempt's outcome on a message this holder claimed. */
static enum store_status
outbox_end(struct store *st, const char *id, enum store_msg_state state,
    int failed, int status, const int64_t *next_ms, int64_t now_ms)
{
	sqlite3_stmt	*s;
	enum store_status rc;
	int		 found;

	rc = enter(st);
	if (rc != STORE_OK)
		return rc;
	if (!id_ok(id))
		return bad_arg(st, "outbox: bad message id");
	rc = begin(st);
	if (rc == STORE_OK)
		rc = q(st, Q_OUTBOX_END, &s);
	if (rc == STORE_OK)
		rc = bindv(st, s, ARGS(txt(id), txt(st->holder),
		    txt(msg_states[state]), i64(failed), i64(status),
		    next_ms != NULL ? i64(*next_ms) : null(), i64(now_ms)));
	if (rc == STORE_OK)
		rc = step(st, s, NULL);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0) {
		rc = get_int(st, Q_OUTBOX_EXISTS, ARGS(txt(id)), &found,
		    NULL);
		if (rc == STORE_OK) {
			note(st, "message %s: %s", id, found ?
			    "not claimed by this process" : "not found");
			rc = found ? STORE_ERR_LEASE : STORE_ERR_NOTFOUND;
		}
	}
	return end(st, rc);
}

enum store_status
store_outbox_delivered(struct store *st, const char *id, int status,
    int64_t now_ms)
{
	return outbox_end(st, id, STORE_MSG_DELIVERED, 0, status, NULL,
	    now_ms);
}

enum store_status
store_outbox_retry(struct store *st, const char *id, int status,
    int64_t next_ms, int64_t now_ms)
{
	return outbox_end(st, id, STORE_MSG_PENDING, 1, status, &next_ms,
	    now_ms);
}

enum store_status
store_outbox_dead(struct store *st, const char *id, int status,
    int64_t now_ms)
{
	return outbox_end(st, id, STORE_MSG_DEAD, 1, status, NULL, now_ms);
}
