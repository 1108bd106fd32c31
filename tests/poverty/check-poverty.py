#!/usr/bin/env python3
"""tally poverty --households against a plain reference, node by node.

Usage: check-poverty.py TALLY_EXE SOURCE_ROOT

Generates (fixed seed) a hierarchy with skipped levels and households with
person weights, zero incomes, ties, incomes exactly at the poverty line,
households filed under towns, regions without households and rows of
another year; runs `tally poverty`; and recomputes every column of every
printed row straight from the formulas:

  pw = weight * size; poor: y < z
  P_a = sum(pw ((z - y)/z)^a over y < z) / sum(pw), a = 0, 1, 2   (in %)
  Watts = sum(pw ln(z/y) over 0 < y < z) / sum(pw)                (in %)
  Gini = (2 sum(w_i y_i W_i) - sum(w_i^2 y_i)) / (W sum(w_i y_i)) - 1
  median: first sorted income with W_i / W >= 1/2, averaged with the next
          when W_i / W == 1/2
  below_monitoring_line: households with y < monitoring line

A node's households are found by walking up the parents of each household's
region (not through pre-order ranges). Sums use math.fsum; weights are
multiples of 1/4, so cumulative weights are exact.

It also checks records mode on the demo data (every node's incidence against
its threshold, from a plain rollup written here) and the command line on a
file of bad household rows.

A printed number passes when it equals the reference rounded half away
from zero to the column's decimals, or, where the reference lies within
1e-9 (relative) of a rounding boundary, the other side of it.
"""

import csv
import io
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

SEED = 20191231
LINE = 3218.0
MONITORING = 5000.0
YEAR = 2019
LEVELS = ["province", "city", "county", "town", "village"]


def make_hierarchy(rng):
    """Rows (code, name, level, parent_code) in file order, with skipped
    levels: a county straight under the province, villages straight under
    a county, and a town without villages."""
    rows = []
    serial = [0]

    def code(prefix):
        serial[0] += 1
        return f"{prefix}{serial[0]:0{12 - len(prefix)}d}"

    prov = "430000000000"
    rows.append((prov, "省", "province", ""))
    counties = []
    for c in range(3):
        city = code("43%d" % (c + 1))
        rows.append((city, f"市{c}", "city", prov))
        for k in range(rng.randint(2, 4)):
            county = code(city[:4] + "%d" % k)
            rows.append((county, f"县{c}{k}", "county", city))
            counties.append(county)
    lone = code("439")
    rows.append((lone, "直辖县", "county", prov))  # no city
    counties.append(lone)
    for county in counties:
        for t in range(rng.randint(1, 5)):
            town = code(county[:6] + "%d" % t)
            rows.append((town, f"镇{town[-4:]}", "town", county))
            for v in range(rng.choice([0, 1, 3, 6, 9])):
                village = code(town[:9])
                rows.append((village, f"村{village[-4:]}", "village", town))
        for v in range(rng.choice([0, 0, 2])):  # villages without a town
            village = code(county[:6] + "9")
            rows.append((village, f"村{village[-4:]}", "village", county))
    return rows


def preorder(hier):
    """Codes in pre-order, children in file order."""
    children = {}
    for c, _, _, p in hier:
        children.setdefault(p, []).append(c)
    out = []
    stack = list(reversed(children[""]))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(reversed(children.get(c, [])))
    return out


def make_households(rng, regions, with_weights, with_year, scale=1):
    """Household rows; regions are (code, level) pairs; about 20 * scale
    households a region that has any."""
    villages = [c for c, lv in regions if lv == "village"]
    towns = [c for c, lv in regions if lv == "town"]
    # Some villages get nothing at all.
    used = [v for v in villages if rng.random() < 0.85]
    ties = [1500.0, 2400.0, 3218.0, 4000.0, 6000.0]
    rows = []
    n = 0
    for region in used + rng.sample(towns, max(1, len(towns) // 4)):
        for _ in range(rng.randint(1, 40) * scale):
            n += 1
            u = rng.random()
            if u < 0.05:
                income = 0.0
            elif u < 0.10:
                income = LINE  # exactly at the line: not poor
            elif u < 0.25:
                income = rng.choice(ties)
            else:
                income = round(rng.lognormvariate(math.log(5200), 0.6), 2)
            row = {
                "household_id": f"H{n:06d}",
                "region_code": region,
                "size": rng.randint(1, 8),
                "income_per_capita": income,
            }
            if with_weights:
                row["weight"] = rng.choice([1, 1, 2, 0.25, 0.5, 1.75, 3, 12.5])
            if with_year:
                row["year"] = YEAR if rng.random() < 0.9 else YEAR + 1
            rows.append(row)
    rng.shuffle(rows)
    return rows


def reference(hier, households, line, mline):
    """Per node code: the measures, or None values where undefined."""
    parent = {c: p for c, _, _, p in hier}
    members = {c: [] for c, _, _, _ in hier}
    for h in households:
        node = h["region_code"]
        while node:
            members[node].append(h)
            node = parent[node]
    out = {}
    for c, hs in members.items():
        r = {"households": len(hs), "below_monitoring_line": None}
        ws = [h.get("weight", 1) * h["size"] for h in hs]
        W = math.fsum(ws)
        r["persons"] = W
        if mline is not None:
            r["below_monitoring_line"] = sum(1 for h in hs if h["income_per_capita"] < mline)
        if not hs:
            for k in ("p0", "p1", "p2", "watts", "gini", "median_income"):
                r[k] = None
            out[c] = r
            continue
        for a in (0, 1, 2):
            num = math.fsum(w * ((line - h["income_per_capita"]) / line) ** a
                            for h, w in zip(hs, ws) if h["income_per_capita"] < line)
            r["p%d" % a] = num / W * 100
        r["watts"] = math.fsum(w * math.log(line / h["income_per_capita"])
                               for h, w in zip(hs, ws)
                               if 0 < h["income_per_capita"] < line) / W * 100
        pairs = sorted(((h["income_per_capita"], w) for h, w in zip(hs, ws)), key=lambda t: t[0])
        cum = []
        acc = Fraction(0)
        for _, w in pairs:
            acc += Fraction(w)
            cum.append(acc)
        total = cum[-1]
        s_wy = math.fsum(w * y for y, w in pairs)
        if s_wy > 0:
            t1 = math.fsum(w * y * float(Wi) for (y, w), Wi in zip(pairs, cum))
            t2 = math.fsum(w * w * y for y, w in pairs)
            r["gini"] = max(0.0, (2 * t1 - t2) / (float(total) * s_wy) - 1)
        else:
            r["gini"] = None
        for i, Wi in enumerate(cum):
            share = Wi / total
            if share >= Fraction(1, 2):
                if share == Fraction(1, 2) and i + 1 < len(pairs):
                    r["median_income"] = (pairs[i][0] + pairs[i + 1][0]) / 2
                else:
                    r["median_income"] = pairs[i][0]
                break
        out[c] = r
    return out


def rounded(v, decimals):
    q = Decimal(1).scaleb(-decimals)
    s = str(Decimal(repr(v)).quantize(q, rounding=ROUND_HALF_UP))
    return "0" + s[2:] if s.startswith("-0") and Decimal(s) == 0 else s


def accept(printed, v, decimals):
    if v is None:
        return printed == ""
    eps = 1e-9 * max(1.0, abs(v))
    return printed in {rounded(v, decimals), rounded(v - eps, decimals), rounded(v + eps, decimals)}


DECIMALS = {"p0": 4, "p1": 4, "p2": 4, "watts": 4, "gini": 4, "median_income": 2,
            "poverty_line": 2}


def run(tally, args):
    res = subprocess.run([tally, "poverty"] + args, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"tally poverty {' '.join(args)}: exit {res.returncode}\n{res.stderr}")
    return res.stdout, res.stderr


def check(tally, tmp, rng, with_weights, with_year, scale=1):
    hier = make_hierarchy(rng)
    regions = [(c, lv) for c, _, lv, _ in hier]
    households = make_households(rng, regions, with_weights, with_year, scale)
    hpath = os.path.join(tmp, "h.csv")
    with open(hpath, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "level", "parent_code"])
        w.writerows(hier)
    cols = ["household_id", "region_code", "size", "income_per_capita"]
    cols += ["weight"] if with_weights else []
    cols += ["year"] if with_year else []
    order = cols[:]
    rng.shuffle(order)  # columns are found by name
    hhpath = os.path.join(tmp, "households.csv")
    with open(hhpath, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=order, lineterminator="\n")
        w.writeheader()
        for h in households:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in h.items()})
    dpath = os.path.join(tmp, "d.yaml")
    with open(dpath, "w", encoding="utf-8") as f:
        f.write("indicators:\n  - id: x\n"
                "poverty:\n  lines: {2019: 3218, 2020: 4000}\n  monitoring_line: 5000\n")

    if with_year:
        args = ["-H", hpath, "-d", dpath, "--households", hhpath, "--year", str(YEAR)]
        used = [h for h in households if h["year"] == YEAR]
        mline = MONITORING
    else:
        args = ["-H", hpath, "-d", dpath, "--households", hhpath, "--line", "3218",
                "--monitoring-line", "5000"]
        used = households
        mline = MONITORING
    out, err = run(tally, args)
    ref = reference(hier, used, LINE, mline)
    rows = list(csv.DictReader(io.StringIO(out)))
    # Only the nodes with households are printed; --all-regions prints all.
    if [r["region_code"] for r in rows] != [c for c in preorder(hier) if ref[c]["households"]]:
        sys.exit("the rows are not the nodes with households in pre-order")
    out, _ = run(tally, args + ["--all-regions"])
    every = list(csv.DictReader(io.StringIO(out)))
    if [r["region_code"] for r in every] != preorder(hier):
        sys.exit("--all-regions: the rows are not every node in pre-order")
    if [r for r in every if r["region_code"] in ref and ref[r["region_code"]]["households"]] != rows:
        sys.exit("--all-regions: the rows with households differ from the default output")
    rows = every
    whole = all(float(h.get("weight", 1) * h["size"]).is_integer() for h in used)
    bad = 0
    checked = 0
    for r in rows:
        want = ref[r["region_code"]]
        for k, v in want.items():
            if k == "persons":
                ok = accept(r[k], v, 0 if whole else 2)
            elif k in ("households", "below_monitoring_line"):
                ok = r[k] == ("" if v is None else str(v))
            else:
                ok = accept(r[k], v, DECIMALS[k])
            checked += 1
            if not ok:
                bad += 1
                if bad <= 10:
                    print(f"{r['region_code']} {k}: printed {r[k]!r}, reference {v!r}")
        if r["poverty_line"] != "3218.00" or r["year"] != (str(YEAR) if with_year else ""):
            bad += 1
            print(f"{r['region_code']}: line {r['poverty_line']!r} year {r['year']!r}")
    skipped = len(households) - len(used)
    if with_year and f"{skipped} of other years skipped" not in err:
        bad += 1
        print(f"stderr does not count the {skipped} skipped households: {err}")

    # JSON with a level filter: the same numbers, only those levels.
    out_json, _ = run(tally, args + ["--format", "json", "--level", "county,village"])
    objs = json.loads(out_json)
    by_code = {r["region_code"]: r for r in rows}
    level = {c: lv for c, _, lv, _ in hier}
    want_codes = [c for c in preorder(hier)
                  if level[c] in ("county", "village") and ref[c]["households"]]
    if [o["region_code"] for o in objs] != want_codes:
        bad += 1
        print("JSON rows differ from the county and village rows")
    for o in objs:
        r = by_code[o["region_code"]]
        for k, v in o.items():
            same = (r[k] == "" if v is None
                    else float(r[k]) == v if isinstance(v, float) else str(v) == r[k])
            if not same:
                bad += 1
                print(f"JSON {o['region_code']} {k}: {v!r} vs CSV {r[k]!r}")
    label = ("weights" if with_weights else "no weights") + (", years" if with_year else "")
    print(f"{label}: {len(hier)} nodes, {len(households)} households ({len(used)} measured), "
          f"{checked} values checked, {bad} differences")
    return bad


def check_records(tally, root):
    """Records mode on the demo: every node's 2019 incidence (the latest
    report of 2019 of each village, summed over the subtree) against the
    demo's thresholds (county and village: under 2.0, strictly)."""
    data = os.path.join(root, "examples", "data")
    hier = []
    with open(os.path.join(data, "yueyang-hierarchy.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            hier.append((r["code"], r["name"], r["level"], r["parent_code"]))
    parent = {c: p for c, _, _, p in hier}
    latest = {}  # (region, indicator) -> (period, value)
    with open(os.path.join(data, "yueyang-2019.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["value"] == "" or not r["period"].startswith("2019"):
                continue
            key = (r["region_code"], r["indicator"])
            if key not in latest or r["period"] > latest[key][0]:
                latest[key] = (r["period"], float(r["value"]))
    sums = {}
    for (region, ind), (_, v) in latest.items():
        node = region
        while node:
            sums[(node, ind)] = sums.get((node, ind), 0.0) + v
            node = parent[node]
    out, _ = run(tally, ["-H", os.path.join(data, "yueyang-hierarchy.csv"),
                         "-d", os.path.join(data, "yueyang.yaml"),
                         "-r", os.path.join(data, "yueyang-2019.csv"), "--year", "2019"])
    rows = list(csv.DictReader(io.StringIO(out)))
    bad = 0

    def incidence(code):
        poor, rural = sums.get((code, "poor_population")), sums.get((code, "rural_population"))
        return poor / rural * 100 if poor is not None and rural else None

    # Only the nodes with a value are printed; --all-regions prints all.
    if [r["region_code"] for r in rows] != [c for c in preorder(hier) if incidence(c) is not None]:
        sys.exit("records mode: the rows are not the nodes with a value in pre-order")
    out, _ = run(tally, ["-H", os.path.join(data, "yueyang-hierarchy.csv"),
                         "-d", os.path.join(data, "yueyang.yaml"),
                         "-r", os.path.join(data, "yueyang-2019.csv"), "--year", "2019",
                         "--all-regions"])
    rows = list(csv.DictReader(io.StringIO(out)))
    if [r["region_code"] for r in rows] != preorder(hier):
        sys.exit("records mode, --all-regions: the rows are not every node in pre-order")
    counts = {"yes": 0, "no": 0, "": 0}
    for r in rows:
        code, level = r["region_code"], r["level"]
        value = incidence(code)
        threshold = 2.0 if level in ("county", "village") else None
        meets = "" if value is None or threshold is None else ("yes" if value < threshold else "no")
        margin = None if meets == "" else threshold - value
        ok = (r["period"] == "2019" and r["indicator"] == "incidence"
              and accept(r["value"], value, 2)
              and r["threshold"] == ("" if threshold is None else "2.00")
              and r["meets_threshold"] == meets and accept(r["margin"], margin, 2))
        counts[r["meets_threshold"]] += 1
        if not ok:
            bad += 1
            if bad <= 10:
                print(f"records {code}: printed {dict(r)}, reference value {value!r} "
                      f"threshold {threshold!r} meets {meets!r}")
    print(f"records: {len(rows)} nodes, incidence 2019 against the thresholds: "
          f"{counts['yes']} yes, {counts['no']} no, {counts['']} without; {bad} differences")
    return bad


def check_cli(tally, root):
    """Bad households rows: stop and collect modes, exit statuses, --rejects."""
    data = os.path.join(root, "examples", "data")
    bad_csv = os.path.join(root, "tests", "poverty", "data", "bad-households.csv")
    base = [tally, "poverty", "-H", os.path.join(data, "yueyang-hierarchy.csv"),
            "-d", os.path.join(data, "yueyang.yaml"), "--households", bad_csv]
    bad = 0

    def expect(argv, status, err_lines):
        nonlocal bad
        res = subprocess.run(argv, capture_output=True, text=True)
        got = [ln for ln in res.stderr.splitlines() if ln.startswith("tally poverty: ")]
        for want in err_lines:
            if not any(want in ln for ln in got):
                bad += 1
                print(f"{' '.join(argv[1:])}: no line with {want!r} in\n{res.stderr}")
        if res.returncode != status:
            bad += 1
            print(f"{' '.join(argv[1:])}: exit {res.returncode}, expected {status}")
        return res

    expect(base, 2, [f"{bad_csv}:3:30: size '0' is not a whole number >= 1",
                     "households: 2 rows read = 1 accepted + 1 rejected (stopped"])
    res = expect(base + ["--on-error", "collect", "--level", "town"], 0,
                 ["households: 7 rows read = 2 accepted + 5 rejected",
                  f"rejected {bad_csv}:4:17: unknown region code '430626115299'",
                  f"rejected {bad_csv}:5:32: bad income_per_capita '3千'",
                  f"rejected {bad_csv}:6:32: empty income_per_capita",
                  f"rejected {bad_csv}:7:1: duplicate household '430626115200-01' for year 2019",
                  "2019, poverty line 3218.00: 2 households measured"])
    towns = {r["region_code"]: r for r in csv.DictReader(io.StringIO(res.stdout))}
    if towns.get("430626117000", {}).get("p0") != "100.0000":
        bad += 1
        print("collect mode: 石牛寨镇 should have its one household, poor")
    with tempfile.TemporaryDirectory() as tmp:
        rej = os.path.join(tmp, "rejects.csv")
        expect(base + ["--on-error", "collect", "--rejects", rej, "-o", os.devnull], 0,
               [f"5 rejected rows written to {rej}"])
        with open(rej, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        if [(r["line"], r["column"]) for r in rows] != [("3", "30"), ("4", "17"), ("5", "32"),
                                                        ("6", "32"), ("7", "1")]:
            bad += 1
            print(f"--rejects: {rows}")
    expect(base[:6], 2, ["missing -r records.csv (exit thresholds) or --households"])
    for args, msg in ((["-r", "x.csv"], "not both"),
                      (["--year", "19"], "--year '19'"),
                      (["--line", "0"], "--line '0': expected a positive number"),
                      (["--period", "2019"], "--period is for records")):
        expect(base + args, 2, [msg])
    res = subprocess.run([tally, "poverty", "--help"], capture_output=True, text=True)
    if res.returncode != 0 or "--households FILE" not in res.stdout:
        bad += 1
        print("--help")
    print(f"command line: {bad} differences")
    return bad


def main():
    tally, root = sys.argv[1], sys.argv[2]
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        bad = check(tally, tmp, rng, with_weights=True, with_year=True)
        bad += check(tally, tmp, rng, with_weights=False, with_year=False)
        # Large enough (over 131,072 households) for the measures to run on
        # two threads where there are two cores, and the ids' index to grow.
        bad += check(tally, tmp, rng, with_weights=True, with_year=False, scale=60)
    bad += check_records(tally, root)
    bad += check_cli(tally, root)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
