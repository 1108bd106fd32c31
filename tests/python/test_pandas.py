"""pandas habits: the wide layout in hierarchy order, levels as ordered
categoricals, periods pandas parses, and DataFrames back into a dataset.
Expected values are computed by hand from conftest's small fixture."""
import math

import numpy as np
import pandas as pd
import pytest

import tally

PRE_ORDER = ["C", "K1", "T1", "V1", "V2", "T2", "V3", "K2"]
NAMES = ["岳阳市", "县一", "镇一", "村一", "村二, 东", "镇二", "村三", "县二"]
LEVELS = ["city", "county", "town", "village", "village", "town", "village", "county"]
DEFAULT_LEVELS = ["province", "city", "county", "town", "village"]
NAN = math.nan


def same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-12), (a, b)


def test_wide_layout(small):
    h, d, ds = small
    r = ds.rollup(periods=["2019-01", "2019-02"])
    w = r.to_pandas(layout="wide")
    assert list(w.index.names) == ["region_code", "region_name", "level"]
    assert list(w.index.get_level_values("region_code")) == PRE_ORDER
    assert list(w.index.get_level_values("region_name")) == NAMES
    assert list(w.index.get_level_values("level")) == LEVELS
    assert list(w.columns.names) == ["indicator", "period"]
    assert list(w.columns) == [(i, p) for i in ("poor", "rural", "exits", "rate")
                               for p in ("2019-01", "2019-02")]
    # By hand: villages V1 10, V2 5, V3 7 poor; 200, 300, 100 rural; exits
    # V1 1 (Jan), 2 (Feb), V2 empty (Jan), V3 4 (Feb); K2 reports nothing.
    same(w[("poor", "2019-01")], [22, 22, 15, 10, 5, 7, 7, NAN])
    same(w[("rural", "2019-01")], [600, 600, 500, 200, 300, 100, 100, NAN])
    same(w[("exits", "2019-01")], [1, 1, 1, 1, NAN, NAN, NAN, NAN])
    same(w[("exits", "2019-02")], [6, 6, 2, 2, NAN, 4, 4, NAN])
    same(w[("rate", "2019-01")], [22 / 6, 22 / 6, 3, 5, 5 / 3, 7, 7, NAN])
    assert w.dtypes.unique().tolist() == [np.dtype("float64")]

    # Selections as in the long layout; a row per region still.
    c = r.to_pandas(layout="wide", level="county", indicator="poor", period="2019-01")
    assert list(c.index.get_level_values(0)) == ["K1", "K2"]
    assert list(c.columns) == [("poor", "2019-01")]

    with pytest.raises(ValueError, match="layout='pivot': expected 'long' or 'wide'"):
        r.to_pandas(layout="pivot")
    with pytest.raises(ValueError, match="coverage=True: only with layout='long'"):
        r.to_pandas(layout="wide", coverage=True)


def test_level_is_an_ordered_categorical(small):
    h, d, ds = small
    r = ds.rollup(periods="2019-01")
    for lv in (r.to_pandas()["level"],
               r.to_pandas(layout="wide").index.get_level_values("level")):
        assert isinstance(lv.dtype, pd.CategoricalDtype)
        assert lv.dtype.ordered
        assert list(lv.dtype.categories) == DEFAULT_LEVELS == h.levels
    df = r.to_pandas(indicator="poor")
    assert list(df["level"].astype(str)) == LEVELS
    # Order follows the hierarchy, not the alphabet ("town" < "county" as text).
    assert list(df[df["level"] <= "county"]["region_code"]) == ["C", "K1", "K2"]
    assert list(df.sort_values("level", kind="stable")["region_code"]) == \
        ["C", "K1", "K2", "T1", "T2", "V1", "V2", "V3"]


def test_periods_parse_as_pandas_periods(small):
    h, d, ds = small
    r = ds.rollup(periods=["2019-01", "2019-Q1", "2019"])
    df = r.to_pandas(indicator="exits", level="city")
    assert list(df["period"]) == ["2019-01", "2019-Q1", "2019"]
    parsed = [pd.Period(p) for p in df["period"]]
    assert [(p.year, p.freqstr[0]) for p in parsed] == [(2019, "M"), (2019, "Q"), (2019, "A")]
    assert [p.start_time.month for p in parsed] == [1, 1, 1]
    assert [p.end_time.month for p in parsed] == [1, 3, 12]
    # exits are a flow: the quarter and year sum the months (1 + 6).
    same(df["value"], [1, 7, 7])
    assert list(r.to_pandas(layout="wide").columns.get_level_values("period")[:3]) == \
        ["2019-01", "2019-Q1", "2019"]


def test_add_from_a_dataframe_round_trips(small):
    h, d, ds = small
    r = ds.rollup(periods=["2019-01", "2019-02"])
    long = r.to_pandas(level="village", indicator=["poor", "rural", "exits"])
    filed = long.dropna(subset=["value"])
    assert len(filed) == 9  # V1 4, V2 2, V3 3 values (by hand)
    ds2 = tally.Dataset(h, d)
    ds2.add(filed)
    assert ds2.value_count == 9
    assert ds2.reported("V3", "exits", "2019-02") == 4
    r2 = ds2.rollup(periods=["2019-01", "2019-02"])
    pd.testing.assert_frame_equal(r2.to_pandas(), r.to_pandas())
    pd.testing.assert_frame_equal(r2.to_pandas(layout="wide"), r.to_pandas(layout="wide"))

    # A plain DataFrame, with integer codes-as-text and a missing value.
    ds3 = tally.Dataset(h, d)
    ds3.add(pd.DataFrame({"region_code": ["V1", "V2"], "indicator": ["poor", "poor"],
                          "period": ["2019-01", "2019-01"], "value": [3.0, None]}))
    assert ds3.rollup(periods="2019-01").value("T1", "poor", "2019-01") == 3

    with pytest.raises(ValueError, match="no column value; expected the columns region_code, "
                                         "indicator, period, value"):
        ds3.add(pd.DataFrame({"region_code": ["V1"], "indicator": ["poor"],
                              "period": ["2019-02"]}))
