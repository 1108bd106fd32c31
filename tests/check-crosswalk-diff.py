#!/usr/bin/env python3
"""`tally crosswalk --diff` between the bundled 2019 and 2023 tables, against
counts made here from the crosswalk CSV `tally crosswalk` writes and the
2019 table's parent links (no code shared with the library's --diff):

- the counts per level (a from_code with several rows is one split region);
- for every county of Hunan (43): what it became (every successor of a
  split, in the crosswalk's order) and the count of each how among the
  regions below it;
- the counties are the third level whatever it is called: `--by 3` gives
  the same lines, `--by town` one line per town.

Usage: check-crosswalk-diff.py TALLY DATA_DIR
"""

import collections
import csv
import gzip
import io
import os
import subprocess
import sys
import tempfile

KINDS = ["same", "renamed", "recoded", "merged", "split", "unmatched"]


def unzip(src, dst):
    with gzip.open(src, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    with open(dst, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return rows


def tally(exe, *args):
    return subprocess.run([exe, "crosswalk", *args], capture_output=True, check=True,
                          ).stdout.decode("utf-8")


def main():
    exe, data = sys.argv[1], sys.argv[2]
    fails = []
    with tempfile.TemporaryDirectory() as tmp:
        old = os.path.join(tmp, "d2019.csv")
        new = os.path.join(tmp, "d2023.csv")
        rows = unzip(os.path.join(data, "divisions-2019.csv.gz"), old)
        unzip(os.path.join(data, "divisions-2023.csv.gz"), new)
        table = {c: (n, l, p) for c, n, l, p in rows[1:]}
        cw = list(csv.DictReader(io.StringIO(tally(exe, "--from", old, "--to", new))))
        diff = tally(exe, "--from", old, "--to", new, "--diff")
        levels = ["province", "city", "county", "town", "village"]
        diff3 = tally(exe, "--from", old, "--to", new, "--diff", "--by", "3")
        difft = tally(exe, "--from", old, "--to", new, "--diff", "--by", "town")

    # One entry per old region: its rows in the crosswalk's order.
    by_code = collections.OrderedDict()
    for r in cw:
        by_code.setdefault(r["from_code"], []).append(r)

    def how(code):
        rs = by_code[code]
        return "split" if len(rs) > 1 else rs[0]["how"]

    # Per level.
    expect_levels = {l: collections.Counter() for l in levels}
    for code in by_code:
        expect_levels[table[code][1]][how(code)] += 1
    part1, part2 = diff.split("\n\n")
    got_levels = list(csv.DictReader(io.StringIO(part1)))
    for g in got_levels:
        e = expect_levels[g["level"]]
        want = [sum(e.values())] + [e[k] for k in KINDS]
        have = [int(g["regions"])] + [int(g[k]) for k in KINDS]
        if want != have:
            fails.append(f"level {g['level']}: {have} != {want}")

    # Per county of Hunan: the county of each old region by parent links.
    def county_of(code):
        while code and table[code][1] != "county":
            code = table[code][2]
        return code

    below = collections.defaultdict(collections.Counter)
    for code in by_code:
        if table[code][1] in ("town", "village"):
            c = county_of(code)
            if c:
                below[c][how(code)] += 1
    got = {r["code"]: r for r in csv.DictReader(io.StringIO(part2))}
    hunan = [c for c, (n, l, p) in table.items() if l == "county" and c.startswith("43")]
    splits = 0
    for c in hunan:
        g = got.get(c)
        if g is None:
            fails.append(f"{c}: no line")
            continue
        rs = by_code[c]
        splits += len(rs) > 1
        want = [how(c), ";".join(r["to_code"] for r in rs), ";".join(r["to_name"] for r in rs),
                sum(below[c].values())] + [below[c][k] for k in KINDS]
        have = [g["becomes"], g["to_code"], g["to_name"], int(g["regions_below"])] + \
            [int(g[k]) for k in KINDS]
        if want != have:
            fails.append(f"{c} {table[c][0]}: {have} != {want}")
    # Every split county of the country shows all its successors.
    for c, g in got.items():
        if len(by_code[c]) > 1 and g["to_code"].count(";") != len(by_code[c]) - 1:
            fails.append(f"split {c}: {g['to_code']}")
    nsplit = sum(1 for c in got if len(by_code[c]) > 1)
    if nsplit != expect_levels["county"]["split"] or nsplit == 0:
        fails.append(f"{nsplit} split counties listed")
    # The counties by number; the towns by name.
    if diff3 != diff:
        fails.append("--by 3 gives other lines than the default")
    ntown = sum(1 for c, (n, l, p) in table.items() if l == "town")
    towns = list(csv.DictReader(io.StringIO(difft.split("\n\n")[1])))
    if len(towns) != ntown:
        fails.append(f"--by town: {len(towns)} lines, {ntown} towns")

    print(f"Hunan: {len(hunan)} counties checked ({splits} split); "
          f"{nsplit} split counties in the country, {len(got)} county lines")
    for f in fails[:20]:
        print("FAIL:", f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
