"""Time as offices count it (issue 18): ranges and halves asked for,
like-for-like comparisons, increments of year-to-date indicators. The
expected figures are worked out by hand in the comments."""
import csv
import io
import subprocess

import tally
from conftest import tally_exe

HIERARCHY = """code,name,level,parent_code
430600000000,县,county,
430600000001,甲村,village,430600000000
430600000002,乙村,village,430600000000
"""

DEFS = """levels: [county, village]
indicators:
  - id: exited
    name: 脱贫人口
    over_time: flow
  - id: exited_ytd
    name: 累计脱贫人口
    over_time: cumulative
"""


def monthly_records():
    """甲村 files month m of 2018 as m and of 2019 (months 1-8) as 10 + m;
    乙村 2m and 20 + m. 甲村's year-to-date: 780 in 2018-12, 11 in 2019-01."""
    rows = ["region_code,indicator,period,value"]
    for m in range(1, 13):
        rows.append(f"430600000001,exited,2018-{m:02d},{m}")
        rows.append(f"430600000002,exited,2018-{m:02d},{2 * m}")
    for m in range(1, 9):
        rows.append(f"430600000001,exited,2019-{m:02d},{10 + m}")
        rows.append(f"430600000002,exited,2019-{m:02d},{20 + m}")
    rows.append("430600000001,exited_ytd,2018-12,780")
    rows.append("430600000001,exited_ytd,2019-01,11")
    return "\n".join(rows) + "\n"


def files(tmp_path, records, defs=DEFS):
    (tmp_path / "h.csv").write_text(HIERARCHY, encoding="utf-8")
    (tmp_path / "d.yaml").write_text(defs, encoding="utf-8")
    (tmp_path / "r.csv").write_text(records, encoding="utf-8")
    return ["-H", str(tmp_path / "h.csv"), "-d", str(tmp_path / "d.yaml"),
            "-r", str(tmp_path / "r.csv")]


def cli(*args):
    p = subprocess.run([tally_exe(), *args], capture_output=True, text=True, encoding="utf-8")
    return p.returncode, list(csv.DictReader(io.StringIO(p.stdout))), p.stderr


def by_key(rows):
    return {(r["region_code"], r["indicator"], r["period"]): r for r in rows}


def test_range_and_half_sum_a_flow(tmp_path):
    status, rows, err = cli("rollup", *files(tmp_path, monthly_records()),
                            "--period", "2019-01..2019-08,2019-H1,2019-q1..2019-q2",
                            "--level", "county")
    assert status == 0, err
    by = by_key(rows)
    # Jan-Aug 2019: 甲村 sum(10 + m, m = 1..8) = 80 + 36 = 116, 乙村 160 + 36
    # = 196; the county 312. H1: 60 + 21 = 81 and 120 + 21 = 141, so 222.
    assert by["430600000000", "exited", "2019-01..2019-08"]["value"] == "312"
    assert by["430600000000", "exited", "2019-H1"]["value"] == "222"
    # Printed as asked.
    assert by["430600000000", "exited", "2019-Q1..2019-Q2"]["value"] == "222"
    # The latest year-to-date inside the range: 2019-01's 11.
    assert by["430600000000", "exited_ytd", "2019-01..2019-08"]["value"] == "11"


def test_range_compared_with_the_same_range_a_year_earlier(tmp_path):
    status, rows, err = cli("rollup", *files(tmp_path, monthly_records()),
                            "--period", "2019-01..2019-08", "--compare", "yoy")
    assert status == 0, err
    by = by_key(rows)
    # 2018 Jan-Aug: 甲村 36, 乙村 72, county 108; change 312 - 108 = 204.
    county = by["430600000000", "exited", "2019-01..2019-08"]
    assert (county["value"], county["previous"], county["change"]) == ("312", "108", "204")
    assert by["430600000001", "exited", "2019-01..2019-08"]["previous"] == "36"


def test_range_in_records_is_refused(tmp_path):
    records = "region_code,indicator,period,value\n430600000001,exited,2019-H1,5\n"
    status, _, err = cli("rollup", *files(tmp_path, records))
    assert status != 0
    assert ("r.csv:2:21: period '2019-H1' is a span asked for, not a period records are dated "
            "by; expected a month YYYY-MM, a quarter YYYY-Qn or a year YYYY") in err


def test_python_rollup_takes_a_range(tmp_path):
    args = files(tmp_path, monthly_records())
    h = tally.Hierarchy.from_csv(args[1])
    d = tally.Definitions.from_yaml(args[3])
    ds = tally.Dataset(h, d)
    assert ds.read_records(args[5]) == []
    r = ds.rollup(periods=["2019-H1", tally.Period("2019-01..2019-08")])
    assert r.periods == ["2019-H1", "2019-01..2019-08"]
    assert r.value("430600000000", "exited", "2019-H1") == 222


def test_partial_year_is_compared_like_for_like(tmp_path):
    status, rows, err = cli("rollup", *files(tmp_path, monthly_records()),
                            "--period", "2019", "--compare", "yoy", "--level", "county")
    assert status == 0, err
    # 2019's reports end in August: against 2018 Jan-Aug (108), not the
    # whole 2018 (甲村 78 + 乙村 156 = 234).
    county = by_key(rows)["430600000000", "exited", "2019"]
    assert (county["value"], county["previous"], county["change"]) == ("312", "108", "204")
    assert "tally rollup: 2019 is compared with 2018-01..2018-08, the months its reports cover" \
        in err


def test_pop_of_a_range_is_the_preceding_range(tmp_path):
    status, rows, err = cli("rollup", *files(tmp_path, monthly_records()),
                            "--period", "2019-Q1..2019-Q2", "--compare", "pop",
                            "--level", "village")
    assert status == 0, err
    # The six months before: July-December 2018, 甲村 7 + ... + 12 = 57.
    assert by_key(rows)["430600000001", "exited", "2019-Q1..2019-Q2"]["previous"] == "57"


def test_january_increment_of_a_year_to_date(tmp_path):
    status, rows, err = cli("rollup", *files(tmp_path, monthly_records()),
                            "--period", "2019-01", "--compare", "pop", "--level", "county")
    assert status == 0, err
    # The year-to-date restarts: January's previous value is 0, so the
    # change is 11, not 11 - 780.
    ytd = by_key(rows)["430600000000", "exited_ytd", "2019-01"]
    assert (ytd["value"], ytd["previous"], ytd["change"]) == ("11", "0", "11")


def test_python_compared_and_spans(tmp_path):
    args = files(tmp_path, monthly_records())
    ds = tally.Dataset(tally.Hierarchy.from_csv(args[1]), tally.Definitions.from_yaml(args[3]))
    assert ds.read_records(args[5]) == []
    r = ds.rollup(periods=["2019", "2019-01..2019-08"], compare="yoy")
    assert r.compared("2019") == ("2018-01..2018-08", True)
    assert r.compared(tally.Period("2019-01..2019-08")) == ("2018-01..2018-08", False)
    assert r.previous("430600000000", "exited", "2019") == 108
    assert ds.rollup(periods="2019").compared("2019") == (None, False)


def test_to_pandas_gives_the_months_of_a_range(tmp_path):
    pytest = __import__("pytest")
    pd = pytest.importorskip("pandas")
    args = files(tmp_path, monthly_records())
    ds = tally.Dataset(tally.Hierarchy.from_csv(args[1]), tally.Definitions.from_yaml(args[3]))
    ds.read_records(args[5])
    df = ds.rollup(periods=["2019-H1"]).to_pandas(level="county", indicator="exited")
    assert list(df["period"]) == ["2019-H1"]
    assert (list(df["period_start"]), list(df["period_end"])) == (["2019-01"], ["2019-06"])
    assert pd.Period(df["period_end"][0], freq="M").month == 6
