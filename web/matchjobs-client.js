// matchjobs-client.js — a dependency-free browser (and Node 18+) client for
// the matchjobs streaming route, POST /api/match-jobs/stream.
//
//   import { matchJobs } from "./matchjobs-client.js";
//   const response = await matchJobs({
//     pdf: fileInput.files[0],            // or resumeText: "..."
//     jobs: [{ jobtitle: "Developer", joblink: "https://...", jobdata: "..." }],
//     userId: "abc",
//     signal: controller.signal,          // AbortController: cancels the request
//     on: { status, job_start, token, job_complete, complete, error, done },
//   });
//
// Each `on` callback gets the event's parsed JSON data (the objects of the
// SPEC's event table).  The promise resolves with the match response (the
// `complete` event's `response`) and rejects with a MatchJobsError for an
// HTTP error (.status, .code, .message from the JSON error body), an
// `error` event (.code, .message, .response), a network failure
// (.code "network_error") or a stream that ended early
// (.code "stream_truncated"); with an Error named "AbortError" when the
// signal aborts.  EventSource is not used: it cannot POST a body.
//
// A run outlives its connection (SPEC "Runs"): the server goes on for a
// while after a client drops, so that it can reconnect.  An abort is a
// decision, not a drop: once the run's id is known (the X-Match-Run
// header), aborting the signal also POSTs /api/runs/{id}/cancel, so the
// model calls stop at once (`cancelOnAbort: false` leaves the run be).
//
// SSEParser is the event-stream parser, usable on its own: feed() it text
// (decode bytes with a TextDecoder in stream mode, so a multi-byte
// character split across chunks is kept whole) and it returns the events
// completed so far.  It follows the HTML Standard's rules: LF, CRLF and CR
// line endings (also a CRLF split across two chunks), comment lines
// (": keepalive"), multi-line data joined with "\n", one optional space
// after the colon, `id` kept across events, `retry`, a leading BOM, and a
// last frame with no blank line after it discarded at end().

/**
 * A spec-compliant text/event-stream parser.
 *   const p = new SSEParser();
 *   for (const ev of p.feed(text)) ...   // ev = {event, data, id}
 *   p.end();                             // end of stream: drops a partial frame
 */
export class SSEParser {
  constructor() {
    this.reset();
    /** The last `id` seen (persists across events, as in EventSource). */
    this.lastEventId = "";
    /** The last valid `retry` value in ms, or null. */
    this.retry = null;
    /** True after end() when an unterminated frame was discarded. */
    this.truncated = false;
  }

  reset() {
    this._buf = "";          // text after the last line ending
    this._skipLF = false;    // the previous chunk ended with CR
    this._started = false;   // a BOM is only stripped at the very start
    this._data = null;       // data lines of the frame being built, or null
    this._event = "";        // event type of the frame being built
    this._pending = false;   // the current frame has had any field line
  }

  /**
   * Feed decoded text (any split: mid-line, between CR and LF, ...).
   * @param {string} text
   * @returns {{event: string, data: string, id: string}[]} completed events
   */
  feed(text) {
    const out = [];
    if (typeof text !== "string" || text.length === 0) return out;
    let s = text;
    if (!this._started) {
      this._started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    if (this._skipLF) {
      this._skipLF = false;
      if (s.charCodeAt(0) === 10) s = s.slice(1);
    }
    if (s.length === 0) return out;
    if (s.indexOf("\n") === -1 && s.indexOf("\r") === -1) {
      this._buf += s;                   // no line ends here: just collect
      return out;
    }
    const buf = this._buf + s;
    const n = buf.length;
    // this._buf holds no line ending, so searching may start after it.
    const from = this._buf.length;
    let pos = 0;
    let cr = -2;
    let lf = -2;
    for (;;) {
      const start = pos > from ? pos : from;
      if (cr !== -1 && cr < start) cr = buf.indexOf("\r", start);
      if (lf !== -1 && lf < start) lf = buf.indexOf("\n", start);
      let i;
      if (cr === -1) i = lf;
      else if (lf === -1) i = cr;
      else i = cr < lf ? cr : lf;
      if (i === -1) break;
      const line = buf.slice(pos, i);
      if (i === cr) {
        if (i + 1 < n) {
          pos = buf.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
        } else {
          pos = i + 1;
          this._skipLF = true;  // a LF at the start of the next chunk is ours
        }
      } else {
        pos = i + 1;
      }
      this._line(line, out);
    }
    this._buf = pos < n ? buf.slice(pos) : "";
    return out;
  }

  /**
   * End of stream.  Per the HTML Standard, a frame not terminated by a
   * blank line is discarded (sets .truncated).  Returns [] (no event can
   * complete at EOF); the parser is then ready for a new stream.
   * @returns {never[]}
   */
  end() {
    this.truncated = this._buf.length > 0 || this._pending;
    this.reset();
    return [];
  }

  _line(line, out) {
    if (line.length === 0) {            // blank line: dispatch
      if (this._data !== null) {
        out.push({
          event: this._event || "message",
          data: this._data.join("\n"),
          id: this.lastEventId,
        });
      }
      this._data = null;
      this._event = "";
      this._pending = false;
      return;
    }
    if (line.charCodeAt(0) === 58) return;   // ":" comment (keepalive)
    this._pending = true;
    const c = line.indexOf(":");
    let field = line;
    let value = "";
    if (c !== -1) {
      field = line.slice(0, c);
      value = line.slice(c + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    switch (field) {
      case "event":
        this._event = value;
        break;
      case "data":
        if (this._data === null) this._data = [value];
        else this._data.push(value);
        break;
      case "id":
        if (value.indexOf("\0") === -1) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.retry = parseInt(value, 10);
        break;
      default:
        break;                          // unknown fields are ignored
    }
  }
}

/** The error every failure of matchJobs() rejects with (but aborts). */
export class MatchJobsError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, code?: string, response?: object,
   *          retryAfter?: string|null, cause?: unknown}} [info]
   */
  constructor(message, info = {}) {
    super(message, info.cause !== undefined ? { cause: info.cause } : undefined);
    this.name = "MatchJobsError";
    this.status = info.status ?? 0;       // HTTP status, 0 when not HTTP
    this.code = info.code ?? "error";     // SPEC error code
    this.response = info.response ?? null; // match response, when one exists
    this.retryAfter = info.retryAfter ?? null; // 503's Retry-After
  }
}

function abortError(signal) {
  const e = new Error("the request was cancelled");
  e.name = "AbortError";
  e.code = "aborted";
  if (signal && signal.reason !== undefined) e.cause = signal.reason;
  return e;
}

function isAbort(e, signal) {
  return (signal && signal.aborted) || (e && e.name === "AbortError");
}

const EVENT_TYPES = ["status", "job_start", "token", "job_complete",
  "complete", "error", "done"];

/**
 * Score jobs against a resume over the streaming route.
 * @param {object} opts
 * @param {string} [opts.url]   default "/api/match-jobs/stream"
 * @param {Blob|File} [opts.pdf]  the resume PDF (wins over resumeText)
 * @param {string} [opts.resumeText]
 * @param {object|object[]} opts.jobs  one job or an array of jobs
 * @param {string} [opts.userId]  the SPEC's user_id (default "anonymous")
 * @param {AbortSignal} [opts.signal]
 * @param {typeof fetch} [opts.fetch]  default globalThis.fetch
 * @param {Record<string,string>} [opts.headers]  extra request headers
 * @param {object} [opts.on]  callbacks by event type
 * @param {boolean} [opts.cancelOnAbort]  default true: an abort cancels the run
 * @returns {Promise<object>} the match response
 */
export async function matchJobs({
  url = "/api/match-jobs/stream",
  pdf,
  resumeText,
  jobs,
  userId = "anonymous",
  signal,
  fetch: f = globalThis.fetch,
  headers = {},
  on = {},
  cancelOnAbort = true,
} = {}) {
  if (jobs === undefined || jobs === null) {
    throw new TypeError("matchJobs: `jobs` is required (a job or an array of jobs)");
  }
  if (!pdf && !(typeof resumeText === "string" && resumeText.trim() !== "")) {
    throw new TypeError("matchJobs: give `pdf` (a File/Blob) or `resumeText`");
  }
  if (typeof f !== "function") throw new TypeError("matchJobs: no fetch available");
  if (signal && signal.aborted) throw abortError(signal);

  const form = new FormData();
  form.append("json_body", JSON.stringify({ user_id: userId, jobs }));
  if (pdf) form.append("pdf_file", pdf, pdf.name || "resume.pdf");
  else form.append("resume_text", resumeText);

  let res;
  try {
    res = await f(url, {
      method: "POST",
      body: form,
      headers: { Accept: "text/event-stream", ...headers },
      signal,
      cache: "no-store",
    });
  } catch (e) {
    if (isAbort(e, signal)) throw abortError(signal);
    throw new MatchJobsError(
      "network error: could not reach the server" + (e && e.message ? " (" + e.message + ")" : ""),
      { code: "network_error", cause: e });
  }

  if (!res.ok) throw await httpError(res, signal);
  const ctype = (res.headers.get("content-type") || "").toLowerCase();
  if (!ctype.startsWith("text/event-stream") || !res.body) {
    throw new MatchJobsError(
      "unexpected answer: HTTP " + res.status + " with content type '" + ctype +
      "' (expected text/event-stream)", { status: res.status, code: "bad_response" });
  }

  const reader = res.body.getReader();
  const decoder = new TextDecoder("utf-8");
  const parser = new SSEParser();
  let final = null;
  let failure = null;
  let sawDone = false;
  let finished = false;
  const runId = res.headers.get("x-match-run");
  // A fetch that ignores the signal still stops: cancel the reader.  And
  // the run itself, which would otherwise go on for the detach window.
  const onAbort = () => {
    reader.cancel().catch(() => {});
    if (cancelOnAbort && runId) {
      Promise.resolve()
        .then(() => f(cancelUrl(url, runId), { method: "POST", keepalive: true, cache: "no-store" }))
        .catch(() => {});
    }
  };
  if (signal) signal.addEventListener("abort", onAbort, { once: true });

  const handle = (ev) => {
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch (e) {
      throw new MatchJobsError("the server sent an event that is not JSON: " +
        ev.data.slice(0, 200), { status: res.status, code: "bad_event", cause: e });
    }
    const type = ev.event !== "message" ? ev.event : (data && data.type) || "message";
    if (type === "complete") final = data.response;
    else if (type === "error") {
      failure = new MatchJobsError(data.message || "the request failed", {
        status: res.status, code: data.code || "error", response: data.response ?? null });
    } else if (type === "done") sawDone = true;
    if (EVENT_TYPES.includes(type) && typeof on[type] === "function") on[type](data);
  };

  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (isAbort(e, signal)) throw abortError(signal);
        throw new MatchJobsError("network error: the connection broke mid-stream" +
          (e && e.message ? " (" + e.message + ")" : ""),
        { status: res.status, code: "network_error", cause: e });
      }
      if (chunk.done) break;
      for (const ev of parser.feed(decoder.decode(chunk.value, { stream: true }))) {
        if (signal && signal.aborted) break;   // no callbacks after a cancel
        handle(ev);
      }
    }
    if (signal && signal.aborted) throw abortError(signal);
    for (const ev of parser.feed(decoder.decode())) handle(ev);
    parser.end();
    finished = true;
  } finally {
    if (signal) signal.removeEventListener("abort", onAbort);
    if (!finished) reader.cancel().catch(() => {});
  }

  if (failure) throw failure;
  if (final !== null && final !== undefined) return final;
  throw new MatchJobsError(
    "the stream ended before the result arrived" + (sawDone ? " (done without complete)" : ""),
    { status: res.status, code: "stream_truncated" });
}

/** The cancel route of run id, beside the match route url (any prefix). */
export function cancelUrl(url, id) {
  const base = String(url).replace(/\/api\/match-jobs(\/stream)?\/?(\?.*)?$/, "");
  return base + "/api/runs/" + encodeURIComponent(id) + "/cancel";
}

async function httpError(res, signal) {
  let text = "";
  try {
    text = await res.text();
  } catch (e) {
    if (isAbort(e, signal)) return abortError(signal);
  }
  let body = null;
  try {
    body = JSON.parse(text);
  } catch (_) { /* not JSON (e.g. a proxy's HTML error page) */ }
  const err = body && typeof body === "object" && body.error && typeof body.error === "object"
    ? body.error : null;
  const message = err && err.message
    ? err.message
    : "HTTP " + res.status + (res.statusText ? " " + res.statusText : "") +
      (text && !body ? ": " + text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 200) : "");
  return new MatchJobsError(message, {
    status: res.status,
    code: (err && err.code) || "http_error",
    response: (body && body.response) || null,
    retryAfter: res.headers.get("retry-after"),
  });
}
