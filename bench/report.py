#!/usr/bin/env python3
"""Turn the raw outputs of one bench/run into a table and JSON.

    report.py RESULTS_DIR BENCH_DIR

Writes BENCH_DIR/results.json, BENCH_DIR/results-<date>.json and
BENCH_DIR/results.md (the table in Markdown), copies the profiles to
BENCH_DIR/profiles/, and prints the table.
"""
import json
import os
import re
import shutil
import statistics
import sys
import time



def proc_snapshot():
    """{pid: [comm, utime+stime ticks, session id]} of every process."""
    snap = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        snap[pid] = [comm, int(f[11]) + int(f[12]), int(f[3])]
    return snap


def machine_busy():
    """Busy ticks of all CPUs (user nice system irq softirq steal): every
    task on this kernel, other sandboxes' too."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


def ours(snap):
    """CPU ticks of this run: bench/run (our parent) with the children it
    has waited for, and every other live process of its session."""
    with open("/proc/%d/stat" % os.getppid()) as f:
        st = f.read()
    f = st[st.rindex(")") + 2:].split()
    t = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    sid = os.getsid(0)
    for pid, (comm, ticks, psid) in snap.items():
        if psid == sid and int(pid) not in (os.getpid(), os.getppid()):
            t += ticks
    return t


if len(sys.argv) == 3 and sys.argv[1] == "--snapshot":
    snap = proc_snapshot()
    with open(sys.argv[2], "w") as f:
        json.dump({"sid": os.getsid(0), "t": time.time(),
                   "busy": machine_busy(), "ours": ours(snap),
                   "procs": snap}, f)
    sys.exit(0)

res, bench = sys.argv[1], sys.argv[2]


def load(name):
    p = os.path.join(res, name)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        txt = f.read().strip()
    if not txt:
        return None
    try:
        return json.loads(txt)
    except ValueError:
        return None


def kv(name):
    p = os.path.join(res, name)
    d = {}
    if os.path.exists(p):
        for line in open(p):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                try:
                    d[k] = float(v) if re.fullmatch(r"-?[0-9.]+", v) else v
                except ValueError:
                    d[k] = v
    return d


def unit_ms(v, u):
    v = float(v)
    return {"us": v / 1000, "ms": v, "s": v * 1000, "m": v * 60000}[u]


def wrk(name):
    p = os.path.join(res, "wrk_%s.txt" % name)
    if not os.path.exists(p):
        return None
    t = open(p).read()
    r = {"raw_tail": t.strip().splitlines()[-6:]}
    m = re.search(r"Requests/sec:\s+([0-9.]+)", t)
    r["rps"] = float(m.group(1)) if m else 0.0
    for pc in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+([0-9.]+)(us|ms|s|m)\s*$" % pc, t, re.M)
        r["p%s_ms" % pc] = round(unit_ms(*m.groups()), 3) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
    r["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", t)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"(\d+) requests in ([0-9.]+)s", t)
    r["requests"] = int(m.group(1)) if m else 0
    cpu = kv("wrk_%s.cpu" % name)
    r["cpu_s"] = cpu
    if r["requests"]:
        r["responder_cpu_us_per_req"] = round(
            cpu.get("responder_cpu_s", 0) * 1e6 / r["requests"], 1)
        r["nginx_cpu_us_per_req"] = round(
            cpu.get("nginx_cpu_s", 0) * 1e6 / r["requests"], 1)
        r["fake_cpu_us_per_req"] = round(
            cpu.get("fake_cpu_s", 0) * 1e6 / r["requests"], 1)
    return r


def fmt(v):
    if isinstance(v, float):
        return ("%.3f" % v).rstrip("0").rstrip(".") if abs(v) < 100 else \
            "%.0f" % v
    return str(v)


out = {"machine": kv("machine.txt"), "scenarios": {}, "targets": []}

# CPU used by processes outside this run's session while it ran.
snapf = os.path.join(res, "procs-start.json")
if os.path.exists(snapf):
    start = json.load(open(snapf))
    end = proc_snapshot()
    hz = os.sysconf("SC_CLK_TCK")
    others = {}
    for pid, (comm, ticks, sid) in end.items():
        if sid == start["sid"] or comm in ("swapper",):
            continue
        t0 = start["procs"].get(pid, [comm, 0, sid])[1]
        if ticks - t0 > 0:
            others[comm] = others.get(comm, 0) + (ticks - t0) / hz
    wall = time.time() - start["t"]
    if "busy" in start:
        o = (machine_busy() - start["busy"]) - (ours(end) - start["ours"])
        out["machine"]["foreign_cpu_s"] = round(max(0, o) / hz, 1)
        out["machine"]["foreign_cpu_pct_of_machine"] = round(
            100 * max(0, o) / hz / (wall * os.cpu_count()), 1)
    tot = sum(others.values())
    out["machine"]["others_cpu_s"] = round(tot, 1)
    out["machine"]["others_cpu_pct_of_machine"] = round(
        100 * tot / (wall * os.cpu_count()), 1)
    out["machine"]["others_top"] = sorted(
        ((k, round(v, 1)) for k, v in others.items()),
        key=lambda x: -x[1])[:6]
S = out["scenarios"]
T = out["targets"]


def target(scenario, what, measured, limit, met, unit=""):
    T.append({"scenario": scenario, "what": what, "measured": measured,
              "target": limit, "unit": unit,
              "met": None if met is None else bool(met)})


# capacity of the fake upstream
cap = load("capacity.json")
if cap:
    c = kv("capacity.txt")
    cpu = c.get("fake_cpu_s", 0) or 0
    cap["fake_cpu_s"] = cpu
    cap["fake_events_per_cpu_s"] = round(cap["tokens"] / cpu) if cpu else None
    S["capacity"] = cap
    target("capacity", "fake upstream tokens/s (observed, client-bound)",
           round(cap["tokens_per_s"]), ">= 30000",
           cap["tokens_per_s"] >= 30000 and cap["completed"] == cap["streams"],
           "events/s")

# relay
rel = {k: load("relay_%s.json" % k) for k in
       ("direct_idle", "nginx_idle", "direct_load", "nginx_load",
        "direct_load_bg", "nginx_load_bg")}
if rel["direct_idle"] and rel["nginx_idle"]:
    S["relay"] = rel
    for cond, limit in (("idle", 500), ("load", 2000)):
        d, n = rel["direct_" + cond], rel["nginx_" + cond]
        if not d or not n:
            continue
        added = {p: round(n["stamp_us"][p] - d["stamp_us"][p], 1)
                 for p in ("p50", "p90", "p99", "max")}
        rel["added_us_" + cond] = added
        ok = (added["p99"] < limit and n["completed"] == 1 and
              d["completed"] == 1 and n["stamp_us"]["n"] >= 2900)
        target("relay", "added latency p99, %s (direct p99 %.0f us, via "
               "nginx p99 %.0f us)" % (
                   cond if cond == "idle" else "1000 other streams",
                   d["stamp_us"]["p99"], n["stamp_us"]["p99"]),
               added["p99"], "< %d" % limit, ok, "us")
    bg = rel.get("nginx_load_bg")
    if bg:
        target("relay", "background streams (1000) complete, no errors",
               "%d/%d, %d errors" % (bg["completed"], bg["streams"],
                                     bg["errors"]),
               "all", bg["completed"] == bg["streams"] and bg["errors"] == 0)

# stream scenarios (bench/run stream_phase / setup_phase)
def phase(label):
    """streamc's summary of LABEL plus what bench/run sampled."""
    st = load(label + ".json")
    if not st:
        return None
    p = kv(label + ".txt")
    st["proc"] = p
    tl = os.path.join(res, label + "_timeline.txt")
    if os.path.exists(tl):
        st["timeline_0.5s"] = [
            dict(zip(("tick", "threads", "rss_kb", "cpu_ticks", "fds"),
                     map(int, l.split()))) for l in open(tl) if l.strip()]
    hwm, base = p.get("vmhwm_kb", 0), p.get("baseline_rss_kb", 0)
    if hwm and base:
        st["kb_per_extra_stream"] = round((hwm - base) / st["streams"], 1)
    if st["tokens"]:
        st["responder_cpu_us_per_token"] = round(
            p.get("responder_cpu_s", 0) * 1e6 / st["tokens"], 2)
        st["nginx_cpu_us_per_token"] = round(
            p.get("nginx_cpu_s", 0) * 1e6 / st["tokens"], 2)
    if "tls_calls" in p:
        st["upstream_calls"] = int(p["tls_calls"])
        st["upstream_connections"] = int(p["tls_connections"])
        st["http2_share"] = round(p["tls_h2"] / max(1, p["tls_calls"]), 3)
    else:
        st["upstream_calls"] = int(p.get("fake_requests", 0))
        st["upstream_connections"] = int(p.get("fake_connections", 0))
    setup = load(label + "_setup.json")
    sp = kv(label + "_setup.txt")
    if setup and sp.get("setup_reached"):
        st["setup"] = dict(setup, proc=sp)
        st["setup_cpu_ms_per_stream"] = round(
            sp["setup_cpu_s"] * 1000 / sp["setup_reached"], 3)
    S[label] = st
    return st


def setup_target(sc, st, limit):
    if "setup" not in st:
        return
    sp = st["setup"]["proc"]
    n = st["setup"]["streams"]
    target(sc, "responder CPU per stream before its first token (%.2f s "
           "over %d of %d calls set up, in %d ms; %d streams completed)" % (
               sp["setup_cpu_s"], sp["setup_reached"], n, sp["setup_ms"],
               st["setup"]["completed"]),
           st["setup_cpu_ms_per_stream"], limit,
           None if limit == "(reference)" else
           st["setup_cpu_ms_per_stream"] < float(limit.split()[-1]) and
           sp["setup_reached"] == n, "ms")


def common_targets(sc, st, ft_limit=None, hwm_limit=None, kb_limit=None,
                   tok_limits=(), conn_limit=None):
    p = st["proc"]
    target(sc, "completed without error (%d streams)" % st["streams"],
           "%d/%d, %d errors" % (st["completed"], st["streams"],
                                 st["errors"]), "all, 0 errors",
           st["completed"] == st["streams"] and st["errors"] == 0)
    target(sc, "first token p99 (p50 %.1f)" % st["first_token_ms"]["p50"],
           st["first_token_ms"]["p99"],
           "< %d" % ft_limit if ft_limit else "(reference)",
           st["first_token_ms"]["p99"] < ft_limit if ft_limit else None,
           "ms")
    hwm = p.get("vmhwm_kb", 0)
    target(sc, "responder peak RSS (VmHWM; %d threads, %d descriptors at "
           "most)" % (p.get("max_threads", 0), p.get("max_fds", 0)),
           round(hwm / 1024, 1),
           "< %d" % hwm_limit if hwm_limit else "(reference)",
           hwm and hwm < hwm_limit * 1024 if hwm_limit else None, "MB")
    if "kb_per_extra_stream" in st:
        target(sc, "memory per extra stream ((VmHWM - %.1f MB after a "
               "warm-up) / %d)" % (p["baseline_rss_kb"] / 1024,
                                   st["streams"]),
               st["kb_per_extra_stream"],
               "<= %d" % kb_limit if kb_limit else "(reference)",
               st["kb_per_extra_stream"] <= kb_limit if kb_limit else None,
               "KB")
    if "responder_cpu_us_per_token" in st:
        per = st["responder_cpu_us_per_token"]
        for lim in tok_limits or (None,):
            target(sc, "responder CPU per streamed token (%.2f s / %d "
                   "tokens, incl. per-request work)" % (
                       p.get("responder_cpu_s", 0), st["tokens"]), per,
                   "< %d" % lim if lim else "(reference)",
                   per < lim if lim else None, "us")
    what = "upstream TCP connections for %d calls" % st["upstream_calls"]
    if "http2_share" in st:
        what += (" (distinct $connection at the TLS front; %.0f %% of "
                 "calls over HTTP/2)" % (100 * st["http2_share"]))
    else:
        what += " (accepted by the fake upstream; HTTP/1.1)"
    target(sc, what, st["upstream_connections"],
           "<= %d" % conn_limit if conn_limit else "(reference)",
           st["upstream_connections"] <= conn_limit and
           st["upstream_calls"] >= st["streams"] if conn_limit else None)


st = phase("streams")
if st:
    common_targets("streams", st, ft_limit=100, hwm_limit=100, kb_limit=40,
                   tok_limits=(20, 25))
    target("streams", "stream duration p99 (nominal 4900 ms)",
           st["done_ms"]["p99"], "< 5000", st["done_ms"]["p99"] < 5000, "ms")
    setup_target("streams", st, "(reference)")
st = phase("tls")
if st:
    common_targets("tls", st, ft_limit=300, hwm_limit=150, conn_limit=32)
    setup_target("tls", st, "< 2")
    p = st["proc"]
    if "tls_resumed" in p:
        target("tls", "TLS sessions resumed (of the connections)",
               "%d/%d" % (p["tls_resumed"], p["tls_connections"]),
               "(reference)", None)
st = phase("s5000")
if st:
    p = st["proc"]
    S["s5000"]["raised"] = {k: p.get(k) for k in (
        "max_requests", "nofile", "nginx_worker_connections")}
    common_targets("s5000", st)
    target("s5000", "what was raised: MATCHJOBS_MAX_REQUESTS=%s, nginx "
           "worker_connections %s, ulimit -n %s" % (
               fmt(p.get("max_requests", "?")),
               fmt(p.get("nginx_worker_connections", "?")),
               fmt(p.get("nofile", "?"))), "-", "(reference)", None)

# resume and cancel (bench/resume.py): through the TLS front, and plain
for name, sc, how in (("resume", "resume", "TLS + HTTP/2 upstream"),
                      ("resume_plain", "resume", "plain HTTP upstream")):
    rs = load(name + ".json")
    if rs is None:
        continue
    S[name] = rs
    f = rs.get("follow", {})
    c = rs.get("cancel", {})
    if not rs.get("supported"):
        if f.get("run_id") and f.get("get_run_status"):
            why = "n/a: GET /api/runs/{id} answers %d" % f["get_run_status"]
        else:
            why = "n/a: no run_id or frame ids in the stream"
        target(sc, "%s: follower reconnecting twice mid-run gets every "
               "frame once, in order" % how, why, "yes", False)
        target(sc, "%s: cancel: the run's model call closed upstream"
               % how, why, "< 1000", False, "ms")
        continue
    target(sc, "%s: follower reconnecting twice mid-run gets every frame "
           "once, in order (%s frames over %s connections)" % (
               how, f.get("frames"), len(f.get("frames_per_connection", []))),
           "yes" if f.get("ok") else "no", "yes", f.get("ok"))
    closed = c.get("upstream_closed_ms")
    target(sc, "%s: cancel: the run's model call closed upstream (cancel "
           "answered in %s ms, %s; stream ended %s; %s tokens sent "
           "upstream)" % (how, c.get("cancel_answer_ms"),
                          c.get("state_after"),
                          "+".join(c.get("stream_tail", [])),
                          c.get("tokens_sent_upstream", "?")),
           closed if closed is not None else "not within 15 s", "< 1000",
           c.get("ok"), "ms")

# throughput
tw = {k: wrk(k) for k in ("openai", "openai_c16", "local", "health",
                          "fake", "whatif_maxconnects")}
# fakeup's counters (SIGUSR1 before/after the openai and whatif runs)
fl = os.path.join(res, "fakeup.log")
cnt = []
if os.path.exists(fl):
    for line in open(fl):
        m = re.search(r"requests (\d+), connections (\d+)", line)
        if m:
            cnt.append((int(m.group(1)), int(m.group(2))))
for k, i in (("openai", 0), ("whatif_maxconnects", 2)):
    if tw.get(k) and len(cnt) >= i + 2:
        tw[k]["upstream_requests"] = cnt[i + 1][0] - cnt[i][0]
        tw[k]["upstream_connections"] = cnt[i + 1][1] - cnt[i][1]
if tw["openai"]:
    S["throughput"] = tw
    code = open(os.path.join(res, "throughput_sample.code")).read().strip() \
        if os.path.exists(os.path.join(res, "throughput_sample.code")) else "?"
    S["throughput"]["sample_status"] = code
    o = tw["openai"]
    target("throughput", "requests/s, plain route, fake upstream "
           "(%d non-2xx, %d socket errors)" % (o["non_2xx"],
                                              o["socket_errors"]),
           o["rps"], ">= 4000",
           o["rps"] >= 4000 and o["non_2xx"] == 0 and code == "200",
           "req/s")
    c16 = tw.get("openai_c16")
    if c16:
        target("throughput", "latency p99 at >= 4000 req/s (wrk -c16: "
               "%s req/s)" % c16["rps"], c16["p99_ms"], "< 20",
               c16["p99_ms"] is not None and c16["p99_ms"] < 20 and
               c16["rps"] >= 4000, "ms")
    target("throughput", "latency p99 at saturation (wrk -c64)",
           o["p99_ms"], "(reference)", None, "ms")
    if "upstream_connections" in o:
        target("throughput", "upstream TCP connections opened per "
               "upstream request (1 = no reuse)",
               round(o["upstream_connections"] /
                     max(1, o["upstream_requests"]), 3), "(reference)", None)
    for k, what in (("whatif_maxconnects", "same, responder run with "
                     "CURLMOPT_MAXCONNECTS=1024 via bench/whatif.so"),
                    ("local", "local engine"),
                    ("health", "GET /api/health (nginx+FastCGI floor)"),
                    ("fake", "fake upstream alone")):
        if tw[k]:
            target("throughput", "requests/s, %s (p99 %s ms)" % (
                what, tw[k]["p99_ms"]), tw[k]["rps"], "(reference)", None,
                "req/s")

# fanout
for conc, limit in (("c20", 1300), ("c4", 5500)):
    runs = []
    i = 1
    while True:
        r = load("fanout_%s_%d.json" % (conc, i))
        if r is None:
            break
        runs.append(r)
        i += 1
    if runs:
        S.setdefault("fanout", {})[conc] = runs
        walls = [r["done_ms"]["max"] if r["completed"] else 1e9 for r in runs]
        target("fanout", "20 jobs, 1 s first token, concurrency %s: wall "
               "to done (worst of %d)" % (conc[1:] if conc == "c20"
                                          else "4 (default)", len(runs)),
               round(max(walls), 1), "<= %d" % limit,
               max(walls) <= limit and all(r["errors"] == 0 for r in runs),
               "ms")

# pdf
pdf = {}
for f in ("resume", "resume3", "resume30"):
    d = {}
    for kind in ("pdf", "text"):
        p = os.path.join(res, "pdf_%s.%s.txt" % (f, kind))
        if not os.path.exists(p):
            continue
        rows = [l.split() for l in open(p) if l.strip()]
        ts = [float(t) * 1000 for c, t in rows if c == "200"]
        d[kind] = {"runs": len(rows), "ok": len(ts),
                   "median_ms": round(statistics.median(ts), 3) if ts else None,
                   "min_ms": round(min(ts), 3) if ts else None}
    if "pdf" in d and "text" in d and d["pdf"]["median_ms"] is not None \
            and d["text"]["median_ms"] is not None:
        d["added_ms"] = round(d["pdf"]["median_ms"] - d["text"]["median_ms"], 3)
        pdf[f] = d
if pdf:
    S["pdf"] = pdf
    for f in pdf:
        d = pdf[f]
        ok = d["pdf"]["ok"] == d["pdf"]["runs"] and d["text"]["ok"] == d["text"]["runs"]
        pages = {"resume": 1, "resume3": 3, "resume30": 30}[f]
        target("pdf", "%d-page PDF vs same text: added (median of %d; %.1f "
               "vs %.1f ms)" % (pages, d["pdf"]["runs"], d["pdf"]["median_ms"],
                                d["text"]["median_ms"]),
               d["added_ms"], "< 15" if pages == 30 else "(reference)",
               (d["added_ms"] < 15 and ok) if pages == 30 else None, "ms")

# idle
idle = load("idle.json")
if idle:
    S["idle"] = idle
    target("idle", "Private_Dirty of a fresh responder",
           round(idle["private_dirty_kb"] / 1024, 2), "< 4",
           idle["private_dirty_kb"] < 4096, "MB")
    target("idle", "startup to first health answer (median of %d; max %.1f)"
           % (idle["runs"], idle["startup_ms_max"]),
           idle["startup_ms_median"], "< 20",
           idle["startup_ms_median"] < 20, "ms")

# profiles
prof = os.path.join(res, "profiles")
if os.path.isdir(prof):
    dst = os.path.join(bench, "profiles")
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(prof):
        shutil.copy(os.path.join(prof, f), os.path.join(dst, f))
    out["profiles"] = sorted(os.listdir(prof))


def with_unit(v, t):
    """A figure with its unit; words and "(reference)" without."""
    v = fmt(v)
    if not t["unit"] or v.startswith("(") or re.search(r"[a-z]{3}", v):
        return v
    return "%s %s" % (v, t["unit"])


rows = [("scenario", "what", "measured", "target", "")]
for t in T:
    met = "-" if t["met"] is None else ("PASS" if t["met"] else "MISS")
    rows.append((t["scenario"], t["what"], with_unit(t["measured"], t),
                 with_unit(t["target"], t), met))
w = [max(len(r[i]) for r in rows) for i in range(5)]
lines = []
for k, r in enumerate(rows):
    lines.append("  ".join(r[i].ljust(w[i]) for i in range(5)).rstrip())
    if k == 0:
        lines.append("  ".join("-" * w[i] for i in range(5)))
print("\n".join(lines))
met = [t["met"] for t in T if t["met"] is not None]
print("\n%d of %d targets met; total %s s" % (
    sum(met), len(met), fmt(out["machine"].get("total_s", "?"))))
mach = out["machine"]
if "others_cpu_s" in mach:
    print("other processes on this machine used %.1f CPU-s (%.1f %% of the "
          "machine) during the run; top: %s" % (
              mach["others_cpu_s"], mach["others_cpu_pct_of_machine"],
              ", ".join("%s %.1fs" % x for x in mach["others_top"]) or "-"))
if "foreign_cpu_s" in mach:
    print("CPU used on this kernel by work other than this run (other "
          "sandboxes included: /proc/stat minus this run's processes): "
          "%.1f CPU-s, %.1f %% of the machine" % (
              mach["foreign_cpu_s"], mach["foreign_cpu_pct_of_machine"]))
    if mach["foreign_cpu_pct_of_machine"] > 10:
        print("WARNING: other work took more than 10 % of the CPUs; "
              "latency and CPU figures are pessimistic. Rerun on a quiet "
              "machine.")
# /proc/stat and the load average count every task on the kernel,
# including other sandboxes' that /proc here does not list.
if "busy_before_pct" in mach:
    print("CPUs busy with everything but this run, 1 s before and after: "
          "%s %% / %s %%; load average before %s, after %s" % (
              fmt(mach["busy_before_pct"]),
              fmt(mach.get("busy_after_pct", "?")),
              mach.get("loadavg_before", "?"),
              mach.get("loadavg_after", "?")))

md = ["| scenario | what | measured | target | |",
      "|---|---|---|---|---|"]
for t in T:
    met_s = "—" if t["met"] is None else ("PASS" if t["met"] else "**MISS**")
    md.append("| %s | %s | %s | %s | %s |" % (
        t["scenario"], t["what"], with_unit(t["measured"], t),
        with_unit(t["target"], t), met_s))
stamp = time.strftime("%Y%m%d-%H%M%S")
out["generated"] = stamp
for name in ("results.json", "results-%s.json" % stamp):
    with open(os.path.join(bench, name), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
with open(os.path.join(bench, "results.md"), "w") as f:
    f.write("\n".join(md) + "\n")
