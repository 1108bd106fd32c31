#!/usr/bin/python3
"""The benchmark job in pandas: read_csv with dtypes, groupby on the code
prefix columns (the 12-digit code read as an integer, prefixes by integer
division), the ratio share = v02 / v01 * 100 of the sums over the regions
that filed both (tally's rule for a formula), written as CSV:
level_digits,prefix,indicator,period,value.

Usage: /usr/bin/python3 pandas-run.py RECORDS.csv OUT.csv
Prints the phase times as JSON on standard output.
"""
import json
import sys
import time

import pandas as pd

records, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
df = pd.read_csv(records, dtype={"region_code": "int64", "indicator": "category",
                                 "period": "category", "value": "float64"})
t1 = time.perf_counter()
parts = []
for digits in (2, 4, 6, 9):
    prefix = df["region_code"] // 10 ** (12 - digits)
    g = df.groupby([prefix, df["indicator"], df["period"]], observed=True)["value"]
    s = g.sum(min_count=1).reset_index()
    s.insert(0, "digits", digits)
    parts.append(s)
sums = pd.concat(parts, ignore_index=True)
ops = df[df["indicator"].isin(["v01", "v02"]) & df["value"].notna()]
pair = ops.pivot_table(index=["region_code", "period"], columns="indicator", values="value",
                       aggfunc="sum", observed=True).dropna().reset_index()
shares = []
for digits in (2, 4, 6, 9):
    prefix = pair["region_code"] // 10 ** (12 - digits)
    g = pair.groupby([prefix, pair["period"]], observed=True)[["v01", "v02"]].sum()
    s = (g["v02"] / g["v01"].where(g["v01"] != 0) * 100).round(2).rename("value").reset_index()
    s.insert(0, "digits", digits)
    shares.append(s)
share = pd.concat(shares, ignore_index=True)
share.insert(2, "indicator", "share")
t2 = time.perf_counter()
res = pd.concat([sums, share[sums.columns]], ignore_index=True)
res.to_csv(out, index=False, header=["digits", "prefix", "indicator", "period", "value"])
t3 = time.perf_counter()
print(json.dumps({"parse": t1 - t0, "rollup": t2 - t1, "write": t3 - t2}))
