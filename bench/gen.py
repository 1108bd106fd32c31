#!/usr/bin/env python3
"""Deterministic inputs for the tally benchmark (Python standard library only).

  gen.py hierarchy national DIVISIONS_CSV_GZ OUT.csv
      the national table as tally reads it: code,name,level,parent_code
  gen.py hierarchy synthetic NODES OUT.csv
      a 12-digit-code hierarchy of about NODES regions (fan-out 10 per level
      above the villages, villages filling the rest), no parent_code column
  gen.py definitions OUT.yaml
      16 reported indicators (v01..v15 integer counts, amount with 2
      decimals) and one ratio indicator, share = v02 / v01 * 100
  gen.py records HIERARCHY.csv ROWS OUT.csv
      ROWS long records region_code,indicator,period,value: every village
      files the 16 indicators for 2019-01, then 2019-02 and so on until
      ROWS records are written (10M rows = one month of the national table).
      About 1 value in 101 is filed empty (missing, not zero).

  gen.py county HIERARCHY.csv PREFIX MONTHS INDICATORS OUT.csv
      the sparse job: every village whose code starts with PREFIX (平江县:
      430626) files the first INDICATORS of the 16 indicators for MONTHS
      months from 2019-01, values as in `records` but none empty (tally
      computes the ratio over the villages that filed both of its operands,
      DuckDB's job over the sums of all: with empty cells they would differ)
  gen.py households HIERARCHY.csv COUNT OUT.csv
      COUNT households household_id,region_code,size,income_per_capita over
      the villages (spread evenly, each village in turn), sizes 1 to 7,
      incomes per capita 0 to about 30,000 (about 1 in 8 below 4,000, 1 in
      2,000 of 0)
  gen.py checks HIERARCHY.csv VILLAGES OUT.csv
      the check job: the first VILLAGES villages (0: all; else on to the end
      of the last one's city) file v01 for
      2019-01 (1 in 500 ten times its usual size), and every town above
      them files v01 too: the sum of its villages, but 1 town in 97 off by
      the town's index mod 7 + 1

The values are a pure function of (village index, indicator, month), so the
same command always writes the same bytes.
"""
import gzip
import sys

INDICATORS = [f"v{k:02d}" for k in range(1, 16)] + ["amount"]


def hierarchy_national(src, out):
    with gzip.open(src, "rb") as f, open(out, "wb") as g:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            g.write(b)


def hierarchy_synthetic(nodes, out):
    # 10 provinces x 10 cities x 10 counties x 10 towns = 11,110 regions
    # above the villages; the villages share the rest evenly.
    upper = 10 + 100 + 1000 + 10000
    towns = 10000
    villages = max(nodes - upper, towns)
    per_town = villages // towns
    extra = villages - per_town * towns
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("code,name,level\n")
        t = 0
        for p in range(11, 21):
            f.write(f"{p:02d}0000000000,P{p},province\n")
            for c in range(1, 11):
                f.write(f"{p:02d}{c:02d}00000000,C{p}{c:02d},city\n")
                for k in range(1, 11):
                    f.write(f"{p:02d}{c:02d}{k:02d}000000,K{p}{c:02d}{k:02d},county\n")
                    for w in range(1, 11):
                        base = f"{p:02d}{c:02d}{k:02d}{w:03d}"
                        f.write(f"{base}000,T{base},town\n")
                        n = per_town + (1 if t < extra else 0)
                        t += 1
                        for v in range(1, n + 1):
                            f.write(f"{base}{v:03d},V{base}{v:03d},village\n")


def definitions(out):
    with open(out, "w", encoding="utf-8") as f:
        f.write("indicators:\n")
        for k in range(1, 16):
            f.write(f"  - id: v{k:02d}\n    aggregate: sum\n    over_time: flow\n")
        f.write("  - id: amount\n    unit: 万元\n    decimals: 2\n")
        f.write("  - id: share\n    unit: \"%\"\n    formula: v02 / v01 * 100\n    decimals: 2\n")


def villages_of(path):
    codes = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split(",")
        ci, li = header.index("code"), header.index("level")
        for line in f:
            parts = line.split(",")
            if parts[li].rstrip("\n") == "village":
                codes.append(parts[ci])
    return codes


def records(hier, rows, out):
    codes = villages_of(hier)
    nind = len(INDICATORS)
    written = 0
    month = 1
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write("region_code,indicator,period,value\n")
        while written < rows:
            period = f"{2019 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}"
            buf = []
            for i, code in enumerate(codes):
                if written >= rows:
                    break
                # A small multiplicative hash of (village, month) drives the values.
                h = (i * 2654435761 + month * 40503) & 0xFFFFFFFF
                take = min(nind, rows - written)
                for k in range(take):
                    x = (h >> (k % 16)) ^ (k * 7919)
                    ind = INDICATORS[k]
                    if (x + k) % 101 == 0:
                        buf.append(f"{code},{ind},{period},\n")
                    elif k == 15:
                        c = x % 5_000_000
                        buf.append(f"{code},{ind},{period},{c // 100}.{c % 100:02d}\n")
                    else:
                        buf.append(f"{code},{ind},{period},{x % (500 * (k + 1))}\n")
                written += take
                if len(buf) > 200000:
                    f.write("".join(buf))
                    buf = []
            f.write("".join(buf))
            month += 1


def value(i, k, month, empty=True):
    """The value `records` files for village i, indicator k, month; None is
    an empty cell (never with empty=False)."""
    h = (i * 2654435761 + month * 40503) & 0xFFFFFFFF
    x = (h >> (k % 16)) ^ (k * 7919)
    if empty and (x + k) % 101 == 0:
        return None
    if k == 15:
        c = x % 5_000_000
        return f"{c // 100}.{c % 100:02d}"
    return str(x % (500 * (k + 1)))


def county(hier, prefix, months, nind, out):
    codes = [c for c in villages_of(hier) if c.startswith(prefix)]
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write("region_code,indicator,period,value\n")
        for month in range(1, months + 1):
            period = f"{2019 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}"
            buf = []
            for i, code in enumerate(codes):
                for k in range(nind):
                    v = value(i, k, month, empty=False)
                    buf.append(f"{code},{INDICATORS[k]},{period},{v}\n")
            f.write("".join(buf))
    return len(codes)


def households(hier, count, out):
    codes = villages_of(hier)
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write("household_id,region_code,size,income_per_capita\n")
        buf = []
        for i in range(count):
            code = codes[i % len(codes)]
            h = (i * 2654435761) & 0xFFFFFFFF
            size = 1 + h % 7
            cents = 0 if (h >> 7) % 2000 == 0 else ((h >> 3) % 3_000_000 + (h >> 12) % 97)
            buf.append(f"{i + 1},{code},{size},{cents // 100}.{cents % 100:02d}\n")
            if len(buf) >= 200000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def checks(hier, villages, out):
    codes = villages_of(hier)
    if villages:
        # On to the end of the last city, so that no region above the
        # villages is left partly reported (the checks leave such a figure
        # out, as they should; a peer grouping by code prefix would not).
        end = min(villages, len(codes))
        while end < len(codes) and codes[end][:4] == codes[end - 1][:4]:
            end += 1
        codes = codes[:end]
    towns = {}
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write("region_code,indicator,period,value\n")
        buf = []
        for i, code in enumerate(codes):
            h = (i * 2654435761 + 40503) & 0xFFFFFFFF
            v = 50 + h % 400
            if (h >> 9) % 500 == 0:
                v *= 10
            buf.append(f"{code},v01,2019-01,{v}\n")
            towns[code[:9]] = towns.get(code[:9], 0) + v
        for t, (town, total) in enumerate(sorted(towns.items())):
            if t % 97 == 0:
                total += t % 7 + 1
            buf.append(f"{town}000,v01,2019-01,{total}\n")
        f.write("".join(buf))


def main(argv):
    if len(argv) >= 4 and argv[1] == "hierarchy" and argv[2] == "national":
        hierarchy_national(argv[3], argv[4])
    elif len(argv) >= 4 and argv[1] == "hierarchy" and argv[2] == "synthetic":
        hierarchy_synthetic(int(argv[3]), argv[4])
    elif len(argv) == 3 and argv[1] == "definitions":
        definitions(argv[2])
    elif len(argv) == 7 and argv[1] == "county":
        county(argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6])
    elif len(argv) == 5 and argv[1] == "households":
        households(argv[2], int(argv[3]), argv[4])
    elif len(argv) == 5 and argv[1] == "checks":
        checks(argv[2], int(argv[3]), argv[4])
    elif len(argv) == 5 and argv[1] == "records":
        records(argv[2], int(argv[3]), argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
