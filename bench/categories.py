#!/usr/bin/env python3
"""What a category costs: the same values read and rolled up as six plain
indicators, and as one indicator broken down by a 5-option category (its
total and five options), in the long and the wide layout.

Village records on the national division table, one month, N values (six
per village); `tally rollup --level province,city,county,town -o out.csv`
timed: wall time (median of BENCH_REPEAT runs) and CPU time (user + system,
the least of the runs; the figure a loaded machine changes least). The two outputs are compared number by
number: the category's total and options must equal the plain indicators'
sums. Prints a table; writes nothing in the tree.

Environment: BENCH_VALUES (default 1000000), BENCH_REPEAT (default 3),
TALLY_BUILD (default bench/work/build, else build).
"""
import csv
import gzip
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DIVISIONS = os.path.join(ROOT, "data", "china-divisions", "divisions-2023.csv.gz")
OPTIONS = ["illness", "disability", "education", "labour", "other"]


def build_dir():
    for d in (os.environ.get("TALLY_BUILD"), os.path.join(HERE, "work", "build"),
              os.path.join(ROOT, "build")):
        if d and os.path.exists(os.path.join(d, "examples", "tally")):
            return d
    sys.exit("no tally build: set TALLY_BUILD")


def write_inputs(work, values):
    hier = os.path.join(work, "national.csv")
    with gzip.open(DIVISIONS, "rb") as f, open(hier, "wb") as g:
        g.write(f.read())
    codes = []
    with open(hier, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["level"] == "village":
                codes.append(row["code"])
                if len(codes) * 6 >= values:
                    break
    plain = os.path.join(work, "plain.yaml")
    with open(plain, "w", encoding="utf-8") as f:
        f.write("indicators:\n")
        for k in range(6):
            f.write(f"  - {{ id: p{k}, over_time: flow }}\n")
    cat = os.path.join(work, "category.yaml")
    with open(cat, "w", encoding="utf-8") as f:
        f.write("categories:\n  - id: cause\n    exclusive: true\n    options: [%s]\n"
                % ", ".join(OPTIONS))
        f.write("indicators:\n  - { id: poor, over_time: flow, by: [cause] }\n")
    files = {k: open(os.path.join(work, k + ".csv"), "w", encoding="ascii", newline="\n")
             for k in ("plain-long", "category-long", "plain-wide", "category-wide")}
    files["plain-long"].write("region_code,indicator,period,value\n")
    files["category-long"].write("region_code,indicator,cause,period,value\n")
    files["plain-wide"].write("region_code,period," + ",".join(f"p{k}" for k in range(6)) + "\n")
    files["category-wide"].write("region_code,period,poor," +
                                 ",".join(f"poor[cause={o}]" for o in OPTIONS) + "\n")
    for i, code in enumerate(codes):
        h = (i * 2654435761) & 0xFFFFFFFF
        opts = [(h >> (3 * k)) % 50 for k in range(5)]
        vals = [sum(opts)] + opts
        files["plain-long"].write("".join(f"{code},p{k},2019-01,{v}\n"
                                          for k, v in enumerate(vals)))
        files["category-long"].write(f"{code},poor,,2019-01,{vals[0]}\n" +
                                     "".join(f"{code},poor,{o},2019-01,{v}\n"
                                             for o, v in zip(OPTIONS, opts)))
        row = ",".join(map(str, vals))
        files["plain-wide"].write(f"{code},2019-01,{row}\n")
        files["category-wide"].write(f"{code},2019-01,{row}\n")
    for f in files.values():
        f.close()
    return hier, plain, cat, len(codes) * 6


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(exe, hier, defs, records, out):
    """(wall, cpu) seconds of one rollup."""
    t0, c0 = time.perf_counter(), cpu()
    subprocess.run([exe, "rollup", "-H", hier, "-d", defs, "-r", records,
                    "--level", "province,city,county,town", "-o", out],
                   check=True, capture_output=True)
    return time.perf_counter() - t0, cpu() - c0


def values_of(path, category):
    got = {}
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if category:
                k = 0 if not r["cause"] else 1 + OPTIONS.index(r["cause"])
            else:
                k = int(r["indicator"][1:])
            got[r["region_code"], k] = r["value"]
    return got


def main():
    values = int(os.environ.get("BENCH_VALUES", "1000000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    exe = os.path.join(build_dir(), "examples", "tally")
    with tempfile.TemporaryDirectory() as work:
        hier, plain, cat, n = write_inputs(work, values)
        print(f"{n:,} values ({n // 6:,} villages x 6), 1 month; {exe}; "
              f"load average {os.getloadavg()[0]:.1f}")
        print("| input | wall median (s) | wall runs (s) | CPU least (s) | CPU ns per value |")
        print("|---|---:|---|---:|---:|")
        outs = {}
        for name, defs in (("plain-long", plain), ("category-long", cat),
                           ("plain-wide", plain), ("category-wide", cat)):
            out = os.path.join(work, name + ".out.csv")
            runs = [run(exe, hier, defs, os.path.join(work, name + ".csv"), out)
                    for _ in range(repeat)]
            med = statistics.median(w for w, _ in runs)
            least = min(c for _, c in runs)
            print(f"| {name} | {med:.3f} | {', '.join(f'{w:.2f}' for w, _ in runs)} | "
                  f"{least:.3f} | {least / n * 1e9:.0f} |")
            outs[name] = out
        for layout in ("long", "wide"):
            a = values_of(outs["plain-" + layout], False)
            b = values_of(outs["category-" + layout], True)
            if a != b:
                sys.exit(f"{layout}: the category's figures differ from the plain ones")
        print(f"check: the category's total and options equal the plain sums "
              f"({len(a):,} figures per layout)")


if __name__ == "__main__":
    main()
