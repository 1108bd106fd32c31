#!/usr/bin/env python3
"""Records under old codes carried through a crosswalk (docs/crosswalk.md).

Usage: check-crosswalk-carry.py TALLY DATA_DIR

1. Small cases worked out by hand: a split 0.3/0.7 of 10 and of 5 people
   (largest remainder: 3 + 7, 2 + 3), a merge adding up, a conflict with a
   value the new region filed itself, a split whose shares are still empty,
   an unmatched code, a formula under an old code.
2. Every 2019 village of Hunan (43), one integer per village, rolled up on
   the 2023 table through the crosswalk tally infers: the province total is
   the sum of the records carried, every county's total is what this script
   adds up from the crosswalk file itself, and every rejected row is one the
   crosswalk leaves unmatched or split without shares.
"""
import csv
import gzip
import io
import os
import subprocess
import sys
import tempfile

TALLY, DATA = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="carry-")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def run(*args):
    p = subprocess.run([TALLY, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def values(out, period):
    """{code: {indicator: value text}} of a rollup's CSV at a period."""
    got = {}
    for r in csv.DictReader(io.StringIO(out)):
        if r["period"] == period:
            got.setdefault(r["region_code"], {})[r["indicator"]] = r["value"]
    return got


# ---- 1. small cases --------------------------------------------------------
H = write("h.csv", "code,name,level,parent_code\nP,Province,province,\n"
          "A,A county,county,P\nB,B county,county,P\nC,C county,county,P\n"
          "A1,A one,town,A\nA2,A two,town,A\n")
D = write("d.yaml", """indicators:
  - id: poor
    name: poor
    unit: people
    aggregate: sum
    over_time: stock
  - id: pop
    name: population
    unit: people
    aggregate: sum
    over_time: stock
  - id: rate
    name: rate
    unit: "%"
    formula: poor / pop * 100
    decimals: 2
""")
CW = write("cw.csv", "from_code,to_code,share\n"
           "OLD10,B,0.3\nOLD10,C,0.7\n"      # a split with shares
           "OLDM1,A1,1\nOLDM2,A1,1\n"          # two old towns merged into A1
           "OLDR,A,1\n"                        # recoded county
           "OPEN,B,\nOPEN,C,\n"                # split left open
           "GONE,,\n")                         # unmatched
R = write("r.csv", "region_code,indicator,period,value\n"
          "OLD10,poor,2019,10\n"     # 2: -> B 3, C 7
          "OLD10,poor,2020,5\n"      # 3: -> B 2, C 3 (tie: the earlier row)
          "OLDM1,poor,2019,4\n"      # 4: \ A1 = 4 + 6
          "OLDM2,poor,2019,6\n"      # 5: /
          "OLDR,pop,2019,100\n"      # 6: conflict with line 7
          "A,pop,2019,90\n"          # 7: A's own value
          "OPEN,poor,2019,8\n"       # 8: share empty
          "GONE,poor,2019,1\n"       # 9: unmatched
          "OLDR,rate,2019,5\n"       # 10: a formula is not carried
          "A2,poor,2019,1\n")        # 11
rc, out, err = run("rollup", "-H", H, "-d", D, "-r", R, "--crosswalk", CW, "--on-error",
                   "collect", "--rejects", os.path.join(tmp, "rej.csv"))
check(rc == 0, f"small rollup exits 0 (got {rc}: {err})")
v19, v20 = values(out, "2019"), values(out, "2020")
check(v19["B"]["poor"] == "3" and v19["C"]["poor"] == "7", f"10 split 0.3/0.7 is 3 + 7: {v19.get('B')}, {v19.get('C')}")
check(v20["B"]["poor"] == "2" and v20["C"]["poor"] == "3", f"5 split 0.3/0.7 is 2 + 3: {v20.get('B')}, {v20.get('C')}")
check(v19["A1"]["poor"] == "10", f"two old towns merged into A1 add up to 10: {v19.get('A1')}")
check(v19["A"]["poor"] == "11" and v19["P"]["poor"] == "21",
      f"A = A1 10 + A2 1, P = 21 (everything carried counted once): {v19.get('A')} {v19.get('P')}")
check(v19["A"]["pop"] == "90", f"A's own pop stays 90, the conflicting carried 100 is not mixed in: {v19.get('A')}")
rej = list(csv.DictReader(open(os.path.join(tmp, "rej.csv"), encoding="utf-8")))
got = {int(r["line"]): r["reason"] for r in rej}
check(sorted(got) == [6, 8, 9, 10], f"rejected lines 6, 8, 9, 10: {got}")
check("conflict" in got.get(6, "") and "OLDR" in got.get(6, "") and " A " in got.get(6, ""),
      f"line 6 is a conflict naming both codes: {got.get(6)}")
check("fill in the share" in got.get(8, ""), f"line 8 asks to fill in the shares: {got.get(8)}")
check("unmatched" in got.get(9, ""), f"line 9 is unmatched: {got.get(9)}")
check("formula" in got.get(10, ""), f"line 10 is a formula: {got.get(10)}")
check("10 rows read = 6 accepted" in err and "4 mapped through the crosswalk" in err
      and "+ 4 rejected" in err, f"the summary counts the rows carried: {err}")
# Stop mode: the conflict is an error with its line.
rc, out, err = run("rollup", "-H", H, "-d", D, "-r", R, "--crosswalk", CW)
check(rc == 2 and "r.csv:6:1: conflict" in err, f"stop mode stops at line 6: {rc} {err}")

# ---- 2. Hunan, 2019 villages on the 2023 map ------------------------------
def gunzip(year):
    path = os.path.join(tmp, f"divisions-{year}.csv")
    with gzip.open(os.path.join(DATA, f"divisions-{year}.csv.gz"), "rb") as f, open(path, "wb") as o:
        o.write(f.read())
    return path


old, new = gunzip("2019"), gunzip("2023")
cwp = os.path.join(tmp, "cw-2019-2023.csv")
rc, _, err = run("crosswalk", "--from", old, "--to", new, "-o", cwp)
check(rc == 0, f"crosswalk inferred: {err}")
cw = {}
for r in csv.DictReader(open(cwp, encoding="utf-8")):
    cw.setdefault(r["from_code"], []).append(r)
parent = {}
level = {}
for r in csv.DictReader(open(new, encoding="utf-8")):
    parent[r["code"]] = r["parent_code"]
    level[r["code"]] = r["level"]
villages = [r["code"] for r in csv.DictReader(open(old, encoding="utf-8"))
            if r["code"].startswith("43") and r["level"] == "village"]
recs = [(c, int(c[-6:]) % 97 + 1) for c in villages]
rp = os.path.join(tmp, "hunan-2019.csv")
with open(rp, "w", encoding="utf-8") as f:
    f.write("region_code,indicator,period,value\n")
    for c, v in recs:
        f.write(f"{c},poor,2019,{v}\n")


def county_of(code):
    while code and level.get(code) != "county":
        code = parent.get(code, "")
    return code


expect_county, expect_rejected, carried_total = {}, set(), 0
for c, v in recs:
    rows = cw[c]
    if not rows[0]["to_code"] or any(r["share"] == "" for r in rows) or len(rows) > 1:
        expect_rejected.add(c)
        continue
    carried_total += v
    k = county_of(rows[0]["to_code"])
    expect_county[k] = expect_county.get(k, 0) + v
rejp = os.path.join(tmp, "hunan-rej.csv")
rc, out, err = run("rollup", "-H", new, "-d", D, "-r", rp, "--crosswalk", cwp, "--level",
                   "province,county", "--on-error", "collect", "--rejects", rejp)
check(rc == 0, f"Hunan rollup exits 0: {err}")
got = values(out, "2019")
check(got["430000000000"]["poor"] == str(carried_total) and carried_total == sum(v for c, v in recs)
      - sum(v for c, v in recs if c in expect_rejected),
      f"province total {got['430000000000']['poor']} == sum of the carried records {carried_total}")
bad = [k for k, v in expect_county.items() if got.get(k, {}).get("poor") != str(v)]
check(not bad, f"every county's total is the sum of its carried villages ({len(bad)} differ: {bad[:5]})")
rejected = {r["row"].split(",")[0] for r in csv.DictReader(open(rejp, encoding="utf-8"))}
check(rejected == expect_rejected, f"rejected exactly the unmatched/open ones: {len(rejected)} vs {len(expect_rejected)}")
qiyang_old = sum(v for c, v in recs if c.startswith("431121"))
jindong = sum(v for c, v in recs if c.startswith("431172"))
check(got["431181000000"]["poor"] == str(qiyang_old + jindong),
      f"祁阳市 = 祁阳县 {qiyang_old} + 金洞管理区 {jindong} (merged): {got['431181000000']['poor']}")
# Recoded counties no other county merged into keep their old total.
into = {}
for code, rows in cw.items():
    if code.startswith("43") and level.get(rows[0]["to_code"]) == "county" and code.endswith("000000") and not code.endswith("00000000"):
        into.setdefault(rows[0]["to_code"], []).append((code, rows[0]["how"]))
plain = [(o[0][0], t) for t, o in into.items() if len(o) == 1 and o[0][1] == "recoded"]
check(plain, "Hunan has counties recoded alone")
for o, t in plain:
    old_total = sum(v for c, v in recs if c.startswith(o[:6]) and c not in expect_rejected)
    check(got[t]["poor"] == str(old_total), f"{o} -> {t}: {got[t]['poor']} == old total {old_total}")
print(f"Hunan: {len(recs)} village records, {len(expect_rejected)} rejected, "
      f"province {carried_total}, {len(plain)} counties recoded alone: {plain}")
m = [l for l in err.splitlines() if "rows read" in l]
print(m[0] if m else err)
sys.exit(1 if failures else 0)
