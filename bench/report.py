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


if len(sys.argv) == 3 and sys.argv[1] == "--snapshot":
    with open(sys.argv[2], "w") as f:
        json.dump({"sid": os.getsid(0), "t": time.time(),
                   "procs": proc_snapshot()}, f)
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

# streams
st = load("streams.json")
if st:
    p = kv("streams.txt")
    st["proc"] = p
    tl = os.path.join(res, "streams_timeline.txt")
    if os.path.exists(tl):
        st["timeline_0.5s"] = [
            dict(zip(("tick", "threads", "rss_kb", "cpu_ticks"),
                     map(int, l.split()))) for l in open(tl) if l.strip()]
    S["streams"] = st
    target("streams", "completed without error", "%d/%d, %d errors" % (
        st["completed"], st["streams"], st["errors"]), "all, 0 errors",
        st["completed"] == st["streams"] and st["errors"] == 0)
    target("streams", "first token p99", st["first_token_ms"]["p99"],
           "< 100", st["first_token_ms"]["p99"] < 100, "ms")
    target("streams", "stream duration p99 (nominal 4900 ms)",
           st["done_ms"]["p99"], "< 5000", st["done_ms"]["p99"] < 5000, "ms")
    hwm = p.get("vmhwm_kb", 0)
    target("streams", "responder peak RSS (VmHWM)", round(hwm / 1024, 1),
           "< 100", hwm and hwm < 100 * 1024, "MB")
    tok = st["tokens"]
    cpu = p.get("responder_cpu_s", 0)
    if tok:
        per = cpu * 1e6 / tok
        st["responder_cpu_us_per_token"] = round(per, 2)
        st["nginx_cpu_us_per_token"] = round(
            p.get("nginx_cpu_s", 0) * 1e6 / tok, 2)
        target("cost", "responder CPU per streamed token (%.2f s / %d "
               "tokens, incl. per-request work)" % (cpu, tok), round(per, 2),
               "< 20", per < 20, "us")

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


def fmt(v):
    if isinstance(v, float):
        return ("%.3f" % v).rstrip("0").rstrip(".") if abs(v) < 100 else \
            "%.0f" % v
    return str(v)


rows = [("scenario", "what", "measured", "target", "met")]
for t in T:
    met = "-" if t["met"] is None else ("yes" if t["met"] else "NO")
    rows.append((t["scenario"], t["what"], "%s %s" % (fmt(t["measured"]),
                 t["unit"]), "%s %s" % (t["target"], t["unit"]), met))
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
    if mach["others_cpu_pct_of_machine"] > 5:
        print("WARNING: the machine was shared; latency figures are "
              "pessimistic. Rerun on a quiet machine.")

md = ["| scenario | what | measured | target | met? |",
      "|---|---|---|---|---|"]
for t in T:
    met_s = "—" if t["met"] is None else ("yes" if t["met"] else "**no**")
    md.append("| %s | %s | %s %s | %s %s | %s |" % (
        t["scenario"], t["what"], fmt(t["measured"]), t["unit"], t["target"],
        t["unit"], met_s))
stamp = time.strftime("%Y%m%d-%H%M%S")
out["generated"] = stamp
for name in ("results.json", "results-%s.json" % stamp):
    with open(os.path.join(bench, name), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
with open(os.path.join(bench, "results.md"), "w") as f:
    f.write("\n".join(md) + "\n")
