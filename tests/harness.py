"""Shared harness for the integration tests (tests/it_*.test).

Each test file is a Python script that prints TAP.  It starts our fake
OpenAI-compatible upstream in-process (tests/fake_openai.py), starts the
real responder binary ($MJ_BIN, built by make) on a unix socket in a
temporary directory, waits until it answers GET /api/health (not a
sleep), and talks FastCGI to it with tests/fcgi_client.py.

    from harness import TAP, Stack, form_body
    t = TAP()
    with Stack(env={"MATCHJOBS_CONCURRENCY": "2"}) as s:
        r = s.post_form("/api/match-jobs", doc, pdf="resume.pdf")
        t.eq(r.status, 200, "plain route answers 200")
    sys.exit(t.done())

Environment: MJ_BIN (the binary), MJ_TESTS (this directory), and
MJ_WRAPPER (optional command prefix, e.g. "valgrind -q --error-exitcode=99").
The fake API key is TEST_KEY; every test checks it never shows up in a
response or in the responder's log (Stack.leaked_key()).
"""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.environ.get("MJ_TESTS") or os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fcgi_client  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

BIN = os.environ.get("MJ_BIN") or os.path.join(HERE, "..", "matchjobs-fcgi")
PDF = os.path.join(HERE, "pdf")
TEST_KEY = "sk-test-DO-NOT-LEAK-4f9c2a7e1b"
# How much slower than native the responder runs: upper time bounds and
# the delays that must outlast the responder's own work are scaled by it
# (valgrind's memcheck is ~5-20x; MJ_SLOW overrides).  Lower bounds never
# need it: a slower machine only makes them easier to meet.
SLOW = float(os.environ.get("MJ_SLOW") or
             (5 if "valgrind" in os.environ.get("MJ_WRAPPER", "") else 1))


# (calls the TLS front saw, their protocols, calls the fake saw) for each
# Stack that ran with the front (MJ_UPSTREAM_TLS=1 or tls=True).
TLS_SEEN = []


class TAP:
    """Minimal TAP producer; every check prints one line at once."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, msg, detail=None):
        self.n += 1
        # A "# TODO" check is a known gap (TAP): reported, not failed.
        if not cond and "# TODO" not in msg:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n,
                                msg.replace("\n", " ")), flush=True)
        if not cond and detail is not None:
            for line in str(detail)[:3000].splitlines():
                print("#   " + line, flush=True)
        return bool(cond)

    def eq(self, got, want, msg):
        return self.ok(got == want, msg, "got:  %r\nwant: %r" % (got, want))

    def skip(self, why, n=1):
        """n checks that could not run here: TAP "# SKIP", never a pass."""
        for _ in range(n):
            self.n += 1
            print("ok %d # SKIP %s" % (self.n, why), flush=True)

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def run(self, fn, *args):
        """Run one test function; an exception is one failed check."""
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - reported as a TAP failure
            self.ok(False, "%s raised" % fn.__name__, traceback.format_exc())

    def done(self):
        if os.environ.get("MJ_UPSTREAM_TLS") == "1":
            # The file ran with the TLS front: say that it really did.
            calls = sum(c for c, _p, _f in TLS_SEEN)
            protos = sorted(set(p for _c, ps, _f in TLS_SEEN for p in ps))
            self.ok(TLS_SEEN and calls > 0 and protos == ["HTTP/2.0"] and
                    all(f <= c for c, _p, f in TLS_SEEN),
                    "the upstream calls of this file went over TLS with "
                    "HTTP/2 (%d calls through the front, %s)"
                    % (calls, protos), TLS_SEEN)
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def job(title="Developer", data="Python developer with SQL and Docker.",
        link="https://example.com/job", **extra):
    j = {"jobtitle": title, "joblink": link, "jobdata": data}
    j.update(extra)
    return j


def doc(jobs=None, user_id="test", **extra):
    d = {"user_id": user_id,
         "jobs": jobs if jobs is not None else job()}
    d.update(extra)
    return d


def pdf_bytes(name):
    with open(os.path.join(PDF, name), "rb") as f:
        return f.read()


def form_body(document, pdf=None, resume_text=None, raw_json=None,
              extra=None):
    """(content_type, body) of a multipart form like curl -F makes."""
    fields = [("json_body", raw_json if raw_json is not None
               else json.dumps(document))]
    if pdf is not None:
        fields.append(("pdf_file", (os.path.basename(pdf)
                                    if isinstance(pdf, str) else "r.pdf",
                                    pdf_bytes(pdf) if isinstance(pdf, str)
                                    else pdf, "application/pdf")))
    if resume_text is not None:
        fields.append(("resume_text", resume_text))
    for f in extra or []:
        fields.append(f)
    return fcgi_client.multipart(fields)


def db_path(tmp):
    """The store file (MATCHJOBS_DB) of a responder whose files are in
    tmp: every test keeps its store in its own temp dir, never the
    default under /var/lib.  The directory is writable by anyone, so a
    responder running as another user (--user, a web server's) can
    create the file there."""
    d = os.path.join(tmp, "store")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o1777)
    return os.path.join(d, "matchjobs.db")


def root_args():
    """--allow-root when the suite runs as root (the binary refuses root
    without --user or --allow-root); tests/it_privs.test covers --user."""
    return ["--allow-root"] if os.geteuid() == 0 else []


def with_root_args(argv):
    """argv with root_args() after the binary, wherever it is."""
    if BIN not in argv:
        return list(argv)
    i = argv.index(BIN) + 1
    if "--user" in argv or "--allow-root" in argv:
        return list(argv)
    return argv[:i] + root_args() + argv[i:]


class Responder:
    """The real binary on a unix socket in a temp dir."""

    def __init__(self, env=None, args=None, tmp=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="mj-it-")
        self.sock = os.path.join(self.tmp, "mj.sock")
        self.addr = "unix:" + self.sock
        self.logpath = os.path.join(self.tmp, "responder.log")
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith(("MATCHJOBS_", "OPENAI_", "LISTEN_")):
                del self.env[k]
        # 0.1's behaviour unless a test asks for a detach window: a run
        # whose client left is cancelled at once (SPEC "Runs").
        self.env["MATCHJOBS_DETACH_MS"] = "0"
        # Every responder its own store, in its temp dir.
        self.db = os.path.join(self.tmp, "matchjobs.db")
        self.env["MATCHJOBS_DB"] = self.db
        self.env.update(env or {})
        self.args = args
        self.proc = None

    def start(self, wait=True):
        wrapper = shlex.split(os.environ.get("MJ_WRAPPER", ""))
        args = self.args if self.args is not None else \
            ["--listen", self.addr]
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(wrapper + with_root_args([BIN] + args),
                                     env=self.env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("responder exited %s:\n%s" %
                                   (self.proc.returncode, self.logtext()))
            try:
                r = fcgi_client.request(self.addr, "GET", "/api/health",
                                        timeout=5)
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("responder not ready:\n" + self.logtext())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def logtext(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Stack:
    """Fake upstream + responder.  key=None runs the local engine."""

    def __init__(self, env=None, key=TEST_KEY, fake=True, args=None,
                 tls=None):
        # MJ_UPSTREAM_TLS=1 puts the TLS + HTTP/2 front before the fake
        # for every stack that doesn't say otherwise.
        if tls is None:
            tls = os.environ.get("MJ_UPSTREAM_TLS") == "1"
        self.fake = FakeOpenAI(expect_key=key) if fake else None
        self.env = {}
        if key is not None:
            self.env["OPENAI_API_KEY"] = key
        # 0.1's behaviour unless a test asks for a detach window: a run
        # whose client left is cancelled at once (SPEC "Runs").
        self.env["MATCHJOBS_DETACH_MS"] = "0"
        self.env.update(env or {})
        self.args = args
        self.tls = tls and self.fake is not None
        self.front = None       # tests/tls_front.TLSFront when tls
        self.responder = Responder(env=self.env, args=args)
        self.addr = self.responder.addr
        self.seen = []          # response bodies, for the key check

    def __enter__(self):
        if self.fake is not None:
            self.fake.start()
            base = self.fake.base_url
            if self.tls:
                from tls_front import TLSFront
                self.front = TLSFront(self.responder.tmp,
                                      self.fake.port).start()
                base = self.front.base_url
                self.responder.env.setdefault("MATCHJOBS_CA_FILE",
                                              self.front.ca_file)
            self.responder.env.setdefault("OPENAI_BASE_URL", base)
        self.responder.start()
        return self

    def __exit__(self, *exc):
        self.exit_code = self.responder.stop()
        if self.front is not None:
            self.front.stop()
            calls = self.front.calls()
            log = self.upstream_log()
            log = log["requests"] if isinstance(log, dict) else log
            TLS_SEEN.append((len(calls), sorted(set(c["protocol"]
                                                   for c in calls)),
                             len(log)))
        if self.fake is not None:
            self.fake.stop()

    # -- requests ---------------------------------------------------------
    def request(self, method, path, headers=None, body=b"", **kw):
        r = fcgi_client.request(self.addr, method, path, headers, body,
                                timeout=kw.pop("timeout", 60), **kw)
        self.seen.append(r.stdout)
        return r

    def post_json(self, path, document, headers=None, **kw):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        body = document if isinstance(document, (bytes, str)) \
            else json.dumps(document)
        return self.request("POST", path, h, body, **kw)

    def post_form(self, path, document, pdf=None, resume_text=None,
                  headers=None, raw_json=None, extra=None, **kw):
        ctype, body = form_body(document, pdf, resume_text, raw_json, extra)
        h = {"Content-Type": ctype}
        h.update(headers or {})
        return self.request("POST", path, h, body, **kw)

    def stream(self, path, document, pdf=None, resume_text=None,
               headers=None, **kw):
        """An open fcgi_client.Stream for a multipart POST."""
        ctype, body = form_body(document, pdf, resume_text)
        h = {"Content-Type": ctype}
        h.update(headers or {})
        return fcgi_client.Stream(self.addr, "POST", path, h, body,
                                  timeout=kw.pop("timeout", 60), **kw)

    def upstream_log(self):
        return self.fake.log() if self.fake else []

    def upstream_after_barrier(self):
        """The fake's log without waiting a fixed time: a marker request
        is scored first (its call is logged before it is answered, and
        requests answered before it made theirs before it started), then
        the entries other than the marker's are returned."""
        marker = "barrier-%d" % time.monotonic_ns()
        r = self.post_json("/api/match-jobs", {
            "user_id": "barrier", "resume_text": "Go developer.",
            "jobs": {"jobtitle": marker, "jobdata": "Go developer."}})
        if r.status != 200:
            raise AssertionError("barrier request answered %s" % r.status)
        log = self.upstream_log()
        log = log["requests"] if isinstance(log, dict) else log
        return [e for e in log if marker not in (e.get("user_content") or "")]

    def leaked_key(self):
        """True if TEST_KEY appears in any response or the log."""
        k = TEST_KEY.encode()
        if any(k in s for s in self.seen):
            return True
        return TEST_KEY in self.responder.logtext()


def events(resp):
    """[(event, data_dict)] of an SSE response body."""
    out = []
    for ev, data in resp.sse():
        out.append((ev, json.loads(data)))
    return out


def frames(resp):
    """[(id, event, data_dict)] of an SSE response body."""
    body = resp.body if isinstance(resp.body, bytes) else resp.body.encode()
    return [(i, ev, json.loads(d))
            for i, ev, d in fcgi_client.parse_sse_frames(body)]


def wait_until(pred, timeout=5.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def strict():
    """True under CI=true or MJ_STRICT=1 (./run-tests): a test whose
    dependency is missing fails there instead of skipping."""
    return os.environ.get("CI") == "true" or os.environ.get("MJ_STRICT") == "1"


def missing(reason):
    """A dependency of the whole test file is missing: skip it on a
    developer's machine, fail it under strict(); exits either way."""
    if strict():
        print("not ok 1 - required but missing: %s" % reason, flush=True)
        print("1..1", flush=True)
        sys.exit(1)
    print("1..0 # SKIP %s" % reason, flush=True)
    sys.exit(0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
