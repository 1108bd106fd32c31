#!/usr/bin/env python3
"""Write the 岳阳市 demo targets for 2019: yueyang-targets-2019.csv.

Usage: python3 examples/data/make-targets.py

The targets are synthetic, like the reports in yueyang-2019.csv. They are
chosen so that `tally progress --as-of 2019-08` shows every status:

- exited_population (脱贫人口, higher is better): an annual target for nine of
  the ten counties and for 岳阳市 itself. In the demo reports most exits come
  in October to December, so by August only the counties with modest targets
  are ahead of the time progress (8/12 = 66.67 %); 屈原管理区 has already met
  its target and 湘阴县 has none (no_target).
- poor_population (建档立卡贫困人口, lower is better): a ceiling for two counties,
  one met by August and one not.

The script writes the file from the table below (no randomness, so every run
writes the same bytes), then reads the demo records and prints each target's
year-to-date actual at 2019-08 with its completion, computed here from the
raw CSV, as a cross-check for `make demo`.
"""

import csv
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
YEAR = 2019
AS_OF_MONTH = 8

# (region_code, indicator, target); region names are in the hierarchy file.
TARGETS = [
    ("430600000000", "exited_population", 20000),  # 岳阳市 (its counties' targets sum to 20100)
    ("430602000000", "exited_population", 220),    # 岳阳楼区
    ("430603000000", "exited_population", 300),    # 云溪区
    ("430611000000", "exited_population", 600),    # 君山区
    ("430621000000", "exited_population", 1800),   # 岳阳县
    ("430621000000", "poor_population", 10000),    # 岳阳县: ceiling
    ("430623000000", "exited_population", 2400),   # 华容县
    # 430624000000 湘阴县: no target
    ("430626000000", "exited_population", 12000),  # 平江县
    ("430626000000", "poor_population", 55000),    # 平江县: ceiling
    ("430671000000", "exited_population", 80),     # 屈原管理区
    ("430681000000", "exited_population", 1500),   # 汨罗市
    ("430682000000", "exited_population", 1200),   # 临湘市
]


def write(path):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("region_code,indicator,year,target\n")
        for code, indicator, target in TARGETS:
            f.write(f"{code},{indicator},{YEAR},{target}\n")


def year_to_date(records, month):
    """Per region code prefix (county: 6 digits, city: 4): exits summed over
    January..month, and the latest poor_population report up to month per
    village, summed."""
    exits = {}
    latest = {}
    with open(records, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            m = int(row["period"][5:7])
            if m > month or not row["value"]:
                continue
            code, value = row["region_code"], int(row["value"])
            if row["indicator"] == "exited_population":
                for prefix in (code[:4], code[:6]):
                    exits[prefix] = exits.get(prefix, 0) + value
            elif row["indicator"] == "poor_population":
                if code not in latest or latest[code][0] < m:
                    latest[code] = (m, value)
    poor = {}
    for code, (_, value) in latest.items():
        for prefix in (code[:4], code[:6]):
            poor[prefix] = poor.get(prefix, 0) + value
    return {"exited_population": exits, "poor_population": poor}


def main():
    out = HERE / f"yueyang-targets-{YEAR}.csv"
    write(out)
    print(f"wrote {out.name}: {len(TARGETS)} targets")
    ytd = year_to_date(HERE / "yueyang-2019.csv", AS_OF_MONTH)
    for code, indicator, target in TARGETS:
        prefix = code[:4] if code.endswith("00000000") else code[:6]
        actual = ytd[indicator][prefix]
        if indicator == "poor_population":
            verdict = "met" if actual <= target else f"not met by {actual - target}"
        else:
            pct = Fraction(actual * 100, target)
            verdict = f"{float(pct):.2f} %"
        print(f"  {code} {indicator:18} target {target:>6}  {YEAR}-{AS_OF_MONTH:02d} "
              f"actual {actual:>6}  {verdict}")


if __name__ == "__main__":
    main()
