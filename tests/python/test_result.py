"""tally.Result: values, rows and DataFrames, against hand-computed figures,
an independent reference over the demo data, and the tally program."""
import collections
import csv
import io
import json
import math
import subprocess

import numpy as np
import pandas as pd
import pytest

import tally
from conftest import DEFINITIONS, HIERARCHY, RECORDS, SMALL_RECORDS, tally_exe


def test_value__small_by_hand(small):
    h, d, ds = small
    r = ds.rollup()
    assert r.periods == ["2019-01", "2019-02"]
    # poor, 2019-01: V1 10 + V2 5 = T1 15; V3 7 = T2 7; K1 = C = 22; K2 reported nothing.
    assert [r.value(c, "poor", "2019-01") for c in ("V1", "T1", "T2", "K1", "C", "K2")] == \
        [10, 15, 7, 22, 22, None]
    # rate = poor / rural * 100 of the sums: T1 15 / (200 + 300) * 100 = 3;
    # K1 22 / 600 * 100 = 3.666...; V2 5 / 300 * 100 = 1.666...
    assert r.value("T1", "rate", "2019-01") == pytest.approx(3.0, rel=1e-15)
    assert r.value("K1", "rate", "2019-01") == pytest.approx(22 / 6, rel=1e-15)
    assert r.value("V2", "rate", "2019-01") == pytest.approx(5 / 3, rel=1e-15)
    assert r.value("K2", "rate", "2019-01") is None
    # exits 2019-01: V1 1, V2 filed empty (missing, not zero), V3 nothing: T1 1, T2 missing.
    assert [r.value(c, "exits", "2019-01") for c in ("V1", "V2", "T1", "T2", "K1")] == \
        [1, None, 1, None, 1]
    # exits 2019-02: V1 2, V3 4: K1 6.
    assert r.value("K1", "exits", "2019-02") == 6
    # Stock indicators have no report in February.
    assert r.value("C", "poor", "2019-02") is None


def test_rollup__take_gives_the_same_values_and_empties_the_dataset(small):
    h, d, ds = small
    before = ds.value_count
    assert before > 0
    kept = ds.rollup()
    cells = [(c, i, p) for c in ("V1", "V2", "V3", "T1", "T2", "K1", "K2", "C")
             for i in ("poor", "rate", "exits") for p in ("2019-01", "2019-02")]
    taken = ds.rollup(take=True)
    assert ds.value_count == 0
    assert [taken.value(*x) for x in cells] == [kept.value(*x) for x in cells]
    # exits 2019-02 by hand: V1 2 + V3 4 = C 6, from the moved arrays too.
    assert taken.value("C", "exits", "2019-02") == 6
    # Emptied: no periods left; read again, it rolls up as before.
    assert ds.rollup().periods == []
    ds.read_bytes(SMALL_RECORDS, name="small-records.csv")
    assert ds.value_count == before
    again = ds.rollup(take=True)
    assert [again.value(*x) for x in cells] == [kept.value(*x) for x in cells]


def test_value__small_year(small):
    h, d, ds = small
    r = ds.rollup(periods="2019")
    # exits is a flow: the year is the sum of the months, V1 1 + 2 = 3, V3 4: C 7.
    assert [r.value(c, "exits", "2019") for c in ("V1", "V2", "V3", "C")] == [3, None, 4, 7]
    # poor is a stock: the year takes the latest report, January's.
    assert r.value("C", "poor", "2019") == 22


def test_value__errors(small):
    h, d, ds = small
    r = ds.rollup()
    with pytest.raises(tally.NotFoundError, match="period 2019 is not in the result"):
        r.value("C", "poor", "2019")
    with pytest.raises(KeyError):
        r.value("nope", "poor", "2019-01")
    with pytest.raises(KeyError):
        r.value("C", "nope", "2019-01")
    with pytest.raises(tally.ParseError):
        r.value("C", "poor", "2019-13")
    with pytest.raises(tally.ParseError):
        ds.rollup(periods=["2019-13"])
    with pytest.raises(ValueError):
        ds.rollup(prefer="both")
    with pytest.raises(ValueError):
        ds.rollup(compare="mom")


def test_sides_and_prefer():
    h = tally.Hierarchy.from_bytes("code,name,parent_code\nT,t,\nV1,v1,T\nV2,v2,T\n")
    d = tally.Definitions.from_string("indicators:\n  - id: x\n")
    ds = tally.Dataset(h, d)
    ds.add(["T", "V1", "V2"], "x", "2019", [10, 3, 4])
    # T reported 10; its villages add up to 7.
    computed = ds.rollup()
    assert computed.sides("T", "x", "2019") == (10.0, 7.0)
    assert computed.value("T", "x", "2019") == 7
    assert computed.sides("V1", "x", "2019") == (3.0, None)
    reported = ds.rollup(prefer="reported")
    assert reported.value("T", "x", "2019") == 10


def test_rows__small(small):
    h, d, ds = small
    r = ds.rollup()
    rows = r.rows(level="town", period="2019-01")
    assert [(x["region_code"], x["indicator"], x["value"]) for x in rows] == [
        ("T1", "poor", 15.0), ("T1", "rural", 500.0), ("T1", "exits", 1.0),
        ("T1", "rate", pytest.approx(3.0)),
        ("T2", "poor", 7.0), ("T2", "rural", 100.0), ("T2", "exits", None),
        ("T2", "rate", pytest.approx(7.0)),
    ]
    assert list(rows[0]) == ["region_code", "region_name", "level", "indicator", "period",
                             "value"]
    assert rows[0]["region_name"] == "镇一" and rows[0]["level"] == "town"
    assert len(r.rows()) == 8 * 4 * 2
    assert len(r.rows(level=["city", "county"], period=["2019-02"], indicator="exits")) == 3
    with pytest.raises(tally.NotFoundError, match="level 'hamlet' is not a level"):
        r.rows(level="hamlet")
    with pytest.raises(tally.NotFoundError):
        r.rows(period="2018-01")


def test_compare__previous_change_and_percent():
    h = tally.Hierarchy.from_bytes("code,name,parent_code\nT,t,\n")
    d = tally.Definitions.from_string(
        "indicators:\n  - id: x\n  - id: y\n  - id: r\n    unit: '%'\n    formula: x / y * 100\n")
    ds = tally.Dataset(h, d)
    ds.add(["T"] * 4, ["x", "y", "x", "y"], ["2018", "2018", "2019", "2019"], [50, 200, 80, 200])
    r = ds.rollup(periods=["2019"], compare="yoy")
    (x, y, rate) = r.rows()
    # x: 50 -> 80: change 30, 30 / 50 * 100 = 60 %.
    assert (x["previous"], x["change"], x["change_pct"]) == (50.0, 30.0, 60.0)
    # y: 200 -> 200: change 0, 0 %.
    assert (y["previous"], y["change"], y["change_pct"]) == (200.0, 0.0, 0.0)
    # r: 25 % -> 40 %: a change of 15 percentage points, no relative change for a % unit.
    assert rate["previous"] == pytest.approx(25.0) and rate["change"] == pytest.approx(15.0)
    assert rate["change_pct"] is None
    assert r.previous("T", "x", "2019") == 50.0
    df = r.to_pandas()
    assert list(df.columns[-3:]) == ["previous", "change", "change_pct"]
    assert df["change_pct"].tolist()[:2] == [60.0, 0.0] and math.isnan(df["change_pct"][2])


# ---- the demo data: an independent reference ----

def reference_rollup(periods):
    """Plain rollup of the demo data, written from examples/data/README.md's
    description rather than from the library: every village's period value
    by its indicator's time rule (stock: the latest month filed in the
    period; flow: the sum of the months filed, missing when none has a
    value), summed over the villages of each region by walking parents;
    incidence = poor / rural * 100 of the sums over the villages that
    reported both (matched coverage)."""
    parent, order = {}, []
    with open(HIERARCHY, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            parent[row["code"]] = row["parent_code"] or None
            order.append(row["code"])
    filed = collections.defaultdict(dict)  # (code, indicator) -> {month: value or None}
    with open(RECORDS, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            v = float(row["value"]) if row["value"] else None
            filed[row["region_code"], row["indicator"]][row["period"]] = v

    def months(period):
        if len(period) == 7 and period[5] != "Q":
            return [period]
        if "Q" in period:
            q = int(period[-1])
            return [f"{period[:4]}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
        return [f"{period}-{m:02d}" for m in range(1, 13)]

    rule = {"rural_population": "stock", "poor_population": "stock",
            "exited_population": "flow"}
    out = {}
    for period in periods:
        totals = collections.defaultdict(float)
        present = set()
        own = {}
        for (code, ind), reports in filed.items():
            inside = [m for m in months(period) if m in reports]
            if not inside:
                continue
            if rule[ind] == "stock":
                v = reports[max(inside)]
            else:
                vals = [reports[m] for m in inside if reports[m] is not None]
                v = sum(vals) if vals else None
            if v is None:
                continue
            own[code, ind] = v
            node = code
            while node is not None:
                totals[node, ind] += v
                present.add((node, ind))
                node = parent[node]
        # The incidence's operands over the villages with both figures.
        matched = collections.defaultdict(float)
        for code in {c for (c, _) in own}:
            if (code, "poor_population") in own and (code, "rural_population") in own:
                node = code
                while node is not None:
                    for ind in ("poor_population", "rural_population"):
                        matched[node, ind] += own[code, ind]
                    node = parent[node]
        for code in order:
            for ind in rule:
                out[code, ind, period] = totals[code, ind] if (code, ind) in present else None
            poor, rural = matched.get((code, "poor_population")), matched.get((code, "rural_population"))
            out[code, "incidence", period] = \
                poor / rural * 100 if poor is not None and rural else None
    return out


def test_demo__against_the_reference(demo_ds):
    periods = ["2019-01", "2019-08", "2019-12", "2019-Q3", "2019"]
    expected = reference_rollup(periods)
    r = demo_ds.rollup(periods=periods)
    compared = 0
    for (code, ind, period), want in expected.items():
        got = r.value(code, ind, period)
        if want is None or got is None:
            assert got == want, (code, ind, period)
        elif ind == "incidence":
            assert got == pytest.approx(want, rel=1e-13), (code, ind, period)
        else:
            assert got == want, (code, ind, period)  # sums of whole numbers are exact
        compared += 1
    assert compared == 2048 * 4 * 5
    # The figures examples/data/README.md gives for the file: poor 2019-12 22,615 (one
    # village has no December row), exits over 2019 93,424, rural 2019-12 3,338,697.
    assert r.value("430600000000", "poor_population", "2019-12") == 22615
    assert r.value("430600000000", "exited_population", "2019") == 93424
    assert r.value("430600000000", "rural_population", "2019-12") == 3338697


def test_demo__rows_and_pandas_agree(demo_ds):
    r = demo_ds.rollup(periods=["2019-06", "2019"])
    rows = r.rows()
    df = r.to_pandas()
    assert len(rows) == len(df) == 2048 * 4 * 2
    assert list(df.columns) == ["region_code", "region_name", "level", "indicator", "period",
                                "value"]
    assert df["value"].dtype == np.float64
    from_rows = pd.DataFrame(rows)
    from_rows["value"] = from_rows["value"].astype(float)
    # level: an ordered categorical over the hierarchy's levels (test_pandas.py).
    from_rows["level"] = pd.Categorical(from_rows["level"], categories=demo_ds.hierarchy.levels,
                                        ordered=True)
    pd.testing.assert_frame_equal(df, from_rows)
    county = r.to_pandas(level="county", period="2019", indicator="incidence")
    assert len(county) == 10
    assert county["region_name"].tolist()[0] == "岳阳楼区"
    # examples/data/README.md's true incidence per county, 2019-12, to two decimals. The
    # file lacks one village's December row in 湘阴县 (430624): its year value is the
    # village's November figure, so that county is not compared here.
    got = [round(v, 2) for v in county["value"]]
    del got[5]
    assert got == [0.13, 0.40, 0.43, 0.84, 0.81, 0.84, 0.19, 0.48, 0.68]


def test_column(demo_ds, demo_h):
    r = demo_ds.rollup(periods=["2019"])
    col = r.column("poor_population", "2019")
    assert isinstance(col, np.ndarray) and col.shape == (2048,)
    assert col[0] == 22648 == r.value("430600000000", "poor_population", "2019")
    assert col[demo_h["430602001001"].index] == r.value("430602001001", "poor_population", "2019")
    col[0] = -1  # a copy: the result is unchanged
    assert r.value("430600000000", "poor_population", "2019") == 22648


def test_format_number():
    assert tally.format_number(2.675, 2) == "2.68"
    assert tally.format_number(-0.004, 2) == "0.00"
    assert tally.format_number(22648.0, 0) == "22648"
    assert tally.format_number(None, 2) == ""
    assert tally.format_number(math.nan, 0) == ""
    with pytest.raises(tally.InvalidError):
        tally.format_number(1.0, 16)


# ---- the same figures as the tally program ----

def run_cli(*args):
    out = subprocess.run([tally_exe(), "rollup", "-H", str(HIERARCHY), "-d", str(DEFINITIONS),
                          "-r", str(RECORDS), *args], capture_output=True, text=True,
                         encoding="utf-8", check=True)
    return out.stdout


def formatted(rows, decimals):
    out = []
    for row in rows:
        dec = decimals[row["indicator"]]
        line = {k: (tally.format_number(v, dec) if k in ("value", "previous", "change") else
                    tally.format_number(v, 2) if k == "change_pct" else v)
                for k, v in row.items()}
        out.append(line)
    return out


@pytest.mark.parametrize("args, level, period, compare", [
    ((), None, None, None),
    (("--level", "city,county", "--period", "2019"), ["city", "county"], ["2019"], None),
    (("--period", "2019-Q3,2019-Q4", "--compare", "pop"), None, ["2019-Q3", "2019-Q4"], "pop"),
])
def test_demo__same_figures_as_the_tally_program(demo_ds, demo_d, args, level, period, compare):
    cli = list(csv.DictReader(io.StringIO(run_cli(*args, "--all-regions"))))
    r = demo_ds.rollup(periods=period, compare=compare)
    decimals = {i.id: i.decimals for i in demo_d}
    mine = formatted(r.rows(level=level), decimals)
    assert len(mine) == len(cli) > 0
    assert mine == cli


def test_write__csv_and_json_match_the_tally_program(demo_ds, tmp_path):
    r = demo_ds.rollup(periods=["2019"])
    r.write(tmp_path / "out.csv", level=["city", "county"])
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == \
        run_cli("--level", "city,county", "--period", "2019")
    r.write(tmp_path / "out.json", format="json", level="city")
    got = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert got == json.loads(run_cli("--level", "city", "--period", "2019", "--format", "json"))
    assert got[1]["value"] == 22648
    with pytest.raises(ValueError):
        r.write(tmp_path / "x", format="xml")
    with pytest.raises(tally.FileError):
        r.write(tmp_path / "no" / "such" / "dir.csv")


def test_cli__threads_and_a_pipe_give_the_same_output():
    """--threads 1, 2 and the default read the demo records alike, and
    records piped through standard input read as the file does."""
    base = [tally_exe(), "rollup", "-H", str(HIERARCHY), "-d", str(DEFINITIONS)]

    def run(*args, **kw):
        return subprocess.run(base + list(args), capture_output=True, text=True,
                              encoding="utf-8", **kw)

    ref = run("-r", str(RECORDS))
    assert ref.returncode == 0, ref.stderr
    assert ref.stdout.count("\n") > 2000
    for n in ("1", "2", "0"):
        out = run("-r", str(RECORDS), "--threads", n)
        assert out.returncode == 0, out.stderr
        assert out.stdout == ref.stdout
    with open(RECORDS, "rb") as f:
        piped = run("-r", "/dev/stdin", stdin=f)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == ref.stdout
    bad = run("-r", str(RECORDS), "--threads", "many")
    assert bad.returncode == 2
    assert "--threads 'many': expected a number from 0 (one per core) to 64" in bad.stderr


def test_write__only_the_rows_with_a_value_unless_all_regions(demo_ds, demo_d, tmp_path):
    """write() leaves out the rows without a value, as the command line
    does; all_regions=True writes every row. Expected from rows()."""
    r = demo_ds.rollup(periods=["2019-12"])
    decimals = {i.id: i.decimals for i in demo_d}
    every = formatted(r.rows(), decimals)
    with_value = [row for row in every if row["value"] != ""]
    assert 0 < len(with_value) < len(every)
    r.write(tmp_path / "sparse.csv")
    r.write(tmp_path / "all.csv", all_regions=True)
    for name, want in (("sparse.csv", with_value), ("all.csv", every)):
        with open(tmp_path / name, encoding="utf-8", newline="") as f:
            assert list(csv.DictReader(f)) == want
