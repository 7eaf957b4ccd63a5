#!/usr/bin/env python3
"""A small FastCGI 1.0 client (responder role) for tests.  Stdlib only.

Library use:

    import fcgi_client as fc
    r = fc.request("unix:/tmp/mj.sock", "GET", "/api/health")
    r.status, r.headers.get("content-type"), r.body, r.json()

    ctype, body = fc.multipart([("json_body", doc),
                                ("pdf_file", ("resume.pdf", data))])
    with fc.Stream("unix:/tmp/mj.sock", "POST", "/api/match-jobs/stream",
                   headers={"Content-Type": ctype}, body=body) as s:
        for t, event, data in s.events():     # SSE events as they arrive
            ...                                # s.close() to leave early

Addresses are "unix:/path" or "host:port".  Requests carry CGI params built
like a web server would (see build_params; style= picks nginx, apache
mod_fcgid, mod_proxy_fcgi or bare REQUEST_URI routing).  The request body
goes out in STDIN records of at most stdin_chunk bytes, optionally slowly
(stdin_delay), from a sender thread so a server that answers early (413)
cannot deadlock us.

Also here: the record codec (record, encode_params, decode_params,
read_record), get_values() for FCGI_GET_VALUES, multipart() that builds what
curl -F builds, and a WHATWG server-sent-events parser (SSEParser,
parse_sse).

CLI (prints the body as it streams, like curl --no-buffer):

    python3 tests/fcgi_client.py unix:/tmp/s POST /api/match-jobs/stream \\
        -F 'json_body={...}' -F 'pdf_file=@tests/pdf/resume.pdf'
"""

import argparse
import codecs
import json
import os
import socket
import struct
import sys
import threading
import time

VERSION = 1
BEGIN_REQUEST = 1
ABORT_REQUEST = 2
END_REQUEST = 3
PARAMS = 4
STDIN = 5
STDOUT = 6
STDERR = 7
DATA = 8
GET_VALUES = 9
GET_VALUES_RESULT = 10
UNKNOWN_TYPE = 11

RESPONDER = 1
KEEP_CONN = 1
MAX_CONTENT = 65535
HEADER = struct.Struct(">BBHHBx")

STYLES = ("nginx", "apache", "proxy_fcgi", "uri_only")


# ---- record codec -------------------------------------------------------

def record(rtype, req_id, content=b"", pad=True):
    """One record; content <= 65535 bytes, padded to a multiple of 8."""
    if len(content) > MAX_CONTENT:
        raise ValueError("record content over 65535 bytes")
    padding = (-len(content)) % 8 if pad else 0
    return HEADER.pack(VERSION, rtype, req_id, len(content), padding) + \
        content + b"\0" * padding


def stream_records(rtype, req_id, data, size=MAX_CONTENT):
    """data as records of at most size bytes, without the empty ender."""
    return [record(rtype, req_id, data[i:i + size])
            for i in range(0, len(data), size)]


def encode_length(n):
    if n < 128:
        return bytes([n])
    return struct.pack(">I", n | 0x80000000)


def encode_params(pairs):
    """Name-value pairs (str or bytes) in FastCGI's length-prefixed form."""
    out = bytearray()
    for name, value in pairs:
        name = name.encode() if isinstance(name, str) else name
        value = value.encode() if isinstance(value, str) else value
        out += encode_length(len(name)) + encode_length(len(value))
        out += name + value
    return bytes(out)


def decode_params(data):
    """The inverse of encode_params: a list of (bytes, bytes)."""
    pairs, pos = [], 0

    def length():
        nonlocal pos
        if data[pos] < 128:
            pos += 1
            return data[pos - 1]
        n = struct.unpack(">I", data[pos:pos + 4])[0] & 0x7FFFFFFF
        pos += 4
        return n

    while pos < len(data):
        nlen = length()
        vlen = length()
        name = data[pos:pos + nlen]
        value = data[pos + nlen:pos + nlen + vlen]
        pos += nlen + vlen
        pairs.append((name, value))
    return pairs


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return bytes(buf)


def read_record(sock):
    """(type, request id, content) of the next record, or None at EOF."""
    head = recv_exact(sock, HEADER.size)
    if head is None:
        return None
    _version, rtype, req_id, clen, plen = HEADER.unpack(head)
    body = recv_exact(sock, clen + plen)
    if body is None:
        return None
    return rtype, req_id, body[:clen]


def connect(addr, timeout=30.0):
    """A connected socket for "unix:/path" or "host:port"."""
    if addr.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = addr[5:]
    else:
        host, _, port = addr.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        sock = socket.socket(socket.AF_INET6 if ":" in host
                             else socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    sock.settimeout(timeout)
    try:
        sock.connect(target)
    except OSError:
        sock.close()
        raise
    return sock


# ---- CGI params ---------------------------------------------------------

def build_params(method, path, headers=None, body_len=0, style="nginx",
                 script_name="/matchjobs.fcgi", content_length=True,
                 script_filename="/srv/matchjobs/matchjobs.fcgi"):
    """CGI params (an ordered list of (name, value)) for one request.

    path is the request URI as the browser sent it (path and ?query).
    style says how the web server fills the routing params:
      nginx       Debian's fastcgi_params: SCRIPT_NAME = the whole path,
                  DOCUMENT_URI = the path, REQUEST_URI; no PATH_INFO.
      apache      mod_fcgid / shared host: SCRIPT_NAME = script_name,
                  PATH_INFO = the rest of the path.  If path does not start
                  with script_name it is prefixed with it
                  ("/api/health" -> /matchjobs.fcgi/api/health).
      proxy_fcgi  mod_proxy_fcgi ProxyPass: SCRIPT_NAME = the path,
                  PATH_INFO = the path, no DOCUMENT_URI.
      uri_only    only REQUEST_URI (and QUERY_STRING).
    CONTENT_LENGTH is left out when content_length is False (a chunked
    upload through mod_proxy_fcgi); for bodiless requests it is "" as
    nginx sends it.
    """
    if style not in STYLES:
        raise ValueError("style must be one of %s" % (STYLES,))
    headers = dict(headers or {})
    if style == "apache" and not path.startswith(script_name):
        path = script_name + path
    uri_path, _, query = path.partition("?")
    params = [
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("SERVER_SOFTWARE", "fcgi_client.py"),
        ("QUERY_STRING", query),
        ("REQUEST_METHOD", method),
    ]
    ctype = None
    for name, value in headers.items():
        if name.lower() == "content-type":
            ctype = value
    params.append(("CONTENT_TYPE", ctype or ""))
    if content_length:
        params.append(("CONTENT_LENGTH", str(body_len) if body_len else ""))
    if style == "nginx":
        params += [("SCRIPT_NAME", uri_path), ("REQUEST_URI", path),
                   ("DOCUMENT_URI", uri_path),
                   ("SCRIPT_FILENAME", "/var/www/html" + uri_path)]
    elif style == "apache":
        params += [("SCRIPT_NAME", script_name),
                   ("PATH_INFO", uri_path[len(script_name):]),
                   ("REQUEST_URI", path),
                   ("SCRIPT_FILENAME", script_filename)]
    elif style == "proxy_fcgi":
        params += [("SCRIPT_NAME", uri_path), ("PATH_INFO", uri_path),
                   ("REQUEST_URI", path),
                   ("SCRIPT_FILENAME", "proxy:fcgi://localhost" + uri_path)]
    else:
        params.append(("REQUEST_URI", path))
    params += [
        ("DOCUMENT_ROOT", "/var/www/html"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("REQUEST_SCHEME", "http"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("REMOTE_PORT", "54321"),
        ("SERVER_ADDR", "127.0.0.1"),
        ("SERVER_PORT", "80"),
        ("SERVER_NAME", "localhost"),
        ("REDIRECT_STATUS", "200"),
    ]
    seen = set()
    for name, value in headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH") or key in seen:
            continue
        seen.add(key)
        params.append((key, value))
    return params


def apply_override(params, override):
    """Replace or add params from a dict; a None value removes the param."""
    if not override:
        return params
    out = [(n, v) for n, v in params if n not in override]
    out += [(n, v) for n, v in override.items() if v is not None]
    return out


# ---- responses ----------------------------------------------------------

class Headers(list):
    """A list of (name, value) with case-insensitive lookups."""

    def get(self, name, default=None):
        name = name.lower()
        for key, value in reversed(self):
            if key.lower() == name:
                return value
        return default

    def get_all(self, name):
        name = name.lower()
        return [v for k, v in self if k.lower() == name]

    def __contains__(self, name):
        if isinstance(name, str):
            return self.get(name) is not None
        return list.__contains__(self, name)

    def lower(self):
        """A dict of lowercase name -> last value."""
        return {k.lower(): v for k, v in self}


def split_head(data):
    """(head bytes, body offset) if data holds a complete CGI header."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        idx = data.find(sep)
        if idx >= 0:
            other = data.find(b"\n\n" if sep == b"\r\n\r\n" else b"\r\n\r\n")
            if other >= 0 and other < idx:
                continue
            return data[:idx], idx + len(sep)
    return None, None


def parse_head(head):
    """(status, reason, Headers) from CGI response header bytes."""
    headers = Headers()
    status, reason = 200, "OK"
    for line in head.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        headers.append((name.strip(), value))
        if name.strip().lower() == "status":
            code, _, reason = value.partition(" ")
            try:
                status = int(code)
            except ValueError:
                status = 0
    return status, reason, headers


class Response:
    """A finished FastCGI request (see request())."""

    @classmethod
    def from_stream(cls, stream):
        self = cls()
        self.status = stream.status if stream.head_done else 0
        self.reason = stream.reason
        self.headers = stream.headers
        self.body = stream.body_bytes
        self.stdout = bytes(stream.stdout)
        self.stderr = bytes(stream.stderr)
        self.app_status = stream.app_status
        self.protocol_status = stream.protocol_status
        self.ended = stream.ended
        self.chunks = list(stream.chunks)
        self.send_error = stream.send_error
        return self

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def sse(self, comments=None):
        return parse_sse(self.body, comments)

    def __repr__(self):
        return "<Response %d, %d bytes, ended=%s>" % (
            self.status, len(self.body), self.ended)


class Stream:
    """One request whose STDOUT is read incrementally.

    Iterate it for (time.monotonic(), bytes) per STDOUT record (the raw
    stdout, CGI header included), or use body_parts() for the body and
    events() for SSE events.  close() drops the connection at any point
    (a client that goes away).  After the end: status, headers, body,
    stderr, app_status, protocol_status, ended (END_REQUEST seen).
    """

    def __init__(self, addr, method, path, headers=None, body=b"",
                 params_override=None, timeout=30.0, style="nginx",
                 script_name="/matchjobs.fcgi", content_length=True,
                 stdin_chunk=MAX_CONTENT, stdin_delay=0.0, keep_conn=False,
                 req_id=1, params=None):
        if isinstance(body, str):
            body = body.encode()
        self.req_id = req_id
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.chunks = []
        self.status, self.reason, self.headers = None, None, Headers()
        self.head_done = False
        self.body_offset = 0
        self.app_status = None
        self.protocol_status = None
        self.ended = False
        self.eof = False
        self.send_error = None
        self.started = time.monotonic()
        if params is None:
            params = build_params(method, path, headers, len(body), style,
                                  script_name, content_length)
        params = apply_override(params, params_override)

        self.sock = connect(addr, timeout)
        flags = KEEP_CONN if keep_conn else 0
        out = [record(BEGIN_REQUEST, req_id,
                      struct.pack(">HB5x", RESPONDER, flags))]
        out += stream_records(PARAMS, req_id, encode_params(params))
        out.append(record(PARAMS, req_id))
        try:
            self.sock.sendall(b"".join(out))
        except OSError as exc:
            self.send_error = exc
            return
        self.sender = threading.Thread(
            target=self.send_stdin, args=(body, stdin_chunk, stdin_delay),
            daemon=True)
        self.sender.start()

    def send_stdin(self, body, size, delay):
        try:
            size = max(1, min(size, MAX_CONTENT))
            for rec in stream_records(STDIN, self.req_id, body, size):
                self.sock.sendall(rec)
                if delay:
                    time.sleep(delay)
            self.sock.sendall(record(STDIN, self.req_id))
        except (OSError, AttributeError) as exc:  # closed early
            self.send_error = exc

    def abort(self):
        """Send FCGI_ABORT_REQUEST (web servers never do; for robustness)."""
        try:
            self.sock.sendall(record(ABORT_REQUEST, self.req_id))
        except OSError as exc:
            self.send_error = exc

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __iter__(self):
        """(time.monotonic(), data) for each non-empty STDOUT record."""
        while self.sock is not None and not self.ended and not self.eof:
            try:
                rec = read_record(self.sock)
            except ConnectionResetError:
                rec = None
            if rec is None:
                self.eof = True
                break
            rtype, _rid, content = rec
            now = time.monotonic()
            if rtype == STDOUT:
                if content:
                    self.stdout += content
                    self.chunks.append((now, content))
                    self.parse_head()
                    yield now, content
            elif rtype == STDERR:
                self.stderr += content
            elif rtype == END_REQUEST:
                if len(content) >= 5:
                    self.app_status, self.protocol_status = \
                        struct.unpack(">iB", content[:5])
                self.ended = True

    def parse_head(self):
        if self.head_done:
            return
        head, offset = split_head(bytes(self.stdout))
        if head is not None:
            self.status, self.reason, self.headers = parse_head(head)
            self.body_offset = offset
            self.head_done = True

    def body_parts(self):
        """(time, bytes) for the body, once the CGI header is parsed."""
        sent = 0
        for now, _data in self:
            if not self.head_done:
                continue
            part = bytes(self.stdout[self.body_offset + sent:])
            if part:
                sent += len(part)
                yield now, part

    def events(self, comments=None):
        """(time, event, data) for each SSE event of the body."""
        parser = SSEParser()
        for now, part in self.body_parts():
            for event, data in parser.feed(part):
                yield now, event, data
            if comments is not None:
                comments.extend(parser.comments)
                parser.comments.clear()

    def finish(self):
        """Read to the end, close, and return the Response."""
        try:
            for _ in self:
                pass
        finally:
            self.close()
        return Response.from_stream(self)

    @property
    def body_bytes(self):
        if not self.head_done:
            return b""
        return bytes(self.stdout[self.body_offset:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def request(addr, method, path, headers=None, body=b"", params_override=None,
            timeout=30.0, **kw):
    """Run one request to the end and return a Response.

    status is the "Status:" header (200 without one, 0 if no header came
    at all); headers is a Headers list; body, stderr are bytes; app_status
    and protocol_status come from END_REQUEST (None if it never came;
    ended says whether it did).  Keyword options are Stream's.
    """
    return Stream(addr, method, path, headers, body, params_override,
                  timeout, **kw).finish()


def get_values(addr, names=("FCGI_MAX_CONNS", "FCGI_MAX_REQS",
                            "FCGI_MPXS_CONNS"), timeout=5.0):
    """FCGI_GET_VALUES: a dict name -> value (str), {} if no answer.

    (libfcgi 2.4.2 reads management records only inside a request, so a
    bare GET_VALUES connection gets no answer there.)
    """
    sock = connect(addr, timeout)
    try:
        sock.sendall(record(GET_VALUES, 0,
                            encode_params([(n, "") for n in names])))
        rec = read_record(sock)
    except (socket.timeout, OSError):
        rec = None
    finally:
        sock.close()
    if rec is None or rec[0] != GET_VALUES_RESULT:
        return {}
    return {n.decode(): v.decode() for n, v in decode_params(rec[2])}


# ---- multipart ----------------------------------------------------------

CONTENT_TYPES = {
    ".pdf": "application/pdf", ".txt": "text/plain", ".json":
    "application/json", ".png": "image/png", ".html": "text/html",
}


def multipart(fields, boundary=None):
    """(content_type, body) as curl -F builds them.

    fields: list of (name, value); value is str/bytes for a text field, or
    (filename, bytes) / (filename, bytes, content_type) for a file.
    """
    if boundary is None:
        boundary = "------------------------" + os.urandom(8).hex()
    out = bytearray()
    for name, value in fields:
        out += b"--%s\r\n" % boundary.encode()
        if isinstance(value, tuple):
            filename, data = value[0], value[1]
            ctype = value[2] if len(value) > 2 else CONTENT_TYPES.get(
                os.path.splitext(filename)[1].lower(),
                "application/octet-stream")
            out += ('Content-Disposition: form-data; name="%s"; '
                    'filename="%s"\r\nContent-Type: %s\r\n\r\n' %
                    (name, filename, ctype)).encode()
        else:
            data = value
            out += ('Content-Disposition: form-data; name="%s"\r\n\r\n' %
                    name).encode()
        out += data.encode() if isinstance(data, str) else data
        out += b"\r\n"
    out += b"--%s--\r\n" % boundary.encode()
    return "multipart/form-data; boundary=" + boundary, bytes(out)


# ---- server-sent events -------------------------------------------------

class SSEParser:
    """Incremental event-stream parser following WHATWG HTML 9.2.6.

    feed(bytes) returns the events completed by those bytes as
    (event type, data) tuples; comment lines (text after ':', one leading
    space removed) collect in .comments; last_event_id and retry track the
    id and retry fields.  An unterminated event at the end is discarded, as
    a browser does.
    """

    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending = ""
        self.first = True
        self.event = ""
        self.data = []
        self.comments = []
        self.last_event_id = ""
        self.retry = None
        self.ids = []            # last_event_id as each event was dispatched

    def feed(self, data):
        text = self.pending + self.decoder.decode(data)
        if self.first and text:
            if text.startswith("\ufeff"):
                text = text[1:]
            self.first = False
        events = []
        pos = 0
        while True:
            cr = text.find("\r", pos)
            lf = text.find("\n", pos)
            if cr < 0 and lf < 0:
                break
            if cr >= 0 and (lf < 0 or cr < lf):
                if cr + 1 == len(text):
                    break            # might be the first half of CRLF
                end, nxt = cr, cr + (2 if text[cr + 1] == "\n" else 1)
            else:
                end, nxt = lf, lf + 1
            self.line(text[pos:end], events)
            pos = nxt
        self.pending = text[pos:]
        return events

    def line(self, line, events):
        if line == "":
            if self.data:
                data = "\n".join(self.data)
                events.append((self.event or "message", data))
                self.ids.append(self.last_event_id)
            self.event, self.data = "", []
            return
        if line.startswith(":"):
            comment = line[1:]
            self.comments.append(comment[1:] if comment.startswith(" ")
                                 else comment)
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self.event = value
        elif name == "data":
            self.data.append(value)
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self.retry = int(value)


def parse_sse(data, comments=None):
    """All complete events in data as (event type, data) tuples.

    If comments is a list, the comment lines are appended to it.
    """
    parser = SSEParser()
    events = parser.feed(data.encode() if isinstance(data, str) else data)
    if comments is not None:
        comments.extend(parser.comments)
    return events


def parse_sse_frames(data):
    """All complete events in data as (id, event type, data) tuples; id is
    the last event id at the event's dispatch, as a browser sees it."""
    parser = SSEParser()
    events = parser.feed(data.encode() if isinstance(data, str) else data)
    return [(i, ev, d) for i, (ev, d) in zip(parser.ids, events)]


# ---- CLI ----------------------------------------------------------------

def cli_form_field(spec):
    """A curl -F spec: name=value, name=@file[;type=x], name=<file."""
    name, _, value = spec.partition("=")
    if value.startswith("@"):
        path, *opts = value[1:].split(";")
        ctype, filename = None, os.path.basename(path)
        for opt in opts:
            key, _, val = opt.partition("=")
            if key == "type":
                ctype = val
            elif key == "filename":
                filename = val
        with open(path, "rb") as f:
            data = f.read()
        return name, (filename, data, ctype) if ctype else (filename, data)
    if value.startswith("<"):
        with open(value[1:], "rb") as f:
            return name, f.read()
    return name, value


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Send one FastCGI request; print the body as it comes.")
    ap.add_argument("addr", help="unix:/path or host:port")
    ap.add_argument("method")
    ap.add_argument("path", help="request URI, e.g. /api/health")
    ap.add_argument("-F", "--form", action="append", default=[],
                    help="multipart field as with curl -F")
    ap.add_argument("-d", "--data", help="raw body; @file reads a file")
    ap.add_argument("-H", "--header", action="append", default=[],
                    help="'Name: value'")
    ap.add_argument("-i", "--include", action="store_true",
                    help="print the CGI response header too")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print params, stderr and END_REQUEST to stderr")
    ap.add_argument("--style", choices=STYLES, default="nginx")
    ap.add_argument("--script-name", default="/matchjobs.fcgi")
    ap.add_argument("--no-content-length", action="store_true")
    ap.add_argument("--param", action="append", default=[],
                    help="NAME=VALUE override (NAME= with no '=' removes)")
    ap.add_argument("--stdin-chunk", type=int, default=MAX_CONTENT)
    ap.add_argument("--stdin-delay", type=float, default=0.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args(argv)

    headers = {}
    for h in args.header:
        name, _, value = h.partition(":")
        headers[name.strip()] = value.strip()
    body = b""
    if args.form:
        ctype, body = multipart([cli_form_field(f) for f in args.form])
        headers["Content-Type"] = ctype
    elif args.data is not None:
        if args.data.startswith("@"):
            with open(args.data[1:], "rb") as f:
                body = f.read()
        else:
            body = args.data.encode()
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
    override = {}
    for p in args.param:
        name, sep, value = p.partition("=")
        override[name] = value if sep else None

    stream = Stream(args.addr, args.method, args.path, headers, body,
                    override, args.timeout, style=args.style,
                    script_name=args.script_name,
                    content_length=not args.no_content_length,
                    stdin_chunk=args.stdin_chunk,
                    stdin_delay=args.stdin_delay)
    out = sys.stdout.buffer
    try:
        printed = 0
        for _t, _data in stream:
            if not stream.head_done:
                continue
            start = 0 if args.include else stream.body_offset
            out.write(bytes(stream.stdout[max(start, printed):]))
            out.flush()
            printed = len(stream.stdout)
    except KeyboardInterrupt:
        pass
    finally:
        stream.close()
    if not stream.head_done and stream.stdout:
        out.write(bytes(stream.stdout))
        out.flush()
    if stream.stderr:
        sys.stderr.buffer.write(bytes(stream.stderr))
    if args.verbose:
        sys.stderr.write("\n[status %s, app_status %s, protocol_status %s, "
                         "ended %s]\n" % (stream.status, stream.app_status,
                                          stream.protocol_status,
                                          stream.ended))
    return 0 if stream.ended else 1


if __name__ == "__main__":
    sys.exit(main())
