#!/usr/bin/env python3
"""Write the 岳阳市 demo data set: the real hierarchy and synthetic 2019 reports.

Usage: python3 examples/data/make-demo.py [path/to/divisions.csv.gz]

The national table defaults to data/china-divisions/divisions-2023.csv.gz (bundled)
relative to the repository root (found from this file's own path). Outputs go
next to this script:

  yueyang-hierarchy.csv  the 岳阳市 subtree copied verbatim, root parent emptied
  yueyang-2019.csv       long monthly village records, 2019-01 .. 2019-12

The reports are synthetic. Only the standard library is used and the random
generator has a fixed seed, so every run writes the same bytes.
"""

import csv
import gzip
import io
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_DIVISIONS = REPO / "data" / "china-divisions" / "divisions-2023.csv.gz"

ROOT_CODE = "430600000000"
PREFIX = "4306"
YEAR = 2019
MONTHS = [f"{YEAR}-{m:02d}" for m in range(1, 13)]
INDICATORS = ["rural_population", "poor_population", "exited_population"]

# Per county: mean share of the rural population still registered poor at the
# end of 2018 (in %), and the share of them that exits during 2019. 平江县 was a
# national poverty county and leaves the list on its 2019 results, so it starts
# highest and exits most; the urban districts start lowest.
COUNTIES = {
    "430602": (1.2, 0.85),  # 岳阳楼区
    "430603": (1.8, 0.80),  # 云溪区
    "430611": (2.0, 0.80),  # 君山区
    "430621": (3.2, 0.75),  # 岳阳县
    "430623": (3.0, 0.75),  # 华容县
    "430624": (2.5, 0.78),  # 湘阴县
    "430626": (5.8, 0.88),  # 平江县
    "430671": (1.5, 0.85),  # 岳阳市屈原管理区
    "430681": (2.2, 0.80),  # 汨罗市
    "430682": (2.8, 0.78),  # 临湘市
}

# Relative weight of each month in the year's exits. Exits are confirmed after
# the year-end assessment of income and the "two assurances, three guarantees",
# so most are filed in October to December; a few leave earlier in the year.
EXIT_MONTH_WEIGHTS = [0.5, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 5.0, 9.0, 22.0, 49.5]

EXIT_MISSING_RATE = 0.01    # village-months whose exits cell is left empty
POOR_ABSENT_SHARE = 0.005   # villages that skip one poor_population row

URBAN_SUFFIXES = ("社区", "居委会", "居民委员会")


def fail(message):
    sys.stderr.write(f"make-demo.py: {message}\n")
    sys.exit(1)


def read_subtree(path):
    """Return (header line, [(raw line, fields)]) of the 岳阳市 subtree, in file order."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            text = f.read()
    except OSError as e:
        fail(f"{path}: {e}")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = lines[0]
    if header != "code,name,level,parent_code":
        fail(f"{path}: unexpected header {header!r}")
    rows = []
    for line in lines[1:]:
        if not line.startswith(PREFIX):
            continue
        fields = next(csv.reader([line]))
        if len(fields) != 4 or not fields[0].startswith(PREFIX):
            fail(f"{path}: malformed row {line!r}")
        rows.append((line, fields))
    if not rows or rows[0][1][0] != ROOT_CODE:
        fail(f"{path}: 岳阳市 ({ROOT_CODE}) is not the first row of prefix {PREFIX}")
    return header, rows


def write_hierarchy(path, header, rows):
    out = io.StringIO(newline="")
    out.write(header + "\n")
    for line, fields in rows:
        if fields[0] == ROOT_CODE:
            # The root of this file: its province is not in it.
            w = csv.writer(out, lineterminator="\n")
            w.writerow(fields[:3] + [""])
        else:
            out.write(line + "\n")
    path.write_bytes(out.getvalue().encode("utf-8"))


def spread_exits(rng, total):
    """Split `total` exits over the 12 months by EXIT_MONTH_WEIGHTS."""
    counts = [0] * 12
    for m in rng.choices(range(12), weights=EXIT_MONTH_WEIGHTS, k=total):
        counts[m] += 1
    return counts


def simulate(rng, villages):
    """Return {code: {indicator: [12 true values]}} plus the December 2018 poor."""
    truth = {}
    base_poor = {}
    for code, name in villages:
        mean_rate, exit_share = COUNTIES[code[:6]]
        urban = name.endswith(URBAN_SUFFIXES)
        if urban:
            # Neighbourhood committees hold few agricultural households.
            rural0 = int(rng.triangular(80, 1500, 400))
            rate = min(1.5, mean_rate * 0.3 * rng.lognormvariate(0.0, 0.5))
        else:
            rural0 = int(rng.triangular(600, 4000, 1800))
            rate = min(8.0, max(1.0, mean_rate * rng.lognormvariate(0.0, 0.35)))
        poor0 = round(rural0 * rate / 100)
        share = min(1.0, max(0.4, exit_share + rng.uniform(-0.15, 0.10)))
        exits = spread_exits(rng, round(poor0 * share))

        rural, poor = [], []
        r, p = rural0, poor0
        for m in range(12):
            # Births, deaths, marriages and moves to town: a few people a month,
            # drifting slightly down.
            r += round(rng.gauss(-0.4, 1.5))
            p -= exits[m]
            r = max(r, p)
            rural.append(r)
            poor.append(p)
        truth[code] = {
            "rural_population": rural,
            "poor_population": poor,
            "exited_population": exits,
        }
        base_poor[code] = poor0
    return truth, base_poor


def write_records(path, rng, villages, truth):
    """Write the records with their gaps; return the (code, indicator, month) left out or empty."""
    codes = [code for code, _ in villages]
    n_absent = max(1, round(len(codes) * POOR_ABSENT_SHARE))
    absent = {(code, rng.randrange(12)) for code in sorted(rng.sample(codes, n_absent))}
    empty = set()
    out = io.StringIO(newline="")
    out.write("region_code,indicator,period,value\n")
    rows = 0
    for code in codes:
        for m, period in enumerate(MONTHS):
            missing_exit = rng.random() < EXIT_MISSING_RATE
            for ind in INDICATORS:
                if ind == "poor_population" and (code, m) in absent:
                    continue
                value = truth[code][ind][m]
                text = str(value)
                if ind == "exited_population" and missing_exit:
                    text = ""
                    empty.add((code, m))
                out.write(f"{code},{ind},{period},{text}\n")
                rows += 1
    path.write_bytes(out.getvalue().encode("utf-8"))
    return rows, absent, empty


def verify(hier_path, rec_path, n_nodes, truth, base_poor):
    """Read the files back and check what the data set promises."""
    for p in (hier_path, rec_path):
        data = p.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            fail(f"{p}: has a BOM")
        if b"\r" in data:
            fail(f"{p}: has CR characters")
        if not data.endswith(b"\n"):
            fail(f"{p}: no final newline")
        data.decode("utf-8")

    with open(hier_path, encoding="utf-8", newline="") as f:
        hrows = list(csv.DictReader(f))
    if len(hrows) != n_nodes:
        fail(f"{hier_path}: {len(hrows)} rows, expected {n_nodes}")
    if hrows[0]["code"] != ROOT_CODE or hrows[0]["parent_code"] != "":
        fail(f"{hier_path}: root row is wrong")
    seen = set()
    for row in hrows:
        if row["code"] != ROOT_CODE and row["parent_code"] not in seen:
            fail(f"{hier_path}: {row['code']} comes before its parent")
        seen.add(row["code"])

    filed = {}
    with open(rec_path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            key = (row["region_code"], row["indicator"], row["period"])
            if key in filed:
                fail(f"{rec_path}: duplicate {key}")
            v = None if row["value"] == "" else int(row["value"])
            if v is not None and v < 0:
                fail(f"{rec_path}: negative value {key}")
            filed[key] = v
    for code, series in truth.items():
        prev = base_poor[code]
        for m, period in enumerate(MONTHS):
            poor = filed.get((code, "poor_population", period))
            exits = filed.get((code, "exited_population", period))
            rural = filed.get((code, "rural_population", period))
            if poor is not None and poor > rural:
                fail(f"{rec_path}: poor above rural population at {code} {period}")
            if poor is not None and exits is not None and prev is not None \
                    and poor != prev - exits:
                fail(f"{rec_path}: poor(m) != poor(m-1) - exits(m) at {code} {period}")
            prev = poor
    return filed


def main(argv):
    if len(argv) > 2:
        fail("usage: make-demo.py [path/to/divisions.csv.gz]")
    divisions = Path(argv[1]) if len(argv) == 2 else DEFAULT_DIVISIONS
    header, rows = read_subtree(divisions)
    villages = [(f[0], f[1]) for _, f in rows if f[2] == "village"]

    rng = random.Random(2019)
    truth, base_poor = simulate(rng, villages)

    hier_path = HERE / "yueyang-hierarchy.csv"
    rec_path = HERE / "yueyang-2019.csv"
    write_hierarchy(hier_path, header, rows)
    n_records, absent, empty = write_records(rec_path, rng, villages, truth)
    filed = verify(hier_path, rec_path, len(rows), truth, base_poor)

    levels = {}
    for _, f in rows:
        levels[f[2]] = levels.get(f[2], 0) + 1
    print(f"{hier_path.name}: {len(rows)} nodes "
          + ", ".join(f"{k} {v}" for k, v in levels.items()))
    print(f"{rec_path.name}: {n_records} records ({len(villages)} villages x 12 months"
          f" x 3 indicators, less {len(absent)} absent poor_population rows);"
          f" {len(empty)} empty exited_population values")

    def true_totals(prefix):
        codes = [c for c in truth if c.startswith(prefix)]
        return (sum(base_poor[c] for c in codes),
                sum(truth[c]["poor_population"][11] for c in codes),
                sum(sum(truth[c]["exited_population"]) for c in codes),
                sum(truth[c]["rural_population"][11] for c in codes))

    base, poor, exits, rural = true_totals(PREFIX)
    print()
    print("True totals for 岳阳市 (every village, including values not filed):")
    print(f"  poor_population 2018-12 (base, not written): {base}")
    print(f"  poor_population 2019-12:   {poor}")
    print(f"  exited_population 2019:    {exits}")
    print(f"  rural_population 2019-12:  {rural}")
    print(f"  incidence 2019-12:         {poor / rural * 100:.2f} %")
    if base - exits != poor:
        fail("true totals do not satisfy poor(2019-12) = poor(2018-12) - exits")

    def filed_sum(ind, periods):
        return sum(filed.get((c, ind, p)) or 0 for c in truth for p in periods)

    print()
    print("Sums of the filed values (what a rollup of the file gives):")
    print(f"  poor_population 2019-12:   {filed_sum('poor_population', ['2019-12'])}")
    print(f"  exited_population 2019:    {filed_sum('exited_population', MONTHS)}")
    print(f"  rural_population 2019-12:  {filed_sum('rural_population', ['2019-12'])}")

    names = {f[0]: f[1] for _, f in rows}
    print()
    print("True totals per county (code, name, poor 2018-12, poor 2019-12, exits 2019,"
          " rural 2019-12, incidence 2019-12 %):")
    for county in COUNTIES:
        b, p, e, r = true_totals(county)
        print(f"  {county}000000 {names[county + '000000']}: {b} {p} {e} {r}"
              f" {p / r * 100:.2f}")
    print()
    print("Gaps: absent poor_population rows: "
          + ", ".join(f"{c} {MONTHS[m]}" for c, m in sorted(absent)))


if __name__ == "__main__":
    main(sys.argv)
