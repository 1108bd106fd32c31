#!/usr/bin/env python3
"""`tally crosswalk` on the real NBS tables, against facts computed here
from the gzipped tables alone (a reference that shares no code with the
library), and against county conversions on public record.

Usage: check-crosswalk-national.py TALLY DATA_DIR 2019|2017
(DATA_DIR holds divisions-2017/2019/2023.csv.gz; 2019: from 2019 to 2023,
2017: from 2017 to 2019; one at a time, so that each test stays short)
"""

import csv
import gzip
import io
import os
import subprocess
import sys
import tempfile


def load(path):
    """code -> (name, level, parent_code)"""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        next(r)
        return {c: (n, l, p) for c, n, l, p in r}


def run(tally, old, new, tmp):
    paths = []
    for t in (old, new):
        p = os.path.join(tmp, os.path.basename(t)[:-3])
        with gzip.open(t, "rb") as src, open(p, "wb") as dst:
            dst.write(src.read())
        paths.append(p)
    out = subprocess.run([tally, "crosswalk", "--from", paths[0], "--to", paths[1]],
                         capture_output=True, check=True)
    rows = list(csv.DictReader(io.StringIO(out.stdout.decode("utf-8"))))
    return rows, out.stderr.decode("utf-8")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def ancestors(table, code):
    while code:
        yield code
        code = table[code][2]


def check_tables(old, new, rows, label):
    by_from = {}
    for r in rows:
        by_from.setdefault(r["from_code"], []).append(r)
    if set(by_from) != set(old):
        fail(f"{label}: {len(set(old) ^ set(by_from))} old regions without a row (or extra)")
    same = renamed = 0
    for code, (name, level, parent) in old.items():
        rs = by_from[code]
        how = rs[0]["how"]
        if code in new and new[code][1] == level:
            want = "same" if new[code][0] == name else "renamed"
            same += want == "same"
            renamed += want == "renamed"
            if how != want or rs[0]["to_code"] != code or len(rs) != 1:
                fail(f"{label}: {code} {name} is in both tables: expected {want}, got {rs}")
            continue
        if how in ("same", "renamed"):
            fail(f"{label}: {code} {name} is not in the new table at its level, yet {how}")
        for r in rs:
            to = r["to_code"]
            if how == "unmatched":
                if to:
                    fail(f"{label}: unmatched {code} has a to_code")
                continue
            if to not in new:
                fail(f"{label}: {code} -> {to}, not in the new table")
            levels = ["province", "city", "county", "town", "village"]
            if levels.index(new[to][1]) > levels.index(level):
                fail(f"{label}: {code} ({level}) -> {to} ({new[to][1]}), a finer level")
            if how in ("recoded", "split") and new[to][1] != level:
                fail(f"{label}: {how} {code} -> {to} at another level")
            if how == "recoded" and to in old and old[to][1] == level:
                fail(f"{label}: {code} recoded to {to}, a code the old table has")
            if r["to_name"] != new[to][0]:
                fail(f"{label}: {code} -> {to}: to_name {r['to_name']} != {new[to][0]}")
            # Inside what the parent became, when the parent lives on.
            pr = by_from.get(parent, [])
            if len(pr) == 1 and pr[0]["how"] in ("same", "renamed", "recoded"):
                if pr[0]["to_code"] not in set(ancestors(new, to)):
                    fail(f"{label}: {code} -> {to}, outside {pr[0]['to_code']}, "
                         f"which its parent {parent} became")
        if how == "split":
            if len(rs) < 2 or any(r["share"] for r in rs):
                fail(f"{label}: split {code}: {rs}")
        elif len(rs) != 1 or (how != "unmatched" and rs[0]["share"] != "1"):
            fail(f"{label}: {code}: {rs}")
    print(f"{label}: {len(old)} old regions; {same} same and {renamed} renamed, as the "
          f"tables say; every other decision inside its parent's successor")


def stem(name):
    for suffix in ("办事处",):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def check_recoded(old, new, rows, pairs, label):
    by_from = {r["from_code"]: r for r in rows}
    for frm, to in pairs:
        r = by_from[frm]
        if r["to_code"] != to or r["how"] != "recoded":
            fail(f"{label}: {frm} {old[frm][0]}: expected recoded to {to} {new[to][0]}, got {r}")
        # Its towns: to the town of the same name under the new county.
        towns = {n: c for c, (n, l, p) in new.items() if p == to}
        moved = 0
        for c, (n, l, p) in old.items():
            if p != frm or stem(n) not in towns:
                continue
            if by_from[c]["to_code"] != towns[stem(n)]:
                fail(f"{label}: town {c} {n} of {frm}: expected {towns[stem(n)]}, "
                     f"got {by_from[c]}")
            moved += 1
        if not moved:
            fail(f"{label}: no town of {frm} found under {to}")
    print(f"{label}: {len(pairs)} county conversions found as recoded, their towns by name")


def main():
    tally, data, which = sys.argv[1], sys.argv[2], sys.argv[3]
    t = {y: os.path.join(data, f"divisions-{y}.csv.gz") for y in (2017, 2019, 2023)}
    with tempfile.TemporaryDirectory() as tmp:
        if which == "2017":
            old17, old = load(t[2017]), load(t[2019])
            rows17, _ = run(tally, t[2017], t[2019], tmp)
            check_tables(old17, old, rows17, "2017 -> 2019")
            check_recoded(old17, old, rows17, [("430521000000", "430582000000")],  # 邵东县 -> 邵东市
                          "2017 -> 2019")
            return
        old, new = load(t[2019]), load(t[2023])
        rows, summary = run(tally, t[2019], t[2023], tmp)
        if "county: 2992 regions" not in summary:
            fail("summary: " + summary)
        check_tables(old, new, rows, "2019 -> 2023")
        # County conversions of 2019-2023 on public record: (old, new).
        check_recoded(old, new, rows, [
            ("431121000000", "431181000000"),  # 祁阳县 -> 祁阳市
            ("130526000000", "130505000000"),  # 任县 -> 任泽区
            ("140726000000", "140703000000"),  # 太谷县 -> 太谷区
            ("320684000000", "320614000000"),  # 海门市 -> 海门区
            ("340225000000", "340281000000"),  # 无为县 -> 无为市
            ("350427000000", "350405000000"),  # 沙县 -> 沙县区
            ("421023000000", "421088000000"),  # 监利县 -> 监利市
            ("450127000000", "450181000000"),  # 横县 -> 横州市
            ("510132000000", "510118000000"),  # 新津县 -> 新津区
            ("652923000000", "652902000000"),  # 库车县 -> 库车市
        ], "2019 -> 2023")


main()
