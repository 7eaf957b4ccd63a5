// The matchjobs web page: upload a resume, paste jobs, watch them scored.
// No framework, no build step; the streaming is done by matchjobs-client.js.
import { matchJobs } from "./matchjobs-client.js";

const EXAMPLE_JOBS = [
  {
    jobtitle: "Backend Developer (Python)",
    joblink: "https://example.com/jobs/backend-python",
    jobdata: "We build data-heavy web services. You will design REST APIs in Python, " +
      "model data in PostgreSQL, ship with Docker and Kubernetes on AWS, and review code in Git. " +
      "Nice to have: Kafka, Terraform.",
    jobid: "job-1",
  },
  {
    jobtitle: "Frontend Engineer (React)",
    joblink: "https://example.com/jobs/frontend-react",
    jobdata: "Own our customer dashboard: React and TypeScript, GraphQL clients, accessibility " +
      "and performance work, component tests. Some Node.js on the backend-for-frontend.",
    jobid: "job-2",
  },
  {
    jobtitle: "Site Reliability Engineer",
    joblink: "https://example.com/jobs/sre",
    jobdata: "Keep a fleet of Linux services healthy: Kubernetes, Terraform, Prometheus, " +
      "on-call rotations, incident reviews, and automation in Go or Python.",
    jobid: "job-3",
  },
];

const $ = (id) => document.getElementById(id);
const form = $("match-form");
const resumeFile = $("resume-file");
const resumeText = $("resume-text");
const jobsJson = $("jobs-json");
const jobsFile = $("jobs-file");
const userId = $("user-id");
const matchBtn = $("match");
const cancelBtn = $("cancel");
const alertBox = $("alert");
const statusLine = $("status");
const progress = $("progress");
const progressFill = progress.querySelector(".progress-fill");
const progressLabel = $("progress-label");
const cardsList = $("cards");
const ranking = $("ranking");
const rankingMeta = $("ranking-meta");
const rankingList = $("ranking-list");
const outputPanel = document.querySelector(".output-panel");

jobsJson.value = JSON.stringify(EXAMPLE_JOBS, null, 2);

let controller = null;
let cards = [];          // by job index: {li, state, pre, body, title}
let completed = 0;
let total = 0;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function safeLink(href) {
  try {
    const u = new URL(href, location.href);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch (_) {
    return null;
  }
}

function showAlert(title, detail) {
  alertBox.replaceChildren(el("strong", { text: title }));
  if (detail) alertBox.append(detail);
  alertBox.hidden = false;
}
function clearAlert() {
  alertBox.hidden = true;
  alertBox.replaceChildren();
}

function errorDetail(err) {
  const parts = [];
  if (err.status) parts.push("HTTP " + err.status);
  if (err.code) parts.push(err.code);
  const span = el("span", {}, err.message || String(err));
  if (parts.length) span.append(" ", el("code", { text: "(" + parts.join(", ") + ")" }));
  return span;
}

function setStatus(text) {
  statusLine.textContent = text;
}

function setProgress(done, of) {
  completed = done;
  total = of;
  const pct = of > 0 ? Math.round((100 * done) / of) : 0;
  progress.setAttribute("aria-valuemax", String(of));
  progress.setAttribute("aria-valuenow", String(done));
  progress.setAttribute("aria-valuetext", `${done} of ${of} jobs scored`);
  progressFill.style.width = pct + "%";
  progressLabel.textContent = `${done} / ${of} jobs scored`;
}

function scoreBadge(score) {
  const cls = score >= 70 ? "score-high" : score >= 40 ? "score-mid" : "score-low";
  return el("span", { class: "score " + cls, "aria-label": `score ${score} of 100`, text: String(score) });
}

function chipList(label, items, cls) {
  const frag = document.createDocumentFragment();
  if (!Array.isArray(items) || items.length === 0) return frag;
  frag.append(el("p", { class: "chips-label", text: label }));
  const ul = el("ul", { class: "chips " + cls, "aria-label": label });
  for (const s of items) ul.append(el("li", { class: "chip", text: String(s) }));
  frag.append(ul);
  return frag;
}

function setCardState(card, state, label) {
  card.li.dataset.state = state;
  card.state.textContent = label;
}

function makeCard(job, index) {
  const href = job && typeof job.joblink === "string" ? safeLink(job.joblink) : null;
  const titleText = (job && job.jobtitle) || `Job ${index + 1}`;
  const title = el("h4", { class: "card-title" },
    href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: titleText }) : titleText);
  const state = el("span", { class: "card-state" });
  const head = el("div", { class: "card-head" }, title, state);
  const pre = el("pre", { class: "card-stream", "aria-label": `model output for ${titleText}` });
  const body = el("div", { class: "card-body" });
  const li = el("li", { class: "card", "data-index": String(index) }, head, pre, body);
  const card = { li, state, pre, body, head, titleText };
  setCardState(card, "queued", "queued");
  return card;
}

function cardFor(index, title) {
  if (!cards[index]) {
    cards[index] = makeCard({ jobtitle: title }, index);
    cardsList.append(cards[index].li);
  }
  return cards[index];
}

function showResult(card, result) {
  card.pre.remove();
  card.body.replaceChildren();
  if (result && result.error) {
    setCardState(card, "failed", "failed");
    card.body.append(el("p", { class: "card-error" },
      result.error.message || "failed", " ",
      el("code", { text: "(" + (result.error.code || "error") + ")" })));
    return;
  }
  setCardState(card, "done", "scored");
  card.head.prepend(scoreBadge(result.score));
  card.body.append(
    el("p", { class: "card-summary", text: result.summary || "" }),
    chipList("Matched skills", result.matched_skills, "matched"),
    chipList("Missing skills", result.missing_skills, "missing"));
}

function fmtMs(ms) {
  return ms >= 1000 ? (ms / 1000).toFixed(1) + " s" : ms + " ms";
}

function showRanking(response) {
  const usage = response.usage || {};
  rankingMeta.textContent =
    `${response.scored_jobs} of ${response.total_jobs} jobs scored` +
    (response.failed_jobs ? `, ${response.failed_jobs} failed` : "") +
    ` · engine ${response.engine}, model ${response.model}` +
    ` · ${fmtMs(response.elapsed_ms || 0)}` +
    ` · ${usage.prompt_tokens ?? 0} prompt + ${usage.completion_tokens ?? 0} completion tokens`;
  rankingList.replaceChildren();
  const sorted = [...(response.matched_jobs || [])].sort((a, b) => b.score - a.score);
  for (const r of sorted) {
    const href = safeLink(r.joblink || "");
    rankingList.append(el("li", { "data-index": String(r.index), "data-score": String(r.score) },
      el("span", { class: "rank-row" }, scoreBadge(r.score),
        href ? el("a", { class: "rank-title", href, target: "_blank", rel: "noopener noreferrer", text: r.jobtitle })
          : el("span", { class: "rank-title", text: r.jobtitle }))));
  }
  for (const e of response.errors || []) {
    rankingList.append(el("li", { class: "rank-failed", "data-index": String(e.index) },
      `${e.jobtitle}: not scored — ${e.error && e.error.message} `,
      el("code", { text: "(" + (e.error && e.error.code) + ")" })));
  }
  ranking.hidden = false;
}

function running(on) {
  matchBtn.disabled = on;
  cancelBtn.disabled = !on;
  form.setAttribute("aria-busy", on ? "true" : "false");
}

function readJobs() {
  let jobs;
  try {
    jobs = JSON.parse(jobsJson.value);
  } catch (e) {
    throw new Error("The jobs are not valid JSON: " + e.message);
  }
  if (!Array.isArray(jobs)) jobs = [jobs];
  if (jobs.length === 0) throw new Error("Give at least one job.");
  jobs.forEach((j, i) => {
    if (!j || typeof j !== "object" || typeof j.jobtitle !== "string" || typeof j.jobdata !== "string") {
      throw new Error(`Job ${i + 1} needs the strings "jobtitle" and "jobdata".`);
    }
  });
  return jobs;
}

async function start() {
  clearAlert();
  let jobs;
  try {
    jobs = readJobs();
  } catch (e) {
    showAlert("Check the jobs", e.message);
    jobsJson.focus();
    return;
  }
  const pdf = resumeFile.files && resumeFile.files[0];
  if (!pdf && resumeText.value.trim() === "") {
    showAlert("No resume", "Choose a resume PDF or paste the resume text.");
    resumeFile.focus();
    return;
  }

  cards = jobs.map((j, i) => makeCard(j, i));
  cardsList.replaceChildren(...cards.map((c) => c.li));
  ranking.hidden = true;
  rankingList.replaceChildren();
  setProgress(0, jobs.length);
  setStatus("Sending the request…");
  running(true);
  // On a phone the form fills the screen: bring the progress into view.
  const r = outputPanel.getBoundingClientRect();
  if (r.top >= window.innerHeight || r.bottom <= 0) {
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    outputPanel.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
  }
  controller = new AbortController();
  let streamStarted = false;

  try {
    await matchJobs({
      pdf,
      resumeText: resumeText.value,
      jobs,
      userId: userId.value.trim() || "web-demo",
      signal: controller.signal,
      on: {
        status: (d) => {
          streamStarted = true;
          setStatus(d.message);
          // A job that starts over: its tokens so far are dropped (SPEC).
          if (d.stage === "restart" && d.index !== undefined) cardFor(d.index).pre.textContent = "";
        },
        job_start: (d) => {
          streamStarted = true;
          if (d.total !== total) setProgress(completed, d.total);
          setCardState(cardFor(d.index, d.jobtitle), "scoring", "scoring…");
        },
        token: (d) => {
          const pre = cardFor(d.index).pre;
          const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
          pre.append(d.content);
          if (atBottom) pre.scrollTop = pre.scrollHeight;
        },
        job_complete: (d) => {
          showResult(cardFor(d.index, d.result && d.result.jobtitle), d.result);
          setProgress(completed + 1, total);
        },
        complete: (d) => {
          showRanking(d.response);
          setStatus(`Done: ${d.response.scored_jobs} of ${d.response.total_jobs} jobs scored in ${fmtMs(d.response.elapsed_ms || 0)}.`);
        },
        error: (d) => {
          if (d.response) showRanking(d.response);
        },
      },
    });
  } catch (err) {
    if (err.name === "AbortError") {
      setStatus("Cancelled.");
      for (const c of cards) {
        if (c && (c.li.dataset.state === "queued" || c.li.dataset.state === "scoring")) {
          setCardState(c, "cancelled", "cancelled");
        }
      }
    } else {
      setStatus("Failed.");
      if (!streamStarted) {
        // Refused before the stream began: no job was started.
        cards = [];
        cardsList.replaceChildren();
        setProgress(0, 0);
      } else {
        for (const c of cards) {
          if (c && (c.li.dataset.state === "queued" || c.li.dataset.state === "scoring")) {
            setCardState(c, "cancelled", "interrupted");
          }
        }
      }
      const title = err.code === "network_error" ? "Network error"
        : err.status && err.status !== 200 ? "The server refused the request"
          : "The request failed";
      showAlert(title, errorDetail(err));
    }
  } finally {
    controller = null;
    running(false);
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!controller) start();
});

cancelBtn.addEventListener("click", () => {
  if (controller) controller.abort();
});

jobsFile.addEventListener("change", async () => {
  const f = jobsFile.files && jobsFile.files[0];
  if (!f) return;
  try {
    const text = await f.text();
    JSON.parse(text);
    jobsJson.value = text;
    clearAlert();
  } catch (e) {
    showAlert("Could not load " + f.name, "It is not valid JSON: " + e.message);
  }
});
