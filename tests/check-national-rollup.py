#!/usr/bin/env python3
"""tally rollup over the national division table and generated village
records, checked against sums computed here by code prefix (not by the tree).

Every village of the NBS 2023 table gets a count (people, integer) and an
amount (10k yuan, 2 decimals); some villages report nothing, some report an
empty amount. The expected total of a province, city or county is the sum
over the villages whose code starts with its 2, 4 or 6 leading digits (a
town's 9), computed in integer cents so it is exact. The table is
data/china-divisions/divisions-2023.csv.gz, kept in the repository.

Usage: check-national-rollup.py TALLY_EXE DIVISIONS_CSV_GZ
"""
import csv
import gzip
import io
import os
import random
import subprocess
import sys
import tempfile

PREFIX = {"province": 2, "city": 4, "county": 6, "town": 9}


def main():
    tally, table = sys.argv[1], sys.argv[2]
    with gzip.open(table, "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rng = random.Random(665271)
    people, cents = {}, {}
    tmp = tempfile.mkdtemp(prefix="tally-national-")
    hier = os.path.join(tmp, "divisions.csv")
    recs = os.path.join(tmp, "records.csv")
    defs = os.path.join(tmp, "defs.yaml")
    with open(hier, "w", encoding="utf-8") as f:
        # Without parent_code: tally derives parents from the codes.
        f.write("code,name,level\n")
        for r in rows:
            f.write(f"{r['code']},{r['name']},{r['level']}\n")
    with open(defs, "w", encoding="utf-8") as f:
        f.write("indicators:\n"
                "  - id: people\n    over_time: stock\n"
                "  - id: amount\n    unit: 万元\n    decimals: 2\n")
    with open(recs, "w", encoding="utf-8") as f:
        f.write("region_code,indicator,period,value\n")
        for r in rows:
            if r["level"] != "village" or rng.random() < 0.03:
                continue
            code = r["code"]
            p = rng.randrange(0, 5000)
            people[code] = p
            f.write(f"{code},people,2019-06,{p}\n")
            if rng.random() < 0.02:
                f.write(f"{code},amount,2019-06,\n")  # filed empty: missing
                continue
            c = rng.randrange(-10000, 10_000_000)
            cents[code] = c
            sign = "-" if c < 0 else ""
            f.write(f"{code},amount,2019-06,{sign}{abs(c) // 100}.{abs(c) % 100:02d}\n")

    out = subprocess.run(
        [tally, "rollup", "-H", hier, "-d", defs, "-r", recs,
         "--level", "province,city,county,town", "--period", "2019-06"],
        capture_output=True, text=True, encoding="utf-8")
    if out.returncode != 0:
        print(out.stderr)
        return 1
    print(out.stderr.strip())

    # Expected sums by code prefix.
    exp_people = [dict() for _ in range(13)]
    exp_cents = [dict() for _ in range(13)]
    for code, p in people.items():
        for n in PREFIX.values():
            exp_people[n][code[:n]] = exp_people[n].get(code[:n], 0) + p
    for code, c in cents.items():
        for n in PREFIX.values():
            exp_cents[n][code[:n]] = exp_cents[n].get(code[:n], 0) + c

    def fmt_cents(c):
        sign = "-" if c < 0 else ""
        return f"{sign}{abs(c) // 100}.{abs(c) % 100:02d}"

    checked = {k: 0 for k in PREFIX}
    bad = 0
    for row in csv.DictReader(io.StringIO(out.stdout)):
        n = PREFIX[row["level"]]
        key = row["region_code"][:n]
        if row["indicator"] == "people":
            want = str(exp_people[n][key]) if key in exp_people[n] else ""
        else:
            want = fmt_cents(exp_cents[n][key]) if key in exp_cents[n] else ""
        if row["value"] != want:
            bad += 1
            if bad <= 10:
                print(f"{row['region_code']} {row['level']} {row['indicator']}: "
                      f"tally {row['value']!r}, by prefix {want!r}")
        checked[row["level"]] += 1
    # With --all-regions, every province, city, county and town appears,
    # each with 2 indicators, the ones without data empty.
    full = subprocess.run(
        [tally, "rollup", "-H", hier, "-d", defs, "-r", recs, "--all-regions",
         "--level", "province,city,county,town", "--period", "2019-06"],
        capture_output=True, text=True, encoding="utf-8")
    every = {k: 0 for k in PREFIX}
    for row in csv.DictReader(io.StringIO(full.stdout)):
        every[row["level"]] += 1
    for level, n in {"province": 31, "city": 342, "county": 2975, "town": 41351}.items():
        if every[level] != 2 * n:
            print(f"--all-regions: expected {2 * n} {level} rows, got {every[level]}")
            bad += 1
    for f in (hier, recs, defs):
        os.unlink(f)
    os.rmdir(tmp)
    print("checked " + ", ".join(f"{v} {k} values" for k, v in checked.items()))
    # Every province, city, county and town with a village below that
    # reported appears, once per indicator with a value; the others, which
    # have no data, are left out (without --all-regions). Counted from the
    # table by code prefix.
    counts = {k: 0 for k in PREFIX}
    for r in rows:
        n = PREFIX.get(r["level"])
        if n:
            key = r["code"][:n]
            counts[r["level"]] += (key in exp_people[n]) + (key in exp_cents[n])
    for level, n in counts.items():
        if checked[level] != n:
            print(f"expected {n} {level} values, got {checked[level]}")
            bad += 1
    if bad:
        print(f"{bad} mismatches")
        return 1
    print("all sums equal the sums by code prefix")
    return 0


if __name__ == "__main__":
    sys.exit(main())
