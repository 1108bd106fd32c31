"""Targets and completion, poverty measures from households, exit
thresholds: hand-computed figures and the same figures as the tally program."""
import csv
import io
import math
import subprocess

import numpy as np
import pytest

import tally
from conftest import (DATA, DEFINITIONS, HIERARCHY, RECORDS, SMALL_DEFINITIONS, SMALL_HIERARCHY,
                      SMALL_RECORDS, tally_exe)

TARGETS = DATA / "yueyang-targets-2019.csv"
HOUSEHOLDS = DATA / "yueyang-households-2019.csv"

SMALL_TARGETS = """\
region_code,indicator,year,target
K1,exits,2019,10
T1,exits,2019,4
T2,exits,2019,4
"""


def small_dataset(definitions=SMALL_DEFINITIONS):
    h = tally.Hierarchy.from_bytes(SMALL_HIERARCHY)
    d = tally.Definitions.from_string(definitions)
    ds = tally.Dataset(h, d)
    ds.read_bytes(SMALL_RECORDS)
    return h, d, ds


def test_targets__given_effective_decomposition():
    h, d, ds = small_dataset()
    t = tally.Targets(h, d)
    assert t.read_bytes(SMALL_TARGETS, name="t.csv") == []
    assert len(t) == 3
    assert t.given("K1", "exits", 2019) == 10 and t.given("C", "exits", 2019) is None
    eff = t.effective("exits", 2019)
    # Given: K1 10, T1 4, T2 4; C would be the sum of its children's only if K2 had one.
    assert [None if math.isnan(x) else x for x in eff] == [None, 10, 4, None, None, 4, None, None]
    # T1 + T2 = 8 does not cover K1's 10.
    (f,) = t.decomposition()
    assert (f["region_code"], f["indicator"], f["year"], f["target"], f["children_sum"],
            f["children_with_target"], f["children"]) == ("K1", "exits", 2019, 10, 8, 2, 2)
    t.add("K2", "exits", 2019, 1)
    assert t.effective("exits", 2019)[0] == 11  # now C = K1 10 + K2 1
    with pytest.raises(tally.DuplicateError):
        t.add("K2", "exits", 2019, 2)
    with pytest.raises(tally.NotFoundError):
        t.add("K9", "exits", 2019, 2)
    with pytest.raises(tally.ParseError) as info:
        t.read_bytes("region_code,indicator,year,target\nV1,exits,19,3\n", name="bad.csv")
    # "V1,exits," is 9 characters: the year starts at column 10.
    assert (info.value.path, info.value.line, info.value.column) == ("bad.csv", 2, 10)
    rejected = t.read_bytes("region_code,indicator,year,target\nV1,exits,19,3\nV2,exits,2019,2\n",
                            on_error="collect")
    assert [(r.line, r.column) for r in rejected] == [(2, 10)]
    assert rejected.rows_accepted == 1


def test_progress__small_by_hand():
    h, d, ds = small_dataset()
    t = tally.Targets(h, d)
    t.read_bytes(SMALL_TARGETS)
    rows = {(r["region_code"], r["indicator"]): r for r in ds.progress(t, as_of="2019-02")}
    assert {ind for _, ind in rows} == {"exits"}  # the only indicator with targets
    # Year to date as of February (exits is a flow): T1 = V1 1 + 2 = 3 (V2 filed empty),
    # T2 = V3 4, K1 = 7. Time progress 2 / 12 * 100 = 16.67 %.
    t1, t2, k1, c = rows["T1", "exits"], rows["T2", "exits"], rows["K1", "exits"], rows["C", "exits"]
    assert (t1["actual"], t1["target"], t1["completion"], t1["status"]) == (3, 4, 75, "ahead")
    assert t1["time_progress"] == pytest.approx(100 * 2 / 12)
    # Gap 4 - 3 = 1 over the 10 months left: 0.1 a month.
    assert (t1["gap"], t1["monthly_pace"]) == (1, pytest.approx(0.1))
    assert (t2["completion"], t2["status"], t2["gap"], t2["monthly_pace"]) == (100, "done", 0, 0)
    assert (k1["actual"], k1["completion"], k1["status"], k1["gap"]) == (7, 70, "ahead", 3)
    # Ranks among siblings by completion: T2 100 before T1 75; K1 alone has one.
    assert (t2["rank"], t1["rank"], k1["rank"]) == (1, 2, 1)
    assert (c["status"], c["target"], c["rank"]) == ("no_target", None, None)
    assert (c["year"], c["as_of"]) == (2019, "2019-02")
    # The same from a file, and through a Progress object.
    with ds.progress_result([], as_of="2019-02") as p:
        assert p.indicators == []
    with pytest.raises(ValueError, match="as_of='2019-2'"):
        ds.progress(t, as_of="2019-2")


def test_progress__schedule():
    h, d, ds = small_dataset()
    t = tally.Targets(h, d)
    t.read_bytes(SMALL_TARGETS)
    # A schedule that expects 80 % by February: T1 at 75 % is behind.
    shares = [40, 80, 85, 88, 90, 92, 94, 95, 96, 97, 98, 100]
    p = ds.progress_result(t, as_of="2019-02", schedule=shares)
    row = p.get("T1", "exits")
    assert (row["time_progress"], row["status"]) == (80, "behind")
    with pytest.raises(tally.InvalidError):
        ds.progress(t, as_of="2019-02", schedule=[50] * 12)  # December must be 100


def test_progress__as_of_is_a_month_the_library_reads():
    h, d, ds = small_dataset()
    t = tally.Targets(h, d)
    t.read_bytes(SMALL_TARGETS)
    assert ds.progress_result(t, as_of="2019-02").as_of == "2019-02"
    # A quarter or a year is a period, not a month; full-width digits are
    # no period at all.
    for bad in ("2019-Q1", "2019", "２０１９-02", "2019-13", 201902):
        with pytest.raises(ValueError, match=f"as_of={bad!r}: expected a month YYYY-MM"):
            ds.progress(t, as_of=bad)


def test_progress__schedule_shares_checked_by_the_library():
    h, d, ds = small_dataset()
    t = tally.Targets(h, d)
    t.read_bytes(SMALL_TARGETS)
    shares = [10, 8, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100]
    with pytest.raises(tally.InvalidError) as info:
        ds.progress(t, as_of="2019-02", schedule=shares)
    assert info.value.message == ("share 8 for month 2 is below month 1's 10; shares are "
                                  "cumulative and never decrease")
    with pytest.raises(tally.RangeError, match="share 100.5 for month 11 is outside 0 to 100"):
        ds.progress(t, as_of="2019-02", schedule=[0] * 10 + [100.5, 100])
    with pytest.raises(tally.RangeError, match="share nan for month 1"):
        ds.progress(t, as_of="2019-02", schedule=[math.nan] + [100] * 11)
    with pytest.raises(tally.InvalidError, match="11 shares given; expected 12"):
        ds.progress(t, as_of="2019-02", schedule=[100] * 11)
    with pytest.raises(tally.InvalidError, match="13 shares given; expected 12"):
        ds.progress(t, as_of="2019-02", schedule=[100] * 13)
    # Shares as a numpy array, as from a list.
    good = np.array([40, 80, 85, 88, 90, 92, 94, 95, 96, 97, 98, 100], dtype=float)
    a = ds.progress_result(t, as_of="2019-02", schedule=good).get("T1", "exits")
    assert (a["time_progress"], a["status"]) == (80, "behind")


def run_cli(*args):
    out = subprocess.run([tally_exe(), *args], capture_output=True, text=True, encoding="utf-8",
                         check=True)
    return list(csv.DictReader(io.StringIO(out.stdout)))


def fmt(value, decimals):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return tally.format_number(value, decimals)


def test_progress__same_figures_as_the_tally_program(demo_h, demo_d, demo_ds, tmp_path):
    cli = run_cli("progress", "-H", str(HIERARCHY), "-d", str(DEFINITIONS), "-r", str(RECORDS),
                  "-t", str(TARGETS), "--as-of", "2019-08")
    rows = demo_ds.progress(TARGETS, as_of="2019-08")
    dec = {i.id: i.decimals for i in demo_d}
    mine = [{k: fmt(v, 2 if k in ("completion", "time_progress") else dec[r["indicator"]])
             for k, v in r.items()} for r in rows]
    assert len(mine) == len(cli) == 2048 * 2
    assert mine == cli
    p = demo_ds.progress_result(TARGETS, as_of="2019-08")
    p.write(tmp_path / "p.csv", level="county")
    assert list(csv.DictReader(open(tmp_path / "p.csv", encoding="utf-8"))) == \
        [r for r in cli if r["level"] == "county"]
    p.write_svg(tmp_path / "p.svg", level="county", indicator="exited_population")
    svg = (tmp_path / "p.svg").read_text(encoding="utf-8")
    assert svg.count('class="bar"') == 10
    df = p.to_pandas(level="county", indicator="exited_population")
    assert len(df) == 10 and str(df["rank"].dtype) == "Int64"


def test_poverty__small_by_hand():
    h = tally.Hierarchy.from_bytes(SMALL_HIERARCHY)
    hh = tally.Households(h)
    hh.read_bytes("household_id,region_code,size,income_per_capita\n"
                  "h1,V1,2,50\nh2,V1,1,150\nh3,V2,3,80\n")
    hh.add("h4", "V3", 1, 0)
    assert len(hh) == 4
    p = hh.poverty(line=100, monitoring_line=120)
    # T1 holds h1 (2 persons at 50), h2 (1 at 150), h3 (3 at 80): W = 6, poor: h1 and h3.
    #   P0 = (2 + 3) / 6 = 83.33 %; P1 = (2 * 0.5 + 3 * 0.2) / 6 = 26.67 %;
    #   P2 = (2 * 0.25 + 3 * 0.04) / 6 = 10.33 %; Watts = (2 ln 2 + 3 ln 1.25) / 6 = 34.26 %.
    assert p.value("T1", "p0") == pytest.approx(500 / 6)
    assert p.value("T1", "p1") == pytest.approx(160 / 6)
    assert p.value("T1", "p2") == pytest.approx(62 / 6)
    assert p.value("T1", "watts") == pytest.approx((2 * math.log(2) + 3 * math.log(1.25)) / 6 * 100)
    # Median: sorted 50 (w 2), 80 (w 3), 150 (w 1); cumulative shares 1/3, 5/6: 80.
    assert p.value("T1", "median_income") == 80
    # Gini: W_i = 2, 5, 6; sum(w y W) = 200 + 1200 + 900 = 2300; sum(w^2 y) = 1070;
    # sum(w y) = 490: (2 * 2300 - 1070) / (6 * 490) - 1 = 3530 / 2940 - 1.
    assert p.value("T1", "gini") == pytest.approx(3530 / 2940 - 1)
    assert (p.value("T1", "households"), p.value("T1", "persons"),
            p.value("T1", "below_monitoring_line")) == (3, 6, 2)
    # K1 adds h4 (income 0): W = 7; P0 = 6 / 7; P1 = (1 + 0.6 + 1) / 7; P2 = (0.5 + 0.12 + 1) / 7;
    # Watts leaves the income of 0 out of its sum, not out of W.
    assert p.value("K1", "p0") == pytest.approx(600 / 7)
    assert p.value("K1", "p1") == pytest.approx(260 / 7)
    assert p.value("K1", "p2") == pytest.approx(162 / 7)
    assert p.value("K1", "watts") == pytest.approx((2 * math.log(2) + 3 * math.log(1.25)) / 7 * 100)
    assert p.value("K2", "p0") is None and p.value("K2", "households") == 0
    assert (p.line, p.monitoring_line, p.year, p.households_used) == (100, 120, None, 4)
    col = p.column("households")
    assert isinstance(col, np.ndarray) and col.tolist() == [4, 4, 3, 2, 1, 1, 1, 0]
    with pytest.raises(ValueError):
        p.value("T1", "p3")
    # A bad size on line 2: "h5,V1," is 6 characters, the size starts at column 7.
    with pytest.raises(tally.Error) as info:
        hh.read_bytes("household_id,region_code,size,income_per_capita\nh5,V1,0,10\n",
                      name="hh.csv")
    assert (info.value.path, info.value.line, info.value.column) == ("hh.csv", 2, 7)
    rejected = hh.read_bytes("household_id,region_code,size,income_per_capita\n"
                             "h5,V1,0,10\nh6,V9,1,10\nh7,V2,1,20\n", name="hh.csv",
                             on_error="collect")
    # h6's region starts after "h6,": column 4.
    assert [(r.line, r.column, r.code) for r in rejected] == [(2, 7, -5), (3, 4, -4)]
    assert (rejected.rows_read, rejected.rows_accepted) == (3, 1)
    assert len(hh) == 5
    with pytest.raises(tally.NotFoundError):
        hh.poverty()  # no line given, and no definitions to take one from


def test_poverty__same_figures_as_the_tally_program(demo_h, demo_d, tmp_path):
    cli = run_cli("poverty", "-H", str(HIERARCHY), "-d", str(DEFINITIONS), "--households",
                  str(HOUSEHOLDS), "--all-regions")  # every region, as rows() gives
    rows = tally.poverty_from_households(demo_h, demo_d, HOUSEHOLDS, year=2019)
    assert len(rows) == len(cli) == 2048
    decimals = {"persons": 0, "poverty_line": 2, "median_income": 2, "p0": 4, "p1": 4, "p2": 4,
                "watts": 4, "gini": 4}
    mine = [{k: fmt(v, decimals.get(k, 0)) for k, v in r.items()} for r in rows]
    assert mine == cli
    assert rows[0]["households"] == 405
    county = tally.poverty_from_households(demo_h, demo_d, HOUSEHOLDS, level="county").to_pandas()
    assert len(county) == 10 and str(county["households"].dtype) == "Int64"
    with tally.Households(demo_h) as hh:
        hh.read_csv(HOUSEHOLDS)
        with hh.poverty(demo_d, year=2019) as p:
            p.write(tmp_path / "p.json", format="json", level="city")
    import json
    got = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert got[0]["households"] == 405 and got[0]["year"] == 2019


THRESHOLD_DEFINITIONS = SMALL_DEFINITIONS + """\
    thresholds:
      - { level: county, max: 3.0 }
      - { level: village, max: 2.0 }
"""


def test_thresholds__small_by_hand():
    h, d, ds = small_dataset(THRESHOLD_DEFINITIONS)
    rows = ds.rollup(periods=["2019-01"]).thresholds()
    got = {r["region_code"]: r for r in rows}
    assert len(rows) == 8
    # K1: 22 / 600 * 100 = 3.67 against a county max of 3: not met, margin 3 - 3.67.
    k1 = got["K1"]
    assert (k1["indicator"], k1["period"], k1["threshold"], k1["meets_threshold"]) == \
        ("rate", "2019-01", 3.0, False)
    assert k1["margin"] == pytest.approx(3 - 22 / 6)
    # Villages: V1 10 / 200 = 5 % no; V2 5 / 300 = 1.67 % yes; V3 7 / 100 = 7 % no.
    assert [got[v]["meets_threshold"] for v in ("V1", "V2", "V3")] == [False, True, False]
    assert got["V2"]["margin"] == pytest.approx(2 - 5 / 3)
    # Towns have no threshold; K2 has no value.
    assert (got["T1"]["threshold"], got["T1"]["meets_threshold"]) == (None, None)
    assert (got["K2"]["value"], got["K2"]["meets_threshold"]) == (None, None)


def test_thresholds__same_figures_as_the_tally_program(demo_ds, demo_d):
    cli = run_cli("poverty", "-H", str(HIERARCHY), "-d", str(DEFINITIONS), "-r", str(RECORDS),
                  "--period", "2019-12,2019", "--all-regions")
    rows = demo_ds.rollup(periods=["2019-12", "2019"]).thresholds()
    mine = [{k: fmt(v, demo_d[r["indicator"]].decimals) for k, v in r.items()} for r in rows]
    assert len(mine) == len(cli) == 2048 * 2
    assert mine == cli
