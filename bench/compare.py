#!/usr/bin/env python3
"""Checks that a peer's output holds the same numbers as tally's.

  compare.py TALLY_OUT.csv PEER_OUT.csv

tally writes region_code,region_name,level,indicator,period,value for every
region of the province, city, county and town levels; a peer writes
digits,prefix,indicator,period,value for every code prefix of 2, 4, 6 and 9
digits that has records. Every value tally prints must be the peer's value
at the region's prefix (exactly for the summed indicators, printed with
their decimals; within 0.01 for the 2-decimal ratio, whose rounding of a
tie may differ in binary floating point). A region tally prints empty must
be absent or empty in the peer. A peer prefix that is no region at that
level (the county digits of a town hanging directly on a city) is an extra
the peer sums over anyway; those are counted, not compared.
Exit status 0 when every number agrees; prints a one-line summary.
"""
import csv
import sys
from decimal import Decimal, ROUND_HALF_UP

DIGITS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}
DECIMALS = {"amount": 2, "share": 2}


def norm(ind, text):
    q = Decimal(1).scaleb(-DECIMALS.get(ind, 0))
    return Decimal(text).quantize(q, rounding=ROUND_HALF_UP)


def main(tally_out, peer_out):
    want = {}
    regions = set()
    with open(tally_out, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            n = DIGITS[r["level"]]
            key = (n, r["region_code"][:n], r["indicator"], r["period"])
            regions.add(key[:2])
            want[key] = r["value"]
    got = {}
    with open(peer_out, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            n = int(r["digits"])
            prefix = r["prefix"].zfill(n) if n == 2 else r["prefix"]
            got[(n, prefix, r["indicator"], r["period"])] = r["value"]
    bad = []
    compared = 0
    for key, v in want.items():
        p = got.get(key, "")
        if v == "" or p == "":
            if v != p:
                bad.append((key, v, p))
            continue
        compared += 1
        a, b = norm(key[2], v), norm(key[2], p)
        tol = Decimal("0.01") if key[2] == "share" else Decimal(0)
        if abs(a - b) > tol:
            bad.append((key, v, p))
    # tally writes only the rows with data (without --all-regions): a value
    # the peer leaves empty is a row tally rightly has not written.
    extra = [k for k in got if k not in want and got[k] != ""]
    wrong_extra = [k for k in extra if k[:2] in regions]
    for k in wrong_extra:
        bad.append((k, "", got[k]))
    print(f"{compared} values equal, {len(bad)} differ, {len(extra)} peer prefixes that are "
          f"no region at their level")
    for key, v, p in bad[:10]:
        print(f"  differ at {key}: tally {v!r}, peer {p!r}")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
