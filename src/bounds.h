/*
 * bounds.h - every bound the responder enforces, in one place.
 *
 * Each constant says what it bounds and why it has this value.  Runtime
 * configuration (config.c) may lower or raise some of them within the
 * ranges given here; the parsers take their limits as arguments so they
 * stay pure and testable.
 */
#ifndef MJ_BOUNDS_H
#define MJ_BOUNDS_H

/* Request body, default: a resume PDF of a few MB plus the JSON jobs. */
#define MJ_BODY_MAX_DEFAULT	(10u * 1024 * 1024)
/* Hard ceiling for MATCHJOBS_MAX_BODY. */
#define MJ_BODY_MAX_CEILING	(256u * 1024 * 1024)

/* Multipart: number of parts; a legitimate form has two or three. */
#define MJ_MP_PARTS_MAX		16
/* Multipart: bytes of one part's header block (all header lines). */
#define MJ_MP_HEADER_MAX	8192
/* Multipart: boundary length, RFC 2046 §5.1.1 says 1..70 characters. */
#define MJ_MP_BOUNDARY_MAX	70
/*
 * One text field: resume_text (a form field or in the JSON), and each
 * job's jobdata, jobtitle and joblink.  1 MiB is ~200 pages of text;
 * the prompt is cut far shorter (MJ_PROMPT_*) anyway.
 */
#define MJ_MP_FIELD_MAX		(1u * 1024 * 1024)

/* JSON document: nesting depth. Jobs are objects in an array: 3 levels. */
#define MJ_JSON_DEPTH_MAX	32
/* JSON document size in bytes. */
#define MJ_JSON_MAX		(2u * 1024 * 1024)
/* Jobs per request, default (MATCHJOBS_MAX_JOBS). */
#define MJ_JOBS_MAX_DEFAULT	50
/* Hard ceiling for MATCHJOBS_MAX_JOBS. */
#define MJ_JOBS_MAX_CEILING	1000
/* user_id length. */
#define MJ_USER_ID_MAX		256

/* Prompt cuts (bytes, cut at a UTF-8 boundary). */
#define MJ_PROMPT_RESUME_MAX	20000
#define MJ_PROMPT_JOBDATA_MAX	8000
#define MJ_PROMPT_TITLE_MAX	300
#define MJ_PROMPT_LINK_MAX	1000

/*
 * Longest Origin header echoed in Access-Control-Allow-Origin: a scheme,
 * a DNS name (at most 253 bytes) and a port; a longer one is refused.
 */
#define MJ_ORIGIN_MAX		300

/* Resume text kept from a PDF or a field before the prompt cut. */
#define MJ_RESUME_TEXT_MAX	(1u * 1024 * 1024)
/* PDF pages read. */
#define MJ_PDF_PAGES_MAX	200
/*
 * Hidden PDF text (pdf.c), left out of the prompt: text whose colour
 * has every channel at or above MJ_HIDDEN_WHITE_MIN (of 65535; 0xf000 is
 * 94 %, lighter than any grey a resume prints in, on a page taken to be
 * white), or smaller than MJ_HIDDEN_SIZE_MIN_PT points (font size or
 * glyph box height: 1 pt is unreadable on paper and screen alike).
 * MJ_HIDDEN_EXCERPT_MAX bytes of it are quoted in the warning.
 */
#define MJ_HIDDEN_WHITE_MIN	0xf000
#define MJ_HIDDEN_SIZE_MIN_PT	1.0
#define MJ_HIDDEN_EXCERPT_MAX	80
/*
 * Pages drawn to find text that leaves no ink (pdf.c): the first
 * MJ_HIDDEN_RENDER_PAGES, at 72 dpi (a Letter page 0.5 MP, drawn in a
 * few ms), or scaled down to MJ_HIDDEN_RENDER_PIXELS (16 MB of
 * pixels); a pixel with a channel under MJ_HIDDEN_INK_MAX (of 255, as
 * MJ_HIDDEN_WHITE_MIN) is ink.  Ten pages hold more than the prompt's
 * MJ_PROMPT_RESUME_MAX.  No page is drawn once MJ_HIDDEN_RENDER_MS
 * have passed since the reading began: a scan's images cost 100 ms a
 * page or more, and the child has MJ_PDF_CPU_S.
 */
#define MJ_HIDDEN_RENDER_PAGES	10
#define MJ_HIDDEN_RENDER_MS	1000
#define MJ_HIDDEN_RENDER_PIXELS	(4.0 * 1024 * 1024)
#define MJ_HIDDEN_INK_MAX	0xf0
/*
 * DOCX resumes (docx.c): zip entries (a resume has 10 to 50; a zip of
 * thousands is no Word document), and the bytes of word/document.xml
 * inflated (a long resume's is under 1 MB; the cap is what stops a zip
 * bomb, whatever sizes its headers claim, and keeps libxml2's tree of
 * it well inside the child's MJ_PDF_AS_BYTES).
 */
#define MJ_DOCX_ENTRIES_MAX	1000
#define MJ_DOCX_XML_MAX		(16u * 1024 * 1024)
/*
 * A run's warnings for the match response (SPEC "The match response"):
 * how many, and the length of each message (a hidden_text message with
 * its excerpt escaped fits).
 */
#define MJ_RUN_WARNINGS_MAX	4
#define MJ_WARNING_MAX		400

/* Upstream: one SSE event's data, and the whole answer of one job. */
#define MJ_SSE_EVENT_MAX	(256u * 1024)
#define MJ_ANSWER_MAX		(256u * 1024)
/*
 * Bytes per token when a server sends no usage and the counts are
 * estimated (docs/vendors.md): about what OpenAI's tokenizers give for
 * English text and JSON.
 */
#define MJ_BYTES_PER_TOKEN	4u
/* Upstream: error body kept for the message. */
#define MJ_UPSTREAM_ERRBODY_MAX	4096
/* Length of an upstream error message passed on to the client. */
#define MJ_ERRMSG_MAX		300

/* Concurrency: jobs in flight per request. */
#define MJ_CONCURRENCY_DEFAULT	4
#define MJ_CONCURRENCY_MAX	64

/* Requests served at once; more get 503. */
#define MJ_REQUESTS_MAX_DEFAULT	2048
/* Idle accepting threads kept ready. */
#define MJ_SPARE_THREADS_MIN	4
#define MJ_SPARE_THREADS_MAX	32
/* Worker thread stack: poppler runs in a child, json-c depth is capped. */
#define MJ_THREAD_STACK		(256u * 1024)

/* Timeouts in milliseconds (defaults; see config.c for the variables). */
#define MJ_CONNECT_TIMEOUT_MS	10000
#define MJ_FIRST_TOKEN_TIMEOUT_MS 60000
#define MJ_IDLE_TIMEOUT_MS	30000
#define MJ_TOTAL_TIMEOUT_MS	300000
/*
 * Slow clients: one read or write on the FastCGI connection may block
 * this long (SO_RCVTIMEO/SO_SNDTIMEO), and the whole request body must
 * arrive within MJ_BODY_DEADLINE_MS.  A client that never reads its
 * stream, or trickles its upload, costs one worker for that long.
 */
#define MJ_CLIENT_TIMEOUT_MS	60000
#define MJ_BODY_DEADLINE_MS	120000
/* SSE comment sent when nothing else went out for this long. */
#define MJ_KEEPALIVE_MS		15000
/* Graceful stop: in-flight requests get this long after SIGTERM. */
#define MJ_GRACE_MS		30000
/* A run whose client went away goes on this long for a follower. */
#define MJ_DETACH_MS		30000
/* An ended run stays in memory (GET, /events) this long. */
#define MJ_RUN_KEEP_MS		(15L * 60 * 1000)
/* After the grace period: time for cut streams to send error + done. */
#define MJ_CUT_MS		2000
/* Then the time idle workers get to leave accept() before exit. */
#define MJ_EXIT_WAIT_MS		500
/*
 * PDF helper: wall clock, CPU seconds, address space.  A real resume
 * takes poppler well under 100 ms; 3 CPU-seconds is thirty times that,
 * and small enough that a flood of hostile PDFs (AUDIT H1: 44 KB that
 * would burn 10 s each) costs little.  The wall clock adds a second
 * for a machine that is busy with other work.
 */
#define MJ_PDF_WALL_MS		4000
#define MJ_PDF_CPU_S		3
#define MJ_PDF_AS_BYTES		(1024u * 1024 * 1024)
/*
 * PDF children at once, process-wide (MATCHJOBS_PDF_MAX_CHILDREN;
 * default: one per online CPU, so PDFs never take every core from the
 * server), and its ceiling.  Beyond them MJ_PDF_QUEUE_PER_CHILD
 * requests per child may wait up to MJ_PDF_QUEUE_WAIT_MS for a slot;
 * the rest, and those that waited in vain, get 503: a PDF answer
 * comes within the queue wait plus the child's wall clock.
 */
#define MJ_PDF_CHILDREN_MAX	256
#define MJ_PDF_QUEUE_PER_CHILD	2
#define MJ_PDF_QUEUE_WAIT_MS	1000
/* The child's nice value: the server's threads go first. */
#define MJ_PDF_NICE		10

/*
 * Retries of a model call that failed before its first token (429, 5xx,
 * connection failure): attempts in all, the time all retries of one job
 * may add, and the longest retry-after honoured (longer: give up).
 */
#define MJ_RETRY_ATTEMPTS	3
#define MJ_RETRY_BUDGET_MS	30000
#define MJ_RETRY_AFTER_MAX_MS	60000
/* Exponential backoff without retry-after: base, doubling, capped. */
#define MJ_RETRY_BASE_MS	500
#define MJ_RETRY_CAP_MS		8000

/*
 * Idle connections to the model server the runner's pool keeps warm
 * (CURLMOPT_MAXCONNECTS of its multi handle): over HTTP/1.1 each call in
 * flight has one, so a burst leaves many.
 */
#define MJ_UPSTREAM_CONNS	256
/* Calls multiplexed on one HTTP/2 connection at most (nginx's default
 * http2_max_concurrent_streams is 128). */
#define MJ_UPSTREAM_STREAMS	100
/* Connections to an https model server at most, by default
 * (MATCHJOBS_UPSTREAM_CONNS): 32 x 100 streams. */
#define MJ_UPSTREAM_H2_CONNS	32
/*
 * Runner lanes (MATCHJOBS_RUNNERS): one per core by default, at most
 * this many by default (past it a lane's share of the connection cap
 * gets small), and at most MJ_RUNNERS_MAX when set.
 */
#define MJ_RUNNERS_DEFAULT_MAX	8
#define MJ_RUNNERS_MAX		64
/*
 * libcurl's receive buffer per model call (its default is 16 KiB): held
 * for the whole call, by thousands of streams at once.  An event is a
 * few hundred bytes; a short answer's events arriving together (the
 * plain route) are ~1.5 KB, which 2 KiB still reads in one go (1 KiB
 * cost the plain route a second read per answer: more CPU per request).
 */
#define MJ_UPSTREAM_BUF		2048
/*
 * libcurl's upload buffer per call, which carries the request body over
 * HTTP/2 (its default is 64 KiB, its least 16 KiB): allocated with the
 * call's first DATA frame and held to its end.  A body (the prompt, at
 * most ~30 KB by the MJ_PROMPT_* cuts) goes out in two or three pieces.
 */
#define MJ_UPSTREAM_UPBUF	16384

/*
 * FastCGI (src/fcgi.c).  The params of one request: bytes kept (names,
 * values and 10 bytes of bookkeeping per pair), pairs, and one name's
 * length.  nginx sends ~1 KB for a plain request; its headers are
 * capped at 4 x 8 KiB (large_client_header_buffers), Apache's at 100
 * fields of 8 KiB; 128 KiB holds any request those pass in practice,
 * and an attacker on the socket gets no more than that allocated.
 */
#define MJ_FCGI_PARAMS_MAX	(128u * 1024)
#define MJ_FCGI_PARAMS_COUNT_MAX 512
#define MJ_FCGI_NAME_MAX	4096
/* Content of one FCGI_GET_VALUES record: the three names fit in 64. */
#define MJ_FCGI_MGMT_MAX	1024
/*
 * A new connection must deliver FCGI_BEGIN_REQUEST and all its PARAMS
 * within this long, or it is dropped: web servers send them at once, so
 * only a silent or stalled peer waits, and it holds one thread (counted
 * busy) for at most this long (AUDIT H2).
 */
#define MJ_FCGI_HANDSHAKE_MS	5000
/* accept() out of descriptors (EMFILE/ENFILE): wait, then retry. */
#define MJ_ACCEPT_BACKOFF_MS	100

/* Listening socket backlog. */
#define MJ_LISTEN_BACKLOG	1024

/*
 * A run's log (runlog.c): frames and data bytes it may hold.  A run of 50
 * jobs whose answers are each cut at 256 KiB streams at most ~13 MiB of
 * token text in, at worst, one frame per byte sent as a separate delta;
 * real servers send 3-4 bytes per token.  Past either bound the run is
 * ended (the frame `done` always fits).
 */
#define MJ_RUNLOG_FRAMES_MAX	(1u << 20)
#define MJ_RUNLOG_BYTES_MAX	(64u * 1024 * 1024)
/*
 * Followers (follow.c): frames read from the log at once and written
 * with one flush (a burst of tokens costs one send, not 64).
 */
#define MJ_FOLLOW_BATCH		64
/*
 * How often the writer (writer.c) looks for keep-alives due and clients
 * stalled past their timeout.  A client leaving is seen at once (epoll).
 */
#define MJ_WRITER_TICK_MS	1000
/*
 * Bytes a non-blocking connection keeps for a client that reads slower
 * than frames come (fconn.h): a follower reads no more frames while any
 * are waiting, so this holds at most one batch of them, or one plain
 * answer; both are within a run log's bytes.
 */
#define MJ_FCONN_BACKLOG_MAX	(MJ_RUNLOG_BYTES_MAX + 1024u * 1024)
/*
 * Run routes (runs.c): how long POST .../cancel and DELETE wait for the
 * run to end once asked to stop (the runner aborts its calls within a
 * second: SPEC "Runs").
 */
#define MJ_RUN_STOP_WAIT_MS	5000
/* Frame bytes the registry keeps of ended runs before it forgets some
 * early (before their grace period). */
#define MJ_RUNS_KEPT_BYTES	(64u * 1024 * 1024)

/*
 * Webhooks (webhook.c, SPEC 0.2 "Webhooks").  The key of
 * MATCHJOBS_WEBHOOK_SECRET: Standard Webhooks asks for 24 to 64 bytes,
 * and HMAC-SHA256 hashes a key longer than its 64-byte block anyway, so
 * a longer one is refused as a mistake.  A message's body: the run's
 * response (50 jobs of ~5 KB; 1000 at MJ_JOBS_MAX_CEILING) and 300
 * bytes of envelope.  An id signed: ours are 28 bytes.  The longest
 * Retry-After honoured: the schedule's own last step (a longer one is
 * cut to it, not given up on).
 */
#define MJ_WH_KEY_MAX		64
#define MJ_WH_BODY_MAX		(16u * 1024 * 1024)
#define MJ_WH_ID_MAX		256
#define MJ_WH_RETRY_AFTER_MAX_MS (24LL * 60 * 60 * 1000)
/*
 * Delivery (sender.c, up_post in upstream.c).  One attempt, whole: the
 * SPEC's 15 s (MATCHJOBS_WEBHOOK_TIMEOUT_MS may lower it for tests).
 * The receiver's answer body is read and dropped up to MJ_WH_ANSWER_MAX
 * (only its status counts); its Retry-After value is kept up to
 * MJ_WH_RETRY_AFTER_LEN bytes (an HTTP-date is 29; longer ones are
 * ignored).  When nothing is due the sender looks again at least every
 * MJ_WH_IDLE_MS (messages added by other processes), and it logs a
 * store failure at most every MJ_WH_ERRLOG_MS.
 */
#define MJ_WH_TIMEOUT_MS	15000
#define MJ_WH_ANSWER_MAX	(64u * 1024)
#define MJ_WH_RETRY_AFTER_LEN	64
#define MJ_WH_IDLE_MS		1000
#define MJ_WH_ERRLOG_MS		60000

/*
 * The store (store.c).  A writer waits this long for another process's
 * write transaction before it gives up with STORE_ERR_BUSY: far longer
 * than any of ours lasts (milliseconds), short enough for a stream.
 */
#define MJ_STORE_BUSY_MS	5000
/* ... trying again this often meanwhile. */
#define MJ_STORE_BUSY_NAP_US	200
/*
 * Each store connection's page cache at most, as PRAGMA cache_size says
 * it (negative: KiB), grown only as far as pages are used.  4 MiB: the
 * keeper under 1000 running streams spent 3.36 s in flushes with
 * SQLite's 2 MiB and 3.23 s with 16 MiB, which cost 12 KB a stream of
 * peak RSS with 2000 (another connection's commit empties a cache in WAL
 * mode anyway, so a large one seldom stays warm).
 */
#define MJ_STORE_CACHE_KIB	"-4096"
/*
 * A responder holds its running runs and its in-flight claims by a lease
 * this long, renewed every MJ_STORE_RENEW_MS (not by appends): a
 * dead holder's lease lapses at most 20 s after its last renewal, and a
 * reaper that looks every 5 s finds it within 25 s, inside the 30 s the
 * SPEC ("Runs") allows.
 */
#define MJ_STORE_LEASE_MS	20000
#define MJ_STORE_RENEW_MS	5000
/* A webhook sender holds a claimed message this long: longer than one
 * attempt (its 15 s timeout, SPEC "Webhooks") with room to record it. */
#define MJ_STORE_OUTBOX_LEASE_MS 60000
/* Run, message and holder ids: run ids are 32 characters (runlog.h). */
#define MJ_STORE_ID_MAX		64
/* Cache and claim keys: a hash (SHA-256 is 32 bytes). */
#define MJ_STORE_KEY_MAX	64
/* A list cursor: created_ms in decimal (at most 19 digits), '.', the id. */
#define MJ_STORE_CURSOR_MAX	(19 + 1 + MJ_STORE_ID_MAX)
/* GET /api/runs page size: default and most (SPEC "Runs"). */
#define MJ_STORE_LIST_DEFAULT	20
#define MJ_STORE_LIST_MAX	100
/* Frames one store_frames() call passes at most (a follower's batch is
 * MJ_FOLLOW_BATCH; this bounds a careless caller's snapshot). */
#define MJ_STORE_READ_MAX	1000
/*
 * The keeper (keeper.c): frames go to the store every MJ_STORE_FLUSH_MS
 * (SPEC: a follower elsewhere sees a frame within 250 ms); stop requests
 * from other processes are looked for every MJ_STORE_STOPS_MS (cancel
 * aborts within 1 s); the runs of dead processes every MJ_STORE_REAP_MS;
 * old runs erased every MJ_STORE_PURGE_MS.  A store that fails is logged
 * at most every MJ_STORE_LOG_MS and opened again every MJ_STORE_RETRY_MS.
 * A run asked for through another process before its row is there is
 * waited for that long (MJ_STORE_CREATE_GRACE_MS).  A run that ends
 * is flushed sooner, MJ_STORE_URGENT_MS after the last flush, so that
 * under load one flush carries the ends of many runs.
 */
#define MJ_STORE_FLUSH_MS	100
#define MJ_STORE_URGENT_MS	10
/* Runs whose frames go in one transaction; starts are let in between. */
#define MJ_STORE_FLUSH_SLICE	256
/*
 * The keeper gives up its CPU (sched_yield) after every
 * MJ_STORE_YIELD_RUNS runs it stores, so that a runner lane (or nginx)
 * woken meanwhile runs first, instead of waiting out the keeper's time
 * slice: under 1000 streams a flush takes milliseconds of CPU, and the
 * relay's added p99 was 2.75-3.56 ms with the store on against 0.2-0.5
 * ms off; 0.86-0.96 ms with these yields (bench/run --only relay
 * --store on).  Where nobody waits, a yield returns at once.
 */
#define MJ_STORE_YIELD_RUNS	16
#define MJ_STORE_STOPS_MS	200
#define MJ_STORE_REAP_MS	5000
#define MJ_STORE_PURGE_MS	(3600 * 1000)
#define MJ_STORE_LOG_MS		60000
#define MJ_STORE_RETRY_MS	1000
#define MJ_STORE_CREATE_GRACE_MS	1000
/*
 * A run's row is made once it is MJ_STORE_CREATE_AFTER_MS old, or has
 * ended, whichever comes first, with its frames so far in the same
 * insert: most plain-route runs end sooner, and are stored as one final
 * row (one insert, not an insert and an update that rewrites it and
 * moves it in three indexes).  Well inside MJ_STORE_CREATE_GRACE_MS and
 * the SPEC's 250 ms.
 */
#define MJ_STORE_CREATE_AFTER_MS	50
/*
 * A running run's flush that brings tokens and nothing else adds its
 * frames and leaves the run's row alone (the row holds the resume: each
 * rewrite was a page written for every stream every flush, half of the
 * keeper's CPU under 1000 streams).  The row moves when a job ends, the
 * result comes or the run ends, and at least every MJ_STORE_ROW_MS, so
 * that updated_at seen from another process is at most that old.
 */
#define MJ_STORE_ROW_MS		1000
/*
 * The keeper copies the WAL into the file this often (store_checkpoint),
 * waiting up to MJ_STORE_CHECKPOINT_WAIT_MS for the WAL to start over.
 * Under the plain route's load (64 connections, ~4000 requests/s) the
 * WAL grows by about 40 MB/s: once a second, with a restart every 10th
 * time, it reached 300-400 MB, and the kernel's work for writes past
 * its end (new page-cache pages, zeroed) took a sixth of the runner
 * lanes' CPU.
 */
#define MJ_STORE_CHECKPOINT_MS	100
#define MJ_STORE_CHECKPOINT_WAIT_MS	10
/* Runs are erased this many days after they started (SPEC "Runs"). */
#define MJ_RETENTION_DAYS	30
/* The store's file when MATCHJOBS_DB is not set: the state directory. */
#ifndef MJ_DB_DEFAULT
#define MJ_DB_DEFAULT		LOCALSTATEDIR "/lib/matchjobs/matchjobs.db"
#endif

/*
 * The answer cache (SPEC "Cache"): an answer is kept a week by default
 * (MATCHJOBS_CACHE_TTL_S), ten years at most (so now + ttl never nears
 * the store's int64 milliseconds).
 */
#define MJ_CACHE_TTL_S		604800L
#define MJ_CACHE_TTL_MAX_S	315360000L
/*
 * A runner lane's own store connection (the cache, claims): a write
 * doesn't wait for another writer (the keeper holds the lock for a
 * flush), since the lane's thread also writes every stream it runs; it
 * waits this long only to open the file.  A claim that can't be made
 * is skipped (the job makes its own call); a cache write that can't be
 * made waits in the lane (at most MJ_CACHE_PUTS_PENDING of them, where
 * the lane's lookups find them) and is tried again every turn.
 * Like the keeper's, a lane that could not open the store tries again
 * every MJ_STORE_RETRY_MS and logs a failing store at most every
 * MJ_STORE_LOG_MS.
 */
#define MJ_STORE_LANE_BUSY_MS	1
/*
 * The gate (store.h): while a lane waits for the write lock, the keeper
 * ends its batch once the batch has lasted MJ_STORE_SLICE_MIN_MS (so
 * that it still gets work done under a steady stream of claims) and
 * leaves the lock free for up to MJ_STORE_GATE_MS, looking every
 * MJ_STORE_GATE_NAP_US, before its next batch; MJ_STORE_GATE_BUDGET_MS
 * in all per flush, after which the flush goes on at full speed (under
 * a load that keeps lanes waiting, frames still reach the store within
 * the SPEC's 250 ms).  A lane tries again every MJ_CLAIM_RETRY_MS.
 */
#define MJ_STORE_SLICE_MIN_MS	2
#define MJ_STORE_GATE_MS	4
#define MJ_STORE_GATE_BUDGET_MS	40
#define MJ_STORE_GATE_NAP_US	100
/*
 * A lane that stops (or loses its store) waits at most this long for the
 * keeper's lock to write the cache answers it kept.
 */
#define MJ_STORE_LANE_FLUSH_MS	2000
/*
 * A lane's store writes of a turn (claims, releases, cache answers) go
 * in one transaction at the turn's end.  A call is made at once when no
 * other process claims its key (a read); its own claim is written once
 * it has lasted MJ_CLAIM_AFTER_MS, so a call that answers sooner (a
 * fast server, the plain route's short jobs) costs the store neither a
 * claim nor its release, and an identical job another process gets
 * within that time makes its own call.  A claim that finds the store
 * busy (the keeper writes) is tried again every MJ_CLAIM_RETRY_MS; no
 * call waits for it.
 */
#define MJ_CLAIM_RETRY_MS	2
#define MJ_CLAIM_AFTER_MS	10
/* Cache writes a lane keeps for later while the store is locked. */
#define MJ_CACHE_PUTS_PENDING	256

/*
 * The request's form (SPEC "Scoring" 0.2).  Azure OpenAI's api-version
 * when none is set: the GA version with structured outputs.  What each
 * server accepted as response_format is remembered for this many
 * servers (base URL and model) per process; while the first call to
 * one finds out, the others wait for its answer's status line at most
 * MJ_FORMAT_PROBE_MS, then go ahead anyway.
 */
#define MJ_AZURE_API_VERSION	"2024-10-21"
#define MJ_FORMAT_SERVERS	16
#define MJ_FORMAT_PROBE_MS	5000
#define MJ_FORMAT_WAIT_MS	50

/* MATCHJOBS_PRICES: USD per million tokens, at most. */
#define MJ_PRICE_MAX		1000000.0

#endif /* MJ_BOUNDS_H */
