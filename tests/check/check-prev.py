#!/usr/bin/env python3
"""Rules across periods: prev(x) and lag(x, n) in a check rule, on the
stock-flow account of one town (洋湖镇), year by year.

The series is made by hand, not by tally: 2,539 registered in 2014; exits
479, 370, 370, 488, 481 for 2014-2018; removals (清退, 死亡, 迁出) 3, 5, 4, 6,
2; newly identified 0, 0, 2, 0, 1; so the remaining poor are
  2014: 2539 - 479 - 3 + 0 = 2057
  2015: 2057 - 370 - 5 + 0 = 1682
  2016: 1682 - 370 - 4 + 2 = 1310
  2017: 1310 - 488 - 6 + 0 =  816
  2018:  816 - 481 - 2 + 1 =  334
Consistent, the rule `remaining == prev(remaining) - exited - removed +
added` holds at 2015-2018 and is not evaluated at 2014 (no 2013). With 2016's
remaining written 1301, it fails at 2016 (1301 against 1310) and at 2017,
whose previous figure is the wrong one (816 against 1301 - 488 - 6 + 0 =
807), with opposite imbalances: docs/check.md says how to read the pair.

Usage: check-prev.py TALLY
"""
import csv
import io
import os
import subprocess
import sys
import tempfile

tally = sys.argv[1]
failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


TOWN = "430624101000"
EXITS = {2014: 479, 2015: 370, 2016: 370, 2017: 488, 2018: 481}
REMOVED = {2014: 3, 2015: 5, 2016: 4, 2017: 6, 2018: 2}
ADDED = {2014: 0, 2015: 0, 2016: 2, 2017: 0, 2018: 1}
REMAINING = {2014: 2057, 2015: 1682, 2016: 1310, 2017: 816, 2018: 334}

DEFS = """levels: [town]
indicators:
  - { id: registered, name: 建档立卡人口, aggregate: sum, over_time: stock, decimals: 0 }
  - { id: exited, name: 脱贫人口, aggregate: sum, over_time: flow, decimals: 0 }
  - { id: removed, name: 清退人口, aggregate: sum, over_time: flow, decimals: 0 }
  - { id: added, name: 新识别人口, aggregate: sum, over_time: flow, decimals: 0 }
  - { id: remaining, name: 剩余贫困人口, aggregate: sum, over_time: stock, decimals: 0 }
checks:
  - id: stock_flow
    rule: %s
    severity: error
"""
RULE = "remaining == prev(remaining) - exited - removed + added"

tmp = tempfile.mkdtemp()


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


H = write("h.csv", "code,name,level,parent_code\n%s,洋湖镇,town,\n" % TOWN)


def records(remaining):
    lines = ["region_code,indicator,period,value", "%s,registered,2014,2539" % TOWN]
    for y in range(2014, 2019):
        for ind, d in (("exited", EXITS), ("removed", REMOVED), ("added", ADDED),
                       ("remaining", remaining)):
            lines.append("%s,%s,%d,%d" % (TOWN, ind, y, d[y]))
    return write("r.csv", "\n".join(lines) + "\n")


def check(rule, remaining, *extra):
    D = write("d.yaml", DEFS % rule)
    p = subprocess.run([tally, "check", "-H", H, "-d", D, "-r", records(remaining), *extra],
                       capture_output=True, text=True, encoding="utf-8")
    return p.returncode, list(csv.DictReader(io.StringIO(p.stdout))), p.stderr


# The series itself is consistent (checked here, not by tally).
for y in range(2015, 2019):
    assert REMAINING[y] == REMAINING[y - 1] - EXITS[y] - REMOVED[y] + ADDED[y]
assert REMAINING[2014] == 2539 - EXITS[2014] - REMOVED[2014] + ADDED[2014]

status, rows, err = check(RULE, REMAINING)
expect(status == 0 and rows == [], "consistent series: status %d, rows %s" % (status, rows))
# 2014 has no previous year: four years evaluated, all pass.
expect("stock_flow                  4        4        0        0        0" in err,
       "summary of the consistent series: %s" % err)

altered = dict(REMAINING)
altered[2016] = 1301
status, rows, err = check(RULE, altered)
expect(status == 1, "altered series: status %d" % status)
got = [(r["period"], r["expected"], r["actual"], r["difference"]) for r in rows]
expect(got == [("2016", "1310", "1301", "-9"), ("2017", "807", "816", "9")],
       "altered series: %s" % got)
by = {r["period"]: r["message"] for r in rows}
expect(by.get("2016") == "洋湖镇 2016: 剩余贫困人口 == 2015's 剩余贫困人口 - 脱贫人口 - 清退人口 + "
       "新识别人口 does not hold: 1301 vs 2015's 1682 - 370 - 4 + 2 = 1310 (imbalance -9)",
       "2016 message: %s" % by.get("2016"))
expect(by.get("2017") == "洋湖镇 2017: 剩余贫困人口 == 2016's 剩余贫困人口 - 脱贫人口 - 清退人口 + "
       "新识别人口 does not hold: 816 vs 2016's 1301 - 488 - 6 + 0 = 807 (imbalance 9)",
       "2017 message: %s" % by.get("2017"))

# Only the periods asked for are judged; their previous period is read even
# when not asked for.
status, rows, err = check(RULE, altered, "--period", "2017")
expect([r["period"] for r in rows] == ["2017"], "--period 2017: %s" % rows)

# lag(x, 2): two years back. remaining_y - remaining_{y-2} is minus the
# exits and removals of both years plus the additions: at 2018,
# 334 - 1310 = -976 = -(488 + 481) - (6 + 2) + (0 + 1). Consistent it holds
# at 2016-2018 (three items); with 2016 altered it fails at 2016 (its own
# figure) and 2018 (2016 two years back), not at 2017.
LAG = ("remaining - lag(remaining, 2) == -(exited + prev(exited)) - (removed + prev(removed))"
       " + added + prev(added)")
status, rows, err = check(LAG, REMAINING)
expect(status == 0 and "stock_flow                  3        3" in err,
       "lag, consistent: %d %s %s" % (status, rows, err))
status, rows, err = check(LAG, altered)
expect([(r["period"], r["difference"]) for r in rows] == [("2016", "-9"), ("2018", "9")],
       "lag, altered: %s" % [(r["period"], r["difference"], r["message"]) for r in rows])

# A formula cannot look at another period: refused at its place in the file.
D = write("d.yaml", DEFS.replace(
    "checks:", "  - { id: change, formula: remaining - prev(remaining) }\nchecks:") % RULE)
p = subprocess.run([tally, "check", "-H", H, "-d", D, "-r", records(REMAINING)],
                   capture_output=True, text=True, encoding="utf-8")
line = DEFS.split("\n").index("checks:") + 1
expect(p.returncode == 2 and ("d.yaml:%d:" % line) in p.stderr and
       "only a check rule" in p.stderr, "prev in a formula: %d %s" % (p.returncode, p.stderr))

# derive: increment of a cumulative: 2019-01 = 11 (January: the year to
# date itself), 2019-02 = 25 - 11 = 14; 2018-12 has no November: missing.
D = write("d.yaml", """levels: [town]
indicators:
  - { id: exited_ytd, aggregate: sum, over_time: cumulative }
  - { id: exited_month, derive: increment, of: exited_ytd }
""")
R = write("r.csv", "region_code,indicator,period,value\n" + "".join(
    "%s,exited_ytd,%s,%d\n" % (TOWN, p, v) for p, v in
    (("2018-12", 780), ("2019-01", 11), ("2019-02", 25))))
p = subprocess.run([tally, "rollup", "-H", H, "-d", D, "-r", R, "--period",
                    "2018-12,2019-01,2019-02", "--indicator", "exited_month",
                    "--all-regions"],  # the missing 2018-12 printed empty
                   capture_output=True, text=True, encoding="utf-8")
got = [(r["period"], r["value"]) for r in csv.DictReader(io.StringIO(p.stdout))]
expect(got == [("2018-12", ""), ("2019-01", "11"), ("2019-02", "14")],
       "derived increment: %s %s" % (got, p.stderr))
# `of` must name a cumulative indicator.
D = write("d.yaml", """levels: [town]
indicators:
  - { id: exited, aggregate: sum, over_time: flow }
  - { id: exited_month, derive: increment, of: exited }
""")
p = subprocess.run([tally, "rollup", "-H", H, "-d", D, "-r", R],
                   capture_output=True, text=True, encoding="utf-8")
expect(p.returncode == 2 and "d.yaml:4:" in p.stderr and "cumulative" in p.stderr,
       "derive of a flow: %d %s" % (p.returncode, p.stderr))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok")
