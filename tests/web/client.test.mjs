// Unit tests of web/matchjobs-client.js under node's built-in test runner:
//   node --test tests/web/client.test.mjs
// SSEParser against the HTML Standard's parsing rules, fed in every split,
// and matchJobs() with a fake fetch whose ReadableStream delivers the
// responder's event stream in awkward chunks (mid UTF-8 character, between
// CR and LF, inside "data:").
import { test } from "node:test";
import assert from "node:assert/strict";
import { SSEParser, matchJobs, MatchJobsError, cancelUrl } from "../../web/matchjobs-client.js";

const enc = new TextEncoder();

function parseAll(chunks) {
  const p = new SSEParser();
  const out = [];
  for (const c of chunks) out.push(...p.feed(c));
  out.push(...p.end());
  return { events: out, parser: p };
}

// ---------------------------------------------------------------- SSEParser

test("SSEParser: one frame, event and data", () => {
  const { events } = parseAll(['event: status\ndata: {"a":1}\n\n']);
  assert.deepEqual(events, [{ event: "status", data: '{"a":1}', id: "" }]);
});

test("SSEParser: no event field gives type 'message'; no space after colon", () => {
  const { events } = parseAll(["data:x\n\n"]);
  assert.deepEqual(events, [{ event: "message", data: "x", id: "" }]);
});

test("SSEParser: only one leading space is stripped", () => {
  const { events } = parseAll(["data:  two\n\n"]);
  assert.equal(events[0].data, " two");
});

test("SSEParser: LF, CRLF and CR line endings are equivalent", () => {
  const lf = "event: a\ndata: 1\ndata: 2\n\nevent: b\ndata: 3\n\n";
  const want = [
    { event: "a", data: "1\n2", id: "" },
    { event: "b", data: "3", id: "" },
  ];
  assert.deepEqual(parseAll([lf]).events, want);
  assert.deepEqual(parseAll([lf.replace(/\n/g, "\r\n")]).events, want);
  assert.deepEqual(parseAll([lf.replace(/\n/g, "\r")]).events, want);
  // mixed, as a stream may be
  assert.deepEqual(parseAll(["event: a\r\ndata: 1\rdata: 2\n\r\nevent: b\ndata: 3\r\r"]).events, want);
});

test("SSEParser: CRLF split between two chunks is one line ending", () => {
  const { events } = parseAll(["data: x\r", "\n\r", "\ndata: y\r\n\r\n"]);
  assert.deepEqual(events.map((e) => e.data), ["x", "y"]);
});

test("SSEParser: CR then CR is two line endings (a blank line)", () => {
  const { events } = parseAll(["data: x\r", "\r", "data: y\r\r"]);
  assert.deepEqual(events.map((e) => e.data), ["x", "y"]);
});

test("SSEParser: comment lines are ignored, also between fields", () => {
  const { events } = parseAll([": keepalive\n\n:keepalive\ndata: a\n: mid\ndata: b\n\n: bye\n\n"]);
  assert.deepEqual(events, [{ event: "message", data: "a\nb", id: "" }]);
});

test("SSEParser: multi-line data keeps empty lines; empty data dispatches", () => {
  const { events } = parseAll(["data: a\ndata:\ndata: c\n\ndata\n\n"]);
  assert.deepEqual(events.map((e) => e.data), ["a\n\nc", ""]);
});

test("SSEParser: a frame without data is not dispatched and resets the type", () => {
  const { events } = parseAll(["event: x\n\ndata: d\n\n"]);
  assert.deepEqual(events, [{ event: "message", data: "d", id: "" }]);
});

test("SSEParser: id persists; id with NUL ignored; retry; unknown fields", () => {
  const p = new SSEParser();
  const ev = p.feed("id: 7\ndata: a\n\ndata: b\n\nid: x\0y\nretry: 1500\nfoo: bar\ndata: c\n\nretry: 1x\n\n");
  assert.deepEqual(ev.map((e) => [e.data, e.id]), [["a", "7"], ["b", "7"], ["c", "7"]]);
  assert.equal(p.retry, 1500);
});

test("SSEParser: a leading BOM is stripped, only at the start", () => {
  const { events } = parseAll(["\uFEFF", "data: a\n\n\uFEFFdata: b\n\n"]);
  assert.equal(events.length, 1);        // "\uFEFFdata" is an unknown field
  assert.equal(events[0].data, "a");
});

test("SSEParser: a frame not terminated at EOF is discarded", () => {
  const a = parseAll(['event: complete\ndata: {"type":"complete"}\n']);
  assert.deepEqual(a.events, []);
  assert.equal(a.parser.truncated, true);
  const b = parseAll(["data: ok\n\ndata: partial"]);
  assert.deepEqual(b.events.map((e) => e.data), ["ok"]);
  assert.equal(b.parser.truncated, true);
  const c = parseAll(["data: ok\n\n"]);
  assert.equal(c.parser.truncated, false);
});

test("SSEParser: events come out as soon as their blank line arrives", () => {
  const p = new SSEParser();
  assert.deepEqual(p.feed("data: a\n"), []);
  assert.equal(p.feed("\n").length, 1);
  assert.deepEqual(p.feed("data: b\r"), []);
  assert.equal(p.feed("\r").length, 1);     // CR CR: dispatched without waiting
});

const CORPUS = [
  ": keepalive\r\n\r\n",
  'event: status\r\ndata: {"type":"status","stage":"resume","message":"Résumé read ✓"}\r\n\r\n',
  "event: token\ndata: {\"type\":\"token\",\"index\":0,\"content\":\"{\\n  \\\"score\\\": 7\"}\n\n",
  "event: multi\rdata: line one\rdata: line two 😀\r\r",
  ":c\nid: 42\nevent: done\ndata: {}\n\n",
].join("");

test("SSEParser: every 2-way and 3-way split of a mixed stream gives the same events", () => {
  const want = parseAll([CORPUS]).events;
  assert.equal(want.length, 4);
  assert.deepEqual(want.map((e) => e.event), ["status", "token", "multi", "done"]);
  assert.equal(want[2].data, "line one\nline two 😀");
  assert.equal(want[3].id, "42");
  for (let i = 0; i <= CORPUS.length; i++) {
    assert.deepEqual(parseAll([CORPUS.slice(0, i), CORPUS.slice(i)]).events, want, `split at ${i}`);
  }
  for (let i = 0; i <= CORPUS.length; i += 3) {
    for (let j = i; j <= CORPUS.length; j += 5) {
      const got = parseAll([CORPUS.slice(0, i), CORPUS.slice(i, j), CORPUS.slice(j)]).events;
      assert.deepEqual(got, want, `split at ${i},${j}`);
    }
  }
  assert.deepEqual(parseAll([...CORPUS]).events, want, "one UTF-16 unit at a time");
});

test("SSEParser + TextDecoder(stream): bytes split inside multi-byte characters", () => {
  const bytes = enc.encode(CORPUS);
  const want = parseAll([CORPUS]).events;
  for (let i = 0; i <= bytes.length; i++) {
    const d = new TextDecoder("utf-8");
    const p = new SSEParser();
    const got = [
      ...p.feed(d.decode(bytes.subarray(0, i), { stream: true })),
      ...p.feed(d.decode(bytes.subarray(i), { stream: true })),
      ...p.feed(d.decode()),
      ...p.end(),
    ];
    assert.deepEqual(got, want, `byte split at ${i}`);
  }
  // and byte by byte
  const d = new TextDecoder("utf-8");
  const p = new SSEParser();
  const got = [];
  for (const b of bytes) got.push(...p.feed(d.decode(Uint8Array.of(b), { stream: true })));
  got.push(...p.feed(d.decode()));
  assert.deepEqual(got, want);
});

test("SSEParser: a long line fed in many small pieces (linear, correct)", () => {
  const big = "x".repeat(200000);
  const p = new SSEParser();
  const t0 = Date.now();
  const out = [];
  out.push(...p.feed("data: "));
  for (let i = 0; i < big.length; i += 10) out.push(...p.feed(big.slice(i, i + 10)));
  out.push(...p.feed("\n\n"));
  assert.equal(out.length, 1);
  assert.equal(out[0].data.length, big.length);
  assert.ok(Date.now() - t0 < 5000, "took " + (Date.now() - t0) + " ms");
});

// ---------------------------------------------------------------- matchJobs

const RESPONSE = {
  user_id: "u1", engine: "openai", model: "gpt-4o-mini",
  total_jobs: 2, scored_jobs: 1, failed_jobs: 1,
  matched_jobs: [{ index: 0, jobtitle: "Dev", joblink: "", score: 55, summary: "Résumé \"fits\"\nGaps.",
    matched_skills: ["Python"], missing_skills: ["Go"], jobid: 7 }],
  errors: [{ index: 1, jobtitle: "Ops", error: { code: "upstream_auth", message: "HTTP 401" } }],
  usage: { prompt_tokens: 389, completion_tokens: 5 }, elapsed_ms: 139,
};
const TOKENS = ['{\n  "score": 55,\n  "summary": "Résumé \\"', 'fits\\"\\nGaps.", 😀 ', '"matched_skills": ["Python"]}'];

function frame(type, obj, eol = "\n") {
  return `event: ${type}${eol}data: ${JSON.stringify({ type, ...obj })}${eol}${eol}`;
}

function responderStream({ eol = "\n", error = false, tail = true } = {}) {
  let s = frame("status", { stage: "resume", message: "Resume read: 893 characters" }, eol);
  s += ": keepalive" + eol + eol;
  s += frame("status", { stage: "scoring", message: "Scoring 2 jobs" }, eol);
  s += frame("job_start", { index: 0, total: 2, jobtitle: "Dev" }, eol);
  s += frame("job_start", { index: 1, total: 2, jobtitle: "Ops" }, eol);
  for (const t of TOKENS) s += frame("token", { index: 0, content: t }, eol);
  s += frame("job_complete", { index: 1, result: { index: 1, jobtitle: "Ops", error: RESPONSE.errors[0].error } }, eol);
  s += frame("job_complete", { index: 0, result: RESPONSE.matched_jobs[0] }, eol);
  if (error) {
    s += frame("error", { code: "upstream_failed", message: "no job could be scored", response: RESPONSE }, eol);
  } else {
    s += frame("complete", { response: RESPONSE }, eol);
  }
  if (tail) s += frame("done", {}, eol);
  return s;
}

/** Split bytes at the given sizes, cycling. */
function chunked(bytes, sizes) {
  const out = [];
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = sizes[k++ % sizes.length];
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

/** A fake fetch: records the call, answers with a ReadableStream of chunks. */
function fakeFetch(chunks, { status = 200, headers = { "content-type": "text/event-stream" }, honorSignal = true, hangAfter = false } = {}) {
  const calls = [];
  const f = async (url, init) => {
    calls.push({ url, init });
    let i = 0;
    let cancelled = false;
    const body = new ReadableStream({
      async pull(ctrl) {
        await new Promise((r) => setTimeout(r, 1));
        if (honorSignal && init.signal && init.signal.aborted) {
          const e = new Error("aborted");
          e.name = "AbortError";
          ctrl.error(e);
          return;
        }
        if (i < chunks.length) ctrl.enqueue(chunks[i++]);
        else if (hangAfter) await new Promise((r) => { const t = setInterval(() => { if (cancelled || (honorSignal && init.signal.aborted)) { clearInterval(t); r(); } }, 5); });
        else ctrl.close();
        if (hangAfter && i >= chunks.length && honorSignal && init.signal.aborted) {
          const e = new Error("aborted");
          e.name = "AbortError";
          ctrl.error(e);
        }
      },
      cancel() { cancelled = true; },
    }, { highWaterMark: 0 });
    return new Response(body, { status, headers });
  };
  f.calls = calls;
  return f;
}

function recorder() {
  const log = [];
  const on = {};
  for (const t of ["status", "job_start", "token", "job_complete", "complete", "error", "done"]) {
    on[t] = (d) => log.push([t, d]);
  }
  return { log, on };
}

const JOBS = [{ jobtitle: "Dev", jobdata: "Python", jobid: 7 }, { jobtitle: "Ops", jobdata: "Docker" }];

for (const [name, eol, sizes] of [
  ["LF, 7-byte chunks", "\n", [7]],
  ["CRLF, 1-byte chunks", "\r\n", [1]],
  ["CRLF, chunks of 2,3,5,11,13 bytes (mid UTF-8, between CR and LF)", "\r\n", [2, 3, 5, 11, 13]],
  ["CR only, 4-byte chunks", "\r", [4]],
]) {
  test(`matchJobs: full stream, ${name}`, async () => {
    const bytes = enc.encode(responderStream({ eol }));
    const chunks = chunked(bytes, sizes);
    // the splits really do fall inside a multi-byte character and a CRLF
    if (sizes[0] <= 3 && eol === "\r\n") {
      let midUtf8 = false;
      let midCrlf = false;
      let off = 0;
      for (const c of chunks) {
        off += c.length;
        if (off < bytes.length && (bytes[off] & 0xc0) === 0x80) midUtf8 = true;
        if (off < bytes.length && bytes[off - 1] === 13 && bytes[off] === 10) midCrlf = true;
      }
      assert.ok(midUtf8 && midCrlf, "the chunking splits a character and a CRLF");
    }
    const f = fakeFetch(chunks);
    const { log, on } = recorder();
    const pdf = new Blob([enc.encode("%PDF-1.4 fake")], { type: "application/pdf" });
    const res = await matchJobs({ url: "/x/stream", pdf, jobs: JOBS, userId: "u1", fetch: f, on });
    assert.deepEqual(res, RESPONSE);
    assert.deepEqual(log.map((e) => e[0]), ["status", "status", "job_start", "job_start",
      "token", "token", "token", "job_complete", "job_complete", "complete", "done"]);
    assert.equal(log.filter((e) => e[0] === "token").map((e) => e[1].content).join(""), TOKENS.join(""));
    assert.equal(log[0][1].message, "Resume read: 893 characters");
    assert.deepEqual(log[9][1].response, RESPONSE);
    // the request
    assert.equal(f.calls.length, 1);
    const { url, init } = f.calls[0];
    assert.equal(url, "/x/stream");
    assert.equal(init.method, "POST");
    assert.equal(init.headers.Accept, "text/event-stream");
    assert.ok(init.body instanceof FormData);
    assert.deepEqual(JSON.parse(init.body.get("json_body")), { user_id: "u1", jobs: JOBS });
    const file = init.body.get("pdf_file");
    assert.ok(file instanceof Blob);
    assert.equal(file.name, "resume.pdf");
    assert.equal(await file.text(), "%PDF-1.4 fake");
    assert.equal(init.body.get("resume_text"), null);
  });
}

test("matchJobs: resumeText is sent as the resume_text field; default URL", async () => {
  const f = fakeFetch([enc.encode(responderStream())]);
  await matchJobs({ resumeText: "Python, SQL", jobs: JOBS[0], userId: "u", fetch: f });
  const { url, init } = f.calls[0];
  assert.equal(url, "/api/match-jobs/stream");
  assert.equal(init.body.get("resume_text"), "Python, SQL");
  assert.equal(init.body.get("pdf_file"), null);
  assert.deepEqual(JSON.parse(init.body.get("json_body")).jobs, JOBS[0]);
});

test("matchJobs: works against a real HTTP server (node fetch)", async () => {
  const http = await import("node:http");
  const bytes = enc.encode(responderStream({ eol: "\r\n" }));
  let got = null;
  const srv = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("latin1");
    req.on("data", (d) => { body += d; });
    req.on("end", async () => {
      got = { method: req.method, url: req.url, ctype: req.headers["content-type"], accept: req.headers.accept, body };
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (const c of chunked(bytes, [5, 9, 1])) {
        res.write(c);
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${srv.address().port}/api/match-jobs/stream`;
    const pdf = new Blob(["%PDF-1.4"], { type: "application/pdf" });
    const res = await matchJobs({ url, pdf, jobs: JOBS, userId: "u1" });
    assert.deepEqual(res, RESPONSE);
    assert.equal(got.method, "POST");
    assert.match(got.ctype, /^multipart\/form-data; boundary=/);
    assert.equal(got.accept, "text/event-stream");
    assert.match(got.body, /name="json_body"/);
    assert.match(got.body, /name="pdf_file"; filename="resume.pdf"/);
  } finally {
    srv.close();
  }
});

test("matchJobs: HTTP 422 JSON error rejects with status, code, message", async () => {
  const body = enc.encode('{"error":{"code":"unreadable_pdf","message":"The uploaded file is not a PDF."}}');
  const f = fakeFetch([body], { status: 422, headers: { "content-type": "application/json" } });
  const { log, on } = recorder();
  await assert.rejects(
    matchJobs({ pdf: new Blob(["x"]), jobs: JOBS, fetch: f, on }),
    (e) => e instanceof MatchJobsError && e.status === 422 && e.code === "unreadable_pdf" &&
      e.message === "The uploaded file is not a PDF.");
  assert.deepEqual(log, []);
});

test("matchJobs: HTTP 503 keeps Retry-After; 502 with a match response keeps it", async () => {
  const f = fakeFetch([enc.encode('{"error":{"code":"overloaded","message":"busy"}}')],
    { status: 503, headers: { "content-type": "application/json", "retry-after": "2" } });
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f }),
    (e) => e.status === 503 && e.code === "overloaded" && e.retryAfter === "2");
  const g = fakeFetch([enc.encode(JSON.stringify({ error: { code: "upstream_failed", message: "m" }, response: RESPONSE }))],
    { status: 502, headers: { "content-type": "application/json" } });
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: g }),
    (e) => e.status === 502 && e.code === "upstream_failed" && e.response && e.response.total_jobs === 2);
});

test("matchJobs: a non-JSON error page (proxy 502) rejects with http_error", async () => {
  const f = fakeFetch([enc.encode("<html><body><h1>502 Bad Gateway</h1></body></html>")],
    { status: 502, headers: { "content-type": "text/html" } });
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f }),
    (e) => e.status === 502 && e.code === "http_error" && /502/.test(e.message) && /Bad Gateway/.test(e.message));
});

test("matchJobs: 200 with a non-stream content type rejects", async () => {
  const f = fakeFetch([enc.encode("{}")], { headers: { "content-type": "application/json" } });
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f }), (e) => e.code === "bad_response");
});

test("matchJobs: an error event calls on.error and on.done, then rejects with its code and response", async () => {
  const f = fakeFetch(chunked(enc.encode(responderStream({ error: true, eol: "\r\n" })), [3]));
  const { log, on } = recorder();
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f, on }),
    (e) => e instanceof MatchJobsError && e.code === "upstream_failed" &&
      e.message === "no job could be scored" && e.response.total_jobs === 2);
  assert.deepEqual(log.slice(-2).map((e) => e[0]), ["error", "done"]);
  assert.ok(!log.some((e) => e[0] === "complete"));
});

test("matchJobs: a stream cut before complete rejects stream_truncated; an unterminated complete frame is not used", async () => {
  const full = responderStream({ tail: false });
  const cut = full.slice(0, full.length - 1);   // complete frame lacks its blank line
  const { log, on } = recorder();
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: fakeFetch([enc.encode(cut)]), on }),
    (e) => e.code === "stream_truncated");
  assert.ok(!log.some((e) => e[0] === "complete"));
  assert.equal(log.filter((e) => e[0] === "job_complete").length, 2);
});

test("matchJobs: a network failure rejects with network_error", async () => {
  const f = async () => { throw new TypeError("fetch failed"); };
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f }),
    (e) => e instanceof MatchJobsError && e.code === "network_error" && /fetch failed/.test(e.message));
});

test("matchJobs: a connection that breaks mid-stream rejects with network_error", async () => {
  const bytes = enc.encode(responderStream());
  const f = async () => {
    let n = 0;
    const body = new ReadableStream({
      pull(ctrl) {
        if (n++ === 0) ctrl.enqueue(bytes.slice(0, 200));
        else ctrl.error(new TypeError("terminated"));
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  };
  const { log, on } = recorder();
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f, on }),
    (e) => e.code === "network_error" && /mid-stream/.test(e.message));
  assert.equal(log[0][0], "status");
});

for (const honorSignal of [true, false]) {
  test(`matchJobs: abort mid-stream rejects with AbortError (fetch ${honorSignal ? "honours" : "ignores"} the signal)`, async () => {
    const text = responderStream();
    // up to the end of the second token frame; then the stream stalls
    const cut = text.indexOf("\n\n", text.indexOf("event: token", text.indexOf("event: token") + 1)) + 2;
    const bytes = enc.encode(text.slice(0, cut));
    const ctl = new AbortController();
    const f = fakeFetch([bytes], { honorSignal, hangAfter: true });   // both tokens in one chunk
    const { log, on } = recorder();
    on.token = (d) => { log.push(["token", d]); ctl.abort(); };
    const t0 = Date.now();
    await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f, on, signal: ctl.signal }),
      (e) => e.name === "AbortError");
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(log.filter((e) => e[0] === "token").length, 1, "no callback after the abort");
    assert.ok(!log.some((e) => e[0] === "complete"));
  });
}

for (const cancelOnAbort of [true, false]) {
  test(`matchJobs: an abort ${cancelOnAbort ? "POSTs the run's cancel route" : "leaves the run be (cancelOnAbort: false)"}`, async () => {
    const text = responderStream();
    const cut = text.indexOf("\n\n", text.indexOf("event: token")) + 2;
    const ctl = new AbortController();
    const f = fakeFetch([enc.encode(text.slice(0, cut))], {
      hangAfter: true,
      headers: { "content-type": "text/event-stream", "x-match-run": "RUN_id-123" },
    });
    const { on } = recorder();
    on.token = () => ctl.abort();
    await assert.rejects(matchJobs({ url: "/~a/mj.fcgi/api/match-jobs/stream", resumeText: "r", jobs: JOBS,
      fetch: f, on, signal: ctl.signal, cancelOnAbort }), (e) => e.name === "AbortError");
    await new Promise((r) => setTimeout(r, 20));
    const cancels = f.calls.filter((c) => /\/cancel$/.test(c.url));
    if (cancelOnAbort) {
      assert.equal(cancels.length, 1, "one cancel request");
      assert.equal(cancels[0].url, "/~a/mj.fcgi/api/runs/RUN_id-123/cancel");
      assert.equal(cancels[0].init.method, "POST");
    } else {
      assert.equal(cancels.length, 0);
    }
  });
}

test("cancelUrl: beside either match route, under any prefix", () => {
  assert.equal(cancelUrl("/api/match-jobs/stream", "abc"), "/api/runs/abc/cancel");
  assert.equal(cancelUrl("https://h.example/x/api/match-jobs", "a b"), "https://h.example/x/api/runs/a%20b/cancel");
});

test("matchJobs: an already aborted signal rejects before fetching", async () => {
  const ctl = new AbortController();
  ctl.abort();
  const f = fakeFetch([]);
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f, signal: ctl.signal }),
    (e) => e.name === "AbortError");
  assert.equal(f.calls.length, 0);
});

test("matchJobs: missing resume or jobs is a TypeError, before any request", async () => {
  const f = fakeFetch([]);
  await assert.rejects(matchJobs({ jobs: JOBS, fetch: f }), TypeError);
  await assert.rejects(matchJobs({ resumeText: "   ", jobs: JOBS, fetch: f }), TypeError);
  await assert.rejects(matchJobs({ resumeText: "r", fetch: f }), TypeError);
  assert.equal(f.calls.length, 0);
});

test("matchJobs: an event whose data is not JSON rejects with bad_event", async () => {
  const f = fakeFetch([enc.encode("event: status\ndata: not json\n\n")]);
  await assert.rejects(matchJobs({ resumeText: "r", jobs: JOBS, fetch: f }), (e) => e.code === "bad_event");
});
