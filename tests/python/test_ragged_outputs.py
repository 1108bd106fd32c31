"""Honest numbers on ragged data (issue 17, the outputs): completion that
rests on incomplete coverage, how old a carried level is, formulas that
overflow, and the Python side of warnings, periods and coverage. The
expected figures are worked out by hand in the comments."""
import csv
import io
import json
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

# An exit rate (a formula) and the plain sum it is made of.
RATE_DEFS = """levels: [county, village]
indicators:
  - id: exited
    name: 脱贫人口
    over_time: flow
  - id: registered
    name: 建档立卡人口
    over_time: stock
  - id: exit_rate
    name: 脱贫率
    formula: exited / registered * 100
    decimals: 2
"""

# 甲村 exits 30 + 20 of 100 registered; 乙村 files its 200 registered but no
# exits; 丙村 exits 10 of 100.
RATE_RECORDS = """region_code,indicator,period,value
430600000001,exited,2019-03,30
430600000001,exited,2019-07,20
430600000001,registered,2019-01,100
430600000002,registered,2019-01,200
430600000003,exited,2019-05,10
430600000003,registered,2019-02,100
"""

RATE_TARGETS = """region_code,indicator,year,target
430600000000,exit_rate,2019,50
430600000001,exit_rate,2019,60
430600000002,exit_rate,2019,40
430600000003,exit_rate,2019,20
430600000000,exited,2019,100
"""

LEVEL_DEFS = """levels: [county, village]
indicators:
  - id: exited
    over_time: flow
  - id: households
    name: 户数
    over_time: stock
    stale_after: 3
  - id: households_any
    name: 户数（不限）
    over_time: stock
  - id: cum
    over_time: cumulative
  - id: per_household
    formula: cum / households_any
"""

# Stocks filed in January (甲村), December (乙村) and Q3 (丙村); a
# cumulative filed for May (甲村) and for the year (乙村).
LEVEL_RECORDS = """region_code,indicator,period,value
430600000001,exited,2019-01,1
430600000001,households,2019-01,50
430600000002,households,2019-12,70
430600000001,households_any,2019-01,50
430600000002,households_any,2019-12,70
430600000003,households_any,2019-Q3,5
430600000001,cum,2019-05,5
430600000002,cum,2019,9
"""


def files(tmp_path, defs, records, targets=None):
    (tmp_path / "h.csv").write_text(HIERARCHY, encoding="utf-8")
    (tmp_path / "d.yaml").write_text(defs, encoding="utf-8")
    (tmp_path / "r.csv").write_text(records, encoding="utf-8")
    args = ["-H", str(tmp_path / "h.csv"), "-d", str(tmp_path / "d.yaml"),
            "-r", str(tmp_path / "r.csv")]
    if targets is not None:
        (tmp_path / "t.csv").write_text(targets, encoding="utf-8")
        args += ["-t", str(tmp_path / "t.csv")]
    return args


def cli(*args):
    p = subprocess.run([tally_exe(), *args], capture_output=True, text=True, encoding="utf-8")
    return p.returncode, p.stdout, p.stderr


def table(text):
    return list(csv.DictReader(io.StringIO(text)))


def objects(tmp_path):
    h = tally.Hierarchy.from_csv(str(tmp_path / "h.csv"))
    d = tally.Definitions.from_yaml(str(tmp_path / "d.yaml"))
    ds = tally.Dataset(h, d)
    assert ds.read_records(str(tmp_path / "r.csv")) == []
    return ds


# ---- progress on incomplete coverage ----

def test_progress_marks_an_incomplete_actual(tmp_path):
    status, out, err = cli("progress", *files(tmp_path, RATE_DEFS, RATE_RECORDS, RATE_TARGETS),
                           "--as-of", "2019-08")
    assert status == 0, err
    by = {(r["region_code"], r["indicator"]): r for r in table(out)}
    cols = ("actual", "target", "completion", "status", "gap", "monthly_pace", "rank")

    def row(code, ind):
        return tuple(by[code, ind][c] for c in cols)

    # County, matched over 甲村 and 丙村 (乙村 has no exits): (50 + 10) /
    # (100 + 100) * 100 = 30.00, not 60 / 400 = 15.00. 3 regions filed an
    # operand, 2 both: incomplete, so no completion, gap, pace or rank.
    assert row("430600000000", "exit_rate") == ("30.00", "50.00", "", "incomplete", "", "", "")
    # 乙村 filed registered only: its rate is missing, and incomplete (not
    # no_data: it did report).
    assert row("430600000002", "exit_rate") == ("", "40.00", "", "incomplete", "", "", "")
    # 甲村: 50 of 60 = 83.33 %; August: 50 * 12 = 600 >= 60 * 8 = 480, ahead;
    # gap 10, pace 10 / 4 = 2.50. 丙村: 10 of 20 = 50.00 %, 120 < 160,
    # behind; gap 10, pace 2.50. Ranked among themselves only.
    assert row("430600000001", "exit_rate") == ("50.00", "60.00", "83.33", "ahead", "10.00",
                                                "2.50", "1")
    assert row("430600000003", "exit_rate") == ("10.00", "20.00", "50.00", "behind", "10.00",
                                                "2.50", "2")
    # The plain sum is judged as always: 60 of 100 = 60.00 % < 66.67, behind;
    # gap 40, pace 10.
    assert row("430600000000", "exited") == ("60", "100", "60.00", "behind", "40", "10", "1")
    assert "2019-08 exit_rate: 1 ahead, 1 behind, 2 incomplete" in err


def test_progress_incomplete_from_python(tmp_path):
    files(tmp_path, RATE_DEFS, RATE_RECORDS, RATE_TARGETS)
    ds = objects(tmp_path)
    with ds.progress_result(str(tmp_path / "t.csv"), as_of="2019-08") as p:
        assert p.complete("430600000000", "exit_rate") is False
        assert p.complete("430600000001", "exit_rate") is True
        assert p.complete("430600000000", "exited") is True
        county = p.get("430600000000", "exit_rate")
        assert county["status"] == "incomplete"
        assert county["actual"] == pytest.approx(30.0)
        assert county["completion"] is None and county["rank"] is None


def test_progress_chart_shows_incomplete(tmp_path):
    svg = tmp_path / "p.svg"
    status, _, err = cli("progress", *files(tmp_path, RATE_DEFS, RATE_RECORDS, RATE_TARGETS),
                         "--as-of", "2019-08", "--svg", str(svg), "--indicator", "exit_rate",
                         "--level", "village")
    assert status == 0, err
    text = svg.read_text(encoding="utf-8")
    assert 'data-region="430600000002" data-status="incomplete"' in text
    assert "数据不全 incomplete" in text


# ---- how old a carried level is ----

def test_rollup_coverage_shows_as_of(tmp_path):
    status, out, err = cli("rollup", *files(tmp_path, LEVEL_DEFS, LEVEL_RECORDS), "--coverage",
                           "--period", "2019,2019-Q3")
    assert status == 0, err
    assert out.splitlines()[0] == ("region_code,region_name,level,indicator,period,value,"
                                   "regions,regions_complete,as_of")
    by = {(r["region_code"], r["indicator"], r["period"]): (r["value"], r["as_of"])
          for r in table(out)}
    county = "430600000000"
    # No stale_after: 50 (January) + 70 (December) + 5 (Q3) = 125, resting
    # on a report as old as 2019-01.
    assert by[county, "households_any", "2019"] == ("125", "2019-01")
    assert by["430600000001", "households_any", "2019"] == ("50", "2019-01")
    assert by["430600000003", "households_any", "2019"] == ("5", "2019-09")
    assert by[county, "households_any", "2019-Q3"] == ("5", "2019-09")
    # stale_after: 3 leaves 甲村's January out: 70, as of December.
    assert by[county, "households", "2019"] == ("70", "2019-12")
    # Missing, with no as_of: a row with no data, not printed.
    assert ("430600000001", "households", "2019") not in by
    # Cumulative: May (甲村) and the year report (乙村, ending December).
    assert by[county, "cum", "2019"] == ("14", "2019-05")
    assert by["430600000002", "cum", "2019"] == ("9", "2019-12")
    # Flows and formulas have none; nor has a missing value.
    assert by[county, "exited", "2019"] == ("1", "")
    assert by[county, "per_household", "2019"][1] == ""
    assert (county, "cum", "2019-Q3") not in by


def test_rollup_as_of_prefers_like_the_values(tmp_path):
    # 县 files 100 itself for December; 甲村 below it filed 50 for January.
    records = LEVEL_RECORDS + "430600000000,households_any,2019-12,100\n"
    args = files(tmp_path, LEVEL_DEFS, records)
    for prefer, expected in (("computed", ("125", "2019-01")), ("reported", ("100", "2019-12"))):
        status, out, err = cli("rollup", *args, "--coverage", "--period", "2019",
                               "--level", "county", "--prefer", prefer)
        assert status == 0, err
        row = [r for r in table(out) if r["indicator"] == "households_any"][0]
        assert (row["value"], row["as_of"]) == expected


def test_rollup_as_of_json_and_python(tmp_path):
    status, out, err = cli("rollup", *files(tmp_path, LEVEL_DEFS, LEVEL_RECORDS), "--coverage",
                           "--period", "2019", "--level", "county", "--format", "json")
    assert status == 0, err
    rows = {r["indicator"]: r for r in json.loads(out)}
    assert rows["households_any"]["as_of"] == "2019-01"
    assert rows["exited"]["as_of"] is None
    ds = objects(tmp_path)
    r = ds.rollup(periods="2019", coverage=True)
    assert r.as_of("430600000000", "households_any", "2019") == "2019-01"
    assert r.as_of("430600000000", "exited", "2019") is None
    county = {x["indicator"]: x for x in r.rows(level="county", coverage=True)}
    assert county["cum"]["as_of"] == "2019-05"
    assert county["per_household"]["as_of"] is None
    # Kept only when asked for.
    assert ds.rollup(periods="2019").as_of("430600000000", "households_any", "2019") is None


def test_rollup_plain_output_unchanged_without_coverage(tmp_path):
    status, out, _ = cli("rollup", *files(tmp_path, LEVEL_DEFS, LEVEL_RECORDS),
                         "--period", "2019", "--level", "county")
    assert status == 0
    assert out.splitlines()[0] == "region_code,region_name,level,indicator,period,value"


# ---- formulas that overflow ----

OVERFLOW_DEFS = """levels: [county, village]
indicators:
  - id: a
    exact: false
  - id: b
  - id: big
    name: 大数
    formula: a * b
  - id: ratio
    formula: a / b
"""


def test_formula_overflow_is_an_error(tmp_path):
    records = ("region_code,indicator,period,value\n"
               "430600000001,a,2019-01,1e308\n"
               "430600000001,b,2019-01,10\n")
    status, out, err = cli("rollup", *files(tmp_path, OVERFLOW_DEFS, records))
    assert status == 2
    assert out == ""
    # 1e308 * 10 at 甲村, the lowest region where it happens.
    assert ("big (大数) of 430600000001 甲村 in 2019-01: its formula a * b gives a number past "
            "the largest a double holds") in err
    ds = objects(tmp_path)
    with pytest.raises(tally.RangeError, match="big"):
        ds.rollup()


def test_division_by_zero_stays_missing(tmp_path):
    records = ("region_code,indicator,period,value\n"
               "430600000001,a,2019-01,5\n"
               "430600000001,b,2019-01,0\n")
    status, out, err = cli("rollup", *files(tmp_path, OVERFLOW_DEFS, records),
                           "--level", "village", "--all-regions")
    assert status == 0, err
    by = {(r["region_code"], r["indicator"]): r["value"] for r in table(out)}
    assert by["430600000001", "ratio"] == ""
    assert by["430600000001", "big"] == "0.00"


def test_progress_formula_overflow_is_an_error(tmp_path):
    records = ("region_code,indicator,period,value\n"
               "430600000001,a,2019-01,1e308\n"
               "430600000001,b,2019-01,10\n")
    targets = "region_code,indicator,year,target\n430600000000,big,2019,1\n"
    status, _, err = cli("progress", *files(tmp_path, OVERFLOW_DEFS, records, targets),
                         "--as-of", "2019-03")
    assert status == 2
    assert "big (大数) of 430600000001 甲村, 2019-01 to 2019-03, is past the largest" in err


# ---- Python: warnings and periods ----

def test_read_warnings_in_python(tmp_path):
    (tmp_path / "h.csv").write_text(HIERARCHY, encoding="utf-8")
    (tmp_path / "d.yaml").write_text(RATE_DEFS, encoding="utf-8")
    (tmp_path / "r.csv").write_text(
        "region_code,region_name,indicator,period,value\n"
        "430600000001,甲村,registered,2019-01,100\n"
        "430600000002,丁村,registered,2019-01,200\n", encoding="utf-8")
    h = tally.Hierarchy.from_csv(str(tmp_path / "h.csv"))
    d = tally.Definitions.from_yaml(str(tmp_path / "d.yaml"))
    ds = tally.Dataset(h, d)
    for mode in ("stop", "collect"):
        ds = tally.Dataset(h, d)
        rejected = ds.read_records(str(tmp_path / "r.csv"), on_error=mode)
        assert list(rejected) == [] and rejected.rows_accepted == 2
        assert len(rejected.warnings) == 1
        w = rejected.warnings[0]
        path, line, column, reason = w
        assert (path, line) == (str(tmp_path / "r.csv"), 3)
        assert (w.path, w.line, w.column, w.reason) == (path, line, column, reason)
        # The region_name cell: after "430600000002," (13 bytes), column 14.
        assert column == 14
        assert "乙村" in reason and "丁村" in reason
        assert str(w).startswith(f"{path}:3:14: warning: ")


def test_dataset_periods_in_python(tmp_path):
    files(tmp_path, LEVEL_DEFS, LEVEL_RECORDS + "430600000003,exited,2020-02,\n")
    ds = objects(tmp_path)
    # The library's order within a year: months, quarters, the year; 2020-02
    # has only an empty cell and does not count.
    assert ds.periods() == ["2019-01", "2019-05", "2019-12", "2019-Q3", "2019"]
    assert ds.has_values("2019") is True
    assert ds.has_values("2020") is False
    empty = tally.Dataset(ds.hierarchy, ds.definitions)
    assert empty.periods() == []
