#!/usr/bin/env python3
"""tally check on the demo data: the deliberate inconsistencies of
examples/data/yueyang-published-2019.csv and the nine village-months with
no poor_population row (listed in examples/data/README.md) are found, and
nothing else; the exit status; CSV, JSON, -o and --level; the summary on
standard error; bad usage and bad input with exit status 2 and
file:line:col.

Usage: check-cli.py TALLY SOURCE_ROOT THIS_DIR
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

tally, root, here = sys.argv[1], sys.argv[2], sys.argv[3]
data = os.path.join(root, "examples", "data")
H = os.path.join(data, "yueyang-hierarchy.csv")
D = os.path.join(data, "yueyang-checks.yaml")
R1 = os.path.join(data, "yueyang-2019.csv")
R2 = os.path.join(data, "yueyang-published-2019.csv")
failures = []


def run(*args):
    p = subprocess.run([tally, "check", *args], capture_output=True, text=True, encoding="utf-8")
    return p.returncode, p.stdout, p.stderr


def expect(cond, what):
    if not cond:
        failures.append(what)


# What the demo was made with (see readme-check and the published file):
# each deliberate mistake, and the village-months without a poor_population
# row (examples/data/README.md).
deliberate = {
    ("counts_add_up", "error", "430621000000", "poor_population", "2019"),    # 3119, villages 3191
    ("counts_add_up", "error", "430681000000", "exited_population", "2019"),  # 5546, villages 5564
    ("counts_add_up", "error", "430626102000", "exited_population", "2019"),  # -2815: sign lost
    ("bounds", "error", "430626102000", "exited_population", "2019"),         # the same -2815
    ("counts_add_up", "error", "430626103000", "rural_population", "2019"),   # rural and poor
    ("counts_add_up", "error", "430626103000", "poor_population", "2019"),    #  swapped
    ("poor_within_population", "error", "430626103000", "", "2019"),          #  so poor > rural
    ("recomputed", "error", "430626000000", "incidence", "2019"),             # 0.90, counts 0.84
    ("recomputed", "error", "430624000000", "incidence", "2019"),             # 0.56, truncated
    ("monotonic", "error", "430626000000", "exited_ytd", "2019-09"),          # 1039 after 7717
}
missing = ["430603001402 2019-09", "430603002404 2019-01", "430621106227 2019-06",
           "430621112237 2019-06", "430623106002 2019-09", "430623120024 2019-07",
           "430624116205 2019-12", "430626105227 2019-08", "430682004002 2019-10"]
for m in missing:
    code, per = m.split()
    deliberate.add(("villages_report_poor", "warning", code, "poor_population", per))
    # The same gap is a gap of the incidence: named at the village, and once
    # for 岳阳市's figure of that month.
    deliberate.add(("coverage", "warning", code, "incidence", per))
    deliberate.add(("coverage", "warning", "430600000000", "incidence", per))

status, out, err = run("-H", H, "-d", D, "-r", R1, "-r", R2)
expect(status == 1, "exit status %d, expected 1 (errors found)" % status)
rows = list(csv.DictReader(io.StringIO(out)))
expect(list(rows[0].keys()) == ["check", "severity", "region_code", "region_name", "period",
                                "indicator", "expected", "actual", "difference", "message"],
       "CSV header: %s" % list(rows[0].keys()))
got = {(r["check"], r["severity"], r["region_code"], r["indicator"], r["period"]) for r in rows}
expect(len(rows) == len(got), "duplicate findings")
for x in sorted(deliberate - got):
    failures.append("missed %s" % (x,))
for x in sorted(got - deliberate):
    failures.append("unexpected %s" % (x,))
by = {(r["check"], r["region_code"], r["indicator"], r["period"]): r for r in rows}
r = by.get(("recomputed", "430626000000", "incidence", "2019"))
expect(r and r["message"] == "平江县 2019: 贫困发生率 reported 0.90 but 建档立卡贫困人口 / 农业户籍人口 "
       "× 100 = 9170 / 1095931 × 100 = 0.84", "平江县 message: %s" % (r and r["message"]))
expect(r and (r["expected"], r["actual"], r["difference"]) == ("0.84", "0.90", "0.06"),
       "平江县 numbers: %s" % r)
r = by.get(("recomputed", "430624000000", "incidence", "2019"))
expect(r and "0.56 is 0.5657 truncated instead of rounded (0.57)" in r["message"],
       "湘阴县 truncation: %s" % (r and r["message"]))
r = by.get(("counts_add_up", "430621000000", "poor_population", "2019"))
expect(r and (r["expected"], r["actual"], r["difference"]) == ("3191", "3119", "-72"),
       "岳阳县: %s" % r)
r = by.get(("monotonic", "430626000000", "exited_ytd", "2019-09"))
expect(r and r["message"] == "平江县 2019-09: 累计脱贫人口, a year-to-date figure, fell from 7717 in "
       "2019-08 to 1039; it cannot decrease within a year", "monotonic: %s" % r)
# Findings in check order (the checks of the file, then bounds, recomputed,
# monotonic), then pre-order.
order = ["counts_add_up", "poor_within_population", "villages_report_poor", "bounds",
         "recomputed", "monotonic", "coverage"]
ranks = [order.index(r["check"]) for r in rows]
expect(ranks == sorted(ranks), "findings not in check order")
# The summary: a header and a line per check, then the totals.
lines = [l for l in err.splitlines() if l.startswith("tally check: ")]
summary = {l.split()[2]: l.split()[3:] for l in lines if len(l.split()) == 8}
expect(summary.get("counts_add_up") == ["45", "40", "0", "5", "0"],
       "summary counts_add_up: %s" % summary.get("counts_add_up"))
expect(summary.get("villages_report_poor") == ["22788", "22779", "0", "9", "0"],
       "summary villages_report_poor: %s" % summary.get("villages_report_poor"))
expect(summary.get("recomputed") == ["10", "8", "0", "2", "0"],
       "summary recomputed: %s" % summary.get("recomputed"))
expect(summary.get("coverage") == ["16", "0", "16", "0", "0"],
       "summary coverage: %s" % summary.get("coverage"))
expect("tally check: 35 findings: 10 errors, 25 warnings" in err, "totals line: %s" % err)

# JSON and -o give the same findings; --level county keeps the counties'.
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "f.json")
    status, out, err = run("-H", H, "-d", D, "-r", R1, "-r", R2, "--format", "json", "-o", path)
    expect(status == 1 and out == "", "json -o: status %d, stdout %r" % (status, out[:80]))
    with open(path, encoding="utf-8") as f:
        items = json.load(f)
    gotj = {(x["check"], x["severity"], x["region_code"], x["indicator"] or "", x["period"])
            for x in items}
    expect(gotj == got, "JSON findings differ from CSV")
    rule = [x for x in items if x["check"] == "poor_within_population"]
    expect(len(rule) == 1 and rule[0]["indicator"] is None and rule[0]["expected"] == 573,
           "JSON rule finding: %s" % rule)
status, out, err = run("-H", H, "-d", D, "-r", R1, "-r", R2, "--level", "county")
codes = {r["region_code"] for r in csv.DictReader(io.StringIO(out))}
expect(status == 1 and codes == {"430621000000", "430681000000", "430626000000",
                                 "430624000000"}, "--level county: %s" % codes)

# The village reports alone: only the missing rows (and the incidence gaps
# they make: 9 at the villages, 7 months of 岳阳市), all warnings: exit 0.
status, out, err = run("-H", H, "-d", D, "-r", R1)
expect(status == 0, "villages only: exit %d, expected 0" % status)
expect(len(list(csv.DictReader(io.StringIO(out)))) == 9 + 16, "villages only: %s" % out)

# Bad usage and bad input: exit 2, with where and what.
cases = [
    (("-H", H, "-d", D), "tally check: missing -r records.csv"),
    (("-H", H, "-d", D, "-r", R1, "--prefer", "x"),
     "tally check: --prefer 'x': expected computed or reported"),
    (("-H", H, "-d", D, "-r", R1, "--period", "2019-13"),
     "tally check: bad period '2019-13'; expected YYYY-MM, YYYY-Qn, YYYY, a half YYYY-H1 or YYYY-H2, "
     "or a range of one year YYYY-MM..YYYY-MM or YYYY-Qn..YYYY-Qn"),
    (("-H", H, "-d", D, "-r", R1, "-t", os.path.join(here, "bad-targets.csv")),
     "tally check: %s:3:1: unknown region code '430626999000'; expected a code of the hierarchy"
     % os.path.join(here, "bad-targets.csv")),
    (("-H", H, "-d", D, "-r", R1, "--format", "xml"),
     "tally check: --format 'xml': expected csv, json or xlsx"),
]
for args, message in cases:
    status, out, err = run(*args)
    expect(status == 2, "%s: exit %d, expected 2" % (args[-1], status))
    expect(message in err.splitlines(), "%s: stderr %r lacks %r" % (args[-1], err, message))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("demo: %d findings, the deliberate ones exactly; JSON, -o, --level, exit statuses and "
      "%d bad-input cases as expected" % (len(deliberate), len(cases)))
