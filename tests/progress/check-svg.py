#!/usr/bin/env python3
"""`tally progress --svg` writes a well-formed chart with one bar per region.

On the 岳阳市 demo data as of 2019-08, at the county level: the SVG parses
as XML; it has exactly one <rect class="bar"> per county (ten), each with
its code in data-region and its status in data-status as in the CSV table;
each county's name is a text element of the chart; bars are sorted by
completion, highest first, with the region without a target last; bar
widths are proportional to completion; the time-progress line is labelled
"序时进度 66.67%"; the font family names the CJK fonts and nothing is fetched
from outside (no href, no @import, no url(...)). The same for the
lower-is-better indicator, whose bars run in the other direction against a
line at 100 %. Names with XML's special characters are escaped.

Usage: check-svg.py TALLY_EXE SOURCE_ROOT
"""
import csv
import io
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def chart(tally, args, svg):
    p = subprocess.run([tally, "progress"] + args + ["--svg", svg], capture_output=True,
                       text=True, encoding="utf-8")
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
    table = {(r["region_code"], r["indicator"]): r for r in csv.DictReader(io.StringIO(p.stdout))}
    with open(svg, encoding="utf-8") as f:
        text = f.read()
    root = ET.fromstring(text)  # raises on malformed XML
    return root, text, table


def check_chart(root, text, table, indicator, counties, ceiling, time_progress="66.67"):
    check(root.tag == NS + "svg", f"root element {root.tag}")
    family = root.get("font-family", "")
    check("Noto Sans CJK SC" in family and "WenQuanYi Micro Hei" in family
          and family.rstrip().endswith("sans-serif"), f"font-family {family!r}")
    for bad in ("href", "@import", "url("):
        check(bad not in text, f"the chart refers to something outside: {bad}")
    bars = [e for e in root.iter(NS + "rect") if e.get("class") == "bar"]
    check(len(bars) == len(counties), f"{indicator}: {len(bars)} bars, expected {len(counties)}")
    codes = [b.get("data-region") for b in bars]
    check(sorted(codes) == sorted(counties), f"{indicator}: bar regions {codes}")
    texts = ["".join(t.itertext()) for t in root.iter(NS + "text")]
    for code, name in counties.items():
        check(texts.count(name) >= 1, f"{indicator}: no text element with the name {name}")
        row = table[(code, indicator)]
        bar = bars[codes.index(code)] if code in codes else None
        check(bar is not None and bar.get("data-status") == row["status"],
              f"{indicator} {code}: bar status {bar.get('data-status') if bar is not None else None}"
              f" != {row['status']}")
    # Sorted: completion (or actual / ceiling) highest first, lowest first
    # for a ceiling; regions without a value last.
    def value(code):
        r = table[(code, indicator)]
        if ceiling:
            if not r["target"] or not r["actual"]:
                return None
            return float(r["actual"]) / float(r["target"]) * 100
        return float(r["completion"]) if r["completion"] else None

    values = [value(c) for c in codes]
    known = [v for v in values if v is not None]
    check(values[:len(known)] == known, f"{indicator}: regions without a value are not last")
    check(known == sorted(known, reverse=not ceiling), f"{indicator}: bars not sorted: {known}")
    # Widths proportional to the value: width / value is the same for all.
    ratios = [float(b.get("width")) / v for b, v in zip(bars, values) if v]
    check(ratios and max(ratios) - min(ratios) < 0.02 * max(ratios),
          f"{indicator}: widths not proportional: {ratios}")
    for b, v in zip(bars, values):
        if v is None:
            check(float(b.get("width")) == 0, f"{indicator}: a bar without a value has width")
    label = "目标上限 100%" if ceiling else f"序时进度 {time_progress}%"
    check(label in texts, f"{indicator}: no label {label!r}")
    check(root.find(NS + "title") is not None, "no <title>")


def main():
    tally, root = sys.argv[1], sys.argv[2]
    data = os.path.join(root, "examples", "data")
    work = tempfile.mkdtemp(prefix="tally-svg-")
    counties = {}
    with open(os.path.join(data, "yueyang-hierarchy.csv"), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["level"] == "county":
                counties[r["code"]] = r["name"]
    check(len(counties) == 10, f"{len(counties)} counties in the demo")
    base = ["-H", os.path.join(data, "yueyang-hierarchy.csv"),
            "-d", os.path.join(data, "yueyang.yaml"),
            "-r", os.path.join(data, "yueyang-2019.csv"),
            "-t", os.path.join(data, "yueyang-targets-2019.csv"),
            "--as-of", "2019-08", "--level", "county"]
    svg = os.path.join(work, "exits.svg")
    r, text, table = chart(tally, base + ["--indicator", "exited_population"], svg)
    check_chart(r, text, table, "exited_population", counties, False)
    svg = os.path.join(work, "poor.svg")
    r, text, table = chart(tally, base + ["--indicator", "poor_population"], svg)
    check_chart(r, text, table, "poor_population", counties, True)

    # XML's special characters in names and codes are escaped.
    hierarchy = os.path.join(work, "h.csv")
    with open(hierarchy, "w", encoding="utf-8") as f:
        f.write("code,name,level,parent_code\nR,Top & <co>,city,\nA,\"A \"\"&\"\" B\",county,R\n"
                "B,<乙>,county,R\n")
    defs = os.path.join(work, "d.yaml")
    with open(defs, "w", encoding="utf-8") as f:
        f.write("indicators:\n  - id: exits\n    name: \"exits & <more>\"\n")
    records = os.path.join(work, "r.csv")
    with open(records, "w", encoding="utf-8") as f:
        f.write("region_code,indicator,period,value\nA,exits,2019-01,5\nB,exits,2019-02,7\n")
    targets = os.path.join(work, "t.csv")
    with open(targets, "w", encoding="utf-8") as f:
        f.write("region_code,indicator,year,target\nA,exits,2019,10\nB,exits,2019,7\n")
    svg = os.path.join(work, "escape.svg")
    r, text, table = chart(tally, ["-H", hierarchy, "-d", defs, "-r", records, "-t", targets,
                                   "--as-of", "2019-03"], svg)
    check_chart(r, text, table, "exits", {"A": 'A "&" B', "B": "<乙>"}, False, "25.00")
    check("exits &amp; &lt;more&gt;" in text, "the indicator name is not escaped")

    print(f"{len(FAILS)} failures")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
