// Browser test of the web page (web/) against a REAL deployment: the fake
// OpenAI upstream (tests/fake_openai.py), the real responder on a unix
// socket, and nginx running the shipped conf/nginx/matchjobs-site.conf made
// by tools/nginx-demo-conf exactly as run-demo makes it.  playwright-core
// drives Debian's Chromium (/usr/bin/chromium, or $CHROMIUM).
//   node --test tests/web/browser.test.mjs      (tests/web/run does this)
// The responder is $MJ_BIN, else ./matchjobs-fcgi, else build/matchjobs-fcgi.
// Screenshots go to tests/artifacts/; one mid-stream shot at 1200 px is
// also saved as docs/screenshot.png when UPDATE_SCREENSHOT=1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOP = path.resolve(HERE, "../..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = path.join(TOP, "tests", "artifacts");
const KEY = "sk-test-web-5d3f0a9c41e7b2";
const PDF = path.join(TOP, "tests", "pdf", "resume.pdf");
const NOTPDF = path.join(TOP, "tests", "pdf", "notpdf.pdf");
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function findBin() {
  const cands = [process.env.MJ_BIN, path.join(TOP, "matchjobs-fcgi"), path.join(TOP, "build", "matchjobs-fcgi")];
  for (const c of cands) {
    if (!c) continue;
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch (_) { /* next */ }
  }
  throw new Error("no responder binary: set MJ_BIN or build ./matchjobs-fcgi or build/matchjobs-fcgi");
}

function which(name, fallback) {
  for (const d of (process.env.PATH || "").split(":").concat(["/usr/sbin", "/sbin"])) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch (_) { /* next */ }
  }
  return fallback;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, pred, timeoutMs = 15000, stepMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await sleep(stepMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ the stack

const stack = { procs: [], tmp: null, port: 0, fakePort: 0, base: "" };
let browser;
const pageErrors = [];

function start(name, cmd, args, env) {
  const log = fs.openSync(path.join(stack.tmp, name + ".log"), "a");
  const p = spawn(cmd, args, { env, stdio: ["ignore", log, log], detached: false });
  p.name = name;
  p.exited = false;
  p.on("exit", () => { p.exited = true; });
  stack.procs.push(p);
  return p;
}

function logOf(name) {
  try {
    return fs.readFileSync(path.join(stack.tmp, name + ".log"), "utf8");
  } catch (_) {
    return "";
  }
}

async function upstreamLog() {
  const r = await fetch(`http://127.0.0.1:${stack.fakePort}/_log`);
  return (await r.json()).requests;
}

function killAll() {
  for (const p of stack.procs.reverse()) {
    if (!p.exited) {
      try { p.kill("SIGTERM"); } catch (_) { /* gone */ }
    }
  }
}
process.on("exit", killAll);

before(async () => {
  stack.tmp = fs.mkdtempSync("/tmp/matchjobs-web-");
  fs.chmodSync(stack.tmp, 0o755);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const bin = findBin();
  const nginx = which("nginx", "/usr/sbin/nginx");

  // 1. the fake upstream
  const portfile = path.join(stack.tmp, "fake.port");
  const fake = start("fake", "python3", [path.join(TOP, "tests", "fake_openai.py"), "--port", "0", "--portfile", portfile], process.env);
  await waitFor("the fake upstream's port file", () => {
    if (fake.exited) throw new Error("fake upstream exited:\n" + logOf("fake"));
    return fs.existsSync(portfile) && fs.readFileSync(portfile, "utf8").trim();
  });
  stack.fakePort = Number(fs.readFileSync(portfile, "utf8").trim());

  // 2. the responder, on a unix socket (environment without stray settings)
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("MATCHJOBS_") && !k.startsWith("OPENAI_")) env[k] = v;
  }
  Object.assign(env, {
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: `http://127.0.0.1:${stack.fakePort}/v1`,
    MATCHJOBS_LOG_LEVEL: "info",
  });
  const sock = path.join(stack.tmp, "matchjobs.sock");
  const mj = start("responder", bin, ["--listen", "unix:" + sock, "--socket-mode", "0666",
    ...(process.getuid && process.getuid() === 0 ? ["--allow-root"] : [])], env);
  await waitFor("the responder's socket", () => {
    if (mj.exited) throw new Error("responder exited:\n" + logOf("responder"));
    return fs.existsSync(sock);
  });

  // 3. nginx with the shipped server block, as run-demo makes it
  stack.port = await freePort();
  const conf = execFileSync(path.join(TOP, "tools", "nginx-demo-conf"),
    [stack.tmp, String(stack.port), sock, path.join(TOP, "web")], { encoding: "utf8" }).trim();
  const ngx = start("nginx", nginx, ["-p", stack.tmp, "-c", conf], process.env);
  stack.base = `http://127.0.0.1:${stack.port}`;
  await waitFor("nginx + responder health", async () => {
    if (ngx.exited) throw new Error("nginx exited:\n" + logOf("nginx"));
    try {
      const r = await fetch(stack.base + "/api/health");
      return r.ok && (await r.json()).engine === "openai";
    } catch (_) {
      return false;
    }
  }, 15000, 100);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  killAll();
  await Promise.all(stack.procs.map((p) => (p.exited ? null
    : Promise.race([new Promise((r) => p.on("exit", r)), sleep(5000)]))));
  for (const p of stack.procs) if (!p.exited) p.kill("SIGKILL");
  // No response or log may show the key (the fake never echoes it either).
  const leaked = ["responder", "nginx", "fake"].filter((n) => logOf(n).includes(KEY));
  if (stack.tmp) fs.rmSync(stack.tmp, { recursive: true, force: true });
  assert.deepEqual(leaked, [], "the API key appears in a log");
});

async function newPage(width = 1200, height = 900) {
  const ctx = await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(stack.base + "/");
  await page.waitForSelector("#jobs-json");
  return page;
}

async function setJobs(page, jobs) {
  await page.fill("#jobs-json", JSON.stringify(jobs, null, 2));
}

/** Everything the streaming test looks at, in one round trip. */
function snapshot(page) {
  return page.evaluate(() => {
    const cards = [...document.querySelectorAll("#cards > li")].map((li) => {
      const pre = li.querySelector("pre.card-stream");
      return {
        state: li.dataset.state,
        len: pre ? pre.textContent.length : null,
        text: pre ? pre.textContent : null,
        score: li.querySelector(".score") ? li.querySelector(".score").textContent : null,
      };
    });
    const pb = document.getElementById("progress");
    return {
      t: performance.now(),
      cards,
      status: document.getElementById("status").textContent,
      now: Number(pb.getAttribute("aria-valuenow")),
      max: Number(pb.getAttribute("aria-valuemax")),
      ranking: !document.getElementById("ranking").hidden,
      alert: document.getElementById("alert").hidden ? null : document.getElementById("alert").textContent,
      cancelDisabled: document.getElementById("cancel").disabled,
      matchDisabled: document.getElementById("match").disabled,
    };
  });
}

// ------------------------------------------------------------------- tests

test("the page is served by nginx with the client module and accessible markup", async () => {
  const page = await newPage();
  const r = await fetch(stack.base + "/matchjobs-client.js");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") || "", /javascript/);
  const a11y = await page.evaluate(() => {
    const unlabeled = [...document.querySelectorAll("input, textarea, select")]
      .filter((e) => !e.labels || e.labels.length === 0).map((e) => e.id);
    const pb = document.getElementById("progress");
    return {
      unlabeled,
      live: document.getElementById("status").getAttribute("aria-live"),
      alertRole: document.getElementById("alert").getAttribute("role"),
      pbRole: pb.getAttribute("role"),
      pbNow: pb.getAttribute("aria-valuenow"),
      pbLabel: pb.getAttribute("aria-labelledby"),
      buttons: [...document.querySelectorAll("button")].map((b) => b.textContent.trim()),
      jobs: JSON.parse(document.getElementById("jobs-json").value).length,
      lang: document.documentElement.lang,
    };
  });
  assert.deepEqual(a11y.unlabeled, []);
  assert.equal(a11y.live, "polite");
  assert.equal(a11y.alertRole, "alert");
  assert.equal(a11y.pbRole, "progressbar");
  assert.equal(a11y.pbNow, "0");
  assert.ok(a11y.pbLabel);
  assert.deepEqual(a11y.buttons, ["Match", "Cancel"]);
  assert.equal(a11y.jobs, 3, "prefilled with 3 example jobs");
  assert.equal(a11y.lang, "en");

  // Keyboard focus is visible on the Match button.
  await page.focus("#user-id");
  await page.keyboard.press("Tab");
  const focus = await page.evaluate(() => {
    const e = document.activeElement;
    const cs = getComputedStyle(e);
    return { id: e.id, style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
  });
  assert.equal(focus.id, "match");
  assert.notEqual(focus.style, "none");
  assert.ok(focus.width >= 2);

  // Contrast (WCAG AA, 4.5:1) of the text colours the page uses.
  const ratios = await page.evaluate(() => {
    const lum = (c) => {
      const m = c.match(/[\d.]+/g).map(Number);
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]);
    };
    const ratio = (fg, bg) => { const a = lum(fg); const b = lum(bg); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
    const probe = (cls, tag = "span", parent = document.body) => {
      const e = document.createElement(tag);
      e.className = cls;
      e.textContent = "x";
      parent.append(e);
      const cs = getComputedStyle(e);
      let bg = cs.backgroundColor;
      if (bg === "rgba(0, 0, 0, 0)") bg = getComputedStyle(parent).backgroundColor;
      if (bg === "rgba(0, 0, 0, 0)") bg = "rgb(255, 255, 255)";
      const r = ratio(cs.color, bg);
      e.remove();
      return r;
    };
    const ul = document.createElement("ul");
    ul.className = "chips missing";
    document.body.append(ul);
    const out = {
      "score-high": probe("score score-high"), "score-mid": probe("score score-mid"),
      "score-low": probe("score score-low"), chip: probe("chip"), "chip-missing": probe("chip", "li", ul),
      alert: probe("alert", "div"), "card-stream": probe("card-stream", "pre"),
      primary: probe("primary", "button"), hint: probe("hint", "p", document.querySelector(".panel")),
    };
    ul.remove();
    return out;
  });
  for (const [k, v] of Object.entries(ratios)) assert.ok(v >= 4.5, `contrast of ${k} is ${v.toFixed(2)}`);

  // A .json file loads into the jobs textarea.
  const jobs = [{ jobtitle: "From a file", jobdata: "Python" }];
  await page.setInputFiles("#jobs-file", { name: "jobs.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(jobs)) });
  await waitFor("jobs loaded from the file", () => page.$eval("#jobs-json", (e) => e.value.includes("From a file")));
  await page.context().close();
});

test("a PDF upload streams tokens progressively into cards, then ranks by score", async () => {
  const page = await newPage(1200, 900);
  const d = "delay=80;tokens=15";
  const jobs = [
    { jobtitle: "Backend Developer (Python)", joblink: "https://example.com/jobs/backend", jobid: "a",
      jobdata: `Python, SQL, Docker and REST APIs. <<fake:${d};score=41>>` },
    { jobtitle: "Platform Engineer", joblink: "https://example.com/jobs/platform", jobid: "b",
      jobdata: `Kubernetes, Terraform, AWS, Linux. <<fake:${d};score=88;delay_first=500>>` },
    { jobtitle: "Data Engineer", joblink: "https://example.com/jobs/data", jobid: "c",
      jobdata: `Kafka, PostgreSQL, Python. <<fake:${d};score=67;delay_first=1000>>` },
  ];
  await page.setInputFiles("#resume-file", PDF);
  await setJobs(page, jobs);
  await fetch(`http://127.0.0.1:${stack.fakePort}/_reset`, { method: "POST" });
  const t0 = Date.now();
  await page.click("#match");

  const samples = [];
  let shot = null;
  for (;;) {
    const s = await snapshot(page);
    samples.push(s);
    if (s.ranking || s.alert !== null) break;
    if (!shot && s.cards.length === 3 && s.cards[0].state === "done" &&
        s.cards.some((c) => c.state === "scoring" && c.len > 20)) {
      // Mid-stream: one job scored, another still streaming.
      const file = path.join(ARTIFACTS, "browser-midstream.png");
      await page.evaluate(() => window.scrollTo(0, 0));   // the whole header in view
      await page.screenshot({ path: file, animations: "disabled" });
      // The README's picture: refreshed only on request.
      if (process.env.UPDATE_SCREENSHOT === "1")
        fs.copyFileSync(file, path.join(TOP, "docs", "screenshot.png"));
      shot = { before: s, after: await snapshot(page) };
    }
    if (Date.now() - t0 > 30000) throw new Error("no result after 30 s: " + JSON.stringify(s));
    await sleep(40);
  }
  const last = samples[samples.length - 1];
  assert.equal(last.alert, null, "no error shown");
  assert.ok(last.ranking, "the ranking is shown");

  // Tokens appeared progressively: each card's text grew in several steps
  // while the stream was still running (before `complete`).
  for (let i = 0; i < 3; i++) {
    const lens = samples.filter((s) => !s.ranking && s.cards[i] && s.cards[i].len > 0).map((s) => s.cards[i].len);
    const distinct = [...new Set(lens)];
    assert.ok(distinct.length >= 3, `card ${i}: text grew in ${distinct.length} steps: ${distinct}`);
    for (let k = 1; k < lens.length; k++) assert.ok(lens[k] >= lens[k - 1], `card ${i} text never shrinks while streaming`);
    const idx = samples.findIndex((s) => s.cards[i] && s.cards[i].len > 0);
    assert.equal(samples[idx].cards[i].state, "scoring");
  }
  // The streamed text is the model's JSON answer, arriving in order.
  const longest = samples.map((s) => s.cards[0] && s.cards[0].text).filter(Boolean).pop();
  assert.match(longest, /^\{\s*"score": 41/);
  // The progress bar counted job_complete events up to the total.
  const nows = samples.map((s) => s.now);
  for (let k = 1; k < nows.length; k++) assert.ok(nows[k] >= nows[k - 1], "progress never goes back");
  assert.ok(nows.includes(1) && nows.includes(2), "progress showed 1 and 2 of 3: " + [...new Set(nows)]);
  assert.equal(last.now, 3);
  assert.equal(last.max, 3);
  assert.ok(samples.some((s) => /Scoring 3 jobs/.test(s.status)), "the scoring status event was shown");
  assert.ok(samples.some((s) => !s.cancelDisabled && s.matchDisabled), "Cancel enabled while running");
  // The mid-stream screenshot was taken before `complete`.
  assert.ok(shot, "a mid-stream moment was sampled");
  assert.ok(!shot.after.ranking || shot.before.cards.some((c) => c.state === "scoring"));
  assert.ok(!shot.before.ranking);
  const size = fs.statSync(path.join(ARTIFACTS, "browser-midstream.png")).size;
  assert.ok(size < 300 * 1024, `the mid-stream screenshot is ${size} bytes`);

  // The final ranking, in score order, with engine, model, elapsed, usage.
  const fin = await page.evaluate(() => ({
    rows: [...document.querySelectorAll("#ranking-list > li")].map((li) => ({
      score: Number(li.dataset.score), title: li.querySelector(".rank-title").textContent,
      href: li.querySelector("a") ? li.querySelector("a").getAttribute("href") : null })),
    meta: document.getElementById("ranking-meta").textContent,
    status: document.getElementById("status").textContent,
    cards: [...document.querySelectorAll("#cards > li")].map((li) => ({
      pre: !!li.querySelector("pre"),
      score: li.querySelector(".score") && li.querySelector(".score").textContent,
      summary: li.querySelector(".card-summary") && li.querySelector(".card-summary").textContent,
      matched: [...li.querySelectorAll(".chips.matched .chip")].map((c) => c.textContent),
      missing: [...li.querySelectorAll(".chips.missing .chip")].map((c) => c.textContent),
    })),
    match: document.getElementById("match").disabled,
    cancel: document.getElementById("cancel").disabled,
  }));
  assert.deepEqual(fin.rows.map((r) => r.score), [88, 67, 41]);
  assert.deepEqual(fin.rows.map((r) => r.title), ["Platform Engineer", "Data Engineer", "Backend Developer (Python)"]);
  assert.equal(fin.rows[0].href, "https://example.com/jobs/platform");
  assert.match(fin.meta, /engine openai, model gpt-4o-mini/);
  assert.match(fin.meta, /\d+(\.\d)? m?s/);
  assert.match(fin.meta, /[1-9]\d* prompt \+ [1-9]\d* completion tokens/);
  assert.match(fin.status, /^Done: 3 of 3 jobs scored/);
  assert.deepEqual(fin.cards.map((c) => c.score), ["41", "88", "67"]);
  for (const c of fin.cards) {
    assert.equal(c.pre, false, "the streamed text was replaced by the result");
    assert.ok(c.summary && c.summary.length > 10);
    assert.ok(c.matched.length > 0 && c.missing.length > 0);
  }
  assert.equal(fin.match, false);
  assert.equal(fin.cancel, true);
  // The model was called once per job, with the streamed pacing.
  const log = await upstreamLog();
  assert.equal(log.length, 3);
  await page.screenshot({ path: path.join(ARTIFACTS, "browser-complete.png"), fullPage: true, animations: "disabled" });
  await page.context().close();
});

test("an unreadable PDF shows the responder's 422 message", async () => {
  const page = await newPage();
  await fetch(`http://127.0.0.1:${stack.fakePort}/_reset`, { method: "POST" });
  await page.setInputFiles("#resume-file", NOTPDF);
  await page.click("#match");
  await page.waitForSelector("#alert:not([hidden])", { timeout: 15000 });
  const s = await snapshot(page);
  assert.match(s.alert, /The uploaded file is not a PDF\./);
  assert.match(s.alert, /HTTP 422/);
  assert.match(s.alert, /unreadable_pdf/);
  assert.equal(s.status, "Failed.");
  assert.deepEqual(s.cards, [], "no job cards are left waiting");
  assert.equal(s.max, 0);
  assert.equal(s.matchDisabled, false);
  assert.equal(s.cancelDisabled, true);
  assert.equal((await upstreamLog()).length, 0, "bad input never reaches the model");
  await page.screenshot({ path: path.join(ARTIFACTS, "browser-422.png"), animations: "disabled" });
  await page.context().close();
});

test("an error event (every job failed) is shown with the per-job errors", async () => {
  const page = await newPage();
  await page.setInputFiles("#resume-file", PDF);
  await setJobs(page, [
    { jobtitle: "Job A", jobdata: "Python <<fake:status=401>>" },
    { jobtitle: "Job B", jobdata: "Go <<fake:status=401>>" },
  ]);
  await page.click("#match");
  await page.waitForSelector("#alert:not([hidden])", { timeout: 20000 });
  const s = await snapshot(page);
  assert.match(s.alert, /upstream_failed/);
  assert.match(s.alert, /no job could be scored/);
  assert.deepEqual(s.cards.map((c) => c.state), ["failed", "failed"]);
  const errs = await page.$$eval("#cards .card-error", (es) => es.map((e) => e.textContent));
  assert.equal(errs.length, 2);
  for (const e of errs) assert.match(e, /upstream_auth/);
  assert.equal(s.now, 2);
  assert.ok(s.ranking, "the error's response is summarised");
  assert.match(await page.textContent("#ranking-list"), /Job A: not scored/);
  await page.context().close();
});

test("Cancel aborts the stream, and the abort reaches the model call", async () => {
  const page = await newPage();
  await fetch(`http://127.0.0.1:${stack.fakePort}/_reset`, { method: "POST" });
  await page.setInputFiles("#resume-file", PDF);
  await setJobs(page, [{ jobtitle: "Slow job", jobdata: "Rust <<fake:delay=200;tokens=60>>" }]);
  await page.click("#match");
  await waitFor("the first tokens", async () => {
    const s = await snapshot(page);
    return s.cards[0] && s.cards[0].len > 0;
  });
  const tClick = Date.now() / 1000;
  await page.click("#cancel");
  await waitFor("the cancelled state", async () => (await snapshot(page)).status === "Cancelled.", 5000);
  const s = await snapshot(page);
  assert.equal(s.alert, null, "a cancel is not an error");
  assert.equal(s.cards[0].state, "cancelled");
  assert.equal(s.matchDisabled, false);
  assert.equal(s.cancelDisabled, true);
  assert.ok(!s.ranking);
  // Browser -> nginx -> responder -> upstream: the model call is aborted.
  const entry = await waitFor("the upstream call closed", async () => {
    const log = await upstreamLog();
    return log.length === 1 && log[0].client_closed ? log[0] : null;
  }, 10000, 100);
  assert.ok(entry.client_closed_at - tClick < 5, `upstream closed ${(entry.client_closed_at - tClick).toFixed(2)} s after Cancel`);
  assert.ok(entry.tokens_sent < 60, "the model call did not run to its end");
  await page.context().close();
});

/** The frames of an event stream's text: [{id, type, data}]. */
function sseFrames(text) {
  const out = [];
  for (const block of text.split("\n\n")) {
    const f = { id: null, type: "message", data: null };
    let any = false;
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      any = true;
      const i = line.indexOf(": ");
      const k = i < 0 ? line : line.slice(0, i);
      const v = i < 0 ? "" : line.slice(i + 2);
      if (k === "id") f.id = v;
      else if (k === "event") f.type = v;
      else if (k === "data") f.data = v;
    }
    if (any) out.push(f);
  }
  return out;
}

test("a browser EventSource replays a run from /api/runs/{id}/events; its reconnect after done gets 204 and it stops", async () => {
  // A run, streamed to its end from node.
  const fd = new FormData();
  fd.append("json_body", JSON.stringify({ user_id: "es", jobs: [{ jobtitle: "EventSource",
    joblink: "https://example.com/es", jobdata: "Python developer. <<fake:tokens=12>>" }] }));
  fd.append("resume_text", "Python developer with SQL and Docker.");
  const r = await fetch(stack.base + "/api/match-jobs/stream", { method: "POST", body: fd });
  assert.equal(r.status, 200);
  const runId = r.headers.get("x-match-run");
  assert.match(runId || "", /^[A-Za-z0-9_-]{32}$/, "X-Match-Run carries the run id");
  const sent = sseFrames(await r.text());
  assert.ok(sent.length > 5 && sent.at(-1).type === "done", "the stream ran to done");

  // The same run read by the browser's own EventSource.
  const page = await newPage();
  const statuses = [];
  page.on("response", (resp) => {
    if (resp.url().includes(`/api/runs/${runId}/events`)) statuses.push(resp.status());
  });
  const got = await page.evaluate((url) => new Promise((resolve) => {
    const res = { frames: [], opens: 0, errors: [], state: null };
    const es = new EventSource(url);
    const types = ["status", "job_start", "token", "job_complete", "complete", "error", "done"];
    for (const type of types) {
      es.addEventListener(type, (e) => {
        // A failed connection fires a plain Event named error too.
        if (e instanceof MessageEvent) res.frames.push({ id: e.lastEventId, type: e.type, data: e.data });
      });
    }
    es.onopen = () => { res.opens++; };
    es.onerror = () => {
      res.errors.push(es.readyState);
      if (es.readyState === EventSource.CLOSED) {
        res.state = es.readyState;
        resolve(res);
      }
    };
    setTimeout(() => { res.state = es.readyState; resolve(res); }, 20000);
  }), `/api/runs/${runId}/events`);
  assert.deepEqual(got.frames, sent, "EventSource got every frame with its id, event and data, as first sent");
  // done, then the server closes: EventSource reconnects (CONNECTING) with
  // Last-Event-ID = done's id; 204 fails the connection for good (CLOSED).
  assert.deepEqual(got.errors, [0, 2], "one reconnect, then closed");
  assert.equal(got.state, 2, "the EventSource is CLOSED");
  assert.equal(got.opens, 1, "opened once");
  await waitFor("both responses seen", () => statuses.length >= 2, 5000);
  assert.deepEqual(statuses, [200, 204], "the reconnect after done got 204");
  await page.context().close();
});

test("a network failure is shown, not swallowed", async () => {
  const page = await newPage();
  await page.route("**/api/match-jobs/stream", (route) => route.abort("connectionrefused"));
  await page.fill("#resume-text", "Python developer, SQL, Docker.");
  await page.click("#match");
  await page.waitForSelector("#alert:not([hidden])", { timeout: 10000 });
  const s = await snapshot(page);
  assert.match(s.alert, /Network error/);
  assert.match(s.alert, /network_error/);
  assert.equal(s.matchDisabled, false);
  await page.context().close();
});

test("invalid jobs JSON and a missing resume are reported before any request", async () => {
  const page = await newPage();
  let requests = 0;
  page.on("request", (r) => { if (r.url().includes("/api/")) requests++; });
  await page.click("#match");
  await page.waitForSelector("#alert:not([hidden])");
  assert.match((await snapshot(page)).alert, /No resume/);
  await page.fill("#resume-text", "Python");
  await page.fill("#jobs-json", "[{\"jobtitle\": ");
  await page.click("#match");
  await waitFor("the JSON error", async () => /not valid JSON/.test((await snapshot(page)).alert || ""));
  assert.equal(requests, 0);
  await page.context().close();
});

test("phone width (375 px): no horizontal scrolling; pasted resume text works end to end", async () => {
  const page = await newPage(375, 812);
  await page.fill("#resume-text", "Backend developer: Python, SQL, Docker, Kubernetes, PostgreSQL, Git, Linux.");
  await setJobs(page, [
    { jobtitle: "A rather long job title that has to wrap on a narrow phone screen", joblink: "https://example.com/a-very-long-link/that/should/not/overflow",
      jobdata: "Python and SQL <<fake:delay=20;tokens=15;score=73>>" },
    { jobtitle: "Ops", jobdata: "Docker <<fake:delay=20;tokens=15;score=12>>" },
  ]);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok((await overflow()) <= 0, "no horizontal overflow before");
  await page.click("#match");
  await page.waitForSelector("#ranking:not([hidden])", { timeout: 20000 });
  await waitFor("the status line scrolled into view", () => page.evaluate(() => {
    const r = document.getElementById("status").getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  }), 5000);
  assert.ok((await overflow()) <= 0, "no horizontal overflow with results: " + (await overflow()));
  const scores = await page.$$eval("#ranking-list > li", (ls) => ls.map((l) => Number(l.dataset.score)));
  assert.deepEqual(scores, [73, 12]);
  const btn = await page.$eval("#match", (b) => b.getBoundingClientRect().height);
  assert.ok(btn >= 44, "touch-sized buttons");
  await page.screenshot({ path: path.join(ARTIFACTS, "browser-phone.png"), fullPage: true, animations: "disabled" });
  await page.context().close();
});

test("no uncaught errors in the page", () => {
  assert.deepEqual(pageErrors, []);
});
