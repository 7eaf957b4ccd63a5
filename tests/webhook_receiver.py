#!/usr/bin/env python3
"""A webhook receiver for tests: checks Standard Webhooks signatures.

Run it standalone:

    python3 tests/webhook_receiver.py --secret whsec_... --port 0 \\
        --portfile /tmp/hook.port

(port 0 picks a free port; the real port is written to the portfile,
atomically, once the server listens; the secret may also come from
$WEBHOOK_SECRET; --tls DIR serves https with a certificate for localhost
and 127.0.0.1 from a throwaway CA it makes in DIR, DIR/ca.pem for the
client), or in-process, as tests/harness.py runs fake_openai:

    from webhook_receiver import WebhookReceiver
    with WebhookReceiver(secret) as hook:   # or hook.start() ... stop()
        env["MATCHJOBS_WEBHOOK_URL"] = hook.url       # .../hook
        hook.fail_next(2, status=503, retry_after="1")
        ...
        got = hook.wait_for(3, timeout=30)  # 3 attempts, or None
        assert all(a["signature_ok"] for a in got)
        assert len({(a["id"], a["body"]) for a in got}) == 1

Threaded http.server on 127.0.0.1, HTTP/1.1 with keep-alive.  Standard
library only.

Every POST to any path but the control ones is an attempt.  Each is
checked (SPEC 0.2 "Webhooks", after standardwebhooks.com): a non-empty
webhook-id; webhook-timestamp, unix seconds within `tolerance` (300) of
this clock; webhook-signature, space-separated "v1,<base64>" entries of
which one is HMAC-SHA256(key, "<id>.<timestamp>.<body>") under the
configured whsec_ secret (compared in constant time); Content-Type
application/json; a body that is JSON; method POST.  Each attempt is
recorded as a dict:

    n               1, 2, 3, ... in order of arrival
    method, path    the request line
    id              webhook-id ("" if missing)
    timestamp       webhook-timestamp as sent (a string, "" if missing)
    signature       webhook-signature as sent
    content_type    Content-Type as sent
    body            the body bytes, exactly
    json            the body parsed, or None
    headers         all headers, names lower-cased
    signature_ok    a v1 entry matched
    timestamp_ok    present, an integer, within the tolerance
    content_type_ok the media type is application/json
    ok              all the checks passed
    errors          what failed, as short strings
    status          what it answered (None while hanging, if the
                    client left first, or if the server stopped first)
    hung            it was told to hang on this one
    client_closed   the client left before an answer
    received, answered   time.time() of arrival and of the answer

What it answers: the next planned misbehaviour if one is queued (see
fail_next, hang_next), else `reject_status` (401) if a check failed, else
`status` (200), with an empty JSON object.  Misbehaviours are consumed
one per attempt, in the order queued; control requests are not attempts.

Control endpoints (for the standalone server; the Python API does the
same)
-----------------
GET  /_attempts     {"attempts": [...]}, body as text ("body") and
                    base64 ("body_b64"), json omitted.
POST /_control      a JSON object: {"fail": K, "status": S,
                    "retry_after": "V"} queues K answers of status S
                    (default 503) with Retry-After V (optional);
                    {"hang": K, "hang_s": T} queues K attempts left
                    unanswered until the client leaves or T seconds pass
                    (default: until the client leaves or the server
                    stops; after T it answers as usual).
                    {"default_status": S} changes `status`.
POST /_reset        forgets the attempts and the queued misbehaviours.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fake_openai  # noqa: E402  (its HTTP plumbing is shared)

TOLERANCE_S = 300             # Standard Webhooks: 5 minutes either way
CONTROL_PATHS = ("/_attempts", "/_control", "/_reset")


def secret_key(secret):
    """The key bytes of a whsec_<base64> secret (ValueError if bad)."""
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise ValueError("a webhook secret starts with whsec_")
    b64 = secret[len("whsec_"):]
    key = base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=True)
    if not key:
        raise ValueError("the webhook secret has no key bytes")
    return key


def sign(secret, msg_id, timestamp, body):
    """The webhook-signature value for these: "v1,<base64>"."""
    if isinstance(body, str):
        body = body.encode()
    mac = hmac.new(secret_key(secret),
                   b"%s.%d." % (msg_id.encode(), int(timestamp)) + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def send(url, body, secret=None, msg_id="msg_selfcheck", timestamp=None,
         signature=None, content_type="application/json", headers=None,
         timeout=10):
    """POST body to url as the responder would: signed with secret unless
    signature is given (a string, or None with secret None: no header).
    Returns (status, headers dict, body bytes)."""
    if isinstance(body, str):
        body = body.encode()
    if timestamp is None:
        timestamp = int(time.time())
    h = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if signature is None and secret is not None:
        signature = sign(secret, msg_id, timestamp, body)
    if signature is not None:
        h["webhook-signature"] = signature
    if content_type is not None:
        h["Content-Type"] = content_type
    h.update(headers or {})
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("POST", u.path or "/", body, h)
        resp = conn.getresponse()
        return (resp.status, {k.lower(): v for k, v in resp.getheaders()},
                resp.read())
    finally:
        conn.close()


class State:
    """Attempts, the queue of misbehaviours, and the settings."""

    def __init__(self, secret, status, reject_status, tolerance, verbose):
        self.key = secret_key(secret)
        self.status = status
        self.reject_status = reject_status
        self.tolerance = tolerance
        self.verbose = verbose
        self.lock = threading.Lock()
        self.cv = threading.Condition(self.lock)
        self.stopping = threading.Event()
        self.items = []
        self.plan = []            # [{"status", "retry_after"} | {"hang"}]

    def record(self, attempt):
        with self.lock:
            attempt["n"] = len(self.items) + 1
            self.items.append(attempt)
            step = self.plan.pop(0) if self.plan else None
            self.cv.notify_all()
        return step

    def answered(self, attempt, status, client_closed=False):
        with self.lock:
            attempt["status"] = status
            attempt["client_closed"] = client_closed
            attempt["answered"] = time.time()
            self.cv.notify_all()

    def snapshot(self):
        with self.lock:
            return [dict(a) for a in self.items]

    def queue(self, steps):
        with self.lock:
            self.plan.extend(steps)

    def reset(self):
        with self.lock:
            self.items = []
            self.plan = []


def check(state, method, headers, body):
    """The Standard Webhooks checks of one request: (fields, errors)."""
    errors = []
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    sig = headers.get("webhook-signature", "")
    ctype = headers.get("content-type", "")
    if method != "POST":
        errors.append("method %s" % method)
    if not msg_id:
        errors.append("no webhook-id")
    ts_ok = ts.isascii() and ts.isdigit() and \
        abs(time.time() - int(ts)) <= state.tolerance
    if not ts_ok:
        errors.append("webhook-timestamp %r not within %d s" %
                      (ts, state.tolerance))
    sig_ok = False
    if msg_id and ts.isascii() and ts.isdigit():
        want = hmac.new(state.key, msg_id.encode() + b"." + ts.encode() +
                        b"." + body, hashlib.sha256).digest()
        for entry in sig.split(" "):
            version, _, value = entry.partition(",")
            if version != "v1":
                continue
            try:
                got = base64.b64decode(value, validate=True)
            except ValueError:
                continue
            if hmac.compare_digest(got, want):
                sig_ok = True
    if not sig_ok:
        errors.append("webhook-signature does not match")
    ctype_ok = ctype.split(";", 1)[0].strip().lower() == "application/json"
    if not ctype_ok:
        errors.append("Content-Type %r" % ctype)
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
        errors.append("the body is not JSON")
    return {
        "id": msg_id, "timestamp": ts, "signature": sig,
        "content_type": ctype, "json": doc, "signature_ok": sig_ok,
        "timestamp_ok": ts_ok, "content_type_ok": ctype_ok,
        "ok": not errors, "errors": errors,
    }, errors


class Handler(fake_openai.Handler):
    """Attempts on any path; the control routes on /_*."""

    def version_string(self):
        return "webhook-receiver/1.0"

    def log_message(self, fmt, *args):
        if self.state.verbose:
            sys.stderr.write("webhook_receiver: %s\n" % (fmt % args))

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path != "/_attempts":
            self.send_json(404, {"error": "not found"})
            return
        out = []
        for a in self.state.snapshot():
            a.pop("json", None)
            body = a.pop("body")
            a["body"] = body.decode("utf-8", "replace")
            a["body_b64"] = base64.b64encode(body).decode()
            out.append(a)
        self.send_json(200, {"attempts": out})

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        if path in CONTROL_PATHS:
            self.control(path)
        else:
            self.attempt()

    def do_PUT(self):
        self.attempt()

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    def control(self, path):
        body = self.read_body()
        if path == "/_reset":
            self.state.reset()
            self.send_json(200, {"ok": True})
            return
        try:
            req = json.loads(body or b"{}")
            steps = plan_steps(req)
        except (ValueError, TypeError, AttributeError) as e:
            self.send_json(400, {"error": str(e)})
            return
        if "default_status" in req:
            self.state.status = int(req["default_status"])
        self.state.queue(steps)
        self.send_json(200, {"ok": True, "queued": len(steps)})

    def attempt(self):
        body = self.read_body()
        if body is None:
            self.send_json(400, {"error": "unreadable body"})
            self.close_connection = True
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        fields, errors = check(self.state, self.command, headers, body)
        attempt = dict(fields, method=self.command, path=self.path,
                       body=body, headers=headers, status=None,
                       hung=False, client_closed=False,
                       received=time.time(), answered=None)
        step = self.state.record(attempt)
        if step is not None and "hang" in step:
            attempt["hung"] = True
            try:
                self.wait(step["hang"] if step["hang"] is not None
                          else float("inf"))
            except fake_openai.ClientGone:
                self.state.answered(attempt, None, client_closed=True)
                self.close_connection = True
                return
            except fake_openai.Dropped:     # the server is stopping
                self.state.answered(attempt, None)
                self.close_connection = True
                return
            step = None
        extra = []
        if step is not None:
            status = step["status"]
            if step.get("retry_after") is not None:
                extra.append(("Retry-After", str(step["retry_after"])))
        elif errors:
            status = self.state.reject_status
        else:
            status = self.state.status
        if self.state.verbose and errors:
            sys.stderr.write("webhook_receiver: attempt %d: %s\n" %
                             (attempt["n"], "; ".join(errors)))
        # Recorded before it is written: a client that has its answer
        # finds it in attempts().
        self.state.answered(attempt, status)
        try:
            self.send_json(status, {}, extra)
        except OSError:
            self.state.answered(attempt, None, client_closed=True)
            self.close_connection = True


def plan_steps(req):
    """The misbehaviours a control request asks for, in order."""
    steps = []
    for _ in range(int(req.get("fail", 0))):
        steps.append({"status": int(req.get("status", 503)),
                      "retry_after": req.get("retry_after")})
    hang_s = req.get("hang_s")
    for _ in range(int(req.get("hang", 0))):
        steps.append({"hang": float(hang_s) if hang_s is not None
                      else None})
    return steps


class Server(fake_openai.Server):
    pass


class WebhookReceiver:
    """The receiver, run in a background thread."""

    def __init__(self, secret, host="127.0.0.1", port=0, status=200,
                 reject_status=401, tolerance=TOLERANCE_S, path="/hook",
                 verbose=False, tls_dir=None):
        self.secret = secret
        self.state = State(secret, status, reject_status, tolerance,
                           verbose)
        self.httpd = Server((host, port), Handler)
        self.httpd.state = self.state
        self.host = host
        self.port = self.httpd.server_address[1]
        self.path = path
        self.thread = None
        self.scheme = "http"
        self.ca_file = None
        if tls_dir is not None:
            # https: every request, the control routes too.
            import tls_front
            self.ca_file, crt, key = tls_front.make_ca(tls_dir)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(crt, key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
            self.scheme = "https"

    @property
    def url(self):
        return "%s://%s:%d%s" % (self.scheme, self.host, self.port,
                                 self.path)

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       name="webhook-receiver", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.state.stopping.set()       # hanging attempts give up
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join(5)
            self.thread = None
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- what arrived -----------------------------------------------------
    def attempts(self):
        """Every attempt so far, oldest first (copies)."""
        return self.state.snapshot()

    def by_id(self):
        """{webhook-id: [attempts]}, each list oldest first."""
        out = {}
        for a in self.attempts():
            out.setdefault(a["id"], []).append(a)
        return out

    def wait_for(self, n, timeout=10.0, answered=True):
        """The attempts once at least n have arrived (and, if answered,
        the first n have been answered or the client left), else None
        after timeout seconds."""
        end = time.monotonic() + timeout

        def done():
            items = self.state.items
            return len(items) >= n and (not answered or all(
                a["answered"] is not None or a["client_closed"]
                for a in items[:n]))
        with self.state.cv:
            while not done():
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.state.cv.wait(left)
        return self.attempts()

    # -- misbehaviour -----------------------------------------------------
    def fail_next(self, k, status=503, retry_after=None):
        """Answer the next k attempts with status (and Retry-After)."""
        self.state.queue(plan_steps({"fail": k, "status": status,
                                     "retry_after": retry_after}))

    def hang_next(self, k=1, seconds=None):
        """Leave the next k attempts unanswered until the client leaves
        (or seconds pass: then answer as usual, late)."""
        self.state.queue(plan_steps({"hang": k, "hang_s": seconds}))

    def set_status(self, status):
        """What a good attempt is answered with from now on."""
        self.state.status = status

    def reset(self):
        self.state.reset()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile", help="write the port here once listening")
    ap.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET"),
                    help="whsec_<base64> (default: $WEBHOOK_SECRET)")
    ap.add_argument("--status", type=int, default=200,
                    help="answer to a good attempt (default 200)")
    ap.add_argument("--tls", metavar="DIR",
                    help="serve https, with a throwaway CA made in DIR "
                    "(DIR/ca.pem)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log request lines and failed checks to stderr")
    args = ap.parse_args(argv)
    if not args.secret:
        ap.error("a secret is needed (--secret or $WEBHOOK_SECRET)")
    hook = WebhookReceiver(args.secret, args.host, args.port,
                           status=args.status, verbose=args.verbose,
                           tls_dir=args.tls)
    return fake_openai.serve(hook, args.portfile,
                             "webhook_receiver: listening on %s" % hook.url
                             if args.verbose else None)


if __name__ == "__main__":
    sys.exit(main())
