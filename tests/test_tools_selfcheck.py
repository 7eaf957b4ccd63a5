#!/usr/bin/env python3
"""Self-check of the Python test tools: fake_openai, fcgi_client, mkpdf.

Run directly: python3 tests/test_tools_selfcheck.py
Prints TAP; exits 0 if every check passed, 1 otherwise.
"""

import http.client
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fake_openai                       # noqa: E402
import fcgi_client as fc                 # noqa: E402
import mkpdf                             # noqa: E402

KEY = "sk-selfcheck-secret-123"
RESULTS = []


def ok(cond, name):
    RESULTS.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(RESULTS), name))
    sys.stdout.flush()
    return bool(cond)


def body_for(content, stream=True, usage=True, model="gpt-test"):
    req = {"model": model, "stream": stream,
           "messages": [{"role": "system", "content": "You score jobs."},
                        {"role": "user", "content": content}]}
    if usage:
        req["stream_options"] = {"include_usage": True}
    return json.dumps(req).encode()


class Raw:
    """A raw HTTP/1.1 exchange that keeps HTTP chunk boundaries."""

    def __init__(self, port, content, key=KEY, **kw):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        body = body_for(content, **kw)
        head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: %d\r\n" % len(body))
        if key is not None:
            head += "Authorization: Bearer %s\r\n" % key
        self.sock.sendall(head.encode() + b"\r\n" + body)
        self.file = self.sock.makefile("rb")
        self.status_line = self.file.readline().decode()
        self.status = int(self.status_line.split()[1])
        self.headers = {}
        while True:
            line = self.file.readline().decode()
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.header_time = time.monotonic()

    def chunks(self):
        """(time, data) per HTTP chunk; ends with (t, None) on EOF
        without the terminating chunk."""
        while True:
            line = self.file.readline()
            if not line:
                yield time.monotonic(), None
                return
            size = int(line.split(b";")[0], 16)
            if size == 0:
                self.file.readline()
                return
            data = self.file.read(size)
            self.file.readline()
            yield time.monotonic(), data

    def body(self):
        n = int(self.headers.get("content-length", "0"))
        return self.file.read(n)

    def close(self):
        self.file.close()
        self.sock.close()


def events_of(raw):
    data = b"".join(c for _, c in raw.chunks() if c)
    comments = []
    return fc.parse_sse(data, comments), comments, data


def content_of(events):
    text = ""
    for _ev, data in events:
        if data == "[DONE]":
            continue
        obj = json.loads(data)
        for choice in obj.get("choices") or []:
            text += choice["delta"].get("content") or ""
    return text


def wait_log(fake, pred, timeout=1.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        entries = fake.log()
        if entries and pred(entries[-1]):
            return entries[-1]
        time.sleep(0.02)
    return None


# ---- fake_openai --------------------------------------------------------

def test_normal(fake):
    raw = Raw(fake.port, "Python SQL Docker job. Needs Go.")
    ok(raw.status == 200, "normal: 200")
    ok(raw.headers.get("content-type", "").startswith("text/event-stream"),
       "normal: text/event-stream")
    ok(raw.headers.get("transfer-encoding") == "chunked", "normal: chunked")
    chunks = [c for _, c in raw.chunks()]
    raw.close()
    ok(None not in chunks, "normal: terminating chunk received")
    ok(all(c.startswith(b"data: ") and c.endswith(b"\n\n") and
           c.count(b"\n\n") == 1 for c in chunks),
       "normal: each HTTP chunk is exactly one SSE event")
    events = fc.parse_sse(b"".join(chunks))
    ok(events[-1] == ("message", "[DONE]"), "normal: [DONE] last")
    objs = [json.loads(d) for _, d in events[:-1]]
    ok(objs[0]["choices"][0]["delta"] == {"role": "assistant",
                                          "content": "", "refusal": None},
       "normal: first delta is the role")
    ok(all(o["object"] == "chat.completion.chunk" and o["id"] and
           o["model"] == "gpt-test" for o in objs),
       "normal: chunk envelope fields")
    ok(objs[-1]["choices"] == [] and
       objs[-1]["usage"]["total_tokens"] ==
       objs[-1]["usage"]["prompt_tokens"] +
       objs[-1]["usage"]["completion_tokens"],
       "normal: usage chunk has choices [] and totals")
    ok(all(o["usage"] is None for o in objs[:-1]),
       "normal: usage null elsewhere")
    ok(objs[-2]["choices"][0]["finish_reason"] == "stop" and
       objs[-2]["choices"][0]["delta"] == {}, "normal: finish chunk")
    pieces = [o["choices"][0]["delta"]["content"] for o in objs[1:-2]]
    ok(all(3 <= len(p) <= 8 for p in pieces[:-1]),
       "normal: tokens are 3-8 characters")
    content = "".join(pieces)
    answer = json.loads(content)
    ok(set(answer) == {"score", "summary", "matched_skills",
                       "missing_skills"}, "normal: answer keys")
    ok(isinstance(answer["score"], int) and 0 <= answer["score"] <= 100,
       "normal: score in range")
    ok("é" in answer["summary"] and "\n" in answer["summary"],
       "normal: summary has é and newline")
    ok("Python" in answer["matched_skills"] and
       "Go" in answer["matched_skills"], "normal: matched skills")
    raw2 = Raw(fake.port, "Python SQL Docker job. Needs Go.")
    ev2, _, _ = events_of(raw2)
    raw2.close()
    ok(content_of(ev2) == content, "normal: deterministic")
    entry = fake.log()[-1]
    ok(entry["auth_ok"] and entry["model"] == "gpt-test" and
       entry["tokens_sent"] == len(pieces) and entry["finished"] and
       not entry["client_closed"] and entry["stream"] and
       entry["params"]["stream_options"] == {"include_usage": True},
       "normal: log entry")


def test_auth(fake):
    raw = Raw(fake.port, "hello", key=None)
    body = raw.body()
    raw.close()
    ok(raw.status == 401, "auth: missing key is 401")
    raw = Raw(fake.port, "hello", key="sk-wrong-key")
    body = raw.body()
    raw.close()
    err = json.loads(body)["error"]
    ok(raw.status == 401 and err["code"] == "invalid_api_key" and
       err["message"] == "Incorrect API key provided." and
       err["param"] is None and err["type"] == "invalid_request_error",
       "auth: wrong key is 401 invalid_api_key")
    ok(b"sk-wrong-key" not in body, "auth: key not echoed")
    ok(not fake.log()[-1]["auth_ok"], "auth: logged auth_ok false")
    ok(KEY not in json.dumps(fake.log()), "auth: key not in the log")


def test_status(fake):
    raw = Raw(fake.port, "x <<fake:status=429;retry_after=2;"
                         "retry_after_ms=1500>>")
    err = json.loads(raw.body())["error"]
    raw.close()
    ok(raw.status == 429 and raw.headers.get("retry-after") == "2" and
       raw.headers.get("retry-after-ms") == "1500" and
       err["code"] == "rate_limit_exceeded", "status=429 with retry-after")
    raw = Raw(fake.port, "x <<fake:status=429;code=insufficient_quota>>")
    err = json.loads(raw.body())["error"]
    raw.close()
    ok(err["code"] == "insufficient_quota", "status with code=")
    raw = Raw(fake.port, "<<fake:status=500>>")
    raw.body()
    raw.close()
    ok(raw.status == 500, "status=500")

    seen = []
    for _ in range(3):
        raw = Raw(fake.port, "job <<fake:status=503;fail_times=2>> nonce1")
        if raw.status == 200:
            ev, _, _ = events_of(raw)
            seen.append((200, bool(json.loads(content_of(ev)))))
        else:
            raw.body()
            seen.append((raw.status, None))
        raw.close()
    ok(seen == [(503, None), (503, None), (200, True)],
       "fail_times=2: 503, 503, then a normal stream (%r)" % (seen,))


def test_drop_after(fake):
    raw = Raw(fake.port, "job <<fake:drop_after=3>>")
    chunks = [c for _, c in raw.chunks()]
    raw.close()
    ok(chunks[-1] is None, "drop_after: no terminating chunk, EOF")
    ok(len(chunks) == 1 + 1 + 3, "drop_after: role + 3 tokens then EOF")
    entry = wait_log(fake, lambda e: e["finished"])
    ok(entry and entry["tokens_sent"] == 3, "drop_after: logged 3 tokens")


def test_garbage(fake):
    raw = Raw(fake.port, "job <<fake:garbage=1>>")
    events, _, _ = events_of(raw)
    raw.close()
    ok(events and all(d in ("this is not json", "[DONE]")
                      for _, d in events) and
       events[0][1] == "this is not json", "garbage: non-JSON data lines")


def test_midstream_error(fake):
    raw = Raw(fake.port, "job <<fake:midstream_error=2>>")
    events, _, _ = events_of(raw)
    raw.close()
    datas = [d for _, d in events]
    ok(datas[-1] == "[DONE]", "midstream_error: ends with [DONE]")
    err = json.loads(datas[-2])
    ok(err["error"]["type"] == "server_error" and "choices" not in err,
       "midstream_error: error event")
    ok(len(datas) == 1 + 2 + 2, "midstream_error: after 2 tokens")


def test_hang(fake):
    raw = Raw(fake.port, "job <<fake:hang=1>>")
    ok(raw.status == 200, "hang: headers sent")
    raw.sock.settimeout(0.3)
    try:
        got = raw.file.read1(100)
    except (socket.timeout, TimeoutError):
        got = None
    ok(got is None, "hang: no body")
    closed_at = time.time()
    raw.close()
    entry = wait_log(fake, lambda e: e["client_closed"], 1.0)
    ok(entry is not None and entry["client_closed_at"] - closed_at < 1.0,
       "hang: client close detected within 1 s")


def test_delays(fake):
    raw = Raw(fake.port, "job <<fake:delay_first=300;delay=20;tokens=10>>")
    times = [t for t, c in raw.chunks() if c]
    raw.close()
    first = times[0] - raw.header_time
    ok(0.25 <= first < 1.5, "delay_first: first chunk after %.2fs" % first)
    span = times[-1] - times[0]
    ok(span >= 9 * 0.02 * 0.8, "delay: tokens spread over %.2fs" % span)

    raw = Raw(fake.port, "job <<fake:delay_first=5000>>")
    time.sleep(0.1)
    closed_at = time.time()
    raw.close()
    entry = wait_log(fake, lambda e: e["client_closed"], 1.0)
    ok(entry is not None and entry["client_closed_at"] - closed_at < 1.0 and
       entry["tokens_sent"] == 0,
       "delay_first: client close detected during the wait")


def test_variants(fake):
    raw = Raw(fake.port, "job <<fake:prose=1>>")
    ev, _, _ = events_of(raw)
    raw.close()
    ok("{" not in content_of(ev) and len(content_of(ev)) > 20,
       "prose: no JSON object in content")

    raw = Raw(fake.port, "job <<fake:no_done=1;no_usage=1>>")
    chunks = [c for _, c in raw.chunks()]
    raw.close()
    ev = fc.parse_sse(b"".join(chunks))
    last = json.loads(ev[-1][1])
    ok(None not in chunks and last["choices"][0]["finish_reason"] == "stop",
       "no_done+no_usage: clean end after the finish chunk")

    raw = Raw(fake.port, "job <<fake:score=150>>")
    ev, _, _ = events_of(raw)
    raw.close()
    ok(json.loads(content_of(ev))["score"] == 150, "score=150")

    raw = Raw(fake.port, "job <<fake:comments=1;crlf=1>>")
    ev, comments, data = events_of(raw)
    raw.close()
    ok(b"\r\n\r\n" in data and b"\n\n" not in data.replace(b"\r\n", b""),
       "crlf: CRLF line endings")
    ok(comments and all(c == "OPENROUTER PROCESSING" for c in comments),
       "comments: comment lines (%d)" % len(comments))
    ok(ev[-1][1] == "[DONE]" and json.loads(content_of(ev)),
       "crlf+comments: stream still parses")

    raw = Raw(fake.port, "job <<fake:tokens=40;stamp=1>>")
    ev, _, _ = events_of(raw)
    raw.close()
    objs = [json.loads(d) for _, d in ev if d != "[DONE]"]
    content_objs = [o for o in objs if o["choices"] and
                    o["choices"][0]["delta"].get("content")]
    ok(len(content_objs) == 40, "tokens=40: %d tokens" % len(content_objs))
    ok(all(isinstance(o.get("x_sent_ns"), int) for o in content_objs),
       "stamp: x_sent_ns on content chunks")

    raw = Raw(fake.port, "job", usage=False)
    ev, _, _ = events_of(raw)
    raw.close()
    ok(all(json.loads(d)["choices"] for _, d in ev if d != "[DONE]"),
       "no include_usage: no usage chunk")

    raw = Raw(fake.port, "job", stream=False)
    doc = json.loads(raw.body())
    raw.close()
    ok(doc["object"] == "chat.completion" and
       json.loads(doc["choices"][0]["message"]["content"]),
       "stream false: plain chat.completion")


def test_keepalive_and_log(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    hdrs = {"Authorization": "Bearer " + KEY,
            "Content-Type": "application/json"}
    socks = []
    for _ in range(2):
        conn.request("POST", "/prefix/chat/completions",
                     body_for("keep alive"), hdrs)
        resp = conn.getresponse()
        data = resp.read()
        socks.append(id(conn.sock))
    ok(resp.status == 200 and data.rstrip().endswith(b"data: [DONE]") and
       socks[0] == socks[1], "keep-alive: two streams on one connection")
    conn.request("POST", "/v1/chat/completions", b"{not json", hdrs)
    resp = conn.getresponse()
    resp.read()
    ok(resp.status == 400, "bad JSON: 400")
    conn.request("GET", "/nothing")
    resp = conn.getresponse()
    resp.read()
    ok(resp.status == 404, "unknown path: 404")
    conn.request("GET", "/_log")
    log = json.loads(conn.getresponse().read())["requests"]
    ok(len(log) == len(fake.log()) and log[-1]["path"] ==
       "/v1/chat/completions", "GET /_log")
    conn.request("POST", "/_reset", b"")
    conn.getresponse().read()
    ok(fake.log() == [], "POST /_reset clears the log")
    conn.close()


# ---- fcgi_client --------------------------------------------------------

def test_sse_parser():
    ev = fc.parse_sse(b"\xef\xbb\xbfdata: a\r\ndata:b\revent: x\n\n"
                      b": hi\n\ndata\n\nid: 7\nretry: 10\ndata: c\n\n"
                      b"data: incomplete")
    ok(ev == [("x", "a\nb"), ("message", ""), ("message", "c")],
       "parse_sse: WHATWG rules (%r)" % (ev,))
    comments = []
    fc.parse_sse(b": OPENROUTER PROCESSING\n\ndata: 1\n\n", comments)
    ok(comments == ["OPENROUTER PROCESSING"], "parse_sse: comments")
    whole = "event: token\r\ndata: {\"c\":\"é€\"}\r\n\r\n".encode()
    parser = fc.SSEParser()
    out = []
    for i in range(len(whole)):
        out += parser.feed(whole[i:i + 1])
    ok(out == [("token", "{\"c\":\"é€\"}")],
       "SSEParser: byte-by-byte feed (split CRLF and UTF-8)")


def test_codec():
    pairs = [(b"A", b""), (b"B" * 200, b"v"), (b"C", b"x" * 70000)]
    ok(fc.decode_params(fc.encode_params(pairs)) == pairs,
       "params codec: 1- and 4-byte lengths")
    rec = fc.record(fc.STDIN, 1, b"abc")
    ok(len(rec) == 16 and rec[:8] == struct.pack(">BBHHBx", 1, 5, 1, 3, 5),
       "record: header and padding")
    ctype, body = fc.multipart([("json_body", "{\"a\":1}"),
                                ("pdf_file", ("r.pdf", b"%PDF-1.4"))],
                               boundary="BOUND")
    ok(ctype == "multipart/form-data; boundary=BOUND" and body ==
       b"--BOUND\r\nContent-Disposition: form-data; name=\"json_body\""
       b"\r\n\r\n{\"a\":1}\r\n--BOUND\r\nContent-Disposition: form-data; "
       b"name=\"pdf_file\"; filename=\"r.pdf\"\r\nContent-Type: "
       b"application/pdf\r\n\r\n%PDF-1.4\r\n--BOUND--\r\n",
       "multipart: curl -F layout")
    p = dict(fc.build_params("GET", "/api/health?x=1", style="apache",
                             script_name="/~a/mj.fcgi"))
    ok(p["SCRIPT_NAME"] == "/~a/mj.fcgi" and p["PATH_INFO"] == "/api/health"
       and p["REQUEST_URI"] == "/~a/mj.fcgi/api/health?x=1" and
       p["QUERY_STRING"] == "x=1", "build_params: apache style")
    p = dict(fc.build_params("POST", "/api/match-jobs", {"Accept": "a",
                             "Content-Type": "b"}, 5, style="nginx"))
    ok(p["SCRIPT_NAME"] == "/api/match-jobs" and "PATH_INFO" not in p and
       p["DOCUMENT_URI"] == "/api/match-jobs" and p["CONTENT_LENGTH"] == "5"
       and p["HTTP_ACCEPT"] == "a" and p["CONTENT_TYPE"] == "b" and
       "HTTP_CONTENT_TYPE" not in p, "build_params: nginx style")
    p = dict(fc.build_params("POST", "/api/x", style="uri_only",
                             content_length=False))
    ok("SCRIPT_NAME" not in p and "CONTENT_LENGTH" not in p and
       p["REQUEST_URI"] == "/api/x", "build_params: uri_only, no length")


def mini_fcgi_server(sock):
    """Accept one connection; echo params and stdin size slowly."""
    conn, _ = sock.accept()
    params, stdin = b"", b""
    while True:
        rtype, rid, content = fc.read_record(conn)
        if rtype == fc.PARAMS:
            params += content
        elif rtype == fc.STDIN:
            if not content:
                break
            stdin += content
    env = {k.decode(): v.decode() for k, v in fc.decode_params(params)}
    out = [b"Status: 418 Teapot\r\nContent-Type: text/event-stream\r\n"
           b"X-Stdin: %d\r\n\r\n" % len(stdin)]
    out += [b"data: %s\n\n" % json.dumps(env).encode()[:60000]]
    out += [b"event: t\ndata: %d\n\n" % i for i in range(3)]
    for part in out:
        conn.sendall(fc.record(fc.STDOUT, rid, part))
        time.sleep(0.05)
    conn.sendall(fc.record(fc.STDERR, rid, b"warn\n"))
    conn.sendall(fc.record(fc.STDOUT, rid) +
                 fc.record(fc.END_REQUEST, rid, struct.pack(">iB3x", 7, 0)))
    conn.close()


def test_fcgi_roundtrip():
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "s.sock")
    lsock = socket.socket(socket.AF_UNIX)
    lsock.bind(path)
    lsock.listen(4)
    try:
        threading.Thread(target=mini_fcgi_server, args=(lsock,),
                         daemon=True).start()
        body = os.urandom(200000)
        r = fc.request("unix:" + path, "POST", "/api/match-jobs/stream",
                       headers={"Content-Type": "x/y", "X-Big": "z" * 300},
                       body=body, stdin_chunk=7000, timeout=5)
        env = json.loads(r.sse()[0][1])
        ok(r.status == 418 and r.headers.get("x-stdin") == "200000" and
           r.headers.get("CONTENT-TYPE") == "text/event-stream",
           "fcgi request: status, headers, stdin size")
        ok(env["CONTENT_LENGTH"] == "200000" and
           env["HTTP_X_BIG"] == "z" * 300 and env["REQUEST_METHOD"] ==
           "POST", "fcgi request: params arrive")
        ok(r.stderr == b"warn\n" and r.app_status == 7 and r.ended,
           "fcgi request: stderr and END_REQUEST")

        threading.Thread(target=mini_fcgi_server, args=(lsock,),
                         daemon=True).start()
        s = fc.Stream("unix:" + path, "GET", "/s", timeout=5)
        got = list(s.events())
        s.close()
        times = [t for t, _, _ in got]
        ok([e for _, e, _ in got][1:] == ["t", "t", "t"] and
           times[-1] - times[0] >= 0.1,
           "fcgi stream: events arrive over time")
    finally:
        lsock.close()
        shutil.rmtree(tmp)


# ---- mkpdf --------------------------------------------------------------

def test_pdfs():
    d = mkpdf.DEFAULT_OUTDIR
    names = ["resume.pdf", "resume3.pdf", "resume30.pdf", "notext.pdf",
             "corrupt.pdf", "encrypted.pdf", "notpdf.pdf"]
    heads = {}
    for n in names:
        try:
            with open(os.path.join(d, n), "rb") as f:
                heads[n] = f.read(8)
        except OSError:
            heads[n] = b""
    ok(all(heads[n].startswith(b"%PDF-") for n in names
           if n != "notpdf.pdf"), "pdf fixtures exist and start with %PDF")
    ok(heads["notpdf.pdf"].startswith(b"\x89PNG"), "notpdf.pdf is a PNG")

    tmp = tempfile.mkdtemp()
    try:
        mkpdf.generate(tmp)
        same = all(open(os.path.join(tmp, n), "rb").read() ==
                   open(os.path.join(d, n), "rb").read()
                   for n in names if n != "encrypted.pdf")
        ok(same, "mkpdf regenerates the committed files byte for byte")
    finally:
        shutil.rmtree(tmp)
    if shutil.which("pdftotext"):
        bad = mkpdf.check(d)
        ok(not bad, "pdftotext agrees with every fixture %s" % (bad or ""))
    else:
        print("ok %d - # SKIP pdftotext not installed" % (len(RESULTS) + 1))
        RESULTS.append(True)


def main():
    os.environ.pop("FAKE_EXPECT_KEY", None)
    fake = fake_openai.FakeOpenAI(expect_key=KEY).start()
    tests = [
        lambda: test_normal(fake), lambda: test_auth(fake),
        lambda: test_status(fake), lambda: test_drop_after(fake),
        lambda: test_garbage(fake), lambda: test_midstream_error(fake),
        lambda: test_hang(fake), lambda: test_delays(fake),
        lambda: test_variants(fake), lambda: test_keepalive_and_log(fake),
        test_sse_parser, test_codec, test_fcgi_roundtrip, test_pdfs,
    ]
    try:
        for t in tests:
            try:
                t()
            except Exception:
                ok(False, "exception: " + traceback.format_exc()
                   .strip().replace("\n", "\n# "))
    finally:
        fake.stop()
    print("1..%d" % len(RESULTS))
    return 0 if RESULTS and all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
