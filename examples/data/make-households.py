#!/usr/bin/env python3
"""Write the 平江县 household survey demo: yueyang-households-2019.csv.

Usage: python3 examples/data/make-households.py

A synthetic 2019 rural household income survey of the villages of two towns
of 平江县, 福寿山镇 (430626115) and 石牛寨镇 (430626117):

  household_id,region_code,size,income_per_capita,weight,year

- 15 households are sampled in each village; household_id is the village
  code and a serial number.
- size: 1 to 7 persons, most often 3 or 4.
- income_per_capita (yuan per person per year, 2 decimals): a mixture of
  households on the registered-poor roster (about one in five; incomes
  around the 2019 poverty line of 3,218 yuan, most of them above it after
  the year's exits) and other households (median about 10,500 yuan).
- weight: how many households of the village each sampled one stands for,
  the village's rural population at 2019-12 (from yueyang-2019.csv) over
  3.5 persons per household, over 15; rounded to a whole number, so that
  weighted persons come close to the rural population.
- year: 2019.

The numbers describe no real household. Only the standard library is used
and the random generator has a fixed seed, so every run writes the same
bytes. The script reads its output back and checks it.
"""

import csv
import math
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HIERARCHY = HERE / "yueyang-hierarchy.csv"
RECORDS = HERE / "yueyang-2019.csv"
OUTPUT = HERE / "yueyang-households-2019.csv"

TOWNS = ("430626115", "430626117")  # 福寿山镇, 石牛寨镇
PER_VILLAGE = 15
PERSONS_PER_HOUSEHOLD = 3.5
LINE_2019 = 3218
SIZES = [1, 2, 3, 4, 5, 6, 7]
SIZE_WEIGHTS = [6, 14, 26, 27, 16, 8, 3]


def fail(message):
    sys.exit(f"make-households.py: {message}")


def villages():
    with open(HIERARCHY, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = [r["code"] for r in rows if r["level"] == "village" and r["code"][:9] in TOWNS]
    if len(out) < 10:
        fail(f"expected the villages of {TOWNS} in {HIERARCHY}, found {len(out)}")
    return out


def rural_population(codes):
    want = set(codes)
    pop = {}
    with open(RECORDS, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if (r["region_code"] in want and r["indicator"] == "rural_population"
                    and r["period"] == "2019-12"):
                pop[r["region_code"]] = int(r["value"])
    missing = want - pop.keys()
    if missing:
        fail(f"no rural_population for 2019-12 in {RECORDS}: {sorted(missing)}")
    return pop


def income(rng):
    if rng.random() < 0.2:
        # On the roster: around the line; a few with almost nothing.
        y = rng.lognormvariate(math.log(4200), 0.35)
        if rng.random() < 0.03:
            y = rng.uniform(300, 1200)
    else:
        y = rng.lognormvariate(math.log(10500), 0.55)
    return round(y, 2)


def main():
    rng = random.Random(2019)
    codes = villages()
    pop = rural_population(codes)
    rows = []
    for code in codes:
        weight = max(1, round(pop[code] / PERSONS_PER_HOUSEHOLD / PER_VILLAGE))
        for k in range(1, PER_VILLAGE + 1):
            size = rng.choices(SIZES, SIZE_WEIGHTS)[0]
            rows.append((f"{code}-{k:02d}", code, size, f"{income(rng):.2f}", weight, 2019))
    with open(OUTPUT, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["household_id", "region_code", "size", "income_per_capita", "weight", "year"])
        w.writerows(rows)

    # Read it back.
    with open(OUTPUT, encoding="utf-8", newline="") as f:
        back = list(csv.DictReader(f))
    if len(back) != len(codes) * PER_VILLAGE:
        fail("row count")
    if len({r["household_id"] for r in back}) != len(back):
        fail("household ids are not unique")
    for r in back:
        if not (int(r["size"]) >= 1 and float(r["income_per_capita"]) >= 0 and int(r["weight"]) >= 1):
            fail(f"bad row {r}")
    persons = sum(int(r["size"]) * int(r["weight"]) for r in back)
    poor = sum(int(r["size"]) * int(r["weight"]) for r in back
               if float(r["income_per_capita"]) < LINE_2019)
    print(f"{OUTPUT.name}: {len(back)} households in {len(codes)} villages; "
          f"{persons} persons weighted ({sum(pop.values())} rural population); "
          f"P0 at {LINE_2019}: {100 * poor / persons:.4f} %")


if __name__ == "__main__":
    main()
