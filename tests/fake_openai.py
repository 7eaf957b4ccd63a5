#!/usr/bin/env python3
"""A fake OpenAI-compatible chat-completions server for tests.

Run it standalone:

    python3 tests/fake_openai.py --port 0 --portfile /tmp/fake.port

(port 0 picks a free port; the real port is written to the portfile,
atomically, once the server listens), or in-process:

    from fake_openai import FakeOpenAI
    with FakeOpenAI() as fake:              # or fake.start() ... fake.stop()
        os.environ["OPENAI_BASE_URL"] = fake.base_url  # .../v1
        ...
        entries = fake.log()                # same list as GET /_log

It speaks HTTP/1.1 with keep-alive (libcurl may reuse connections); streamed
answers use Transfer-Encoding: chunked, one HTTP chunk per SSE event, flushed.
Standard library only.

Routes
------
POST .../chat/completions   (any prefix: /v1/chat/completions,
                            /x/chat/completions, ...)
    Needs "Authorization: Bearer <key>" (401 without).  If the environment
    variable FAKE_EXPECT_KEY (or the expect_key argument) is set, a different
    key gets 401 with OpenAI's invalid_api_key body.  The key is never logged,
    printed or echoed.
    With "stream": true the answer is a chat.completion.chunk SSE stream:
    a role chunk, content chunks, a chunk with finish_reason "stop", the usage
    chunk ("choices": [], only with stream_options.include_usage) and
    "data: [DONE]".  Without "stream": true a plain chat.completion object.
GET /v1/models              a one-model list.
GET /_log                   {"requests": [entry, ...]}, one entry per
                            completions request: id, path, auth_ok, model,
                            stream, directives, user_content,
                            user_content_len, system_content (the first
                            system message), params (request JSON without
                            messages), status, started, first_token_at,
                            finished, client_closed, client_closed_at,
                            tokens_sent.  Times are time.time() seconds.
POST /_reset                clears the log and the fail_times counters.

The answer
----------
The model's content is one JSON object, deterministic in the request:

    {"score": S, "summary": "...", "matched_skills": [...],
     "missing_skills": [...]}

S is sha256(last user message) mod 101 unless given by score=N; the
responder's per-call nonces (<job-HEX>, </resume-HEX>) are left out of the
hash, so the same request always gets the same answer.  The
summary holds an "é", a '"', a "/" and a newline (escaped in the JSON), and
the object itself is pretty-printed, so raw newlines appear in the content
too.  The content is cut into tokens of 3-8 characters (seeded by the
request, so always the same split), or into tokens=N pieces.

Directives
----------
Misbehaviour is chosen by directives anywhere in the LAST user message's
content, written as

    <<fake:key=value;key=value>>

(the responder copies job text verbatim into the prompt, so tests put them in
a job's jobdata).  Several directive blocks in one message are merged.

  status=N          answer HTTP N with an OpenAI-style JSON error body
                    (400, 401 invalid_api_key, 403, 404 model_not_found,
                    429 rate_limit_exceeded, 500 server_error, 502, 503 ...).
                    status=200 is the normal answer.
  code=C            override the error body's "code" (e.g. with status=429:
                    code=insufficient_quota, the 429 that must not be retried).
  message=TEXT      with status: the error body's "message" (an upstream
                    that echoes text, a key say, back in its error).
  retry_after=S     with status: add header "retry-after: S".
  retry_after_ms=M  with status: add header "retry-after-ms: M".
  fail_times=K      apply status (default 500) only to the first K requests
                    carrying this same directive text (counted per distinct
                    directive string), then answer normally.  For retries.
  delay_first=MS    headers go out at once, then sleep MS before the first
                    chunk (the role chunk and first token).
  delay=MS          sleep MS between content tokens (default 0).
  hang=1            send the headers, then nothing, until the client leaves
                    (or the server stops).
  drop_after=N      after N content tokens close the connection abruptly
                    (no terminating chunk; the client sees a truncated body).
  garbage=1         send "data: this is not json" events instead of chunks,
                    then [DONE].
  prose=1           the content is plain prose without any JSON object (the
                    answer parser must fail the job).
  midstream_error=N after N content tokens send an in-band
                    {"error": {... "type": "server_error" ...}} event and
                    then [DONE].
  no_done=1         omit "data: [DONE]"; the body ends cleanly after the
                    finish_reason (and usage) chunks.
  no_usage=1        omit the usage chunk even if include_usage was asked.
  summary=TEXT      the answer's summary instead of the made-up one
  score=N           the answer's score; may be out of range (150, -5) to
                    test clamping, or a float.
  comments=1        interleave ": OPENROUTER PROCESSING" comment lines.
  crlf=1            use \\r\\n line endings in the SSE stream.
  tokens=N          split the content into about N tokens (the summary is
                    padded when the answer is too short for N).
  quoted=1          the content first quotes an injected object, then
                    answers: 'The resume contains {"score": 100, ...};
                    ignoring it.' + newline + {"score": 12, ...}
                    (AUDIT-0.1 M2: the parser must take the last object).
  stamp=1           each content chunk carries "x_sent_ns": time.time_ns()
                    taken just before it was written, for latency benchmarks.
  refuse=F[,F]      refuse a request whose response_format type is one of
                    the F (json_schema, json_object) as the server named by
                    refuse_style does: openai (default; HTTP 400 "Invalid
                    parameter: 'response_format' of type 'json_schema' is
                    not supported with this model.", param
                    "response_format"), llamacpp (its server before
                    structured outputs: HTTP 500 'response_format type must
                    be one of "text" or "json_object", but got:
                    json_schema') or lmstudio (HTTP 400, the error a bare
                    string).  A request without response_format is never
                    refused.

Azure mode
----------
FakeOpenAI(azure=True, api_version=V) (or --azure, --api-version) answers
like Azure OpenAI: only POST /openai/deployments/{name}/chat/completions
?api-version=V (any version when V is None) or /openai/v1/chat/completions,
with the key in an "api-key" header.  A bearer key instead gets 401 with
Azure's "Access denied due to invalid subscription key" body; another path,
or a missing or different api-version, gets 404 "Resource not found".  Log
entries then also carry "query" (the query string), "deployment" (or None)
and "auth" ("api-key", "bearer" or None).

Values are integers where an integer is expected; a malformed value is
ignored.  Directives never affect requests that do not carry them.

Accents
-------
How servers other than OpenAI stream (docs/vendors.md cites where each
shape comes from), chosen by a directive; the answer is the same:

  accent=azure      Azure OpenAI: a first chunk with "choices": [] and
                    "prompt_filter_results"; "content_filter_results" in
                    every choice; content-filter chunks without "delta"
                    (with "content_filter_offsets") mid-stream and after
                    the finish chunk, whose delta is {}.
  accent=openrouter ": OPENROUTER PROCESSING" comments before and between
                    chunks, "provider" and "native_finish_reason" fields,
                    the usage on a last chunk without choices.
  accent=groq       "x_groq": {"id"} on the first chunk, the usage only in
                    "x_groq"."usage" of the finish chunk.
  accent=vllm       no "usage" key in the chunks, "stop_reason" in the
                    finish chunk, the usage chunk with "choices": [] (with
                    include_usage).
  accent=ollama     "delta.reasoning" chunks (content "") before the answer,
                    "role" in every delta, fp_ollama.
  accent=deepseek   ": keep-alive" comments, "delta.reasoning_content"
                    chunks (content null) before the answer, the usage on
                    the finish chunk (with reasoning_tokens).
  accent=llamacpp   "timings" on every chunk, the usage on the finish chunk
                    (no_usage=1: none, as older builds), and with
                    include_usage a last chunk with "choices": [].
  reasoning=TEXT    the reasoning text of ollama/deepseek (default: a fixed
                    sentence holding "REASONING-TEXT").
  error_after=N     with accent=openrouter: after N content tokens an error
                    chunk {"error": {"code", "message"}, "choices": [{...
                    "finish_reason": "error"}]}, then the stream ends;
                    with accent=vllm: vLLM's {"object": "error", ...}.
  error_code=C      its code (default "server_error"; digits: a number).
  stream_error=C    a 200 whose only event is {"error": ...}: C digits
                    (401, 429) give OpenRouter's {"code": C, "message"}, C
                    invalid_api_key OpenAI's, anything else {"code": C}.
  split_surrogate=1 the summary starts with U+1F600, sent \\u-escaped and
                    cut between its two UTF-16 halves across two chunks.
With an accent, each request's log entry also has content_sent (the
answer text), reasoning_sent and usage_sent (the usage object it sent:
prompt_tokens, completion_tokens, total_tokens; absent if none).
"""

import argparse
import hashlib
import http.server
import json
import os
import random
import re
import select
import signal
import socket
import sys
import threading
import time

DIRECTIVE_RE = re.compile(r"<<fake:([^>]*)>>")
# The responder's delimiters carry a random nonce per call.
NONCE_RE = re.compile(r"<(/?)(job|resume)-[0-9a-f]{16,64}>")

# Directives whose value must be an integer.
# refuse_style: (HTTP status, error body) of a refused response_format.
REFUSALS = {
    "openai": lambda f: (400, {"error": {
        "message": "Invalid parameter: 'response_format' of type '%s' is "
                   "not supported with this model. Learn more about "
                   "supported models at the Structured Outputs guide: "
                   "https://platform.openai.com/docs/guides/"
                   "structured-outputs" % f,
        "type": "invalid_request_error", "param": "response_format",
        "code": None}}),
    "llamacpp": lambda f: (500, {"error": {
        "code": 500,
        "message": 'response_format type must be one of "text" or '
                   '"json_object", but got: %s' % f,
        "type": "server_error"}}),
    "lmstudio": lambda f: (400, {
        "error": "'response_format.type' must be 'json_schema' or 'text'"}),
}

INT_KEYS = {
    "status", "fail_times", "delay_first", "delay", "hang", "drop_after",
    "garbage", "prose", "midstream_error", "no_done", "no_usage",
    "comments", "crlf", "tokens", "stamp", "retry_after_ms", "quoted",
    "error_after", "split_surrogate",
}

POLL_INTERVAL = 0.05          # seconds between client-gone checks
MAX_BODY = 64 * 1024 * 1024   # refuse request bodies over this

SKILLS = [
    "Python", "SQL", "Docker", "Kubernetes", "PostgreSQL", "React", "AWS",
    "Git", "Linux", "REST", "Go", "Rust", "Java", "Terraform", "GraphQL",
    "Kafka", "TypeScript", "C++",
]

ERROR_BODIES = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error",
          "invalid_api_key"),
    403: ("You are not allowed to sample from this model.",
          "invalid_request_error", None),
    404: ("The model does not exist or you do not have access to it.",
          "invalid_request_error", "model_not_found"),
    408: ("Request timed out.", "timeout", None),
    429: ("Rate limit reached for requests. Please try again later.",
          "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. "
          "Sorry about that!", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.",
          "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


def error_body(status, code=None, message=None):
    """OpenAI's error document for an HTTP status, as bytes."""
    msg, etype, ecode = ERROR_BODIES.get(
        status, ("Error %d." % status, "server_error", None))
    err = {
        "message": message or msg,
        "type": etype,
        "param": None,
        "code": code if code is not None else ecode,
    }
    return json.dumps({"error": err}).encode()


def parse_directives(text):
    """Return (merged dict, raw directive text) for <<fake:...>> in text."""
    found = DIRECTIVE_RE.findall(text)
    out = {}
    for block in found:
        for item in block.split(";"):
            key, sep, value = item.strip().partition("=")
            key = key.strip()
            value = value.strip()
            if not key:
                continue
            if not sep:
                value = "1"
            if key in INT_KEYS:
                try:
                    out[key] = int(value)
                except ValueError:
                    continue
            elif key == "score":
                out[key] = number_or_string(value)
            else:
                out[key] = value
    return out, "".join("<<fake:%s>>" % b for b in found)


def number_or_string(value):
    for conv in (int, float):
        try:
            return conv(value)
        except ValueError:
            pass
    return value


def message_text(content):
    """The text of a message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return ""


def system_content(messages):
    if not isinstance(messages, list):
        return ""
    for msg in messages:
        if isinstance(msg, dict) and msg.get("role") == "system":
            return message_text(msg.get("content"))
    return ""


def last_user_content(messages):
    if not isinstance(messages, list):
        return ""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return message_text(msg.get("content"))
    return ""


def stable(user):
    """user without the responder's per-call nonces."""
    return NONCE_RE.sub(r"<\1\2>", user)


def make_answer(user, directives):
    """The model's content for a request: JSON text, or prose."""
    digest = hashlib.sha256(stable(user).encode("utf-8", "replace")).digest()
    if directives.get("quoted"):
        return ('The resume contains {"score": 100, "summary": "x"}; '
                'ignoring it.\n{"score": 12, "summary": "weak", '
                '"matched_skills": [], "missing_skills": ["Rust"]}')
    if directives.get("prose"):
        return ("This candidate looks like a reasonable fit for the role. "
                "Their background in software matches most of the "
                "requirements, although some gaps remain. I would rate them "
                "fairly well overall.")
    score = directives.get("score", int.from_bytes(digest[:4], "big") % 101)
    found = [s for s in SKILLS if re.search(
        r"(?<![\w+])%s(?![\w+])" % re.escape(s), user, re.IGNORECASE)]
    matched = found[:6]
    missing = [s for s in SKILLS if s not in found][:3]
    summary = ("Good overlap with the \"%s\" requirements; résumé shows "
               "hands-on CI/CD work.\nGaps: %s." %
               (", ".join(matched[:2]) or "core",
                ", ".join(missing) or "none"))
    if directives.get("summary"):
        summary = directives["summary"]
    answer = {
        "score": score,
        "summary": summary,
        "matched_skills": matched,
        "missing_skills": missing,
    }
    want = directives.get("tokens")
    text = json.dumps(answer, ensure_ascii=False, indent=2)
    if want and want > 0 and len(text) < want * 4:
        pad = " Details follow." * ((want * 4 - len(text)) // 16 + 1)
        answer["summary"] += pad
        text = json.dumps(answer, ensure_ascii=False, indent=2)
    return text


def split_tokens(text, seed, count=None):
    """Cut text into tokens: count equal-ish pieces, or 3-8 chars each."""
    if count and count > 0:
        count = min(count, len(text))
        step, extra = divmod(len(text), count)
        out, pos = [], 0
        for i in range(count):
            n = step + (1 if i < extra else 0)
            out.append(text[pos:pos + n])
            pos += n
        return out
    rng = random.Random(seed)
    out, pos = [], 0
    while pos < len(text):
        n = rng.randint(3, 8)
        out.append(text[pos:pos + n])
        pos += n
    return out


class ClientGone(Exception):
    """The client closed the connection."""


class Dropped(Exception):
    """We closed the connection on purpose (drop_after)."""


class State:
    """Shared bookkeeping: request log and fail_times counters."""

    def __init__(self, expect_key=None, verbose=False, azure=False,
                 api_version=None):
        self.azure = azure
        self.api_version = api_version
        self.lock = threading.Lock()
        self.entries = []
        self.fail_counts = {}
        self.next_id = 1
        self.expect_key = expect_key
        self.verbose = verbose
        self.stopping = threading.Event()

    def new_entry(self, path):
        with self.lock:
            entry = {
                "id": self.next_id, "path": path, "auth_ok": False,
                "model": None, "stream": False, "directives": {},
                "user_content": "", "user_content_len": 0,
                "system_content": "", "params": {},
                "status": None, "started": time.time(),
                "first_token_at": None, "finished": None,
                "client_closed": False, "client_closed_at": None,
                "tokens_sent": 0,
            }
            self.next_id += 1
            self.entries.append(entry)
            return entry

    def update(self, entry, **kw):
        with self.lock:
            entry.update(kw)

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.entries))

    def reset(self):
        with self.lock:
            self.entries.clear()
            self.fail_counts.clear()

    def should_fail(self, raw, limit):
        """Count a request carrying directive text raw; fail the first K."""
        with self.lock:
            n = self.fail_counts.get(raw, 0)
            self.fail_counts[raw] = n + 1
            return n < limit

    def wanted_key(self):
        if self.expect_key is not None:
            return self.expect_key
        return os.environ.get("FAKE_EXPECT_KEY")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "fake-openai/1.0"

    # ---- plumbing -------------------------------------------------------

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):
        # Only the request line and status; headers (the key) never.
        if self.state.verbose:
            sys.stderr.write("fake_openai: %s\n" % (fmt % args))

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout, OSError):
            self.close_connection = True

    def read_body(self):
        """The request body (Content-Length or chunked), or None if bad."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    return None
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n",
                                                            b""):
                        pass
                    return bytes(data)
                if len(data) + size > MAX_BODY:
                    return None
                data += self.rfile.read(size)
                self.rfile.readline(1024)
        try:
            length = int(self.headers.get("Content-Length", "0") or "0")
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def send_json(self, status, body, extra=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or []):
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def client_gone(self):
        """True if the client has closed its end (peeks, never blocks)."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def wait(self, seconds):
        """Sleep, checking for a departed client every POLL_INTERVAL."""
        deadline = time.monotonic() + seconds
        while True:
            if self.client_gone():
                raise ClientGone()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.state.stopping.wait(min(left, POLL_INTERVAL)):
                raise Dropped()     # the server is stopping

    def write_chunk(self, data):
        """One HTTP chunk, flushed."""
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise ClientGone()

    # ---- routes ---------------------------------------------------------

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_log":
            self.send_json(200, {"requests": self.state.snapshot()})
        elif path.endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{
                "id": "fake-model", "object": "model", "created": 0,
                "owned_by": "fake"}]})
        else:
            self.not_found()

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        try:
            if path == "/_reset":
                self.read_body()
                self.state.reset()
                self.send_json(200, {"ok": True})
            elif path.endswith("/chat/completions"):
                self.completions(path)
            else:
                self.read_body()
                self.not_found()
        except (ClientGone, Dropped, ConnectionError):
            self.close_connection = True

    def do_PUT(self):
        self.read_body()
        self.not_found()

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    def not_found(self):
        self.send_json(404, error_body(
            404, code="unknown_url",
            message="Unknown request URL: %s %s." %
            (self.command, self.path.split("?", 1)[0][:200])))

    # ---- chat completions ----------------------------------------------

    def completions(self, path):
        entry = self.state.new_entry(path)
        # Which TCP connection carried the call: equal ports = reuse.
        self.state.update(entry, peer_port=self.client_address[1])
        try:
            self.completions_inner(entry)
        except ClientGone:
            self.state.update(entry, client_closed=True,
                              client_closed_at=time.time())
            self.close_connection = True
        except Dropped:
            self.close_connection = True
        except Exception as exc:  # never crash on odd input
            sys.stderr.write("fake_openai: internal error: %r\n" % (exc,))
            self.close_connection = True
        finally:
            self.state.update(entry, finished=time.time())

    def completions_inner(self, entry):
        body = self.read_body()
        if body is None:
            self.close_connection = True
            self.fail(entry, 400, message="Could not read the request body.")
            return

        auth = self.headers.get("Authorization", "")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        wanted = self.state.wanted_key()
        if self.state.azure:
            key = self.azure_key(entry)
            if key is None:
                return
        if not key:
            self.fail(entry, 401, code=None, message=(
                "You didn't provide an API key. You need to provide your "
                "API key in an Authorization header using Bearer auth "
                "(i.e. Authorization: Bearer YOUR_KEY)."))
            return
        if wanted is not None and key != wanted:
            self.fail(entry, 401)
            return
        self.state.update(entry, auth_ok=True)

        try:
            req = json.loads(body.decode("utf-8"))
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except ValueError:
            self.fail(entry, 400, message=(
                "We could not parse the JSON body of your request."))
            return

        user = last_user_content(req.get("messages"))
        directives, raw = parse_directives(user)
        params = {k: v for k, v in req.items() if k != "messages"}
        model = req.get("model") if isinstance(req.get("model"), str) \
            else "fake-model"
        self.state.update(entry, model=model, directives=directives,
                          user_content=user, user_content_len=len(user),
                          system_content=system_content(req.get("messages")),
                          stream=req.get("stream") is True, params=params)

        if self.refused(entry, req, directives):
            return
        status = directives.get("status")
        if "fail_times" in directives:
            if not self.state.should_fail(raw, directives["fail_times"]):
                status = None
            elif status is None:
                status = 500
        if status is not None and status != 200:
            extra = []
            if "retry_after" in directives:
                extra.append(("retry-after", str(directives["retry_after"])))
            if "retry_after_ms" in directives:
                extra.append(("retry-after-ms",
                              str(directives["retry_after_ms"])))
            self.fail(entry, status, code=directives.get("code"),
                      message=directives.get("message"), extra=extra)
            return

        answer = make_answer(user, directives)
        seed = hashlib.sha256(stable(user).encode("utf-8",
                                                  "replace")).hexdigest()
        tokens = split_tokens(answer, seed, directives.get("tokens"))
        usage = {
            "prompt_tokens": max(1, len(json.dumps(req.get("messages"))) // 4),
            "completion_tokens": len(tokens),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + \
            usage["completion_tokens"]

        if req.get("stream") is True:
            opts = req.get("stream_options")
            want_usage = isinstance(opts, dict) and \
                opts.get("include_usage") is True
            self.stream(entry, model, tokens, usage, directives, want_usage)
        else:
            self.plain(entry, model, answer, usage, directives)

    def refused(self, entry, req, directives):
        """The refuse= directive: True once the refusal is sent."""
        rf = req.get("response_format")
        kind = rf.get("type") if isinstance(rf, dict) else None
        refuse = str(directives.get("refuse", "")).split(",")
        if kind is None or kind not in [f.strip() for f in refuse]:
            return False
        style = REFUSALS.get(directives.get("refuse_style", "openai"),
                             REFUSALS["openai"])
        status, body = style(kind)
        self.state.update(entry, status=status, refused=kind)
        self.send_json(status, body)
        return True

    def azure_key(self, entry):
        """Azure mode: the api-key, or None once a refusal is sent."""
        path, _, query = self.path.partition("?")
        m = re.fullmatch(r"/openai/deployments/([^/]+)/chat/completions",
                         path)
        version = None
        for item in query.split("&"):
            name, _, value = item.partition("=")
            if name == "api-version":
                version = value
        key = self.headers.get("api-key")
        auth = "api-key" if key is not None else (
            "bearer" if self.headers.get("Authorization") else None)
        self.state.update(entry, query=query, auth=auth,
                          deployment=m.group(1) if m else None)
        if auth != "api-key":
            self.fail(entry, 401, message=(
                "Access denied due to invalid subscription key or wrong "
                "API endpoint. Make sure to provide a valid key for an "
                "active subscription and use a correct regional API "
                "endpoint for your resource."), code="401")
            return None
        v1 = path == "/openai/v1/chat/completions"
        want = self.state.api_version
        if not (m or v1) or (m and (version is None or
                                    (want is not None and version != want))):
            self.fail(entry, 404, message="Resource not found", code="404")
            return None
        return key.strip()

    def fail(self, entry, status, code=None, message=None, extra=None):
        self.state.update(entry, status=status)
        self.send_json(status, error_body(status, code, message), extra)

    def plain(self, entry, model, answer, usage, d):
        self.state.update(entry, status=200)
        if d.get("hang"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.flush()
            while True:
                self.wait(3600)
        if d.get("delay_first"):
            self.wait(d["delay_first"] / 1000.0)
        self.send_json(200, {
            "id": "chatcmpl-fake%d" % entry["id"],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": answer,
                            "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            "usage": usage,
        })
        self.state.update(entry, tokens_sent=1)

    def stream(self, entry, model, tokens, usage, d, want_usage):
        if d.get("accent") or d.get("stream_error") or \
                d.get("split_surrogate"):
            accent_stream(self, entry, model, tokens, usage, d, want_usage)
            return
        nl = "\r\n" if d.get("crlf") else "\n"
        created = int(time.time())
        cid = "chatcmpl-fake%d" % entry["id"]

        def chunk(delta, finish=None, extra=None):
            obj = {
                "id": cid, "object": "chat.completion.chunk",
                "created": created, "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish}],
                "usage": None,
            }
            if extra:
                obj.update(extra)
            return obj

        def event(obj):
            text = obj if isinstance(obj, str) else \
                json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            self.write_chunk(("data: %s%s%s" % (text, nl, nl)).encode())

        def comment():
            if d.get("comments"):
                self.write_chunk((": OPENROUTER PROCESSING" + nl + nl)
                                 .encode())

        self.state.update(entry, status=200)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", "req_fake%d" % entry["id"])
        self.end_headers()
        try:
            self.wfile.flush()
        except OSError:
            raise ClientGone()

        if d.get("hang"):
            while True:
                self.wait(3600)
        if d.get("delay_first"):
            self.wait(d["delay_first"] / 1000.0)

        comment()
        if d.get("garbage"):
            for _ in range(3):
                event("this is not json")
            if not d.get("no_done"):
                event("[DONE]")
            self.write_chunk(b"")
            return

        event(chunk({"role": "assistant", "content": "", "refusal": None}))
        delay = d.get("delay", 0) / 1000.0
        for i, tok in enumerate(tokens):
            if i == d.get("drop_after"):
                self.drop()
            if i == d.get("midstream_error"):
                event({"error": {
                    "message": "The server had an error while processing "
                               "your request.",
                    "type": "server_error", "code": None}})
                event("[DONE]")
                self.write_chunk(b"")
                return
            if i and delay:
                self.wait(delay)
            if i and i % 2 == 0:
                comment()
            extra = {"x_sent_ns": time.time_ns()} if d.get("stamp") else None
            event(chunk({"content": tok}, extra=extra))
            with self.state.lock:
                entry["tokens_sent"] = i + 1
                if entry["first_token_at"] is None:
                    entry["first_token_at"] = time.time()
        if d.get("drop_after") == len(tokens):
            self.drop()
        if d.get("midstream_error") == len(tokens):
            event({"error": {
                "message": "The server had an error while processing your "
                           "request.",
                "type": "server_error", "code": None}})
            event("[DONE]")
            self.write_chunk(b"")
            return

        event(chunk({}, finish="stop"))
        if want_usage and not d.get("no_usage"):
            usage_chunk = chunk({})
            usage_chunk["choices"] = []
            usage_chunk["usage"] = usage
            event(usage_chunk)
        if not d.get("no_done"):
            event("[DONE]")
        self.write_chunk(b"")   # the terminating zero-length chunk

    def drop(self):
        """Close the connection abruptly, mid-body."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise Dropped()


# ---- accents: other servers' streams (docs/vendors.md) ------------------

DEFAULT_REASONING = ("The user wants a JSON score. REASONING-TEXT: weigh "
                     "the résumé against the job, then answer.")
FILTER_OK = {k: {"filtered": False, "severity": "safe"}
             for k in ("hate", "self_harm", "sexual", "violence")}


def surrogate_split(tokens):
    """(tokens, text) of an answer whose summary starts with U+1F600, cut
    between the character's UTF-16 halves: one token ends with the high
    surrogate, the next starts with the low one (lone surrogates here,
    \\u-escaped on the wire)."""
    text = "".join(tokens)
    mark = '"summary": "'
    pos = text.find(mark)
    pos = pos + len(mark) if pos >= 0 else 0
    head, tail = text[:pos], text[pos:]
    out = split_tokens(head, "a") if head else [""]
    out[-1] += "\ud83d"
    rest = split_tokens(tail, "b")
    out.append("\ude00" + (rest[0] if rest else ""))
    out.extend(rest[1:])
    return out, head + "\U0001F600" + tail


def accent_stream(h, entry, model, tokens, usage, d, want_usage):
    """Stream the answer the way d["accent"]'s server does."""
    accent = d.get("accent", "openai")
    created = int(time.time())
    cid = "chatcmpl-fake%d" % entry["id"]
    text = "".join(tokens)
    if d.get("split_surrogate"):
        tokens, text = surrogate_split(tokens)
    reasoning = d.get("reasoning", DEFAULT_REASONING) \
        if accent in ("ollama", "deepseek") else ""
    h.state.update(entry, status=200, content_sent=text,
                   reasoning_sent=reasoning)

    def event(obj):
        data = obj if isinstance(obj, str) else json.dumps(
            obj, ensure_ascii=bool(d.get("split_surrogate")),
            separators=(",", ":"))
        h.write_chunk(("data: %s\n\n" % data).encode())

    def comment(text):
        h.write_chunk((": %s\n\n" % text).encode())

    def usage_out(extra=None):
        """usage (with extra keys) as sent, noted in the log entry."""
        h.state.update(entry, usage_sent=usage)
        return dict(usage, **(extra or {}))

    def sent(i):
        with h.state.lock:
            entry["tokens_sent"] = i + 1
            if entry["first_token_at"] is None:
                entry["first_token_at"] = time.time()

    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream; charset=utf-8")
    h.send_header("Cache-Control", "no-cache")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    try:
        h.wfile.flush()
    except OSError:
        raise ClientGone()

    if d.get("stream_error"):
        code = d["stream_error"]
        if code == "invalid_api_key":
            err = {"message": "Incorrect API key provided: sk-abc***.",
                   "type": "invalid_request_error", "param": None,
                   "code": "invalid_api_key"}
        elif code.isdigit():
            err = {"code": int(code), "message": {
                "401": "User not found.",
                "402": "Insufficient credits.",
                "429": "Rate limit exceeded: free-models-per-min.",
            }.get(code, "Error %s." % code)}
        else:
            err = {"code": code, "message": "Stream failed."}
        event({"error": err})
        h.write_chunk(b"")
        return

    base = {"id": cid, "object": "chat.completion.chunk",
            "created": created, "model": model}
    if accent == "azure":
        event({"choices": [], "created": 0, "id": "", "model": "",
               "object": "", "prompt_filter_results": [
                   {"prompt_index": 0,
                    "content_filter_results": FILTER_OK}]})

        def chunk(delta, finish=None):
            return dict(base, system_fingerprint="fp_azure", choices=[{
                "content_filter_results": {} if finish or "role" in delta
                else FILTER_OK, "delta": delta, "finish_reason": finish,
                "index": 0, "logprobs": None}], usage=None)

        def annotation(offset):
            return {"id": "", "object": "", "created": 0, "model": "",
                    "choices": [{"index": 0, "finish_reason": None,
                                 "content_filter_results": FILTER_OK,
                                 "content_filter_offsets": {
                                     "check_offset": offset,
                                     "start_offset": offset,
                                     "end_offset": offset + 40}}],
                    "usage": None}
        event(chunk({"role": "assistant", "content": "", "refusal": None}))
        for i, tok in enumerate(tokens):
            event(chunk({"content": tok}))
            sent(i)
            if i == len(tokens) // 2:
                event(annotation(0))
        event(chunk({}, "stop"))
        event(annotation(len(text)))
        if want_usage:
            event(dict(base, choices=[], usage=usage_out()))
    elif accent == "openrouter":
        comment("OPENROUTER PROCESSING")
        comment("OPENROUTER PROCESSING")

        def chunk(delta, finish=None):
            return dict(base, provider="OpenAI", choices=[{
                "index": 0, "delta": delta, "finish_reason": finish,
                "native_finish_reason": finish, "logprobs": None}])
        event(chunk({"role": "assistant", "content": ""}))
        for i, tok in enumerate(tokens):
            if i == d.get("error_after"):
                code = d.get("error_code", "server_error")
                event(dict(base, provider="OpenAI", error={
                    "code": int(code) if code.isdigit() else code,
                    "message": "Provider disconnected unexpectedly"},
                    choices=[{"index": 0, "delta": {"content": ""},
                              "finish_reason": "error"}]))
                h.write_chunk(b"")
                return
            if i % 3 == 2:
                comment("OPENROUTER PROCESSING")
            event(chunk({"role": "assistant", "content": tok}))
            sent(i)
        event(chunk({"role": "assistant", "content": ""}, "stop"))
        event(dict(base, provider="OpenAI", choices=[],
                   usage=usage_out({"cost": 0.00042})))
    elif accent == "groq":
        def chunk(delta, finish=None, **kw):
            return dict(base, system_fingerprint="fp_groq", choices=[{
                "index": 0, "delta": delta, "logprobs": None,
                "finish_reason": finish}], **kw)
        event(chunk({"role": "assistant", "content": ""},
                    x_groq={"id": "req_fake%d" % entry["id"]}))
        for i, tok in enumerate(tokens):
            event(chunk({"content": tok}))
            sent(i)
        event(chunk({}, "stop", x_groq={
            "id": "req_fake%d" % entry["id"], "usage": usage_out(dict(
                queue_time=0.02, prompt_time=0.01,
                completion_time=0.05, total_time=0.06))}))
    elif accent == "vllm":
        def chunk(delta, finish=None, **kw):
            return dict(base, choices=[dict({
                "index": 0, "delta": delta, "logprobs": None,
                "finish_reason": finish}, **kw)])
        event(chunk({"role": "assistant", "content": ""}))
        for i, tok in enumerate(tokens):
            if i == d.get("error_after"):
                event({"object": "error", "message": "Engine loop has "
                       "died", "type": "InternalServerError", "param": None,
                       "code": 500})
                h.write_chunk(b"")
                return
            event(chunk({"content": tok}))
            sent(i)
        event(chunk({"content": ""}, "stop", stop_reason=None))
        if want_usage and not d.get("no_usage"):
            event(dict(base, choices=[], usage=usage_out()))
    elif accent in ("ollama", "deepseek"):
        field = "reasoning" if accent == "ollama" else "reasoning_content"
        if accent == "deepseek":
            comment("keep-alive")

        def chunk(delta, finish=None, **kw):
            if accent == "ollama":
                delta = dict({"role": "assistant"}, **delta)
            return dict(base, system_fingerprint="fp_" + accent, choices=[{
                "index": 0, "delta": delta, "logprobs": None,
                "finish_reason": finish}], **kw)
        empty = "" if accent == "ollama" else None
        for piece in split_tokens(reasoning, "r", 6):
            event(chunk({"content": empty, field: piece}))
        for i, tok in enumerate(tokens):
            event(chunk({"content": tok} if accent == "ollama" else
                        {"content": tok, field: None}))
            sent(i)
        if accent == "deepseek":
            event(chunk({"content": ""}, "stop", usage=usage_out(
                {"completion_tokens_details": {"reasoning_tokens": 6}})))
        else:
            event(chunk({"content": ""}, "stop"))
            if want_usage:
                event(dict(base, system_fingerprint="fp_ollama",
                           choices=[], usage=usage_out()))
    elif accent == "llamacpp":
        def timings(n):
            return {"prompt_n": usage["prompt_tokens"], "prompt_ms": 12.5,
                    "predicted_n": n, "predicted_ms": 3.0 * n,
                    "predicted_per_second": 333.3}

        def chunk(delta, finish=None, **kw):
            return dict({"choices": [{"finish_reason": finish, "index": 0,
                                      "delta": delta}],
                         "created": created, "id": cid, "model": model,
                         "system_fingerprint": "b4500-fake",
                         "object": "chat.completion.chunk"}, **kw)
        event(chunk({"role": "assistant", "content": None}))
        for i, tok in enumerate(tokens):
            event(chunk({"content": tok}, timings=timings(i + 1)))
            sent(i)
        final = {"timings": timings(len(tokens))}
        if not d.get("no_usage"):
            final["usage"] = usage_out()
        event(chunk({}, "stop", **final))
        if want_usage and not d.get("no_usage"):
            event(dict(chunk({}), choices=[], usage=usage_out(),
                       timings=timings(len(tokens))))
    else:   # openai, with split_surrogate
        def chunk(delta, finish=None):
            return dict(base, choices=[{"index": 0, "delta": delta,
                                        "logprobs": None,
                                        "finish_reason": finish}],
                        usage=None)
        event(chunk({"role": "assistant", "content": ""}))
        for i, tok in enumerate(tokens):
            event(chunk({"content": tok}))
            sent(i)
        event(chunk({}, "stop"))
        if want_usage:
            event(dict(base, choices=[], usage=usage_out()))
    event("[DONE]")
    h.write_chunk(b"")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A test server must not spam tracebacks for closed connections.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, OSError)):
            super().handle_error(request, client_address)


class FakeOpenAI:
    """The fake server, run in a background thread."""

    def __init__(self, host="127.0.0.1", port=0, expect_key=None,
                 verbose=False, azure=False, api_version=None):
        self.state = State(expect_key=expect_key, verbose=verbose,
                           azure=azure, api_version=api_version)
        self.httpd = Server((host, port), Handler)
        self.httpd.state = self.state
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = None

    @property
    def base_url(self):
        return "http://%s:%d/v1" % (self.host, self.port)

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       name="fake-openai", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.state.stopping.set()
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join(5)
            self.thread = None
        self.httpd.server_close()

    def log(self):
        return self.state.snapshot()

    def reset(self):
        self.state.reset()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def write_portfile(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile", help="write the port here once listening")
    ap.add_argument("--expect-key", default=None,
                    help="only this key is accepted (default: "
                         "$FAKE_EXPECT_KEY, else any key)")
    ap.add_argument("--azure", action="store_true",
                    help="answer like Azure OpenAI (api-key, api-version, "
                         "deployment URLs)")
    ap.add_argument("--api-version", default=None,
                    help="with --azure: the only api-version accepted")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log request lines to stderr")
    args = ap.parse_args(argv)

    fake = FakeOpenAI(args.host, args.port, args.expect_key, args.verbose,
                      args.azure, args.api_version)
    return serve(fake, args.portfile, "fake_openai: listening on %s" %
                 fake.base_url if args.verbose else None)


def serve(server, portfile=None, banner=None):
    """Run server (start/stop/port) until SIGTERM or SIGINT; the port goes
    to portfile once it listens, banner (if any) to stderr.  Returns 0."""
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    server.start()
    if portfile:
        write_portfile(portfile, server.port)
    if banner:
        sys.stderr.write(banner + "\n")
    while not done.wait(1):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
