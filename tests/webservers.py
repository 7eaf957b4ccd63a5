"""Real web servers for the integration tests (tests/it_nginx.test,
tests/it_apache_*.test, tests/it_shared_host.test).

Each server runs on 127.0.0.1:<free port> from a temp directory, with a
configuration generated from the SHIPPED file under conf/: the shipped
text is kept as is, and only paths, ports and the socket are substituted
(render() fails if an expected string is missing, so a config edit that
breaks a substitution is noticed).  A minimal main config is written
around it: pid file, error log, listen port, modules, temp dirs.

Helpers for the checks every file makes: curl_spec() runs the SPEC's curl
example with the real curl binary, timed_stream() reads a response
incrementally with arrival times, token_spread(), padded_pdf(), and
request() for one request with http.client.
"""

import http.client
import json
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import time

import fcgi_client
import harness

TESTS = harness.HERE
TOP = os.path.dirname(os.path.abspath(TESTS))
CONF = os.path.join(TOP, "conf")
APACHE_MODULES = "/usr/lib/apache2/modules"
APACHE_BIN = shutil.which("apache2") or "/usr/sbin/apache2"
NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
LIGHTTPD_BIN = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
CURL_BIN = shutil.which("curl")

# The SPEC's reference request, verbatim but for host and port.
SPEC_JSON = ('{"user_id":"test","jobs":{"jobtitle":"Developer",'
             '"joblink":"https://example.com",'
             '"jobdata":"Job description..."}}')


def missing(*paths):
    """The first of paths that does not exist, or None."""
    for p in paths:
        if not p or not os.path.exists(p):
            return p or "(not found in PATH)"
    return None


def render(path, subs):
    """The text of the shipped config `path` with each (old, new) of subs
    replaced; every old string must occur."""
    with open(path) as f:
        text = f.read()
    for old, new in subs:
        if old not in text:
            raise AssertionError("%s: %r not found (did the shipped config "
                                 "change?)" % (path, old))
        text = text.replace(old, new)
    return text


def is_root():
    return os.geteuid() == 0


def open_up(*paths, mode=0o755):
    """chmod paths so a dropped-privilege server user can use them."""
    for p in paths:
        os.chmod(p, mode)


def wait_port(port, proc, what, logpath, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("%s exited %s:\n%s" %
                               (what, proc.returncode, read(logpath)))
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen:\n%s" % (what, read(logpath)))


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def write_control(docroot):
    """A static text file: proof that the server compresses what it may."""
    with open(os.path.join(docroot, "control.txt"), "w") as f:
        f.write("compress me\n" * 200)


class Server:
    """A web server child process; start() waits until it listens."""

    name = "server"

    def __init__(self, tmp):
        self.tmp = tmp
        self.port = harness.free_port()
        self.proc = None
        self.errlog = os.path.join(tmp, "%s-error.log" % self.name)
        self.out = os.path.join(tmp, "%s-stdout.log" % self.name)

    def command(self):
        raise NotImplementedError

    def start(self):
        self.write_config()
        with open(self.out, "ab") as out:
            self.proc = subprocess.Popen(self.command(),
                                         stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out,
                                         start_new_session=True)
        wait_port(self.port, self.proc, self.name, self.out)
        return self

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log(self):
        return read(self.errlog) + read(self.out)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Nginx(Server):
    """nginx with the shipped server block (conf/nginx/matchjobs-site.conf),
    the way run-demo generates it, plus optional extra server blocks."""

    name = "nginx"

    def __init__(self, tmp, sock, site="matchjobs-site.conf", extra=""):
        super().__init__(tmp)
        self.sock = sock
        self.site = site
        self.extra = extra      # more server { } text, may use {tmp}

    def site_text(self):
        return render(os.path.join(CONF, "nginx", self.site), [
            ("listen 80;", "listen 127.0.0.1:%d;" % self.port),
            ("    listen [::]:80;\n", ""),
            ("unix:/run/matchjobs/matchjobs.sock", "unix:" + self.sock),
            ("/usr/share/matchjobs/web", os.path.join(self.tmp, "web")),
            ("include fastcgi_params;", "include /etc/nginx/fastcgi_params;"),
        ])

    def write_config(self):
        t = self.tmp
        os.makedirs(os.path.join(t, "web"), exist_ok=True)
        with open(os.path.join(t, "web", "index.html"), "w") as f:
            f.write("<!doctype html><title>matchjobs</title>\n")
        write_control(os.path.join(t, "web"))
        with open(os.path.join(t, "site.conf"), "w") as f:
            f.write(self.site_text())
        conf = """%(user)s
worker_processes 1;
pid %(t)s/nginx.pid;
error_log %(err)s info;
daemon off;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log %(t)s/nginx-access.log;
    client_body_temp_path %(t)s/nginx-body;
    fastcgi_temp_path %(t)s/nginx-fastcgi;
    proxy_temp_path %(t)s/nginx-proxy;
    uwsgi_temp_path %(t)s/nginx-uwsgi;
    scgi_temp_path %(t)s/nginx-scgi;
    # As a host might have it: gzip everything, the stream too.  The
    # shipped config must switch it off for the API.
    gzip on;
    gzip_types text/event-stream application/json text/plain;
    gzip_min_length 1;
    include %(t)s/site.conf;
%(extra)s
}
""" % {"user": "user root;" if is_root() else "", "t": t,
            "err": self.errlog, "extra": self.extra.replace("{tmp}", t)}
        self.conf = os.path.join(t, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def command(self):
        return [NGINX_BIN, "-p", self.tmp, "-c", self.conf]


class Lighttpd(Server):
    """lighttpd in the foreground with the shipped snippet
    (conf/lighttpd/matchjobs.conf) included from a minimal main config.
    subs are extra (old, new) substitutions in the snippet (a test's
    variant of it); extra is more main-config text.  No server.username:
    as root lighttpd then stays root (it accepts that), so the temp dir
    needs no opening up."""

    name = "lighttpd"

    def __init__(self, tmp, sock=None, snippet="matchjobs.conf", subs=(),
                 extra="", tag=""):
        self.name = "lighttpd" + tag
        super().__init__(tmp)
        self.sock = sock
        self.snippet = snippet
        self.subs = list(subs)
        self.extra = extra
        self.tag = tag

    def snippet_text(self):
        subs = [("/usr/share/matchjobs/lighttpd/error-",
                 os.path.join(CONF, "lighttpd", "error-"))]
        if self.sock:
            subs.append(("/run/matchjobs/matchjobs.sock", self.sock))
        return render(os.path.join(CONF, "lighttpd", self.snippet),
                      subs + self.subs)

    def write_config(self):
        t = self.tmp
        tag = self.tag
        web = os.path.join(t, "web")
        upload = os.path.join(t, "lighttpd-upload" + tag)
        os.makedirs(web, exist_ok=True)
        os.makedirs(upload, exist_ok=True)
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>matchjobs</title>\n")
        write_control(web)
        snippet = os.path.join(t, "lighttpd-matchjobs%s.conf" % tag)
        with open(snippet, "w") as f:
            f.write(self.snippet_text())
        conf = """# generated by tests/webservers.py
server.modules = ( "mod_access", "mod_accesslog", "mod_deflate" )
server.document-root = "%(web)s"
server.bind = "127.0.0.1"
server.port = %(port)d
server.pid-file = "%(t)s/lighttpd%(tag)s.pid"
server.errorlog = "%(err)s"
accesslog.filename = "%(t)s/lighttpd%(tag)s-access.log"
server.upload-dirs = ( "%(upload)s" )
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain",
                    ".json" => "application/json", ".css" => "text/css",
                    ".js" => "application/javascript" )
# As a host might have it: compress everything, the stream too.
deflate.mimetypes = ( "text/html", "text/plain", "application/json",
                      "text/event-stream" )
deflate.allowed-encodings = ( "gzip", "deflate" )
%(extra)s
include "%(snippet)s"
""" % {"web": web, "port": self.port, "t": t, "tag": tag,
            "err": self.errlog, "upload": upload, "snippet": snippet,
            "extra": self.extra}
        self.conf = os.path.join(t, "lighttpd%s.conf" % tag)
        with open(self.conf, "w") as f:
            f.write(conf)

    def command(self):
        return [LIGHTTPD_BIN, "-D", "-f", self.conf]


APACHE_BASE_MODULES = [
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("mime_module", "mod_mime.so"),
    ("alias_module", "mod_alias.so"),
    ("dir_module", "mod_dir.so"),
    ("env_module", "mod_env.so"),
    ("setenvif_module", "mod_setenvif.so"),
    ("headers_module", "mod_headers.so"),
    ("rewrite_module", "mod_rewrite.so"),
    ("filter_module", "mod_filter.so"),
    ("deflate_module", "mod_deflate.so"),
]
FCGID_MODULES = [("fcgid_module", "mod_fcgid.so")]
PROXY_MODULES = [("proxy_module", "mod_proxy.so"),
                 ("proxy_fcgi_module", "mod_proxy_fcgi.so")]


def apache_user():
    """(user, group) for Apache's children: Apache refuses User root."""
    if not is_root():
        return (pwd.getpwuid(os.getuid()).pw_name,
                grp.getgrgid(os.getgid()).gr_name)
    for u in ("www-data", "daemon", "nobody"):
        try:
            pw = pwd.getpwnam(u)
            return u, grp.getgrgid(pw.pw_gid).gr_name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user for Apache")


class Apache(Server):
    """apache2 in the foreground with a minimal main config around `site`
    (text, already rendered from a shipped file).  The temp dir is opened
    up (0755, run/ 0777) for the unprivileged child user."""

    name = "apache"

    def __init__(self, tmp, site, modules=(), docroot=None, loglevel="info"):
        super().__init__(tmp)
        self.site = site
        self.modules = list(APACHE_BASE_MODULES) + list(modules)
        self.docroot = docroot or os.path.join(tmp, "htdocs")
        self.loglevel = loglevel

    def write_config(self):
        t = self.tmp
        run = os.path.join(t, "run")
        os.makedirs(run, exist_ok=True)
        os.makedirs(self.docroot, exist_ok=True)
        write_control(self.docroot)
        open_up(t)
        open_up(run, mode=0o777)
        user, group = apache_user()
        loads = "\n".join("LoadModule %s %s/%s" % (n, APACHE_MODULES, f)
                          for n, f in self.modules)
        fcgid = ""
        if any(n == "fcgid_module" for n, _ in self.modules):
            fcgid = ("FcgidIPCDir %s/fcgid-ipc\n"
                     "FcgidProcessTableFile %s/fcgid-shm\n" % (run, run))
        conf = """# generated by tests/webservers.py
%(loads)s
ServerName 127.0.0.1
ServerRoot %(t)s
Listen 127.0.0.1:%(port)d
PidFile %(run)s/apache.pid
DefaultRuntimeDir %(run)s
Mutex file:%(run)s default
ErrorLog %(err)s
LogLevel %(loglevel)s
LogFormat "%%h %%r %%>s %%b %%D" brief
CustomLog %(t)s/apache-access.log brief
User %(user)s
Group %(group)s
Timeout 300
KeepAlive On
StartServers 1
ServerLimit 2
MinSpareThreads 1
MaxSpareThreads 50
ThreadsPerChild 25
MaxRequestWorkers 50
TypesConfig /etc/mime.types
DocumentRoot %(docroot)s
<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<Directory %(docroot)s>
    Require all granted
</Directory>
<Files ".ht*">
    Require all denied
</Files>
# As a host might have it: compress everything, the stream too (Debian's
# deflate.conf leaves text/event-stream out).  The shipped configs opt
# out with SetEnv no-gzip 1.
AddOutputFilterByType DEFLATE text/html text/plain application/json
AddOutputFilterByType DEFLATE text/event-stream
# Debian's fcgid.conf
%(fcgid)s<IfModule mod_fcgid.c>
    FcgidConnectTimeout 20
    AddHandler fcgid-script .fcgi
</IfModule>
Include %(site)s
""" % {"loads": loads, "t": t, "port": self.port, "run": run,
            "err": self.errlog, "loglevel": self.loglevel, "user": user,
            "group": group, "docroot": self.docroot, "fcgid": fcgid,
            "site": os.path.join(t, "site.conf")}
        with open(os.path.join(t, "site.conf"), "w") as f:
            f.write(self.site)
        self.conf = os.path.join(t, "apache2.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def command(self):
        return [APACHE_BIN, "-d", self.tmp, "-f", self.conf, "-DFOREGROUND"]

    def stop(self):
        super().stop()
        # mod_fcgid's process manager stops its children on exit; give it
        # a moment (the test checks none is left).


# ---- clients ------------------------------------------------------------

def curl_spec(port, prefix="", pdf=None, json_body=SPEC_JSON, timeout=60):
    """The SPEC's curl example (with -sS -N) against port; returns
    (returncode, stdout bytes, stderr text)."""
    pdf = pdf or os.path.join(harness.PDF, "resume.pdf")
    url = "http://127.0.0.1:%d%s/api/match-jobs/stream" % (port, prefix)
    cmd = [CURL_BIN, "-sS", "-N", "-X", "POST", url,
           "-F", "json_body=" + json_body,
           "-F", "pdf_file=@" + pdf, "--no-buffer"]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def sse_events(body):
    """[(event, data dict)] of an SSE body (fcgi_client.parse_sse)."""
    out = []
    for ev, data in fcgi_client.parse_sse(body):
        try:
            out.append((ev, json.loads(data)))
        except ValueError:
            out.append((ev, {"unparsed": data}))
    return out


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # lower-case name -> value
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:300])


def request(port, method, path, body=b"", headers=None, timeout=60):
    """One request with http.client; the whole response."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                        data)
    finally:
        c.close()


def post_form(port, path, document=None, pdf=None, resume_text=None,
              headers=None, raw=None, timeout=60):
    ctype, body = harness.form_body(document, pdf=pdf,
                                    resume_text=resume_text) \
        if raw is None else raw
    h = {"Content-Type": ctype}
    h.update(headers or {})
    return request(port, "POST", path, body, h, timeout=timeout)


class TimedStream:
    """A POST (or with method="GET" and no body, a GET) whose response is
    read incrementally: .events holds (arrival time, event, data dict) as
    they come."""

    def __init__(self, port, path, body, ctype, headers=None, timeout=60,
                 method="POST"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port,
                                               timeout=timeout)
        h = {"Accept": "text/event-stream"}
        if ctype is not None:
            h["Content-Type"] = ctype
        h.update(headers or {})
        self.conn.request(method, path, body=body, headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.parser = fcgi_client.SSEParser()
        self.events = []
        self.raw = b""

    def read_some(self):
        """Read what has arrived (at least 1 byte); False at EOF."""
        data = self.resp.read1(65536)
        if not data:
            return False
        now = time.monotonic()
        self.raw += data
        for ev, d in self.parser.feed(data):
            try:
                d = json.loads(d)
            except ValueError:
                d = {"unparsed": d}
            self.events.append((now, ev, d))
        return True

    def read_until(self, pred, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self):
                return True
            if not self.read_some():
                break
        return pred(self)

    def read_all(self):
        while self.read_some():
            pass
        return self

    def close(self):
        """Drop the connection at once (the client goes away)."""
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()

    def kinds(self):
        return [e for _, e, _ in self.events]


def token_spread(events):
    """(spread seconds, median gap seconds, count) of the token arrivals."""
    ts = [t for t, e, _ in events if e == "token"]
    if len(ts) < 2:
        return 0.0, 0.0, len(ts)
    gaps = sorted(b - a for a, b in zip(ts, ts[1:]))
    return ts[-1] - ts[0], gaps[len(gaps) // 2], len(ts)


def padded_pdf(size):
    """resume.pdf padded to `size` bytes with PDF comment lines before a
    repeated startxref/%%EOF trailer: still a valid PDF (the xref offsets
    don't move), and poppler reads it as the original."""
    data = harness.pdf_bytes("resume.pdf")
    tail = data[data.rindex(b"startxref"):]
    line = b"%" + b"x" * 78 + b"\n"
    need = size - len(data) - len(tail)
    pad = line * (need // len(line))
    pad += b"%" + b"y" * max(0, need - len(pad) - 2) + b"\n"
    out = data + pad + tail
    return out[:size] if len(out) > size else out


def stream_doc(jobdata, title="Developer"):
    return harness.doc(harness.job(title, jobdata, "https://example.com"))


def upstream_entry(fake, marker):
    """The fake upstream's log entry whose prompt holds marker."""
    log = fake.log()
    if isinstance(log, dict):           # the /_log document
        log = log["requests"]
    for e in log:
        if marker in (e.get("user_content") or ""):
            return e
    return None


def procs_running(exe):
    """PIDs of processes whose executable is exe (a test's own copy)."""
    out = []
    real = os.path.realpath(exe)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/exe" % pid) == real:
                out.append(int(pid))
        except OSError:
            continue
    return out


# ---- the checks every web-server test makes ------------------------------

SEEN = []       # every response body, for the key-leak check


def _seen(resp):
    SEEN.append(resp.body if isinstance(resp, Response) else resp)
    return resp


def final_kinds(kinds):
    """The last two event types (complete, done on success)."""
    return kinds[-2:]


class Checks:
    """The checks of tests/it_nginx.test, it_apache_*.test and
    it_shared_host.test against one running server.  prefix is the URL
    path before /api/ (e.g. "/~alice/matchjobs")."""

    def __init__(self, t, port, fake, prefix="", label=""):
        self.t = t
        self.port = port
        self.fake = fake
        self.prefix = prefix
        self.label = label + ": " if label else ""

    def url(self, route):
        return self.prefix + route

    def ok(self, cond, msg, detail=None):
        return self.t.ok(cond, self.label + msg, detail)

    def eq(self, got, want, msg):
        return self.t.eq(got, want, self.label + msg)

    # GET /api/health
    def health(self, engine="openai"):
        r = _seen(request(self.port, "GET", self.url("/api/health")))
        self.eq(r.status, 200, "GET /api/health answers 200")
        ok = r.headers.get("content-type", "").startswith("application/json")
        doc = r.json() if ok else {}
        self.ok(ok and doc.get("status") == "ok" and
                doc.get("engine") == engine,
                "health is JSON with status ok, engine %s" % engine, r)
        return doc

    # The SPEC's curl example, verbatim but for the port (and prefix).
    def spec_curl(self):
        rc, out, err = curl_spec(self.port, self.prefix)
        _seen(out)
        evs = sse_events(out)
        kinds = [e for e, _ in evs]
        self.ok(rc == 0, "SPEC curl example exits 0", err)
        self.eq(final_kinds(kinds), ["complete", "done"],
                "SPEC curl example streams to complete, done")
        self.ok("token" in kinds and "job_start" in kinds and
                kinds and kinds[0] == "status",
                "SPEC curl stream has status, job_start and tokens", kinds)
        resp = evs[-2][1].get("response", {}) if len(evs) >= 2 else {}
        self.ok(resp.get("user_id") == "test" and
                resp.get("scored_jobs") == 1 and
                resp.get("matched_jobs", [{}])[0].get("jobtitle") ==
                "Developer", "SPEC curl complete event holds the response",
                resp)
        return evs

    # Tokens 100 ms apart reach the client 100 ms apart.
    def incremental(self, gzip_asked=True, expect_stream=True):
        marker = "INCR-%s-%d" % (self.label.strip(": ") or "x",
                                 time.monotonic_ns())
        ct, body = harness.form_body(
            stream_doc(marker + " <<fake:delay=100;tokens=12>>"),
            resume_text="Python developer with SQL and Docker.")
        h = {"Accept-Encoding": "gzip"} if gzip_asked else {}
        s = TimedStream(self.port, self.url("/api/match-jobs/stream"),
                        body, ct, headers=h)
        try:
            s.read_all()
        finally:
            s.close()
        _seen(s.raw)
        self.eq(s.status, 200, "stream answers 200")
        self.eq(s.headers.get("content-type"), "text/event-stream",
                "stream Content-Type is text/event-stream")
        if gzip_asked:
            self.eq(s.headers.get("content-encoding"), None,
                    "stream is not compressed although the client accepts "
                    "gzip and the server compresses text/event-stream")
        self.eq(final_kinds(s.kinds()), ["complete", "done"],
                "paced stream ends with complete, done")
        spread, median, n = token_spread(s.events)
        if expect_stream:
            self.ok(n >= 10 and spread >= 0.7 and median > 0.05,
                    "tokens paced 100 ms apart arrive spread out "
                    "(%d tokens over %.2f s, median gap %.0f ms)"
                    % (n, spread, median * 1000))
        else:
            self.ok(n >= 10 and spread < 0.3,
                    "with the host's default FcgidOutputBufferSize the "
                    "stream arrives in one lump (%d tokens over %.2f s), "
                    "as documented" % (n, spread))
        return spread, median

    # 5 MB passes, the responder's 413 between its limit and the server's,
    # a JSON 413 over the server's limit.
    def uploads(self, responder_413=True):
        big = padded_pdf(5 * 1000 * 1000)
        marker = "UPLOAD-%d" % time.monotonic_ns()
        r = _seen(post_form(self.port, self.url("/api/match-jobs"),
                            stream_doc(marker + " Python developer"),
                            pdf=big))
        doc = r.json() if r.status == 200 else {}
        self.ok(r.status == 200 and doc.get("scored_jobs") == 1,
                "a 5 MB PDF upload passes and is scored", r)
        e = upstream_entry(self.fake, marker) or {}
        self.ok("Camille" in (e.get("user_content") or ""),
                "the 5 MB PDF's text reached the model prompt",
                (e.get("user_content") or "")[:500])
        if responder_413:
            r = _seen(post_form(self.port, self.url("/api/match-jobs"),
                                stream_doc("x"),
                                pdf=padded_pdf(int(10.5 * 1024 * 1024))))
            self.ok(r.status == 413 and r.headers.get("content-type", "")
                    .startswith("application/json") and
                    "10485760" in r.json()["error"]["message"],
                    "a 10.5 MiB upload reaches the responder: its JSON 413",
                    r)
        r = _seen(post_form(self.port, self.url("/api/match-jobs"),
                            stream_doc("x"), pdf=padded_pdf(12 * 1000 * 1000)))
        self.eq(r.status, 413, "a 12 MB upload gets 413")
        try:
            code = r.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        self.ok(r.headers.get("content-type", "").startswith(
            "application/json") and code == "too_large",
            "the 12 MB 413 is JSON with code too_large", r)

    # Closing the client mid-stream aborts the upstream call.
    def abort(self, within=5.0):
        marker = "ABORT-%s-%d" % (self.label.strip(": ") or "x",
                                  time.monotonic_ns())
        ct, body = harness.form_body(
            stream_doc(marker + " <<fake:delay=200;tokens=50>>"),
            resume_text="Python developer with SQL and Docker.")
        s = TimedStream(self.port, self.url("/api/match-jobs/stream"),
                        body, ct)
        got = s.read_until(lambda s: s.kinds().count("token") >= 3, 15)
        closed_at = time.time()
        s.close()
        self.ok(got, "abort: stream started (3 tokens seen)", s.kinds())

        def closed():
            e = upstream_entry(self.fake, marker)
            return e is not None and e.get("client_closed")
        ok = harness.wait_until(closed, timeout=within, step=0.05)
        e = upstream_entry(self.fake, marker) or {}
        took = ("%.2f s later" % (e["client_closed_at"] - closed_at)
                if e.get("client_closed_at") else "never")
        self.ok(ok and (e.get("tokens_sent") or 50) < 50,
                "closing the client mid-stream aborts the upstream call "
                "(client_closed %s, %s of 50 tokens sent)"
                % (took, e.get("tokens_sent")), e)

    # The plain route.
    def plain(self):
        r = _seen(post_form(self.port, self.url("/api/match-jobs"),
                            harness.doc([harness.job("Developer", "Python",
                                                     jobid="j1"),
                                         harness.job("DBA", "SQL")]),
                            resume_text="Python and SQL developer"))
        doc = r.json() if r.status == 200 else {}
        self.ok(r.status == 200 and r.headers.get("content-type", "")
                .startswith("application/json") and
                doc.get("scored_jobs") == 2 and doc.get("engine") == "openai"
                and any(j.get("jobid") == "j1"
                        for j in doc.get("matched_jobs", [])),
                "plain route answers the JSON match response", r)
        return doc

    def gzip_control(self):
        r = request(self.port, "GET", "/control.txt",
                    headers={"Accept-Encoding": "gzip"})
        self.eq(r.headers.get("content-encoding"), "gzip",
                "control: the server does gzip a static text file (so "
                "the uncompressed stream proves the opt-out works)")

    def unknown_route(self):
        r = _seen(request(self.port, "GET", self.url("/api/nope")))
        self.ok(r.status == 404 and r.headers.get("content-type", "")
                .startswith("application/json"),
                "unknown /api/ route: the responder's JSON 404", r)


def leaked(*texts):
    """True if TEST_KEY is in any seen body or in texts (logs)."""
    k = harness.TEST_KEY
    if any(k.encode() in (b if isinstance(b, bytes) else b.encode())
           for b in SEEN):
        return True
    return any(k in x for x in texts)


def active_lines(path, comment="#"):
    """The non-comment, non-blank lines of a shipped config."""
    out = []
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s and not s.startswith(comment):
                out.append(s)
    return out


def apache_complaints(log, allow=()):
    """Apache error-log lines at warn level or worse, minus the expected
    ones (substrings in allow)."""
    out = []
    for line in log.splitlines():
        if not any(":%s]" % lv in line for lv in
                   ("warn", "error", "crit", "alert", "emerg")):
            continue
        if any(a in line for a in allow):
            continue
        out.append(line)
    return out


def cleanup(t, tmp):
    """Remove the temp dir when every check passed (kept for a look
    otherwise; its path is printed)."""
    if t.failed == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        t.diag("logs and configs kept in " + tmp)
