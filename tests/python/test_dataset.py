"""tally.Dataset: records read (stop and collect), values added one by one and in bulk."""
import csv
import math
import random
import struct

import numpy as np
import pandas as pd
import pytest

import tally
from conftest import (BAD_RECORDS, DEFINITIONS, HIERARCHY, RECORDS, SMALL_DEFINITIONS,
                      SMALL_HIERARCHY)


def small_objects():
    return (tally.Hierarchy.from_bytes(SMALL_HIERARCHY),
            tally.Definitions.from_string(SMALL_DEFINITIONS))


def bits(x):
    return None if x is None else struct.pack("<d", x)


def test_read_records__bad_value_on_line_3(tmp_path):
    p = tmp_path / "records.csv"
    p.write_text("region_code,indicator,period,value\n"
                 "V1,poor,2019-01,10\n"
                 "V2,poor,2019-01,abc\n", encoding="utf-8")
    ds = tally.Dataset(*small_objects())
    with pytest.raises(tally.ParseError) as info:
        ds.read_records(p)
    e = info.value
    # "V2,poor,2019-01," is 16 characters: the value starts at column 17.
    assert (e.code, e.path, e.line, e.column) == (-3, str(p), 3, 17)
    assert e.message.startswith(f"{p}:3:17: bad number 'abc'")
    assert isinstance(e, ValueError) and isinstance(e, tally.Error)
    # The row before the bad one stays.
    assert ds.reported("V1", "poor", "2019-01") == 10.0
    assert ds.value_count == 1


def test_read_records__collect_names_every_bad_row():
    ds = tally.Dataset(tally.Hierarchy.from_csv(HIERARCHY), tally.Definitions.from_yaml(DEFINITIONS))
    rejected = ds.read_records(BAD_RECORDS, on_error="collect")
    # examples/data/bad-records.csv has one mistake per row from line 3 on; line 8 files an
    # empty value (accepted as missing) and line 9 repeats line 2.
    assert [(r.line, r.column, r.code) for r in rejected] == [
        (3, 40, -3),  # 5 fields: the 5th starts after "430602001002,poor_population,2019-12,1,"
        (4, 14, -4),  # unknown indicator poor_populaton
        (5, 1, -4),   # unknown region 430602001099
        (6, 30, -3),  # bad period 2019-13
        (7, 38, -3),  # bad number 3人
        (9, 1, -6),   # duplicate of line 2
    ]
    assert (rejected.rows_read, rejected.rows_accepted, rejected.rows_rejected) == (8, 2, 6)
    assert all(r.path == str(BAD_RECORDS) for r in rejected)
    assert rejected[1].reason == \
        "unknown indicator 'poor_populaton'; expected an id from the definitions (430602001003 九华山社区)"
    assert rejected[1].row == "430602001003,poor_populaton,2019-12,4"
    assert str(rejected[0]) == \
        f"{BAD_RECORDS}:3:40: row has 5 fields; expected 4 as in the header (430602001002 汴河社区)"
    err = rejected[4].error
    assert isinstance(err, tally.ParseError) and (err.line, err.column) == (7, 38)
    # The accepted rows: line 2 (2) and line 8 (empty: missing, not zero).
    assert ds.reported("430602001001", "poor_population", "2019-12") == 2.0
    assert ds.reported("430602001005", "poor_population", "2019-12") is None
    assert ds.value_count == 2


def test_read_records__stop_returns_empty_list_and_raises_at_first(tmp_path):
    ds = tally.Dataset(tally.Hierarchy.from_csv(HIERARCHY), tally.Definitions.from_yaml(DEFINITIONS))
    with pytest.raises(tally.ParseError) as info:
        ds.read_records(BAD_RECORDS)
    assert (info.value.line, info.value.column) == (3, 40)
    ok = tmp_path / "ok.csv"
    ok.write_text("region_code,indicator,period,value\n430602001001,poor_population,2019-11,3\n")
    assert ds.read_records(ok, on_error="stop") == []
    with pytest.raises(ValueError, match="on_error='sometimes'"):
        ds.read_records(ok, on_error="sometimes")


def test_rejected_rows_to_csv(tmp_path):
    ds = tally.Dataset(tally.Hierarchy.from_csv(HIERARCHY), tally.Definitions.from_yaml(DEFINITIONS))
    rejected = ds.read_records(BAD_RECORDS, on_error="collect")
    out = tmp_path / "rejects.csv"
    rejected.to_csv(out)
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["file", "line", "column", "reason", "row"]
    assert rows[2] == [str(BAD_RECORDS), "4", "14",
                       "unknown indicator 'poor_populaton'; expected an id from the definitions (430602001003 九华山社区)",
                       "430602001003,poor_populaton,2019-12,4"]
    assert len(rows) == 7


def test_read_records__missing_file(tmp_path):
    ds = tally.Dataset(*small_objects())
    with pytest.raises(tally.FileError) as info:
        ds.read_records(tmp_path / "absent.csv")
    assert info.value.path == str(tmp_path / "absent.csv")


def test_add__one_value():
    h, d = small_objects()
    ds = tally.Dataset(h, d)
    ds.add("V1", "poor", "2019-01", 10)
    ds.add("V2", "poor", "2019-01", None)        # filed empty: missing
    ds.add("V3", "poor", "2019-01", math.nan)    # the same
    ds.add("V1", "poor", "2019-Q1", 2.5)
    assert ds.reported("V1", "poor", "2019-01") == 10.0
    assert ds.reported("V2", "poor", "2019-01") is None
    assert ds.reported("V1", "poor", "2019-Q1") == 2.5
    assert ds.reported("V1", "poor", "2019-02") is None
    assert ds.value_count == 4
    with pytest.raises(tally.DuplicateError):
        ds.add("V1", "poor", "2019-01", 11)
    with pytest.raises(tally.NotFoundError):
        ds.add("V9", "poor", "2019-01", 1)
    with pytest.raises(KeyError):
        ds.add("V1", "nope", "2019-01", 1)
    with pytest.raises(tally.ParseError):
        ds.add("V1", "poor", "2019-13", 1)
    with pytest.raises(tally.RangeError):
        ds.add("V1", "poor", "2019-03", math.inf)
    assert ds.value_count == 4


def test_add__bulk_equals_one_by_one():
    rng = random.Random(7)
    h, d = small_objects()
    codes = [r.code for r in h]
    cells = [(c, i, f"2019-{m:02d}") for c in codes for i in ("poor", "rural", "exits")
             for m in range(1, 13)]
    rng.shuffle(cells)
    special = [0.1, -2.5, 1e20, -0.0, 0.0, 3.0, math.nan, 123456789012345678.0, -7.0, 1 / 3,
               5e-324, 1.7976931348623157e308, 2.0 ** 53 + 2, -(2.0 ** 60)]
    values = special + [rng.choice([rng.uniform(-1e6, 1e6), float(rng.randint(0, 5000)), math.nan])
                        for _ in range(len(cells) - len(special))]
    one = tally.Dataset(h, d)
    for (c, i, p), v in zip(cells, values):
        one.add(c, i, p, v)
    for as_numpy in (True, False):
        bulk = tally.Dataset(h, d)
        cs, ins, ps = ([x[k] for x in cells] for k in range(3))
        if as_numpy:
            bulk.add(np.array(cs), np.array(ins), np.array(ps), np.array(values))
        else:
            bulk.add(cs, ins, ps, values)
        assert bulk.value_count == one.value_count == len(cells)
        for (c, i, p), v in zip(cells, values):
            got = bulk.reported(c, i, p)
            assert bits(got) == bits(None if math.isnan(v) else v), (c, i, p, v, got)
            assert bits(got) == bits(one.reported(c, i, p))


def test_add__bulk_all_whole_numbers_and_integer_codes():
    # Whole numbers take the integer path; 12-digit codes may come as integers.
    h = tally.Hierarchy.from_csv(HIERARCHY)
    d = tally.Definitions.from_yaml(DEFINITIONS)
    villages = [r.code for r in h if r.level == "village"]
    ds = tally.Dataset(h, d)
    values = np.arange(len(villages), dtype=float) * 3 - 7  # negatives too
    values[5] = np.nan
    values[6] = -0.0
    ds.add(np.array(villages, dtype=np.int64), "rural_population", "2019-03", values)
    assert ds.reported(villages[0], "rural_population", "2019-03") == -7.0
    assert ds.reported(villages[4], "rural_population", "2019-03") == 5.0
    assert ds.reported(villages[5], "rural_population", "2019-03") is None
    assert bits(ds.reported(villages[6], "rural_population", "2019-03")) == bits(-0.0)
    assert ds.value_count == len(villages)


def test_add__bulk_from_pandas():
    h, d = small_objects()
    frame = pd.DataFrame({"code": ["V1", "V2", "V3"], "ind": ["poor", "poor", "rural"],
                          "period": ["2019-01", "2019-01", "2019-02"],
                          "value": pd.array([4, None, 6], dtype="Int64")})
    ds = tally.Dataset(h, d)
    ds.add(frame["code"], frame["ind"], frame["period"], frame["value"])
    assert ds.reported("V1", "poor", "2019-01") == 4.0
    assert ds.reported("V2", "poor", "2019-01") is None
    assert ds.reported("V3", "rural", "2019-02") == 6.0
    assert ds.value_count == 3


def test_add__bulk_quotes_codes_that_need_it():
    h = tally.Hierarchy.from_bytes('code,name,parent_code\n"A,1",a,\n"B""2",b,"A,1"\n村,c,"A,1"\n')
    d = tally.Definitions.from_string("indicators:\n  - id: x\n")
    ds = tally.Dataset(h, d)
    ds.add(["A,1", 'B"2', "村"], "x", "2019", [1, 2, 3])
    assert [ds.reported(c, "x", "2019") for c in ("A,1", 'B"2', "村")] == [1.0, 2.0, 3.0]


def test_add__bulk_errors_name_the_element():
    h, d = small_objects()
    ds = tally.Dataset(h, d)
    with pytest.raises(tally.NotFoundError) as info:
        ds.add(["V1", "V2", "V9", "V3"], "poor", "2019-01", [1, 2, 3, 4])
    e = info.value
    assert e.index == 2
    assert e.message == ("add: element 2 (region V9, indicator poor, period 2019-01): "
                         "unknown region code 'V9'; expected a code of the hierarchy")
    assert e.line is None and e.path is None
    # The elements before it stay, as with one call per value.
    assert ds.value_count == 2
    with pytest.raises(tally.DuplicateError) as info:
        ds.add(["V3", "V1"], "poor", ["2019-01", "2019-01"], [1, 2])
    assert info.value.index == 1
    with pytest.raises(tally.ParseError) as info:
        ds.add(["V3"], "poor", "2019-13", [1])
    assert info.value.index == 0
    # Infinite values are refused before anything is added.
    before = ds.value_count
    with pytest.raises(tally.RangeError, match="element 1"):
        ds.add(["V1", "V2"], "rural", "2019-05", np.array([1.0, -np.inf]))
    with pytest.raises(tally.RangeError, match="element 0"):
        ds.add(["V1"], "rural", "2019-05", [math.inf])
    assert ds.value_count == before
    with pytest.raises(ValueError, match="2 elements; expected 3"):
        ds.add(["V1", "V2", "V3"], "rural", "2019-05", [1, 2])
    with pytest.raises(ValueError, match="indicator: 1 elements; expected 2"):
        ds.add(["V1", "V2"], ["rural"], "2019-05", [1, 2])
    with pytest.raises(TypeError):
        ds.add(["V1", 2.5], "rural", "2019-05", [1, 2])
    ds.add([], "rural", "2019-05", [])
    assert ds.value_count == before


def test_add__bulk_one_indicator_and_period_for_all_and_bad_text():
    h, d = small_objects()
    ds = tally.Dataset(h, d)
    ds.add(("V1", "V2", "V3"), "poor", "2019-q2", (1.5, None, -2))
    assert [ds.reported(c, "poor", "2019-Q2") for c in ("V1", "V2", "V3")] == [1.5, None, -2.0]
    # A period the library refuses, named as it names it.
    with pytest.raises(tally.ParseError) as info:
        ds.add(["V1", "V2"], "rural", ["2019-06", "2019-Q5"], [1, 2])
    assert info.value.index == 1
    assert info.value.message == ("add: element 1 (region V2, indicator rural, period "
                                  "2019-Q5): bad period '2019-Q5'; expected YYYY-MM, YYYY-Qn "
                                  "or YYYY")
    assert info.value.text == "2019-Q5"
    assert ds.reported("V1", "rural", "2019-06") == 1.0
    # A string a C string would cut short is refused before anything is added.
    before = ds.value_count
    with pytest.raises(ValueError, match=r"region_code\[1\]: contains a NUL character"):
        ds.add(["V3", "V1\x00junk"], "rural", "2019-07", [1, 2])
    assert ds.value_count == before


def test_add__bulk_of_the_demo_equals_reading_the_file(demo_h, demo_d, demo_ds):
    with open(RECORDS, encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    codes, inds, pers = (np.array([r[k] for r in rows]) for k in range(3))
    values = np.array([float(r[3]) if r[3] else np.nan for r in rows])
    ds = tally.Dataset(demo_h, demo_d)
    ds.add(codes, inds, pers, values)
    assert ds.value_count == demo_ds.value_count == len(rows) == 68355
    a = ds.rollup(periods=["2019-06", "2019"]).to_pandas()
    b = demo_ds.rollup(periods=["2019-06", "2019"]).to_pandas()
    pd.testing.assert_frame_equal(a, b)


def test_rejected_rows_that_are_not_utf8():
    ds = tally.Dataset(*small_objects())
    rejected = ds.read_bytes(b"region_code,indicator,period,value\nV1,poor,2019-01,1\xff\n",
                             name="gb.csv", on_error="collect")
    (r,) = rejected
    # "V1,poor,2019-01," is 16 characters: the value starts at column 17.
    assert (r.path, r.line, r.column, r.code) == ("gb.csv", 2, 17, -3)
    assert r.row == "V1,poor,2019-01,1\ufffd"  # the bad byte shown as U+FFFD


def test_snapshot__round_trip_and_duplicate(tmp_path, demo_h, demo_d):
    ds = tally.Dataset(demo_h, demo_d)
    ds.read_records(RECORDS)
    path = tmp_path / "demo.snap"
    ds.save(path)
    again = tally.Dataset(demo_h, demo_d)
    again.load(path)
    assert again.value_count == ds.value_count
    a = ds.rollup(periods=["2019"]).rows(level="county", period="2019")
    b = again.rollup(periods=["2019"]).rows(level="county", period="2019")
    assert a == b and len(a) == 40
    with pytest.raises(tally.DuplicateError):
        again.load(path)
