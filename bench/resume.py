#!/usr/bin/env python3
"""Resume and cancel, measured through nginx (SPEC "Runs (0.2)").

    resume.py --port P --fakelog FILE [--tag N]

follow: a stream of 40 tokens 50 ms apart is read until 5 tokens have
come, dropped, followed with GET /api/runs/{id}/events and Last-Event-ID,
dropped again after 5 more tokens, and followed again through `done`.
The frames of the three connections, put end to end, must be the run's
frames exactly once each: ids 1..n without a gap or a repeat, ending with
`done`, and (id, event, data) equal to a full read of the ended run
(GET .../events?after=0).

cancel: a stream of 400 tokens 50 ms apart (tagged for bench/fakeup) is
read until 3 tokens have come; then POST /api/runs/{id}/cancel.  The
figure is the time from sending the cancel to fakeup seeing the model
call's connection closed (its "closed tag=N ... at_ms=" line; through the
TLS front that is the front closing its upstream after the responder
reset the HTTP/2 stream).  Looked for up to 15 s.  Also: the cancel's
answer time and that the stream ends with error (cancelled) and done.

Prints one JSON object.  A build without the /api/runs routes (or whose
frames carry no id or run_id) gives "supported": false and no figures.
"""
import argparse
import http.client
import json
import os
import random
import re
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--fakelog", required=True)
ap.add_argument("--tag", type=int, default=0)
ap.add_argument("--timeout", type=float, default=30)
a = ap.parse_args()
TAG = a.tag or random.randint(100000, 999999)


def body(directives):
    return json.dumps({"user_id": "bench", "resume_text":
                       "Python SQL Docker Linux developer " * 20,
                       "jobs": [{"jobtitle": "Engineer", "joblink":
                                 "https://example.com/j", "jobdata":
                                 "Python SQL <<fake:%s>>" % directives}]})


class Stream:
    """An SSE response read incrementally: frames (id, event, data)."""

    def __init__(self, method, path, data=None, headers=None):
        self.c = http.client.HTTPConnection("127.0.0.1", a.port,
                                            timeout=a.timeout)
        h = {"Accept": "text/event-stream"}
        if data is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        self.c.request(method, path, body=data, headers=h)
        self.r = self.c.getresponse()
        self.status = self.r.status
        self.frames = []
        self.buf = b""
        self.cur = {}

    def _feed(self, data):
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("utf-8", "replace")
            if line == "":
                if "event" in self.cur or "data" in self.cur:
                    self.frames.append((self.cur.get("id"),
                                        self.cur.get("event", "message"),
                                        self.cur.get("data", "")))
                self.cur = {}
            elif line.startswith(":"):
                continue
            else:
                k, _, v = line.partition(":")
                v = v[1:] if v.startswith(" ") else v
                if k == "data" and "data" in self.cur:
                    v = self.cur["data"] + "\n" + v
                self.cur[k] = v

    def read_until(self, pred, timeout):
        end = time.monotonic() + timeout
        while not pred(self) and time.monotonic() < end:
            d = self.r.read1(65536)
            if not d:
                break
            self._feed(d)
        return pred(self)

    def kinds(self):
        return [e for _, e, _ in self.frames]

    def drop(self):
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.c.close()


def request(method, path, data=None):
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=a.timeout)
    try:
        c.request(method, path, body=data,
                  headers={"Content-Type": "application/json"} if data
                  else {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def run_id_of(s):
    for _, e, d in s.frames:
        try:
            j = json.loads(d)
        except ValueError:
            continue
        if j.get("run_id"):
            return j["run_id"]
    return None


def ntok(n):
    return lambda s: s.kinds().count("token") >= n


def ended(s):
    return "done" in s.kinds()


out = {"supported": False}

# ---- follow ----------------------------------------------------------------
s1 = Stream("POST", "/api/match-jobs/stream", body("tokens=40;delay=50"))
s1.read_until(ntok(5), 10)
rid = run_id_of(s1)
have_ids = all(i is not None and i.isdigit() for i, _, _ in s1.frames)
s1.drop()
f = {"first_status": s1.status, "run_id": rid,
     "frames_per_connection": [len(s1.frames)]}
if rid and have_ids and s1.frames:
    pieces = [s1.frames]
    st, _ = request("GET", "/api/runs/%s" % rid)
    f["get_run_status"] = st
    if st == 200:
        out["supported"] = True
        time.sleep(0.2)
        for more in (5, None):
            last = pieces[-1][-1][0] if pieces[-1] else \
                [p for p in pieces if p][-1][-1][0]
            s = Stream("GET", "/api/runs/%s/events" % rid,
                       headers={"Last-Event-ID": last})
            f.setdefault("follow_status", []).append(s.status)
            if more:
                base = s1.kinds().count("token")
                s.read_until(lambda x: x.kinds().count("token") >= more or
                             ended(x), 10)
            else:
                s.read_until(ended, 20)
            s.drop()
            pieces.append(s.frames)
            f["frames_per_connection"].append(len(s.frames))
        got = [fr for p in pieces for fr in p]
        ids = [int(i) for i, _, _ in got]
        full = Stream("GET", "/api/runs/%s/events?after=0" % rid)
        full.read_until(ended, 10)
        full.drop()
        f["frames"] = len(got)
        f["full_read_frames"] = len(full.frames)
        f["ids_in_order_once"] = ids == list(range(1, len(ids) + 1))
        f["ends_with_done"] = bool(got) and got[-1][1] == "done"
        f["same_as_full_read"] = got == full.frames
        f["ok"] = (f["ids_in_order_once"] and f["ends_with_done"] and
                   f["same_as_full_read"])
out["follow"] = f

# ---- cancel ----------------------------------------------------------------
if out["supported"]:
    c = {"tag": TAG}
    s = Stream("POST", "/api/match-jobs/stream",
               body("tokens=400;delay=50;tag=%d" % TAG))
    s.read_until(ntok(3), 10)
    rid = run_id_of(s)
    t0 = time.time()
    st, b = request("POST", "/api/runs/%s/cancel" % rid, b"")
    c["cancel_answer_ms"] = round((time.time() - t0) * 1000, 1)
    c["cancel_status"] = st
    try:
        c["state_after"] = json.loads(b).get("state")
    except ValueError:
        c["state_after"] = None
    s.read_until(ended, 10)
    s.drop()
    tail = [(e, d) for _, e, d in s.frames[-2:]]
    c["stream_tail"] = [e for e, _ in tail]
    c["stream_error_cancelled"] = (len(tail) == 2 and tail[1][0] == "done"
                                   and tail[0][0] == "error" and
                                   "cancelled" in tail[0][1])
    closed = None
    end = time.monotonic() + 15
    pat = re.compile(r"closed tag=%d sent=(\d+) at_ms=(\d+)" % TAG)
    while closed is None and time.monotonic() < end:
        if os.path.exists(a.fakelog):
            for line in open(a.fakelog):
                m = pat.search(line)
                if m:
                    closed = (int(m.group(1)), int(m.group(2)))
        if closed is None:
            time.sleep(0.05)
    if closed:
        c["tokens_sent_upstream"] = closed[0]
        c["upstream_closed_ms"] = round(closed[1] - t0 * 1000, 1)
    else:
        c["upstream_closed_ms"] = None
    c["ok"] = (closed is not None and c["upstream_closed_ms"] < 1000 and
               c["stream_error_cancelled"])
    out["cancel"] = c
print(json.dumps(out))
