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
