#!/usr/bin/env python3
"""Check the figures the 岳阳市 counties published against their villages'
reports, and write every finding to a CSV file.

Usage: checks_to_csv.py [OUTPUT.csv] [DATA_DIR]   (default: findings.csv, examples/data)
"""
import pathlib
import sys

import tally

out = sys.argv[1] if len(sys.argv) > 1 else "findings.csv"
data = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else
                    pathlib.Path(__file__).resolve().parent.parent / "data")

d = tally.Definitions.from_yaml(data / "yueyang-checks.yaml")
h = tally.Hierarchy.from_csv(data / "yueyang-hierarchy.csv", definitions=d)
ds = tally.Dataset(h, d)
for records in ("yueyang-2019.csv", "yueyang-published-2019.csv"):
    try:
        ds.read_records(data / records)
    except tally.Error as e:          # e.path, e.line, e.column say where
        sys.exit(f"{e}")

findings = ds.check(targets=data / "yueyang-targets-2019.csv")
findings.to_csv(out)
for s in findings.summary:
    print(f"{s['check']:24} {s['items']:>7} items, {s['fails']:>3} failed")
print(f"{len(findings)} findings ({findings.error_count} errors) written to {out}")
for f in findings[:3]:
    print(f"  {f.severity}: {f.message}")
