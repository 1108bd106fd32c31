#!/usr/bin/env python3
"""Runs the tally benchmark and writes bench/RESULTS.md.

The job: village records (16 indicators) on a hierarchy, every indicator
summed at every level above the villages, plus the ratio share = v02 / v01 *
100 of the sums, written as CSV. The same job runs in tally (the `tally
rollup` command, and bench/tally-phases.c for phase times), DuckDB
(@duckdb/node-api), pandas and PostgreSQL 15; every peer's output is checked
against tally's by bench/compare.py.

Environment (all optional):
  BENCH_SIZES       record counts on the national table: 1M, 10M (one month
                    of every village, 9,929,152 records), 50M (five months),
                    or plain integers; default "1M,10M"
  BENCH_HIER_SIZES  synthetic hierarchy sizes for the hierarchy series (1M
                    records each, tally and DuckDB); default "100000,2000000"
  BENCH_REPEAT      runs per tool and size (the median is reported); default 3
  BENCH_REPEAT_LARGE  runs per tool for sizes of 20M records and more; default 1
  BENCH_TOOLS       subset of tally,duckdb,pandas,postgres; default all
  TALLY_BUILD       the release build directory; default bench/work/build
  BENCH_OUT         the report written; default bench/RESULTS.md (a trial at a
                    small scale goes elsewhere)
  BENCH_JOBS        which jobs: national (the rollup above, by BENCH_SIZES, and
                    the hierarchy series), every-level, county, households,
                    check; default all five. The four others run tally and
                    DuckDB only:
  county            one county's villages (BENCH_COUNTY, default 430626, 平江县:
                    550 villages) x BENCH_COUNTY_INDICATORS (16) x
                    BENCH_COUNTY_MONTHS (36) on the national table, summed at
                    every level as in the national job; tally also with the
                    hierarchy cache (docs/hierarchy-cache.md)
  households        BENCH_HOUSEHOLDS households (10M; or 1M, or an integer)
                    over the villages: `tally poverty --households` against
                    DuckDB's P0-P2, Watts and median over GROUPING SETS
  every-level       the national rollup of BENCH_EVERY_SIZE records (default
                    10M) written at every level, the 620,572 villages
                    included (no --level), against DuckDB with the 12-digit
                    codes as a grouping set too
  check             BENCH_CHECK_VILLAGES villages (0, the default: all) file
                    v01 and their towns file it too: `tally check` (hierarchy
                    and outlier checks) against DuckDB's equivalent
"""
import csv
import filecmp
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, "work")
DIVISIONS = os.path.join(ROOT, "data", "china-divisions", "divisions-2023.csv.gz")
NATIONAL_VILLAGES = 620572
INDICATORS = 16
MB = 1e6


def env(name, default):
    return os.environ.get(name) or default


def parse_size(s):
    s = s.strip()
    named = {"1M": 1_000_000, "10M": NATIONAL_VILLAGES * INDICATORS,
             "50M": 5 * NATIONAL_VILLAGES * INDICATORS}
    return s if s in named else str(int(s)), named.get(s, int(s) if s.isdigit() else None)


def sh(args, **kw):
    return subprocess.run(args, check=True, **kw)


def timed(args, out_json=False, ok=(0,)):
    """Runs args under /usr/bin/time -v: (wall seconds, peak RSS kB, stdout);
    an exit status not in `ok` stops the run."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + args,
                           capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode not in ok:
            sys.stderr.write(p.stdout + p.stderr)
            raise SystemExit(f"failed: {' '.join(args)}")
        rss = 0
        for line in tf.read().splitlines():
            if "Maximum resident set size" in line:
                rss = int(line.split(":")[1])
    return wall, rss, p.stdout


def gen(*args):
    sh([sys.executable, os.path.join(HERE, "gen.py")] + list(args))


def ensure_inputs(sizes, hier_sizes):
    os.makedirs(WORK, exist_ok=True)
    nat = os.path.join(WORK, "national.csv")
    if not os.path.exists(nat):
        gen("hierarchy", "national", DIVISIONS, nat)
    defs = os.path.join(WORK, "defs.yaml")
    gen("definitions", defs)
    out = {}
    for label, n in sizes:
        path = os.path.join(WORK, f"records-national-{n}.csv")
        if not os.path.exists(path):
            print(f"generating {label} records ({n:,})", flush=True)
            gen("records", nat, str(n), path + ".tmp")
            os.rename(path + ".tmp", path)
        out[("national", n)] = (nat, path)
    for hs in hier_sizes:
        h = os.path.join(WORK, f"hierarchy-{hs}.csv")
        if not os.path.exists(h):
            gen("hierarchy", "synthetic", str(hs), h)
        path = os.path.join(WORK, f"records-h{hs}-1000000.csv")
        if not os.path.exists(path):
            gen("records", h, "1000000", path + ".tmp")
            os.rename(path + ".tmp", path)
        out[("synthetic", hs)] = (h, path)
    return defs, out


def build_tally():
    build = env("TALLY_BUILD", os.path.join(WORK, "build"))
    os.makedirs(WORK, exist_ok=True)
    if not os.path.exists(os.path.join(build, "build.ninja")):
        sh(["meson", "setup", build, ROOT, "--buildtype=release", "-Dtests=false"],
           stdout=subprocess.DEVNULL)
    sh(["ninja", "-C", build], stdout=subprocess.DEVNULL)
    phases = os.path.join(WORK, "tally-phases")
    sh(["cc", "-O2", "-std=c11", "-Wall", "-Wextra", f"-I{ROOT}/include", f"-I{build}/include",
        os.path.join(HERE, "tally-phases.c"), f"-L{build}/lib", "-ltally",
        f"-Wl,-rpath,{build}/lib", "-o", phases])
    return os.path.join(build, "examples", "tally"), phases


def ensure_peers(tools):
    missing = []
    if "duckdb" in tools and subprocess.run(["sh", "-c", "command -v node && command -v npm"],
                                            capture_output=True).returncode:
        missing += ["nodejs", "npm"]
    if "pandas" in tools and subprocess.run(["/usr/bin/python3", "-c", "import pandas"],
                                            capture_output=True).returncode:
        missing.append("python3-pandas")
    if "postgres" in tools and not os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        missing.append("postgresql-15")
    if missing:
        if os.geteuid():
            raise SystemExit("missing: run  sudo apt-get install -y " + " ".join(missing))
        sh(["apt-get", "update", "-qq"])
        sh(["apt-get", "install", "-y", "-qq"] + missing, stdout=subprocess.DEVNULL,
           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if "duckdb" in tools and not os.path.isdir(os.path.join(HERE, "node_modules", "@duckdb")):
        sh(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, stdout=subprocess.DEVNULL)


def versions(tally):
    v = {}
    def out(args, **kw):
        try:
            return subprocess.run(args, capture_output=True, text=True, **kw).stdout.strip()
        except OSError:
            return "not installed"
    v["tally"] = subprocess.run([tally, "--version"], capture_output=True,
                                text=True).stdout.strip()
    v["DuckDB"] = subprocess.run(
        ["node", "--input-type=module", "-e",
         "import {DuckDBInstance} from '@duckdb/node-api';"
         "const c=await (await DuckDBInstance.create(':memory:')).connect();"
         "const r=await c.runAndReadAll('select version()');"
         "console.log(r.getRows()[0][0])"], cwd=HERE, capture_output=True,
        text=True).stdout.strip()
    pkg = json.load(open(os.path.join(HERE, "node_modules", "@duckdb", "node-api",
                                      "package.json")))
    v["DuckDB"] += f" (@duckdb/node-api {pkg['version']}, node {platform_node()})"
    v["pandas"] = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import pandas, numpy, sys; print(f'pandas {pandas.__version__}, numpy "
         "{numpy.__version__}, python {sys.version.split()[0]}')"],
        capture_output=True, text=True).stdout.strip()
    v["PostgreSQL"] = out(["/usr/lib/postgresql/15/bin/postgres", "--version"])
    v["cc"] = subprocess.run(["cc", "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    return v


def platform_node():
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def machine():
    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) / 1024 / 1024
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Linux {platform.release()}"


def median_phases(runs):
    keys = runs[0].keys()
    return {k: statistics.median(r[k] for r in runs if r.get(k) is not None)
            for k in keys if any(r.get(k) is not None for r in runs)}


def run_job(tools, tally, phases, defs, hier, records, repeat, port, tag):
    out = {}
    outdir = os.path.join(WORK, "out")
    os.makedirs(outdir, exist_ok=True)
    ref = os.path.join(outdir, f"{tag}-tally.csv")
    cmds = {
        "tally": lambda o: [tally, "rollup", "-H", hier, "-d", defs, "-r", records,
                            "--level", "province,city,county,town", "-o", o],
        "duckdb": lambda o: ["node", os.path.join(HERE, "duckdb-run.mjs"), records, o],
        "pandas": lambda o: ["/usr/bin/python3", os.path.join(HERE, "pandas-run.py"), records, o],
        "postgres": lambda o: [sys.executable, os.path.join(HERE, "pg-run.py"), "job", port,
                               records, o],
    }
    for tool in ["tally"] + [t for t in ("duckdb", "pandas", "postgres") if t in tools]:
        o = os.path.join(outdir, f"{tag}-{tool}.csv")
        walls, rsss, ph = [], [], []
        for _ in range(repeat):
            wall, rss, stdout = timed(cmds[tool](o))
            walls.append(wall)
            extra = json.loads(stdout.strip().splitlines()[-1]) if tool != "tally" else {}
            if tool == "postgres" and extra.get("server_peak_kb"):
                rss = extra.pop("server_peak_kb")  # the server backend did the work
            rsss.append(rss)
            if tool == "tally":
                snap = o + ".tsnap"
                _, _, s = timed([phases, hier, defs, records, o + ".phases", snap])
                extra = json.loads(s)
                extra["snapshot_bytes"] = os.path.getsize(snap)
                os.unlink(o + ".phases")
                os.unlink(snap)
            ph.append(extra)
        res = {"load_avg": os.getloadavg()[0], "wall": statistics.median(walls), "walls": walls, "rss_kb": max(rsss),
               "phases": median_phases(ph), "out_bytes": os.path.getsize(o)}
        if tool != "tally":
            p = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), ref, o],
                               capture_output=True, text=True)
            res["check"] = p.stdout.strip().splitlines()[0] if p.stdout else p.stderr
            res["check_ok"] = p.returncode == 0
        out[tool] = res
        print(f"  {tool:9s} median {res['wall']:.3f} s  peak {res['rss_kb'] / 1024:.0f} MiB  "
              f"{res['phases']}  {res.get('check', '')}", flush=True)
    return out


def sized(s):
    s = s.strip()
    return {"1M": 1_000_000, "10M": 10_000_000}.get(s) or int(s)


def run_pair(cmds, repeat, tag, compare=None, ok=(0,)):
    """Runs each tool's command `repeat` times: {tool: {wall, walls, rss_kb,
    phases, out_bytes, check, check_ok}}; `compare(tally_out, peer_out)` gives
    (ok, one line) for the peers."""
    outdir = os.path.join(WORK, "out")
    os.makedirs(outdir, exist_ok=True)
    res = {}
    ref = None
    for tool, cmd in cmds.items():
        o = os.path.join(outdir, f"{tag}-{tool}.csv")
        walls, rsss, ph = [], [], []
        for _ in range(repeat):
            wall, rss, stdout = timed(cmd(o), ok=ok)
            walls.append(wall)
            rsss.append(rss)
            if tool == "duckdb":
                ph.append(json.loads(stdout.strip().splitlines()[-1]))
        r = {"load_avg": os.getloadavg()[0], "wall": statistics.median(walls), "walls": walls,
             "rss_kb": max(rsss), "out_bytes": os.path.getsize(o),
             "out_rows": sum(1 for _ in open(o, "rb")) - 1}
        if ph:
            r["phases"] = median_phases([{k: v for k, v in x.items() if k != "findings"}
                                         for x in ph])
            if "findings" in ph[-1]:
                r["findings"] = ph[-1]["findings"]
        if tool == "tally":
            ref = o
        elif tool.startswith("tally") and ref:
            r["check_ok"] = filecmp.cmp(ref, o, shallow=False)
            r["check"] = "the same bytes as tally's" if r["check_ok"] else "other bytes than tally's"
        elif compare and ref:
            r["check_ok"], r["check"] = compare(ref, o)
        res[tool] = r
        print(f"  {tool:12s} median {r['wall']:.3f} s  peak {r['rss_kb'] / 1024:.0f} MiB  "
              f"{r['out_rows']:,} rows  {r.get('check', '')}", flush=True)
    return res


def compare_rollup(ref, o):
    p = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), ref, o],
                       capture_output=True, text=True)
    return p.returncode == 0, (p.stdout.strip().splitlines() or [p.stderr.strip()])[0]


def compare_households(ref, o):
    """tally's p0, p1, p2 and watts (printed with 4 decimals) against DuckDB's
    at the same prefix, within 0.0001; the medians differ by definition
    (tally's is person-weighted), so they are not compared."""
    digits = {"province": 2, "city": 4, "county": 6, "town": 9}
    got = {}
    with open(o, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            n = int(r["digits"])
            got[(n, r["prefix"].zfill(n))] = r
    equal, bad = 0, []
    with open(ref, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            n = digits.get(r["level"])
            if n is None:
                continue
            p = got.get((n, r["region_code"][:n]))
            if r["p0"] == "":
                if p is not None and int(p["households"]) != 0:
                    bad.append((r["region_code"], "no households in tally"))
                continue
            if p is None:
                bad.append((r["region_code"], "missing in DuckDB"))
                continue
            if int(p["households"]) != int(r["households"]):
                bad.append((r["region_code"], "households"))
            for m in ("p0", "p1", "p2", "watts"):
                equal += 1
                if abs(float(r[m]) - float(p[m])) > 0.0001 + 1e-9:
                    bad.append((r["region_code"], m, r[m], p[m]))
    return not bad, (f"{equal} measures equal (p0, p1, p2, watts), {len(bad)} differ"
                     + (f"; first: {bad[0]}" if bad else ""))


def compare_check(ref, o):
    """The number of findings of each check, tally's against DuckDB's."""
    mine = {}
    with open(ref, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            mine[r["check"]] = mine.get(r["check"], 0) + 1
    theirs = {}
    with open(o, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            theirs[r["check"]] = theirs.get(r["check"], 0) + 1
    same = mine == theirs
    return same, ("same findings per check: " if same else "findings differ: tally ") + \
        ", ".join(f"{k} {v}" for k, v in sorted(mine.items())) + \
        ("" if same else "; DuckDB " + ", ".join(f"{k} {v}" for k, v in sorted(theirs.items())))


CHECK_DEFS = """indicators:
  - id: v01
    aggregate: sum
    over_time: flow
checks:
  - id: adds_up
    hierarchy: [v01]
  - id: spikes
    outliers: [v01]
"""


def other_jobs(jobs, tally, defs, repeat):
    """The every-level, county, households and check jobs: {job: {"inputs": ...,
    "tools": {...}}}."""
    nat = os.path.join(WORK, "national.csv")
    out = {}
    if "every-level" in jobs:
        label, n = parse_size(env("BENCH_EVERY_SIZE", "10M"))
        _, inputs = ensure_inputs([(label, n)], [])
        _, path = inputs[("national", n)]
        print(f"every level, villages included: {label} records ({n:,})", flush=True)
        tools = run_pair({"tally": lambda o: [tally, "rollup", "-H", nat, "-d", defs, "-r", path,
                                              "-o", o],
                          "duckdb": lambda o: ["node", os.path.join(HERE, "duckdb-run.mjs"),
                                               path, o, "village"]},
                         repeat, "every-level", compare_rollup)
        out["every-level"] = {"inputs": {"records": n, "bytes": os.path.getsize(path)},
                              "tools": tools}
    if "county" in jobs:
        prefix = env("BENCH_COUNTY", "430626")
        months = int(env("BENCH_COUNTY_MONTHS", "36"))
        nind = int(env("BENCH_COUNTY_INDICATORS", "16"))
        path = os.path.join(WORK, f"county-{prefix}-{nind}x{months}.csv")
        if not os.path.exists(path):
            gen("county", nat, prefix, str(months), str(nind), path + ".tmp")
            os.rename(path + ".tmp", path)
        # The same table under another name, with its cache beside it, so
        # that national.csv stays without one.
        cached = os.path.join(WORK, "national-cached.csv")
        if not os.path.exists(cached):
            sh(["cp", nat, cached])
        levels = "province,city,county,town"
        job = lambda h, extra=(): (lambda o: [tally, "rollup", "-H", h, "-d", defs, "-r", path,
                                              "--level", levels, "-o", o] + list(extra))
        sh(job(cached, ["--hierarchy-cache"])(os.devnull), stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
        records = sum(1 for _ in open(path, "rb")) - 1
        print(f"county {prefix}: {records:,} records ({nind} indicators x {months} months)",
              flush=True)
        tools = run_pair({"tally": job(nat), "tally+cache": job(cached),
                          "duckdb": lambda o: ["node", os.path.join(HERE, "duckdb-run.mjs"),
                                               path, o]},
                         repeat, "county", compare_rollup)
        out["county"] = {"inputs": {"prefix": prefix, "months": months, "indicators": nind,
                                    "records": records, "bytes": os.path.getsize(path)},
                         "tools": tools}
    if "households" in jobs:
        n = sized(env("BENCH_HOUSEHOLDS", "10M"))
        line = env("BENCH_LINE", "4000")
        path = os.path.join(WORK, f"households-{n}.csv")
        if not os.path.exists(path):
            gen("households", nat, str(n), path + ".tmp")
            os.rename(path + ".tmp", path)
        print(f"households: {n:,}", flush=True)
        tools = run_pair({
            "tally": lambda o: [tally, "poverty", "-H", nat, "-d", defs, "--households", path,
                                "--line", line, "--level", "province,city,county,town",
                                "-o", o],
            "duckdb": lambda o: ["node", os.path.join(HERE, "duckdb-households.mjs"), path,
                                 line, o]}, repeat, "households", compare_households)
        out["households"] = {"inputs": {"households": n, "bytes": os.path.getsize(path),
                                        "line": line}, "tools": tools}
    if "check" in jobs:
        villages = int(env("BENCH_CHECK_VILLAGES", "0"))
        path = os.path.join(WORK, f"checks-{villages or 'all'}.csv")
        if not os.path.exists(path):
            gen("checks", nat, str(villages), path + ".tmp")
            os.rename(path + ".tmp", path)
        cdefs = os.path.join(WORK, "defs-check.yaml")
        with open(cdefs, "w", encoding="utf-8") as f:
            f.write(CHECK_DEFS)
        records = sum(1 for _ in open(path, "rb")) - 1
        print(f"check: {records:,} records", flush=True)
        tools = run_pair({
            "tally": lambda o: [tally, "check", "-H", nat, "-d", cdefs, "-r", path, "-o", o],
            "duckdb": lambda o: ["node", os.path.join(HERE, "duckdb-check.mjs"), path, o]},
            repeat, "check", compare_check, ok=(0, 1))
        out["check"] = {"inputs": {"records": records, "bytes": os.path.getsize(path),
                                   "villages": villages}, "tools": tools}
    return out


def report_other(other):
    L = []
    if not other:
        return L
    L.append("## Beside the national rollup: tally and DuckDB, same run\n")
    L.append("Each job is run by both tools on this machine in this run; the ratio is "
             "DuckDB's median wall time over tally's, the memory ratio tally's peak over "
             "DuckDB's (peak resident memory of the process, /usr/bin/time -v). Scales are "
             "set by the environment (see bench/run.py).\n")
    desc = {
        "every-level": lambda i: (f"**Every level written**: the national job's {i['records']:,} "
                                  f"records ({i['bytes'] / MB:.0f} MB) summed and written at "
                                  "every level, the 620,572 villages included (`tally rollup` "
                                  "without --level; DuckDB with the 12-digit code as a grouping "
                                  "set too)."),
        "county": lambda i: (f"**Sparse county**: the {i['records']:,} records "
                             f"({i['bytes'] / MB:.1f} MB) of one county (code prefix "
                             f"{i['prefix']}) x {i['indicators']} indicators x {i['months']} "
                             "months on the national table; every indicator summed at the "
                             "province, city, county and town levels plus the ratio, as in the "
                             "national job (`tally rollup --level province,city,county,town`, "
                             "`bench/duckdb-run.mjs`). `tally+cache` loads the national table "
                             "from its cache (docs/hierarchy-cache.md). DuckDB gives only "
                             "the groups with data; tally the regions of the levels asked for."),
        "households": lambda i: (f"**Households**: {i['households']:,} households "
                                 f"({i['bytes'] / MB:.0f} MB) over the villages, poverty line "
                                 f"{i['line']}: `tally poverty --households --level "
                                 "province,city,county,town` (P0-P2, Watts, Gini and the "
                                 "person-weighted median at every region) against "
                                 "`bench/duckdb-households.mjs` (P0-P2, Watts and an "
                                 "unweighted median over GROUPING SETS of code prefixes)."),
        "check": lambda i: (f"**Check**: {i['records']:,} records ({i['bytes'] / MB:.1f} MB): "
                            "v01 of " + (f"the first {i['villages']:,} villages (on to the end of the "
                                         "last one's city)" if i["villages"] else "every village")
                            + " and of their towns (1 town in 97 off by a few): "
                            "`tally check` with a hierarchy check and an outlier check "
                            "against `bench/duckdb-check.mjs` (town reported against the sum "
                            "of its villages; median and MAD per sibling group)."),
    }
    for job in ("every-level", "county", "households", "check"):
        if job not in other:
            continue
        j = other[job]
        L.append(desc[job](j["inputs"]) + "\n")
        L.append("| tool | median wall (s) | runs (s) | peak memory (MiB) | rows written | "
                 "DuckDB / tool | memory / DuckDB's | load avg | output check |")
        L.append("|---|---:|---|---:|---:|---:|---:|---:|---|")
        d = j["tools"].get("duckdb")
        for tool, r in j["tools"].items():
            ratio = f"{d['wall'] / r['wall']:.1f}x" if d and tool != "duckdb" else "—"
            mem = f"{r['rss_kb'] / d['rss_kb']:.2f}x" if d and tool != "duckdb" else "—"
            check = "reference" if tool == "tally" else (
                ("same: " if r.get("check_ok") else "**DIFFERS**: ") + r.get("check", "")
                if "check" in r else "—")
            L.append(f"| {tool} | {r['wall']:.3f} | {', '.join(f'{w:.2f}' for w in r['walls'])} "
                     f"| {r['rss_kb'] / 1024:.0f} | {r['out_rows']:,} | {ratio} | {mem} | "
                     f"{r.get('load_avg', 0):.1f} | {check} |")
        L.append("")
    return L


def fmt_phases(p):
    if not p:
        return "—"
    return " / ".join(f"{p[k]:.3f}" if k in p else "—" for k in ("parse", "rollup", "write"))


def report(mach, vers, sizes, results, hier_results, defs, repeat, t_total, other=None):
    L = []
    L.append("# tally benchmark results\n")
    L.append("Generated by `make bench` (bench/run.py); every figure below was measured in "
             "the same run, on this machine. Do not edit by hand.\n")
    L.append(f"- Machine: {mach}")
    for k, v in vers.items():
        L.append(f"- {k}: {v}")
    L.append(f"- Runs per tool and size: {repeat} (median wall time reported; sizes of 20M "
             "records and more: as in their section)"
             + (f"; whole run {t_total / 60:.1f} min" if t_total else ""))
    L.append("- The machine is shared: the one-minute load average when each tool's runs "
             "ended is in the tables. With a load above the 2 cores, wall times of every "
             "tool are inflated and vary from run to run (see the individual runs).\n")
    L.append("## The job\n")
    L.append("Long records `region_code,indicator,period,value` for villages of the national "
             "division table (665,271 regions, 620,572 villages; NBS 2023), 16 indicators "
             "(`v01`..`v15` integer counts, `amount` with 2 decimals, about 1 value in 101 "
             "filed empty), generated deterministically by `bench/gen.py`. Each tool sums "
             "every indicator at the province, city, county and town levels and computes "
             "`share = v02 / v01 * 100` from the sums, and writes the result as CSV. "
             "`10M` is one month of every village (9,929,152 records); `1M` is the first "
             "62,500 villages; `50M` five months.\n")
    L.append("- tally: `tally rollup -H national.csv -d defs.yaml -r records.csv "
             "--level province,city,county,town -o out.csv` (release build). It loads and "
             "checks the hierarchy (code, parent, level of each region), rejects unknown "
             "codes, and writes region names; its wall time includes all of that. Phase "
             "times come from `bench/tally-phases.c` (the same job through the C API).")
    L.append("- DuckDB: `read_csv` with explicit column types (value `DECIMAL(18,2)`), "
             "`GROUP BY GROUPING SETS` over `substr` code prefixes, `COPY ... TO` CSV "
             "(`bench/duckdb-run.mjs`, all cores).")
    L.append("- pandas: `read_csv` with dtypes (code as int64, indicator and period as "
             "category), `groupby` on prefix columns, `to_csv` (`bench/pandas-run.py`).")
    L.append("- PostgreSQL 15: a server on 127.0.0.1 started for the run (fsync off, "
             "unlogged tables, 2 GB work_mem, 2 parallel workers), `\\copy` in, "
             "`GROUP BY GROUPING SETS`, `\\copy` out (`bench/pg-run.py`); peak memory is "
             "the server backend's (VmHWM).")
    L.append("- Check: `bench/compare.py` verifies that every number tally prints equals "
             "the peer's (sums exactly at their decimals, the ratio within 0.01).\n")
    for label, n in sizes:
        res = results[label]
        t = res["tally"]
        rec = os.path.getsize(res["_records"])
        L.append(f"## {label} records ({n:,}; {rec / MB:.0f} MB of CSV; "
                 f"{res.get('_repeat', repeat)} run(s) per tool)\n")
        L.append("| tool | median wall (s) | runs (s) | parse / rollup / write (s) | "
                 "peak memory (MiB) | tally speed-up | load avg | output check |")
        L.append("|---|---:|---|---|---:|---:|---:|---|")
        for tool in ("tally", "duckdb", "pandas", "postgres"):
            if tool not in res:
                continue
            r = res[tool]
            ratio = "—" if tool == "tally" else f"{r['wall'] / t['wall']:.1f}x"
            check = "reference" if tool == "tally" else (
                ("same numbers: " if r["check_ok"] else "**DIFFERS**: ") + r["check"])
            L.append(f"| {tool} | {r['wall']:.3f} | {', '.join(f'{w:.2f}' for w in r['walls'])}"
                     f" | {fmt_phases(r['phases'])} | {r['rss_kb'] / 1024:.0f} | {ratio} | "
                     f"{r.get('load_avg', 0):.1f} | {check} |")
        p = t["phases"]
        L.append("")
        L.append(f"tally phases (C API): hierarchy + definitions {p['load']:.3f} s, "
                 f"records {p['parse']:.3f} s = **{rec / p['parse'] / 1e9:.2f} GB/s** "
                 f"({n / p['parse'] / 1e6:.1f} M records/s), rollup {p['rollup']:.3f} s, "
                 f"write {p['write']:.3f} s = **{t['out_bytes'] / p['write'] / 1e9:.2f} GB/s** "
                 f"({t['out_bytes'] / MB:.0f} MB).")
        if "parse_serial" in p:
            L.append(f"Records on one thread: {p['parse_serial']:.3f} s = "
                     f"**{rec / p['parse_serial'] / 1e9:.2f} GB/s per core**.")
        if "reload" in p:
            L.append(f"Snapshot of the dataset: saved in {p['save']:.3f} s "
                     f"({p['snapshot_bytes'] / MB:.0f} MB), loaded back in {p['reload']:.4f} s "
                     f"= **{p['parse'] / p['reload']:.0f}x** faster than reading the CSV.")
        dense = res["_dense"]
        L.append(f"Dense reported value arrays: {dense['columns']} columns x {dense['nodes']:,} "
                 f"regions x 8 bytes = {dense['bytes'] / 2**20:.1f} MiB; tally's peak "
                 f"{t['rss_kb'] / 1024:.1f} MiB = **{t['rss_kb'] * 1024 / dense['bytes']:.2f}x** "
                 f"(the job's {dense['job_columns']} dense columns, with the ratio's: "
                 f"{dense['job_bytes'] / 2**20:.1f} MiB, "
                 f"{t['rss_kb'] * 1024 / dense['job_bytes']:.2f}x).\n")
    big = [(l, n) for l, n in sizes if n >= 9_000_000]
    if big:
        label, n = big[0]
        res = results[label]
        t, p = res["tally"], res["tally"]["phases"]
        rec = os.path.getsize(res["_records"])
        L.append(f"## Targets ({label} records, this run)\n")
        L.append("| target | measured | met |")
        L.append("|---|---|---|")
        if "duckdb" in res:
            r = res["duckdb"]["wall"] / t["wall"]
            L.append(f"| end to end at least 8x faster than DuckDB | {r:.1f}x | "
                     f"{'yes' if r >= 8 else 'no'} |")
        g = rec / p.get("parse_serial", p["parse"]) / 1e9
        L.append(f"| CSV ingestion at least 1 GB/s per core | {g:.2f} GB/s on one thread"
                 + (f" ({rec / p['parse'] / 1e9:.2f} GB/s on all cores)"
                    if "parse_serial" in p else "") + f" | {'yes' if g >= 1 else 'no'} |")
        g = t["out_bytes"] / p["write"] / 1e9
        L.append(f"| output at least 1 GB/s | {g:.2f} GB/s | {'yes' if g >= 1 else 'no'} |")
        m = t["rss_kb"] * 1024 / res["_dense"]["bytes"]
        m17 = t["rss_kb"] * 1024 / res["_dense"]["job_bytes"]
        L.append(f"| peak memory at most 1.5x the dense value arrays | {m:.2f}x the "
                 f"{res['_dense']['columns']} reported columns; {m17:.2f}x the job's "
                 f"{res['_dense']['job_columns']} (with the ratio's) | "
                 f"{'yes' if m <= 1.5 else 'no'} |")
        if "reload" in p:
            x = p["parse"] / p["reload"]
            one = (f"; {p['parse_serial'] / p['reload']:.0f}x against the one-thread read"
                   if "parse_serial" in p else "")
            L.append(f"| binary snapshot reloading 50x faster than the CSV | {x:.0f}x "
                     f"({p['reload'] * 1e3:.1f} ms against {p['parse'] * 1e3:.0f} ms on all "
                     f"cores{one}) | {'yes' if x >= 50 else 'no'} |")
        L.append("")
    if len(sizes) > 1:
        L.append("## Cost against records (tally, national table)\n")
        L.append("| records | median wall (s) | ns per record (wall) | records phase (s) | "
                 "ns per record (records phase) |")
        L.append("|---:|---:|---:|---:|---:|")
        for label, n in sizes:
            t = results[label]["tally"]
            L.append(f"| {n:,} | {t['wall']:.3f} | {t['wall'] / n * 1e9:.0f} | "
                     f"{t['phases']['parse']:.3f} | {t['phases']['parse'] / n * 1e9:.0f} |")
        L.append("")
    if hier_results:
        L.append("## Hierarchy-size series (1,000,000 records each)\n")
        L.append("Synthetic hierarchies of 12-digit codes (`bench/gen.py hierarchy synthetic "
                 "N`: 10 provinces x 10 cities x 10 counties x 10 towns, villages filling the "
                 "rest), records cycling months over every village; and the national table.\n")
        L.append("| regions | tally wall (s) | load / records / rollup / write (s) | "
                 "tally peak (MiB) | DuckDB wall (s) | tally speed-up | check |")
        L.append("|---:|---:|---|---:|---:|---:|---|")
        for hs, res in hier_results:
            t, d = res["tally"], res.get("duckdb")
            p = t["phases"]
            L.append(f"| {hs:,} | {t['wall']:.3f} | {p['load']:.3f} / {p['parse']:.3f} / "
                     f"{p['rollup']:.3f} / {p['write']:.3f} | {t['rss_kb'] / 1024:.0f} | "
                     + (f"{d['wall']:.3f} | {d['wall'] / t['wall']:.1f}x | "
                        f"{'same numbers' if d['check_ok'] else '**DIFFERS**'} |" if d else
                        "— | — | — |"))
        L.append("")
    L += report_other(other)
    L.append("## Reproduce\n")
    L.append("```sh")
    L.append("make bench                                   # 1M and 10M, 3 runs each")
    L.append("BENCH_SIZES=1M,10M,50M make bench            # with 50M (once per tool)")
    L.append("BENCH_JOBS=county,households,check BENCH_HOUSEHOLDS=1M make bench  # smaller")
    L.append("python3 bench/gen.py records bench/work/national.csv 1000000 r.csv  # one input")
    L.append("```\n")
    return "\n".join(L)


def rerender():
    """Writes RESULTS.md again from bench/work/results.json (no runs)."""
    j = json.load(open(os.path.join(WORK, "results.json")))
    tally = os.path.join(env("TALLY_BUILD", os.path.join(WORK, "build")), "examples", "tally")
    text = report(machine(), versions(tally), [tuple(x) for x in j["sizes"]], j["results"],
                  [tuple(x) for x in j["hier"]], None, j.get("repeat", 3), j.get("total"),
                  j.get("other"))
    with open(env("BENCH_OUT", os.path.join(HERE, "RESULTS.md")), "w", encoding="utf-8") as f:
        f.write(text)
    return 0


def main():
    if sys.argv[1:] == ["--report"]:
        return rerender()
    t_start = time.perf_counter()
    jobs = env("BENCH_JOBS", "national,every-level,county,households,check").split(",")
    sizes = [parse_size(s) for s in env("BENCH_SIZES", "1M,10M").split(",")]
    hier_sizes = [int(s) for s in env("BENCH_HIER_SIZES", "100000,2000000").split(",") if s]
    if "national" not in jobs:
        sizes, hier_sizes = [], []
    repeat = int(env("BENCH_REPEAT", "3"))
    tools = env("BENCH_TOOLS", "tally,duckdb,pandas,postgres").split(",")
    ensure_peers(tools)
    tally, phases = build_tally()
    defs, inputs = ensure_inputs(sizes, hier_sizes)
    nodes_national = 665271
    port = None
    pgwork = None
    results, hier_results = {}, []
    try:
        if "postgres" in tools:
            pgwork = tempfile.mkdtemp(prefix="tally-bench-pg.")
            port = subprocess.run([sys.executable, os.path.join(HERE, "pg-run.py"), "start",
                                   pgwork], check=True, capture_output=True,
                                  text=True).stdout.strip()
        for label, n in sizes:
            hier, records = inputs[("national", n)]
            print(f"{label} records ({n:,})", flush=True)
            reps = repeat if n < 20_000_000 else int(env("BENCH_REPEAT_LARGE", "1"))
            res = run_job(tools, tally, phases, defs, hier, records, reps, port, f"n{n}")
            res["_repeat"] = reps
            months = -(-n // (NATIONAL_VILLAGES * INDICATORS))
            cols = INDICATORS * months
            res["_dense"] = {"columns": cols, "nodes": nodes_national,
                             "bytes": cols * nodes_national * 8,
                             "job_columns": cols + months,
                             "job_bytes": (cols + months) * nodes_national * 8}
            res["_records"] = records
            results[label] = res
        for hs in hier_sizes:
            hier, records = inputs[("synthetic", hs)]
            print(f"hierarchy of {hs:,} regions, 1M records", flush=True)
            res = run_job([t for t in tools if t == "duckdb"], tally, phases, defs, hier,
                          records, repeat, port, f"h{hs}")
            hier_results.append((hs, res))
        if "1M" in dict(sizes):
            hier_results.append((nodes_national, {k: v for k, v in results["1M"].items()
                                                  if k in ("tally", "duckdb")}))
        hier_results.sort()
        other = other_jobs(jobs, tally, defs, repeat)
    finally:
        if pgwork:
            subprocess.run([sys.executable, os.path.join(HERE, "pg-run.py"), "stop", pgwork])
    text = report(machine(), versions(tally), sizes, results, hier_results, defs, repeat,
                  time.perf_counter() - t_start, other)
    with open(env("BENCH_OUT", os.path.join(HERE, "RESULTS.md")), "w", encoding="utf-8") as f:
        f.write(text)
    json.dump({"sizes": sizes, "results": results, "hier": hier_results, "repeat": repeat,
               "total": time.perf_counter() - t_start, "other": other},
              open(os.path.join(WORK, "results.json"), "w"), indent=1, default=str)
    bad = [(l, t) for l, r in results.items() for t, v in r.items()
           if isinstance(v, dict) and v.get("check_ok") is False]
    bad += [(h, "duckdb") for h, r in hier_results if "duckdb" in r and not r["duckdb"]["check_ok"]]
    bad += [(j, t) for j, r in other.items() for t, v in r["tools"].items()
            if v.get("check_ok") is False]
    print(f"wrote {env('BENCH_OUT', os.path.join(HERE, 'RESULTS.md'))}")
    if bad:
        print(f"outputs differ: {bad}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
