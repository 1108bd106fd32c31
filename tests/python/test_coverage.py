"""Honest numbers on ragged data (issue 17, the rollup half): matched
coverage of formulas, reports of several granularities, stale levels. The
expected figures are worked out by hand in the comments."""
import csv
import io
import subprocess

import pytest

import tally
from conftest import tally_exe

HIERARCHY = """code,name,level,parent_code
430600000000,县,county,
430600000001,甲村,village,430600000000
430600000002,乙村,village,430600000000
430600000003,丙村,village,430600000000
"""

RATE_DEFS = """levels: [county, village]
indicators:
  - id: rural_population
    name: 农业户籍人口
    over_time: stock
  - id: poor_population
    name: 建档立卡贫困人口
    over_time: stock
  - id: incidence
    name: 贫困发生率
    formula: poor_population / rural_population * 100
    thresholds:
      - { level: county, max: 2.0 }
"""

# Three villages of 1,000 people: 甲村 files poor = 10, 乙村 the population
# only, 丙村 nothing.
THREE_VILLAGES = """region_code,indicator,period,value
430600000001,rural_population,2019,1000
430600000001,poor_population,2019,10
430600000002,rural_population,2019,1000
"""

GRAIN_DEFS = """levels: [county, village]
indicators:
  - id: exited
    name: 脱贫人口
    over_time: flow
  - id: households
    name: 户数
    over_time: stock
    stale_after: 3
  - id: households_any
    name: 户数（不限）
    over_time: stock
"""

# 甲村 files 2019 = 100, 2019-Q1 = 9 and months 1, 2, 3 (a flow); a stock
# last filed in January; 乙村 a stock filed in December.
GRAINS = """region_code,indicator,period,value
430600000001,exited,2019,100
430600000001,exited,2019-Q1,9
430600000001,exited,2019-01,1
430600000001,exited,2019-02,2
430600000001,exited,2019-03,3
430600000001,households,2019-01,50
430600000002,households,2019-12,70
430600000001,households_any,2019-01,50
430600000002,households_any,2019-12,70
"""


def files(tmp_path, defs, records):
    (tmp_path / "h.csv").write_text(HIERARCHY, encoding="utf-8")
    (tmp_path / "d.yaml").write_text(defs, encoding="utf-8")
    (tmp_path / "r.csv").write_text(records, encoding="utf-8")
    return ["-H", str(tmp_path / "h.csv"), "-d", str(tmp_path / "d.yaml"),
            "-r", str(tmp_path / "r.csv")]


def cli(*args):
    p = subprocess.run([tally_exe(), *args], capture_output=True, text=True, encoding="utf-8")
    return p.returncode, list(csv.DictReader(io.StringIO(p.stdout))), p.stderr


def test_three_villages_rollup_is_matched(tmp_path):
    status, rows, _ = cli("rollup", *files(tmp_path, RATE_DEFS, THREE_VILLAGES), "--coverage")
    assert status == 0
    by = {(r["region_code"], r["indicator"]): r for r in rows}
    county = by["430600000000", "incidence"]
    # 10 / 1,000 * 100 over 甲村 alone (乙村 has no poor count): 1.00, not
    # 10 / 2,000 * 100 = 0.50. Two villages filed an operand, one both.
    assert county["value"] == "1.00"
    assert (county["regions"], county["regions_complete"]) == ("2", "1")
    assert by["430600000002", "incidence"]["regions_complete"] == "0"
    # Plain sums are what they were, and have no coverage columns.
    assert by["430600000000", "rural_population"]["value"] == "2000"
    assert by["430600000000", "rural_population"]["regions"] == ""


def test_three_villages_poverty_is_incomplete(tmp_path):
    status, rows, _ = cli("poverty", *files(tmp_path, RATE_DEFS, THREE_VILLAGES),
                          "--year", "2019", "--level", "county")
    assert status == 0
    assert [(r["value"], r["meets_threshold"], r["margin"]) for r in rows] == \
        [("1.00", "incomplete", "")]


def test_three_villages_check_names_the_village_once(tmp_path):
    status, rows, _ = cli("check", *files(tmp_path, RATE_DEFS, THREE_VILLAGES))
    assert status == 0
    gaps = [r for r in rows if r["check"] == "coverage"]
    named = [r for r in gaps if "乙村" in r["message"]]
    assert len(named) == 1
    assert named[0]["region_code"] == "430600000002"
    assert "reported 农业户籍人口 but not 建档立卡贫困人口" in named[0]["message"]
    # And one line for the county's figure, which does not repeat the village.
    top = [r for r in gaps if r["region_code"] == "430600000000"]
    assert len(top) == 1 and "uses 1 of 2" in top[0]["message"]
    assert len(gaps) == 2


def test_python_result_coverage(tmp_path):
    files(tmp_path, RATE_DEFS, THREE_VILLAGES)
    h = tally.Hierarchy.from_csv(str(tmp_path / "h.csv"))
    d = tally.Definitions.from_yaml(str(tmp_path / "d.yaml"))
    ds = tally.Dataset(h, d)
    assert ds.read_records(str(tmp_path / "r.csv")) == []
    r = ds.rollup()
    assert r.value("430600000000", "incidence", "2019") == pytest.approx(1.0)
    assert r.coverage("430600000000", "incidence", "2019") == (2, 1)
    assert r.complete("430600000000", "incidence", "2019") is False
    assert r.complete("430600000001", "incidence", "2019") is True
    assert r.coverage("430600000000", "rural_population", "2019") == (0, 0)
    rows = [x for x in r.rows(coverage=True) if x["region_code"] == "430600000000"]
    assert [(x["indicator"], x["regions"], x["regions_complete"]) for x in rows] == \
        [("rural_population", None, None), ("poor_population", None, None), ("incidence", 2, 1)]
    th = [x for x in r.thresholds(level="county")]
    assert th[0]["meets_threshold"] == "incomplete" and th[0]["margin"] is None


def test_year_quarter_months(tmp_path):
    status, rows, _ = cli("rollup", *files(tmp_path, GRAIN_DEFS, GRAINS),
                          "--period", "2019,2019-Q1", "--level", "village")
    assert status == 0
    by = {(r["region_code"], r["indicator"], r["period"]): r["value"] for r in rows}
    # The year report (the months cover only Q1); Q1 from its three months.
    assert by["430600000001", "exited", "2019"] == "100"
    assert by["430600000001", "exited", "2019-Q1"] == "6"


def test_check_reports_the_quarter_conflict_and_the_stale_stock(tmp_path):
    status, rows, _ = cli("check", *files(tmp_path, GRAIN_DEFS, GRAINS))
    assert status == 0
    conflicts = [r for r in rows if r["check"] == "conflict"]
    assert [(r["region_code"], r["period"], r["expected"], r["actual"]) for r in conflicts] == \
        [("430600000001", "2019-Q1", "6", "9")]
    stale = [r for r in rows if r["check"] == "stale"]
    # households (stale_after: 3) of 甲村 in 2019: January, 11 months old.
    assert [(r["region_code"], r["period"], r["indicator"]) for r in stale] == \
        [("430600000001", "2019", "households")]
    assert "11 months" in stale[0]["message"]


def test_stale_stock_is_missing_from_the_year(tmp_path):
    status, rows, _ = cli("rollup", *files(tmp_path, GRAIN_DEFS, GRAINS), "--period", "2019",
                          "--all-regions")  # the missing value printed empty
    assert status == 0
    by = {(r["region_code"], r["indicator"]): r["value"] for r in rows}
    assert by["430600000001", "households"] == ""          # 11 months old > 3
    assert by["430600000000", "households"] == "70"        # 乙村's December alone
    assert by["430600000001", "households_any"] == "50"    # no stale_after: carried
    assert by["430600000000", "households_any"] == "120"


def test_stale_after_on_a_flow_is_refused(tmp_path):
    defs = GRAIN_DEFS.replace("    over_time: flow\n", "    over_time: flow\n    stale_after: 2\n")
    status, _, err = cli("rollup", *files(tmp_path, defs, GRAINS))
    assert status == 2
    assert "d.yaml:6:5:" in err and "stale_after applies to" in err


# A flow filed in part: 甲村 months 01–05 of 2019 (1..5) and no 2019
# report; 乙村 all 12 months; 丙村 months 01–05 and its 2019 report.
# Counted by hand: 2019 at 甲村 is 1+2+3+4+5 = 15 from five months, the one
# partial figure; Q2 (asked) at 甲村 has months 04 and 05 of three.
PARTIAL = "region_code,indicator,period,value\n" + \
    "".join(f"430600000001,exited,2019-{m:02d},{m}\n" for m in range(1, 6)) + \
    "".join(f"430600000002,exited,2019-{m:02d},1\n" for m in range(1, 13)) + \
    "".join(f"430600000003,exited,2019-{m:02d},1\n" for m in range(1, 6)) + \
    "430600000003,exited,2019,40\n"


def partial_rows(tmp_path, *args):
    status, rows, err = cli("check", *files(tmp_path, GRAIN_DEFS, PARTIAL), *args)
    assert status == 0, err
    return [r for r in rows if r["check"] == "partial"]


def test_check_names_a_partial_year_once_at_the_village(tmp_path):
    rows = partial_rows(tmp_path, "--period", "2019")
    assert [(r["region_code"], r["period"], r["indicator"], r["severity"], r["actual"])
            for r in rows] == [("430600000001", "2019", "exited", "warning", "15")]
    assert rows[0]["message"] == ("甲村 2019: 脱贫人口 from months 01–05 only (no report of 2019 "
                                  "or of its other months); the year's figure is a partial sum")


def test_check_names_a_partial_quarter_when_asked(tmp_path):
    rows = partial_rows(tmp_path, "--period", "2019-Q1,2019-Q2,2019-Q3")
    # Q1: every village filed its three months; Q3: 乙村 all three, the
    # others none (missing, not partial). Q2: 甲村 and 丙村 have 04–05.
    assert [(r["region_code"], r["period"], r["actual"]) for r in rows] == \
        [("430600000001", "2019-Q2", "9"), ("430600000003", "2019-Q2", "2")]
    assert "from months 04–05 only (no report of 2019-Q2" in rows[0]["message"]
    assert "the quarter's figure is a partial sum" in rows[0]["message"]


def test_check_partial_uses_a_quarter_report(tmp_path):
    # 甲村 files Q1 as a report and month 04: the sum rests on both.
    records = "region_code,indicator,period,value\n430600000001,exited,2019-Q1,6\n" \
        "430600000001,exited,2019-04,4\n"
    status, rows, _ = cli("check", *files(tmp_path, GRAIN_DEFS, records), "--period", "2019")
    assert status == 0
    rows = [r for r in rows if r["check"] == "partial"]
    assert [(r["region_code"], r["actual"]) for r in rows] == [("430600000001", "10")]
    assert "脱贫人口 from Q1, month 04 only" in rows[0]["message"]


def test_check_partial_only_for_periods_asked(tmp_path):
    # By default check reads the periods filed, 2019 among them (丙村's
    # report), where 甲村 is partial: not told unless 2019 is asked for.
    assert partial_rows(tmp_path) == []
    # Months are never partial.
    assert partial_rows(tmp_path, "--period", "2019-01,2019-06") == []


def test_python_check_kind_partial(tmp_path):
    files(tmp_path, GRAIN_DEFS, PARTIAL)
    h = tally.Hierarchy.from_csv(str(tmp_path / "h.csv"))
    d = tally.Definitions.from_yaml(str(tmp_path / "d.yaml"))
    ds = tally.Dataset(h, d)
    assert ds.read_records(str(tmp_path / "r.csv")) == []
    found = [f for f in ds.check(periods=["2019"]) if f.check == "partial"]
    assert [(f.kind, f.region_code, f.actual) for f in found] == [("partial", "430600000001", 15.0)]
